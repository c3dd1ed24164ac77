// src/kube/http.ts, the lean Kubernetes transport, against a real local HTTPS server (an
// in-process stand-in for an API server: it only echoes what credentials arrived): CA
// verification, insecure-skip-tls-verify, tls-server-name, client certificates (inline and as
// files relative to the kubeconfig), bearer tokens, token files read on every request, basic
// auth, the fall-back to the client library for `exec` credential plugins, and the request
// deadline against a server that accepts connections and never answers.
import assert from 'node:assert/strict'
import {chmod, mkdtemp, writeFile} from 'node:fs/promises'
import https from 'node:https'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TLSSocket} from 'node:tls'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'

import {connectCluster} from '../../src/kube/client.js'
import {connectKube} from '../../src/kube/http.js'
import {createCA, signServerCert, type CertificateAuthority} from '../../src/federation/crypto.js'
import {isUserError} from '../../src/shared/errors.js'

const HOST = '127.0.0.2' // not in the server certificate's SANs, so tls-server-name matters
const b64 = (text: string) => Buffer.from(text).toString('base64')

describe('lean Kubernetes transport', () => {
  let dir: string
  let ca: CertificateAuthority
  let otherCa: CertificateAuthority
  let client: {certPem: string; keyPem: string}
  let server: https.Server
  let silent: net.Server
  let serverUrl: string
  let silentUrl: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consulk8s-kube-http-'))
    ca = await createCA({commonName: 'test kube CA'})
    otherCa = await createCA({commonName: 'another CA'})
    const serving = await signServerCert(ca, {datacenter: 'kube', dnsNames: ['kube.internal']})
    client = await signServerCert(ca, {datacenter: 'client'})
    server = https.createServer(
      {cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false},
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate()
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({authorization: req.headers.authorization ?? null, clientCN: peer?.subject?.CN ?? null, path: req.url}))
      },
    )
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
    serverUrl = `https://${HOST}:${(server.address() as net.AddressInfo).port}`
    // Accepts connections and never says a word (not even the TLS handshake).
    silent = net.createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentUrl = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
  })
  after(() => {
    server.close()
    server.closeAllConnections()
    silent.close()
  })

  async function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): Promise<string> {
    const path = join(dir, `${name}.yaml`)
    await writeFile(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': name,
        clusters: [{name, cluster: {server: serverUrl, ...cluster}}],
        users: [{name, user}],
        contexts: [{name, context: {cluster: name, user: name}}],
      }),
    )
    return path
  }

  const echo = async (path: string) => {
    const api = await connectKube({kubeconfig: path})
    try {
      return await api.request<{authorization: string | null; clientCN: string | null}>('GET', '/version')
    } finally {
      api.close()
    }
  }

  it('verifies the server against the kubeconfig CA and tls-server-name; a wrong CA is a readable TLS error', async () => {
    const good = await kubeconfig('good', {'certificate-authority-data': b64(ca.certPem), 'tls-server-name': 'kube.internal'}, {token: 't'})
    assert.equal((await echo(good)).authorization, 'Bearer t')

    const noServerName = await kubeconfig('no-server-name', {'certificate-authority-data': b64(ca.certPem)}, {token: 't'})
    await assert.rejects(echo(noServerName), /IP: 127\.0\.0\.2 is not in the cert's list|altnames/)

    const wrongCa = await kubeconfig(
      'wrong-ca',
      {'certificate-authority-data': b64(otherCa.certPem), 'tls-server-name': 'kube.internal'},
      {token: 't'},
    )
    const cluster = await connectCluster({kubeconfig: wrongCa})
    await assert.rejects(cluster.get('read the version', {resource: 'namespaces', name: 'x'}), (error) => {
      assert.ok(isUserError(error))
      assert.match(error.message, /Cannot reach the Kubernetes API of context "wrong-ca"/)
      assert.match(error.hint ?? '', /certificate-authority-data/)
      return true
    })
    cluster.close()
  })

  it('insecure-skip-tls-verify skips verification only when the kubeconfig says so', async () => {
    const insecure = await kubeconfig('insecure', {'insecure-skip-tls-verify': true}, {token: 't'})
    assert.equal((await echo(insecure)).authorization, 'Bearer t')
  })

  it('sends client certificates, inline or from files relative to the kubeconfig', async () => {
    const inline = await kubeconfig(
      'cert-inline',
      {'certificate-authority-data': b64(ca.certPem), 'tls-server-name': 'kube.internal'},
      {'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem)},
    )
    assert.equal((await echo(inline)).clientCN, 'server.client.consul')

    await writeFile(join(dir, 'client.crt'), client.certPem)
    await writeFile(join(dir, 'client.key'), client.keyPem)
    await writeFile(join(dir, 'ca.crt'), ca.certPem)
    const files = await kubeconfig(
      'cert-files',
      {'certificate-authority': 'ca.crt', 'tls-server-name': 'kube.internal'},
      {'client-certificate': 'client.crt', 'client-key': 'client.key'},
    )
    const answer = await echo(files)
    assert.equal(answer.clientCN, 'server.client.consul')
    assert.equal(answer.authorization, null)
  })

  it('reads a token file on every request (rotated service-account tokens) and sends basic auth', async () => {
    await writeFile(join(dir, 'token'), 'first\n')
    const path = await kubeconfig(
      'token-file',
      {'certificate-authority-data': b64(ca.certPem), 'tls-server-name': 'kube.internal'},
      {tokenFile: 'token'},
    )
    const api = await connectKube({kubeconfig: path})
    assert.equal((await api.request<{authorization: string}>('GET', '/a')).authorization, 'Bearer first')
    await writeFile(join(dir, 'token'), 'second\n')
    assert.equal((await api.request<{authorization: string}>('GET', '/b')).authorization, 'Bearer second')
    api.close()

    const basic = await kubeconfig(
      'basic',
      {'certificate-authority-data': b64(ca.certPem), 'tls-server-name': 'kube.internal'},
      {username: 'admin', password: 'pw'},
    )
    assert.equal((await echo(basic)).authorization, `Basic ${b64('admin:pw')}`)
  })

  it('lets the client library run an exec credential plugin, for that context only', async () => {
    const plugin = join(dir, 'credential-plugin.mjs')
    await writeFile(
      plugin,
      `#!/usr/bin/env node\nprocess.stdout.write(JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token: 'from-plugin'}}))\n`,
    )
    await chmod(plugin, 0o755)
    const path = await kubeconfig(
      'exec',
      {'certificate-authority-data': b64(ca.certPem), 'tls-server-name': 'kube.internal'},
      {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: './credential-plugin.mjs', interactiveMode: 'Never'}},
    )
    assert.equal((await echo(path)).authorization, 'Bearer from-plugin')
  })

  it('gives up on a server that accepts and never answers, naming it, within the request timeout', async () => {
    const path = join(dir, 'silent.yaml')
    await writeFile(
      path,
      stringify({
        'current-context': 'silent',
        clusters: [{name: 'silent', cluster: {server: silentUrl, 'insecure-skip-tls-verify': true}}],
        users: [{name: 'silent', user: {token: 't'}}],
        contexts: [{name: 'silent', context: {cluster: 'silent', user: 'silent'}}],
      }),
    )
    const cluster = await connectCluster({kubeconfig: path, requestTimeoutMs: 300})
    await assert.rejects(cluster.getOptional('read namespace consul', {resource: 'namespaces', name: 'consul'}), (error) => {
      assert.ok(isUserError(error))
      assert.match(
        error.message,
        new RegExp(
          `The Kubernetes API of context "silent" \\(${silentUrl.replace(/[.]/g, '\\.')}\\) did not answer within 300ms \\(while trying to read namespace consul\\)`,
        ),
      )
      assert.match(error.hint ?? '', /--request-timeout/)
      return true
    })
    cluster.close()
  })
})
