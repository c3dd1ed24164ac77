/**
 * `consulk8s status`: the release as helm records it (chart and app version, revision,
 * status), the readiness of the Consul servers and the mesh gateway, and whether the
 * federation secret is there and complete. Reads only.
 */
import type {KubeCluster} from '../kube/client.js'
import {chartNames, validateNamespaceName, validateReleaseName} from '../federation/names.js'
import {Helm, helmBinary} from './helm.js'
import {listReleaseWorkloads, readSecretSummary, serverVersion, type WorkloadState} from './kube.js'
import {summarizeValues} from './plan.js'
import type {ReleaseOptions} from './install.js'

/** The keys every federation secret has (consul-k8s's create-federation-secret). */
export const FEDERATION_SECRET_KEYS = ['caCert', 'caKey', 'serverConfigJSON']

export interface ComponentState {
  name: string
  kind: string
  enabled: boolean
  found: boolean
  desired: number
  ready: number
}

export interface StatusReport {
  context: string
  server: string
  namespace: string
  release: string
  found: boolean
  revision?: number
  status?: string
  chart?: string
  chartVersion?: string
  appVersion?: string
  updated?: string
  datacenter?: string
  federation?: string
  servers: ComponentState
  meshGateway: ComponentState
  federationSecret: {name: string; present: boolean; keys: string[]; missing: string[]}
  /** Release deployed, servers ready, mesh gateway ready when enabled. */
  healthy: boolean
}

function component(name: string, kind: string, enabled: boolean, workloads: WorkloadState[]): ComponentState {
  const workload = workloads.find((candidate) => candidate.name === name && candidate.kind === kind)
  return {name, kind, enabled, found: Boolean(workload), desired: workload?.desired ?? 0, ready: workload?.ready ?? 0}
}

function isReady(state: ComponentState): boolean {
  return !state.enabled || (state.found && state.ready >= state.desired && state.desired > 0)
}

export async function releaseStatus(cluster: KubeCluster, options: ReleaseOptions): Promise<StatusReport> {
  validateReleaseName(options.release)
  validateNamespaceName(options.namespace)
  const helm = new Helm(helmBinary(options.helmBinary), {kubeconfig: options.kubeconfig, context: cluster.name})
  await helm.checkUsable()
  await serverVersion(cluster)
  const info = await helm.findRelease(options.release, options.namespace)
  const values = info ? await helm.getValues(options.release, options.namespace) : {}
  const summary = summarizeValues(options.release, values)
  const names = chartNames(summary.prefix)
  const workloads = await listReleaseWorkloads(cluster, options.namespace, options.release)
  const secret = await readSecretSummary(cluster, options.namespace, names.federationSecret)
  const servers = component(names.serverStatefulSet, 'StatefulSet', summary.serverEnabled, workloads)
  const meshGateway = component(names.meshGatewayService, 'Deployment', summary.meshGateway, workloads)
  return {
    context: cluster.name,
    server: cluster.server,
    namespace: options.namespace,
    release: options.release,
    found: Boolean(info),
    revision: info?.revision,
    status: info?.status,
    chart: info?.chart,
    chartVersion: info?.chartVersion,
    appVersion: info?.appVersion,
    updated: info?.updated,
    datacenter: info ? summary.datacenter : undefined,
    federation: info ? summary.federation : undefined,
    servers,
    meshGateway,
    federationSecret: {
      name: names.federationSecret,
      present: Boolean(secret),
      keys: secret?.keys ?? [],
      missing: secret ? FEDERATION_SECRET_KEYS.filter((key) => !secret.keys.includes(key)) : [],
    },
    healthy: Boolean(info) && info?.status === 'deployed' && isReady(servers) && isReady(meshGateway),
  }
}

export type Mark = 'ok' | 'warn' | 'fail' | 'info'

/** Rows for the status table: component, state, detail, with the mark the state deserves. */
export function statusRows(report: StatusReport): Array<{mark: Mark; component: string; state: string; detail: string}> {
  const workloadRow = (label: string, state: ComponentState) => {
    if (!state.enabled) return {mark: 'info' as Mark, component: label, state: 'disabled', detail: '-'}
    if (!state.found) return {mark: 'fail' as Mark, component: label, state: 'missing', detail: `${state.kind} ${state.name} not found`}
    const ready = state.ready >= state.desired && state.desired > 0
    return {mark: (ready ? 'ok' : 'warn') as Mark, component: label, state: `${state.ready}/${state.desired} ready`, detail: `${state.kind} ${state.name}`}
  }
  const secret = report.federationSecret
  const secretRow = !secret.present
    ? {mark: 'info' as Mark, component: 'Federation secret', state: 'absent', detail: secret.name}
    : secret.missing.length > 0
      ? {mark: 'warn' as Mark, component: 'Federation secret', state: 'incomplete', detail: `${secret.name} lacks ${secret.missing.join(', ')}`}
      : {mark: 'ok' as Mark, component: 'Federation secret', state: 'present', detail: `${secret.name} (${secret.keys.join(', ')})`}
  return [
    {
      mark: report.status === 'deployed' ? 'ok' : 'warn',
      component: `Release ${report.release}`,
      state: report.status ?? 'unknown',
      detail: `chart ${report.chart} (app ${report.appVersion}), revision ${report.revision}, datacenter ${report.datacenter}`,
    },
    workloadRow('Servers', report.servers),
    workloadRow('Mesh gateway', report.meshGateway),
    secretRow,
  ]
}
