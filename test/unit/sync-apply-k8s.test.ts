/**
 * src/sync/apply-k8s.ts: how the Consul -> Kubernetes plan is written. Creates carry the
 * engine's marker; updates and deletes are preconditioned on the resourceVersion read, and on
 * a conflict the Service is read again and touched only while the engine still owns it;
 * removals wait for every write; a missing write namespace is one failure. A narrow
 * in-process fake plays the API server's answers for Services (409 on a stale version).
 */
import assert from 'node:assert/strict'
import {beforeEach, describe, it} from 'node:test'

import {KubeHttpError} from '../../src/kube/errors.js'
import type {KubeApi, RequestOptions} from '../../src/kube/http.js'
import {applyToK8s, externalNameManifest} from '../../src/sync/apply-k8s.js'
import {ANNOTATION, DEFAULT_OPTIONS, type ToK8sPlan} from '../../src/sync/model.js'
import {MANAGED_BY_LABEL, SYNC_SERVICE_LABEL} from '../../src/shared/labels.js'

const NS = 'consul'
const sync = {...DEFAULT_OPTIONS, consulNodeName: 'k8s-sync'}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any

/** Services in memory, with resourceVersions and the API server's preconditions. */
class FakeKube implements KubeApi {
  readonly name = 'fake'
  readonly server = 'https://fake'
  readonly services = new Map<string, Obj>()
  readonly namespaces = new Set([NS])
  readonly calls: string[] = []
  /** Answers to give before the real one, by "METHOD name" (name '' for a create). */
  readonly inject = new Map<string, Array<{code: number; after?: () => void}>>()
  private version = 100

  put(name: string, spec: Obj, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): Obj {
    const obj = {metadata: {name, namespace: NS, resourceVersion: String(++this.version), annotations, labels}, spec}
    this.services.set(name, obj)
    return obj
  }

  /** A Service as the engine writes it (marker included). */
  ours(name: string, externalName: string): Obj {
    return this.put(
      name,
      {type: 'ExternalName', externalName},
      {[ANNOTATION.owner]: sync.consulNodeName, [ANNOTATION.synced]: 'true', [ANNOTATION.sync]: 'false'},
      {[SYNC_SERVICE_LABEL]: 'true'},
    )
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    this.calls.push(`${method} ${path}`)
    const fail = (code: number) => {
      throw new KubeHttpError(code, JSON.stringify({kind: 'Status', code, message: `fake ${code}`}), method, path)
    }
    const namespace = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path)
    if (namespace) return (this.namespaces.has(namespace[1]) ? {} : fail(404)) as T
    const match = /^\/api\/v1\/namespaces\/[^/]+\/services(?:\/([^/]+))?$/.exec(path)
    if (!match) return fail(400)
    const name = match[1] ?? ''
    const injected = this.inject.get(`${method} ${name}`)?.shift()
    if (injected) {
      injected.after?.()
      return fail(injected.code)
    }
    const body = options.body as Obj
    const current = this.services.get(name || body?.metadata?.name)
    switch (method) {
      case 'GET':
        return (current ? structuredClone(current) : fail(404)) as T
      case 'POST':
        if (current) return fail(409)
        return this.put(body.metadata.name, body.spec, body.metadata.annotations, body.metadata.labels) as T
      case 'PUT':
        if (!current) return fail(404)
        if (body.metadata.resourceVersion !== current.metadata.resourceVersion) return fail(409)
        return this.put(name, body.spec, body.metadata.annotations, body.metadata.labels) as T
      case 'DELETE':
        if (!current) return fail(404)
        if (body?.preconditions?.resourceVersion !== current.metadata.resourceVersion) return fail(409)
        this.services.delete(name)
        return {} as T
      default:
        return fail(405)
    }
  }

  watch(): Promise<'closed'> {
    throw new Error('not used')
  }

  close(): void {}
}

const service = (name: string, externalName = `${name}.service.consul`) => ({name, namespace: NS, externalName, consulService: name})

function plan(parts: Partial<ToK8sPlan>): ToK8sPlan {
  return {namespace: NS, add: [], update: [], remove: [], unchanged: 0, skipped: [], ...parts}
}

const apply = (kube: FakeKube, toK8s: ToK8sPlan) => applyToK8s(kube, toK8s, {sync, concurrency: 4, allowRemovals: true})

