/**
 * consul-k8s 2.0.3's own table for Kubernetes -> Consul (control-plane/catalog/to-consul/
 * resource_test.go), case by case, against consulk8s's pure planner. Each `describe` is named
 * after the Go test it mirrors and checks what that test checks: which services exist, their
 * name, ID, address, port, tags, meta, weights, checks and node.
 *
 * The fixtures are the Go test's own (lbService, nodePortService, clusterIPService, createNodes,
 * createEndpointSlice), and the options its defaultServiceResource: allow `*`, an empty deny
 * list (consulk8s's default denies kube-system and kube-public), node `k8s-sync`.
 *
 * Deliberate differences (docs/sync.md, "Other deliberate differences from consul-k8s") are
 * asserted as consulk8s documents them, with a note where they apply:
 * - Ports: consul-k8s writes Consul 1.22's multi-port `Ports` list with `Port` 0; consulk8s
 *   writes the default port of that list (the first, or the `service-port` one) in `Port`.
 *   So wherever the Go test checks `Ports[0]` (the default), this checks `Port`.
 * - NodePort instances carry a readiness check (consul-k8s: none).
 * - A NodePort instance is critical only when its endpoint says ready: false (consul-k8s
 *   registers NodePort instances without a check).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseWeight} from '../../src/sync/annotations.js'
import {
  DEFAULT_OPTIONS,
  type ConsulState,
  type K8sEndpointSlice,
  type K8sNode,
  type K8sService,
  type K8sState,
  type SyncOptions,
} from '../../src/sync/model.js'
import {planToConsul} from '../../src/sync/plan.js'
import {consulServiceName, desiredRegistrations, serviceID} from '../../src/sync/to-consul.js'
import {consulAfter} from '../helpers/sync-model.js'

const nodeName1 = 'ip-10-11-12-13.ec2.internal'
const nodeName2 = 'ip-10-11-12-14.ec2.internal'
const nodeName3 = 'ip-10-11-12-15.ec2.internal'

/** consul-k8s's defaultServiceResource (ClusterIPSync is Go's false there; the ClusterIP tests turn it on). */
const goDefaults: SyncOptions = {...DEFAULT_OPTIONS, denyNamespaces: [], syncClusterIPServices: false}

function lbService(name: string, namespace: string, lbIP: string): K8sService {
  return {namespace, name, type: 'LoadBalancer', annotations: {}, labels: {}, ports: [], externalIPs: [], loadBalancerIngress: [{ip: lbIP}]}
}

function nodePortService(name: string, namespace: string): K8sService {
  return {
    namespace,
    name,
    type: 'NodePort',
    annotations: {},
    labels: {},
    ports: [
      {name: 'http', port: 80, nodePort: 30000},
      {name: 'rpc', port: 8500, nodePort: 30001},
    ],
    externalIPs: [],
    loadBalancerIngress: [],
  }
}

function clusterIPService(name: string, namespace: string): K8sService {
  return {
    namespace,
    name,
    type: 'ClusterIP',
    annotations: {},
    labels: {},
    ports: [
      {name: 'http', port: 80},
      {name: 'rpc', port: 8500},
    ],
    externalIPs: [],
    loadBalancerIngress: [],
  }
}

/** createNodes: three nodes, each with one ExternalIP and two InternalIPs. */
function createNodes(): K8sNode[] {
  const node = (name: string, external: string, internal: string, internal2: string): K8sNode => ({
    name,
    addresses: [
      {type: 'ExternalIP', address: external},
      {type: 'InternalIP', address: internal},
      {type: 'InternalIP', address: internal2},
    ],
  })
  return [
    node(nodeName1, '1.2.3.4', '4.5.6.7', '7.8.9.10'),
    node(nodeName2, '2.3.4.5', '5.6.7.8', '8.9.10.11'),
    node(nodeName3, '3.4.5.6', '6.7.8.9', '9.10.11.12'),
  ]
}

/** createEndpointSlice: 1.1.1.1 ready (target pod/foobar), 2.2.2.2 readiness not reported, 3.3.3.3 not ready. */
function createEndpointSlice(serviceName: string, namespace: string): K8sEndpointSlice {
  return {
    namespace,
    name: `${serviceName}-abcde`,
    serviceName,
    ports: [
      {name: 'http', port: 8080},
      {name: 'rpc', port: 2000},
    ],
    endpoints: [
      {addresses: ['1.1.1.1'], ready: true, targetRef: {kind: 'pod', name: 'foobar'}, nodeName: nodeName1, zone: 'us-west-2a'},
      {addresses: ['2.2.2.2'], nodeName: nodeName2, zone: 'us-west-2b'},
      {addresses: ['3.3.3.3'], ready: false, nodeName: nodeName3, zone: 'us-west-2c'},
    ],
  }
}

