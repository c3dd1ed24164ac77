import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parse} from 'yaml'

import {createCA, createGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {PRIMARY_DEFAULTS} from '../../src/federation/choices.js'
import {planPrimary, runPrimary, type PrimaryOptions, type PrimaryState} from '../../src/federation/primary.js'
import {
  assembleFederationData,
  parseSecretManifest,
  secretFromObject,
  secretManifest,
  validateFederationData,
  type SecretData,
} from '../../src/federation/secret.js'
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
  tokenSecret: stored('consul-acl-replication-acl-token', {token: 'token-from-chart'}),
  gateways: {ready: true, gateways: ['10.0.0.1:443', '10.0.0.2:443'], source: 'svc'},
  ...extra,
})

const federation = (extra: {gateways?: string[]; token?: string; ca?: CertificateAuthority} = {}) =>
  stored(
    'consul-federation',
    assembleFederationData({
      ca: extra.ca ?? ca,
      primaryDatacenter: 'dc1',
      gateways: extra.gateways ?? ['10.0.0.1:443', '10.0.0.2:443'],
      replicationToken: extra.token ?? 'token-from-chart',
      gossipKey: gossip,
    }) as SecretData,
  )

const actions = (plan: {steps: Array<{name: string; action: string}>}) => Object.fromEntries(plan.steps.map((step) => [step.name, step.action]))

