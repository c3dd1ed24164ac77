/**
 * Running a command in a pod through the Kubernetes exec API (what `kubectl exec` does), and
 * choosing a pod of a StatefulSet that can take it. Exec needs a running container on a node
 * with a kubelet; when there is none the caller gets one readable sentence ("pod
 * consul-server-0 is Pending: not scheduled to a node") instead of a WebSocket error.
 */
import {PassThrough, Writable} from 'node:stream'

import {UserError, errorMessage} from '../shared/errors.js'
import type {KubeCluster} from './client.js'

type V1Pod = import('@kubernetes/client-node').V1Pod
type V1Status = import('@kubernetes/client-node').V1Status
type V1StatefulSet = import('@kubernetes/client-node').V1StatefulSet

export interface ExecRequest {
  namespace: string
  pod: string
  container: string
  command: string[]
  /**
   * Written to the command's stdin (e.g. a token, so it never appears on a command line).
   * stdin is not closed afterwards: older exec protocols close the whole session on EOF, so
   * commands should read a line rather than wait for end of input.
   */
  stdin?: string
  timeoutMs?: number
  /** The pod's node, named in messages when the API server cannot reach its kubelet. */
  node?: string
}

export interface ExecResult {
  stdout: string
  stderr: string
  exitCode: number
}

/** The exit code in the status the API server sends when the command ends. */
export function exitCodeFromStatus(status: Pick<V1Status, 'status' | 'reason' | 'message' | 'details'>): number | undefined {
  if (status.status === 'Success') return 0
  const cause = status.details?.causes?.find((candidate) => candidate.reason === 'ExitCode')
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message)
  return undefined
}

function collector(): {stream: Writable; text: () => string} {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk))
      callback()
    },
  })
  return {stream, text: () => Buffer.concat(chunks).toString('utf8')}
}

/** Run a command in a pod's container and collect its output and exit code. */
export async function execInPod(cluster: KubeCluster, request: ExecRequest): Promise<ExecResult> {
  const where = `pod ${request.pod} (namespace ${request.namespace}, context ${cluster.name})`
  const stdout = collector()
  const stderr = collector()
  const stdin = request.stdin === undefined ? null : new PassThrough()
  const {k8s, config} = await cluster.library()
  const exec = new k8s.Exec(config)
  const timeoutMs = request.timeoutMs ?? 30_000
  let socket: Awaited<ReturnType<typeof exec.exec>> | undefined
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError(`The command in ${where} did not finish within ${timeoutMs / 1000}s.`)), timeoutMs)
      const finish = (status: V1Status | undefined) => {
        clearTimeout(timer)
        const exitCode = status ? exitCodeFromStatus(status) : undefined
        if (exitCode === undefined) {
          const reason = status?.message ?? 'the connection closed without an exit status'
          reject(new UserError(`Exec in ${where} failed: ${reason}`, {hint: execHint(reason)}))
          return
        }
        // Let the collectors take the last frames written before the status.
        setImmediate(() => resolve({stdout: stdout.text(), stderr: stderr.text(), exitCode}))
      }
      exec
        .exec(request.namespace, request.pod, request.container, request.command, stdout.stream, stderr.stream, stdin, false, (status) =>
          finish(status),
        )
        .then((ws) => {
          socket = ws
          ws.on('close', () => finish(undefined))
          if (stdin && request.stdin !== undefined) stdin.write(request.stdin)
        })
        .catch((error: unknown) => {
          clearTimeout(timer)
          const message = socketErrorMessage(error)
          const status = /Unexpected server response: (\d{3})/.exec(message)?.[1]
          const text = status ? `the API server answered HTTP ${status} to the exec request` : message
          reject(
            new UserError(`Cannot exec into ${where}${request.node ? ` on node ${request.node}` : ''}: ${text}`, {
              hint: execHint(message, request.node),
              cause: error,
            }),
          )
        })
    })
  } finally {
    stdin?.destroy()
    socket?.close()
  }
}

/** The WebSocket library rejects with an ErrorEvent ({message, error}), not an Error. */
function socketErrorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  const event = error as {message?: unknown; error?: unknown}
  if (typeof event?.message === 'string' && event.message) return event.message
  if (event?.error instanceof Error) return event.error.message
  return errorMessage(error)
}

function execHint(message: string, node?: string): string {
  if (/\b403\b|forbidden/i.test(message)) {
    return 'Your Kubernetes user may lack the pods/exec permission; ask for it or reach Consul over HTTPS with --consul-http-addr.'
  }
  if (/\b401\b/.test(message)) return 'The kubeconfig credentials were rejected; log in again.'
  if (/\b(400|404|500|502|503)\b/.test(message)) {
    return `The API server could not reach the kubelet${node ? ` of node ${node}` : ''} (node gone or unreachable, or no kubelet as in API-server-only clusters); check \`kubectl get node${node ? ` ${node}` : 's'}\`, or reach Consul over HTTPS with --consul-http-addr.`
  }
  return 'Check the pod with `kubectl describe pod`, or reach Consul over HTTPS with --consul-http-addr.'
}

