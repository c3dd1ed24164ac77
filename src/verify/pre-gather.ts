/**
 * The I/O of `verify --pre`: the primary's live state (as verify observes a side, plus the
 * candidate replication token asked in the primary), the federation data the secondary will
 * be installed from (its context's secret, or a file), TCP to the primary's gateways, and the
 * TLS endpoint of the secondary's k8sAuthMethodHost. Then evaluatePre (pure) and a report.
 */
import {parse as parseYaml} from 'yaml'

import {choicesFromValues} from '../federation/choices.js'
import {chooseK8sAuthMethodHost, isLoopbackServer, validateK8sAuthMethodHost} from '../federation/k8s-auth-host.js'
import {releaseNames} from '../federation/names.js'
import {parseSecretManifest, parseServerConfig} from '../federation/secret.js'
import {readApiEndpoints} from '../federation/store.js'
import {connectCluster, type KubeCluster} from '../kube/client.js'
import {clusterCa} from '../kube/http.js'
import {readKubeconfig, resolveContext} from '../kube/kubeconfig.js'
import {errorMessage} from '../shared/errors.js'
import {connectSide, observeSide, probe, readSecretData, type SideTarget} from './gather.js'
import {evaluatePre, type PlannedSettings, type PreObservation} from './pre.js'
import {toReport} from './runner.js'
import {checkHostCertificate, splitHostPort, tcpReachable} from './tls.js'
import {probeOk, type Probe, type VerifyReport} from './types.js'

export interface PreOptions {
  kubeconfig?: string
  /** Where the secondary will be installed. */
  target: {context: string; namespace: string; release: string}
  /** The primary, resolved like a verify side (address, token, CA). */
  primary: SideTarget
  datacenter: string
  /** The federation secret as a file (-f), instead of the target context's secret. */
  file?: {text: string; path: string}
  k8sAuthMethodHost?: string
  /** The values the secondary will be installed with. */
  values?: {text: string; path: string}
  requestTimeoutMs?: number
}

/** What a values file says about the secondary: datacenter, TLS/ACLs/gossip, k8sAuthMethodHost. */
export function plannedFromValues(text: string): PlannedSettings & {datacenter?: string; k8sAuthMethodHost?: string} {
  const choices = choicesFromValues(text)
  const planned: PlannedSettings & {datacenter?: string; k8sAuthMethodHost?: string} = {}
  if (choices.datacenter) planned.datacenter = choices.datacenter
  if (choices.acls !== undefined) planned.acls = choices.acls
  if (choices.gossip !== undefined) planned.gossip = choices.gossip
  let values: {global?: {tls?: {enabled?: unknown}; federation?: {k8sAuthMethodHost?: unknown}}} | undefined
  try {
    values = parseYaml(text) ?? undefined
  } catch {
    values = undefined
  }
  if (values?.global) planned.tls = values.global.tls?.enabled === true
  const host = values?.global?.federation?.k8sAuthMethodHost
  if (typeof host === 'string' && host) planned.k8sAuthMethodHost = host
  return planned
}

async function gatewayReachability(data: Record<string, string> | null, timeoutMs: number): Promise<PreObservation['gateways']> {
  let gateways: string[] = []
  try {
    gateways = data?.serverConfigJSON ? parseServerConfig(data.serverConfigJSON).primary_gateways : []
  } catch {
    return [] // reported by the secret check
  }
  return Promise.all(
    gateways.map(async (address) => {
      const target = splitHostPort(address)
      if (!target) return {address, reachable: false as const, message: 'not host:port'}
      const result = await tcpReachable(target.host, target.port, timeoutMs)
      return result.ok ? {address, reachable: true as const} : {address, reachable: false as const, message: result.message}
    }),
  )
}

