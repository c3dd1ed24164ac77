/**
 * Kubernetes API paths: `/api/v1/namespaces/ns/secrets/name`, `/apis/apps/v1/statefulsets`.
 * One function, names URL-encoded, shared by the typed reads (client.ts) and sync's lists and
 * watches.
 */

/** Where an object or a collection lives: `/api/v1/namespaces/ns/secrets/name`, `/apis/apps/v1/...`. */
export interface ResourceRef {
  /** API group; '' or undefined for the core group. */
  group?: string
  version?: string
  resource: string
  namespace?: string
  name?: string
  subresource?: string
}

export function kubePath(ref: ResourceRef): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version ?? 'v1'}` : `/api/${ref.version ?? 'v1'}`
  const parts = [base]
  if (ref.namespace) parts.push('namespaces', encodeURIComponent(ref.namespace))
  parts.push(ref.resource)
  if (ref.name) parts.push(encodeURIComponent(ref.name))
  if (ref.subresource) parts.push(ref.subresource)
  return parts.join('/').replace(/^\/+/, '/')
}
