/**
 * Optional simulated node per cluster (CONSULK8S_TESTENV_KWOK=1): kube-scheduler places pods,
 * kwok (sigs.k8s.io/kwok) plays the kubelet of one fake node so they become Running (Job pods
 * Succeeded), provisions and binds PersistentVolumeClaims (default class kwok-volume), and its
 * ClusterExec runs `kubectl exec` into the Consul server pods (`consul-server-0..2`, container
 * `consul`) as a local command with CONSUL_HTTP_ADDR / CONSUL_CACERT pointing at that cluster's
 * Consul datacenter and `consul` on PATH, the way a command in the real server container
 * reaches its own agent.
 */
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {stringify} from 'yaml'

import {request2xx} from './http.js'
import type {StartedCluster} from './kube.js'
import {freePort} from './ports.js'
import {allAlive, startProcess, waitFor} from './procs.js'

export const KWOK_NODE = 'kwok-node-0'
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node'
/** The stages' storage class (made the default): PersistentVolumeClaims get bound. */
export const KWOK_STORAGE_CLASS = 'kwok-volume'
/** Pods whose `consul` container exec reaches the cluster's Consul datacenter. */
export const SIMULATED_SERVER_PODS = ['consul-server-0', 'consul-server-1', 'consul-server-2']

// eslint-disable-next-line max-lines-per-function -- the simulated node start-up, in the order kwok needs
export async function startSimulatedNode(options: {
  workDir: string
  name: string
  cluster: StartedCluster
  bins: {kwok: string; kubeScheduler: string; consul: string}
  consul: {httpAddr: string; caCertFile: string}
  podCidr: string
  report: (line: string) => void
}): Promise<string> {
  const {workDir, name, cluster, bins, report} = options
  const server = cluster.info.server

  const schedulerName = `kube-scheduler-${name}`
  await startProcess(workDir, {
    name: schedulerName,
    command: bins.kubeScheduler,
    args: [`--kubeconfig=${cluster.adminKubeconfig}`, '--leader-elect=false', '--secure-port=0', '--v=0'],
  })

  // kwok looks the command up on its own PATH; the command then runs with the exec's envs.
  const path = `${dirname(bins.consul)}:${process.env.PATH ?? '/usr/bin:/bin'}`
  const stagesDir = join(dirname(bins.kwok), 'stages')
  const stages = readdirSync(stagesDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => readFileSync(join(stagesDir, file), 'utf8').trim())
  const clusterExec = stringify({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterExec',
    metadata: {name: 'consul-servers'},
    spec: {
      selector: {matchNames: SIMULATED_SERVER_PODS},
      execs: [
        {
          containers: ['consul'],
          local: {
            workDir: cluster.dir,
            envs: [
              {name: 'CONSUL_HTTP_ADDR', value: options.consul.httpAddr},
              {name: 'CONSUL_CACERT', value: options.consul.caCertFile},
              {name: 'PATH', value: path},
            ],
          },
        },
      ],
    },
  })
  const config = join(cluster.dir, 'kwok.yaml')
  writeFileSync(config, [...stages, clusterExec.trim()].join('\n---\n') + '\n', {mode: 0o600})

  // kwok runs in the root namespace (its exec reaches Consul on 127.0.0.1); its kubelet
  // endpoint listens on the root side of the test host's veth pair, where the API server in
  // the namespace reaches it for exec and logs.
  const nodeIp = cluster.info.testHost.hostAddress
  const port = await freePort()
  const kwokName = `kwok-${name}`
  await startProcess(workDir, {
    name: kwokName,
    command: bins.kwok,
    args: [
      `--kubeconfig=${cluster.adminKubeconfig}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      `--node-ip=${nodeIp}`,
      `--node-port=${port}`,
      `--server-address=${nodeIp}:${port}`,
      `--tls-cert-file=${cluster.kubeletCertFile}`,
      `--tls-private-key-file=${cluster.kubeletKeyFile}`,
      `--cidr=${options.podCidr}`,
      `--config=${config}`,
    ],
    env: {PATH: path},
  })

  await request2xx('POST', `${server}/api/v1/nodes`, cluster.tls, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: KWOK_NODE,
      annotations: {[KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0'},
      labels: {'kubernetes.io/hostname': KWOK_NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok'},
    },
  })
  // kwok's volume stages provision and bind PersistentVolumes of this (default) class.
  await request2xx('POST', `${server}/apis/storage.k8s.io/v1/storageclasses`, cluster.tls, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name: KWOK_STORAGE_CLASS, annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}},
    provisioner: 'kwok.x-k8s.io/volume',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
  })
  await waitFor(
    `simulated node ${KWOK_NODE} of ${name} to be Ready`,
    async () => {
      const node = JSON.parse(await request2xx('GET', `${server}/api/v1/nodes/${KWOK_NODE}`, cluster.tls)) as {
        status?: {conditions?: Array<{type: string; status: string}>}
      }
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined
    },
    {alive: allAlive(workDir, [kwokName, schedulerName]), report, timeoutMs: 60_000},
  )
  report(`kwok node ${KWOK_NODE} of ${name} ready`)
  return KWOK_NODE
}
