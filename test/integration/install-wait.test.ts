/**
 * install and upgrade wait by default: on the environment's simulated nodes
 * (CONSULK8S_TESTENV_KWOK=1, pass 2 of `npm test`) the chart's pods are scheduled and become
 * Ready, so the wait ends when every workload is ready, not at the timeout. Without simulated
 * nodes (pass 1) pods stay Pending: install.test.ts covers the "not ready and why" path there.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'
import {execa} from 'execa'

import {getTestEnv, type TestEnvState} from '../env/index.js'
import {runCli, type CliResult} from '../helpers/cli.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'

const suffix = randomBytes(3).toString('hex')
const RELEASE = `ikw-${suffix}`
const NAMESPACE = `consulk8s-install-wait-${suffix}`

let env: TestEnvState
let dc1: TestCluster

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, {env: {CONSULK8S_HELM: env.bin.helm}, timeoutMs: 360_000})
}

const target = () => ['--kubeconfig', env.kubeconfig, '--context', 'dc1', '-n', NAMESPACE, '--release', RELEASE]

before(async () => {
  env = getTestEnv()
  dc1 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
})

after(async () => {
  if (!env.simulatedNode) return
  await execa(env.bin.helm, ['uninstall', RELEASE, '-n', NAMESPACE, '--no-hooks', '--kube-context', 'dc1', '--kubeconfig', env.kubeconfig], {
    reject: false,
  })
  await dc1
    .core()
    .deleteNamespace({name: NAMESPACE})
    .catch(() => undefined)
})

describe('install and upgrade wait for the pods by default', () => {
  it('install returns once the servers are ready; an upgrade whose pod cannot be placed says why', async (t) => {
    if (!env.simulatedNode) {
      t.skip('this environment has no simulated nodes (CONSULK8S_TESTENV_KWOK=1 turns them on)')
      return
    }
    const values = ['--set', `global.name=${RELEASE}`, '--set', 'connectInject.enabled=false', '--set', 'server.replicas=1']
    let result = await cli(['install', ...target(), ...values, '--chart', env.chartDir, '--yes', '--timeout', '5m'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, new RegExp(`✓ Ready: StatefulSet ${RELEASE}-server \\(1/1 ready\\)`))
    const pod = await dc1.core().readNamespacedPod({name: `${RELEASE}-server-0`, namespace: NAMESPACE})
    assert.equal(pod.spec?.nodeName, env.simulatedNode)

    // One simulated node, and the chart keeps servers on different nodes: the second one
    // cannot be placed, and the wait says so (scheduler condition and its event).
    result = await cli(['upgrade', ...target(), '--reuse-values', '--set', 'server.replicas=2', '--chart', env.chartDir, '--yes', '--timeout', '20s'])
    assert.notEqual(result.exitCode, 0, result.stdout)
    assert.match(result.stderr, new RegExp(`Timed out after 20s still waiting for StatefulSet ${RELEASE}-server \\(1/2 ready\\)`))
    assert.match(
      result.stderr,
      new RegExp(`pod ${RELEASE}-server-1 Pending: 0/1 nodes are available: 1 node\\(s\\) didn't match pod anti-affinity rules`),
    )
    assert.match(result.stderr, /event FailedScheduling: /)
    assert.match(result.stdout, new RegExp(`pod ${RELEASE}-server-1 Pending: .*anti-affinity`), 'said while waiting, not only at the end')

    result = await cli(['upgrade', ...target(), '--reuse-values', '--set', 'server.replicas=1', '--chart', env.chartDir, '--yes', '--timeout', '5m'])
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, new RegExp(`✓ Ready: StatefulSet ${RELEASE}-server \\(1/1 ready\\)`))

    const status = await cli(['status', ...target(), '-o', 'json'])
    assert.equal(status.exitCode, 0, status.stderr)
    const report = JSON.parse(status.stdout) as {healthy: boolean; workloads: Array<{name: string; ready: number; desired: number}>}
    assert.deepEqual(
      report.workloads.map((workload) => [workload.name, workload.ready, workload.desired]),
      [[`${RELEASE}-server`, 1, 1]],
    )
    assert.equal(report.healthy, true)
  })
})
