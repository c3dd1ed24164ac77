/**
 * Retries with exponential backoff and jitter, and a bounded-concurrency pool that stops
 * handing out work when asked to stop (Ctrl-C) but lets the work already started finish,
 * so no write is cut in half.
 */
import {ConsulApiError, ConsulUnreachableError} from '../consul/client.js'

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number
  baseMs?: number
  maxMs?: number
  /** Stop retrying (the last error is thrown) once this is aborted. */
  signal?: AbortSignal
  retryable?: (error: unknown) => boolean
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })

export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/** Transient Consul failures: unreachable, 429, 5xx. */
export function isTransientConsulError(error: unknown): boolean {
  if (error instanceof ConsulUnreachableError) return true
  if (error instanceof ConsulApiError) return error.status === 429 || error.status >= 500
  return false
}

/** Transient Kubernetes API failures: 429, 5xx, connection errors. */
export function isTransientKubeError(error: unknown): boolean {
  const code = (error as {code?: unknown})?.code
  if (typeof code === 'number') return code === 429 || code >= 500
  if (typeof code === 'string') return /^(ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR)/.test(code)
  const cause = (error as {cause?: unknown})?.cause
  return cause !== undefined && cause !== error && isTransientKubeError(cause)
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6
  const baseMs = options.baseMs ?? 250
  const maxMs = options.maxMs ?? 4000
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      const retryable = options.retryable ? options.retryable(error) : true
      if (!retryable || attempt >= attempts || options.signal?.aborted) throw error
      const delay = backoffDelay(attempt, baseMs, maxMs)
      options.onRetry?.(error, attempt, delay)
      await sleep(delay, options.signal)
      if (options.signal?.aborted) throw error
    }
  }
}

/**
 * Run `fn` over the items with at most `concurrency` at a time. Once `signal` is aborted (or
 * an item failed) no new item starts; items already running complete, then the first
 * failure is thrown. Returns the items that never started.
 */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<{notStarted: T[]}> {
  let next = 0
  let failure: {error: unknown} | undefined
  const workers = Array.from({length: Math.max(1, Math.min(concurrency, items.length))}, async () => {
    while (next < items.length && !signal?.aborted && !failure) {
      const index = next++
      try {
        await fn(items[index], index)
      } catch (error) {
        failure ??= {error}
      }
    }
  })
  await Promise.all(workers)
  if (failure) throw failure.error
  return {notStarted: items.slice(next)}
}
