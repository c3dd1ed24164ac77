/**
 * Kubernetes -> Consul, pure: which Consul registrations the Kubernetes services, their
 * EndpointSlices and the nodes call for. No I/O; the same input always gives the same
 * registrations in the same order.
 */
import {createHash} from 'node:crypto'

import {annotationMeta, choosePort, parseBool, parseTags, parseWeight, validateMeta, type PortChoice} from './annotations.js'
import {
  ANNOTATION,
  CHECK,
  META,
  type ConsulService,
  type DesiredCheck,
  type Held,
  type K8sEndpoint,
  type K8sEndpointSlice,
  type K8sNode,
  type K8sService,
  type K8sState,
  type Registration,
  type Skip,
  type SyncOptions,
  type Warning,
} from './model.js'

/** consul-k8s's service ID: `<name>-<first 12 hex of sha1("<name>-<address>")>`. */
export function serviceID(name: string, address: string): string {
  return `${name}-${createHash('sha1').update(`${name}-${address}`).digest('hex').slice(0, 12)}`
}

export function sourceKey(service: {namespace: string; name: string}): string {
  return `${service.namespace}/${service.name}`
}

export type Selection = {selected: true} | {selected: false; reason: string; invalid?: string}

/** Whether a Kubernetes service is synced: deny list, allow list, type, then the annotation or the default. */
export function selectService(service: K8sService, options: SyncOptions): Selection {
  if (options.denyNamespaces.includes(service.namespace)) return {selected: false, reason: 'namespace denied'}
  if (!options.allowNamespaces.includes('*') && !options.allowNamespaces.includes(service.namespace)) {
    return {selected: false, reason: 'namespace not allowed'}
  }
  if (service.type === 'ExternalName') return {selected: false, reason: 'ExternalName services are not registered'}
  if (service.type === 'ClusterIP' && !options.syncClusterIPServices) return {selected: false, reason: 'ClusterIP sync is off'}
  const raw = service.annotations[ANNOTATION.sync]
  if (raw === undefined) return options.defaultSync ? {selected: true} : {selected: false, reason: 'default sync is off'}
  const value = parseBool(raw.trim())
  if (value === undefined) {
    return {selected: false, reason: 'invalid annotation', invalid: `${ANNOTATION.sync} "${raw}" is not true or false`}
  }
  return value ? {selected: true} : {selected: false, reason: `${ANNOTATION.sync} is false`}
}

export function consulServiceName(service: K8sService, options: SyncOptions): string {
  const annotated = service.annotations[ANNOTATION.name]
  if (annotated !== undefined) return annotated.trim()
  const name = `${options.consulServicePrefix}${service.name}`
  return options.addK8sNamespaceSuffix ? `${name}-${service.namespace}` : name
}

interface Base {
  name: string
  tags: string[]
  meta: Record<string, string>
  port: PortChoice
  /** service-weight: Weights.Passing of LoadBalancer and external-IP instances. */
  passingWeight?: number
}

const MAX_SERVICE_NAME = 255

/** Whether a service's instances are its load balancer addresses (not its endpoints). */
const isLoadBalancer = (service: K8sService, options: SyncOptions) => service.type === 'LoadBalancer' && !options.syncLoadBalancerEndpoints

/** Whether a service's instances are its external IPs or load balancer addresses (service-weight applies). */
const isExternal = (service: K8sService, options: SyncOptions) => service.externalIPs.length > 0 || isLoadBalancer(service, options)

/**
 * Name, tags, meta and port shared by every instance of a service, or the annotation problem.
 * Fallbacks consul-k8s makes silently (unknown service-port name, bad service-weight) are warnings.
 */
function baseRegistration(service: K8sService, options: SyncOptions, warn: (message: string) => void): Base | string {
  const name = consulServiceName(service, options)
  if (name === '') return `${ANNOTATION.name} is empty`
  // consul-k8s's getAnnotationServiceName: 1-255 characters.
  if (name.length > MAX_SERVICE_NAME) {
    const what = service.annotations[ANNOTATION.name] === undefined ? 'the Consul service name' : ANNOTATION.name
    return `${what} "${name.slice(0, 40)}…" is longer than ${MAX_SERVICE_NAME} characters`
  }
  const port = choosePort(service.type, service.ports, service.annotations[ANNOTATION.port])
  if (!port.ok) return port.problem
  if (port.value.warning) warn(port.value.warning)
  let passingWeight: number | undefined
  const rawWeight = service.annotations[ANNOTATION.weight]
  if (rawWeight !== undefined && rawWeight !== '' && isExternal(service, options)) {
    const weight = parseWeight(rawWeight)
    if (weight.ok) passingWeight = weight.value
    else warn(weight.problem)
  }
  const tags = [options.consulK8sTag]
  const rawTags = service.annotations[ANNOTATION.tags]
  if (rawTags !== undefined) {
    const parsed = parseTags(rawTags)
    if (!parsed.ok) return parsed.problem
    for (const tag of parsed.value) if (!tags.includes(tag)) tags.push(tag)
  }
  const meta: Record<string, string> = {[META.source]: META.sourceValue, [META.namespace]: service.namespace}
  for (const p of service.ports) meta[`port-${p.name ?? ''}`] = String(p.port)
  const extra = annotationMeta(service.annotations)
  if (!extra.ok) return extra.problem
  const metaProblem = validateMeta(extra.value)
  if (metaProblem) return `${ANNOTATION.metaPrefix}* annotations: ${metaProblem}`
  Object.assign(meta, extra.value)
  meta[META.owner] = options.consulNodeName
  const problem = validateMeta(meta)
  if (problem) return problem
  return {name, tags, meta, port: port.value, passingWeight}
}

