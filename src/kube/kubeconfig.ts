/**
 * Reading kubeconfig files without the Kubernetes client (which costs ~0.6 s to load):
 * which file(s) are in force, which contexts they hold, and what a context's cluster server
 * is. Follows kubectl: --kubeconfig, else $KUBECONFIG (a path list, first wins on merge),
 * else ~/.kube/config.
 */
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, dirname, join} from 'node:path'
import {parse} from 'yaml'

import {UserError, errorMessage} from '../shared/errors.js'
import {yamlSyntaxError} from '../shared/yaml-error.js'

export interface KubeconfigContext {
  name: string
  cluster: string
  user?: string
  namespace?: string
  server?: string
}

/** A cluster or user entry as written, with the directory of its file (relative paths resolve there). */
export interface KubeconfigEntry {
  name: string
  value: Record<string, unknown>
  dir: string
}

export interface Kubeconfig {
  /** The file(s) read, in precedence order. */
  paths: string[]
  /** Cluster and user entries by name, merged like kubectl (the first file defining a name wins). */
  clusters: Map<string, KubeconfigEntry>
  users: Map<string, KubeconfigEntry>
  currentContext?: string
  contexts: KubeconfigContext[]
}

export function kubeconfigPaths(explicit?: string): string[] {
  if (explicit) return [explicit]
  const fromEnv = process.env.KUBECONFIG
  if (fromEnv) return fromEnv.split(delimiter).filter(Boolean)
  return [join(homedir(), '.kube', 'config')]
}

interface RawKubeconfig {
  'current-context'?: string
  contexts?: Array<{name: string; context?: {cluster?: string; user?: string; namespace?: string}}>
  clusters?: Array<{name: string; cluster?: Record<string, unknown>}>
  users?: Array<{name: string; user?: Record<string, unknown>}>
}

export function readKubeconfig(explicit?: string): Kubeconfig {
  const paths = kubeconfigPaths(explicit)
  const contexts = new Map<string, KubeconfigContext>()
  const clusters = new Map<string, KubeconfigEntry>()
  const users = new Map<string, KubeconfigEntry>()
  let currentContext: string | undefined
  let readAny = false
  for (const path of paths) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      // kubectl tolerates missing files in $KUBECONFIG, but not an explicit --kubeconfig.
      if (explicit) {
        throw new UserError(`Cannot read kubeconfig ${path}: ${errorMessage(error)}`, {
          hint: 'Pass --kubeconfig with the path of a readable kubeconfig file.',
        })
      }
      continue
    }
    let raw: RawKubeconfig
    try {
      raw = (parse(text) ?? {}) as RawKubeconfig
    } catch (error) {
      throw yamlSyntaxError(error, path, {what: 'Kubeconfig'})
    }
    readAny = true
    currentContext ??= raw['current-context'] || undefined
    const dir = dirname(path)
    for (const cluster of raw.clusters ?? [])
      if (!clusters.has(cluster.name)) clusters.set(cluster.name, {name: cluster.name, value: cluster.cluster ?? {}, dir})
    for (const user of raw.users ?? []) if (!users.has(user.name)) users.set(user.name, {name: user.name, value: user.user ?? {}, dir})
    for (const context of raw.contexts ?? []) {
      if (contexts.has(context.name)) continue
      contexts.set(context.name, {
        name: context.name,
        cluster: context.context?.cluster ?? '',
        user: context.context?.user,
        namespace: context.context?.namespace,
      })
    }
  }
  if (!readAny) {
    throw new UserError(`No kubeconfig found (looked at ${paths.join(', ')}).`, {
      hint: 'Pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config.',
    })
  }
  for (const context of contexts.values()) {
    const server = clusters.get(context.cluster)?.value.server
    context.server = typeof server === 'string' ? server : undefined
  }
  return {paths, currentContext, contexts: [...contexts.values()], clusters, users}
}

/** The named context (or the current one), with a message listing the contexts when unknown. */
export function resolveContext(config: Kubeconfig, name?: string): KubeconfigContext {
  const wanted = name ?? config.currentContext
  if (!wanted) {
    throw new UserError(`The kubeconfig (${config.paths.join(', ')}) has no current context.`, {
      hint: `Pass --context with one of: ${listContexts(config)}.`,
    })
  }
  const context = config.contexts.find((candidate) => candidate.name === wanted)
  if (!context) {
    throw new UserError(`Unknown kube context "${wanted}" in ${config.paths.join(', ')}.`, {
      hint: `Available contexts: ${listContexts(config)}.`,
    })
  }
  if (!context.server) {
    throw new UserError(`Kube context "${wanted}" names cluster "${context.cluster}", which has no server in the kubeconfig.`)
  }
  return context
}

function listContexts(config: Kubeconfig): string {
  return config.contexts.length > 0 ? config.contexts.map((context) => context.name).join(', ') : '(none)'
}
