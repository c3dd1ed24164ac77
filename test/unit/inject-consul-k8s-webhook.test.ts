/**
 * consul-k8s 2.0.3's connect-inject webhook test tables (control-plane/connect-inject/webhook),
 * case by case, against consulk8s's pure mutation. Each `it` is named "<Go test>/<table entry>".
 *
 * Settings: webhookSettings() is the Go tests' MeshWebhook (zero values: no transparent proxy,
 * no lifecycle, concurrency 0), changed as each case changes it.
 *
 * Skipped, and why:
 * - Consul Enterprise (namespaces, mirroring, partitions): the "with ACLs and namespace
 *   mirroring", "... single destination namespace", "... partitions", "with namespace
 *   mirroring[ prefix]", "with partitions" entries of TestHandlerConsulDataplaneSidecar,
 *   TestHandlerContainerInit_namespacesAndPartitionsEnabled, TestConsulNamespace: not applied
 *   (docs/inject.md, "Not done").
 * - OpenShift and the CNI plugin: the openshift/cni entries of TestHandlerContainerInit_transparentProxy
 *   and TestHandlerConsulDataplaneSidecar_withSecurityContext: not applied.
 * - Metrics (merging server, Prometheus annotations, scrape path/port): TestHandlerConsulDataplaneSidecar_Metrics,
 *   TestHandlerPrometheusAnnotations, "custom prometheus scrape path", TestAddRedirectTrafficConfig/
 *   "metrics enabled": metrics are reported as not applied (only their malformed values are refused, as the webhook does).
 * - Consul DNS: TestHandlerConsulDataplaneSidecar_DNSProxy, TestMeshWebhook_configureDNS*,
 *   TestRedirectTraffic_consulDNS, TestHandlerHandle "dns redirection ...": not applied.
 * - Access logs from proxy-defaults: TestHandler_mountAdditionalAccessLogVolumeMount (reads Consul).
 * - Webhook settings consulk8s has no flag for (Helm values it does not model): "skip server watch
 *   enabled" (-server-watch-disabled), the EnvoyExtraArgs "via flag" entries (connectInject.envoyExtraArgs),
 *   default proxy resources and default startup/liveness failure seconds (ProxyHealthCheck "default-values",
 *   Resources "all defaults"/"defaults set to zero"): the annotation forms of the same are tested.
 * - Admission plumbing and the injection decision: TestHandlerHandle "kube-system namespace",
 *   "already injected", "empty pod with injection disabled/truthy" (test/unit/inject-decide.test.ts
 *   ports TestShouldInject), TestReady (health_checks_test.go: the webhook's readiness endpoint),
 *   the multi-port "serviceaccount has secret ref" variant (a Kubernetes < 1.24 ServiceAccount read
 *   from the API server; consulk8s uses the Secret named like the service, docs/inject.md "ACLs").
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ANNOTATIONS, AnnotationError} from '../../src/inject/annotations.js'
import {InjectError, consulK8sVersion, type Json} from '../../src/inject/mutate.js'
import type {InjectSettings} from '../../src/inject/settings.js'
import {
  argLine,
  containerNamed,
  envValue,
  initOf,
  mutate,
  names,
  podTemplate,
  sidecarOf,
  thrown,
  webhookSettings,
} from '../helpers/inject-fixtures.js'

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const DATA_MOUNT = {name: 'consul-connect-inject-data', mountPath: '/consul/connect-inject'}
const SA_MOUNT = {name: 'service-account-secret', mountPath: SA_DIR}
const COMMON_ARGS =
  '-addresses 1.1.1.1 -envoy-admin-bind-address=127.0.0.1 -consul-dns-bind-addr=127.0.0.1 -xds-bind-addr=127.0.0.1 -grpc-port=8502 -proxy-service-id-path=/consul/connect-inject/proxyid'

/** The containers of TestHandlerConsulDataplaneSidecar's pod: the last one mounts the service account token. */
const SIDECAR_TEST_SPEC = {
  containers: [{name: 'web'}, {name: 'web-side'}, {name: 'auth-method-secret', volumeMounts: [SA_MOUNT]}],
  serviceAccountName: 'web',
}
/** The multi-port pods of the sidecar/init tests; consulk8s needs one port per service (docs/inject.md). */
const MULTIPORT_ANNOTATIONS = {[ANNOTATIONS.service]: 'web,web-admin', [ANNOTATIONS.port]: '8080,9090'}
const MULTIPORT_SPEC = {
  containers: [
    {name: 'web'},
    {name: 'web-side'},
    {name: 'web-admin'},
    {name: 'web-admin-side'},
    {name: 'auth-method-secret', volumeMounts: [SA_MOUNT]},
  ],
  serviceAccountName: 'web',
}

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar', () => {
  const cases: Array<[string, (settings: InjectSettings) => void, string, string?]> = [
    ['default', () => {}, ' -tls-disabled -graceful-port=20600 -telemetry-prom-scrape-path=/metrics'],
    ['with custom gRPC port', (s) => (s.grpcPort = 8602), ' -tls-disabled -graceful-port=20600 -telemetry-prom-scrape-path=/metrics'],
    [
      'with ACLs',
      (s) => ((s.acls = true), (s.authMethod = 'test-auth-method')),
      ` -credential-type=login -login-auth-method=test-auth-method -login-bearer-token-path=${SA_DIR}/token -tls-disabled -graceful-port=20600 -telemetry-prom-scrape-path=/metrics`,
    ],
    [
      'with TLS and CA cert provided',
      (s) => (s.tls = {enabled: true, serverName: 'server.dc1.consul', caCertPem: 'consul-ca-cert'}),
      ' -tls-server-name=server.dc1.consul -ca-certs=/consul/connect-inject/consul-ca.pem -graceful-port=20600 -telemetry-prom-scrape-path=/metrics',
    ],
    [
      'with TLS and no CA cert provided',
      (s) => (s.tls = {enabled: true, serverName: 'server.dc1.consul'}),
      ' -tls-server-name=server.dc1.consul -graceful-port=20600 -telemetry-prom-scrape-path=/metrics',
    ],
    ['with different log level', (s) => (s.logLevel = 'debug'), ' -tls-disabled -graceful-port=20600 -telemetry-prom-scrape-path=/metrics'],
    [
      'with different log level and log json',
      (s) => ((s.logLevel = 'debug'), (s.logJSON = true)),
      ' -tls-disabled -graceful-port=20600 -telemetry-prom-scrape-path=/metrics',
    ],
  ]
  for (const [name, change, additional] of cases) {
    it(name, () => {
      const settings = webhookSettings(change)
      const sidecar = sidecarOf(mutate(podTemplate({[ANNOTATIONS.service]: 'foo'}, SIDECAR_TEST_SPEC), settings))
      const expected = `${COMMON_ARGS} -log-level=${settings.logLevel} -log-json=${settings.logJSON} -envoy-concurrency=0 -graceful-addr=127.0.0.1${additional}`
      assert.equal(argLine(sidecar), expected.replace('-grpc-port=8502', `-grpc-port=${settings.grpcPort}`))
      assert.deepEqual(sidecar.volumeMounts, settings.acls ? [DATA_MOUNT, SA_MOUNT] : [DATA_MOUNT])
      assert.deepEqual(sidecar.readinessProbe, {tcpSocket: {port: 20000}, initialDelaySeconds: 1})
      assert.equal(sidecar.startupProbe, undefined)
      assert.deepEqual(names(sidecar.env), [
        'TMPDIR',
        'NODE_NAME',
        'DP_SERVICE_NODE_NAME',
        'POD_NAME',
        'POD_NAMESPACE',
        'POD_UID',
        'DP_CREDENTIAL_LOGIN_META',
        'DP_CREDENTIAL_LOGIN_META1',
        'DP_CREDENTIAL_LOGIN_META2',
        'HOST_IP',
      ])
      assert.equal(envValue(sidecar, 'TMPDIR'), '/consul/connect-inject')
      assert.equal(envValue(sidecar, 'DP_SERVICE_NODE_NAME'), '$(NODE_NAME)-virtual')
      assert.equal(envValue(sidecar, 'DP_CREDENTIAL_LOGIN_META'), 'pod=$(POD_NAMESPACE)/$(POD_NAME)')
      assert.equal(envValue(sidecar, 'DP_CREDENTIAL_LOGIN_META1'), 'pod=$(POD_NAMESPACE)/$(POD_NAME)')
      assert.equal(envValue(sidecar, 'DP_CREDENTIAL_LOGIN_META2'), 'pod-uid=$(POD_UID)')
    })
  }
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_Concurrency', () => {
  const sidecar = (annotations: Record<string, string>) => sidecarOf(mutate(podTemplate(annotations, {containers: [{name: 'web'}]})))
  it('default settings, no annotations', () => {
    assert.ok(argLine(sidecar({[ANNOTATIONS.service]: 'foo'})).includes('-envoy-concurrency=0'))
  })
  it('default settings, annotation override', () => {
    assert.ok(argLine(sidecar({[ANNOTATIONS.service]: 'foo', [ANNOTATIONS.envoyConcurrency]: '42'})).includes('-envoy-concurrency=42'))
  })
  for (const [name, value] of [
    ['default settings, invalid concurrency annotation negative number', '-42'],
    ['default settings, not-parseable concurrency annotation', 'not-int'],
    ['a padded value (strconv.ParseUint does not trim)', ' 42'],
  ]) {
    it(name, () => {
      const error = thrown(AnnotationError, () => sidecar({[ANNOTATIONS.service]: 'foo', [ANNOTATIONS.envoyConcurrency]: value}))
      assert.equal(error.annotation, ANNOTATIONS.envoyConcurrency)
    })
  }
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_ProxyHealthCheck', () => {
  const ready = {httpGet: {port: 21000, path: '/ready'}}
  const cases: Array<[string, Record<string, string>, Json | undefined, Json | undefined]> = [
    ['readiness-only', {}, undefined, undefined],
    [
      'override-default',
      {[ANNOTATIONS.startupFailureSeconds]: '111', [ANNOTATIONS.livenessFailureSeconds]: '222'},
      {...ready, periodSeconds: 1, failureThreshold: 111},
      {...ready, periodSeconds: 1, failureThreshold: 222},
    ],
  ]
  for (const [name, annotations, startup, liveness] of cases) {
    it(name, () => {
      const template = podTemplate({[ANNOTATIONS.useProxyHealthCheck]: 'true', ...annotations}, {containers: [{name: 'web'}]})
      const sidecar = sidecarOf(mutate(template))
      assert.ok(sidecar.args.includes('-envoy-ready-bind-port=21000'))
      assert.deepEqual(sidecar.readinessProbe, {...ready, initialDelaySeconds: 1})
      assert.deepEqual(sidecar.startupProbe, startup)
      assert.deepEqual(sidecar.livenessProbe, liveness)
      assert.deepEqual(
        sidecar.env.find((env: Json) => env.name === 'DP_ENVOY_READY_BIND_ADDRESS'),
        {name: 'DP_ENVOY_READY_BIND_ADDRESS', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
      )
      assert.deepEqual(sidecar.ports, [{name: 'proxy-health-0', containerPort: 21000}])
    })
  }
  it('a negative or unparsable failure-seconds annotation means no probe, as strconv.Atoi with its error ignored', () => {
    const template = podTemplate(
      {[ANNOTATIONS.useProxyHealthCheck]: 'true', [ANNOTATIONS.startupFailureSeconds]: 'soon', [ANNOTATIONS.livenessFailureSeconds]: '-3'},
      {containers: [{name: 'web'}]},
    )
    const sidecar = sidecarOf(mutate(template))
    assert.equal(sidecar.startupProbe, undefined)
    assert.equal(sidecar.livenessProbe, undefined)
  })
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_ProxyHealthCheck_Multiport', () => {
  it('one health port, probe and ready address per service', () => {
    const result = mutate(podTemplate({...MULTIPORT_ANNOTATIONS, [ANNOTATIONS.useProxyHealthCheck]: 'true'}, MULTIPORT_SPEC))
    for (const [index, service] of ['web', 'web-admin'].entries()) {
      const sidecar = sidecarOf(result, service)
      assert.ok(sidecar.args.includes(`-envoy-ready-bind-port=${21000 + index}`))
      assert.deepEqual(sidecar.readinessProbe, {httpGet: {port: 21000 + index, path: '/ready'}, initialDelaySeconds: 1})
      assert.deepEqual(sidecar.ports, [{name: `proxy-health-${index}`, containerPort: 21000 + index}])
      assert.ok(sidecar.env.some((env: Json) => env.name === 'DP_ENVOY_READY_BIND_ADDRESS' && env.valueFrom.fieldRef.fieldPath === 'status.podIP'))
    }
  })
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_Multiport', () => {
  for (const acls of [false, true]) {
    it(`acls enabled: ${acls}`, () => {
      const settings = webhookSettings((s) => {
        s.acls = acls
        if (acls) s.authMethod = 'test-auth-method'
      })
      const result = mutate(podTemplate(MULTIPORT_ANNOTATIONS, MULTIPORT_SPEC), settings)
      const login = (token: string) => (acls ? ` -credential-type=login -login-auth-method=test-auth-method -login-bearer-token-path=${token}` : '')
      const expected = [
        `${COMMON_ARGS}-web -log-level=info -log-json=false -envoy-concurrency=0 -graceful-addr=127.0.0.1${login(`${SA_DIR}/token`)} -tls-disabled -envoy-admin-bind-port=19000 -graceful-port=20600 -telemetry-prom-scrape-path=/metrics -- --base-id 0`,
        `${COMMON_ARGS}-web-admin -log-level=info -log-json=false -envoy-concurrency=0 -graceful-addr=127.0.0.1${login('/consul/serviceaccount-web-admin/token')} -tls-disabled -envoy-admin-bind-port=19001 -graceful-port=20601 -telemetry-prom-scrape-path=/metrics -- --base-id 1`,
      ]
      const saMounts = [SA_MOUNT, {name: 'web-admin-service-account', readOnly: true, mountPath: '/consul/serviceaccount-web-admin'}]
      for (const [index, service] of ['web', 'web-admin'].entries()) {
        const sidecar = sidecarOf(result, service)
        assert.equal(argLine(sidecar), expected[index])
        assert.deepEqual(sidecar.volumeMounts, acls ? [DATA_MOUNT, saMounts[index]] : [DATA_MOUNT])
        assert.deepEqual(sidecar.readinessProbe, {tcpSocket: {port: 20000 + index}, initialDelaySeconds: 1})
        assert.equal(sidecar.startupProbe, undefined)
      }
    })
  }
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_withSecurityContext', () => {
  for (const tproxy of [false, true]) {
    it(`tproxy ${tproxy ? 'enabled' : 'disabled'}; openshift disabled`, () => {
      const sidecar = sidecarOf(
        mutate(
          podTemplate({[ANNOTATIONS.service]: 'foo'}, {containers: [{name: 'web'}]}),
          webhookSettings((s) => (s.transparentProxy = tproxy)),
        ),
      )
      assert.deepEqual(sidecar.securityContext, {
        runAsUser: 5995,
        runAsGroup: 5995,
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: {drop: ['ALL']},
        seccompProfile: {type: 'RuntimeDefault'},
      })
    })
  }
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_FailsWith*SecurityContextUID', () => {
  it('FailsWithDuplicatePodSecurityContextUID', () => {
    const error = thrown(InjectError, () => mutate(podTemplate({}, {containers: [{name: 'web'}], securityContext: {runAsUser: 5995}})))
    assert.match(error.message, /securityContext\.runAsUser is 5995/)
  })
  it('FailsWithDuplicateContainerSecurityContextUID/fails with non consul-dataplane image', () => {
    const spec = {
      containers: [
        {name: 'web', securityContext: {runAsUser: 1}},
        {name: 'app', securityContext: {runAsUser: 5995}, image: 'not-consul-dataplane'},
      ],
    }
    const error = thrown(InjectError, () => mutate(podTemplate({}, spec)))
    assert.match(error.message, /container "app" runs as user 5995/)
  })
  it("FailsWithDuplicateContainerSecurityContextUID/doesn't fail with envoy image", () => {
    const spec = {
      containers: [
        {name: 'web', securityContext: {runAsUser: 1}},
        {name: 'sidecar', securityContext: {runAsUser: 5995}, image: 'envoy'},
      ],
    }
    assert.doesNotThrow(() =>
      mutate(
        podTemplate({}, spec),
        webhookSettings((s) => (s.dataplaneImage = 'envoy')),
      ),
    )
  })
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_EnvoyExtraArgs', () => {
  const quoted = '--log-level debug --admin-address-path "/tmp/consul/foo bar"'
  it('no extra options provided', () => {
    assert.ok(!sidecarOf(mutate(podTemplate())).args.includes('--'))
  })
  it('via annotation: multiple arguments with quotes', () => {
    const sidecar = sidecarOf(mutate(podTemplate({[ANNOTATIONS.envoyExtraArgs]: quoted})))
    assert.ok(argLine(sidecar).endsWith(`-- ${quoted}`), argLine(sidecar))
    assert.deepEqual(sidecar.args.slice(-5), ['--', '--log-level', 'debug', '--admin-address-path', '"/tmp/consul/foo bar"'])
  })
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_UserVolumeMounts', () => {
  it('able to set a sidecar container volume mount via annotation', () => {
    const template = podTemplate({
      [ANNOTATIONS.envoyExtraArgs]: '--log-level debug --admin-address-path "/tmp/consul/foo bar"',
      [ANNOTATIONS.userVolumeMount]: '[{"name": "tls-cert", "mountPath": "/custom/path"}, {"name": "tls-ca", "mountPath": "/custom/path2"}]',
    })
    assert.deepEqual(sidecarOf(mutate(template)).volumeMounts, [
      DATA_MOUNT,
      {name: 'tls-cert', mountPath: '/custom/path'},
      {name: 'tls-ca', mountPath: '/custom/path2'},
    ])
  })
  it('invalid annotation results in error', () => {
    const error = thrown(AnnotationError, () => mutate(podTemplate({[ANNOTATIONS.userVolumeMount]: '[abcdefg]'})))
    assert.equal(error.annotation, ANNOTATIONS.userVolumeMount)
  })
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_Resources', () => {
  const resources = (annotations: Record<string, string>) => sidecarOf(mutate(podTemplate(annotations, {containers: [{name: 'web'}]}))).resources
  it('no defaults, no annotations', () => {
    // Go's empty Limits/Requests maps serialize to nothing; consulk8s leaves resources out.
    assert.equal(resources({}), undefined)
  })
  it('no defaults, all annotations', () => {
    assert.deepEqual(
      resources({
        [ANNOTATIONS.cpuRequest]: '100m',
        [ANNOTATIONS.memoryRequest]: '100Mi',
        [ANNOTATIONS.cpuLimit]: '200m',
        [ANNOTATIONS.memoryLimit]: '200Mi',
      }),
      {limits: {cpu: '200m', memory: '200Mi'}, requests: {cpu: '100m', memory: '100Mi'}},
    )
  })
  it('annotations set to 0', () => {
    assert.deepEqual(
      resources({[ANNOTATIONS.cpuRequest]: '0', [ANNOTATIONS.memoryRequest]: '0', [ANNOTATIONS.cpuLimit]: '0', [ANNOTATIONS.memoryLimit]: '0'}),
      {limits: {cpu: '0', memory: '0'}, requests: {cpu: '0', memory: '0'}},
    )
  })
  for (const [name, key] of [
    ['invalid cpu request', ANNOTATIONS.cpuRequest],
    ['invalid cpu limit', ANNOTATIONS.cpuLimit],
    ['invalid memory request', ANNOTATIONS.memoryRequest],
    ['invalid memory limit', ANNOTATIONS.memoryLimit],
  ]) {
    it(name, () => {
      assert.equal(thrown(AnnotationError, () => resources({[key]: 'invalid'})).annotation, key)
    })
  }
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_Lifecycle', () => {
  const configured = (s: InjectSettings, enabled: boolean) => {
    s.lifecycle = {
      enabled,
      drainListeners: true,
      shutdownGracePeriodSeconds: 10,
      startupGracePeriodSeconds: 10,
      gracefulPort: 20307,
      shutdownPath: '/exit',
      startupPath: '/start',
    }
  }
  const all = {
    [ANNOTATIONS.lifecycle]: 'true',
    [ANNOTATIONS.lifecycleDrainListeners]: 'true',
    [ANNOTATIONS.lifecycleShutdownGrace]: '10',
    [ANNOTATIONS.lifecycleStartupGrace]: '10',
    [ANNOTATIONS.lifecycleGracefulPort]: '20307',
    [ANNOTATIONS.lifecycleShutdownPath]: '/exit',
    [ANNOTATIONS.lifecycleStartupPath]: '/start',
  }
  const full =
    '-graceful-port=20307 -shutdown-drain-listeners -shutdown-grace-period-seconds=10 -graceful-shutdown-path=/exit -startup-grace-period-seconds=10 -graceful-startup-path=/start'
  const cases: Array<[string, (s: InjectSettings) => void, Record<string, string>, string, string[]]> = [
    ['no defaults, no annotations', () => {}, {}, '-graceful-port=20600 -telemetry', ['-shutdown-grace-period-seconds']],
    ['all defaults, no annotations', (s) => configured(s, true), {}, full, []],
    ['no defaults, all annotations', () => {}, all, full, []],
    [
      'annotations override defaults',
      (s) => configured(s, false),
      {
        [ANNOTATIONS.lifecycle]: 'true',
        [ANNOTATIONS.lifecycleDrainListeners]: 'false',
        [ANNOTATIONS.lifecycleShutdownGrace]: '15',
        [ANNOTATIONS.lifecycleStartupGrace]: '15',
        [ANNOTATIONS.lifecycleGracefulPort]: '20317',
        [ANNOTATIONS.lifecycleShutdownPath]: '/foo',
        [ANNOTATIONS.lifecycleStartupPath]: '/bar',
      },
      '-graceful-port=20317 -shutdown-grace-period-seconds=15 -graceful-shutdown-path=/foo -startup-grace-period-seconds=15 -graceful-startup-path=/bar',
      ['-shutdown-drain-listeners'],
    ],
    ['lifecycle disabled, no annotations', (s) => configured(s, false), {}, '-graceful-port=20307 -telemetry', ['-shutdown-grace-period-seconds']],
    ['lifecycle enabled, defaults omited, no annotations', (s) => (s.lifecycle.enabled = true), {}, '-shutdown-grace-period-seconds=0', []],
    [
      'annotations disable lifecycle default',
      (s) => configured(s, true),
      {[ANNOTATIONS.lifecycle]: 'false'},
      '-graceful-port=20307 -telemetry',
      ['-shutdown-drain-listeners'],
    ],
    [
      'annotations skip graceful shutdown',
      (s) => ((s.lifecycle.drainListeners = true), (s.lifecycle.shutdownGracePeriodSeconds = 10)),
      {[ANNOTATIONS.lifecycle]: 'false', [ANNOTATIONS.lifecycleDrainListeners]: 'false', [ANNOTATIONS.lifecycleShutdownGrace]: '0'},
      '-graceful-port=20600',
      ['-shutdown-drain-listeners', '-shutdown-grace-period-seconds'],
    ],
  ]
  for (const [name, change, annotations, expected, absent] of cases) {
    it(name, () => {
      const line = argLine(sidecarOf(mutate(podTemplate(annotations, {containers: [{name: 'web'}]}), webhookSettings(change))))
      assert.ok(line.includes(expected), `${line}\n  lacks ${expected}`)
      for (const flag of absent) assert.ok(!line.includes(flag), `${line}\n  has ${flag}`)
    })
  }
})

