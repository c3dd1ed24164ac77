// The seed's ProxyDefaults step, planned: the custom resource when the CRD is there, else the
// Consul config entry; only the mesh gateway mode changes, other settings are kept.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {planProxyDefaults} from '../../src/federation/proxy-defaults.js'

const resource = (mode?: string) => ({
  metadata: {name: 'global', namespace: 'apps'},
  spec: {meshGateway: mode ? {mode} : undefined, config: {protocol: 'http'}},
})

describe('planning the ProxyDefaults global', () => {
  it('creates the custom resource in the namespace when the CRD exists and nothing is there', () => {
    assert.deepEqual(planProxyDefaults({crd: true}, 'consul'), {
      action: 'create',
      via: 'resource',
      namespace: 'consul',
      detail: 'ProxyDefaults consul/global with meshGateway.mode local (synced into Consul by consul-k8s)',
    })
  })

  it('leaves a resource with mode local alone, wherever it is; sets the mode of another one in its namespace', () => {
    assert.equal(planProxyDefaults({crd: true, resource: resource('local')}, 'consul').action, 'unchanged')
    const plan = planProxyDefaults({crd: true, resource: resource('remote')}, 'consul')
    assert.equal(plan.action, 'update')
    assert.equal((plan as {namespace: string}).namespace, 'apps')
    assert.match(plan.detail, /\(was remote\); other settings kept/)
  })

  it('without the CRD writes the Consul config entry, keeping its other settings, with check-and-set', () => {
    const created = planProxyDefaults({crd: false, entry: null}, 'consul')
    assert.deepEqual(created, {
      action: 'create',
      via: 'consul',
      entry: {Kind: 'proxy-defaults', Name: 'global', MeshGateway: {Mode: 'local'}},
      cas: 0,
      detail: 'Consul config entry proxy-defaults/global: MeshGateway.Mode local',
    })
    const updated = planProxyDefaults(
      {
        crd: false,
        entry: {Kind: 'proxy-defaults', Name: 'global', Config: {protocol: 'http'}, MeshGateway: {Mode: 'remote'}, CreateIndex: 5, ModifyIndex: 9},
      },
      'consul',
    )
    assert.deepEqual(updated, {
      action: 'update',
      via: 'consul',
      entry: {Kind: 'proxy-defaults', Name: 'global', Config: {protocol: 'http'}, MeshGateway: {Mode: 'local'}},
      cas: 9,
      detail: 'Consul config entry proxy-defaults/global: MeshGateway.Mode local (was remote); other settings kept',
    })
    assert.equal(
      planProxyDefaults({crd: false, entry: {Kind: 'proxy-defaults', Name: 'global', MeshGateway: {Mode: 'local'}}}, 'consul').action,
      'unchanged',
    )
  })

  it('an entry already in Consul with mode local is not shadowed by a new resource', () => {
    assert.equal(
      planProxyDefaults({crd: true, entry: {Kind: 'proxy-defaults', Name: 'global', MeshGateway: {Mode: 'local'}}}, 'consul').action,
      'unchanged',
    )
  })

  it('is pending, with what to do, without the CRD and without Consul', () => {
    const plan = planProxyDefaults({crd: false}, 'consul')
    assert.equal(plan.action, 'pending')
    assert.match((plan as {hint: string}).hint, /after the install.*--consul-http-addr/)
  })
})
