/**
 * The seed's ProxyDefaults step: a `ProxyDefaults` named `global` with `meshGateway.mode: local`
 * in every federated datacenter, so cross-datacenter mesh traffic goes through the mesh
 * gateways. Created as the custom resource when the cluster has consul-k8s's CRD (its
 * controller syncs it into Consul), else as the Consul config entry through the API; only the
 * mesh gateway mode is ever set, every other setting the user has is kept. Read, pure plan,
 * apply, like the rest of federation.
 */
import type {ConsulClient} from '../consul/client.js'
import {ConsulApiError, describeConsulError} from '../consul/client.js'
import type {KubeCluster} from '../kube/client.js'
import type {Step} from './primary.js'

import {errorMessage} from '../shared/errors.js'
import {CONSULK8S_LABEL} from '../shared/labels.js'
import {apiStatusCode} from '../kube/errors.js'
import {pollUntil} from '../shared/poll.js'

export const PROXY_DEFAULTS_CRD = 'proxydefaults.consul.hashicorp.com'
/** How long a CRD that exists may take to be served (helm has just installed it). */
const CRD_ESTABLISH_WAIT_MS = 15_000
export const PROXY_DEFAULTS_REF = {group: 'consul.hashicorp.com', version: 'v1alpha1', resource: 'proxydefaults'} as const
export const MESH_GATEWAY_MODE = 'local'

export interface ProxyDefaultsResource {
  metadata: {name: string; namespace: string; resourceVersion?: string}
  spec?: {meshGateway?: {mode?: string}} & Record<string, unknown>
  status?: {conditions?: Array<{type?: string; status?: string; reason?: string; message?: string}>}
}

export type ConfigEntry = Record<string, unknown> & {MeshGateway?: {Mode?: string}; ModifyIndex?: number}

export interface ProxyDefaultsState {
  /** Whether the cluster has the ProxyDefaults CRD (consul-k8s with connect inject installed). */
  crd: boolean
  /** The ProxyDefaults named global, in whatever namespace it is. */
  resource?: ProxyDefaultsResource
  /** Consul's proxy-defaults/global: null when Consul has none, undefined when Consul was not asked. */
  entry?: ConfigEntry | null
}

export type ProxyDefaultsPlan =
  | {action: 'unchanged'; detail: string}
  | {action: 'pending'; detail: string; hint: string}
  | {action: 'create' | 'update'; via: 'resource'; namespace: string; detail: string}
  | {action: 'create' | 'update'; via: 'consul'; entry: ConfigEntry; cas: number; detail: string}

/** The seed's ProxyDefaults resource, labelled as consulk8s's. */
export function proxyDefaultsManifest(namespace: string): Record<string, unknown> {
  return {
    apiVersion: `${PROXY_DEFAULTS_REF.group}/${PROXY_DEFAULTS_REF.version}`,
    kind: 'ProxyDefaults',
    metadata: {name: 'global', namespace, labels: {...CONSULK8S_LABEL}},
    spec: {meshGateway: {mode: MESH_GATEWAY_MODE}},
  }
}

/** What to do so that the datacenter's proxy defaults send mesh traffic through the local gateway. Pure. */
export function planProxyDefaults(state: ProxyDefaultsState, namespace: string): ProxyDefaultsPlan {
  const mode = `meshGateway.mode ${MESH_GATEWAY_MODE}`
  if (state.crd && state.resource) {
    const where = `${state.resource.metadata.namespace}/${state.resource.metadata.name}`
    if (state.resource.spec?.meshGateway?.mode === MESH_GATEWAY_MODE) return {action: 'unchanged', detail: `ProxyDefaults ${where} has ${mode}`}
    const was = state.resource.spec?.meshGateway?.mode
    return {
      action: 'update',
      via: 'resource',
      namespace: state.resource.metadata.namespace,
      detail: `ProxyDefaults ${where}: ${mode} (was ${was || 'unset'}); other settings kept`,
    }
  }
  if (state.entry && state.entry.MeshGateway?.Mode === MESH_GATEWAY_MODE) {
    return {action: 'unchanged', detail: `Consul config entry proxy-defaults/global has MeshGateway.Mode ${MESH_GATEWAY_MODE}`}
  }
  if (state.crd && !state.entry) {
    return {action: 'create', via: 'resource', namespace, detail: `ProxyDefaults ${namespace}/global with ${mode} (synced into Consul by consul-k8s)`}
  }
  if (state.entry !== undefined) {
    // The Consul entry: either there is no CRD, or an entry exists that the CRD's controller
    // did not write (it would not take it over), so it is changed where it lives.
    const {CreateIndex: _created, ModifyIndex: modified, ...rest} = state.entry ?? {}
    void _created
    const entry: ConfigEntry = {
      ...rest,
      Kind: 'proxy-defaults',
      Name: 'global',
      MeshGateway: {...(state.entry?.MeshGateway ?? {}), Mode: MESH_GATEWAY_MODE},
    }
    const action = state.entry ? 'update' : 'create'
    const was = state.entry?.MeshGateway?.Mode
    return {
      action,
      via: 'consul',
      entry,
      cas: typeof modified === 'number' ? modified : 0,
      detail: `Consul config entry proxy-defaults/global: MeshGateway.Mode ${MESH_GATEWAY_MODE}${state.entry ? ` (was ${was || 'unset'}); other settings kept` : ''}`,
    }
  }
  return {
    action: 'pending',
    detail: 'needs the ProxyDefaults CRD (install Consul first) or the Consul API',
    hint: 'Re-run this command after the install (the chart brings the ProxyDefaults CRD), or give --consul-http-addr and --consul-token.',
  }
}