describe('consul_dataplane_sidecar_test.go: TestHandlerConsulDataplaneSidecar_LifecycleConfig and the probe getters', () => {
  const exec = {exec: {command: ['/usr/local/bin/consul-dataplane', '-check-proxy-health']}}
  const asSidecar = (s: InjectSettings, timeoutSeconds: number, failureThreshold: number, periodSeconds = 0) => {
    s.dataplaneAsSidecar = {enabled: true, initialDelaySeconds: 0, periodSeconds, failureThreshold, timeoutSeconds}
  }
  it('when lifecycle enabled', () => {
    const sidecar = sidecarOf(
      mutate(
        podTemplate(),
        webhookSettings((s) => asSidecar(s, 5, 3)),
      ),
    )
    assert.equal(sidecar.restartPolicy, 'Always')
    assert.deepEqual(sidecar.startupProbe, {...exec, timeoutSeconds: 5, failureThreshold: 3})
  })
  it('when lifecycle disabled', () => {
    const sidecar = sidecarOf(mutate(podTemplate()))
    assert.equal(sidecar.restartPolicy, undefined)
    assert.equal(sidecar.startupProbe, undefined)
  })
  it('with custom probe settings from annotations', () => {
    const template = podTemplate({[ANNOTATIONS.probeTimeout]: '10', [ANNOTATIONS.probeFailureThreshold]: '6'})
    const result = mutate(
      template,
      webhookSettings((s) => asSidecar(s, 5, 3)),
    )
    const sidecar = sidecarOf(result)
    assert.equal(sidecar.restartPolicy, 'Always')
    assert.deepEqual(sidecar.startupProbe, {...exec, timeoutSeconds: 10, failureThreshold: 6})
    assert.deepEqual(names(result.template.spec!.initContainers), ['consul-connect-inject-init', 'consul-dataplane'])
  })
  for (const [test, key, field, fallback, override] of [
    ['TestMeshWebhook_getSidecarProbePeriodSeconds', ANNOTATIONS.probePeriod, 'periodSeconds', 5, '10'],
    ['TestMeshWebhook_getSidecarProbeFailureThreshold', ANNOTATIONS.probeFailureThreshold, 'failureThreshold', 3, '8'],
    ['TestMeshWebhook_getSidecarProbeTimeoutSeconds', ANNOTATIONS.probeTimeout, 'timeoutSeconds', 7, '12'],
  ] as const) {
    it(`${test}: default, annotation, "0" and "invalid" (0: not set)`, () => {
      const settings = webhookSettings((s) => {
        s.dataplaneAsSidecar = {enabled: true, initialDelaySeconds: 0, periodSeconds: 0, failureThreshold: 0, timeoutSeconds: 0}
        s.dataplaneAsSidecar[field] = fallback
      })
      const probe = (annotations: Record<string, string>) => sidecarOf(mutate(podTemplate(annotations), settings)).startupProbe
      assert.equal(probe({})[field], fallback)
      assert.equal(probe({[key]: override})[field], Number(override))
      assert.equal(probe({[key]: '0'})[field], undefined)
      assert.equal(probe({[key]: 'invalid'})[field], undefined)
    })
  }
})

