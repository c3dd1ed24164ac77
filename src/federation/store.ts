/**
 * Where federation material lives: Kubernetes secrets in one context and namespace, or (for
 * GitOps, with no cluster at all) Secret manifests in a directory. Both behind SecretStore so
 * planning does not care which. Also the few other reads federation needs from a cluster:
 * the mesh gateway Service and its pods' nodes, the chart's replication token, the API
 * server's default/kubernetes endpoints.
 */
import {join} from 'node:path'
import {stringify} from 'yaml'

import type {V1EndpointSlice, V1Endpoints, V1Node, V1Pod, V1Secret, V1Service} from '@kubernetes/client-node'

import type {KubeCluster} from '../kube/client.js'
import {displayPath, readOptionalText, writeFileAtomic} from '../shared/files.js'
import {gatewaysFromService, type GatewayDiscovery} from './gateways.js'
import {apiEndpoints, type ApiEndpoint} from './k8s-auth-host.js'
import type {ChartNames} from './names.js'
import {parseSecretManifest, secretFromObject, type SecretManifest, type SecretObject} from './secret.js'
import {CONSULK8S_LABEL} from '../shared/labels.js'

export interface StoredSecret extends SecretObject {
  resourceVersion?: string
}

export interface SecretStore {
  /** Human description: `context "dc1", namespace consul` or `directory ./federation/secrets`. */
  readonly where: string
  get(name: string): Promise<StoredSecret | undefined>
  /** Create, or replace `existing` (labels and annotations of the existing object are kept). */
  put(manifest: SecretManifest, existing?: StoredSecret): Promise<void>
}

export function manifestYaml(manifest: object): string {
  return stringify(manifest, {lineWidth: 0})
}

/** Secret manifests in a directory, one `<name>.yaml` each, mode 0600. */
export class DirSecretStore implements SecretStore {
  constructor(
    readonly dir: string,
    readonly namespace: string,
  ) {}

  get where(): string {
    return `directory ${displayPath(this.dir)}`
  }

  path(name: string): string {
    return join(this.dir, `${name}.yaml`)
  }

  async get(name: string): Promise<StoredSecret | undefined> {
    const text = await readOptionalText(this.path(name))
    return text === undefined ? undefined : parseSecretManifest(text, this.path(name))
  }

  async put(manifest: SecretManifest): Promise<void> {
    await writeFileAtomic(
      this.path(manifest.metadata.name),
      manifestYaml({...manifest, metadata: {...manifest.metadata, namespace: this.namespace}}),
      0o600,
    )
  }
}

/** Secrets in one namespace of one kube context. */
export class KubeSecretStore implements SecretStore {
  constructor(
    readonly cluster: KubeCluster,
    readonly namespace: string,
  ) {}

  get where(): string {
    return `context "${this.cluster.name}", namespace ${this.namespace}`
  }

  async get(name: string): Promise<StoredSecret | undefined> {
    const secret = await this.cluster.getOptional<V1Secret>(`read secret ${this.namespace}/${name}`, {
      resource: 'secrets',
      namespace: this.namespace,
      name,
    })
    if (!secret) return undefined
    return {...secretFromObject({...secret, kind: 'Secret'}, `secret ${this.namespace}/${name}`), resourceVersion: secret.metadata?.resourceVersion}
  }

  async put(manifest: SecretManifest, existing?: StoredSecret): Promise<void> {
    const name = manifest.metadata.name
    const metadata = {
      ...manifest.metadata,
      namespace: this.namespace,
      labels: {...existing?.labels, ...manifest.metadata.labels},
      annotations: {...existing?.annotations, ...manifest.metadata.annotations},
      ...(existing?.resourceVersion ? {resourceVersion: existing.resourceVersion} : {}),
    }
    const body = {...manifest, metadata}
    const ref = {resource: 'secrets', namespace: this.namespace, name}
    if (existing) await this.cluster.replace(`update secret ${this.namespace}/${name}`, ref, body)
    else await this.cluster.create(`create secret ${this.namespace}/${name}`, ref, body)
  }
}

export async function createNamespace(cluster: KubeCluster, namespace: string): Promise<void> {
  await cluster.create(`create namespace ${namespace}`, {resource: 'namespaces'}, {metadata: {name: namespace, labels: {...CONSULK8S_LABEL}}})
}

/** The primary's mesh gateway addresses from its Service (and, for NodePort, its pods' nodes). */
export async function discoverGateways(cluster: KubeCluster, namespace: string, names: ChartNames): Promise<GatewayDiscovery> {
  const service = await cluster.getOptional<V1Service>(`read service ${namespace}/${names.meshGatewayService}`, {
    resource: 'services',
    namespace,
    name: names.meshGatewayService,
  })
  if (!service || service.spec?.type !== 'NodePort') return gatewaysFromService(service, {}, `Service ${namespace}/${names.meshGatewayService}`)
  const selector = Object.entries(service.spec.selector ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
  const pods = selector
    ? await cluster.list<V1Pod>(`list mesh gateway pods in ${namespace}`, {resource: 'pods', namespace}, {labelSelector: selector})
    : []
  const running = pods.filter((pod) => pod.spec?.nodeName && !pod.metadata?.deletionTimestamp)
  const nodeNames = [...new Set(running.map((pod) => pod.spec!.nodeName!))]
  const nodes = []
  for (const name of nodeNames) {
    const node = await cluster.getOptional<V1Node>(`read node ${name}`, {resource: 'nodes', name})
    if (node) nodes.push(node)
  }
  return gatewaysFromService(service, {pods: running, nodes})
}

/** The replication token the chart's server-acl-init stored, if the primary is installed. */
export async function readChartReplicationToken(store: SecretStore, names: ChartNames): Promise<string | undefined> {
  const secret = await store.get(names.replicationTokenSecret)
  const token = secret?.data.token?.trim()
  return token || undefined
}

/** The API server addresses in default/kubernetes (Endpoints, else EndpointSlices). */
export async function readApiEndpoints(cluster: KubeCluster): Promise<ApiEndpoint[]> {
  const endpoints = await cluster.getOptional<V1Endpoints>('read endpoints default/kubernetes', {
    resource: 'endpoints',
    namespace: 'default',
    name: 'kubernetes',
  })
  const found = apiEndpoints(endpoints)
  if (found.length > 0) return found
  const slices = await cluster.list<V1EndpointSlice>(
    'list endpointslices of default/kubernetes',
    {group: 'discovery.k8s.io', resource: 'endpointslices', namespace: 'default'},
    {labelSelector: 'kubernetes.io/service-name=kubernetes'},
  )
  return apiEndpoints(undefined, slices)
}
