import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {apiEndpoints, chooseK8sAuthMethodHost, isLoopbackServer, validateK8sAuthMethodHost} from '../../src/federation/k8s-auth-host.js'
import {UserError} from '../../src/shared/errors.js'

describe('k8sAuthMethodHost', () => {
  it('takes the kubeconfig server when it is reachable from elsewhere', () => {
    assert.deepEqual(chooseK8sAuthMethodHost({server: 'https://203.0.113.5:6443/', context: 'dc2'}), {
      url: 'https://203.0.113.5:6443',
      source: 'kubeconfig',
    })
  })

  it('recognises loopback servers', () => {
    for (const server of [
      'https://127.0.0.1:6443',
      'https://127.8.0.1',
      'https://localhost:1',
      'https://[::1]:6443',
      'https://0.0.0.0:6443',
      'https://api.localhost:6443',
    ]) {
      assert.equal(isLoopbackServer(server), true, server)
    }
    for (const server of ['https://10.0.0.1:6443', 'https://k8s.example.com', 'https://[2001:db8::1]:6443'])
      assert.equal(isLoopbackServer(server), false, server)
  })

  it('uses the default/kubernetes endpoints instead of a loopback server, with a warning', () => {
    const endpoints = apiEndpoints({subsets: [{addresses: [{ip: '172.18.0.3'}, {ip: '127.0.0.1'}], ports: [{name: 'https', port: 6443}]}]})
    const choice = chooseK8sAuthMethodHost({server: 'https://127.0.0.1:40123', context: 'kind-dc2', endpoints})
    assert.equal(choice.url, 'https://172.18.0.3:6443')
    assert.equal(choice.source, 'endpoints')
    assert.match(choice.warning!, /kind-dc2.*127\.0\.0\.1:40123.*loopback.*cannot reach.*172\.18\.0\.3:6443/)
  })

  it('falls back to EndpointSlices and brackets IPv6', () => {
    const endpoints = apiEndpoints(undefined, [
      {
        endpoints: [
          {addresses: ['fd00::5'], conditions: {ready: true}},
          {addresses: ['fd00::9'], conditions: {ready: false}},
        ],
        ports: [{name: 'https', port: 443}],
      },
    ])
    assert.deepEqual(endpoints, [{ip: 'fd00::5', port: 443}])
    assert.equal(chooseK8sAuthMethodHost({server: 'https://localhost:1', context: 'c', endpoints}).url, 'https://[fd00::5]:443')
  })

  it('fails with a hint when no reachable address is known', () => {
    assert.throws(
      () => chooseK8sAuthMethodHost({server: 'https://127.0.0.1:1', context: 'c', endpoints: [{ip: '127.0.0.1', port: 1}]}),
      (error: unknown) => error instanceof UserError && /--k8s-auth-method-host/.test(error.hint ?? ''),
    )
  })

  it('prefers the flag and validates it', () => {
    assert.equal(
      chooseK8sAuthMethodHost({flag: 'https://k8s.example:6443/', server: 'https://127.0.0.1:1', context: 'c'}).url,
      'https://k8s.example:6443',
    )
    assert.throws(() => validateK8sAuthMethodHost('k8s.example:6443'), UserError)
    assert.throws(() => validateK8sAuthMethodHost('http://k8s.example'), /must be an https/)
  })
})