describe('container_init_test.go: TestHandlerContainerInit', () => {
  const base = (timeout: string) => [
    {name: 'CONSUL_ADDRESSES', value: '10.0.0.0'},
    {name: 'CONSUL_GRPC_PORT', value: '8502'},
    {name: 'CONSUL_HTTP_PORT', value: '8500'},
    {name: 'CONSUL_API_TIMEOUT', value: timeout},
    {name: 'CONSUL_NODE_NAME', value: '$(NODE_NAME)-virtual'},
    {name: 'CONSUL_DUAL_STACK', value: 'false'},
  ]
  it('default cmd and env', () => {
    const init = initOf(
      mutate(
        podTemplate({[ANNOTATIONS.service]: 'web'}),
        webhookSettings((s) => (s.consulAddress = '10.0.0.0')),
      ),
    )
    assert.ok(
      init.command
        .join(' ')
        .includes(
          '/bin/sh -ec consul-k8s-control-plane connect-init -pod-name=${POD_NAME} -pod-namespace=${POD_NAMESPACE} \\\n  -log-level=info \\\n  -log-json=false \\',
        ),
    )
    assert.deepEqual(init.env.slice(3), base('0s'))
    assert.deepEqual(
      init.env.slice(0, 3).map((env: Json) => [env.name, env.valueFrom.fieldRef.fieldPath]),
      [
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
        ['NODE_NAME', 'spec.nodeName'],
      ],
    )
  })
  it('with auth method', () => {
    const spec = {
      containers: [{name: 'web', volumeMounts: [{name: 'sa', mountPath: SA_DIR}]}, {name: 'web-side'}],
      serviceAccountName: 'a-service-account-name',
    }
    const settings = webhookSettings((s) => {
      s.acls = true
      s.authMethod = 'an-auth-method'
      s.consulAddress = '10.0.0.0'
      s.apiTimeout = '5s'
      s.logLevel = 'debug'
      s.logJSON = true
    })
    const init = initOf(mutate(podTemplate({[ANNOTATIONS.service]: 'web'}, spec), settings))
    assert.ok(
      init.command
        .join(' ')
        .includes(
          '-pod-namespace=${POD_NAMESPACE} \\\n  -log-level=debug \\\n  -log-json=true \\\n  -service-account-name="a-service-account-name" \\\n  -service-name="web" \\',
        ),
    )
    assert.deepEqual(init.env.slice(3), [
      ...base('5s'),
      {name: 'CONSUL_LOGIN_AUTH_METHOD', value: 'an-auth-method'},
      {name: 'CONSUL_LOGIN_BEARER_TOKEN_FILE', value: `${SA_DIR}/token`},
      {name: 'CONSUL_LOGIN_META', value: 'pod=$(POD_NAMESPACE)/$(POD_NAME)'},
    ])
    assert.deepEqual(init.volumeMounts, [DATA_MOUNT, {name: 'sa', mountPath: SA_DIR}])
  })
})

