/**
 * The whole plan, in memory and pure: desired state against the current state of both
 * sides, giving adds, updates and removals per side. Only what carries the engine's marker
 * (Consul meta k8s-sync-node / Kubernetes annotation consulk8s/sync-node equal to its node
 * name) is ever updated or removed; anything else with the same identity is a conflict.
 */
import {
  ANNOTATION,
  CHECK,
  META,
  type ConsulCheck,
  type ConsulNodeState,
  type ConsulService,
  type ConsulState,
  type ExternalNameService,
  type Held,
  type K8sService,
  type K8sState,
  type Registration,
  type Removal,
  type Skip,
  type SyncOptions,
  type SyncPlan,
  type ToConsulPlan,
  type ToK8sPlan,
} from './model.js'
import {nonDefaultWeights} from '../consul/catalog.js'
import {desiredRegistrations, isHeld} from './to-consul.js'
import {SYNC_SERVICE_LABEL} from '../shared/labels.js'

export function ownsRegistration(service: ConsulService, options: Pick<SyncOptions, 'consulNodeName'>): boolean {
  return service.Meta?.[META.owner] === options.consulNodeName
}

/**
 * A registration as consul-k8s's sync-catalog writes it (on the sync node, which the caller
 * checks): external-source=kubernetes, the k8s tag, and no consulk8s marker at all.
 */
export function isSyncCatalogRegistration(service: ConsulService, options: Pick<SyncOptions, 'consulK8sTag'>): boolean {
  return (
    service.Meta?.[META.owner] === undefined &&
    service.Meta?.[META.source] === META.sourceValue &&
    (service.Tags ?? []).includes(options.consulK8sTag)
  )
}

/** A Service as sync-catalog writes it: labelled consul=true, no consulk8s marker. */
export function isSyncCatalogService(service: K8sService): boolean {
  return service.labels[SYNC_SERVICE_LABEL] === 'true' && service.annotations[ANNOTATION.owner] === undefined
}

/** The engine's own Service, or (with --adopt) one sync-catalog wrote. */
export function ownsK8sService(service: K8sService, options: Pick<SyncOptions, 'consulNodeName' | 'adopt'>): boolean {
  if (service.labels[SYNC_SERVICE_LABEL] === 'true' && service.annotations[ANNOTATION.owner] === options.consulNodeName) return true
  return options.adopt && isSyncCatalogService(service)
}

const ADOPT_HINT = "written by consul-k8s's sync-catalog? --adopt takes it over"

function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  const x = a ?? []
  const y = b ?? []
  return x.length === y.length && x.every((value, index) => value === y[index])
}

function sameMap(a: Record<string, string> | null, b: Record<string, string> | null): boolean {
  const x = a ?? {}
  const y = b ?? {}
  const keys = Object.keys(x)
  return keys.length === Object.keys(y).length && keys.every((key) => y[key] === x[key])
}

function sameWeights(a: ConsulService['Weights'], b: ConsulService['Weights']): boolean {
  const x = nonDefaultWeights(a)
  const y = nonDefaultWeights(b)
  return x?.Passing === y?.Passing && x?.Warning === y?.Warning
}

function serviceChanges(desired: ConsulService, current: ConsulService): string[] {
  const changes: string[] = []
  if (desired.Service !== current.Service) changes.push('name')
  if (!sameList(desired.Tags, current.Tags)) changes.push('tags')
  if (desired.Address !== current.Address) changes.push('address')
  if (desired.Port !== current.Port) changes.push('port')
  if (!sameMap(desired.Meta, current.Meta)) changes.push('meta')
  if (!sameWeights(desired.Weights, current.Weights)) changes.push('weights')
  return changes
}

function checkChanges(desired: Registration['check'], current: ConsulCheck | undefined, serviceId: string): string[] {
  if (!desired) return current ? ['check removed'] : []
  if (!current) return ['check added']
  const same =
    current.Status === desired.Status &&
    (current.Output ?? '') === desired.Output &&
    current.Name === desired.Name &&
    (current.ServiceID ?? '') === serviceId &&
    (current.Type === undefined || current.Type === '' || current.Type === desired.Type)
  return same ? [] : [current.Status === desired.Status ? 'check' : `check ${current.Status} -> ${desired.Status}`]
}

const nodeKey = (node: string, id: string) => `${node}\u0000${id}`