describe('applyToK8s', () => {
  let kube: FakeKube
  beforeEach(() => {
    kube = new FakeKube()
  })

  it('creates ExternalName Services carrying the engine marker, never synced back', async () => {
    const result = await apply(kube, plan({add: [service('web')]}))
    assert.equal(result.added, 1)
    assert.deepEqual(result.failed, [])
    const created = kube.services.get('web')
    assert.deepEqual(created.spec, {type: 'ExternalName', externalName: 'web.service.consul'})
    assert.equal(created.metadata.annotations[ANNOTATION.owner], 'k8s-sync')
    assert.equal(created.metadata.annotations[ANNOTATION.sync], 'false')
    assert.equal(created.metadata.labels[SYNC_SERVICE_LABEL], 'true')
    assert.equal(created.metadata.labels[MANAGED_BY_LABEL], 'consulk8s')
    assert.deepEqual(externalNameManifest(service('web'), sync).metadata.labels, created.metadata.labels)
  })

  it('a create that meets a Service of its own makes it right; one of someone else is a conflict, left alone', async () => {
    kube.ours('same', 'same.service.consul')
    kube.ours('stale', 'old.example')
    const foreign = kube.put('foreign', {type: 'ClusterIP'})
    const result = await apply(kube, plan({add: [service('same'), service('stale'), service('foreign')]}))
    assert.equal(result.added, 2)
    assert.equal(kube.services.get('stale').spec.externalName, 'stale.service.consul')
    assert.deepEqual(
      result.conflicts.map((c) => [c.name, c.kind]),
      [['foreign', 'add']],
    )
    assert.match(result.conflicts[0].reason, /consul\/foreign is no longer owned by this engine; left alone/)
    assert.equal(kube.services.get('foreign'), foreign)
  })

  it('an update at a stale version re-reads and retries while the Service is still ours, and stops when it is not', async () => {
    const mine = kube.ours('mine', 'old.example')
    const lost = kube.ours('lost', 'old.example')
    // Both changed since the plan read them; "lost" also lost the marker.
    kube.ours('mine', 'other.example')
    kube.put('lost', lost.spec, {}, {})
    const result = await apply(
      kube,
      plan({
        update: [
          {desired: service('mine'), resourceVersion: mine.metadata.resourceVersion, changes: ['externalName']},
          {desired: service('lost'), resourceVersion: lost.metadata.resourceVersion, changes: ['externalName']},
        ],
      }),
    )
    assert.equal(result.updated, 1)
    assert.equal(kube.services.get('mine').spec.externalName, 'mine.service.consul')
    assert.deepEqual(
      result.conflicts.map((c) => c.name),
      ['lost'],
    )
    assert.equal(kube.services.get('lost').spec.externalName, 'old.example')
  })

  it('removes only at the version read or, after a conflict, while still ours; one already gone counts as removed', async () => {
    const changed = kube.ours('changed', 'a.example')
    const taken = kube.ours('taken', 'b.example')
    kube.ours('changed', 'a2.example')
    kube.put('taken', taken.spec, {}, {})
    const result = await apply(
      kube,
      plan({
        remove: [
          {name: 'changed', namespace: NS, resourceVersion: changed.metadata.resourceVersion},
          {name: 'taken', namespace: NS, resourceVersion: taken.metadata.resourceVersion},
          {name: 'gone', namespace: NS, resourceVersion: '1'},
        ],
      }),
    )
    assert.equal(result.removed, 2)
    assert.equal(kube.services.has('changed'), false)
    assert.equal(kube.services.has('taken'), true)
    assert.deepEqual(
      result.conflicts.map((c) => [c.name, c.kind]),
      [['taken', 'remove']],
    )
  })

  it('retries a transient failure (each attempt a write call); a failed write holds the removals back', async () => {
    const old = kube.ours('old', 'x.example')
    kube.inject.set('POST ', [{code: 503}])
    kube.inject.set('PUT bad', [{code: 422}])
    kube.ours('bad', 'x.example')
    const retries: string[] = []
    const result = await applyToK8s(
      kube,
      plan({
        add: [service('web')],
        update: [{desired: service('bad'), resourceVersion: kube.services.get('bad').metadata.resourceVersion, changes: ['externalName']}],
        remove: [{name: 'old', namespace: NS, resourceVersion: old.metadata.resourceVersion}],
      }),
      {sync, concurrency: 1, allowRemovals: true, onRetry: (message) => retries.push(message)},
    )
    assert.equal(result.added, 1)
    assert.equal(retries.length, 1)
    assert.match(retries[0], /^Kubernetes write failed \(fake 503\); retry 1 in \d+ ms$/)
    assert.deepEqual(result.failed, [{name: 'bad', kind: 'update', reason: 'fake 422'}])
    assert.equal(result.removalsSkipped, 'some writes failed; nothing is removed until they succeed')
    assert.equal(kube.services.has('old'), true)
    // namespace read, POST 503, POST, PUT 422
    assert.equal(result.calls, 4)
  })

  it('removals not allowed in this run, or an interrupted run, remove nothing', async () => {
    const old = kube.ours('old', 'x.example')
    const removal = plan({remove: [{name: 'old', namespace: NS, resourceVersion: old.metadata.resourceVersion}]})
    const blocked = await applyToK8s(kube, removal, {sync, concurrency: 1, allowRemovals: false, removalsBlockedReason: 'a read was partial'})
    assert.equal(blocked.removalsSkipped, 'a read was partial')
    const controller = new AbortController()
    controller.abort()
    const interrupted = await applyToK8s(kube, removal, {sync, concurrency: 1, allowRemovals: true, signal: controller.signal})
    assert.equal(interrupted.removalsSkipped, 'the run was interrupted')
    assert.equal(kube.services.has('old'), true)
  })

  it('a write namespace that does not exist is one failure, and nothing is created', async () => {
    kube.namespaces.clear()
    const result = await apply(kube, plan({add: [service('a'), service('b')]}))
    assert.deepEqual(result.failed, [
      {name: '', item: 'add 2 ExternalName services', kind: 'add', reason: 'namespace "consul" does not exist (--k8s-write-namespace)'},
    ])
    assert.deepEqual(kube.calls, ['GET /api/v1/namespaces/consul'])
  })
})