describe('container_init_test.go: TestHandlerContainerInit_transparentProxy (CNI and OpenShift entries skipped)', () => {
  const root = {runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, privileged: false, capabilities: {add: ['NET_ADMIN']}}
  const restricted = {
    allowPrivilegeEscalation: false,
    capabilities: {add: [], drop: ['ALL']},
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    seccompProfile: {type: 'RuntimeDefault'},
  }
  const cases: Array<[string, boolean, string | undefined, string | undefined, boolean]> = [
    ['enabled globally, ns not set, annotation not provided', true, undefined, undefined, true],
    ['enabled globally, ns not set, annotation is false', true, 'false', undefined, false],
    ['enabled globally, ns not set, annotation is true', true, 'true', undefined, true],
    ['disabled globally, ns not set, annotation not provided', false, undefined, undefined, false],
    ['disabled globally, ns not set, annotation is false', false, 'false', undefined, false],
    ['disabled globally, ns not set, annotation is true', false, 'true', undefined, true],
    ['disabled globally, ns enabled, annotation not set', false, undefined, 'true', true],
    ['enabled globally, ns disabled, annotation not set', true, undefined, 'false', false],
  ]
  for (const [name, global, annotation, label, expected] of cases) {
    it(`${name}, cni disabled, openshift disabled`, () => {
      const annotations: Record<string, string> = annotation === undefined ? {} : {[ANNOTATIONS.transparentProxy]: annotation}
      const labels = label === undefined ? undefined : {'consul.hashicorp.com/transparent-proxy': label}
      const init = initOf(
        mutate(
          podTemplate(annotations),
          webhookSettings((s) => (s.transparentProxy = global)),
          labels,
        ),
      )
      assert.equal(envValue(init, 'CONSUL_REDIRECT_TRAFFIC_CONFIG') !== undefined, expected)
      assert.deepEqual(init.securityContext, expected ? root : restricted)
    })
  }
})

