import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {DEFAULT_CHART_VERSION, HASHICORP_REPO, resolveChart} from '../../src/helm/chart.js'
import {checkHelmVersion, helmErrorText, parseHelmVersion, splitChartLabel} from '../../src/helm/helm.js'
import {manifestObjects, rotatingChanges} from '../../src/helm/install.js'
import {diffValues} from '../../src/helm/diff.js'
import {formatOutput} from '../../src/helm/output.js'
import {buildPrimaryValues} from '../../src/federation/values.js'
import {releaseNames} from '../../src/federation/names.js'
import {checkValues, helmUpgradeArgs, referencedSecrets, summarizeValues, summaryRows} from '../../src/helm/plan.js'
import {statusRows, type StatusReport} from '../../src/helm/status.js'
import {decideSecrets} from '../../src/helm/uninstall.js'
import {chartNames} from '../../src/federation/names.js'
import {UserError} from '../../src/shared/errors.js'

// The documented shapes (seed: federation between Kubernetes clusters).
const PRIMARY = {
  global: {
    name: 'consul',
    datacenter: 'dc1',
    tls: {enabled: true},
    federation: {enabled: true, createFederationSecret: true},
    acls: {manageSystemACLs: true, createReplicationToken: true},
    gossipEncryption: {autoGenerate: true},
  },
  connectInject: {enabled: true},
  meshGateway: {enabled: true},
}

const SECONDARY = {
  global: {
    name: 'consul',
    datacenter: 'dc2',
    tls: {
      enabled: true,
      caCert: {secretName: 'consul-federation', secretKey: 'caCert'},
      caKey: {secretName: 'consul-federation', secretKey: 'caKey'},
    },
    acls: {manageSystemACLs: true, replicationToken: {secretName: 'consul-federation', secretKey: 'replicationToken'}},
    federation: {enabled: true, k8sAuthMethodHost: 'https://10.1.2.3:6443', primaryDatacenter: 'dc1'},
    gossipEncryption: {secretName: 'consul-federation', secretKey: 'gossipEncryptionKey'},
  },
  connectInject: {enabled: true},
  meshGateway: {enabled: true},
  server: {extraVolumes: [{type: 'secret', name: 'consul-federation', items: [{key: 'serverConfigJSON', path: 'config.json'}], load: true}]},
}

describe('values summary', () => {
  it('reads a primary', () => {
    const summary = summarizeValues('consul', PRIMARY)
    assert.equal(summary.prefix, 'consul')
    assert.equal(summary.datacenter, 'dc1')
    assert.equal(summary.federation, 'primary')
    assert.equal(summary.createsFederationSecret, true)
    assert.equal(summary.tls, true)
    assert.equal(summary.acls, true)
    assert.equal(summary.gossipEncryption, 'auto-generated')
    const rows = Object.fromEntries(summaryRows(summary))
    assert.equal(rows.Federation, 'primary (the chart creates secret consul-federation)')
    assert.equal(rows['Mesh gateway'], 'on')
  })

  it('reads a secondary', () => {
    const summary = summarizeValues('consul', SECONDARY)
    assert.equal(summary.federation, 'secondary')
    assert.equal(summary.primaryDatacenter, 'dc1')
    assert.equal(summary.gossipEncryption, 'from secret consul-federation')
    assert.equal(Object.fromEntries(summaryRows(summary)).Federation, 'secondary of dc1')
  })

  it('fills in the chart defaults (its own values.yaml when known)', () => {
    const summary = summarizeValues('rel', {})
    assert.equal(summary.prefix, 'rel-consul')
    assert.equal(summary.datacenter, 'dc1')
    assert.equal(summary.federation, 'none')
    assert.equal(summary.connectInject, true)
    assert.equal(summary.serverEnabled, true)
    assert.equal(summary.servers, 1)
    const fromChart = summarizeValues('rel', {}, {global: {datacenter: 'dc9'}, connectInject: {enabled: false}, server: {replicas: 3}})
    assert.equal(fromChart.datacenter, 'dc9')
    assert.equal(fromChart.connectInject, false)
    assert.equal(fromChart.servers, 3)
    // "-" inherits global.enabled
    assert.equal(summarizeValues('rel', {global: {enabled: false}, server: {enabled: '-'}}).serverEnabled, false)
  })
})

