import assert from 'node:assert/strict'
import {before, describe, it} from 'node:test'

import {createCA, createGossipKey} from '../../src/federation/crypto.js'
import {assembleFederationData, secretFromObject, secretManifest, validateFederationData, type SecretData} from '../../src/federation/secret.js'
import {
  planSecondary,
  validateSecondaryOptions,
  type FederationSource,
  type SecondaryOptions,
  type SecondaryState,
} from '../../src/federation/secondary.js'
import {UserError} from '../../src/shared/errors.js'

let withAcls: FederationSource
let withoutAcls: FederationSource

async function federationSource(replicationToken: string | undefined): Promise<FederationSource> {
  const data = assembleFederationData({
    ca: await createCA(),
    primaryDatacenter: 'dc1',
    gateways: ['198.51.100.10:443'],
    replicationToken,
    gossipKey: createGossipKey(),
  }) as SecretData
  const secret = secretFromObject({...secretManifest({name: 'consul-federation', namespace: 'consul', data}), kind: 'Secret'}, 'src')
  return {secret, name: 'Secret consul-federation in context "dc1"', summary: validateFederationData(secret.data, 'src')}
}

before(async () => {
  withAcls = await federationSource('secret-token')
  withoutAcls = await federationSource(undefined)
})

function options(overrides: Partial<SecondaryOptions> = {}): SecondaryOptions {
  return {
    release: 'consul',
    namespace: 'consul',
    context: 'dc2',
    datacenter: 'dc2',
    meshGatewayServiceType: 'LoadBalancer',
    valuesFile: 'secondary-values.yaml',
    force: false,
    dryRun: false,
    ...overrides,
  }
}

function state(overrides: Partial<SecondaryState> = {}): SecondaryState {
  return {context: 'dc2', server: 'https://203.0.113.20:6443', namespaceExists: true, ...overrides}
}

describe('planning a secondary (pure)', () => {
  it('creates the namespace, the secret and the values; k8sAuthMethodHost from the kubeconfig server', () => {
    const plan = planSecondary(options(), withAcls, state({namespaceExists: false}))
    assert.deepEqual(
      plan.steps.map((step) => `${step.kind}:${step.name}:${step.action}`),
      ['namespace:consul:create', 'secret:consul-federation:create', 'file:secondary-values.yaml:create'],
    )
    assert.deepEqual(plan.authHost, {url: 'https://203.0.113.20:6443', source: 'kubeconfig'})
    assert.match(plan.valuesText, /k8sAuthMethodHost: https:\/\/203\.0\.113\.20:6443/)
    assert.match(plan.valuesText, /primaryDatacenter: dc1/)
    assert.deepEqual(plan.warnings, [])
    assert.ok(!plan.valuesText.includes('secret-token'), 'the values name the secret, never the token')
  })

  it('is unchanged on a re-run: the same secret and the same values text', () => {
    const first = planSecondary(options(), withAcls, state())
    const existing = secretFromObject({...first.import.manifest, kind: 'Secret'}, 'the imported secret')
    const again = planSecondary(options(), withAcls, state({existing, valuesText: first.valuesText}))
    assert.equal(again.import.action, 'unchanged')
    assert.equal(again.valuesAction, 'unchanged')
  })

  it('a loopback kubeconfig server: the default/kubernetes endpoint instead, with a warning', () => {
    const plan = planSecondary(options(), withAcls, state({server: 'https://127.0.0.1:6443', endpoints: [{ip: '172.18.0.3', port: 6443}]}))
    assert.equal(plan.authHost?.source, 'endpoints')
    assert.equal(plan.authHost?.url, 'https://172.18.0.3:6443')
    assert.match(plan.warnings[0], /loopback/)
  })

  it('without ACLs there is no k8sAuthMethodHost, and the flag is ignored with a warning', () => {
    const plan = planSecondary(options({k8sAuthMethodHost: 'https://203.0.113.99:6443'}), withoutAcls, state())
    assert.equal(plan.authHost, undefined)
    assert.doesNotMatch(plan.valuesText, /k8sAuthMethodHost/)
    assert.deepEqual(plan.warnings, ['--k8s-auth-method-host is ignored: the federation secret has no replication token, so ACLs are off.'])
  })

  it('a values file with other content is an update (confirmed when applied)', () => {
    const plan = planSecondary(options(), withAcls, state({valuesText: 'global: {}\n'}))
    assert.equal(plan.valuesAction, 'update')
  })

  it('refuses a conflicting federation secret before anything is written', () => {
    const existing = {...withAcls.secret, data: {...withAcls.secret.data, replicationToken: 'other-token'}}
    assert.throws(() => planSecondary(options(), withAcls, state({existing})), UserError)
    const forced = planSecondary(options({force: true}), withAcls, state({existing}))
    assert.deepEqual(forced.import.overwrites, ['replicationToken'])
  })

  it('checks without a cluster: a secondary named like the primary, a bad --k8s-auth-method-host', () => {
    assert.throws(() => validateSecondaryOptions(options({datacenter: 'dc1'}), withAcls.summary), /that is the primary's name/)
    assert.throws(() => validateSecondaryOptions(options({k8sAuthMethodHost: 'http://203.0.113.20'}), withAcls.summary), /must be an https/)
    validateSecondaryOptions(options({k8sAuthMethodHost: 'http://203.0.113.20'}), withoutAcls.summary)
  })
})