/** The Go tests' inline slice with one ready endpoint (pod foo on node 1). */
function singleEndpointSlice(address: string): K8sEndpointSlice {
  const slice = createEndpointSlice('foo', 'default')
  return {...slice, endpoints: [{addresses: [address], ready: true, targetRef: {kind: 'pod', name: 'foo'}, nodeName: nodeName1, zone: 'us-west-2a'}]}
}

function state(services: K8sService[], endpointSlices: K8sEndpointSlice[] = [], nodes: K8sNode[] = []): K8sState {
  return {services, endpointSlices, nodes}
}

function registrations(k8s: K8sState, extra: Partial<SyncOptions> = {}) {
  return desiredRegistrations(k8s, {...goDefaults, ...extra}).registrations
}

const noConsul: ConsulState = {nodeExists: false, nodeServices: [], nodeChecks: [], catalogServices: {}}

function assertDistinctIDs(ids: string[]) {
  assert.equal(new Set(ids).size, ids.length, `distinct IDs: ${ids.join(', ')}`)
}

describe('TestServiceResource_createDelete', () => {
  it('deleting the service removes its registration', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    const k8s = state([svc], [createEndpointSlice(svc.name, 'default')], createNodes())
    const before = consulAfter(k8s, goDefaults)
    assert.equal(before.nodeServices.length, 1)
    const deleted = state([], k8s.endpointSlices, k8s.nodes)
    assert.equal(registrations(deleted).length, 0)
    const plan = planToConsul(deleted, before, goDefaults)
    assert.deepEqual(
      plan.remove.map((r) => r.id),
      [serviceID('foo', '1.2.3.4')],
    )
    assert.equal(plan.add.length, 0)
  })
})

describe('TestServiceWeight_ingress', () => {
  it('service-weight sets Weights.Passing on every load balancer instance', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-weight'] = '22'
    svc.loadBalancerIngress.push({ip: '3.3.3.3'}, {ip: '4.4.4.4'})
    const actual = registrations(state([svc])).map((r) => r.service)
    assert.equal(actual.length, 3)
    assert.deepEqual(
      actual.map((s) => [s.Service, s.Address, s.Weights?.Passing]),
      [
        ['foo', '1.2.3.4', 22],
        ['foo', '3.3.3.3', 22],
        ['foo', '4.4.4.4', 22],
      ],
    )
    assertDistinctIDs(actual.map((s) => s.ID))
  })
})

describe('TestServiceWeight_externalIP', () => {
  it('service-weight sets Weights.Passing on every external IP instance', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-weight'] = '22'
    svc.externalIPs = ['3.3.3.3', '4.4.4.4']
    const actual = registrations(state([svc])).map((r) => r.service)
    assert.deepEqual(
      actual.map((s) => [s.Service, s.Address, s.Weights?.Passing]),
      [
        ['foo', '3.3.3.3', 22],
        ['foo', '4.4.4.4', 22],
      ],
    )
    assertDistinctIDs(actual.map((s) => s.ID))
  })
})

describe('TestServiceWeight', () => {
  // consul-k8s's getServiceWeight; consulk8s's parseWeight. A rejected weight gives default
  // weights and a warning (consul-k8s: a debug log), and the service still syncs.
  const cases: Array<{name: string; weight: string; error: boolean; expected?: number}> = [
    {name: 'external-IP', weight: '22', error: false, expected: 22},
    {name: 'non-int-weight', weight: 'non-int', error: true},
    {name: 'one-weight', weight: '1', error: true},
    {name: 'zero-weight', weight: '0', error: true},
    {name: 'negative-weight', weight: '-2', error: true},
    {name: 'greater-than-100-is-allowed', weight: '1000', error: false, expected: 1000},
  ]
  for (const c of cases) {
    it(c.name, () => {
      const parsed = parseWeight(c.weight)
      assert.equal(!parsed.ok, c.error)
      if (parsed.ok) assert.equal(parsed.value, c.expected)
      const svc = lbService('foo', 'default', '1.2.3.4')
      svc.annotations['consul.hashicorp.com/service-weight'] = c.weight
      const result = desiredRegistrations(state([svc]), goDefaults)
      assert.equal(result.registrations.length, 1, 'the service syncs either way')
      assert.equal(result.registrations[0].service.Weights?.Passing, c.expected)
      assert.equal(result.warnings.length, c.error ? 1 : 0)
    })
  }
})

