/**
 * Planning against the current state of both sides (ownership, conflicts, no-op second
 * runs) and the transaction batching of a plan.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {packBatches, removalGroups, writeGroups} from '../../src/sync/apply-consul.js'
import {DEFAULT_OPTIONS, type ConsulState, type K8sService, type K8sState, type SyncOptions} from '../../src/sync/model.js'
import {planToConsul, planToK8s} from '../../src/sync/plan.js'
import {serviceID} from '../../src/sync/to-consul.js'
import {consulAfter, k8sService} from '../helpers/sync-model.js'

const options: SyncOptions = {...DEFAULT_OPTIONS}

function k8sState(count: number, readyCount = count): K8sState {
  const services: K8sService[] = []
  const endpointSlices: K8sState['endpointSlices'] = []
  for (let i = 0; i < count; i++) {
    services.push(k8sService({name: `svc${i}`}))
    endpointSlices.push({
      namespace: 'default',
      name: `svc${i}-x`,
      serviceName: `svc${i}`,
      ports: [{name: 'http', port: 8080}],
      endpoints: [{addresses: [`10.0.${Math.floor(i / 250)}.${i % 250}`], ready: i < readyCount}],
    })
  }
  return {services, endpointSlices, nodes: []}
}

const empty: ConsulState = {nodeExists: false, nodeServices: [], nodeChecks: [], catalogServices: {}}

describe('NodePort instances left on nodes named after Kubernetes nodes by an earlier consulk8s', () => {
  const npState: K8sState = {
    services: [k8sService({name: 'np', type: 'NodePort', ports: [{name: 'http', port: 80, nodePort: 30080}]})],
    endpointSlices: [
      {
        namespace: 'default',
        name: 'np-a',
        serviceName: 'np',
        ports: [{name: 'http', port: 8080}],
        endpoints: [
          {addresses: ['10.0.0.1'], nodeName: 'w1'},
          {addresses: ['10.0.0.2'], nodeName: 'w2'},
        ],
      },
    ],
    nodes: [
      {name: 'w1', addresses: [{type: 'InternalIP', address: '192.168.1.1'}]},
      {name: 'w2', addresses: [{type: 'InternalIP', address: '192.168.1.2'}]},
    ],
  }
  const ours = {'k8s-sync-node': options.consulNodeName, 'external-source': 'kubernetes'}
  const legacy = (node: string, address: string) => ({
    ID: `np-${node}`,
    Service: 'np',
    Tags: ['k8s'],
    Address: address,
    Port: 30080,
    Meta: {'k8s-sync-node': options.consulNodeName},
    ModifyIndex: 10,
  })
  /** Consul as the earlier version left it: w1 created by the engine, w2 a real agent's node with a service of its own. */
  function before(): ConsulState {
    const foreign = {ID: 'agent-svc', Service: 'agent-svc', Tags: [], Address: '192.168.1.2', Port: 1, Meta: null, ModifyIndex: 5}
    return {
      ...empty,
      otherNodes: [
        {node: 'w1', exists: true, meta: ours, modifyIndex: 7, services: [legacy('w1', '192.168.1.1')], checks: []},
        {
          node: 'w2',
          exists: true,
          meta: {'consul-network-segment': ''},
          modifyIndex: 7,
          services: [legacy('w2', '192.168.1.2'), foreign],
          checks: [],
        },
      ],
    }
  }

  it("adds the instances on the engine's node, removes ours from the other nodes and only the node entry the engine created", () => {
    const plan = planToConsul(npState, before(), options)
    assert.deepEqual(
      plan.add.map((r) => [r.service.ID, r.service.Address, r.service.Port]),
      [
        [serviceID('np', '10.0.0.1'), '192.168.1.1', 30080],
        [serviceID('np', '10.0.0.2'), '192.168.1.2', 30080],
      ],
    )
    assert.deepEqual(
      writeGroups(plan).flatMap((g) => g.ops.map((op) => ('Service' in op ? op.Service.Node : op.Check.Check.Node))),
      Array(4).fill(options.consulNodeName),
    )
    assert.deepEqual(
      plan.remove.map((r) => [r.node, r.id]),
      [
        ['w1', 'np-w1'],
        ['w2', 'np-w2'],
      ],
    )
    assert.deepEqual(plan.removeNodes, [{node: 'w1', modifyIndex: 7}], 'w2 (not created by the engine, and with a service of its own) stays')
    assert.deepEqual(
      removalGroups(plan).map((g) => (g.ops[0] as {Service: {Node: string}}).Service.Node),
      ['w1', 'w2'],
    )
  })

  it("another engine's instances and node entries are left alone", () => {
    const other = {...options, consulNodeName: 'other-sync'}
    const plan = planToConsul({...npState, services: []}, before(), other)
    assert.deepEqual([plan.remove.length, plan.removeNodes.length], [0, 0])
  })

  it("a node entry the engine created is kept while it still holds someone else's service", () => {
    const consul = before()
    consul.otherNodes?.[0].services.push({ID: 'x', Service: 'x', Tags: [], Address: '1.1.1.1', Port: 1, Meta: null})
    const plan = planToConsul({...npState, services: []}, consul, options)
    assert.deepEqual(plan.removeNodes, [])
  })
})

