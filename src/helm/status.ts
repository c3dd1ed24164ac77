/**
 * `consulk8s status`: the release (found in any namespace when -n is not given) as helm records
 * it (chart and app version, revision, status, the hook jobs' last runs), the values that matter
 * for federation, every workload of the release with ready/desired and images, the federation
 * secret (every key present and valid; values never printed) and the ProxyDefaults `global`
 * (its Synced condition) when the CRD exists. Reads only.
 */
import type {V1Secret} from '@kubernetes/client-node'

import type {KubeCluster} from '../kube/client.js'
import {chartNames, validateNamespaceName, validateReleaseName} from '../federation/names.js'
import {decodeData, REQUIRED_FEDERATION_KEYS, validateFederationData} from '../federation/secret.js'
import {UserError, errorMessage} from '../shared/errors.js'
import {Helm, helmBinary, type ReleaseInfo} from './helm.js'
import {serverVersion} from '../kube/reads.js'
import {isWorkloadReady, listReleaseWorkloads, type WorkloadState} from './release-objects.js'
import {describeFederation, summarizeValues, type ValuesSummary} from './plan.js'
import type {Values} from './values.js'
import {readProxyDefaults} from '../federation/proxy-defaults.js'

/** The keys every federation secret has (consul-k8s's create-federation-secret). */
export const FEDERATION_SECRET_KEYS = [...REQUIRED_FEDERATION_KEYS]

export interface LocateOptions {
  kubeconfig?: string
  /** Without it, every namespace is searched. */
  namespace?: string
  /** Without it, any release of the consul chart. */
  release?: string
  helmBinary?: string
}

/**
 * The Consul release to look at: --release in -n, or (without -n) the one release of the consul
 * chart in the cluster (named --release when given). None, or several, is a UserError.
 */
export async function locateRelease(helm: Helm, cluster: KubeCluster, options: LocateOptions): Promise<ReleaseInfo> {
  if (options.release) validateReleaseName(options.release)
  if (options.namespace) validateNamespaceName(options.namespace)
  if (options.namespace) {
    const release = options.release ?? 'consul'
    const found = await helm.findRelease(release, options.namespace)
    if (found) return found
    throw new UserError(`There is no release ${release} in namespace ${options.namespace} of context "${cluster.name}".`, {
      hint: `Install Consul with \`consulk8s install --context ${cluster.name} -n ${options.namespace} -f values.yaml\`, or leave out -n to search every namespace.`,
    })
  }
  const candidates = (await helm.listAll()).filter(
    (release) => release.chartName === 'consul' && (!options.release || release.name === options.release),
  )
  if (candidates.length === 1) return candidates[0]
  if (candidates.length === 0) {
    throw new UserError(
      `There is no Consul release${options.release ? ` named ${options.release}` : ''} in any namespace of context "${cluster.name}".`,
      {
        hint: `Install Consul with \`consulk8s install --context ${cluster.name} -f values.yaml\` (helm list -A lists every release).`,
      },
    )
  }
  throw new UserError(
    `Context "${cluster.name}" has ${candidates.length} Consul releases: ${candidates.map((release) => `${release.name} in ${release.namespace}`).join(', ')}.`,
    {
      hint: 'Pick one with -n <namespace> (and --release <name>).',
    },
  )
}

export interface HookRun {
  name: string
  kind: string
  events: string[]
  /** helm's last run: Succeeded, Failed, Running, or "not run" (never ran: --no-hooks, a pre-delete or test hook). */
  phase: string
  completedAt?: string
}

export interface FederationSecretState {
  name: string
  present: boolean
  /** Key names only. */
  keys: string[]
  /** Keys the release needs that are missing or empty. */
  missing: string[]
  /** Every key well formed (CA with its key, serverConfigJSON, gossip key). */
  valid: boolean
  problem?: string
  primaryDatacenter?: string
  primaryGateways?: string[]
  caFingerprint256?: string
}

export interface ProxyDefaultsState {
  /** Whether the ProxyDefaults CRD is installed. */
  crd: boolean
  found: boolean
  namespace?: string
  meshGatewayMode?: string
  /** The Synced condition: True / False / Unknown, with reason and message. */
  synced?: string
  reason?: string
  message?: string
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
  values?: ValuesSummary
  hooks: HookRun[]
  workloads: WorkloadState[]
  federationSecret: FederationSecretState
  proxyDefaults: ProxyDefaultsState
  /** Release deployed, no failed hook, every workload ready, the federation secret valid when the release uses one. */
  healthy: boolean
}

interface HelmStatusJson {
  hooks?: Array<{name?: string; kind?: string; events?: string[]; last_run?: {phase?: string; completed_at?: string}}>
}