describe('secrets the values need', () => {
  it('lists the federation secret of a secondary with every key read from it', () => {
    const [reference, ...rest] = referencedSecrets(SECONDARY)
    assert.equal(rest.length, 0)
    assert.equal(reference.name, 'consul-federation')
    assert.deepEqual([...reference.keys].sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    assert.ok(reference.via.includes('server.extraVolumes[0]'))
  })

  it('needs nothing for a primary (the chart makes its secrets)', () => {
    assert.deepEqual(referencedSecrets(PRIMARY), [])
    assert.deepEqual(referencedSecrets({global: {gossipEncryption: {autoGenerate: true, secretName: 'x', secretKey: 'k'}}}), [])
  })
})

describe('values checks', () => {
  it('accepts the documented primary and secondary', () => {
    assert.deepEqual(checkValues('consul', PRIMARY), {errors: [], warnings: []})
    assert.deepEqual(checkValues('consul', SECONDARY), {errors: [], warnings: []})
  })

  it('refuses what the chart refuses, before helm runs', () => {
    const noTls = checkValues('consul', {...PRIMARY, global: {...PRIMARY.global, tls: {enabled: false}}, meshGateway: {enabled: false}})
    assert.equal(noTls.errors.length, 2)
    assert.match(noTls.errors[0].message, /Federation needs TLS/)
    assert.match(noTls.errors[1].message, /Federation needs mesh gateways/)
    const badDc = checkValues('consul', {global: {datacenter: 'DC 1'}})
    assert.ok(badDc.errors[0] instanceof UserError)
    assert.match(badDc.errors[0].message, /Invalid datacenter name/)
  })

  it('refuses a replication token in a primary without createReplicationToken', () => {
    const values = {...PRIMARY, global: {...PRIMARY.global, acls: {manageSystemACLs: true, replicationToken: {secretName: 'x', secretKey: 'y'}}}}
    assert.match(
      checkValues('consul', values).errors[0].message,
      /replicationToken is set in the values of a primary datacenter without global\.acls\.createReplicationToken/,
    )
  })

  it('accepts the pre-generated replication token of a primary (createReplicationToken + replicationToken)', () => {
    const acls = {
      manageSystemACLs: true,
      createReplicationToken: true,
      replicationToken: {secretName: 'consul-acl-replication-acl-token', secretKey: 'token'},
    }
    const values = {...PRIMARY, global: {...PRIMARY.global, acls}}
    assert.deepEqual(checkValues('consul', values).errors, [])
    assert.equal(summarizeValues('consul', values).federation, 'primary')
    assert.deepEqual(
      referencedSecrets(values).map((reference) => [reference.name, reference.keys]),
      [['consul-acl-replication-acl-token', ['token']]],
    )
    const written = buildPrimaryValues({
      release: 'consul',
      names: releaseNames('consul'),
      datacenter: 'dc1',
      acls: true,
      gossip: true,
      meshGatewayServiceType: 'LoadBalancer',
    })
    assert.deepEqual(checkValues('consul', written), {errors: [], warnings: []}, 'what federate primary writes passes the preflight')
  })

  it('warns about a secondary whose auth method host is missing or loopback', () => {
    const without = structuredClone(SECONDARY) as {global: {federation: Record<string, unknown>}}
    delete without.global.federation.k8sAuthMethodHost
    assert.match(checkValues('consul', without).warnings[0], /k8sAuthMethodHost is not set/)
    without.global.federation.k8sAuthMethodHost = 'https://127.0.0.1:6443'
    assert.match(checkValues('consul', without).warnings[0], /loopback/)
  })
})

describe('upgrade guard', () => {
  it('flags changes of the CA, the gossip key, tokens and the datacenter, not others', () => {
    const changes = diffValues(
      {global: {datacenter: 'dc1', gossipEncryption: {autoGenerate: true}}, server: {replicas: 1}},
      {global: {datacenter: 'dc2', gossipEncryption: {secretName: 's', secretKey: 'k'}}, server: {replicas: 3}},
    )
    assert.deepEqual(
      rotatingChanges(changes).map((change) => change.path),
      ['global.datacenter', 'global.gossipEncryption.autoGenerate', 'global.gossipEncryption.secretKey', 'global.gossipEncryption.secretName'],
    )
    assert.deepEqual(rotatingChanges(diffValues({server: {replicas: 1}}, {server: {replicas: 3}})), [])
  })
})

describe('helm command line', () => {
  it('installs with the merged values file, resetting old values, never with helm --wait', () => {
    const args = helmUpgradeArgs({
      release: 'consul',
      namespace: 'consul',
      chartArgs: ['consul', '--repo', HASHICORP_REPO, '--version', '1.9.2'],
      valuesFile: '/tmp/v.yaml',
      timeout: '600s',
      install: true,
      createNamespace: true,
    })
    assert.deepEqual(args, [
      'upgrade',
      '--install',
      'consul',
      'consul',
      '--repo',
      HASHICORP_REPO,
      '--version',
      '1.9.2',
      '--namespace',
      'consul',
      '--create-namespace',
      '--values',
      '/tmp/v.yaml',
      '--reset-values',
      '--timeout',
      '600s',
      '--output',
      'json',
    ])
    const dry = helmUpgradeArgs({
      release: 'r',
      namespace: 'n',
      chartArgs: ['/c'],
      valuesFile: 'v',
      timeout: '1s',
      install: false,
      noHooks: true,
      dryRun: true,
    })
    assert.ok(!dry.includes('--install') && !dry.includes('--create-namespace') && !dry.includes('--wait'))
    assert.ok(dry.includes('--no-hooks') && dry.includes('--dry-run=server'))
  })

  it('reads helm versions and refuses old ones', () => {
    assert.deepEqual(parseHelmVersion('v3.22.0'), {raw: 'v3.22.0', major: 3, minor: 22, patch: 0})
    assert.equal(parseHelmVersion('garbage'), undefined)
    assert.doesNotThrow(() => checkHelmVersion(parseHelmVersion('v3.13.0')!, 'helm'))
    assert.doesNotThrow(() => checkHelmVersion(parseHelmVersion('v4.0.1')!, 'helm'))
    assert.throws(() => checkHelmVersion(parseHelmVersion('v3.12.3')!, '/usr/bin/helm'), /helm v3\.12\.3; consulk8s needs helm 3\.13\.0 or newer/)
    assert.throws(() => checkHelmVersion(parseHelmVersion('v2.17.0')!, 'helm'), UserError)
  })

  it("splits chart labels and keeps helm's error line", () => {
    assert.deepEqual(splitChartLabel('consul-1.9.2'), {name: 'consul', version: '1.9.2'})
    assert.deepEqual(splitChartLabel('consul-2.1.0-dev'), {name: 'consul', version: '2.1.0-dev'})
    assert.deepEqual(splitChartLabel('my-chart-0.1.0'), {name: 'my-chart', version: '0.1.0'})
    assert.equal(helmErrorText('W1122 warning\nError: INSTALLATION FAILED: boom\n'), 'INSTALLATION FAILED: boom')
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

describe('dry-run output', () => {
  it('lists the objects of a manifest and prints the manifest for -o yaml', () => {
    const manifest =
      '---\n# Source: a\napiVersion: v1\nkind: Service\nmetadata:\n  name: consul-server\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: consul-server\n'
    assert.deepEqual(manifestObjects(manifest), [
      {kind: 'Service', name: 'consul-server'},
      {kind: 'StatefulSet', name: 'consul-server'},
    ])
    const result = {
      action: 'install' as const,
      dryRun: true,
      changed: false,
      context: 'dc1',
      namespace: 'consul',
      release: 'consul',
      chart: {source: 's', name: 'consul', version: '1'},
      summary: summarizeValues('consul', {}),
      manifest,
    }
    assert.equal(formatOutput('yaml', result), manifest)
    const json = JSON.parse(formatOutput('json', result)) as Record<string, unknown>
    assert.equal(json.manifest, undefined)
    assert.equal(json.release, 'consul')
  })
})

describe('uninstall secret decisions', () => {
  const consulk8s = {'app.kubernetes.io/managed-by': 'consulk8s'}
  const chartJob = {'managed-by': 'consul-k8s'}
  const names = chartNames('consul')
  const secrets = [
    {name: 'consul-ca-cert', keys: ['tls.crt'], labels: consulk8s},
    {name: 'consul-gossip-encryption-key', keys: ['key'], labels: consulk8s},
    {name: 'consul-federation', keys: ['caCert', 'caKey', 'serverConfigJSON'], labels: consulk8s},
    {name: 'imported-fed', keys: ['caCert', 'serverConfigJSON'], labels: consulk8s},
    {name: 'consul-extra', keys: ['token'], labels: consulk8s},
    {name: 'consul-bootstrap-acl-token', keys: ['token'], labels: chartJob},
    {name: 'consul-server-cert', keys: ['tls.crt', 'tls.key'], labels: chartJob},
    {name: 'consul-client-acl-token', keys: ['token'], labels: {}},
    {name: 'by-hand', keys: ['x'], labels: {}},
    {name: 'other-bootstrap-acl-token', keys: ['token'], labels: {}},
  ]

  it('deletes every secret of the install, keeps federation material and never touches others', () => {
    const decision = decideSecrets(secrets, names, {})
    assert.deepEqual(decision.delete, [
      {name: 'consul-extra', origin: 'created by consulk8s'},
      {name: 'consul-bootstrap-acl-token', origin: "made by the chart's jobs"},
      {name: 'consul-server-cert', origin: "made by the chart's jobs"},
      {name: 'consul-client-acl-token', origin: 'ACL token of the release'},
    ])
    assert.deepEqual(
      decision.keep.map((kept) => kept.name),
      ['consul-ca-cert', 'consul-gossip-encryption-key', 'consul-federation', 'imported-fed'],
    )
  })

  it('deletes federation material only with the second flag', () => {
    const decision = decideSecrets(secrets, names, {deleteFederationSecret: true})
    assert.deepEqual(
      decision.delete.map((secret) => secret.name),
      [
        'consul-ca-cert',
        'consul-gossip-encryption-key',
        'consul-federation',
        'imported-fed',
        'consul-extra',
        'consul-bootstrap-acl-token',
        'consul-server-cert',
        'consul-client-acl-token',
      ],
    )
    assert.deepEqual(decision.keep, [])
  })
})

describe('status rows', () => {
  it('marks what is not ready, what is missing and what failed', () => {
    const values = summarizeValues('consul', PRIMARY)
    const report: StatusReport = {
      context: 'dc1',
      server: 'https://x',
      namespace: 'consul',
      release: 'consul',
      found: true,
      revision: 2,
      status: 'deployed',
      chart: 'consul-1.9.2',
      chartVersion: '1.9.2',
      appVersion: '1.21.0',
      datacenter: 'dc1',
      federation: 'primary',
      values,
      hooks: [{name: 'consul-server-acl-init', kind: 'Job', events: ['post-install'], phase: 'Failed'}],
      workloads: [{kind: 'StatefulSet', name: 'consul-server', desired: 3, ready: 1, images: ['hashicorp/consul:1.21.0']}],
      federationSecret: {
        name: 'consul-federation',
        present: true,
        keys: ['caCert'],
        missing: ['caKey', 'serverConfigJSON'],
        valid: false,
        problem: 'lacks caKey, serverConfigJSON',
      },
      proxyDefaults: {
        crd: true,
        found: true,
        namespace: 'consul',
        meshGatewayMode: 'local',
        synced: 'False',
        reason: 'ConsulAgentError',
        message: 'no leader',
      },
      healthy: false,
    }
    const rows = statusRows(report)
    assert.deepEqual(
      rows.map((row) => [row.mark, row.component, row.state]),
      [
        ['ok', 'Release consul', 'deployed'],
        ['info', 'Values', 'datacenter dc1'],
        ['fail', 'Hook Job consul-server-acl-init', 'Failed'],
        ['warn', 'StatefulSet consul-server', '1/3 ready'],
        ['fail', 'Federation secret', 'incomplete'],
        ['fail', 'ProxyDefaults', 'Synced False'],
      ],
    )
    assert.match(rows[0].detail, /chart consul-1\.9\.2 \(app 1\.21\.0\), revision 2/)
    assert.match(rows[1].detail, /TLS on, ACLs on, gossip auto-generated, mesh gateway on, federation primary/)
    assert.equal(rows[3].detail, 'hashicorp/consul:1.21.0')
    assert.match(rows[5].detail, /consul\/global, meshGateway\.mode local: ConsulAgentError no leader/)
  })
})
