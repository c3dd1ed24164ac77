/**
 * The federation's key material, made the way Consul makes it: an EC P-256 server CA
 * (like `consul tls ca create` and consul-k8s's tls-init; Consul's signer accepts only EC
 * CA keys, which is why node-forge's RSA-only signing does not fit), server certificates
 * signed by it, and the 32-byte gossip key `consul keygen` prints.
 *
 * Keys come from node:crypto and are exported as SEC1 PEM (`EC PRIVATE KEY`), the form Consul
 * writes. Certificates are X.509 v3 built with the small DER encoder of ./der.ts and signed
 * with node:crypto (ECDSA with SHA-256), so that making a CA loads no ASN.1 library (start-up
 * time, docs/benchmarks.md); reading one uses node's X509Certificate.
 */
import {createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject} from 'node:crypto'
import {isIP} from 'node:net'

import {UserError, errorMessage} from '../shared/errors.js'
import * as der from './der.js'

const DAY_MS = 24 * 60 * 60 * 1000

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  country: '2.5.4.6',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

/** KeyUsage bits (RFC 5280 4.2.1.3). */
const KEY_USAGE = {digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6} as const

export interface CertificateAuthority {
  certPem: string
  keyPem: string
}

export interface CAOptions {
  commonName?: string
  /** Validity in days; consul-k8s uses 10 years. */
  days?: number
  now?: Date
}

export interface ServerCertOptions {
  datacenter: string
  domain?: string
  /** Extra DNS names and IP addresses for the SAN list. */
  dnsNames?: string[]
  ipAddresses?: string[]
  days?: number
  now?: Date
}

/** A distinguished name as its attributes in order, one per RDN: [["CN", "x"], ["O", "y"]]. */
export type DistinguishedName = Array<[attribute: 'CN' | 'O' | 'C', value: string]>

export interface CertOptions {
  subject: DistinguishedName
  extKeyUsage: Array<'serverAuth' | 'clientAuth'>
  dnsNames?: string[]
  ipAddresses?: string[]
  /** Validity in days. */
  days: number
  now?: Date
}

const NAME_OID = {CN: OID.commonName, O: OID.organization, C: OID.country} as const

/** PrintableString when the value fits (as Consul's Go and @peculiar/x509 encode names), else UTF8String. */
function encodeName(name: DistinguishedName): Buffer {
  return der.sequence(
    ...name.map(([attribute, value]) =>
      der.set(
        der.sequence(der.oid(NAME_OID[attribute]), der.isPrintable(value) || attribute === 'C' ? der.printableString(value) : der.utf8String(value)),
      ),
    ),
  )
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value))
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address, for the SAN's iPAddress. */
export function ipAddressBytes(address: string): Buffer {
  const version = isIP(address)
  if (version === 4) return Buffer.from(address.split('.').map(Number))
  if (version !== 6 || address.includes('%'))
    throw new UserError(`"${address}" is not an IP address for a certificate (IPv4 or IPv6 without a zone).`)
  const bytes = Buffer.alloc(16)
  let text = address
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (embedded) text = `${text.slice(0, -embedded[1].length)}0:0`
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const [head, tail] = text.split('::')
  const all =
    tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)]
  all.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2))
  if (embedded) bytes.set(embedded[1].split('.').map(Number), 12)
  return bytes
}

/** Random, positive, 16 bytes (minimal DER drops a leading zero byte, as @peculiar/x509 did). */
function randomSerial(): Buffer {
  const bytes = randomBytes(16)
  bytes[0] &= 0x7f
  return bytes
}

/** A new EC P-256 key: the private key and the public key as DER SubjectPublicKeyInfo. */
function newKeyPair(): {privateKey: KeyObject; spki: Buffer} {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  return {privateKey, spki: publicKey.export({type: 'spki', format: 'der'})}
}

function sec1Pem(privateKey: KeyObject): string {
  return privateKey.export({type: 'sec1', format: 'pem'}).toString()
}

/** consul-k8s: subject key id = SHA-256 of the public key (the DER SubjectPublicKeyInfo). */
function subjectKeyId(spki: Buffer): Buffer {
  return createHash('sha256').update(spki).digest()
}

interface CertificateFields {
  issuer: Buffer
  subject: Buffer
  notBefore: Date
  notAfter: Date
  spki: Buffer
  extensions: Buffer[]
  signingKey: KeyObject
}

/** An X.509 v3 certificate (RFC 5280 4.1) signed with ECDSA/SHA-256, as PEM. */
function makeCertificate(fields: CertificateFields): string {
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSha256))
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(randomSerial()),
    algorithm,
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    fields.subject,
    fields.spki,
    der.explicit(3, der.sequence(...fields.extensions)),
  )
  const certificate = der.sequence(tbs, algorithm, der.bitString(sign('sha256', tbs, fields.signingKey)))
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? []
  return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----', ''].join('\n')
}

function readCACertificate(certPem: string): X509Certificate {
  try {
    return new X509Certificate(certPem)
  } catch (error) {
    throw new UserError(`The CA certificate is not a readable PEM certificate: ${errorMessage(error)}`)
  }
}

function readCAKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey(keyPem)
  } catch (error) {
    throw new UserError(`The CA key is not a readable PEM private key: ${errorMessage(error)}`)
  }
}

