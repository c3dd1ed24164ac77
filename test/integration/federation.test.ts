/**
 * The federate commands end to end, as a user runs them (the built binary), against the real
 * test environment: two kube-apiservers (contexts dc1, dc2), two WAN-joined Consul
 * datacenters, the real helm binary and Consul chart, the real consul binary.
 *
 * Own namespaces (fed-it-<random>) in both clusters; everything created is removed after.
 */
import assert from 'node:assert/strict'
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {execa} from 'execa'
import {parse, parseAllDocuments, stringify} from 'yaml'

import {hasReplicationPolicy, readTokenSelf} from '../../src/consul/acl.js'
import {createCA, signServerCert} from '../../src/federation/crypto.js'
import {parseSecretManifest, type SecretData} from '../../src/federation/secret.js'
import {consulClient, getTestEnv, helmArgs, helmEnv, kubectlArgs, waitForFederation, type TestEnvState} from '../env/index.js'
import {freePorts} from '../env/ports.js'
import {BIN, runCli, type CliResult} from '../helpers/cli.js'
import {runCliInPty} from '../helpers/pty.js'

const suffix = randomBytes(3).toString('hex')
const ns = `fed-it-${suffix}`
/** Namespaces that must stay untouched by failing commands. */
const untouched = `fed-it-none-${suffix}`
const work = mkdtempSync(join(tmpdir(), 'fed-it-'))

let env: TestEnvState
const kube = (dc: string, args: string[], input?: string) => execa(env.bin.kubectl, [...kubectlArgs(dc), ...args], {input, reject: false})
const cli = (args: string[], options: {input?: string; env?: Record<string, string>} = {}) => runCli(args, {cwd: work, ...options})
const k = () => ['--kubeconfig', env.kubeconfig]
const consulFlags = () => [
  '--consul-http-addr',
  env.consul.dc1.httpAddr,
  '--consul-token',
  env.federation.managementToken,
  '--consul-cacert',
  env.federation.caCertFile,
]

async function readSecret(
  dc: string,
  namespace: string,
  name: string,
): Promise<{data: SecretData; labels: Record<string, string>; resourceVersion: string} | undefined> {
  const result = await kube(dc, ['get', 'secret', name, '-n', namespace, '-o', 'json'])
  if (result.exitCode !== 0) return undefined
  const object = JSON.parse(result.stdout)
  return {...parseSecretManifest(result.stdout, name), resourceVersion: object.metadata.resourceVersion}
}

async function namespaceExists(dc: string, namespace: string): Promise<boolean> {
  return (await kube(dc, ['get', 'namespace', namespace])).exitCode === 0
}

/** One clear failure: non-zero exit, the message, no stack trace. */
function assertCleanFailure(result: CliResult, pattern: RegExp): void {
  assert.notEqual(result.exitCode, 0, result.stdout)
  assert.match(result.stderr, pattern)
  assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at .+:\d+:\d+/, 'no stack trace')
}

function helmTemplate(valuesFile: string, namespace: string, release = 'consul'): string {
  return execFileSync(
    env.bin.helm,
    ['template', release, env.chartDir, '-n', namespace, '--kube-version', env.versions?.KUBERNETES_VERSION ?? 'v1.33.0', '-f', valuesFile],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  )
}

/** Consul's proxy-defaults/global before this file ran (the commands may write it): restored after. */
let proxyDefaultsBefore: Record<string, unknown> | undefined

before(async () => {
  env = getTestEnv()
  const client = consulClient('dc1')
  proxyDefaultsBefore = await client.get<Record<string, unknown>>('/v1/config/proxy-defaults/global').catch(() => undefined)
  client.close()
})

