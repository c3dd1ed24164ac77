/**
 * Kubernetes PKI for one test cluster: its own CA (not the Consul CA; made by createCA with a
 * Kubernetes name), the API server's serving certificate, an admin client certificate in
 * group system:masters, and the service-account signing key pair.
 */
import 'reflect-metadata'

import {createPrivateKey, generateKeyPairSync, randomBytes, webcrypto} from 'node:crypto'
import * as x509 from '@peculiar/x509'

import {createCA, type CertificateAuthority} from '../../src/federation/crypto.js'

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

const EC = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'} as const

export interface KeyPair {
  certPem: string
  keyPem: string
}

export interface ClusterPki {
  ca: CertificateAuthority
  apiserver: KeyPair
  admin: KeyPair
  /** Serving certificate of the simulated node's kubelet endpoint (kwok). */
  kubelet: KeyPair
  serviceAccount: {privateKeyPem: string; publicKeyPem: string}
}

async function issue(
  ca: CertificateAuthority,
  subject: string,
  usage: 'server' | 'client',
  sans: {dns?: string[]; ip?: string[]} = {},
): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem)
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.keyPem).export({type: 'pkcs8', format: 'der'}),
    {name: 'ECDSA', namedCurve: 'P-256'},
    false,
    ['sign'],
  )
  const keys = (await webcrypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign', 'verify'])) as CryptoKeyPair
  const names = [
    ...(sans.dns ?? []).map((value) => ({type: 'dns' as const, value})),
    ...(sans.ip ?? []).map((value) => ({type: 'ip' as const, value})),
  ]
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  })
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  const keyPem = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'}).export({type: 'sec1', format: 'pem'}).toString()
  return {certPem: cert.toString('pem') + '\n', keyPem}
}

/**
 * `hosts` are the names and addresses clients use for the API server (they all go into its
 * certificate's SANs, with localhost, 127.0.0.1, the in-cluster names and the first service
 * IP); `kubeletHosts` those of the simulated node's kubelet endpoint.
 */
export async function createClusterPki(
  cluster: string,
  hosts: {dns: string[]; ip: string[]},
  firstServiceIp: string,
  kubeletHosts: {dns: string[]; ip: string[]} = hosts,
): Promise<ClusterPki> {
  const ca = await createCA({commonName: `${cluster}-kubernetes-ca`})
  const apiserver = await issue(ca, 'CN=kube-apiserver', 'server', {
    dns: [
      ...new Set(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', ...hosts.dns]),
    ],
    ip: [...new Set(['127.0.0.1', firstServiceIp, ...hosts.ip])],
  })
  const admin = await issue(ca, 'CN=consulk8s-testenv-admin, O=system:masters', 'client')
  const kubelet = await issue(ca, 'CN=kwok-node', 'server', {
    dns: ['localhost', ...kubeletHosts.dns],
    ip: [...new Set(['127.0.0.1', ...kubeletHosts.ip])],
  })
  const sa = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
  return {
    ca,
    apiserver,
    admin,
    kubelet,
    serviceAccount: {
      privateKeyPem: sa.privateKey.export({type: 'sec1', format: 'pem'}).toString(),
      publicKeyPem: sa.publicKey.export({type: 'spki', format: 'pem'}).toString(),
    },
  }
}
