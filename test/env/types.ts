/**
 * The contract between the real test environment (test/env/) and the tests. The
 * environment is started once per test run by test/env/with-env.ts, which writes this
 * state as JSON and points CONSULK8S_TESTENV at it; tests read it with getTestEnv()
 * from test/env/index.ts.
 */

export interface KubeClusterInfo {
  /** kube context name in `kubeconfig`: "dc1" or "dc2". */
  context: string
  /** https://<address>:<port> as written in `kubeconfig` (not a loopback name; see below). */
  server: string
  port: number
  etcdUrl: string
}

export interface ConsulDatacenterInfo {
  datacenter: string
  /** https://127.0.0.1:<port> (HTTPS API; CA = `caCertFile`). */
  httpAddr: string
  httpsPort: number
  serfLanPort: number
  serfWanPort: number
  serverPort: number
  dnsPort: number
  /** Node name of the server, e.g. "consul-server-0" style: `<prefix>-server-0`. */
  nodeName: string
  dataDir: string
  configFile: string
}

export interface TestEnvState {
  /** Directory holding everything the environment wrote (configs, logs, pid files). */
  workDir: string
  /** One kubeconfig with contexts dc1 and dc2 (admin credentials). */
  kubeconfig: string
  /** The same, but dc2's server written as https://127.0.0.1:<port>, the way kind writes it. */
  kubeconfigLocalhost: string
  clusters: {dc1: KubeClusterInfo; dc2: KubeClusterInfo}
  consul: {dc1: ConsulDatacenterInfo; dc2: ConsulDatacenterInfo}
  /** Federation material the Consul servers run with, made by consulk8s's own code. */
  federation: {
    caCertFile: string
    caCertPem: string
    caKeyPem: string
    gossipKey: string
    /** initial_management token of dc1 (global-management policy). */
    managementToken: string
    /** Token with the replication policy, created through the ACL API by consulk8s's code. */
    replicationToken: string
  }
  bin: {consul: string; helm: string; kubectl: string; etcd: string; kubeApiserver: string}
  /** Directory of the Consul Helm chart (Chart.yaml, values.yaml, templates/). */
  chartDir: string
}