export function hookRuns(status: HelmStatusJson): HookRun[] {
  return (status.hooks ?? []).map((hook) => ({
    name: hook.name ?? '',
    kind: hook.kind ?? '',
    events: hook.events ?? [],
    phase: hook.last_run?.phase || 'not run',
    completedAt: hook.last_run?.completed_at && !hook.last_run.completed_at.startsWith('0001') ? hook.last_run.completed_at : undefined,
  }))
}

/** The keys a release's federation secret must hold: the three always, the token with ACLs, the gossip key with gossip encryption. */
export function expectedFederationKeys(summary: ValuesSummary): string[] {
  return [
    ...FEDERATION_SECRET_KEYS,
    ...(summary.acls ? ['replicationToken'] : []),
    ...(summary.gossipEncryption !== 'off' ? ['gossipEncryptionKey'] : []),
  ]
}

export function checkFederationSecret(name: string, secret: V1Secret | undefined, expected: string[]): FederationSecretState {
  if (!secret) return {name, present: false, keys: [], missing: [], valid: false}
  let data: Record<string, string>
  try {
    data = decodeData(secret.data, `secret ${name}`)
  } catch (error) {
    return {name, present: true, keys: Object.keys(secret.data ?? {}).sort(), missing: [], valid: false, problem: errorMessage(error)}
  }
  const keys = Object.keys(data)
    .filter((key) => data[key].trim() !== '')
    .sort()
  const missing = expected.filter((key) => !keys.includes(key))
  try {
    const summary = validateFederationData(data, `secret ${name}`)
    return {
      name,
      present: true,
      keys,
      missing,
      valid: missing.length === 0,
      problem: missing.length > 0 ? `lacks ${missing.join(', ')}` : undefined,
      primaryDatacenter: summary.primaryDatacenter,
      primaryGateways: summary.primaryGateways,
      caFingerprint256: summary.caFingerprint256,
    }
  } catch (error) {
    return {name, present: true, keys, missing, valid: false, problem: errorMessage(error)}
  }
}

/** The ProxyDefaults named global as federate reads it (the CRD waited for while it is being established), with its Synced condition. */
export async function proxyDefaultsState(cluster: KubeCluster): Promise<ProxyDefaultsState> {
  const {crd, resource: global} = await readProxyDefaults(cluster)
  if (!crd) return {crd: false, found: false}
  if (!global) return {crd: true, found: false}
  const synced = global.status?.conditions?.find((condition) => condition.type === 'Synced')
  return {
    crd: true,
    found: true,
    namespace: global.metadata?.namespace,
    meshGatewayMode: global.spec?.meshGateway?.mode,
    synced: synced?.status ?? 'Unknown',
    reason: synced?.reason,
    message: synced?.message,
  }
}

/** Release deployed, no failed hook, every workload ready on its current spec, the federation secret valid when the release uses one. */
export function isHealthy(state: {
  status?: string
  hooks: HookRun[]
  workloads: WorkloadState[]
  federationSecret: FederationSecretState
  needsSecret: boolean
}): boolean {
  return (
    state.status === 'deployed' &&
    !state.hooks.some((hook) => hook.phase === 'Failed') &&
    state.workloads.every((workload) => isWorkloadReady(workload)) &&
    (!state.needsSecret || state.federationSecret.valid)
  )
}

export async function releaseStatus(cluster: KubeCluster, options: LocateOptions): Promise<StatusReport> {
  const helm = new Helm(helmBinary(options.helmBinary), {kubeconfig: options.kubeconfig, context: cluster.name})
  await helm.checkUsable()
  await serverVersion(cluster)
  const info = await locateRelease(helm, cluster, options)
  const values: Values = await helm.getValues(info.name, info.namespace, {all: true})
  const summary = summarizeValues(info.name, values)
  const names = chartNames(summary.prefix)
  const [status, workloads, secret, proxyDefaults] = await Promise.all([
    helm.status(info.name, info.namespace) as Promise<HelmStatusJson>,
    listReleaseWorkloads(cluster, info.namespace, info.name),
    cluster.getOptional<V1Secret>(`read secret ${info.namespace}/${names.federationSecret}`, {
      resource: 'secrets',
      namespace: info.namespace,
      name: names.federationSecret,
    }),
    proxyDefaultsState(cluster),
  ])
  const hooks = hookRuns(status)
  const federationSecret = checkFederationSecret(names.federationSecret, secret, expectedFederationKeys(summary))
  const needsSecret = summary.federation !== 'none'
  return {
    context: cluster.name,
    server: cluster.server,
    namespace: info.namespace,
    release: info.name,
    found: true,
    revision: info.revision,
    status: info.status,
    chart: info.chart,
    chartVersion: info.chartVersion,
    appVersion: info.appVersion,
    updated: info.updated,
    datacenter: summary.datacenter,
    federation: summary.federation,
    values: summary,
    hooks,
    workloads,
    federationSecret,
    proxyDefaults,
    healthy: isHealthy({status: info.status, hooks, workloads, federationSecret, needsSecret}),
  }
}

