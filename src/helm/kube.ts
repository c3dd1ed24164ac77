/**
 * The Kubernetes reads and deletes of the install lifecycle, through the shared KubeCluster
 * (one client per context, readable errors). Everything here is scoped to one namespace and,
 * for deletes, to objects selected by label and name by the caller.
 */
import {isNotFound, type KubeCluster} from '../kube/client.js'

export async function serverVersion(cluster: KubeCluster): Promise<string> {
  const api = cluster.config.makeApiClient(cluster.k8s.VersionApi)
  const info = await cluster.call('read the server version', () => api.getCode())
  return info.gitVersion
}

export async function namespaceExists(cluster: KubeCluster, namespace: string): Promise<boolean> {
  try {
    await cluster.core().readNamespace({name: namespace})
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    return cluster.call(`read namespace ${namespace}`, () => Promise.reject(error))
  }
}

export interface SecretSummary {
  name: string
  /** Data keys holding a non-empty value (the values themselves are never kept). */
  keys: string[]
  labels: Record<string, string>
}

function summarizeSecret(secret: {metadata?: {name?: string; labels?: Record<string, string>}; data?: Record<string, string>; stringData?: Record<string, string>}): SecretSummary {
  const keys = Object.entries({...secret.data, ...secret.stringData})
    .filter(([, value]) => typeof value === 'string' && value !== '')
    .map(([key]) => key)
  return {name: secret.metadata?.name ?? '', keys: keys.sort(), labels: secret.metadata?.labels ?? {}}
}

export async function readSecretSummary(cluster: KubeCluster, namespace: string, name: string): Promise<SecretSummary | undefined> {
  try {
    return summarizeSecret(await cluster.core().readNamespacedSecret({name, namespace}))
  } catch (error) {
    if (isNotFound(error)) return undefined
    return cluster.call(`read secret ${namespace}/${name}`, () => Promise.reject(error))
  }
}

export async function listSecrets(cluster: KubeCluster, namespace: string, labelSelector: string): Promise<SecretSummary[]> {
  const list = await cluster.call(`list secrets in namespace ${namespace}`, () =>
    cluster.core().listNamespacedSecret({namespace, labelSelector}),
  )
  return list.items.map((item) => summarizeSecret(item))
}

export async function listPvcNames(cluster: KubeCluster, namespace: string, labelSelector: string): Promise<string[]> {
  const list = await cluster.call(`list persistent volume claims in namespace ${namespace}`, () =>
    cluster.core().listNamespacedPersistentVolumeClaim({namespace, labelSelector}),
  )
  return list.items.map((item) => item.metadata?.name ?? '').filter(Boolean)
}

/** Delete; an object already gone counts as deleted. */
export async function deleteSecret(cluster: KubeCluster, namespace: string, name: string): Promise<void> {
  await ignoreNotFound(cluster, `delete secret ${namespace}/${name}`, () => cluster.core().deleteNamespacedSecret({name, namespace}))
}

export async function deletePvc(cluster: KubeCluster, namespace: string, name: string): Promise<void> {
  await ignoreNotFound(cluster, `delete persistent volume claim ${namespace}/${name}`, () =>
    cluster.core().deleteNamespacedPersistentVolumeClaim({name, namespace}),
  )
}

async function ignoreNotFound(cluster: KubeCluster, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn()
  } catch (error) {
    if (isNotFound(error)) return
    await cluster.call(what, () => Promise.reject(error))
  }
}

export interface WorkloadState {
  kind: 'StatefulSet' | 'Deployment' | 'DaemonSet'
  name: string
  desired: number
  ready: number
}

export function isWorkloadReady(workload: WorkloadState): boolean {
  return workload.ready >= workload.desired
}

/** StatefulSets, Deployments and DaemonSets of a release (the chart labels them release=<name>). */
export async function listReleaseWorkloads(cluster: KubeCluster, namespace: string, release: string): Promise<WorkloadState[]> {
  const labelSelector = `release=${release}`
  const apps = cluster.apps()
  const [statefulSets, deployments, daemonSets] = await Promise.all([
    cluster.call('list StatefulSets', () => apps.listNamespacedStatefulSet({namespace, labelSelector})),
    cluster.call('list Deployments', () => apps.listNamespacedDeployment({namespace, labelSelector})),
    cluster.call('list DaemonSets', () => apps.listNamespacedDaemonSet({namespace, labelSelector})),
  ])
  return [
    ...statefulSets.items.map((item): WorkloadState => ({
      kind: 'StatefulSet',
      name: item.metadata?.name ?? '',
      desired: item.spec?.replicas ?? 1,
      ready: item.status?.readyReplicas ?? 0,
    })),
    ...deployments.items.map((item): WorkloadState => ({
      kind: 'Deployment',
      name: item.metadata?.name ?? '',
      desired: item.spec?.replicas ?? 1,
      ready: item.status?.availableReplicas ?? 0,
    })),
    ...daemonSets.items.map((item): WorkloadState => ({
      kind: 'DaemonSet',
      name: item.metadata?.name ?? '',
      desired: item.status?.desiredNumberScheduled ?? 0,
      ready: item.status?.numberReady ?? 0,
    })),
  ].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))
}

/** Why pods of the release are not ready: "consul-server-0 Pending: 0/3 nodes are available". */
export async function podProblems(cluster: KubeCluster, namespace: string, release: string): Promise<string[]> {
  const pods = await cluster.call('list pods', () => cluster.core().listNamespacedPod({namespace, labelSelector: `release=${release}`}))
  const problems: string[] = []
  for (const pod of pods.items) {
    const conditions = pod.status?.conditions ?? []
    if (conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True')) continue
    const waiting = pod.status?.containerStatuses?.map((status) => status.state?.waiting?.reason).find(Boolean)
    const unscheduled = conditions.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False')
    const reason = waiting ?? unscheduled?.message ?? (pod.spec?.nodeName ? 'not ready' : 'not scheduled to a node yet')
    problems.push(`${pod.metadata?.name} ${pod.status?.phase ?? 'Pending'}: ${reason}`)
  }
  return problems.sort()
}
