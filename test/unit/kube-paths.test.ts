import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {kubePath} from '../../src/kube/paths.js'

describe('kubePath', () => {
  it('puts the core group under /api and other groups under /apis, version v1 unless given', () => {
    assert.equal(kubePath({resource: 'namespaces'}), '/api/v1/namespaces')
    assert.equal(kubePath({group: '', resource: 'nodes', name: 'n1'}), '/api/v1/nodes/n1')
    assert.equal(kubePath({group: 'apps', resource: 'statefulsets'}), '/apis/apps/v1/statefulsets')
    assert.equal(
      kubePath({group: 'consul.hashicorp.com', version: 'v1alpha1', resource: 'proxydefaults', namespace: 'consul', name: 'global'}),
      '/apis/consul.hashicorp.com/v1alpha1/namespaces/consul/proxydefaults/global',
    )
  })

  it('names the namespace of namespaced objects and none for cluster-scoped ones', () => {
    assert.equal(
      kubePath({resource: 'secrets', namespace: 'consul', name: 'consul-federation'}),
      '/api/v1/namespaces/consul/secrets/consul-federation',
    )
    assert.equal(kubePath({resource: 'secrets', namespace: 'consul'}), '/api/v1/namespaces/consul/secrets')
    assert.equal(
      kubePath({group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'view'}),
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/view',
    )
    assert.equal(kubePath({group: 'apps', resource: 'deployments', namespace: 'shop', name: 'web'}), '/apis/apps/v1/namespaces/shop/deployments/web')
  })

  it('appends a subresource after the name', () => {
    assert.equal(
      kubePath({resource: 'pods', namespace: 'consul', name: 'consul-server-0', subresource: 'exec'}),
      '/api/v1/namespaces/consul/pods/consul-server-0/exec',
    )
    assert.equal(
      kubePath({group: 'apps', resource: 'statefulsets', namespace: 'consul', name: 'consul-server', subresource: 'status'}),
      '/apis/apps/v1/namespaces/consul/statefulsets/consul-server/status',
    )
  })

  it('encodes names and namespaces, so a name cannot reach another path', () => {
    assert.equal(kubePath({resource: 'secrets', namespace: 'a/b', name: '../x'}), '/api/v1/namespaces/a%2Fb/secrets/..%2Fx')
    assert.equal(kubePath({resource: 'configmaps', namespace: 'ns', name: 'a b?c#d%'}), '/api/v1/namespaces/ns/configmaps/a%20b%3Fc%23d%25')
    assert.equal(kubePath({group: 'x.io', resource: 'things', name: 'system:node:n1'}), '/apis/x.io/v1/things/system%3Anode%3An1')
  })
})
