import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {createCA, createGossipKey} from '../../src/federation/crypto.js'
import {encodeData, renderServerConfig} from '../../src/federation/secret.js'
import {summarizeValues} from '../../src/helm/plan.js'
import {checkFederationSecret, expectedFederationKeys, hookRuns, statusRows, type StatusReport} from '../../src/helm/status.js'
import {PRIMARY} from '../helpers/helm.js'

describe('status', () => {
  it("reads the hook jobs' last runs from helm status", () => {
    const hooks = hookRuns({
      hooks: [
        {
          name: 'consul-server-acl-init',
          kind: 'Job',
          events: ['post-install', 'post-upgrade'],
          last_run: {phase: 'Succeeded', completed_at: '2026-01-01T00:00:00Z'},
        },
        {
          name: 'consul-gossip-encryption-autogenerate',
          kind: 'Job',
          events: ['pre-install'],
          last_run: {phase: '', completed_at: '0001-01-01T00:00:00Z'},
        },
      ],
    })
    assert.deepEqual(hooks, [
      {
        name: 'consul-server-acl-init',
        kind: 'Job',
        events: ['post-install', 'post-upgrade'],
        phase: 'Succeeded',
        completedAt: '2026-01-01T00:00:00Z',
      },
      {name: 'consul-gossip-encryption-autogenerate', kind: 'Job', events: ['pre-install'], phase: 'not run', completedAt: undefined},
    ])
  })

  it('checks every key of the federation secret and never returns a value', async () => {
    const ca = await createCA()
    const gossip = createGossipKey()
    const data = {caCert: ca.certPem, caKey: ca.keyPem, serverConfigJSON: renderServerConfig('dc1', ['10.0.0.1:443']), gossipEncryptionKey: gossip}
    const summary = summarizeValues('consul', {
      global: {acls: {manageSystemACLs: true}, gossipEncryption: {autoGenerate: true}, federation: {enabled: true}},
    })
    const expected = expectedFederationKeys(summary)
    assert.deepEqual(expected, ['caCert', 'caKey', 'serverConfigJSON', 'replicationToken', 'gossipEncryptionKey'])

    const incomplete = checkFederationSecret('consul-federation', {data: encodeData(data)}, expected)
    assert.equal(incomplete.valid, false)
    assert.deepEqual(incomplete.missing, ['replicationToken'])
    const complete = checkFederationSecret(
      'consul-federation',
      {data: encodeData({...data, replicationToken: 'f4c1e2aa-1111-2222-3333-444455556666'})},
      expected,
    )
    assert.equal(complete.valid, true)
    assert.equal(complete.primaryDatacenter, 'dc1')
    assert.deepEqual(complete.primaryGateways, ['10.0.0.1:443'])
    const broken = checkFederationSecret('consul-federation', {data: encodeData({...data, caKey: (await createCA()).keyPem})}, [
      'caCert',
      'caKey',
      'serverConfigJSON',
    ])
    assert.equal(broken.valid, false)
    assert.match(broken.problem ?? '', /caCert\/caKey/)
    for (const state of [incomplete, complete, broken]) {
      const text = JSON.stringify(state)
      for (const value of [ca.keyPem, gossip, 'f4c1e2aa-1111-2222-3333-444455556666']) assert.equal(text.includes(value), false)
    }
    assert.deepEqual(checkFederationSecret('x', undefined, expected), {name: 'x', present: false, keys: [], missing: [], valid: false})
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
