/**
 * `consulk8s sync --once` end to end (the built binary) against the real test environment:
 * Services and EndpointSlices created through the dc1 Kubernetes API and the real dc1 Consul
 * catalog (HTTPS, ACLs). The run that loses its Consul server halfway uses the dc2 API server
 * and a Consul server of its own (the same consul binary), so killing it disturbs no one.
 *
 * Everything is scoped to this file: namespaces sync-it-<random>, Consul node names
 * sync-it-<random>, service names ending in -<random>. All of it is removed afterwards.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {execa} from 'execa'
import {stringify} from 'yaml'

import {
  createEndpointSlice,
  createNamespace,
  createService,
  createServices,
  deleteNamespace,
  endpointAddress,
  setLoadBalancerIngress,
} from '../helpers/fixtures.js'
import {nodeChecks, nodeServices, type CatalogServiceInstance} from '../../src/consul/catalog.js'
import {ConsulClient} from '../../src/consul/client.js'
import {connectTestCluster, type TestCluster} from '../helpers/kube.js'
import type {SyncResult} from '../../src/sync/engine.js'
import {serviceID} from '../../src/sync/to-consul.js'
import {consulClient, getTestEnv, type TestEnvState} from '../env/index.js'
import {freePorts} from '../env/ports.js'
import {BIN, runCli} from '../helpers/cli.js'
import {dc1Args, syncArgs} from '../helpers/sync.js'

const id = randomBytes(3).toString('hex')
const ns = `sync-it-${id}`
const node = `sync-it-${id}`
const n = (name: string) => `${name}-${id}`

let env: TestEnvState
let kube: TestCluster
let consul: ConsulClient

/** `sync --once` against dc1, from one namespace, as the engine `consulNode`. */
const onceArgs = (allowNamespace: string, consulNode: string, extra: string[] = []) => syncArgs(env, allowNamespace, consulNode, ['--once', ...extra])
// The token goes through the environment, as users pass it (never on the command line).
const withToken = (args: string[]) => runCli(args, {env: {CONSUL_HTTP_TOKEN: env.federation.managementToken}})
const sync = (extra: string[] = []) => withToken(onceArgs(ns, node, ['--k8s-write-namespace', ns, ...extra]))

async function ourServices(): Promise<Map<string, CatalogServiceInstance>> {
  const {data} = await nodeServices(consul, node)
  return new Map(data.services.map((s) => [s.ID, s]))
}

