/**
 * global.federation.k8sAuthMethodHost: the secondary's Kubernetes API URL as the primary's
 * Consul servers reach it. Usually the kubeconfig's cluster server; kind-style local
 * clusters write https://127.0.0.1:<port> there, which the primary cannot reach, so then
 * the address of the secondary's default/kubernetes endpoints is used instead (as
 * consul-k8s's own tests do), with a warning like istioctl's. Pure.
 */
import {isIP} from 'node:net'

import {UserError} from '../shared/errors.js'

export interface EndpointsLike {
  subsets?: Array<{addresses?: Array<{ip: string}>; ports?: Array<{name?: string; port: number}>}>
}

export interface EndpointSliceLike {
  addressType?: string
  endpoints?: Array<{addresses: string[]; conditions?: {ready?: boolean}}>
  ports?: Array<{name?: string; port?: number}>
}

export interface ApiEndpoint {
  ip: string
  port: number
}

export interface AuthHostChoice {
  url: string
  source: 'flag' | 'kubeconfig' | 'endpoints'
  warning?: string
}

export function validateK8sAuthMethodHost(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UserError(`Invalid --k8s-auth-method-host "${value}".`, {
      hint: 'Give the full URL of the Kubernetes API, e.g. https://203.0.113.20:6443.',
    })
  }
  if (url.protocol !== 'https:') {
    throw new UserError(`--k8s-auth-method-host must be an https:// URL, got "${value}".`, {
      hint: 'The Kubernetes API is served over HTTPS, e.g. https://203.0.113.20:6443.',
    })
  }
  return value.replace(/\/+$/, '')
}

function hostOf(server: string): string | undefined {
  try {
    return new URL(server).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return undefined
  }
}

/** localhost, 127.0.0.0/8, ::1, 0.0.0.0: reachable only from the machine itself. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase()
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true
  if (isIP(lower) === 4) return lower.startsWith('127.') || lower === '0.0.0.0'
  if (isIP(lower) === 6) return lower === '::1' || lower === '::' || /^::ffff:127\./.test(lower)
  return false
}

export function isLoopbackServer(server: string): boolean {
  const host = hostOf(server)
  return host !== undefined && isLoopbackHost(host)
}

/** The API server addresses published in default/kubernetes (Endpoints or EndpointSlices). */
export function apiEndpoints(endpoints?: EndpointsLike, slices: readonly EndpointSliceLike[] = []): ApiEndpoint[] {
  const found: ApiEndpoint[] = []
  for (const subset of endpoints?.subsets ?? []) {
    const port = (subset.ports ?? []).find((entry) => entry.name === 'https') ?? subset.ports?.[0]
    if (!port) continue
    for (const address of subset.addresses ?? []) found.push({ip: address.ip, port: port.port})
  }
  if (found.length === 0) {
    for (const slice of slices) {
      const port = (slice.ports ?? []).find((entry) => entry.name === 'https') ?? slice.ports?.[0]
      if (!port?.port) continue
      for (const endpoint of slice.endpoints ?? []) {
        if (endpoint.conditions?.ready === false) continue
        for (const ip of endpoint.addresses) found.push({ip, port: port.port})
      }
    }
  }
  const unique = new Map(found.map((entry) => [`${entry.ip}:${entry.port}`, entry]))
  return [...unique.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1))
}

function urlOf(endpoint: ApiEndpoint): string {
  return `https://${isIP(endpoint.ip) === 6 ? `[${endpoint.ip}]` : endpoint.ip}:${endpoint.port}`
}

/**
 * Chooses the URL: the flag when given; else the kubeconfig server unless it is loopback;
 * else the first non-loopback API endpoint. `endpoints` is only consulted (and only needs
 * to be read) when the server is loopback.
 */
export function chooseK8sAuthMethodHost(input: {flag?: string; server: string; context: string; endpoints?: readonly ApiEndpoint[]}): AuthHostChoice {
  if (input.flag) return {url: validateK8sAuthMethodHost(input.flag), source: 'flag'}
  if (!isLoopbackServer(input.server)) return {url: input.server.replace(/\/+$/, ''), source: 'kubeconfig'}
  const reachable = (input.endpoints ?? []).filter((endpoint) => !isLoopbackHost(endpoint.ip))
  if (reachable.length === 0) {
    throw new UserError(
      `The kubeconfig server of context "${input.context}" is ${input.server}, a loopback address the primary's Consul servers cannot reach, and its default/kubernetes endpoints publish no other address.`,
      {hint: 'Pass --k8s-auth-method-host https://<address the primary can reach>:<port>.'},
    )
  }
  const url = urlOf(reachable[0])
  return {
    url,
    source: 'endpoints',
    warning: `The kubeconfig server of context "${input.context}" is ${input.server} (loopback, as kind writes it), which the primary's Consul servers cannot reach; using ${url}, the address of its default/kubernetes endpoints, instead. Pass --k8s-auth-method-host to choose another.`,
  }
}
