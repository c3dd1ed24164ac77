/**
 * `sync --from-release`: the settings the Consul Helm chart gives sync-catalog (its
 * `syncCatalog` values, `global.domain`, the release namespace as write namespace), read
 * from the installed release with `helm get values --all`, turned into sync input the way
 * the chart's sync-catalog Deployment turns them into flags. Explicit flags win; every
 * setting remembers where it came from, for `--dry-run`.
 */
import {Helm} from '../helm/helm.js'
import {getValue, type Values} from '../helm/values.js'
import {UserError} from '../shared/errors.js'
import type {SyncOptions} from './model.js'
import {SETTING_FLAGS, type SyncInput} from './options.js'

export type SettingSource = 'flag' | 'release' | 'default'

/** One row of the settings table (`sync --from-release`; `settings` in the JSON result). */
export interface Setting {
  flag: string
  value: string
  from: string
}

/** The settings the release gives, and what in it consulk8s cannot honour. */
export interface ReleaseSettings {
  release: string
  namespace: string
  input: SyncInput
  /** Values that change sync-catalog's behaviour but have no consulk8s equivalent. */
  notes: string[]
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined)
const list = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.map(String) : undefined)

/**
 * The chart's values (helm get values --all: defaults included) as sync input, mirroring
 * templates/sync-catalog-deployment.yaml of chart 2.0.3: empty strings and nulls are "not
 * passed", k8sSourceNamespace replaces the allow list, the write namespace is the release's.
 */
export function syncInputFromValues(values: Values, namespace: string, release = 'consul'): ReleaseSettings {
  const v = (path: string) => getValue(values, `syncCatalog.${path}`)
  const sourceNamespace = str(v('k8sSourceNamespace'))
  const input: SyncInput = {
    defaultSync: bool(v('default')),
    toConsul: bool(v('toConsul')),
    toK8s: bool(v('toK8S')),
    consulDomain: str(getValue(values, 'global.domain')),
    k8sServicePrefix: str(v('k8sPrefix')),
    allowNamespaces: sourceNamespace ? [sourceNamespace] : list(v('k8sAllowNamespaces')),
    denyNamespaces: list(v('k8sDenyNamespaces')),
    k8sWriteNamespace: namespace,
    syncClusterIPServices: bool(v('syncClusterIPServices')),
    syncLoadBalancerEndpoints: bool(v('syncLoadBalancerEndpoints')),
    nodePortSyncType: str(v('nodePortSyncType')),
    consulK8sTag: str(v('k8sTag')),
    consulNodeName: str(v('consulNodeName')),
    consulServicePrefix: str(v('consulPrefix')),
    addK8sNamespaceSuffix: bool(v('addK8SNamespaceSuffix')),
  }
  for (const key of Object.keys(input) as Array<keyof SyncInput>) if (input[key] === undefined) delete input[key]
  const notes: string[] = []
  if (v('enabled') !== true)
    notes.push('syncCatalog.enabled is not true in this release: sync-catalog does not run there; its settings are used anyway')
  if (getValue(values, 'global.enableConsulNamespaces') === true)
    notes.push(
      'global.enableConsulNamespaces: Consul namespaces (syncCatalog.consulNamespaces) are not supported; services go to the default namespace',
    )
  if (getValue(values, 'global.adminPartitions.enabled') === true) notes.push('global.adminPartitions: pass the partition with CONSUL_PARTITION')
  if (v('ingress.enabled') === true) notes.push('syncCatalog.ingress is not supported: services are registered with their own addresses')
  return {release, namespace, input, notes}
}

/** NAME or NAMESPACE/NAME; an empty spec means "the one Consul release in the cluster". */
export function parseReleaseSpec(spec: string): {namespace?: string; name?: string} {
  const value = spec.trim()
  if (value === '') return {}
  const parts = value.split('/')
  if (parts.length > 2 || parts.some((part) => part === '')) {
    throw new UserError(`--from-release "${spec}" is not NAME or NAMESPACE/NAME.`, {
      hint: 'For example --from-release consul or --from-release consul/consul.',
    })
  }
  return parts.length === 2 ? {namespace: parts[0], name: parts[1]} : {name: parts[0]}
}

/** Find the release (of the consul chart) and read its values with the chart defaults. */
export async function readReleaseSettings(helm: Helm, spec: string): Promise<ReleaseSettings> {
  const wanted = parseReleaseSpec(spec)
  await helm.checkUsable()
  const consulReleases = (await helm.listAll()).filter((r) => r.chartName === 'consul')
  const matches = consulReleases.filter(
    (r) => (wanted.name === undefined || r.name === wanted.name) && (wanted.namespace === undefined || r.namespace === wanted.namespace),
  )
  const describe = (rs: typeof consulReleases) => rs.map((r) => `${r.namespace}/${r.name}`).join(', ')
  if (matches.length === 0) {
    throw new UserError(`No Consul Helm release${wanted.name ? ` "${spec}"` : ''} found in the cluster.`, {
      hint:
        consulReleases.length > 0
          ? `Consul releases there: ${describe(consulReleases)}.`
          : 'Check --context; `consulk8s status` shows the release of a namespace.',
    })
  }
  if (matches.length > 1) {
    throw new UserError(`Several Consul Helm releases match --from-release${spec ? ` "${spec}"` : ''}: ${describe(matches)}.`, {
      hint: 'Name one as NAMESPACE/NAME.',
    })
  }
  const release = matches[0]
  const values = await helm.getValues(release.name, release.namespace, {all: true})
  return syncInputFromValues(values, release.namespace, release.name)
}

export interface MergedInput {
  input: SyncInput
  sources: Partial<Record<keyof SyncInput, SettingSource>>
}

/**
 * Explicit flags over the release's settings. Directions go as a whole: naming any direction
 * on the command line replaces the release's pair (a named direction syncs only the named ones).
 */
export function mergeSyncInput(explicit: SyncInput, release?: SyncInput): MergedInput {
  const input: SyncInput = {}
  const sources: MergedInput['sources'] = {}
  const directionsGiven = explicit.toConsul !== undefined || explicit.toK8s !== undefined
  const keys = new Set([...Object.keys(release ?? {}), ...Object.keys(explicit)] as Array<keyof SyncInput>)
  for (const key of keys) {
    const direction = key === 'toConsul' || key === 'toK8s'
    if (explicit[key] !== undefined) {
      Object.assign(input, {[key]: explicit[key]})
      sources[key] = 'flag'
    } else if (release?.[key] !== undefined && !(direction && directionsGiven)) {
      Object.assign(input, {[key]: release[key]})
      sources[key] = 'release'
    }
  }
  return {input, sources}
}

/** Every setting with its value and where it came from (--from-release). */
export function settingsTable(options: SyncOptions, from: (key: keyof SyncInput) => SettingSource): Setting[] {
  return (Object.keys(SETTING_FLAGS) as Array<keyof SyncInput>).map((key) => {
    const value = options[key]
    return {flag: SETTING_FLAGS[key], value: Array.isArray(value) ? value.join(',') : String(value), from: from(key)}
  })
}
