import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {chartFullname, releaseNames, validateDatacenterName} from '../../src/federation/names.js'
import {UserError} from '../../src/shared/errors.js'

describe('chart-derived names', () => {
  it('follows the chart fullname rules', () => {
    assert.equal(chartFullname('consul', {globalName: 'consul'}), 'consul')
    assert.equal(chartFullname('rel'), 'rel-consul')
    assert.equal(chartFullname('rel', {fullnameOverride: 'x', globalName: 'y'}), 'x')
    assert.equal(chartFullname('a'.repeat(70)).length, 63)
  })

  it('derives the secret and workload names from the release', () => {
    const names = releaseNames('consul')
    assert.equal(names.federationSecret, 'consul-federation')
    assert.equal(names.caCertSecret, 'consul-ca-cert')
    assert.equal(names.caKeySecret, 'consul-ca-key')
    assert.equal(names.gossipSecret, 'consul-gossip-encryption-key')
    assert.equal(names.replicationTokenSecret, 'consul-acl-replication-acl-token')
    assert.equal(names.bootstrapTokenSecret, 'consul-bootstrap-acl-token')
    assert.equal(names.serverStatefulSet, 'consul-server')
  })

  it('rejects invalid datacenter names with a UserError', () => {
    for (const bad of ['DC1', 'dc 1', '', '-dc', 'dc.1']) {
      assert.throws(() => validateDatacenterName(bad), UserError, bad)
    }
    for (const good of ['dc1', 'dc-2', 'east_1']) validateDatacenterName(good)
  })
})
