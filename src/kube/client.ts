/**
 * Kubernetes clients, one KubeConfig per context: a client fixes its server at creation but
 * resolves credentials from its config's current context on every request, so sharing one
 * KubeConfig between two contexts would mix clusters and credentials. The library is
 * imported lazily; only commands that talk to a cluster pay for it.
 */
import {UserError, errorMessage} from '../shared/errors.js'
import {readKubeconfig, resolveContext, type KubeconfigContext} from './kubeconfig.js'

export type K8s = typeof import('@kubernetes/client-node')

let k8sModule: Promise<K8s> | undefined
export function loadK8s(): Promise<K8s> {
  k8sModule ??= import('@kubernetes/client-node')
  return k8sModule
}

export interface KubeTarget {
  kubeconfig?: string
  context?: string
}

export class KubeCluster {
  constructor(
    readonly k8s: K8s,
    readonly config: InstanceType<K8s['KubeConfig']>,
    readonly context: KubeconfigContext,
  ) {}

  get name(): string {
    return this.context.name
  }

  get server(): string {
    return this.context.server ?? ''
  }

  core() {
    return this.config.makeApiClient(this.k8s.CoreV1Api)
  }

  apps() {
    return this.config.makeApiClient(this.k8s.AppsV1Api)
  }

  batch() {
    return this.config.makeApiClient(this.k8s.BatchV1Api)
  }

  discovery() {
    return this.config.makeApiClient(this.k8s.DiscoveryV1Api)
  }

  objects() {
    return this.k8s.KubernetesObjectApi.makeApiClient(this.config)
  }

  /** Run an API call, turning transport and API failures into one readable UserError. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw describeKubeError(error, what, this)
    }
  }
}

/** Build the client for one context of the kubeconfig the user gave (never the default one instead). */
export async function connectCluster(target: KubeTarget): Promise<KubeCluster> {
  const parsed = readKubeconfig(target.kubeconfig)
  const context = resolveContext(parsed, target.context)
  const k8s = await loadK8s()
  const config = new k8s.KubeConfig()
  try {
    if (target.kubeconfig) config.loadFromFile(target.kubeconfig)
    else config.loadFromDefault()
  } catch (error) {
    throw new UserError(`Cannot load kubeconfig: ${errorMessage(error)}`)
  }
  config.setCurrentContext(context.name)
  return new KubeCluster(k8s, config, context)
}

export function apiStatusCode(error: unknown): number | undefined {
  const code = (error as {code?: unknown})?.code
  return typeof code === 'number' ? code : undefined
}

export function isNotFound(error: unknown): boolean {
  return apiStatusCode(error) === 404
}

export function isConflict(error: unknown): boolean {
  return apiStatusCode(error) === 409
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EAI_AGAIN: 'DNS lookup failed',
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as {code?: unknown}).code
    if (typeof code === 'string') return code
    current = (current as {cause?: unknown}).cause
  }
  return undefined
}

export function describeKubeError(error: unknown, what: string, cluster: {name: string; server: string}): Error {
  if (error instanceof UserError) return error
  const status = apiStatusCode(error)
  const where = `context "${cluster.name}" (${cluster.server})`
  if (status !== undefined) {
    const body = (error as {body?: unknown}).body
    let reason = ''
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body
      reason = (parsed as {message?: string})?.message ?? ''
    } catch {
      reason = typeof body === 'string' ? body.slice(0, 200) : ''
    }
    const hints: Record<number, string> = {
      401: 'The credentials in the kubeconfig were rejected; refresh them (log in again) and retry.',
      403: 'Your Kubernetes user lacks RBAC permission for this; ask a cluster admin or use another context.',
      404: 'Check the name and the namespace (-n).',
    }
    return new UserError(`Kubernetes ${where} refused to ${what}: HTTP ${status}${reason ? ` — ${reason}` : ''}`, {
      hint: hints[status],
      cause: error,
    })
  }
  const code = networkCode(error)
  const message = errorMessage(error)
  if (code && (NETWORK_CODES[code] || code.startsWith('ERR_TLS') || code.includes('CERT'))) {
    const tls = code.startsWith('ERR_TLS') || code.includes('CERT') || code.includes('SELF_SIGNED')
    return new UserError(
      `Cannot reach the Kubernetes API of ${where} to ${what}: ${NETWORK_CODES[code] ?? message}.`,
      {
        hint: tls
          ? 'The server certificate did not verify against the kubeconfig CA; fix certificate-authority-data rather than disabling TLS verification.'
          : 'Check that the cluster is running and that --context/--kubeconfig point at it.',
        cause: error,
      },
    )
  }
  return new UserError(`Failed to ${what} in ${where}: ${message}`, {cause: error})
}