describe('TestServiceResource_defaultEnable', () => {
  it('a service without the annotation is synced by default', () => {
    assert.equal(registrations(state([lbService('foo', 'default', '1.2.3.4')])).length, 1)
  })
})

describe('TestServiceResource_defaultEnableDisable', () => {
  it('service-sync "false" is not synced', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-sync'] = 'false'
    assert.equal(registrations(state([svc])).length, 0)
  })
})

describe('TestServiceResource_defaultDisable', () => {
  it('with default sync off, a service without the annotation is not synced', () => {
    assert.equal(registrations(state([lbService('foo', 'default', '1.2.3.4')]), {defaultSync: false}).length, 0)
  })
})

describe('TestServiceResource_defaultDisableEnable', () => {
  it('with default sync off, service-sync "t" (Go ParseBool) syncs', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-sync'] = 't'
    assert.equal(registrations(state([svc]), {defaultSync: false}).length, 1)
  })
})

describe('TestServiceResource_changeSyncToFalse', () => {
  it('changing service-sync from "true" to "false" deregisters the service', () => {
    const options = {...goDefaults, defaultSync: false}
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-sync'] = 'true'
    const synced = state([svc])
    assert.equal(registrations(synced, options).length, 1)
    const off = state([{...svc, annotations: {'consul.hashicorp.com/service-sync': 'false'}}])
    assert.equal(registrations(off, options).length, 0)
    const plan = planToConsul(off, consulAfter(synced, options), options)
    assert.deepEqual(
      plan.remove.map((r) => r.id),
      [serviceID('foo', '1.2.3.4')],
    )
  })
})

describe('TestServiceResource_addK8SNamespace', () => {
  it('the Kubernetes namespace is appended with "-"', () => {
    const actual = registrations(state([lbService('foo', 'namespace', '1.2.3.4')]), {addK8sNamespaceSuffix: true})
    assert.deepEqual(
      actual.map((r) => r.service.Service),
      ['foo-namespace'],
    )
  })
})

describe('TestServiceResource_addK8SNamespaceWithPrefix', () => {
  it('the prefix comes first, then the name, then the namespace suffix', () => {
    const actual = registrations(state([lbService('foo', 'namespace', '1.2.3.4')]), {addK8sNamespaceSuffix: true, consulServicePrefix: 'prefix'})
    assert.deepEqual(
      actual.map((r) => r.service.Service),
      ['prefixfoo-namespace'],
    )
  })
})

describe('TestServiceResource_ConsulNodeName', () => {
  it('registrations go on the configured node', () => {
    const options = {...goDefaults, consulNodeName: 'test-node'}
    const plan = planToConsul(state([lbService('foo', 'namespace', '1.2.3.4')]), noConsul, options)
    assert.equal(plan.add.length, 1)
    assert.equal(plan.node, 'test-node')
    assert.equal(plan.registerNode, true)
    assert.equal(plan.add[0].service.Meta?.['k8s-sync-node'], 'test-node', "consulk8s's marker names the node too")
  })
})

describe('TestServiceResource_addK8SNamespaceWithNameAnnotation', () => {
  it('the service-name annotation wins: no namespace suffix', () => {
    const svc = lbService('foo', 'bar', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-name'] = 'different-service-name'
    const actual = registrations(state([svc]), {addK8sNamespaceSuffix: true})
    assert.deepEqual(
      actual.map((r) => r.service.Service),
      ['different-service-name'],
    )
  })
})

describe('TestServiceResource_externalIP', () => {
  it('external IPs take priority over the load balancer address', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.externalIPs = ['3.3.3.3', '4.4.4.4']
    const actual = registrations(state([svc])).map((r) => r.service)
    assert.deepEqual(
      actual.map((s) => [s.Service, s.Address, s.ID]),
      [
        ['foo', '3.3.3.3', serviceID('foo', '3.3.3.3')],
        ['foo', '4.4.4.4', serviceID('foo', '4.4.4.4')],
      ],
    )
  })
})

describe('TestServiceResource_externalIPPrefix', () => {
  it('external IP instances with the prefix', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.externalIPs = ['3.3.3.3', '4.4.4.4']
    const actual = registrations(state([svc]), {consulServicePrefix: 'prefix'}).map((r) => r.service)
    assert.deepEqual(
      actual.map((s) => [s.Service, s.Address]),
      [
        ['prefixfoo', '3.3.3.3'],
        ['prefixfoo', '4.4.4.4'],
      ],
    )
  })
})

