/**
 * consul-k8s install's check for PersistentVolumeClaims of previous installs
 * (TestCheckForPreviousPVCs: a claim whose name contains "consul-server", in any namespace),
 * against the real test environment: the real kube-apiserver holds the claim, the real helm and
 * chart run the install preflight. Only --dry-run installs are made, so nothing is installed;
 * the claim exists only for the two refused/forced runs and is removed right after.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'

import {getTestEnv, type TestEnvState} from '../env/index.js'
import {runCli, type CliResult} from '../helpers/cli.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'

const suffix = randomBytes(3).toString('hex')
const RELEASE = `ick-${suffix}`
const NAMESPACE = `consulk8s-ick-${suffix}`
const CLAIM_NAMESPACE = `consulk8s-ick-pvc-${suffix}`
const CLAIM = `consul-server-test1-${suffix}`

let env: TestEnvState
let dc1: TestCluster
let dir: string
let valuesFile: string

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, {env: {CONSULK8S_HELM: env.bin.helm}})
}

const target = () => ['--kubeconfig', env.kubeconfig, '--context', 'dc1', '-n', NAMESPACE, '--release', RELEASE]

function install(extra: string[] = []): Promise<CliResult> {
  return cli(['install', ...target(), '-f', valuesFile, '--chart', env.chartDir, '--dry-run', ...extra])
}

async function deleteClaim(): Promise<void> {
  await dc1
    .core()
    .deleteNamespacedPersistentVolumeClaim({name: CLAIM, namespace: CLAIM_NAMESPACE})
    .catch(() => undefined)
}

before(async () => {
  env = getTestEnv()
  dc1 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
  dir = await mkdtemp(join(tmpdir(), 'consulk8s-ick-it-'))
  valuesFile = join(dir, 'values.yaml')
  await writeFile(valuesFile, stringify({global: {name: RELEASE, datacenter: 'dc1'}, server: {replicas: 1}, connectInject: {enabled: false}}))
  await dc1.core().createNamespace({body: {metadata: {name: CLAIM_NAMESPACE}}})
})

after(async () => {
  await deleteClaim()
  for (const name of [CLAIM_NAMESPACE, NAMESPACE]) {
    await dc1
      .core()
      .deleteNamespace({name})
      .catch(() => undefined)
  }
  await rm(dir, {recursive: true, force: true})
})

describe('consul-k8s TestCheckForPreviousPVCs, against the real cluster', () => {
  it('a claim named consul-server-* in another namespace refuses the install, naming it and the command that clears it; --force goes on', async () => {
    await dc1.core().createNamespacedPersistentVolumeClaim({
      namespace: CLAIM_NAMESPACE,
      body: {metadata: {name: CLAIM}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}},
    })
    let refused: CliResult
    let forced: CliResult
    try {
      refused = await install()
      forced = await install(['--force'])
    } finally {
      await deleteClaim()
    }

    assert.notEqual(refused.exitCode, 0, `${refused.stdout}\n${refused.stderr}`)
    assert.match(refused.stderr, new RegExp(`PersistentVolumeClaims of a previous release: [^;]*${CLAIM_NAMESPACE}/${CLAIM}`))
    assert.match(refused.stderr, new RegExp(`kubectl delete pvc -n ${CLAIM_NAMESPACE} ${CLAIM}`))
    assert.doesNotMatch(refused.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace')
    assert.equal(await dc1.getOptional('read namespace', {resource: 'namespaces', name: NAMESPACE}), undefined, 'nothing was created')

    assert.equal(forced.exitCode, 0, `${forced.stdout}\n${forced.stderr}`)
    assert.match(
      forced.stdout + forced.stderr,
      new RegExp(`! --force: going on despite PersistentVolumeClaims of a previous release: [^\\n]*${CLAIM_NAMESPACE}/${CLAIM}`),
    )
  })

  it('once the claim is deleted, the preflight no longer counts it', async () => {
    const result = await install()
    // A claim still held by kubernetes.io/pvc-protection is only noted as being deleted.
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(`previous release: [^\\n]*${CLAIM}`))
    assert.match(result.stdout + result.stderr, /No release ick-\w+ in namespace/)
  })
})