interface CrdObject {
  status?: {conditions?: Array<{type?: string; status?: string}>}
}

function established(definition: CrdObject): boolean {
  return (definition.status?.conditions ?? []).some((condition) => condition.type === 'Established' && condition.status === 'True')
}

/** The CRD (there and served, not there, or still being established) and the ProxyDefaults named global. */
async function readServedProxyDefaults(cluster: KubeCluster): Promise<{crd: boolean | 'establishing'; resource?: ProxyDefaultsResource}> {
  const definition = await cluster.getOptional<CrdObject>('read the ProxyDefaults CRD', {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
    name: PROXY_DEFAULTS_CRD,
  })
  if (definition === undefined) return {crd: false}
  if (!established(definition)) return {crd: 'establishing'}
  try {
    const all = await cluster.list<ProxyDefaultsResource>('list ProxyDefaults', PROXY_DEFAULTS_REF)
    return {crd: true, resource: all.find((item) => item.metadata.name === 'global')}
  } catch (error) {
    if (apiStatusCode((error as {cause?: unknown}).cause) === 404) return {crd: 'establishing'}
    throw error
  }
}

/** The CRD, the ProxyDefaults named global (any namespace) and, with Consul, its config entry. Only reads. */
export async function readProxyDefaults(cluster: KubeCluster, consul?: ConsulClient): Promise<ProxyDefaultsState> {
  // A CRD helm (or anyone) has just created serves its resources only once it is Established
  // (until then the API answers 404): wait a moment for that; a CRD that never gets there counts
  // as not there.
  const served = await pollUntil({
    attempt: () => readServedProxyDefaults(cluster),
    done: (state) => state.crd !== 'establishing',
    timeoutMs: CRD_ESTABLISH_WAIT_MS,
    intervalMs: 500,
    onTimeout: (state) => state,
  })
  const crd = served.crd === true
  const resource = served.resource
  let entry: ConfigEntry | null | undefined
  if (consul) {
    try {
      entry = await consul.get<ConfigEntry>('/v1/config/proxy-defaults/global')
    } catch (error) {
      if (error instanceof ConsulApiError && error.status === 404) entry = null
      else throw describeConsulError(error, 'read the config entry proxy-defaults/global')
    }
  }
  return {crd, resource, entry}
}

export async function applyProxyDefaults(plan: ProxyDefaultsPlan, cluster: KubeCluster, consul?: ConsulClient): Promise<void> {
  if (plan.action !== 'create' && plan.action !== 'update') return
  if (plan.via === 'resource') {
    const ref = {...PROXY_DEFAULTS_REF, namespace: plan.namespace, name: 'global'}
    if (plan.action === 'create') {
      await cluster.create(`create ProxyDefaults ${plan.namespace}/global`, ref, proxyDefaultsManifest(plan.namespace))
    } else {
      await cluster.mergePatch(`update ProxyDefaults ${plan.namespace}/global`, ref, {spec: {meshGateway: {mode: MESH_GATEWAY_MODE}}})
    }
    return
  }
  try {
    // cas: create only if still absent (0), update only the entry that was read.
    const written = await consul!.put<boolean>('/v1/config', plan.entry, {query: {cas: plan.cas}})
    if (written === false) throw new Error('the entry changed in Consul meanwhile; run the command again')
  } catch (error) {
    throw describeConsulError(error, 'write the config entry proxy-defaults/global')
  }
}

/** Read, plan and (unless a dry run) apply, as one reported step. */
export async function ensureProxyDefaults(input: {cluster: KubeCluster; consul?: ConsulClient; namespace: string; dryRun: boolean}): Promise<Step> {
  const plan = planProxyDefaults(await readProxyDefaults(input.cluster, input.consul), input.namespace)
  if (!input.dryRun) {
    try {
      await applyProxyDefaults(plan, input.cluster, input.consul)
    } catch (error) {
      // consul-k8s validates its custom resources with a webhook served by connect-inject, which
      // answers only once its pod runs (right after `helm install` it does not yet).
      if (!/failed calling webhook/i.test(errorMessage(error))) throw error
      return {
        kind: 'proxy-defaults',
        name: 'global',
        action: 'pending',
        detail: "consul-k8s's webhook for ProxyDefaults does not answer yet (connect-inject is not running)",
        hints: ["Run this command again once Consul's pods run (e.g. after `consulk8s status` shows them ready)."],
      }
    }
  }
  return {
    kind: 'proxy-defaults',
    name: 'global',
    action: plan.action,
    detail: plan.detail,
    ...(plan.action === 'pending' ? {hints: [plan.hint]} : {}),
  }
}

/**
 * After `--install` the chart's ProxyDefaults CRD exists: a step that was pending is done now
 * and replaced in `steps`; returns it (undefined when nothing was pending).
 */
export async function finishPendingProxyDefaults(
  steps: Step[],
  input: {cluster: KubeCluster; consul?: ConsulClient; namespace: string},
): Promise<Step | undefined> {
  const index = steps.findIndex((step) => step.kind === 'proxy-defaults' && step.action === 'pending')
  if (index === -1) return undefined
  steps[index] = await ensureProxyDefaults({...input, dryRun: false})
  return steps[index]
}
