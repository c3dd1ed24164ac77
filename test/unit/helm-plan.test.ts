import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {HASHICORP_REPO} from '../../src/helm/chart.js'
import {buildPrimaryValues} from '../../src/federation/values.js'
import {releaseNames} from '../../src/federation/names.js'
import {checkValues, helmUpgradeArgs, referencedSecrets, summarizeValues, summaryRows} from '../../src/helm/plan.js'
import {UserError} from '../../src/shared/errors.js'
import {PRIMARY, SECONDARY} from '../helpers/helm.js'

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
})
