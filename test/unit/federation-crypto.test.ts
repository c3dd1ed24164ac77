import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash, createPrivateKey, X509Certificate} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {createCA, createGossipKey, inspectCA, signServerCert, validateGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {UserError} from '../../src/shared/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'fed-crypto-'))
let ca: CertificateAuthority
before(async () => {
  ca = await createCA()
  writeFileSync(join(dir, 'ca.pem'), ca.certPem)
  writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem)
})
after(() => rmSync(dir, {recursive: true, force: true}))

const openssl = (...args: string[]) => execFileSync('openssl', args, {encoding: 'utf8'})

describe('the federation CA (checked with openssl and X509Certificate)', () => {
  it('is a self-signed EC P-256 CA with the consul-k8s extensions', () => {
    const text = openssl('x509', '-in', join(dir, 'ca.pem'), '-noout', '-text')
    assert.match(text, /Public Key Algorithm: id-ecPublicKey/)
    assert.match(text, /(ASN1 OID: prime256v1|NIST CURVE: P-256)/)
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/)
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/)
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/)
    assert.match(text, /Subject: CN\s?=\s?Consul Agent CA, O\s?=\s?HashiCorp Inc., C\s?=\s?US/)
    openssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'ca.pem'))
  })

  it('has subject key id = SHA-256 of the public key, ~10 years validity, a SEC1 key that matches', () => {
    const cert = new X509Certificate(ca.certPem)
    assert.equal(cert.ca, true)
    const spki = cert.publicKey.export({type: 'spki', format: 'der'})
    const expected = createHash('sha256').update(spki).digest('hex').toUpperCase().match(/../g)!.join(':')
    const text = openssl('x509', '-in', join(dir, 'ca.pem'), '-noout', '-ext', 'subjectKeyIdentifier')
    assert.ok(text.toUpperCase().includes(expected), text)
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 24 * 3600 * 1000)
    assert.ok(years > 9.9 && years < 10.1, String(years))
    assert.match(ca.keyPem, /^-----BEGIN EC PRIVATE KEY-----/)
    assert.equal(createPrivateKey(ca.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1')
    assert.ok(cert.checkPrivateKey(createPrivateKey(ca.keyPem)))
  })

  it('signs server certificates that openssl verifies against it, for server.<dc>.consul', async () => {
    const server = await signServerCert(ca, {datacenter: 'dc2'})
    writeFileSync(join(dir, 'server.pem'), server.certPem)
    assert.match(openssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'server.pem')), /OK/)
    const cert = new X509Certificate(server.certPem)
    assert.equal(cert.subject, 'CN=server.dc2.consul')
    assert.match(cert.subjectAltName ?? '', /DNS:server\.dc2\.consul/)
    assert.match(
      openssl('x509', '-in', join(dir, 'server.pem'), '-noout', '-ext', 'extendedKeyUsage'),
      /TLS Web Server Authentication, TLS Web Client Authentication/,
    )
  })

  it('refuses unusable CA material with one readable error', async () => {
    const other = await createCA()
    assert.throws(() => inspectCA({certPem: ca.certPem, keyPem: other.keyPem}), /does not belong/)
    assert.throws(() => inspectCA({certPem: 'x', keyPem: ca.keyPem}), UserError)
    const server = await signServerCert(ca, {datacenter: 'dc1'})
    assert.throws(() => inspectCA({certPem: server.certPem, keyPem: server.keyPem}), /not a CA certificate/)
  })
})

describe('the gossip key', () => {
  it('is 32 random bytes in standard base64, accepted by the validator', () => {
    const key = createGossipKey()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    assert.notEqual(key, createGossipKey())
    validateGossipKey(key)
    assert.throws(() => validateGossipKey('abc'), UserError)
  })
})