describe('sync --once against the real Kubernetes API and Consul catalog', () => {
  before(async () => {
    env = getTestEnv()
    kube = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consul = consulClient('dc1')
    await createNamespace(kube, ns)
    await createService(kube, ns, {
      name: n('web'),
      ports: [
        {name: 'http', port: 80},
        {name: 'grpc', port: 9090},
      ],
    })
    await createEndpointSlice(
      kube,
      ns,
      n('web'),
      [{ip: '10.10.0.1'}, {ip: '10.10.0.2', ready: false}],
      [
        {name: 'http', port: 8080},
        {name: 'grpc', port: 9091},
      ],
    )
    await createService(kube, ns, {
      name: n('lb'),
      type: 'LoadBalancer',
      ports: [{name: 'https', port: 443}],
      annotations: {'consul.hashicorp.com/service-weight': '7'},
    })
    await setLoadBalancerIngress(kube, ns, n('lb'), ['203.0.113.10'])
    await createService(kube, ns, {
      name: n('ext'),
      externalIPs: ['198.51.100.20'],
      annotations: {
        'consul.hashicorp.com/service-name': n('ext-renamed'),
        'consul.hashicorp.com/service-tags': 'a, b',
        'consul.hashicorp.com/service-meta-owner': 'team-x',
        'consul.hashicorp.com/service-port': '7443',
        'consul.hashicorp.com/service-weight': '1',
      },
    })
    await createService(kube, ns, {name: n('bad'), annotations: {'consul.hashicorp.com/service-sync': 'yes'}})
    await createEndpointSlice(kube, ns, n('bad'), [{ip: '10.10.0.9'}])
    await createService(kube, ns, {name: n('off'), annotations: {'consul.hashicorp.com/service-sync': 'false'}})
    await createEndpointSlice(kube, ns, n('off'), [{ip: '10.10.0.8'}])
    // Consul services registered by someone else, on another node.
    for (const name of [n('billing'), n('taken')]) {
      await consul.put('/v1/catalog/register', {Node: n('ext-node'), Address: '192.0.2.50', Service: {ID: name, Service: name, Port: 5432}})
    }
    // A Kubernetes Service the engine did not create, with the name a Consul service wants.
    await createService(kube, ns, {name: n('taken'), ports: [{name: 'http', port: 81}]})
  })

  after(async () => {
    await consul?.put('/v1/catalog/deregister', {Node: n('ext-node')}).catch(() => {})
    await consul?.put('/v1/catalog/deregister', {Node: node}).catch(() => {})
    consul?.close()
    if (kube) await deleteNamespace(kube, ns)
  })

  let first: Awaited<ReturnType<typeof sync>>

  it('registers Kubernetes services in Consul with the right IDs, tags, meta, ports and checks', async () => {
    first = await sync()
    assert.equal(first.exitCode, 2, `a skipped service makes the exit code 2\n${first.stdout}\n${first.stderr}`)
    const services = await ourServices()
    const web1 = services.get(serviceID(n('web'), '10.10.0.1'))
    const web2 = services.get(serviceID(n('web'), '10.10.0.2'))
    assert.ok(web1 && web2, `web instances registered: ${[...services.keys()].join(', ')}`)
    assert.equal(web1.Service, n('web'))
    assert.equal(web1.Address, '10.10.0.1')
    assert.equal(web1.Port, 8080)
    assert.deepEqual(web1.Tags, ['k8s'])
    assert.deepEqual(web1.Meta, {
      'external-source': 'kubernetes',
      'external-k8s-ns': ns,
      'port-http': '80',
      'port-grpc': '9090',
      'k8s-sync-node': node,
    })
    const lb = services.get(serviceID(n('lb'), '203.0.113.10'))
    assert.equal(lb?.Port, 443)
    assert.equal(lb?.Address, '203.0.113.10')
    const weights = async (service: string) =>
      (await consul.get<Array<{ServiceWeights: unknown}>>(`/v1/catalog/service/${service}`))[0]?.ServiceWeights
    assert.deepEqual(await weights(n('lb')), {Passing: 7, Warning: 1}, 'service-weight sets Weights.Passing')
    assert.deepEqual(await weights(n('ext-renamed')), {Passing: 1, Warning: 1}, 'a weight of 1: default weights')
    assert.match(
      first.stdout + first.stderr,
      new RegExp(`${ns}/${n('ext')}: consul.hashicorp.com/service-weight "1" is not an integer greater than 1; default weights are used`),
    )
    const ext = services.get(serviceID(n('ext-renamed'), '198.51.100.20'))
    assert.ok(ext, 'external IP instance under the annotated name')
    assert.deepEqual(ext.Tags, ['k8s', 'a', 'b'])
    assert.equal(ext.Port, 7443)
    assert.equal(ext.Meta?.owner, 'team-x')
    assert.equal(services.size, 4, 'bad (malformed) and off (service-sync false) are not registered')

    const checks = (await nodeChecks(consul, node)).data
    const byService = new Map(checks.map((c) => [c.ServiceID, c]))
    assert.equal(byService.get(web1.ID)?.Status, 'passing')
    assert.equal(byService.get(web1.ID)?.CheckID, `${ns}/${web1.ID}`)
    assert.equal(byService.get(web1.ID)?.Type, 'kubernetes-readiness')
    assert.equal(byService.get(web2.ID)?.Status, 'critical')
    assert.equal(byService.get(lb!.ID), undefined, 'load balancer instances have no readiness check')

    const {data: nodeInfo} = await nodeServices(consul, node)
    assert.equal(nodeInfo.node?.Address, '127.0.0.1')
    assert.equal(nodeInfo.node?.Meta?.['external-source'], 'kubernetes')

    assert.match(first.stderr + first.stdout, new RegExp(`Skipped ${ns}/${n('bad')}: consul.hashicorp.com/service-sync "yes" is not true or false`))
    assert.doesNotMatch(first.stderr + first.stdout, /\n\s+at .+:\d+:\d+/, 'no stack trace')
  })

  it('creates ExternalName services for Consul services, and leaves a Service it did not create alone', async () => {
    const billing = await kube.core().readNamespacedService({name: n('billing'), namespace: ns})
    assert.equal(billing.spec?.type, 'ExternalName')
    assert.equal(billing.spec?.externalName, `${n('billing')}.service.consul`)
    assert.equal(billing.metadata?.labels?.consul, 'true')
    assert.equal(billing.metadata?.annotations?.['consul.hashicorp.com/synced'], 'true')
    const taken = await kube.core().readNamespacedService({name: n('taken'), namespace: ns})
    assert.equal(taken.spec?.type, 'ClusterIP', 'the existing Service is untouched')
    assert.equal(taken.spec?.ports?.[0].port, 81)
    assert.match(
      first.stdout + first.stderr,
      new RegExp(`Skipped consul:${n('taken')}: Kubernetes service ${ns}/${n('taken')} already exists and was not created by this engine`),
    )
    // Services registered from Kubernetes (tag k8s) are never synced back.
    const list = await kube.core().listNamespacedService({namespace: ns, labelSelector: 'consul=true'})
    assert.ok(!list.items.some((s) => s.metadata?.name === n('ext-renamed')), 'k8s-tagged services are not synced back')
  })

  it('a second --once run is a no-op', async () => {
    const again = await sync(['--json'])
    assert.equal(again.exitCode, 2, again.stderr)
    const result = JSON.parse(again.stdout) as SyncResult
    assert.deepEqual([result.toConsul?.add.length, result.toConsul?.update.length, result.toConsul?.remove.length], [0, 0, 0])
    assert.equal(result.toConsul?.unchanged, 4)
    assert.deepEqual([result.toK8s?.add.length, result.toK8s?.update.length, result.toK8s?.remove.length], [0, 0, 0])
    assert.deepEqual(result.writeCalls, {consul: 0, kubernetes: 0})
  })

  it('a typo in an annotation of a synced Service keeps its registrations, reported with exit code 2', async () => {
    const before = await ourServices()
    const annotate = (annotations: Record<string, string | null>) =>
      kube.mergePatch('annotate the web Service', {resource: 'services', namespace: ns, name: n('web')}, {metadata: {annotations}})
    await annotate({'consul.hashicorp.com/service-sync': 'ture'})
    const typo = await sync()
    assert.equal(typo.exitCode, 2, typo.stderr)
    assert.match(
      typo.stdout + typo.stderr,
      new RegExp(
        `Skipped ${ns}/${n('web')}: consul.hashicorp.com/service-sync "ture" is not true or false; its registrations already in Consul are kept`,
      ),
    )
    assert.deepEqual([...(await ourServices()).keys()].sort(), [...before.keys()].sort(), 'nothing deregistered')
    // An unknown port name is consul-k8s's fallback to the first port: a warning, still synced.
    await annotate({'consul.hashicorp.com/service-sync': null, 'consul.hashicorp.com/service-port': 'htp'})
    const fallback = await sync()
    assert.match(
      fallback.stdout + fallback.stderr,
      new RegExp(
        `${ns}/${n('web')}: consul.hashicorp.com/service-port "htp" names no port of the service \\(ports: http, grpc\\); the first port is used`,
      ),
    )
    assert.equal((await ourServices()).get(serviceID(n('web'), '10.10.0.1'))?.Port, 8080)
    await annotate({'consul.hashicorp.com/service-port': null})
  })

  it('--dry-run prints the plan and changes nothing', async () => {
    await kube.core().deleteNamespacedService({name: n('lb'), namespace: ns})
    const before = await ourServices()
    const dry = await sync(['--dry-run'])
    assert.equal(dry.exitCode, 2, dry.stderr)
    assert.match(dry.stdout, new RegExp(`- ${n('lb')} ${serviceID(n('lb'), '203.0.113.10')}`))
    assert.match(dry.stdout, /Dry run: nothing was changed/)
    assert.deepEqual([...(await ourServices()).keys()].sort(), [...before.keys()].sort())
  })

  it('deleting a Kubernetes service removes its registrations and nothing else', async () => {
    // Someone else's registration on the engine's own node, without its marker.
    await consul.put('/v1/catalog/register', {
      Node: node,
      Address: '127.0.0.1',
      SkipNodeUpdate: true,
      Service: {ID: n('foreign'), Service: n('foreign'), Tags: ['k8s']},
    })
    await kube.core().deleteNamespacedService({name: n('web'), namespace: ns})
    await consul.put('/v1/catalog/deregister', {Node: n('ext-node'), ServiceID: n('billing')})
    const run = await sync()
    assert.equal(run.exitCode, 2, run.stderr)
    const services = await ourServices()
    assert.deepEqual([...services.keys()].sort(), [n('foreign'), serviceID(n('ext-renamed'), '198.51.100.20')].sort())
    const other = await consul.get<Array<{ServiceID: string}>>(`/v1/catalog/service/${n('taken')}`)
    assert.equal(other.length, 1, "the other node's service survives")
    await assert.rejects(kube.core().readNamespacedService({name: n('billing'), namespace: ns}), (error: {code?: number}) => error.code === 404)
    const taken = await kube.core().readNamespacedService({name: n('taken'), namespace: ns})
    assert.equal(taken.spec?.type, 'ClusterIP')
  })

  it('bad input: one readable message, non-zero exit, nothing written', async () => {
    const result = await runCli(['sync', '--once', '--kubeconfig', env.kubeconfig, '--context', 'dc1', '--node-port-sync-type', 'Sometimes'])
    assert.notEqual(result.exitCode, 0)
    assert.match(result.stderr, /Expected --node-port-sync-type=Sometimes to be one of/)
    const noConsul = await runCli(['sync', '--once', '--kubeconfig', env.kubeconfig, '--context', 'dc1'], {env: {CONSUL_HTTP_ADDR: undefined}})
    assert.equal(noConsul.exitCode, 1)
    assert.match(noConsul.stderr, /No Consul address given/)
    assert.doesNotMatch(noConsul.stderr, /\n\s+at .+:\d+:\d+/)
  })
})