after(async () => {
  const client = consulClient('dc1')
  if (proxyDefaultsBefore) await client.put('/v1/config', proxyDefaultsBefore).catch(() => undefined)
  else await client.delete('/v1/config/proxy-defaults/global').catch(() => undefined)
  client.close()
  for (const dc of ['dc1', 'dc2']) await kube(dc, ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'])
  rmSync(work, {recursive: true, force: true})
})

describe('federate: bad input fails cleanly and writes nothing', () => {
  it('names the contexts when the context is unknown', async () => {
    const result = await cli(['federate', 'primary', ...k(), '--context', 'nope', '-n', untouched, '--yes'])
    assertCleanFailure(result, /Unknown kube context "nope".*\n.*Available contexts: dc1, dc2/)
    assert.equal(existsSync(join(work, 'primary-values.yaml')), false)
  })

  it('says the API server cannot be reached', async () => {
    const config = parse(readFileSync(env.kubeconfig, 'utf8'))
    for (const cluster of config.clusters) cluster.cluster.server = 'https://127.0.0.1:1'
    writeFileSync(join(work, 'dead-kubeconfig'), stringify(config))
    const result = await cli(['federate', 'primary', '--kubeconfig', join(work, 'dead-kubeconfig'), '--context', 'dc1', '-n', untouched, '--yes'])
    assertCleanFailure(result, /Cannot reach the Kubernetes API of context "dc1" \(https:\/\/127\.0\.0\.1:1\).*connection refused/)
    assert.equal(existsSync(join(work, 'primary-values.yaml')), false)
  })

  it('rejects an invalid datacenter name', async () => {
    const result = await cli(['federate', 'primary', ...k(), '--context', 'dc1', '-n', untouched, '--datacenter', 'DC_1', '--yes'])
    assertCleanFailure(result, /Invalid datacenter name "DC_1"/)
    assert.equal(await namespaceExists('dc1', untouched), false)
    assert.equal(existsSync(join(work, 'primary-values.yaml')), false)
  })
})

describe('the offline bundle with ACLs (the environment runs on one)', () => {
  const secretOf = (name: string) => parseSecretManifest(readFileSync(join(env.federation.bundleDir, 'secrets', `${name}.yaml`), 'utf8'), name).data

  it("renders into a server-acl-init that creates the replication token from the bundle's Secret, the UUID of the federation secret", () => {
    const documents = parseAllDocuments(helmTemplate(join(env.federation.bundleDir, 'values.yaml'), 'consul')).map((document) => document.toJS())
    const job = documents.find((object) => object?.kind === 'Job' && object.metadata.name === 'consul-server-acl-init')
    assert.ok(job, 'the chart renders server-acl-init')
    const pod = job.spec.template.spec
    const command = pod.containers[0].command.join(' ')
    assert.match(command, /-create-acl-replication-token=true/)
    assert.match(command, /-acl-replication-token-file=\/consul\/acl\/tokens\/acl-replication-token/)
    const volume = pod.volumes.find((entry: {name: string}) => entry.name === 'acl-replication-token')
    assert.deepEqual(volume.secret, {secretName: 'consul-acl-replication-acl-token', items: [{key: 'token', path: 'acl-replication-token'}]})
    assert.ok(
      pod.containers[0].volumeMounts.some(
        (mount: {name: string; mountPath: string}) => mount.name === 'acl-replication-token' && mount.mountPath === '/consul/acl/tokens',
      ),
    )
    const token = secretOf('consul-acl-replication-acl-token').token
    assert.match(token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(secretOf('consul-federation').replicationToken, token)
  })

  it("the README's main job (defaults, no gateway) writes the complete federation secret; its values render the same way; a rerun changes nothing", async () => {
    const dir = join(work, 'readme-main-job')
    mkdirSync(dir)
    const result = await runCli(['federate', 'primary', '--output-dir', 'federation', '--yes'], {cwd: dir})
    assert.equal(result.exitCode, 0, result.stderr)
    const read = (name: string) => parseSecretManifest(readFileSync(join(dir, 'federation', 'secrets', `${name}.yaml`), 'utf8'), name).data
    const federation = read('consul-federation')
    assert.deepEqual(Object.keys(federation).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    assert.equal(federation.replicationToken, read('consul-acl-replication-acl-token').token)
    assert.equal(federation.caCert, read('consul-ca-cert')['tls.crt'])
    assert.equal(federation.gossipEncryptionKey, read('consul-gossip-encryption-key').key)
    const job = parseAllDocuments(helmTemplate(join(dir, 'federation', 'values.yaml'), 'consul'))
      .map((document) => document.toJS())
      .find((object) => object?.kind === 'Job' && object.metadata.name === 'consul-server-acl-init')
    const command = job.spec.template.spec.containers[0].command.join(' ')
    assert.match(command, /-create-acl-replication-token=true/)
    assert.match(command, /-acl-replication-token-file=/)
    const files = () =>
      [
        'values.yaml',
        'proxy-defaults.yaml',
        ...['consul-ca-cert', 'consul-ca-key', 'consul-gossip-encryption-key', 'consul-acl-replication-acl-token', 'consul-federation'].map(
          (name) => `secrets/${name}.yaml`,
        ),
      ].map((file) => readFileSync(join(dir, 'federation', file), 'utf8'))
    const before = files()
    const again = await runCli(['federate', 'primary', '--output-dir', 'federation', '--yes'], {cwd: dir})
    assert.equal(again.exitCode, 0, again.stderr)
    assert.deepEqual(files(), before)
  })

  it("dc1 has the replication token under the bundle's secret ID and dc2 replicates ACLs with the federation secret's token", async () => {
    await waitForFederation()
    const token = secretOf('consul-federation').replicationToken
    assert.equal(env.federation.replicationToken, token)
    const dc1 = consulClient('dc1')
    const dc2 = consulClient('dc2')
    try {
      const resolved = await readTokenSelf(dc1, token)
      assert.ok(resolved && hasReplicationPolicy(resolved), 'a token with the replication policy')
      assert.equal(resolved.SecretID, token)
      assert.equal(resolved.Local, false)
      const dc2Config = JSON.parse(readFileSync(env.consul.dc2.configFile, 'utf8'))
      assert.equal(dc2Config.acl.tokens.replication, token)
      const status = await dc2.get<{Enabled: boolean; Running: boolean; ReplicatedTokenIndex: number}>('/v1/acl/replication')
      assert.ok(status.Enabled && status.Running && status.ReplicatedTokenIndex > 0, JSON.stringify(status))
    } finally {
      dc1.close()
      dc2.close()
    }
  })
})

describe('federate primary, export, import, secondary against dc1 and dc2', () => {
  const primaryValues = () => join(work, 'primary-values.yaml')
  const secondaryValues = () => join(work, 'secondary-values.yaml')
  let federation: SecretData

  it('before the install: creates the CA, gossip and replication token secrets (labelled) and the values, and says what the federation secret waits for', async () => {
    const result = await cli(['federate', 'primary', ...k(), '--context', 'dc1', '-n', ns, '--datacenter', 'dc1', '--yes'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /✓ created secret consul-ca-cert/)
    assert.match(result.stdout, /✓ created replication token — new secret ID \(UUID v4\) in consul-acl-replication-acl-token/)
    assert.match(result.stdout, /! secret consul-federation: not written yet/)
    assert.match(result.stdout, /Service fed-it-\w+\/consul-mesh-gateway does not exist yet/)
    assert.match(
      result.stdout,
      new RegExp(
        `helm upgrade --install consul consul --repo https://helm.releases.hashicorp.com --version 2.0.3 --kube-context dc1 --namespace ${ns} `,
      ),
    )
    for (const [name, key] of [
      ['consul-ca-cert', 'tls.crt'],
      ['consul-ca-key', 'tls.key'],
      ['consul-gossip-encryption-key', 'key'],
      ['consul-acl-replication-acl-token', 'token'],
    ]) {
      const secret = await readSecret('dc1', ns, name)
      assert.ok(secret?.data[key], name)
      assert.equal(secret.labels['app.kubernetes.io/managed-by'], 'consulk8s', name)
    }
    assert.equal(await readSecret('dc1', ns, 'consul-federation'), undefined, 'no half-filled federation secret')
    const values = parse(readFileSync(primaryValues(), 'utf8'))
    assert.equal(values.global.federation.createFederationSecret, false)
    assert.deepEqual(values.global.acls.replicationToken, {secretName: 'consul-acl-replication-acl-token', secretKey: 'token'})
    assert.equal(values.global.federation.primaryDatacenter, undefined)
  })

  it('the primary values render with the real chart, which uses the consulk8s CA and gossip key', () => {
    const rendered = helmTemplate(primaryValues(), ns)
    assert.match(rendered, /-ca=\/consul\/tls\/ca\/cert\/tls\.crt/)
    assert.match(rendered, /secretName: consul-ca-key/)
    assert.match(rendered, /name: consul-gossip-encryption-key/)
    assert.match(rendered, /-create-acl-replication-token=true/)
    assert.match(rendered, /-acl-replication-token-file=\/consul\/acl\/tokens\/acl-replication-token/)
    assert.match(rendered, /secretName: consul-acl-replication-acl-token\n\s+items:\n\s+- key: token\n\s+path: acl-replication-token/)
    assert.doesNotMatch(rendered, /create-federation-secret/)
  })

  it('a second run changes nothing', async () => {
    const before = await readSecret('dc1', ns, 'consul-ca-key')
    const result = await cli(['federate', 'primary', ...k(), '--context', 'dc1', '-n', ns, '--yes', '--json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.deepEqual(
      report.steps.filter((step: {action: string}) => step.action !== 'pending').map((step: {action: string}) => step.action),
      ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'],
    )
    assert.equal((await readSecret('dc1', ns, 'consul-ca-key'))?.resourceVersion, before?.resourceVersion)
  })

  it('with --wait, writes the federation secret once the gateway gets addresses; the token secret ID is created in the real Consul', async () => {
    assert.equal((await kube('dc1', ['-n', ns, 'create', 'service', 'loadbalancer', 'consul-mesh-gateway', '--tcp=443:8443'])).exitCode, 0)
    const waiting = execa(
      process.execPath,
      [BIN, 'federate', 'primary', ...k(), '--context', 'dc1', '-n', ns, '--yes', '--wait', '--timeout', '2m'],
      {
        cwd: work,
        reject: false,
        env: {CI: 'true', NO_COLOR: '1'},
      },
    )
    let seen = ''
    waiting.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()))
    for (let attempt = 0; attempt < 240 && !seen.includes('Waiting for'); attempt++) await sleep(250)
    assert.match(seen, /Waiting for the primary mesh gateway address: Service .*has no external IP or hostname yet/)
    const patch = {status: {loadBalancer: {ingress: [{ip: '203.0.113.20'}, {hostname: 'gw.example.com'}, {ip: '203.0.113.3'}]}}}
    assert.equal(
      (await kube('dc1', ['-n', ns, 'patch', 'service', 'consul-mesh-gateway', '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)]))
        .exitCode,
      0,
    )
    const result = await waiting
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /✓ created secret consul-federation/)

    const secret = await readSecret('dc1', ns, 'consul-federation')
    assert.ok(secret)
    federation = secret.data
    assert.deepEqual(Object.keys(federation).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    assert.equal(
      federation.serverConfigJSON,
      '{"primary_datacenter":"dc1","primary_gateways":["203.0.113.3:443","203.0.113.20:443","gw.example.com:443"]}',
    )
    assert.deepEqual(secret.labels, {'managed-by': 'consul-k8s', 'app.kubernetes.io/managed-by': 'consulk8s'})
    assert.equal(federation.caCert, (await readSecret('dc1', ns, 'consul-ca-cert'))?.data['tls.crt'])
    assert.equal(federation.gossipEncryptionKey, (await readSecret('dc1', ns, 'consul-gossip-encryption-key'))?.data.key)
    assert.ok(!result.stdout.includes(federation.replicationToken), 'the token is never printed')
    assert.equal(federation.replicationToken, (await readSecret('dc1', ns, 'consul-acl-replication-acl-token'))?.data.token)
  })

  it("a third run, with the primary's Consul API, reuses the token, creates it in Consul with its secret ID, and leaves the federation secret unchanged", async () => {
    const before = await readSecret('dc1', ns, 'consul-federation')
    // A proxy-defaults entry of the user's, without a mesh gateway mode: only the mode may change.
    const seed = consulClient('dc1')
    await seed.put('/v1/config', {Kind: 'proxy-defaults', Name: 'global', Config: {protocol: 'http'}})
    seed.close()
    const result = await cli(['federate', 'primary', ...k(), '--context', 'dc1', '-n', ns, '--yes', '--json', ...consulFlags()])
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.ok(
      report.steps.some((step: {name: string; action: string}) => step.name === 'replication token in Consul' && step.action === 'create'),
      JSON.stringify(report.steps),
    )
    // No mesh gateway in this Consul's catalog: the addresses already in the secret are kept.
    assert.match(report.warnings.join('\n'), /Could not refresh the gateway addresses .*keeping/)
    const client = consulClient('dc1')
    try {
      const token = await readTokenSelf(client, federation.replicationToken)
      assert.ok(token && hasReplicationPolicy(token), 'a real token with the replication policy')
      assert.equal(token.SecretID, federation.replicationToken)
      assert.equal(token.Local, false)
    } finally {
      client.close()
    }
    assert.equal(report.federationSecret.status, 'unchanged')
    assert.equal(report.replicationTokenSource, 'token-secret')
    // No ProxyDefaults CRD in this cluster: the Consul config entry gets mesh gateway mode local.
    const proxyDefaults = report.steps.find((step: {kind: string}) => step.kind === 'proxy-defaults')
    assert.equal(proxyDefaults.action, 'update', JSON.stringify(proxyDefaults))
    const entryClient = consulClient('dc2')
    try {
      const entry = await entryClient.get<{MeshGateway?: {Mode?: string}; Config?: Record<string, unknown>}>('/v1/config/proxy-defaults/global', {
        query: {stale: true},
      })
      assert.equal(entry.MeshGateway?.Mode, 'local', 'written through dc1, seen (replicated) in dc2')
      assert.deepEqual(entry.Config, {protocol: 'http'}, 'the other settings are kept')
    } finally {
      entryClient.close()
    }
    const again = JSON.parse((await cli(['federate', 'primary', ...k(), '--context', 'dc1', '-n', ns, '--yes', '--json', ...consulFlags()])).stdout)
    assert.equal(again.steps.find((step: {kind: string}) => step.kind === 'proxy-defaults').action, 'unchanged')
    assert.ok(!result.stdout.includes(federation.replicationToken) && !result.stdout.includes(federation.gossipEncryptionKey))
    assert.equal((await readSecret('dc1', ns, 'consul-federation'))?.resourceVersion, before?.resourceVersion)
  })

  it('rotating the CA needs a confirmation: without a terminal and without --yes it refuses and changes nothing', async () => {
    const before = await readSecret('dc1', ns, 'consul-ca-cert')
    const result = await cli(['federate', 'primary', ...k(), '--context', 'dc1', '-n', ns, '--rotate', 'ca'])
    assertCleanFailure(result, /This will replace the CA in consul-ca-cert\/consul-ca-key.*Refusing to continue without confirmation\./)
    assert.match(result.stderr, /--yes/)
    assert.equal((await readSecret('dc1', ns, 'consul-ca-cert'))?.resourceVersion, before?.resourceVersion)
  })

  it('discovers NodePort gateways from the nodes of the gateway pods, in sorted order', async () => {
    const nodeNames = [`fed-it-${suffix}-b`, `fed-it-${suffix}-a`]
    const npNs = `${ns}-np`
    try {
      assert.equal((await kube('dc1', ['create', 'namespace', npNs])).exitCode, 0)
      const addresses = [
        [{type: 'InternalIP', address: '10.1.0.2'}],
        [
          {type: 'InternalIP', address: '10.1.0.1'},
          {type: 'ExternalIP', address: '198.51.100.7'},
        ],
      ]
      for (const [i, name] of nodeNames.entries()) {
        assert.equal((await kube('dc1', ['create', '-f', '-'], JSON.stringify({apiVersion: 'v1', kind: 'Node', metadata: {name}}))).exitCode, 0)
        const patched = await kube('dc1', [
          'patch',
          'node',
          name,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({status: {addresses: addresses[i]}}),
        ])
        assert.equal(patched.exitCode, 0, patched.stderr)
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {name: `gw-${i}`, namespace: npNs, labels: {app: 'consul', component: 'mesh-gateway'}},
          spec: {nodeName: name, containers: [{name: 'gw', image: 'none'}]},
        }
        assert.equal((await kube('dc1', ['create', '-f', '-'], JSON.stringify(pod))).exitCode, 0)
      }
      const service = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {name: 'consul-mesh-gateway', namespace: npNs},
        spec: {
          type: 'NodePort',
          selector: {app: 'consul', component: 'mesh-gateway'},
          ports: [{name: 'gateway', port: 443, targetPort: 8443, nodePort: 30000 + Math.floor(Math.random() * 2000)}],
        },
      }
      const created = await kube('dc1', ['create', '-f', '-', '-o', 'json'], JSON.stringify(service))
      assert.equal(created.exitCode, 0, created.stderr)
      const nodePort = JSON.parse(created.stdout).spec.ports[0].nodePort
      const result = await cli([
        'federate',
        'primary',
        ...k(),
        '--context',
        'dc1',
        '-n',
        npNs,
        '--no-acls',
        '--mesh-gateway-service-type',
        'NodePort',
        '--values-file',
        'np-values.yaml',
        '--yes',
        '--json',
      ])
      assert.equal(result.exitCode, 0, result.stderr)
      assert.deepEqual(JSON.parse(result.stdout).federationSecret.primaryGateways, [`10.1.0.2:${nodePort}`, `198.51.100.7:${nodePort}`])
      const secret = await readSecret('dc1', npNs, 'consul-federation')
      assert.equal(
        secret?.data.serverConfigJSON,
        `{"primary_datacenter":"dc1","primary_gateways":["10.1.0.2:${nodePort}","198.51.100.7:${nodePort}"]}`,
      )
    } finally {
      await kube('dc1', ['delete', 'namespace', npNs, '--wait=false', '--ignore-not-found'])
      for (const name of nodeNames) await kube('dc1', ['delete', 'node', name, '--ignore-not-found'])
    }
  })

  it('export writes a clean 0600 manifest and warns on stderr', async () => {
    const result = await cli(['federate', 'export', ...k(), '--context', 'dc1', '-n', ns, '--output-file', 'fed.yaml'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stderr, /! The federation secret holds the CA private key/)
    const file = join(work, 'fed.yaml')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const manifest = parse(readFileSync(file, 'utf8'))
    assert.deepEqual(Object.keys(manifest.metadata).sort(), ['labels', 'name', 'namespace'])
    assert.equal(manifest.metadata.labels['managed-by'], 'consul-k8s')
    assert.deepEqual(parseSecretManifest(readFileSync(file, 'utf8'), 'f').data, federation)
  })

  it('import creates it in dc2 with the consul-k8s label; importing again changes nothing', async () => {
    const piped = await cli(['federate', 'export', ...k(), '--context', 'dc1', '-n', ns])
    assert.equal(piped.exitCode, 0, piped.stderr)
    const first = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', ns, '-f', '-'], {input: piped.stdout})
    assert.equal(first.exitCode, 0, first.stderr)
    assert.match(first.stdout, /✓ created secret consul-federation/)
    const imported = await readSecret('dc2', ns, 'consul-federation')
    assert.deepEqual(imported?.data, federation)
    assert.equal(imported?.labels['managed-by'], 'consul-k8s')
    const again = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', ns, '-f', 'fed.yaml'])
    assert.equal(again.exitCode, 0, again.stderr)
    assert.match(again.stdout, /secret consul-federation: unchanged/)
    assert.equal((await readSecret('dc2', ns, 'consul-federation'))?.resourceVersion, imported?.resourceVersion)
  })

  it('import refuses a conflicting secret naming the keys, never the values', async () => {
    const manifest = parse(readFileSync(join(work, 'fed.yaml'), 'utf8'))
    manifest.data.replicationToken = Buffer.from('00000000-1111-2222-3333-444444444444').toString('base64')
    writeFileSync(join(work, 'other.yaml'), stringify(manifest))
    const result = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', ns, '-f', 'other.yaml'])
    assertCleanFailure(result, /Secret fed-it-\w+\/consul-federation already exists with different replicationToken; refusing to overwrite it\./)
    assert.ok(!(result.stderr + result.stdout).includes('00000000-1111') && !(result.stderr + result.stdout).includes(federation.replicationToken))
    assert.deepEqual((await readSecret('dc2', ns, 'consul-federation'))?.data, federation)
  })

  it('import --force --yes replaces a conflicting secret', async () => {
    const forced = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', ns, '-f', 'other.yaml', '--force', '--yes'])
    assert.equal(forced.exitCode, 0, forced.stderr)
    assert.match(forced.stdout, /✓ updated secret consul-federation — replaces replicationToken/)
    assert.equal((await readSecret('dc2', ns, 'consul-federation'))?.data.replicationToken, '00000000-1111-2222-3333-444444444444')
    const restored = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', ns, '-f', 'fed.yaml', '--force', '--yes'])
    assert.equal(restored.exitCode, 0, restored.stderr)
    assert.deepEqual((await readSecret('dc2', ns, 'consul-federation'))?.data, federation)
  })

  it('import refuses incomplete or malformed files, naming the missing keys, and creates nothing', async () => {
    const manifest = parse(readFileSync(join(work, 'fed.yaml'), 'utf8'))
    delete manifest.data.caKey
    delete manifest.data.serverConfigJSON
    writeFileSync(join(work, 'incomplete.yaml'), stringify(manifest))
    const incomplete = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', untouched, '-f', 'incomplete.yaml'])
    assertCleanFailure(incomplete, /incomplete\.yaml is missing keys caKey, serverConfigJSON\./)
    writeFileSync(join(work, 'broken.yaml'), 'kind: Secret\nmetadata: {name: x\n')
    const broken = await cli(['federate', 'import', ...k(), '--context', 'dc2', '-n', untouched, '-f', 'broken.yaml'])
    assertCleanFailure(broken, /broken\.yaml:\d+:\d+ is not valid YAML or JSON: .*\.$/m)
    assert.equal(await namespaceExists('dc2', untouched), false)
  })

  it('secondary refuses the primary datacenter name and writes nothing', async () => {
    const result = await cli([
      'federate',
      'secondary',
      ...k(),
      '--context',
      'dc2',
      '--primary-context',
      'dc1',
      '-n',
      ns,
      '--datacenter',
      'dc1',
      '--values-file',
      'never.yaml',
      '--yes',
    ])
    assertCleanFailure(result, /The secondary datacenter cannot be named "dc1": that is the primary's name\./)
    assert.equal(existsSync(join(work, 'never.yaml')), false)
  })

  it('secondary from the primary context uses the default/kubernetes endpoints for a localhost server, and its values render', async () => {
    const result = await cli([
      'federate',
      'secondary',
      '--kubeconfig',
      env.kubeconfigLocalhost,
      '--context',
      'dc2',
      '--primary-context',
      'dc1',
      '-n',
      ns,
      '--datacenter',
      'dc2',
      '--yes',
      '--json',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.k8sAuthMethodHostSource, 'endpoints')
    assert.doesNotMatch(report.k8sAuthMethodHost, /127\.0\.0\.1|localhost/)
    assert.match(report.k8sAuthMethodHost, new RegExp(`^https://.+:${env.clusters.dc2.port}$`))
    assert.match(report.warnings[0], /loopback.*cannot reach/)
    assert.equal(report.steps[0].action, 'unchanged', 'the secret imported before is the same')
    assert.ok(!result.stdout.includes(federation.replicationToken))

    const values = parse(readFileSync(secondaryValues(), 'utf8'))
    assert.equal(values.global.datacenter, 'dc2')
    assert.equal(values.global.federation.primaryDatacenter, 'dc1')
    assert.equal(values.global.federation.k8sAuthMethodHost, report.k8sAuthMethodHost)
    assert.deepEqual(values.global.acls.replicationToken, {secretName: 'consul-federation', secretKey: 'replicationToken'})
    assert.deepEqual(values.global.gossipEncryption, {autoGenerate: false, secretName: 'consul-federation', secretKey: 'gossipEncryptionKey'})
    assert.deepEqual(values.server.extraVolumes[0].items, [{key: 'serverConfigJSON', path: 'config.json'}])

    const rendered = helmTemplate(secondaryValues(), ns)
    assert.ok(rendered.includes(`-auth-method-host=${report.k8sAuthMethodHost}`))
    assert.match(rendered, /-config-dir=\/consul\/userconfig\/consul-federation/)
  })

  it('secondary with the plain kubeconfig takes the server as it is written there', async () => {
    const result = await cli([
      'federate',
      'secondary',
      ...k(),
      '--context',
      'dc2',
      '-f',
      'fed.yaml',
      '-n',
      ns,
      '--datacenter',
      'dc2',
      '--values-file',
      'dc2.yaml',
      '--yes',
      '--json',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.k8sAuthMethodHost, env.clusters.dc2.server)
    assert.equal(report.k8sAuthMethodHostSource, 'kubeconfig')
    assert.deepEqual(report.warnings, [])
  })
})

describe("rotating the replication token with the primary's Consul", () => {
  const rotNs = `${ns}-rot`
  const run = (extra: string[]) =>
    cli([
      'federate',
      'primary',
      ...k(),
      '--context',
      'dc1',
      '-n',
      rotNs,
      '--values-file',
      'rot-values.yaml',
      '--primary-gateway',
      '203.0.113.50:443',
      '--yes',
      ...consulFlags(),
      ...extra,
    ])
  let newToken: string | undefined

  after(async () => {
    await kube('dc1', ['delete', 'namespace', rotNs, '--wait=false', '--ignore-not-found'])
    const client = consulClient('dc1')
    const token = newToken ? await readTokenSelf(client, newToken).catch(() => undefined) : undefined
    if (token) await client.delete(`/v1/acl/token/${token.AccessorID}`).catch(() => undefined)
    client.close()
  })

  it('names the secondaries that must re-import, then revokes the old token; a plain rerun keeps the new one', async () => {
    const first = await run([])
    assert.equal(first.exitCode, 0, first.stderr)
    const old = (await readSecret('dc1', rotNs, 'consul-acl-replication-acl-token'))!.data.token
    const client = consulClient('dc1')
    try {
      assert.ok(await readTokenSelf(client, old), 'the first run created the token in Consul')
      const rotated = await run(['--rotate', 'replication-token'])
      assert.equal(rotated.exitCode, 0, rotated.stderr)
      const said = rotated.stdout + rotated.stderr
      assert.match(said, /Secondaries dc2 must re-import consul-federation .*the old replication token is revoked now\./)
      assert.ok(!said.includes(old), 'no token is printed')
      newToken = (await readSecret('dc1', rotNs, 'consul-acl-replication-acl-token'))!.data.token
      assert.notEqual(newToken, old)
      assert.equal((await readSecret('dc1', rotNs, 'consul-federation'))?.data.replicationToken, newToken)
      assert.equal(await readTokenSelf(client, old), undefined, 'the old token is revoked')
      const fresh = await readTokenSelf(client, newToken)
      assert.ok(fresh && hasReplicationPolicy(fresh), 'the new token exists with the replication policy')
      const rerun = await run(['--json'])
      assert.equal(rerun.exitCode, 0, rerun.stderr)
      assert.equal(JSON.parse(rerun.stdout).federationSecret.status, 'unchanged')
      assert.equal((await readSecret('dc1', rotNs, 'consul-federation'))?.data.replicationToken, newToken, 'no fallback to the old token')
    } finally {
      client.close()
    }
  })
})

describe('federate primary against a release that already runs (read, never guessed)', () => {
  const relNs = `${ns}-rel`
  const release = `ext-${suffix}`
  const fullname = `${release}-consul`
  const helm = (args: string[]) => execa(env.bin.helm, [...helmArgs('dc1'), ...args], {env: helmEnv(), reject: false})
  const withHelm = {env: {CONSULK8S_HELM: env.bin.helm}}
  let ca: {certPem: string; keyPem: string}

  before(async () => {
    // The vendored chart under a non-default datacenter and no global.name (fullname <release>-consul).
    const installed = await helm([
      'install',
      release,
      env.chartDir,
      '-n',
      relNs,
      '--create-namespace',
      '--no-hooks',
      '--set',
      'global.datacenter=east',
      '--set',
      'global.tls.enabled=true',
      '--set',
      'global.acls.manageSystemACLs=true',
      '--set',
      'connectInject.enabled=false',
    ])
    assert.equal(installed.exitCode, 0, installed.stderr)
    // The CA the chart's tls-init makes (a hook, skipped here): <fullname>-ca-cert / -ca-key.
    ca = await createCA()
    for (const [name, key, value] of [
      [`${fullname}-ca-cert`, 'tls.crt', ca.certPem],
      [`${fullname}-ca-key`, 'tls.key', ca.keyPem],
    ]) {
      const created = await kube('dc1', ['-n', relNs, 'create', 'secret', 'generic', name, `--from-literal=${key}=${value}`])
      assert.equal(created.exitCode, 0, created.stderr)
    }
  })

  after(async () => {
    await helm(['uninstall', release, '-n', relNs, '--no-hooks'])
    await kube('dc1', ['delete', 'namespace', relNs, '--wait=false', '--ignore-not-found'])
  })

  it('refuses a contradicting --datacenter, naming both values, and writes nothing', async () => {
    const result = await cli(
      [
        'federate',
        'primary',
        ...k(),
        '--context',
        'dc1',
        '-n',
        relNs,
        '--release',
        release,
        '--datacenter',
        'dc1',
        '--values-file',
        'never-rel.yaml',
        '--yes',
      ],
      withHelm,
    )
    assertCleanFailure(result, new RegExp(`--datacenter dc1 contradicts release ${release} .*whose datacenter \\(global\\.datacenter\\) is east\\.`))
    assert.equal(existsSync(join(work, 'never-rel.yaml')), false)
    assert.equal(await readSecret('dc1', relNs, `${fullname}-acl-replication-acl-token`), undefined)
  })

  it("keeps the release's datacenter and names, reuses its CA, and writes its values plus the federation changes", async () => {
    const before = await readSecret('dc1', relNs, `${fullname}-ca-cert`)
    const result = await cli(
      [
        'federate',
        'primary',
        ...k(),
        '--context',
        'dc1',
        '-n',
        relNs,
        '--release',
        release,
        '--values-file',
        'rel-values.yaml',
        '--primary-gateway',
        '203.0.113.30:443',
        '--yes',
        '--json',
      ],
      withHelm,
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.datacenter, 'east')
    assert.equal(report.federationSecret.name, `${fullname}-federation`)
    assert.deepEqual(
      report.steps
        .filter((step: {kind: string}) => step.kind === 'secret')
        .map((step: {name: string; action: string}) => `${step.name} ${step.action}`),
      [`${fullname}-ca-cert unchanged`, `${fullname}-ca-key unchanged`, `${fullname}-federation create`],
    )
    assert.equal((await readSecret('dc1', relNs, `${fullname}-ca-cert`))?.resourceVersion, before?.resourceVersion, 'the CA is not touched')
    assert.equal(await readSecret('dc1', relNs, `${release}-ca-cert`), undefined, 'no second CA under guessed names')
    const federation = await readSecret('dc1', relNs, `${fullname}-federation`)
    assert.equal(federation?.data.caCert, ca.certPem)
    assert.equal(federation?.data.serverConfigJSON, '{"primary_datacenter":"east","primary_gateways":["203.0.113.30:443"]}')
    assert.equal(federation?.data.replicationToken, (await readSecret('dc1', relNs, `${fullname}-acl-replication-acl-token`))?.data.token)
    const values = parse(readFileSync(join(work, 'rel-values.yaml'), 'utf8'))
    assert.equal(values.global.name, undefined, 'no rename through global.name')
    assert.equal(values.global.datacenter, 'east')
    assert.equal(values.connectInject.enabled, true)
    assert.deepEqual(values.global.tls.caCert, {secretName: `${fullname}-ca-cert`, secretKey: 'tls.crt'})
    assert.deepEqual(values.global.federation, {enabled: true, createFederationSecret: false})
    assert.match(report.next.join('\n'), new RegExp(`consulk8s upgrade --context dc1 -n ${relNs} --release ${release} -f rel-values.yaml`))
    const rendered = helmTemplate(join(work, 'rel-values.yaml'), relNs, release)
    assert.match(rendered, new RegExp(`name: ${fullname}-server`), 'the chart keeps the StatefulSet name')
  })
})

describe('federate primary takes the gateways from the Consul catalog when Consul is given', () => {
  const gwNs = `${ns}-gw`
  const release = `gw-${suffix}`
  const service = `fed-it-gw-${suffix}`
  const node = `fed-it-gw-node-${suffix}`

  before(async () => {
    const installed = await execa(
      env.bin.helm,
      [
        ...helmArgs('dc1'),
        'install',
        release,
        env.chartDir,
        '-n',
        gwNs,
        '--create-namespace',
        '--no-hooks',
        '--set',
        `meshGateway.consulServiceName=${service}`,
        '--set',
        'connectInject.enabled=false',
      ],
      {env: helmEnv(), reject: false},
    )
    assert.equal(installed.exitCode, 0, installed.stderr)
    const client = consulClient('dc1')
    try {
      for (const [id, address] of [
        ['a', '203.0.113.41'],
        ['b', '198.51.100.40'],
      ]) {
        await client.put('/v1/catalog/register', {
          Node: node,
          Address: '127.0.0.1',
          Service: {ID: `${service}-${id}`, Service: service, Port: 8443, TaggedAddresses: {wan: {Address: address, Port: 443}}},
        })
      }
    } finally {
      client.close()
    }
  })

  after(async () => {
    const client = consulClient('dc1')
    await client.put('/v1/catalog/deregister', {Node: node}).catch(() => undefined)
    client.close()
    await execa(env.bin.helm, [...helmArgs('dc1'), 'uninstall', release, '-n', gwNs, '--no-hooks'], {env: helmEnv(), reject: false})
    await kube('dc1', ['delete', 'namespace', gwNs, '--wait=false', '--ignore-not-found'])
  })

  it("writes primary_gateways from the mesh gateway's wan tagged addresses, sorted", async () => {
    const result = await cli(
      [
        'federate',
        'primary',
        ...k(),
        '--context',
        'dc1',
        '-n',
        gwNs,
        '--release',
        release,
        '--values-file',
        'gw-values.yaml',
        '--no-acls',
        '--yes',
        '--json',
        ...consulFlags(),
      ],
      {env: {CONSULK8S_HELM: env.bin.helm}},
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.deepEqual(report.federationSecret.primaryGateways, ['198.51.100.40:443', '203.0.113.41:443'])
    const federation = await readSecret('dc1', gwNs, `${release}-consul-federation`)
    assert.equal(federation?.data.serverConfigJSON, '{"primary_datacenter":"dc1","primary_gateways":["198.51.100.40:443","203.0.113.41:443"]}')
    assert.match(report.warnings.join('\n'), /runs without TLS/)
  })
})

describe('the material federate wrote works with real Consul', () => {
  const dir = () => join(work, 'consul')
  let material: SecretData
  let agent: ChildProcess | undefined

  before(async () => {
    const secret = await readSecret('dc1', ns, 'consul-federation')
    assert.ok(secret, 'the federation secret from the previous suite')
    material = secret.data
    mkdirSync(dir(), {recursive: true})
  })

  after(async () => {
    agent?.kill('SIGKILL')
  })

  it('consul validate accepts a secondary server config built from the secret (serverConfigJSON, encrypt, TLS)', async () => {
    const cfg = join(dir(), 'validate')
    mkdirSync(cfg, {recursive: true})
    const server = await signServerCert({certPem: material.caCert, keyPem: material.caKey}, {datacenter: 'dc2'})
    writeFileSync(join(cfg, 'ca.pem'), material.caCert)
    writeFileSync(join(cfg, 'server.pem'), server.certPem)
    writeFileSync(join(cfg, 'server-key.pem'), server.keyPem, {mode: 0o600})
    writeFileSync(join(cfg, 'config.json'), material.serverConfigJSON)
    writeFileSync(
      join(cfg, 'server.json'),
      JSON.stringify({
        datacenter: 'dc2',
        server: true,
        bootstrap_expect: 1,
        // loopback, so validation does not depend on the machine's own addresses
        bind_addr: '127.0.0.1',
        data_dir: join(dir(), 'validate-data'),
        encrypt: material.gossipEncryptionKey,
        tls: {
          defaults: {
            ca_file: join(cfg, 'ca.pem'),
            cert_file: join(cfg, 'server.pem'),
            key_file: join(cfg, 'server-key.pem'),
            verify_incoming: true,
            verify_outgoing: true,
          },
          internal_rpc: {verify_server_hostname: true},
        },
        connect: {enabled: true, enable_mesh_gateway_wan_federation: true},
        acl: {
          enabled: true,
          default_policy: 'deny',
          enable_token_replication: true,
          tokens: {replication: material.replicationToken, agent: material.replicationToken},
        },
      }),
    )
    const result = await execa(env.bin.consul, ['validate', cfg], {reject: false})
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /Configuration is valid/)
    writeFileSync(join(cfg, 'config.json'), material.serverConfigJSON.replace('primary_gateways', 'primary_gatewayz'))
    const bad = await execa(env.bin.consul, ['validate', cfg], {reject: false})
    assert.notEqual(bad.exitCode, 0, 'consul validate does reject a wrong key (the check can fail)')
  })

  it("Consul's own signer accepts the CA key (consul tls cert create)", async () => {
    const cwd = join(dir(), 'tlscreate')
    mkdirSync(cwd, {recursive: true})
    writeFileSync(join(cwd, 'ca.pem'), material.caCert)
    writeFileSync(join(cwd, 'ca-key.pem'), material.caKey, {mode: 0o600})
    const result = await execa(env.bin.consul, ['tls', 'cert', 'create', '-server', '-dc', 'dc2', '-ca', 'ca.pem', '-key', 'ca-key.pem'], {
      cwd,
      reject: false,
    })
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    execFileSync('openssl', ['verify', '-CAfile', join(cwd, 'ca.pem'), join(cwd, 'dc2-server-consul-0.pem')])
  })

  it('a real Consul server runs with the gossip key as encrypt and a server certificate from the CA, and accepts clients of that CA only', async () => {
    const ports = await freePorts({https: {}, serfLan: {udp: true}, server: {}})
    const cfg = join(dir(), 'agent')
    mkdirSync(cfg, {recursive: true})
    const ca = {certPem: material.caCert, keyPem: material.caKey}
    const server = await signServerCert(ca, {datacenter: 'fedca'})
    writeFileSync(join(cfg, 'ca.pem'), material.caCert)
    writeFileSync(join(cfg, 'server.pem'), server.certPem)
    writeFileSync(join(cfg, 'server-key.pem'), server.keyPem, {mode: 0o600})
    writeFileSync(
      join(cfg, 'agent.json'),
      JSON.stringify({
        datacenter: 'fedca',
        node_name: `fed-it-${suffix}`,
        server: true,
        bootstrap_expect: 1,
        data_dir: join(dir(), 'agent-data'),
        bind_addr: '127.0.0.1',
        client_addr: '127.0.0.1',
        ports: {http: -1, https: ports.https, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: ports.serfLan, serf_wan: -1, server: ports.server},
        encrypt: material.gossipEncryptionKey,
        tls: {
          defaults: {
            ca_file: join(cfg, 'ca.pem'),
            cert_file: join(cfg, 'server.pem'),
            key_file: join(cfg, 'server-key.pem'),
            verify_incoming: true,
            verify_outgoing: true,
          },
          internal_rpc: {verify_server_hostname: true},
        },
        disable_update_check: true,
        log_level: 'WARN',
      }),
    )
    agent = spawn(env.bin.consul, ['agent', `-config-dir=${cfg}`], {stdio: ['ignore', 'pipe', 'pipe']})
    let log = ''
    agent.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()))
    agent.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()))

    const client = await signServerCert(ca, {datacenter: 'fedca'})
    const stranger = await signServerCert(await createCA(), {datacenter: 'fedca'})
    const leader = (cert: {certPem: string; keyPem: string}) =>
      new Promise<string>((resolve, reject) => {
        const req = https.get(
          {
            host: '127.0.0.1',
            port: ports.https,
            path: '/v1/status/leader',
            ca: material.caCert,
            cert: cert.certPem,
            key: cert.keyPem,
            servername: 'server.fedca.consul',
          },
          (res) => {
            let body = ''
            res.on('data', (chunk) => (body += chunk))
            res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))))
          },
        )
        req.on('error', reject)
      })
    let answer = ''
    for (let attempt = 0; attempt < 120 && agent.exitCode === null; attempt++) {
      answer = await leader(client).catch(() => '')
      if (/127\.0\.0\.1/.test(answer)) break
      await sleep(500)
    }
    assert.equal(agent.exitCode, null, `consul agent exited: ${log}`)
    assert.match(answer, /127\.0\.0\.1:\d+/, `the server elected itself over TLS from the CA: ${log}`)
    await assert.rejects(leader(stranger), 'a client certificate from another CA is refused')
  })

  it("the replication token makes dc2's ACL replication run", async () => {
    const dc1 = consulClient('dc1')
    const dc2 = consulClient('dc2')
    const policyName = `fed-it-${suffix}`
    let policyId: string | undefined
    // Other test files may stop and start dc2 meanwhile: start from a federated state.
    await waitForFederation()
    let swappedIn = false
    try {
      swappedIn = true
      await dc2.put('/v1/agent/token/replication', {Token: material.replicationToken})
      const swapped = Date.now()
      const policy = await dc1.put<{ID: string}>('/v1/acl/policy', {Name: policyName, Rules: 'node_prefix "" { policy = "read" }'})
      policyId = policy.ID
      let status: {Running?: boolean; LastSuccess?: string; LastError?: string} = {}
      let replicated = false
      for (let attempt = 0; attempt < 120 && !replicated; attempt++) {
        await sleep(500)
        status = await dc2.get<typeof status>('/v1/acl/replication').catch(() => status)
        replicated = Boolean(await dc2.get(`/v1/acl/policy/name/${policyName}`, {query: {stale: true}}).catch(() => undefined))
      }
      assert.ok(replicated, `dc2 replicated the new policy with the token federate wrote: ${JSON.stringify(status)}`)
      assert.equal(status.Running, true)
      assert.ok(Date.parse(status.LastSuccess ?? '') >= swapped - 1000, JSON.stringify(status))
    } finally {
      // Put the environment's own token back (dc2 persists agent tokens), retrying while dc2 is
      // down; only then may the token federate created be deleted.
      let restored = !swappedIn
      for (let attempt = 0; attempt < 240 && !restored; attempt++) {
        restored = await dc2.put('/v1/agent/token/replication', {Token: env.federation.replicationToken}).then(
          () => true,
          () => false,
        )
        if (!restored) await sleep(1000)
      }
      if (policyId) await dc1.delete(`/v1/acl/policy/${policyId}`).catch(() => undefined)
      const token = restored ? await readTokenSelf(dc1, material.replicationToken).catch(() => undefined) : undefined
      if (token) await dc1.delete(`/v1/acl/token/${token.AccessorID}`).catch(() => undefined)
      dc1.close()
      dc2.close()
    }
  })
})

