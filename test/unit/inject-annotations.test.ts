import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  ANNOTATIONS,
  AnnotationError,
  boolAnnotation,
  parseServiceNames,
  parseServicePorts,
  parseUpstreams,
  resolvePort,
} from '../../src/inject/annotations.js'
import {upstreamEnvVars} from '../../src/inject/mutate.js'
import {deployment, fixture, plan} from '../helpers/inject.js'

const containers = [
  {
    name: 'app',
    ports: [
      {name: 'http', containerPort: 8080},
      {name: 'admin', containerPort: 9090},
    ],
  },
]

function upstreams(value: string) {
  return parseUpstreams({[ANNOTATIONS.upstreams]: value}, containers)
}

function upstreamError(value: string): AnnotationError {
  try {
    upstreams(value)
  } catch (error) {
    assert.ok(error instanceof AnnotationError, String(error))
    assert.equal(error.annotation, ANNOTATIONS.upstreams)
    return error
  }
  assert.fail(`"${value}" was accepted`)
}

describe('inject annotations: booleans', () => {
  it('reads booleans as Go strconv.ParseBool does and rejects the rest', () => {
    for (const yes of ['true', 'True', 'TRUE', 't', '1']) assert.equal(boolAnnotation({k: yes}, 'k'), true, yes)
    for (const no of ['false', 'F', '0']) assert.equal(boolAnnotation({k: no}, 'k'), false, no)
    assert.equal(boolAnnotation({}, 'k'), undefined)
    assert.throws(() => boolAnnotation({k: 'yes'}, 'k'), /"yes" is not a boolean/)
    assert.equal(boolAnnotation({k: ''}, 'k', {emptyIsAbsent: true}), undefined)
  })
})

describe('inject annotations: services and ports', () => {
  it('splits the multi-port service list and validates the names', () => {
    assert.deepEqual(parseServiceNames({[ANNOTATIONS.service]: 'web,web-admin'}), ['web', 'web-admin'])
    assert.deepEqual(parseServiceNames({[ANNOTATIONS.service]: 'Any_Name'}), ['Any_Name'])
    assert.deepEqual(parseServiceNames({}), [])
    assert.throws(() => parseServiceNames({[ANNOTATIONS.service]: 'web,'}), /empty service name/)
    assert.throws(() => parseServiceNames({[ANNOTATIONS.service]: 'web,Web_Admin'}), /cannot name a multi-port service/)
    assert.throws(() => parseServiceNames({[ANNOTATIONS.service]: 'web,web'}), /listed twice/)
  })

  it('resolves port names (any container) before numbers, like PortValue', () => {
    assert.equal(resolvePort(containers, 'admin'), 9090)
    assert.equal(resolvePort(containers, '1234'), 1234)
    assert.equal(resolvePort(containers, 'grpc'), undefined)
    assert.equal(resolvePort(containers, '70000'), undefined)
  })

  it('requires one port per service in multi-port pods', () => {
    const ports = parseServicePorts({[ANNOTATIONS.port]: 'http,9090'}, containers, 2)
    assert.deepEqual(ports, [
      {token: 'http', port: 8080},
      {token: '9090', port: 9090},
    ])
    assert.throws(
      () => parseServicePorts({[ANNOTATIONS.port]: '8080'}, containers, 3),
      /lists 1 port\(s\) but .* lists 3 services \(more services than ports\)/,
    )
    assert.throws(() => parseServicePorts({[ANNOTATIONS.port]: '1,2,3'}, containers, 2), /more ports than services/)
    assert.throws(() => parseServicePorts({}, containers, 2), /is required when/)
    assert.throws(() => parseServicePorts({[ANNOTATIONS.port]: 'grpc'}, containers, 1), /unknown port "grpc"/)
    // A single service may list several ports (the default lists every port of the first container).
    assert.equal(parseServicePorts({[ANNOTATIONS.port]: 'http,admin'}, containers, 1).length, 2)
  })
})

