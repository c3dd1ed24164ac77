import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parse} from 'yaml'

import {createCA, createGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {PRIMARY_DEFAULTS} from '../../src/federation/choices.js'
import {planPrimary, runPrimary, type PrimaryOptions, type PrimaryState} from '../../src/federation/primary.js'
import {assembleFederationData, parseSecretManifest, secretFromObject, secretManifest, type SecretData} from '../../src/federation/secret.js'
import {DirSecretStore, type StoredSecret} from '../../src/federation/store.js'
import {UserError} from '../../src/shared/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'fed-primary-'))
after(() => rmSync(dir, {recursive: true, force: true}))

const options = (extra: Partial<PrimaryOptions> = {}): PrimaryOptions => ({
  ...PRIMARY_DEFAULTS,
  release: 'consul',
  namespace: 'consul',
  primaryGateways: [],
  rotate: [],
  force: false,
  valuesFile: join(dir, 'unused-values.yaml'),
  ...extra,
})

const stored = (name: string, data: SecretData): StoredSecret => secretFromObject(secretManifest({name, data}), name)

let ca: CertificateAuthority
let gossip: string
before(async () => {
  ca = await createCA()
  gossip = createGossipKey()
})

const installed = (extra: Partial<PrimaryState> = {}): PrimaryState => ({
  namespaceExists: true,
  caCert: stored('consul-ca-cert', {'tls.crt': ca.certPem}),
  caKey: stored('consul-ca-key', {'tls.key': ca.keyPem}),
  gossip: stored('consul-gossip-encryption-key', {key: gossip}),
  chartToken: 'token-from-chart',
  gateways: {ready: true, gateways: ['10.0.0.1:443', '10.0.0.2:443'], source: 'svc'},
  consulAvailable: false,
  ...extra,
})

const federation = (extra: {gateways?: string[]; token?: string; ca?: CertificateAuthority} = {}) =>
  stored('consul-federation', assembleFederationData({ca: extra.ca ?? ca, primaryDatacenter: 'dc1', gateways: extra.gateways ?? ['10.0.0.1:443', '10.0.0.2:443'], replicationToken: extra.token ?? 'token-from-chart', gossipKey: gossip}) as SecretData)

const actions = (plan: {steps: Array<{name: string; action: string}>}) => Object.fromEntries(plan.steps.map((step) => [step.name, step.action]))

describe('federate primary offline (--output-dir)', () => {
  const out = join(dir, 'out')
  const run = (extra: Partial<PrimaryOptions> = {}, dryRun = false) =>
    runPrimary(options({valuesFile: join(out, 'values.yaml'), ...extra}), {store: new DirSecretStore(join(out, 'secrets'), 'consul')}, {dryRun, confirm: async () => {}})

  it('a dry run writes nothing', async () => {
    const result = await run({}, true)
    assert.equal(result.dryRun, true)
    assert.throws(() => readdirSync(out), /ENOENT/)
  })

  it('writes values and 0600 Secret manifests, and says the federation secret waits for gateway and token', async () => {
    const result = await run()
    assert.deepEqual(readdirSync(join(out, 'secrets')).sort(), ['consul-ca-cert.yaml', 'consul-ca-key.yaml', 'consul-gossip-encryption-key.yaml'])
    for (const file of readdirSync(join(out, 'secrets'))) assert.equal(statSync(join(out, 'secrets', file)).mode & 0o777, 0o600, file)
    const caSecret = parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-ca-cert.yaml'), 'utf8'), 'f')
    assert.equal(caSecret.labels['app.kubernetes.io/managed-by'], 'consulk8s')
    assert.equal(caSecret.namespace, 'consul')
    assert.equal(result.federationSecret.status, 'pending')
    assert.equal(result.federationSecret.waitingFor.length, 2)
    assert.match(result.federationSecret.waitingFor[1], /no cluster to read consul-acl-replication-acl-token from.*--consul-http-addr.*--no-acls/)
    assert.equal(parse(readFileSync(join(out, 'values.yaml'), 'utf8')).global.datacenter, 'dc1')
    assert.ok(!JSON.stringify(result).includes(parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-ca-key.yaml'), 'utf8'), 'f').data['tls.key'].slice(40, 80)))
  })

  it('a second run reuses everything and reports unchanged', async () => {
    const before = readdirSync(join(out, 'secrets')).map((file) => readFileSync(join(out, 'secrets', file), 'utf8'))
    const result = await run()
    assert.deepEqual(
      result.steps.filter((step) => step.action !== 'pending').map((step) => step.action),
      ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
    )
    assert.deepEqual(readdirSync(join(out, 'secrets')).map((file) => readFileSync(join(out, 'secrets', file), 'utf8')), before)
  })

  it('writes the federation secret once the gateways are given and ACLs are off', async () => {
    const result = await run({primaryGateways: ['gw.example.com:443'], acls: false})
    assert.equal(result.federationSecret.status, 'create')
    const secret = parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-federation.yaml'), 'utf8'), 'f')
    assert.deepEqual(Object.keys(secret.data).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'serverConfigJSON'])
    assert.equal(secret.data.serverConfigJSON, '{"primary_datacenter":"dc1","primary_gateways":["gw.example.com:443"]}')
    assert.deepEqual(secret.labels, {'managed-by': 'consul-k8s', 'app.kubernetes.io/managed-by': 'consulk8s'})
  })
})

describe('planning the primary', () => {
  it('reuses CA, gossip key and the chart token; writes the federation secret with sorted gateways', async () => {
    const plan = await planPrimary(options(), installed())
    assert.equal(plan.ca.certPem, ca.certPem)
    assert.equal(plan.token.source, 'chart')
    assert.deepEqual(actions(plan), {'consul-ca-cert': 'unchanged', 'consul-ca-key': 'unchanged', 'consul-gossip-encryption-key': 'unchanged', 'replication token': 'unchanged', 'consul-federation': 'create', [options().valuesFile]: 'create'})
    assert.equal(plan.federation?.replicationToken, 'token-from-chart')
    assert.deepEqual(plan.destructive, [])
  })

  it('is unchanged when the federation secret already holds the same data', async () => {
    const plan = await planPrimary(options(), installed({federation: federation()}))
    assert.equal(plan.federationAction, 'unchanged')
  })

  it('refreshes moved gateway addresses without --force', async () => {
    const plan = await planPrimary(options(), installed({federation: federation({gateways: ['10.9.9.9:443']})}))
    assert.equal(plan.federationAction, 'update')
    assert.match(plan.steps.find((step) => step.name === 'consul-federation')!.detail!, /changes serverConfigJSON/)
    assert.deepEqual(plan.destructive, [])
  })

  it('keeps the stored gateways (with a warning) when they cannot be discovered', async () => {
    const plan = await planPrimary(options(), installed({federation: federation({gateways: ['10.9.9.9:443']}), gateways: {ready: false, reason: 'no LB yet'}}))
    assert.deepEqual(plan.gateways, ['10.9.9.9:443'])
    assert.equal(plan.federationAction, 'unchanged')
    assert.match(plan.warnings[0], /no LB yet.*keeping 10\.9\.9\.9:443/)
  })

  it('refuses to overwrite a federation secret holding other key material, naming the keys only', async () => {
    const other = await createCA()
    await assert.rejects(planPrimary(options(), installed({federation: federation({ca: other, token: 'old-token'})})), (error: unknown) => {
      assert.ok(error instanceof UserError)
      assert.match(error.message, /already exists with different caCert, caKey, replicationToken; refusing/)
      assert.ok(!error.message.includes('old-token') && !error.message.includes('token-from-chart'))
      assert.match(error.hint!, /--force/)
      return true
    })
    const forced = await planPrimary(options({force: true}), installed({federation: federation({ca: other})}))
    assert.equal(forced.federationAction, 'update')
    assert.match(forced.destructive[0], /overwrite caCert, caKey in consul-federation/)
  })

  it('rotates only on request, and marks it for confirmation', async () => {
    const plan = await planPrimary(options({rotate: ['ca', 'gossip-key']}), installed({federation: federation()}))
    assert.notEqual(plan.ca.certPem, ca.certPem)
    assert.notEqual(plan.gossipKey, gossip)
    assert.equal(actions(plan)['consul-ca-cert'], 'rotate')
    assert.equal(plan.federationAction, 'update')
    assert.equal(plan.destructive.length, 2)
    await assert.rejects(planPrimary(options({rotate: ['replication-token']}), installed()), /needs the Consul API/)
  })

  it('fails on an incomplete CA instead of making a new one', async () => {
    await assert.rejects(planPrimary(options(), installed({caKey: undefined})), /consul-ca-cert exists but consul-ca-key does not/)
    await assert.rejects(planPrimary(options(), installed({caKey: stored('consul-ca-key', {other: 'x'})})), /has no key tls.key/)
    await assert.rejects(planPrimary(options(), installed({gossip: stored('consul-gossip-encryption-key', {key: 'short'})})), /gossip encryption key is not/)
  })

  it('restores the CA and gossip key from an existing federation secret when their secrets are gone', async () => {
    const plan = await planPrimary(options(), installed({caCert: undefined, caKey: undefined, gossip: undefined, federation: federation()}))
    assert.equal(plan.ca.keyPem, ca.keyPem)
    assert.equal(plan.gossipKey, gossip)
    assert.equal(actions(plan)['consul-ca-cert'], 'create')
    assert.equal(plan.federationAction, 'unchanged')
  })

  it('never creates a token it could not store: waits for the gateway first', async () => {
    const plan = await planPrimary(options(), installed({chartToken: undefined, consulAvailable: true, gateways: {ready: false, reason: 'no LB'}}))
    assert.equal(plan.token.source, 'pending')
    assert.deepEqual(plan.pending.map((reason) => reason.split(':')[0]), ['the primary mesh gateway address'])
    assert.equal(plan.federation, undefined)
    const ready = await planPrimary(options(), installed({chartToken: undefined, consulAvailable: true}))
    assert.equal(ready.token.source, 'consul-api')
    assert.equal(actions(ready)['replication token'], 'create')
  })

  it('needs nothing but gateways without ACLs, and drops the token key', async () => {
    const plan = await planPrimary(options({acls: false}), installed({chartToken: undefined}))
    assert.deepEqual(Object.keys(plan.federation!).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'serverConfigJSON'])
    await assert.rejects(planPrimary(options({acls: false}), installed({federation: federation()})), /different replicationToken/)
  })
})
