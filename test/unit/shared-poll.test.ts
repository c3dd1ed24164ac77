// pollUntil: try, say what is awaited, pause, until done or the time is up (on a fake clock).
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {pollUntil} from '../../src/shared/poll.js'

function clock() {
  let t = 0
  return {now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms)}
}

describe('pollUntil', () => {
  it('returns the first value that is done, having reported each one that was not', async () => {
    const c = clock()
    const waited: Array<[number, number]> = []
    let n = 0
    const value = await pollUntil({
      attempt: async () => ++n,
      done: (v) => v === 3,
      timeoutMs: 10_000,
      intervalMs: 1000,
      onWaiting: (v, remaining) => void waited.push([v, remaining]),
      onTimeout: () => assert.fail('no timeout'),
      ...c,
    })
    assert.equal(value, 3)
    assert.deepEqual(waited, [
      [1, 10_000],
      [2, 9000],
    ])
  })

  it('at the deadline gives the last value to onTimeout, whose answer (or error) ends the wait; the last pause is cut to the deadline', async () => {
    const c = clock()
    const pauses: number[] = []
    const attempts: number[] = []
    await assert.rejects(
      pollUntil({
        attempt: async (remaining) => {
          attempts.push(remaining)
          return c.now()
        },
        done: () => false,
        timeoutMs: 2500,
        intervalMs: 1000,
        onTimeout: (v) => {
          throw new Error(`gave up at ${v}`)
        },
        now: c.now,
        sleep: async (ms) => {
          pauses.push(ms)
          await c.sleep(ms)
        },
      }),
      /gave up at 2500/,
    )
    assert.deepEqual(pauses, [1000, 1000, 500])
    assert.deepEqual(attempts, [2500, 1500, 500, 0])
    const last = await pollUntil({attempt: async () => 'x', done: () => false, timeoutMs: 0, intervalMs: 1, onTimeout: (v) => `${v}!`, ...c})
    assert.equal(last, 'x!')
  })
})
