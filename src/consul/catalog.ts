/**
 * Consul catalog and health reads (with blocking-query support) and node registration, on
 * top of ConsulClient. Reads default to Consul's default consistency (leader-forwarded),
 * never stale, so a plan is made from the current catalog.
 */
import {ConsulApiError, type ConsulClient} from './client.js'

export interface CatalogServiceInstance {
  ID: string
  Service: string
  Tags: string[] | null
  Address: string
  Port: number
  Meta: Record<string, string> | null
  /** Absent: Consul's default weights (passing 1, warning 1). */
  Weights?: ServiceWeights
  CreateIndex?: number
  ModifyIndex?: number
}

export interface ServiceWeights {
  Passing: number
  Warning: number
}

/** Weights other than Consul's default {1, 1}, else undefined (kept small at thousands of instances). */
export function nonDefaultWeights(weights: ServiceWeights | null | undefined): ServiceWeights | undefined {
  if (!weights || (weights.Passing === 1 && weights.Warning === 1)) return undefined
  return {Passing: weights.Passing, Warning: weights.Warning}
}

export interface CatalogNode {
  ID?: string
  Node: string
  Address: string
  Meta?: Record<string, string> | null
  ModifyIndex?: number
}

export interface HealthCheck {
  Node: string
  CheckID: string
  Name: string
  Status: string
  Output?: string
  ServiceID?: string
  ServiceName?: string
  Type?: string
  ModifyIndex?: number
}

export interface BlockingOptions {
  /** X-Consul-Index of the previous answer: wait until the data changes past it. */
  index?: string
  /** Longest wait, e.g. "60s". */
  wait?: string
  /** Per-request timeout (a blocking query needs more than `wait`). */
  timeoutMs?: number
  token?: string
}

export interface Indexed<T> {
  data: T
  index?: string
}

function blockingQuery(options: BlockingOptions): Record<string, string | undefined> {
  return options.index ? {index: options.index, wait: options.wait ?? '60s'} : {}
}

/** Every service instance registered on one node; `node` undefined when it is not registered. */
export async function nodeServices(
  client: ConsulClient,
  node: string,
  options: BlockingOptions = {},
): Promise<Indexed<{node?: CatalogNode; services: CatalogServiceInstance[]}>> {
  try {
    const response = await client.request<{Node: CatalogNode | null; Services: CatalogServiceInstance[] | null} | null>(
      'GET',
      `/v1/catalog/node-services/${encodeURIComponent(node)}`,
      {query: blockingQuery(options), timeoutMs: options.timeoutMs, token: options.token},
    )
    // Keep only the fields sync uses: at thousands of instances the rest is most of the memory.
    const services = (response.data?.Services ?? []).map(({ID, Service, Tags, Address, Port, Meta, Weights, CreateIndex, ModifyIndex}) => {
      const weights = nonDefaultWeights(Weights)
      return weights
        ? {ID, Service, Tags, Address, Port, Meta, Weights: weights, CreateIndex, ModifyIndex}
        : {ID, Service, Tags, Address, Port, Meta, CreateIndex, ModifyIndex}
    })
    return {data: {node: response.data?.Node ?? undefined, services}, index: response.index}
  } catch (error) {
    if (error instanceof ConsulApiError && error.status === 404) return {data: {services: []}}
    throw error
  }
}

/** The fields of a health check sync and verify read (answers are reduced to them: memory at 5,000 services). */
function checkFields({Node, CheckID, Name, Status, Output, ServiceID, ServiceName, Type, ModifyIndex}: HealthCheck): HealthCheck {
  return {Node, CheckID, Name, Status, Output, ServiceID, ServiceName, Type, ModifyIndex}
}

/** Every health check on one node. */
export async function nodeChecks(client: ConsulClient, node: string, options: BlockingOptions = {}): Promise<Indexed<HealthCheck[]>> {
  const response = await client.request<HealthCheck[] | null>('GET', `/v1/health/node/${encodeURIComponent(node)}`, {
    query: blockingQuery(options),
    timeoutMs: options.timeoutMs,
    token: options.token,
  })
  return {data: (response.data ?? []).map(checkFields), index: response.index}
}

/** /v1/catalog/services: every service visible to the token, with the union of its instances' tags. */
export async function catalogServices(client: ConsulClient, options: BlockingOptions = {}): Promise<Indexed<Record<string, string[]>>> {
  const response = await client.request<Record<string, string[] | null> | null>('GET', '/v1/catalog/services', {
    query: blockingQuery(options),
    timeoutMs: options.timeoutMs,
    token: options.token,
  })
  const services: Record<string, string[]> = {}
  for (const [name, tags] of Object.entries(response.data ?? {})) services[name] = tags ?? []
  return {data: services, index: response.index}
}

/** Nodes whose node meta has every given key = value (/v1/catalog/nodes?node-meta=k:v). */
export async function catalogNodes(
  client: ConsulClient,
  nodeMeta: Record<string, string> = {},
  options: BlockingOptions = {},
): Promise<Indexed<CatalogNode[]>> {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(nodeMeta)) query.append('node-meta', `${key}:${value}`)
  const qs = query.toString()
  const response = await client.request<CatalogNode[] | null>('GET', `/v1/catalog/nodes${qs ? `?${qs}` : ''}`, {
    query: blockingQuery(options),
    timeoutMs: options.timeoutMs,
    token: options.token,
  })
  const nodes = (response.data ?? []).map(({ID, Node, Address, Meta, ModifyIndex}) => ({ID, Node, Address, Meta, ModifyIndex}))
  return {data: nodes, index: response.index}
}

/** Health checks in any state matching a filter expression (/v1/health/state/any?filter=...). */
export async function checksMatching(client: ConsulClient, filter: string, options: BlockingOptions = {}): Promise<Indexed<HealthCheck[]>> {
  const response = await client.request<HealthCheck[] | null>('GET', '/v1/health/state/any', {
    query: {...blockingQuery(options), filter},
    timeoutMs: options.timeoutMs,
    token: options.token,
  })
  return {data: (response.data ?? []).map(checkFields), index: response.index}
}

/** A string literal for a Consul filter expression. */
export function filterString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** Register a node without services; an existing node of that name is left as it is. */
export async function registerNode(client: ConsulClient, node: {Node: string; Address: string; NodeMeta?: Record<string, string>}): Promise<void> {
  await client.put('/v1/catalog/register', {...node, SkipNodeUpdate: true})
}
