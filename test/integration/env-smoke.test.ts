/**
 * The real test environment works: both Kubernetes API servers serve the pinned version and
 * store objects, both Consul datacenters are WAN-federated and replicate ACL tokens, and a
 * datacenter can be stopped and started again from a test.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {execa} from 'execa'
import {parse} from 'yaml'

import {hasReplicationPolicy, readTokenSelf, type AclToken} from '../../src/consul/acl.js'
import {ConsulApiError} from '../../src/consul/client.js'
import {inspectCA} from '../../src/federation/crypto.js'
import {consulClient, consulEnv, DATACENTERS, getTestEnv, kubectlArgs, startConsul, stopConsul, type TestEnvState} from '../env/index.js'

const suffix = randomBytes(3).toString('hex')
const namespace = `env-smoke-${suffix}`

/** Retries `check` until it stops throwing, at most `attempts` times (no timing assertion). */
async function eventually<T>(attempts: number, check: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await check()
    } catch (error) {
      if (attempt >= attempts) throw error
      await sleep(500)
    }
  }
}

describe('test environment', () => {
  let env: TestEnvState
  const kubectl = (context: string, args: string[], options: {localhost?: boolean; input?: string} = {}) =>
    execa(env.bin.kubectl, [...kubectlArgs(context, options), ...args], {input: options.input})

  before(async () => {
    env = getTestEnv()
    for (const dc of DATACENTERS) await kubectl(dc, ['create', 'namespace', namespace])
  })

  after(async () => {
    for (const dc of DATACENTERS) await kubectl(dc, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found'])
  })

  for (const dc of DATACENTERS) {
    it(`creates and reads a Secret in context ${dc}`, async () => {
      const name = `smoke-${dc}`
      await kubectl(dc, ['-n', namespace, 'create', 'secret', 'generic', name, `--from-literal=dc=${dc}`])
      const {stdout} = await kubectl(dc, ['-n', namespace, 'get', 'secret', name, '-o', 'json'])
      const secret = JSON.parse(stdout) as {data: Record<string, string>}
      assert.equal(Buffer.from(secret.data.dc!, 'base64').toString(), dc)
    })
  }

  it('keeps the two clusters apart', async () => {
    const other = await kubectl('dc2', ['-n', namespace, 'get', 'secret', 'smoke-dc1', '--ignore-not-found', '-o', 'name'])
    assert.equal(other.stdout.trim(), '', 'the Secret made in dc1 must not exist in dc2')
  })

  it('serves the pinned Kubernetes version on both API servers, under both kubeconfigs', async () => {
    for (const dc of DATACENTERS) {
      for (const localhost of [false, true]) {
        const {stdout} = await kubectl(dc, ['version', '-o', 'json'], {localhost})
        const version = JSON.parse(stdout) as {serverVersion: {gitVersion: string}}
        assert.equal(version.serverVersion.gitVersion, env.versions.KUBERNETES_VERSION, `${dc} (localhost kubeconfig: ${localhost})`)
      }
    }
  })

  it('names the servers like real clusters in the main kubeconfig and like kind in the other', () => {
    const servers = (file: string) =>
      Object.fromEntries(
        (parse(readFileSync(file, 'utf8')) as {clusters: Array<{name: string; cluster: {server: string}}>}).clusters.map((c) => [
          c.name,
          c.cluster.server,
        ]),
      )
    const main = servers(env.kubeconfig)
    const kind = servers(env.kubeconfigLocalhost)
    for (const dc of DATACENTERS) {
      assert.equal(main[dc], env.clusters[dc].server)
      assert.doesNotMatch(new URL(main[dc]!).hostname, /^(127\.|localhost$|\[::1\]$)/, `${dc} in the main kubeconfig must not be a loopback name`)
    }
    assert.equal(kind.dc2, `https://127.0.0.1:${env.clusters.dc2.port}`)
    assert.equal(kind.dc1, main.dc1)
  })

  it('publishes a non-loopback default/kubernetes Endpoints address in each cluster', async () => {
    for (const dc of DATACENTERS) {
      const {stdout} = await kubectl(dc, ['-n', 'default', 'get', 'endpoints', 'kubernetes', '-o', 'json'])
      const endpoints = JSON.parse(stdout) as {subsets: Array<{addresses: Array<{ip: string}>; ports: Array<{port: number}>}>}
      assert.equal(endpoints.subsets[0]?.ports[0]?.port, env.clusters[dc].port)
      assert.equal(`https://${endpoints.subsets[0]?.addresses[0]?.ip}:${env.clusters[dc].port}`, env.clusters[dc].server)
    }
  })

  it('runs the Consul servers on consulk8s-made federation material', async () => {
    assert.ok(inspectCA({certPem: env.federation.caCertPem, keyPem: env.federation.caKeyPem}).daysLeft > 300)
    const client = consulClient('dc1')
    const token = await readTokenSelf(client, env.federation.replicationToken).finally(() => client.close())
    assert.ok(token, 'the replication token exists in dc1')
    assert.ok(hasReplicationPolicy(token), 'the replication token carries the replication policy')
  })

  it('`consul members -wan` lists both datacenters alive', async () => {
    const {stdout} = await execa(env.bin.consul, ['members', '-wan'], {env: consulEnv('dc1')})
    for (const dc of DATACENTERS) {
      assert.match(stdout, new RegExp(`^${env.consul[dc].nodeName}\\.${dc}\\s+\\S+\\s+alive\\s+server\\b.*\\s${dc}\\s`, 'm'), stdout)
    }
  })

  it('replicates a token created in dc1 to dc2', async () => {
    const dc1 = consulClient('dc1')
    const dc2 = consulClient('dc2')
    const created = await dc1.put<AclToken>('/v1/acl/token', {Description: `env-smoke ${suffix}`, Local: false})
    try {
      // dc2 answers token reads from its replicated copy (it forwards them to dc1 only when
      // token replication is off), and its replication index must have reached the token.
      const replicated = await eventually(60, async () => {
        const token = await dc2.get<AclToken & {CreateIndex: number}>(`/v1/acl/token/${created.AccessorID}`)
        const status = await dc2.get<{ReplicationType: string; ReplicatedTokenIndex: number}>('/v1/acl/replication')
        assert.equal(status.ReplicationType, 'tokens')
        assert.ok(status.ReplicatedTokenIndex >= token.CreateIndex, `replicated token index ${status.ReplicatedTokenIndex} < ${token.CreateIndex}`)
        return token
      })
      assert.equal(replicated.Description, `env-smoke ${suffix}`)
      assert.equal(replicated.AccessorID, created.AccessorID)
    } finally {
      await dc1.delete(`/v1/acl/token/${created.AccessorID}`)
      dc1.close()
      dc2.close()
    }
  })

  it('stops and restarts a datacenter from a test', async () => {
    const client = consulClient('dc2')
    try {
      await stopConsul('dc2')
      await assert.rejects(
        client.get('/v1/status/leader'),
        (error: Error) => !(error instanceof ConsulApiError),
        'dc2 must be unreachable while stopped',
      )
    } finally {
      await startConsul('dc2', {federated: true})
    }
    assert.ok(await client.get<string>('/v1/status/leader'))
    client.close()
    const pidFile = readFileSync(join(env.workDir, 'procs', 'consul-dc2.pid'), 'utf8')
    assert.match(pidFile, /^\d+\n$/)
  })

  it("with simulated nodes, runs a consul-server-0 pod and execs into it against that cluster's datacenter", async (t) => {
    if (!env.simulatedNode) {
      t.skip('this environment has no simulated nodes (CONSULK8S_TESTENV_KWOK=1 turns them on)')
      return
    }
    for (const dc of DATACENTERS) {
      await kubectl(dc, [
        '-n',
        namespace,
        'run',
        'consul-server-0',
        '--image=hashicorp/consul',
        '--restart=Never',
        '--overrides={"spec":{"containers":[{"name":"consul","image":"hashicorp/consul"}]}}',
      ])
      const pod = await eventually(60, async () => {
        const {stdout} = await kubectl(dc, ['-n', namespace, 'get', 'pod', 'consul-server-0', '-o', 'json'])
        const parsed = JSON.parse(stdout) as {spec: {nodeName?: string}; status: {phase: string}}
        assert.equal(parsed.status.phase, 'Running')
        return parsed
      })
      assert.equal(pod.spec.nodeName, env.simulatedNode)
      const {stdout} = await kubectl(
        dc,
        [
          '-n',
          namespace,
          'exec',
          '-i',
          'consul-server-0',
          '-c',
          'consul',
          '--',
          '/bin/sh',
          '-c',
          'IFS= read -r t; CONSUL_HTTP_TOKEN="$t" exec consul members -wan',
        ],
        {
          input: `${env.federation.managementToken}\n`,
        },
      )
      for (const other of DATACENTERS) assert.match(stdout, new RegExp(`^${env.consul[other].nodeName}\\.${other}\\s+\\S+\\s+alive\\b`, 'm'), stdout)
      const addr = await kubectl(dc, ['-n', namespace, 'exec', 'consul-server-0', '-c', 'consul', '--', '/bin/sh', '-c', 'echo "$CONSUL_HTTP_ADDR"'])
      assert.equal(addr.stdout.trim(), env.consul[dc].httpAddr)
    }
  })

  it('finds the Consul Helm chart', () => {
    const chart = parse(readFileSync(join(env.chartDir, 'Chart.yaml'), 'utf8')) as {name: string; version: string}
    assert.equal(chart.name, 'consul')
    assert.ok(chart.version, 'Chart.yaml has a version')
  })
})