/** consul-k8s's updateServiceMeta: the endpoint's target (both keys whenever there is a target), node and zone. */
function endpointMeta(base: Record<string, string>, endpoint: K8sEndpoint, owner: string): Record<string, string> {
  const meta = {...base}
  if (endpoint.targetRef) {
    meta[META.refName] = endpoint.targetRef.name ?? ''
    meta[META.refKind] = endpoint.targetRef.kind ?? ''
  }
  if (endpoint.nodeName) meta[META.nodeName] = endpoint.nodeName
  if (endpoint.zone) meta[META.zone] = endpoint.zone
  meta[META.owner] = owner
  return meta
}

function readiness(namespace: string, id: string, ready: boolean): DesiredCheck {
  return {
    CheckID: `${namespace}/${id}`,
    Name: CHECK.name,
    Type: CHECK.type,
    Status: ready ? 'passing' : 'critical',
    Output: ready ? CHECK.passing : CHECK.failing,
  }
}

function instance(base: Base, idAddress: string, address: string, port: number, meta: Record<string, string> = base.meta): ConsulService {
  const service: ConsulService = {ID: serviceID(base.name, idAddress), Service: base.name, Tags: base.tags, Address: address, Port: port, Meta: meta}
  // Only set on LoadBalancer / external-IP services. consul-k8s sends AgentWeights{Passing: n}
  // (Warning 0, Go's zero value); Warning stays Consul's default 1 here (see docs/sync.md).
  if (base.passingWeight !== undefined) service.Weights = {Passing: base.passingWeight, Warning: 1}
  return service
}

/** The endpoint port of a slice for this service: the named service-port, the number, else the slice's first port. */
function slicePort(slice: K8sEndpointSlice, choice: PortChoice): number {
  if (choice.portNumber !== undefined) return choice.portNumber
  if (choice.portName !== undefined) return slice.ports.find((p) => p.name === choice.portName)?.port ?? choice.port
  return slice.ports[0]?.port ?? choice.port
}

export function nodeAddress(node: K8sNode | undefined, syncType: SyncOptions['nodePortSyncType']): string | undefined {
  if (!node) return undefined
  const find = (type: string) => node.addresses.find((a) => a.type === type)?.address
  if (syncType === 'InternalOnly') return find('InternalIP')
  if (syncType === 'ExternalOnly') return find('ExternalIP')
  return find('ExternalIP') ?? find('InternalIP')
}

interface Instances {
  registrations: Registration[]
  /** Why there are none, when there are none. */
  pending?: string
}