/** What Consul holds on every node read, keyed by node and service ID. */
interface CatalogIndex {
  /** The engine's own node, and those an earlier consulk8s put NodePort instances on. */
  nodes: Map<string, ConsulNodeState>
  services: Map<string, ConsulService>
  /** A service's checks on its node; the readiness check of ours is the one we compare. */
  checks: Map<string, ConsulCheck[]>
}

function indexCatalog(consul: ConsulState, own: string): CatalogIndex {
  const nodes = new Map<string, ConsulNodeState>([
    [own, {node: own, exists: consul.nodeExists, meta: {}, services: consul.nodeServices, checks: consul.nodeChecks}],
  ])
  for (const other of consul.otherNodes ?? []) if (other.node !== own) nodes.set(other.node, other)
  const services = new Map<string, ConsulService>()
  const checks = new Map<string, ConsulCheck[]>()
  for (const state of nodes.values()) {
    for (const service of state.services) services.set(nodeKey(state.node, service.ID), service)
    for (const check of state.checks) {
      if (!check.ServiceID) continue
      const key = nodeKey(state.node, check.ServiceID)
      const list = checks.get(key)
      if (list) list.push(check)
      else checks.set(key, [check])
    }
  }
  return {nodes, services, checks}
}

/** Ours, or (with --adopt) sync-catalog's on the engine's node. */
function claims(service: ConsulService, node: string, options: SyncOptions): boolean {
  return ownsRegistration(service, options) || (options.adopt && node === options.consulNodeName && isSyncCatalogRegistration(service, options))
}

/** Adds and updates for the desired registrations; returns the keys they take (kept from removal). */
function planWrites(plan: ToConsulPlan, registrations: Registration[], catalog: CatalogIndex, options: SyncOptions): Set<string> {
  const wanted = new Set<string>()
  const conflicted = new Set<string>()
  for (const registration of registrations) {
    const id = registration.service.ID
    const node = options.consulNodeName
    const key = nodeKey(node, id)
    const existing = catalog.services.get(key)
    if (!existing) {
      wanted.add(key)
      plan.add.push(registration)
      continue
    }
    if (!claims(existing, node, options)) {
      if (!conflicted.has(registration.source)) {
        const hint = isSyncCatalogRegistration(existing, options) ? ` (${ADOPT_HINT})` : ''
        plan.skipped.push({
          source: registration.source,
          reason: `Consul already has service ID "${id}" on node ${node}, not registered by this engine; left alone${hint}`,
          kind: 'conflict',
        })
      }
      conflicted.add(registration.source)
      continue
    }
    wanted.add(key)
    const checks = catalog.checks.get(key) ?? []
    const currentCheck = registration.check
      ? checks.find((check) => check.CheckID === registration.check?.CheckID)
      : checks.find((check) => check.Type === CHECK.type || check.Name === CHECK.name)
    const serviceDiff = serviceChanges(registration.service, existing)
    if (!ownsRegistration(existing, options)) serviceDiff.unshift('adopted')
    const changes = [...serviceDiff, ...checkChanges(registration.check, currentCheck, id)]
    if (changes.length === 0) plan.unchanged++
    else plan.update.push({desired: registration, current: existing, currentCheck, changes, checkOnly: serviceDiff.length === 0})
  }
  return wanted
}

/** Removals: what the engine claims that nothing wants any more, and the node entries it emptied. */
function planRemovals(plan: ToConsulPlan, catalog: CatalogIndex, wanted: Set<string>, held: Held[], options: SyncOptions): void {
  const own = options.consulNodeName
  for (const state of catalog.nodes.values()) {
    let left = 0
    for (const service of state.services) {
      if (wanted.has(nodeKey(state.node, service.ID)) || !claims(service, state.node, options)) {
        left++
        continue
      }
      // A malformed annotation never takes a live service out of Consul.
      if (state.node === own && isHeld(service, held)) {
        plan.kept++
        left++
        continue
      }
      const removal: Removal = {id: service.ID, service: service.Service, modifyIndex: service.ModifyIndex}
      plan.remove.push(state.node === own ? removal : {node: state.node, ...removal})
    }
    // A node entry the engine created for a Kubernetes node goes when nothing is left on it.
    if (state.node !== own && state.exists && state.meta[META.owner] === own && left === 0) {
      plan.removeNodes.push({node: state.node, modifyIndex: state.modifyIndex})
    }
  }
}

