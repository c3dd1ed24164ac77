/**
 * Merged kubeconfigs work like kubectl's against the real API servers: KUBECONFIG=a:b whose
 * files both define a cluster and a user named "default" (k3s writes every cluster so; kubeadm
 * names every user "kubernetes-admin") used to fail every command with "Duplicate cluster".
 * Here dc1's file and dc2's file share those names; each context reaches its own cluster, in
 * the lean transport (client certificates) and in the client library's path (an exec
 * credential plugin handing out dc2's client certificate, which only the library runs).
 */
import assert from 'node:assert/strict'
import {chmod, mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {before, describe, it} from 'node:test'
import {parse, stringify} from 'yaml'

import {connectCluster} from '../../src/kube/client.js'
import {getTestEnv} from '../env/index.js'
import {runCli} from '../helpers/cli.js'

interface Raw {
  clusters: Array<{name: string; cluster: Record<string, unknown>}>
  users: Array<{name: string; user: Record<string, string>}>
  contexts: Array<{name: string; context: {cluster: string; user: string}}>
}

describe('merged kubeconfigs (KUBECONFIG=a:b with shared names)', () => {
  let files: string[]
  let env: ReturnType<typeof getTestEnv>

  before(async () => {
    env = getTestEnv()
    const raw = parse(await readFile(env.kubeconfig, 'utf8')) as Raw
    const dir = await mkdtemp(join(tmpdir(), 'consulk8s-merge-'))
    const entries = (dc: string) => {
      const context = raw.contexts.find((candidate) => candidate.name === dc)!
      return {
        cluster: raw.clusters.find((candidate) => candidate.name === context.context.cluster)!.cluster,
        user: raw.users.find((candidate) => candidate.name === context.context.user)!.user,
      }
    }
    const dc1 = entries('dc1')
    const dc2 = entries('dc2')
    // dc2's credentials come from a credential plugin: only the client library runs those.
    const plugin = join(dir, 'dc2-credentials.mjs')
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: {
        clientCertificateData: Buffer.from(dc2.user['client-certificate-data'], 'base64').toString('utf8'),
        clientKeyData: Buffer.from(dc2.user['client-key-data'], 'base64').toString('utf8'),
      },
    }
    await writeFile(plugin, `#!/usr/bin/env node\nprocess.stdout.write(${JSON.stringify(JSON.stringify(credential))})\n`)
    await chmod(plugin, 0o755)
    const file = (name: string, server: Record<string, unknown>, user: Record<string, unknown>, contextName: string, clusterName: string) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': contextName,
        clusters: [
          {name: clusterName, cluster: server},
          // The name every k3s file uses; the first file's entry wins, as in kubectl.
          {name: 'default', cluster: server},
        ],
        users: [{name: 'default', user}],
        contexts: [{name: contextName, context: {cluster: clusterName, user: name === 'a' ? 'default' : 'dc2-plugin'}}],
      })
    const a = join(dir, 'a.yaml')
    const b = join(dir, 'b.yaml')
    await writeFile(a, file('a', dc1.cluster, dc1.user, 'east', 'east'))
    const bConfig = parse(file('b', dc2.cluster, {}, 'west', 'west')) as Raw & {users: unknown[]}
    bConfig.users.push({
      name: 'dc2-plugin',
      user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: './dc2-credentials.mjs', interactiveMode: 'Never'}},
    })
    await writeFile(b, stringify(bConfig))
    files = [a, b]
  })

  it('reaches each cluster through its own context, lean transport and library path alike', async () => {
    const saved = process.env.KUBECONFIG
    process.env.KUBECONFIG = files.join(delimiter)
    try {
      for (const [context, dc] of [
        ['east', 'dc1'],
        ['west', 'dc2'],
      ] as const) {
        const cluster = await connectCluster({context})
        assert.equal(cluster.server, env.clusters[dc].server)
        const namespaces = await cluster.list<{metadata: {name: string}}>('list namespaces', {resource: 'namespaces'})
        assert.ok(namespaces.some((namespace) => namespace.metadata.name === 'kube-system'))
        cluster.close()
      }
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = saved
    }
  })

  it('the CLI works with both contexts of the merged files', async () => {
    for (const context of ['east', 'west']) {
      const result = await runCli(['inject', '--context', context, '-n', 'kube-system', '--dry-run'], {env: {KUBECONFIG: files.join(delimiter)}})
      assert.equal(result.exitCode, 0, result.stderr)
      assert.doesNotMatch(result.stderr, /Duplicate/)
    }
  })
})