describe('Kubernetes -> Consul against the current catalog', () => {
  it('first run adds everything and registers the node', () => {
    const plan = planToConsul(k8sState(3), empty, options)
    assert.equal(plan.registerNode, true)
    assert.equal(plan.add.length, 3)
    assert.equal(plan.update.length + plan.remove.length + plan.unchanged, 0)
  })

  it('a second run after a complete apply is a no-op', () => {
    const state = k8sState(5)
    const plan = planToConsul(state, consulAfter(state, options), options)
    assert.equal(plan.registerNode, false)
    assert.deepEqual([plan.add.length, plan.update.length, plan.remove.length, plan.unchanged], [0, 0, 0, 5])
  })

  it('a readiness change updates only the check', () => {
    const state = k8sState(2)
    const consul = consulAfter(state, options)
    const plan = planToConsul(k8sState(2, 1), consul, options)
    assert.equal(plan.update.length, 1)
    assert.equal(plan.update[0].checkOnly, true)
    assert.deepEqual(plan.update[0].changes, ['check passing -> critical'])
  })

  it('changed tags update the service with the ModifyIndex that was read', () => {
    const state = k8sState(1)
    const consul = consulAfter(state, options)
    state.services[0].annotations['consul.hashicorp.com/service-tags'] = 'blue'
    const plan = planToConsul(state, consul, options)
    assert.deepEqual(plan.update[0].changes, ['tags'])
    const [group] = writeGroups(plan)
    assert.deepEqual(
      group.ops.map((op) => ('Service' in op ? `${op.Service.Verb}@${op.Service.Service.ModifyIndex}` : op.Check.Verb)),
      ['cas@100', 'set'],
    )
  })

  it('removes only registrations carrying its own marker', () => {
    const state = k8sState(3)
    const consul = consulAfter(state, options)
    consul.nodeServices.push(
      {ID: 'manual-1', Service: 'manual', Tags: ['k8s'], Address: '10.9.9.9', Port: 1, Meta: {'external-source': 'kubernetes'}, ModifyIndex: 7},
      {ID: 'other-engine-1', Service: 'x', Tags: ['k8s'], Address: '10.9.9.8', Port: 1, Meta: {'k8s-sync-node': 'someone-else'}, ModifyIndex: 8},
    )
    const plan = planToConsul(k8sState(2), consul, options)
    assert.deepEqual(
      plan.remove.map((r) => r.service),
      ['svc2'],
    )
    const [group] = removalGroups(plan)
    assert.deepEqual(group.ops, [
      {Service: {Verb: 'delete-cas', Node: 'k8s-sync', Service: {ID: plan.remove[0].id, Service: 'svc2', ModifyIndex: plan.remove[0].modifyIndex}}},
    ])
  })

  it('two engines with different node names never remove each other', () => {
    const state = k8sState(2)
    const mine = consulAfter(state, options)
    const plan = planToConsul({services: [], endpointSlices: [], nodes: []}, mine, {...options, consulNodeName: 'other-sync'})
    assert.deepEqual(plan.remove, [])
  })

  it('an existing registration with the same ID that is not ours is a conflict, left alone', () => {
    const state = k8sState(1)
    const consul = consulAfter(state, options)
    consul.nodeServices[0].Meta = {'external-source': 'kubernetes'}
    const plan = planToConsul(state, consul, options)
    assert.equal(plan.add.length + plan.update.length + plan.remove.length, 0)
    assert.equal(plan.skipped[0].kind, 'conflict')
    assert.match(plan.skipped[0].reason, /not registered by this engine/)
  })
})

