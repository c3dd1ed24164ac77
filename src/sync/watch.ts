/**
 * Continuous mode: Kubernetes list+watch caches and Consul blocking queries feed a trigger;
 * changes are coalesced (a quiet period, bounded by a maximum delay) into one reconcile
 * pass planned from the caches and a fresh Consul read. A pass starts only when every cache
 * has completed its initial list, so nothing is removed on a half-known state. Ctrl-C stops
 * the watches, lets the writes in flight finish and returns.
 */
import {catalogServices, nodeServices} from '../consul/catalog.js'
import type {ConsulClient} from '../consul/client.js'
import {errorMessage} from '../shared/errors.js'
import {reconcile, type EngineContext, type SyncResult} from './engine.js'
import type {KubeApi} from '../kube/http.js'
import {kubePath} from '../kube/paths.js'
import {
  ENDPOINT_SLICES,
  listEndpointSlices,
  listNodes,
  listServices,
  needsNodes,
  readScope,
  SERVICE_NAME_LABEL,
  slimEndpointSlice,
  slimNode,
  slimService,
  type ReadScope,
} from './read-k8s.js'
import type {K8sEndpointSlice, K8sNode, K8sService, K8sState, SyncOptions} from './model.js'
import {backoffDelay, sleep} from './retry.js'

/** A wake-up flag: set() any number of times, wait() resolves once it is set (or aborted). */
export class Trigger {
  private pending = false
  private waiter?: () => void
  lastSet = 0

  set(): void {
    this.pending = true
    this.lastSet = Date.now()
    this.waiter?.()
  }

  async wait(signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    if (this.pending || signal?.aborted) return
    await new Promise<void>((resolve) => {
      const done = () => {
        this.waiter = undefined
        if (timer) clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs)
      this.waiter = done
      signal?.addEventListener('abort', done, {once: true})
    })
  }

  take(): boolean {
    const was = this.pending
    this.pending = false
    return was
  }
}

/** Wait until no change arrived for `quietMs`, but no longer than `maxMs` after the first one. */
export async function coalesce(trigger: Trigger, quietMs: number, maxMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + maxMs
  for (;;) {
    const now = Date.now()
    const quietUntil = trigger.lastSet + quietMs
    if (now >= quietUntil || now >= deadline || signal?.aborted) return
    await sleep(Math.min(quietUntil, deadline) - now, signal)
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any

interface CacheSpec<T> {
  what: string
  path: string
  params?: Record<string, string>
  list: () => Promise<{items: T[]; resourceVersion?: string}>
  convert: (obj: Obj) => T
  key: (item: T) => string
}

/** One Kubernetes resource kept current by list + watch; relists when the watch expires (410). */
export class WatchCache<T> {
  private readonly items = new Map<string, T>()
  synced = false

  constructor(
    private readonly api: KubeApi,
    private readonly spec: CacheSpec<T>,
    private readonly onChange: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  values(): T[] {
    return [...this.items.values()]
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    let resourceVersion: string | undefined
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const listed = await this.spec.list()
          this.items.clear()
          for (const item of listed.items) this.items.set(this.spec.key(item), item)
          resourceVersion = listed.resourceVersion
          this.synced = true
          this.onChange()
        }
        const outcome = await this.watch(resourceVersion, signal, (rv) => {
          resourceVersion = rv
          failures = 0
        })
        if (outcome === 'expired') resourceVersion = undefined
      } catch (error) {
        failures++
        this.onError(`watch of ${this.spec.what} failed (${errorMessage(error)}); retrying`)
        if ((error as {code?: number}).code === 410) resourceVersion = undefined
        await sleep(backoffDelay(Math.min(failures, 6), 500, 15_000), signal)
      }
    }
  }

  private async watch(resourceVersion: string | undefined, signal: AbortSignal, progress: (rv: string) => void): Promise<'closed' | 'expired'> {
    let expired = false
    let failure: string | undefined
    const started = Date.now()
    const local = new AbortController()
    const stop = () => local.abort()
    signal.addEventListener('abort', stop, {once: true})
    try {
      await this.api.watch(
        this.spec.path,
        // The server ends a watch after this many seconds; it is then resumed from the last version.
        {...this.spec.params, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 240 + Math.floor(Math.random() * 120)},
        ({type, object}) => {
          if (type === 'ERROR') {
            if (object?.code === 410) expired = true
            else failure = `${object?.code ?? ''} ${object?.message ?? 'watch error'}`.trim()
            local.abort()
            return
          }
          const rv = object?.metadata?.resourceVersion
          if (type === 'BOOKMARK') {
            if (rv) progress(rv)
            return
          }
          const item = this.spec.convert(object)
          if (type === 'DELETED') this.items.delete(this.spec.key(item))
          else this.items.set(this.spec.key(item), item)
          if (rv) progress(rv)
          this.onChange()
        },
        local.signal,
      )
    } finally {
      signal.removeEventListener('abort', stop)
    }
    if (failure) throw new Error(failure)
    // A watch the server ends at once, again and again, must not spin.
    if (!expired && Date.now() - started < 1000) await sleep(1000, signal)
    return expired ? 'expired' : 'closed'
  }
}

const keyOf = (item: {namespace?: string; name: string}) => `${item.namespace ?? ''}/${item.name}`

export interface ContinuousOptions {
  quietMs?: number
  maxDelayMs?: number
  /** Full pass even without changes, to repair drift nobody announced. */
  resyncMs?: number
  onPass: (result: SyncResult) => void
  onWarning: (message: string) => void
  onStatus?: (message: string) => void
}

