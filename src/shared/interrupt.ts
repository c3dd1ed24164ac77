/**
 * Ctrl-C for work that must not be cut in half. Every command ends at once on SIGINT/SIGTERM
 * ("Aborted.", exit 130/143: BaseCommand); work run through withInterrupt() is stopped
 * gently instead: the first signal aborts its AbortSignal (no new write starts, the writes in
 * flight finish, the work returns its result), a second one quits at once with exit 130.
 */
import {ABORTED_EXIT_CODE} from './errors.js'

let running = 0

/** Whether a withInterrupt() is running: BaseCommand then leaves SIGINT/SIGTERM to it. */
export function interruptHandled(): boolean {
  return running > 0
}

/**
 * Run `work` with an AbortSignal that the first SIGINT or SIGTERM aborts, after calling
 * `onInterrupt` (to tell the user); a second signal exits the process with 130. Returns what
 * `work` returns; the signal handlers are gone when it settles.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>, onInterrupt?: () => void): Promise<T> {
  const controller = new AbortController()
  const interrupt = () => {
    if (controller.signal.aborted) process.exit(ABORTED_EXIT_CODE)
    onInterrupt?.()
    controller.abort()
  }
  running++
  process.on('SIGINT', interrupt)
  process.on('SIGTERM', interrupt)
  try {
    return await work(controller.signal)
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
    running--
  }
}