describe('federate primary offline (--output-dir)', () => {
  const out = join(dir, 'out')
  const run = (extra: Partial<PrimaryOptions> = {}, dryRun = false) =>
    runPrimary(
      options({valuesFile: join(out, 'values.yaml'), ...extra}),
      {store: new DirSecretStore(join(out, 'secrets'), 'consul')},
      {dryRun, confirm: async () => {}},
    )

  it('a dry run writes nothing', async () => {
    const result = await run({}, true)
    assert.equal(result.dryRun, true)
    assert.throws(() => readdirSync(out), /ENOENT/)
  })

  it('writes values and 0600 Secret manifests, the complete federation secret included (the same token; primary_gateways empty until the gateway is known)', async () => {
    const result = await run()
    assert.deepEqual(readdirSync(join(out, 'secrets')).sort(), [
      'consul-acl-replication-acl-token.yaml',
      'consul-ca-cert.yaml',
      'consul-ca-key.yaml',
      'consul-federation.yaml',
      'consul-gossip-encryption-key.yaml',
    ])
    for (const file of readdirSync(join(out, 'secrets'))) assert.equal(statSync(join(out, 'secrets', file)).mode & 0o777, 0o600, file)
    const caSecret = parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-ca-cert.yaml'), 'utf8'), 'f')
    assert.equal(caSecret.labels['app.kubernetes.io/managed-by'], 'consulk8s')
    assert.equal(caSecret.namespace, 'consul')
    const token = parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-acl-replication-acl-token.yaml'), 'utf8'), 'f').data.token
    assert.match(token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID v4')
    assert.ok(!JSON.stringify(result).includes(token), 'the token is never reported')
    assert.equal(result.replicationTokenSource, 'generated')
    assert.equal(result.federationSecret.status, 'create')
    assert.deepEqual(result.federationSecret.primaryGateways, [])
    const federation = parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-federation.yaml'), 'utf8'), 'f').data
    assert.deepEqual(Object.keys(federation).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    assert.equal(federation.replicationToken, token)
    assert.deepEqual(JSON.parse(federation.serverConfigJSON), {primary_datacenter: 'dc1', primary_gateways: []})
    assert.ok(
      result.warnings.some((warning) => /no primary gateways yet.*--context/.test(warning)),
      result.warnings.join('\n'),
    )
    assert.ok(
      result.next.some(
        (line) => line.startsWith('consulk8s federate primary --context <primary-context>') && line.includes('fills in the primary gateways'),
      ),
      result.next.join('\n'),
    )
    assert.ok(!result.next.some((line) => line.startsWith('consulk8s federate secondary')), 'no secondary step while the gateways are missing')
    // Every secondary-side reader refuses it, saying how to fill the gateways in.
    assert.throws(
      () => validateFederationData(federation, 'f'),
      (error: UserError) => /no primary_gateways/.test(error.message) && /federate primary --context/.test(error.hint ?? ''),
    )
    const values = parse(readFileSync(join(out, 'values.yaml'), 'utf8'))
    assert.equal(values.global.datacenter, 'dc1')
    assert.deepEqual(values.global.acls, {
      manageSystemACLs: true,
      createReplicationToken: true,
      replicationToken: {secretName: 'consul-acl-replication-acl-token', secretKey: 'token'},
    })
    const proxyDefaults = parse(readFileSync(join(out, 'proxy-defaults.yaml'), 'utf8'))
    assert.deepEqual(proxyDefaults, {
      apiVersion: 'consul.hashicorp.com/v1alpha1',
      kind: 'ProxyDefaults',
      metadata: {name: 'global', namespace: 'consul', labels: {'app.kubernetes.io/managed-by': 'consulk8s'}},
      spec: {meshGateway: {mode: 'local'}},
    })
    assert.ok(
      result.next.some(
        (line) => line.startsWith('kubectl create --context <primary-context> --namespace consul -f ') && line.includes('out/proxy-defaults.yaml'),
      ),
      result.next.join('\n'),
    )
    assert.ok(
      !JSON.stringify(result).includes(
        parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-ca-key.yaml'), 'utf8'), 'f').data['tls.key'].slice(40, 80),
      ),
    )
  })

  it('a second run reuses everything and reports unchanged', async () => {
    const before = readdirSync(join(out, 'secrets')).map((file) => readFileSync(join(out, 'secrets', file), 'utf8'))
    const result = await run()
    assert.deepEqual(
      result.steps.filter((step) => step.action !== 'pending').map((step) => step.action),
      ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'],
    )
    assert.deepEqual(
      readdirSync(join(out, 'secrets')).map((file) => readFileSync(join(out, 'secrets', file), 'utf8')),
      before,
    )
  })

  it('a rerun with and without --context leaves values.yaml alone: only its header comment differs, nothing to confirm', async () => {
    const file = join(out, 'values.yaml')
    const before = readFileSync(file, 'utf8')
    const confirmed: string[] = []
    for (const context of ['dc1', undefined]) {
      const result = await runPrimary(
        options({valuesFile: file, context}),
        {store: new DirSecretStore(join(out, 'secrets'), 'consul')},
        {dryRun: false, confirm: async (message) => void confirmed.push(message)},
      )
      assert.equal(result.steps.find((step) => step.name === file)?.action, 'unchanged')
    }
    assert.deepEqual(confirmed, [])
    assert.equal(readFileSync(file, 'utf8'), before)
  })

  it('with the gateway given, fills in the federation secret (the token of the token secret kept); a rerun changes nothing', async () => {
    const result = await run({primaryGateways: ['gw.example.com:443']})
    assert.equal(result.federationSecret.status, 'update')
    assert.ok(
      result.next.some((line) => line.startsWith('consulk8s federate secondary')),
      result.next.join('\n'),
    )
    const secrets = join(out, 'secrets')
    const secret = parseSecretManifest(readFileSync(join(secrets, 'consul-federation.yaml'), 'utf8'), 'f')
    assert.deepEqual(Object.keys(secret.data).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    assert.equal(
      secret.data.replicationToken,
      parseSecretManifest(readFileSync(join(secrets, 'consul-acl-replication-acl-token.yaml'), 'utf8'), 'f').data.token,
    )
    const before = readdirSync(secrets).map((file) => readFileSync(join(secrets, file), 'utf8'))
    const again = await run({primaryGateways: ['gw.example.com:443']})
    assert.equal(again.federationSecret.status, 'unchanged')
    assert.deepEqual(
      readdirSync(secrets).map((file) => readFileSync(join(secrets, file), 'utf8')),
      before,
    )
  })

  it('rotating the token offline writes a new one everywhere, says the old one is not revoked, and a plain rerun keeps the new one', async () => {
    const secrets = join(out, 'secrets')
    const read = (name: string) => parseSecretManifest(readFileSync(join(secrets, `${name}.yaml`), 'utf8'), 'f').data
    const old = read('consul-acl-replication-acl-token').token
    const confirmed: string[] = []
    const result = await runPrimary(
      options({valuesFile: join(out, 'values.yaml'), primaryGateways: ['gw.example.com:443'], rotate: ['replication-token']}),
      {store: new DirSecretStore(secrets, 'consul')},
      {dryRun: false, confirm: async (message) => void confirmed.push(message)},
    )
    assert.match(confirmed[0], /replace the replication token.*must re-import consul-federation.*NOT revoked.*cannot tell which secondaries/)
    assert.ok(result.warnings.some((warning) => /old replication token stays valid/.test(warning)))
    const rotated = read('consul-acl-replication-acl-token').token
    assert.notEqual(rotated, old)
    assert.equal(read('consul-federation').replicationToken, rotated)
    await run({primaryGateways: ['gw.example.com:443']})
    assert.equal(read('consul-acl-replication-acl-token').token, rotated)
    assert.equal(read('consul-federation').replicationToken, rotated, 'no fallback to the old token')
  })

  it('writes the federation secret once the gateways are given and ACLs are off', async () => {
    const result = await run({primaryGateways: ['gw.example.com:443'], acls: false, force: true})
    assert.equal(result.federationSecret.status, 'update')
    const secret = parseSecretManifest(readFileSync(join(out, 'secrets', 'consul-federation.yaml'), 'utf8'), 'f')
    assert.deepEqual(Object.keys(secret.data).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'serverConfigJSON'])
    assert.equal(secret.data.serverConfigJSON, '{"primary_datacenter":"dc1","primary_gateways":["gw.example.com:443"]}')
    assert.deepEqual(secret.labels, {'managed-by': 'consul-k8s', 'app.kubernetes.io/managed-by': 'consulk8s'})
  })
})

describe('planning the primary', () => {
  it('reuses CA, gossip key and the token secret; writes the federation secret with sorted gateways', async () => {
    const plan = await planPrimary(options(), installed())
    assert.equal(plan.ca.certPem, ca.certPem)
    assert.equal(plan.token.source, 'token-secret')
    assert.deepEqual(actions(plan), {
      'consul-ca-cert': 'unchanged',
      'consul-ca-key': 'unchanged',
      'consul-gossip-encryption-key': 'unchanged',
      'replication token': 'unchanged',
      'consul-federation': 'create',
      [options().valuesFile]: 'create',
    })
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
    const plan = await planPrimary(
      options(),
      installed({federation: federation({gateways: ['10.9.9.9:443']}), gateways: {ready: false, reason: 'no LB yet'}}),
    )
    assert.deepEqual(plan.gateways, ['10.9.9.9:443'])
    assert.equal(plan.federationAction, 'unchanged')
    assert.match(plan.warnings[0], /no LB yet.*keeping 10\.9\.9\.9:443/)
  })

  it('refuses to overwrite a federation secret holding other key material, naming the keys only', async () => {
    const other = await createCA()
    await assert.rejects(planPrimary(options(), installed({federation: federation({ca: other, token: 'old-token'})})), (error: unknown) => {
      assert.ok(error instanceof UserError)
      assert.match(error.message, /already exists with different caCert, caKey; refusing/)
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
  })

  it('rotates the token into a new UUID; with Consul it names the secondaries that must re-import before revoking', async () => {
    const plan = await planPrimary(
      options({rotate: ['replication-token']}),
      installed({federation: federation(), consulDatacenters: ['dc1', 'dc2', 'dc3']}),
    )
    assert.equal(plan.token.previous, 'token-from-chart')
    assert.notEqual(plan.token.value, 'token-from-chart')
    assert.equal(plan.federation?.replicationToken, plan.token.value)
    assert.equal(actions(plan)['replication token'], 'rotate')
    assert.match(
      plan.destructive[0],
      /revoke the old one in Consul \(secondaries dc2, dc3 replicate with the old token and must re-import consul-federation\)/,
    )
  })

  it('fails on an incomplete CA instead of making a new one', async () => {
    await assert.rejects(planPrimary(options(), installed({caKey: undefined})), /consul-ca-cert exists but consul-ca-key does not/)
    await assert.rejects(planPrimary(options(), installed({caKey: stored('consul-ca-key', {other: 'x'})})), /has no key tls.key/)
    await assert.rejects(
      planPrimary(options(), installed({gossip: stored('consul-gossip-encryption-key', {key: 'short'})})),
      /gossip encryption key is not/,
    )
  })

  it('restores the CA and gossip key from an existing federation secret when their secrets are gone', async () => {
    const plan = await planPrimary(options(), installed({caCert: undefined, caKey: undefined, gossip: undefined, federation: federation()}))
    assert.equal(plan.ca.keyPem, ca.keyPem)
    assert.equal(plan.gossipKey, gossip)
    assert.equal(actions(plan)['consul-ca-cert'], 'create')
    assert.equal(plan.federationAction, 'unchanged')
  })

  it('generates the token secret ID when there is none, and restores it from the federation secret', async () => {
    const fresh = await planPrimary(options(), installed({tokenSecret: undefined, gateways: {ready: false, reason: 'no LB'}}))
    assert.equal(fresh.token.source, 'generated')
    assert.match(fresh.token.value!, /^[0-9a-f-]{36}$/)
    assert.equal(actions(fresh)['replication token'], 'create')
    assert.deepEqual(
      fresh.pending.map((reason) => reason.split(':')[0]),
      ['the primary mesh gateway address'],
    )
    const restored = await planPrimary(options(), installed({tokenSecret: undefined, federation: federation()}))
    assert.equal(restored.token.source, 'federation-secret')
    assert.equal(restored.token.value, 'token-from-chart')
    assert.equal(restored.federationAction, 'unchanged')
  })

  it('the federation secret follows the token secret (what Consul uses)', async () => {
    const plan = await planPrimary(options(), installed({federation: federation({token: 'stale'})}))
    assert.equal(plan.federationAction, 'update')
    assert.equal(plan.federation?.replicationToken, 'token-from-chart')
  })

  it('needs nothing but gateways without ACLs, and drops the token key', async () => {
    const plan = await planPrimary(options({acls: false}), installed({tokenSecret: undefined}))
    assert.deepEqual(Object.keys(plan.federation!).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'serverConfigJSON'])
    await assert.rejects(planPrimary(options({acls: false}), installed({federation: federation()})), /different replicationToken/)
  })
})

/** Every kubectl/helm line of printed next steps aims at a context and a namespace. */
function assertAimed(next: readonly string[], context: string, namespace: string): void {
  const commands = next.map((line) => line.split('   #')[0].trim())
  const kubectlHelm = commands.filter((command) => /^(kubectl|helm) /.test(command))
  assert.ok(kubectlHelm.length >= 1, next.join('\n'))
  for (const command of kubectlHelm) {
    const words = command.split(/\s+/)
    const flag = words[0] === 'helm' ? '--kube-context' : '--context'
    assert.equal(words[words.indexOf(flag) + 1], context, `${flag} ${context} in: ${command}`)
    if (words.slice(0, 3).join(' ') === 'kubectl create namespace') assert.equal(words[3], namespace, command)
    else assert.equal(words[words.findIndex((word) => word === '-n' || word === '--namespace') + 1], namespace, `namespace in: ${command}`)
    assert.ok(!/^kubectl apply\b/.test(command), `never kubectl apply (it would replace a live CA): ${command}`)
  }
  const helm = kubectlHelm.find((command) => command.startsWith('helm '))!
  assert.match(
    helm,
    /^helm upgrade --install \S+ consul --repo https:\/\/helm\.releases\.hashicorp\.com --version 2\.0\.3 /,
    'works as printed, pinned',
  )
  assert.ok(
    commands.some((command) => command.startsWith(`consulk8s install --context ${context} -n ${namespace} `)),
    'consulk8s install offered',
  )
  for (const command of commands.filter((line) => line.startsWith('consulk8s '))) assert.match(command, /--context /, command)
}

describe('printed next steps', () => {
  const out = join(dir, 'next')
  it('offline with --context: every kubectl/helm line carries the context and namespace, secrets are created never applied', async () => {
    const result = await runPrimary(
      options({context: 'dc1', namespace: 'consul-x', valuesFile: join(out, 'values.yaml')}),
      {store: new DirSecretStore(join(out, 'secrets'), 'consul-x')},
      {dryRun: false, confirm: async () => {}},
    )
    assertAimed(result.next, 'dc1', 'consul-x')
    assert.ok(
      result.next.some((line) => /^kubectl create --context dc1 --namespace consul-x -f \S*next\/secrets /.test(line)),
      result.next.join('\n'),
    )
  })

  it('offline without --context: a placeholder, never the current context', async () => {
    const result = await runPrimary(
      options({valuesFile: join(out, 'values.yaml')}),
      {store: new DirSecretStore(join(out, 'secrets'), 'consul')},
      {dryRun: true, confirm: async () => {}},
    )
    assertAimed(result.next, '<primary-context>', 'consul')
  })

  it('the secondary: helm, consulk8s install and verify in its context', async () => {
    const {secondaryNextSteps} = await import('../../src/federation/secondary.js')
    const next = secondaryNextSteps({
      release: 'consul',
      namespace: 'consul',
      context: 'dc2',
      valuesFile: 'secondary-values.yaml',
      primaryContext: 'dc1',
    })
    assertAimed(next, 'dc2', 'consul')
    assert.ok(next.includes('consulk8s verify --context dc1 --context dc2 -n consul'), next.join('\n'))
  })
})

describe('planning the primary of an existing release', () => {
  const existing = {
    release: 'prod',
    namespace: 'consul',
    source: 'helm get values',
    values: {global: {datacenter: 'east', tls: {enabled: true}, acls: {manageSystemACLs: true}}},
  }
  const opts = () => options({release: 'prod', datacenter: 'east', gossip: false})
  it('reuses the CA the chart made and names everything after the chart fullname', async () => {
    const plan = await planPrimary(opts(), {
      existing,
      namespaceExists: true,
      caCert: stored('prod-consul-ca-cert', {'tls.crt': ca.certPem}),
      caKey: stored('prod-consul-ca-key', {'tls.key': ca.keyPem}),
      gateways: {ready: true, gateways: ['10.0.0.1:443'], source: 'svc'},
    })
    assert.equal(plan.ca.certPem, ca.certPem)
    assert.deepEqual(actions(plan), {
      'prod-consul-ca-cert': 'unchanged',
      'prod-consul-ca-key': 'unchanged',
      'replication token': 'create',
      'prod-consul-federation': 'create',
      [opts().valuesFile]: 'create',
    })
    const values = parse(plan.valuesText)
    assert.equal(values.global.name, undefined)
    assert.equal(values.global.datacenter, 'east')
    const fileStep = plan.steps.find((step) => step.kind === 'file')!
    assert.match(fileStep.detail!, /the values of release prod plus \d+ federation changes/)
    assert.ok(
      fileStep.hints!.some((hint) => hint.startsWith('global.federation.enabled: + true')),
      fileStep.hints!.join('\n'),
    )
  })

  it('never makes a second CA for a release that runs with TLS', async () => {
    await assert.rejects(
      planPrimary(opts(), {existing, namespaceExists: true, gateways: {ready: false, reason: 'x'}}),
      /Release prod runs with TLS, but its CA \(prod-consul-ca-cert\/prod-consul-ca-key\) was not found/,
    )
  })
})
