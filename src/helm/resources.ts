/**
 * The release's Consul custom resources (ProxyDefaults, ServiceDefaults, ServiceIntentions,
 * Mesh, ...): found through the CustomResourceDefinitions the chart installed (labels app=consul,
 * release=<name>, groups ending in consul.hashicorp.com), deleted before `helm uninstall` while
 * the controller still runs, and, for those the controller did not release in time, freed by
 * dropping Consul's finalizer (finalizers.consul.hashicorp.com, or any other in a
 * consul.hashicorp.com domain; consul-k8s uninstall drops them all), so the CRDs do not hang in
 * deletion and a reinstall works. Finalizers of other controllers are left alone.
 */
import type {KubeCluster} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {errorMessage} from '../shared/errors.js'
import type {Progress} from '../shared/hooks.js'

export const CONSUL_FINALIZER = 'finalizers.consul.hashicorp.com'
/** How long the controller gets to process deletions before the finalizer is dropped. */
export const CUSTOM_RESOURCE_GRACE_MS = 15_000

export interface ConsulCrd {
  name: string
  group: string
  kind: string
  plural: string
  version: string
  namespaced: boolean
}

export interface CustomResourceRef {
  kind: string
  name: string
  namespace?: string
  finalizers: string[]
  crd: ConsulCrd
}

export interface CrdJson {
  metadata?: {name?: string}
  spec?: {
    group?: string
    scope?: string
    names?: {kind?: string; plural?: string}
    versions?: Array<{name?: string; served?: boolean; storage?: boolean}>
  }
}

interface CustomResourceJson {
  metadata?: {name?: string; namespace?: string; finalizers?: string[]; resourceVersion?: string}
}

export function isConsulGroup(group: string): boolean {
  return group === 'consul.hashicorp.com' || group.endsWith('.consul.hashicorp.com')
}

/**
 * A CustomResourceDefinition as a Consul CRD (kind -> plural, the version to read), or undefined
 * when its group is not Consul's. The storage version, else a served one, else the first listed.
 */
export function consulCrd(item: CrdJson): ConsulCrd | undefined {
  const spec = item.spec ?? {}
  const version = spec.versions?.find((candidate) => candidate.storage) ?? spec.versions?.find((candidate) => candidate.served) ?? spec.versions?.[0]
  if (!spec.group || !isConsulGroup(spec.group) || !spec.names?.plural || !version?.name) return undefined
  return {
    name: item.metadata?.name ?? '',
    group: spec.group,
    kind: spec.names.kind ?? spec.names.plural,
    plural: spec.names.plural,
    version: version.name,
    namespaced: spec.scope !== 'Cluster',
  }
}

/** The Consul CRDs of a release: what the chart labels app=consul, release=<name>. */
export async function listConsulCrds(cluster: KubeCluster, release: string): Promise<ConsulCrd[]> {
  const items = await cluster.list<CrdJson>(
    'list CustomResourceDefinitions',
    {group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions'},
    {labelSelector: `app=consul,release=${release}`},
  )
  return items
    .map((item) => consulCrd(item))
    .filter((crd): crd is ConsulCrd => crd !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** A finalizer of Consul's controllers: finalizers.consul.hashicorp.com, or any in a consul.hashicorp.com domain. */
export function isConsulFinalizer(finalizer: string): boolean {
  return isConsulGroup(finalizer.split('/')[0])
}

/** The finalizers a stuck custom resource keeps: every one that is not Consul's. */
export function withoutConsulFinalizers(finalizers: string[]): string[] {
  return finalizers.filter((finalizer) => !isConsulFinalizer(finalizer))
}

/** Every custom resource of these CRDs, in every namespace. */
export async function listCustomResources(cluster: KubeCluster, crds: ConsulCrd[]): Promise<CustomResourceRef[]> {
  const lists = await Promise.all(
    crds.map(async (crd) => {
      const items = await cluster.list<CustomResourceJson>(`list ${crd.kind} resources`, {
        group: crd.group,
        version: crd.version,
        resource: crd.plural,
      })
      return items.map((item): CustomResourceRef => ({
        kind: crd.kind,
        name: item.metadata?.name ?? '',
        namespace: item.metadata?.namespace,
        finalizers: item.metadata?.finalizers ?? [],
        crd,
      }))
    }),
  )
  return lists.flat()
}

export function describeResource(resource: Pick<CustomResourceRef, 'kind' | 'name' | 'namespace'>): string {
  return `${resource.kind} ${resource.namespace ? `${resource.namespace}/` : ''}${resource.name}`
}

function ref(resource: CustomResourceRef) {
  return {group: resource.crd.group, version: resource.crd.version, resource: resource.crd.plural, namespace: resource.namespace, name: resource.name}
}

export interface CustomResourceCleanup {
  /** Deleted (gone now). */
  deleted: string[]
  /** Freed by dropping Consul's finalizer after the grace period. */
  finalizersCleared: string[]
  /** Still there at the end (another finalizer holds them). */
  remaining: string[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function remainingAfter(cluster: KubeCluster, crds: ConsulCrd[], graceMs: number): Promise<CustomResourceRef[]> {
  const deadline = Date.now() + graceMs
  for (;;) {
    const left = await listCustomResources(cluster, crds)
    if (left.length === 0 || Date.now() >= deadline) return left
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())))
  }
}

/**
 * Delete every custom resource of the release's Consul CRDs, wait up to `graceMs` for the
 * controller to finish them, then drop the Consul finalizer of those left, and report.
 */
export async function removeCustomResources(
  cluster: KubeCluster,
  crds: ConsulCrd[],
  ui: Progress,
  graceMs = CUSTOM_RESOURCE_GRACE_MS,
): Promise<CustomResourceCleanup> {
  const result: CustomResourceCleanup = {deleted: [], finalizersCleared: [], remaining: []}
  const resources = await listCustomResources(cluster, crds)
  if (resources.length === 0) return result
  for (const resource of resources) {
    await cluster.remove(`delete ${describeResource(resource)}`, ref(resource))
  }
  ui.progress(`Deleting ${resources.length} Consul custom resource(s); the controller gets ${Math.round(graceMs / 1000)}s to release them`)
  let left = await remainingAfter(cluster, crds, graceMs)
  ui.done()
  const stuck = new Set(left.map((resource) => describeResource(resource)))
  for (const resource of left) {
    const finalizers = withoutConsulFinalizers(resource.finalizers)
    if (finalizers.length === resource.finalizers.length) continue
    try {
      await cluster.mergePatch(`clear the finalizer of ${describeResource(resource)}`, ref(resource), {
        metadata: {finalizers: finalizers.length > 0 ? finalizers : null},
      })
    } catch (error) {
      // Gone meanwhile: nothing left to free. Refused (e.g. by an admission webhook whose
      // service is down): reported as remaining; helm uninstall still goes ahead, as with consul-k8s.
      if (isNotFound((error as {cause?: unknown}).cause)) continue
      ui.warn(`Could not clear the finalizer of ${describeResource(resource)}: ${errorMessage(error)}`)
      continue
    }
    result.finalizersCleared.push(describeResource(resource))
  }
  if (result.finalizersCleared.length > 0) left = await remainingAfter(cluster, crds, 5000)
  result.remaining = left.map((resource) => describeResource(resource))
  const remaining = new Set(result.remaining)
  for (const resource of resources) {
    const name = describeResource(resource)
    if (!remaining.has(name) && !stuck.has(name)) result.deleted.push(name)
  }
  return result
}
