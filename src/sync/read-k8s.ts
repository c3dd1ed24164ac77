/**
 * Reading the Kubernetes side of sync: complete (paginated) reads of Services,
 * EndpointSlices and Nodes, turned into the slim views the planner uses (the watch caches of
 * the continuous mode use the same views). A read either returns everything or throws: a
 * partial list is never planned on.
 */
import {describeKubeError} from '../kube/errors.js'
import type {KubeApi} from '../kube/http.js'
import {kubePath, type ResourceRef} from '../kube/paths.js'
import {type K8sEndpointSlice, type K8sNode, type K8sService, type K8sState, type SyncOptions} from './model.js'
import {isTransientKubeError, retry} from './retry.js'
import {selectService} from './to-consul.js'
import {MANAGED_BY_LABEL, SYNC_SERVICE_LABEL} from '../shared/labels.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any

const KEEP_ANNOTATION = /^(consul\.hashicorp\.com\/|consulk8s\/)/
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

/** EndpointSlices of one namespace, or of all. */
export const ENDPOINT_SLICES = (namespace?: string): ResourceRef => ({group: 'discovery.k8s.io', resource: 'endpointslices', namespace})

function pick(source: Record<string, string> | undefined, keep: (key: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(source ?? {})) if (keep(key)) out[key] = value
  return out
}

/** A Service (API object or watch event JSON) as the planner sees it; only the annotations sync reads are kept. */
export function slimService(obj: Obj): K8sService {
  const spec = obj.spec ?? {}
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    type: spec.type ?? 'ClusterIP',
    annotations: pick(obj.metadata?.annotations, (key) => KEEP_ANNOTATION.test(key)),
    labels: pick(obj.metadata?.labels, (key) => key === SYNC_SERVICE_LABEL || key === MANAGED_BY_LABEL),
    ports: (spec.ports ?? []).map((p: Obj) => ({
      name: p.name || undefined,
      port: Number(p.port),
      nodePort: p.nodePort ? Number(p.nodePort) : undefined,
    })),
    externalIPs: [...(spec.externalIPs ?? [])],
    loadBalancerIngress: (obj.status?.loadBalancer?.ingress ?? []).map((i: Obj) => ({ip: i.ip || undefined, hostname: i.hostname || undefined})),
    externalName: spec.externalName || undefined,
    resourceVersion: obj.metadata?.resourceVersion,
  }
}

export function slimEndpointSlice(obj: Obj): K8sEndpointSlice {
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    serviceName: obj.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '',
    ports: (obj.ports ?? []).map((p: Obj) => ({
      name: p.name || undefined,
      port: p.port === undefined || p.port === null ? undefined : Number(p.port),
    })),
    endpoints: (obj.endpoints ?? []).map((e: Obj) => ({
      addresses: [...(e.addresses ?? [])],
      ready: e.conditions?.ready ?? undefined,
      nodeName: e.nodeName || undefined,
      zone: e.zone || undefined,
      hostname: e.hostname || undefined,
      targetRef: e.targetRef ? {kind: e.targetRef.kind, name: e.targetRef.name} : undefined,
    })),
  }
}

export function slimNode(obj: Obj): K8sNode {
  return {
    name: obj.metadata?.name ?? '',
    addresses: (obj.status?.addresses ?? []).map((a: Obj) => ({type: a.type, address: a.address})),
  }
}

/** Which namespaces to read: undefined means all (one cluster-wide list). */
export interface ReadScope {
  /** Namespaces whose Services are read. */
  serviceNamespaces?: string[]
  /** Namespaces whose EndpointSlices are read; [] when Kubernetes -> Consul is off. */
  sliceNamespaces?: string[]
}

export function readScope(options: SyncOptions): ReadScope {
  if (options.allowNamespaces.includes('*')) {
    return options.toConsul ? {} : {serviceNamespaces: [options.k8sWriteNamespace], sliceNamespaces: []}
  }
  const allowed = options.allowNamespaces.filter((ns) => !options.denyNamespaces.includes(ns))
  const serviceNamespaces = new Set(options.toConsul ? allowed : [])
  if (options.toK8s) serviceNamespaces.add(options.k8sWriteNamespace)
  return {serviceNamespaces: [...serviceNamespaces], sliceNamespaces: options.toConsul ? allowed : []}
}

