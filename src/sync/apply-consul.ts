/**
 * Applying the Kubernetes -> Consul half of a plan: registrations become transaction
 * operations, grouped per instance (its service and its check always travel in the same
 * transaction), packed into transactions of at most 64 operations and sent with bounded
 * concurrency. Writes are compare-and-set against what was read: an add only creates, an
 * update or removal only touches the exact registration the plan saw, so a registration
 * someone else made in the meantime is never overwritten or deleted.
 */
import {ConsulApiError, describeConsulError, type ConsulClient} from '../consul/client.js'
import {nodeServices, registerNode} from '../consul/catalog.js'
import {applyTxn, TXN_MAX_OPS, type TxnOp} from '../consul/txn.js'
import {errorMessage} from '../shared/errors.js'
import {META, type Registration, type ToConsulPlan} from './model.js'
import {isTransientConsulError, pool, retry} from './retry.js'

export interface OpGroup {
  /** The service ID the group writes. */
  id: string
  /** ns/name of the Kubernetes service, or the Consul service name for a removal. */
  source: string
  kind: 'add' | 'update' | 'remove'
  ops: TxnOp[]
}

function serviceBody(registration: Registration, modifyIndex: number) {
  const {ID, Service, Tags, Address, Port, Meta, Weights} = registration.service
  // Always explicit, so removing a service-weight annotation puts Consul's default back.
  return {ID, Service, Tags, Address, Port, Meta, Weights: Weights ?? {Passing: 1, Warning: 1}, ModifyIndex: modifyIndex}
}

function checkOp(node: string, registration: Registration): TxnOp[] {
  const check = registration.check
  if (!check) return []
  return [
    {
      Check: {
        Verb: 'set',
        Check: {Node: node, ...check, ServiceID: registration.service.ID, ServiceName: registration.service.Service},
      },
    },
  ]
}

/** Adds and updates as operation groups, in plan order. */
export function writeGroups(plan: ToConsulPlan): OpGroup[] {
  const groups: OpGroup[] = []
  const node = plan.node
  for (const registration of plan.add) {
    groups.push({
      id: registration.service.ID,
      source: registration.source,
      kind: 'add',
      // cas with index 0: create only; fails if the ID appeared since the read.
      ops: [{Service: {Verb: 'cas', Node: node, Service: serviceBody(registration, 0)}}, ...checkOp(node, registration)],
    })
  }
  for (const update of plan.update) {
    const registration = update.desired
    const ops: TxnOp[] = []
    if (!update.checkOnly) {
      ops.push({Service: {Verb: 'cas', Node: node, Service: serviceBody(registration, update.current.ModifyIndex ?? 0)}})
    }
    if (registration.check) ops.push(...checkOp(node, registration))
    else if (update.currentCheck) ops.push({Check: {Verb: 'delete', Check: {Node: node, CheckID: update.currentCheck.CheckID}}})
    groups.push({id: registration.service.ID, source: registration.source, kind: 'update', ops})
  }
  return groups
}

/** Removals as operation groups (deleting a service also deletes its checks). */
export function removalGroups(plan: ToConsulPlan): OpGroup[] {
  return plan.remove.map((removal) => ({
    id: removal.id,
    source: removal.service,
    kind: 'remove' as const,
    ops: [
      {
        Service: {
          Verb: removal.modifyIndex ? ('delete-cas' as const) : ('delete' as const),
          Node: removal.node ?? plan.node,
          // Consul wants the service name along with the ID, even to delete.
          Service: {ID: removal.id, Service: removal.service, ModifyIndex: removal.modifyIndex},
        },
      },
    ],
  }))
}

/** Pack groups into transactions of at most `maxOps` operations without splitting a group. */
export function packBatches(groups: OpGroup[], maxOps = TXN_MAX_OPS): OpGroup[][] {
  const batches: OpGroup[][] = []
  let current: OpGroup[] = []
  let size = 0
  for (const group of groups) {
    if (size + group.ops.length > maxOps && current.length > 0) {
      batches.push(current)
      current = []
      size = 0
    }
    current.push(group)
    size += group.ops.length
  }
  if (current.length > 0) batches.push(current)
  return batches
}

export interface ApplyOptions {
  concurrency: number
  batchSize?: number
  signal?: AbortSignal
  /** Attempts per transaction on 429/5xx/unreachable. */
  attempts?: number
  onRetry?: (message: string) => void
  onBatch?: (done: number, total: number) => void
}

export interface GroupFailure {
  id: string
  source: string
  kind: OpGroup['kind']
  reason: string
}

export interface ApplyOutcome {
  /** Transactions sent (each retry counts). */
  calls: number
  applied: OpGroup[]
  failed: GroupFailure[]
  /** Groups never sent because the run was interrupted. */
  notStarted: OpGroup[]
}

function isFatal(error: unknown): boolean {
  return error instanceof ConsulApiError && (error.status === 401 || error.status === 403)
}

