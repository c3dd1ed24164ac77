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

const suffix = randomBytes(3).toString('hex')
const RELEASE = `ikt-${suffix}`
const NAMESPACE = `consulk8s-install-${suffix}`
const NAMESPACE_DC2 = `consulk8s-install-dc2-${suffix}`

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
  const result = await execa(env.bin.helm, ['list', '--all', '-o', 'json', '-n', namespace, '--kube-context', context, '--kubeconfig', env.kubeconfig])
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
  for (const [context, namespace] of [['dc1', NAMESPACE], ['dc2', NAMESPACE_DC2]]) {
    await execa(env.bin.helm, ['uninstall', RELEASE, '-n', namespace, '--no-hooks', '--kube-context', context, '--kubeconfig', env.kubeconfig], {reject: false})
  }
  for (const [cluster, namespace] of [[dc1, NAMESPACE], [dc2, NAMESPACE_DC2]] as const) {
    await cluster.core().deleteNamespace({name: namespace}).catch(() => undefined)
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
    const result = await cli(['install', '--kubeconfig', unreachable, '--context', 'dc1', '-n', NAMESPACE, '--release', RELEASE, '-f', valuesFile, '--chart', env.chartDir, '--yes'])
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
    assert.ok(kinds.some((object) => object?.kind === 'StatefulSet' && object.metadata?.name === `${RELEASE}-server`), 'the manifest has the server StatefulSet')
    assert.match(result.stderr, /Dry run: the chart renders \d+ objects; nothing was changed/)
    await assertNothingInstalled()
  })
})

