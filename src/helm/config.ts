/**
 * `consulk8s config read`: the release's effective values (`helm get values --all`: the chart's
 * defaults with the user's values on top), as `consul-k8s config read` prints them, with secret
 * material hidden: values under keys that name a token, password, licence or key, and the same
 * inside JSON strings such as server.extraConfig (an `encrypt` gossip key, ACL tokens).
 */
import type {KubeCluster} from '../kube/client.js'
import {isSensitivePath} from './diff.js'
import {Helm, helmBinary} from './helm.js'
import {locateRelease, type LocateOptions} from './status.js'
import {isPlainObject, type Values} from './values.js'

export const HIDDEN = '(hidden)'

/** Keys inside JSON agent configuration (extraConfig) that hold secrets. */
const SENSITIVE_CONFIG_KEY = /^(encrypt|.*tokens?|.*password|.*_key|.*license)$/i

function redactJsonText(text: string): string | undefined {
  const trimmed = text.trim()
  if (!trimmed.startsWith('{')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch {
    return undefined
  }
  let changed = false
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk)
    if (!isPlainObject(value)) return value
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => {
        if (SENSITIVE_CONFIG_KEY.test(key) && (typeof child === 'string' || typeof child === 'object') && child !== null && child !== '') {
          changed = true
          return [key, HIDDEN]
        }
        return [key, walk(child)]
      }),
    )
  }
  const redacted = walk(parsed)
  return changed ? JSON.stringify(redacted) : undefined
}

/** A copy of the values with every secret hidden; the paths hidden are returned too. */
export function redactValues(values: Values): {values: Values; hidden: string[]} {
  const hidden: string[] = []
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((child, index) => walk(child, `${path}[${index}]`))
    if (isPlainObject(value))
      return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, walk(child, path ? `${path}.${key}` : key)]))
    if (typeof value !== 'string' || value === '') return value
    if (isSensitivePath(path)) {
      hidden.push(path)
      return HIDDEN
    }
    const json = redactJsonText(value)
    if (json !== undefined) {
      hidden.push(path)
      return json
    }
    return value
  }
  return {values: walk(values, '') as Values, hidden}
}

export interface ConfigReadResult {
  context: string
  namespace: string
  release: string
  chart: string
  status: string
  revision: number
  /** Paths whose values (or parts of them) were hidden. */
  hidden: string[]
  values: Values
}

export async function readReleaseConfig(cluster: KubeCluster, options: LocateOptions): Promise<ConfigReadResult> {
  const helm = new Helm(helmBinary(options.helmBinary), {kubeconfig: options.kubeconfig, context: cluster.name})
  await helm.checkUsable()
  const info = await locateRelease(helm, cluster, options)
  const {values, hidden} = redactValues(await helm.getValues(info.name, info.namespace, {all: true}))
  return {
    context: cluster.name,
    namespace: info.namespace,
    release: info.name,
    chart: info.chart,
    status: info.status,
    revision: info.revision,
    hidden,
    values,
  }
}
