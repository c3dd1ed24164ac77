/**
 * Turning what the user typed into SyncOptions, with one readable error per mistake.
 * Direction rule: naming a direction (--to-consul / --to-k8s) syncs only the named ones;
 * otherwise both run, minus any switched off with --no-to-consul / --no-to-k8s.
 */
import {UserError} from '../shared/errors.js'
import {DEFAULT_OPTIONS, NODE_PORT_SYNC_TYPES, type NodePortSyncType, type SyncOptions} from './model.js'

export interface SyncInput {
  toConsul?: boolean
  toK8s?: boolean
  defaultSync?: boolean
  syncClusterIPServices?: boolean
  syncLoadBalancerEndpoints?: boolean
  allowNamespaces?: string[]
  denyNamespaces?: string[]
  consulServicePrefix?: string
  k8sServicePrefix?: string
  addK8sNamespaceSuffix?: boolean
  consulNodeName?: string
  k8sWriteNamespace?: string
  nodePortSyncType?: string
  consulDomain?: string
  consulK8sTag?: string
  adopt?: boolean
}

/** The flag behind each sync setting (for --from-release: which were given, and the settings table). */
export const SETTING_FLAGS: Record<keyof SyncInput, string> = {
  toConsul: 'to-consul',
  toK8s: 'to-k8s',
  defaultSync: 'default-sync',
  syncClusterIPServices: 'sync-clusterip-services',
  syncLoadBalancerEndpoints: 'sync-lb-services-endpoints',
  allowNamespaces: 'k8s-allow-namespace',
  denyNamespaces: 'k8s-deny-namespace',
  consulServicePrefix: 'consul-service-prefix',
  k8sServicePrefix: 'k8s-service-prefix',
  addK8sNamespaceSuffix: 'add-k8s-namespace-suffix',
  consulNodeName: 'consul-node-name',
  k8sWriteNamespace: 'k8s-write-namespace',
  nodePortSyncType: 'node-port-sync-type',
  consulDomain: 'consul-domain',
  consulK8sTag: 'consul-k8s-tag',
  adopt: 'adopt',
}

export function resolveDirections(toConsul?: boolean, toK8s?: boolean): {toConsul: boolean; toK8s: boolean} {
  if (toConsul === true || toK8s === true) return {toConsul: toConsul === true, toK8s: toK8s === true}
  return {toConsul: toConsul !== false, toK8s: toK8s !== false}
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Repeatable namespace flags; an empty value ("") clears the list. */
function namespaces(values: string[] | undefined, fallback: string[], flag: string): string[] {
  if (values === undefined) return fallback
  const list = values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean)
  for (const ns of list) {
    if (ns !== '*' && (ns.length > 63 || !DNS_LABEL.test(ns))) {
      throw new UserError(`--${flag} "${ns}" is not a valid namespace name.`, {
        hint: 'Namespaces are lowercase DNS labels; "*" means all namespaces.',
      })
    }
  }
  return list
}

export function syncOptionsFrom(input: SyncInput): SyncOptions {
  const directions = resolveDirections(input.toConsul, input.toK8s)
  if (!directions.toConsul && !directions.toK8s) {
    throw new UserError('Both sync directions are switched off: there is nothing to do.', {
      hint: 'Keep at least one of --to-consul (Kubernetes -> Consul) and --to-k8s (Consul -> Kubernetes).',
    })
  }
  const nodePortSyncType = (input.nodePortSyncType ?? DEFAULT_OPTIONS.nodePortSyncType) as NodePortSyncType
  if (!NODE_PORT_SYNC_TYPES.includes(nodePortSyncType)) {
    throw new UserError(`--node-port-sync-type "${input.nodePortSyncType}" is not one of ${NODE_PORT_SYNC_TYPES.join(', ')}.`)
  }
  const consulNodeName = (input.consulNodeName ?? DEFAULT_OPTIONS.consulNodeName).trim()
  if (consulNodeName === '') {
    throw new UserError('--consul-node-name is empty.', {
      hint: 'The node name is also the ownership marker of the engine; give it a stable name such as k8s-sync.',
    })
  }
  const k8sWriteNamespace = input.k8sWriteNamespace ?? DEFAULT_OPTIONS.k8sWriteNamespace
  if (!DNS_LABEL.test(k8sWriteNamespace) || k8sWriteNamespace.length > 63) {
    throw new UserError(`--k8s-write-namespace "${k8sWriteNamespace}" is not a valid namespace name.`)
  }
  const consulK8sTag = (input.consulK8sTag ?? DEFAULT_OPTIONS.consulK8sTag).trim()
  if (consulK8sTag === '')
    throw new UserError('--consul-k8s-tag is empty.', {hint: 'The tag marks registrations from Kubernetes and keeps them from being synced back.'})
  const consulDomain = (input.consulDomain ?? DEFAULT_OPTIONS.consulDomain).replace(/^\.+|\.+$/g, '')
  if (consulDomain === '') throw new UserError('--consul-domain is empty.')
  const allowNamespaces = namespaces(input.allowNamespaces, DEFAULT_OPTIONS.allowNamespaces, 'k8s-allow-namespace')
  if (directions.toConsul && allowNamespaces.length === 0) {
    throw new UserError('--k8s-allow-namespace allows no namespace.', {hint: 'Name namespaces to sync from, or "*" for all of them.'})
  }
  return {
    ...directions,
    defaultSync: input.defaultSync ?? DEFAULT_OPTIONS.defaultSync,
    syncClusterIPServices: input.syncClusterIPServices ?? DEFAULT_OPTIONS.syncClusterIPServices,
    syncLoadBalancerEndpoints: input.syncLoadBalancerEndpoints ?? DEFAULT_OPTIONS.syncLoadBalancerEndpoints,
    allowNamespaces,
    denyNamespaces: namespaces(input.denyNamespaces, DEFAULT_OPTIONS.denyNamespaces, 'k8s-deny-namespace'),
    consulServicePrefix: input.consulServicePrefix ?? DEFAULT_OPTIONS.consulServicePrefix,
    k8sServicePrefix: input.k8sServicePrefix ?? DEFAULT_OPTIONS.k8sServicePrefix,
    addK8sNamespaceSuffix: input.addK8sNamespaceSuffix ?? DEFAULT_OPTIONS.addK8sNamespaceSuffix,
    consulNodeName,
    k8sWriteNamespace,
    nodePortSyncType,
    consulDomain,
    consulK8sTag,
    adopt: input.adopt ?? DEFAULT_OPTIONS.adopt,
  }
}