describe('container_init_test.go: TestHandlerContainerInit_Multiport', () => {
  const head =
    '/bin/sh -ec consul-k8s-control-plane connect-init -pod-name=${POD_NAME} -pod-namespace=${POD_NAMESPACE} \\\n  -log-level=info \\\n  -log-json=false \\\n'
  it('Whole template, multiport', () => {
    const result = mutate(
      podTemplate(MULTIPORT_ANNOTATIONS, MULTIPORT_SPEC),
      webhookSettings((s) => (s.consulAddress = '10.0.0.0')),
    )
    for (const service of ['web', 'web-admin']) {
      assert.equal(
        initOf(result, service).command.join(' '),
        `${head}  -multiport=true \\\n  -proxy-id-file=/consul/connect-inject/proxyid-${service} \\\n  -service-name="${service}" \\`,
      )
    }
  })
  it('Whole template, multiport, auth method', () => {
    const settings = webhookSettings((s) => ((s.acls = true), (s.authMethod = 'auth-method'), (s.apiTimeout = '5s')))
    const result = mutate(podTemplate(MULTIPORT_ANNOTATIONS, MULTIPORT_SPEC), settings)
    const tokens = [`${SA_DIR}/token`, '/consul/serviceaccount-web-admin/token']
    for (const [index, service] of ['web', 'web-admin'].entries()) {
      const init = initOf(result, service)
      assert.equal(
        init.command.join(' '),
        `${head}  -service-account-name="${service}" \\\n  -service-name="${service}" \\\n  -multiport=true \\\n  -proxy-id-file=/consul/connect-inject/proxyid-${service} \\`,
      )
      assert.equal(envValue(init, 'CONSUL_LOGIN_BEARER_TOKEN_FILE'), tokens[index])
    }
  })
})

describe('container_init_test.go: TestHandlerContainerInit_WithTLSAndCustomPorts', () => {
  for (const caProvided of [true, false]) {
    it(`ca provided: ${caProvided}`, () => {
      const settings = webhookSettings((s) => {
        s.consulAddress = '10.0.0.0'
        s.httpPort = 443
        s.grpcPort = 8503
        s.tls = {enabled: true, caCertPem: caProvided ? 'consul-ca-cert' : undefined}
      })
      const init = initOf(mutate(podTemplate({[ANNOTATIONS.service]: 'foo'}, {containers: [{name: 'web'}]}), settings))
      const at = (index: number) => [init.env[index].name, init.env[index].value]
      assert.deepEqual(at(3), ['CONSUL_ADDRESSES', '10.0.0.0'])
      assert.deepEqual(at(4), ['CONSUL_GRPC_PORT', '8503'])
      assert.deepEqual(at(5), ['CONSUL_HTTP_PORT', '443'])
      assert.deepEqual(at(9), ['CONSUL_USE_TLS', 'true'])
      if (caProvided) assert.deepEqual(at(10), ['CONSUL_CACERT_PEM', 'consul-ca-cert'])
      else assert.ok(!envValue(init, 'CONSUL_CACERT_PEM'))
    })
  }
})

describe('container_init_test.go: TestHandlerContainerInit_Resources', () => {
  it('the configured init container resources', () => {
    const resources = {requests: {cpu: '10m', memory: '10Mi'}, limits: {cpu: '20m', memory: '25Mi'}}
    const init = initOf(
      mutate(
        podTemplate({[ANNOTATIONS.service]: 'foo'}),
        webhookSettings((s) => (s.initResources = resources)),
      ),
    )
    assert.deepEqual(init.resources, resources)
  })
})

