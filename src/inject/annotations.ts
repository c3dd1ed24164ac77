/**
 * The consul.hashicorp.com/* annotations the Connect injector reads, and their parsing and
 * validation: booleans as Go's strconv.ParseBool reads them, the connect-service and
 * connect-service-port lists of multi-port pods, and every upstream form of
 * connect-service-upstreams. A malformed value is an AnnotationError naming the annotation,
 * so the caller can name the workload too.
 */

export const ANNOTATIONS = {
  inject: 'consul.hashicorp.com/connect-inject',
  injectStatus: 'consul.hashicorp.com/connect-inject-status',
  service: 'consul.hashicorp.com/connect-service',
  port: 'consul.hashicorp.com/connect-service-port',
  upstreams: 'consul.hashicorp.com/connect-service-upstreams',
  transparentProxy: 'consul.hashicorp.com/transparent-proxy',
  transparentProxyStatus: 'consul.hashicorp.com/transparent-proxy-status',
  overwriteProbes: 'consul.hashicorp.com/transparent-proxy-overwrite-probes',
  excludeInboundPorts: 'consul.hashicorp.com/transparent-proxy-exclude-inbound-ports',
  excludeOutboundPorts: 'consul.hashicorp.com/transparent-proxy-exclude-outbound-ports',
  excludeOutboundCIDRs: 'consul.hashicorp.com/transparent-proxy-exclude-outbound-cidrs',
  excludeUIDs: 'consul.hashicorp.com/transparent-proxy-exclude-uids',
  mountVolume: 'consul.hashicorp.com/connect-inject-mount-volume',
  useProxyHealthCheck: 'consul.hashicorp.com/use-proxy-health-check',
  startupFailureSeconds: 'consul.hashicorp.com/sidecar-proxy-startup-failure-seconds',
  livenessFailureSeconds: 'consul.hashicorp.com/sidecar-proxy-liveness-failure-seconds',
  cpuLimit: 'consul.hashicorp.com/sidecar-proxy-cpu-limit',
  cpuRequest: 'consul.hashicorp.com/sidecar-proxy-cpu-request',
  memoryLimit: 'consul.hashicorp.com/sidecar-proxy-memory-limit',
  memoryRequest: 'consul.hashicorp.com/sidecar-proxy-memory-request',
  lifecycle: 'consul.hashicorp.com/enable-sidecar-proxy-lifecycle',
  lifecycleDrainListeners: 'consul.hashicorp.com/enable-sidecar-proxy-lifecycle-shutdown-drain-listeners',
  lifecycleShutdownGrace: 'consul.hashicorp.com/sidecar-proxy-lifecycle-shutdown-grace-period-seconds',
  lifecycleStartupGrace: 'consul.hashicorp.com/sidecar-proxy-lifecycle-startup-grace-period-seconds',
  lifecycleGracefulPort: 'consul.hashicorp.com/sidecar-proxy-lifecycle-graceful-port',
  lifecycleShutdownPath: 'consul.hashicorp.com/sidecar-proxy-lifecycle-graceful-shutdown-path',
  lifecycleStartupPath: 'consul.hashicorp.com/sidecar-proxy-lifecycle-graceful-startup-path',
  dataplaneAsSidecar: 'consul.hashicorp.com/enable-consul-dataplane-as-sidecar',
  probeInitialDelay: 'consul.hashicorp.com/sidecar-initial-probe-check-delay-seconds',
  probePeriod: 'consul.hashicorp.com/sidecar-probe-period-seconds',
  probeFailureThreshold: 'consul.hashicorp.com/sidecar-probe-failure-threshold',
  probeTimeout: 'consul.hashicorp.com/sidecar-probe-check-timeout-seconds',
  envoyConcurrency: 'consul.hashicorp.com/consul-envoy-proxy-concurrency',
  envoyExtraArgs: 'consul.hashicorp.com/envoy-extra-args',
  userVolume: 'consul.hashicorp.com/consul-sidecar-user-volume',
  userVolumeMount: 'consul.hashicorp.com/consul-sidecar-user-volume-mount',
  originalPod: 'consul.hashicorp.com/original-pod',
  /** The injector's version: the endpoints controller registers only pods whose version is consul-dataplane era (1.0.0+). */
  consulK8sVersion: 'consul.hashicorp.com/consul-k8s-version',
  legacyConsulK8sVersion: 'consul.hashicorp.com/connect-k8s-version',
  dualStack: 'consul.hashicorp.com/dual-stack',
  enableMetrics: 'consul.hashicorp.com/enable-metrics',
  enableMetricsMerging: 'consul.hashicorp.com/enable-metrics-merging',
} as const

