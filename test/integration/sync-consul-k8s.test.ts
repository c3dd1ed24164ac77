/**
 * Cases of consul-k8s 2.0.3's own test tables (to-consul/resource_test.go, to-k8s/sink_test.go)
 * end to end: the built binary's `sync --once` against the real dc1 Kubernetes API and Consul
 * catalog of the test environment, with the Go tests' fixtures (their nodes, EndpointSlice,
 * ports and annotations). test/unit/sync-consul-k8s-*.test.ts has every case against the
 * planner; these check that what the planner wants is what lands in Consul and Kubernetes.
 *
 * Scoped to this file: namespace sync-ck-<random>, Consul node sync-ck-<random>, Kubernetes
 * nodes and names ending in -<random>; all removed afterwards.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'

import {createNamespace, createService, deleteNamespace, setLoadBalancerIngress} from '../helpers/fixtures.js'
import {nodeChecks, type CatalogServiceInstance} from '../../src/consul/catalog.js'
import {ConsulClient} from '../../src/consul/client.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'
import {serviceID} from '../../src/sync/to-consul.js'
import {consulClient, getTestEnv, type TestEnvState} from '../env/index.js'
import {runCli} from '../helpers/cli.js'
import {syncArgs} from '../helpers/sync.js'
import {isConflict} from '../../src/kube/client.js'
import {retry} from '../../src/sync/retry.js'

const id = randomBytes(3).toString('hex')
const ns = `sync-ck-${id}`
const engineNode = `sync-ck-${id}`
/** The engine of the --sync-lb-services-endpoints run. */
const lbEngineNode = `sync-ck-lb-${id}`
const n = (name: string) => `${name}-${id}`
// The Go tests' three Kubernetes nodes (createNodes), named apart from other tests'.
const nodeName1 = n('ip-10-11-12-13')
const nodeName2 = n('ip-10-11-12-14')
const nodeName3 = n('ip-10-11-12-15')

let env: TestEnvState
let kube: TestCluster
let consul: ConsulClient

type Instance = CatalogServiceInstance & {
  Node: string
  ServiceID: string
  ServiceAddress: string
  ServicePort: number
  ServiceMeta: Record<string, string>
  ServiceTags: string[]
  ServiceWeights: {Passing: number; Warning: number}
}

/** `sync --once` against dc1, this file's namespace only, as this file's engine. */
function sync(extra: string[], consulNode = engineNode) {
  const args = syncArgs(env, ns, consulNode, ['--once', ...extra])
  return runCli(args, {env: {CONSUL_HTTP_TOKEN: env.federation.managementToken}})
}

/** A Consul service's instances that an engine registered (on its node). */
async function instances(service: string, consulNode = engineNode): Promise<Instance[]> {
  return (await consul.get<Instance[]>(`/v1/catalog/service/${service}`)).filter((i) => i.Node === consulNode)
}

function byAddress(found: Instance[], addresses: string[]): Instance[] {
  return addresses.map((address) => {
    const instance = found.find((i) => i.ServiceAddress === address)
    assert.ok(instance, `an instance at ${address}: ${JSON.stringify(found.map((i) => i.ServiceAddress))}`)
    return instance
  })
}

const endpoint = (ip: string, node: string, zone: string, ready: boolean | undefined, pod?: string) => ({
  addresses: [ip],
  conditions: ready === undefined ? {serving: true, terminating: false} : {ready, serving: ready, terminating: !ready},
  nodeName: node,
  zone,
  targetRef: pod ? {kind: 'pod', name: pod} : undefined,
})

/**
 * createEndpointSlice of resource_test.go: 1.1.1.1 ready (pod foobar), 2.2.2.2 readiness unset,
 * 3.3.3.3 not ready; ports http 8080 and rpc 2000. Or the given endpoints.
 */
async function createGoEndpointSlice(
  service: string,
  endpoints = [
    endpoint('1.1.1.1', nodeName1, 'us-west-2a', true, 'foobar'),
    endpoint('2.2.2.2', nodeName2, 'us-west-2b', undefined),
    endpoint('3.3.3.3', nodeName3, 'us-west-2c', false),
  ],
) {
  await kube.discovery().createNamespacedEndpointSlice({
    namespace: ns,
    body: {
      metadata: {name: `${service}-abcde`, labels: {'kubernetes.io/service-name': service}},
      addressType: 'IPv4',
      endpoints,
      ports: [
        {name: 'http', port: 8080, protocol: 'TCP'},
        {name: 'rpc', port: 2000, protocol: 'TCP'},
      ],
    },
  })
}

