/**
 * verify's exec path against the real test environment. The environment has API servers and
 * a controller manager but no kubelet, so no command can really run in a pod. What is tested
 * for real:
 * - against the real kube-apiserver: a server StatefulSet whose pod stays Pending gives
 *   "pod <release>-server-0 is Pending: not scheduled to a node"; a missing StatefulSet is
 *   named; a pod bound to a node without kubelet gives a clean exec error (the exec request
 *   really goes to the API server);
 * - against the real Consul: the exact commands verify runs in a server pod (sh, consul
 *   members -wan, curl with the token on stdin) run here with the environment a chart-made
 *   server container has (CONSUL_HTTP_ADDR, CONSUL_CACERT), and their output is parsed.
 *
 * Own namespace verify-exec-<random> in dc1, removed after.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomBytes, X509Certificate} from 'node:crypto'
import {dirname} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {fingerprint} from '../../src/federation/secret.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'
import {ExecConsulReader, ProbeError, type PodRunner} from '../../src/verify/sources.js'
import type {Check, VerifyReport} from '../../src/verify/types.js'
import {getTestEnv, waitForFederation, type TestEnvState} from '../env/index.js'
import {runCli} from '../helpers/cli.js'

const suffix = randomBytes(3).toString('hex')
const ns = `verify-exec-${suffix}`
const release = 'vx'
const pod = `${release}-server-0`
const labels = {app: 'consul', release, component: 'server'}

let env: TestEnvState
let cluster: TestCluster

const noConsulEnv = {CONSUL_HTTP_ADDR: undefined, CONSUL_HTTP_TOKEN: undefined, CONSUL_CACERT: undefined, KUBECONFIG: undefined}

async function verifyDc1(extra: string[]): Promise<{exitCode: number; check: Check; stdout: string; stderr: string}> {
  const result = await runCli(['verify', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '-n', ns, '-o', 'json', ...extra], {env: noConsulEnv})
  const data = JSON.parse(result.stdout) as VerifyReport
  const check = data.checks.find((candidate) => candidate.id === 'consul:dc1')
  assert.ok(check, result.stdout)
  assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace')
  return {exitCode: result.exitCode, check, stdout: result.stdout, stderr: result.stderr}
}

before(async () => {
  env = getTestEnv()
  cluster = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
  await cluster.core().createNamespace({body: {metadata: {name: ns}}})
  await cluster.apps().createNamespacedStatefulSet({
    namespace: ns,
    body: {
      metadata: {name: `${release}-server`, labels},
      spec: {
        replicas: 1,
        serviceName: `${release}-server`,
        selector: {matchLabels: labels},
        // A node selector no node has: the pod stays Pending even where a scheduler and a
        // simulated node run (CONSULK8S_TESTENV_KWOK=1).
        template: {
          metadata: {labels},
          spec: {nodeSelector: {'consulk8s.test/verify': 'no-such-node'}, containers: [{name: 'consul', image: 'hashicorp/consul:1.22.2'}]},
        },
      },
    },
  })
  // The controller manager's StatefulSet controller makes the pod; without one, make it here.
  if (!env.clusters.dc1.controllerManager) {
    await cluster.core().createNamespacedPod({
      namespace: ns,
      body: {
        metadata: {name: pod, labels},
        spec: {nodeSelector: {'consulk8s.test/verify': 'no-such-node'}, containers: [{name: 'consul', image: 'hashicorp/consul:1.22.2'}]},
      },
    })
  }
  for (let attempt = 0; ; attempt++) {
    const pods = await cluster.core().listNamespacedPod({namespace: ns})
    if (pods.items.some((item) => item.metadata?.name === pod)) break
    assert.ok(attempt < 120, `the StatefulSet controller never created ${pod}`)
    await sleep(500)
  }
})

after(async () => {
  await cluster
    .core()
    .deleteNamespace({name: ns})
    .catch(() => undefined)
})

describe('verify by exec, against the real API server', () => {
  it('says the server pod is Pending when no node runs it', async () => {
    const {exitCode, check} = await verifyDc1(['--release', release])
    assert.equal(exitCode, 1)
    assert.equal(check.status, 'fail')
    // Without a scheduler the pod just has no node; with one, the scheduler's reason is given.
    assert.match(
      check.detail,
      new RegExp(
        `^No pod of StatefulSet ${release}-server in namespace ${ns} of context dc1 can run commands: pod ${pod} is Pending: not scheduled( to a node|: 0/\\d+ nodes are available: .*)\\.$`,
      ),
    )
    assert.match(check.cause ?? '', /no Consul server pod is running/)
    assert.match(check.next ?? '', new RegExp(`kubectl describe pod ${pod} -n ${ns} --context dc1.*--consul-http-addr`))
  })

  it('names the StatefulSet when Consul is not installed under that release', async () => {
    const {exitCode, check} = await verifyDc1(['--release', 'absent'])
    assert.equal(exitCode, 1)
    assert.equal(check.detail, `StatefulSet absent-server not found in namespace ${ns} of context dc1.`)
    assert.match(check.cause ?? '', /Consul is not installed in namespace/)
  })

  it('gives a clean error when the exec request cannot reach a kubelet', async () => {
    // Bind the pod to a node that has no kubelet and mark it running, as a kubelet would.
    const node = `verify-no-kubelet-${suffix}`
    await cluster
      .core()
      .createNamespacedPodBinding({namespace: ns, name: pod, body: {metadata: {name: pod}, target: {apiVersion: 'v1', kind: 'Node', name: node}}})
    const current = await cluster.core().readNamespacedPodStatus({namespace: ns, name: pod})
    current.status = {
      ...current.status,
      phase: 'Running',
      containerStatuses: [
        {name: 'consul', image: 'hashicorp/consul:1.22.2', imageID: '', ready: true, restartCount: 0, state: {running: {startedAt: new Date()}}},
      ],
    }
    await cluster.core().replaceNamespacedPodStatus({namespace: ns, name: pod, body: current})

    const {exitCode, check} = await verifyDc1(['--release', release])
    assert.equal(exitCode, 1)
    assert.match(
      check.detail,
      new RegExp(
        `^reading /v1/agent/self: Cannot exec into pod ${pod} \\(namespace ${ns}, context dc1\\) on node ${node}: the API server answered HTTP \\d{3} to the exec request$`,
      ),
    )
    assert.match(check.next ?? '', new RegExp(`could not reach the kubelet of node ${node}`))
  })
})

/** Runs a pod command here, with what the chart sets in the server container. */
function localPod(dc: 'dc1' | 'dc2'): PodRunner {
  return (command, stdin) =>
    new Promise((resolve, reject) => {
      const child = spawn(command[0], command.slice(1), {
        env: {PATH: `${dirname(env.bin.consul)}:/usr/bin:/bin`, CONSUL_HTTP_ADDR: env.consul[dc].httpAddr, CONSUL_CACERT: env.federation.caCertFile},
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({stdout, stderr, exitCode: code ?? 1}))
      // Like the exec session, stdin stays open: the commands read one line.
      child.stdin.write(stdin)
    })
}

describe('the in-pod commands, against the real Consul', () => {
  before(async () => {
    await waitForFederation()
  })

  it('reads agent, WAN members, datacenters and the other datacenter from dc1', async () => {
    const reader = new ExecConsulReader(localPod('dc1'), 'local shell', env.federation.managementToken)
    const agent = await reader.agentSelf()
    assert.deepEqual([agent.datacenter, agent.primaryDatacenter, agent.aclsEnabled], ['dc1', 'dc1', true])
    const members = await reader.wanMembers()
    assert.deepEqual(members.map((member) => member.datacenter).sort(), ['dc1', 'dc2'])
    assert.ok(members.every((member) => member.type === 'server' && member.partition === 'default'))
    assert.deepEqual((await reader.datacenters()).sort(), ['dc1', 'dc2'])
    const health = await reader.serverHealth('dc2')
    assert.deepEqual(
      health.servers.map((server) => server.node),
      [env.consul.dc2.nodeName],
    )
    assert.ok(health.servers[0].checks.some((check) => check.checkId === 'serfHealth'))
    const replication = await reader.replication()
    assert.ok(replication !== 'acl-disabled' && !replication.enabled, 'the primary does not replicate')
  })

  it("reads dc2's running replication", async () => {
    const replication = await new ExecConsulReader(localPod('dc2'), 'local shell', env.federation.managementToken).replication()
    assert.ok(replication !== 'acl-disabled')
    assert.deepEqual([replication.enabled, replication.running, replication.sourceDatacenter], [true, true, 'dc1'])
  })

  it('reports a wrong token as forbidden from both consul and curl', async () => {
    const reader = new ExecConsulReader(localPod('dc1'), 'local shell', '00000000-0000-4000-8000-000000000000')
    await assert.rejects(
      reader.wanMembers(),
      (error: unknown) => error instanceof ProbeError && error.kind === 'forbidden' && /403 \(ACL not found\)/.test(error.message),
    )
    await assert.rejects(
      reader.agentSelf(),
      (error: unknown) => error instanceof ProbeError && error.kind === 'forbidden' && /HTTP 403 \(ACL not found\)/.test(error.message),
    )
  })

  it('reads what the servers use: the HTTPS chain (curl %{certs}), the keyring, the replication token (token on stdin), proxy-defaults', async () => {
    const reader = new ExecConsulReader(localPod('dc2'), 'local shell', env.federation.managementToken)
    const {endpoint, chain} = await reader.httpsChain()
    assert.equal(endpoint, 'https')
    const leaf = new X509Certificate(chain[0])
    assert.ok(leaf.verify(new X509Certificate(env.federation.caCertPem).publicKey), 'the chain read in the pod is signed by the environment CA')
    assert.match(leaf.subject, /server\.dc2\.consul/)
    const rings = await reader.keyring()
    assert.ok(rings !== 'disabled')
    const print = fingerprint(env.federation.gossipKey)
    assert.ok(
      rings.some((ring) => ring.wan && print in ring.primaryKeys) &&
        rings.some((ring) => !ring.wan && ring.datacenter === 'dc2' && print in ring.primaryKeys),
    )
    assert.ok(!JSON.stringify(rings).includes(env.federation.gossipKey))
    const token = await reader.tokenSelf(env.federation.replicationToken, 'dc1')
    assert.ok(token !== 'unknown' && token !== 'acl-disabled')
    assert.deepEqual(token.policies, ['acl-replication-token'])
    assert.equal(await reader.tokenSelf('00000000-0000-4000-8000-000000000000', 'dc1'), 'unknown')
    const entry = await reader.proxyDefaults()
    assert.ok(entry === null || typeof entry.meshGatewayMode === 'string')
  })
})