describe('TestServiceResource_lb', () => {
  it('one instance at the load balancer address', () => {
    const actual = registrations(state([lbService('foo', 'default', '1.2.3.4')]))
    assert.deepEqual(
      actual.map((r) => [r.service.Service, r.service.Address, r.service.ID]),
      [['foo', '1.2.3.4', serviceID('foo', '1.2.3.4')]],
    )
    assert.deepEqual(actual[0].service.Tags, ['k8s'])
    assert.deepEqual(actual[0].service.Meta, {'external-source': 'kubernetes', 'external-k8s-ns': 'default', 'k8s-sync-node': 'k8s-sync'})
    assert.equal(actual[0].check, undefined, 'load balancer instances have no readiness check (as consul-k8s)')
  })
})

describe('TestServiceResource_lbPrefix', () => {
  it('the load balancer instance with the prefix', () => {
    const actual = registrations(state([lbService('foo', 'default', '1.2.3.4')]), {consulServicePrefix: 'prefix'})
    assert.deepEqual(
      actual.map((r) => [r.service.Service, r.service.Address]),
      [['prefixfoo', '1.2.3.4']],
    )
  })
})

describe('TestServiceResource_lbMultiEndpoint', () => {
  it('one instance per load balancer address, distinct IDs', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.loadBalancerIngress.push({ip: '2.3.4.5'})
    const actual = registrations(state([svc])).map((r) => r.service)
    assert.deepEqual(
      actual.map((s) => [s.Service, s.Address]),
      [
        ['foo', '1.2.3.4'],
        ['foo', '2.3.4.5'],
      ],
    )
    assertDistinctIDs(actual.map((s) => s.ID))
  })
})

describe('TestServiceResource_lbAnnotatedName', () => {
  it('the service-name annotation names the Consul service', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-name'] = 'bar'
    assert.deepEqual(
      registrations(state([svc])).map((r) => r.service.Service),
      ['bar'],
    )
  })
})

const lbPorts = [
  {name: 'http', port: 80},
  {name: 'rpc', port: 8500},
]

describe('TestServiceResource_lbPort', () => {
  // consul-k8s: Port 0, Ports [http 80 (default), rpc 8500]. consulk8s: Port 80 (the default).
  it('the first port is the port; every port in the meta', () => {
    const svc = {...lbService('foo', 'default', '1.2.3.4'), ports: lbPorts}
    const actual = registrations(state([svc]))
    assert.equal(actual.length, 1)
    assert.equal(actual[0].service.Port, 80)
    assert.equal(actual[0].service.Meta?.['port-http'], '80')
    assert.equal(actual[0].service.Meta?.['port-rpc'], '8500')
  })
})

describe('TestServiceResource_lbAnnotatedPort', () => {
  // consul-k8s: Port 0, Ports [rpc 8500 (default), http 80]. consulk8s: Port 8500.
  it('service-port names the port', () => {
    const svc = {...lbService('foo', 'default', '1.2.3.4'), ports: lbPorts}
    svc.annotations['consul.hashicorp.com/service-port'] = 'rpc'
    const actual = registrations(state([svc]))
    assert.equal(actual.length, 1)
    assert.equal(actual[0].service.Port, 8500)
    assert.equal(actual[0].service.Meta?.['port-http'], '80')
    assert.equal(actual[0].service.Meta?.['port-rpc'], '8500')
  })
})

describe('TestServiceResource_lbAnnotatedTags', () => {
  const expected = ['k8s', 'one', 'leadingwhitespace', 'trailingwhitespace', ',leadingcomma', 'trailingcomma,', 'middle,comma']
  it('tags: whitespace trimmed, "\\," keeps a comma, after the k8s tag', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-tags'] =
      'one, leadingwhitespace,trailingwhitespace ,\\,leadingcomma,trailingcomma\\,,middle\\,comma'
    const actual = registrations(state([svc]), {consulK8sTag: 'k8s'})
    assert.equal(actual.length, 1)
    assert.deepEqual(actual[0].service.Tags, expected)
  })
  it('the Go case as written, ending in ",,": the empty tags are dropped, as consul-k8s drops them', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-tags'] =
      'one, leadingwhitespace,trailingwhitespace ,\\,leadingcomma,trailingcomma\\,,middle\\,comma,,'
    const actual = registrations(state([svc]), {consulK8sTag: 'k8s'})
    assert.equal(actual.length, 1)
    assert.deepEqual(actual[0].service.Tags, expected)
  })
})

describe('TestServiceResource_lbAnnotatedMeta', () => {
  it('service-meta-<KEY> annotations become meta', () => {
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-meta-foo'] = 'bar'
    const actual = registrations(state([svc]))
    assert.equal(actual.length, 1)
    assert.equal(actual[0].service.Meta?.foo, 'bar')
  })
})

