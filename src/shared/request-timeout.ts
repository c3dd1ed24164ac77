/**
 * kubectl's --request-timeout for every Kubernetes and Consul request of one consulk8s run:
 * how long a single request may take, connection and TLS handshake included, before it is
 * given up with a message naming the server. 0 means no limit (kubectl's semantics); the
 * default is 30 s, not kubectl's "0", because a command that hangs forever on a server that
 * accepts and never answers is worse for CI than a clear error.
 *
 * Process-wide like kubectl's global flag: the command sets it once from its flags, the
 * transports read it when they make a request.
 */
import {UserError} from './errors.js'
import {parseDuration} from './duration.js'

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

let current = DEFAULT_REQUEST_TIMEOUT_MS

export function requestTimeoutMs(): number {
  return current
}

export function setRequestTimeoutMs(ms: number): void {
  current = ms
}

/**
 * As kubectl (client-go's clientcmd.ParseTimeout) takes it: "0" (no limit), a whole number of
 * seconds ("30"), or a duration such as 10s, 1m. The one flag where a bare number has a unit
 * by convention: kubectl users type it that way.
 */
export function parseRequestTimeout(text: string): number {
  if (/^0+(\.0+)?(ms|s|m|h)?$/.test(text.trim())) return 0
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000
  try {
    return parseDuration(text, '--request-timeout')
  } catch (error) {
    throw new UserError(`Invalid --request-timeout "${text}".`, {
      hint: 'Use seconds (30), a duration such as 10s or 1m, or 0 for no limit (as kubectl takes it).',
      cause: error,
    })
  }
}

/**
 * A deadline for one request: its signal aborts the request (connection, handshake, answer)
 * when `timeoutMs` passes (0: never) or `outer` aborts. `timedOut()` tells the two apart, so
 * the caller can report the timeout instead of an abort.
 */
export function requestDeadline(timeoutMs: number, outer?: AbortSignal) {
  const controller = new AbortController()
  let expired = false
  const timer = timeoutMs > 0 ? setTimeout(() => ((expired = true), controller.abort()), timeoutMs) : undefined
  const onOuter = () => controller.abort()
  if (outer?.aborted) controller.abort()
  else outer?.addEventListener('abort', onOuter, {once: true})
  return {
    signal: controller.signal,
    timedOut: () => expired,
    /** The answer started: no deadline from here on (a watch runs as long as the server keeps it). */
    stop() {
      if (timer) clearTimeout(timer)
    },
    dispose() {
      if (timer) clearTimeout(timer)
      outer?.removeEventListener('abort', onOuter)
    },
  }
}
