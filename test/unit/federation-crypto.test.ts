import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {createHash, createPrivateKey, generateKeyPairSync, X509Certificate} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {after, before, describe, it} from 'node:test'

import {
  createCA,
  createGossipKey,
  inspectCA,
  ipAddressBytes,
  signServerCert,
  validateGossipKey,
  type CertificateAuthority,
} from '../../src/federation/crypto.js'
import * as der from '../../src/federation/der.js'
import {UserError} from '../../src/shared/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'fed-crypto-'))
let ca: CertificateAuthority
before(async () => {
  ca = await createCA()
  writeFileSync(join(dir, 'ca.pem'), ca.certPem)
  writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem)
})
after(() => rmSync(dir, {recursive: true, force: true}))

const hasOpenssl = spawnSync('openssl', ['version']).status === 0
/** The openssl checks run wherever openssl is installed; without it they are skipped, saying why. */
const needsOpenssl = {skip: hasOpenssl ? false : 'openssl is not installed on this machine'}
const openssl = (...args: string[]) => execFileSync('openssl', args, {encoding: 'utf8'})

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest()
const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/x509/${name}`, import.meta.url)), 'utf8')

/** Everything about a certificate's encoding, field by field, read with the DER reader. */
function anatomy(certPem: string) {
  const [tbs, outerAlgorithm, signature] = der.readChildren(der.readElement(new X509Certificate(certPem).raw))
  const fields = der.readChildren(tbs)
  const [version, serial, algorithm, issuer, validity, subject, spki, extensions] = fields
  const [notBefore, notAfter] = der.readChildren(validity)
  return {
    fieldTags: fields.map((field) => field.tag),
    version: hex(version.encoded),
    serial: serial.contents,
    algorithm: hex(algorithm.encoded),
    issuer: hex(issuer.encoded),
    timeTags: [notBefore.tag, notAfter.tag],
    subject: hex(subject.encoded),
    spkiAlgorithm: hex(der.readChildren(spki)[0].encoded),
    spki: spki.encoded,
    extensions: der.readChildren(der.readChildren(extensions)[0]).map((extension) => {
      const parts = der.readChildren(extension)
      return {oid: hex(parts[0].encoded), critical: parts.length === 3 ? hex(parts[1].encoded) : 'absent', value: parts[parts.length - 1].contents}
    }),
    outerAlgorithm: hex(outerAlgorithm.encoded),
    signature: {tag: signature.tag, unusedBits: signature.contents[0]},
  }
}

const SKI = hex(der.oid('2.5.29.14'))
const AKI = hex(der.oid('2.5.29.35'))

/** What must be the same whoever made the certificate: all but serial, times, key, SKI/AKI values. */
function stableParts(certPem: string) {
  const {serial: _serial, spki: _spki, extensions, ...rest} = anatomy(certPem)
  return {
    ...rest,
    extensions: extensions.map(({oid, critical, value}) => ({oid, critical, value: oid === SKI || oid === AKI ? value.length : hex(value)})),
  }
}

describe('the federation CA (read with node:crypto X509Certificate)', () => {
  it('is a self-signed CA named CN=Consul Agent CA, O=HashiCorp Inc., C=US, valid ~10 years from a minute ago', async () => {
    const now = new Date('2026-06-01T12:00:00.500Z')
    const made = await createCA({now})
    const cert = new X509Certificate(made.certPem)
    assert.equal(cert.ca, true)
    assert.equal(cert.subject, 'CN=Consul Agent CA\nO=HashiCorp Inc.\nC=US')
    assert.equal(cert.issuer, cert.subject)
    assert.equal(new Date(cert.validFrom).toISOString(), '2026-06-01T11:59:00.000Z')
    assert.equal(new Date(cert.validTo).toISOString(), '2036-05-29T12:00:00.000Z')
    assert.ok(cert.checkIssued(cert))
    assert.ok(cert.verify(cert.publicKey))
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  })

  it('has subject key id = authority key id = SHA-256 of the public key, a SEC1 key that matches', () => {
    const cert = new X509Certificate(ca.certPem)
    const {spki, extensions} = anatomy(ca.certPem)
    const ski = sha256(spki)
    assert.equal(hex(extensions.find((extension) => extension.oid === SKI)!.value), hex(der.octetString(ski)))
    assert.equal(hex(extensions.find((extension) => extension.oid === AKI)!.value), hex(der.sequence(der.implicit(0, der.octetString(ski)))))
    assert.match(ca.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/)
    assert.equal(createPrivateKey(ca.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1')
    assert.ok(cert.checkPrivateKey(createPrivateKey(ca.keyPem)))
    assert.match(ca.certPem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/)
  })

  it('writes validity from 2050 on as GeneralizedTime, which node reads back', async () => {
    const made = await createCA({now: new Date('2045-03-04T05:06:07Z'), days: 3650})
    assert.deepEqual(anatomy(made.certPem).timeTags, [0x17, 0x18])
    assert.equal(new Date(new X509Certificate(made.certPem).validTo).toISOString(), '2055-03-02T05:06:07.000Z')
  })
})

describe('server certificates (read with node:crypto X509Certificate)', () => {
  it('are issued by the CA for server.<dc>.<domain>, with DNS and IP (v4 and v6) SANs, valid 2 years', async () => {
    const now = new Date('2026-06-01T12:00:00Z')
    const server = await signServerCert(ca, {
      datacenter: 'dc2',
      domain: 'example',
      dnsNames: ['gw.example.com', 'localhost'],
      ipAddresses: ['10.0.0.7', '2001:db8::1', '::ffff:192.0.2.1'],
      now,
    })
    const cert = new X509Certificate(server.certPem)
    const caCert = new X509Certificate(ca.certPem)
    assert.equal(cert.subject, 'CN=server.dc2.example')
    assert.equal(cert.issuer, caCert.subject)
    assert.equal(cert.ca, false)
    assert.equal(
      cert.subjectAltName,
      'DNS:server.dc2.example, DNS:localhost, DNS:gw.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201',
    )
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    assert.equal(new Date(cert.validFrom).toISOString(), '2026-06-01T11:59:00.000Z')
    assert.equal(new Date(cert.validTo).toISOString(), '2028-05-31T12:00:00.000Z')
    assert.ok(cert.checkIssued(caCert))
    assert.ok(cert.verify(caCert.publicKey))
    assert.ok(!cert.verify(new X509Certificate((await createCA()).certPem).publicKey))
    assert.ok(cert.checkPrivateKey(createPrivateKey(server.keyPem)))
    assert.match(server.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/)
    const {extensions, issuer} = anatomy(server.certPem)
    assert.equal(issuer, anatomy(ca.certPem).subject, 'the issuer is the CA subject byte for byte')
    const caKeyId = anatomy(ca.certPem).extensions.find((extension) => extension.oid === SKI)!.value
    assert.equal(hex(extensions.find((extension) => extension.oid === AKI)!.value), hex(der.sequence(der.implicit(0, caKeyId))))
  })

  it('refuses an unreadable CA or a CA key Consul cannot use, and addresses that are not IPs, with one readable error', async () => {
    await assert.rejects(
      signServerCert({certPem: 'x', keyPem: ca.keyPem}, {datacenter: 'dc1'}),
      /The CA certificate is not a readable PEM certificate/,
    )
    await assert.rejects(signServerCert({certPem: ca.certPem, keyPem: 'x'}, {datacenter: 'dc1'}), /The CA key is not a readable PEM private key/)
    const p384 = generateKeyPairSync('ec', {namedCurve: 'P-384'}).privateKey.export({type: 'sec1', format: 'pem'}).toString()
    await assert.rejects(
      signServerCert({certPem: ca.certPem, keyPem: p384}, {datacenter: 'dc1'}),
      /The CA key is ec secp384r1; Consul needs an EC P-256 CA key/,
    )
    await assert.rejects(
      signServerCert(ca, {datacenter: 'dc1', ipAddresses: ['10.0.0']}),
      (error) => error instanceof UserError && /not an IP address/.test(error.message),
    )
    await assert.rejects(signServerCert(ca, {datacenter: 'dc1', ipAddresses: ['fe80::1%eth0']}), UserError)
  })

  it('encodes IP addresses as their 4 or 16 bytes', () => {
    assert.equal(hex(ipAddressBytes('10.0.0.255')), '0a0000ff')
    assert.equal(hex(ipAddressBytes('::')), '0'.repeat(32))
    assert.equal(hex(ipAddressBytes('::1')), '0'.repeat(31) + '1')
    assert.equal(hex(ipAddressBytes('1::')), '0001' + '0'.repeat(28))
    assert.equal(hex(ipAddressBytes('2001:DB8:0:1:2:3:4:5')), '20010db8000000010002000300040005')
    assert.equal(hex(ipAddressBytes('fe80::a:b')), 'fe80' + '0'.repeat(20) + '000a000b')
    assert.equal(hex(ipAddressBytes('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201')
    assert.equal(hex(ipAddressBytes('64:ff9b::1.2.3.4')), '0064ff9b000000000000000001020304')
  })
})

describe('the same certificates @peculiar/x509 made (fixtures written by the library consulk8s used before)', () => {
  it('CA: same fields, tags, names, algorithms, extensions (order, criticality, values), lifetime', async () => {
    const before = fixture('peculiar-ca.pem')
    assert.deepEqual(stableParts(ca.certPem), stableParts(before))
    const lifetime = (pem: string) => Date.parse(new X509Certificate(pem).validTo) - Date.parse(new X509Certificate(pem).validFrom)
    assert.equal(lifetime(ca.certPem), lifetime(before))
    const serial = anatomy(ca.certPem).serial
    // Positive and minimal: 16 random bytes less a leading zero byte, a zero byte only before a set top bit.
    assert.ok(serial.length >= 8 && serial.length <= 16 && serial[0] < 0x80 && (serial[0] !== 0 || serial[1] >= 0x80), hex(serial))
  })

  it('server: the same for the same options, SAN bytes included', async () => {
    const before = fixture('peculiar-server.pem')
    const server = await signServerCert(ca, {
      datacenter: 'dc2',
      domain: 'consul',
      dnsNames: ['mesh-gateway.example.com'],
      ipAddresses: ['10.0.0.7', '2001:db8::1'],
    })
    assert.deepEqual(stableParts(server.certPem), stableParts(before))
    const lifetime = (pem: string) => Date.parse(new X509Certificate(pem).validTo) - Date.parse(new X509Certificate(pem).validFrom)
    assert.equal(lifetime(server.certPem), lifetime(before))
  })
})

describe('the federation CA and server certificates, checked with openssl', () => {
  it('CA: self-signed EC P-256 with the consul-k8s extensions, verified', needsOpenssl, () => {
    const text = openssl('x509', '-in', join(dir, 'ca.pem'), '-noout', '-text')
    assert.match(text, /Version: 3 \(0x2\)/)
    assert.match(text, /Public Key Algorithm: id-ecPublicKey/)
    assert.match(text, /(ASN1 OID: prime256v1|NIST CURVE: P-256)/)
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/)
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE\n/)
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/)
    assert.match(text, /Subject: CN\s?=\s?Consul Agent CA, O\s?=\s?HashiCorp Inc., C\s?=\s?US/)
    assert.match(text, /Issuer: CN\s?=\s?Consul Agent CA, O\s?=\s?HashiCorp Inc., C\s?=\s?US/)
    const spki = new X509Certificate(ca.certPem).publicKey.export({type: 'spki', format: 'der'})
    const expected = sha256(spki).toString('hex').toUpperCase().match(/../g)!.join(':')
    assert.match(text, new RegExp(`X509v3 Subject Key Identifier: \\n\\s+${expected}\\n`))
    assert.match(text, new RegExp(`X509v3 Authority Key Identifier: \\n\\s+(keyid:)?${expected}\\n`))
    assert.match(openssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'ca.pem')), /OK/)
  })

  it('server: verified against the CA, for server.<dc>.consul, with the usages Consul needs', needsOpenssl, async () => {
    const server = await signServerCert(ca, {datacenter: 'dc2', ipAddresses: ['2001:db8::1']})
    writeFileSync(join(dir, 'server.pem'), server.certPem)
    assert.match(openssl('verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslserver', join(dir, 'server.pem')), /OK/)
    assert.match(openssl('verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslclient', join(dir, 'server.pem')), /OK/)
    const text = openssl('x509', '-in', join(dir, 'server.pem'), '-noout', '-text')
    assert.match(text, /Subject: CN\s?=\s?server\.dc2\.consul\n/)
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE\n/)
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/)
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/)
    assert.match(
      text,
      /X509v3 Subject Alternative Name: \n\s+DNS:server\.dc2\.consul, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:1\n/,
    )
  })

  it('a CA from 2045 (GeneralizedTime notAfter) and its server certificate, verified at a date inside both', needsOpenssl, async () => {
    const later = await createCA({now: new Date('2045-03-04T05:06:07Z')})
    const server = await signServerCert(later, {datacenter: 'dc1', now: new Date('2049-06-01T00:00:00Z'), days: 730})
    writeFileSync(join(dir, 'later-ca.pem'), later.certPem)
    writeFileSync(join(dir, 'later-server.pem'), server.certPem)
    assert.match(openssl('x509', '-in', join(dir, 'later-server.pem'), '-noout', '-enddate'), /notAfter=Jun {2}1 00:00:00 2051 GMT/)
    const atTime = String(Date.parse('2050-06-01T00:00:00Z') / 1000)
    assert.match(openssl('verify', '-attime', atTime, '-CAfile', join(dir, 'later-ca.pem'), join(dir, 'later-server.pem')), /OK/)
  })
})

describe('unusable CA material', () => {
  it('is refused with one readable error', async () => {
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
