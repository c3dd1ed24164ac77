/**
 * The Kubernetes reads and deletes of the install lifecycle, through the shared KubeCluster
 * (one connection per context, readable errors). Everything here is scoped to one namespace and,
 * for deletes, to objects selected by label and name by the caller.
 */
import type {V1DaemonSet, V1Deployment, V1PersistentVolumeClaim, V1Pod, V1Secret, V1StatefulSet} from '@kubernetes/client-node'

import type {KubeCluster} from '../kube/client.js'

export {namespaceExists, serverVersion} from '../kube/reads.js'

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
  const secret = await cluster.getOptional<V1Secret>(`read secret ${namespace}/${name}`, {resource: 'secrets', namespace, name})
  return secret && summarizeSecret(secret)
}

export async function listSecrets(cluster: KubeCluster, namespace: string, labelSelector: string): Promise<SecretSummary[]> {
  const items = await cluster.list<V1Secret>(`list secrets in namespace ${namespace}`, {resource: 'secrets', namespace}, {labelSelector})
  return items.map((item) => summarizeSecret(item))
}

export async function listPvcNames(cluster: KubeCluster, namespace: string, labelSelector: string): Promise<string[]> {
  const items = await cluster.list<V1PersistentVolumeClaim>(`list persistent volume claims in namespace ${namespace}`, {resource: 'persistentvolumeclaims', namespace}, {labelSelector})
  return items.map((item) => item.metadata?.name ?? '').filter(Boolean)
}

/** Delete; an object already gone counts as deleted. */
export async function deleteSecret(cluster: KubeCluster, namespace: string, name: string): Promise<void> {
  await cluster.remove(`delete secret ${namespace}/${name}`, {resource: 'secrets', namespace, name})
}

export async function deletePvc(cluster: KubeCluster, namespace: string, name: string): Promise<void> {
  await cluster.remove(`delete persistent volume claim ${namespace}/${name}`, {resource: 'persistentvolumeclaims', namespace, name})
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
  const apps = (resource: string) => ({group: 'apps', resource, namespace})
  const [statefulSets, deployments, daemonSets] = await Promise.all([
    cluster.list<V1StatefulSet>('list StatefulSets', apps('statefulsets'), {labelSelector}),
    cluster.list<V1Deployment>('list Deployments', apps('deployments'), {labelSelector}),
    cluster.list<V1DaemonSet>('list DaemonSets', apps('daemonsets'), {labelSelector}),
  ])
  return [
    ...statefulSets.map((item): WorkloadState => ({
      kind: 'StatefulSet',
      name: item.metadata?.name ?? '',
      desired: item.spec?.replicas ?? 1,
      ready: item.status?.readyReplicas ?? 0,
    })),
    ...deployments.map((item): WorkloadState => ({
      kind: 'Deployment',
      name: item.metadata?.name ?? '',
      desired: item.spec?.replicas ?? 1,
      ready: item.status?.availableReplicas ?? 0,
    })),
    ...daemonSets.map((item): WorkloadState => ({
      kind: 'DaemonSet',
      name: item.metadata?.name ?? '',
      desired: item.status?.desiredNumberScheduled ?? 0,
      ready: item.status?.numberReady ?? 0,
    })),
  ].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))
}

/** Why pods of the release are not ready: "consul-server-0 Pending: 0/3 nodes are available". */
export async function podProblems(cluster: KubeCluster, namespace: string, release: string): Promise<string[]> {
  const pods = await cluster.list<V1Pod>('list pods', {resource: 'pods', namespace}, {labelSelector: `release=${release}`})
  const problems: string[] = []
  for (const pod of pods) {
    const conditions = pod.status?.conditions ?? []
    if (conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True')) continue
    const waiting = pod.status?.containerStatuses?.map((status) => status.state?.waiting?.reason).find(Boolean)
    const unscheduled = conditions.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False')
    const reason = waiting ?? unscheduled?.message ?? (pod.spec?.nodeName ? 'not ready' : 'not scheduled to a node yet')
    problems.push(`${pod.metadata?.name} ${pod.status?.phase ?? 'Pending'}: ${reason}`)
  }
  return problems.sort()
}
