/**
 * The Consul connection every command shares (consulConfigFrom + ConsulClient): consul's
 * environment variables and flags, and what goes over the wire, checked against an in-process
 * HTTPS server that requires a client certificate and records the requests.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ConsulClient, consulConfigFrom, describeConsulError} from '../../src/consul/client.js'
import {login, logout, parseLoginMeta} from '../../src/consul/login.js'
import {createCA, signServerCert} from '../../src/federation/crypto.js'

const dir = mkdtempSync(join(tmpdir(), 'consul-client-test-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text, {mode: 0o600})
  return path
}

after(() => rmSync(dir, {recursive: true, force: true}))

describe("consulConfigFrom: consul's environment variables and flags", () => {
  const base = {CONSUL_HTTP_ADDR: 'https://127.0.0.1:8501'}

  it('CONSUL_HTTP_TOKEN_FILE wins over CONSUL_HTTP_TOKEN, as in consul; trimmed', () => {
    const config = consulConfigFrom({}, {...base, CONSUL_HTTP_TOKEN: 'from-env', CONSUL_HTTP_TOKEN_FILE: file('token', '  from-file\n')})
    assert.equal(config?.token, 'from-file')
    assert.equal(consulConfigFrom({}, {...base, CONSUL_HTTP_TOKEN: 'from-env'})?.token, 'from-env')
  })

  it('a missing or empty token file is one readable error', () => {
    assert.throws(() => consulConfigFrom({}, {...base, CONSUL_HTTP_TOKEN_FILE: join(dir, 'nope')}), /Cannot read the Consul token file .*nope/)
    assert.throws(() => consulConfigFrom({'consul-token-file': file('empty', '\n')}, base), /The Consul token file .* is empty/)
  })

  it('client certificate and key together, server name, SSL_VERIFY=false, namespace and partition', () => {
    const config = consulConfigFrom(
      {},
      {
        ...base,
        CONSUL_CLIENT_CERT: file('c.pem', 'CERT'),
        CONSUL_CLIENT_KEY: file('k.pem', 'KEY'),
        CONSUL_TLS_SERVER_NAME: 'server.dc1.consul',
        CONSUL_HTTP_SSL_VERIFY: 'false',
        CONSUL_NAMESPACE: 'team',
        CONSUL_PARTITION: 'part',
      },
    )
    assert.deepEqual(
      [config?.clientCert, config?.clientKey, config?.serverName, config?.insecure, config?.namespace, config?.partition],
      ['CERT', 'KEY', 'server.dc1.consul', true, 'team', 'part'],
    )
    assert.equal(consulConfigFrom({}, {...base, CONSUL_HTTP_SSL_VERIFY: 'true'})?.insecure, undefined, 'verified unless told otherwise')
    assert.throws(() => consulConfigFrom({}, {...base, CONSUL_CLIENT_CERT: file('c2.pem', 'CERT')}), /client certificate was given without its key/)
    assert.throws(() => consulConfigFrom({}, {...base, CONSUL_HTTP_SSL_VERIFY: 'nope'}), /CONSUL_HTTP_SSL_VERIFY="nope" is not a boolean/)
  })

  it('flags win over the environment', () => {
    const config = consulConfigFrom(
      {'consul-tls-server-name': 'flag.example', 'consul-namespace': 'flag-ns'},
      {...base, CONSUL_TLS_SERVER_NAME: 'env.example', CONSUL_NAMESPACE: 'env-ns'},
    )
    assert.deepEqual([config?.serverName, config?.namespace], ['flag.example', 'flag-ns'])
  })
})

describe('ConsulClient over TLS', () => {
  let server: https.Server
  let port = 0
  let caPem = ''
  let client = {certPem: '', keyPem: ''}
  const seen: Array<{url: string; clientCert: boolean; method?: string; token?: string; body?: string}> = []

  before(async () => {
    const ca = await createCA()
    caPem = ca.certPem
    const cert = await signServerCert(ca, {datacenter: 'dc1'})
    client = await signServerCert(ca, {datacenter: 'dc9'})
    server = https.createServer({cert: cert.certPem, key: cert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true}, (req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        const clientCert = Boolean((req.socket as import('node:tls').TLSSocket).getPeerCertificate()?.subject)
        seen.push({url: req.url ?? '', clientCert, method: req.method, token: req.headers['x-consul-token'] as string | undefined, body})
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(req.url?.startsWith('/v1/acl/login') ? '{"AccessorID": "acc", "SecretID": "sec"}' : '{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  after(() => server?.close())

  const connect = (env: Record<string, string>) => {
    const config = consulConfigFrom({}, {CONSUL_HTTP_ADDR: `https://127.0.0.1:${port}`, CONSUL_CACERT: file('ca.pem', caPem), ...env})
    if (!config) throw new Error('no config')
    return new ConsulClient(config)
  }
  const certEnv = () => ({CONSUL_CLIENT_CERT: file('client.pem', client.certPem), CONSUL_CLIENT_KEY: file('client-key.pem', client.keyPem)})

  it('presents the client certificate; sends ns and partition on every request', async () => {
    const consul = connect({...certEnv(), CONSUL_NAMESPACE: 'team', CONSUL_PARTITION: 'part'})
    try {
      await consul.get('/v1/catalog/services', {query: {index: 5}})
    } finally {
      consul.close()
    }
    assert.deepEqual([seen.at(-1)?.url, seen.at(-1)?.clientCert], ['/v1/catalog/services?ns=team&partition=part&index=5', true])
  })

  it('login: POST /v1/acl/login with the bearer token and no token of its own; logout with the token it got', async () => {
    const consul = connect({...certEnv(), CONSUL_HTTP_TOKEN: 'not-sent'})
    try {
      const token = await login(consul, {
        authMethod: 'k8s',
        bearerTokenFile: file('sa', 'jwt\n'),
        datacenter: 'dc2',
        meta: parseLoginMeta('component=sync-catalog,pod=ns/p'),
      })
      assert.deepEqual(token, {accessorId: 'acc', secretId: 'sec'})
      await logout(consul, token)
    } finally {
      consul.close()
    }
    const [loginCall, logoutCall] = seen.slice(-2)
    assert.deepEqual([loginCall.method, loginCall.url, loginCall.token], ['POST', '/v1/acl/login?dc=dc2', undefined])
    assert.deepEqual(JSON.parse(loginCall.body ?? ''), {AuthMethod: 'k8s', BearerToken: 'jwt', Meta: {component: 'sync-catalog', pod: 'ns/p'}})
    assert.deepEqual([logoutCall.method, logoutCall.url, logoutCall.token], ['POST', '/v1/acl/logout', 'sec'])
    assert.throws(() => parseLoginMeta('novalue'), /Login meta "novalue" is not KEY=VALUE/)
  })

  it('without the client certificate the server refuses the handshake', async () => {
    const consul = connect({})
    try {
      await assert.rejects(consul.get('/v1/status/leader'))
    } finally {
      consul.close()
    }
  })

  it('CONSUL_TLS_SERVER_NAME: the certificate is checked against that name', async () => {
    const right = connect({...certEnv(), CONSUL_TLS_SERVER_NAME: 'server.dc1.consul'})
    const wrong = connect({...certEnv(), CONSUL_TLS_SERVER_NAME: 'server.dc2.consul'})
    try {
      await right.get('/v1/status/leader')
      const error = await wrong.get('/v1/status/leader').then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(error, 'a name not in the certificate fails')
      assert.match(describeConsulError(error, 'read').hint ?? '', /--consul-tls-server-name \/ CONSUL_TLS_SERVER_NAME/)
    } finally {
      right.close()
      wrong.close()
    }
  })

  it('CONSUL_HTTP_SSL_VERIFY=false connects without the CA', async () => {
    const config = consulConfigFrom({}, {CONSUL_HTTP_ADDR: `https://127.0.0.1:${port}`, CONSUL_HTTP_SSL_VERIFY: 'false', ...certEnv()})
    const consul = new ConsulClient(config!)
    const verified = new ConsulClient({...config!, insecure: false})
    try {
      await consul.get('/v1/status/leader')
      await assert.rejects(verified.get('/v1/status/leader'), /self[- ]signed|unable to verify|certificate/i)
    } finally {
      consul.close()
      verified.close()
    }
  })
})
