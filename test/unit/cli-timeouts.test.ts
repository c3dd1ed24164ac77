// Nothing hangs: against a server that accepts connections and never answers (not even the
// TLS handshake), cluster commands give up after --request-timeout naming the server, and
// `verify --wait --timeout` ends the whole command when its time is up. Runs the built CLI
// against a real local listener; the harness's kill (far beyond the times under test) only
// keeps a regression from hanging the suite, and the tests check it was not needed.
import assert from 'node:assert/strict'
import {mkdtemp, writeFile} from 'node:fs/promises'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'

import {ConsulClient, describeConsulError} from '../../src/consul/client.js'
import {runCli} from '../helpers/cli.js'

describe('servers that accept and never answer', () => {
  let silent: net.Server
  let address: string
  let kubeconfig: string

  before(async () => {
    silent = net.createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    address = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`
    const dir = await mkdtemp(join(tmpdir(), 'consulk8s-silent-'))
    kubeconfig = join(dir, 'config')
    await writeFile(
      kubeconfig,
      stringify({
        'current-context': 'silent',
        clusters: [{name: 'silent', cluster: {server: `https://${address}`, 'insecure-skip-tls-verify': true}}],
        users: [{name: 'silent', user: {token: 't'}}],
        contexts: [{name: 'silent', context: {cluster: 'silent', user: 'silent'}}],
      }),
    )
  })
  after(() => silent.close())

  it('federate export gives up after --request-timeout and names the server', async () => {
    const result = await runCli(['federate', 'export', '--kubeconfig', kubeconfig, '--request-timeout', '1s'], {timeoutMs: 60_000})
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, new RegExp(`✗ The Kubernetes API of context "silent" \\(https://${address}\\) did not answer within 1s`))
    assert.match(result.stderr, /--request-timeout/)
  })

  it('inject (cluster mode) gives up the same way', async () => {
    const result = await runCli(['inject', '--kubeconfig', kubeconfig, '--request-timeout', '1s', '--dry-run'], {timeoutMs: 60_000})
    assert.notEqual(result.exitCode, 0)
    assert.match(result.stderr, /did not answer within 1s/)
  })

  it('verify --wait --timeout bounds the whole command, though each request may take 30s', async () => {
    const result = await runCli(['verify', '--kubeconfig', kubeconfig, '--context', 'silent', '--wait', '--timeout', '2s', '--interval', '1s'], {
      timeoutMs: 25_000,
    })
    assert.equal(result.exitCode, 1, `exited by itself: ${result.stderr}`)
    assert.match(result.stderr, /Gave up after 2s/)
  })

  it('a bad --request-timeout is refused', async () => {
    const result = await runCli(['federate', 'export', '--kubeconfig', kubeconfig, '--request-timeout', 'soon'])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /Invalid --request-timeout "soon"/)
  })

  it('a Consul request gives up after its deadline with a readable message', async () => {
    const client = new ConsulClient({address: `https://${address}`, insecure: true, timeoutMs: 300})
    await assert.rejects(client.get('/v1/agent/self'), (error) => {
      const described = describeConsulError(error, 'read the agent')
      assert.match(described.message, new RegExp(`Consul at https://${address} did not answer within 300ms`))
      return true
    })
    client.close()
  })
})
