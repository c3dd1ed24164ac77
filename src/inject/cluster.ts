/**
 * Live mode: the injection done once to the workloads of a cluster. Lists the workloads of
 * one namespace (or all), plans each pod template exactly as the manifest mode does, and
 * replaces the templates that change (optimistically: a workload changed meanwhile is
 * reported, not overwritten). Workloads whose pods are managed by another object are left
 * to that object; Jobs and bare Pods cannot have their template changed and are reported.
 */
import type {V1Namespace, V1Service} from '@kubernetes/client-node'

import {connectCluster, describeKubeError, isConflict, kubePath, type KubeCluster, type ResourceRef} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import type {Json} from './mutate.js'
import {planWorkload, type InjectPlan, type PlanEnvironment, type ServiceInfo, type WorkloadPlan} from './plan.js'
import type {InjectSettings} from './settings.js'
import {isObject, templateOf, withTemplate} from './workloads.js'

export interface ClusterTarget {
  kubeconfig?: string
  context?: string
  /** The workloads' namespace; default: the context's namespace, else "default". */
  namespace?: string
  allNamespaces?: boolean
}

const KINDS: Array<{kind: string; apiVersion: string; resource: string; mutable: boolean}> = [
  {kind: 'Deployment', apiVersion: 'apps/v1', resource: 'deployments', mutable: true},
  {kind: 'StatefulSet', apiVersion: 'apps/v1', resource: 'statefulsets', mutable: true},
  {kind: 'DaemonSet', apiVersion: 'apps/v1', resource: 'daemonsets', mutable: true},
  {kind: 'ReplicaSet', apiVersion: 'apps/v1', resource: 'replicasets', mutable: true},
  {kind: 'CronJob', apiVersion: 'batch/v1', resource: 'cronjobs', mutable: true},
  {kind: 'Job', apiVersion: 'batch/v1', resource: 'jobs', mutable: false},
  {kind: 'Pod', apiVersion: 'v1', resource: 'pods', mutable: false},
]

/** The API path of a kind in KINDS, for one namespace, all, or one object. */
function workloadRef(kind: string, namespace?: string, name?: string): ResourceRef {
  const entry = KINDS.find((candidate) => candidate.kind === kind)!
  const [group, version] = entry.apiVersion.includes('/') ? entry.apiVersion.split('/') : ['', entry.apiVersion]
  return {group, version, resource: entry.resource, namespace, name}
}

export interface ClusterPlan {
  plan: InjectPlan
  cluster: KubeCluster
  /** The live object of each planned workload (plain JSON). */
  objects: Map<WorkloadPlan, Json>
}

export interface ApplyResult {
  workload: WorkloadPlan
  ok: boolean
  error?: string
}

function controlled(object: Json): boolean {
  return (object.metadata?.ownerReferences ?? []).some((owner: Json) => owner.controller === true)
}

export async function planCluster(
  target: ClusterTarget,
  settings: InjectSettings,
  progress: (text: string) => void = () => {},
): Promise<ClusterPlan> {
  const cluster = await connectCluster({kubeconfig: target.kubeconfig, context: target.context})
  const namespace = target.allNamespaces ? undefined : (target.namespace ?? cluster.context.namespace ?? 'default')

  progress(`Reading the workloads of ${namespace ? `namespace ${namespace}` : 'all namespaces'} in context ${cluster.name}`)
  const environment = await readEnvironment(cluster, namespace)
  const workloads: WorkloadPlan[] = []
  const objects = new Map<WorkloadPlan, Json>()
  for (const {kind, apiVersion, mutable} of KINDS) {
    const list = await cluster.list<Json>(`list ${kind}s`, workloadRef(kind, namespace))
    for (const item of list) {
      const object: Json = {...item, apiVersion, kind}
      const planned = planLiveWorkload(object, mutable, settings, environment)
      if (!planned) continue
      workloads.push(planned)
      objects.set(planned, object)
    }
  }
  return {
    plan: {mode: 'cluster', context: cluster.name, namespaces: namespace ? [namespace] : 'all', workloads},
    cluster,
    objects,
  }
}

