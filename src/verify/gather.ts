/**
 * The I/O of verify: for one side (a kube context), read the federation secret and the
 * bootstrap token from Kubernetes, then ask that side's Consul server what it sees, over
 * HTTPS when an address was given, else by exec into a server pod. Every failure is recorded
 * as an observation (with a kind) instead of thrown, so one broken side never hides the
 * others.
 */
import {consulConfigFrom, ConsulClient} from '../consul/client.js'
import {releaseNames, type ChartNames} from '../federation/names.js'
import type {V1Secret} from '@kubernetes/client-node'

import {apiStatusCode, connectCluster, describeKubeError, kubePath, type KubeCluster} from '../kube/client.js'
import {execInPod, findExecPod} from '../kube/exec.js'
import {errorMessage, isUserError} from '../shared/errors.js'
import {ExecConsulReader, HttpConsulReader, ProbeError, type ConsulReader} from './sources.js'
import {
  probeFail,
  probeOk,
  type AgentInfo,
  type PresentedChain,
  type ProxyDefaultsResourceView,
  type ProxyDefaultsView,
  type ConsulView,
  type FailureKind,
  type FederationSecretView,
  type Probe,
  type ReplicationStatus,
  type ServerHealth,
  type SideObservation,
} from './types.js'

/** One side to verify, resolved from the flags (see plan.ts). */
export interface SideTarget {
  context: string
  namespace: string
  release: string
  /** Consul HTTP(S) API address of this side; absent: exec into a server pod. */
  address?: string
  /** ACL token; absent: the chart's bootstrap token secret, if readable. */
  token?: string
  /** CA file for the HTTPS API; absent: caCert of the federation secret. */
  caFile?: string
}

export interface SideConnection {
  target: SideTarget
  cluster: KubeCluster
  names: ChartNames
}

/** The container of the chart's server pods. */
export const SERVER_CONTAINER = 'consul'

export async function connectSide(target: SideTarget, kubeconfig?: string): Promise<SideConnection> {
  const cluster = await connectCluster({kubeconfig, context: target.context})
  return {target, cluster, names: releaseNames(target.release)}
}

export async function probe<T>(fn: () => Promise<T>): Promise<Probe<T>> {
  try {
    return probeOk(await fn())
  } catch (error) {
    if (error instanceof ProbeError) return probeFail(error.kind, error.message, error.next)
    return probeFail('error', errorMessage(error))
  }
}

/** The kind of a Kubernetes failure (already described by describeKubeError or findExecPod). */
function kubeFailureKind(error: unknown, described?: Error): FailureKind {
  const status = apiStatusCode(error) ?? apiStatusCode((error as {cause?: unknown})?.cause)
  if (status === 401 || status === 403) return 'forbidden'
  if (status === 404) return 'not-found'
  if (status !== undefined) return 'error'
  if (/Cannot reach the Kubernetes API|did not answer/.test(`${errorMessage(error)} ${described?.message ?? ''}`)) return 'unreachable'
  return 'error'
}

/** A failure of the Kubernetes API, blamed on it (not on Consul) with the hint of its description. */
function kubeFailure<T>(error: unknown, what: string, cluster: KubeCluster): Probe<T> {
  const described = describeKubeError(error, what, cluster)
  return {
    ok: false,
    error: {
      kind: kubeFailureKind(error, described),
      message: described.message,
      next: isUserError(described) ? described.hint : undefined,
      origin: 'kubernetes',
    },
  }
}

export async function readSecretData(cluster: KubeCluster, namespace: string, name: string): Promise<Probe<Record<string, string> | null>> {
  try {
    const secret = await cluster.api.request<V1Secret>('GET', kubePath({resource: 'secrets', namespace, name}))
    const data: Record<string, string> = {}
    for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8')
    for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = value
    return probeOk(data)
  } catch (error) {
    if (apiStatusCode(error) === 404) return probeOk(null)
    return kubeFailure(error, `read secret ${name} in namespace ${namespace}`, cluster)
  }
}

interface Reader {
  reader?: ConsulReader
  /** Why there is no reader. */
  failure?: Probe<never>
  tokenSource: string
  /** Which CA the HTTPS certificate is verified against, for TLS failures. */
  caSource?: string
}

