/**
 * `consulk8s inject` against the real API server of the test environment (live mode):
 * annotated workloads get injected pod templates, the others are not touched, a malformed
 * one is reported while the rest is still patched, --dry-run changes nothing, and a second
 * run changes nothing (compared by metadata.generation, which only spec changes move).
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {execa} from 'execa'

import {runCli, ROOT} from '../helpers/cli.js'
import {getTestEnv, kubectlArgs, type TestEnvState} from '../env/index.js'

const namespace = `inject-cluster-${randomBytes(3).toString('hex')}`
const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/inject', name), 'utf8')

interface Workload {
  kind: string
  metadata: {name: string; generation: number; annotations?: Record<string, string>}
  spec: {
    template?: {
      metadata?: {annotations?: Record<string, string>}
      spec: {containers: Array<{name: string; env?: Array<{name: string; value?: string}>}>; initContainers?: Array<{name: string}>}
    }
  }
}

const EXTRA = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: plain
spec:
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: opted-out
spec:
  selector: {matchLabels: {app: opted-out}}
  template:
    metadata:
      labels: {app: opted-out}
      annotations: {consul.hashicorp.com/connect-inject: "false"}
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: misplaced
  annotations: {consul.hashicorp.com/connect-inject: "true"}
spec:
  selector: {matchLabels: {app: misplaced}}
  template:
    metadata: {labels: {app: misplaced}}
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: broken
spec:
  serviceName: broken
  selector: {matchLabels: {app: broken}}
  template:
    metadata:
      labels: {app: broken}
      annotations:
        consul.hashicorp.com/connect-inject: "true"
        consul.hashicorp.com/connect-service-upstreams: "db"
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    metadata:
      annotations: {consul.hashicorp.com/connect-inject: "true"}
    spec:
      restartPolicy: Never
      containers: [{name: app, image: busybox}]
`

describe('inject (live cluster)', () => {
  let env: TestEnvState
  const kubectl = (args: string[], input?: string) =>
    execa(env.bin.kubectl, [...kubectlArgs('dc1'), '-n', namespace, ...args], {input, reject: false})
  const inject = (...args: string[]) => runCli(['inject', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '-n', namespace, ...args])

  async function workloads(): Promise<Map<string, Workload>> {
    const result = await kubectl(['get', 'deployments,statefulsets,jobs', '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const items = (JSON.parse(result.stdout) as {items: Workload[]}).items
    return new Map(items.map((item) => [`${item.kind}/${item.metadata.name}`, item]))
  }

  before(async () => {
    env = getTestEnv()
    const created = await execa(env.bin.kubectl, [...kubectlArgs('dc1'), 'create', 'namespace', namespace], {reject: false})
    assert.equal(created.exitCode, 0, created.stderr)
    const manifests = [fixture('static-server.yaml'), fixture('multiport-web.yaml'), fixture('static-client-upstreams.yaml'), EXTRA].join('\n---\n')
    const applied = await kubectl(['apply', '-f', '-'], manifests)
    assert.equal(applied.exitCode, 0, applied.stderr)
  })

  after(async () => {
    await execa(env.bin.kubectl, [...kubectlArgs('dc1'), 'delete', 'namespace', namespace, '--wait=false', '--ignore-not-found'], {reject: false})
  })

  it('plans with --dry-run and changes nothing', async () => {
    const before = await workloads()
    const result = await inject('--dry-run')
    assert.equal(result.exitCode, 1, 'the broken StatefulSet makes the run fail')
    assert.match(result.stdout, /✓ Deployment .*\/static-server: would inject/)
    assert.match(result.stdout, /\* Deployment .*\/plain: skipped, no consul\.hashicorp\.com\/connect-inject annotation/)
    const after = await workloads()
    for (const [key, workload] of before) assert.equal(after.get(key)?.metadata.generation, workload.metadata.generation, key)
  })

  it('patches the annotated workloads, reports the broken one, leaves the others untouched', async () => {
    const before = await workloads()
    const result = await inject('--yes', '--json')
    assert.equal(result.exitCode, 1, result.stderr)
    const report = JSON.parse(result.stdout)
    const byName = new Map<string, {action: string; applied?: boolean; annotation?: string; reason: string; warnings: string[]}>(
      report.workloads.map((workload: {kind: string; name: string}) => [`${workload.kind}/${workload.name}`, workload]),
    )
    for (const name of ['Deployment/static-server', 'Deployment/web', 'Deployment/static-client']) {
      assert.equal(byName.get(name)?.action, 'inject', name)
      assert.equal(byName.get(name)?.applied, true, name)
    }
    assert.equal(byName.get('StatefulSet/broken')?.action, 'error')
    assert.equal(byName.get('StatefulSet/broken')?.annotation, 'consul.hashicorp.com/connect-service-upstreams')
    assert.match(byName.get('Deployment/misplaced')!.warnings[0], /own metadata, where the injector never looks/)
    assert.equal(byName.get('Job/once')?.action, 'skip')
    assert.match(byName.get('Job/once')!.warnings.join(' '), /forbids changing its pod template/)

    const after = await workloads()
    const server = after.get('Deployment/static-server')!.spec.template!
    assert.equal(server.metadata?.annotations?.['consul.hashicorp.com/connect-inject-status'], 'injected')
    assert.deepEqual(
      server.spec.containers.map((container) => container.name),
      ['consul-dataplane', 'static-server'],
    )
    assert.deepEqual(
      server.spec.initContainers?.map((container) => container.name),
      ['consul-connect-inject-init'],
    )
    const web = after.get('Deployment/web')!.spec.template!
    assert.deepEqual(
      web.spec.containers.map((container) => container.name),
      ['consul-dataplane-web', 'consul-dataplane-web-admin', 'web', 'web-admin'],
    )
    const client = after.get('Deployment/static-client')!.spec.template!.spec.containers.find((container) => container.name === 'static-client')!
    assert.ok(client.env?.some((variable) => variable.name === 'WEB_ADMIN_CONNECT_SERVICE_PORT' && variable.value === '2234'))
    for (const untouched of ['Deployment/plain', 'Deployment/opted-out', 'Deployment/misplaced', 'StatefulSet/broken', 'Job/once']) {
      assert.equal(after.get(untouched)?.metadata.generation, before.get(untouched)?.metadata.generation, untouched)
    }
  })

  it('changes nothing on a second run', async () => {
    const before = await workloads()
    const result = await inject('--yes', '--json')
    const report = JSON.parse(result.stdout)
    assert.equal(report.counts.inject, 0)
    assert.equal(report.counts.error, 1, 'the broken StatefulSet is still reported')
    assert.ok(
      report.workloads.every((workload: {applied?: boolean}) => workload.applied === undefined),
      'nothing applied',
    )
    const after = await workloads()
    for (const [key, workload] of before) assert.equal(after.get(key)?.metadata.generation, workload.metadata.generation, key)
  })

  it('refuses to patch without --yes when no terminal can confirm', async () => {
    const patched = await kubectl([
      'patch',
      'deployment',
      'plain',
      '--type=merge',
      '-p',
      '{"spec":{"template":{"metadata":{"annotations":{"consul.hashicorp.com/connect-inject":"true"}}}}}',
    ])
    assert.equal(patched.exitCode, 0, patched.stderr)
    const before = await workloads()
    const result = await inject()
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /Refusing to continue without confirmation\.\n\s+Re-run with --yes/)
    assert.equal((await workloads()).get('Deployment/plain')?.metadata.generation, before.get('Deployment/plain')?.metadata.generation)
  })

  it('names a missing namespace and an unknown context in one line', async () => {
    const missing = await runCli(['inject', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '-n', `${namespace}-nope`, '--dry-run'])
    assert.equal(missing.exitCode, 1)
    assert.match(missing.stderr, /✗ Namespace "inject-cluster-.*-nope" does not exist in context "dc1"\./)
    const unknown = await runCli(['inject', '--kubeconfig', env.kubeconfig, '--context', 'dc9', '--dry-run'])
    assert.equal(unknown.exitCode, 1)
    assert.match(unknown.stderr, /✗ Unknown kube context "dc9".*\n\s+Available contexts: dc1, dc2/)
  })
})