describe('a malformed annotation on a synced service keeps its registrations', () => {
  const state = k8sState(2)
  const broken = (annotations: Record<string, string>): K8sState => ({
    ...state,
    services: state.services.map((svc) => (svc.name === 'svc0' ? {...svc, annotations} : svc)),
  })

  const typos: Array<Record<string, string>> = [
    {'consul.hashicorp.com/service-name': '  '},
    {'consul.hashicorp.com/service-sync': 'yes'},
    {'consul.hashicorp.com/service-port': '0'},
  ]
  for (const annotations of typos) {
    it(`${Object.keys(annotations)[0]}: nothing removed, the service reported with the annotation`, () => {
      const plan = planToConsul(broken(annotations), consulAfter(state, options), options)
      assert.deepEqual([plan.add.length, plan.update.length, plan.remove.length, plan.unchanged, plan.kept], [0, 0, 0, 1, 1])
      assert.equal(plan.skipped[0].source, 'default/svc0')
      assert.match(plan.skipped[0].reason, new RegExp(Object.keys(annotations)[0].replace(/[./]/g, '\\$&')))
    })
  }

  it('another service of the same name in another namespace is not kept', () => {
    const consul = consulAfter(state, options)
    consul.nodeServices.push({
      ID: 'svc0-other',
      Service: 'svc0',
      Tags: ['k8s'],
      Address: '10.9.9.9',
      Port: 1,
      Meta: {'external-k8s-ns': 'other', 'k8s-sync-node': options.consulNodeName},
    })
    const plan = planToConsul(broken({'consul.hashicorp.com/service-sync': 'yes'}), consul, options)
    assert.deepEqual(
      plan.remove.map((r) => r.id),
      ['svc0-other'],
    )
  })

  it('once fixed, it syncs again; once deleted, it goes', () => {
    assert.equal(planToConsul(state, consulAfter(state, options), options).unchanged, 2)
    const gone = planToConsul({...state, services: state.services.slice(1)}, consulAfter(state, options), options)
    assert.deepEqual(
      gone.remove.map((r) => r.service),
      ['svc0'],
    )
  })
})

describe('weights', () => {
  const lb = (weight?: string): K8sState => ({
    services: [
      k8sService({
        name: 'lb',
        type: 'LoadBalancer',
        annotations: weight ? {'consul.hashicorp.com/service-weight': weight} : {},
        loadBalancerIngress: [{ip: '203.0.113.5'}],
      }),
    ],
    endpointSlices: [],
    nodes: [],
  })

  it("a second run with weights is a no-op; Consul's default weights read back equal no weights", () => {
    assert.equal(planToConsul(lb('5'), consulAfter(lb('5'), options), options).unchanged, 1)
    const consul = consulAfter(lb(), options)
    consul.nodeServices[0].Weights = {Passing: 1, Warning: 1}
    assert.equal(planToConsul(lb(), consul, options).unchanged, 1)
  })

  it('a changed or removed annotation updates the weights, written explicitly', () => {
    const changed = planToConsul(lb('7'), consulAfter(lb('5'), options), options)
    assert.deepEqual(
      changed.update.map((u) => u.changes),
      [['weights']],
    )
    const removed = planToConsul(lb(), consulAfter(lb('5'), options), options)
    assert.deepEqual(
      removed.update.map((u) => u.changes),
      [['weights']],
    )
    const op = writeGroups(removed)[0].ops[0] as {Service: {Service: {Weights: unknown}}}
    assert.deepEqual(op.Service.Service.Weights, {Passing: 1, Warning: 1})
  })
})

