/**
 * `consulk8s inject -f` as a user runs it (the built binary), and the proof that what it
 * writes is valid: the real kube-apiserver of the test environment accepts every injected
 * manifest (kubectl apply --dry-run=server), for the seed's examples and for the variants
 * that change the mutation (ACLs, probes, labelled upstreams, native sidecars, every kind).
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {execa} from 'execa'
import {parse, parseAllDocuments, stringify} from 'yaml'

import {runCli, ROOT} from '../helpers/cli.js'
import {getTestEnv, kubectlArgs, type TestEnvState} from '../env/index.js'

const namespace = `inject-manifests-${randomBytes(3).toString('hex')}`
const fixtures = join(ROOT, 'test/fixtures/inject')
const fixture = (name: string) => join(fixtures, name)

const VARIANTS = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: probed
spec:
  selector: {matchLabels: {app: probed}}
  template:
    metadata:
      labels: {app: probed}
      annotations:
        consul.hashicorp.com/connect-inject: "true"
        consul.hashicorp.com/connect-service-upstreams: "db.svc.team.ns:5432, billing.finance:9001:dc2, cache.svc.dc2.dc:6379, prepared_query:geo:7000"
        consul.hashicorp.com/sidecar-proxy-cpu-request: 100m
        consul.hashicorp.com/sidecar-proxy-memory-limit: 128Mi
        consul.hashicorp.com/use-proxy-health-check: "true"
        consul.hashicorp.com/transparent-proxy-exclude-outbound-cidrs: 10.0.0.0/8
    spec:
      initContainers:
        - name: migrate
          image: busybox
      containers:
        - name: app
          image: nginx
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: http}}
          livenessProbe: {httpGet: {path: /live, port: 8080}}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            consul.hashicorp.com/connect-inject: "true"
            consul.hashicorp.com/enable-consul-dataplane-as-sidecar: "true"
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: lonely
  annotations:
    consul.hashicorp.com/connect-inject: "true"
    consul.hashicorp.com/enable-sidecar-proxy-lifecycle: "false"
spec:
  containers:
    - name: app
      image: busybox
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: store
spec:
  serviceName: store
  selector: {matchLabels: {app: store}}
  template:
    metadata:
      labels: {app: store}
      annotations:
        consul.hashicorp.com/connect-inject: "true"
    spec:
      containers:
        - name: app
          image: busybox
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata:
      labels: {app: agent}
      annotations:
        consul.hashicorp.com/connect-inject: "true"
        consul.hashicorp.com/transparent-proxy: "false"
    spec:
      containers:
        - name: app
          image: busybox
`

/** Behaviours of consul-k8s's webhook test tables that consulk8s follows since they were ported (inject-consul-k8s-webhook.test.ts). */
const WEBHOOK_TABLE_CASES = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: graceful
spec:
  selector: {matchLabels: {app: graceful}}
  template:
    metadata:
      labels: {app: graceful}
      annotations:
        consul.hashicorp.com/connect-inject: "true"
        consul.hashicorp.com/sidecar-proxy-lifecycle-graceful-port: drain
        consul.hashicorp.com/enable-metrics: "true" # enable-metrics
    spec:
      containers:
        - name: app
          image: nginx
          ports: [{name: http, containerPort: 8080}, {name: drain, containerPort: 21500}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: native
spec:
  selector: {matchLabels: {app: native}}
  template:
    metadata:
      labels: {app: native}
      annotations:
        consul.hashicorp.com/connect-inject: "true"
        consul.hashicorp.com/enable-consul-dataplane-as-sidecar: "true"
        consul.hashicorp.com/sidecar-probe-period-seconds: invalid
        consul.hashicorp.com/sidecar-probe-check-timeout-seconds: "0"
        consul.hashicorp.com/sidecar-probe-failure-threshold: "6"
    spec:
      containers:
        - name: app
          image: busybox
`

describe('inject -f (manifests, offline) and validity against the real API server', () => {
  let env: TestEnvState
  let work: string
  const kubectl = (args: string[], input?: string) => execa(env.bin.kubectl, [...kubectlArgs('dc1'), ...args], {input, reject: false})

  /** Server-side dry-run apply into the test namespace: the API server validates and defaults everything, stores nothing. */
  async function serverAccepts(manifests: string): Promise<void> {
    const result = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], manifests)
    assert.equal(result.exitCode, 0, `the API server refused the injected manifests:\n${result.stderr}`)
    const applied = result.stdout.split('\n').filter((line) => line.includes('(server dry run)'))
    assert.equal(applied.length, parseAllDocuments(manifests).filter((doc) => doc.toJS()?.kind).length, result.stdout)
  }

  before(async () => {
    env = getTestEnv()
    work = await mkdtemp(join(tmpdir(), 'consulk8s-inject-'))
    const created = await kubectl(['create', 'namespace', namespace])
    assert.equal(created.exitCode, 0, created.stderr)
  })

  after(async () => {
    await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found'])
    await rm(work, {recursive: true, force: true})
  })

  it('injects the seed examples and the API server accepts the result', async () => {
    const result = await runCli([
      'inject',
      '-f',
      fixture('static-server.yaml'),
      '-f',
      fixture('static-client.yaml'),
      '-f',
      fixture('multiport-web.yaml'),
      '-f',
      fixture('static-client-upstreams.yaml'),
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stderr, /✓ Deployment default\/static-server: injected/)
    assert.match(result.stderr, /✓ Deployment default\/web: injected: 2 services web on port 8080, web-admin on port 9090/)
    const docs = parseAllDocuments(result.stdout).map((doc) => doc.toJS())
    const deployments = docs.filter((doc) => doc.kind === 'Deployment')
    assert.equal(deployments.length, 4)
    for (const deployment of deployments) {
      assert.equal(deployment.spec.template.metadata.annotations['consul.hashicorp.com/connect-inject-status'], 'injected', deployment.metadata.name)
    }
    // The last static-client (with upstreams) replaces the first one in the namespace; both must be valid on their own.
    const [withoutUpstreams, withUpstreams] = result.stdout.split(/^# static-client calling/m)
    await serverAccepts(withoutUpstreams)
    await serverAccepts(`# static-client calling${withUpstreams}`)
  })

  it('injects every kind and the variants (ACLs, probes, labelled upstreams, native sidecars) validly', async () => {
    const result = await runCli(
      ['inject', '-f', '-', '--acls', '--tls', '--tls-server-name', 'server.dc1.consul', '--ca-file', env.federation.caCertFile],
      {input: VARIANTS},
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stderr, /5 workloads: 5 to inject, 0 skipped, 0 with errors/)
    const docs = parseAllDocuments(result.stdout).map((doc) => doc.toJS())
    const probed = docs[0].spec.template.spec
    const app = probed.containers.find((container: {name: string}) => container.name === 'app')
    assert.equal(app.readinessProbe.httpGet.port, 20400)
    assert.ok(app.env.some((variable: {name: string}) => variable.name === 'DB.SVC.TEAM.NS_CONNECT_SERVICE_HOST'))
    const init = probed.initContainers.find((container: {name: string}) => container.name === 'consul-connect-inject-init')
    const caEnv = init.env.find((variable: {name: string}) => variable.name === 'CONSUL_CACERT_PEM')
    assert.equal(caEnv.value, env.federation.caCertPem)
    await serverAccepts(result.stdout)
  })

  it('is idempotent through the CLI and writes --output-file FILE atomically', async () => {
    const once = join(work, 'once.yaml')
    const first = await runCli(['inject', '-f', fixture('static-server.yaml'), '--output-file', once])
    assert.equal(first.exitCode, 0, first.stderr)
    // stdout carries no manifests, only the report.
    assert.doesNotMatch(first.stdout, /apiVersion/)
    assert.match(first.stdout, new RegExp(`✓ Wrote ${once.replaceAll('/', '\\/')}`))
    assert.equal((await stat(once)).mode & 0o777, 0o644)
    const second = await runCli(['inject', '-f', once])
    assert.equal(second.exitCode, 0, second.stderr)
    // (execa drops the final newline of stdout.)
    assert.equal(second.stdout + '\n', await readFile(once, 'utf8'))
    assert.match(second.stderr, /0 to inject, 1 skipped/)
  })

  it('refuses malformed annotations: names workload and annotation, checks the rest, writes nothing, exits 1', async () => {
    const output = join(work, 'never.yaml')
    for (const args of [[], ['--output-file', output]]) {
      const result = await runCli(['inject', '-f', fixture('malformed.yaml'), ...args])
      assert.equal(result.exitCode, 1)
      assert.doesNotMatch(result.stdout, /apiVersion/, 'no manifests')
      const report = result.stdout + result.stderr
      assert.match(report, /✓ Deployment default\/good: injected/)
      assert.match(report, /✗ Deployment default\/unknown-port: annotation consul\.hashicorp\.com\/connect-service-port: unknown port "grpc"/)
      assert.match(report, /✗ StatefulSet default\/too-few-ports: .*more services than ports/)
      assert.match(
        report,
        /✗ Job default\/bad-upstream: annotation consul\.hashicorp\.com\/connect-service-upstreams: upstream "cache" has no local port/,
      )
      assert.match(result.stderr, /✗ 3 workload\(s\) have invalid Connect annotations; no manifests were written\./)
      assert.doesNotMatch(report, /\n\s+at /, 'no stack trace')
    }
    await assert.rejects(stat(output), /ENOENT/)

    const json = await runCli(['inject', '-f', fixture('malformed.yaml'), '--json'])
    assert.equal(json.exitCode, 1)
    const report = JSON.parse(json.stdout)
    assert.deepEqual(report.counts, {inject: 1, skip: 0, error: 3})
    assert.deepEqual(
      report.workloads
        .filter((workload: {action: string}) => workload.action === 'error')
        .map((workload: {name: string; annotation: string}) => [workload.name, workload.annotation]),
      [
        ['unknown-port', 'consul.hashicorp.com/connect-service-port'],
        ['too-few-ports', 'consul.hashicorp.com/connect-service-port'],
        ['bad-upstream', 'consul.hashicorp.com/connect-service-upstreams'],
      ],
    )
  })

  it('prints the plan with --dry-run and a diff with --diff, and JSON manifests with -o json', async () => {
    const plan = await runCli(['inject', '-f', fixture('static-server.yaml'), '--dry-run'])
    assert.equal(plan.exitCode, 0, plan.stderr)
    assert.match(plan.stdout, /✓ Deployment default\/static-server: would inject: service static-server on port 8080/)
    assert.doesNotMatch(plan.stdout, /apiVersion/)

    const diff = await runCli(['inject', '-f', fixture('static-client-upstreams.yaml'), '--diff'])
    assert.equal(diff.exitCode, 0, diff.stderr)
    assert.match(
      diff.stdout,
      /^--- Deployment default\/static-client \(pod template, before\)\n\+\+\+ Deployment default\/static-client \(pod template, injected\)\n@@ /,
    )
    assert.match(diff.stdout, /^\+ {8}- name: WEB_ADMIN_CONNECT_SERVICE_PORT\n\+ {10}value: "2234"$/m)
    assert.match(diff.stdout, /^ {5}- name: static-client$/m)

    const json = await runCli(['inject', '-f', fixture('multiport-web.yaml'), '-o', 'json'])
    assert.equal(json.exitCode, 0, json.stderr)
    const list = JSON.parse(json.stdout)
    assert.equal(list.kind, 'List')
    assert.equal(list.items.length, 7)
  })

  it('never loads @kubernetes/client-node, offline or in cluster mode, unless a credential plugin needs it', async () => {
    // A loader hook that fails any import of the Kubernetes client.
    const hook = join(work, 'block-kubernetes-client.mjs')
    await writeFile(
      hook,
      `import {register} from 'node:module'\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
        `export async function resolve(specifier, context, next) {
          if (specifier.startsWith('@kubernetes/client-node')) throw new Error('@kubernetes/client-node was imported')
          return next(specifier, context)
        }`,
      )}))\n`,
    )
    const guarded = {env: {NODE_OPTIONS: `--import=${hook}`, KUBECONFIG: join(work, 'no-kubeconfig')}}
    const offline = await runCli(['inject', '-f', fixture('static-server.yaml')], guarded)
    assert.equal(offline.exitCode, 0, offline.stderr)
    assert.match(offline.stdout, /name: consul-dataplane/)
    // Cluster mode goes through the lean transport too: still no client library.
    const cluster = await runCli(['inject', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--dry-run'], guarded)
    assert.equal(cluster.exitCode, 0, cluster.stderr)
    // The hook does catch the client where it is used: a kubeconfig user with a credential plugin.
    const raw = parse(await readFile(env.kubeconfig, 'utf8')) as {users: Array<{name: string; user: unknown}>}
    for (const user of raw.users) user.user = {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: 'true', interactiveMode: 'Never'}}
    const pluginConfig = join(work, 'plugin-kubeconfig.yaml')
    await writeFile(pluginConfig, stringify(raw))
    const plugin = await runCli(['inject', '--kubeconfig', pluginConfig, '--context', 'dc1', '--dry-run'], guarded)
    assert.equal(plugin.exitCode, 1)
    assert.match(plugin.stderr, /@kubernetes\/client-node was imported/)
  })

  it("applies consul-k8s's webhook test-table behaviours validly: original-pod, a named graceful port, lenient probe counts; refuses a malformed enable-metrics", async () => {
    const result = await runCli(['inject', '-f', '-'], {input: WEBHOOK_TABLE_CASES})
    assert.equal(result.exitCode, 0, result.stderr)
    const [named, native] = parseAllDocuments(result.stdout).map((doc) => doc.toJS())
    const template = named.spec.template
    // TestHandlerHandle/TestHandlerDefaultAnnotations: original-pod is set even with no probe to rewrite.
    const original = JSON.parse(template.metadata.annotations['consul.hashicorp.com/original-pod'])
    assert.deepEqual(
      original.spec.containers.map((container: {name: string}) => container.name),
      ['app'],
    )
    assert.equal(original.metadata.annotations['consul.hashicorp.com/connect-service-port'], undefined, 'the pod before defaulting')
    // The endpoints controller registers only pods whose consul-k8s-version is 1.0.0 or later.
    assert.equal(template.metadata.annotations['consul.hashicorp.com/consul-k8s-version'], 'v2.0.3')
    // TestCommonDetermineAndValidatePort/"Gets the value of the named port": the graceful port names a container port.
    const sidecar = template.spec.containers.find((container: {name: string}) => container.name === 'consul-dataplane')
    assert.ok(sidecar.args.includes('-graceful-port=21500'), sidecar.args.join(' '))
    // TestMeshWebhook_getSidecarProbe*: "invalid" and "0" leave the field out; a number overrides the default.
    const probe = native.spec.template.spec.initContainers.find((container: {name: string}) => container.name === 'consul-dataplane').startupProbe
    assert.deepEqual(probe, {
      exec: {command: ['/usr/local/bin/consul-dataplane', '-check-proxy-health']},
      initialDelaySeconds: 1,
      failureThreshold: 6,
    })
    await serverAccepts(result.stdout)

    // TestAddRedirectTrafficConfig/"metrics enabled with incorrect annotation": refused, nothing written.
    const metrics = await runCli(['inject', '-f', '-'], {input: WEBHOOK_TABLE_CASES.replace('"true" # enable-metrics', 'maybe')})
    assert.equal(metrics.exitCode, 1)
    assert.doesNotMatch(metrics.stdout, /apiVersion/)
    assert.match(metrics.stderr, /✗ Deployment default\/graceful: annotation consul\.hashicorp\.com\/enable-metrics: "maybe" is not a boolean/)
  })

  it('rejects cluster flags in manifest mode with one readable line', async () => {
    const result = await runCli(['inject', '-f', fixture('static-server.yaml'), '--context', 'dc1'])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /✗ --context selects a live cluster, but -f injects manifests offline\./)
    const missing = await runCli(['inject', '-f', join(work, 'nope.yaml')])
    assert.equal(missing.exitCode, 1)
    assert.match(missing.stderr, /✗ Cannot read .*nope\.yaml/)
  })
})