/** What the watches of one continuous run share. */
interface Watching {
  signal: AbortSignal
  /** Something changed: a pass is due. */
  change: () => void
  /** A warning, shown once until a pass succeeds. */
  warn: (message: string) => void
  /** Every watch started, to wait for at the end. */
  running: Array<Promise<void>>
}

/** One list+watch cache per namespace read (one cluster-wide when all are), started at once. */
function watchKubernetes(kube: KubeApi, scope: ReadScope, watching: Watching) {
  const start = <T>(spec: CacheSpec<T>) => {
    const cache = new WatchCache<T>(kube, spec, watching.change, watching.warn)
    watching.running.push(cache.run(watching.signal))
    return cache
  }
  const services = (scope.serviceNamespaces ?? [undefined]).map((ns) =>
    start<K8sService>({
      what: `Services${ns ? ` in ${ns}` : ''}`,
      path: kubePath({resource: 'services', namespace: ns}),
      list: () => listServices(kube, ns),
      convert: slimService,
      key: keyOf,
    }),
  )
  const slices =
    scope.sliceNamespaces?.length === 0
      ? []
      : (scope.sliceNamespaces ?? [undefined]).map((ns) =>
          start<K8sEndpointSlice>({
            what: `EndpointSlices${ns ? ` in ${ns}` : ''}`,
            path: kubePath(ENDPOINT_SLICES(ns)),
            params: {labelSelector: SERVICE_NAME_LABEL},
            list: () => listEndpointSlices(kube, ns),
            convert: slimEndpointSlice,
            key: keyOf,
          }),
        )
  /** Nodes are watched only once a NodePort service needs their addresses. */
  const nodes = () => start<K8sNode>({what: 'Nodes', path: kubePath({resource: 'nodes'}), list: () => listNodes(kube), convert: slimNode, key: keyOf})
  return {services, slices, nodes}
}

/** A Consul blocking query kept running as a trigger: a change of its index calls for a pass (which reads fresh). */
async function blockingQuery(what: string, query: (index?: string) => Promise<{index?: string}>, watching: Watching): Promise<void> {
  const {signal, change, warn} = watching
  let index: string | undefined
  let failures = 0
  while (!signal.aborted) {
    try {
      const answer = await query(index)
      failures = 0
      if (index !== undefined && answer.index !== index) change()
      index = answer.index
    } catch (error) {
      if (signal.aborted) return
      failures++
      warn(`Consul watch of ${what} failed (${errorMessage(error)}); retrying`)
      index = undefined
      await sleep(backoffDelay(Math.min(failures, 6), 500, 15_000), signal)
      change()
    }
  }
}

/** Consul: blocking queries on what the plan reads, as triggers. */
function watchConsul(consul: ConsulClient, sync: SyncOptions, watching: Watching): void {
  const blockingTimeout = {wait: '55s', timeoutMs: 70_000}
  if (sync.toConsul) {
    const node = sync.consulNodeName
    watching.running.push(blockingQuery(`node ${node}`, async (index) => nodeServices(consul, node, {index, ...blockingTimeout}), watching))
  }
  if (sync.toK8s) watching.running.push(blockingQuery('the catalog', async (index) => catalogServices(consul, {index, ...blockingTimeout}), watching))
}

/** Run until ctx.signal aborts. Returns the number of passes and the last result. */
export async function runContinuous(ctx: EngineContext, options: ContinuousOptions): Promise<{passes: number; last?: SyncResult}> {
  const signal = ctx.signal ?? new AbortController().signal
  const {options: sync, kube, consul} = ctx
  const trigger = new Trigger()
  const warnOnce = new Set<string>()
  const watching: Watching = {
    signal,
    change: () => trigger.set(),
    warn: (message) => {
      if (warnOnce.has(message)) return
      warnOnce.add(message)
      options.onWarning(message)
    },
    running: [],
  }
  const {change} = watching
  const caches = watchKubernetes(kube, readScope(sync), watching)
  const {services, slices} = caches
  let nodes: WatchCache<K8sNode> | undefined
  watchConsul(consul, sync, watching)

  const quietMs = options.quietMs ?? 1000
  const maxDelayMs = options.maxDelayMs ?? 5000
  const resyncMs = options.resyncMs ?? 300_000
  let passes = 0
  let last: SyncResult | undefined
  let failures = 0
  trigger.set()
  while (!signal.aborted) {
    await trigger.wait(signal, resyncMs)
    if (signal.aborted) break
    await coalesce(trigger, quietMs, maxDelayMs, signal)
    if (signal.aborted) break
    trigger.take()
    const unsynced = [...services, ...slices, ...(nodes ? [nodes] : [])].filter((cache) => !cache.synced)
    if (unsynced.length > 0) {
      options.onStatus?.('waiting for the initial Kubernetes lists')
      continue // each cache triggers when its list completes
    }
    const serviceItems = services.flatMap((cache) => cache.values())
    if (!nodes && needsNodes(serviceItems, sync)) {
      nodes = caches.nodes()
      continue
    }
    const state: K8sState = {services: serviceItems, endpointSlices: slices.flatMap((cache) => cache.values()), nodes: nodes?.values() ?? []}
    try {
      last = await reconcile(ctx, {dryRun: false, k8sState: state})
      passes++
      failures = 0
      warnOnce.clear()
      options.onPass(last)
      if (last.failures.length > 0) setTimeout(change, backoffDelay(1, 2000, 2000)).unref()
    } catch (error) {
      failures++
      const delay = backoffDelay(Math.min(failures, 6), 1000, 30_000)
      options.onWarning(`${errorMessage(error)} (next attempt in ${Math.round(delay / 1000)} s)`)
      await sleep(delay, signal)
      change()
    }
  }
  consul.close()
  await Promise.allSettled(watching.running)
  return {passes, last}
}
