/**
 * The workload kinds the injector handles and where each keeps its pod template, shared by
 * the manifest and the cluster modes.
 */
import type {Json, PodTemplate} from './mutate.js'

/** Where each workload kind keeps its pod template ([] = the object is the pod). */
export const TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
}

export const WORKLOAD_KINDS = Object.keys(TEMPLATE_PATHS)

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function templateOf(object: Json, kind: string): PodTemplate | undefined {
  const path = TEMPLATE_PATHS[kind]
  if (path.length === 0) return {metadata: object.metadata ?? {}, spec: object.spec ?? {}}
  let node: unknown = object
  for (const key of path) node = isObject(node) ? node[key] : undefined
  return isObject(node) ? (node as PodTemplate) : undefined
}

/** A copy of the workload with its pod template replaced. */
export function withTemplate(object: Json, kind: string, template: PodTemplate): Json {
  const path = TEMPLATE_PATHS[kind]
  if (path.length === 0) return {...object, metadata: template.metadata, spec: template.spec}
  const copy = structuredClone(object)
  let node: Json = copy
  for (const key of path.slice(0, -1)) node = node[key]
  node[path.at(-1)!] = template
  return copy
}
