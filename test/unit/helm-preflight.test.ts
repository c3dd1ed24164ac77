/**
 * The install preflight: what counts as a leftover of an earlier install and what --force says.
 */
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'
import type {V1PersistentVolumeClaim} from '@kubernetes/client-node'

import {handleLeftovers, leftoverClaims, leftoverSecrets} from '../../src/helm/preflight.js'
import type {SecretSummary} from '../../src/helm/release-objects.js'
import {isReleaseTokenSecret} from '../../src/helm/uninstall.js'
import {chartNames} from '../../src/federation/names.js'
import {UserError} from '../../src/shared/errors.js'
import {Terminal} from '../../src/ui/terminal.js'

const names = chartNames('consul')

function capture(): {ui: Terminal; text: () => string} {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
  return {ui: new Terminal({stream, color: false}), text: () => text}
}

describe('install preflight: leftovers', () => {
  it("counts the chart jobs' secrets and the release's tokens, not federation material or what the values read", () => {
    const secrets: SecretSummary[] = [
      {name: 'consul-bootstrap-acl-token', keys: ['token'], labels: {'managed-by': 'consul-k8s'}},
      {name: 'consul-client-acl-token', keys: ['token'], labels: {}},
      {name: 'consul-federation', keys: ['caCert', 'caKey', 'serverConfigJSON'], labels: {'managed-by': 'consul-k8s'}},
      {name: 'consul-ca-cert', keys: ['tls.crt'], labels: {'managed-by': 'consul-k8s'}},
      {name: 'consul-gossip-encryption-key', keys: ['key'], labels: {'app.kubernetes.io/managed-by': 'consulk8s'}},
      {name: 'my-license', keys: ['key'], labels: {'managed-by': 'consul-k8s'}},
      {name: 'by-hand', keys: ['x'], labels: {}},
    ]
    assert.deepEqual(leftoverSecrets(secrets, names, ['my-license']), ['consul-bootstrap-acl-token', 'consul-client-acl-token'])
    assert.equal(isReleaseTokenSecret('consul-acl-token', names), false)
    assert.equal(isReleaseTokenSecret('consulx-bootstrap-acl-token', names), false)
  })

  it("finds the servers' claims by label or by name; claims being deleted do not block", () => {
    const claim = (name: string, labels: Record<string, string> = {}, deleting = false): V1PersistentVolumeClaim => ({
      metadata: {name, labels, ...(deleting ? {deletionTimestamp: new Date()} : {})},
    })
    const claims = [
      claim('data-consul-consul-server-0'),
      claim('data-consul-consul-server-1', {release: 'consul'}, true),
      claim('something', {release: 'consul'}),
      claim('data-consul-other-server-0', {release: 'other'}),
    ]
    assert.deepEqual(leftoverClaims(claims, {namespace: 'consul', release: 'consul', names}), {
      blocking: ['data-consul-consul-server-0', 'something'],
      terminating: ['data-consul-consul-server-1'],
    })
  })

  const leftovers = [
    {
      what: 'secrets of a previous Consul install',
      items: ['consul-bootstrap-acl-token'],
      clear: 'consulk8s uninstall --wipe-data',
      risk: 'server-acl-init never completes',
    },
  ]

  it('refuses with the command that clears each leftover', () => {
    const {ui} = capture()
    assert.throws(
      () => handleLeftovers(leftovers, false, ui),
      (error: unknown) =>
        error instanceof UserError &&
        /secrets of a previous Consul install: consul-bootstrap-acl-token/.test(error.message) &&
        /consulk8s uninstall --wipe-data/.test(error.hint ?? '') &&
        /--force/.test(error.hint ?? ''),
    )
  })

  it('with --force goes on, saying what may break', () => {
    const {ui, text} = capture()
    handleLeftovers(leftovers, true, ui)
    assert.match(
      text(),
      /! --force: going on despite secrets of a previous Consul install: consul-bootstrap-acl-token\. What may break: server-acl-init never completes/,
    )
  })
})