describe('consulk8s install, status, upgrade, uninstall', () => {
  it('installs the release and its objects', async () => {
    const result = await cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, /Namespace\s+consulk8s-install-\w+ \(will be created\)/)
    assert.match(result.stdout, new RegExp(`Installed release ${RELEASE} in namespace ${NAMESPACE} of context "dc1": revision 1, deployed`))
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

  it('reports the release, the servers and the federation secret', async () => {
    const chartYaml = parse(await readFile(join(env.chartDir, 'Chart.yaml'), 'utf8')) as {version: string}
    let result = await cli(['status', ...target(), '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    let report = JSON.parse(result.stdout)
    assert.equal(report.found, true)
    assert.equal(report.status, 'deployed')
    assert.equal(report.revision, 1)
    assert.equal(report.chartVersion, chartYaml.version)
    assert.deepEqual(
      {name: report.servers.name, found: report.servers.found, desired: report.servers.desired, ready: report.servers.ready},
      {name: `${RELEASE}-server`, found: true, desired: 1, ready: 0},
    )
    assert.equal(report.meshGateway.enabled, false)
    assert.equal(report.federationSecret.present, false)
    assert.equal(report.healthy, false)

    await createSecret(dc1, NAMESPACE, `${RELEASE}-federation`, {'app.kubernetes.io/managed-by': 'consulk8s', 'managed-by': 'consul-k8s'}, {
      caCert: 'cert',
      caKey: 'key',
      serverConfigJSON: '{"primary_datacenter":"dc1","primary_gateways":["10.0.0.1:443"]}',
    })
    result = await cli(['status', ...target()])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`Release ${RELEASE}\\s+deployed\\s+chart consul-${chartYaml.version.replaceAll('.', '\\.')}`))
    assert.match(result.stdout, new RegExp(`! +Servers +0/1 ready +StatefulSet ${RELEASE}-server`))
    assert.match(result.stdout, new RegExp(`✓ +Federation secret +present +${RELEASE}-federation \\(caCert, caKey, serverConfigJSON\\)`))
    report = JSON.parse((await cli(['status', ...target(), '--json'])).stdout)
    assert.equal(report.federationSecret.present, true)
    assert.deepEqual(report.federationSecret.missing, [])
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
    const result = await cli(['upgrade', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--yes', '--json'])
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

  it('--wait prints what it still waits for and fails at the timeout', async () => {
    const result = await cli(['upgrade', ...target(), '--reuse-values', '--set', 'server.replicas=2', '--chart', env.chartDir, '--yes', '--wait', '--timeout', '4s'])
    expectFailure(result, new RegExp(`Timed out after 4s still waiting for StatefulSet ${RELEASE}-server \\(0/2 ready\\)`))
    assert.match(result.stdout, new RegExp(`Waiting for StatefulSet ${RELEASE}-server \\(0/2 ready\\)`))
    assert.equal((await helmReleases('dc1', NAMESPACE))[0].revision, '3')
  })

  it('asks before uninstalling and refuses without an answer', async () => {
    const result = await cli(['uninstall', ...target()])
    expectFailure(result, /Refusing to continue without confirmation/)
    assert.equal((await helmReleases('dc1', NAMESPACE)).length, 1)
  })

  it('uninstalls with --wipe-data: release, PVCs and consulk8s secrets go, federation material stays', async () => {
    // With a controller manager the StatefulSet has made this claim already (with these labels).
    await dc1.core()
      .createNamespacedPersistentVolumeClaim({
        namespace: NAMESPACE,
        body: {
          metadata: {name: `data-${NAMESPACE}-${RELEASE}-server-0`, labels: {app: 'consul', release: RELEASE, component: 'server'}},
          spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}},
        },
      })
      .catch((error: unknown) => {
        if (!isConflict(error)) throw error
      })
    const claims = await dc1.core().listNamespacedPersistentVolumeClaim({namespace: NAMESPACE, labelSelector: `release=${RELEASE}`})
    assert.ok(claims.items.length >= 1)
    await createSecret(dc1, NAMESPACE, `${RELEASE}-gossip-encryption-key`, {'app.kubernetes.io/managed-by': 'consulk8s'}, {key: 'k'})
    await createSecret(dc1, NAMESPACE, `${RELEASE}-extra`, {'app.kubernetes.io/managed-by': 'consulk8s'}, {token: 't'})
    await createSecret(dc1, NAMESPACE, `${RELEASE}-bootstrap-acl-token`, {'managed-by': 'consul-k8s'}, {token: 't'})
    await createSecret(dc1, NAMESPACE, 'by-hand', {}, {x: 'y'})

    const result = await cli(['uninstall', ...target(), '--wipe-data', '--yes'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, new RegExp(`Removed release ${RELEASE}`))
    assert.match(result.stdout, new RegExp(`Deleted Secret ${RELEASE}-extra`))
    assert.match(result.stdout, new RegExp(`Kept Secret ${RELEASE}-federation: federation secret`))
    assert.match(result.stdout, new RegExp(`Kept Secret ${RELEASE}-gossip-encryption-key: federation secret, CA or gossip key`))
    assert.match(result.stdout, new RegExp(`Left in place 1 secret\\(s\\) made by the chart's jobs: ${RELEASE}-bootstrap-acl-token`))

    assert.deepEqual(await helmReleases('dc1', NAMESPACE), [])
    assert.equal(await statefulSet(`${RELEASE}-server`), undefined)
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-federation`), true)
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-extra`), false)
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-gossip-encryption-key`), true)
    assert.equal(await secretExists(dc1, NAMESPACE, `${RELEASE}-bootstrap-acl-token`), true)
    assert.equal(await secretExists(dc1, NAMESPACE, 'by-hand'), true)
    // Without a controller manager the pvc-protection finalizer keeps a deleted PVC as Terminating.
    const pvcs = await dc1.core().listNamespacedPersistentVolumeClaim({namespace: NAMESPACE})
    for (const pvc of pvcs.items) assert.ok(pvc.metadata?.deletionTimestamp, `PVC ${pvc.metadata?.name} is being deleted`)
  })

  it('says so when there is nothing to uninstall', async () => {
    const result = await cli(['uninstall', ...target(), '--yes'])
    expectFailure(result, new RegExp(`There is no release ${RELEASE} in namespace ${NAMESPACE}`))
    const status = await cli(['status', ...target()])
    expectFailure(status, new RegExp(`There is no release ${RELEASE}`))
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
    await createSecret(dc2, NAMESPACE_DC2, `${RELEASE}-federation`, {'app.kubernetes.io/managed-by': 'consulk8s'}, {
      caCert: 'cert',
      serverConfigJSON: '{}',
    })
    result = await cli(args)
    expectFailure(result, new RegExp(`secret ${RELEASE}-federation lacks caKey, gossipEncryptionKey`))
    assert.deepEqual(await helmReleases('dc2', NAMESPACE_DC2), [])
  })

  it('passes the preflight with a complete federation secret and renders the secondary', async () => {
    await dc2.core().deleteNamespacedSecret({name: `${RELEASE}-federation`, namespace: NAMESPACE_DC2}).catch((error: unknown) => {
      if (!isNotFound(error)) throw error
    })
    await createSecret(dc2, NAMESPACE_DC2, `${RELEASE}-federation`, {'app.kubernetes.io/managed-by': 'consulk8s'}, {
      caCert: 'cert',
      caKey: 'key',
      serverConfigJSON: '{"primary_datacenter":"dc1","primary_gateways":["10.0.0.1:443"]}',
      gossipEncryptionKey: 'k',
    })
    const result = await cli(['install', ...target('dc2', NAMESPACE_DC2), '-f', join(dir, 'dc2-values.yaml'), '--chart', env.chartDir, '--dry-run', '--json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const planned = JSON.parse(result.stdout)
    assert.equal(planned.dryRun, true)
    assert.equal(planned.summary.federation, 'secondary')
    assert.equal(planned.summary.primaryDatacenter, 'dc1')
    assert.ok(planned.objects.some((object: {kind: string; name: string}) => object.kind === 'Deployment' && object.name === `${RELEASE}-mesh-gateway`))
    assert.deepEqual(await helmReleases('dc2', NAMESPACE_DC2), [])
  })
})