describe('Consul -> Kubernetes', () => {
  const owned = (name: string, externalName: string, extra: Partial<K8sService> = {}): K8sService => ({
    namespace: 'default',
    name,
    type: 'ExternalName',
    annotations: {'consul.hashicorp.com/synced': 'true', 'consul.hashicorp.com/service-sync': 'false', 'consulk8s/sync-node': 'k8s-sync'},
    labels: {consul: 'true'},
    ports: [],
    externalIPs: [],
    loadBalancerIngress: [],
    externalName,
    resourceVersion: '5',
    ...extra,
  })

  it('adds ExternalName services for Consul services not tagged k8s, lowercased', () => {
    const plan = planToK8s({Billing: ['v1'], web: ['k8s'], consul: []}, [], {...options, k8sServicePrefix: 'c-'})
    assert.deepEqual(plan.add, [
      {name: 'c-billing', namespace: 'default', externalName: 'billing.service.consul', consulService: 'Billing'},
      {name: 'c-consul', namespace: 'default', externalName: 'consul.service.consul', consulService: 'consul'},
    ])
  })

  it('second run is a no-op; a changed domain updates; a vanished service is removed', () => {
    const existing = [owned('billing', 'billing.service.consul'), owned('gone', 'gone.service.consul')]
    const noop = planToK8s({billing: [], gone: []}, existing, options)
    assert.deepEqual([noop.add.length, noop.update.length, noop.remove.length, noop.unchanged], [0, 0, 0, 2])
    const changed = planToK8s({billing: []}, existing, {...options, consulDomain: 'dc1.example'})
    assert.deepEqual(
      changed.update.map((u) => [u.desired.externalName, u.resourceVersion, u.changes]),
      [['billing.service.dc1.example', '5', ['externalName']]],
    )
    assert.deepEqual(
      changed.remove.map((r) => r.name),
      ['gone'],
    )
  })

  it('never touches a Kubernetes service it did not create (conflict reported)', () => {
    const theirs = owned('billing', 'elsewhere.example.com', {annotations: {}, labels: {consul: 'true'}})
    const plain = {...owned('db', ''), type: 'ClusterIP', annotations: {}, labels: {}}
    const plan = planToK8s({billing: [], db: []}, [theirs, plain], options)
    assert.deepEqual([plan.add.length, plan.update.length, plan.remove.length], [0, 0, 0])
    assert.deepEqual(
      plan.skipped.map((s) => [s.source, s.kind]),
      [
        ['consul:billing', 'conflict'],
        ['consul:db', 'conflict'],
      ],
    )
  })

  it('does not remove services owned by another engine', () => {
    const plan = planToK8s({}, [owned('x', 'x.service.consul', {annotations: {'consulk8s/sync-node': 'other'}})], options)
    assert.deepEqual(plan.remove, [])
  })

  it('reports Consul names that cannot be Kubernetes names', () => {
    const plan = planToK8s({my_db: [], ['a'.repeat(64)]: []}, [], options)
    assert.equal(plan.add.length, 0)
    assert.equal(plan.skipped.length, 2)
    assert.match(plan.skipped[0].reason, /not a valid Kubernetes service name/)
  })
})