describe("consul-k8s 2.0.3's test cases, end to end through sync --once", () => {
  let nodePort = 0
  let toConsul: Awaited<ReturnType<typeof sync>>

  before(async () => {
    env = getTestEnv()
    kube = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consul = consulClient('dc1')
    await createNamespace(kube, ns)

    // createNodes, with node 1 as TestServiceResource_nodePort_externalFirstSync leaves it: InternalIP only.
    const nodes: Array<[string, Array<{type: string; address: string}>]> = [
      [nodeName1, [{type: 'InternalIP', address: '4.5.6.7'}]],
      [
        nodeName2,
        [
          {type: 'ExternalIP', address: '2.3.4.5'},
          {type: 'InternalIP', address: '5.6.7.8'},
          {type: 'InternalIP', address: '8.9.10.11'},
        ],
      ],
      [
        nodeName3,
        [
          {type: 'ExternalIP', address: '3.4.5.6'},
          {type: 'InternalIP', address: '6.7.8.9'},
          {type: 'InternalIP', address: '9.10.11.12'},
        ],
      ],
    ]
    for (const [name, addresses] of nodes) {
      await kube.core().createNode({body: {metadata: {name, labels: {'consulk8s-test': 'sync-ck'}}}})
      // Node status is only written through the status subresource; the node controller may
      // update the node meanwhile (a conflict: read again).
      await retry(
        async () => {
          const created = await kube.core().readNode({name})
          await kube.core().replaceNodeStatus({name, body: {...created, status: {...created.status, addresses}}})
        },
        {attempts: 10, retryable: isConflict},
      )
    }

    // nodePortService (the API server allocates the nodePorts).
    await createService(kube, ns, {
      name: n('np'),
      type: 'NodePort',
      ports: [
        {name: 'http', port: 80},
        {name: 'rpc', port: 8500},
      ],
    })
    const np = await kube.core().readNamespacedService({name: n('np'), namespace: ns})
    nodePort = np.spec?.ports?.find((p) => p.name === 'http')?.nodePort ?? 0
    await createGoEndpointSlice(n('np'))

    // TestServiceResource_clusterIPTargetPortNamed: service-port "rpc", named target ports (the Go
    // test's httpPort / rpcPort, lowercased: the real API server refuses capitals in port names).
    await kube.core().createNamespacedService({
      namespace: ns,
      body: {
        metadata: {name: n('cip'), annotations: {'consul.hashicorp.com/service-port': 'rpc'}},
        spec: {
          type: 'ClusterIP',
          ports: [
            {name: 'http', port: 80, targetPort: 'http-port', protocol: 'TCP'},
            {name: 'rpc', port: 8500, targetPort: 'rpc-port', protocol: 'TCP'},
          ],
        },
      },
    })
    await createGoEndpointSlice(n('cip'))

    // TestServiceResource_lbAnnotatedPort, with TestServiceWeight_ingress's weight and ingress list.
    await createService(kube, ns, {
      name: n('lb'),
      type: 'LoadBalancer',
      ports: [
        {name: 'http', port: 80},
        {name: 'rpc', port: 8500},
      ],
      annotations: {'consul.hashicorp.com/service-port': 'rpc', 'consul.hashicorp.com/service-weight': '22'},
    })
    await setLoadBalancerIngress(kube, ns, n('lb'), ['1.2.3.4', '3.3.3.3', '4.4.4.4'])
    // TestServiceResource_lbRegisterEndpoints's one endpoint.
    await createGoEndpointSlice(n('lb'), [endpoint('8.8.8.8', nodeName1, 'us-west-2a', true, 'foo')])

    toConsul = await sync(['--to-consul', '--node-port-sync-type', 'ExternalFirst'])
  })

  after(async () => {
    await consul?.put('/v1/catalog/deregister', {Node: engineNode}).catch(() => {})
    await consul?.put('/v1/catalog/deregister', {Node: lbEngineNode}).catch(() => {})
    await consul?.put('/v1/catalog/deregister', {Node: n('ext-node')}).catch(() => {})
    consul?.close()
    if (kube) {
      for (const name of [nodeName1, nodeName2, nodeName3]) {
        await kube
          .core()
          .deleteNode({name})
          .catch(() => {})
      }
      await deleteNamespace(kube, ns)
    }
  })

  it('the run syncs everything', () => {
    assert.equal(toConsul.exitCode, 0, `${toConsul.stdout}\n${toConsul.stderr}`)
  })

  it('TestServiceResource_nodePort_externalFirstSync: the ExternalIP, else the first InternalIP; on the sync node', async () => {
    assert.ok(nodePort >= 30000, `the API server allocated a nodePort (${nodePort})`)
    const found = await instances(n('np'))
    assert.equal(found.length, 3, JSON.stringify(found))
    const [a, b, c] = byAddress(found, ['4.5.6.7', '2.3.4.5', '3.4.5.6'])
    assert.deepEqual(
      [a, b, c].map((i) => [i.Node, i.ServiceID, i.ServicePort, i.ServiceMeta['external-k8s-topology-zone']]),
      [
        [engineNode, serviceID(n('np'), '1.1.1.1'), nodePort, 'us-west-2a'],
        [engineNode, serviceID(n('np'), '2.2.2.2'), nodePort, 'us-west-2b'],
        [engineNode, serviceID(n('np'), '3.3.3.3'), nodePort, 'us-west-2c'],
      ],
      'consulk8s writes the default port (http: its nodePort) in Port where consul-k8s writes Ports',
    )
    assert.equal(a.ServiceMeta['port-http'], '80')
    assert.equal(a.ServiceMeta['port-rpc'], '8500')
    assert.equal(a.ServiceMeta['external-k8s-node-name'], nodeName1)
  })

  it('TestServiceResource_clusterIPTargetPortNamed: the endpoint port named by service-port, one instance per endpoint', async () => {
    const found = await instances(n('cip'))
    assert.equal(found.length, 3, JSON.stringify(found))
    const ordered = byAddress(found, ['1.1.1.1', '2.2.2.2', '3.3.3.3'])
    assert.deepEqual(
      ordered.map((i) => [i.Node, i.ServiceID, i.ServicePort, i.ServiceMeta['external-k8s-topology-zone']]),
      [
        [engineNode, serviceID(n('cip'), '1.1.1.1'), 2000, 'us-west-2a'],
        [engineNode, serviceID(n('cip'), '2.2.2.2'), 2000, 'us-west-2b'],
        [engineNode, serviceID(n('cip'), '3.3.3.3'), 2000, 'us-west-2c'],
      ],
    )
    assert.deepEqual(ordered[0].ServiceTags, ['k8s'])
    // TestServiceResource_targetRefInMeta
    assert.equal(ordered[0].ServiceMeta['external-k8s-ref-kind'], 'pod')
    assert.equal(ordered[0].ServiceMeta['external-k8s-ref-name'], 'foobar')
    assert.equal(ordered[1].ServiceMeta['external-k8s-ref-name'], undefined)
    assert.equal(ordered[1].ServiceMeta['external-k8s-node-name'], nodeName2)
    // TestServiceResource_clusterIP_healthCheck (readiness unset: critical, as consul-k8s)
    const checks = new Map((await nodeChecks(consul, engineNode)).data.map((check) => [check.ServiceID, check]))
    assert.deepEqual(
      ordered.map((i) => [checks.get(i.ServiceID)?.CheckID, checks.get(i.ServiceID)?.Name, checks.get(i.ServiceID)?.Status]),
      [
        [`${ns}/${ordered[0].ServiceID}`, 'Kubernetes Readiness Check', 'passing'],
        [`${ns}/${ordered[1].ServiceID}`, 'Kubernetes Readiness Check', 'critical'],
        [`${ns}/${ordered[2].ServiceID}`, 'Kubernetes Readiness Check', 'critical'],
      ],
    )
  })

  it('TestServiceResource_lbAnnotatedPort and TestServiceWeight_ingress: the service-port port, the weight on every instance', async () => {
    const found = await instances(n('lb'))
    assert.equal(found.length, 3, JSON.stringify(found))
    const ordered = byAddress(found, ['1.2.3.4', '3.3.3.3', '4.4.4.4'])
    assert.deepEqual(
      ordered.map((i) => [i.Node, i.ServiceID, i.ServicePort, i.ServiceWeights.Passing]),
      ['1.2.3.4', '3.3.3.3', '4.4.4.4'].map((ip) => [engineNode, serviceID(n('lb'), ip), 8500, 22]),
    )
    assert.equal(ordered[0].ServiceMeta['port-http'], '80')
    assert.equal(ordered[0].ServiceMeta['port-rpc'], '8500')
  })

  it('TestServiceResource_lbRegisterEndpoints: with --sync-lb-services-endpoints, the endpoints instead of the load balancer addresses', async () => {
    const run = await sync(['--to-consul', '--sync-lb-services-endpoints'], lbEngineNode)
    assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`)
    const found = await instances(n('lb'), lbEngineNode)
    assert.deepEqual(
      found.map((i) => [i.ServiceID, i.ServiceAddress, i.ServicePort, i.ServiceMeta['external-k8s-topology-zone']]),
      [[serviceID(n('lb'), '8.8.8.8'), '8.8.8.8', 2000, 'us-west-2a']],
      'the endpoint port named by service-port (rpc)',
    )
  })

  it('TestServiceResource_createDelete: deleting the Service removes its registrations', async () => {
    await kube.core().deleteNamespacedService({name: n('lb'), namespace: ns})
    const run = await sync(['--to-consul', '--node-port-sync-type', 'ExternalFirst'])
    assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`)
    assert.deepEqual(await instances(n('lb')), [])
    assert.equal((await instances(n('cip'))).length, 3, 'the others stay')
  })

  describe('Consul -> Kubernetes (sink_test.go)', () => {
    const toK8s = () => sync(['--to-k8s', '--k8s-write-namespace', ns, '--consul-domain', 'local'])
    const upper = `UPPERCASE-${id}`
    let first: Awaited<ReturnType<typeof toK8s>>

    before(async () => {
      for (const name of [upper, n('web')]) {
        await consul.put('/v1/catalog/register', {Node: n('ext-node'), Address: '192.0.2.60', Service: {ID: name, Service: name, Port: 80}})
      }
      // TestK8SSink_createExists: a Service of that name the engine did not create.
      await kube.core().createNamespacedService({
        namespace: ns,
        body: {metadata: {name: n('web')}, spec: {type: 'ExternalName', externalName: 'example.com.'}},
      })
      first = await toK8s()
    })

    it('TestK8SSink_createUppercase: the Service name and externalName are lowercased', async () => {
      const service = await kube.core().readNamespacedService({name: upper.toLowerCase(), namespace: ns})
      assert.equal(service.spec?.type, 'ExternalName')
      assert.equal(service.spec?.externalName, `${upper.toLowerCase()}.service.local`)
      assert.equal(service.metadata?.labels?.consul, 'true')
      assert.equal(service.metadata?.annotations?.['consul.hashicorp.com/service-sync'], 'false')
    })

    it('TestK8SSink_createExists: an existing Service of that name is not modified (and reported)', async () => {
      const service = await kube.core().readNamespacedService({name: n('web'), namespace: ns})
      assert.equal(service.spec?.externalName, 'example.com.')
      assert.equal(first.exitCode, 2, `${first.stdout}\n${first.stderr}`)
      assert.match(first.stdout + first.stderr, new RegExp(`Skipped consul:${n('web')}: Kubernetes service ${ns}/${n('web')} already exists`))
    })

    it('TestK8SSink_updateReconcile: a Service changed in Kubernetes is changed back', async () => {
      const name = upper.toLowerCase()
      const current = await kube.core().readNamespacedService({name, namespace: ns})
      await kube.core().replaceNamespacedService({name, namespace: ns, body: {...current, spec: {...current.spec, externalName: 'wrong.local.'}}})
      await toK8s()
      const fixed = await kube.core().readNamespacedService({name, namespace: ns})
      assert.equal(fixed.spec?.externalName, `${name}.service.local`)
    })

    it('TestK8SSink_deleteReconcileRemote: a Service deleted in Kubernetes is created again', async () => {
      const name = upper.toLowerCase()
      await kube.core().deleteNamespacedService({name, namespace: ns})
      await toK8s()
      const again = await kube.core().readNamespacedService({name, namespace: ns})
      assert.equal(again.spec?.externalName, `${name}.service.local`)
    })

    it('TestK8SSink_deleteReconcileLocal: the Consul service gone, its Service is deleted', async () => {
      await consul.put('/v1/catalog/deregister', {Node: n('ext-node'), ServiceID: upper})
      await toK8s()
      await assert.rejects(
        kube.core().readNamespacedService({name: upper.toLowerCase(), namespace: ns}),
        (error: {code?: number}) => error.code === 404,
      )
      const web = await kube.core().readNamespacedService({name: n('web'), namespace: ns})
      assert.equal(web.spec?.externalName, 'example.com.', 'the Service it did not create stays')
    })
  })
})