/** The namespaces' labels and the Services the plan looks at (one namespace, or all). */
async function readEnvironment(cluster: KubeCluster, namespace: string | undefined): Promise<PlanEnvironment> {
  const namespaceLabels = new Map<string, Record<string, string>>()
  if (namespace) {
    const found = await cluster.getOptional<V1Namespace>(`read namespace ${namespace}`, {resource: 'namespaces', name: namespace})
    if (!found) {
      throw new UserError(`Namespace "${namespace}" does not exist in context "${cluster.name}".`, {
        hint: 'Pick an existing namespace with -n, or use --all-namespaces.',
      })
    }
    namespaceLabels.set(namespace, found.metadata?.labels ?? {})
  } else {
    const list = await cluster.list<V1Namespace>('list namespaces', {resource: 'namespaces'})
    for (const item of list) namespaceLabels.set(item.metadata?.name ?? '', item.metadata?.labels ?? {})
  }

  const serviceList = await cluster.list<V1Service>('list services', {resource: 'services', namespace})
  const services: ServiceInfo[] = serviceList.map((service) => ({
    name: service.metadata?.name ?? '',
    namespace: service.metadata?.namespace ?? '',
    selector: service.spec?.selector,
  }))
  return {services, servicesComplete: true, namespaceLabels: (name) => namespaceLabels.get(name)}
}

/**
 * The plan of one live object (pure); undefined for objects left to their controller or
 * without a pod template. A kind whose template cannot change in place is reported, not injected.
 */
function planLiveWorkload(object: Json, mutable: boolean, settings: InjectSettings, environment: PlanEnvironment): WorkloadPlan | undefined {
  const kind = String(object.kind)
  if (controlled(object)) return undefined
  const template = templateOf(object, kind)
  const ref = {kind, name: String(object.metadata?.name), namespace: String(object.metadata?.namespace)}
  if (!template) return undefined
  const planned = planWorkload(
    {...ref, template, workloadAnnotations: kind === 'Pod' ? undefined : (object.metadata?.annotations ?? {})},
    settings,
    environment,
  )
  if (planned.action !== 'inject' || mutable) return planned
  return {
    ...planned,
    action: 'skip',
    reason: `a ${kind}'s pod template cannot be changed in place`,
    warnings: [
      ...planned.warnings,
      `this ${kind} would be injected, but Kubernetes forbids changing its pod template; inject its manifest (consulk8s inject -f) and re-create it`,
    ],
  }
}

/** The workload as it will be written: the live object with its injected template, without server-owned noise. */
export function injectedObject(clusterPlan: ClusterPlan, workload: WorkloadPlan): Json | undefined {
  const object = clusterPlan.objects.get(workload)
  if (!object || workload.action !== 'inject' || !workload.after) return undefined
  return withTemplate(object, workload.kind, workload.after)
}

/** Manifest-style copy of an object for output (-o yaml|json): no status or managed fields. */
export function presentable(object: Json): Json {
  const {status: _status, ...rest} = object
  const metadata = isObject(rest.metadata) ? {...rest.metadata} : {}
  delete metadata.managedFields
  return {...rest, metadata}
}

/** Replaces the template of every workload planned for injection; one failure does not stop the others. */
export async function applyClusterPlan(clusterPlan: ClusterPlan, options: {serverDryRun?: boolean} = {}): Promise<ApplyResult[]> {
  const {cluster} = clusterPlan
  const results: ApplyResult[] = []
  for (const workload of clusterPlan.plan.workloads) {
    const object = injectedObject(clusterPlan, workload)
    if (!object) continue
    try {
      await cluster.api.request('PUT', kubePath(workloadRef(workload.kind, workload.namespace, workload.name)), {
        body: object,
        query: {dryRun: options.serverDryRun ? 'All' : undefined, fieldManager: 'consulk8s'},
      })
      results.push({workload, ok: true})
    } catch (error) {
      const message = isConflict(error)
        ? `${workload.kind} ${workload.namespace}/${workload.name} changed while consulk8s was planning; re-run to inject the new version`
        : describeKubeError(error, `update ${workload.kind} ${workload.namespace}/${workload.name}`, cluster).message
      results.push({workload, ok: false, error: message})
    }
  }
  return results
}
