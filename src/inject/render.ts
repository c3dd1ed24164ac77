/**
 * How an injection plan reads: one status line per workload (✓ injected, * skipped with
 * the reason, ✗ refused with the annotation at fault) plus its warnings, and the
 * machine-readable form returned by --json.
 */
import type {Terminal} from '../ui/terminal.js'
import type {ApplyResult} from './cluster.js'
import {countPlan, describeRef, type InjectPlan, type WorkloadPlan} from './plan.js'

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

export function renderApplyResults(ui: Terminal, results: ApplyResult[]): void {
  for (const result of results) {
    const name = describeRef(result.workload)
    if (result.ok) ui.success(`${name}: pod template patched`)
    else ui.fail(`${name}: ${result.error}`)
  }
}

export interface WorkloadJson {
  kind: string
  name: string
  namespace: string
  source?: string
  action: WorkloadPlan['action']
  reason: string
  annotation?: string
  warnings: string[]
  services?: Array<{name?: string; port?: number; initContainer: string; sidecar: string; proxyPort: number}>
  upstreams?: Array<{raw: string; name: string; localBindPort: number; datacenter?: string; namespace?: string; peer?: string; partition?: string}>
  envVars?: string[]
  transparentProxy?: boolean
  probesRewritten?: string[]
  applied?: boolean
  applyError?: string
}

export function workloadJson(workload: WorkloadPlan, applied?: ApplyResult): WorkloadJson {
  const json: WorkloadJson = {
    kind: workload.kind,
    name: workload.name,
    namespace: workload.namespace,
    source: workload.source,
    action: workload.action,
    reason: workload.reason,
    annotation: workload.annotation,
    warnings: workload.warnings,
  }
  const mutation = workload.mutation
  if (mutation) {
    json.services = mutation.services
    json.upstreams = mutation.upstreams.map(({raw, name, localBindPort, datacenter, namespace, peer, partition}) => ({
      raw,
      name,
      localBindPort,
      datacenter,
      namespace,
      peer,
      partition,
    }))
    json.envVars = mutation.envVars
    json.transparentProxy = mutation.transparentProxy
    json.probesRewritten = mutation.probesRewritten
  }
  if (applied) {
    json.applied = applied.ok
    if (applied.error) json.applyError = applied.error
  }
  return json
}

export interface InjectResultJson {
  mode: InjectPlan['mode']
  context?: string
  namespaces?: string[] | 'all'
  dryRun: boolean
  counts: {inject: number; skip: number; error: number}
  workloads: WorkloadJson[]
  output?: string
}

export function planJson(plan: InjectPlan, extras: {dryRun: boolean; results?: ApplyResult[]; output?: string}): InjectResultJson {
  const byWorkload = new Map(extras.results?.map((result) => [result.workload, result]))
  return {
    mode: plan.mode,
    context: plan.context,
    namespaces: plan.namespaces,
    dryRun: extras.dryRun,
    counts: countPlan(plan),
    workloads: plan.workloads.map((workload) => workloadJson(workload, byWorkload.get(workload))),
    output: extras.output,
  }
}
