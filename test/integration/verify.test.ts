/**
 * `consulk8s verify` as a user runs it (the built binary) against the real test environment:
 * two kube-apiservers (contexts dc1, dc2) and two WAN-joined Consul datacenters reached over
 * HTTPS (the environment has no kubelet, so no exec; see verify-exec.test.ts).
 *
 * Own namespaces (verify-<random>) in both clusters hold federation secrets built from the
 * environment's real federation material; they are removed after. One test stops dc2's
 * Consul and always starts it again.
 */
import assert from 'node:assert/strict'
import {randomBytes, randomUUID, X509Certificate} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {execa} from 'execa'
import {parse as parseYaml} from 'yaml'

import {createCA, createGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {assembleFederationData, fingerprint, secretManifest, type FederationData} from '../../src/federation/secret.js'
import {manifestYaml} from '../../src/federation/store.js'
import {connectTestCluster} from '../helpers/kube.js'
import type {Check, VerifyReport} from '../../src/verify/types.js'
import {
  consulClient,
  consulRunning,
  DATACENTERS,
  getTestEnv,
  helmEnv,
  startConsul,
  stopConsul,
  waitForFederation,
  type TestEnvState,
} from '../env/index.js'
import {BIN, runCli, type CliResult} from '../helpers/cli.js'

const suffix = randomBytes(3).toString('hex')
const ns = `verify-${suffix}`
/** dc1 and dc2 hold different federation secrets here. */
const nsMismatch = `verify-mismatch-${suffix}`
/** Secrets (the same in dc1 and dc2) that differ from what the servers use in one way each. */
const nsOtherCa = `verify-other-ca-${suffix}`
const nsOtherGossip = `verify-other-gossip-${suffix}`
const nsUnknownToken = `verify-unknown-token-${suffix}`

let env: TestEnvState
let otherCa: CertificateAuthority

function federationData(
  gossipKey = env.federation.gossipKey,
  overrides: {ca?: CertificateAuthority; replicationToken?: string} = {},
): FederationData {
  return assembleFederationData({
    ca: overrides.ca ?? {certPem: env.federation.caCertPem, keyPem: env.federation.caKeyPem},
    primaryDatacenter: 'dc1',
    // The environment joins over WAN directly (no Envoy for mesh gateways): dc1's WAN address.
    gateways: [`127.0.0.1:${env.consul.dc1.serfWanPort}`],
    replicationToken: overrides.replicationToken ?? env.federation.replicationToken,
    gossipKey,
  })
}

/** The proxy-defaults "global" the federation guide asks for, written through Consul's API (in the primary; it replicates). */
async function writeProxyDefaults(): Promise<void> {
  const client = consulClient('dc1')
  try {
    await client.put('/v1/config', {Kind: 'proxy-defaults', Name: 'global', MeshGateway: {Mode: 'local'}})
  } finally {
    client.close()
  }
}

/** Waits until dc2 has (or lacks) the entry: config entries replicate from dc1. */
async function waitProxyDefaultsInDc2(present: boolean): Promise<void> {
  const client = consulClient('dc2')
  try {
    for (let attempt = 0; ; attempt++) {
      const found = await client.get('/v1/config/proxy-defaults/global').then(
        () => true,
        (error: {status?: number}) => (error.status === 404 ? false : undefined),
      )
      if (found === present) return
      assert.ok(attempt < 240, `proxy-defaults global never ${present ? 'reached' : 'left'} dc2`)
      await sleep(500)
    }
  } finally {
    client.close()
  }
}

async function createNamespaceWithSecret(dc: string, namespace: string, data: FederationData): Promise<void> {
  const cluster = await connectTestCluster({kubeconfig: env.kubeconfig, context: dc})
  await cluster.core().createNamespace({body: {metadata: {name: namespace}}})
  const manifest = secretManifest({name: 'consul-federation', namespace, labels: {'managed-by': 'consul-k8s'}, data: data as Record<string, string>})
  await cluster.core().createNamespacedSecret({namespace, body: manifest})
}

/** verify over HTTPS against both datacenters, the CA taken from the federation secret. */
function verifyArgs(namespace: string, extra: string[] = [], token = env.federation.managementToken): string[] {
  return [
    'verify',
    '--kubeconfig',
    env.kubeconfig,
    '--context',
    'dc1',
    '--context',
    'dc2',
    '-n',
    namespace,
    '--consul-http-addr',
    `dc1=${env.consul.dc1.httpAddr}`,
    '--consul-http-addr',
    `dc2=${env.consul.dc2.httpAddr}`,
    '--consul-token',
    token,
    ...extra,
  ]
}

const noConsulEnv = {CONSUL_HTTP_ADDR: undefined, CONSUL_HTTP_TOKEN: undefined, CONSUL_CACERT: undefined, KUBECONFIG: undefined}
const cli = (args: string[], timeoutMs?: number) => runCli(args, {env: noConsulEnv, timeoutMs})

function report(result: CliResult): VerifyReport {
  try {
    return JSON.parse(result.stdout) as VerifyReport
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`)
  }
}

function check(result: VerifyReport, id: string): Check {
  const found = result.checks.find((candidate) => candidate.id === id)
  assert.ok(found, `no check ${id} among ${result.checks.map((candidate) => candidate.id).join(', ')}`)
  return found
}

function assertNoStackTrace(result: CliResult): void {
  assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace')
}

before(async () => {
  env = getTestEnv()
  otherCa = await createCA()
  for (const dc of DATACENTERS) {
    await createNamespaceWithSecret(dc, ns, federationData())
    await createNamespaceWithSecret(dc, nsOtherCa, federationData(undefined, {ca: otherCa}))
    await createNamespaceWithSecret(dc, nsOtherGossip, federationData(createGossipKey()))
    await createNamespaceWithSecret(dc, nsUnknownToken, federationData(undefined, {replicationToken: randomUUID()}))
  }
  await createNamespaceWithSecret('dc1', nsMismatch, federationData())
  await createNamespaceWithSecret('dc2', nsMismatch, federationData(createGossipKey()))
  await writeProxyDefaults()
  await waitProxyDefaultsInDc2(true)
})

after(async () => {
  if (!consulRunning('dc2')) await startConsul('dc2', {federated: true})
  for (const dc of DATACENTERS) {
    const cluster = await connectTestCluster({kubeconfig: env.kubeconfig, context: dc})
    for (const namespace of [ns, nsMismatch, nsOtherCa, nsOtherGossip, nsUnknownToken])
      await cluster
        .core()
        .deleteNamespace({name: namespace})
        .catch(() => undefined)
  }
})

describe('verify against the real federation', () => {
  it('passes the two WAN-joined datacenters, checked from both sides (JSON)', async () => {
    // --wait: other test files stop and start dc2 while this runs.
    const result = await cli(verifyArgs(ns, ['-o', 'json', '--wait', '--timeout', '4m']), 300_000)
    const data = report(result)
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    assert.equal(data.ok, true)
    assert.deepEqual(data.datacenters, ['dc1', 'dc2'])
    assert.equal(data.primaryDatacenter, 'dc1')
    assert.deepEqual(
      data.checks.filter((candidate) => candidate.status !== 'ok'),
      [],
    )
    for (const id of [
      'consul:dc1',
      'consul:dc2',
      'wan:dc1:dc2',
      'wan:dc2:dc1',
      'datacenters:dc1',
      'datacenters:dc2',
      'health:dc1:dc2',
      'health:dc2:dc1',
      'replication:dc2',
      'secret:dc1',
      'secret:dc2',
      'server-config:dc2',
      'secret-match',
      'primary',
    ]) {
      check(data, id)
    }
    // What the servers use: the secret made from the environment's own material passes.
    for (const dc of DATACENTERS) {
      assert.match(
        check(data, `server-ca:${dc}`).detail,
        new RegExp(`^HTTPS 127\\.0\\.0\\.1:${env.consul[dc].httpsPort}, server RPC 127\\.0\\.0\\.1:${env.consul[dc].serverPort} chain to SHA-256 `),
      )
      assert.match(
        check(data, `gossip-key:${dc}`).detail,
        new RegExp(`^key ${fingerprint(env.federation.gossipKey)} installed and primary in the LAN keyring of ${dc} and the WAN keyring$`),
      )
      assert.match(check(data, `replication-token:${dc}`).detail, /in dc1, policy acl-replication-token/)
      assert.match(check(data, `proxy-defaults:${dc}`).detail, /^MeshGateway\.Mode local/)
    }
    assert.match(check(data, 'replication-token:dc2').detail, /dc2 replicates with it \(running, no authentication errors\)/)
    assert.match(check(data, 'wan:dc1:dc2').detail, /1\/1 alive: consul-server-0\.dc2/)
    assert.match(check(data, 'replication:dc2').detail, /replicating tokens from dc1/)
    assert.ok(data.checks.some((candidate) => candidate.id.startsWith('ca:') && /days left/.test(candidate.detail)))
    // Secret material never reaches the output.
    for (const secret of [
      env.federation.gossipKey,
      env.federation.replicationToken,
      env.federation.managementToken,
      env.federation.caKeyPem.split('\n')[1],
    ]) {
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'secret material printed')
    }
  })

  it('prints one ✓ line per check and a verdict, with --json giving the same data', async () => {
    const table = await cli(verifyArgs(ns, ['--wait', '--timeout', '4m']), 300_000)
    assert.equal(table.exitCode, 0, table.stdout + table.stderr)
    assert.match(table.stdout, /^✓ dc1: dc2 servers alive in the WAN pool — 1\/1 alive: consul-server-0\.dc2$/m)
    assert.match(table.stdout, /^✓ dc2: ACL replication from dc1 enabled and running — /m)
    assert.match(table.stdout, /^✓ Federation verified: all \d+ checks passed \(dc1, dc2; primary dc1\)\.$/m)
    assert.doesNotMatch(table.stdout, /^[!✗]/m)
    const json = await cli(verifyArgs(ns, ['--json', '--wait', '--timeout', '4m']), 300_000)
    assert.equal(json.exitCode, 0, json.stdout + json.stderr)
    assert.equal(report(json).ok, true)
  })

  it("from the primary's side alone, checks dc2 through dc1 (WAN pool, health, replication via ?dc=)", async () => {
    const result = await cli(
      [
        'verify',
        '--kubeconfig',
        env.kubeconfig,
        '--context',
        'dc1',
        '-n',
        ns,
        '--consul-http-addr',
        env.consul.dc1.httpAddr,
        '--consul-token',
        env.federation.managementToken,
        '-o',
        'json',
        '--wait',
        '--timeout',
        '4m',
      ],
      300_000,
    )
    const data = report(result)
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    assert.deepEqual(data.datacenters, ['dc1', 'dc2'])
    for (const id of ['wan:dc1:dc2', 'health:dc1:dc2', 'replication:dc1:dc2', 'proxy-defaults:dc1:dc2'])
      assert.equal(check(data, id).status, 'ok', id)
    assert.match(check(data, 'replication:dc1:dc2').detail, /replicating tokens from dc1/)
  })

  it('gives a clear permission message for a wrong token, not a stack trace', async () => {
    const result = await cli(verifyArgs(ns, [], '00000000-0000-4000-8000-000000000000'))
    assert.equal(result.exitCode, 1)
    assertNoStackTrace(result)
    assert.match(
      result.stdout,
      /^✗ dc1: Consul server reachable — Consul denied reading \/v1\/agent\/self: HTTP 403 \(ACL not found\) \(used the token given with --consul-token/m,
    )
    assert.match(result.stdout, /cause: the ACL token is missing, unknown to this datacenter/)
    assert.match(result.stdout, /next: +pass a management token with --consul-token/)
    assert.match(result.stdout, /^✗ Federation NOT verified: 2 of \d+ checks failed/m)
  })

  it('fails when the federation secrets differ, naming the key and not its value', async () => {
    const result = await cli(verifyArgs(nsMismatch, ['-o', 'json', '--wait', '--timeout', '10s', '--interval', '2s']))
    const data = report(result)
    assert.equal(result.exitCode, 1)
    const match = check(data, 'secret-match')
    assert.equal(match.status, 'fail')
    assert.match(match.detail, /^differ: gossipEncryptionKey \(dc1 sha256:[0-9a-f]{12} vs dc2 sha256:[0-9a-f]{12}\)$/)
    assert.ok(
      match.next?.includes(
        `consulk8s federate export --context dc1 -n ${nsMismatch} | consulk8s federate import --context dc2 -n ${nsMismatch} -f - --force`,
      ),
      match.next,
    )
    assert.ok(!result.stdout.includes(env.federation.gossipKey))
  })

  it('fails when the federation secret is missing, saying how to import it, and why TLS failed without its CA', async () => {
    await waitForFederation()
    // No federation secret and no --consul-cacert: nothing to verify the HTTPS certificate with.
    const noCA = await cli([...verifyArgs(ns, ['-o', 'json']), '--release', 'other'])
    assert.equal(noCA.exitCode, 1)
    const tls = check(report(noCA), 'consul:dc1')
    assert.match(tls.detail, /UNABLE_TO_VERIFY_LEAF_SIGNATURE .*\(verified against the system CAs \(no --consul-cacert, no federation secret\)\)/)
    assert.match(tls.next ?? '', /--consul-cacert; do not turn verification off/)

    const result = await cli([...verifyArgs(ns, ['-o', 'json']), '--release', 'other', '--consul-cacert', env.federation.caCertFile])
    const data = report(result)
    assert.equal(result.exitCode, 1)
    assert.equal(check(data, 'consul:dc1').status, 'ok')
    const missing = check(data, 'secret:dc2')
    assert.equal(missing.status, 'fail')
    assert.equal(missing.detail, `secret other-federation not found in namespace ${ns} of context dc2`)
    assert.match(missing.cause ?? '', /not imported into this cluster/)
    assert.equal(
      missing.next,
      `copy it from the primary: consulk8s federate export --context dc1 -n ${ns} --release other | consulk8s federate import --context dc2 -n ${ns} --release other -f -`,
    )
    assert.match(check(data, 'secret:dc1').cause ?? '', /createFederationSecret/)
  })

  it('fails with the reason when dc2 is stopped, and --wait recovers when it starts again', async () => {
    try {
      // Keep the outage short: every test file shares this environment.
      await stopConsul('dc2')
      const stopped = await cli(verifyArgs(ns, ['-o', 'json']))
      assert.equal(stopped.exitCode, 1)
      assertNoStackTrace(stopped)
      const data = report(stopped)
      const reach = check(data, 'consul:dc2')
      assert.equal(reach.status, 'fail')
      assert.match(reach.detail, /Cannot reach Consul at https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/)
      assert.match(reach.cause ?? '', /Consul server is down/)
      // dc2 is still expected (it is in dc1's WAN pool; WAN gossip takes ~30-60 s to mark it
      // failed, which the unit tests cover with the captured table), and checked through dc1.
      assert.deepEqual(data.datacenters, ['dc1', 'dc2'])
      assert.ok(data.checks.some((candidate) => candidate.id === 'wan:dc1:dc2'))
      // The secret checks do not depend on Consul and still pass.
      assert.equal(check(data, 'secret-match').status, 'ok')

      const child = execa(process.execPath, [BIN, ...verifyArgs(ns, ['--wait', '--timeout', '4m', '--interval', '1s'])], {
        reject: false,
        env: {CI: 'true', NO_COLOR: '1', ...noConsulEnv},
        timeout: 300_000,
      })
      let output = ''
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      for (let attempt = 0; !/^\.\.\. waiting \d+s more for \d+ checks?: .*dc2/m.test(output); attempt++) {
        assert.ok(attempt < 240 && child.exitCode === null, `verify --wait printed no waiting line:\n${output}`)
        await sleep(500)
      }
      await startConsul('dc2', {federated: true})
      const result = await child
      assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
      assert.match(result.stdout, /^\.\.\. waiting \d+s more for .*dc2: Consul server reachable \(Cannot reach Consul/m)
      assert.match(result.stdout, /^✓ Federation verified: all \d+ checks passed/m)
    } finally {
      if (!consulRunning('dc2')) await startConsul('dc2', {federated: true})
    }
  })
})

describe('verify checks what the servers actually use', () => {
  /** verify from dc1 (and dc2), for the checks of one namespace's secrets. */
  const run = (namespace: string, contexts: Array<'dc1' | 'dc2'> = ['dc1', 'dc2']) =>
    cli([
      'verify',
      '--kubeconfig',
      env.kubeconfig,
      '-n',
      namespace,
      '-o',
      'json',
      '--consul-token',
      env.federation.managementToken,
      '--consul-cacert',
      env.federation.caCertFile,
      ...contexts.flatMap((dc) => ['--context', dc, '--consul-http-addr', `${dc}=${env.consul[dc].httpAddr}`]),
    ])

  it("fails a secret made from another CA, naming the servers' certificate and the secret's CA by fingerprint", async () => {
    const result = await run(nsOtherCa)
    const data = report(result)
    assert.equal(result.exitCode, 1)
    // The copies agree with each other, so only the new check sees the problem.
    assert.equal(check(data, 'secret-match').status, 'ok')
    const secretCa = new X509Certificate(otherCa.certPem).fingerprint256.slice(0, 23)
    for (const dc of DATACENTERS) {
      const ca = check(data, `server-ca:${dc}`)
      assert.equal(ca.status, 'fail', dc)
      assert.match(
        ca.detail,
        new RegExp(
          `^HTTPS 127\\.0\\.0\\.1:${env.consul[dc].httpsPort} presents SHA-256 [0-9A-F:]{23}… issued by .*; server RPC 127\\.0\\.0\\.1:${env.consul[dc].serverPort} presents SHA-256 `,
        ),
      )
      assert.ok(ca.detail.includes(`the CA of secret consul-federation is SHA-256 ${secretCa}…`), ca.detail)
    }
    assert.equal(check(data, 'server-ca:dc1').next, `consulk8s federate primary --context dc1 -n ${nsOtherCa} --force`)
    assert.equal(
      check(data, 'server-ca:dc2').next,
      `consulk8s federate export --context dc1 -n ${nsOtherCa} | consulk8s federate import --context dc2 -n ${nsOtherCa} -f - --force`,
    )
    assert.ok(!result.stdout.includes(otherCa.keyPem.split('\n')[1]))
  })

  it('fails a gossip key that is not in the keyrings, by fingerprint', async () => {
    const result = await run(nsOtherGossip, ['dc1'])
    const data = report(result)
    assert.equal(result.exitCode, 1)
    const gossip = check(data, 'gossip-key:dc1')
    assert.equal(gossip.status, 'fail')
    assert.match(
      gossip.detail,
      /^the key sha256:[0-9a-f]{12} of secret consul-federation is not installed in the LAN keyring of dc1 and the WAN keyring \(LAN dc1: 1 key\(s\), primary sha256:/,
    )
    assert.ok(gossip.detail.includes(fingerprint(env.federation.gossipKey)), 'names the key in use by fingerprint')
    assert.match(gossip.cause ?? '', /another gossip key than the servers use/)
    assert.equal(gossip.next, `consulk8s federate primary --context dc1 -n ${nsOtherGossip} --force`)
    assert.ok(!result.stdout.includes(env.federation.gossipKey))
  })

  it('fails a replication token the primary does not know, from both sides', async () => {
    const result = await run(nsUnknownToken)
    const data = report(result)
    assert.equal(result.exitCode, 1)
    for (const dc of DATACENTERS) {
      const token = check(data, `replication-token:${dc}`)
      assert.equal(token.status, 'fail', dc)
      assert.match(token.detail, /^dc1 does not know the token sha256:[0-9a-f]{12} \(\/v1\/acl\/token\/self: ACL not found\)$/)
    }
    assert.equal(
      check(data, 'replication-token:dc1').next,
      `consulk8s federate primary --context dc1 -n ${nsUnknownToken} --rotate replication-token`,
    )
    assert.match(
      check(data, 'replication-token:dc2').next ?? '',
      /^consulk8s federate export --context dc1 .* --force \(once the primary's own secret passes this check\)$/,
    )
  })

  it('fails when dc2 lacks the proxy-defaults global, naming federate secondary, and passes once it is written', async () => {
    const dc1 = consulClient('dc1')
    try {
      await dc1.delete('/v1/config/proxy-defaults/global')
      await waitProxyDefaultsInDc2(false)
      const missing = await run(ns)
      assert.equal(missing.exitCode, 1)
      const entry = check(report(missing), 'proxy-defaults:dc2')
      assert.equal(entry.status, 'fail')
      assert.equal(entry.detail, 'dc2 has no proxy-defaults config entry "global" (/v1/config/proxy-defaults/global: not found)')
      assert.match(entry.cause ?? '', /traffic from one datacenter to another does not go through the mesh gateways/)
      assert.equal(entry.next, `consulk8s federate secondary --context dc2 --primary-context dc1 -n ${ns}`)
      assert.equal(check(report(missing), 'proxy-defaults:dc1').next, `consulk8s federate primary --context dc1 -n ${ns}`)

      await writeProxyDefaults()
      const fixed = await cli([...verifyArgs(ns, ['-o', 'json', '--wait', '--timeout', '2m'])], 180_000)
      assert.equal(fixed.exitCode, 0, fixed.stdout + fixed.stderr)
      assert.equal(check(report(fixed), 'proxy-defaults:dc2').detail, 'MeshGateway.Mode local (no ProxyDefaults CRD in this cluster)')
    } finally {
      await writeProxyDefaults()
      dc1.close()
    }
  })
})

describe('verify checks the ProxyDefaults resource where the CRD exists', () => {
  const crdRef = {group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', name: 'proxydefaults.consul.hashicorp.com'}
  const resourceRef = {group: 'consul.hashicorp.com', version: 'v1alpha1', resource: 'proxydefaults', namespace: ns, name: 'global'}

  it("fails while the resource's Synced condition is not True, and passes once it is (the chart's CRD in dc2, removed after)", async () => {
    const cluster = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc2'})
    // The vendored chart's own CRD, rendered by helm.
    const rendered = await execa(
      env.bin.helm,
      [
        'template',
        'consul',
        env.chartDir,
        '--kube-version',
        env.versions?.KUBERNETES_VERSION ?? 'v1.33.0',
        '--show-only',
        'templates/crd-proxydefaults.yaml',
      ],
      {env: helmEnv()},
    )
    const crd = parseYaml(rendered.stdout) as Record<string, unknown>
    try {
      await cluster.create('create the ProxyDefaults CRD', crdRef, crd)
      for (let attempt = 0; ; attempt++) {
        const current = await cluster.get<{status?: {conditions?: Array<{type: string; status: string}>}}>('read the CRD', crdRef)
        if (current.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True')) break
        assert.ok(attempt < 120, 'the ProxyDefaults CRD never became established')
        await sleep(250)
      }
      let resource = await cluster.create<Record<string, unknown>>('create ProxyDefaults global', resourceRef, {
        apiVersion: 'consul.hashicorp.com/v1alpha1',
        kind: 'ProxyDefaults',
        metadata: {name: 'global', namespace: ns},
        spec: {meshGateway: {mode: 'local'}},
      })
      // What consul-k8s's controller writes when Consul refuses the entry.
      const condition = (status: string, reason?: string, message?: string) => ({
        type: 'Synced',
        status,
        lastTransitionTime: new Date().toISOString(),
        ...(reason ? {reason, message} : {}),
      })
      resource = await cluster.replace(
        'set the status',
        {...resourceRef, subresource: 'status'},
        {
          ...resource,
          status: {conditions: [condition('False', 'ConsulAgentError', 'writing config entry to consul: Unexpected response code: 403')]},
        },
      )
      const stuck = await cli(verifyArgs(ns, ['-o', 'json']))
      assert.equal(stuck.exitCode, 1)
      const entry = check(report(stuck), 'proxy-defaults:dc2')
      assert.equal(entry.status, 'fail')
      assert.equal(
        entry.detail,
        `MeshGateway.Mode local in Consul, but ProxyDefaults global in namespace ${ns} is not synced (Synced False, ConsulAgentError: writing config entry to consul: Unexpected response code: 403)`,
      )
      assert.match(entry.next ?? '', new RegExp(`^kubectl describe proxydefaults global -n ${ns} --context dc2`))
      assert.equal(check(report(stuck), 'proxy-defaults:dc1').detail, 'MeshGateway.Mode local (no ProxyDefaults CRD in this cluster)')

      await cluster.replace('set the status', {...resourceRef, subresource: 'status'}, {...resource, status: {conditions: [condition('True')]}})
      const synced = await cli(verifyArgs(ns, ['-o', 'json', '--wait', '--timeout', '2m']), 180_000)
      assert.equal(synced.exitCode, 0, synced.stdout + synced.stderr)
      assert.equal(check(report(synced), 'proxy-defaults:dc2').detail, `MeshGateway.Mode local; ProxyDefaults global in namespace ${ns} Synced True`)
    } finally {
      await cluster.remove('delete ProxyDefaults global', resourceRef).catch(() => undefined)
      await cluster.remove('delete the ProxyDefaults CRD', crdRef).catch(() => undefined)
    }
  })
})

describe('verify --pre, before installing a secondary', () => {
  /** The secondary-to-be is dc2's cluster; dc1 is the primary. */
  const pre = (extra: string[], namespace = ns) =>
    cli([
      'verify',
      '--pre',
      '--kubeconfig',
      env.kubeconfig,
      '--context',
      'dc2',
      '--primary-context',
      'dc1',
      '-n',
      namespace,
      '--consul-http-addr',
      env.consul.dc1.httpAddr,
      '--consul-token',
      env.federation.managementToken,
      '--consul-cacert',
      env.federation.caCertFile,
      ...extra,
    ])

  it("passes a new datacenter name with the secret made from the primary's own material (table and JSON)", async () => {
    const table = await pre(['--datacenter', 'dc3'])
    assert.equal(table.exitCode, 0, table.stdout + table.stderr)
    assert.match(table.stdout, /^✓ datacenter name dc3 is unique in the federation — the federation has dc1, dc2$/m)
    assert.match(table.stdout, /^✓ Ready to install dc3 in context dc2: all \d+ checks passed \(dc1, dc3; primary dc1\)\.$/m)
    const json = await pre(['--datacenter', 'dc3', '-o', 'json'])
    const data = report(json)
    assert.equal(json.exitCode, 0)
    assert.deepEqual(data.pre, {context: 'dc2', datacenter: 'dc3'})
    for (const id of [
      'pre-consul:dc1',
      'pre-datacenter',
      'pre-secret:dc2',
      'pre-server-ca:dc1',
      'pre-gossip-key:dc1',
      'pre-replication-token:dc1',
      'pre-gateways',
      'pre-settings',
      'pre-k8s-auth-method-host',
    ]) {
      assert.equal(check(data, id).status, 'ok', id)
    }
    assert.match(
      check(data, 'pre-k8s-auth-method-host').title,
      new RegExp(`^k8sAuthMethodHost ${env.clusters.dc2.server.replace(/[.]/g, '\\.')} is reachable`),
    )
    assert.match(
      check(data, 'pre-settings').detail,
      /^TLS: primary on, dc3 on .*; ACLs: primary on, dc3 on .*; gossip encryption: primary on, dc3 on/,
    )
  })

  it("catches a duplicate datacenter name: one already federated, and the primary's", async () => {
    const duplicate = await pre(['--datacenter', 'dc2', '-o', 'json'])
    assert.equal(duplicate.exitCode, 1)
    const name = check(report(duplicate), 'pre-datacenter')
    assert.equal(name.status, 'fail')
    assert.equal(name.detail, "dc2 is already in the federation (servers in the primary's WAN pool: consul-server-0.dc2 alive)")
    assert.match(name.next ?? '', /--datacenter/)
    const primary = await pre(['--datacenter', 'dc1'])
    assert.equal(primary.exitCode, 1)
    assert.match(primary.stdout, /^✗ datacenter name dc1 is unique in the federation — dc1 is the primary's name$/m)
    assert.match(primary.stdout, /^✗ NOT ready to install dc1 in context dc2: 1 of \d+ checks failed/m)
  })

  it('catches a secret that does not match the primary: another CA, gossip key and token in a file (-f)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-pre-'))
    try {
      const file = join(dir, 'federation.yaml')
      const stale = federationData(createGossipKey(), {ca: otherCa, replicationToken: randomUUID()})
      writeFileSync(file, manifestYaml(secretManifest({name: 'consul-federation', data: stale as Record<string, string>})), {mode: 0o600})
      const result = await pre(['--datacenter', 'dc3', '-f', file, '-o', 'json'])
      const data = report(result)
      assert.equal(result.exitCode, 1)
      for (const id of ['pre-server-ca:dc1', 'pre-gossip-key:dc1', 'pre-replication-token:dc1']) {
        assert.equal(check(data, id).status, 'fail', id)
        assert.match(check(data, id).next ?? '', /^export it again from the primary: consulk8s federate export --context dc1 -n .* -o <file>/)
      }
      assert.match(check(data, 'pre-server-ca:dc1').detail, /the CA of file .*federation\.yaml is SHA-256 /)
      assert.equal(check(data, 'pre-secret:dc2').status, 'ok')
      assert.ok(!result.stdout.includes(stale.gossipEncryptionKey!) && !result.stdout.includes(stale.replicationToken!))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it("catches the secondary context's own secret made from another CA, naming the copy from the primary", async () => {
    const result = await pre(['--datacenter', 'dc3', '-o', 'json'], nsOtherCa)
    const data = report(result)
    assert.equal(result.exitCode, 1)
    assert.equal(check(data, 'pre-secret:dc2').status, 'ok', result.stdout)
    const ca = check(data, 'pre-server-ca:dc1')
    assert.equal(ca.status, 'fail')
    assert.ok(
      ca.detail.includes(
        `the CA of secret consul-federation in namespace ${nsOtherCa} of context dc2 is SHA-256 ${new X509Certificate(otherCa.certPem).fingerprint256.slice(0, 23)}…`,
      ),
      ca.detail,
    )
    assert.match(
      ca.next ?? '',
      new RegExp(`^copy it from the primary: consulk8s federate secondary --context dc2 --primary-context dc1 -n ${nsOtherCa} --datacenter dc3 `),
    )
    assert.equal(check(data, 'pre-gossip-key:dc1').status, 'ok')
    assert.equal(check(data, 'pre-replication-token:dc1').status, 'ok')
  })

  it('fails a secondary context without the federation secret, saying how to copy it', async () => {
    const result = await pre(['--datacenter', 'dc3', '-o', 'json'], `verify-pre-empty-${suffix}`)
    assert.equal(result.exitCode, 1)
    const secret = check(report(result), 'pre-secret:dc2')
    assert.equal(secret.detail, `secret consul-federation in namespace verify-pre-empty-${suffix} of context dc2 does not exist`)
    assert.match(secret.next ?? '', /^copy it from the primary: consulk8s federate secondary --context dc2 --primary-context dc1 /)
  })

  it('refuses flags of --pre without it, and --pre without the primary, as bad input', async () => {
    const stray = await cli(['verify', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--datacenter', 'dc3'])
    assert.notEqual(stray.exitCode, 0)
    assertNoStackTrace(stray)
    assert.match(stray.stderr, /--datacenter only applies to verify --pre/)
    const noPrimary = await cli(['verify', '--pre', '--kubeconfig', env.kubeconfig, '--context', 'dc2', '--datacenter', 'dc3'])
    assert.notEqual(noPrimary.exitCode, 0)
    assert.match(noPrimary.stderr, /verify --pre needs the primary: pass --primary-context/)
    assertNoStackTrace(noPrimary)
  })
})

/**
 * The exec path end to end, when the environment simulates a node (CONSULK8S_TESTENV_KWOK=1):
 * kwok plays the kubelet, so the Kubernetes exec API really runs verify's commands, and they
 * reach the cluster's Consul datacenter as in a server container. Skipped otherwise (see
 * verify-exec.test.ts for what is tested without a kubelet).
 */
describe('verify by exec into the server pods (simulated node)', () => {
  const labels = {app: 'consul', release: 'consul', component: 'server'}

  before(async () => {
    if (!getTestEnvSafe()?.simulatedNode) return
    for (const dc of DATACENTERS) {
      const cluster = await connectTestCluster({kubeconfig: env.kubeconfig, context: dc})
      await cluster.core().createNamespacedSecret({
        namespace: ns,
        body: secretManifest({name: 'consul-bootstrap-acl-token', namespace: ns, data: {token: env.federation.managementToken}}),
      })
      await cluster.apps().createNamespacedStatefulSet({
        namespace: ns,
        body: {
          metadata: {name: 'consul-server', labels},
          spec: {
            replicas: 1,
            serviceName: 'consul-server',
            selector: {matchLabels: labels},
            template: {metadata: {labels}, spec: {containers: [{name: 'consul', image: 'hashicorp/consul:1.22.2'}]}},
          },
        },
      })
      for (let attempt = 0; ; attempt++) {
        const pod = await cluster
          .core()
          .readNamespacedPod({namespace: ns, name: 'consul-server-0'})
          .catch(() => undefined)
        if (pod?.status?.phase === 'Running') break
        assert.ok(attempt < 240, `consul-server-0 in ${dc} never ran on the simulated node`)
        await sleep(500)
      }
    }
  })

  const execArgs = (extra: string[]) => ['verify', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--context', 'dc2', '-n', ns, ...extra]

  it(
    'passes from both sides, the token read from the bootstrap token secret',
    {skip: !getTestEnvSafe()?.simulatedNode && 'no simulated node in this environment (CONSULK8S_TESTENV_KWOK=1)'},
    async () => {
      const result = await cli(execArgs(['-o', 'json', '--wait', '--timeout', '4m']), 300_000)
      const data = report(result)
      assert.equal(result.exitCode, 0, result.stdout + result.stderr)
      assert.deepEqual(
        data.sides.map((side) => [side.context, side.via, side.source]),
        [
          ['dc1', 'exec', 'pod consul-server-0 (exec)'],
          ['dc2', 'exec', 'pod consul-server-0 (exec)'],
        ],
      )
      for (const id of ['wan:dc1:dc2', 'wan:dc2:dc1', 'health:dc1:dc2', 'health:dc2:dc1', 'replication:dc2', 'secret-match'])
        assert.equal(check(data, id).status, 'ok', id)
      // What the servers use, read in the pods: the HTTPS chain through curl, keyring, token, proxy-defaults.
      for (const dc of DATACENTERS) {
        assert.match(check(data, `server-ca:${dc}`).detail, /^HTTPS pod consul-server-0 \(exec\) chain to SHA-256 /)
        for (const id of [`gossip-key:${dc}`, `replication-token:${dc}`, `proxy-defaults:${dc}`]) assert.equal(check(data, id).status, 'ok', id)
      }
    },
  )

  it(
    'says the token was refused when exec runs with a wrong one',
    {skip: !getTestEnvSafe()?.simulatedNode && 'no simulated node in this environment (CONSULK8S_TESTENV_KWOK=1)'},
    async () => {
      const result = await cli(execArgs(['-o', 'json', '--consul-token', '00000000-0000-4000-8000-000000000000']))
      assert.equal(result.exitCode, 1)
      assertNoStackTrace(result)
      const reach = check(report(result), 'consul:dc1')
      assert.match(reach.detail, /Consul denied reading \/v1\/agent\/self: HTTP 403 \(ACL not found\)/)
      assert.match(reach.cause ?? '', /ACL token/)
    },
  )
})

/** The state when the environment is there (skip decisions are made before `before` runs). */
function getTestEnvSafe(): TestEnvState | undefined {
  try {
    return getTestEnv()
  } catch {
    return undefined
  }
}
