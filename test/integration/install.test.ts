/**
 * The install lifecycle against the real test environment: the real helm binary, the real
 * Consul chart (TestEnvState.chartDir) and the real kube-apiservers. There are no nodes, so
 * pods never run: the assertions are on the objects helm creates and on what consulk8s says.
 * Values are kept light (no hook Jobs, no webhooks) because Jobs never complete here.
 *
 * Everything this file creates has its own names (release/prefix and namespaces with a random
 * suffix: namespaces may never finish terminating without a controller manager) and is
 * removed at the end.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {execa} from 'execa'
import {parse, stringify} from 'yaml'

import {getTestEnv, type TestEnvState} from '../env/index.js'
import {runCli, type CliResult} from '../helpers/cli.js'
import {isConflict, isNotFound} from '../../src/kube/client.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'
import {createCA} from '../../src/federation/crypto.js'

const suffix = randomBytes(3).toString('hex')
const RELEASE = `ikt-${suffix}`
const NAMESPACE = `consulk8s-install-${suffix}`
const NAMESPACE_DC2 = `consulk8s-install-dc2-${suffix}`
const NAMESPACE_OTHER = `consulk8s-install-b-${suffix}`
const RELEASE_CR = `ikc-${suffix}`
const NAMESPACE_CR = `consulk8s-install-cr-${suffix}`

let env: TestEnvState
let dc1: TestCluster
let dc2: TestCluster
let dir: string
let valuesFile: string

function lightValues(replicas: number): Record<string, unknown> {
  return {
    global: {name: RELEASE, datacenter: 'dc1'},
    server: {replicas},
    connectInject: {enabled: false},
  }
}

/** consulk8s with the test kubeconfig, helm and chart. */
function cli(args: string[], options: {env?: Record<string, string | undefined>} = {}): Promise<CliResult> {
  return runCli([...args], {env: {CONSULK8S_HELM: env.bin.helm, ...options.env}})
}

function target(context = 'dc1', namespace = NAMESPACE): string[] {
  return ['--kubeconfig', env.kubeconfig, '--context', context, '-n', namespace, '--release', RELEASE]
}

async function helmReleases(context: string, namespace: string): Promise<Array<{name: string; revision: string; status: string}>> {
  const result = await execa(env.bin.helm, [
    'list',
    '--all',
    '-o',
    'json',
    '-n',
    namespace,
    '--kube-context',
    context,
    '--kubeconfig',
    env.kubeconfig,
  ])
  return JSON.parse(result.stdout) as Array<{name: string; revision: string; status: string}>
}

