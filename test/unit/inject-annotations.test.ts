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
import {shellSplit, upstreamEnvVars} from '../../src/inject/mutate.js'

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

describe('inject annotations: envoy extra args', () => {
  it('splits like a shell', () => {
    assert.deepEqual(shellSplit(`--log-level debug --name "a b" 'c d' e\\ f`, 'k'), ['--log-level', 'debug', '--name', 'a b', 'c d', 'e f'])
    assert.throws(() => shellSplit('--x "open', 'k'), /unclosed " quote/)
  })
})
