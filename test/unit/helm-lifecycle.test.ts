/**
 * The pure parts of the install lifecycle's safety checks: what counts as a leftover of an
 * earlier install, what --force says, how waiting explains a pod that is not ready, what
 * status reads from helm and from the federation secret, and what config read hides.
 */
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'
import type {V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'

import {DEFAULT_CHART_VERSION} from '../../src/helm/chart.js'
import {HIDDEN, redactValues} from '../../src/helm/config.js'
import {containerProblems, rolledOut, type SecretSummary} from '../../src/helm/release-objects.js'
import {handleLeftovers, leftoverClaims, leftoverSecrets} from '../../src/helm/preflight.js'
import {summarizeValues} from '../../src/helm/plan.js'
import {checkFederationSecret, expectedFederationKeys, hookRuns} from '../../src/helm/status.js'
import {isReleaseTokenSecret} from '../../src/helm/uninstall.js'
import {createCA, createGossipKey} from '../../src/federation/crypto.js'
import {chartNames} from '../../src/federation/names.js'
import {encodeData, renderServerConfig} from '../../src/federation/secret.js'
import {UserError} from '../../src/shared/errors.js'
import {Terminal} from '../../src/ui/terminal.js'

const names = chartNames('consul')

function capture(): {ui: Terminal; text: () => string} {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
  return {ui: new Terminal({stream, color: false}), text: () => text}
}

describe('chart version', () => {
  it('pins the chart version the test environment installs', async () => {
    const versions = await readFile(new URL('../env/versions.env', import.meta.url), 'utf8')
    assert.equal(DEFAULT_CHART_VERSION, /^CONSUL_CHART_VERSION=(.+)$/m.exec(versions)?.[1])
  })
})

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

describe('waiting: ready on the current spec', () => {
  it('counts no replica until the controller saw the new generation, and only updated ones after', () => {
    assert.equal(rolledOut({metadata: {generation: 3}, status: {observedGeneration: 2}}, 3, 3), 0)
    assert.equal(rolledOut({metadata: {generation: 3}, status: {observedGeneration: 3}}, 3, 1), 1)
    assert.equal(rolledOut({metadata: {generation: 3}, status: {observedGeneration: 3}}, 2, undefined), 2)
  })
})

describe('waiting: why a pod is not ready', () => {
  it('names container states, exit codes and restarts', () => {
    const pod: V1Pod = {
      status: {
        initContainerStatuses: [{name: 'init', ready: false, restartCount: 0, image: 'i', imageID: '', state: {terminated: {exitCode: 0}}}],
        containerStatuses: [
          {
            name: 'consul',
            ready: false,
            restartCount: 4,
            image: 'c',
            imageID: '',
            state: {waiting: {reason: 'CrashLoopBackOff', message: 'back-off 5m0s'}},
          },
          {name: 'sidecar', ready: false, restartCount: 1, image: 's', imageID: '', state: {terminated: {exitCode: 2, reason: 'Error'}}},
          {name: 'ok', ready: true, restartCount: 0, image: 'o', imageID: ''},
        ],
      },
    }
    assert.deepEqual(containerProblems(pod), [
      'consul: CrashLoopBackOff (back-off 5m0s), 4 restarts',
      'sidecar: terminated Error exit code 2, 1 restart',
    ])
  })
})

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
