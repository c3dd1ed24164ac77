/**
 * The data of `consulk8s verify`: what was observed on each side of the federation (one
 * side = one kube context with its Consul datacenter) and the checks derived from it.
 * Observations never hold more secret material than the checks need, and checks never hold
 * any: a check's texts are safe to print and to emit as JSON.
 */
import type {ChartNames} from '../federation/names.js'

/** Why an observation could not be made; `kind` selects the likely cause and next step. */
export type FailureKind =
  | 'unreachable' // connection refused, timeout, DNS
  | 'tls' // certificate did not verify
  | 'forbidden' // Consul ACL or Kubernetes RBAC said no
  | 'not-found' // the object or endpoint does not exist
  | 'pod-not-ready' // no pod can take an exec
  | 'exec' // the exec itself failed (RBAC, tooling in the container)
  | 'no-route' // a server could not forward to another datacenter
  | 'error'

export interface ProbeFailure {
  kind: FailureKind
  message: string
  /** A next step that is better than the default for `kind`. */
  next?: string
  /** Where it failed: the Kubernetes API (reading a secret, finding or exec'ing into a pod) or Consul. */
  origin?: 'kubernetes' | 'consul'
}

export type Probe<T> = {ok: true; value: T} | {ok: false; error: ProbeFailure}

export const probeOk = <T>(value: T): Probe<T> => ({ok: true, value})
export const probeFail = <T>(kind: FailureKind, message: string, next?: string): Probe<T> => ({
  ok: false,
  error: next === undefined ? {kind, message} : {kind, message, next},
})

/** /v1/agent/self, reduced. */
export interface AgentInfo {
  datacenter: string
  primaryDatacenter: string
  nodeName: string
  version: string
  server: boolean
  /** undefined when the agent did not say (DebugConfig hidden). */
  aclsEnabled?: boolean
  /** The server RPC address (host:port) the agent advertises, when it says. */
  rpcAddress?: string
  /** Whether the agent serves HTTPS / encrypts gossip, when DebugConfig says. */
  https?: boolean
  gossipEncryption?: boolean
}

/** A TLS endpoint of a Consul server and the certificates it presented (PEM, leaf first; public data). */
export interface PresentedChain {
  endpoint: 'https' | 'rpc'
  /** host:port, or "pod X (exec)". */
  address: string
  chain: string[]
}

/** One ring of /v1/operator/keyring, with the keys as fingerprints (never the keys). */
export interface KeyringView {
  wan: boolean
  datacenter: string
  /** fingerprint(key) -> number of members that have it. */
  keys: Record<string, number>
  /** fingerprint(key) -> number of members that use it as their primary key. */
  primaryKeys: Record<string, number>
  numNodes: number
}

/** /v1/acl/token/self answered for a token (never its secret). */
export interface TokenView {
  accessorId: string
  policies: string[]
  local: boolean
}

/** The proxy-defaults config entry "global" as Consul holds it; null when absent. */
export interface ProxyDefaultsView {
  meshGatewayMode: string
}

/** The ProxyDefaults custom resource "global", where the CRD exists. */
export type ProxyDefaultsResourceView =
  {crd: false} | {crd: true; resource?: {namespace: string; synced?: 'True' | 'False' | 'Unknown' | string; reason?: string; message?: string}}

export type MemberStatus = 'alive' | 'leaving' | 'left' | 'failed' | 'none' | string

/** One row of `consul members -wan` (or /v1/agent/members?wan=1). */
export interface WanMember {
  /** As Consul lists it in the WAN pool: "<node>.<dc>". */
  name: string
  address: string
  status: MemberStatus
  type: 'server' | 'client' | 'unknown' | string
  build: string
  protocol: string
  datacenter: string
  partition?: string
  segment?: string
}

export interface HealthCheckView {
  name: string
  checkId: string
  status: 'passing' | 'warning' | 'critical' | 'maintenance' | string
  output: string
}

