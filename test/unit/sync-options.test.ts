import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {resolveDirections, syncOptionsFrom} from '../../src/sync/options.js'

describe('options', () => {
  it('naming a direction syncs only that one; --no-X switches one off', () => {
    assert.deepEqual(resolveDirections(undefined, undefined), {toConsul: true, toK8s: true})
    assert.deepEqual(resolveDirections(true, undefined), {toConsul: true, toK8s: false})
    assert.deepEqual(resolveDirections(undefined, false), {toConsul: true, toK8s: false})
    assert.deepEqual(resolveDirections(true, true), {toConsul: true, toK8s: true})
  })

  it('rejects contradictions with one readable message', () => {
    assert.throws(() => syncOptionsFrom({toConsul: false, toK8s: false}), /Both sync directions are switched off/)
    assert.throws(() => syncOptionsFrom({nodePortSyncType: 'Sometimes'}), /not one of ExternalOnly, ExternalFirst, InternalOnly/)
    assert.throws(() => syncOptionsFrom({k8sWriteNamespace: 'Bad_NS'}), /not a valid namespace name/)
    assert.throws(() => syncOptionsFrom({allowNamespaces: ['']}), /allows no namespace/)
    assert.throws(() => syncOptionsFrom({consulNodeName: ' '}), /--consul-node-name is empty/)
  })

  it('an empty deny value clears the default deny list', () => {
    assert.deepEqual(syncOptionsFrom({}).denyNamespaces, ['kube-system', 'kube-public'])
    assert.deepEqual(syncOptionsFrom({denyNamespaces: ['']}).denyNamespaces, [])
    assert.deepEqual(syncOptionsFrom({allowNamespaces: ['a,b', 'c']}).allowNamespaces, ['a', 'b', 'c'])
  })
})
