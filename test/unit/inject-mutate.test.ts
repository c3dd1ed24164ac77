/**
 * The mutation of a pod template (src/inject/mutate.ts) through the manifests: the seed's
 * examples, the details of the mutation and envoy's extra arguments.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ANNOTATIONS} from '../../src/inject/annotations.js'
import {shellSplit, type Json} from '../../src/inject/mutate.js'
import {containerNames, deployment, envOf, fixture, plan} from '../helpers/inject.js'

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
    assert.equal(init.image, 'hashicorp/consul-k8s-control-plane:2.0.3')
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
    assert.equal(sidecar.image, 'hashicorp/consul-dataplane:2.0.3')
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

describe('inject annotations: envoy extra args', () => {
  it('splits like a shell', () => {
    assert.deepEqual(shellSplit(`--log-level debug --name "a b" 'c d' e\\ f`, 'k'), ['--log-level', 'debug', '--name', 'a b', 'c d', 'e f'])
    assert.throws(() => shellSplit('--x "open', 'k'), /unclosed " quote/)
  })
})
