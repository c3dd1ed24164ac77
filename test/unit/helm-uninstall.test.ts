import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {chartNames} from '../../src/federation/names.js'
import {decideSecrets} from '../../src/helm/uninstall.js'

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
