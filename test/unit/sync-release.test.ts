/**
 * `sync --from-release`: the chart's syncCatalog values (those of the vendored chart 2.0.3,
 * as `helm get values --all` returns them, plus overrides) mapped to sync settings the way
 * templates/sync-catalog-deployment.yaml maps them to sync-catalog flags; flags over release.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'

import {bareFromRelease} from '../../src/commands/sync.js'
import {mergeValues, type Values} from '../../src/helm/values.js'
import {syncOptionsFrom} from '../../src/sync/options.js'
import {mergeSyncInput, parseReleaseSpec, syncInputFromValues} from '../../src/sync/release.js'
import {cacheDir, readVersions} from '../env/bins.js'
import {chartCandidates} from '../env/chart.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
// The same places the test environment takes the chart from ($CONSULK8S_CHART_DIR, ../shared, the cache).
const chartDir = chartCandidates(repoRoot, cacheDir(), readVersions().CONSUL_CHART_VERSION ?? '2.0.3').find((dir) =>
  existsSync(join(dir, 'values.yaml')),
)
const chartValues = (): Values => parse(readFileSync(join(chartDir ?? '', 'values.yaml'), 'utf8')) as Values

describe(
  "the chart's syncCatalog values as sync settings",
  {skip: chartDir ? false : 'the Consul chart is not available (see docs/testing.md)'},
  () => {
    it("chart defaults: the chart's choices, the release namespace as write namespace", () => {
      const {input, notes} = syncInputFromValues(chartValues(), 'consul', 'consul')
      assert.deepEqual(input, {
        defaultSync: true,
        toConsul: true,
        toK8s: true,
        consulDomain: 'consul',
        allowNamespaces: ['*'],
        denyNamespaces: ['kube-system', 'kube-public'],
        k8sWriteNamespace: 'consul',
        syncClusterIPServices: true,
        syncLoadBalancerEndpoints: false,
        nodePortSyncType: 'ExternalFirst',
        consulNodeName: 'k8s-sync',
        addK8sNamespaceSuffix: true,
      })
      assert.match(notes.join('\n'), /syncCatalog.enabled is not true/)
    })

    it("a release's overrides, as the Deployment template passes them", () => {
      const values = mergeValues(chartValues(), {
        global: {domain: 'cluster.example'},
        syncCatalog: {
          enabled: true,
          default: false,
          toK8S: false,
          k8sPrefix: 'c-',
          consulPrefix: 'k-',
          k8sTag: 'from-k8s',
          consulNodeName: 'sync-a',
          addK8SNamespaceSuffix: false,
          nodePortSyncType: 'InternalOnly',
          syncClusterIPServices: false,
          syncLoadBalancerEndpoints: true,
          k8sDenyNamespaces: [],
          k8sSourceNamespace: 'apps',
        },
      })
      const {input, notes} = syncInputFromValues(values, 'mesh')
      assert.deepEqual(notes, [])
      const options = syncOptionsFrom(input)
      assert.deepEqual(
        [
          options.defaultSync,
          options.toConsul,
          options.toK8s,
          options.consulDomain,
          options.k8sServicePrefix,
          options.consulServicePrefix,
          options.consulK8sTag,
          options.consulNodeName,
        ],
        [false, true, false, 'cluster.example', 'c-', 'k-', 'from-k8s', 'sync-a'],
      )
      assert.deepEqual(
        [
          options.addK8sNamespaceSuffix,
          options.nodePortSyncType,
          options.syncClusterIPServices,
          options.k8sWriteNamespace,
          options.syncLoadBalancerEndpoints,
        ],
        [false, 'InternalOnly', false, 'mesh', true],
      )
      assert.deepEqual(options.allowNamespaces, ['apps'], 'k8sSourceNamespace replaces the allow list (sync-catalog)')
      assert.deepEqual(options.denyNamespaces, [])
    })

    it('settings consulk8s cannot honour are named', () => {
      const values = mergeValues(chartValues(), {
        global: {enableConsulNamespaces: true},
        syncCatalog: {enabled: true, ingress: {enabled: true}},
      })
      const {notes} = syncInputFromValues(values, 'consul')
      assert.equal(notes.length, 2)
      assert.match(notes.join('\n'), /enableConsulNamespaces.*ingress/s)
    })
  },
)

describe('flags over the release', () => {
  const release = syncInputFromValues(
    {syncCatalog: {toConsul: true, toK8S: false, consulNodeName: 'k8s-sync', addK8SNamespaceSuffix: true}},
    'consul',
  ).input

  it('an explicit flag wins; the rest comes from the release', () => {
    const {input, sources} = mergeSyncInput({consulNodeName: 'mine', addK8sNamespaceSuffix: false}, release)
    assert.deepEqual([input.consulNodeName, input.addK8sNamespaceSuffix, input.k8sWriteNamespace], ['mine', false, 'consul'])
    assert.deepEqual(sources, {
      consulNodeName: 'flag',
      addK8sNamespaceSuffix: 'flag',
      toConsul: 'release',
      toK8s: 'release',
      k8sWriteNamespace: 'release',
    })
  })

  it("naming a direction replaces the release's pair of directions", () => {
    const {input} = mergeSyncInput({toK8s: true}, release)
    assert.deepEqual(syncOptionsFrom(input), {...syncOptionsFrom(input), toConsul: false, toK8s: true})
    assert.deepEqual(
      [syncOptionsFrom(mergeSyncInput({}, release).input).toConsul, syncOptionsFrom(mergeSyncInput({}, release).input).toK8s],
      [true, false],
    )
  })
})

describe('--from-release argument', () => {
  it('NAME, NAMESPACE/NAME, or nothing', () => {
    assert.deepEqual(parseReleaseSpec('consul'), {name: 'consul'})
    assert.deepEqual(parseReleaseSpec('mesh/consul'), {namespace: 'mesh', name: 'consul'})
    assert.deepEqual(parseReleaseSpec(''), {})
    assert.throws(() => parseReleaseSpec('a/b/c'), /is not NAME or NAMESPACE\/NAME/)
  })

  it('a bare --from-release takes no value from the next flag', () => {
    assert.deepEqual(bareFromRelease(['--from-release', '--dry-run']), ['--from-release=', '--dry-run'])
    assert.deepEqual(bareFromRelease(['--dry-run', '--from-release']), ['--dry-run', '--from-release='])
    assert.deepEqual(bareFromRelease(['--from-release', 'consul']), ['--from-release', 'consul'])
  })
})