describe("--adopt: taking over from consul-k8s's sync-catalog", () => {
  const state = k8sState(2)
  /** Consul as sync-catalog left it: the same IDs, no marker; plus one it registered for a Service now gone. */
  function syncCatalog(): ConsulState {
    const consul = consulAfter(state, options)
    for (const service of consul.nodeServices) {
      const {['k8s-sync-node']: _marker, ...meta} = service.Meta ?? {}
      service.Meta = meta
    }
    consul.nodeServices.push({
      ID: 'gone-abc',
      Service: 'gone',
      Tags: ['k8s'],
      Address: '10.9.0.1',
      Port: 80,
      Meta: {'external-source': 'kubernetes', 'external-k8s-ns': 'default'},
      ModifyIndex: 9,
    })
    // Not sync-catalog's: no k8s tag, another source, another engine's marker.
    consul.nodeServices.push({
      ID: 'manual',
      Service: 'manual',
      Tags: [],
      Address: '10.9.0.2',
      Port: 80,
      Meta: {'external-source': 'kubernetes'},
      ModifyIndex: 9,
    })
    consul.nodeServices.push({
      ID: 'terraform',
      Service: 'tf',
      Tags: ['k8s'],
      Address: '10.9.0.3',
      Port: 80,
      Meta: {'external-source': 'terraform'},
      ModifyIndex: 9,
    })
    consul.nodeServices.push({
      ID: 'other-engine',
      Service: 'x',
      Tags: ['k8s'],
      Address: '10.9.0.4',
      Port: 80,
      Meta: {'external-source': 'kubernetes', 'k8s-sync-node': 'other'},
      ModifyIndex: 9,
    })
    return consul
  }

  it('without --adopt: conflicts naming --adopt, nothing updated or removed', () => {
    const plan = planToConsul(state, syncCatalog(), options)
    assert.deepEqual([plan.add.length, plan.update.length, plan.remove.length], [0, 0, 0])
    assert.equal(plan.skipped.length, 2)
    assert.match(plan.skipped[0].reason, /not registered by this engine; left alone \(written by consul-k8s's sync-catalog\? --adopt takes it over\)/)
  })

  it('with --adopt: updated in place with the same IDs and marked; the one nothing wants removed; the rest left alone', () => {
    const adopt = {...options, adopt: true}
    const plan = planToConsul(state, syncCatalog(), adopt)
    assert.deepEqual(plan.skipped, [])
    assert.deepEqual(
      plan.update.map((u) => [u.desired.service.ID, u.changes, u.current.ModifyIndex]),
      [
        [serviceID('svc0', '10.0.0.0'), ['adopted', 'meta'], 100],
        [serviceID('svc1', '10.0.0.1'), ['adopted', 'meta'], 101],
      ],
    )
    assert.equal(plan.update[0].desired.service.Meta?.['k8s-sync-node'], options.consulNodeName)
    assert.deepEqual(
      plan.remove.map((r) => r.id),
      ['gone-abc'],
    )
    // Only on the engine's node: an unmarked registration elsewhere is never adopted.
    const elsewhere = syncCatalog()
    elsewhere.otherNodes = [{node: 'w1', exists: true, meta: {}, services: [{...elsewhere.nodeServices[2], ID: 'gone-w1'}], checks: []}]
    assert.deepEqual(
      planToConsul(state, elsewhere, adopt).remove.map((r) => r.id),
      ['gone-abc'],
    )
  })

  const k8s = (name: string, annotations: Record<string, string>, labels: Record<string, string> = {consul: 'true'}): K8sService => ({
    namespace: 'default',
    name,
    type: 'ExternalName',
    annotations,
    labels,
    ports: [],
    externalIPs: [],
    loadBalancerIngress: [],
    externalName: `${name}.service.consul`,
    resourceVersion: '3',
  })
  // As sync-catalog's sink writes them.
  const fromSyncCatalog = (name: string) => k8s(name, {'consul.hashicorp.com/synced': 'true', 'consul.hashicorp.com/service-sync': 'false'})
  const services = [fromSyncCatalog('billing'), fromSyncCatalog('gone'), k8s('mine', {}, {}), k8s('theirs', {'consulk8s/sync-node': 'other'})]

  it('Kubernetes side without --adopt: conflicts naming --adopt', () => {
    const plan = planToK8s({billing: [], theirs: []}, services, options)
    assert.deepEqual([plan.update.length, plan.remove.length], [0, 0])
    assert.match(
      plan.skipped[0].reason,
      /billing already exists and was not created by this engine; left alone \(written by consul-k8s's sync-catalog\? --adopt takes it over\)/,
    )
    assert.doesNotMatch(plan.skipped[1].reason, /--adopt/, "another engine's Service is not sync-catalog's")
  })

  it('Kubernetes side with --adopt: Services labelled consul=true without a marker are updated or removed', () => {
    const plan = planToK8s({billing: [], theirs: []}, services, {...options, adopt: true})
    assert.deepEqual(
      plan.update.map((u) => [u.desired.name, u.changes, u.resourceVersion]),
      [['billing', ['adopted'], '3']],
    )
    assert.deepEqual(
      plan.remove.map((r) => r.name),
      ['gone'],
    )
    assert.deepEqual(
      plan.skipped.map((s) => s.source),
      ['consul:theirs'],
    )
  })
})

describe('transactions', () => {
  it('at most 64 operations each, a service and its check never split', () => {
    const plan = planToConsul(k8sState(100), empty, options)
    const groups = writeGroups(plan)
    assert.equal(groups.length, 100)
    const batches = packBatches(groups)
    assert.ok(batches.every((batch) => batch.flatMap((g) => g.ops).length <= 64))
    assert.equal(batches.flat().length, 100)
    assert.equal(batches[0].flatMap((g) => g.ops).length, 64)
    const first = groups[0].ops
    assert.deepEqual(
      first.map((op) => ('Service' in op ? `service ${op.Service.Verb} ${op.Service.Service.ModifyIndex}` : `check ${op.Check.Verb}`)),
      ['service cas 0', 'check set'],
    )
  })
})