async function openReader(side: SideConnection, secret: FederationSecretView | null, requestTimeoutMs: number): Promise<Reader> {
  const {target, cluster, names} = side
  let token = target.token
  let tokenSource = token ? 'the token given with --consul-token / CONSUL_HTTP_TOKEN' : 'no token'
  if (token === undefined) {
    const bootstrap = await readSecretData(cluster, target.namespace, names.bootstrapTokenSecret)
    if (bootstrap.ok && bootstrap.value?.token) {
      token = bootstrap.value.token.trim()
      tokenSource = `the token in secret ${names.bootstrapTokenSecret}`
    }
  }
  if (target.address) {
    let config
    try {
      config = consulConfigFrom(
        {'consul-http-addr': target.address, 'consul-token': token ?? '', 'consul-cacert': target.caFile},
        {CONSUL_HTTP_SSL: process.env.CONSUL_HTTP_SSL},
      )!
    } catch (error) {
      return {failure: probeFail('error', errorMessage(error)), tokenSource}
    }
    let caSource = target.caFile ? `the CA in ${target.caFile}` : 'the system CAs (no --consul-cacert, no federation secret)'
    if (!config.caCert && secret?.data.caCert) {
      config.caCert = secret.data.caCert
      caSource = `caCert of secret ${secret.name}`
    }
    config.timeoutMs = requestTimeoutMs
    try {
      return {reader: new HttpConsulReader(new ConsulClient(config)), tokenSource, caSource}
    } catch (error) {
      return {failure: probeFail('error', errorMessage(error)), tokenSource}
    }
  }
  let pod: {name: string; node?: string}
  try {
    pod = await findExecPod(cluster, {namespace: target.namespace, statefulSet: names.serverStatefulSet, container: SERVER_CONTAINER})
  } catch (error) {
    if (!(isUserError(error) && error.cause === undefined)) return {failure: kubeFailure(error, 'find a Consul server pod', cluster), tokenSource}
    return {failure: probeFail(/not found/.test(error.message) ? 'not-found' : 'pod-not-ready', error.message, error.hint), tokenSource}
  }
  const run = (command: string[], stdin: string) =>
    execInPod(cluster, {
      namespace: target.namespace,
      pod: pod.name,
      node: pod.node,
      container: SERVER_CONTAINER,
      command,
      stdin,
      timeoutMs: requestTimeoutMs + 5_000,
    })
  return {reader: new ExecConsulReader(run, `pod ${pod.name} (exec)`, token ?? ''), tokenSource}
}

export interface ObservedSide {
  observation: SideObservation
  reader?: ConsulReader
}

/** Everything about one side except the other datacenters' server health (see addServerHealth). */
export async function observeSide(side: SideConnection, options: {requestTimeoutMs?: number} = {}): Promise<ObservedSide> {
  const {target, cluster, names} = side
  const secretProbe = await readSecretData(cluster, target.namespace, names.federationSecret)
  const secret: Probe<FederationSecretView | null> = secretProbe.ok
    ? probeOk(secretProbe.value ? {name: names.federationSecret, data: secretProbe.value} : null)
    : secretProbe
  const opened = await openReader(side, secret.ok ? secret.value : null, options.requestTimeoutMs ?? 10_000)
  const base = {context: target.context, namespace: target.namespace, names, secret}
  if (!opened.reader) {
    const consul: ConsulView = {
      via: target.address ? 'http' : 'exec',
      source: target.address ?? `StatefulSet ${names.serverStatefulSet} (exec)`,
      agent: opened.failure!,
    }
    return {observation: {...base, consul}}
  }
  const reader = opened.reader
  const agent = await probe(() => reader.agentSelf())
  if (!agent.ok && agent.error.kind === 'forbidden') agent.error.message += ` (used ${opened.tokenSource})`
  if (!agent.ok && agent.error.kind === 'tls' && opened.caSource) agent.error.message += ` (verified against ${opened.caSource})`
  const consul: ConsulView = {via: reader.via, source: reader.source, agent}
  const timeoutMs = options.requestTimeoutMs ?? 10_000
  const [proxyDefaultsResource] = await Promise.all([
    readProxyDefaultsResource(cluster, target.namespace),
    agent.ok
      ? Promise.all([
          probe(() => reader.wanMembers()),
          probe(() => reader.datacenters()),
          probe(() => reader.replication()),
          probe(() => reader.keyring()),
          probe(() => reader.proxyDefaults()),
          serverChains(reader, agent.value, timeoutMs),
        ]).then(([members, datacenters, replication, keyring, proxyDefaults, tls]) =>
          Object.assign(consul, {members, datacenters, replication, keyring, proxyDefaults, tls}),
        )
      : undefined,
  ])
  return {observation: {...base, consul, proxyDefaultsResource}, reader}
}

