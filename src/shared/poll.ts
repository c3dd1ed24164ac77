/**
 * One way to wait for something: try, and until it is done or the time is up, say what is
 * still awaited and try again after a pause. `federate primary --wait` (the gateway address),
 * `verify --wait` (every check passing) and install's wait for ready workloads all run on it;
 * the clock and the pause can be given, for tests.
 */
export interface PollOptions<T> {
  /** One try: what is there now. */
  attempt: (remainingMs: number) => Promise<T>
  done: (value: T) => boolean
  timeoutMs: number
  intervalMs: number
  /** Between tries: what is still awaited, and how long is left. */
  onWaiting?: (value: T, remainingMs: number) => void | Promise<void>
  /** The time is up: the answer (e.g. the last value) or an error thrown. */
  onTimeout: (value: T) => T | Promise<T>
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export async function pollUntil<T>(options: PollOptions<T>): Promise<T> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const deadline = now() + options.timeoutMs
  for (;;) {
    const value = await options.attempt(deadline - now())
    if (options.done(value)) return value
    const remaining = deadline - now()
    if (remaining <= 0) return options.onTimeout(value)
    await options.onWaiting?.(value, remaining)
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - now())))
  }
}