describe('container_env_test.go: TestContainerEnvVars', () => {
  const upstreamEnv = (upstreams: string) => {
    const result = mutate(podTemplate({[ANNOTATIONS.service]: 'foo', [ANNOTATIONS.upstreams]: upstreams}))
    return containerNamed(result, 'web').env
  }
  const pair = (name: string, port: string) => [
    {name: `${name}_CONNECT_SERVICE_HOST`, value: '127.0.0.1'},
    {name: `${name}_CONNECT_SERVICE_PORT`, value: port},
  ]
  const cases: Array<[string, string, Json[]]> = [
    ['Upstream with datacenter', 'static-server:7890:dc1', pair('STATIC_SERVER', '7890')],
    ['Upstream without datacenter', 'static-server:7890', pair('STATIC_SERVER', '7890')],
    [
      'Multiple upstreams comma separated',
      'static-server:7890, static-server2:7892',
      [...pair('STATIC_SERVER', '7890'), ...pair('STATIC_SERVER2', '7892')],
    ],
    [
      'Multiple upstreams comma separated (and space separated)',
      'static-server:7890, static-server2:7892 static-server3:7893',
      [...pair('STATIC_SERVER', '7890'), ...pair('STATIC_SERVER2', '7892'), ...pair('STATIC_SERVER3', '7893')],
    ],
    [
      'Multiple upstreams comma separated and carriage return',
      'static-server:7890,\n                       static-server2:7892\n                       static-server3:7893',
      [...pair('STATIC_SERVER', '7890'), ...pair('STATIC_SERVER2', '7892'), ...pair('STATIC_SERVER3', '7893')],
    ],
  ]
  for (const [name, upstreams, expected] of cases) {
    it(name, () => {
      assert.deepEqual(upstreamEnv(upstreams), expected)
    })
  }
  it('Multiple upstreams comma separated and carriage return malformed upstream: refused (the webhook skips the entry)', () => {
    // Deliberate difference (docs/inject.md "Malformed annotations"): the webhook only logs and
    // skips "static-server7890" here, and the endpoints controller then fails on it; consulk8s
    // refuses the workload and names the annotation.
    const error = thrown(AnnotationError, () => upstreamEnv('static-server7890,\n                       static-server2:7892\nstatic-server3:7893'))
    assert.equal(error.annotation, ANNOTATIONS.upstreams)
    assert.match(error.message, /static-server7890/)
  })
})

describe('redirect_traffic_test.go: TestAddRedirectTrafficConfig', () => {
  const base = {
    ConsulDNSIP: '',
    ConsulDNSPort: 0,
    ProxyUserID: '5995',
    ProxyInboundPort: 20000,
    ProxyOutboundPort: 15001,
    ExcludeInboundPorts: null,
    ExcludeOutboundPorts: null,
    ExcludeOutboundCIDRs: null,
    ExcludeUIDs: ['5996'],
    NetNS: '',
    IptablesProvider: null,
  }
  const config = (annotations: Record<string, string>, containers: Json[] = [{name: 'test'}]) => {
    const init = initOf(
      mutate(
        podTemplate(annotations, {containers}),
        webhookSettings((s) => (s.transparentProxy = true)),
      ),
    )
    return JSON.parse(envValue(init, 'CONSUL_REDIRECT_TRAFFIC_CONFIG')!)
  }
  const cases: Array<[string, Record<string, string>, Json, Json[]?]> = [
    ['basic bare minimum pod', {}, {}],
    ['proxy health checks enabled', {[ANNOTATIONS.useProxyHealthCheck]: 'true'}, {ExcludeInboundPorts: ['21000']}],
    [
      'overwrite probes, transparent proxy annotation set',
      {[ANNOTATIONS.overwriteProbes]: 'true', [ANNOTATIONS.transparentProxy]: 'true'},
      {ExcludeInboundPorts: ['20300']},
      [{name: 'test', livenessProbe: {httpGet: {port: 20300}}}],
    ],
    ['exclude inbound ports', {[ANNOTATIONS.excludeInboundPorts]: '1111,11111'}, {ExcludeInboundPorts: ['1111', '11111']}],
    ['exclude outbound ports', {[ANNOTATIONS.excludeOutboundPorts]: '2222,22222'}, {ExcludeOutboundPorts: ['2222', '22222']}],
    ['exclude outbound CIDRs', {[ANNOTATIONS.excludeOutboundCIDRs]: '3.3.3.3,3.3.3.3/24'}, {ExcludeOutboundCIDRs: ['3.3.3.3', '3.3.3.3/24']}],
    // The table lists ["4444","44444","5996"] but never checks it (assert.ObjectsAreEqual's result
    // is dropped); the webhook's code puts connect-init's 5996 first, and so does consulk8s.
    ['exclude UIDs', {[ANNOTATIONS.excludeUIDs]: '4444,44444'}, {ExcludeUIDs: ['5996', '4444', '44444']}],
    [
      'exclude inbound ports, outbound ports, outbound CIDRs, and UIDs',
      {
        [ANNOTATIONS.excludeInboundPorts]: '1111,11111',
        [ANNOTATIONS.excludeOutboundPorts]: '2222,22222',
        [ANNOTATIONS.excludeOutboundCIDRs]: '3.3.3.3,3.3.3.3/24',
        [ANNOTATIONS.excludeUIDs]: '4444,44444',
      },
      {
        ExcludeInboundPorts: ['1111', '11111'],
        ExcludeOutboundPorts: ['2222', '22222'],
        ExcludeOutboundCIDRs: ['3.3.3.3', '3.3.3.3/24'],
        ExcludeUIDs: ['5996', '4444', '44444'],
      },
    ],
  ]
  for (const [name, annotations, expected, containers] of cases) {
    it(name, () => {
      assert.deepEqual(config(annotations, containers), {...base, ...expected})
    })
  }
  it('metrics enabled with incorrect annotation', () => {
    const error = thrown(AnnotationError, () =>
      config({[ANNOTATIONS.enableMetrics]: 'invalid', 'consul.hashicorp.com/prometheus-scrape-port': '13373'}),
    )
    assert.equal(error.annotation, ANNOTATIONS.enableMetrics)
  })
})

