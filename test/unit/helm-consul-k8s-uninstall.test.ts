/**
 * consul-k8s 2.0.3's own CLI tests for `consul-k8s uninstall` (cli/cmd/uninstall/uninstall_test.go),
 * case by case, against consulk8s's uninstall planning and custom resource clean-up. Each case is
 * named after its Go test. Where consulk8s differs on purpose (docs/install.md: it never deletes a
 * Kubernetes object it did not create without --wipe-data; federation material stays unless
 * --delete-federation-secret), the case says so and asserts consulk8s's documented behaviour.
 *
 * The custom resource clean-up runs against a narrow in-process stand-in of the API server that
 * keeps an object with finalizers until they are gone, as Kubernetes does.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {KubeCluster, ResourceRef} from '../../src/kube/client.js'
import {consulCrd, isConsulFinalizer, removeCustomResources, withoutConsulFinalizers, type CrdJson} from '../../src/helm/resources.js'
import {decideSecrets} from '../../src/helm/uninstall.js'
import {listPvcNames, type SecretSummary} from '../../src/helm/release-objects.js'
import {chartNames} from '../../src/federation/names.js'
import type {Progress} from '../../src/shared/hooks.js'

const names = chartNames('consul')
const quiet: Progress = {
  header() {},
  line() {},
  success() {},
  warn() {},
  info() {},
  detail() {},
  table() {},
  progress() {},
  done() {},
}

const serviceDefaultsCrd: CrdJson = {
  metadata: {name: 'servicedefaults.consul.hashicorp.com'},
  spec: {
    group: 'consul.hashicorp.com',
    scope: 'Namespaced',
    names: {plural: 'servicedefaults', kind: 'ServiceDefaults'},
    versions: [{name: 'v1alpha1'}],
  },
}
const exampleCrd: CrdJson = {
  metadata: {name: 'examples.example.com'},
  spec: {group: 'example.com', scope: 'Namespaced', names: {plural: 'examples', kind: 'Example'}, versions: [{name: 'v1'}]},
}

interface StoredResource {
  metadata: {name: string; namespace: string; finalizers?: string[]; deletionTimestamp?: string}
}

/** Custom resources by plural; delete marks those with finalizers, a patch that empties them removes them. */
function apiServer(resources: Record<string, StoredResource[]>) {
  const find = (ref: ResourceRef) =>
    (resources[ref.resource] ?? []).find((item) => item.metadata.name === ref.name && item.metadata.namespace === ref.namespace)
  const drop = (ref: ResourceRef, item: StoredResource) => (resources[ref.resource] = resources[ref.resource].filter((other) => other !== item))
  const patches: unknown[] = []
  const cluster = {
    name: 'dc1',
    async list(_what: string, ref: ResourceRef) {
      return structuredClone(resources[ref.resource] ?? [])
    },
    async remove(_what: string, ref: ResourceRef) {
      const item = find(ref)
      if (!item) return false
      if ((item.metadata.finalizers ?? []).length > 0) item.metadata.deletionTimestamp = 'now'
      else drop(ref, item)
      return true
    },
    async mergePatch(_what: string, ref: ResourceRef, patch: {metadata: {finalizers: string[] | null}}) {
      patches.push(patch)
      const item = find(ref)
      if (!item) throw new Error('not found')
      item.metadata.finalizers = patch.metadata.finalizers ?? []
      if (item.metadata.deletionTimestamp && item.metadata.finalizers.length === 0) drop(ref, item)
      return item
    },
  }
  return {cluster: cluster as unknown as KubeCluster, patches, resources}
}

describe('TestDeletePVCs', () => {
  it('uninstall --wipe-data selects the claims by label release=<name>: consul-server-test1/2 go, unrelated-pvc (release=unrelated) stays', async () => {
    const claims = [
      {metadata: {name: 'consul-server-test1', labels: {release: 'consul'}}},
      {metadata: {name: 'consul-server-test2', labels: {release: 'consul'}}},
      {metadata: {name: 'unrelated-pvc', labels: {release: 'unrelated'}}},
    ]
    const cluster = {
      async list(_what: string, _ref: ResourceRef, options: {labelSelector?: string}) {
        const [key, value] = (options.labelSelector ?? '').split('=')
        return claims.filter((claim) => (claim.metadata.labels as Record<string, string>)[key] === value)
      },
    } as unknown as KubeCluster
    assert.deepEqual(await listPvcNames(cluster, 'default', 'release=consul'), ['consul-server-test1', 'consul-server-test2'])
  })
})

