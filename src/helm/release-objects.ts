/**
 * The release's Kubernetes objects as the install lifecycle sees them: its secrets (summarized,
 * never their values), PersistentVolumeClaims, workloads and why their pods are not ready,
 * read and deleted through the shared KubeCluster (one connection per context, readable
 * errors; the shared reads such as namespaceExists are src/kube/reads.ts). Everything here is scoped to one namespace and,
 * for deletes, to objects selected by label and name by the caller.
 */
import type {V1DaemonSet, V1Deployment, V1Job, V1PersistentVolumeClaim, V1Pod, V1Secret, V1StatefulSet} from '@kubernetes/client-node'

import type {KubeCluster} from '../kube/client.js'

export interface SecretSummary {
  name: string
  /** Data keys holding a non-empty value (the values themselves are never kept). */
  keys: string[]
  labels: Record<string, string>
}

function summarizeSecret(secret: {
  metadata?: {name?: string; labels?: Record<string, string>}
  data?: Record<string, string>
  stringData?: Record<string, string>
}): SecretSummary {
  const keys = Object.entries({...secret.data, ...secret.stringData})
    .filter(([, value]) => typeof value === 'string' && value !== '')
    .map(([key]) => key)
  return {name: secret.metadata?.name ?? '', keys: keys.sort(), labels: secret.metadata?.labels ?? {}}
}

export async function readSecretSummary(cluster: KubeCluster, namespace: string, name: string): Promise<SecretSummary | undefined> {
  const secret = await cluster.getOptional<V1Secret>(`read secret ${namespace}/${name}`, {resource: 'secrets', namespace, name})
  return secret && summarizeSecret(secret)
}

export async function listSecrets(cluster: KubeCluster, namespace: string, labelSelector?: string): Promise<SecretSummary[]> {
  const items = await cluster.list<V1Secret>(`list secrets in namespace ${namespace}`, {resource: 'secrets', namespace}, {labelSelector})
  return items.map((item) => summarizeSecret(item))
}

export async function listPvcNames(cluster: KubeCluster, namespace: string, labelSelector: string): Promise<string[]> {
  const items = await cluster.list<V1PersistentVolumeClaim>(
    `list persistent volume claims in namespace ${namespace}`,
    {resource: 'persistentvolumeclaims', namespace},
    {labelSelector},
  )
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
  /** The images of its pod template's containers. */
  images: string[]
}

function images(item: {spec?: {template?: {spec?: {containers?: Array<{image?: string}>}}}}): string[] {
  return [...new Set((item.spec?.template?.spec?.containers ?? []).map((container) => container.image ?? '').filter(Boolean))]
}

export function isWorkloadReady(workload: WorkloadState): boolean {
  return workload.ready >= workload.desired
}

/**
 * Ready replicas that run the current spec: none until the controller has seen the latest
 * generation (right after an upgrade the old status would read "ready"), and no more than
 * the replicas already updated to it.
 */