function instancesOf(service: K8sService, base: Base, slices: K8sEndpointSlice[], nodes: Map<string, K8sNode>, options: SyncOptions): Instances {
  const source = sourceKey(service)
  const registrations: Registration[] = []
  const seen = new Set<string>()
  /** An instance whose ID comes from `idAddress` (the endpoint address for NodePort, as consul-k8s). */
  const add = (idAddress: string, address: string, port: number, meta?: Record<string, string>, ready?: boolean) => {
    if (!idAddress || !address || seen.has(idAddress)) return
    seen.add(idAddress)
    const svc = instance(base, idAddress, address, port, meta)
    registrations.push({source, service: svc, check: ready === undefined ? undefined : readiness(service.namespace, svc.ID, ready)})
  }

  // External IPs, on any type of service, are the instances.
  if (service.externalIPs.length > 0) {
    for (const ip of service.externalIPs) add(ip, ip, base.port.port)
    return {registrations}
  }
  if (isLoadBalancer(service, options)) {
    for (const ingress of service.loadBalancerIngress) {
      const address = ingress.ip || ingress.hostname || ''
      add(address, address, base.port.port)
    }
    return {registrations, pending: registrations.length === 0 ? 'no load balancer address yet' : undefined}
  }
  if (service.type === 'NodePort') {
    // As consul-k8s: one instance per endpoint address that runs on a node, on the engine's
    // node, at the Kubernetes node's address and the nodePort, its ID from the endpoint address.
    const missing = new Set<string>()
    for (const slice of slices) {
      for (const endpoint of slice.endpoints) {
        if (!endpoint.nodeName) continue
        const address = nodeAddress(nodes.get(endpoint.nodeName), options.nodePortSyncType)
        if (!address) {
          missing.add(endpoint.nodeName)
          continue
        }
        const meta = endpointMeta(base.meta, endpoint, options.consulNodeName)
        for (const endpointAddress of endpoint.addresses) add(endpointAddress, address, base.port.port, meta, endpoint.ready !== false)
      }
    }
    if (registrations.length > 0) return {registrations}
    if (missing.size > 0) return {registrations, pending: `no ${options.nodePortSyncType} address on node(s) ${[...missing].sort().join(', ')}`}
    return {registrations, pending: 'no endpoints on any node'}
  }
  // ClusterIP (and LoadBalancer with syncLoadBalancerEndpoints): one instance per endpoint address, on the endpoint port.
  for (const slice of slices) {
    const port = slicePort(slice, base.port)
    for (const endpoint of slice.endpoints) {
      const meta = endpointMeta(base.meta, endpoint, options.consulNodeName)
      // As consul-k8s: only an endpoint that says it is ready passes (unset is critical).
      const ready = endpoint.ready === true
      for (const address of endpoint.addresses) {
        const value = address || endpoint.hostname || ''
        add(value, value, port, meta, ready)
      }
    }
  }
  return {registrations, pending: registrations.length === 0 ? 'no endpoints' : undefined}
}

export interface DesiredRegistrations {
  registrations: Registration[]
  skipped: Skip[]
  selected: number
  pending: string[]
  warnings: Warning[]
  /** Services skipped for a malformed annotation: their current registrations stay. */
  held: Held[]
}

/** The Consul names a service skipped for a malformed annotation may be registered under. */
function heldNames(service: K8sService, options: SyncOptions): string[] {
  const names = new Set([consulServiceName({...service, annotations: {}}, options)])
  const annotated = service.annotations[ANNOTATION.name]?.trim()
  if (annotated) names.add(annotated)
  return [...names]
}

const KEPT = 'its registrations already in Consul are kept as they are until it is fixed'

/** Whether a registration on the engine's node belongs to a service held for a malformed annotation. */
export function isHeld(service: ConsulService, held: Held[]): boolean {
  const namespace = service.Meta?.[META.namespace]
  return held.some((h) => h.namespace === namespace && h.names.includes(service.Service))
}

/** Every registration the Kubernetes state calls for, plus what was skipped and why. */
export function desiredRegistrations(state: K8sState, options: SyncOptions): DesiredRegistrations {
  const slicesByService = new Map<string, K8sEndpointSlice[]>()
  for (const slice of state.endpointSlices) {
    const key = `${slice.namespace}/${slice.serviceName}`
    const list = slicesByService.get(key)
    if (list) list.push(slice)
    else slicesByService.set(key, [slice])
  }
  for (const list of slicesByService.values()) list.sort((a, b) => a.name.localeCompare(b.name))
  const nodes = new Map(state.nodes.map((node) => [node.name, node]))

  const result: DesiredRegistrations = {registrations: [], skipped: [], selected: 0, pending: [], warnings: [], held: []}
  const hold = (service: K8sService, reason: string) => {
    result.skipped.push({source: sourceKey(service), reason: `${reason}; ${KEPT}`, kind: 'invalid'})
    result.held.push({namespace: service.namespace, names: heldNames(service, options)})
  }
  const owners = new Map<string, string>()
  const services = [...state.services].sort((a, b) => sourceKey(a).localeCompare(sourceKey(b)))
  for (const service of services) {
    const source = sourceKey(service)
    const selection = selectService(service, options)
    if (!selection.selected) {
      if (selection.invalid) hold(service, selection.invalid)
      continue
    }
    const base = baseRegistration(service, options, (message) => result.warnings.push({source, message}))
    if (typeof base === 'string') {
      hold(service, base)
      continue
    }
    result.selected++
    const {registrations, pending} = instancesOf(service, base, slicesByService.get(source) ?? [], nodes, options)
    // Two Kubernetes services must not fight over one Consul registration.
    const clash = registrations.find((r) => owners.has(r.service.ID))
    if (clash) {
      result.skipped.push({
        source,
        reason: `Consul service "${base.name}" at ${clash.service.Address} is already registered from ${owners.get(clash.service.ID)}`,
        kind: 'conflict',
      })
      continue
    }
    for (const registration of registrations) {
      owners.set(registration.service.ID, source)
      result.registrations.push(registration)
    }
    if (pending) result.pending.push(`${source}: ${pending}`)
  }
  return result
}
