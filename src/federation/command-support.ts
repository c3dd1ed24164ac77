/**
 * What the federate commands share between flag parsing and the federation modules:
 * building the clients the flags name (one Kubernetes client per context, from the
 * kubeconfig the user gave; a Consul client when an address is given) and reading an input
 * file or stdin. No oclif and no terminal here (the asker is src/ui/choices-prompt.ts).
 */
import {readFile} from 'node:fs/promises'

import {ConsulClient, consulConfigFrom, type ConsulFlags} from '../consul/client.js'
import {connectCluster, type KubeCluster} from '../kube/client.js'
import {readStdinText} from '../shared/stdin.js'
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

/** The text of a file, or of stdin for "-", with one readable error. */
export async function readInput(path: string): Promise<string> {
  if (path === '-') {
    return readStdinText({
      message: 'Reading the federation secret from stdin, but stdin is a terminal.',
      hint: 'Pipe the file in (… | consulk8s federate import -f -) or pass -f <file>.',
    })
  }
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      hint: 'Pass the file `consulk8s federate export --output-file <file>` wrote.',
    })
  }
}
