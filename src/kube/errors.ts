/**
 * Kubernetes API failures: one error type for the lean transport (numeric HTTP code and the
 * API's Status body, like the client library's ApiException), and one way of turning any
 * failure into a readable UserError that names the context, the server and what was tried.
 */
import {UserError, errorMessage} from '../shared/errors.js'

export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    method: string,
    path: string,
  ) {
    super(`${method} ${path}: HTTP ${code} ${body.slice(0, 300)}`)
    this.name = 'KubeHttpError'
  }
}

/** The server did not answer within the request timeout (connection, TLS handshake and answer included). */
export class KubeTimeoutError extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(
    readonly server: string,
    readonly timeoutMs: number,
  ) {
    super(`${server} did not answer within ${formatMs(timeoutMs)}`)
    this.name = 'KubeTimeoutError'
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
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

/** The `message` of a Kubernetes Status body, or the start of a body that is not one. */
export function apiErrorReason(error: unknown): string {
  const body = (error as {body?: unknown})?.body
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body
    return (parsed as {message?: string})?.message ?? ''
  } catch {
    return typeof body === 'string' ? body.slice(0, 200) : ''
  }
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
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

const STATUS_HINTS: Record<number, string> = {
  401: 'The credentials in the kubeconfig were rejected; refresh them (log in again) and retry.',
  403: 'Your Kubernetes user lacks RBAC permission for this; ask a cluster admin or use another context.',
  404: 'Check the name and the namespace (-n).',
}

export function describeKubeError(error: unknown, what: string, cluster: {name: string; server: string}): Error {
  if (error instanceof UserError) return error
  const where = `context "${cluster.name}" (${cluster.server})`
  const status = apiStatusCode(error)
  if (status !== undefined) {
    const reason = apiErrorReason(error)
    return new UserError(`Kubernetes ${where} refused to ${what}: HTTP ${status}${reason ? ` — ${reason}` : ''}`, {
      hint: STATUS_HINTS[status],
      cause: error,
    })
  }
  if (error instanceof KubeTimeoutError) {
    return new UserError(`The Kubernetes API of ${where} did not answer within ${formatMs(error.timeoutMs)} (while trying to ${what}).`, {
      hint: 'Check that the cluster is running and reachable from here (VPN, firewall), or raise --request-timeout.',
      cause: error,
    })
  }
  const code = networkCode(error)
  const message = errorMessage(error)
  if (code && (NETWORK_CODES[code] || code.startsWith('ERR_TLS') || code.includes('CERT'))) {
    const tls = code.startsWith('ERR_TLS') || code.includes('CERT') || code.includes('SELF_SIGNED')
    return new UserError(`Cannot reach the Kubernetes API of ${where} to ${what}: ${NETWORK_CODES[code] ?? message}.`, {
      hint: tls
        ? 'The server certificate did not verify against the kubeconfig CA; fix certificate-authority-data rather than disabling TLS verification.'
        : 'Check that the cluster is running and that --context/--kubeconfig point at it.',
      cause: error,
    })
  }
  return new UserError(`Failed to ${what} in ${where}: ${message}`, {cause: error})
}