async function namespaceExists(cluster: TestCluster, name: string): Promise<boolean> {
  try {
    await cluster.core().readNamespace({name})
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

async function statefulSet(name: string) {
  try {
    return await dc1.apps().readNamespacedStatefulSet({name, namespace: NAMESPACE})
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

async function secretExists(cluster: TestCluster, namespace: string, name: string): Promise<boolean> {
  try {
    await cluster.core().readNamespacedSecret({name, namespace})
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

async function createSecret(cluster: TestCluster, namespace: string, name: string, labels: Record<string, string>, data: Record<string, string>) {
  const encoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]))
  await cluster.core().createNamespacedSecret({namespace, body: {metadata: {name, labels}, data: encoded}})
}

/** Nothing of this file's release exists in dc1 (used after every refused command). */
async function assertNothingInstalled(): Promise<void> {
  assert.deepEqual(await helmReleases('dc1', NAMESPACE), [])
  assert.equal(await namespaceExists(dc1, NAMESPACE), false, `namespace ${NAMESPACE} must not have been created`)
}

function expectFailure(result: CliResult, pattern: RegExp): void {
  assert.notEqual(result.exitCode, 0, `expected a failure, got exit 0\n${result.stdout}\n${result.stderr}`)
  assert.match(result.stderr, pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace')
}

before(async () => {
  env = getTestEnv()
  dc1 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
  dc2 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc2'})
  dir = await mkdtemp(join(tmpdir(), 'consulk8s-install-it-'))
  valuesFile = join(dir, 'values.yaml')
  await writeFile(valuesFile, stringify(lightValues(1)))
})

after(async () => {
  for (const [context, namespace, release] of [
    ['dc1', NAMESPACE, RELEASE],
    ['dc2', NAMESPACE_DC2, RELEASE],
    ['dc1', NAMESPACE_OTHER, RELEASE],
    ['dc2', NAMESPACE_CR, RELEASE_CR],
  ]) {
    await execa(env.bin.helm, ['uninstall', release, '-n', namespace, '--no-hooks', '--kube-context', context, '--kubeconfig', env.kubeconfig], {
      reject: false,
    })
  }
  for (const [cluster, namespace] of [
    [dc1, NAMESPACE],
    [dc2, NAMESPACE_DC2],
    [dc1, NAMESPACE_OTHER],
    [dc2, NAMESPACE_CR],
  ] as const) {
    await cluster
      .core()
      .deleteNamespace({name: namespace})
      .catch(() => undefined)
  }
  await rm(dir, {recursive: true, force: true})
})

describe('consulk8s install: refusals change nothing', () => {
  it('reports a missing helm binary', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes', '--helm-binary', join(dir, 'no-such-helm')])
    expectFailure(result, /helm was not found: cannot run ".*no-such-helm"/)
    assert.match(result.stderr, /--helm-binary or CONSULK8S_HELM/)
    await assertNothingInstalled()
  })

  it('reports a wrong chart path', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', join(dir, 'no-chart'), '--yes'])
    expectFailure(result, /No chart at .*no-chart: the path does not exist/)
    await assertNothingInstalled()
  })

  it('reports a values file with a YAML error, with its line', async () => {
    const broken = join(dir, 'broken.yaml')
    await writeFile(broken, 'global:\n  datacenter: dc1\n  tls:\n    enabled: true\n   acls: {\n')
    const result = await cli(['install', ...target(), '-f', broken, '--chart', env.chartDir, '--yes'])
    expectFailure(result, /Values file .*broken\.yaml:\d+:\d+ is not valid YAML/)
    await assertNothingInstalled()
  })

  it('reports an unreachable cluster', async () => {
    const kubeconfig = parse(await readFile(env.kubeconfig, 'utf8')) as {clusters: Array<{cluster: {server: string}}>}
    for (const cluster of kubeconfig.clusters) cluster.cluster.server = 'https://127.0.0.1:1'
    const unreachable = join(dir, 'unreachable.kubeconfig')
    await writeFile(unreachable, stringify(kubeconfig), {mode: 0o600})
    const result = await cli([
      'install',
      '--kubeconfig',
      unreachable,
      '--context',
      'dc1',
      '-n',
      NAMESPACE,
      '--release',
      RELEASE,
      '-f',
      valuesFile,
      '--chart',
      env.chartDir,
      '--yes',
    ])
    expectFailure(result, /Cannot reach the Kubernetes API of context "dc1" \(https:\/\/127\.0\.0\.1:1\)/)
    await assertNothingInstalled()
  })

  it('refuses to install without --yes when nobody can confirm', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir])
    expectFailure(result, /Refusing to continue without confirmation/)
    assert.match(result.stdout, /Install summary/)
    assert.match(result.stdout, /Datacenter\s+dc1/)
    await assertNothingInstalled()
  })

  it('renders the manifest with --dry-run -o yaml and changes nothing', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--dry-run', '-o', 'yaml'])
    assert.equal(result.exitCode, 0, result.stderr)
    const kinds = result.stdout.split(/^---$/m).map((document) => parse(document) as {kind?: string; metadata?: {name?: string}} | null)
    assert.ok(
      kinds.some((object) => object?.kind === 'StatefulSet' && object.metadata?.name === `${RELEASE}-server`),
      'the manifest has the server StatefulSet',
    )
    assert.match(result.stderr, /Dry run: the chart renders \d+ objects; nothing was changed/)
    await assertNothingInstalled()
  })
})

