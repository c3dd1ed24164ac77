/**
 * One verification round (observe every side in parallel, then evaluate), and --wait:
 * repeat rounds until every check passes or the timeout ends, reporting after each failed
 * round what is still awaited.
 */
import {pollUntil} from '../shared/poll.js'
import {formatDuration} from '../shared/duration.js'
import {UserError} from '../shared/errors.js'
import {evaluate, federationFacts} from './checks.js'
import {addRemoteViews, connectSide, observeSide, type SideConnection, type SideTarget} from './gather.js'
import type {Check, VerifyReport} from './types.js'

export interface VerifyOptions {
  targets: SideTarget[]
  kubeconfig?: string
  /** Datacenters that must be in the federation even if no context runs them. */
  expectDatacenters?: string[]
  wait?: boolean
  timeoutMs?: number
  intervalMs?: number
  /** Per request / exec timeout. */
  requestTimeoutMs?: number
  caWarnDays?: number
  /** Called after each failed round that will be retried. */
  onWaiting?: (pending: Check[], remainingMs: number, report: VerifyReport) => void
  now?: () => Date
  sleep?: (ms: number) => Promise<void>
}

export function toReport(checks: Check[], facts: Omit<VerifyReport, 'ok' | 'checks' | 'summary' | 'attempts'>, attempts: number): VerifyReport {
  const summary = {ok: 0, warn: 0, fail: 0}
  for (const check of checks) summary[check.status]++
  const report: VerifyReport = {ok: summary.fail === 0, datacenters: facts.datacenters, sides: facts.sides, checks, summary, attempts}
  if (facts.primaryDatacenter) report.primaryDatacenter = facts.primaryDatacenter
  return report
}

/** One round: observe every side, then ask each about the other datacenters' servers. */
export async function verifyOnce(
  connections: SideConnection[],
  options: Pick<VerifyOptions, 'expectDatacenters' | 'requestTimeoutMs' | 'caWarnDays'> & {now: Date; attempt: number},
): Promise<VerifyReport> {
  const observed = await Promise.all(connections.map((connection) => observeSide(connection, {requestTimeoutMs: options.requestTimeoutMs})))
  try {
    const {datacenters, primary} = federationFacts(
      observed.map((side) => side.observation),
      options.expectDatacenters,
    )
    // Datacenters no reachable side runs: their replication is asked through one reachable
    // side, the primary's if it is reachable.
    const agents = observed.map((side) => (side.observation.consul.agent.ok ? side.observation.consul.agent.value.datacenter : undefined))
    const unobserved = datacenters.filter((dc) => dc !== primary && !agents.includes(dc))
    const asker = observed[agents.indexOf(primary)] ?? observed[agents.findIndex((dc) => dc !== undefined)]
    await Promise.all(observed.map((side) => addRemoteViews(side, datacenters, side === asker ? unobserved : [], primary)))
  } finally {
    for (const side of observed) side.reader?.close()
  }
  const evaluation = evaluate(
    observed.map((side) => side.observation),
    {expectDatacenters: options.expectDatacenters, now: options.now, caWarnDays: options.caWarnDays},
  )
  return toReport(evaluation.checks, evaluation, options.attempt)
}

/** Verify the federation; with `wait`, retry until it passes or `timeoutMs` ends. */
export async function verifyFederation(options: VerifyOptions): Promise<VerifyReport> {
  const now = options.now ?? (() => new Date())
  // Unknown contexts are bad input: connectSide throws a UserError listing the contexts.
  const connections = await Promise.all(options.targets.map((target) => connectSide(target, options.kubeconfig)))
  const timeoutMs = options.timeoutMs ?? 5 * 60_000
  let last: VerifyReport | undefined
  let attempt = 0
  return pollUntil<VerifyReport>({
    attempt: async (remainingMs) => {
      const round = verifyOnce(connections, {...options, now: now(), attempt: ++attempt})
      // With --wait, --timeout bounds the whole command: a round stuck on a server that does not
      // answer ends with it, and the last complete round is the answer.
      last = options.wait ? await withinDeadline(round, remainingMs, last, timeoutMs) : await round
      return last
    },
    done: (report) => report.ok || !options.wait,
    timeoutMs,
    intervalMs: options.intervalMs ?? 3_000,
    onWaiting: (report, remainingMs) =>
      options.onWaiting?.(
        report.checks.filter((check) => check.status === 'fail'),
        remainingMs,
        report,
      ),
    onTimeout: (report) => report,
    now: () => now().getTime(),
    sleep: options.sleep,
  })
}

async function withinDeadline(
  work: Promise<VerifyReport>,
  remainingMs: number,
  last: VerifyReport | undefined,
  timeoutMs: number,
): Promise<VerifyReport> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<VerifyReport>((resolve, reject) => {
    timer = setTimeout(
      () => {
        if (last) return resolve(last)
        reject(
          new UserError(`Gave up after ${formatDuration(timeoutMs)}: a Consul or Kubernetes server did not answer in time.`, {
            hint: 'Check that every context is reachable (kubectl --context X get ns), or raise --timeout or lower --request-timeout.',
          }),
        )
      },
      Math.max(remainingMs, 0),
    )
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}
