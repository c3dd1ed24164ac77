/**
 * One reconcile pass of the sync engine: read both sides completely, plan in memory, apply
 * (unless --dry-run), and describe what happened as plain data. Used as is by
 * `consulk8s sync --once` and, from watch caches, by every pass of the continuous mode.
 */
import {catalogNodes, catalogServices, checksMatching, filterString, nodeChecks, nodeServices} from '../consul/catalog.js'
import {describeConsulError, type ConsulClient} from '../consul/client.js'
import {applyToConsul} from './apply-consul.js'
import type {KubeApi} from '../kube/http.js'
import {applyToK8s} from './apply-k8s.js'
import {readK8sState} from './read-k8s.js'
import {
  CHECK,
  META,
  type ConsulNodeState,
  type ConsulState,
  type K8sState,
  type Registration,
  type Skip,
  type SyncOptions,
  type SyncPlan,
  type Warning,
} from './model.js'
import {planSync} from './plan.js'
import {isTransientConsulError, pool, retry} from './retry.js'

export interface EngineContext {
  kube: KubeApi
  consul: ConsulClient
  options: SyncOptions
  /** Transactions / Kubernetes writes in flight at once. */
  concurrency: number
  batchSize?: number
  /** Aborted on Ctrl-C: no new write starts, writes in flight finish. */
  signal?: AbortSignal
  /** Progress and retry messages for the terminal. */
  onProgress?: (message: string) => void
}

/**
 * The complete Consul state the plan needs, or an error (never a partial state): the
 * engine's node (every registration lives there), and every other node that may still hold
 * registrations with its marker from an earlier consulk8s, which put NodePort instances on
 * nodes named after Kubernetes nodes: the nodes it created (its marker in node meta) and the
 * nodes with a Kubernetes readiness check (every such instance had one). Those are removed.
 */
export async function readConsulState(client: ConsulClient, options: SyncOptions, signal?: AbortSignal, concurrency = 8): Promise<ConsulState> {
  const read = <T>(what: string, fn: () => Promise<T>) =>
    retry(fn, {attempts: 4, retryable: isTransientConsulError, signal}).catch((error) => {
      throw describeConsulError(error, what)
    })
  const node = options.consulNodeName
  const [services, checks, catalog, otherNodes] = await Promise.all([
    options.toConsul ? read(`read the services of node "${node}"`, () => nodeServices(client, node)) : undefined,
    options.toConsul ? read(`read the checks of node "${node}"`, () => nodeChecks(client, node)) : undefined,
    options.toK8s ? read('list the catalog services', () => catalogServices(client)) : undefined,
    options.toConsul ? readOtherNodes(client, options, read, concurrency, signal) : undefined,
  ])
  return {
    nodeExists: Boolean(services?.data.node),
    nodeServices: services?.data.services ?? [],
    nodeChecks: checks?.data ?? [],
    catalogServices: catalog?.data ?? {},
    otherNodes,
  }
}

async function readOtherNodes(
  client: ConsulClient,
  options: SyncOptions,
  read: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
  concurrency: number,
  signal?: AbortSignal,
): Promise<ConsulNodeState[]> {
  const own = options.consulNodeName
  const [created, withChecks] = await Promise.all([
    read('list the Consul nodes created by this engine', () => catalogNodes(client, {[META.owner]: own})),
    read('list the Kubernetes readiness checks', () =>
      checksMatching(client, `Name == ${filterString(CHECK.name)} and Node != ${filterString(own)}`),
    ),
  ])
  const names = new Set<string>()
  for (const entry of created.data) names.add(entry.Node)
  for (const check of withChecks.data) names.add(check.Node)
  names.delete(own)
  const states: ConsulNodeState[] = []
  const {notStarted} = await pool(
    [...names].sort(),
    concurrency,
    async (name) => {
      const [services, checks] = await Promise.all([
        read(`read the services of node "${name}"`, () => nodeServices(client, name)),
        read(`read the checks of node "${name}"`, () => nodeChecks(client, name)),
      ])
      const entry = services.data.node
      states.push({
        node: name,
        exists: Boolean(entry),
        meta: entry?.Meta ?? {},
        modifyIndex: entry?.ModifyIndex,
        services: services.data.services,
        checks: checks.data,
      })
    },
    signal,
  )
  // A read cut short is not a complete state: nothing may be planned (or removed) from it.
  if (notStarted.length > 0) throw new Error('the Consul read was interrupted')
  return states.sort((a, b) => a.node.localeCompare(b.node))
}

export interface RegistrationView {
  /** Consul node the instance is registered on. */
  node: string
  id: string
  service: string
  source: string
  address: string
  port: number
  tags: string[]
  meta: Record<string, string>
  check?: string
}

export interface Failure {
  side: 'consul' | 'kubernetes'
  item: string
  reason: string
}

export interface SyncResult {
  dryRun: boolean
  durationMs: number
  toConsul?: {
    node: string
    selected: number
    add: RegistrationView[]
    update: Array<RegistrationView & {changes: string[]}>
    remove: Array<{id: string; service: string; node: string}>
    /** Node entries the engine created for Kubernetes nodes, now empty, to deregister. */
    removeNodes: string[]
    unchanged: number
    /** Registrations kept as they are because their service has a malformed annotation. */
    kept: number
    pending: string[]
    applied?: {added: number; updated: number; removed: number; nodesRemoved: number}
  }
  toK8s?: {
    namespace: string
    add: Array<{name: string; externalName: string; consulService: string}>
    update: Array<{name: string; externalName: string; consulService: string; changes: string[]}>
    remove: Array<{name: string}>
    unchanged: number
    applied?: {added: number; updated: number; removed: number}
  }
  /** Services not synced: malformed annotations and conflicts with objects the engine does not own. */
  skipped: Skip[]
  /** Services synced with a fallback (unknown service-port name, bad service-weight); exit code unchanged. */
  warnings: Warning[]
  /** Writes that failed (after retries). */
  failures: Failure[]
  /** Why removals were held back, per side. */
  removalsSkipped: string[]
  /** Ctrl-C arrived: in-flight writes finished, the rest was not started. */
  interrupted: boolean
  /** With --from-release: every setting, its value and where it came from (flag, release, default). */
  settings?: Array<{flag: string; value: string; from: string}>
  writeCalls: {consul: number; kubernetes: number}
}

