/**
 * Applying the Consul -> Kubernetes half of a plan: ExternalName Services created, replaced
 * and deleted with bounded concurrency. Updates and deletes are preconditioned on the
 * resourceVersion that was read; on a conflict the object is read again and touched only if
 * it still carries the engine's marker, so a Service someone else made or changed in the
 * meantime is never overwritten or deleted. Removals run only after every write succeeded.
 */
import {isConflict, isNotFound} from '../kube/errors.js'
import type {KubeApi} from '../kube/http.js'
import {kubePath} from '../kube/paths.js'
import {errorMessage} from '../shared/errors.js'
import {ANNOTATION, type ExternalNameService, type K8sService, type SyncOptions, type ToK8sPlan} from './model.js'
import {ownsK8sService} from './plan.js'
import {slimService} from './read-k8s.js'
import {isTransientKubeError, pool, retry} from './retry.js'
import {CONSULK8S, MANAGED_BY_LABEL, SYNC_SERVICE_LABEL} from '../shared/labels.js'

export function externalNameManifest(service: ExternalNameService, options: Pick<SyncOptions, 'consulNodeName'>, resourceVersion?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: service.name,
      namespace: service.namespace,
      resourceVersion,
      labels: {[SYNC_SERVICE_LABEL]: 'true', [MANAGED_BY_LABEL]: CONSULK8S},
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

export interface K8sApplyOptions {
  sync: SyncOptions
  concurrency: number
  signal?: AbortSignal
  allowRemovals: boolean
  removalsBlockedReason?: string
  onRetry?: (message: string) => void
}

/** What every step of one apply shares: the API, the plan, the options and the running tally. */
interface ApplyContext {
  api: KubeApi
  plan: ToK8sPlan
  options: K8sApplyOptions
  result: K8sApplyResult
}

type Outcome = 'done' | 'conflict'

type Step = {kind: 'add' | 'update' | 'remove'; name: string; run: () => Promise<Outcome>}

/** Optimistic-concurrency attempts per object before giving up on it. */
const CONFLICT_ATTEMPTS = 5

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

const servicePath = (namespace: string, name?: string) => kubePath({resource: 'services', namespace, name})

/** One API call, retried on transient failures; every attempt counts as a write call. */
function call<T>(ctx: ApplyContext, fn: () => Promise<T>): Promise<T> {
  return retry(
    () => {
      ctx.result.calls++
      return fn()
    },
    {
      attempts: 5,
      retryable: isTransientKubeError,
      signal: ctx.options.signal,
      onRetry: (e, a, d) => ctx.options.onRetry?.(`Kubernetes write failed (${kubeReason(e)}); retry ${a} in ${d} ms`),
    },
  )
}

/** The Service as it is now and whether the engine owns it; undefined when it is gone. */
async function readOwned(ctx: ApplyContext, name: string, namespace: string): Promise<{current: K8sService; owned: boolean} | undefined> {
  try {
    const current = slimService(await call(ctx, () => ctx.api.request('GET', servicePath(namespace, name))))
    return {current, owned: ownsK8sService(current, ctx.options.sync)}
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/**
 * Only a definite 404 counts as missing: reading namespaces is a cluster-scoped permission
 * a namespace-bound engine may lack, and then the creates themselves tell.
 */
function namespaceExists(ctx: ApplyContext, namespace: string): Promise<boolean> {
  return call(ctx, () => ctx.api.request('GET', kubePath({resource: 'namespaces', name: namespace}))).then(
    () => true,
    (error) => !isNotFound(error),
  )
}

/** Replace the Service at `resourceVersion`; on a conflict, again at the current version while the engine still owns it. */
async function replaceService(ctx: ApplyContext, service: ExternalNameService, resourceVersion: string | undefined): Promise<Outcome> {
  for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt++) {
    try {
      const body = externalNameManifest(service, ctx.options.sync, resourceVersion)
      await call(ctx, () => ctx.api.request('PUT', servicePath(service.namespace, service.name), {body}))
      return 'done'
    } catch (error) {
      if (!isConflict(error)) throw error
      const again = await readOwned(ctx, service.name, service.namespace)
      if (!again?.owned) return 'conflict'
      resourceVersion = again.current.resourceVersion
    }
  }
  throw new Error('kept conflicting with concurrent updates')
}

async function addService(ctx: ApplyContext, service: ExternalNameService): Promise<Outcome> {
  try {
    await call(ctx, () => ctx.api.request('POST', servicePath(service.namespace), {body: externalNameManifest(service, ctx.options.sync)}))
    return 'done'
  } catch (error) {
    if (!isConflict(error)) throw error
    // Created meanwhile (by us in an earlier pass, or by someone else).
    const again = await readOwned(ctx, service.name, service.namespace)
    if (!again?.owned) return 'conflict'
    if (again.current.type === 'ExternalName' && again.current.externalName === service.externalName) return 'done'
    return replaceService(ctx, service, again.current.resourceVersion)
  }
}

/** Delete the Service at the version read; gone already counts as done, someone else's is a conflict. */
async function removeService(ctx: ApplyContext, removal: ToK8sPlan['remove'][number]): Promise<Outcome> {
  let resourceVersion = removal.resourceVersion
  for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt++) {
    try {
      const body = {apiVersion: 'v1', kind: 'DeleteOptions', preconditions: {resourceVersion}}
      await call(ctx, () => ctx.api.request('DELETE', servicePath(removal.namespace, removal.name), {body}))
      return 'done'
    } catch (error) {
      if (isNotFound(error)) return 'done'
      if (!isConflict(error)) throw error
      const again = await readOwned(ctx, removal.name, removal.namespace)
      if (!again) return 'done'
      if (!again.owned) return 'conflict'
      resourceVersion = again.current.resourceVersion
    }
  }
  throw new Error('kept conflicting with concurrent updates')
}

/** Run the steps with bounded concurrency, tallying each outcome; an interrupt leaves the rest not started. */
async function runSteps(ctx: ApplyContext, steps: Step[]): Promise<void> {
  const {plan, options, result} = ctx
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

/**
 * Apply the Consul -> Kubernetes plan: adds and updates first, then, only if every one of
 * them succeeded and nothing interrupted the run, the removals.
 */
export async function applyToK8s(api: KubeApi, plan: ToK8sPlan, options: K8sApplyOptions): Promise<K8sApplyResult> {
  const result: K8sApplyResult = {calls: 0, added: 0, updated: 0, removed: 0, failed: [], conflicts: [], notStarted: 0}
  const ctx: ApplyContext = {api, plan, options, result}
  if (plan.add.length > 0 && !(await namespaceExists(ctx, plan.namespace))) {
    // One clear failure instead of one per service.
    const count = `${plan.add.length} ExternalName service${plan.add.length === 1 ? '' : 's'}`
    result.failed.push({name: '', item: `add ${count}`, kind: 'add', reason: `namespace "${plan.namespace}" does not exist (--k8s-write-namespace)`})
    return result
  }
  await runSteps(ctx, [
    ...plan.add.map((service) => ({kind: 'add' as const, name: service.name, run: () => addService(ctx, service)})),
    ...plan.update.map((update) => ({
      kind: 'update' as const,
      name: update.desired.name,
      run: () => replaceService(ctx, update.desired, update.resourceVersion),
    })),
  ])
  if (plan.remove.length === 0) return result
  if (!options.allowRemovals) result.removalsSkipped = options.removalsBlockedReason ?? 'removals are not allowed in this run'
  else if (options.signal?.aborted) result.removalsSkipped = 'the run was interrupted'
  else if (result.failed.length > 0 || result.notStarted > 0) result.removalsSkipped = 'some writes failed; nothing is removed until they succeed'
  if (!result.removalsSkipped) {
    await runSteps(
      ctx,
      plan.remove.map((removal) => ({kind: 'remove' as const, name: removal.name, run: () => removeService(ctx, removal)})),
    )
  }
  return result
}
