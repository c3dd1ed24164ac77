/**
 * Kubernetes objects for the sync benchmark and the sync integration tests: namespaces,
 * selector-less Services with their own EndpointSlices (so it works with or without a
 * kube-controller-manager), LoadBalancer status, and bulk creation with bounded concurrency.
 */
import type {TestCluster as KubeCluster} from './kube.js'
import {isConflict, isNotFound} from '../../src/kube/client.js'
import {pool, retry} from '../../src/sync/retry.js'

export interface ServiceSpec {
  name: string
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer'
  ports?: Array<{name: string; port: number; nodePort?: number}>
  annotations?: Record<string, string>
  externalIPs?: string[]
}

export interface EndpointSpec {
  ip: string
  ready?: boolean
  nodeName?: string
  zone?: string
  /** The Pod the endpoint belongs to (targetRef). */
  pod?: string
}

export async function createNamespace(cluster: KubeCluster, name: string): Promise<void> {
  try {
    await cluster.core().createNamespace({body: {metadata: {name}}})
  } catch (error) {
    if (!isConflict(error)) throw error
  }
}

/** Delete a namespace (and, first, its Services and EndpointSlices, in case the namespace never finishes terminating). */
export async function deleteNamespace(cluster: KubeCluster, name: string): Promise<void> {
  const ignoreMissing = (error: unknown) => {
    if (!isNotFound(error)) throw error
  }
  await cluster.discovery().deleteCollectionNamespacedEndpointSlice({namespace: name}).catch(ignoreMissing)
  const services = await cluster
    .core()
    .listNamespacedService({namespace: name})
    .catch(() => ({items: []}))
  await pool(services.items, 8, async (service) => {
    await cluster.core().deleteNamespacedService({name: service.metadata!.name!, namespace: name}).catch(ignoreMissing)
  })
  await cluster.core().deleteNamespace({name}).catch(ignoreMissing)
}

export async function createService(cluster: KubeCluster, namespace: string, spec: ServiceSpec): Promise<void> {
  await cluster.core().createNamespacedService({
    namespace,
    body: {
      metadata: {name: spec.name, annotations: spec.annotations},
      spec: {
        type: spec.type ?? 'ClusterIP',
        ports: (spec.ports ?? [{name: 'http', port: 80}]).map((p) => ({...p, protocol: 'TCP'})),
        externalIPs: spec.externalIPs,
      },
    },
  })
}

export async function createEndpointSlice(
  cluster: KubeCluster,
  namespace: string,
  service: string,
  endpoints: EndpointSpec[],
  ports: Array<{name: string; port: number}> = [{name: 'http', port: 8080}],
): Promise<void> {
  await cluster.discovery().createNamespacedEndpointSlice({
    namespace,
    body: {
      metadata: {name: `${service}-manual`, labels: {'kubernetes.io/service-name': service}},
      addressType: 'IPv4',
      ports: ports.map((p) => ({...p, protocol: 'TCP'})),
      endpoints: endpoints.map((e) => ({
        addresses: [e.ip],
        conditions: {ready: e.ready ?? true},
        nodeName: e.nodeName,
        zone: e.zone,
        targetRef: e.pod ? {kind: 'Pod', name: e.pod, namespace} : undefined,
      })),
    },
  })
}

/** What a cloud controller would do: give a LoadBalancer Service its ingress addresses. */
export async function setLoadBalancerIngress(cluster: KubeCluster, namespace: string, name: string, ips: string[]): Promise<void> {
  const core = cluster.core()
  await retry(
    async () => {
      const current = await core.readNamespacedService({name, namespace})
      current.status = {...current.status, loadBalancer: {ingress: ips.map((ip) => ({ip}))}}
      await core.replaceNamespacedServiceStatus({name, namespace, body: current})
    },
    {attempts: 5, retryable: isConflict},
  )
}

/** The endpoint address of service number `index` (10.128.0.0/9, unique up to 8M). */
export function endpointAddress(index: number): string {
  return `10.${128 + ((index >> 16) & 127)}.${(index >> 8) & 255}.${index & 255}`
}

/** N ClusterIP services `<prefix><i>`, each with one ready endpoint, created `concurrency` at a time. */
export async function createServices(
  cluster: KubeCluster,
  namespace: string,
  count: number,
  options: {prefix?: string; concurrency?: number; onProgress?: (done: number) => void} = {},
): Promise<string[]> {
  const prefix = options.prefix ?? 'svc-'
  const names = Array.from({length: count}, (_, index) => `${prefix}${index}`)
  let done = 0
  await pool(names, options.concurrency ?? 16, async (name, index) => {
    await retry(() =>
      createService(cluster, namespace, {name}).catch((error) => {
        if (!isConflict(error)) throw error
      }),
    )
    await retry(() =>
      createEndpointSlice(cluster, namespace, name, [{ip: endpointAddress(index)}]).catch((error) => {
        if (!isConflict(error)) throw error
      }),
    )
    if (++done % 250 === 0) options.onProgress?.(done)
  })
  return names
}