describe('TestServiceResource_lbRegisterEndpoints', () => {
  // consul-k8s: Port 0, Ports [http 8080 (default), rpc 2000]. consulk8s: Port 8080.
  it('with --sync-lb-services-endpoints, the endpoints are registered instead of the load balancer address', () => {
    const options = {...goDefaults, syncLoadBalancerEndpoints: true}
    const svc = lbService('foo', 'default', '1.2.3.4')
    svc.annotations['consul.hashicorp.com/service-weight'] = '22'
    const plan = planToConsul(state([svc], [singleEndpointSlice('8.8.8.8')], createNodes()), noConsul, options)
    assert.equal(plan.node, 'k8s-sync')
    assert.deepEqual(
      plan.add.map((r) => [r.service.Service, r.service.Address, r.service.Port, r.service.ID]),
      [['foo', '8.8.8.8', 8080, serviceID('foo', '8.8.8.8')]],
    )
    assert.equal(plan.add[0].service.Meta?.['external-k8s-topology-zone'], 'us-west-2a')
    assert.equal(plan.add[0].check?.Status, 'passing', 'endpoint instances carry the readiness check, as in consul-k8s')
    assert.equal(plan.add[0].service.Weights, undefined, 'service-weight applies to load balancer addresses only, as in consul-k8s')
  })
  it('without it (the default), the load balancer address', () => {
    const actual = registrations(state([lbService('foo', 'default', '1.2.3.4')], [singleEndpointSlice('8.8.8.8')], createNodes()))
    assert.deepEqual(
      actual.map((r) => [r.service.Service, r.service.Address]),
      [['foo', '1.2.3.4']],
    )
  })
})

/** What consul-k8s's NodePort tests check on every instance (Ports[0], the default, is the port). */
function assertNodePortInstances(k8s: K8sState, extra: Partial<SyncOptions>, name: string, addresses: string[], port: number) {
  const options = {...goDefaults, ...extra}
  const plan = planToConsul(k8s, noConsul, options)
  assert.equal(plan.node, 'k8s-sync', 'every instance on the sync node')
  const actual = plan.add
  assert.deepEqual(
    actual.map((r) => [r.service.Service, r.service.Address, r.service.Port]),
    addresses.map((address) => [name, address, port]),
  )
  // IDs from the endpoint addresses, as consul-k8s.
  assert.deepEqual(
    actual.map((r) => r.service.ID),
    ['1.1.1.1', '2.2.2.2', '3.3.3.3'].slice(0, addresses.length).map((ip) => serviceID(name, ip)),
  )
  assert.deepEqual(
    actual.map((r) => r.service.Meta?.['external-k8s-topology-zone']),
    ['us-west-2a', 'us-west-2b', 'us-west-2c'].slice(0, addresses.length),
  )
  assertDistinctIDs(actual.map((r) => r.service.ID))
  return actual
}

