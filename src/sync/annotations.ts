/**
 * Reading the consul.hashicorp.com/service-* annotations of a Kubernetes Service. Every
 * parser returns either a value or a readable problem; a Service with a problem is reported
 * and skipped instead of being registered half-right.
 */
import {ANNOTATION, META, type ServicePort} from './model.js'

export type Parsed<T> = {ok: true; value: T} | {ok: false; problem: string}

const ok = <T>(value: T): Parsed<T> => ({ok: true, value})
const bad = <T>(problem: string): Parsed<T> => ({ok: false, problem})

/** Go's strconv.ParseBool, which consul-k8s uses for service-sync. */
export function parseBool(raw: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false
  return undefined
}

/**
 * The service-tags annotation: comma separated, whitespace around a tag trimmed, "\," keeps
 * a comma inside a tag, empty tags (",a", "a,,b", "a,", "") dropped — all as consul-k8s's
 * parsetags.ParseTags does.
 */
export function parseTags(raw: string): Parsed<string[]> {
  const tags: string[] = []
  let current = ''
  let escaped = false
  const push = (): void => {
    const tag = current.trim()
    current = ''
    if (tag !== '') tags.push(tag)
  }
  for (const char of raw) {
    if (escaped) {
      current += char === ',' ? ',' : `\\${char}`
      escaped = false
    } else if (char === '\\') {
      escaped = true
    } else if (char === ',') {
      push()
    } else {
      current += char
    }
  }
  if (escaped) current += '\\'
  push()
  return ok(tags)
}

export interface PortChoice {
  /** The instance port for external IP, LoadBalancer and NodePort instances. */
  port: number
  /** service-port named a port: endpoint-backed instances use that endpoint port. */
  portName?: string
  /** service-port gave a number: used as is for every instance. */
  portNumber?: number
  /** service-port named no port of the service: the first port is used (consul-k8s), and this says so. */
  warning?: string
}

/**
 * The Consul service port: the first Service port (its nodePort for NodePort services),
 * or the service-port annotation, a port name (recommended) or a number. A name the Service
 * does not have falls back to the first port with a warning, as consul-k8s does.
 */
export function choosePort(type: string, ports: ServicePort[], annotation: string | undefined): Parsed<PortChoice> {
  const external = (p: ServicePort) => (type === 'NodePort' && p.nodePort ? p.nodePort : p.port)
  const first = ports[0] ? external(ports[0]) : 0
  if (annotation === undefined) return ok({port: first})
  const value = annotation.trim()
  if (value === '') return bad(`${ANNOTATION.port} is empty`)
  if (/^[+-]?\d+$/.test(value)) {
    const number = Number(value)
    if (!Number.isInteger(number) || number < 1 || number > 65535) {
      return bad(`${ANNOTATION.port} "${annotation}" is not a port number (1-65535)`)
    }
    return ok({port: number, portNumber: number})
  }
  const named = ports.find((p) => p.name === value)
  if (!named) {
    const names = ports.map((p) => p.name).filter(Boolean)
    return ok({
      port: first,
      warning: `${ANNOTATION.port} "${annotation}" names no port of the service (${names.length > 0 ? `ports: ${names.join(', ')}` : 'it has no named ports'}); the first port is used`,
    })
  }
  return ok({port: external(named), portName: value})
}

/**
 * The service-weight annotation: Weights.Passing for LoadBalancer and external-IP instances,
 * an integer greater than 1 (consul-k8s's getServiceWeight); anything else is a warning.
 */
export function parseWeight(raw: string): Parsed<number> {
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(value) || value <= 1) {
    return bad(`${ANNOTATION.weight} "${raw}" is not an integer greater than 1; default weights are used`)
  }
  return ok(value)
}

// Consul's own limits on service meta (agent/structs: validateMetaPair).
const META_KEY = /^[a-zA-Z0-9_-]+$/
const META_MAX_PAIRS = 64
const META_KEY_MAX = 128
const META_VALUE_MAX = 512

/** Check meta the way Consul would, so one bad key never fails a whole batch of writes. */
export function validateMeta(meta: Record<string, string>): string | undefined {
  const keys = Object.keys(meta)
  if (keys.length > META_MAX_PAIRS) return `${keys.length} meta pairs (Consul allows ${META_MAX_PAIRS})`
  for (const key of keys) {
    if (key.length > META_KEY_MAX) return `meta key "${key.slice(0, 40)}…" is longer than ${META_KEY_MAX} characters`
    if (!META_KEY.test(key)) return `meta key "${key}" may only contain letters, digits, "-" and "_"`
    if (key.startsWith('consul-')) return `meta key "${key}" uses the prefix "consul-", reserved by Consul`
    if (meta[key].length > META_VALUE_MAX) return `meta value of "${key}" is longer than ${META_VALUE_MAX} characters`
  }
  return undefined
}

/** The service-meta-KEY annotations, as KEY -> value. */
export function annotationMeta(annotations: Record<string, string>): Parsed<Record<string, string>> {
  const meta: Record<string, string> = {}
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(ANNOTATION.metaPrefix)) continue
    const metaKey = key.slice(ANNOTATION.metaPrefix.length)
    if (metaKey === '') return bad(`annotation ${key} has no meta key after the prefix`)
    if (metaKey === META.owner) return bad(`annotation ${key}: meta key "${META.owner}" is reserved for the engine's ownership marker`)
    meta[metaKey] = value
  }
  return ok(meta)
}
