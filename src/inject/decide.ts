/**
 * Should this pod template be injected? The webhook's rules in its order: never the
 * Kubernetes system namespaces, then the deny list (wins), the allow list ('*' allowed),
 * (control-plane/connect-inject/webhook/mesh_webhook.go shouldInject in consul-k8s 2.0.3),
 * never twice (connect-inject-status already set), then the pod template's
 * connect-inject annotation, else the default. Also spots the seed's "common mistake": the
 * annotation set on the Deployment (or other workload) itself instead of its pod template.
 */
import {ANNOTATIONS, ANNOTATION_PREFIX, boolAnnotation, type Annotations} from './annotations.js'

export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public']

export interface NamespacePolicy {
  defaultInject: boolean
  allowNamespaces: string[]
  denyNamespaces: string[]
}

export interface DecisionInput {
  namespace: string
  /** Annotations of the pod template (for a Pod: the pod's own). */
  templateAnnotations: Annotations
  /** The workload's own metadata annotations (undefined for a bare Pod). */
  workloadAnnotations?: Annotations
  /** The workload kind, for messages ("Deployment"). */
  kind: string
}

export interface Decision {
  inject: boolean
  reason: string
  /** True when the template carries connect-inject-status already (idempotence). */
  alreadyInjected: boolean
  warnings: string[]
}

/** May pods in this namespace be injected at all? A reason when not. */
export function namespaceExclusion(namespace: string, policy: NamespacePolicy): string | undefined {
  if (SYSTEM_NAMESPACES.includes(namespace)) return `namespace ${namespace} is never injected`
  // As the webhook: the deny list holds names only ('*' there is no wildcard), the allow list may hold '*'.
  if (policy.denyNamespaces.includes(namespace)) {
    return `namespace ${namespace} is in the deny list (--deny-namespace)`
  }
  if (!policy.allowNamespaces.includes('*') && !policy.allowNamespaces.includes(namespace)) {
    return `namespace ${namespace} is not in the allow list (--allow-namespace ${policy.allowNamespaces.join(', ')})`
  }
  return undefined
}

/** Throws AnnotationError when connect-inject is not a boolean (the webhook refuses such pods). */
export function decide(input: DecisionInput, policy: NamespacePolicy): Decision {
  const warnings = misplacedAnnotationWarnings(input)
  const excluded = namespaceExclusion(input.namespace, policy)
  if (excluded) return {inject: false, reason: excluded, alreadyInjected: false, warnings}

  const status = input.templateAnnotations[ANNOTATIONS.injectStatus]
  if (status !== undefined && status !== '') {
    return {inject: false, reason: `already injected (${ANNOTATIONS.injectStatus}: ${status})`, alreadyInjected: true, warnings}
  }

  const explicit = boolAnnotation(input.templateAnnotations, ANNOTATIONS.inject)
  if (explicit !== undefined) {
    return {
      inject: explicit,
      reason: explicit ? `${ANNOTATIONS.inject}: "true" on the pod template` : `opted out (${ANNOTATIONS.inject}: "false")`,
      alreadyInjected: false,
      warnings,
    }
  }
  if (policy.defaultInject) {
    return {inject: true, reason: 'injected by default (--default-inject)', alreadyInjected: false, warnings}
  }
  return {
    inject: false,
    reason: `no ${ANNOTATIONS.inject} annotation on the pod template (injection is opt-in)`,
    alreadyInjected: false,
    warnings,
  }
}

/**
 * consul.hashicorp.com/* annotations found on the workload's own metadata but not on its
 * pod template, where the injector reads them.
 */
function misplacedAnnotationWarnings(input: DecisionInput): string[] {
  if (!input.workloadAnnotations) return []
  const misplaced = Object.keys(input.workloadAnnotations).filter(
    (key) => key.startsWith(ANNOTATION_PREFIX) && !(key in input.templateAnnotations) && key !== ANNOTATIONS.injectStatus,
  )
  if (misplaced.length === 0) return []
  const where = input.kind === 'CronJob' ? 'spec.jobTemplate.spec.template.metadata.annotations' : 'spec.template.metadata.annotations'
  return [
    `${misplaced.join(', ')} ${misplaced.length === 1 ? 'is' : 'are'} set on the ${input.kind}'s own metadata, where the injector never looks; move ${misplaced.length === 1 ? 'it' : 'them'} to ${where}`,
  ]
}
