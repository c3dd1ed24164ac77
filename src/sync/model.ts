/**
 * The data model of catalog sync: slim, plain views of the Kubernetes and Consul objects
 * the planner reads (so it can be tested with literals and keeps memory low at thousands of
 * services), the options users set, and the names every part of the engine agrees on.
 */
import type {CatalogServiceInstance, HealthCheck} from '../consul/catalog.js'

export const ANNOTATION = {
  sync: 'consul.hashicorp.com/service-sync',
  name: 'consul.hashicorp.com/service-name',
  port: 'consul.hashicorp.com/service-port',
  tags: 'consul.hashicorp.com/service-tags',
  weight: 'consul.hashicorp.com/service-weight',
  metaPrefix: 'consul.hashicorp.com/service-meta-',
  /** Set on ExternalName services made from Consul services (seed doc). */
  synced: 'consul.hashicorp.com/synced',
  /** Names the engine (its Consul node name) that created a Kubernetes Service. */
  owner: 'consulk8s/sync-node',
} as const

export const META = {
  source: 'external-source',
  sourceValue: 'kubernetes',
  namespace: 'external-k8s-ns',
  refKind: 'external-k8s-ref-kind',
  refName: 'external-k8s-ref-name',
  nodeName: 'external-k8s-node-name',
  zone: 'external-k8s-topology-zone',
  /** Ownership marker on every registration the engine makes: the engine's node name. */
  owner: 'k8s-sync-node',
} as const

export const CHECK = {
  type: 'kubernetes-readiness',
  name: 'Kubernetes Readiness Check',
  passing: 'Kubernetes health checks passing',
  failing: 'Kubernetes health checks failing',
} as const

export type NodePortSyncType = 'ExternalOnly' | 'ExternalFirst' | 'InternalOnly'
export const NODE_PORT_SYNC_TYPES: readonly NodePortSyncType[] = ['ExternalOnly', 'ExternalFirst', 'InternalOnly']

export interface SyncOptions {
  toConsul: boolean
  toK8s: boolean
  /** Sync services without a service-sync annotation (consul-k8s -k8s-default-sync). */
  defaultSync: boolean
  syncClusterIPServices: boolean
  /**
   * LoadBalancer services are registered with their endpoints (one instance per endpoint, on the
   * endpoint port, with the readiness check) instead of their load balancer addresses
   * (consul-k8s -sync-lb-services-endpoints).
   */
  syncLoadBalancerEndpoints: boolean
  /** Namespaces to sync from; '*' means all. */
  allowNamespaces: string[]
  /** Namespaces never synced from; wins over the allow list. */
  denyNamespaces: string[]
  consulServicePrefix: string
  k8sServicePrefix: string
  addK8sNamespaceSuffix: boolean
  /** Consul node the engine registers on, and its ownership marker. */
  consulNodeName: string
  /** Namespace the ExternalName services from Consul are written to. */
  k8sWriteNamespace: string
  nodePortSyncType: NodePortSyncType
  consulDomain: string
  /** Tag on every registration from Kubernetes; Consul services with it are not synced back. */
  consulK8sTag: string
  /**
   * Take over what consul-k8s's sync-catalog left: registrations on the engine's node tagged
   * consulK8sTag with external-source=kubernetes and no marker, and Services in the write
   * namespace labelled consul=true with no marker (updated in place and marked, or removed).
   */
  adopt: boolean
}

export const DEFAULT_OPTIONS: SyncOptions = {
  toConsul: true,
  toK8s: true,
  defaultSync: true,
  syncClusterIPServices: true,
  syncLoadBalancerEndpoints: false,
  allowNamespaces: ['*'],
  denyNamespaces: ['kube-system', 'kube-public'],
  consulServicePrefix: '',
  k8sServicePrefix: '',
  addK8sNamespaceSuffix: false,
  consulNodeName: 'k8s-sync',
  k8sWriteNamespace: 'default',
  nodePortSyncType: 'ExternalFirst',
  consulDomain: 'consul',
  consulK8sTag: 'k8s',
  adopt: false,
}

// ---- Kubernetes side (slim views) ----

export interface ServicePort {
  name?: string
  port: number
  nodePort?: number
}

export interface K8sService {
  namespace: string
  name: string
  /** ClusterIP, NodePort, LoadBalancer or ExternalName. */
  type: string
  annotations: Record<string, string>
  labels: Record<string, string>
  ports: ServicePort[]
  externalIPs: string[]
  loadBalancerIngress: Array<{ip?: string; hostname?: string}>
  externalName?: string
  resourceVersion?: string
}

