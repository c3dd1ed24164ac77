/**
 * The Kubernetes -> Consul planner over a table of Service / EndpointSlice / annotation
 * cases, including malformed annotations (reported and skipped while the rest syncs).
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'

import {DEFAULT_OPTIONS, type K8sEndpointSlice, type K8sNode, type K8sService, type SyncOptions} from '../../src/sync/model.js'
import {desiredRegistrations, serviceID} from '../../src/sync/to-consul.js'
import {k8sService} from '../helpers/sync-model.js'

function slice(
  service: string,
  addresses: Array<string | {ip: string; ready?: boolean; node?: string}>,
  ports = [{name: 'http', port: 8080}],
  namespace = 'default',
): K8sEndpointSlice {
  return {
    namespace,
    name: `${service}-abc`,
    serviceName: service,
    ports,
    endpoints: addresses.map((a) => (typeof a === 'string' ? {addresses: [a], ready: true} : {addresses: [a.ip], ready: a.ready, nodeName: a.node})),
  }
}

const options = (extra: Partial<SyncOptions> = {}): SyncOptions => ({...DEFAULT_OPTIONS, ...extra})

function plan(services: K8sService[], slices: K8sEndpointSlice[] = [], extra: Partial<SyncOptions> = {}, nodes: K8sNode[] = []) {
  return desiredRegistrations({services, endpointSlices: slices, nodes}, options(extra))
}

describe('serviceID', () => {
  it('is consul-k8s: <name>-<first 12 hex of sha1("<name>-<address>")>', () => {
    const expected = createHash('sha1').update('web-10.0.0.1').digest('hex').slice(0, 12)
    assert.equal(serviceID('web', '10.0.0.1'), `web-${expected}`)
    assert.notEqual(serviceID('web', '10.0.0.1'), serviceID('web', '10.0.0.2'))
  })
})

describe('which services are synced', () => {
  const cases: Array<{name: string; service: K8sService; extra?: Partial<SyncOptions>; synced: boolean}> = [
    {name: 'ClusterIP by default', service: k8sService({name: 'a'}), synced: true},
    {name: 'ClusterIP sync off', service: k8sService({name: 'a'}), extra: {syncClusterIPServices: false}, synced: false},
    {
      name: 'LoadBalancer with ClusterIP sync off',
      service: k8sService({name: 'a', type: 'LoadBalancer', loadBalancerIngress: [{ip: '1.2.3.4'}]}),
      extra: {syncClusterIPServices: false},
      synced: true,
    },
    {name: 'ExternalName never', service: k8sService({name: 'a', type: 'ExternalName', externalName: 'x.example.com'}), synced: false},
    {name: 'denied namespace', service: k8sService({name: 'a', namespace: 'kube-system'}), synced: false},
    {
      name: 'deny wins over allow',
      service: k8sService({name: 'a', namespace: 'team'}),
      extra: {allowNamespaces: ['team'], denyNamespaces: ['team']},
      synced: false,
    },
    {name: 'not in allow list', service: k8sService({name: 'a', namespace: 'other'}), extra: {allowNamespaces: ['team']}, synced: false},
    {name: 'in allow list', service: k8sService({name: 'a', namespace: 'team'}), extra: {allowNamespaces: ['team']}, synced: true},
    {name: 'annotation false', service: k8sService({name: 'a', annotations: {'consul.hashicorp.com/service-sync': 'false'}}), synced: false},
    {name: 'default sync off', service: k8sService({name: 'a'}), extra: {defaultSync: false}, synced: false},
    {
      name: 'default sync off, annotation true',
      service: k8sService({name: 'a', annotations: {'consul.hashicorp.com/service-sync': 'true'}}),
      extra: {defaultSync: false},
      synced: true,
    },
    {
      name: 'annotation "1" (Go ParseBool)',
      service: k8sService({name: 'a', annotations: {'consul.hashicorp.com/service-sync': '1'}}),
      extra: {defaultSync: false},
      synced: true,
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const result = plan([c.service], [slice('a', ['10.0.0.1'], undefined, c.service.namespace)], c.extra)
      assert.equal(result.selected, c.synced ? 1 : 0)
      assert.equal(result.registrations.length, c.synced ? 1 : 0)
      assert.deepEqual(result.skipped, [])
    })
  }
})

describe('instances per service type', () => {
  it('ClusterIP: one instance per endpoint address on the endpoint port, with readiness checks', () => {
    const result = plan([k8sService({name: 'web'})], [slice('web', ['10.0.0.1', {ip: '10.0.0.2', ready: false}, {ip: '10.0.0.3'}])])
    assert.equal(result.registrations.length, 3)
    const [a, b, c] = result.registrations
    assert.equal(a.service.ID, serviceID('web', '10.0.0.1'))
    assert.equal(a.service.Address, '10.0.0.1')
    assert.equal(a.service.Port, 8080)
    assert.equal(a.source, 'default/web')
    assert.deepEqual(a.check, {
      CheckID: `default/${a.service.ID}`,
      Name: 'Kubernetes Readiness Check',
      Type: 'kubernetes-readiness',
      Status: 'passing',
      Output: 'Kubernetes health checks passing',
    })
    assert.equal(b.check?.Status, 'critical')
    assert.equal(c.check?.Status, 'critical', 'unreported readiness is critical, as consul-k8s makes it')
  })

  it('ClusterIP without endpoints: nothing registered, reported as pending', () => {
    const result = plan([k8sService({name: 'web'})])
    assert.equal(result.registrations.length, 0)
    assert.deepEqual(result.pending, ['default/web: no endpoints'])
  })

  it('duplicate addresses across slices register once', () => {
    const second = {...slice('web', ['10.0.0.1']), name: 'web-def'}
    const result = plan([k8sService({name: 'web'})], [slice('web', ['10.0.0.1']), second])
    assert.equal(result.registrations.length, 1)
  })

  it('LoadBalancer: one instance per ingress IP or hostname on the service port, no check', () => {
    const result = plan([
      k8sService({
        name: 'lb',
        type: 'LoadBalancer',
        ports: [{name: 'https', port: 443, nodePort: 30443}],
        loadBalancerIngress: [{ip: '203.0.113.5'}, {hostname: 'lb.example.com'}, {ip: '203.0.113.5'}],
      }),
    ])
    assert.deepEqual(
      result.registrations.map((r) => [r.service.Address, r.service.Port, r.check]),
      [
        ['203.0.113.5', 443, undefined],
        ['lb.example.com', 443, undefined],
      ],
    )
  })

  it('LoadBalancer without an address yet is pending', () => {
    const result = plan([k8sService({name: 'lb', type: 'LoadBalancer'})])
    assert.deepEqual(result.pending, ['default/lb: no load balancer address yet'])
  })

  it('external IPs win on any type', () => {
    const result = plan([k8sService({name: 'ext', externalIPs: ['198.51.100.1', '198.51.100.2']})], [slice('ext', ['10.0.0.1'])])
    assert.deepEqual(
      result.registrations.map((r) => [r.service.Address, r.service.Port]),
      [
        ['198.51.100.1', 80],
        ['198.51.100.2', 80],
      ],
    )
  })

  const nodes: K8sNode[] = [
    {
      name: 'n1',
      addresses: [
        {type: 'InternalIP', address: '192.168.0.1'},
        {type: 'ExternalIP', address: '203.0.113.1'},
      ],
    },
    {name: 'n2', addresses: [{type: 'InternalIP', address: '192.168.0.2'}]},
  ]
  const nodePort = k8sService({name: 'np', type: 'NodePort', ports: [{name: 'http', port: 80, nodePort: 30080}]})
  const nodeSlice = slice('np', [
    {ip: '10.0.0.1', node: 'n1'},
    {ip: '10.0.0.2', node: 'n1', ready: false},
    {ip: '10.0.0.3', node: 'n2', ready: false},
  ])

  it('NodePort ExternalFirst: one instance per endpoint address (its ID), at the node address and the nodePort, as consul-k8s', () => {
    const result = plan([nodePort], [nodeSlice], {nodePortSyncType: 'ExternalFirst'}, nodes)
    assert.deepEqual(
      result.registrations.map((r) => [r.service.ID, r.service.Address, r.service.Port, r.check?.Status, r.service.Meta?.['external-k8s-node-name']]),
      [
        [serviceID('np', '10.0.0.1'), '203.0.113.1', 30080, 'passing', 'n1'],
        [serviceID('np', '10.0.0.2'), '203.0.113.1', 30080, 'critical', 'n1'],
        [serviceID('np', '10.0.0.3'), '192.168.0.2', 30080, 'critical', 'n2'],
      ],
    )
    assert.ok(
      result.registrations.every((r) => r.service.Meta?.['k8s-sync-node'] === 'k8s-sync'),
      "still marked as the engine's",
    )
    assert.ok(
      result.registrations.every((r) => !('node' in r)),
      "every instance goes to the engine's node",
    )
  })

  it("endpoint meta is consul-k8s's: ref kind and name with a target, node name, zone where known", () => {
    const endpoints: K8sEndpointSlice['endpoints'] = [
      {addresses: ['10.0.0.1'], ready: true, nodeName: 'n1', zone: 'zone-a', targetRef: {kind: 'Pod', name: 'web-1'}},
      {addresses: ['10.0.0.2'], ready: true},
    ]
    const withSlices = (type: string) =>
      plan([k8sService({name: 'web', type, ports: [{name: 'http', port: 80, nodePort: 30080}]})], [{...slice('web', []), endpoints}], {}, nodes)
    const extra = (meta: Record<string, string> | null) =>
      Object.fromEntries(Object.entries(meta ?? {}).filter(([key]) => key.startsWith('external-k8s-') && key !== 'external-k8s-ns'))
    const clusterIP = withSlices('ClusterIP').registrations
    assert.deepEqual(
      clusterIP.map((r) => extra(r.service.Meta)),
      [
        {'external-k8s-ref-kind': 'Pod', 'external-k8s-ref-name': 'web-1', 'external-k8s-node-name': 'n1', 'external-k8s-topology-zone': 'zone-a'},
        {},
      ],
    )
    const nodePortResult = withSlices('NodePort').registrations
    assert.deepEqual(
      nodePortResult.map((r) => extra(r.service.Meta)),
      [{'external-k8s-ref-kind': 'Pod', 'external-k8s-ref-name': 'web-1', 'external-k8s-node-name': 'n1', 'external-k8s-topology-zone': 'zone-a'}],
      'an endpoint on no node is not a NodePort instance',
    )
  })

  it('NodePort ExternalOnly skips nodes without an external IP', () => {
    const result = plan([nodePort], [nodeSlice], {nodePortSyncType: 'ExternalOnly'}, nodes)
    assert.deepEqual(
      result.registrations.map((r) => r.service.Address),
      ['203.0.113.1', '203.0.113.1'],
    )
  })

  it('NodePort InternalOnly uses internal IPs', () => {
    const result = plan([nodePort], [nodeSlice], {nodePortSyncType: 'InternalOnly'}, nodes)
    assert.deepEqual(
      result.registrations.map((r) => r.service.Address),
      ['192.168.0.1', '192.168.0.1', '192.168.0.2'],
    )
  })

  it('NodePort with no usable node address is pending, with the reason', () => {
    const result = plan([nodePort], [nodeSlice], {nodePortSyncType: 'ExternalOnly'}, [nodes[1]])
    assert.equal(result.registrations.length, 0)
    assert.match(result.pending[0], /no ExternalOnly address on node\(s\) n1, n2/)
  })
})

describe('names, tags, meta, ports from annotations', () => {
  it('name, k8s tag, meta and port meta by default', () => {
    const result = plan(
      [
        k8sService({
          name: 'web',
          ports: [
            {name: 'http', port: 80},
            {name: 'grpc', port: 9090},
          ],
        }),
      ],
      [slice('web', ['10.0.0.1'])],
    )
    const s = result.registrations[0].service
    assert.equal(s.Service, 'web')
    assert.deepEqual(s.Tags, ['k8s'])
    assert.deepEqual(s.Meta, {
      'external-source': 'kubernetes',
      'external-k8s-ns': 'default',
      'port-http': '80',
      'port-grpc': '9090',
      'k8s-sync-node': 'k8s-sync',
    })
  })

  it('prefix and namespace suffix', () => {
    const result = plan([k8sService({name: 'web', namespace: 'shop'})], [slice('web', ['10.0.0.1'], undefined, 'shop')], {
      consulServicePrefix: 'k-',
      addK8sNamespaceSuffix: true,
    })
    assert.equal(result.registrations[0].service.Service, 'k-web-shop')
  })

  it('service-name annotation wins, without prefix or suffix', () => {
    const result = plan([k8sService({name: 'web', annotations: {'consul.hashicorp.com/service-name': ' frontend '}})], [slice('web', ['10.0.0.1'])], {
      consulServicePrefix: 'k-',
      addK8sNamespaceSuffix: true,
    })
    assert.equal(result.registrations[0].service.Service, 'frontend')
    assert.equal(result.registrations[0].service.ID, serviceID('frontend', '10.0.0.1'))
  })

  it('tags: comma separated, trimmed, escaped commas, k8s first and not repeated', () => {
    const result = plan(
      [k8sService({name: 'web', annotations: {'consul.hashicorp.com/service-tags': 'primary, v1 ,a\\,b,k8s'}})],
      [slice('web', ['10.0.0.1'])],
    )
    assert.deepEqual(result.registrations[0].service.Tags, ['k8s', 'primary', 'v1', 'a,b'])
  })

  it('service-meta-KEY annotations, plus endpoint references', () => {
    const endpoints: K8sEndpointSlice = {
      ...slice('web', []),
      endpoints: [{addresses: ['10.0.0.1'], ready: true, nodeName: 'n1', zone: 'z1', targetRef: {kind: 'Pod', name: 'web-0'}}],
    }
    const result = plan(
      [k8sService({name: 'web', annotations: {'consul.hashicorp.com/service-meta-version': 'v2', 'consul.hashicorp.com/service-meta-team': 'shop'}})],
      [endpoints],
    )
    const meta = result.registrations[0].service.Meta ?? {}
    assert.equal(meta.version, 'v2')
    assert.equal(meta.team, 'shop')
    assert.equal(meta['external-k8s-ref-kind'], 'Pod')
    assert.equal(meta['external-k8s-ref-name'], 'web-0')
    assert.equal(meta['external-k8s-node-name'], 'n1')
    assert.equal(meta['external-k8s-topology-zone'], 'z1')
  })

  const ports = [
    {name: 'http', port: 80},
    {name: 'admin', port: 9000},
  ]
  const twoPorts = [
    {name: 'http', port: 8080},
    {name: 'admin', port: 9900},
  ]
  it('service-port by name picks that endpoint port', () => {
    const result = plan(
      [k8sService({name: 'web', ports, annotations: {'consul.hashicorp.com/service-port': 'admin'}})],
      [slice('web', ['10.0.0.1'], twoPorts)],
    )
    assert.equal(result.registrations[0].service.Port, 9900)
  })

  it('service-port by number is used as is', () => {
    const result = plan(
      [k8sService({name: 'web', ports, annotations: {'consul.hashicorp.com/service-port': '7000'}})],
      [slice('web', ['10.0.0.1'], twoPorts)],
    )
    assert.equal(result.registrations[0].service.Port, 7000)
  })

  it('service-port by name on a LoadBalancer picks the service port', () => {
    const result = plan([
      k8sService({
        name: 'lb',
        type: 'LoadBalancer',
        ports,
        loadBalancerIngress: [{ip: '1.2.3.4'}],
        annotations: {'consul.hashicorp.com/service-port': 'admin'},
      }),
    ])
    assert.equal(result.registrations[0].service.Port, 9000)
  })
})

describe('fallbacks consul-k8s makes: a warning, the service syncs', () => {
  it('service-port naming no port of the service: the first port, with a warning', () => {
    const np = k8sService({
      name: 'np',
      type: 'NodePort',
      ports: [
        {name: 'http', port: 80, nodePort: 30080},
        {name: 'admin', port: 81, nodePort: 30081},
      ],
      annotations: {'consul.hashicorp.com/service-port': 'htp'},
    })
    const web = k8sService({name: 'web', annotations: {'consul.hashicorp.com/service-port': 'htp'}})
    const result = plan([np, web], [slice('np', [{ip: '10.0.0.1', node: 'n1'}]), slice('web', ['10.0.0.2'], [{name: 'http', port: 8080}])], {}, [
      {name: 'n1', addresses: [{type: 'InternalIP', address: '192.168.0.1'}]},
    ])
    assert.deepEqual(result.skipped, [])
    assert.deepEqual(
      result.registrations.map((r) => [r.source, r.service.Port]),
      [
        ['default/np', 30080],
        ['default/web', 8080],
      ],
    )
    assert.deepEqual(
      result.warnings.map((w) => w.source),
      ['default/np', 'default/web'],
    )
    assert.match(result.warnings[0].message, /service-port "htp" names no port of the service \(ports: http, admin\); the first port is used/)
  })

  const weights: Array<[string, number | undefined]> = [
    ['22', 22],
    ['1000', 1000],
    ['2', 2],
    ['1', undefined],
    ['0', undefined],
    ['-2', undefined],
    ['non-int', undefined],
    ['2.5', undefined],
  ]
  for (const [raw, expected] of weights) {
    it(`service-weight "${raw}" on LoadBalancer and external-IP instances: ${expected ?? 'a warning, default weights'}`, () => {
      const annotations = {'consul.hashicorp.com/service-weight': raw}
      const result = plan([
        k8sService({name: 'lb', type: 'LoadBalancer', loadBalancerIngress: [{ip: '203.0.113.5'}], annotations}),
        k8sService({name: 'ext', externalIPs: ['198.51.100.1'], annotations}),
      ])
      assert.deepEqual(
        result.registrations.map((r) => r.service.Weights?.Passing),
        [expected, expected],
      )
      assert.equal(result.warnings.length, expected === undefined ? 2 : 0)
      if (expected === undefined)
        assert.match(result.warnings[0].message, /service-weight ".*" is not an integer greater than 1; default weights are used/)
      assert.deepEqual(result.skipped, [])
    })
  }

  it('service-weight is ignored on endpoint-backed instances, as consul-k8s', () => {
    const result = plan([k8sService({name: 'web', annotations: {'consul.hashicorp.com/service-weight': '5'}})], [slice('web', ['10.0.0.1'])])
    assert.equal(result.registrations[0].service.Weights, undefined)
    assert.deepEqual(result.warnings, [])
  })
})

describe('malformed annotations: reported and skipped, the rest syncs', () => {
  const malformed: Array<{name: string; annotations: Record<string, string>; reason: RegExp}> = [
    {
      name: 'port number out of range',
      annotations: {'consul.hashicorp.com/service-port': '70000'},
      reason: /service-port "70000" is not a port number/,
    },
    {name: 'port number zero', annotations: {'consul.hashicorp.com/service-port': '0'}, reason: /is not a port number/},
    {name: 'negative port', annotations: {'consul.hashicorp.com/service-port': '-1'}, reason: /is not a port number/},
    {name: 'empty port', annotations: {'consul.hashicorp.com/service-port': ' '}, reason: /service-port is empty/},
    {name: 'bad service-sync', annotations: {'consul.hashicorp.com/service-sync': 'yes'}, reason: /service-sync "yes" is not true or false/},
    {name: 'empty service-name', annotations: {'consul.hashicorp.com/service-name': '  '}, reason: /service-name is empty/},
    {
      name: 'meta key Consul rejects',
      annotations: {'consul.hashicorp.com/service-meta-app.version': '1'},
      reason: /meta key "app.version" may only contain/,
    },
    {name: 'meta key with reserved prefix', annotations: {'consul.hashicorp.com/service-meta-consul-x': '1'}, reason: /reserved by Consul/},
    {
      name: 'meta key naming the ownership marker',
      annotations: {'consul.hashicorp.com/service-meta-k8s-sync-node': 'other'},
      reason: /reserved for the engine's ownership marker/,
    },
    {name: 'meta value too long', annotations: {'consul.hashicorp.com/service-meta-x': 'v'.repeat(513)}, reason: /longer than 512/},
  ]
  for (const c of malformed) {
    it(c.name, () => {
      const result = plan(
        [k8sService({name: 'bad', annotations: c.annotations}), k8sService({name: 'good'})],
        [slice('bad', ['10.0.0.1']), slice('good', ['10.0.0.2'])],
      )
      assert.equal(result.skipped.length, 1)
      assert.equal(result.skipped[0].source, 'default/bad')
      assert.equal(result.skipped[0].kind, 'invalid')
      assert.match(result.skipped[0].reason, c.reason)
      assert.match(result.skipped[0].reason, /consul\.hashicorp\.com\/service-/, 'names the annotation to fix')
      assert.match(result.skipped[0].reason, /registrations already in Consul are kept/)
      assert.deepEqual(result.held, [{namespace: 'default', names: [c.annotations['consul.hashicorp.com/service-name']?.trim() || 'bad']}])
      assert.deepEqual(
        result.registrations.map((r) => r.source),
        ['default/good'],
      )
    })
  }

  it('held under both the default and the annotated name', () => {
    const result = plan([
      k8sService({name: 'bad', annotations: {'consul.hashicorp.com/service-name': 'renamed', 'consul.hashicorp.com/service-sync': 'yes'}}),
    ])
    assert.deepEqual(result.held, [{namespace: 'default', names: ['bad', 'renamed']}])
  })

  it('a malformed annotation on a service that is not selected is not reported', () => {
    const result = plan([k8sService({name: 'bad', namespace: 'kube-system', annotations: {'consul.hashicorp.com/service-port': 'nope'}})])
    assert.deepEqual(result.skipped, [])
  })

  it('two services producing the same registration: the second is reported as a conflict', () => {
    const a = k8sService({name: 'a', annotations: {'consul.hashicorp.com/service-name': 'shared'}, externalIPs: ['198.51.100.7']})
    const b = k8sService({name: 'b', annotations: {'consul.hashicorp.com/service-name': 'shared'}, externalIPs: ['198.51.100.7']})
    const result = plan([b, a])
    assert.deepEqual(
      result.registrations.map((r) => r.source),
      ['default/a'],
    )
    assert.equal(result.skipped[0].source, 'default/b')
    assert.equal(result.skipped[0].kind, 'conflict')
    assert.match(result.skipped[0].reason, /already registered from default\/a/)
  })
})