export interface ListPage {
  items: Obj[]
  continue?: string
  resourceVersion?: string
}

const PAGE = 500

/**
 * Read a whole list page by page (one consistent snapshot). An expired continue token (410)
 * restarts the list; any other failure throws, so nothing is planned on half a list.
 */
export async function listAll<T>(
  fetchPage: (cont: string | undefined) => Promise<ListPage>,
  convert: (obj: Obj) => T,
  signal?: AbortSignal,
): Promise<{items: T[]; resourceVersion?: string}> {
  for (let restart = 0; ; restart++) {
    const items: T[] = []
    let cont: string | undefined
    let resourceVersion: string | undefined
    try {
      do {
        const page = await retry(() => fetchPage(cont), {attempts: 4, retryable: isTransientKubeError, signal})
        for (const item of page.items) items.push(convert(item))
        cont = page.continue || undefined
        resourceVersion = page.resourceVersion
      } while (cont)
      return {items, resourceVersion}
    } catch (error) {
      if ((error as {code?: unknown}).code === 410 && restart < 3) continue
      throw error
    }
  }
}

/** One list page, parsed straight from JSON (no typed models: a fraction of the time and memory). */
function pager(api: KubeApi): (path: string, query: Record<string, string | number | undefined>) => Promise<ListPage> {
  return async (path, query) => {
    const list = await api.request<Obj>('GET', path, {query})
    return {items: list?.items ?? [], continue: list?.metadata?.continue, resourceVersion: list?.metadata?.resourceVersion}
  }
}

export function listServices(cluster: KubeApi, namespace: string | undefined, signal?: AbortSignal) {
  const get = pager(cluster)
  return listAll((cont) => get(kubePath({resource: 'services', namespace}), {limit: PAGE, continue: cont}), slimService, signal)
}

export function listEndpointSlices(cluster: KubeApi, namespace: string | undefined, signal?: AbortSignal) {
  const get = pager(cluster)
  const path = kubePath(ENDPOINT_SLICES(namespace))
  return listAll((cont) => get(path, {limit: PAGE, continue: cont, labelSelector: SERVICE_NAME_LABEL}), slimEndpointSlice, signal)
}

export function listNodes(cluster: KubeApi, signal?: AbortSignal) {
  const get = pager(cluster)
  return listAll((cont) => get(kubePath({resource: 'nodes'}), {limit: PAGE, continue: cont}), slimNode, signal)
}

async function inScope<T>(namespaces: string[] | undefined, list: (ns: string | undefined) => Promise<{items: T[]}>): Promise<T[]> {
  if (namespaces === undefined) return (await list(undefined)).items
  const lists = await Promise.all(namespaces.map((ns) => list(ns)))
  return lists.flatMap((l) => l.items)
}

export function needsNodes(services: K8sService[], options: SyncOptions): boolean {
  return options.toConsul && services.some((s) => s.type === 'NodePort' && s.externalIPs.length === 0 && selectService(s, options).selected)
}

/** Run a read, turning failures into one readable error naming the context. */
async function reading<T>(api: KubeApi, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw describeKubeError(error, what, api)
  }
}

/** The complete Kubernetes state sync needs, or an error: never a partial one. */
export async function readK8sState(api: KubeApi, options: SyncOptions, signal?: AbortSignal): Promise<K8sState> {
  const scope = readScope(options)
  const [services, endpointSlices] = await Promise.all([
    reading(api, 'list Services', () => inScope(scope.serviceNamespaces, (ns) => listServices(api, ns, signal))),
    reading(api, 'list EndpointSlices', () =>
      scope.sliceNamespaces?.length === 0 ? Promise.resolve([]) : inScope(scope.sliceNamespaces, (ns) => listEndpointSlices(api, ns, signal)),
    ),
  ])
  const nodes = needsNodes(services, options) ? await reading(api, 'list Nodes', async () => (await listNodes(api, signal)).items) : []
  return {services, endpointSlices, nodes}
}
