// src/kube/kubeconfig.ts and src/kube/library.ts: kubectl's merge of $KUBECONFIG files (the
// first file that sets a name wins, per map entry, so k3s's and kubeadm's shared "default" /
// "kubernetes-admin" names do not clash), and the single-context kubeconfig the client
// library gets (relative paths resolved against the file each entry came from).
import assert from 'node:assert/strict'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'

import {readKubeconfig, resolveContext} from '../../src/kube/kubeconfig.js'
import {libraryConfig, singleContextKubeconfig} from '../../src/kube/library.js'
import {isUserError} from '../../src/shared/errors.js'

/** A k3s-style kubeconfig: cluster, user and context all named "default". */
function k3s(server: string, extra: {context?: string; user?: Record<string, unknown>} = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': extra.context ?? 'default',
    clusters: [{name: 'default', cluster: {server, 'certificate-authority': 'ca.crt'}}],
    users: [{name: 'default', user: extra.user ?? {token: `token-for-${server}`}}],
    contexts: [{name: extra.context ?? 'default', context: {cluster: 'default', user: 'default', namespace: 'consul'}}],
  })
}

describe('kubeconfig merge (kubectl rules)', () => {
  let dir: string
  let first: string
  let second: string
  const saved = process.env.KUBECONFIG

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consulk8s-kubeconfig-'))
    await writeFile((first = join(dir, 'a.yaml')), k3s('https://10.0.0.1:6443', {context: 'east'}))
    await writeFile((second = join(dir, 'b.yaml')), k3s('https://10.0.0.2:6443', {context: 'west'}))
  })
  after(() => {
    if (saved === undefined) delete process.env.KUBECONFIG
    else process.env.KUBECONFIG = saved
  })

  it('merges files that share cluster and user names: the first file wins per name, contexts from both', () => {
    process.env.KUBECONFIG = [first, second].join(delimiter)
    const config = readKubeconfig()
    assert.deepEqual(config.paths, [first, second])
    assert.deepEqual(
      config.contexts.map((context) => context.name),
      ['east', 'west'],
    )
    assert.equal(config.currentContext, 'east')
    // Both contexts name cluster "default": kubectl resolves it to the first file's entry.
    assert.equal(resolveContext(config, 'west').server, 'https://10.0.0.1:6443')
    assert.equal(config.clusters.get('default')?.dir, dir)
  })

  it('skips missing files in $KUBECONFIG but not an explicit --kubeconfig', () => {
    process.env.KUBECONFIG = [join(dir, 'missing.yaml'), second].join(delimiter)
    assert.deepEqual(
      readKubeconfig().contexts.map((context) => context.name),
      ['west'],
    )
    assert.throws(
      () => readKubeconfig(join(dir, 'missing.yaml')),
      (error) => isUserError(error) && /Cannot read kubeconfig/.test(error.message),
    )
  })

  it('an unknown context names the available ones', () => {
    process.env.KUBECONFIG = [first, second].join(delimiter)
    assert.throws(
      () => resolveContext(readKubeconfig(), 'north'),
      (error) => isUserError(error) && /Unknown kube context "north"/.test(error.message) && /east, west/.test(error.hint ?? ''),
    )
  })

  it('gives the client library exactly one context, relative paths made absolute', async () => {
    process.env.KUBECONFIG = [first, second].join(delimiter)
    const config = readKubeconfig()
    const context = resolveContext(config, 'west')
    const single = singleContextKubeconfig(config, context)
    assert.equal(single['current-context'], 'west')
    assert.equal(single.clusters.length, 1)
    assert.equal(single.clusters[0].cluster['certificate-authority'], join(dir, 'ca.crt'))
    assert.equal(single.users.length, 1)
    // The library itself accepts it (its own loaders refuse "Duplicate cluster: default").
    const library = await libraryConfig(config, context)
    assert.equal(library.getCurrentContext(), 'west')
    assert.equal(library.getCurrentCluster()?.server, 'https://10.0.0.1:6443')
  })

  it('resolves a relative exec command path against its file, and leaves a bare command name for PATH', async () => {
    const execFile = join(dir, 'exec.yaml')
    await writeFile(
      execFile,
      k3s('https://10.0.0.3:6443', {
        context: 'exec',
        user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', args: ['x']}},
      }),
    )
    const config = readKubeconfig(execFile)
    const single = singleContextKubeconfig(config, resolveContext(config, 'exec'))
    assert.equal((single.users[0].user.exec as {command: string}).command, join(dir, 'bin/get-token'))

    const byName = join(dir, 'exec-name.yaml')
    await writeFile(
      byName,
      k3s('https://10.0.0.3:6443', {context: 'exec', user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: 'aws'}}}),
    )
    const named = readKubeconfig(byName)
    assert.equal((singleContextKubeconfig(named, resolveContext(named, 'exec')).users[0].user.exec as {command: string}).command, 'aws')
  })
})
