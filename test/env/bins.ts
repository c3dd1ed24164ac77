/**
 * The pinned versions (versions.env, shared with build.sh) and the cached binaries built from
 * them; kubectl comes from the machine ($KUBECTL or PATH).
 */
import {accessSync, constants, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {TestEnvState} from './types.js'

export const ENV_DIR = fileURLToPath(new URL('.', import.meta.url))
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export function readVersions(file = join(ENV_DIR, 'versions.env')): Record<string, string> {
  const versions: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(\S+)/.exec(line.trim())
    if (match) versions[match[1]!] = match[2]!
  }
  return versions
}

/** The same cache directory build.sh uses. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONSULK8S_TESTENV_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'consulk8s-testenv')
}

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name)
  }
  return undefined
}

/** Whether the environment runs a simulated node per cluster (kube-scheduler + kwok). */
export const kwokEnabled = (env: NodeJS.ProcessEnv = process.env) => env.CONSULK8S_TESTENV_KWOK === '1'

/** Paths of every binary; throws naming what is missing and how to get it. */
export function resolveBins(env: NodeJS.ProcessEnv = process.env): {bin: TestEnvState['bin']; versions: Record<string, string>} {
  const versions = readVersions()
  const cache = cacheDir(env)
  const cached = (name: string, versionKey: string) => join(cache, `${name}-${versions[versionKey]}`, name)
  const bin: TestEnvState['bin'] = {
    etcd: cached('etcd', 'ETCD_VERSION'),
    kubeApiserver: cached('kube-apiserver', 'KUBERNETES_VERSION'),
    kubeControllerManager: env.CONSULK8S_TESTENV_NO_KCM === '1' ? '' : cached('kube-controller-manager', 'KUBERNETES_VERSION'),
    consul: cached('consul', 'CONSUL_VERSION'),
    helm: cached('helm', 'HELM_VERSION'),
    kubectl: env.KUBECTL ?? onPath('kubectl', env) ?? '',
    kubeScheduler: kwokEnabled(env) ? cached('kube-scheduler', 'KUBERNETES_VERSION') : '',
    kwok: kwokEnabled(env) ? cached('kwok', 'KWOK_VERSION') : '',
  }
  const missing = Object.entries(bin)
    .filter(([key, path]) => key !== 'kubectl' && path && !executable(path))
    .map(([, path]) => path)
  if (missing.length > 0) {
    throw new Error(
      `binaries missing from the cache: ${missing.join(', ')}. Build them with \`npm run testenv:build\` (bash test/env/build.sh; needs Go).`,
    )
  }
  if (!bin.kubectl || !executable(bin.kubectl)) {
    throw new Error('kubectl was not found on PATH (or $KUBECTL). Install it (Debian: apt-get install kubectl / kubernetes-client) or set KUBECTL.')
  }
  return {bin, versions}
}