/** Labels the injector sets on injected pods (and reads on namespaces). */
export const LABELS = {
  injectStatus: 'consul.hashicorp.com/connect-inject-status',
  managedBy: 'consul.hashicorp.com/connect-inject-managed-by',
  transparentProxy: 'consul.hashicorp.com/transparent-proxy',
} as const

export const INJECTED = 'injected'
/** The value of LABELS.managedBy on injected pods, as consul-k8s's webhook sets it. */
export const INJECT_MANAGED_BY_VALUE = 'consul-k8s-endpoints-controller'
export const ANNOTATION_PREFIX = 'consul.hashicorp.com/'

/** A consul.hashicorp.com/* annotation whose value cannot be used. */
export class AnnotationError extends Error {
  constructor(
    readonly annotation: string,
    readonly value: string | undefined,
    message: string,
  ) {
    super(message)
    this.name = 'AnnotationError'
  }
}

export type Annotations = Record<string, string>

/** The container ports the named-port lookups search (all containers, in order, like the webhook). */
export interface PortSource {
  name?: string
  ports?: Array<{name?: string; containerPort?: number}>
}

const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

/** A boolean annotation as Go's strconv.ParseBool reads it; undefined when absent (or empty, where the webhook ignores it). */
export function boolAnnotation(annotations: Annotations, key: string, options: {emptyIsAbsent?: boolean} = {}): boolean | undefined {
  if (!(key in annotations)) return undefined
  const raw = annotations[key]
  if (options.emptyIsAbsent && raw === '') return undefined
  if (TRUE_VALUES.has(raw)) return true
  if (FALSE_VALUES.has(raw)) return false
  throw new AnnotationError(key, raw, `annotation ${key}: "${raw}" is not a boolean (use "true" or "false")`)
}

/** A non-negative integer annotation (seconds, counts) as strconv.ParseUint reads it (digits only); undefined when absent. */
export function uintAnnotation(annotations: Annotations, key: string): number | undefined {
  if (!(key in annotations)) return undefined
  const raw = annotations[key]
  if (!/^\d+$/.test(raw)) {
    throw new AnnotationError(key, annotations[key], `annotation ${key}: "${annotations[key]}" is not a non-negative integer`)
  }
  return Number(raw)
}

/** A Kubernetes resource quantity (e.g. 100m, 128Mi); undefined when absent. */
export function quantityAnnotation(annotations: Annotations, key: string): string | undefined {
  if (!(key in annotations)) return undefined
  const raw = annotations[key]
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/.test(raw)) {
    throw new AnnotationError(key, raw, `annotation ${key}: "${raw}" is not a Kubernetes quantity (e.g. 100m, 128Mi)`)
  }
  return raw
}