describe('mesh_webhook_test.go: TestHandlerHandle (the mutation of each admitted pod)', () => {
  const basic = {containers: [{name: 'web'}]}
  const injectedMarks = (result: ReturnType<typeof mutate>) => {
    const meta = result.template.metadata!
    assert.equal(meta.annotations![ANNOTATIONS.injectStatus], 'injected')
    assert.ok(meta.annotations![ANNOTATIONS.originalPod], 'original-pod is always set')
    // consul-k8s-version (and the legacy connect-k8s-version): the endpoints controller registers a pod only with one.
    assert.equal(meta.annotations![ANNOTATIONS.consulK8sVersion], 'v2.0.3')
    assert.equal(meta.annotations![ANNOTATIONS.legacyConsulK8sVersion], 'v2.0.3')
    assert.equal(meta.annotations![ANNOTATIONS.dualStack], 'false')
    assert.equal(meta.labels![ANNOTATIONS.injectStatus], 'injected')
    assert.equal(meta.labels!['consul.hashicorp.com/connect-inject-managed-by'], 'consul-k8s-endpoints-controller')
  }
  it('empty pod basic', () => {
    const result = mutate(podTemplate({}, basic))
    injectedMarks(result)
    const spec = result.template.spec!
    assert.deepEqual(spec.volumes, [{name: 'consul-connect-inject-data', emptyDir: {medium: 'Memory'}}])
    assert.deepEqual(names(spec.initContainers), ['consul-connect-inject-init'])
    assert.deepEqual(names(spec.containers), ['web', 'consul-dataplane'])
    assert.equal(result.template.metadata!.annotations![ANNOTATIONS.transparentProxyStatus], undefined)
  })
  it('empty pod basic with lifecycle', () => {
    const result = mutate(
      podTemplate({}, basic),
      webhookSettings((s) => (s.lifecycle.enabled = true)),
    )
    assert.deepEqual(names(result.template.spec!.containers), ['consul-dataplane', 'web'])
  })
  it('pod with upstreams specified', () => {
    const result = mutate(podTemplate({[ANNOTATIONS.upstreams]: 'echo:1234,db:1234'}, basic))
    injectedMarks(result)
    assert.deepEqual(containerNamed(result, 'web').env, [
      {name: 'ECHO_CONNECT_SERVICE_HOST', value: '127.0.0.1'},
      {name: 'ECHO_CONNECT_SERVICE_PORT', value: '1234'},
      {name: 'DB_CONNECT_SERVICE_HOST', value: '127.0.0.1'},
      {name: 'DB_CONNECT_SERVICE_PORT', value: '1234'},
    ])
  })
  it('pod with empty volume mount annotation', () => {
    const result = mutate(podTemplate({[ANNOTATIONS.mountVolume]: ''}, basic))
    assert.equal(containerNamed(result, 'web').volumeMounts, undefined)
  })
  it('pod with volume mount annotation', () => {
    const spec = {containers: [{name: 'web'}, {name: 'web_two_point_oh'}, {name: 'web_three_point_oh'}]}
    const result = mutate(podTemplate({[ANNOTATIONS.mountVolume]: 'web,unknown,web_three_point_oh'}, spec))
    assert.deepEqual(containerNamed(result, 'web').volumeMounts, [DATA_MOUNT])
    assert.equal(containerNamed(result, 'web_two_point_oh').volumeMounts, undefined)
    assert.deepEqual(containerNamed(result, 'web_three_point_oh').volumeMounts, [DATA_MOUNT])
    assert.deepEqual(names(result.template.spec!.containers), ['web', 'web_two_point_oh', 'web_three_point_oh', 'consul-dataplane'])
  })
  it('pod with sidecar volume mount annotation', () => {
    const result = mutate(podTemplate({[ANNOTATIONS.userVolume]: '[{"name":"bbb","csi":{"driver":"bob"}}]'}, basic))
    assert.deepEqual(result.template.spec!.volumes, [
      {name: 'consul-connect-inject-data', emptyDir: {medium: 'Memory'}},
      {name: 'bbb', csi: {driver: 'bob'}},
    ])
  })
  it('pod with sidecar invalid volume mount annotation', () => {
    const error = thrown(AnnotationError, () => mutate(podTemplate({[ANNOTATIONS.userVolume]: '[a]'}, basic)))
    assert.equal(error.annotation, ANNOTATIONS.userVolume)
  })
  it('pod with service annotation', () => {
    const result = mutate(podTemplate({[ANNOTATIONS.service]: 'foo'}, basic))
    injectedMarks(result)
    assert.equal(result.template.metadata!.annotations![ANNOTATIONS.service], 'foo')
  })
  it('pod with existing label', () => {
    const template = podTemplate({}, basic)
    template.metadata!.labels = {testLabel: '123'}
    const result = mutate(template)
    assert.deepEqual(result.template.metadata!.labels, {
      testLabel: '123',
      'consul.hashicorp.com/connect-inject-status': 'injected',
      'consul.hashicorp.com/connect-inject-managed-by': 'consul-k8s-endpoints-controller',
    })
  })
  it('tproxy with overwriteProbes is enabled', () => {
    const spec = {containers: [{name: 'web', livenessProbe: {httpGet: {port: 8080}}, readinessProbe: {httpGet: {port: 8081}}}]}
    const result = mutate(
      podTemplate({}, spec),
      webhookSettings((s) => ((s.transparentProxy = true), (s.overwriteProbes = true))),
    )
    injectedMarks(result)
    assert.equal(result.template.metadata!.annotations![ANNOTATIONS.transparentProxyStatus], 'enabled')
    const web = containerNamed(result, 'web')
    assert.equal(web.livenessProbe.httpGet.port, 20300)
    assert.equal(web.readinessProbe.httpGet.port, 20400)
    const original = JSON.parse(result.template.metadata!.annotations![ANNOTATIONS.originalPod])
    assert.equal(original.spec.containers[0].livenessProbe.httpGet.port, 8080)
  })
  it('multiport pod kube 1.24 with AuthMethod, serviceaccount does not have secret ref', () => {
    const settings = webhookSettings((s) => ((s.acls = true), (s.authMethod = 'k8s')))
    const result = mutate(podTemplate(MULTIPORT_ANNOTATIONS, basic), settings)
    const spec = result.template.spec!
    assert.deepEqual(names(spec.initContainers), ['consul-connect-inject-init-web', 'consul-connect-inject-init-web-admin'])
    assert.deepEqual(names(spec.containers), ['web', 'consul-dataplane-web', 'consul-dataplane-web-admin'])
    // No serviceAccountName: both services log in with the token Secret named like them.
    assert.deepEqual(spec.volumes.slice(1), [
      {name: 'web-service-account', secret: {secretName: 'web'}},
      {name: 'web-admin-service-account', secret: {secretName: 'web-admin'}},
    ])
  })
  it('multiport pod with AuthMethod, lifecycle enabled: the sidecars come first', () => {
    const settings = webhookSettings((s) => ((s.acls = true), (s.authMethod = 'k8s'), (s.lifecycle.enabled = true)))
    const result = mutate(podTemplate(MULTIPORT_ANNOTATIONS, basic), settings)
    assert.deepEqual(names(result.template.spec!.containers), ['consul-dataplane-web', 'consul-dataplane-web-admin', 'web'])
  })
})

describe('the consul-k8s-version annotation (version.GetHumanVersion of the injector)', () => {
  it('is the connect-init image tag when it is a version, else the default image version', () => {
    for (const [image, version] of [
      ['hashicorp/consul-k8s-control-plane:2.0.3', 'v2.0.3'],
      ['registry.local:5000/consul-k8s-control-plane:v2.0.3', 'v2.0.3'],
      ['hashicorp/consul-k8s-control-plane:1.10.0-rc1', 'v1.10.0-rc1'],
      ['hashicorp/consul-k8s-control-plane:latest', 'v2.0.3'],
      ['registry.local:5000/consul-k8s-control-plane', 'v2.0.3'],
      ['hashicorp/consul-k8s-control-plane@sha256:0123abcd', 'v2.0.3'],
    ]) {
      assert.equal(consulK8sVersion(image), version, image)
    }
  })
})

