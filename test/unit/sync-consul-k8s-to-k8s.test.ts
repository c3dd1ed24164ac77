/**
 * consul-k8s 2.0.3's own table for Consul -> Kubernetes (control-plane/catalog/to-k8s/
 * sink_test.go), case by case, against consulk8s's pure planner (desiredExternalNames,
 * planToK8s). Each `describe` is named after the Go test it mirrors.
 *
 * consul-k8s's sink is handed a map name -> DNS name that its source builds as
 * `<name>.service.<domain>` from /v1/catalog/services; consulk8s plans from that catalog
 * directly, so the Go test's `web.service.local.` is the catalog service `web` with the
 * domain `local`. consulk8s's `--consul-domain` drops a trailing dot (options.ts), so the
 * externalName is `web.service.local` (a deliberate, documented difference; both name the
 * same host).
 *
 * TestK8SSink_impl (a compile-time interface check) has no equivalent.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {DEFAULT_OPTIONS, type ExternalNameService, type K8sService, type SyncOptions} from '../../src/sync/model.js'
import {syncOptionsFrom} from '../../src/sync/options.js'
import {desiredExternalNames, planToK8s} from '../../src/sync/plan.js'

const options: SyncOptions = {...DEFAULT_OPTIONS, consulDomain: 'local'}

/** The Kubernetes Service the engine writes for `desired` (what the apply creates). */
function written(desired: ExternalNameService, externalName = desired.externalName): K8sService {
  return {
    namespace: desired.namespace,
    name: desired.name,
    type: 'ExternalName',
    annotations: {'consul.hashicorp.com/synced': 'true', 'consul.hashicorp.com/service-sync': 'false', 'consulk8s/sync-node': options.consulNodeName},
    labels: {consul: 'true', 'app.kubernetes.io/managed-by': 'consulk8s'},
    ports: [],
    externalIPs: [],
    loadBalancerIngress: [],
    externalName,
  }
}

/** The Kubernetes state after a perfect apply of `catalog`. */
function after(catalog: Record<string, string[]>, opts = options): K8sService[] {
  return desiredExternalNames(catalog, opts).services.map((s) => written(s))
}

describe('TestK8SSink_create', () => {
  it('a Consul service becomes an ExternalName Service of that name', () => {
    const plan = planToK8s({web: []}, [], options)
    assert.deepEqual(plan.add, [{name: 'web', namespace: 'default', externalName: 'web.service.local', consulService: 'web'}])
  })
})

describe('TestK8SSink_createUppercase', () => {
  it('names and externalName are lowercased', () => {
    const plan = planToK8s({UPPERCASE: []}, [], options)
    assert.equal(plan.add.length, 1)
    assert.equal(plan.add[0].name, 'uppercase')
    assert.equal(plan.add[0].externalName, 'uppercase.service.local')
  })
})

describe('TestK8SSink_createExists', () => {
  it('a Service of that name the engine did not create is not modified', () => {
    const existing: K8sService = {
      namespace: 'default',
      name: 'web',
      type: 'ExternalName',
      annotations: {},
      labels: {},
      ports: [],
      externalIPs: [],
      loadBalancerIngress: [],
      externalName: 'example.com.',
    }
    const plan = planToK8s({web: []}, [existing], options)
    assert.deepEqual([plan.add, plan.update, plan.remove], [[], [], []])
    // consulk8s also reports it (exit code 2); consul-k8s logs a warning.
    assert.equal(plan.skipped.length, 1)
    assert.equal(plan.skipped[0].kind, 'conflict')
  })
})

describe('TestK8SSink_updateReconcile', () => {
  it('a Service changed in Kubernetes is changed back', () => {
    const [web] = desiredExternalNames({web: []}, options).services
    const plan = planToK8s({web: []}, [written(web, 'wrong.local.')], options)
    assert.equal(plan.update.length, 1)
    assert.equal(plan.update[0].desired.externalName, 'web.service.local')
    assert.deepEqual(plan.update[0].changes, ['externalName'])
    assert.deepEqual([plan.add, plan.remove], [[], []])
  })
})

describe('TestK8SSink_updateService', () => {
  // consul-k8s's source always maps a name to <name>.service.<domain>, so the Go test's new DNS
  // name web2.service.local. comes from a new domain.
  it('a changed DNS name updates the Service', () => {
    const current = after({web: []})
    const changed = {...options, consulDomain: 'local2'}
    const plan = planToK8s({web: []}, current, changed)
    assert.equal(plan.update.length, 1)
    assert.equal(plan.update[0].desired.externalName, 'web.service.local2')
    assert.deepEqual([plan.add, plan.remove], [[], []])
  })
})

describe('TestK8SSink_deleteReconcileRemote', () => {
  it('a Service deleted in Kubernetes is created again', () => {
    const plan = planToK8s({web: []}, [], options)
    assert.deepEqual(
      plan.add.map((s) => [s.name, s.externalName]),
      [['web', 'web.service.local']],
    )
  })
  it('and left alone once it is back', () => {
    const plan = planToK8s({web: []}, after({web: []}), options)
    assert.equal(plan.unchanged, 1)
    assert.deepEqual([plan.add, plan.update, plan.remove], [[], [], []])
  })
})

describe('TestK8SSink_deleteReconcileLocal', () => {
  it('a Consul service that is gone: its Service is deleted', () => {
    const plan = planToK8s({}, after({web: []}), options)
    assert.deepEqual(
      plan.remove.map((s) => [s.namespace, s.name]),
      [['default', 'web']],
    )
    assert.deepEqual([plan.add, plan.update], [[], []])
  })
})

describe("consul-k8s's source: what reaches the sink", () => {
  it('services tagged k8s (synced from Kubernetes) are not synced back; the prefix is applied, lowercased', () => {
    const desired = desiredExternalNames({web: ['v1'], api: ['k8s'], DB: []}, {...options, k8sServicePrefix: 'Pre-'})
    assert.deepEqual(
      desired.services.map((s) => [s.name, s.externalName]),
      [
        ['pre-db', 'db.service.local'],
        ['pre-web', 'web.service.local'],
      ],
    )
  })
  it('a trailing dot in the domain is dropped (consul-k8s would write web.service.local.)', () => {
    const parsed = syncOptionsFrom({consulDomain: 'local.'})
    assert.equal(parsed.consulDomain, 'local')
    assert.equal(desiredExternalNames({web: []}, parsed).services[0].externalName, 'web.service.local')
  })
})