/**
 * Why a pod cannot take an exec into `container`, as one sentence ("pod consul-server-0 is
 * Pending: not scheduled to a node"), or undefined when it can.
 */
export function podNotReadyReason(pod: V1Pod, container: string): string | undefined {
  const name = pod.metadata?.name ?? '(unnamed)'
  if (pod.metadata?.deletionTimestamp) return `pod ${name} is terminating`
  const phase = pod.status?.phase ?? 'Pending'
  const statuses = pod.status?.containerStatuses ?? []
  const own = statuses.find((status) => status.name === container)
  if (phase === 'Running' && own?.state?.running) {
    if (!pod.spec?.nodeName) return `pod ${name} is Running but has no node assigned`
    return undefined
  }
  const details: string[] = []
  if (!pod.spec?.nodeName) {
    const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled')
    details.push(scheduled?.status === 'False' && scheduled.message ? `not scheduled: ${scheduled.message}` : 'not scheduled to a node')
  }
  const waiting = own?.state?.waiting
  if (waiting) details.push(`container ${container} ${waiting.reason ?? 'waiting'}${waiting.message ? `: ${waiting.message}` : ''}`)
  const terminated = own?.state?.terminated
  if (terminated) details.push(`container ${container} terminated (${terminated.reason ?? `exit ${terminated.exitCode}`})`)
  if (!own && pod.spec?.containers && !pod.spec.containers.some((candidate) => candidate.name === container)) {
    details.push(`it has no container named ${container}`)
  }
  if (phase === 'Running' && own && !own.state?.running && details.length === 0) details.push(`container ${container} is not running`)
  return `pod ${name} is ${phase}${details.length > 0 ? `: ${details.join('; ')}` : ''}`
}

function ordinal(pod: V1Pod): number {
  const match = /-(\d+)$/.exec(pod.metadata?.name ?? '')
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER
}

/**
 * The first pod (lowest ordinal) of a StatefulSet whose container can take an exec. Throws a
 * UserError naming the state of the pods when none can, or when the StatefulSet is missing.
 */
export async function findExecPod(
  cluster: KubeCluster,
  target: {namespace: string; statefulSet: string; container: string},
): Promise<{name: string; node?: string}> {
  const {namespace, statefulSet, container} = target
  const where = `namespace ${namespace} of context ${cluster.name}`
  const sts = await cluster.getOptional<V1StatefulSet>(`read StatefulSet ${statefulSet}`, {
    group: 'apps',
    resource: 'statefulsets',
    namespace,
    name: statefulSet,
  })
  if (!sts) {
    throw new UserError(`StatefulSet ${statefulSet} not found in ${where}.`, {
      hint: 'Check --namespace and --release (the StatefulSet is <release>-server), or reach Consul over HTTPS with --consul-http-addr.',
    })
  }
  const selector = sts.spec?.selector?.matchLabels
  const replicas = sts.spec?.replicas
  const labelSelector =
    selector && Object.keys(selector).length > 0
      ? Object.entries(selector)
          .map(([key, value]) => `${key}=${value}`)
          .join(',')
      : undefined
  const list = await cluster.list<V1Pod>(`list the pods of StatefulSet ${statefulSet}`, {resource: 'pods', namespace}, {labelSelector})
  const pods = list.filter((pod) => (pod.metadata?.name ?? '').startsWith(`${statefulSet}-`)).sort((a, b) => ordinal(a) - ordinal(b))
  if (pods.length === 0) {
    throw new UserError(`StatefulSet ${statefulSet} in ${where} has no pods (replicas: ${replicas ?? 'unset'}).`, {
      hint: 'Without a running server pod there is nothing to exec into; check `kubectl describe statefulset` (and the controller manager), or pass --consul-http-addr.',
    })
  }
  const reasons: string[] = []
  for (const pod of pods) {
    const reason = podNotReadyReason(pod, container)
    if (reason === undefined) return {name: pod.metadata!.name!, node: pod.spec?.nodeName}
    reasons.push(reason)
  }
  throw new UserError(`No pod of StatefulSet ${statefulSet} in ${where} can run commands: ${reasons.join('; ')}.`, {
    hint: `exec needs a running container on a node; check \`kubectl describe pod ${pods[0].metadata?.name} -n ${namespace} --context ${cluster.name}\`, or reach Consul over HTTPS with --consul-http-addr.`,
  })
}
