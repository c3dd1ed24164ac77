/**
 * One Kubernetes control plane standing for a cluster: etcd, kube-apiserver (TLS, client-cert
 * admin in system:masters, Node+RBAC, service-account keys) and kube-controller-manager
 * (namespaces finish terminating, default ServiceAccounts, Endpoints/EndpointSlices, garbage
 * collection, Deployments -> ReplicaSets -> Pods; without a kubelet pods stay Pending).
 *
 * The API server listens on every address (client certificates required for anything but
 * the anonymous /version, /healthz, /readyz) so that the main kubeconfig can name it by the
 * machine's own non-loopback address, the way a real cluster is named, while the kind-style
 * kubeconfig names it https://127.0.0.1:<port>.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {networkInterfaces} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {get200, type TlsMaterial} from './http.js'
import {createClusterPki} from './pki.js'
import {freePorts} from './ports.js'
import {aliveGuard, startProcess, waitFor} from './procs.js'
import type {KubeClusterInfo} from './types.js'

export interface KubeBins {
  etcd: string
  kubeApiserver: string
  /** Leave empty to run without a controller manager. */
  kubeControllerManager: string
}

/**
 * The address the main kubeconfig uses for the API servers: $CONSULK8S_TESTENV_HOST, else the
 * machine's first non-loopback IPv4 address, else "localhost" (then consulk8s will rightly
 * treat the clusters as local ones).
 */
export function externalHost(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONSULK8S_TESTENV_HOST) return env.CONSULK8S_TESTENV_HOST
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address
    }
  }
  return 'localhost'
}

const isIp = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')

export interface StartedCluster {
  info: KubeClusterInfo
  /** Admin credentials (PEM) and the cluster CA, for kubeconfigs. */
  tls: Required<TlsMaterial>
  /** The cluster's directory, its admin kubeconfig (server 127.0.0.1) and the kubelet serving certificate files. */
  dir: string
  adminKubeconfig: string
  kubeletCertFile: string
  kubeletKeyFile: string
}

export async function startKubeCluster(options: {
  workDir: string
  name: string
  host: string
  serviceCidr: string
  firstServiceIp: string
  bins: KubeBins
  report: (line: string) => void
}): Promise<StartedCluster> {
  const {workDir, name, host, bins, report} = options
  const dir = join(workDir, 'kube', name)
  const pkiDir = join(dir, 'pki')
  mkdirSync(pkiDir, {recursive: true, mode: 0o700})
  const ports = await freePorts({etcdClient: {}, etcdPeer: {}, apiserver: {}})
  const pki = await createClusterPki(name, isIp(host) ? {dns: [], ip: [host]} : {dns: [host], ip: []}, options.firstServiceIp)
  const file = (base: string, content: string) => {
    const path = join(pkiDir, base)
    writeFileSync(path, content, {mode: 0o600})
    return path
  }
  const caCertFile = file('ca.crt', pki.ca.certPem)
  const caKeyFile = file('ca.key', pki.ca.keyPem)
  const apiCert = file('apiserver.crt', pki.apiserver.certPem)
  const apiKey = file('apiserver.key', pki.apiserver.keyPem)
  const saKey = file('sa.key', pki.serviceAccount.privateKeyPem)
  const saPub = file('sa.pub', pki.serviceAccount.publicKeyPem)
  const kubeletCertFile = file('kubelet.crt', pki.kubelet.certPem)
  const kubeletKeyFile = file('kubelet.key', pki.kubelet.keyPem)
  const tls = {ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem}
  const adminKubeconfig = join(dir, 'admin.kubeconfig')

  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`
  const etcdName = `etcd-${name}`
  await startProcess(workDir, {
    name: etcdName,
    command: bins.etcd,
    args: [
      `--name=${name}`,
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=${name}=http://127.0.0.1:${ports.etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    stopTier: 2,
    stopGraceMs: 3000,
  })
  await waitFor(`etcd of ${name} at ${etcdUrl}`, () => get200(`${etcdUrl}/health`), {alive: aliveGuard(workDir, etcdName), report})
  report(`etcd ${name} ready`)

  const localServer = `https://127.0.0.1:${ports.apiserver}`
  const apiName = `kube-apiserver-${name}`
  await startProcess(workDir, {
    name: apiName,
    command: bins.kubeApiserver,
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${host === 'localhost' ? '127.0.0.1' : '0.0.0.0'}`,
      // The address of the default/kubernetes Endpoints (what consul-k8s's tests use for
      // k8sAuthMethodHost on kind); a loopback address is refused there.
      `--advertise-address=${isIp(host) && !host.startsWith('127.') ? host : '127.0.0.1'}`,
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${apiCert}`,
      `--tls-private-key-file=${apiKey}`,
      `--client-ca-file=${caCertFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-cluster-ip-range=${options.serviceCidr}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      // Pods may be created right after their namespace, before the controller manager made
      // its default ServiceAccount (envtest does the same).
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      '--profiling=false',
      '--v=0',
    ],
    // Its graceful shutdown drains long-running requests for many seconds; the data is thrown away anyway.
    stopTier: 1,
    stopGraceMs: 2000,
  })
  await waitFor(`kube-apiserver of ${name} at ${localServer}/readyz`, () => get200(`${localServer}/readyz`, tls), {
    alive: aliveGuard(workDir, apiName),
    report,
    timeoutMs: 120_000,
  })
  report(`kube-apiserver ${name} ready`)

  writeFileSync(adminKubeconfig, kubeconfigYaml([{name, server: localServer, tls}]), {mode: 0o600})
  const info: KubeClusterInfo = {
    context: name,
    server: `https://${host.includes(':') ? `[${host}]` : host}:${ports.apiserver}`,
    localServer,
    port: ports.apiserver,
    etcdUrl,
    caCertFile,
    controllerManager: Boolean(bins.kubeControllerManager),
  }

  if (bins.kubeControllerManager) {
    const kcmName = `kube-controller-manager-${name}`
    await startProcess(workDir, {
      name: kcmName,
      command: bins.kubeControllerManager,
      args: [
        `--kubeconfig=${adminKubeconfig}`,
        '--leader-elect=false',
        '--secure-port=0',
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${caCertFile}`,
        `--cluster-signing-cert-file=${caCertFile}`,
        `--cluster-signing-key-file=${caKeyFile}`,
        '--use-service-account-credentials=false',
        `--service-cluster-ip-range=${options.serviceCidr}`,
        '--v=0',
      ],
    })
    // The default ServiceAccount appears once the controllers run.
    await waitFor(
      `kube-controller-manager of ${name} (the default ServiceAccount)`,
      () => get200(`${localServer}/api/v1/namespaces/default/serviceaccounts/default`, tls),
      {alive: aliveGuard(workDir, kcmName), report, timeoutMs: 120_000},
    )
    report(`kube-controller-manager ${name} ready`)
  }
  return {info, tls, dir, adminKubeconfig, kubeletCertFile, kubeletKeyFile}
}

/** A kubeconfig (YAML) with one context per cluster, named like the cluster, credentials embedded. */
export function kubeconfigYaml(clusters: Array<{name: string; server: string; tls: Required<TlsMaterial>}>): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64')
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': clusters[0]?.name,
    clusters: clusters.map((c) => ({name: c.name, cluster: {server: c.server, 'certificate-authority-data': b64(c.tls.ca)}})),
    users: clusters.map((c) => ({name: `${c.name}-admin`, user: {'client-certificate-data': b64(c.tls.cert), 'client-key-data': b64(c.tls.key)}})),
    contexts: clusters.map((c) => ({name: c.name, context: {cluster: c.name, user: `${c.name}-admin`}})),
  })
}
