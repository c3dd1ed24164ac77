/**
 * Kubernetes PKI for one test cluster: its own CA (not the Consul CA; made by createCA with a
 * Kubernetes name), the API server's serving certificate, an admin client certificate in
 * group system:masters, and the service-account signing key pair.
 */
import {generateKeyPairSync} from 'node:crypto'

import {createCA, signCert, type CertificateAuthority, type DistinguishedName} from '../../src/federation/crypto.js'

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

function issue(
  ca: CertificateAuthority,
  subject: DistinguishedName,
  usage: 'server' | 'client',
  sans: {dns?: string[]; ip?: string[]} = {},
): Promise<KeyPair> {
  return signCert(ca, {subject, extKeyUsage: [usage === 'server' ? 'serverAuth' : 'clientAuth'], dnsNames: sans.dns, ipAddresses: sans.ip, days: 365})
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
  const apiserver = await issue(ca, [['CN', 'kube-apiserver']], 'server', {
    dns: [
      ...new Set(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', ...hosts.dns]),
    ],
    ip: [...new Set(['127.0.0.1', firstServiceIp, ...hosts.ip])],
  })
  const admin = await issue(
    ca,
    [
      ['CN', 'consulk8s-testenv-admin'],
      ['O', 'system:masters'],
    ],
    'client',
  )
  const kubelet = await issue(ca, [['CN', 'kwok-node']], 'server', {
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
