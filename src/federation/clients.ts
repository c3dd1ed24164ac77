/**
 * The clients the federate flags name: one Kubernetes client per context, from the
 * kubeconfig the user gave, with its secret store, and a Consul client when an address is given.
 */
import {ConsulClient, consulConfigFrom, type ConsulFlags} from '../consul/client.js'
import {connectCluster, type KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import {KubeSecretStore} from './store.js'

export interface KubeFlagValues {
  kubeconfig?: string
  context?: string
  namespace: string
}

export interface FederationClients {
  cluster?: KubeCluster
  store?: KubeSecretStore
  consul?: ConsulClient
  close(): void
}

/** The Kubernetes client (and secret store) and Consul client the flags ask for. */
export async function federationClients(flags: KubeFlagValues & ConsulFlags, want: {cluster: boolean; consul: boolean}): Promise<FederationClients> {
  const cluster = want.cluster ? await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context}) : undefined
  const consulConfig = want.consul ? consulConfigFrom(flags) : undefined
  if (consulConfig && !consulConfig.token) {
    throw new UserError('A Consul address was given without a token.', {
      hint: 'Pass --consul-token (or CONSUL_HTTP_TOKEN) with a management token of the primary.',
    })
  }
  const consul = consulConfig ? new ConsulClient(consulConfig) : undefined
  return {
    cluster,
    store: cluster ? new KubeSecretStore(cluster, flags.namespace) : undefined,
    consul,
    close: () => consul?.close(),
  }
}