/** A comma-separated list (entries trimmed, empty entries dropped). */
export function listAnnotation(annotations: Annotations, key: string): string[] {
  const raw = annotations[key]
  if (raw === undefined) return []
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

/** Numeric ports in a list annotation (transparent-proxy-exclude-*-ports). */
export function portListAnnotation(annotations: Annotations, key: string): string[] {
  const ports = listAnnotation(annotations, key)
  for (const port of ports) {
    if (!isPortNumber(port)) throw new AnnotationError(key, annotations[key], `annotation ${key}: "${port}" is not a port number (1-65535)`)
  }
  return ports
}

export function cidrListAnnotation(annotations: Annotations, key: string): string[] {
  const cidrs = listAnnotation(annotations, key)
  for (const cidr of cidrs) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)) {
      throw new AnnotationError(key, annotations[key], `annotation ${key}: "${cidr}" is not an IP address or CIDR`)
    }
  }
  return cidrs
}

export function uidListAnnotation(annotations: Annotations, key: string): string[] {
  const uids = listAnnotation(annotations, key)
  for (const uid of uids) {
    if (!/^\d+$/.test(uid)) throw new AnnotationError(key, annotations[key], `annotation ${key}: "${uid}" is not a numeric user ID`)
  }
  return uids
}

function isPortNumber(token: string): boolean {
  if (!/^\d+$/.test(token)) return false
  const port = Number(token)
  return port >= 1 && port <= 65535
}

/**
 * The port a token means on this pod, like the webhook's PortValue: a container port name
 * (searched in every container) wins, else the token must be a number. Undefined when neither.
 */
export function resolvePort(containers: PortSource[], token: string): number | undefined {
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      if (port.name === token && typeof port.containerPort === 'number') return port.containerPort
    }
  }
  return isPortNumber(token) ? Number(token) : undefined
}

/**
 * consul.hashicorp.com/connect-service: one name (single service) or a comma list
 * (multi-port pod: one init container and one sidecar per service).
 */
export function parseServiceNames(annotations: Annotations): string[] {
  const raw = annotations[ANNOTATIONS.service]
  if (raw === undefined || raw.trim() === '') return []
  const names = raw.split(',').map((name) => name.trim())
  if (names.some((name) => name === '')) {
    throw new AnnotationError(ANNOTATIONS.service, raw, `annotation ${ANNOTATIONS.service}: "${raw}" has an empty service name`)
  }
  if (names.length > 1) {
    // The names become container names (consul-connect-inject-init-<name>, at most 63 characters).
    for (const name of names) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 36) {
        throw new AnnotationError(
          ANNOTATIONS.service,
          raw,
          `annotation ${ANNOTATIONS.service}: "${name}" cannot name a multi-port service (lower-case letters, digits and '-', at most 36 characters, because it becomes part of container names)`,
        )
      }
    }
    const duplicate = names.find((name, index) => names.indexOf(name) !== index)
    if (duplicate) {
      throw new AnnotationError(ANNOTATIONS.service, raw, `annotation ${ANNOTATIONS.service}: service "${duplicate}" is listed twice`)
    }
  }
  return names
}

export interface ServicePort {
  /** As written in the annotation (a port name or number). */
  token: string
  port: number
}

/**
 * consul.hashicorp.com/connect-service-port: a port name or number, or a comma list aligned
 * with the connect-service list in multi-port pods. Every entry must resolve on the pod.
 */
export function parseServicePorts(annotations: Annotations, containers: PortSource[], serviceCount: number): ServicePort[] {
  const key = ANNOTATIONS.port
  const raw = annotations[key]
  if (raw === undefined || raw.trim() === '') {
    if (serviceCount > 1) {
      throw new AnnotationError(
        key,
        raw,
        `annotation ${key} is required when ${ANNOTATIONS.service} lists ${serviceCount} services (one port per service, in the same order)`,
      )
    }
    return []
  }
  const tokens = raw.split(',').map((token) => token.trim())
  const ports = tokens.map((token) => {
    const port = token === '' ? undefined : resolvePort(containers, token)
    if (port === undefined) {
      throw new AnnotationError(
        key,
        raw,
        `annotation ${key}: unknown port "${token}" (no container declares a port with that name and it is not a port number)`,
      )
    }
    return {token, port}
  })
  if (serviceCount > 1 && ports.length !== serviceCount) {
    const which = ports.length < serviceCount ? 'more services than ports' : 'more ports than services'
    throw new AnnotationError(
      key,
      raw,
      `annotation ${key} lists ${ports.length} port(s) but ${ANNOTATIONS.service} lists ${serviceCount} services (${which}); list one port per service, in the same order`,
    )
  }
  return ports
}

