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
import {randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {execa} from 'execa'

import {createGossipKey} from '../../src/federation/crypto.js'
import {assembleFederationData, secretManifest, type FederationData} from '../../src/federation/secret.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'
import type {Check, VerifyReport} from '../../src/verify/types.js'
import {consulRunning, DATACENTERS, getTestEnv, startConsul, stopConsul, waitForFederation, type TestEnvState} from '../env/index.js'
import {BIN, runCli, type CliResult} from '../helpers/cli.js'

const suffix = randomBytes(3).toString('hex')
const ns = `verify-${suffix}`
/** dc1 and dc2 hold different federation secrets here. */
const nsMismatch = `verify-mismatch-${suffix}`

let env: TestEnvState

function federationData(gossipKey = env.federation.gossipKey): FederationData {
  return assembleFederationData({
    ca: {certPem: env.federation.caCertPem, keyPem: env.federation.caKeyPem},
    primaryDatacenter: 'dc1',
    // The environment joins over WAN directly (no Envoy for mesh gateways): dc1's WAN address.
    gateways: [`127.0.0.1:${env.consul.dc1.serfWanPort}`],
    replicationToken: env.federation.replicationToken,
    gossipKey,
  })
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
    '--kubeconfig', env.kubeconfig,
    '--context', 'dc1',
    '--context', 'dc2',
    '-n', namespace,
    '--consul-http-addr', `dc1=${env.consul.dc1.httpAddr}`,
    '--consul-http-addr', `dc2=${env.consul.dc2.httpAddr}`,
    '--consul-token', token,
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
  for (const dc of DATACENTERS) await createNamespaceWithSecret(dc, ns, federationData())
  await createNamespaceWithSecret('dc1', nsMismatch, federationData())
  await createNamespaceWithSecret('dc2', nsMismatch, federationData(createGossipKey()))
})

after(async () => {
  if (!consulRunning('dc2')) await startConsul('dc2', {federated: true})
  for (const dc of DATACENTERS) {
    const cluster = await connectTestCluster({kubeconfig: env.kubeconfig, context: dc})
    for (const namespace of [ns, nsMismatch]) await cluster.core().deleteNamespace({name: namespace}).catch(() => undefined)
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
    assert.deepEqual(data.checks.filter((candidate) => candidate.status !== 'ok'), [])
    for (const id of ['consul:dc1', 'consul:dc2', 'wan:dc1:dc2', 'wan:dc2:dc1', 'datacenters:dc1', 'datacenters:dc2', 'health:dc1:dc2', 'health:dc2:dc1', 'replication:dc2', 'secret:dc1', 'secret:dc2', 'server-config:dc2', 'secret-match', 'primary']) {
      check(data, id)
    }
    assert.match(check(data, 'wan:dc1:dc2').detail, /1\/1 alive: consul-server-0\.dc2/)
    assert.match(check(data, 'replication:dc2').detail, /replicating tokens from dc1/)
    assert.ok(data.checks.some((candidate) => candidate.id.startsWith('ca:') && /days left/.test(candidate.detail)))
    // Secret material never reaches the output.
    for (const secret of [env.federation.gossipKey, env.federation.replicationToken, env.federation.managementToken, env.federation.caKeyPem.split('\n')[1]]) {
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
    const result = await cli(['verify', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '-n', ns, '--consul-http-addr', env.consul.dc1.httpAddr, '--consul-token', env.federation.managementToken, '-o', 'json', '--wait', '--timeout', '4m'], 300_000)
    const data = report(result)
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    assert.deepEqual(data.datacenters, ['dc1', 'dc2'])
    for (const id of ['wan:dc1:dc2', 'health:dc1:dc2', 'replication:dc1:dc2']) assert.equal(check(data, id).status, 'ok', id)
    assert.match(check(data, 'replication:dc1:dc2').detail, /replicating tokens from dc1/)
  })

  it('gives a clear permission message for a wrong token, not a stack trace', async () => {
    const result = await cli(verifyArgs(ns, [], '00000000-0000-4000-8000-000000000000'))
    assert.equal(result.exitCode, 1)
    assertNoStackTrace(result)
    assert.match(result.stdout, /^✗ dc1: Consul server reachable — Consul denied reading \/v1\/agent\/self: HTTP 403 \(ACL not found\) \(used the token given with --consul-token/m)
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
    assert.ok(match.next?.includes(`consulk8s federate export --context dc1 -n ${nsMismatch} | consulk8s federate import --context dc2 -n ${nsMismatch} -f - --force`), match.next)
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
    assert.equal(missing.next, `copy it from the primary: consulk8s federate export --context dc1 -n ${ns} --release other | consulk8s federate import --context dc2 -n ${ns} --release other -f -`)
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
      await cluster.core().createNamespacedSecret({namespace: ns, body: secretManifest({name: 'consul-bootstrap-acl-token', namespace: ns, data: {token: env.federation.managementToken}})})
      await cluster.apps().createNamespacedStatefulSet({
        namespace: ns,
        body: {
          metadata: {name: 'consul-server', labels},
          spec: {replicas: 1, serviceName: 'consul-server', selector: {matchLabels: labels}, template: {metadata: {labels}, spec: {containers: [{name: 'consul', image: 'hashicorp/consul:1.22.2'}]}}},
        },
      })
      for (let attempt = 0; ; attempt++) {
        const pod = await cluster.core().readNamespacedPod({namespace: ns, name: 'consul-server-0'}).catch(() => undefined)
        if (pod?.status?.phase === 'Running') break
        assert.ok(attempt < 240, `consul-server-0 in ${dc} never ran on the simulated node`)
        await sleep(500)
      }
    }
  })

  const execArgs = (extra: string[]) => ['verify', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--context', 'dc2', '-n', ns, ...extra]

  it('passes from both sides, the token read from the bootstrap token secret', {skip: !getTestEnvSafe()?.simulatedNode && 'no simulated node in this environment (CONSULK8S_TESTENV_KWOK=1)'}, async () => {
    const result = await cli(execArgs(['-o', 'json', '--wait', '--timeout', '4m']), 300_000)
    const data = report(result)
    assert.equal(result.exitCode, 0, result.stdout + result.stderr)
    assert.deepEqual(data.sides.map((side) => [side.context, side.via, side.source]), [
      ['dc1', 'exec', 'pod consul-server-0 (exec)'],
      ['dc2', 'exec', 'pod consul-server-0 (exec)'],
    ])
    for (const id of ['wan:dc1:dc2', 'wan:dc2:dc1', 'health:dc1:dc2', 'health:dc2:dc1', 'replication:dc2', 'secret-match']) assert.equal(check(data, id).status, 'ok', id)
  })

  it('says the token was refused when exec runs with a wrong one', {skip: !getTestEnvSafe()?.simulatedNode && 'no simulated node in this environment (CONSULK8S_TESTENV_KWOK=1)'}, async () => {
    const result = await cli(execArgs(['-o', 'json', '--consul-token', '00000000-0000-4000-8000-000000000000']))
    assert.equal(result.exitCode, 1)
    assertNoStackTrace(result)
    const reach = check(report(result), 'consul:dc1')
    assert.match(reach.detail, /Consul denied reading \/v1\/agent\/self: HTTP 403 \(ACL not found\)/)
    assert.match(reach.cause ?? '', /ACL token/)
  })
})

/** The state when the environment is there (skip decisions are made before `before` runs). */
function getTestEnvSafe(): TestEnvState | undefined {
  try {
    return getTestEnv()
  } catch {
    return undefined
  }
}
