import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {diffValues} from '../../src/helm/diff.js'
import {rotatingChanges} from '../../src/helm/install.js'

describe('upgrade guard', () => {
  it('flags changes of the CA, the gossip key, tokens and the datacenter, not others', () => {
    const changes = diffValues(
      {global: {datacenter: 'dc1', gossipEncryption: {autoGenerate: true}}, server: {replicas: 1}},
      {global: {datacenter: 'dc2', gossipEncryption: {secretName: 's', secretKey: 'k'}}, server: {replicas: 3}},
    )
    assert.deepEqual(
      rotatingChanges(changes).map((change) => change.path),
      ['global.datacenter', 'global.gossipEncryption.autoGenerate', 'global.gossipEncryption.secretKey', 'global.gossipEncryption.secretName'],
    )
    assert.deepEqual(rotatingChanges(diffValues({server: {replicas: 1}}, {server: {replicas: 3}})), [])
  })
})
