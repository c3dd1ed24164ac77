// An existing release decides what federate primary works with: names, datacenter, CA, gossip
// key, ACLs; flags that contradict it are refused; its values are kept plus the federation
// changes. Also: gateways from the Consul catalog and the /v1/agent/self check.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {PRIMARY_DEFAULTS} from '../../src/federation/choices.js'
import {choicesFromRelease, existingPrimaryValues, releaseFacts, type ExistingRelease} from '../../src/federation/existing.js'
import {gatewaysFromCatalog} from '../../src/federation/gateways.js'
import {checkConsulAgent, primaryLayout} from '../../src/federation/primary.js'
import {checkValues} from '../../src/helm/plan.js'

const release = (values: Record<string, unknown>): ExistingRelease => ({release: 'prod', namespace: 'consul', source: 'helm get values', values})

describe('an existing release', () => {
  const plain = release({
    global: {datacenter: 'east', tls: {enabled: true}, acls: {manageSystemACLs: true}, gossipEncryption: {autoGenerate: true}},
    server: {replicas: 3},
  })

  it('keeps the chart fullname (<release>-consul without global.name) and the CA and gossip secrets the chart made', () => {
    const facts = releaseFacts(plain)
    assert.equal(facts.prefix, 'prod-consul')
    assert.equal(facts.datacenter, 'east')
    assert.deepEqual([facts.acls, facts.gossip, facts.tls], [true, true, true])
    const layout = primaryLayout({release: 'prod'}, plain)
    assert.deepEqual(
      [
        layout.names.caCertSecret,
        layout.names.caKeySecret,
        layout.names.gossipSecret,
        layout.names.replicationTokenSecret,
        layout.names.federationSecret,
      ],
      [
        'prod-consul-ca-cert',
        'prod-consul-ca-key',
        'prod-consul-gossip-encryption-key',
        'prod-consul-acl-replication-acl-token',
        'prod-consul-federation',
      ],
    )
    assert.deepEqual(layout.caCert, {secretName: 'prod-consul-ca-cert', secretKey: 'tls.crt'})
  })

  it('takes the secrets its values name', () => {
    const named = release({
      global: {
        name: 'c',
        tls: {enabled: true, caCert: {secretName: 'my-ca', secretKey: 'ca.pem'}, caKey: {secretName: 'my-ca-key', secretKey: 'key.pem'}},
        gossipEncryption: {secretName: 'gk', secretKey: 'g'},
      },
    })
    const layout = primaryLayout({release: 'prod'}, named)
    assert.equal(layout.names.prefix, 'c')
    assert.deepEqual(
      [layout.caCert, layout.caKey, layout.gossip],
      [
        {secretName: 'my-ca', secretKey: 'ca.pem'},
        {secretName: 'my-ca-key', secretKey: 'key.pem'},
        {secretName: 'gk', secretKey: 'g'},
      ],
    )
  })

  it('refuses a flag that contradicts it, naming both values', () => {
    const facts = releaseFacts(plain)
    assert.throws(
      () => choicesFromRelease(plain, facts, {datacenter: 'dc1'}, PRIMARY_DEFAULTS),
      /--datacenter dc1 contradicts release prod .*whose datacenter \(global\.datacenter\) is east\./,
    )
    assert.throws(() => choicesFromRelease(plain, facts, {acls: false}, PRIMARY_DEFAULTS), /--no-acls contradicts release prod.*is on\./)
    assert.deepEqual(choicesFromRelease(plain, facts, {datacenter: 'east'}, PRIMARY_DEFAULTS), {
      datacenter: 'east',
      acls: true,
      gossip: true,
      meshGatewayServiceType: 'LoadBalancer',
    })
    const secondary = release({global: {datacenter: 'west', federation: {enabled: true, primaryDatacenter: 'east'}}})
    assert.throws(() => choicesFromRelease(secondary, releaseFacts(secondary), {}, PRIMARY_DEFAULTS), /is a secondary of east/)
  })

  it('writes its values plus the federation changes, never global.name or federation.primaryDatacenter', () => {
    const facts = releaseFacts(plain)
    const values = existingPrimaryValues(plain, facts, choicesFromRelease(plain, facts, {}, PRIMARY_DEFAULTS)) as {
      global: Record<string, unknown>
      server: unknown
    }
    assert.equal(values.global.name, undefined)
    assert.equal(values.global.datacenter, 'east')
    assert.deepEqual(values.server, {replicas: 3}, 'the rest of the release is kept')
    assert.deepEqual(values.global.tls, {
      enabled: true,
      caCert: {secretName: 'prod-consul-ca-cert', secretKey: 'tls.crt'},
      caKey: {secretName: 'prod-consul-ca-key', secretKey: 'tls.key'},
    })
    assert.deepEqual(values.global.federation, {enabled: true, createFederationSecret: false})
    assert.deepEqual(values.global.gossipEncryption, {autoGenerate: false, secretName: 'prod-consul-gossip-encryption-key', secretKey: 'key'})
    assert.deepEqual(values.global.acls, {
      manageSystemACLs: true,
      createReplicationToken: true,
      replicationToken: {secretName: 'prod-consul-acl-replication-acl-token', secretKey: 'token'},
    })
    assert.deepEqual(checkValues('prod', values).errors, [], 'the install preflight accepts them')
  })
})

describe('gateways from the Consul catalog', () => {
  it("takes every instance's wan tagged address, sorted", () => {
    const found = gatewaysFromCatalog(
      [
        {
          ServiceAddress: '10.0.0.9',
          ServicePort: 8443,
          ServiceTaggedAddresses: {lan: {Address: '10.0.0.9', Port: 8443}, wan: {Address: '203.0.113.20', Port: 443}},
        },
        {ServiceTaggedAddresses: {wan: {Address: '203.0.113.3', Port: 30443}}},
      ],
      'mesh-gateway',
    )
    assert.deepEqual(found, {
      ready: true,
      gateways: ['203.0.113.3:30443', '203.0.113.20:443'],
      source: "service mesh-gateway in the primary's Consul catalog (wan tagged addresses)",
    })
  })

  it('is not ready without instances or wan addresses', () => {
    assert.match((gatewaysFromCatalog([], 'mesh-gateway') as {reason: string}).reason, /has no instance yet/)
    assert.match(
      (gatewaysFromCatalog([{ServiceTaggedAddresses: {lan: {Address: '10.0.0.1', Port: 1}}}], 'gw') as {reason: string}).reason,
      /no instance .* has a wan tagged address/,
    )
  })
})

describe('the Consul given is the primary', () => {
  it('refuses another datacenter or a secondary', () => {
    assert.doesNotThrow(() => checkConsulAgent({datacenter: 'dc1'}, {consulAgent: {datacenter: 'dc1', primaryDatacenter: 'dc1'}}))
    assert.throws(() => checkConsulAgent({datacenter: 'dc1'}, {consulAgent: {datacenter: 'east'}}), /is datacenter "east", but the primary is "dc1"/)
    assert.throws(
      () => checkConsulAgent({datacenter: 'dc2'}, {consulAgent: {datacenter: 'dc2', primaryDatacenter: 'dc1'}}),
      /has primary_datacenter "dc1".*it is a secondary/,
    )
  })
})