export function rolledOut(
  item: {metadata?: {generation?: number}; status?: {observedGeneration?: number}},
  ready: number,
  updated: number | undefined,
): number {
  if ((item.status?.observedGeneration ?? 0) < (item.metadata?.generation ?? 0)) return 0
  return updated === undefined ? ready : Math.min(ready, updated)
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
    ...statefulSets.map((item): WorkloadState => {
      // With a partition, pods below it keep the old revision on purpose.
      const partitioned = (item.spec?.updateStrategy?.rollingUpdate?.partition ?? 0) > 0 || item.spec?.updateStrategy?.type === 'OnDelete'
      const ready = item.status?.readyReplicas ?? 0
      return {
        kind: 'StatefulSet',
        name: item.metadata?.name ?? '',
        desired: item.spec?.replicas ?? 1,
        ready: rolledOut(item, ready, partitioned ? undefined : item.status?.updatedReplicas),
        images: images(item),
      }
    }),
    ...deployments.map((item): WorkloadState => ({
      kind: 'Deployment',
      name: item.metadata?.name ?? '',
      desired: item.spec?.replicas ?? 1,
      ready: rolledOut(item, item.status?.availableReplicas ?? 0, item.status?.updatedReplicas),
      images: images(item),
    })),
    ...daemonSets.map((item): WorkloadState => ({
      kind: 'DaemonSet',
      name: item.metadata?.name ?? '',
      desired: item.status?.desiredNumberScheduled ?? 0,
      ready: rolledOut(item, item.status?.numberReady ?? 0, item.status?.updatedNumberScheduled),
      images: images(item),
    })),
  ].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`))
}

interface EventJson {
  type?: string
  reason?: string
  message?: string
  count?: number
  lastTimestamp?: string
  eventTime?: string
  involvedObject?: {kind?: string; name?: string}
}

/** The newest Warning event of each object of the namespace, by "Kind/name". */
async function lastWarnings(cluster: KubeCluster, namespace: string): Promise<Map<string, string>> {
  const events = await cluster.list<EventJson>('list events', {resource: 'events', namespace}, {fieldSelector: 'type=Warning'})
  const newest = new Map<string, {at: string; text: string}>()
  for (const event of events) {
    const key = `${event.involvedObject?.kind}/${event.involvedObject?.name}`
    const at = event.lastTimestamp ?? event.eventTime ?? ''
    const current = newest.get(key)
    if (!current || at >= current.at) newest.set(key, {at, text: `${event.reason ?? 'Warning'}: ${event.message ?? ''}`.trim()})
  }
  return new Map([...newest].map(([key, value]) => [key, value.text]))
}

/** One pod's container states that keep it from being ready: "consul: CrashLoopBackOff (back-off 5m0s), 4 restarts". */
export function containerProblems(pod: V1Pod): string[] {
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []).map((status) => ({status, init: true})),
    ...(pod.status?.containerStatuses ?? []).map((status) => ({status, init: false})),
  ]
  const problems: string[] = []
  for (const {status, init} of statuses) {
    if (status.ready || (init && status.state?.terminated?.exitCode === 0)) continue
    const label = `${init ? 'init container ' : ''}${status.name}`
    const restarts = status.restartCount ? `, ${status.restartCount} restart${status.restartCount === 1 ? '' : 's'}` : ''
    const waiting = status.state?.waiting
    const terminated = status.state?.terminated ?? status.lastState?.terminated
    if (waiting?.reason) problems.push(`${label}: ${waiting.reason}${waiting.message ? ` (${waiting.message.slice(0, 200)})` : ''}${restarts}`)
    else if (terminated)
      problems.push(`${label}: terminated ${terminated.reason ?? ''} exit code ${terminated.exitCode}${restarts}`.replace('  ', ' '))
    else if (status.state?.running) problems.push(`${label}: running, not ready${restarts}`)
  }
  return problems
}

/**
 * Why pods and jobs of the release are not ready, one line each: phase, unscheduled reason,
 * container states and the newest Warning event ("consul-server-0 Pending: 0/3 nodes are
 * available ...; event FailedScheduling: ...").
 */
export async function podProblems(cluster: KubeCluster, namespace: string, release: string): Promise<string[]> {
  const labelSelector = `release=${release}`
  const [pods, jobs, warnings] = await Promise.all([
    cluster.list<V1Pod>('list pods', {resource: 'pods', namespace}, {labelSelector}),
    cluster.list<V1Job>('list jobs', {group: 'batch', resource: 'jobs', namespace}, {labelSelector}),
    lastWarnings(cluster, namespace),
  ])
  const problems: string[] = []
  for (const pod of pods) {
    const conditions = pod.status?.conditions ?? []
    if (pod.status?.phase === 'Succeeded') continue
    if (conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True')) continue
    const name = pod.metadata?.name ?? ''
    const unscheduled = conditions.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False')
    const reasons = containerProblems(pod)
    if (reasons.length === 0) reasons.push(unscheduled?.message ?? (pod.spec?.nodeName ? 'not ready' : 'not scheduled to a node yet'))
    const event = warnings.get(`Pod/${name}`)
    problems.push(`pod ${name} ${pod.status?.phase ?? 'Pending'}: ${reasons.join('; ')}${event ? `; event ${event}` : ''}`)
  }
  for (const job of jobs) {
    if ((job.status?.succeeded ?? 0) > 0) continue
    const name = job.metadata?.name ?? ''
    const failed = job.status?.conditions?.find((condition) => condition.type === 'Failed' && condition.status === 'True')
    const state = failed
      ? `failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim()
      : `not complete (${job.status?.active ?? 0} active, ${job.status?.failed ?? 0} failed pods)`
    const event = warnings.get(`Job/${name}`)
    problems.push(`job ${name} ${state}${event ? `; event ${event}` : ''}`)
  }
  return problems.sort()
}
