/**
 * The addresses secondaries use to reach the primary's mesh gateways (primary_gateways in
 * serverConfigJSON), derived from the mesh gateway Service the way the chart derives a
 * gateway's WAN address, in a stable sorted order (the chart's job writes them in map
 * order, consul-k8s#366). Pure: takes the objects, reads nothing.
 */
import {isIP} from 'node:net'

import {UserError} from '../shared/errors.js'

export type MeshGatewayServiceType = 'LoadBalancer' | 'NodePort'
export const MESH_GATEWAY_SERVICE_TYPES: readonly MeshGatewayServiceType[] = ['LoadBalancer', 'NodePort']

/** The parts of a Service this module reads (client-node's V1Service fits). */
export interface ServiceLike {
  metadata?: {name?: string}
  spec?: {
    type?: string
    ports?: Array<{name?: string; port: number; nodePort?: number}>
    selector?: Record<string, string>
  }
  status?: {loadBalancer?: {ingress?: Array<{ip?: string; hostname?: string}>}}
}

export interface NodeLike {
  metadata?: {name?: string}
  status?: {addresses?: Array<{type: string; address: string}>}
}

export interface PodLike {
  spec?: {nodeName?: string}
  status?: {hostIP?: string}
}

export type GatewayDiscovery = {ready: true; gateways: string[]; source: string} | {ready: false; reason: string}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

/** Validates and normalises "host:port" ("[v6]:port" for IPv6). */
export function parseGateway(value: string): string {
  const trimmed = value.trim()
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed) ?? /^([^:]+):(\d+)$/.exec(trimmed)
  const bad = () =>
    new UserError(`Invalid gateway address "${value}".`, {
      hint: 'Use host:port, e.g. 203.0.113.10:443 or gw.example.com:443 ([2001:db8::1]:443 for IPv6).',
    })
  if (!match) throw bad()
  const [, host, portText] = match
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw bad()
  if (trimmed.startsWith('[')) {
    if (isIP(host) !== 6) throw bad()
    return `[${host}]:${port}`
  }
  if (isIP(host) !== 4 && !HOSTNAME.test(host)) throw bad()
  return `${host.toLowerCase()}:${port}`
}

function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

function splitHost(address: string): string {
  return address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.slice(0, address.lastIndexOf(':'))
}

function ipv4Key(host: string): number {
  return host.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0)
}

/** IPv4 first (numerically), then IPv6, then host names (alphabetically); port breaks ties. */
export function compareGateways(a: string, b: string): number {
  const hostA = splitHost(a)
  const hostB = splitHost(b)
  const rank = (host: string) => (isIP(host) === 4 ? 0 : isIP(host) === 6 ? 1 : 2)
  if (rank(hostA) !== rank(hostB)) return rank(hostA) - rank(hostB)
  if (rank(hostA) === 0 && hostA !== hostB) return ipv4Key(hostA) - ipv4Key(hostB)
  if (hostA !== hostB) return hostA < hostB ? -1 : 1
  const portA = Number(a.slice(a.lastIndexOf(':') + 1))
  const portB = Number(b.slice(b.lastIndexOf(':') + 1))
  return portA - portB
}

/** Normalised, de-duplicated and sorted. */
export function sortGateways(gateways: Iterable<string>): string[] {
  return [...new Set([...gateways].map((gateway) => parseGateway(gateway)))].sort(compareGateways)
}

/** The address other clusters reach a node on: ExternalIP, else InternalIP. */
export function nodeAddress(node: NodeLike): string | undefined {
  const addresses = node.status?.addresses ?? []
  return (addresses.find((entry) => entry.type === 'ExternalIP') ?? addresses.find((entry) => entry.type === 'InternalIP'))?.address
}

function gatewayPort(service: ServiceLike): {port: number; nodePort?: number} | undefined {
  const ports = service.spec?.ports ?? []
  return ports.find((port) => port.name === 'gateway') ?? ports[0]
}