describe('sync --once registers NodePort instances on the sync node, as consul-k8s', () => {
  const npNs = `sync-it-np-${id}`
  const engineNode = `sync-it-np-engine-${id}`
  const k8sNode = `sync-it-np-node-${id}`
  const internalIP = '192.0.2.81'
  const externalIP = '203.0.113.81'
  let kubeN: TestCluster
  let consulN: ConsulClient
  let nodePort = 0

  const run = (extra: string[] = []) => withToken(onceArgs(npNs, engineNode, ['--to-consul', ...extra]))
  const instances = async () =>
    consulN.get<
      Array<
        CatalogServiceInstance & {Node: string; ServiceID: string; ServiceAddress: string; ServicePort: number; ServiceMeta: Record<string, string>}
      >
    >(`/v1/catalog/service/${n('np')}`)

  before(async () => {
    env = getTestEnv()
    kubeN = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consulN = consulClient('dc1')
    await createNamespace(kubeN, npNs)
    const addresses = [
      {type: 'InternalIP', address: internalIP},
      {type: 'ExternalIP', address: externalIP},
    ]
    await kubeN.core().createNode({body: {metadata: {name: k8sNode, labels: {'consulk8s-test': 'sync'}}, status: {addresses}}})
    // The API server may drop status on create: set the addresses through the status subresource.
    const created = await kubeN.core().readNode({name: k8sNode})
    if (!created.status?.addresses?.some((a) => a.address === externalIP)) {
      await kubeN.core().replaceNodeStatus({name: k8sNode, body: {...created, status: {...created.status, addresses}}})
    }
    await createService(kubeN, npNs, {name: n('np'), type: 'NodePort', ports: [{name: 'http', port: 80}]})
    const service = await kubeN.core().readNamespacedService({name: n('np'), namespace: npNs})
    nodePort = service.spec?.ports?.[0].nodePort ?? 0
    await createEndpointSlice(kubeN, npNs, n('np'), [
      {ip: '10.10.8.1', nodeName: k8sNode, zone: 'zone-a', pod: 'np-1'},
      {ip: '10.10.8.2', nodeName: k8sNode, ready: false, pod: 'np-2'},
    ])
  })

  after(async () => {
    await consulN?.put('/v1/catalog/deregister', {Node: k8sNode}).catch(() => {})
    await consulN?.put('/v1/catalog/deregister', {Node: engineNode}).catch(() => {})
    consulN?.close()
    if (kubeN) {
      await kubeN
        .core()
        .deleteNode({name: k8sNode})
        .catch(() => {})
      await deleteNamespace(kubeN, npNs)
    }
  })

  it("registers one instance per endpoint on the engine's node, at the node address and the nodePort, with consul-k8s's meta", async () => {
    assert.ok(nodePort >= 30000, `the API server allocated a nodePort (${nodePort})`)
    const first = await run()
    assert.equal(first.exitCode, 0, `${first.stdout}\n${first.stderr}`)
    const found = (await instances()).sort((a, b) => a.ServiceMeta['external-k8s-ref-name'].localeCompare(b.ServiceMeta['external-k8s-ref-name']))
    assert.equal(found.length, 2, JSON.stringify(found))
    assert.deepEqual(
      found.map((i) => [i.Node, i.ServiceID, i.ServiceAddress, i.ServicePort]),
      [
        [engineNode, serviceID(n('np'), '10.10.8.1'), externalIP, nodePort],
        [engineNode, serviceID(n('np'), '10.10.8.2'), externalIP, nodePort],
      ],
      'the address --node-port-sync-type (ExternalFirst) chose; IDs from the endpoint addresses',
    )
    assert.deepEqual(found[0].ServiceMeta, {
      'external-source': 'kubernetes',
      'external-k8s-ns': npNs,
      'port-http': '80',
      'external-k8s-ref-kind': 'Pod',
      'external-k8s-ref-name': 'np-1',
      'external-k8s-node-name': k8sNode,
      'external-k8s-topology-zone': 'zone-a',
      'k8s-sync-node': engineNode,
    })
    assert.equal(found[1].ServiceMeta['external-k8s-topology-zone'], undefined, 'no zone when the endpoint has none')
    const checks = new Map((await nodeChecks(consulN, engineNode)).data.map((c) => [c.ServiceID, c.Status]))
    assert.deepEqual([checks.get(found[0].ServiceID), checks.get(found[1].ServiceID)], ['passing', 'critical'])
    const {data} = await nodeServices(consulN, k8sNode)
    assert.equal(data.node, undefined, 'no Consul node named after the Kubernetes node')
  })

  it('a second run is a no-op', async () => {
    const again = await run(['--json'])
    assert.equal(again.exitCode, 0, again.stderr)
    const result = JSON.parse(again.stdout) as SyncResult
    assert.deepEqual(
      [result.toConsul?.add.length, result.toConsul?.update.length, result.toConsul?.remove.length, result.toConsul?.removeNodes.length],
      [0, 0, 0, 0],
    )
    assert.equal(result.toConsul?.unchanged, 2)
    assert.deepEqual(result.writeCalls, {consul: 0, kubernetes: 0})
  })

  it('removes what an earlier consulk8s left on a node named after the Kubernetes node, and only that', async () => {
    // The earlier layout: the instance on a node entry the engine created (marker in node meta),
    // and one on a real agent's node, next to the agent's own service.
    const legacy = (nodeName: string) => ({
      ID: n(`legacy-${nodeName}`),
      Service: n('np'),
      Tags: ['k8s'],
      Address: externalIP,
      Port: nodePort,
      Meta: {'k8s-sync-node': engineNode},
    })
    await consulN.put('/v1/catalog/register', {
      Node: k8sNode,
      Address: externalIP,
      NodeMeta: {'external-source': 'kubernetes', 'k8s-sync-node': engineNode},
      Service: legacy(k8sNode),
    })
    await consulN.put('/v1/catalog/register', {
      Node: `${k8sNode}-agent`,
      Address: '198.51.100.99',
      NodeMeta: {agent: 'real'},
      Service: {ID: n('agent'), Service: n('agent'), Port: 1},
    })
    await consulN.put('/v1/catalog/register', {
      Node: `${k8sNode}-agent`,
      Address: '198.51.100.99',
      SkipNodeUpdate: true,
      Service: legacy(`${k8sNode}-agent`),
      Check: {CheckID: 'legacy', Name: 'Kubernetes Readiness Check', ServiceID: n(`legacy-${k8sNode}-agent`), Status: 'passing'},
    })
    const cleaned = await run()
    assert.equal(cleaned.exitCode, 0, `${cleaned.stdout}\n${cleaned.stderr}`)
    assert.deepEqual(
      (await instances()).map((i) => i.Node),
      [engineNode, engineNode],
    )
    assert.equal((await nodeServices(consulN, k8sNode)).data.node, undefined, 'the node entry the engine created is gone')
    const agent = (await nodeServices(consulN, `${k8sNode}-agent`)).data
    assert.deepEqual(agent.node?.Meta, {agent: 'real'}, 'the node entry it did not create stays, as it was')
    assert.deepEqual(
      agent.services.map((s) => s.ID),
      [n('agent')],
    )
    await consulN.put('/v1/catalog/deregister', {Node: `${k8sNode}-agent`})
  })

  it('an engine with another node name neither sees nor removes the instances', async () => {
    const other = await withToken(onceArgs(`${npNs}-none`, `${engineNode}-b`, ['--to-consul', '--json']))
    assert.equal(other.exitCode, 0, other.stderr)
    const result = JSON.parse(other.stdout) as SyncResult
    assert.deepEqual([result.toConsul?.remove.length, result.toConsul?.removeNodes.length], [0, 0])
    assert.equal((await instances()).length, 2)
    await consulN.put('/v1/catalog/deregister', {Node: `${engineNode}-b`}).catch(() => {})
  })

  it('deleting the Service removes the instances', async () => {
    await kubeN.core().deleteNamespacedService({name: n('np'), namespace: npNs})
    const removed = await run()
    assert.equal(removed.exitCode, 0, `${removed.stdout}\n${removed.stderr}`)
    assert.deepEqual(await instances(), [])
  })
})