export interface K8sEndpoint {
  addresses: string[]
  /** conditions.ready; undefined (unknown) counts as ready, as the EndpointSlice API says. */
  ready?: boolean
  nodeName?: string
  zone?: string
  hostname?: string
  targetRef?: {kind?: string; name?: string}
}

export interface K8sEndpointSlice {
  namespace: string
  name: string
  /** Label kubernetes.io/service-name. */
  serviceName: string
  ports: Array<{name?: string; port?: number}>
  endpoints: K8sEndpoint[]
}

export interface K8sNode {
  name: string
  addresses: Array<{type: string; address: string}>
}

export interface K8sState {
  services: K8sService[]
  endpointSlices: K8sEndpointSlice[]
  nodes: K8sNode[]
}

// ---- Consul side ----

/** A service instance in the catalog (what the plan writes and compares). */
export type ConsulService = Omit<CatalogServiceInstance, 'CreateIndex'>

export type ConsulCheck = Omit<HealthCheck, 'Node' | 'ServiceName'>

/**
 * One Consul node other than the engine's own that holds registrations of an earlier consulk8s
 * (which put NodePort instances on nodes named after Kubernetes nodes): read only so they are removed.
 */
export interface ConsulNodeState {
  node: string
  exists: boolean
  /** Node meta; the engine's marker (k8s-sync-node) says the engine created the node entry. */
  meta: Record<string, string>
  modifyIndex?: number
  services: ConsulService[]
  checks: ConsulCheck[]
}

export interface ConsulState {
  /** Whether the engine's node is registered at all. */
  nodeExists: boolean
  /** Every service instance on the engine's node (ours and anybody else's). */
  nodeServices: ConsulService[]
  /** Every check on the engine's node. */
  nodeChecks: ConsulCheck[]
  /** /v1/catalog/services: name -> tags of all its instances. */
  catalogServices: Record<string, string[]>
  /**
   * Other nodes that hold registrations with the engine's marker (left by an earlier consulk8s
   * that registered NodePort instances on nodes named after Kubernetes nodes), to be removed.
   */
  otherNodes?: ConsulNodeState[]
}

// ---- Plan ----

/** Something synced with a fallback (consul-k8s behaviour), said once; does not change the exit code. */
export interface Warning {
  /** ns/name of the Kubernetes service. */
  source: string
  message: string
}

/**
 * A Kubernetes service skipped for a malformed annotation: its registrations already in Consul
 * (same namespace, one of these Consul names) are kept as they are until it is fixed.
 */
export interface Held {
  namespace: string
  names: string[]
}

/** Something the engine could not sync, with the reason; makes a --once run exit 2. */
export interface Skip {
  /** ns/name of the Kubernetes service, or consul:<name> for a Consul service. */
  source: string
  reason: string
  kind: 'invalid' | 'conflict'
}

export interface DesiredCheck {
  CheckID: string
  Name: string
  Type: string
  Status: 'passing' | 'critical'
  Output: string
}

export interface Registration {
  /** ns/name of the Kubernetes service it comes from. Always registered on the engine's node. */
  source: string
  service: ConsulService
  check?: DesiredCheck
}

export interface RegistrationUpdate {
  desired: Registration
  current: ConsulService
  currentCheck?: ConsulCheck
  /** What differs: service fields and/or the check. */
  changes: string[]
  /** Only the check differs: no service write needed. */
  checkOnly: boolean
}

export interface Removal {
  /** Consul node the registration is on; absent: the engine's node. */
  node?: string
  id: string
  service: string
  modifyIndex?: number
}

export interface ToConsulPlan {
  node: string
  registerNode: boolean
  add: Registration[]
  update: RegistrationUpdate[]
  remove: Removal[]
  /** Node entries an earlier consulk8s created (marker in node meta) that have no services left. */
  removeNodes: Array<{node: string; modifyIndex?: number}>
  unchanged: number
  skipped: Skip[]
  /** Kubernetes services selected for sync (after namespace, type and annotation filters). */
  selected: number
  /** Selected services that have no instance yet (no endpoints, no load balancer address). */
  pending: string[]
  warnings: Warning[]
  /** Registrations kept because their service has a malformed annotation. */
  kept: number
}

export interface ExternalNameService {
  name: string
  namespace: string
  externalName: string
  consulService: string
}

export interface ExternalNameUpdate {
  desired: ExternalNameService
  resourceVersion?: string
  changes: string[]
}

export interface ToK8sPlan {
  namespace: string
  add: ExternalNameService[]
  update: ExternalNameUpdate[]
  remove: Array<{name: string; namespace: string; resourceVersion?: string}>
  unchanged: number
  skipped: Skip[]
}

export interface SyncPlan {
  toConsul?: ToConsulPlan
  toK8s?: ToK8sPlan
}
