import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {HIDDEN, redactValues} from '../../src/helm/config.js'

describe('config read', () => {
  it('hides tokens, passwords, licences and secrets inside JSON agent configuration', () => {
    const {values, hidden} = redactValues({
      global: {
        datacenter: 'dc1',
        acls: {bootstrapToken: {secretName: 'bootstrap', secretKey: 'token'}, replicationToken: 'abc'},
        enterpriseLicense: {secretName: 'license'},
        metrics: {datadog: {password: 'p'}},
      },
      server: {extraConfig: '{"encrypt":"k3y","log_level":"INFO","acl":{"tokens":{"agent":"t"}}}', replicas: 3},
      client: {extraConfig: '{}'},
      ui: {enabled: true},
    })
    assert.deepEqual(hidden.sort(), ['global.acls.replicationToken', 'global.metrics.datadog.password', 'server.extraConfig'])
    assert.equal((values.global as {acls: {replicationToken: string}}).acls.replicationToken, HIDDEN)
    assert.deepEqual((values.global as {acls: {bootstrapToken: unknown}}).acls.bootstrapToken, {secretName: 'bootstrap', secretKey: 'token'})
    assert.deepEqual(JSON.parse((values.server as {extraConfig: string}).extraConfig), {encrypt: HIDDEN, log_level: 'INFO', acl: {tokens: HIDDEN}})
    assert.equal((values.client as {extraConfig: string}).extraConfig, '{}')
    assert.equal(JSON.stringify(values).includes('k3y'), false)
  })
})
