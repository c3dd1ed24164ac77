/**
 * One Kubernetes control plane standing for a cluster: etcd, kube-apiserver (TLS, client-cert
 * admin in system:masters, Node+RBAC, service-account keys) and kube-controller-manager
 * (namespaces finish terminating, default ServiceAccounts, Endpoints/EndpointSlices, garbage
 * collection, Deployments -> ReplicaSets -> Pods; without a kubelet pods stay Pending).
 *
 * etcd and kube-apiserver run inside the cluster's test host (a network namespace of this run,
 * see netns.ts): etcd on the namespace's loopback, the API server on all of the namespace's
 * addresses and advertising the namespace's own 10.213.<n>.2, which is what the main kubeconfig
 * names: not loopback (so consulk8s treats it like a real cluster), and not an address of
 * the machine either. The controller manager (and kube-scheduler, kwok) stay in the root
 * namespace and reach the API server at that address. The kind-style https://127.0.0.1:<port>
 * is served by the forwarder (forwarder.mjs, startLocalForwarder).
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ENV_DIR} from './bins.js'
import {get200, type TlsMaterial} from './http.js'
import type {TestHost} from './netns.js'
import {createClusterPki} from './pki.js'
import {freePorts} from './ports.js'
import {aliveGuard, allAlive, startProcess, waitFor} from './procs.js'
import type {KubeClusterInfo} from './types.js'

export interface KubeBins {
  etcd: string
  kubeApiserver: string
  /** Leave empty to run without a controller manager. */
  kubeControllerManager: string
}

/** etcd's ports inside a test host's namespace (its own loopback: nothing else listens there). */
const ETCD_CLIENT_PORT = 2379
const ETCD_PEER_PORT = 2380

export interface StartedCluster {
  info: KubeClusterInfo
  /** Admin credentials (PEM) and the cluster CA, for kubeconfigs. */
  tls: Required<TlsMaterial>
  /** The cluster's directory, its admin kubeconfig (server: the test host's address) and the kubelet serving certificate files. */
  dir: string
  adminKubeconfig: string
  kubeletCertFile: string
  kubeletKeyFile: string
}

// eslint-disable-next-line max-lines-per-function -- one cluster's etcd, kube-apiserver and controllers started in order, each waited for
export async function startKubeCluster(options: {
  workDir: string
  name: string
  testHost: TestHost
  serviceCidr: string
  firstServiceIp: string
  bins: KubeBins
  report: (line: string) => void
}): Promise<StartedCluster> {
  const {workDir, name, testHost, bins, report} = options
  const dir = join(workDir, 'kube', name)
  const pkiDir = join(dir, 'pki')
  mkdirSync(pkiDir, {recursive: true, mode: 0o700})
  // Free in the root namespace too: the forwarder listens there on 127.0.0.1 with the same port.
  const ports = await freePorts({apiserver: {}})
  const pki = await createClusterPki(name, {dns: [], ip: [testHost.address]}, options.firstServiceIp, {dns: [], ip: [testHost.hostAddress]})
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

  const etcdUrl = `http://127.0.0.1:${ETCD_CLIENT_PORT}`
  const etcdPeerUrl = `http://127.0.0.1:${ETCD_PEER_PORT}`
  const etcdName = `etcd-${name}`
  await startProcess(workDir, {
    name: etcdName,
    command: bins.etcd,
    args: [
      `--name=${name}`,
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=${name}=${etcdPeerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    netns: testHost.netns,
    stopTier: 2,
    stopGraceMs: 3000,
  })

  const server = `https://${testHost.address}:${ports.apiserver}`
  const apiName = `kube-apiserver-${name}`
  // Started right away: it waits for etcd itself, and its /readyz covers etcd (which only
  // listens inside the namespace).
  await startProcess(workDir, {
    name: apiName,
    command: bins.kubeApiserver,
    args: [
      `--etcd-servers=${etcdUrl}`,
      // Every address of the namespace: its eth0 and its own loopback.
      '--bind-address=0.0.0.0',
      // The address of the default/kubernetes Endpoints (what consul-k8s's tests use for
      // k8sAuthMethodHost on kind); a loopback address is refused there.
      `--advertise-address=${testHost.address}`,
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
    netns: testHost.netns,
    // Its graceful shutdown drains long-running requests for many seconds; the data is thrown away anyway.
    stopTier: 1,
    stopGraceMs: 2000,
  })
  await waitFor(`kube-apiserver of ${name} at ${server}/readyz (in network namespace ${testHost.netns})`, () => get200(`${server}/readyz`, tls), {
    alive: allAlive(workDir, [etcdName, apiName]),
    report,
    timeoutMs: 120_000,
  })
  report(`etcd and kube-apiserver ${name} ready (${server}, network namespace ${testHost.netns})`)

  writeFileSync(adminKubeconfig, kubeconfigYaml([{name, server, tls}]), {mode: 0o600})
  const info: KubeClusterInfo = {
    context: name,
    server,
    localServer: `https://127.0.0.1:${ports.apiserver}`,
    port: ports.apiserver,
    etcdUrl,
    caCertFile,
    controllerManager: Boolean(bins.kubeControllerManager),
    testHost,
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
      () => get200(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls),
      {alive: aliveGuard(workDir, kcmName), report, timeoutMs: 120_000},
    )
    report(`kube-controller-manager ${name} ready`)
  }
  return {info, tls, dir, adminKubeconfig, kubeletCertFile, kubeletKeyFile}
}

/**
 * The kind-style addresses: 127.0.0.1:<port> in the root namespace, forwarded to each API
 * server in its namespace by one recorded process (forwarder.mjs), started and stopped with
 * the environment. Resolves once every cluster answers /readyz through it.
 */
export async function startLocalForwarder(workDir: string, clusters: StartedCluster[], report: (line: string) => void): Promise<void> {
  const name = 'apiserver-forwarder'
  await startProcess(workDir, {
    name,
    command: process.execPath,
    args: [join(ENV_DIR, 'forwarder.mjs'), ...clusters.map(({info}) => `127.0.0.1:${info.port}=${info.testHost.address}:${info.port}`)],
  })
  for (const {info, tls} of clusters) {
    await waitFor(`the forwarder from ${info.localServer} to ${info.server}`, () => get200(`${info.localServer}/readyz`, tls), {
      alive: aliveGuard(workDir, name),
      report,
    })
  }
  report(`forwarder ready (${clusters.map(({info}) => `${info.localServer} -> ${info.server}`).join(', ')})`)
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
