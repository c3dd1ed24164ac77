/**
 * How an injection plan reads: one status line per workload (✓ injected, * skipped with
 * the reason, ✗ refused with the annotation at fault) plus its warnings, and the results of
 * patching a live cluster.
 */
import type {ApplyResult} from '../inject/cluster.js'
import {countPlan, describeRef, type InjectPlan, type WorkloadPlan} from '../inject/plan.js'
import type {Terminal} from './terminal.js'

function mutationText(workload: WorkloadPlan): string {
  const mutation = workload.mutation
  if (!mutation) return ''
  const parts: string[] = []
  const services = mutation.services.map((service) => {
    const name = service.name ?? '(named after its Kubernetes Service)'
    return service.port ? `${name} on port ${service.port}` : name
  })
  parts.push(`${mutation.multiPort ? `${mutation.services.length} services` : 'service'} ${services.join(', ')}`)
  parts.push(`sidecar${mutation.services.length > 1 ? 's' : ''} ${mutation.services.map((service) => service.sidecar).join(', ')}`)
  if (mutation.upstreams.length > 0) parts.push(`upstreams ${mutation.upstreams.map((upstream) => upstream.raw).join(', ')}`)
  parts.push(`transparent proxy ${mutation.transparentProxy ? 'on' : 'off'}`)
  return parts.join('; ')
}

export interface RenderOptions {
  /** "would inject" (dry run, plan) or "inject". */
  verb: string
  /** Show skipped workloads (always shown with --verbose, or when nothing else is). */
  showSkipped: boolean
}

export function renderPlan(ui: Terminal, plan: InjectPlan, options: RenderOptions): void {
  const counts = countPlan(plan)
  for (const workload of plan.workloads) {
    const name = describeRef(workload)
    if (workload.action === 'inject') ui.success(`${name}: ${options.verb}: ${mutationText(workload)}`)
    else if (workload.action === 'error') {
      const where = workload.source ? ` (${workload.source})` : ''
      ui.fail(
        `${name}: ${workload.reason}`,
        workload.annotation ? `Fix ${workload.annotation} on the pod template${where}.` : `Fix the pod template${where}.`,
      )
    } else if (options.showSkipped || workload.warnings.length > 0) ui.info(`${name}: skipped, ${workload.reason}`)
    for (const warning of workload.warnings) ui.warn(`${name}: ${warning}`)
  }
  const hidden = options.showSkipped ? 0 : plan.workloads.filter((workload) => workload.action === 'skip' && workload.warnings.length === 0).length
  ui.line(
    `${plan.workloads.length} workload${plan.workloads.length === 1 ? '' : 's'}: ${counts.inject} to inject, ${counts.skip} skipped${hidden > 0 ? ` (${hidden} not shown; --verbose lists them)` : ''}, ${counts.error} with errors`,
  )
}

/** The plan before anything is written: in cluster mode under a header naming the context and namespaces. */
export function renderInjectPlan(ui: Terminal, plan: InjectPlan, options: {dryRun: boolean; verbose: boolean}): void {
  const showSkipped = options.verbose || options.dryRun
  if (plan.mode === 'manifests') {
    renderPlan(ui, plan, {verb: options.dryRun ? 'would inject' : 'injected', showSkipped})
    return
  }
  const where = plan.namespaces === 'all' ? 'all namespaces' : `namespace ${plan.namespaces?.join(', ')}`
  ui.header(`Connect injection in context ${plan.context}, ${where}${options.dryRun ? ' (dry run)' : ''}`)
  renderPlan(ui, plan, {verb: options.dryRun ? 'would inject' : 'to inject', showSkipped})
}

export function renderApplyResults(ui: Terminal, results: ApplyResult[]): void {
  for (const result of results) {
    const name = describeRef(result.workload)
    if (result.ok) ui.success(`${name}: pod template patched`)
    else ui.fail(`${name}: ${result.error}`)
  }
}