describe("sync --adopt takes over what consul-k8s's sync-catalog registered", () => {
  const adoptNs = `sync-it-adopt-${id}`
  // sync-catalog ran with this node name; consulk8s takes over with the same one.
  const syncNode = `sync-it-adopt-${id}`
  const extNode = `sync-it-adopt-ext-${id}`
  let kubeA: TestCluster
  let consulA: ConsulClient

  const run = (extra: string[] = []) => withToken(onceArgs(adoptNs, syncNode, ['--k8s-write-namespace', adoptNs, '--json', ...extra]))
  const services = async () => new Map((await nodeServices(consulA, syncNode)).data.services.map((s) => [s.ID, s]))
  const legacyID = () => serviceID(n('legacy'), '10.10.9.1')
  const ours = (result: SyncResult) => result.skipped.filter((s) => s.source.includes(id))

  /** What sync-catalog 2.0.3 registers for a ClusterIP endpoint (resource.go: baseNode, baseService, registerServiceInstance). */
  const asSyncCatalog = (name: string, address: string, ready: boolean) => ({
    SkipNodeUpdate: true,
    Node: syncNode,
    Address: '127.0.0.1',
    NodeMeta: {'external-source': 'kubernetes'},
    Service: {
      ID: serviceID(name, address),
      Service: name,
      Tags: ['k8s'],
      Meta: {
        'external-source': 'kubernetes',
        'external-k8s-ns': adoptNs,
        'port-http': '80',
        'external-k8s-ref-kind': 'Pod',
        'external-k8s-ref-name': `${name}-pod`,
      },
      Address: address,
      // 2.0.3 writes Consul 1.22's multi-port list (the endpoint ports, the first the default) and Port 0.
      Port: 0,
      Ports: [{Name: 'http', Port: 8080, Default: true}],
    },
    Check: {
      CheckID: `${adoptNs}/${serviceID(name, address)}`,
      Name: 'Kubernetes Readiness Check',
      Type: 'kubernetes-readiness',
      ServiceID: serviceID(name, address),
      Status: ready ? 'passing' : 'critical',
      Output: ready ? 'Kubernetes health checks passing' : 'Kubernetes health checks failing',
    },
  })
  /** What sync-catalog's to-k8s sink creates for a Consul service. */
  const externalName = (name: string) => ({
    metadata: {name, labels: {consul: 'true'}, annotations: {'consul.hashicorp.com/synced': 'true', 'consul.hashicorp.com/service-sync': 'false'}},
    spec: {type: 'ExternalName', externalName: `${name}.service.consul`},
  })

  before(async () => {
    env = getTestEnv()
    kubeA = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consulA = consulClient('dc1')
    await createNamespace(kubeA, adoptNs)
    await createService(kubeA, adoptNs, {name: n('legacy'), ports: [{name: 'http', port: 80}]})
    await createEndpointSlice(kubeA, adoptNs, n('legacy'), [{ip: '10.10.9.1', pod: `${n('legacy')}-pod`}])
    await consulA.put('/v1/catalog/register', asSyncCatalog(n('legacy'), '10.10.9.1', false))
    // A Service deleted while sync-catalog was stopped: its registration stays behind.
    await consulA.put('/v1/catalog/register', asSyncCatalog(n('old'), '10.10.9.2', true))
    // A Consul service sync-catalog had made an ExternalName Service for, and one whose Consul service is gone.
    await consulA.put('/v1/catalog/register', {Node: extNode, Address: '192.0.2.60', Service: {ID: n('db'), Service: n('db'), Port: 5432}})
    await kubeA.core().createNamespacedService({namespace: adoptNs, body: externalName(n('db'))})
    await kubeA.core().createNamespacedService({namespace: adoptNs, body: externalName(n('stale'))})
  })

  after(async () => {
    await consulA?.put('/v1/catalog/deregister', {Node: extNode}).catch(() => {})
    await consulA?.put('/v1/catalog/deregister', {Node: syncNode}).catch(() => {})
    consulA?.close()
    if (kubeA) await deleteNamespace(kubeA, adoptNs)
  })

  it('without --adopt nothing foreign is touched, and the conflicts say --adopt', async () => {
    const before = await services()
    const result = await run()
    assert.equal(result.exitCode, 2, result.stderr)
    const parsed = JSON.parse(result.stdout) as SyncResult
    assert.deepEqual(
      ours(parsed)
        .map((s) => s.source)
        .sort(),
      [`${adoptNs}/${n('legacy')}`, `consul:${n('db')}`].sort(),
    )
    assert.ok(
      ours(parsed).every((s) => /--adopt takes it over/.test(s.reason)),
      JSON.stringify(ours(parsed)),
    )
    const after = await services()
    assert.deepEqual(
      [...after.values()].map((s) => [s.ID, s.ModifyIndex]).sort(),
      [...before.values()].map((s) => [s.ID, s.ModifyIndex]).sort(),
      'not one write',
    )
    await kubeA.core().readNamespacedService({name: n('stale'), namespace: adoptNs})
  })

  it('with --adopt: updated in place (same IDs, marked), leftovers removed on both sides', async () => {
    const result = await run(['--adopt'])
    assert.notEqual(result.exitCode, 1, result.stderr)
    const parsed = JSON.parse(result.stdout) as SyncResult
    assert.deepEqual(ours(parsed), [])
    assert.ok(parsed.toConsul?.update.some((u) => u.id === legacyID() && u.changes.includes('adopted')))
    const after = await services()
    assert.deepEqual([...after.keys()], [legacyID()], 'the leftover registration is gone')
    assert.equal(after.get(legacyID())?.Meta?.['k8s-sync-node'], syncNode)
    const raw = await consulA.get<{Services: Array<{ID: string; Port: number; Ports?: unknown}>}>(`/v1/catalog/node-services/${syncNode}`)
    const adopted = raw.Services.find((s) => s.ID === legacyID())
    assert.deepEqual([adopted?.Port, adopted?.Ports ?? null], [8080, null], 'the single port consulk8s writes replaces the multi-port list')
    const check = (await nodeChecks(consulA, syncNode)).data.find((c) => c.ServiceID === legacyID())
    assert.equal(check?.Status, 'passing', 'the check follows the endpoint now')
    const db = await kubeA.core().readNamespacedService({name: n('db'), namespace: adoptNs})
    assert.equal(db.metadata?.annotations?.['consulk8s/sync-node'], syncNode)
    await assert.rejects(kubeA.core().readNamespacedService({name: n('stale'), namespace: adoptNs}), (error: {code?: number}) => error.code === 404)
  })

  it('afterwards, a run without --adopt is a no-op on what was adopted', async () => {
    const result = await run()
    const parsed = JSON.parse(result.stdout) as SyncResult
    assert.deepEqual(ours(parsed), [])
    assert.deepEqual([parsed.toConsul?.add.length, parsed.toConsul?.update.length, parsed.toConsul?.remove.length], [0, 0, 0])
    assert.ok(!parsed.toK8s?.update.some((u) => u.name === n('db')) && !parsed.toK8s?.add.some((u) => u.name === n('db')))
  })
})

