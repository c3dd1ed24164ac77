import assert from 'node:assert/strict'
import {once} from 'node:events'
import {describe, it} from 'node:test'

import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  parseRequestTimeout,
  requestDeadline,
  requestTimeoutMs,
  setRequestTimeoutMs,
} from '../../src/shared/request-timeout.js'
import {UserError} from '../../src/shared/errors.js'

describe('parseRequestTimeout', () => {
  it('reads 0 with or without a unit as no limit', () => {
    for (const text of ['0', '0s', '0m', '00', '0.0s']) assert.equal(parseRequestTimeout(text), 0, text)
  })

  it('reads durations as milliseconds', () => {
    assert.equal(parseRequestTimeout('30s'), 30_000)
    assert.equal(parseRequestTimeout('1m30s'), 90_000)
    assert.equal(parseRequestTimeout('500ms'), 500)
    assert.equal(parseRequestTimeout('1h'), 3_600_000)
  })

  it('reads a whole number as seconds, as kubectl does', () => {
    assert.equal(parseRequestTimeout('30'), 30_000)
    assert.equal(parseRequestTimeout(' 5 '), 5_000)
  })

  it('refuses anything else with a hint', () => {
    for (const text of ['', '-1s', '30x', 'soon', '1.5']) {
      assert.throws(
        () => parseRequestTimeout(text),
        (error: unknown) =>
          error instanceof UserError &&
          error.message === `Invalid --request-timeout "${text}".` &&
          /seconds \(30\), a duration such as 10s or 1m, or 0 for no limit/.test(error.hint ?? ''),
        text,
      )
    }
  })
})

describe('the request timeout of the process', () => {
  it('is 30 s until a command sets it', () => {
    assert.equal(DEFAULT_REQUEST_TIMEOUT_MS, 30_000)
    assert.equal(requestTimeoutMs(), DEFAULT_REQUEST_TIMEOUT_MS)
    try {
      setRequestTimeoutMs(0)
      assert.equal(requestTimeoutMs(), 0)
    } finally {
      setRequestTimeoutMs(DEFAULT_REQUEST_TIMEOUT_MS)
    }
  })
})

// Timers fire in the order they expire: a later timer running first proves an earlier one did not abort.
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('requestDeadline', () => {
  it('aborts when the timeout passes and says it timed out', async () => {
    const deadline = requestDeadline(1)
    assert.equal(deadline.timedOut(), false)
    await once(deadline.signal, 'abort')
    assert.equal(deadline.timedOut(), true)
    deadline.dispose()
  })

  it('tells an outer abort from a timeout', () => {
    const outer = new AbortController()
    const aborted = requestDeadline(60_000, outer.signal)
    assert.equal(aborted.signal.aborted, false)
    outer.abort()
    assert.equal(aborted.signal.aborted, true)
    assert.equal(aborted.timedOut(), false)
    aborted.dispose()
    assert.equal(requestDeadline(0, AbortSignal.abort()).signal.aborted, true, 'an outer signal aborted already')
  })

  it('never fires once stopped, nor for 0', async () => {
    const stopped = requestDeadline(1)
    stopped.stop()
    const unlimited = requestDeadline(0)
    await later(20)
    assert.equal(stopped.signal.aborted, false)
    assert.equal(unlimited.signal.aborted, false)
    assert.equal(stopped.timedOut() || unlimited.timedOut(), false)
    stopped.dispose()
    unlimited.dispose()
  })
})
