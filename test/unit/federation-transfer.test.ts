import assert from 'node:assert/strict'
import {before, describe, it} from 'node:test'

import {createCA, createGossipKey} from '../../src/federation/crypto.js'
import {checkSecondaryDatacenter} from '../../src/federation/secondary.js'
import {assembleFederationData, secretFromObject, secretManifest, type SecretData, type SecretObject} from '../../src/federation/secret.js'
import {planImport} from '../../src/federation/transfer.js'
import {UserError} from '../../src/shared/errors.js'

let source: SecretObject
let data: SecretData
before(async () => {
  data = assembleFederationData({
    ca: await createCA(),
    primaryDatacenter: 'dc1',
    gateways: ['1.1.1.1:443'],
    replicationToken: 'secret-token',
    gossipKey: createGossipKey(),
  }) as SecretData
  source = secretFromObject(
    {
      ...secretManifest({
        name: 'consul-federation',
        namespace: 'consul',
        labels: {'managed-by': 'consul-k8s', 'app.kubernetes.io/instance': 'consul'},
        data,
      }),
      kind: 'Secret',
    },
    'src',
  )
})

const base = {release: 'consul', namespace: 'consul', force: false, namespaceExists: true, sourceName: 'file f.yaml'}

describe('importing the federation secret', () => {
  it('creates it with managed-by: consul-k8s and consulk8s labels, in the target namespace', () => {
    const plan = planImport(source, undefined, {...base, namespace: 'consul-dc2', namespaceExists: false})
    assert.equal(plan.action, 'create')
    assert.deepEqual(
      plan.steps.map((step) => `${step.kind}:${step.action}`),
      ['namespace:create', 'secret:create'],
    )
    assert.equal(plan.manifest.metadata.namespace, 'consul-dc2')
    assert.deepEqual(plan.manifest.metadata.labels, {'managed-by': 'consul-k8s', 'app.kubernetes.io/managed-by': 'consulk8s'})
    assert.ok(!JSON.stringify(plan.steps).includes('secret-token'))
  })

  it('renames to the release name and keeps the label even when the source lost it', () => {
    const plan = planImport({...source, name: 'other-federation', labels: {}}, undefined, {...base, release: 'east'})
    assert.equal(plan.name, 'east-federation')
    assert.equal(plan.renamedFrom, 'other-federation')
    assert.equal(plan.manifest.metadata.labels?.['managed-by'], 'consul-k8s')
  })

  it('is unchanged for the same data, and only adds a missing label', () => {
    assert.equal(planImport(source, source, base).action, 'unchanged')
    const unlabelled = planImport(source, {...source, labels: {}}, base)
    assert.equal(unlabelled.action, 'update')
    assert.match(unlabelled.steps[0].detail!, /adds the label managed-by: consul-k8s/)
  })

  it('refuses a conflicting secret naming the differing keys, never values; --force replaces', () => {
    const existing = {...source, data: {...data, replicationToken: 'old-token', gossipEncryptionKey: 'x'}}
    assert.throws(
      () => planImport(source, existing, base),
      (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.equal(
          error.message,
          'Secret consul/consul-federation already exists with different gossipEncryptionKey, replicationToken; refusing to overwrite it.',
        )
        assert.match(error.hint!, /--force/)
        return true
      },
    )
    const forced = planImport(source, existing, {...base, force: true})
    assert.deepEqual(forced.overwrites, ['gossipEncryptionKey', 'replicationToken'])
  })

  it('refuses an incomplete source naming the missing keys', () => {
    const {caKey: _caKey, ...partial} = data
    assert.throws(() => planImport({...source, data: partial}, undefined, base), /file f.yaml is missing key caKey\./)
  })

  it('refuses a secondary named like the primary, or an invalid name', () => {
    assert.throws(() => checkSecondaryDatacenter('dc1', 'dc1'), /cannot be named "dc1": that is the primary's name/)
    assert.throws(() => checkSecondaryDatacenter('DC 2', 'dc1'), /Invalid datacenter name/)
    checkSecondaryDatacenter('dc2', 'dc1')
  })
})