describe('sync --from-release takes the settings of an installed Consul Helm release', () => {
  const relNs = `sync-it-rel-${id}`
  const release = `rel-${id}`
  const relNode = `sync-it-rel-${id}`
  let kubeR: TestCluster
  let consulR: ConsulClient
  const helm = (args: string[]) => execa(env.bin.helm, [...args, '--kube-context', 'dc1', '--kubeconfig', env.kubeconfig])
  const run = (extra: string[]) =>
    runCli(['sync', ...dc1Args(env), ...extra], {
      env: {CONSUL_HTTP_TOKEN: env.federation.managementToken, CONSULK8S_HELM: env.bin.helm},
    })

  before(async () => {
    env = getTestEnv()
    kubeR = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consulR = consulClient('dc1')
    // Only sync-catalog (no servers, no CRDs), with settings that differ from consulk8s's defaults.
    await helm([
      'install',
      release,
      env.chartDir,
      '--namespace',
      relNs,
      '--create-namespace',
      '--no-hooks',
      '--set',
      'global.enabled=false',
      '--set',
      'connectInject.enabled=false',
      '--set',
      'externalServers.enabled=true',
      '--set',
      'externalServers.hosts[0]=127.0.0.1',
      '--set',
      'syncCatalog.enabled=true',
      '--set',
      'syncCatalog.toK8S=false',
      '--set',
      `syncCatalog.consulNodeName=${relNode}`,
      '--set',
      `syncCatalog.k8sAllowNamespaces[0]=${relNs}`,
      '--set',
      'syncCatalog.k8sTag=from-helm',
    ])
    await createService(kubeR, relNs, {name: n('web'), externalIPs: ['198.51.100.31']})
  })

  after(async () => {
    await helm(['uninstall', release, '--namespace', relNs, '--no-hooks']).catch(() => {})
    await consulR?.put('/v1/catalog/deregister', {Node: relNode}).catch(() => {})
    await consulR?.put('/v1/catalog/deregister', {Node: `${relNode}-flag`}).catch(() => {})
    consulR?.close()
    if (kubeR) await deleteNamespace(kubeR, relNs)
  })

  it('--dry-run lists every setting, its value and where it came from', async () => {
    const result = await run(['--dry-run', '--from-release', `${relNs}/${release}`, '--consul-domain', 'example', '--json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const settings = new Map((JSON.parse(result.stdout) as SyncResult).settings?.map((s) => [s.flag, [s.value, s.from]]))
    assert.deepEqual(settings.get('consul-node-name'), [relNode, 'release'])
    assert.deepEqual(settings.get('k8s-write-namespace'), [relNs, 'release'], 'the release namespace, as the chart passes it')
    assert.deepEqual(settings.get('add-k8s-namespace-suffix'), ['true', 'release'], "the chart's default, not consulk8s's")
    assert.deepEqual(settings.get('to-k8s'), ['false', 'release'])
    assert.deepEqual(settings.get('consul-k8s-tag'), ['from-helm', 'release'])
    assert.deepEqual(settings.get('k8s-allow-namespace'), [relNs, 'release'])
    assert.deepEqual(settings.get('consul-domain'), ['example', 'flag'])
    assert.deepEqual(settings.get('adopt'), ['false', 'default'])
    const human = await run(['--dry-run', '--from-release', release])
    assert.match(human.stdout + human.stderr, new RegExp(`Settings \\(release ${relNs}/${release}\\)`))
    assert.match(human.stdout + human.stderr, /--consul-node-name\s+\S+\s+release/)
  })

  it("syncs with the release's settings; explicit flags win", async () => {
    const once = await run(['--once', '--from-release', release])
    assert.equal(once.exitCode, 0, `${once.stdout}\n${once.stderr}`)
    const {data} = await nodeServices(consulR, relNode)
    assert.deepEqual(
      data.services.map((s) => [s.Service, s.Tags]),
      [[`${n('web')}-${relNs}`, ['from-helm']]],
      'suffix and tag from the release',
    )
    const flagged = await run(['--once', '--from-release', release, '--consul-node-name', `${relNode}-flag`, '--no-add-k8s-namespace-suffix'])
    assert.equal(flagged.exitCode, 0, flagged.stderr)
    assert.deepEqual(
      (await nodeServices(consulR, `${relNode}-flag`)).data.services.map((s) => s.Service),
      [n('web')],
    )
  })

  it('a release that is not there: one readable error', async () => {
    const result = await run(['--dry-run', '--from-release', `${relNs}/nope`])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, new RegExp(`No Consul Helm release "${relNs}/nope" found in the cluster`))
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/)
  })
})