export interface Upstream {
  /** The entry as written. */
  raw: string
  type: 'service' | 'prepared_query'
  /** Destination service (or prepared query) name. */
  name: string
  namespace?: string
  partition?: string
  peer?: string
  datacenter?: string
  destinationPort?: string
  localBindAddress?: string
  meshGatewayMode?: string
  localBindPort: number
  /**
   * Prefix of the <NAME>_CONNECT_SERVICE_HOST/PORT variables: the part before the first ':'
   * upper-cased with '-' turned into '_' (exactly as the webhook does; dotted forms keep
   * their dots). Prepared queries get no variables.
   */
  envPrefix?: string
}

const UPSTREAM_FORMS =
  '<service>[.<namespace>[.<partition>]]:<local port>[:<datacenter>], <service>.svc[.<namespace>.ns][.<peer|partition|dc>.<peer|ap|dc>]:<local port>, or prepared_query:<query>:<local port>'

/** Splits like Go's strings.SplitN(s, sep, n): at most n parts, the last keeps the rest. */
function splitN(text: string, separator: string, count: number): string[] {
  const parts: string[] = []
  let rest = text
  while (parts.length < count - 1) {
    const index = rest.indexOf(separator)
    if (index < 0) break
    parts.push(rest.slice(0, index))
    rest = rest.slice(index + separator.length)
  }
  parts.push(rest)
  return parts
}

/**
 * consul.hashicorp.com/connect-service-upstreams: entries separated by commas, spaces or
 * newlines (as the webhook splits them), each in one of the seed's forms.
 */
export function parseUpstreams(annotations: Annotations, containers: PortSource[]): Upstream[] {
  const raw = annotations[ANNOTATIONS.upstreams]
  if (raw === undefined || raw.trim() === '') return []
  const entries = raw.split(/[,\s]+/).filter(Boolean)
  return entries.map((entry) => parseUpstream(entry, raw, containers))
}

function upstreamError(whole: string, entry: string, problem: string): AnnotationError {
  return new AnnotationError(
    ANNOTATIONS.upstreams,
    whole,
    `annotation ${ANNOTATIONS.upstreams}: upstream "${entry}" ${problem}; expected ${UPSTREAM_FORMS}`,
  )
}

function parseUpstream(entry: string, whole: string, containers: PortSource[]): Upstream {
  const parts = splitN(entry, ':', 3).map((part) => part.trim())
  if (parts[0] === 'prepared_query') {
    if (parts.length < 3 || !parts[1]) throw upstreamError(whole, entry, 'is structured incorrectly')
    const port = resolvePort(containers, parts[2])
    if (port === undefined) throw upstreamError(whole, entry, `has an invalid local bind port "${parts[2]}"`)
    return {raw: entry, type: 'prepared_query', name: parts[1], localBindPort: port}
  }
  if (parts.length < 2) throw upstreamError(whole, entry, 'has no local port')
  const port = resolvePort(containers, parts[1])
  if (port === undefined) throw upstreamError(whole, entry, `has an invalid local bind port "${parts[1]}"`)
  const pieces = parts[0].split('.').map((piece) => piece.trim())
  if (pieces.some((piece) => piece === '')) throw upstreamError(whole, entry, 'has an empty name segment')
  const upstream: Upstream = {
    raw: entry,
    type: 'service',
    name: pieces[0],
    localBindPort: port,
    envPrefix: parts[0].replaceAll('-', '_').toUpperCase(),
  }
  const labelled = pieces.length >= 2 && pieces[1] === 'svc'
  if (labelled) parseLabelledName(pieces, upstream, whole, entry)
  else {
    if (pieces.length > 1) upstream.namespace = pieces[1]
    if (pieces.length > 2) upstream.partition = pieces.slice(2).join('.')
  }
  if (parts.length > 2 && parts[2] !== '') parseUpstreamExtra(parts[2], labelled, upstream, whole, entry)
  return upstream
}

