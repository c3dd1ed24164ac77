/**
 * Live mode: the injection done once to the workloads of a cluster. Lists the workloads of
 * one namespace (or all), plans each pod template exactly as the manifest mode does, and
 * replaces the templates that change (optimistically: a workload changed meanwhile is
 * reported, not overwritten). Workloads whose pods are managed by another object are left
 * to that object; Jobs and bare Pods cannot have their template changed and are reported.
 */
import {connectCluster, describeKubeError, isConflict, isNotFound, type KubeCluster} from '../kube/client.js'
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

const KINDS: Array<{kind: string; apiVersion: string; mutable: boolean}> = [
  {kind: 'Deployment', apiVersion: 'apps/v1', mutable: true},
  {kind: 'StatefulSet', apiVersion: 'apps/v1', mutable: true},
  {kind: 'DaemonSet', apiVersion: 'apps/v1', mutable: true},
  {kind: 'ReplicaSet', apiVersion: 'apps/v1', mutable: true},
  {kind: 'CronJob', apiVersion: 'batch/v1', mutable: true},
  {kind: 'Job', apiVersion: 'batch/v1', mutable: false},
  {kind: 'Pod', apiVersion: 'v1', mutable: false},
]

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

export async function planCluster(target: ClusterTarget, settings: InjectSettings, progress: (text: string) => void = () => {}): Promise<ClusterPlan> {
  const cluster = await connectCluster({kubeconfig: target.kubeconfig, context: target.context})
  const namespace = target.allNamespaces ? undefined : (target.namespace ?? cluster.context.namespace ?? 'default')
  const core = cluster.core()
  const objectsApi = cluster.objects()

  progress(`Reading the workloads of ${namespace ? `namespace ${namespace}` : 'all namespaces'} in context ${cluster.name}`)
  const namespaceLabels = new Map<string, Record<string, string>>()
  if (namespace) {
    try {
      const found = await core.readNamespace({name: namespace})
      namespaceLabels.set(namespace, found.metadata?.labels ?? {})
    } catch (error) {
      if (isNotFound(error)) {
        throw new UserError(`Namespace "${namespace}" does not exist in context "${cluster.name}".`, {
          hint: 'Pick an existing namespace with -n, or use --all-namespaces.',
        })
      }
      throw describeKubeError(error, `read namespace ${namespace}`, cluster)
    }
  } else {
    const list = await cluster.call('list namespaces', () => core.listNamespace())
    for (const item of list.items) namespaceLabels.set(item.metadata?.name ?? '', item.metadata?.labels ?? {})
  }

  const serviceList = await cluster.call('list services', () =>
    namespace ? core.listNamespacedService({namespace}) : core.listServiceForAllNamespaces(),
  )
  const services: ServiceInfo[] = serviceList.items.map((service) => ({
    name: service.metadata?.name ?? '',
    namespace: service.metadata?.namespace ?? '',
    selector: service.spec?.selector,
  }))
  const environment: PlanEnvironment = {services, servicesComplete: true, namespaceLabels: (name) => namespaceLabels.get(name)}

  const workloads: WorkloadPlan[] = []
  const objects = new Map<WorkloadPlan, Json>()
  for (const {kind, apiVersion, mutable} of KINDS) {
    const list = await cluster.call(`list ${kind}s`, () => objectsApi.list(apiVersion, kind, namespace))
    for (const item of list.items) {
      // The client's models use the API's field names for every workload field, so JSON gives the plain object.
      const object: Json = {...(JSON.parse(JSON.stringify(item)) as Json), apiVersion, kind}
      if (controlled(object)) continue
      const template = templateOf(object, kind)
      const ref = {kind, name: String(object.metadata?.name), namespace: String(object.metadata?.namespace)}
      if (!template) continue
      let planned = planWorkload(
        {...ref, template, workloadAnnotations: kind === 'Pod' ? undefined : (object.metadata?.annotations ?? {})},
        settings,
        environment,
      )
      if (planned.action === 'inject' && !mutable) {
        planned = {
          ...planned,
          action: 'skip',
          reason: `a ${kind}'s pod template cannot be changed in place`,
          warnings: [
            ...planned.warnings,
            `this ${kind} would be injected, but Kubernetes forbids changing its pod template; inject its manifest (consulk8s inject -f) and re-create it`,
          ],
        }
      }
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
  const api = cluster.objects()
  const results: ApplyResult[] = []
  for (const workload of clusterPlan.plan.workloads) {
    const object = injectedObject(clusterPlan, workload)
    if (!object) continue
    try {
      await api.replace(object, undefined, options.serverDryRun ? 'All' : undefined, 'consulk8s')
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