/** The issuer's raw subject (copied byte for byte into what it signs) and subject key id. */
function issuerOf(cert: X509Certificate): {subject: Buffer; keyId?: Buffer} {
  const [tbs] = der.readChildren(der.readElement(cert.raw))
  const fields = der.readChildren(tbs)
  const first = fields[0]?.tag === 0xa0 ? 1 : 0 // [0] version
  const subject = fields[first + 4] // after serialNumber, signature, issuer, validity
  const extensions = fields.find((field) => field.tag === 0xa3) // [3] extensions
  const ski = der.oid(OID.subjectKeyIdentifier)
  for (const ext of extensions ? der.readChildren(der.readChildren(extensions)[0]) : []) {
    const parts = der.readChildren(ext)
    if (parts[0].encoded.equals(ski)) return {subject: subject.encoded, keyId: der.readElement(parts[parts.length - 1].contents).contents}
  }
  return {subject: subject.encoded}
}

function readSigningKey(keyPem: string): KeyObject {
  const keyObject = readCAKey(keyPem)
  if (keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new UserError(
      `The CA key is ${keyObject.asymmetricKeyType} ${keyObject.asymmetricKeyDetails?.namedCurve ?? ''}; Consul needs an EC P-256 CA key.`.replace(
        /\s+;/,
        ';',
      ),
    )
  }
  return keyObject
}

/** A new self-signed EC P-256 CA, as consul-k8s's tls-init creates it. */
export async function createCA(options: CAOptions = {}): Promise<CertificateAuthority> {
  const now = options.now ?? new Date()
  const keys = newKeyPair()
  const name = encodeName([
    ['CN', options.commonName ?? 'Consul Agent CA'],
    ['O', 'HashiCorp Inc.'],
    ['C', 'US'],
  ])
  const ski = subjectKeyId(keys.spki)
  const certPem = makeCertificate({
    issuer: name,
    subject: name,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.days ?? 3650) * DAY_MS),
    spki: keys.spki,
    signingKey: keys.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
      extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OID.subjectKeyIdentifier, false, der.octetString(ski)),
      extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, der.octetString(ski)))),
    ],
  })
  return {certPem, keyPem: sec1Pem(keys.privateKey)}
}

/**
 * A leaf certificate (CA:false, digital signature and key encipherment, the given extended
 * key usages and SANs) for a new EC P-256 key, signed by the CA.
 */
export async function signCert(ca: CertificateAuthority, options: CertOptions): Promise<{certPem: string; keyPem: string}> {
  const now = options.now ?? new Date()
  const issuer = issuerOf(readCACertificate(ca.certPem))
  const signingKey = readSigningKey(ca.keyPem)
  const keys = newKeyPair()
  const names = [
    ...(options.dnsNames ?? []).map((name) => der.implicit(2, der.ia5String(name))),
    ...(options.ipAddresses ?? []).map((address) => der.implicit(7, der.octetString(ipAddressBytes(address)))),
  ]
  const certPem = makeCertificate({
    issuer: issuer.subject,
    subject: encodeName(options.subject),
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + options.days * DAY_MS),
    spki: keys.spki,
    signingKey,
    extensions: [
      extension(OID.basicConstraints, true, der.sequence()),
      extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment])),
      extension(OID.extKeyUsage, false, der.sequence(...options.extKeyUsage.map((usage) => der.oid(OID[usage])))),
      ...(names.length > 0 ? [extension(OID.subjectAltName, false, der.sequence(...names))] : []),
      extension(OID.subjectKeyIdentifier, false, der.octetString(subjectKeyId(keys.spki))),
      ...(issuer.keyId ? [extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, der.octetString(issuer.keyId))))] : []),
    ],
  })
  return {certPem, keyPem: sec1Pem(keys.privateKey)}
}

/** A Consul server certificate (CN server.<dc>.<domain>) signed by the CA. */
export async function signServerCert(ca: CertificateAuthority, options: ServerCertOptions): Promise<{certPem: string; keyPem: string}> {
  const commonName = `server.${options.datacenter}.${options.domain ?? 'consul'}`
  return signCert(ca, {
    subject: [['CN', commonName]],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    dnsNames: [...new Set([commonName, 'localhost', ...(options.dnsNames ?? [])])],
    ipAddresses: [...new Set(['127.0.0.1', '::1', ...(options.ipAddresses ?? [])])],
    days: options.days ?? 730,
    now: options.now,
  })
}

export interface CAInspection {
  subject: string
  notBefore: Date
  notAfter: Date
  daysLeft: number
  fingerprint256: string
}

/**
 * Checks that a cert/key pair is a usable Consul CA: parseable, a CA, EC P-256, the key
 * matching the certificate. Throws a UserError naming what is wrong.
 */
export function inspectCA(ca: CertificateAuthority, now = new Date()): CAInspection {
  const cert = readCACertificate(ca.certPem)
  if (!cert.ca) throw new UserError(`The certificate "${cert.subject}" is not a CA certificate (basicConstraints CA:false).`)
  const key = readCAKey(ca.keyPem)
  if (key.asymmetricKeyType !== 'ec') throw new UserError(`The CA key is ${key.asymmetricKeyType}; Consul needs an EC P-256 CA key.`)
  if (!cert.checkPrivateKey(key)) throw new UserError('The CA key does not belong to the CA certificate.')
  const notAfter = new Date(cert.validTo)
  return {
    subject: cert.subject,
    notBefore: new Date(cert.validFrom),
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    fingerprint256: cert.fingerprint256,
  }
}

/** 32 random bytes, standard base64: what `consul keygen` prints. */
export function createGossipKey(): string {
  return randomBytes(32).toString('base64')
}

/** Consul accepts 16, 24 or 32 byte keys (AES-128/192/256), base64 encoded. */
export function validateGossipKey(key: string): void {
  const trimmed = key.trim()
  const decoded = Buffer.from(trimmed, 'base64')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || decoded.toString('base64') !== trimmed || ![16, 24, 32].includes(decoded.length)) {
    throw new UserError('The gossip encryption key is not a base64 encoded 16, 24 or 32 byte key (what `consul keygen` prints).')
  }
}