/** Send groups as transactions; a rolled-back transaction is resubmitted without the failing groups. */
export async function applyGroups(client: ConsulClient, groups: OpGroup[], options: ApplyOptions): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = {calls: 0, applied: [], failed: [], notStarted: []}
  const batches = packBatches(groups, options.batchSize ?? TXN_MAX_OPS)
  let done = 0
  const sendBatch = async (batch: OpGroup[]) => {
    let pending = batch
    while (pending.length > 0) {
      const ops = pending.flatMap((group) => group.ops)
      let result
      try {
        result = await retry(
          () => {
            outcome.calls++
            return applyTxn(client, ops)
          },
          {
            attempts: options.attempts ?? 6,
            signal: options.signal,
            retryable: isTransientConsulError,
            onRetry: (error, attempt, delay) => options.onRetry?.(`Consul write failed (${errorMessage(error)}); retry ${attempt} in ${delay} ms`),
          },
        )
      } catch (error) {
        if (isFatal(error)) throw describeConsulError(error, 'write the catalog (/v1/txn)')
        for (const group of pending) outcome.failed.push({id: group.id, source: group.source, kind: group.kind, reason: errorMessage(error)})
        return
      }
      if (result.ok) {
        outcome.applied.push(...pending)
        return
      }
      // Map each failed operation back to its group and resubmit the others.
      const owners: number[] = []
      pending.forEach((group, index) => group.ops.forEach(() => owners.push(index)))
      const bad = new Map<number, string>()
      for (const error of result.errors) {
        const index = owners[error.OpIndex]
        if (index !== undefined && !bad.has(index)) bad.set(index, error.What)
      }
      if (bad.size === 0) {
        const what = result.errors.map((error) => error.What).join('; ')
        for (const group of pending) outcome.failed.push({id: group.id, source: group.source, kind: group.kind, reason: what})
        return
      }
      for (const [index, what] of bad) {
        const group = pending[index]
        outcome.failed.push({id: group.id, source: group.source, kind: group.kind, reason: explainTxnError(what)})
      }
      pending = pending.filter((_, index) => !bad.has(index))
    }
  }
  const {notStarted} = await pool(
    batches,
    options.concurrency,
    async (batch) => {
      await sendBatch(batch)
      options.onBatch?.(++done, batches.length)
    },
    options.signal,
  )
  outcome.notStarted = notStarted.flat()
  return outcome
}

function explainTxnError(what: string): string {
  if (/index is stale|failed to set service|failed to delete service/i.test(what)) {
    return `changed in Consul since it was read (${what}); left alone, the next run re-plans it`
  }
  return what
}

export interface ConsulApplyResult {
  calls: number
  added: number
  updated: number
  removed: number
  failed: GroupFailure[]
  notStarted: number
  /** Node entries the engine had created for Kubernetes nodes, deregistered as empty. */
  nodesRemoved: number
  /** Why the removal phase did not run, if it did not. */
  removalsSkipped?: string
}

/**
 * Apply the Kubernetes -> Consul plan: make sure the node exists, write adds and updates,
 * then, only if every one of those succeeded and nothing interrupted the run, the removals.
 */
export async function applyToConsul(
  client: ConsulClient,
  plan: ToConsulPlan,
  options: ApplyOptions & {allowRemovals: boolean; removalsBlockedReason?: string},
): Promise<ConsulApplyResult> {
  const result: ConsulApplyResult = {calls: 0, added: 0, updated: 0, removed: 0, nodesRemoved: 0, failed: [], notStarted: 0}
  const writes = writeGroups(plan)
  if (plan.registerNode && writes.some((group) => group.kind === 'add')) {
    await retry(
      () => {
        result.calls++
        return registerNode(client, {Node: plan.node, Address: '127.0.0.1', NodeMeta: {[META.source]: META.sourceValue}})
      },
      {signal: options.signal, retryable: isTransientConsulError},
    ).catch((error) => {
      throw describeConsulError(error, `register the sync node "${plan.node}"`)
    })
  }
  const tally = (outcome: ApplyOutcome) => {
    result.calls += outcome.calls
    result.failed.push(...outcome.failed)
    result.notStarted += outcome.notStarted.length
    for (const group of outcome.applied) {
      if (group.kind === 'add') result.added++
      else if (group.kind === 'update') result.updated++
      else result.removed++
    }
  }
  tally(await applyGroups(client, writes, options))
  if (plan.remove.length === 0 && plan.removeNodes.length === 0) return result
  if (!options.allowRemovals) result.removalsSkipped = options.removalsBlockedReason ?? 'removals are not allowed in this run'
  else if (options.signal?.aborted) result.removalsSkipped = 'the run was interrupted'
  else if (result.failed.length > 0 || result.notStarted > 0)
    result.removalsSkipped = 'some registrations failed; nothing is removed until they succeed'
  if (result.removalsSkipped) return result
  tally(await applyGroups(client, removalGroups(plan), options))
  if (result.failed.length > 0 || result.notStarted > 0 || options.signal?.aborted) return result
  await removeEmptyNodes(client, plan, options, result)
  return result
}

/**
 * Deregister the node entries an earlier consulk8s created (for NodePort instances) that the plan found empty, re-reading each
 * first: only if it still carries the engine's marker and has no service at all (someone may
 * have registered one since), and only the node version just read (delete-cas).
 */
async function removeEmptyNodes(client: ConsulClient, plan: ToConsulPlan, options: ApplyOptions, result: ConsulApplyResult): Promise<void> {
  await pool(
    plan.removeNodes,
    options.concurrency,
    async ({node}) => {
      try {
        result.calls++
        const {data} = await nodeServices(client, node)
        if (!data.node || data.node.Meta?.[META.owner] !== plan.node || data.services.length > 0) return
        result.calls++
        const outcome = await applyTxn(client, [{Node: {Verb: 'delete-cas', Node: {Node: node, ModifyIndex: data.node.ModifyIndex ?? 0}}}])
        if (outcome.ok) result.nodesRemoved++
        else
          result.failed.push({
            id: node,
            source: `node ${node}`,
            kind: 'remove',
            reason: explainTxnError(outcome.errors.map((e) => e.What).join('; ')),
          })
      } catch (error) {
        if (isFatal(error)) throw describeConsulError(error, `deregister the Consul node "${node}"`)
        result.failed.push({id: node, source: `node ${node}`, kind: 'remove', reason: errorMessage(error)})
      }
    },
    options.signal,
  )
}
