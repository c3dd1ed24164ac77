/**
 * The Kubernetes side of sync: complete (paginated) reads of Services, EndpointSlices and
 * Nodes, turned into the slim views the planner uses, and the writes of ExternalName
 * services. A read either returns everything or throws: a partial list is never planned on.
 */
import {describeKubeError, isConflict, isNotFound} from '../kube/errors.js'
import {kubePath, type ResourceRef} from '../kube/paths.js'
import {errorMessage} from '../shared/errors.js'
import {
  ANNOTATION,
  CONSUL_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type ExternalNameService,
  type K8sEndpointSlice,
  type K8sNode,
  type K8sService,
  type K8sState,
  type SyncOptions,
  type ToK8sPlan,
} from './model.js'
import type {KubeApi} from '../kube/http.js'
import {isTransientKubeError, pool, retry} from './retry.js'
import {ownsK8sService} from './plan.js'
import {selectService} from './to-consul.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any

const KEEP_ANNOTATION = /^(consul\.hashicorp\.com\/|consulk8s\/)/
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

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
    labels: pick(obj.metadata?.labels, (key) => key === CONSUL_LABEL || key === MANAGED_BY_LABEL),
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

// ---- writes: ExternalName services from Consul ----

export function externalNameManifest(service: ExternalNameService, options: Pick<SyncOptions, 'consulNodeName'>, resourceVersion?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: service.name,
      namespace: service.namespace,
      resourceVersion,
      labels: {[CONSUL_LABEL]: 'true', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE},
      annotations: {
        [ANNOTATION.synced]: 'true',
        // Never sync it back to Consul.
        [ANNOTATION.sync]: 'false',
        [ANNOTATION.owner]: options.consulNodeName,
      },
    },
    spec: {type: 'ExternalName', externalName: service.externalName},
  }
}

export interface K8sFailure {
  name: string
  /** What failed, when it is not one named object. */
  item?: string
  kind: 'add' | 'update' | 'remove'
  reason: string
}

export interface K8sApplyResult {
  calls: number
  added: number
  updated: number
  removed: number
  failed: K8sFailure[]
  conflicts: K8sFailure[]
  notStarted: number
  removalsSkipped?: string
}

function kubeReason(error: unknown): string {
  const body = (error as {body?: unknown}).body
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body
    if ((parsed as {message?: string})?.message) return (parsed as {message: string}).message
  } catch {
    // fall through
  }
  return errorMessage(error)
}

type Step = {kind: 'add' | 'update' | 'remove'; name: string; run: () => Promise<'done' | 'conflict'>}

/**
 * Apply the Consul -> Kubernetes plan with bounded concurrency. Updates and deletes are
 * preconditioned on the resourceVersion that was read; on a conflict the object is read
 * again and touched only if it still carries the engine's marker.
 */
