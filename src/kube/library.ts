/**
 * The Kubernetes client library, for the two things the lean transport leaves to it:
 * credential plugins (`exec`, `auth-provider`) and proxies, and `exec` into pods (a
 * WebSocket protocol). Loaded lazily (~0.6 s): only a command that needs one of these pays.
 *
 * The library's own loaders (`loadFromDefault`, `loadFromFile`) refuse merged kubeconfigs
 * whose files share a cluster or user name ("Duplicate cluster"), which is the usual setup
 * with several k3s or kubeadm clusters. So the library gets a kubeconfig of exactly one
 * context, built from consulk8s's own kubectl-style merge, with relative paths resolved
 * against the file each entry came from (as kubectl does).
 */
import {isAbsolute, join} from 'node:path'

import {UserError, errorMessage} from '../shared/errors.js'
import type {Kubeconfig, KubeconfigContext, KubeconfigEntry} from './kubeconfig.js'

export type K8s = typeof import('@kubernetes/client-node')
export type LibraryConfig = InstanceType<K8s['KubeConfig']>

let k8sModule: Promise<K8s> | undefined
export function loadK8s(): Promise<K8s> {
  k8sModule ??= import('@kubernetes/client-node')
  return k8sModule
}

const CLUSTER_PATHS = ['certificate-authority']
const USER_PATHS = ['client-certificate', 'client-key', 'tokenFile']

function resolvePaths(entry: KubeconfigEntry | undefined, keys: string[]): Record<string, unknown> {
  const value: Record<string, unknown> = {...entry?.value}
  if (!entry) return value
  for (const key of keys) {
    const path = value[key]
    if (typeof path === 'string' && path && !isAbsolute(path)) value[key] = join(entry.dir, path)
  }
  const exec = value.exec as {command?: unknown} | undefined
  // kubectl resolves an exec command relative to its file only when it is a path, not a name looked up in PATH.
  if (exec && typeof exec.command === 'string' && exec.command.includes('/') && !isAbsolute(exec.command)) {
    value.exec = {...exec, command: join(entry.dir, exec.command)}
  }
  return value
}

/** One context of the merged kubeconfig as a client-library KubeConfig (current context set). */
export function singleContextKubeconfig(config: Kubeconfig, context: KubeconfigContext) {
  const cluster = config.clusters.get(context.cluster)
  const user = context.user ? config.users.get(context.user) : undefined
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': context.name,
    clusters: [{name: context.cluster, cluster: resolvePaths(cluster, CLUSTER_PATHS)}],
    users: [{name: context.user ?? 'anonymous', user: resolvePaths(user, USER_PATHS)}],
    contexts: [
      {
        name: context.name,
        context: {cluster: context.cluster, user: context.user ?? 'anonymous', ...(context.namespace ? {namespace: context.namespace} : {})},
      },
    ],
  }
}

export async function libraryConfig(config: Kubeconfig, context: KubeconfigContext): Promise<LibraryConfig> {
  const k8s = await loadK8s()
  const library = new k8s.KubeConfig()
  try {
    library.loadFromString(JSON.stringify(singleContextKubeconfig(config, context)))
  } catch (error) {
    throw new UserError(`Cannot use kube context "${context.name}" from ${config.paths.join(', ')}: ${errorMessage(error)}`)
  }
  return library
}
