import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {closest, editDistance} from '../../src/shared/suggest.js'

const COMMANDS = ['federate', 'install', 'status', 'sync', 'uninstall', 'upgrade', 'verify']

describe('closest', () => {
  it('counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('', 'abc'), 3)
    assert.equal(editDistance('status', 'status'), 0)
    assert.equal(editDistance('stauts', 'status'), 2)
    assert.equal(editDistance('kitten', 'sitting'), 3)
  })

  it('suggests the nearest candidate for a typo', () => {
    assert.equal(closest('fedrate', COMMANDS), 'federate')
    assert.equal(closest('verfy', COMMANDS), 'verify')
    assert.equal(closest('statsu', COMMANDS), 'status')
  })

  it('suggests the candidate a prefix of three or more characters starts', () => {
    assert.equal(closest('upgr', COMMANDS), 'upgrade')
    assert.equal(closest('feder', COMMANDS), 'federate')
    // Two characters are too short to be read as a prefix.
    assert.equal(closest('fe', ['federate']), undefined)
  })

  it('prefers the nearer of two candidates', () => {
    // Both are within two edits; "upgrade" (one edit) wins though it comes second.
    assert.equal(closest('upgrada', ['upgrades', 'upgrade']), 'upgrade')
    assert.equal(closest('instal', COMMANDS), 'install')
    assert.equal(closest('uninstal', COMMANDS), 'uninstall')
  })

  it('suggests nothing when no candidate is near', () => {
    assert.equal(closest('xyz', COMMANDS), undefined)
    assert.equal(closest('kubectl', COMMANDS), undefined)
    assert.equal(closest('status', []), undefined)
  })
})
