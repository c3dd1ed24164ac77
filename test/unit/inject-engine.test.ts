/**
 * The injection engine over a table of manifests: the seed's examples, the decision rules
 * (opt-in/out, default, namespaces, already injected, misplaced annotation), malformed
 * annotations, ACL service account checks, and the details of the mutation.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {parse, parseAllDocuments} from 'yaml'

import {ANNOTATIONS} from '../../src/inject/annotations.js'
import {applyManifestPlan, planManifests, renderManifests} from '../../src/inject/manifests.js'
import type {Json} from '../../src/inject/mutate.js'
import type {WorkloadPlan} from '../../src/inject/plan.js'
import {buildSettings, type SettingsInput} from '../../src/inject/settings.js'

const FIXTURES = new URL('../fixtures/inject/', import.meta.url)
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8')

function plan(text: string, settings: SettingsInput = {}, namespace = 'default') {
  const manifests = planManifests([{name: 'input.yaml', text}], buildSettings(settings), namespace)
  const workload = (name: string): WorkloadPlan => {
    const found = manifests.plan.workloads.find((candidate) => candidate.name === name)
    assert.ok(found, `workload ${name} planned`)
    return found
  }
  return {manifests, workload}
}

function inject(text: string, settings: SettingsInput = {}) {
  const result = plan(text, settings)
  applyManifestPlan(result.manifests)
  return {...result, output: renderManifests(result.manifests, 'yaml')}
}

const containerNames = (list: Json[] | undefined) => (list ?? []).map((container) => container.name)
const envOf = (container: Json) => Object.fromEntries((container.env ?? []).map((env: Json) => [env.name, env.value]))

function deployment(name: string, annotations: Record<string, string>, extra: {namespace?: string; spec?: Json; meta?: Json} = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name, namespace: extra.namespace, annotations: extra.meta},
    spec: {
      selector: {matchLabels: {app: name}},
      template: {
        metadata: {labels: {app: name}, annotations},
        spec: {containers: [{name: 'app', image: 'nginx', ports: [{name: 'http', containerPort: 80}]}], ...extra.spec},
      },
    },
  })
}

describe('inject: the seed examples', () => {
  it('static-server: one init container, the sidecar, the volume, the status annotations', () => {
    const {workload} = plan(fixture('static-server.yaml'))
    const server = workload('static-server')
    assert.equal(server.action, 'inject')
    const spec = server.after!.spec!
    assert.deepEqual(containerNames(spec.initContainers), ['consul-connect-inject-init'])
    // Proxy lifecycle is on by default: the sidecar comes first.
    assert.deepEqual(containerNames(spec.containers), ['consul-dataplane', 'static-server'])
    assert.deepEqual(spec.volumes, [{name: 'consul-connect-inject-data', emptyDir: {medium: 'Memory'}}])
    const annotations = server.after!.metadata!.annotations!
    assert.equal(annotations[ANNOTATIONS.injectStatus], 'injected')
    assert.equal(annotations[ANNOTATIONS.transparentProxyStatus], 'enabled')
    assert.equal(annotations[ANNOTATIONS.port], 'http')
    assert.equal(server.after!.metadata!.labels![ANNOTATIONS.injectStatus], 'injected')
    // The Service in the same file names the Consul service.
    assert.equal(server.mutation!.services[0].name, 'static-server')
    assert.equal(server.mutation!.services[0].port, 8080)

    const init = spec.initContainers[0]
    const initEnv = envOf(init)
    assert.equal(init.image, 'hashicorp/consul-k8s-control-plane:1.9.11')
    assert.equal(initEnv.CONSUL_ADDRESSES, 'consul-server.consul.svc')
    assert.equal(initEnv.CONSUL_GRPC_PORT, '8502')
    assert.deepEqual(
      init.env.slice(0, 3).map((env: Json) => [env.name, env.valueFrom.fieldRef.fieldPath]),
      [
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
        ['NODE_NAME', 'spec.nodeName'],
      ],
    )
    assert.deepEqual(JSON.parse(initEnv.CONSUL_REDIRECT_TRAFFIC_CONFIG).ExcludeUIDs, ['5996'])
    assert.deepEqual(init.securityContext.capabilities, {add: ['NET_ADMIN']})
    assert.equal(
      init.command[2],
      'consul-k8s-control-plane connect-init -pod-name=${POD_NAME} -pod-namespace=${POD_NAMESPACE} \\\n  -log-level=info \\\n  -log-json=false \\',
    )

    const sidecar = spec.containers[0]
    assert.equal(sidecar.image, 'hashicorp/consul-dataplane:1.9.11')
    assert.deepEqual(sidecar.args.slice(0, 2), ['-addresses', 'consul-server.consul.svc'])
    assert.ok(sidecar.args.includes('-proxy-service-id-path=/consul/connect-inject/proxyid'))
    assert.ok(sidecar.args.includes('-tls-disabled'))
    assert.deepEqual(sidecar.readinessProbe, {tcpSocket: {port: 20000}, initialDelaySeconds: 1})
    assert.equal(sidecar.securityContext.runAsUser, 5995)
    assert.deepEqual(sidecar.volumeMounts, [{name: 'consul-connect-inject-data', mountPath: '/consul/connect-inject'}])
    // The application container is untouched (no upstreams).
    assert.deepEqual(spec.containers[1], server.before!.spec!.containers[0])
  })

  it('static-client: injected, no upstream variables without the upstreams annotation', () => {
    const client = plan(fixture('static-client.yaml')).workload('static-client')
    assert.equal(client.action, 'inject')
    assert.equal(client.after!.spec!.containers[1].env, undefined)
    assert.equal(client.after!.metadata!.annotations![ANNOTATIONS.port], undefined, 'no ports, no default port annotation')
  })

  it('multi-port web/web-admin: one init container and one sidecar per service, transparent proxy off', () => {
    const web = plan(fixture('multiport-web.yaml')).workload('web')
    assert.equal(web.action, 'inject', web.reason)
    const spec = web.after!.spec!
    assert.deepEqual(containerNames(spec.initContainers), ['consul-connect-inject-init-web', 'consul-connect-inject-init-web-admin'])
    assert.deepEqual(containerNames(spec.containers), ['consul-dataplane-web', 'consul-dataplane-web-admin', 'web', 'web-admin'])
    assert.equal(web.after!.metadata!.annotations![ANNOTATIONS.transparentProxyStatus], undefined)
    assert.deepEqual(
      web.mutation!.services.map((service) => [service.name, service.port, service.proxyPort]),
      [
        ['web', 8080, 20000],
        ['web-admin', 9090, 20001],
      ],
    )
    const [webSidecar, adminSidecar] = spec.containers
    assert.deepEqual(adminSidecar.readinessProbe.tcpSocket, {port: 20001})
    assert.ok(adminSidecar.args.includes('-proxy-service-id-path=/consul/connect-inject/proxyid-web-admin'))
    assert.ok(adminSidecar.args.includes('-envoy-admin-bind-port=19001'))
    assert.ok(adminSidecar.args.includes('-graceful-port=20601'))
    assert.deepEqual(adminSidecar.args.slice(-3), ['--', '--base-id', '1'])
    assert.deepEqual(webSidecar.args.slice(-3), ['--', '--base-id', '0'])
    const adminInit = spec.initContainers[1]
    assert.match(
      adminInit.command[2],
      /-multiport=true \\\n {2}-proxy-id-file=\/consul\/connect-inject\/proxyid-web-admin \\\n {2}-service-name="web-admin" \\$/,
    )
    assert.equal(envOf(adminInit).CONSUL_REDIRECT_TRAFFIC_CONFIG, undefined)
  })

  it('static-client with upstreams web:1234,web-admin:2234: variables in every existing container', () => {
    const client = plan(fixture('static-client-upstreams.yaml')).workload('static-client')
    const spec = client.after!.spec!
    const app = spec.containers.find((container: Json) => container.name === 'static-client')
    assert.deepEqual(envOf(app), {
      WEB_CONNECT_SERVICE_HOST: '127.0.0.1',
      WEB_CONNECT_SERVICE_PORT: '1234',
      WEB_ADMIN_CONNECT_SERVICE_HOST: '127.0.0.1',
      WEB_ADMIN_CONNECT_SERVICE_PORT: '2234',
    })
    assert.equal(envOf(spec.containers[0]).WEB_CONNECT_SERVICE_HOST, undefined, 'not in the sidecar')
    assert.equal(envOf(spec.initContainers[0]).WEB_CONNECT_SERVICE_HOST, undefined, 'not in connect-init')
    assert.deepEqual(client.mutation!.envVars, [
      'WEB_CONNECT_SERVICE_HOST',
      'WEB_CONNECT_SERVICE_PORT',
      'WEB_ADMIN_CONNECT_SERVICE_HOST',
      'WEB_ADMIN_CONNECT_SERVICE_PORT',
    ])
  })

  it('puts the upstream variables into user init containers too, and the [service].[namespace]:[port]:[dc] form', () => {
    const text = deployment(
      'caller',
      {[ANNOTATIONS.inject]: 'true', [ANNOTATIONS.upstreams]: 'billing.finance:9001:dc2'},
      {
        spec: {initContainers: [{name: 'migrate', image: 'busybox'}]},
      },
    )
    const caller = plan(text).workload('caller')
    const migrate = caller.after!.spec!.initContainers[0]
    assert.equal(migrate.name, 'migrate')
    assert.deepEqual(envOf(migrate), {'BILLING.FINANCE_CONNECT_SERVICE_HOST': '127.0.0.1', 'BILLING.FINANCE_CONNECT_SERVICE_PORT': '9001'})
    const [upstream] = caller.mutation!.upstreams
    assert.deepEqual([upstream.name, upstream.namespace, upstream.localBindPort, upstream.datacenter], ['billing', 'finance', 9001, 'dc2'])
  })
})

describe('inject: the decision rules', () => {
  const optedOut = deployment('opted-out', {[ANNOTATIONS.inject]: 'false'})
  const plain = deployment('plain', {})

  it('is opt-in by default and honours an explicit opt-out even with --default-inject', () => {
    assert.equal(plan(plain).workload('plain').action, 'skip')
    assert.match(plan(plain).workload('plain').reason, /opt-in/)
    assert.equal(plan(plain, {defaultInject: true}).workload('plain').action, 'inject')
    const out = plan(optedOut, {defaultInject: true}).workload('opted-out')
    assert.equal(out.action, 'skip')
    assert.match(out.reason, /opted out/)
  })

  it('never injects kube-system or kube-public, even when annotated and allowed', () => {
    for (const namespace of ['kube-system', 'kube-public']) {
      const text = deployment('sys', {[ANNOTATIONS.inject]: 'true'}, {namespace})
      const planned = plan(text, {allowNamespaces: ['*', namespace]}).workload('sys')
      assert.equal(planned.action, 'skip')
      assert.match(planned.reason, /never injected/)
    }
  })

  it('applies the allow list and lets the deny list win', () => {
    const annotated = {[ANNOTATIONS.inject]: 'true'}
    const text = [deployment('a', annotated, {namespace: 'team-a'}), deployment('b', annotated, {namespace: 'team-b'})].join('\n---\n')
    const allowA = plan(text, {allowNamespaces: ['team-a']})
    assert.equal(allowA.workload('a').action, 'inject')
    assert.equal(allowA.workload('b').action, 'skip')
    assert.match(allowA.workload('b').reason, /not in the allow list/)
    const both = plan(text, {allowNamespaces: ['team-a', 'team-b'], denyNamespaces: ['team-a']})
    assert.equal(both.workload('a').action, 'skip')
    assert.match(both.workload('a').reason, /deny list/)
    assert.equal(both.workload('b').action, 'inject')
    // Objects without a namespace are in -n's namespace.
    const defaulted = plan(deployment('c', annotated), {denyNamespaces: ['shop']}, 'shop')
    assert.equal(defaulted.workload('c').namespace, 'shop')
    assert.equal(defaulted.workload('c').action, 'skip')
  })

  it('skips what is already injected: injecting twice equals injecting once', () => {
    for (const name of ['static-server.yaml', 'multiport-web.yaml', 'static-client-upstreams.yaml']) {
      const once = inject(fixture(name)).output
      const twice = inject(once)
      assert.equal(twice.output, once, name)
      assert.ok(twice.manifests.plan.workloads.every((workload) => workload.action === 'skip' && /already injected/.test(workload.reason)))
    }
  })

  it('warns about the common mistake: the annotation on the Deployment instead of its pod template', () => {
    const text = deployment('mistake', {}, {meta: {[ANNOTATIONS.inject]: 'true'}})
    const planned = plan(text).workload('mistake')
    assert.equal(planned.action, 'skip')
    assert.equal(planned.warnings.length, 1)
    assert.match(
      planned.warnings[0],
      /consul\.hashicorp\.com\/connect-inject is set on the Deployment's own metadata.*spec\.template\.metadata\.annotations/,
    )
    assert.deepEqual(plan(deployment('right', {[ANNOTATIONS.inject]: 'true'})).workload('right').warnings, [])
  })
})

describe('inject: malformed annotations', () => {
  it('names the workload and the annotation, still processes the others', () => {
    const {workload, manifests} = plan(fixture('malformed.yaml'))
    assert.equal(workload('good').action, 'inject')
    const cases: Array<[string, string, RegExp]> = [
      ['unknown-port', ANNOTATIONS.port, /unknown port "grpc"/],
      ['too-few-ports', ANNOTATIONS.port, /lists 2 port\(s\) but .* lists 3 services \(more services than ports\)/],
      ['bad-upstream', ANNOTATIONS.upstreams, /upstream "cache" has no local port/],
    ]
    for (const [name, annotation, message] of cases) {
      const planned = workload(name)
      assert.equal(planned.action, 'error', name)
      assert.equal(planned.annotation, annotation, name)
      assert.match(planned.reason, message)
      assert.ok(planned.reason.includes(annotation), `${name}: the message names the annotation`)
    }
    assert.deepEqual(
      manifests.plan.workloads.map((planned) => [planned.kind, planned.source]),
      [
        ['Deployment', 'input.yaml#1'],
        ['Deployment', 'input.yaml#2'],
        ['StatefulSet', 'input.yaml#3'],
        ['Job', 'input.yaml#4'],
      ],
    )
  })

  it('refuses transparent proxy for multi-port pods with a clear message', () => {
    const text = fixture('multiport-web.yaml').replace(
      `'consul.hashicorp.com/transparent-proxy': 'false'`,
      `'consul.hashicorp.com/transparent-proxy': 'true'`,
    )
    const web = plan(text).workload('web')
    assert.equal(web.action, 'error')
    assert.equal(web.annotation, ANNOTATIONS.transparentProxy)
    assert.match(web.reason, /multi-port pods .* cannot use transparent proxy; set consul\.hashicorp\.com\/transparent-proxy: "false"/)
    // The default (transparent proxy on) is refused the same way when the pod does not say.
    const noAnnotation = fixture('multiport-web.yaml').replace(/^ *'consul\.hashicorp\.com\/transparent-proxy': 'false'\n/m, '')
    assert.equal(plan(noAnnotation).workload('web').action, 'error')
    assert.equal(plan(noAnnotation, {transparentProxy: false}).workload('web').action, 'inject')
  })

  it('rejects a non-boolean connect-inject and other bad values', () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{[ANNOTATIONS.inject]: 'yes'}, ANNOTATIONS.inject],
      [{[ANNOTATIONS.inject]: 'true', [ANNOTATIONS.transparentProxy]: 'maybe'}, ANNOTATIONS.transparentProxy],
      [{[ANNOTATIONS.inject]: 'true', [ANNOTATIONS.cpuLimit]: 'lots'}, ANNOTATIONS.cpuLimit],
      [{[ANNOTATIONS.inject]: 'true', [ANNOTATIONS.excludeOutboundPorts]: '80,https'}, ANNOTATIONS.excludeOutboundPorts],
      [
        {
          [ANNOTATIONS.inject]: 'true',
          [ANNOTATIONS.service]: 'a,b',
          [ANNOTATIONS.port]: '80,81',
          [ANNOTATIONS.transparentProxy]: 'false',
          [ANNOTATIONS.enableMetrics]: 'true',
        },
        ANNOTATIONS.enableMetrics,
      ],
    ]
    for (const [annotations, annotation] of bad) {
      const planned = plan(deployment('x', annotations)).workload('x')
      assert.equal(planned.action, 'error', JSON.stringify(annotations))
      assert.equal(planned.annotation, annotation)
    }
  })

  it('refuses a pod that runs as the dataplane user 5995', () => {
    const planned = plan(deployment('uid', {[ANNOTATIONS.inject]: 'true'}, {spec: {securityContext: {runAsUser: 5995}}})).workload('uid')
    assert.equal(planned.action, 'error')
    assert.match(planned.reason, /runAsUser is 5995/)
  })
})

describe('inject: ACLs and service accounts', () => {
  it('accepts the seed examples, whose service accounts match', () => {
    assert.deepEqual(plan(fixture('static-server.yaml'), {acls: true}).workload('static-server').warnings, [])
    assert.deepEqual(plan(fixture('multiport-web.yaml'), {acls: true}).workload('web').warnings, [])
  })

  it('warns when the service account is not named like the service', () => {
    const wrong = fixture('static-server.yaml').replace('serviceAccountName: static-server', 'serviceAccountName: default')
    const [warning] = plan(wrong, {acls: true}).workload('static-server').warnings
    assert.match(warning, /serviceAccountName is "default" but the Consul service is "static-server"/)
    // Without ACLs the name does not matter.
    assert.deepEqual(plan(wrong).workload('static-server').warnings, [])
    const multi = fixture('multiport-web.yaml').replace('serviceAccountName: web', 'serviceAccountName: web-admin')
    assert.match(plan(multi, {acls: true}).workload('web').warnings[0], /the first service of the multi-port pod is "web"/)
  })

  it('logs in with the auth method; extra multi-port services use their own token secret', () => {
    const web = plan(fixture('multiport-web.yaml'), {acls: true, authMethod: 'my-auth'}).workload('web')
    const spec = web.after!.spec!
    assert.deepEqual(spec.volumes.at(-1), {name: 'web-admin-service-account', secret: {secretName: 'web-admin'}})
    const [webInit, adminInit] = spec.initContainers
    assert.equal(envOf(webInit).CONSUL_LOGIN_AUTH_METHOD, 'my-auth')
    assert.equal(envOf(webInit).CONSUL_LOGIN_BEARER_TOKEN_FILE, '/var/run/secrets/kubernetes.io/serviceaccount/token')
    assert.equal(envOf(adminInit).CONSUL_LOGIN_BEARER_TOKEN_FILE, '/consul/serviceaccount-web-admin/token')
    assert.ok(adminInit.volumeMounts.some((mount: Json) => mount.mountPath === '/consul/serviceaccount-web-admin' && mount.readOnly))
    assert.match(adminInit.command[2], /-service-account-name="web-admin" \\\n {2}-service-name="web-admin" \\\n {2}-multiport=true/)
    const adminSidecar = spec.containers[1]
    assert.ok(adminSidecar.args.includes('-credential-type=login'))
    assert.ok(adminSidecar.args.includes('-login-bearer-token-path=/consul/serviceaccount-web-admin/token'))
  })
})

describe('inject: mutation details', () => {
  it('rewrites HTTP probes for transparent proxy and excludes their ports from redirection', () => {
    const text = deployment(
      'probed',
      {[ANNOTATIONS.inject]: 'true', [ANNOTATIONS.excludeInboundPorts]: '9100'},
      {
        spec: {
          containers: [
            {name: 'app', image: 'nginx', readinessProbe: {httpGet: {path: '/ready', port: 8080}}, livenessProbe: {tcpSocket: {port: 8080}}},
          ],
        },
      },
    )
    const probed = plan(text).workload('probed')
    const app = probed.after!.spec!.containers[1]
    assert.equal(app.readinessProbe.httpGet.port, 20400)
    assert.deepEqual(app.livenessProbe, {tcpSocket: {port: 8080}}, 'only HTTP probes move')
    const config = JSON.parse(envOf(probed.after!.spec!.initContainers[0]).CONSUL_REDIRECT_TRAFFIC_CONFIG)
    assert.deepEqual(config.ExcludeInboundPorts, ['20400', '9100'])
    const original = JSON.parse(probed.after!.metadata!.annotations![ANNOTATIONS.originalPod])
    assert.equal(original.spec.containers[0].readinessProbe.httpGet.port, 8080)
  })

  it('lets a namespace label turn transparent proxy off', () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels:\n    consul.hashicorp.com/transparent-proxy: "false"',
      deployment('old', {[ANNOTATIONS.inject]: 'true'}, {namespace: 'legacy'}),
    ].join('\n---\n')
    const old = plan(text).workload('old')
    assert.equal(old.mutation!.transparentProxy, false)
    assert.equal(envOf(old.after!.spec!.initContainers[0]).CONSUL_REDIRECT_TRAFFIC_CONFIG, undefined)
  })

  it('honours lifecycle, resources, health check and dataplane-as-sidecar annotations', () => {
    const text = deployment('tuned', {
      [ANNOTATIONS.inject]: 'true',
      [ANNOTATIONS.lifecycle]: 'false',
      [ANNOTATIONS.cpuRequest]: '100m',
      [ANNOTATIONS.memoryLimit]: '128Mi',
      [ANNOTATIONS.useProxyHealthCheck]: 'true',
      [ANNOTATIONS.envoyExtraArgs]: '--log-level debug',
    })
    const spec = plan(text).workload('tuned').after!.spec!
    assert.deepEqual(containerNames(spec.containers), ['app', 'consul-dataplane'], 'without lifecycle the sidecar comes last')
    const sidecar = spec.containers[1]
    assert.deepEqual(sidecar.resources, {limits: {memory: '128Mi'}, requests: {cpu: '100m'}})
    assert.deepEqual(sidecar.readinessProbe, {httpGet: {port: 21000, path: '/ready'}, initialDelaySeconds: 1})
    assert.ok(!sidecar.args.includes('-shutdown-drain-listeners'))
    assert.deepEqual(sidecar.args.slice(-3), ['--', '--log-level', 'debug'])

    const asInit = plan(deployment('native', {[ANNOTATIONS.inject]: 'true', [ANNOTATIONS.dataplaneAsSidecar]: 'true'})).workload('native')
    const initSpec = asInit.after!.spec!
    assert.deepEqual(containerNames(initSpec.initContainers), ['consul-connect-inject-init', 'consul-dataplane'])
    assert.equal(initSpec.initContainers[1].restartPolicy, 'Always')
    assert.deepEqual(initSpec.initContainers[1].startupProbe.exec.command, ['/usr/local/bin/consul-dataplane', '-check-proxy-health'])
  })

  it('uses the configured images, address and TLS', () => {
    const spec = plan(fixture('static-server.yaml'), {
      consulK8sImage: 'registry.local/cp:1',
      dataplaneImage: 'registry.local/dp:1',
      consulAddress: 'consul.example.internal',
      tls: true,
      caCertPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
      tlsServerName: 'server.dc1.consul',
    }).workload('static-server').after!.spec!
    const init = spec.initContainers[0]
    assert.equal(init.image, 'registry.local/cp:1')
    assert.equal(envOf(init).CONSUL_ADDRESSES, 'consul.example.internal')
    assert.equal(envOf(init).CONSUL_HTTP_PORT, '8501')
    assert.equal(envOf(init).CONSUL_USE_TLS, 'true')
    assert.equal(envOf(init).CONSUL_TLS_SERVER_NAME, 'server.dc1.consul')
    const sidecar = spec.containers[0]
    assert.equal(sidecar.image, 'registry.local/dp:1')
    assert.ok(sidecar.args.includes('-tls-server-name=server.dc1.consul'))
    assert.ok(sidecar.args.includes('-ca-certs=/consul/connect-inject/consul-ca.pem'))
    assert.ok(!sidecar.args.includes('-tls-disabled'))
  })
})

describe('inject: workload kinds', () => {
  it('finds the pod template of every kind, including a List, and leaves other kinds alone', () => {
    const template = {metadata: {annotations: {[ANNOTATIONS.inject]: 'true'}}, spec: {containers: [{name: 'app', image: 'busybox'}]}}
    const objects = [
      {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'pod', annotations: {[ANNOTATIONS.inject]: 'true'}}, spec: template.spec},
      {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'sts'}, spec: {serviceName: 'sts', selector: {}, template}},
      {apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'ds'}, spec: {selector: {}, template}},
      {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: 'rs'}, spec: {selector: {}, template}},
      {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'job'}, spec: {template}},
      {apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name: 'cron'}, spec: {schedule: '* * * * *', jobTemplate: {spec: {template}}}},
      {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'cm'}, data: {a: 'b'}},
    ]
    const list = JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects})
    const result = inject(list)
    assert.deepEqual(
      result.manifests.plan.workloads.map((workload) => [workload.kind, workload.action]),
      ['Pod', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'].map((kind) => [kind, 'inject']),
    )
    const items = parse(result.output).items as Json[]
    assert.deepEqual(containerNames(items[0].spec.containers), ['consul-dataplane', 'app'])
    assert.equal(items[0].metadata.annotations[ANNOTATIONS.injectStatus], 'injected')
    assert.deepEqual(containerNames(items[5].spec.jobTemplate.spec.template.spec.containers), ['consul-dataplane', 'app'])
    assert.deepEqual(items[6], objects[6])
  })
})

describe('inject: many documents', () => {
  it('plans the workloads in document order', () => {
    const names = Array.from({length: 12}, (_, index) => `app-${index + 1}`)
    const text = names.map((name) => deployment(name, {[ANNOTATIONS.inject]: 'true'})).join('\n---\n')
    const {manifests} = plan(text)
    assert.deepEqual(
      manifests.plan.workloads.map((workload) => [workload.name, workload.source]),
      names.map((name, index) => [name, `input.yaml#${index + 1}`]),
    )
  })
})

describe('inject: manifest round trip', () => {
  it('keeps comments, order and untouched documents byte for byte', () => {
    const source = fixture('static-server.yaml')
    const {output} = inject(source)
    const [service, account] = source.split(/^---\n/m)
    assert.ok(output.startsWith(service + '---\n' + account + '---\n'), 'the Service and ServiceAccount are unchanged')
    assert.ok(
      output.includes(
        '      # If ACLs are enabled, the serviceAccountName must match the Consul service name.\n      serviceAccountName: static-server',
      ),
    )
    assert.ok(output.includes(`        'consul.hashicorp.com/connect-inject': 'true'`), 'quoting kept')
    const docs = parseAllDocuments(output)
    assert.deepEqual(
      docs.map((doc) => doc.get('kind')),
      ['Service', 'ServiceAccount', 'Deployment'],
    )
  })

  it('keeps the source indentation style of sequences', () => {
    const compact =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    consul.hashicorp.com/connect-inject: "true"\nspec:\n  containers:\n  - name: app\n    image: busybox\n'
    const {output} = inject(compact)
    assert.match(output, /\n {2}containers:\n {2}- name: consul-dataplane\n/)
  })

  it('writes JSON on request', () => {
    const result = plan(fixture('static-server.yaml'))
    applyManifestPlan(result.manifests)
    const json = JSON.parse(renderManifests(result.manifests, 'json'))
    assert.equal(json.kind, 'List')
    assert.deepEqual(
      json.items.map((item: Json) => item.kind),
      ['Service', 'ServiceAccount', 'Deployment'],
    )
    assert.equal(json.items[2].spec.template.metadata.annotations[ANNOTATIONS.injectStatus], 'injected')
  })

  it('reports invalid YAML with the source and line', () => {
    assert.throws(() => plan('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n'), /input\.yaml:\d+:\d+ is not valid YAML: .*\.$/)
  })
})
