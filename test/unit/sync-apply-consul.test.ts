/**
 * How Consul transactions are sent: a rolled-back transaction is resubmitted without the
 * failing instances, 5xx is retried, a permission error stops the run, removals wait for
 * successful writes. A narrow in-process HTTP server plays Consul's /v1/txn answers.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {ConsulClient} from '../../src/consul/client.js'
import type {TxnOp} from '../../src/consul/txn.js'
import {applyGroups, applyToConsul, writeGroups} from '../../src/sync/apply-consul.js'
import {DEFAULT_OPTIONS, type K8sState} from '../../src/sync/model.js'
import {planToConsul} from '../../src/sync/plan.js'
import {k8sService} from '../helpers/sync-model.js'

type Answer = {status: number; body: unknown}
let answers: Array<(ops: TxnOp[]) => Answer> = []
const received: TxnOp[][] = []
const paths: string[] = []
/** Bodies of the requests other than /v1/txn (node registrations). */
const registered: unknown[] = []
let server: http.Server
let client: ConsulClient

before(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      paths.push(`${req.method} ${req.url}`)
      if (req.url !== '/v1/txn') {
        if (body) registered.push(JSON.parse(body))
        res.writeHead(200, {'content-type': 'application/json'}).end('true')
        return
      }
      const ops = JSON.parse(body) as TxnOp[]
      received.push(ops)
      const answer = (answers.shift() ?? (() => ({status: 200, body: {Results: [], Errors: null}})))(ops)
      res
        .writeHead(answer.status, {'content-type': 'application/json'})
        .end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  client = new ConsulClient({address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`})
})

after(() => {
  client.close()
  server.close()
})

function state(count: number): K8sState {
  return {
    services: Array.from({length: count}, (_, i) => k8sService({namespace: 'ns', name: `s${i}`})),
    endpointSlices: Array.from({length: count}, (_, i) => ({
      namespace: 'ns',
      name: `s${i}-a`,
      serviceName: `s${i}`,
      ports: [{port: 8080}],
      endpoints: [{addresses: [`10.0.0.${i + 1}`], ready: true}],
    })),
    nodes: [],
  }
}

const reset = () => {
  answers = []
  received.length = 0
  paths.length = 0
  registered.length = 0
}

describe('applying transactions', () => {
  it('resubmits a rolled-back transaction without the instance whose operation failed', async () => {
    reset()
    const plan = planToConsul(state(3), {nodeExists: true, nodeServices: [], nodeChecks: [], catalogServices: {}}, DEFAULT_OPTIONS)
    // Op 3 is the second instance's check (service, check, service, check, ...).
    answers.push(() => ({
      status: 409,
      body: {Results: null, Errors: [{OpIndex: 3, What: 'failed to set service "s1-x" on node "k8s-sync", index is stale'}]},
    }))
    const outcome = await applyGroups(client, writeGroups(plan), {concurrency: 1})
    assert.equal(received.length, 2)
    assert.equal(received[0].length, 6)
    assert.equal(received[1].length, 4, 'the failing instance (service and check) is left out, the rest resubmitted')
    assert.deepEqual(
      outcome.applied.map((g) => g.source),
      ['ns/s0', 'ns/s2'],
    )
    assert.equal(outcome.failed.length, 1)
    assert.equal(outcome.failed[0].source, 'ns/s1')
    assert.match(outcome.failed[0].reason, /changed in Consul since it was read/)
    assert.equal(outcome.calls, 2)
  })

  it('retries 5xx with backoff and counts every call', async () => {
    reset()
    const plan = planToConsul(state(1), {nodeExists: true, nodeServices: [], nodeChecks: [], catalogServices: {}}, DEFAULT_OPTIONS)
    answers.push(
      () => ({status: 503, body: 'No cluster leader'}),
      () => ({status: 500, body: 'rpc error'}),
    )
    const retries: string[] = []
    const outcome = await applyGroups(client, writeGroups(plan), {concurrency: 1, onRetry: (message) => retries.push(message)})
    assert.equal(outcome.calls, 3)
    assert.equal(outcome.applied.length, 1)
    assert.equal(retries.length, 2)
    assert.match(retries[0], /HTTP 503/)
  })

  it('a permission error is one readable error for the whole run', async () => {
    reset()
    const plan = planToConsul(state(2), {nodeExists: true, nodeServices: [], nodeChecks: [], catalogServices: {}}, DEFAULT_OPTIONS)
    answers.push(() => ({status: 403, body: 'Permission denied: token lacks service:write'}))
    await assert.rejects(applyGroups(client, writeGroups(plan), {concurrency: 1}), /Consul denied permission to write the catalog/)
  })

  it('registers a missing node first, and holds removals back when a write failed', async () => {
    reset()
    const current = planToConsul(state(2), {nodeExists: false, nodeServices: [], nodeChecks: [], catalogServices: {}}, DEFAULT_OPTIONS)
    const stale = {ID: 'old-1', Service: 'old', Tags: ['k8s'], Address: '10.9.9.9', Port: 1, Meta: {'k8s-sync-node': 'k8s-sync'}, ModifyIndex: 9}
    const plan = {...current, remove: [{id: stale.ID, service: stale.Service, modifyIndex: 9}]}
    answers.push(() => ({status: 409, body: {Errors: [{OpIndex: 0, What: 'Missing node registration'}]}}))
    const result = await applyToConsul(client, plan, {concurrency: 1, allowRemovals: true})
    assert.equal(paths[0], 'PUT /v1/catalog/register')
    assert.equal(result.failed.length, 1)
    assert.equal(result.added, 1)
    assert.equal(result.removed, 0)
    assert.match(result.removalsSkipped ?? '', /some registrations failed/)
    assert.ok(!received.flat().some((op) => 'Service' in op && op.Service.Verb.startsWith('delete')), 'no delete was sent')
  })

  it("NodePort instances go on the engine's node, registered once with external-source=kubernetes", async () => {
    reset()
    const k8s: K8sState = {
      services: [k8sService({namespace: 'ns', name: 'np', type: 'NodePort', ports: [{name: 'http', port: 80, nodePort: 30080}]})],
      endpointSlices: [
        {namespace: 'ns', name: 'np-a', serviceName: 'np', ports: [{port: 8080}], endpoints: [{addresses: ['10.0.0.1'], nodeName: 'w1'}]},
      ],
      nodes: [{name: 'w1', addresses: [{type: 'InternalIP', address: '192.168.1.1'}]}],
    }
    const plan = planToConsul(k8s, {nodeExists: false, nodeServices: [], nodeChecks: [], catalogServices: {}}, DEFAULT_OPTIONS)
    const result = await applyToConsul(client, plan, {concurrency: 1, allowRemovals: true})
    assert.equal(result.added, 1)
    assert.deepEqual(paths, ['PUT /v1/catalog/register', 'PUT /v1/txn'])
    assert.deepEqual(
      registered,
      [{Node: 'k8s-sync', Address: '127.0.0.1', NodeMeta: {'external-source': 'kubernetes'}, SkipNodeUpdate: true}],
      'no node named after the Kubernetes node',
    )
    assert.equal((received[0][0] as {Service: {Node: string; Service: {Address: string}}}).Service.Node, 'k8s-sync')
    assert.equal((received[0][0] as {Service: {Service: {Address: string}}}).Service.Service.Address, '192.168.1.1')
  })

  it('an aborted run starts no new transaction', async () => {
    reset()
    const plan = planToConsul(state(100), {nodeExists: true, nodeServices: [], nodeChecks: [], catalogServices: {}}, DEFAULT_OPTIONS)
    const controller = new AbortController()
    answers.push(() => {
      controller.abort()
      return {status: 200, body: {Results: []}}
    })
    const outcome = await applyGroups(client, writeGroups(plan), {concurrency: 1, signal: controller.signal})
    assert.equal(received.length, 1, 'the transaction in flight finished, no other started')
    assert.equal(outcome.applied.length, 32)
    assert.equal(outcome.notStarted.length, 68)
  })
})