describe('sync connects to Consul like every Consul tool, and logs in through a Kubernetes auth method', () => {
  const loginNs = `sync-it-login-${id}`
  const loginNode = `sync-it-login-${id}`
  const method = `sync-it-k8s-${id}`
  const dir = mkdtempSync(join(tmpdir(), 'sync-it-login-'))
  let kubeL: TestCluster
  let consulL: ConsulClient
  let tokenFile = ''

  /** sync --once --to-consul of one namespace with the given environment (no token unless given). */
  const run = (extra: string[], environment: Record<string, string | undefined>) =>
    runCli(
      [
        'sync',
        '--once',
        '--to-consul',
        '--kubeconfig',
        env.kubeconfig,
        '--context',
        'dc1',
        '--k8s-allow-namespace',
        loginNs,
        '--consul-node-name',
        loginNode,
        ...extra,
      ],
      {
        env: {CONSUL_HTTP_ADDR: env.consul.dc1.httpAddr, CONSUL_HTTP_TOKEN: undefined, ...environment},
      },
    )
  const registered = async () => (await nodeServices(consulL, loginNode)).data.services.map((s) => s.ID)
  const methodTokens = async () => consulL.get<Array<{AccessorID: string}>>('/v1/acl/tokens', {query: {authmethod: method}})

  before(async () => {
    env = getTestEnv()
    kubeL = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consulL = consulClient('dc1')
    await createNamespace(kubeL, loginNs)
    await createService(kubeL, loginNs, {name: n('login'), externalIPs: ['198.51.100.41']})
    // The token reviewer Consul calls the API server's TokenReview with, as the chart sets it up.
    const rbacApi = kubeL.config.makeApiClient(kubeL.k8s.RbacAuthorizationV1Api)
    await kubeL.core().createNamespacedServiceAccount({namespace: loginNs, body: {metadata: {name: 'reviewer'}}})
    await kubeL.core().createNamespacedServiceAccount({namespace: loginNs, body: {metadata: {name: 'sync-catalog'}}})
    await rbacApi.createClusterRoleBinding({
      body: {
        metadata: {name: `sync-it-reviewer-${id}`},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator'},
        subjects: [{kind: 'ServiceAccount', name: 'reviewer', namespace: loginNs}],
      },
    })
    // The auth method also reads the service account (annotations), as the chart's ClusterRole allows.
    await rbacApi.createClusterRole({
      body: {metadata: {name: `sync-it-reviewer-${id}`}, rules: [{apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get']}]},
    })
    await rbacApi.createClusterRoleBinding({
      body: {
        metadata: {name: `sync-it-reviewer-sa-${id}`},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `sync-it-reviewer-${id}`},
        subjects: [{kind: 'ServiceAccount', name: 'reviewer', namespace: loginNs}],
      },
    })
    const issue = async (name: string) =>
      (await kubeL.core().createNamespacedServiceAccountToken({name, namespace: loginNs, body: {spec: {audiences: [], expirationSeconds: 3600}}}))
        .status?.token ?? ''
    const reviewer = await issue('reviewer')
    tokenFile = join(dir, 'sa-token')
    writeFileSync(tokenFile, await issue('sync-catalog'), {mode: 0o600})
    // What the chart's server-acl-init makes for sync-catalog: a policy, a role, a binding rule.
    const rules = `node "${loginNode}" { policy = "write" }\nservice_prefix "" { policy = "write" }\nnode_prefix "" { policy = "read" }\n`
    const policy = await consulL.put<{ID: string}>('/v1/acl/policy', {Name: `sync-it-login-${id}`, Rules: rules})
    await consulL.put('/v1/acl/role', {Name: `sync-it-login-${id}`, Policies: [{ID: policy.ID}]})
    await consulL.put('/v1/acl/auth-method', {
      Name: method,
      Type: 'kubernetes',
      Config: {Host: env.clusters.dc1.server, CACert: readFileSync(env.clusters.dc1.caCertFile, 'utf8'), ServiceAccountJWT: reviewer},
    })
    await consulL.put('/v1/acl/binding-rule', {
      AuthMethod: method,
      BindType: 'role',
      BindName: `sync-it-login-${id}`,
      Selector: `serviceaccount.name=="sync-catalog"`,
    })
  })

  after(async () => {
    await consulL?.delete(`/v1/acl/auth-method/${method}`).catch(() => {})
    const role = await consulL?.get<{ID: string}>(`/v1/acl/role/name/sync-it-login-${id}`).catch(() => undefined)
    if (role) await consulL.delete(`/v1/acl/role/${role.ID}`).catch(() => {})
    const policy = await consulL?.get<{ID: string}>(`/v1/acl/policy/name/sync-it-login-${id}`).catch(() => undefined)
    if (policy) await consulL.delete(`/v1/acl/policy/${policy.ID}`).catch(() => {})
    await consulL?.put('/v1/catalog/deregister', {Node: loginNode}).catch(() => {})
    consulL?.close()
    if (kubeL) {
      const rbacApi = kubeL.config.makeApiClient(kubeL.k8s.RbacAuthorizationV1Api)
      await rbacApi.deleteClusterRoleBinding({name: `sync-it-reviewer-${id}`}).catch(() => {})
      await rbacApi.deleteClusterRoleBinding({name: `sync-it-reviewer-sa-${id}`}).catch(() => {})
      await rbacApi.deleteClusterRole({name: `sync-it-reviewer-${id}`}).catch(() => {})
      await deleteNamespace(kubeL, loginNs)
    }
    rmSync(dir, {recursive: true, force: true})
  })

  it('logs in with the service-account token, syncs with the token it got, and logs out', async () => {
    const result = await run(
      ['--consul-cacert', env.federation.caCertFile, '--consul-login-auth-method', method, '--consul-login-bearer-token-file', tokenFile],
      {},
    )
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)
    assert.deepEqual(await registered(), [serviceID(n('login'), '198.51.100.41')])
    assert.deepEqual(await methodTokens(), [], 'the login token was destroyed on exit')
  })

  it('a wrong bearer token fails with a clear message, and nothing is written', async () => {
    await consulL.put('/v1/catalog/deregister', {Node: loginNode})
    const wrong = join(dir, 'wrong-token')
    writeFileSync(wrong, 'not-a-service-account-token', {mode: 0o600})
    const result = await run(
      ['--consul-cacert', env.federation.caCertFile, '--consul-login-auth-method', method, '--consul-login-bearer-token-file', wrong],
      {},
    )
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, new RegExp(`Consul refused the login through auth method "${method}"`))
    assert.match(result.stderr, /binding rule/)
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/)
    assert.deepEqual(await registered(), [])
  })

  it('CONSUL_HTTP_TOKEN_FILE, CONSUL_TLS_SERVER_NAME and CONSUL_HTTP_SSL_VERIFY=false are honoured', async () => {
    const tokenPath = join(dir, 'consul-token')
    writeFileSync(tokenPath, `${env.federation.managementToken}\n`, {mode: 0o600})
    const viaFile = await run([], {
      CONSUL_CACERT: env.federation.caCertFile,
      CONSUL_HTTP_TOKEN_FILE: tokenPath,
      CONSUL_TLS_SERVER_NAME: 'server.dc1.consul',
    })
    assert.equal(viaFile.exitCode, 0, viaFile.stderr)
    assert.deepEqual(await registered(), [serviceID(n('login'), '198.51.100.41')])
    const wrongName = await run([], {
      CONSUL_CACERT: env.federation.caCertFile,
      CONSUL_HTTP_TOKEN_FILE: tokenPath,
      CONSUL_TLS_SERVER_NAME: 'server.elsewhere.example',
    })
    assert.equal(wrongName.exitCode, 1)
    assert.match(wrongName.stderr, /CONSUL_TLS_SERVER_NAME/)
    const noVerify = await run([], {CONSUL_HTTP_TOKEN_FILE: tokenPath, CONSUL_HTTP_SSL_VERIFY: 'false'})
    assert.equal(noVerify.exitCode, 0, noVerify.stderr)
    const verified = await run([], {CONSUL_HTTP_TOKEN_FILE: tokenPath})
    assert.equal(verified.exitCode, 1, 'without the CA and without SSL_VERIFY=false the certificate does not verify')
  })

  it('CONSUL_NAMESPACE is sent (this Consul, without Enterprise, refuses it)', async () => {
    const result = await run([], {
      CONSUL_CACERT: env.federation.caCertFile,
      CONSUL_HTTP_TOKEN: env.federation.managementToken,
      CONSUL_NAMESPACE: 'team',
    })
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /[Nn]amespace/)
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/)
  })
})