export type Mark = 'ok' | 'warn' | 'fail' | 'info'

export interface StatusRow {
  mark: Mark
  component: string
  state: string
  detail: string
}

const onOff = (value: boolean) => (value ? 'on' : 'off')

/** The federation secret's row: a failure when the release federates and it is absent or not valid. */
function federationSecretRow(secret: StatusReport['federationSecret'], needed: boolean): StatusRow {
  if (!secret.present) return {mark: needed ? 'fail' : 'info', component: 'Federation secret', state: 'absent', detail: secret.name}
  if (!secret.valid) {
    return {
      mark: needed ? 'fail' : 'warn',
      component: 'Federation secret',
      state: secret.missing.length > 0 ? 'incomplete' : 'invalid',
      detail: `${secret.name}: ${secret.problem}`,
    }
  }
  return {
    mark: 'ok',
    component: 'Federation secret',
    state: 'valid',
    detail: `${secret.name} (${secret.keys.join(', ')}): primary ${secret.primaryDatacenter}, ${secret.primaryGateways?.length ?? 0} gateway(s), CA ${secret.caFingerprint256?.slice(0, 23)}`,
  }
}

/** The ProxyDefaults "global" row: its CRD, presence and Synced condition. */
function proxyDefaultsRow(proxy: StatusReport['proxyDefaults'], needed: boolean): StatusRow {
  if (!proxy.crd)
    return {
      mark: 'info',
      component: 'ProxyDefaults',
      state: 'no CRD',
      detail: 'proxydefaults.consul.hashicorp.com is not installed (connectInject disabled)',
    }
  if (!proxy.found)
    return {
      mark: needed ? 'warn' : 'info',
      component: 'ProxyDefaults',
      state: 'absent',
      detail: 'no ProxyDefaults "global" (federation through mesh gateways needs meshGateway.mode local)',
    }
  return {
    mark: proxy.synced === 'True' ? 'ok' : proxy.synced === 'False' ? 'fail' : 'warn',
    component: 'ProxyDefaults',
    state: `Synced ${proxy.synced}`,
    detail: `${proxy.namespace}/global, meshGateway.mode ${proxy.meshGatewayMode ?? '(unset)'}${proxy.reason || proxy.message ? `: ${[proxy.reason, proxy.message].filter(Boolean).join(' ')}` : ''}`,
  }
}

/** Rows for the status table: component, state, detail, with the mark the state deserves. */
export function statusRows(report: StatusReport): StatusRow[] {
  const rows: StatusRow[] = [
    {
      mark: report.status === 'deployed' ? 'ok' : 'warn',
      component: `Release ${report.release}`,
      state: report.status ?? 'unknown',
      detail: `chart ${report.chart} (app ${report.appVersion}), revision ${report.revision}, namespace ${report.namespace}`,
    },
  ]
  const values = report.values
  if (values) {
    rows.push({
      mark: 'info',
      component: 'Values',
      state: `datacenter ${values.datacenter}`,
      detail: `TLS ${onOff(values.tls)}, ACLs ${onOff(values.acls)}, gossip ${values.gossipEncryption}, mesh gateway ${onOff(values.meshGateway)}, federation ${describeFederation(values)}`,
    })
  }
  for (const hook of report.hooks) {
    rows.push({
      mark: hook.phase === 'Succeeded' ? 'ok' : hook.phase === 'Failed' ? 'fail' : hook.phase === 'not run' ? 'info' : 'warn',
      component: `Hook ${hook.kind} ${hook.name}`,
      state: hook.phase,
      detail: `${hook.events.join(', ')}${hook.completedAt ? `, completed ${hook.completedAt}` : ''}`,
    })
  }
  if (report.workloads.length === 0)
    rows.push({
      mark: 'warn',
      component: 'Workloads',
      state: 'none',
      detail: `no StatefulSet, Deployment or DaemonSet with label release=${report.release}`,
    })
  for (const workload of report.workloads) {
    const ready = isWorkloadReady(workload)
    rows.push({
      mark: ready ? 'ok' : 'warn',
      component: `${workload.kind} ${workload.name}`,
      state: `${workload.ready}/${workload.desired} ready`,
      detail: workload.images.join(', '),
    })
  }
  const needed = report.federation !== undefined && report.federation !== 'none'
  rows.push(federationSecretRow(report.federationSecret, needed), proxyDefaultsRow(report.proxyDefaults, needed))
  return rows
}
