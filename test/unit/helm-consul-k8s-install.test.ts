/**
 * consul-k8s 2.0.3's own CLI tests for `consul-k8s install` (cli/cmd/install/install_test.go),
 * case by case, against consulk8s's pure install preflight. Each case is named after its Go test
 * and table entry. Where consulk8s differs on purpose (docs/install.md), the case says so and
 * asserts consulk8s's documented behaviour.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {V1PersistentVolumeClaim} from '@kubernetes/client-node'

import {deleteClaimsCommand, leftoverClaims, leftoverSecrets} from '../../src/helm/preflight.js'
import {referencedSecrets, summarizeValues} from '../../src/helm/plan.js'
import {loadValuesFile} from '../../src/helm/values.js'
import type {SecretSummary} from '../../src/helm/release-objects.js'
import {chartNames, validateNamespaceName, validateReleaseName} from '../../src/federation/names.js'
import {parseDuration} from '../../src/shared/duration.js'
import {UserError} from '../../src/shared/errors.js'

const claim = (name: string, namespace: string): V1PersistentVolumeClaim => ({metadata: {name, namespace}})
const target = (release = 'consul', namespace = 'consul') => ({namespace, release, names: chartNames(summarizeValues(release, {}).prefix)})

describe('TestCheckForPreviousPVCs', () => {
  it('claims named consul-server-* in another namespace (default) refuse the install, named namespace/name', () => {
    const found = leftoverClaims([claim('consul-server-test1', 'default'), claim('consul-server-test2', 'default')], target())
    assert.deepEqual(found, {blocking: ['default/consul-server-test1', 'default/consul-server-test2'], terminating: []})
    assert.equal(deleteClaimsCommand('consul', found.blocking), 'kubectl delete pvc -n default consul-server-test1 consul-server-test2')
  })

  it('no claims: the check passes', () => {
    assert.deepEqual(leftoverClaims([], target()), {blocking: [], terminating: []})
  })

  it('an irrelevant claim: the check still passes', () => {
    assert.deepEqual(leftoverClaims([claim('irrelevant-pvc', 'default')], target()), {blocking: [], terminating: []})
  })

  it('TestInstall "install with no arguments when PVCs exist returns error": consul/consul-server-test1', () => {
    const found = leftoverClaims([claim('consul-server-test1', 'consul')], target())
    assert.deepEqual(found.blocking, ['consul-server-test1'])
    assert.equal(deleteClaimsCommand('consul', found.blocking), 'kubectl delete pvc -n consul consul-server-test1')
  })
})

describe('TestCheckForPreviousSecrets', () => {
  const names = chartNames('consul')
  const secret = (name: string, labels: Record<string, string> = {}, keys: string[] = ['x']): SecretSummary => ({name, keys, labels})

  it('No secrets, none expected', () => {
    assert.deepEqual(leftoverSecrets([], names, []), [])
  })

  it('Non-Consul secrets, none expected', () => {
    assert.deepEqual(leftoverSecrets([secret('non-consul-secret')], names, []), [])
  })

  it('Consul secrets, none expected (label managed-by=consul-k8s): refused', () => {
    assert.deepEqual(leftoverSecrets([secret('consul-secret', {'managed-by': 'consul-k8s'})], names, []), ['consul-secret'])
  })

  // A secondary whose values read the federation secret.
  const secondary = {
    global: {
      datacenter: 'dc2',
      federation: {enabled: true, primaryDatacenter: 'dc1', createFederationSecret: false},
      acls: {replicationToken: {secretName: 'consul-federation'}},
    },
  }

  it('Federation secret, expected: the federation secret the values read is no leftover', () => {
    const referenced = referencedSecrets(secondary).map((reference) => reference.name)
    assert.deepEqual(referenced, ['consul-federation'])
    assert.deepEqual(leftoverSecrets([secret('consul-federation', {'managed-by': 'consul-k8s'})], names, referenced), [])
  })

  it('No federation secret, but expected: the values read consul-federation, so the preflight requires it', () => {
    // The install preflight reads every referenced secret and refuses one that does not exist.
    assert.deepEqual(
      referencedSecrets(secondary).map((reference) => [reference.name, reference.via]),
      [['consul-federation', ['global.acls.replicationToken']]],
    )
  })

  it('(deliberate difference) federation material is never a leftover, even when the values do not read it', () => {
    // consul-k8s refuses a consul-federation secret when the values are not a secondary's;
    // consulk8s keeps federation material across uninstall --wipe-data on purpose, so it is expected.
    assert.deepEqual(leftoverSecrets([secret('consul-federation', {'managed-by': 'consul-k8s'}, ['serverConfigJSON'])], names, []), [])
  })
})

describe('TestValidateFlags', () => {
  const rejects = (fn: () => unknown, message: RegExp) => {
    assert.throws(fn, (error: unknown) => error instanceof UserError && message.test(error.message))
  }

  it('Should error on invalid timeout.', () => {
    rejects(() => parseDuration('invalid-timeout'), /^Invalid duration "invalid-timeout" for --timeout\.$/)
  })

  it('Should error on an invalid namespace (" nsWithSpace").', () => {
    rejects(() => validateNamespaceName('" nsWithSpace"'), /^Invalid namespace "" nsWithSpace""\.$/)
    rejects(() => validateNamespaceName(' nsWithSpace'), /Invalid namespace/)
    rejects(() => validateNamespaceName('nsWithCaps'), /Invalid namespace/)
  })

  it('an invalid release name is refused the same way', () => {
    rejects(() => validateReleaseName('Consul'), /^Invalid release name "Consul"\.$/)
    rejects(() => validateReleaseName('-consul'), /Invalid release name/)
  })

  it('Should have errored on a non-existent file.', async () => {
    await assert.rejects(
      loadValuesFile('does_not_exist.txt'),
      (error: unknown) => error instanceof UserError && error.message === 'Values file does_not_exist.txt does not exist.',
    )
  })
})

describe('upgrade TestValidateFlags', () => {
  // consulk8s upgrade reads --timeout and -f through the same functions as install.
  it('Should error on invalid timeout.', () => {
    assert.throws(() => parseDuration('invalid-timeout'), /Invalid duration "invalid-timeout" for --timeout/)
  })

  it('Should have errored on a non-existant file.', async () => {
    await assert.rejects(loadValuesFile('does_not_exist.txt'), /Values file does_not_exist.txt does not exist/)
  })
})