describe('TestServiceResource_nodePort', () => {
  it('one instance per endpoint, at its node ExternalIP and the nodePort', () => {
    const k8s = state([nodePortService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    const actual = assertNodePortInstances(k8s, {nodePortSyncType: 'ExternalOnly'}, 'foo', ['1.2.3.4', '2.3.4.5', '3.4.5.6'], 30000)
    // Service ports in the meta (not the nodePorts), as consul-k8s.
    assert.equal(actual[0].service.Meta?.['port-http'], '80')
    assert.equal(actual[0].service.Meta?.['port-rpc'], '8500')
    assert.equal(actual[0].service.Meta?.['external-k8s-node-name'], nodeName1)
    // Deliberate difference: NodePort instances carry the readiness check (consul-k8s: none).
    assert.deepEqual(
      actual.map((r) => r.check?.Status),
      ['passing', 'passing', 'critical'],
    )
  })
})

describe('TestServiceResource_nodePortPrefix', () => {
  it('NodePort instances with the prefix', () => {
    const k8s = state([nodePortService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    assertNodePortInstances(
      k8s,
      {nodePortSyncType: 'ExternalOnly', consulServicePrefix: 'prefix'},
      'prefixfoo',
      ['1.2.3.4', '2.3.4.5', '3.4.5.6'],
      30000,
    )
  })
})

describe('TestServiceResource_nodePort_singleEndpoint', () => {
  it('instances only for the nodes the endpoints run on', () => {
    const slice = singleEndpointSlice('1.2.3.4')
    const plan = planToConsul(state([nodePortService('foo', 'default')], [slice], createNodes()), noConsul, {
      ...goDefaults,
      nodePortSyncType: 'ExternalOnly',
    })
    assert.equal(plan.node, 'k8s-sync')
    assert.deepEqual(
      plan.add.map((r) => [r.service.Service, r.service.Address, r.service.Port, r.service.ID]),
      [['foo', '1.2.3.4', 30000, serviceID('foo', '1.2.3.4')]],
    )
  })
})

describe('TestServiceResource_nodePortAnnotatedPort', () => {
  // consul-k8s: Ports [rpc 30001 (default), http 30000]. consulk8s: Port 30001.
  it('service-port names the port: its nodePort', () => {
    const svc = nodePortService('foo', 'default')
    svc.annotations = {'consul.hashicorp.com/service-port': 'rpc'}
    const k8s = state([svc], [createEndpointSlice('foo', 'default')], createNodes())
    assertNodePortInstances(k8s, {nodePortSyncType: 'ExternalOnly'}, 'foo', ['1.2.3.4', '2.3.4.5', '3.4.5.6'], 30001)
  })
})

describe('TestServiceResource_nodePortUnnamedPort', () => {
  // consul-k8s: Ports [port1 30000 (default), port2 30001]. consulk8s: Port 30000.
  it('unnamed ports: the first nodePort', () => {
    const svc = nodePortService('foo', 'default')
    svc.ports = [
      {port: 80, nodePort: 30000},
      {port: 8500, nodePort: 30001},
    ]
    const k8s = state([svc], [createEndpointSlice('foo', 'default')], createNodes())
    const actual = assertNodePortInstances(k8s, {nodePortSyncType: 'ExternalOnly'}, 'foo', ['1.2.3.4', '2.3.4.5', '3.4.5.6'], 30000)
    // consul-k8s writes "port-"+name for every port: both unnamed ports write "port-", the last wins.
    assert.equal(actual[0].service.Meta?.['port-'], '8500')
  })
})

describe('TestServiceResource_nodePort_internalOnlySync', () => {
  it("the node's first InternalIP", () => {
    const k8s = state([nodePortService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    assertNodePortInstances(k8s, {nodePortSyncType: 'InternalOnly'}, 'foo', ['4.5.6.7', '5.6.7.8', '6.7.8.9'], 30000)
  })
})

describe('TestServiceResource_nodePort_externalFirstSync', () => {
  it('the ExternalIP, else the first InternalIP', () => {
    const nodes = createNodes()
    nodes[0].addresses = [{type: 'InternalIP', address: '4.5.6.7'}]
    const k8s = state([nodePortService('foo', 'default')], [createEndpointSlice('foo', 'default')], nodes)
    assertNodePortInstances(k8s, {nodePortSyncType: 'ExternalFirst'}, 'foo', ['4.5.6.7', '2.3.4.5', '3.4.5.6'], 30000)
  })
})

/** What consul-k8s's ClusterIP tests check: one instance per endpoint, the endpoint port, the zone. */
function assertClusterIPInstances(k8s: K8sState, extra: Partial<SyncOptions>, name: string, port: number) {
  const actual = registrations(k8s, {syncClusterIPServices: true, ...extra})
  assert.deepEqual(
    actual.map((r) => [r.service.Service, r.service.Address, r.service.Port, r.service.ID]),
    ['1.1.1.1', '2.2.2.2', '3.3.3.3'].map((ip) => [name, ip, port, serviceID(name, ip)]),
  )
  assert.deepEqual(
    actual.map((r) => r.service.Meta?.['external-k8s-topology-zone']),
    ['us-west-2a', 'us-west-2b', 'us-west-2c'],
  )
  assertDistinctIDs(actual.map((r) => r.service.ID))
  return actual
}

describe('TestServiceResource_clusterIP', () => {
  // consul-k8s: Ports [http 8080 (default), rpc 2000] from the EndpointSlice. consulk8s: Port 8080.
  it('one instance per endpoint, on the endpoint port', () => {
    const k8s = state([clusterIPService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    const actual = assertClusterIPInstances(k8s, {}, 'foo', 8080)
    assert.deepEqual(actual[0].service.Tags, ['k8s'])
    assert.equal(actual[0].service.Meta?.['external-source'], 'kubernetes')
    assert.equal(actual[0].service.Meta?.['external-k8s-ns'], 'default')
    assert.equal(actual[0].service.Meta?.['port-http'], '80')
    assert.equal(actual[0].service.Meta?.['port-rpc'], '8500')
  })
})

describe('TestServiceResource_clusterIP_healthCheck', () => {
  it('each instance has a Kubernetes readiness check with the endpoint readiness', () => {
    const k8s = state([clusterIPService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    const actual = registrations(k8s, {syncClusterIPServices: true})
    assert.equal(actual.length, 3)
    for (const r of actual) {
      assert.equal(r.check?.Name, 'Kubernetes Readiness Check')
      assert.equal(r.check?.Type, 'kubernetes-readiness')
      assert.equal(r.check?.CheckID, `default/${r.service.ID}`)
    }
    assert.deepEqual(
      actual.map((r) => [r.check?.Status, r.check?.Output]),
      [
        ['passing', 'Kubernetes health checks passing'],
        // Readiness not reported (ready nil): critical, as consul-k8s makes it.
        ['critical', 'Kubernetes health checks failing'],
        ['critical', 'Kubernetes health checks failing'],
      ],
    )
  })
})

describe('TestServiceResource_clusterIPPrefix', () => {
  it('ClusterIP instances with the prefix', () => {
    const k8s = state([clusterIPService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    assertClusterIPInstances(k8s, {consulServicePrefix: 'prefix'}, 'prefixfoo', 8080)
  })
})

describe('TestServiceResource_clusterIPAnnotatedPortName', () => {
  // consul-k8s: Ports [rpc 2000 (default), http 8080]. consulk8s: Port 2000.
  it('service-port names the port: the endpoint port of that name', () => {
    const svc = clusterIPService('foo', 'default')
    svc.annotations['consul.hashicorp.com/service-port'] = 'rpc'
    assertClusterIPInstances(state([svc], [createEndpointSlice('foo', 'default')], createNodes()), {}, 'foo', 2000)
  })
})

describe('TestServiceResource_clusterIPAnnotatedPortNumber', () => {
  // consul-k8s: Ports [default 4141 (default), http 8080, rpc 2000]. consulk8s: Port 4141.
  it('service-port as a number is the port', () => {
    const svc = clusterIPService('foo', 'default')
    svc.annotations['consul.hashicorp.com/service-port'] = '4141'
    assertClusterIPInstances(state([svc], [createEndpointSlice('foo', 'default')], createNodes()), {}, 'foo', 4141)
  })
  it('deliberate difference: numbers are decimal (consul-k8s reads 010 as octal 8 and 0x1f90 as hex)', () => {
    const port = (annotation: string) => {
      const svc = clusterIPService('foo', 'default')
      svc.annotations['consul.hashicorp.com/service-port'] = annotation
      const result = desiredRegistrations(state([svc], [createEndpointSlice('foo', 'default')]), {...goDefaults, syncClusterIPServices: true})
      return [result.registrations[0]?.service.Port, result.warnings.length]
    }
    assert.deepEqual(port('010'), [10, 0])
    assert.deepEqual(port('0x1f90'), [8080, 1], 'a port name the service does not have: the first port, with a warning')
  })
})

describe('TestServiceResource_clusterIPUnnamedPorts', () => {
  it('unnamed service ports: the first endpoint port', () => {
    const svc = clusterIPService('foo', 'default')
    svc.ports = [{port: 80}, {port: 8500}]
    const actual = assertClusterIPInstances(state([svc], [createEndpointSlice('foo', 'default')], createNodes()), {}, 'foo', 8080)
    assert.equal(actual[0].service.Meta?.['port-'], '8500')
  })
})

describe('TestServiceResource_clusterIPSyncDisabled', () => {
  it('ClusterIP services are not synced when ClusterIP sync is off', () => {
    const k8s = state([clusterIPService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    assert.equal(registrations(k8s, {syncClusterIPServices: false}).length, 0)
  })
})

describe('TestServiceResource_clusterIPAllNamespaces', () => {
  it('ClusterIP services of any namespace', () => {
    const k8s = state([clusterIPService('foo', 'test_namespace')], [createEndpointSlice('foo', 'test_namespace')], createNodes())
    const actual = assertClusterIPInstances(k8s, {}, 'foo', 8080)
    assert.equal(actual[0].service.Meta?.['external-k8s-ns'], 'test_namespace')
    assert.equal(actual[0].check?.CheckID, `test_namespace/${actual[0].service.ID}`)
  })
})

describe('TestServiceResource_clusterIPTargetPortNamed', () => {
  // consul-k8s: Ports [rpc 2000 (default), http 8080]. consulk8s: Port 2000.
  it('service-port names a port whose targetPort is named: the endpoint port of that name', () => {
    const svc = clusterIPService('foo', 'default')
    svc.annotations['consul.hashicorp.com/service-port'] = 'rpc'
    // targetPort httpPort / rpcPort: not in the slim view; the EndpointSlice ports carry the service port names.
    svc.ports = [
      {name: 'http', port: 80},
      {name: 'rpc', port: 8500},
    ]
    assertClusterIPInstances(state([svc], [createEndpointSlice('foo', 'default')], createNodes()), {}, 'foo', 2000)
  })
})

describe('TestServiceResource_targetRefInMeta', () => {
  it("the endpoint's target and node in the meta", () => {
    const k8s = state([clusterIPService('foo', 'default')], [createEndpointSlice('foo', 'default')], createNodes())
    const actual = registrations(k8s, {syncClusterIPServices: true}).map((r) => r.service.Meta ?? {})
    assert.equal(actual.length, 3)
    assert.equal(actual[0]['external-k8s-ref-name'], 'foobar')
    assert.equal(actual[0]['external-k8s-ref-kind'], 'pod')
    assert.equal(actual[0]['external-k8s-node-name'], nodeName1)
    // A node but no target: no ref keys.
    assert.equal(actual[1]['external-k8s-node-name'], nodeName2)
    assert.ok(!('external-k8s-ref-name' in actual[1]))
    assert.ok(!('external-k8s-ref-kind' in actual[1]))
  })
})

describe('TestServiceResource_AllowDenyNamespaces', () => {
  const cases: Array<{name: string; allow: string[]; deny: string[]; expected: string[]}> = [
    {name: 'empty lists', allow: [], deny: [], expected: []},
    {name: 'only from allow list', allow: ['foo'], deny: [], expected: ['foo']},
    {name: 'both in allow and deny', allow: ['foo'], deny: ['foo'], expected: []},
    {name: 'deny removes one from allow', allow: ['foo', 'bar'], deny: ['foo'], expected: ['bar']},
    {name: '* in allow', allow: ['*'], deny: [], expected: ['bar', 'foo']},
    {name: '* in allow with one denied', allow: ['*'], deny: ['bar'], expected: ['foo']},
  ]
  for (const c of cases) {
    it(c.name, () => {
      // Each service is named after its namespace.
      const k8s = state(['foo', 'bar'].map((ns) => lbService(ns, ns, '1.2.3.4')))
      const actual = registrations(k8s, {allowNamespaces: c.allow, denyNamespaces: c.deny})
      assert.deepEqual(actual.map((r) => r.service.Service).sort(), c.expected)
    })
  }
})

// TestServiceResource_singleDestNamespace, TestServiceResource_MirroredNamespace and
// TestServiceResource_MirroredPrefixNamespace are not mirrored: Consul destination namespaces
// and namespace mirroring need Consul Enterprise, which consulk8s sync does not target.

describe('TestGetAnnotationServiceName', () => {
  const annotation = 'consul.hashicorp.com/service-name'
  const cases: Array<{name: string; annotations: Record<string, string>; expected?: string}> = [
    {name: 'no annotation present', annotations: {}, expected: 'test-svc'},
    {name: 'valid annotation', annotations: {[annotation]: 'my-service'}, expected: 'my-service'},
    {name: 'valid annotation with whitespace', annotations: {[annotation]: '  my-service  '}, expected: 'my-service'},
    {name: 'empty annotation', annotations: {[annotation]: ''}},
    {name: 'whitespace only annotation', annotations: {[annotation]: '   '}},
    {name: 'annotation exceeds 255 characters', annotations: {[annotation]: 'a'.repeat(256)}},
    {name: 'annotation exactly 255 characters', annotations: {[annotation]: 'a'.repeat(255)}, expected: 'a'.repeat(255)},
    {name: 'annotation exactly 1 character', annotations: {[annotation]: 'a'}, expected: 'a'},
  ]
  for (const c of cases) {
    it(c.name, () => {
      // consul-k8s: "" with valid=true means "no annotation" (the Kubernetes name is used).
      const svc = {...lbService('test-svc', 'default', '1.2.3.4'), annotations: c.annotations}
      const result = desiredRegistrations(state([svc]), goDefaults)
      if (c.expected === undefined) {
        // Invalid: not registered (consulk8s also reports it and keeps what is in Consul).
        assert.equal(result.registrations.length, 0)
        assert.equal(result.skipped[0]?.kind, 'invalid')
        assert.match(result.skipped[0].reason, /consul\.hashicorp\.com\/service-name/)
      } else {
        assert.equal(consulServiceName(svc, goDefaults), c.expected)
        assert.deepEqual(
          result.registrations.map((r) => r.service.Service),
          [c.expected],
        )
      }
    })
  }
})