describe('federate primary asks on a terminal', () => {
  it('shows the defaults and puts the answers into the generated files', async () => {
    const out = join(work, 'interactive')
    const {screen, exitCode} = await runCliInPty(
      ['federate', 'primary', '--output-dir', out],
      [
        ['Consul datacenter name', 'east\r'],
        ['Enable ACLs', 'n\r'],
        ['Enable gossip encryption', '\r'],
        ['Mesh gateway Service type', '\u001B[B\r'],
      ],
      {cwd: work},
    )
    assert.equal(exitCode, 0, screen)
    assert.match(screen, /Consul datacenter name \(dc1\)/, 'the documented default is shown')
    assert.match(screen, /Enable ACLs \(with a replication token for secondaries\)\? \(Y\/n\)/)
    assert.match(screen, /Enable gossip encryption\? \(Y\/n\)/)
    assert.match(screen, /❯ LoadBalancer/)
    const values = parse(readFileSync(join(out, 'values.yaml'), 'utf8'))
    assert.equal(values.global.datacenter, 'east')
    assert.equal(values.global.acls, undefined)
    assert.equal(values.global.gossipEncryption.secretName, 'consul-gossip-encryption-key')
    assert.equal(values.meshGateway.service.type, 'NodePort')
    assert.ok(existsSync(join(out, 'secrets', 'consul-gossip-encryption-key.yaml')))
  })

  it('never prompts with CI set: flags and defaults decide', async () => {
    const out = join(work, 'ci')
    const result = await cli(['federate', 'primary', '--output-dir', out])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.doesNotMatch(result.stdout, /Consul datacenter name/)
    const values = parse(readFileSync(join(out, 'values.yaml'), 'utf8'))
    assert.equal(values.global.datacenter, 'dc1')
    assert.equal(values.global.acls.manageSystemACLs, true)
    assert.equal(values.meshGateway.service.type, 'LoadBalancer')
  })
})
