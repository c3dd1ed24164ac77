/**
 * The contract between the real test environment (test/env/) and the tests. The
 * environment is started once per test run by test/env/with-env.ts, which writes this
 * state as JSON and points CONSULK8S_TESTENV at it; tests read it with getTestEnv()
 * from test/env/index.ts.
 */

/**
 * One of the project's own test hosts: a network namespace this run made (ip netns add) in which
 * a cluster's etcd and kube-apiserver run, joined to the root namespace by a veth pair, with
 * addresses from 10.213.<n>.0/30 (see test/env/netns.ts and docs/testing.md).
 */
export interface TestHost {
  /** Network namespace name, ck8s-<run>-<dc>. */
  netns: string
  /** The namespace's address (its eth0), 10.213.<n>.2: where the API server listens and what it advertises. */
  address: string
  /** The root namespace's address towards the namespace, 10.213.<n>.1 (on its `lo`; kwok's kubelet endpoint listens there). */
  hostAddress: string
  /** The root namespace's end of the veth pair, ck8s-<n>-h (no IPv4 address of its own; a /32 route to `address`). */
  hostInterface: string
}

export interface KubeClusterInfo {
  /** kube context name in `kubeconfig`: "dc1" or "dc2". */
  context: string
  /**
   * https://<address>:<port> as written in `kubeconfig`: the address of the cluster's test host,
   * 10.213.<n>.2 (not 127.0.0.1 / localhost, so it reads like a real cluster's server; see
   * docs/testing.md). The API server listens there, inside its network namespace.
   */
  server: string
  /**
   * https://127.0.0.1:<port>, the same server as kind would write it (see `kubeconfigLocalhost`):
   * a TCP forwarder in the root namespace passes it on to `server`.
   */
  localServer: string
  port: number
  /** http://127.0.0.1:2379 inside the test host's namespace (not reachable from the root namespace). */
  etcdUrl: string
  /** PEM file of this cluster's own CA (each cluster has its own). */
  caCertFile: string
  /** Whether a kube-controller-manager runs for this cluster. */
  controllerManager: boolean
  /** The network namespace etcd and kube-apiserver run in. */
  testHost: TestHost
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
  /** The gRPC port with TLS, only with CONSULK8S_TESTENV_CONSUL_GRPC=1 (see test/env/consul.ts). */
  grpcTlsPort?: number
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
    /**
     * Token with the replication policy: the secret ID of the offline bundle's federation secret
     * (and token secret), created in dc1 with that ID as server-acl-init would.
     */
    replicationToken: string
    /** The offline bundle (values.yaml, secrets/) the material comes from. */
    bundleDir: string
  }
  bin: {
    consul: string
    helm: string
    kubectl: string
    etcd: string
    kubeApiserver: string
    kubeControllerManager: string
    /** Empty unless the simulated nodes are on (CONSULK8S_TESTENV_KWOK=1). */
    kubeScheduler: string
    kwok: string
  }
  /** The pinned versions (test/env/versions.env) the binaries were built from. */
  versions: Record<string, string>
  /** Directory of the Consul Helm chart (Chart.yaml, values.yaml, templates/). */
  chartDir: string
  /**
   * With CONSULK8S_TESTENV_KWOK=1: the name of the one simulated (kwok) node in each cluster.
   * Pods get scheduled to it and become Running; exec into pods consul-server-0..2 (container
   * consul) runs locally against that cluster's Consul datacenter. Undefined otherwise.
   */
  simulatedNode?: string
}
