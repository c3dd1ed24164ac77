import assert from 'node:assert/strict'
import {before, describe, it} from 'node:test'
import {stringify} from 'yaml'

import {createCA, createGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {
  assembleFederationData,
  cleanSecretManifest,
  diffSecretData,
  parseSecretManifest,
  renderServerConfig,
  secretFromObject,
  validateFederationData,
  type SecretData,
} from '../../src/federation/secret.js'
import {UserError} from '../../src/shared/errors.js'
import {FEDERATION_LABELS} from '../../src/shared/labels.js'

let ca: CertificateAuthority
let data: SecretData
before(async () => {
  ca = await createCA()
  data = assembleFederationData({
    ca,
    primaryDatacenter: 'dc1',
    gateways: ['10.0.0.2:443', '10.0.0.1:443'],
    replicationToken: 'tok-1',
    gossipKey: createGossipKey(),
  }) as SecretData
})

describe('federation secret data', () => {
  it('holds exactly the consul-k8s keys, serverConfigJSON with exactly two fields', () => {
    assert.deepEqual(Object.keys(data).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    assert.equal(data.serverConfigJSON, '{"primary_datacenter":"dc1","primary_gateways":["10.0.0.2:443","10.0.0.1:443"]}')
    assert.equal(renderServerConfig('dc9', []), '{"primary_datacenter":"dc9","primary_gateways":[]}')
  })

  it('leaves out replicationToken without ACLs and gossipEncryptionKey without gossip', () => {
    const plain = assembleFederationData({ca, primaryDatacenter: 'dc1', gateways: ['a.example:443']})
    assert.deepEqual(Object.keys(plain).sort(), ['caCert', 'caKey', 'serverConfigJSON'])
    const summary = validateFederationData(plain as SecretData, 'x')
    assert.equal(summary.acls, false)
    assert.equal(summary.gossip, false)
  })

  it('validates a complete secret and summarises it without values', () => {
    const summary = validateFederationData(data, 'the secret')
    assert.equal(summary.primaryDatacenter, 'dc1')
    assert.deepEqual(summary.primaryGateways, ['10.0.0.2:443', '10.0.0.1:443'])
    assert.equal(summary.acls, true)
    assert.equal(summary.gossip, true)
    assert.match(summary.caFingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    assert.ok(!JSON.stringify(summary).includes('tok-1'))
    assert.ok(!JSON.stringify(summary).includes(data.gossipEncryptionKey))
  })

  it('names every missing key', () => {
    const {caKey: _k, serverConfigJSON: _s, ...partial} = data
    assert.throws(
      () => validateFederationData(partial, 'file f.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.equal(error.message, 'file f.yaml is missing keys caKey, serverConfigJSON.')
        return true
      },
    )
  })

  it('rejects unknown keys, a bad CA, a bad gossip key and bad serverConfigJSON', () => {
    const cases: Array<[SecretData, RegExp]> = [
      [{...data, extra: 'x'}, /unexpected key extra/],
      [{...data, caKey: 'nope'}, /caCert\/caKey: The CA key is not a readable PEM private key/],
      [{...data, gossipEncryptionKey: 'c2hvcnQ='}, /gossipEncryptionKey: The gossip encryption key is not/],
      [{...data, serverConfigJSON: '{"primary_datacenter":"dc1"}'}, /no primary_gateways/],
      [{...data, serverConfigJSON: '{"primary_datacenter":"dc1","primary_gateways":["x:1"],"datacenter":"dc2"}'}, /unexpected fields: datacenter/],
      [{...data, serverConfigJSON: 'not json'}, /not valid JSON/],
      [{...data, replicationToken: ''}, /empty replicationToken/],
    ]
    for (const [bad, pattern] of cases) assert.throws(() => validateFederationData(bad, 's'), pattern)
  })

  it('diffs by key name only', () => {
    assert.deepEqual(diffSecretData(data, {...data}), [])
    assert.deepEqual(diffSecretData(data, {...data, replicationToken: 'other', gossipEncryptionKey: undefined as unknown as string}), [
      'gossipEncryptionKey',
      'replicationToken',
    ])
  })
})

describe('federation secret manifests', () => {
  const apiObject = () => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'consul-federation',
      namespace: 'consul',
      labels: {...FEDERATION_LABELS},
      annotations: {'kubectl.kubernetes.io/last-applied-configuration': '{}', note: 'kept'},
      resourceVersion: '123',
      uid: 'u-1',
      creationTimestamp: '2024-01-01T00:00:00Z',
      managedFields: [{manager: 'x'}],
      ownerReferences: [{kind: 'Pod', name: 'p', uid: 'x', apiVersion: 'v1'}],
    },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  })

  it('cleans cluster metadata and overrides the namespace', () => {
    const manifest = cleanSecretManifest(secretFromObject(apiObject(), 'api'), 'consul-dc2')
    assert.deepEqual(Object.keys(manifest.metadata).sort(), ['annotations', 'labels', 'name', 'namespace'])
    assert.equal(manifest.metadata.namespace, 'consul-dc2')
    assert.deepEqual(manifest.metadata.annotations, {note: 'kept'})
    assert.equal(manifest.metadata.labels?.['managed-by'], 'consul-k8s')
    assert.equal(manifest.type, 'Opaque')
    assert.equal(Buffer.from(manifest.data.caCert, 'base64').toString(), ca.certPem)
  })

  it('parses YAML and JSON manifests, data and stringData', () => {
    const yamlText = stringify(apiObject())
    assert.deepEqual(parseSecretManifest(yamlText, 'f').data, data)
    assert.deepEqual(parseSecretManifest(JSON.stringify(apiObject()), 'f').data, data)
    const {replicationToken, ...rest} = apiObject().data
    const mixed = {...apiObject(), data: rest, stringData: {replicationToken: 'tok-1'}}
    assert.equal(Buffer.from(replicationToken, 'base64').toString(), 'tok-1')
    assert.deepEqual(parseSecretManifest(stringify(mixed), 'f').data, data)
  })

  it('rejects what is not a Secret manifest with one message', () => {
    assert.throws(() => parseSecretManifest('', 'f.yaml'), /f.yaml is empty/)
    assert.throws(() => parseSecretManifest('kind: ConfigMap\nmetadata: {name: x}\n', 'f.yaml'), /holds a ConfigMap, not a Secret/)
    assert.throws(() => parseSecretManifest('a: [1, 2\n', 'f.yaml'), /not valid YAML or JSON/)
    assert.throws(
      () => parseSecretManifest('kind: Secret\nmetadata: {name: x}\ndata: {caCert: "!!notbase64"}\n', 'f.yaml'),
      /data.caCert is not valid base64/,
    )
    assert.throws(() => parseSecretManifest('kind: Secret\n', 'f.yaml'), /no metadata.name/)
  })
})
