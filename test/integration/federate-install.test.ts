/**
 * `federate primary --install` and `federate secondary --install` against the real
 * environment: the whole journey from an empty namespace to installed releases in dc1 and
 * dc2 with consulk8s commands only (real helm, real chart, real API servers, real Consul for
 * the replication token). Hooks are skipped (--no-hooks): Jobs never complete without nodes.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {execa} from 'execa'
import {parse} from 'yaml'

import {consulClient, getTestEnv, type TestEnvState} from '../env/index.js'
import {runCli} from '../helpers/cli.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'

const suffix = randomBytes(3).toString('hex')
const RELEASE = `fi-${suffix}`
const NAMESPACE = `consulk8s-fedinst-${suffix}`

let env: TestEnvState
let dc1: TestCluster
let dc2: TestCluster
let dir: string
let proxyDefaultsBefore: Record<string, unknown> | undefined

async function helmRelease(context: string): Promise<{name: string; status: string; chart: string} | undefined> {
  const result = await execa(env.bin.helm, [
    'list',
    '--all',
    '-o',
    'json',
    '-n',
    NAMESPACE,
    '--kube-context',
    context,
    '--kubeconfig',
    env.kubeconfig,
  ])
  return (JSON.parse(result.stdout) as Array<{name: string; status: string; chart: string}>).find((release) => release.name === RELEASE)
}

function common(context: string): string[] {
  return ['--kubeconfig', env.kubeconfig, '--context', context, '-n', NAMESPACE, '--release', RELEASE, '--chart', env.chartDir, '--no-hooks', '--yes']
}

before(async () => {
  env = getTestEnv()
  dc1 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
  dc2 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc2'})
  for (const cluster of [dc1, dc2]) await cluster.core().createNamespace({body: {metadata: {name: NAMESPACE}}})
  dir = await mkdtemp(join(tmpdir(), 'consulk8s-fedinst-'))
  const client = consulClient('dc1')
  proxyDefaultsBefore = await client.get<Record<string, unknown>>('/v1/config/proxy-defaults/global').catch(() => undefined)
  client.close()
})

after(async () => {
  // federate primary --consul-http-addr writes proxy-defaults/global into the environment's Consul.
  const client = consulClient('dc1')
  if (proxyDefaultsBefore) await client.put('/v1/config', proxyDefaultsBefore).catch(() => undefined)
  else await client.delete('/v1/config/proxy-defaults/global').catch(() => undefined)
  client.close()
  for (const context of ['dc1', 'dc2']) {
    await execa(env.bin.helm, ['uninstall', RELEASE, '-n', NAMESPACE, '--no-hooks', '--kube-context', context, '--kubeconfig', env.kubeconfig], {
      reject: false,
    })
  }
  for (const cluster of [dc1, dc2])
    await cluster
      .core()
      .deleteNamespace({name: NAMESPACE})
      .catch(() => undefined)
  await rm(dir, {recursive: true, force: true})
})

describe('federate --install: from empty namespaces to two installed releases', () => {
  it('federate primary --install writes the material and installs the primary release with it', async () => {
    const valuesFile = join(dir, 'primary-values.yaml')
    const result = await runCli(
      [
        'federate',
        'primary',
        ...common('dc1'),
        '--datacenter',
        'dc1',
        '--values-file',
        valuesFile,
        '--install',
        '--primary-gateway',
        '127.0.0.1:8443',
        '--consul-http-addr',
        env.consul.dc1.httpAddr,
        '--consul-token',
        env.federation.managementToken,
        '--consul-cacert',
        env.federation.caCertFile,
      ],
      {env: {CONSULK8S_HELM: env.bin.helm}},
    )
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    const release = await helmRelease('dc1')
    assert.equal(release?.status, 'deployed', 'the primary release is deployed')
    // The release runs with the values federate wrote: its servers mount consulk8s's CA secret.
    const values = parse(await readFile(valuesFile, 'utf8')) as {global: {tls: {caCert: {secretName: string}}; acls: Record<string, unknown>}}
    // The install preflight accepted the pre-generated replication token of a primary.
    assert.deepEqual(values.global.acls.replicationToken, {secretName: `${RELEASE}-acl-replication-acl-token`, secretKey: 'token'})
    const statefulSet = await dc1.apps().readNamespacedStatefulSet({name: `${RELEASE}-server`, namespace: NAMESPACE})
    const secretVolumes = (statefulSet.spec?.template.spec?.volumes ?? []).map((volume) => volume.secret?.secretName).filter(Boolean)
    assert.ok(
      secretVolumes.includes(values.global.tls.caCert.secretName),
      `server mounts ${values.global.tls.caCert.secretName}: ${secretVolumes.join(', ')}`,
    )
    const federation = await dc1.core().readNamespacedSecret({name: `${RELEASE}-federation`, namespace: NAMESPACE})
    assert.deepEqual(Object.keys(federation.data ?? {}).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
  })

  it('federate secondary --install imports the secret into dc2 and installs the secondary release', async () => {
    const valuesFile = join(dir, 'secondary-values.yaml')
    const result = await runCli(
      ['federate', 'secondary', ...common('dc2'), '--primary-context', 'dc1', '--datacenter', 'dc2', '--values-file', valuesFile, '--install'],
      {env: {CONSULK8S_HELM: env.bin.helm}},
    )
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.equal((await helmRelease('dc2'))?.status, 'deployed', 'the secondary release is deployed')
    const values = parse(await readFile(valuesFile, 'utf8')) as {global: {datacenter: string; federation: {primaryDatacenter: string}}}
    assert.equal(values.global.datacenter, 'dc2')
    assert.equal(values.global.federation.primaryDatacenter, 'dc1')
    // The install brought the ProxyDefaults CRD, so the custom resource is tried right away; its
    // admission webhook (connect-inject) never runs here (no kubelet), which is reported, not fatal.
    const crd = await execa(
      env.bin.kubectl,
      ['--kubeconfig', env.kubeconfig, '--context', 'dc2', 'get', 'crd', 'proxydefaults.consul.hashicorp.com'],
      {reject: false},
    )
    assert.equal(crd.exitCode, 0, 'the install brought the CRD')
    assert.match(result.stdout, /! proxy-defaults global: not written yet — consul-k8s's webhook for ProxyDefaults does not answer yet/)
    const imported = await dc2.core().readNamespacedSecret({name: `${RELEASE}-federation`, namespace: NAMESPACE})
    const original = await dc1.core().readNamespacedSecret({name: `${RELEASE}-federation`, namespace: NAMESPACE})
    assert.deepEqual(imported.data, original.data, 'dc2 holds the same federation secret as dc1')
  })

  it('refuses --install together with --output-dir, writing nothing', async () => {
    const out = join(dir, 'offline')
    const result = await runCli(['federate', 'primary', '--output-dir', out, '--install', '--yes'])
    assert.notEqual(result.exitCode, 0)
    assert.match(result.stderr, /--install needs a cluster/)
    await assert.rejects(readFile(join(out, 'values.yaml'), 'utf8'), /ENOENT/)
  })
})