describe('inject annotations: upstreams', () => {
  it('parses every form of the seed', () => {
    const [plain, withDc, withNs, withNsDc] = upstreams('web:1234, db:5432:dc2 api.team:8000 api.team:8001:dc3')
    assert.deepEqual([plain.name, plain.localBindPort, plain.datacenter], ['web', 1234, undefined])
    assert.deepEqual([withDc.name, withDc.localBindPort, withDc.datacenter], ['db', 5432, 'dc2'])
    assert.deepEqual([withNs.name, withNs.namespace, withNs.localBindPort], ['api', 'team', 8000])
    assert.deepEqual([withNsDc.name, withNsDc.namespace, withNsDc.datacenter], ['api', 'team', 'dc3'])
    const [partitioned] = upstreams('api.team.part1:8002')
    assert.deepEqual([partitioned.namespace, partitioned.partition], ['team', 'part1'])
  })

  it('parses the labelled forms', () => {
    const [svc, peer, dc, nsOnly, nsAp, nsPeer] = upstreams(
      'web.svc:1 web.svc.cluster2.peer:2 web.svc.dc2.dc:3 web.svc.team.ns:4 web.svc.team.ns.part.ap:5 web.svc.team.ns.cluster2.peer:6:8080',
    )
    assert.equal(svc.name, 'web')
    assert.equal(peer.peer, 'cluster2')
    assert.equal(dc.datacenter, 'dc2')
    assert.equal(nsOnly.namespace, 'team')
    assert.deepEqual([nsAp.namespace, nsAp.partition], ['team', 'part'])
    assert.deepEqual([nsPeer.namespace, nsPeer.peer, nsPeer.destinationPort], ['team', 'cluster2', '8080'])
  })

  it('parses prepared queries and query-style options', () => {
    const [query, options] = upstreams('prepared_query:geo-db:9000 db:5432:dc2?mesh_gateway_mode=local&local_bind_address=127.0.0.2')
    assert.deepEqual([query.type, query.name, query.localBindPort, query.envPrefix], ['prepared_query', 'geo-db', 9000, undefined])
    assert.deepEqual([options.datacenter, options.meshGatewayMode, options.localBindAddress], ['dc2', 'local', '127.0.0.2'])
  })

  it('names the upstream variables as the webhook does', () => {
    const env = upstreamEnvVars(upstreams('static-server:7890:dc1 web.svc.team.ns:1234 prepared_query:q:9000 admin-port:http'))
    assert.deepEqual(env, [
      {name: 'STATIC_SERVER_CONNECT_SERVICE_HOST', value: '127.0.0.1'},
      {name: 'STATIC_SERVER_CONNECT_SERVICE_PORT', value: '7890'},
      {name: 'WEB.SVC.TEAM.NS_CONNECT_SERVICE_HOST', value: '127.0.0.1'},
      {name: 'WEB.SVC.TEAM.NS_CONNECT_SERVICE_PORT', value: '1234'},
      // A named port of the pod gives the number.
      {name: 'ADMIN_PORT_CONNECT_SERVICE_HOST', value: '127.0.0.1'},
      {name: 'ADMIN_PORT_CONNECT_SERVICE_PORT', value: '8080'},
    ])
  })

  it('rejects malformed upstreams with the entry and the expected forms', () => {
    assert.match(upstreamError('web:1234,cache').message, /upstream "cache" has no local port; expected <service>/)
    assert.match(upstreamError('web:port').message, /invalid local bind port "port"/)
    assert.match(upstreamError('web:0').message, /invalid local bind port "0"/)
    assert.match(upstreamError('web.:1234').message, /empty name segment/)
    assert.match(upstreamError('web.svc.team:1').message, /not a valid labelled upstream/)
    assert.match(upstreamError('web.svc.x.zone:1').message, /unknown label "\.zone"/)
    assert.match(upstreamError('web.svc.team.xx.p.peer:1').message, /"\.xx" where "\.ns" belongs/)
    assert.match(upstreamError('prepared_query:q').message, /structured incorrectly/)
    assert.match(upstreamError('db:1:dc2?colour=blue').message, /unsupported option "colour"/)
    assert.match(upstreamError('db:1:dc2?mesh_gateway_mode=far').message, /invalid mesh gateway mode "far"/)
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
