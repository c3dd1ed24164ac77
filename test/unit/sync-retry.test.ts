// src/sync/retry.ts: backoff bounds, which failures count as transient, retry's attempts and
// its stop on abort, and the pool's bounded concurrency and Ctrl-C semantics (no new work
// starts, work already started completes, the first failure is thrown).
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ConsulApiError, ConsulUnreachableError} from '../../src/consul/client.js'
import {KubeHttpError} from '../../src/kube/errors.js'
import {backoffDelay, isTransientConsulError, isTransientKubeError, pool, retry} from '../../src/sync/retry.js'

describe('sync retry and pool', () => {
  it('backs off exponentially with jitter between half and all of the ceiling, capped', () => {
    for (let i = 0; i < 50; i++) {
      const first = backoffDelay(1, 100, 1000)
      assert.ok(first >= 50 && first <= 100, String(first))
      const capped = backoffDelay(10, 100, 1000)
      assert.ok(capped >= 500 && capped <= 1000, String(capped))
    }
  })

  it('tells transient Consul and Kubernetes failures from final ones', () => {
    assert.equal(isTransientConsulError(new ConsulUnreachableError('https://c', 'ECONNRESET', 'reset')), true)
    assert.equal(isTransientConsulError(new ConsulApiError(429, '', 'PUT', '/v1/txn')), true)
    assert.equal(isTransientConsulError(new ConsulApiError(503, '', 'PUT', '/v1/txn')), true)
    assert.equal(isTransientConsulError(new ConsulApiError(403, 'Permission denied', 'PUT', '/v1/txn')), false)
    assert.equal(isTransientKubeError(new KubeHttpError(429, '', 'GET', '/api/v1/services')), true)
    assert.equal(isTransientKubeError(new KubeHttpError(500, '', 'GET', '/api/v1/services')), true)
    assert.equal(isTransientKubeError(new KubeHttpError(404, '', 'GET', '/api/v1/services')), false)
    assert.equal(isTransientKubeError(Object.assign(new Error('refused'), {code: 'ECONNREFUSED'})), true)
    assert.equal(isTransientKubeError(new Error('wrapped', {cause: Object.assign(new Error('t'), {code: 'ETIMEDOUT'})})), true)
    assert.equal(isTransientKubeError(new Error('plain')), false)
  })

  it('retries until success, up to the attempts, and only what is retryable', async () => {
    let calls = 0
    const value = await retry(
      async () => {
        if (++calls < 3) throw new Error('flaky')
        return 'ok'
      },
      {baseMs: 1, maxMs: 2},
    )
    assert.equal(value, 'ok')
    assert.equal(calls, 3)

    calls = 0
    await assert.rejects(
      retry(async () => ((calls += 1), Promise.reject(new Error('down'))), {attempts: 4, baseMs: 1, maxMs: 2}),
      /down/,
    )
    assert.equal(calls, 4)

    calls = 0
    const retries: number[] = []
    await assert.rejects(
      retry(async () => ((calls += 1), Promise.reject(new Error('final'))), {
        baseMs: 1,
        retryable: () => false,
        onRetry: (_e, attempt) => retries.push(attempt),
      }),
      /final/,
    )
    assert.equal(calls, 1)
    assert.deepEqual(retries, [])
  })

  it('stops retrying once aborted and throws the last error', async () => {
    const controller = new AbortController()
    let calls = 0
    await assert.rejects(
      retry(
        async () => {
          calls++
          controller.abort()
          throw new Error('interrupted')
        },
        {baseMs: 10_000, signal: controller.signal},
      ),
      /interrupted/,
    )
    assert.equal(calls, 1)
  })

  it('runs at most `concurrency` items at once and returns what never started after an abort', async () => {
    let running = 0
    let peak = 0
    const controller = new AbortController()
    const started: number[] = []
    const items = Array.from({length: 20}, (_, i) => i)
    const {notStarted} = await pool(
      items,
      3,
      async (item) => {
        started.push(item)
        running++
        peak = Math.max(peak, running)
        await new Promise((resolve) => setImmediate(resolve))
        if (item === 5) controller.abort()
        running--
      },
      controller.signal,
    )
    assert.equal(peak, 3)
    assert.equal(started.length + notStarted.length, 20)
    assert.ok(notStarted.length > 0 && notStarted.length <= 14, String(notStarted.length))
    assert.deepEqual(notStarted, items.slice(started.length))
  })

  it('lets started work finish and throws the first failure', async () => {
    const finished: number[] = []
    await assert.rejects(
      pool([1, 2, 3, 4, 5, 6], 2, async (item) => {
        await new Promise((resolve) => setImmediate(resolve))
        if (item === 2) throw new Error('item 2 failed')
        finished.push(item)
      }),
      /item 2 failed/,
    )
    assert.ok(finished.includes(1))
    assert.ok(!finished.includes(6))
  })
})
