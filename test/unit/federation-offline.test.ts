// The offline main job (`federate primary --output-dir`) through the built CLI: the complete
// bundle with ACLs on, and no connection to any Consul or Kubernetes API even when the shell
// points CONSUL_HTTP_ADDR (and a kubeconfig) at one.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parse} from 'yaml'

import {parseSecretManifest} from '../../src/federation/secret.js'
import {runCli} from '../helpers/cli.js'

const work = mkdtempSync(join(tmpdir(), 'fed-offline-'))
let server: Server
let port = 0
let connections = 0

before(async () => {
  server = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as {port: number}).port
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: 'c', cluster: {server: `https://127.0.0.1:${port}`}}],
    users: [{name: 'u', user: {token: 'x'}}],
    contexts: [{name: 'dc1', context: {cluster: 'c', user: 'u'}}],
    'current-context': 'dc1',
  }
  writeFileSync(join(work, 'kubeconfig'), JSON.stringify(kubeconfig))
})

after(() => {
  server.close()
  rmSync(work, {recursive: true, force: true})
})

describe('federate primary --output-dir (offline)', () => {
  const env = () => ({CONSUL_HTTP_ADDR: `http://127.0.0.1:${port}`, CONSUL_HTTP_TOKEN: 'not-used', KUBECONFIG: join(work, 'kubeconfig')})
  const read = (name: string) => parseSecretManifest(readFileSync(join(work, 'federation', 'secrets', `${name}.yaml`), 'utf8'), name).data

  it('writes the complete bundle with ACLs on and reaches nothing', async () => {
    const result = await runCli(
      ['federate', 'primary', '--output-dir', 'federation', '--context', 'dc1', '--primary-gateway', '203.0.113.10:443', '--yes'],
      {cwd: work, env: env()},
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(connections, 0, 'no connection to the Consul address or API server of the environment')
    assert.deepEqual(readdirSync(join(work, 'federation', 'secrets')).sort(), [
      'consul-acl-replication-acl-token.yaml',
      'consul-ca-cert.yaml',
      'consul-ca-key.yaml',
      'consul-federation.yaml',
      'consul-gossip-encryption-key.yaml',
    ])
    const federation = read('consul-federation')
    assert.deepEqual(Object.keys(federation).sort(), ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken', 'serverConfigJSON'])
    const token = read('consul-acl-replication-acl-token').token
    assert.match(token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(federation.replicationToken, token)
    assert.equal(federation.caCert, read('consul-ca-cert')['tls.crt'])
    assert.equal(federation.gossipEncryptionKey, read('consul-gossip-encryption-key').key)
    assert.ok(!result.stdout.includes(token), 'the token is never printed')
    const values = parse(readFileSync(join(work, 'federation', 'values.yaml'), 'utf8'))
    assert.deepEqual(values.global.acls.replicationToken, {secretName: 'consul-acl-replication-acl-token', secretKey: 'token'})
    assert.match(result.stdout, /kubectl create --context dc1 --namespace consul -f federation\/secrets/)
    assert.doesNotMatch(result.stdout, /kubectl apply/)
  })

  it('a rerun changes nothing', async () => {
    const files = () =>
      readdirSync(join(work, 'federation', 'secrets')).map((file) => readFileSync(join(work, 'federation', 'secrets', file), 'utf8'))
    const before = files()
    const result = await runCli(
      ['federate', 'primary', '--output-dir', 'federation', '--context', 'dc1', '--primary-gateway', '203.0.113.10:443', '--yes', '--json'],
      {cwd: work, env: env()},
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const report = JSON.parse(result.stdout) as {steps: Array<{action: string}>}
    assert.deepEqual([...new Set(report.steps.map((step) => step.action))], ['unchanged'])
    assert.deepEqual(files(), before)
    assert.equal(connections, 0)
  })
})
