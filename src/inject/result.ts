/**
 * The machine-readable form of an injection returned by --json: the counts and one entry per
 * workload (its action, reason, services, upstreams and, in cluster mode, whether the patch
 * was applied).
 */
import type {ApplyResult} from './cluster.js'
import {countPlan, type InjectPlan, type WorkloadPlan} from './plan.js'

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