/**
 * The chains of the server's HTTPS port (through the reader) and, over HTTP(S), of its
 * advertised server RPC port when that answers from here.
 */
async function serverChains(reader: ConsulReader, agent: AgentInfo, timeoutMs: number): Promise<Array<Probe<PresentedChain>>> {
  const chains = [probe(() => reader.httpsChain(timeoutMs))]
  // The advertised address is often a pod IP that does not answer from here: do not wait long.
  if (reader instanceof HttpConsulReader && agent.rpcAddress) chains.push(probe(() => reader.rpcChain(agent.rpcAddress!, Math.min(timeoutMs, 3_000))))
  return Promise.all(chains)
}

const PROXY_DEFAULTS = {group: 'consul.hashicorp.com', version: 'v1alpha1', resource: 'proxydefaults'}

interface ProxyDefaultsObject {
  metadata?: {name?: string; namespace?: string}
  status?: {conditions?: Array<{type?: string; status?: string; reason?: string; message?: string}>}
}

/** The ProxyDefaults resource "global" (any namespace; the release's when listing all is forbidden), or that the CRD is absent. */
export async function readProxyDefaultsResource(cluster: KubeCluster, namespace: string): Promise<Probe<ProxyDefaultsResourceView>> {
  let items: ProxyDefaultsObject[]
  try {
    try {
      items = (await cluster.list('list ProxyDefaults', PROXY_DEFAULTS)) as ProxyDefaultsObject[]
    } catch (error) {
      if (apiStatusCode(error) !== 403 && apiStatusCode((error as {cause?: unknown})?.cause) !== 403) throw error
      items = (await cluster.list(`list ProxyDefaults in namespace ${namespace}`, {...PROXY_DEFAULTS, namespace})) as ProxyDefaultsObject[]
    }
  } catch (error) {
    const status = apiStatusCode(error) ?? apiStatusCode((error as {cause?: unknown})?.cause)
    if (status === 404) return probeOk({crd: false})
    return kubeFailure(error, 'list ProxyDefaults resources', cluster)
  }
  const global = items.find((item) => item.metadata?.name === 'global')
  if (!global) return probeOk({crd: true})
  const synced = global.status?.conditions?.find((condition) => condition.type === 'Synced')
  const resource: NonNullable<Extract<ProxyDefaultsResourceView, {crd: true}>['resource']> = {namespace: global.metadata?.namespace ?? ''}
  if (synced?.status) resource.synced = synced.status
  if (synced?.reason) resource.reason = synced.reason
  if (synced?.message) resource.message = synced.message
  return probeOk({crd: true, resource})
}

/**
 * Ask a side's server about the servers of every other datacenter (?dc=), about the ACL
 * replication and proxy-defaults of `unobserved` datacenters (those no reachable side runs),
 * and about the side's federation secret's replication token in the primary.
 */
export async function addRemoteViews(observed: ObservedSide, datacenters: string[], unobserved: string[] = [], primary?: string): Promise<void> {
  const {observation, reader} = observed
  if (!reader || !observation.consul.agent.ok) return
  const local = observation.consul.agent.value.datacenter
  const token = observation.secret.ok ? observation.secret.value?.data.replicationToken?.trim() : undefined
  if (token && primary && observation.consul.agent.value.aclsEnabled !== false) {
    observation.consul.replicationToken = await probe(() => reader.tokenSelf(token, primary === local ? undefined : primary))
  }
  const health: Record<string, Probe<ServerHealth>> = {}
  const replication: Record<string, Probe<ReplicationStatus | 'acl-disabled'>> = {}
  const proxyDefaults: Record<string, Probe<ProxyDefaultsView | null>> = {}
  await Promise.all([
    ...datacenters
      .filter((dc) => dc !== local)
      .map(async (dc) => {
        health[dc] = await probe(() => reader.serverHealth(dc))
      }),
    ...unobserved.map(async (dc) => {
      replication[dc] = await probe(() => reader.replication(dc))
    }),
    ...unobserved.map(async (dc) => {
      proxyDefaults[dc] = await probe(() => reader.proxyDefaults(dc))
    }),
  ])
  observation.consul.serverHealth = health
  if (unobserved.length > 0) Object.assign(observation.consul, {remoteReplication: replication, remoteProxyDefaults: proxyDefaults})
}
