/**
 * The plan: for every workload found (in manifests or in a cluster), whether it is
 * injected, skipped (and why) or refused (a malformed annotation, named), with warnings and
 * the injected pod template. The manifest and cluster modes build it the same way; the
 * command renders it (--dry-run prints it, --json returns it).
 */
import {AnnotationError, ANNOTATIONS, type Annotations} from './annotations.js'
import {decide} from './decide.js'
import {InjectError, mutatePodTemplate, type MutationSummary, type PodTemplate} from './mutate.js'
import type {InjectSettings} from './settings.js'

export type WorkloadAction = 'inject' | 'skip' | 'error'

export interface WorkloadRef {
  kind: string
  name: string
  namespace: string
  /** Where it came from: "<file>#<document>" in manifest mode. */
  source?: string
}

export interface WorkloadPlan extends WorkloadRef {
  action: WorkloadAction
  /** Why it is injected or skipped, or what is wrong. */
  reason: string
  /** For errors: the annotation at fault, when one is. */
  annotation?: string
  warnings: string[]
  mutation?: MutationSummary
  /** The pod template before and after (action "inject" only). */
  before?: PodTemplate
  after?: PodTemplate
}

export interface InjectPlan {
  mode: 'manifests' | 'cluster'
  context?: string
  /** Namespaces looked at (cluster mode), or "all". */
  namespaces?: string[] | 'all'
  workloads: WorkloadPlan[]
}

export interface ServiceInfo {
  name: string
  namespace: string
  selector?: Record<string, string>
}

export interface WorkloadInput extends WorkloadRef {
  template: PodTemplate
  /** The workload's own metadata annotations (not for bare Pods). */
  workloadAnnotations?: Annotations
}

export interface PlanEnvironment {
  /** Kubernetes Services known in the workload's namespace (for the service account check). */
  services?: ServiceInfo[]
  /** True when `services` lists every Service of the namespace (cluster mode): a missing one is worth a warning. */
  servicesComplete?: boolean
  namespaceLabels?: (namespace: string) => Record<string, string> | undefined
}

export function describeRef(ref: WorkloadRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`
}

export function planWorkload(input: WorkloadInput, settings: InjectSettings, environment: PlanEnvironment = {}): WorkloadPlan {
  const ref: WorkloadRef = {kind: input.kind, name: input.name, namespace: input.namespace, source: input.source}
  const templateAnnotations = input.template.metadata?.annotations ?? {}
  try {
    const decision = decide(
      {namespace: input.namespace, templateAnnotations, workloadAnnotations: input.workloadAnnotations, kind: input.kind},
      settings,
    )
    if (!decision.inject) return {...ref, action: 'skip', reason: decision.reason, warnings: decision.warnings}
    const {template, summary} = mutatePodTemplate(input.template, settings, {
      namespace: input.namespace,
      namespaceLabels: environment.namespaceLabels?.(input.namespace),
    })
    // A single-service pod is registered under the name of the Kubernetes Service selecting it.
    const selecting = environment.services ? selectingServices(input, environment.services) : []
    if (!summary.multiPort && summary.services[0] && !summary.services[0].name && selecting.length === 1) {
      summary.services[0].name = selecting[0].name
    }
    const warnings = [...decision.warnings, ...summary.warnings, ...serviceWarnings(input, summary, settings, environment, selecting)]
    return {...ref, action: 'inject', reason: decision.reason, warnings, mutation: summary, before: input.template, after: template}
  } catch (error) {
    if (error instanceof AnnotationError || error instanceof InjectError) {
      return {...ref, action: 'error', reason: error.message, annotation: error.annotation, warnings: []}
    }
    throw error
  }
}

function selects(service: ServiceInfo, labels: Record<string, string>): boolean {
  const selector = service.selector ?? {}
  const keys = Object.keys(selector)
  return keys.length > 0 && keys.every((key) => labels[key] === selector[key])
}

/** The Kubernetes Services of the workload's namespace whose selector matches its pods. */
export function selectingServices(input: WorkloadInput, services: ServiceInfo[]): ServiceInfo[] {
  const labels = input.template.metadata?.labels ?? {}
  return services.filter((service) => service.namespace === input.namespace && selects(service, labels))
}

/**
 * With ACLs a pod logs in as its service account, and Consul only lets it register the
 * service of the same name (the first service in a multi-port pod). Also, in cluster mode,
 * consul-k8s registers mesh services from Kubernetes Services: warn when none selects the pods.
 */
function serviceWarnings(
  input: WorkloadInput,
  summary: MutationSummary,
  settings: InjectSettings,
  environment: PlanEnvironment,
  selecting: ServiceInfo[],
): string[] {
  const warnings: string[] = []
  if (environment.servicesComplete && selecting.length === 0) {
    warnings.push(
      `no Kubernetes Service in namespace ${input.namespace} selects these pods; Consul registers mesh services from Services, so the sidecar will not become ready until one exists`,
    )
  }
  if (!settings.acls) return warnings
  const serviceAccount = (input.template.spec?.serviceAccountName as string | undefined) || 'default'
  const expected = summary.services[0]?.name
  if (expected === undefined) {
    warnings.push(
      `cannot check the service account: set ${ANNOTATIONS.service} or provide the Kubernetes Service that selects these pods (with ACLs the service account must be named like the service)`,
    )
  } else if (expected !== serviceAccount) {
    const what = summary.multiPort ? `the first service of the multi-port pod is "${expected}"` : `the Consul service is "${expected}"`
    warnings.push(
      `with ACLs the service account must be named like the service: serviceAccountName is "${serviceAccount}" but ${what}; set serviceAccountName: ${expected}`,
    )
  }
  return warnings
}

export interface PlanCounts {
  inject: number
  skip: number
  error: number
}

export function countPlan(plan: InjectPlan): PlanCounts {
  const counts: PlanCounts = {inject: 0, skip: 0, error: 0}
  for (const workload of plan.workloads) counts[workload.action]++
  return counts
}
