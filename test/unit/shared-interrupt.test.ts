// src/shared/interrupt.ts: the first SIGINT/SIGTERM aborts the work's signal (after telling
// the user) and the work's result comes back; a second signal exits 130; BaseCommand's
// "Aborted." handler stands aside only while such work runs; the handlers go when it ends.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {interruptHandled, withInterrupt} from '../../src/shared/interrupt.js'

const listeners = () => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), {once: true})))
}

describe('withInterrupt', () => {
  for (const first of ['SIGINT', 'SIGTERM'] as const) {
    it(`the first ${first} aborts the work's signal, which then finishes and returns its result`, async () => {
      const before = listeners()
      const told: string[] = []
      const result = await withInterrupt(
        async (signal) => {
          assert.equal(interruptHandled(), true)
          assert.equal(signal.aborted, false)
          process.emit(first)
          await aborted(signal)
          return 'finished'
        },
        () => told.push('interrupted'),
      )
      assert.equal(result, 'finished')
      assert.deepEqual(told, ['interrupted'])
      assert.equal(interruptHandled(), false)
      assert.equal(listeners(), before)
    })
  }

  it('a second signal quits at once with exit code 130', async () => {
    const exit = process.exit
    const codes: Array<number | string | null | undefined> = []
    // As the real one, it does not return.
    process.exit = ((code?: number) => {
      codes.push(code)
      throw new Error('exited')
    }) as typeof process.exit
    try {
      let told = 0
      await withInterrupt(
        async () => {
          process.emit('SIGINT')
          assert.throws(() => process.emit('SIGTERM'), /exited/)
        },
        () => told++,
      )
      assert.deepEqual(codes, [130])
      assert.equal(told, 1)
    } finally {
      process.exit = exit
    }
  })

  it('a failing work rethrows, and the handlers are gone', async () => {
    const before = listeners()
    await assert.rejects(
      withInterrupt(async () => {
        throw new Error('boom')
      }),
      /boom/,
    )
    assert.equal(interruptHandled(), false)
    assert.equal(listeners(), before)
  })
})