export function planToConsul(k8s: K8sState, consul: ConsulState, options: SyncOptions): ToConsulPlan {
  const desired = desiredRegistrations(k8s, options)
  const own = options.consulNodeName
  const plan: ToConsulPlan = {
    node: own,
    registerNode: !consul.nodeExists,
    add: [],
    update: [],
    remove: [],
    removeNodes: [],
    unchanged: 0,
    skipped: [...desired.skipped],
    selected: desired.selected,
    pending: desired.pending,
    warnings: desired.warnings,
    kept: 0,
  }
  const catalog = indexCatalog(consul, own)
  const wanted = planWrites(plan, desired.registrations, catalog, options)
  planRemovals(plan, catalog, wanted, desired.held, options)
  return plan
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export interface DesiredExternalNames {
  services: ExternalNameService[]
  skipped: Skip[]
}

/** The ExternalName services the Consul catalog calls for; services tagged k8s are never synced back. */
export function desiredExternalNames(catalog: Record<string, string[]>, options: SyncOptions): DesiredExternalNames {
  const result: DesiredExternalNames = {services: [], skipped: []}
  const names = new Set<string>()
  for (const consulName of Object.keys(catalog).sort()) {
    if ((catalog[consulName] ?? []).includes(options.consulK8sTag)) continue
    const source = `consul:${consulName}`
    const name = `${options.k8sServicePrefix}${consulName}`.toLowerCase()
    const externalName = `${consulName}.service.${options.consulDomain}`.toLowerCase()
    if (name.length > 63 || !DNS_LABEL.test(name)) {
      result.skipped.push({
        source,
        reason: `"${name}" is not a valid Kubernetes service name (DNS-1035 label, at most 63 characters)`,
        kind: 'invalid',
      })
      continue
    }
    if (externalName.length > 253 || !DNS_SUBDOMAIN.test(externalName)) {
      result.skipped.push({source, reason: `"${externalName}" is not a valid DNS name for externalName`, kind: 'invalid'})
      continue
    }
    if (names.has(name)) {
      result.skipped.push({source, reason: `another Consul service already maps to Kubernetes service "${name}"`, kind: 'conflict'})
      continue
    }
    names.add(name)
    result.services.push({name, namespace: options.k8sWriteNamespace, externalName, consulService: consulName})
  }
  return result
}

export function planToK8s(catalog: Record<string, string[]>, k8sServices: K8sService[], options: SyncOptions): ToK8sPlan {
  const namespace = options.k8sWriteNamespace
  const desired = desiredExternalNames(catalog, options)
  const plan: ToK8sPlan = {namespace, add: [], update: [], remove: [], unchanged: 0, skipped: [...desired.skipped]}
  const existing = new Map(k8sServices.filter((s) => s.namespace === namespace).map((s) => [s.name, s]))
  const wanted = new Set<string>()
  for (const service of desired.services) {
    const current = existing.get(service.name)
    if (!current) {
      wanted.add(service.name)
      plan.add.push(service)
      continue
    }
    if (!ownsK8sService(current, options)) {
      const hint = isSyncCatalogService(current) ? ` (${ADOPT_HINT})` : ''
      plan.skipped.push({
        source: `consul:${service.consulService}`,
        reason: `Kubernetes service ${namespace}/${service.name} already exists and was not created by this engine; left alone${hint}`,
        kind: 'conflict',
      })
      continue
    }
    wanted.add(service.name)
    const changes: string[] = []
    if (current.annotations[ANNOTATION.owner] !== options.consulNodeName) changes.push('adopted')
    if (current.type !== 'ExternalName') changes.push('type')
    if (current.externalName !== service.externalName) changes.push('externalName')
    if (current.annotations[ANNOTATION.synced] !== 'true' || current.annotations[ANNOTATION.sync] !== 'false') changes.push('annotations')
    if (changes.length === 0) plan.unchanged++
    else plan.update.push({desired: service, resourceVersion: current.resourceVersion, changes})
  }
  for (const current of existing.values()) {
    if (wanted.has(current.name) || !ownsK8sService(current, options)) continue
    plan.remove.push({name: current.name, namespace, resourceVersion: current.resourceVersion})
  }
  return plan
}

export function planSync(k8s: K8sState, consul: ConsulState, options: SyncOptions): SyncPlan {
  return {
    toConsul: options.toConsul ? planToConsul(k8s, consul, options) : undefined,
    toK8s: options.toK8s ? planToK8s(consul.catalogServices, k8s.services, options) : undefined,
  }
}