describe('consulk8s install, status, upgrade, uninstall', () => {
  it('installs the release and its objects (--no-wait)', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes', '--no-wait'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, /Namespace\s+consulk8s-install-\w+ \(will be created\)/)
    assert.match(result.stdout, /✓ No other Consul release, no leftover PersistentVolumeClaims or secrets/)
    assert.match(result.stdout, new RegExp(`Installed release ${RELEASE} in namespace ${NAMESPACE} of context "dc1": revision 1, deployed`))
    assert.match(result.stdout, /Not waiting for the pods/)
    const [release] = await helmReleases('dc1', NAMESPACE)
    assert.equal(release.name, RELEASE)
    assert.equal(release.status, 'deployed')
    const server = await statefulSet(`${RELEASE}-server`)
    assert.equal(server?.spec?.replicas, 1)
    await dc1.core().readNamespacedService({name: `${RELEASE}-server`, namespace: NAMESPACE})
  })

  it('refuses a second install and points to upgrade', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes'])
    expectFailure(result, new RegExp(`Release ${RELEASE} already exists in namespace ${NAMESPACE} of context "dc1" \\(revision 1, deployed`))
    assert.match(result.stderr, /consulk8s upgrade/)
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].revision, '1')
  })

  it('refuses another Consul release in the cluster; --force goes on, saying what may break', async () => {
    const other = `${RELEASE}-b`
    const args = [
      'install',
      '--kubeconfig',
      env.kubeconfig,
      '--context',
      'dc1',
      '-n',
      NAMESPACE_OTHER,
      '--release',
      other,
      '--set',
      `global.name=${other}`,
      '--set',
      'connectInject.enabled=false',
      '--chart',
      env.chartDir,
      '--yes',
    ]
    const refused = await cli(args)
    expectFailure(refused, new RegExp(`another Consul release in this cluster: ${RELEASE} in namespace ${NAMESPACE} \\(deployed, chart consul-`))
    assert.match(refused.stderr, new RegExp(`consulk8s uninstall --context dc1 -n ${NAMESPACE} --release ${RELEASE}`))
    assert.match(refused.stderr, /--force/)
    assert.deepEqual(await helmReleases('dc1', NAMESPACE_OTHER), [])
    const forced = await cli([...args, '--force', '--dry-run'])
    assert.equal(forced.exitCode, 0, `${forced.stdout}\n${forced.stderr}`)
    assert.match(
      forced.stdout,
      new RegExp(
        `! --force: going on despite another Consul release in this cluster: ${RELEASE} in namespace ${NAMESPACE}.*What may break: two Consul installs in one cluster share`,
      ),
    )
    assert.match(forced.stdout, /Dry run: the chart renders \d+ objects/)
    assert.deepEqual(await helmReleases('dc1', NAMESPACE_OTHER), [])
  })

  it('status finds the release without -n: versions, values, workloads with images, federation secret checked key by key', async () => {
    const chartYaml = parse(await readFile(join(env.chartDir, 'Chart.yaml'), 'utf8')) as {version: string; appVersion: string}
    const located = ['--kubeconfig', env.kubeconfig, '--context', 'dc1', '--release', RELEASE]
    let result = await cli(['status', ...located, '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    let report = JSON.parse(result.stdout)
    assert.equal(report.found, true)
    assert.equal(report.namespace, NAMESPACE)
    assert.equal(report.status, 'deployed')
    assert.equal(report.revision, 1)
    assert.equal(report.chartVersion, chartYaml.version)
    assert.equal(report.appVersion, chartYaml.appVersion)
    assert.equal(report.values.datacenter, 'dc1')
    assert.equal(report.values.tls, false)
    const server = report.workloads.find((workload: {name: string}) => workload.name === `${RELEASE}-server`)
    assert.deepEqual({kind: server.kind, desired: server.desired, ready: server.ready}, {kind: 'StatefulSet', desired: 1, ready: 0})
    assert.match(server.images[0], /consul/)
    assert.equal(report.federationSecret.present, false)
    assert.equal(typeof report.proxyDefaults.crd, 'boolean', 'the ProxyDefaults state is reported')
    assert.equal(report.healthy, false)

    // A federation secret with a real CA: every key is checked, no value is printed.
    const ca = await createCA()
    await createSecret(
      dc1,
      NAMESPACE,
      `${RELEASE}-federation`,
      {'app.kubernetes.io/managed-by': 'consulk8s', 'managed-by': 'consul-k8s'},
      {
        caCert: ca.certPem,
        caKey: ca.keyPem,
        serverConfigJSON: '{"primary_datacenter":"dc1","primary_gateways":["10.0.0.1:443"]}',
      },
    )
    result = await cli(['status', ...located])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(
      result.stdout,
      new RegExp(
        `Release ${RELEASE}\\s+deployed\\s+chart consul-${chartYaml.version.replaceAll('.', '\\.')} \\(app ${chartYaml.appVersion.replaceAll('.', '\\.')}\\), revision 1, namespace ${NAMESPACE}`,
      ),
    )
    assert.match(result.stdout, /Values\s+datacenter dc1\s+TLS off, ACLs off, gossip off, mesh gateway off, federation off/)
    assert.match(result.stdout, new RegExp(`! +StatefulSet ${RELEASE}-server +0/1 ready +\\S*consul\\S*`))
    assert.match(
      result.stdout,
      new RegExp(`✓ +Federation secret +valid +${RELEASE}-federation \\(caCert, caKey, serverConfigJSON\\): primary dc1, 1 gateway\\(s\\)`),
    )
    assert.equal(result.stdout.includes(ca.keyPem.split('\n')[1]), false, 'no key material printed')
    report = JSON.parse((await cli(['status', ...located, '--json'])).stdout)
    assert.equal(report.federationSecret.valid, true)
    assert.deepEqual(report.federationSecret.missing, [])
  })

  it('config read prints the effective values without -n', async () => {
    const result = await cli(['config', 'read', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--release', RELEASE])
    assert.equal(result.exitCode, 0, result.stderr)
    const values = parse(result.stdout) as {global: {name: string; datacenter: string}; server: {replicas: number; storage: string}}
    assert.equal(values.global.name, RELEASE)
    assert.equal(values.server.replicas, 1)
    assert.equal(values.server.storage, '10Gi', "the chart's defaults are included (--all)")
    assert.match(result.stderr, new RegExp(`Release ${RELEASE} in namespace ${NAMESPACE} of context "dc1": deployed, revision 1`))
  })

  it('shows the diff of an upgrade; --dry-run changes nothing', async () => {
    await writeFile(valuesFile, stringify({...lightValues(3), ui: {enabled: false}}))
    const result = await cli(['upgrade', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--dry-run'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /~ server\.replicas: 1 -> 3/)
    assert.match(result.stdout, /\+ ui\.enabled: false/)
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].revision, '1')
    assert.equal((await statefulSet(`${RELEASE}-server`))?.spec?.replicas, 1)
  })

  it('refuses to change the datacenter of a running release without --allow-rotation', async () => {
    const result = await cli(['upgrade', ...target(), '--reuse-values', '--set', 'global.datacenter=dc9', '--chart', env.chartDir, '--yes'])
    expectFailure(result, /This upgrade changes global\.datacenter/)
    assert.match(result.stderr, /--allow-rotation/)
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].revision, '1')
  })

  it('upgrades: the diff, then the changed objects', async () => {
    const result = await cli(['upgrade', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes', '--no-wait', '--json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const upgraded = JSON.parse(result.stdout)
    assert.equal(upgraded.action, 'upgrade')
    assert.equal(upgraded.revision, 2)
    assert.deepEqual(
      upgraded.changes.map((change: {path: string}) => change.path),
      ['server.replicas', 'ui.enabled'],
    )
    assert.equal((await statefulSet(`${RELEASE}-server`))?.spec?.replicas, 3)
    const [release] = await helmReleases('dc1', NAMESPACE)
    assert.equal(release.revision, '2')
    assert.equal(release.status, 'deployed')
  })

  it('says there is nothing to do when nothing changes', async () => {
    const result = await cli(['upgrade', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /\(no changes to the user values\)/)
    assert.match(result.stdout, /nothing to do/)
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].revision, '2')
  })

  it('waits by default, saying which pods are not ready and why, and fails at the timeout', async () => {
    // No scheduler here: the pods stay Pending, unscheduled.
    const result = await cli([
      'upgrade',
      ...target(),
      '--reuse-values',
      '--set',
      'server.replicas=2',
      '--chart',
      env.chartDir,
      '--yes',
      '--timeout',
      '4s',
    ])
    expectFailure(result, new RegExp(`Timed out after 4s still waiting for StatefulSet ${RELEASE}-server \\(0/2 ready\\)`))
    assert.match(result.stdout, new RegExp(`Waiting for StatefulSet ${RELEASE}-server \\(0/2 ready\\)`))
    assert.match(result.stderr, /Not ready:/)
    assert.match(result.stderr, new RegExp(`pod ${RELEASE}-server-0 Pending: not scheduled to a node yet`))
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].revision, '3')
  })

  it('asks before uninstalling and refuses without an answer', async () => {
    const result = await cli(['uninstall', ...target()])
    expectFailure(result, /Refusing to continue without confirmation/)
    assert.equal((await helmReleases('dc1', NAMESPACE)).length, 1)
  })

  const claimName = `data-${NAMESPACE}-${RELEASE}-server-0`

  async function leaveClaimAndTokens(): Promise<void> {
    // With a controller manager the StatefulSet has made this claim already (with these labels).
    await dc1
      .core()
      .createNamespacedPersistentVolumeClaim({
        namespace: NAMESPACE,
        body: {
          metadata: {name: claimName, labels: {app: 'consul', release: RELEASE, component: 'server'}},
          spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}},
        },
      })
      .catch((error: unknown) => {
        if (!isConflict(error)) throw error
      })
    // What server-acl-init writes (label managed-by=consul-k8s), and a token secret without it.
    await createSecret(dc1, NAMESPACE, `${RELEASE}-bootstrap-acl-token`, {'managed-by': 'consul-k8s'}, {token: 't'}).catch((error: unknown) => {
      if (!isConflict(error)) throw error
    })
    await createSecret(dc1, NAMESPACE, `${RELEASE}-client-acl-token`, {}, {token: 't'}).catch((error: unknown) => {
      if (!isConflict(error)) throw error
    })
  }

  it('a plain uninstall keeps the data; the next install refuses it with the command that clears it; --force goes on', async () => {
    await leaveClaimAndTokens()
    let result = await cli(['uninstall', ...target(), '--yes'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, /keeps the PersistentVolumeClaims and secrets \(pass --wipe-data/)
    assert.deepEqual(await helmReleases('dc1', NAMESPACE), [])
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-bootstrap-acl-token`), true)

    await writeFile(valuesFile, stringify(lightValues(1)))
    const args = ['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes', '--no-wait']
    result = await cli(args)
    expectFailure(result, new RegExp(`PersistentVolumeClaims of a previous release: ${claimName}`))
    assert.match(result.stderr, new RegExp(`secrets of a previous Consul install: ${RELEASE}-bootstrap-acl-token, ${RELEASE}-client-acl-token`))
    assert.match(result.stderr, new RegExp(`consulk8s uninstall --context dc1 -n ${NAMESPACE} --release ${RELEASE} --wipe-data`))
    assert.match(result.stderr, new RegExp(`kubectl delete secret -n ${NAMESPACE} ${RELEASE}-bootstrap-acl-token ${RELEASE}-client-acl-token`))
    assert.deepEqual(await helmReleases('dc1', NAMESPACE), [])

    result = await cli([...args, '--force'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(
      result.stdout,
      /! --force: going on despite PersistentVolumeClaims of a previous release.*What may break: the new servers start on the old data/,
    )
    assert.match(result.stdout, /! --force: going on despite secrets of a previous Consul install.*What may break: a stale bootstrap/)
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].status, 'deployed')
  })

  it('uninstalls with --wipe-data: release, PVCs and every secret of the install go, federation material stays', async () => {
    await leaveClaimAndTokens()
    await createSecret(dc1, NAMESPACE, `${RELEASE}-gossip-encryption-key`, {'app.kubernetes.io/managed-by': 'consulk8s'}, {key: 'k'})
    await createSecret(dc1, NAMESPACE, `${RELEASE}-extra`, {'app.kubernetes.io/managed-by': 'consulk8s'}, {token: 't'})
    await createSecret(dc1, NAMESPACE, `${RELEASE}-server-cert`, {'managed-by': 'consul-k8s'}, {'tls.crt': 'c'})
    await createSecret(dc1, NAMESPACE, 'by-hand', {}, {x: 'y'})

    const result = await cli(['uninstall', ...target(), '--wipe-data', '--yes'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    // The plan, before the confirmation, lists every secret with who made it.
    const plan = result.stdout.slice(result.stdout.indexOf('Uninstall plan'))
    assert.match(plan, new RegExp(`- Secret ${RELEASE}-bootstrap-acl-token \\(made by the chart's jobs\\)`))
    assert.match(plan, new RegExp(`- Secret ${RELEASE}-client-acl-token \\(ACL token of the release\\)`))
    assert.match(plan, new RegExp(`- Secret ${RELEASE}-extra \\(created by consulk8s\\)`))
    assert.match(result.stdout, new RegExp(`Removed release ${RELEASE}`))
    assert.match(result.stdout, new RegExp(`Deleted Secret ${RELEASE}-server-cert \\(made by the chart's jobs\\)`))
    assert.match(result.stdout, new RegExp(`Kept Secret ${RELEASE}-federation: federation secret`))
    assert.match(result.stdout, new RegExp(`Kept Secret ${RELEASE}-gossip-encryption-key: federation secret, CA or gossip key`))
    assert.doesNotMatch(result.stdout, /by-hand/)

    assert.deepEqual(await helmReleases('dc1', NAMESPACE), [])
    assert.equal(await statefulSet(`${RELEASE}-server`), undefined)
    for (const gone of ['extra', 'bootstrap-acl-token', 'client-acl-token', 'server-cert']) {
      assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-${gone}`), false, `${RELEASE}-${gone} deleted`)
    }
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-federation`), true)
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-gossip-encryption-key`), true)
    assert.equal(await secretExists(dc1, NAMESPACE, 'by-hand'), true)
    // No secret of the chart's jobs is left but the federation secret.
    const chartSecrets = await dc1.core().listNamespacedSecret({namespace: NAMESPACE, labelSelector: 'managed-by=consul-k8s'})
    assert.deepEqual(
      chartSecrets.items.map((secret) => secret.metadata?.name),
      [`${RELEASE}-federation`],
    )
    // The claim is deleted (kept as Terminating while the pvc-protection finalizer holds it).
    const pvcs = await dc1.core().listNamespacedPersistentVolumeClaim({namespace: NAMESPACE})
    for (const pvc of pvcs.items) assert.ok(pvc.metadata?.deletionTimestamp, `PVC ${pvc.metadata?.name} is being deleted`)
  })

  it('after --wipe-data a new install passes the preflight', async () => {
    let result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes', '--no-wait'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, /✓ No other Consul release, no leftover PersistentVolumeClaims or secrets/)
    assert.doesNotMatch(result.stdout, /--force/)
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].status, 'deployed')
    result = await cli(['uninstall', ...target(), '--yes'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
  })

  it('says so when there is nothing to uninstall', async () => {
    const result = await cli(['uninstall', ...target(), '--yes'])
    expectFailure(result, new RegExp(`There is no release ${RELEASE} in namespace ${NAMESPACE}`))
    const status = await cli(['status', ...target()])
    expectFailure(status, new RegExp(`There is no release ${RELEASE}`))
    const anywhere = await cli(['status', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--release', RELEASE])
    expectFailure(anywhere, new RegExp(`There is no Consul release named ${RELEASE} in any namespace of context "dc1"`))
  })
})

describe('consulk8s install of a secondary', () => {
  const secondaryValues = () => ({
    global: {
      name: RELEASE,
      datacenter: 'dc2',
      tls: {
        enabled: true,
        caCert: {secretName: `${RELEASE}-federation`, secretKey: 'caCert'},
        caKey: {secretName: `${RELEASE}-federation`, secretKey: 'caKey'},
      },
      federation: {enabled: true, primaryDatacenter: 'dc1'},
      gossipEncryption: {secretName: `${RELEASE}-federation`, secretKey: 'gossipEncryptionKey'},
    },
    // The chart's mesh gateway needs connect injection; this file only renders it (--dry-run).
    connectInject: {enabled: true},
    meshGateway: {enabled: true},
    server: {extraVolumes: [{type: 'secret', name: `${RELEASE}-federation`, load: true, items: [{key: 'serverConfigJSON', path: 'config.json'}]}]},
  })

  it('refuses while the federation secret is missing or incomplete, changing nothing', async () => {
    const values = join(dir, 'dc2-values.yaml')
    await writeFile(values, stringify(secondaryValues()))
    const args = ['install', ...target('dc2', NAMESPACE_DC2), '-f', values, '--chart', env.chartDir, '--yes']
    let result = await cli(args)
    expectFailure(result, new RegExp(`lacks what the values need: secret ${RELEASE}-federation does not exist`))
    assert.match(result.stderr, /the primary's federation secret, complete/)

    await dc2.core().createNamespace({body: {metadata: {name: NAMESPACE_DC2}}})
    await createSecret(
      dc2,
      NAMESPACE_DC2,
      `${RELEASE}-federation`,
      {'app.kubernetes.io/managed-by': 'consulk8s'},
      {
        caCert: 'cert',
        serverConfigJSON: '{}',
      },
    )
    result = await cli(args)
    expectFailure(result, new RegExp(`secret ${RELEASE}-federation lacks caKey, gossipEncryptionKey`))
    assert.deepEqual(await helmReleases('dc2', NAMESPACE_DC2), [])
  })

  it('passes the preflight with a complete federation secret and renders the secondary', async () => {
    await dc2
      .core()
      .deleteNamespacedSecret({name: `${RELEASE}-federation`, namespace: NAMESPACE_DC2})
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error
      })
    await createSecret(
      dc2,
      NAMESPACE_DC2,
      `${RELEASE}-federation`,
      {'app.kubernetes.io/managed-by': 'consulk8s'},
      {
        caCert: 'cert',
        caKey: 'key',
        serverConfigJSON: '{"primary_datacenter":"dc1","primary_gateways":["10.0.0.1:443"]}',
        gossipEncryptionKey: 'k',
      },
    )
    const result = await cli([
      'install',
      ...target('dc2', NAMESPACE_DC2),
      '-f',
      join(dir, 'dc2-values.yaml'),
      '--chart',
      env.chartDir,
      '--dry-run',
      '--json',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const planned = JSON.parse(result.stdout)
    assert.equal(planned.dryRun, true)
    assert.equal(planned.summary.federation, 'secondary')
    assert.equal(planned.summary.primaryDatacenter, 'dc1')
    assert.ok(
      planned.objects.some((object: {kind: string; name: string}) => object.kind === 'Deployment' && object.name === `${RELEASE}-mesh-gateway`),
    )
    assert.deepEqual(await helmReleases('dc2', NAMESPACE_DC2), [])
  })
})

describe('consulk8s uninstall of a release with Consul custom resources', () => {
  const args = () => ['--kubeconfig', env.kubeconfig, '--context', 'dc2', '-n', NAMESPACE_CR, '--release', RELEASE_CR]
  const crd = (plural: string) => ({group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', name: `${plural}.consul.hashicorp.com`})
  const cr = (plural: string, name: string) => ({group: 'consul.hashicorp.com', version: 'v1alpha1', resource: plural, namespace: NAMESPACE_CR, name})

  it('installs the chart with connect injection: its CRDs come with it', async () => {
    // connectInject brings the CRDs; its hook Jobs never complete here, so --no-hooks.
    const values = join(dir, 'cr-values.yaml')
    await writeFile(
      values,
      stringify({
        global: {name: RELEASE_CR, datacenter: 'dc2'},
        connectInject: {enabled: true},
        server: {extraConfig: '{"log_level":"INFO","encrypt":"c2VjcmV0LWdvc3NpcC1rZXk="}'},
      }),
    )
    const result = await cli(['install', ...args(), '-f', values, '--chart', env.chartDir, '--yes', '--no-wait', '--no-hooks'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    const proxyDefaultsCrd = await dc2.get<{metadata: {labels: Record<string, string>}}>('read CRD', crd('proxydefaults'))
    assert.equal(proxyDefaultsCrd.metadata.labels.release, RELEASE_CR)
    // No injector runs here: its admission webhooks (failurePolicy Fail) would refuse every
    // write of a Consul custom resource. A running injector accepts them.
    for (const resource of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) {
      await dc2.remove('delete webhook', {group: 'admissionregistration.k8s.io', resource, name: `${RELEASE_CR}-connect-injector`})
    }
  })

  it('status shows the ProxyDefaults "global" and config read hides the gossip key in extraConfig', async () => {
    // What a federation sets up: ProxyDefaults global with the controller's finalizer, which
    // stays because no controller runs here; and a ServiceDefaults without one.
    await eventuallyCreate(() =>
      dc2.create(
        'create ProxyDefaults',
        {...cr('proxydefaults', 'global'), name: undefined},
        {
          apiVersion: 'consul.hashicorp.com/v1alpha1',
          kind: 'ProxyDefaults',
          metadata: {name: 'global', namespace: NAMESPACE_CR, finalizers: ['finalizers.consul.hashicorp.com']},
          spec: {meshGateway: {mode: 'local'}},
        },
      ),
    )
    await eventuallyCreate(() =>
      dc2.create(
        'create ServiceDefaults',
        {...cr('servicedefaults', 'web'), name: undefined},
        {
          apiVersion: 'consul.hashicorp.com/v1alpha1',
          kind: 'ServiceDefaults',
          metadata: {name: 'web', namespace: NAMESPACE_CR},
          spec: {protocol: 'http'},
        },
      ),
    )
    const status = await cli(['status', '--kubeconfig', env.kubeconfig, '--context', 'dc2', '--release', RELEASE_CR])
    assert.equal(status.exitCode, 0, status.stderr)
    assert.match(status.stdout, new RegExp(`! +ProxyDefaults +Synced Unknown +${NAMESPACE_CR}/global, meshGateway\\.mode local`))

    const config = await cli(['config', 'read', '--kubeconfig', env.kubeconfig, '--context', 'dc2', '--release', RELEASE_CR, '-o', 'json'])
    assert.equal(config.exitCode, 0, config.stderr)
    const values = JSON.parse(config.stdout) as {server: {extraConfig: string}; connectInject: {enabled: boolean}}
    assert.deepEqual(JSON.parse(values.server.extraConfig), {log_level: 'INFO', encrypt: '(hidden)'})
    assert.equal(values.connectInject.enabled, true)
    assert.equal(config.stdout.includes('c2VjcmV0LWdvc3NpcC1rZXk='), false, 'the gossip key is not printed')
    assert.match(config.stderr, /1 secret value\(s\) hidden/)
  })

  it('deletes the custom resources before helm, clearing the finalizer the absent controller left', async () => {
    const result = await cli(['uninstall', ...args(), '--yes', '--no-hooks'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    const plan = result.stdout.slice(result.stdout.indexOf('Uninstall plan'))
    assert.match(plan, new RegExp(`- ProxyDefaults ${NAMESPACE_CR}/global \\(Consul custom resource, deleted before helm runs\\)`))
    assert.match(plan, new RegExp(`- ServiceDefaults ${NAMESPACE_CR}/web`))
    assert.match(result.stdout, new RegExp(`✓ Deleted ServiceDefaults ${NAMESPACE_CR}/web`))
    assert.match(
      result.stdout,
      new RegExp(`! Deleted ProxyDefaults ${NAMESPACE_CR}/global by clearing its finalizer finalizers\\.consul\\.hashicorp\\.com`),
    )
    assert.ok(
      result.stdout.indexOf('Deleted ProxyDefaults') < result.stdout.indexOf(`Removed release ${RELEASE_CR}`),
      'custom resources go before the release',
    )
    assert.equal(await dc2.getOptional('read ProxyDefaults', cr('proxydefaults', 'global')).catch(() => undefined), undefined)
    assert.deepEqual(await helmReleases('dc2', NAMESPACE_CR), [])
    // helm removed the CRDs; none hangs in deletion on a leftover resource.
    let left: {metadata: {deletionTimestamp?: string; finalizers?: string[]}} | undefined
    for (let attempt = 0; attempt < 60; attempt++) {
      left = await dc2.getOptional('read CRD', crd('proxydefaults'))
      if (!left) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    assert.equal(left, undefined, `proxydefaults CRD still there: ${JSON.stringify(left?.metadata)}`)
  })
})

/** A CRD just created takes a moment to be served: retry while the API answers 404. */
async function eventuallyCreate(create: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await create()
      return
    } catch (error) {
      if (attempt >= 60 || !/HTTP 404/.test(String((error as Error).message))) throw error
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
