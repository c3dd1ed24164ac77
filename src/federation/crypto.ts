/**
 * The federation's key material, made the way Consul makes it: an EC P-256 server CA
 * (like `consul tls ca create` and consul-k8s's tls-init; Consul's signer accepts only EC
 * CA keys, which is why node-forge's RSA-only signing does not fit), server certificates
 * signed by it, and the 32-byte gossip key `consul keygen` prints.
 *
 * Certificates are built with @peculiar/x509 on node's WebCrypto; keys are exported as
 * SEC1 PEM (`EC PRIVATE KEY`), the form Consul writes.
 */
import {createHash, createPrivateKey, randomBytes, webcrypto, X509Certificate, type KeyObject} from 'node:crypto'

import {UserError, errorMessage} from '../shared/errors.js'

type X509 = typeof import('@peculiar/x509')
let x509Module: Promise<X509> | undefined
/**
 * @peculiar/x509 and the ASN.1 libraries behind it (~250 files) are loaded only when a
 * certificate is made (start-up time); reading one (inspectCA) uses node:crypto.
 */
function loadX509(): Promise<X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata')
    const x509 = await import('@peculiar/x509')
    x509.cryptoProvider.set(webcrypto as unknown as Crypto)
    return x509
  })()
  return x509Module
}

const EC_ALGORITHM = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'} as const
const DAY_MS = 24 * 60 * 60 * 1000

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

function randomSerial(): string {
  const bytes = randomBytes(16)
  bytes[0] &= 0x7f // positive INTEGER
  return bytes.toString('hex')
}

async function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign', 'verify'])) as CryptoKeyPair
}

async function toSec1Pem(privateKey: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', privateKey))
  return createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'}).export({type: 'sec1', format: 'pem'}).toString()
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  let keyObject: KeyObject
  try {
    keyObject = createPrivateKey(keyPem)
  } catch (error) {
    throw new UserError(`The CA key is not a readable PEM private key: ${errorMessage(error)}`)
  }
  if (keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new UserError(
      `The CA key is ${keyObject.asymmetricKeyType} ${keyObject.asymmetricKeyDetails?.namedCurve ?? ''}; Consul needs an EC P-256 CA key.`.replace(
        /\s+;/,
        ';',
      ),
    )
  }
  const pkcs8 = keyObject.export({type: 'pkcs8', format: 'der'})
  return webcrypto.subtle.importKey('pkcs8', pkcs8, {name: 'ECDSA', namedCurve: 'P-256'}, false, ['sign']) as Promise<CryptoKey>
}

async function subjectKeyId(publicKey: CryptoKey): Promise<string> {
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', publicKey))
  // consul-k8s: subject key id = SHA-256 of the public key.
  return createHash('sha256').update(spki).digest('hex')
}

/** A new self-signed EC P-256 CA, as consul-k8s's tls-init creates it. */
export async function createCA(options: CAOptions = {}): Promise<CertificateAuthority> {
  const x509 = await loadX509()
  const now = options.now ?? new Date()
  const keys = await generateEcKeyPair()
  const name = `CN=${options.commonName ?? 'Consul Agent CA'}, O=HashiCorp Inc., C=US`
  const ski = await subjectKeyId(keys.publicKey)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.days ?? 3650) * DAY_MS),
    signingAlgorithm: EC_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectKeyIdentifierExtension(ski),
      new x509.AuthorityKeyIdentifierExtension(ski),
    ],
  })
  return {certPem: cert.toString('pem') + '\n', keyPem: await toSec1Pem(keys.privateKey)}
}

/** A Consul server certificate (CN server.<dc>.<domain>) signed by the CA. */
export async function signServerCert(ca: CertificateAuthority, options: ServerCertOptions): Promise<{certPem: string; keyPem: string}> {
  const now = options.now ?? new Date()
  const domain = options.domain ?? 'consul'
  const commonName = `server.${options.datacenter}.${domain}`
  const x509 = await loadX509()
  const caCert = new x509.X509Certificate(ca.certPem)
  const signingKey = await importSigningKey(ca.keyPem)
  const keys = await generateEcKeyPair()
  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
  const dnsNames = [...new Set([commonName, 'localhost', ...(options.dnsNames ?? [])])]
  const ipAddresses = [...new Set(['127.0.0.1', '::1', ...(options.ipAddresses ?? [])])]
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.days ?? 730) * DAY_MS),
    signingAlgorithm: EC_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({type: 'dns' as const, value})),
        ...ipAddresses.map((value) => ({type: 'ip' as const, value})),
      ]),
      new x509.SubjectKeyIdentifierExtension(await subjectKeyId(keys.publicKey)),
      ...(caSki ? [new x509.AuthorityKeyIdentifierExtension(caSki)] : []),
    ],
  })
  return {certPem: cert.toString('pem') + '\n', keyPem: await toSec1Pem(keys.privateKey)}
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
  let cert: X509Certificate
  try {
    cert = new X509Certificate(ca.certPem)
  } catch (error) {
    throw new UserError(`The CA certificate is not a readable PEM certificate: ${errorMessage(error)}`)
  }
  if (!cert.ca) throw new UserError(`The certificate "${cert.subject}" is not a CA certificate (basicConstraints CA:false).`)
  let key: KeyObject
  try {
    key = createPrivateKey(ca.keyPem)
  } catch (error) {
    throw new UserError(`The CA key is not a readable PEM private key: ${errorMessage(error)}`)
  }
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