describe('TestDeleteSecrets', () => {
  const secret = (name: string, labels: Record<string, string>, keys = ['x']): SecretSummary => ({name, keys, labels})

  it('only the secret labelled managed-by=consul-k8s is deleted; release=consul alone and release=unrelated stay', () => {
    const decision = decideSecrets(
      [
        secret('consul-test-secret1', {release: 'consul', 'managed-by': 'consul-k8s'}),
        secret('consul-test-secret2', {release: 'consul'}),
        secret('unrelated-test-secret3', {release: 'unrelated'}),
      ],
      names,
      {},
    )
    assert.deepEqual(decision, {delete: [{name: 'consul-test-secret1', origin: "made by the chart's jobs"}], keep: []})
  })

  it("(deliberate difference) consulk8s's own secrets and the release's ACL tokens go too; federation material stays without --delete-federation-secret", () => {
    const secrets = [
      secret('consul-client-acl-token', {}),
      secret('mine', {'app.kubernetes.io/managed-by': 'consulk8s'}),
      secret('consul-federation', {'managed-by': 'consul-k8s'}, ['caCert', 'caKey', 'serverConfigJSON']),
      secret('consul-ca-key', {'managed-by': 'consul-k8s'}),
    ]
    const kept = decideSecrets(secrets, names, {})
    assert.deepEqual(
      kept.delete.map((entry) => entry.name),
      ['consul-client-acl-token', 'mine'],
    )
    assert.deepEqual(
      kept.keep.map((entry) => entry.name),
      ['consul-federation', 'consul-ca-key'],
    )
    const all = decideSecrets(secrets, names, {deleteFederationSecret: true})
    assert.deepEqual(
      all.delete.map((entry) => entry.name),
      ['consul-client-acl-token', 'mine', 'consul-federation', 'consul-ca-key'],
    )
  })
})

describe('TestDeleteServiceAccounts / Roles / RoleBindings / Jobs / ClusterRoles / ClusterRoleBindings', () => {
  it('(deliberate difference) consulk8s leaves them to helm uninstall and deletes no object by label it did not create', () => {
    // consul-k8s deletes every ServiceAccount, Role, RoleBinding, Job, ClusterRole and
    // ClusterRoleBinding labelled release=<name> after helm. consulk8s deletes only the
    // release's custom resources, and with --wipe-data its claims and secrets (decideSecrets).
    const decision = decideSecrets([{name: 'consul-server', keys: ['token'], labels: {release: 'consul'}}], names, {
      deleteFederationSecret: true,
    })
    assert.deepEqual(decision, {delete: [], keep: []})
  })
})

describe('TestFetchCustomResources / TestMapKindToResource', () => {
  it('a Consul CRD maps its kind to its plural and version (a version with neither served nor storage set is read)', () => {
    assert.deepEqual(consulCrd(serviceDefaultsCrd), {
      name: 'servicedefaults.consul.hashicorp.com',
      group: 'consul.hashicorp.com',
      kind: 'ServiceDefaults',
      plural: 'servicedefaults',
      version: 'v1alpha1',
      namespaced: true,
    })
  })

  it('non-Consul custom resources are not fetched: example.com is no Consul CRD', () => {
    // consul-k8s maps Example -> examples too, but fetches by label app=consul only; consulk8s
    // takes only the Consul groups (and only the CRDs labelled with the release).
    assert.equal(consulCrd(exampleCrd), undefined)
  })
})

describe('TestDeleteCustomResources', () => {
  it('the ServiceDefaults default/server is deleted and no custom resource is left', async () => {
    const crd = consulCrd(serviceDefaultsCrd)!
    const server = apiServer({servicedefaults: [{metadata: {name: 'server', namespace: 'default'}}]})
    const result = await removeCustomResources(server.cluster, [crd], quiet, 0)
    assert.deepEqual(result, {deleted: ['ServiceDefaults default/server'], finalizersCleared: [], remaining: []})
    assert.deepEqual(server.resources.servicedefaults, [])
    assert.deepEqual(server.patches, [])
  })
})

describe('TestPatchCustomResources', () => {
  it('a custom resource held by the finalizer consul.hashicorp.com is freed by clearing it', async () => {
    const crd = consulCrd(serviceDefaultsCrd)!
    const server = apiServer({servicedefaults: [{metadata: {name: 'server', namespace: 'default', finalizers: ['consul.hashicorp.com']}}]})
    const result = await removeCustomResources(server.cluster, [crd], quiet, 0)
    assert.deepEqual(result, {deleted: [], finalizersCleared: ['ServiceDefaults default/server'], remaining: []})
    assert.deepEqual(server.patches, [{metadata: {finalizers: null}}])
    assert.deepEqual(server.resources.servicedefaults, [])
  })

  it('(deliberate difference) finalizers of other controllers are kept: the resource is reported as remaining', async () => {
    // consul-k8s replaces metadata.finalizers with []; consulk8s drops only Consul's own.
    assert.equal(isConsulFinalizer('finalizers.consul.hashicorp.com'), true)
    assert.equal(isConsulFinalizer('consul.hashicorp.com'), true)
    assert.equal(isConsulFinalizer('example.com/protect'), false)
    assert.deepEqual(withoutConsulFinalizers(['finalizers.consul.hashicorp.com', 'example.com/protect']), ['example.com/protect'])
    const crd = consulCrd(serviceDefaultsCrd)!
    const server = apiServer({
      servicedefaults: [{metadata: {name: 'server', namespace: 'default', finalizers: ['finalizers.consul.hashicorp.com', 'example.com/protect']}}],
    })
    const result = await removeCustomResources(server.cluster, [crd], quiet, 0)
    assert.deepEqual(server.patches, [{metadata: {finalizers: ['example.com/protect']}}])
    assert.deepEqual(result.remaining, ['ServiceDefaults default/server'])
  })
})