function view(registration: Registration, ownNode: string): RegistrationView {
  const s = registration.service
  return {
    node: ownNode,
    id: s.ID,
    service: s.Service,
    source: registration.source,
    address: s.Address,
    port: s.Port,
    tags: s.Tags ?? [],
    meta: s.Meta ?? {},
    check: registration.check?.Status,
  }
}

/** The plan as data (the --dry-run / --json shape). */
export function describePlan(plan: SyncPlan, dryRun: boolean): SyncResult {
  const c = plan.toConsul
  const k = plan.toK8s
  return {
    dryRun,
    durationMs: 0,
    toConsul: c && {
      node: c.node,
      selected: c.selected,
      add: c.add.map((r) => view(r, c.node)),
      update: c.update.map((u) => ({...view(u.desired, c.node), changes: u.changes})),
      remove: c.remove.map((r) => ({id: r.id, service: r.service, node: r.node ?? c.node})),
      removeNodes: c.removeNodes.map((r) => r.node),
      unchanged: c.unchanged,
      kept: c.kept,
      pending: c.pending,
    },
    toK8s: k && {
      namespace: k.namespace,
      add: k.add.map(({name, externalName, consulService}) => ({name, externalName, consulService})),
      update: k.update.map((u) => ({
        name: u.desired.name,
        externalName: u.desired.externalName,
        consulService: u.desired.consulService,
        changes: u.changes,
      })),
      remove: k.remove.map(({name}) => ({name})),
      unchanged: k.unchanged,
    },
    skipped: [...(c?.skipped ?? []), ...(k?.skipped ?? [])],
    warnings: c?.warnings ?? [],
    failures: [],
    removalsSkipped: [],
    interrupted: false,
    writeCalls: {consul: 0, kubernetes: 0},
  }
}

/** 0: in sync; 2: done, but something was skipped; 1: something failed; 130: interrupted (Ctrl-C). */
export function exitCodeOf(result: SyncResult): number {
  if (result.interrupted) return 130
  if (result.failures.length > 0 || result.removalsSkipped.length > 0) return 1
  return result.skipped.length > 0 ? 2 : 0
}

export interface ReconcileOptions {
  dryRun: boolean
  /** Kubernetes state from watch caches; read fresh when absent. */
  k8sState?: K8sState
}

/** Read, plan and (unless dry-run) apply once. */
export async function reconcile(ctx: EngineContext, run: ReconcileOptions): Promise<SyncResult> {
  const started = performance.now()
  const {options} = ctx
  const k8sRead = run.k8sState ? Promise.resolve(run.k8sState) : readK8sState(ctx.kube, options, ctx.signal)
  const [k8s, consul] = await Promise.all([k8sRead, readConsulState(ctx.consul, options, ctx.signal)])
  const plan = planSync(k8s, consul, options)
  const result = describePlan(plan, run.dryRun)
  if (!run.dryRun) {
    // Both reads above were complete (they throw otherwise), so removals may run.
    const [toConsul, toK8s] = await Promise.all([
      plan.toConsul &&
        applyToConsul(ctx.consul, plan.toConsul, {
          concurrency: ctx.concurrency,
          batchSize: ctx.batchSize,
          signal: ctx.signal,
          allowRemovals: true,
          onRetry: ctx.onProgress,
        }),
      plan.toK8s &&
        applyToK8s(ctx.kube, plan.toK8s, {
          sync: options,
          concurrency: ctx.concurrency,
          signal: ctx.signal,
          allowRemovals: true,
          onRetry: ctx.onProgress,
        }),
    ])
    if (toConsul && result.toConsul) {
      result.toConsul.applied = {added: toConsul.added, updated: toConsul.updated, removed: toConsul.removed, nodesRemoved: toConsul.nodesRemoved}
      result.writeCalls.consul = toConsul.calls
      for (const failure of toConsul.failed)
        result.failures.push({side: 'consul', item: `${failure.kind} ${failure.id} (${failure.source})`, reason: failure.reason})
      if (toConsul.removalsSkipped) result.removalsSkipped.push(`Consul: ${toConsul.removalsSkipped}`)
      if (toConsul.notStarted > 0) result.interrupted = true
    }
    if (toK8s && result.toK8s) {
      result.toK8s.applied = {added: toK8s.added, updated: toK8s.updated, removed: toK8s.removed}
      result.writeCalls.kubernetes = toK8s.calls
      for (const failure of toK8s.failed) {
        result.failures.push({
          side: 'kubernetes',
          item: failure.item ?? `${failure.kind} ${plan.toK8s?.namespace}/${failure.name}`,
          reason: failure.reason,
        })
      }
      for (const conflict of toK8s.conflicts)
        result.skipped.push({source: `${plan.toK8s?.namespace}/${conflict.name}`, reason: conflict.reason, kind: 'conflict'})
      if (toK8s.removalsSkipped) result.removalsSkipped.push(`Kubernetes: ${toK8s.removalsSkipped}`)
      if (toK8s.notStarted > 0) result.interrupted = true
    }
    if (ctx.signal?.aborted) result.interrupted = true
  }
  result.durationMs = Math.round(performance.now() - started)
  return result
}