/**
 * The gateway addresses of a mesh gateway Service.
 * LoadBalancer: every ingress IP (else hostname) with the service port.
 * NodePort: the address of every node running a gateway pod, with the nodePort.
 */
export function gatewaysFromService(
  service: ServiceLike | undefined,
  nodes: {pods?: readonly PodLike[]; nodes?: readonly NodeLike[]} = {},
  serviceName = 'the mesh gateway Service',
): GatewayDiscovery {
  if (!service) return {ready: false, reason: `${serviceName} does not exist yet (is Consul installed with meshGateway.enabled?)`}
  const name = service.metadata?.name ?? serviceName
  const type = service.spec?.type ?? 'ClusterIP'
  const port = gatewayPort(service)
  if (!port) return {ready: false, reason: `Service ${name} has no ports`}
  if (type === 'LoadBalancer') {
    const ingress = service.status?.loadBalancer?.ingress ?? []
    const hosts = ingress.map((entry) => entry.ip || entry.hostname).filter((host): host is string => Boolean(host))
    if (hosts.length === 0) return {ready: false, reason: `Service ${name} (LoadBalancer) has no external IP or hostname yet`}
    return {ready: true, gateways: sortGateways(hosts.map((host) => joinHostPort(host, port.port))), source: `Service ${name} (LoadBalancer ingress)`}
  }
  if (type === 'NodePort') {
    if (!port.nodePort) return {ready: false, reason: `Service ${name} (NodePort) has no nodePort assigned yet`}
    const byName = new Map((nodes.nodes ?? []).map((node) => [node.metadata?.name ?? '', node]))
    const hosts = new Set<string>()
    for (const pod of nodes.pods ?? []) {
      const node = pod.spec?.nodeName ? byName.get(pod.spec.nodeName) : undefined
      const host = (node && nodeAddress(node)) ?? pod.status?.hostIP
      if (host) hosts.add(host)
    }
    if (hosts.size === 0) return {ready: false, reason: `no mesh gateway pod of Service ${name} (NodePort) is running on a node yet`}
    return {
      ready: true,
      gateways: sortGateways([...hosts].map((host) => joinHostPort(host, port.nodePort!))),
      source: `Service ${name} (NodePort, gateway pods' nodes)`,
    }
  }
  throw new UserError(`Service ${name} is of type ${type}, which other clusters cannot reach.`, {
    hint: 'Use meshGateway.service.type LoadBalancer or NodePort, or give the reachable addresses with --primary-gateway host:port.',
  })
}

/** A catalog entry of the mesh gateway service (/v1/catalog/service/<name>), the parts read here. */
export interface CatalogGateway {
  ServiceAddress?: string
  ServicePort?: number
  ServiceTaggedAddresses?: Record<string, {Address?: string; Port?: number} | undefined>
}

/**
 * The gateway addresses from the Consul catalog: every instance's `wan` tagged address, which
 * the chart registers from meshGateway.wanAddress (Service ingress, node IP or a static
 * address and port), the same source the chart's create-federation-secret job reads.
 */
export function gatewaysFromCatalog(entries: readonly CatalogGateway[], serviceName: string): GatewayDiscovery {
  const where = `service ${serviceName} in the primary's Consul catalog`
  if (entries.length === 0) return {ready: false, reason: `${where} has no instance yet (is the mesh gateway running?)`}
  const addresses = entries
    .map((entry) => entry.ServiceTaggedAddresses?.wan)
    .filter((wan): wan is {Address: string; Port: number} => Boolean(wan?.Address && wan.Port))
  if (addresses.length === 0) return {ready: false, reason: `no instance of ${where} has a wan tagged address yet`}
  return {ready: true, gateways: sortGateways(addresses.map((wan) => joinHostPort(wan.Address, wan.Port))), source: `${where} (wan tagged addresses)`}
}