function parseLabelledName(pieces: string[], upstream: Upstream, whole: string, entry: string): void {
  const setByLabel = (value: string, label: string): void => {
    if (label === 'peer') upstream.peer = value
    else if (label === 'ap') upstream.partition = value
    else if (label === 'dc') upstream.datacenter = value
    else throw upstreamError(whole, entry, `has an unknown label ".${label}" (expected .peer, .ap or .dc)`)
  }
  switch (pieces.length) {
    case 2:
      return
    case 4:
      // Consul Enterprise: <svc>.svc.<ns>.ns; Community: <svc>.svc.<peer|dc>.<peer|dc>.
      if (pieces[3] === 'ns') upstream.namespace = pieces[2]
      else if (pieces[3] === 'ap') throw upstreamError(whole, entry, 'names a partition without a namespace (use <svc>.svc.<ns>.ns.<partition>.ap)')
      else setByLabel(pieces[2], pieces[3])
      return
    case 6:
      if (pieces[3] !== 'ns') throw upstreamError(whole, entry, `has ".${pieces[3]}" where ".ns" belongs`)
      upstream.namespace = pieces[2]
      setByLabel(pieces[4], pieces[5])
      return
    default:
      throw upstreamError(whole, entry, 'is not a valid labelled upstream')
  }
}

const OPTION_KEYS: Record<string, 'destinationPort' | 'localBindAddress' | 'meshGatewayMode' | 'datacenter'> = {
  destination_port: 'destinationPort',
  'destination-port': 'destinationPort',
  destinationPort: 'destinationPort',
  port: 'destinationPort',
  local_bind_address: 'localBindAddress',
  'local-bind-address': 'localBindAddress',
  localBindAddress: 'localBindAddress',
  mesh_gateway_mode: 'meshGatewayMode',
  'mesh-gateway-mode': 'meshGatewayMode',
  meshGatewayMode: 'meshGatewayMode',
  datacenter: 'datacenter',
  dc: 'datacenter',
}

/** The optional third segment: a datacenter (unlabelled), a destination port (labelled) or query-style options. */
function parseUpstreamExtra(extra: string, labelled: boolean, upstream: Upstream, whole: string, entry: string): void {
  let prefix = ''
  let query = ''
  const questionMark = extra.indexOf('?')
  if (questionMark >= 0) {
    prefix = extra.slice(0, questionMark).trim()
    query = extra.slice(questionMark + 1)
  } else if (extra.includes('=') || extra.includes('&')) query = extra
  else prefix = extra

  if (query) {
    for (const pair of query.replaceAll(';', '&').split('&').filter(Boolean)) {
      const [key, value = ''] = splitN(pair, '=', 2).map((part) => part.trim())
      const field = OPTION_KEYS[key]
      if (!field) throw upstreamError(whole, entry, `has an unsupported option "${key}"`)
      if (value === '') continue
      if (field === 'meshGatewayMode' && !['none', 'local', 'remote'].includes(value)) {
        throw upstreamError(whole, entry, `has an invalid mesh gateway mode "${value}" (none, local or remote)`)
      }
      if (field === 'datacenter' && upstream.datacenter && upstream.datacenter !== value) {
        throw upstreamError(whole, entry, 'names two different datacenters')
      }
      upstream[field] = value
    }
  }
  if (prefix) {
    if (labelled) upstream.destinationPort = prefix
    else upstream.datacenter ??= prefix
  }
}