describe('mesh_webhook_test.go: TestHandlerHandle_ValidateOverwriteProbes', () => {
  it('tproxy with overwriteProbes is enabled', () => {
    const spec = {
      containers: [
        {
          name: 'web',
          livenessProbe: {httpGet: {port: 8080}},
          readinessProbe: {httpGet: {port: 8081}},
          startupProbe: {httpGet: {port: 8082}},
        },
      ],
    }
    const settings = webhookSettings((s) => ((s.transparentProxy = true), (s.overwriteProbes = true), (s.lifecycle.enabled = true)))
    const template = podTemplate({foo: 'bar'}, spec)
    template.metadata!.labels = {}
    const result = mutate(template, settings)
    const init = result.template.spec!.initContainers[0]
    assert.equal(init.env[9].name, 'CONSUL_REDIRECT_TRAFFIC_CONFIG')
    const web = result.template.spec!.containers[1]
    assert.equal(web.name, 'web')
    const rewritten = [web.livenessProbe, web.readinessProbe, web.startupProbe].map((probe: Json) => String(probe.httpGet.port))
    assert.deepEqual(rewritten, ['20300', '20400', '20500'])
    assert.deepEqual([...JSON.parse(init.env[9].value).ExcludeInboundPorts].sort(), [...rewritten].sort())
    assert.equal(result.template.metadata!.annotations!.foo, 'bar')
  })
})

describe('mesh_webhook_test.go: TestHandlerDefaultAnnotations', () => {
  const cases: Array<[string, Record<string, string>, Json[], string | undefined]> = [
    ['empty', {}, [], undefined],
    ['basic pod, no ports', {}, [{name: 'web'}, {name: 'web-side'}], undefined],
    ['basic pod, name annotated', {[ANNOTATIONS.service]: 'foo'}, [{name: 'web'}, {name: 'web-side'}], undefined],
    ['basic pod, with ports', {}, [{name: 'web', ports: [{name: 'http', containerPort: 8080}]}, {name: 'web-side'}], 'http'],
    [
      'basic pod, with multiple named ports',
      {},
      [
        {
          name: 'web',
          ports: [
            {name: 'http', containerPort: 8080},
            {name: 'metrics', containerPort: 9090},
            {name: 'admin', containerPort: 9292},
          ],
        },
        {name: 'web-side'},
      ],
      'http,metrics,admin',
    ],
    ['basic pod, with unnamed ports', {}, [{name: 'web', ports: [{containerPort: 8080}]}, {name: 'web-side'}], '8080'],
    [
      'basic pod, with multiple unnamed ports',
      {},
      [{name: 'web', ports: [{containerPort: 8080}, {containerPort: 9090}, {containerPort: 9292}]}, {name: 'web-side'}],
      '8080,9090,9292',
    ],
  ]
  for (const [name, annotations, containers, port] of cases) {
    it(name, () => {
      const template = podTemplate(annotations, {containers})
      const result = mutate(template)
      const after = result.template.metadata!.annotations!
      assert.equal(after[ANNOTATIONS.port], port)
      for (const [key, value] of Object.entries(annotations)) assert.equal(after[key], value)
      // The pod as it was before defaulting (consulk8s writes the template's metadata and spec).
      assert.deepEqual(JSON.parse(after[ANNOTATIONS.originalPod]), {metadata: template.metadata, spec: template.spec, status: {}})
    })
  }
})

describe('mesh_webhook_test.go: TestOverwriteProbes', () => {
  const probes = (port: number) => ({
    livenessProbe: {httpGet: {port: port + 1}},
    readinessProbe: {httpGet: {port}},
  })
  const container = (name: string, port: number, extra: Json = {}) => ({
    name,
    ports: [
      {name: 'tcp', containerPort: port + 1},
      {name: 'http', containerPort: port},
    ],
    ...extra,
  })
  const ports = (result: ReturnType<typeof mutate>, name: string) => {
    const found = containerNamed(result, name)
    return ['livenessProbe', 'readinessProbe', 'startupProbe'].map((probe) => found[probe]?.httpGet.port)
  }
  const run = (tproxy: boolean, overwrite: boolean, containers: Json[]) =>
    mutate(
      podTemplate({}, {containers}),
      webhookSettings((s) => ((s.transparentProxy = tproxy), (s.overwriteProbes = overwrite))),
    )
  it('transparent proxy disabled; overwrites probes disabled', () => {
    assert.deepEqual(ports(run(false, false, [container('test', 8080, probes(8080))]), 'test'), [8081, 8080, undefined])
  })
  it('transparent proxy enabled; overwrite probes disabled', () => {
    assert.deepEqual(ports(run(true, false, [container('test', 8080, probes(8080))]), 'test'), [8081, 8080, undefined])
  })
  it('transparent proxy disabled; overwrite probes enabled', () => {
    assert.deepEqual(ports(run(false, true, [container('test', 8080, probes(8080))]), 'test'), [8081, 8080, undefined])
  })
  it('just the readiness probe', () => {
    assert.deepEqual(ports(run(true, true, [container('test', 8080, {readinessProbe: {httpGet: {port: 8080}}})]), 'test'), [
      undefined,
      20400,
      undefined,
    ])
  })
  it('just the liveness probe', () => {
    assert.deepEqual(ports(run(true, true, [container('test', 8080, {livenessProbe: {httpGet: {port: 8081}}})]), 'test'), [
      20300,
      undefined,
      undefined,
    ])
  })
  it('skips envoy sidecar: a template that already has a consul-dataplane container is refused', () => {
    // Deliberate (docs/inject.md "Malformed annotations"): the webhook skips that container when
    // rewriting probes; consulk8s refuses a template carrying an injected container name without
    // the status annotation (its sidecar would clash with it).
    const error = thrown(InjectError, () => run(true, true, [{name: 'consul-dataplane'}]))
    assert.match(error.message, /already has a container named consul-dataplane/)
  })
  it('readiness, liveness and startup probes', () => {
    const probed = container('test', 8080, {...probes(8080), startupProbe: {httpGet: {port: 8080}}})
    assert.deepEqual(ports(run(true, true, [probed]), 'test'), [20300, 20400, 20500])
  })
  it('readiness, liveness and startup probes multiple containers', () => {
    const first = container('test', 8080, {...probes(8080), startupProbe: {httpGet: {port: 8080}}})
    const second = container('test-2', 8082, {...probes(8082), startupProbe: {httpGet: {port: 8082}}})
    const result = run(true, true, [first, second])
    assert.deepEqual(ports(result, 'test'), [20300, 20400, 20500])
    assert.deepEqual(ports(result, 'test-2'), [20301, 20401, 20501])
  })
})

describe('mesh_webhook_test.go: TestHandler_checkUnsupportedMultiPortCases', () => {
  const multiPort = (annotations: Record<string, string>) => () =>
    mutate(
      podTemplate({...MULTIPORT_ANNOTATIONS, ...annotations}, MULTIPORT_SPEC),
      webhookSettings((s) => (s.transparentProxy = false)),
    )
  for (const [name, key] of [
    ['tproxy', ANNOTATIONS.transparentProxy],
    ['metrics', ANNOTATIONS.enableMetrics],
    ['metrics merging', ANNOTATIONS.enableMetricsMerging],
  ] as const) {
    it(name, () => {
      const error = thrown(AnnotationError, multiPort({[key]: 'true'}))
      assert.equal(error.annotation, key)
      assert.match(error.message, /multi-port pods.* cannot use/)
    })
  }
})
