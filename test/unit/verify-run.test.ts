/**
 * The verify flow's checks of its options (src/verify/run.ts), before it reads a cluster:
 * flags that only apply with --pre, and what --pre needs (one secondary context, a primary
 * context that differs, a datacenter name from --datacenter or --values-file).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {isUserError} from '../../src/shared/errors.js'
import {runVerify, type RunVerifyOptions, type VerifyHooks} from '../../src/verify/run.js'

function options(overrides: Partial<RunVerifyOptions> = {}): RunVerifyOptions {
  return {
    contexts: ['dc3'],
    namespace: 'consul',
    release: 'consul',
    consul: {},
    env: {},
    wait: false,
    timeoutMs: 90_000,
    intervalMs: 3000,
    pre: true,
    ...overrides,
  }
}

/** Stops the flow where it would start reading the clusters, with what it was about to check. */
class Started extends Error {}

function hooks(inputs: Record<string, string> = {}): VerifyHooks & {read: string[]} {
  const read: string[] = []
  return {
    read,
    progress: (text) => {
      throw new Started(text)
    },
    done: () => {},
    readInput: async (path) => {
      read.push(path)
      return inputs[path] ?? ''
    },
  }
}

const refuses = (message: string) => (error: Error) => isUserError(error) && error.message === message

describe('runVerify', () => {
  it('refuses a --pre flag without --pre, naming the first one', async () => {
    await assert.rejects(
      runVerify(options({pre: false, datacenter: 'dc3', valuesFile: 'values.yaml'}), hooks()),
      refuses('--datacenter only applies to verify --pre.'),
    )
    await assert.rejects(
      runVerify(options({pre: false, contexts: ['dc1', 'dc2'], primaryContext: 'dc1', file: '-'}), hooks()),
      refuses('--primary-context only applies to verify --pre.'),
    )
  })

  it('--pre: one secondary, no --wait, a primary context that differs', async () => {
    await assert.rejects(
      runVerify(options({contexts: ['dc2', 'dc3'], primaryContext: 'dc1'}), hooks()),
      refuses('verify --pre checks one new secondary: give --context once.'),
    )
    await assert.rejects(
      runVerify(options({wait: true, primaryContext: 'dc1'}), hooks()),
      refuses('--wait does not apply to verify --pre: it checks once, before anything is installed.'),
    )
    await assert.rejects(
      runVerify(options(), hooks()),
      refuses('verify --pre needs the primary: pass --primary-context <context of the primary datacenter>.'),
    )
    await assert.rejects(runVerify(options({primaryContext: 'dc3'}), hooks()), refuses('--primary-context and --context are both dc3.'))
  })

  it('--pre: the datacenter comes from --datacenter, else from global.datacenter of --values-file', async () => {
    await assert.rejects(runVerify(options({primaryContext: 'dc1'}), hooks()), refuses('verify --pre needs the name of the new datacenter.'))
    const given = hooks()
    await assert.rejects(
      runVerify(options({primaryContext: 'dc1', datacenter: 'east'}), given),
      (error: Error) => error instanceof Started && error.message === 'checking east in context dc3 against the primary in dc1',
    )
    assert.deepEqual(given.read, [])
    const fromValues = hooks({'values.yaml': 'global:\n  datacenter: west\n'})
    await assert.rejects(
      runVerify(options({primaryContext: 'dc1', valuesFile: 'values.yaml'}), fromValues),
      (error: Error) => error instanceof Started && error.message === 'checking west in context dc3 against the primary in dc1',
    )
    assert.deepEqual(fromValues.read, ['values.yaml'])
  })
})