/** A Consul server of a datacenter with its node checks (/v1/health/service/consul?dc=). */
export interface ServerHealthView {
  node: string
  address: string
  checks: HealthCheckView[]
}

export interface ServerHealth {
  servers: ServerHealthView[]
  /** Consul said results were filtered by ACLs (X-Consul-Results-Filtered-By-ACLs). */
  filteredByAcls: boolean
}

/** /v1/acl/replication. */
export interface ReplicationStatus {
  enabled: boolean
  running: boolean
  sourceDatacenter: string
  replicationType: string
  replicatedIndex: number
  lastSuccess?: string
  lastError?: string
  lastErrorMessage?: string
}

/** What one datacenter's Consul server told us. */
export interface ConsulView {
  via: 'exec' | 'http'
  /** Where the answers came from: "https://10.0.0.5:8501" or "pod consul-server-0 (exec)". */
  source: string
  agent: Probe<AgentInfo>
  members?: Probe<WanMember[]>
  datacenters?: Probe<string[]>
  /** Keyed by datacenter: the servers of that datacenter as this side sees them. */
  serverHealth?: Record<string, Probe<ServerHealth>>
  /** 'acl-disabled' when the agent runs without ACLs. */
  replication?: Probe<ReplicationStatus | 'acl-disabled'>
  /**
   * The replication status of datacenters no reachable side runs, asked through this server
   * (?dc=), keyed by datacenter.
   */
  remoteReplication?: Record<string, Probe<ReplicationStatus | 'acl-disabled'>>
  /** The certificate chains the server presented on its HTTPS and (where reachable) RPC ports. */
  tls?: Array<Probe<PresentedChain>>
  /** /v1/operator/keyring; 'disabled' when gossip encryption is off. */
  keyring?: Probe<KeyringView[] | 'disabled'>
  /**
   * /v1/acl/token/self with the federation secret's replicationToken, in the primary (asked
   * through this server); 'unknown' when Consul does not know the token.
   */
  replicationToken?: Probe<TokenView | 'unknown' | 'acl-disabled'>
  /** /v1/config/proxy-defaults/global. */
  proxyDefaults?: Probe<ProxyDefaultsView | null>
  /** The same, of datacenters no reachable side runs (asked through this server with ?dc=). */
  remoteProxyDefaults?: Record<string, Probe<ProxyDefaultsView | null>>
}

/** The federation secret of one side, decoded; only read by the checks. */
export interface FederationSecretView {
  name: string
  data: Record<string, string>
}

export interface SideObservation {
  context: string
  namespace: string
  /** The chart's names for the release (federation secret, server StatefulSet, ...). */
  names: ChartNames
  /** null: the secret does not exist. */
  secret: Probe<FederationSecretView | null>
  consul: ConsulView
  /** The ProxyDefaults resource in this cluster (read from Kubernetes). */
  proxyDefaultsResource?: Probe<ProxyDefaultsResourceView>
}

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface Check {
  /** Stable identifier, e.g. "wan-members:dc1:dc2". */
  id: string
  /** What is checked, phrased as the expectation ("dc1 sees dc2 in the WAN pool"). */
  title: string
  status: CheckStatus
  /** What was found. */
  detail: string
  /** For warn/fail: the likely cause. */
  cause?: string
  /** For warn/fail: what to do next. */
  next?: string
  /** The kube context whose view this is; absent for checks across contexts. */
  context?: string
}

export interface SideSummary {
  context: string
  namespace: string
  datacenter?: string
  via: 'exec' | 'http'
  source: string
}

export interface VerifyReport {
  /** True when no check failed (warnings allowed). */
  ok: boolean
  primaryDatacenter?: string
  datacenters: string[]
  sides: SideSummary[]
  checks: Check[]
  summary: {ok: number; warn: number; fail: number}
  /** How many rounds ran (more than one with --wait). */
  attempts: number
  /** verify --pre: the context and datacenter of the secondary about to be installed. */
  pre?: {context: string; datacenter: string}
}
