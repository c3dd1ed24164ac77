import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {DEFAULT_CHART_VERSION, HASHICORP_REPO, resolveChart} from '../../src/helm/chart.js'

describe('chart version', () => {
  it('pins the chart version the test environment installs', async () => {
    const versions = await readFile(new URL('../env/versions.env', import.meta.url), 'utf8')
    assert.equal(DEFAULT_CHART_VERSION, /^CONSUL_CHART_VERSION=(.+)$/m.exec(versions)?.[1])
  })
})

describe('chart source', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helm-chart-test-'))
    await mkdir(join(dir, 'consul', 'templates'), {recursive: true})
    await writeFile(join(dir, 'consul', 'Chart.yaml'), 'apiVersion: v2\nname: consul\nversion: 1.9.2\nappVersion: 1.21.0\n')
    await writeFile(join(dir, 'consul', 'values.yaml'), 'global:\n  datacenter: dc1\n')
    await mkdir(join(dir, 'other'))
    await writeFile(join(dir, 'other', 'Chart.yaml'), 'apiVersion: v2\nname: nginx\nversion: 1.0.0\n')
    await mkdir(join(dir, 'empty'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('uses the HashiCorp repository by version', async () => {
    const chart = await resolveChart({chartVersion: 'v1.9.2'})
    assert.deepEqual(chart.helmArgs, ['consul', '--repo', HASHICORP_REPO, '--version', '1.9.2'])
    // Without --chart-version: the pinned version consulk8s is tested with.
    assert.deepEqual((await resolveChart({})).helmArgs, ['consul', '--repo', HASHICORP_REPO, '--version', DEFAULT_CHART_VERSION])
    await assert.rejects(resolveChart({chartVersion: 'latest!'}), /Invalid --chart-version/)
  })

  it('reads a local chart directory with its defaults', async () => {
    const chart = await resolveChart({chart: join(dir, 'consul')})
    assert.equal(chart.kind, 'local')
    assert.equal(chart.version, '1.9.2')
    assert.equal(chart.appVersion, '1.21.0')
    assert.deepEqual(chart.defaults, {global: {datacenter: 'dc1'}})
    assert.deepEqual(chart.helmArgs, [join(dir, 'consul')])
  })

  it('refuses wrong chart paths with a clear message', async () => {
    await assert.rejects(resolveChart({chart: join(dir, 'missing')}), /No chart at .*missing: the path does not exist/)
    await assert.rejects(resolveChart({chart: join(dir, 'empty')}), /No chart at .*empty: it has no Chart\.yaml/)
    await assert.rejects(resolveChart({chart: join(dir, 'other')}), /is "nginx", not the Consul chart/)
    await assert.rejects(resolveChart({chart: join(dir, 'consul'), chartVersion: '1.9.3'}), /does not match the local chart/)
  })
})