export async function applyToK8s(
  api: KubeApi,
  plan: ToK8sPlan,
  options: {
    sync: SyncOptions
    concurrency: number
    signal?: AbortSignal
    allowRemovals: boolean
    removalsBlockedReason?: string
    onRetry?: (message: string) => void
  },
): Promise<K8sApplyResult> {
  const servicePath = (namespace: string, name?: string) => kubePath({resource: 'services', namespace, name})
  const result: K8sApplyResult = {calls: 0, added: 0, updated: 0, removed: 0, failed: [], conflicts: [], notStarted: 0}
  const call = <T>(fn: () => Promise<T>) =>
    retry(
      () => {
        result.calls++
        return fn()
      },
      {
        attempts: 5,
        retryable: isTransientKubeError,
        signal: options.signal,
        onRetry: (e, a, d) => options.onRetry?.(`Kubernetes write failed (${kubeReason(e)}); retry ${a} in ${d} ms`),
      },
    )
  const readOwned = async (name: string, namespace: string) => {
    try {
      const current = slimService(await call(() => api.request('GET', servicePath(namespace, name))))
      return {current, owned: ownsK8sService(current, options.sync)}
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }
  const replace = async (service: ExternalNameService, resourceVersion: string | undefined): Promise<'done' | 'conflict'> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await call(() =>
          api.request('PUT', servicePath(service.namespace, service.name), {body: externalNameManifest(service, options.sync, resourceVersion)}),
        )
        return 'done'
      } catch (error) {
        if (!isConflict(error)) throw error
        const again = await readOwned(service.name, service.namespace)
        if (!again?.owned) return 'conflict'
        resourceVersion = again.current.resourceVersion
      }
    }
    throw new Error('kept conflicting with concurrent updates')
  }

  // Only a definite 404 counts as missing: reading namespaces is a cluster-scoped permission
  // a namespace-bound engine may lack, and then the creates themselves tell.
  const namespaceExists = (namespace: string) =>
    call(() => api.request('GET', kubePath({resource: 'namespaces', name: namespace}))).then(
      () => true,
      (error) => !isNotFound(error),
    )

  const writes: Step[] = [
    ...plan.add.map((service) => ({
      kind: 'add' as const,
      name: service.name,
      run: async () => {
        try {
          await call(() => api.request('POST', servicePath(service.namespace), {body: externalNameManifest(service, options.sync)}))
          return 'done' as const
        } catch (error) {
          if (!isConflict(error)) throw error
          // Created meanwhile (by us in an earlier pass, or by someone else).
          const again = await readOwned(service.name, service.namespace)
          if (!again?.owned) return 'conflict' as const
          if (again.current.type === 'ExternalName' && again.current.externalName === service.externalName) return 'done' as const
          return replace(service, again.current.resourceVersion)
        }
      },
    })),
    ...plan.update.map((update) => ({
      kind: 'update' as const,
      name: update.desired.name,
      run: () => replace(update.desired, update.resourceVersion),
    })),
  ]
  const removals: Step[] = plan.remove.map((removal) => ({
    kind: 'remove' as const,
    name: removal.name,
    run: async () => {
      let resourceVersion = removal.resourceVersion
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await call(() =>
            api.request('DELETE', servicePath(removal.namespace, removal.name), {
              body: {apiVersion: 'v1', kind: 'DeleteOptions', preconditions: {resourceVersion}},
            }),
          )
          return 'done' as const
        } catch (error) {
          if (isNotFound(error)) return 'done' as const
          if (!isConflict(error)) throw error
          const again = await readOwned(removal.name, removal.namespace)
          if (!again) return 'done' as const
          if (!again.owned) return 'conflict' as const
          resourceVersion = again.current.resourceVersion
        }
      }
      throw new Error('kept conflicting with concurrent updates')
    },
  }))

  const runSteps = async (steps: Step[]) => {
    const {notStarted} = await pool(
      steps,
      options.concurrency,
      async (step) => {
        try {
          const outcome = await step.run()
          if (outcome === 'conflict') {
            result.conflicts.push({
              name: step.name,
              kind: step.kind,
              reason: `${plan.namespace}/${step.name} is no longer owned by this engine; left alone`,
            })
          } else if (step.kind === 'add') result.added++
          else if (step.kind === 'update') result.updated++
          else result.removed++
        } catch (error) {
          result.failed.push({name: step.name, kind: step.kind, reason: kubeReason(error)})
        }
      },
      options.signal,
    )
    result.notStarted += notStarted.length
  }

  if (plan.add.length > 0 && !(await namespaceExists(plan.namespace))) {
    // One clear failure instead of one per service.
    const count = `${plan.add.length} ExternalName service${plan.add.length === 1 ? '' : 's'}`
    result.failed.push({name: '', item: `add ${count}`, kind: 'add', reason: `namespace "${plan.namespace}" does not exist (--k8s-write-namespace)`})
    return result
  }
  await runSteps(writes)
  if (removals.length === 0) return result
  if (!options.allowRemovals) result.removalsSkipped = options.removalsBlockedReason ?? 'removals are not allowed in this run'
  else if (options.signal?.aborted) result.removalsSkipped = 'the run was interrupted'
  else if (result.failed.length > 0 || result.notStarted > 0) result.removalsSkipped = 'some writes failed; nothing is removed until they succeed'
  if (!result.removalsSkipped) await runSteps(removals)
  return result
}