async function authHost(
  options: PreOptions,
  cluster: KubeCluster,
  flagOrValues: string | undefined,
  source: string,
  timeoutMs: number,
): Promise<PreObservation['authHost']> {
  let url: string
  let chosenFrom = source
  try {
    if (flagOrValues) {
      url = validateK8sAuthMethodHost(flagOrValues)
    } else {
      const endpoints = isLoopbackServer(cluster.server) ? await readApiEndpoints(cluster) : undefined
      const choice = chooseK8sAuthMethodHost({server: cluster.server, context: options.target.context, endpoints})
      url = choice.url
      chosenFrom =
        choice.source === 'endpoints'
          ? "the default/kubernetes endpoints (the kubeconfig's server is loopback)"
          : `the kubeconfig's server of context ${options.target.context}`
    }
  } catch (error) {
    return {source, result: {ok: false, kind: 'error', message: errorMessage(error)}}
  }
  const config = readKubeconfig(options.kubeconfig)
  const ca = clusterCa(config, resolveContext(config, options.target.context))
  return {url, source: `from ${chosenFrom}`, result: await checkHostCertificate(url, ca, timeoutMs)}
}

export async function gatherPre(options: PreOptions): Promise<PreObservation> {
  const timeoutMs = options.requestTimeoutMs ?? 10_000
  const names = releaseNames(options.target.release)
  const planned = options.values ? plannedFromValues(options.values.text) : undefined
  // Unknown contexts are bad input: both throw a UserError listing the contexts.
  const [cluster, primaryConnection] = await Promise.all([
    connectCluster({kubeconfig: options.kubeconfig, context: options.target.context}),
    connectSide(options.primary, options.kubeconfig),
  ])
  try {
    const secretSource = options.file
      ? options.file.path === '-'
        ? 'the federation secret on stdin'
        : `file ${options.file.path}`
      : `secret ${names.federationSecret} in namespace ${options.target.namespace} of context ${options.target.context}`
    const secret: Probe<Record<string, string> | null> = options.file
      ? probeOk(parseSecretManifest(options.file.text, secretSource).data)
      : await readSecretData(cluster, options.target.namespace, names.federationSecret)
    const data = secret.ok ? secret.value : null

    const hostFlag = options.k8sAuthMethodHost ?? planned?.k8sAuthMethodHost
    const hostSource = options.k8sAuthMethodHost ? 'from --k8s-auth-method-host' : planned?.k8sAuthMethodHost ? `from ${options.values!.path}` : ''
    const [observed, gateways, host] = await Promise.all([
      observeSide(primaryConnection, {requestTimeoutMs: timeoutMs}),
      gatewayReachability(data, Math.min(timeoutMs, 5_000)),
      authHost(options, cluster, hostFlag, hostSource, timeoutMs),
    ])
    let candidateToken: PreObservation['candidateToken']
    const token = data?.replicationToken?.trim()
    try {
      if (observed.reader && observed.observation.consul.agent.ok && token) candidateToken = await probe(() => observed.reader!.tokenSelf(token))
    } finally {
      observed.reader?.close()
    }
    const observation: PreObservation = {
      target: options.target,
      datacenter: options.datacenter,
      secretSource,
      fromFile: Boolean(options.file),
      secret,
      primary: observed.observation,
      gateways,
      authHost: host,
      planned: {tls: planned?.tls, acls: planned?.acls, gossip: planned?.gossip},
    }
    if (candidateToken) observation.candidateToken = candidateToken
    if (options.values) observation.plannedSource = options.values.path
    return observation
  } finally {
    cluster.close()
    primaryConnection.cluster.close()
  }
}

/** verify --pre: one round, reported like verify (✓/!/✗, JSON, exit code from `ok`). */
export async function verifyPre(options: PreOptions): Promise<VerifyReport> {
  const observation = await gatherPre(options)
  const {checks, primaryDatacenter} = evaluatePre(observation)
  const agent = observation.primary.consul
  const report = toReport(
    checks,
    {
      datacenters: [...new Set([primaryDatacenter, options.datacenter].filter((dc): dc is string => Boolean(dc)))],
      primaryDatacenter,
      sides: [
        {
          context: observation.primary.context,
          namespace: observation.primary.namespace,
          via: agent.via,
          source: agent.source,
          ...(primaryDatacenter ? {datacenter: primaryDatacenter} : {}),
        },
      ],
    },
    1,
  )
  report.pre = {context: options.target.context, datacenter: options.datacenter}
  return report
}