describe('sync with a service-account token limited by RBAC to its namespace', () => {
  const authNs = `sync-it-auth-${id}`
  const authNode = `sync-it-auth-${id}`
  const dir = mkdtempSync(join(tmpdir(), 'sync-it-auth-'))
  let kubeA: TestCluster
  let consulA: ConsulClient
  let token = ''

  before(async () => {
    env = getTestEnv()
    kubeA = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consulA = consulClient('dc1')
    await createNamespace(kubeA, authNs)
    await createService(kubeA, authNs, {name: n('tok'), externalIPs: ['198.51.100.77']})
    const rbac = kubeA.k8s.RbacAuthorizationV1Api
    const rbacApi = kubeA.config.makeApiClient(rbac)
    await kubeA.core().createNamespacedServiceAccount({namespace: authNs, body: {metadata: {name: 'syncer'}}})
    await rbacApi.createNamespacedRole({
      namespace: authNs,
      body: {
        metadata: {name: 'syncer'},
        rules: [
          {apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete']},
          {apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch']},
        ],
      },
    })
    await rbacApi.createNamespacedRoleBinding({
      namespace: authNs,
      body: {
        metadata: {name: 'syncer'},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'syncer'},
        subjects: [{kind: 'ServiceAccount', name: 'syncer', namespace: authNs}],
      },
    })
    const issued = await kubeA
      .core()
      .createNamespacedServiceAccountToken({name: 'syncer', namespace: authNs, body: {spec: {audiences: [], expirationSeconds: 3600}}})
    token = issued.status?.token ?? ''
    // The CA next to the kubeconfig, named by a relative path; the token from a file.
    writeFileSync(join(dir, 'ca.crt'), readFileSync(env.clusters.dc1.caCertFile))
    writeFileSync(join(dir, 'token'), token)
    for (const [file, user] of [
      ['token.yaml', {token}],
      ['token-file.yaml', {tokenFile: 'token'}],
    ] as const) {
      writeFileSync(
        join(dir, file),
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'syncer',
          clusters: [{name: 'dc1', cluster: {server: env.clusters.dc1.server, 'certificate-authority': 'ca.crt'}}],
          users: [{name: 'syncer', user}],
          contexts: [{name: 'syncer', context: {cluster: 'dc1', user: 'syncer'}}],
        }),
      )
    }
  })

  after(async () => {
    await consulA?.put('/v1/catalog/deregister', {Node: authNode}).catch(() => {})
    consulA?.close()
    if (kubeA) await deleteNamespace(kubeA, authNs)
    rmSync(dir, {recursive: true, force: true})
  })

  const run = (kubeconfig: string, extra: string[]) =>
    runCli(
      [
        'sync',
        '--once',
        '--kubeconfig',
        join(dir, kubeconfig),
        '--consul-http-addr',
        env.consul.dc1.httpAddr,
        '--consul-cacert',
        env.federation.caCertFile,
        '--consul-node-name',
        authNode,
        ...extra,
      ],
      {
        env: {CONSUL_HTTP_TOKEN: env.federation.managementToken},
      },
    )

  it('syncs its namespace with a bearer token, and with a token file', async () => {
    assert.ok(token.length > 20, 'the API server issued a token')
    for (const kubeconfig of ['token.yaml', 'token-file.yaml']) {
      const result = await run(kubeconfig, ['--k8s-allow-namespace', authNs, '--k8s-write-namespace', authNs])
      assert.equal(result.exitCode, 0, `${kubeconfig}\n${result.stdout}\n${result.stderr}`)
    }
    const {data} = await nodeServices(consulA, authNode)
    assert.deepEqual(
      data.services.map((s) => s.ID),
      [serviceID(n('tok'), '198.51.100.77')],
    )
  })

  it('a list RBAC forbids is one readable error, and nothing is written', async () => {
    await consulA.put('/v1/catalog/deregister', {Node: authNode})
    const result = await run('token.yaml', ['--to-consul'])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /refused to list (Services|EndpointSlices): HTTP 403 — .* is forbidden/)
    assert.match(result.stderr, /RBAC/)
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/)
    const {data} = await nodeServices(consulA, authNode)
    assert.equal(data.node, undefined, 'not even the node was registered')
  })
})

describe('sync (continuous) follows changes and stops cleanly on Ctrl-C', () => {
  const watchNs = `sync-it-watch-${id}`
  const watchNode = `sync-it-watch-${id}`
  let kubeW: TestCluster
  let consulW: ConsulClient

  before(async () => {
    env = getTestEnv()
    kubeW = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc1'})
    consulW = consulClient('dc1')
    await createNamespace(kubeW, watchNs)
  })

  after(async () => {
    await consulW?.put('/v1/catalog/deregister', {Node: watchNode}).catch(() => {})
    consulW?.close()
    if (kubeW) await deleteNamespace(kubeW, watchNs)
  })

  const instances = async () => (await nodeServices(consulW, watchNode).catch(() => ({data: {services: []}}))).data.services
  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = await probe()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(200)
    }
  }

  it('registers, updates and removes as Services and endpoints change, then exits 0 on SIGINT', async () => {
    const child = execa(process.execPath, [BIN, ...syncArgs(env, watchNs, watchNode, ['--to-consul', '-o', 'json'])], {
      reject: false,
      env: {CI: 'true', NO_COLOR: '1', CONSUL_HTTP_TOKEN: env.federation.managementToken},
      timeout: 180_000,
    })
    try {
      await createService(kubeW, watchNs, {name: n('live')})
      await createEndpointSlice(kubeW, watchNs, n('live'), [{ip: '10.20.0.1'}])
      const first = await until('the first instance', async () => ((await instances()).length === 1 ? (await instances())[0] : undefined))
      assert.equal(first.ID, serviceID(n('live'), '10.20.0.1'))

      // A second endpoint appears: a second instance, no restart needed.
      const slice = await kubeW.discovery().readNamespacedEndpointSlice({name: `${n('live')}-manual`, namespace: watchNs})
      slice.endpoints.push({addresses: ['10.20.0.2'], conditions: {ready: false}})
      await kubeW.discovery().replaceNamespacedEndpointSlice({name: `${n('live')}-manual`, namespace: watchNs, body: slice})
      await until('the second instance', async () => ((await instances()).length === 2 ? true : undefined))
      const checks = (await nodeChecks(consulW, watchNode)).data
      assert.equal(checks.find((c) => c.ServiceID === serviceID(n('live'), '10.20.0.2'))?.Status, 'critical')

      // Deleting the Service removes its instances.
      await kubeW.core().deleteNamespacedService({name: n('live'), namespace: watchNs})
      await until('the instances to go', async () => ((await instances()).length === 0 ? true : undefined))
    } finally {
      child.kill('SIGINT')
    }
    const result = await child
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stderr, /Stopped after \d+ pass/)
    const passes = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SyncResult)
    assert.ok(passes.length >= 3, `one JSON line per pass (${passes.length})`)
    assert.ok(
      passes.some((p) => p.toConsul?.applied?.removed === 2),
      'a pass removed the two instances',
    )
  })
})

/**
 * A TCP pass-through to a real Consul server that holds every chunk the client sends for
 * `delayMs`, so a run takes long enough to lose its server halfway.
 */
function slowProxy(targetPort: number, delayMs: number): Promise<{port: number; close: () => void}> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    let queue = Promise.resolve()
    client.on('data', (chunk) => {
      queue = queue
        .then(() => sleep(delayMs))
        .then(() => {
          upstream.write(chunk)
        })
    })
    upstream.pipe(client)
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      resolve({
        port,
        close: () => {
          for (const socket of sockets) socket.destroy()
          server.close()
        },
      })
    })
  })
}

/**
 * A Consul server of this test's own (the environment's consul binary, its own data
 * directory and ports): killing the shared datacenters would break the other test files
 * running at the same time. Kill and start keep the data, as a real server restart does.
 */
async function privateConsul(consulBin: string) {
  const dir = mkdtempSync(join(tmpdir(), 'sync-it-consul-'))
  const ports = await freePorts({http: {}, serfLan: {udp: true}, server: {}})
  const config = join(dir, 'server.json')
  writeFileSync(
    config,
    JSON.stringify({
      server: true,
      bootstrap_expect: 1,
      datacenter: 'synckill',
      node_name: 'sync-it-consul',
      data_dir: join(dir, 'data'),
      bind_addr: '127.0.0.1',
      client_addr: '127.0.0.1',
      ports: {http: ports.http, serf_lan: ports.serfLan, server: ports.server, serf_wan: -1, dns: -1, grpc: -1, grpc_tls: -1},
      log_level: 'warn',
      disable_update_check: true,
    }),
  )
  const address = `http://127.0.0.1:${ports.http}`
  const client = new ConsulClient({address, timeoutMs: 3000})
  let child: ReturnType<typeof execa> | undefined
  const start = async () => {
    child = execa(consulBin, ['agent', `-config-file=${config}`], {reject: false, stdio: 'ignore'})
    for (let tries = 0; tries < 300; tries++) {
      // Ready when a leader exists and a write goes through.
      const ok = await client
        .put('/v1/catalog/register', {Node: 'sync-it-probe', Address: '127.0.0.1'})
        .then(() => true)
        .catch(() => false)
      if (ok) return
      await sleep(100)
    }
    throw new Error('the private Consul server did not become ready')
  }
  const kill = async () => {
    child?.kill('SIGKILL')
    await child
    child = undefined
  }
  return {
    address,
    port: ports.http,
    client,
    start,
    kill,
    close: async () => {
      client.close()
      await kill()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

describe('sync --once when Consul is killed in the middle of the run', () => {
  const killNs = `sync-it-kill-${id}`
  const killNode = `sync-it-kill-${id}`
  const count = 160
  let kube2: TestCluster
  let server: Awaited<ReturnType<typeof privateConsul>>

  before(async () => {
    env = getTestEnv()
    kube2 = await connectTestCluster({kubeconfig: env.kubeconfig, context: 'dc2'})
    server = await privateConsul(env.bin.consul)
    await server.start()
    await createNamespace(kube2, killNs)
    await createServices(kube2, killNs, count, {prefix: `k${id}-`, concurrency: 8})
  })

  after(async () => {
    await server?.close()
    if (kube2) await deleteNamespace(kube2, killNs)
  })

  const args = (address: string) => [
    'sync',
    '--once',
    '--to-consul',
    '--kubeconfig',
    env.kubeconfig,
    '--context',
    'dc2',
    '--consul-http-addr',
    address,
    '--k8s-allow-namespace',
    killNs,
    '--consul-node-name',
    killNode,
    '--concurrency',
    '1',
  ]
  const registered = async () => (await nodeServices(server.client, killNode)).data.services

  it('leaves complete transactions only, and the next run completes the sync', async () => {
    const proxy = await slowProxy(server.port, 150)
    let killedAt: number | undefined
    try {
      const run = execa(process.execPath, [BIN, ...args(`http://127.0.0.1:${proxy.port}`)], {
        reject: false,
        env: {CI: 'true', NO_COLOR: '1'},
        timeout: 180_000,
      })
      let finished = false
      void run.then(() => (finished = true))
      // As soon as the first transactions landed, the server is killed.
      for (let polls = 0; polls < 1200 && !finished; polls++) {
        const now = await registered().catch(() => [])
        if (now.length > 0) {
          await server.kill()
          killedAt = now.length
          break
        }
        await sleep(50)
      }
      const result = await run
      assert.ok(killedAt !== undefined, `Consul was killed during the run\n${result.stderr}`)
      assert.equal(result.exitCode, 1, `the interrupted run fails\n${result.stdout}\n${result.stderr}`)
      assert.match(result.stdout + result.stderr, /writes? failed/)
      assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace')
    } finally {
      proxy.close()
    }

    await server.start()
    const partial = await registered()
    assert.ok(partial.length > 0 && partial.length < count, `some but not all registered (${partial.length} of ${count})`)
    // No half-applied batch: every registered instance has its readiness check.
    const checks = new Set((await nodeChecks(server.client, killNode)).data.map((c) => c.ServiceID))
    assert.deepEqual(
      partial.filter((s) => !checks.has(s.ID)).map((s) => s.ID),
      [],
    )

    const next = await runCli(args(server.address))
    assert.equal(next.exitCode, 0, `${next.stdout}\n${next.stderr}`)
    const complete = await registered()
    assert.equal(complete.length, count)
    const addresses = new Set(complete.map((s) => s.Address))
    for (let index = 0; index < count; index++) assert.ok(addresses.has(endpointAddress(index)), endpointAddress(index))
    const allChecks = (await nodeChecks(server.client, killNode)).data
    assert.equal(allChecks.filter((c) => c.Status === 'passing').length, count)
  })
})
