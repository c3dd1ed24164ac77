/**
 * Pure planning for the install lifecycle: what a set of user values means (datacenter, TLS,
 * ACLs, federation role), which Kubernetes secrets it relies on, which combinations the chart
 * refuses, and the helm command line. No I/O here: preflight.ts and install.ts do that.
 */
import {UserError} from '../shared/errors.js'
import {chartFullname, chartNames, validateDatacenterName} from '../federation/names.js'
import {getValue, isPlainObject, mergeValues, type Values} from './values.js'

/** The chart's defaults for the keys consulk8s reads, used when the chart's own values.yaml is not at hand. */
export const CHART_DEFAULTS: Values = {
  global: {
    enabled: true,
    name: null,
    datacenter: 'dc1',
    tls: {enabled: false},
    acls: {manageSystemACLs: false},
    gossipEncryption: {autoGenerate: false},
    federation: {enabled: false, createFederationSecret: false},
  },
  server: {enabled: '-', replicas: 1},
  connectInject: {enabled: true},
  meshGateway: {enabled: false},
  syncCatalog: {enabled: false},
}

export type FederationRole = 'none' | 'primary' | 'secondary'

export interface ValuesSummary {
  /** Resource prefix the chart derives (consul.fullname). */
  prefix: string
  datacenter: string
  federation: FederationRole
  primaryDatacenter?: string
  createsFederationSecret: boolean
  tls: boolean
  acls: boolean
  gossipEncryption: 'off' | 'auto-generated' | string
  servers: number
  serverEnabled: boolean
  meshGateway: boolean
  connectInject: boolean
  syncCatalog: boolean
  k8sAuthMethodHost?: string
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true'
}

/** "-" (the chart's "inherit") resolves to global.enabled. */
function enabled(values: Values, path: string): boolean {
  const value = getValue(values, path)
  if (value === '-' || value === undefined || value === null) return truthy(getValue(values, 'global.enabled') ?? true)
  return truthy(value)
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** The effective values: the chart's defaults (its values.yaml when known) under the user's. */
export function effectiveValues(userValues: Values, chartDefaults?: Values): Values {
  return mergeValues(mergeValues(CHART_DEFAULTS, chartDefaults ?? {}), userValues)
}

export function summarizeValues(release: string, userValues: Values, chartDefaults?: Values): ValuesSummary {
  const values = effectiveValues(userValues, chartDefaults)
  const datacenter = text(getValue(values, 'global.datacenter')) ?? 'dc1'
  const federationEnabled = truthy(getValue(values, 'global.federation.enabled'))
  const createsFederationSecret = federationEnabled && truthy(getValue(values, 'global.federation.createFederationSecret'))
  const primaryDatacenter = text(getValue(values, 'global.federation.primaryDatacenter'))
  let federation: FederationRole = 'none'
  if (federationEnabled) {
    federation = !createsFederationSecret && primaryDatacenter && primaryDatacenter !== datacenter ? 'secondary' : 'primary'
  }
  const gossipSecret = text(getValue(values, 'global.gossipEncryption.secretName'))
  const gossipEncryption = truthy(getValue(values, 'global.gossipEncryption.autoGenerate'))
    ? 'auto-generated'
    : gossipSecret
      ? `from secret ${gossipSecret}`
      : 'off'
  const replicas = Number(getValue(values, 'server.replicas') ?? 1)
  return {
    prefix: chartFullname(release, {
      fullnameOverride: text(getValue(values, 'fullnameOverride')),
      globalName: text(getValue(values, 'global.name')),
    }),
    datacenter,
    federation,
    primaryDatacenter: federation === 'secondary' ? primaryDatacenter : federationEnabled ? datacenter : undefined,
    createsFederationSecret,
    tls: truthy(getValue(values, 'global.tls.enabled')),
    acls: truthy(getValue(values, 'global.acls.manageSystemACLs')),
    gossipEncryption,
    servers: Number.isFinite(replicas) ? replicas : 1,
    serverEnabled: enabled(values, 'server.enabled'),
    meshGateway: enabled(values, 'meshGateway.enabled'),
    connectInject: enabled(values, 'connectInject.enabled'),
    syncCatalog: enabled(values, 'syncCatalog.enabled'),
    k8sAuthMethodHost: text(getValue(values, 'global.federation.k8sAuthMethodHost')),
  }
}

export function describeFederation(summary: ValuesSummary): string {
  if (summary.federation === 'none') return 'off'
  if (summary.federation === 'primary') {
    return `primary${summary.createsFederationSecret ? ` (the chart creates secret ${chartNames(summary.prefix).federationSecret})` : ''}`
  }
  return `secondary of ${summary.primaryDatacenter}`
}

const onOff = (value: boolean) => (value ? 'on' : 'off')

/** Label/value rows of the key values, for the summary before confirmation. */
export function summaryRows(summary: ValuesSummary): Array<[string, string]> {
  return [
    ['Datacenter', summary.datacenter],
    ['Federation', describeFederation(summary)],
    ['TLS', onOff(summary.tls)],
    ['ACLs', onOff(summary.acls)],
    ['Gossip encryption', summary.gossipEncryption],
    ['Servers', summary.serverEnabled ? String(summary.servers) : 'disabled'],
    ['Mesh gateway', onOff(summary.meshGateway)],
    ['Connect inject', onOff(summary.connectInject)],
    ['Catalog sync', onOff(summary.syncCatalog)],
  ]
}

export interface SecretReference {
  name: string
  /** Data keys the values read from it. */
  keys: string[]
  /** The value paths that name it. */
  via: string[]
}

const SECRET_REFERENCES: Array<{path: string; optional?: (values: Values) => boolean}> = [
  {path: 'global.tls.caCert'},
  {path: 'global.tls.caKey'},
  {path: 'global.acls.replicationToken'},
  {path: 'global.gossipEncryption', optional: (values) => truthy(getValue(values, 'global.gossipEncryption.autoGenerate'))},
  {path: 'global.enterpriseLicense'},
]

/**
 * Kubernetes secrets the values read and that must exist before the install: the CA, the
 * replication token, the gossip key and server.extraVolumes secrets (the federation secret of
 * a secondary). The bootstrap token is left out: the chart fills an empty one itself.
 */
export function referencedSecrets(userValues: Values): SecretReference[] {
  const found = new Map<string, SecretReference>()
  const add = (name: string, key: string | undefined, via: string) => {
    const entry = found.get(name) ?? {name, keys: [], via: []}
    if (key && !entry.keys.includes(key)) entry.keys.push(key)
    if (!entry.via.includes(via)) entry.via.push(via)
    found.set(name, entry)
  }
  for (const reference of SECRET_REFERENCES) {
    if (reference.optional?.(userValues)) continue
    const name = text(getValue(userValues, `${reference.path}.secretName`))
    if (name) add(name, text(getValue(userValues, `${reference.path}.secretKey`)), reference.path)
  }
  const volumes = getValue(userValues, 'server.extraVolumes')
  if (Array.isArray(volumes)) {
    volumes.forEach((volume, index) => {
      if (!isPlainObject(volume) || volume.type !== 'secret' || !text(volume.name)) return
      const items = Array.isArray(volume.items) ? volume.items : []
      const keys = items.map((item) => (isPlainObject(item) ? text(item.key) : undefined)).filter((key): key is string => Boolean(key))
      if (keys.length === 0) add(String(volume.name), undefined, `server.extraVolumes[${index}]`)
      for (const key of keys) add(String(volume.name), key, `server.extraVolumes[${index}]`)
    })
  }
  return [...found.values()]
}

export interface ValuesCheck {
  errors: UserError[]
  warnings: string[]
}

/** Combinations the chart (or Consul) refuses, found before helm runs; and risky ones. */
export function checkValues(release: string, userValues: Values, chartDefaults?: Values): ValuesCheck {
  const errors: UserError[] = []
  const warnings: string[] = []
  const summary = summarizeValues(release, userValues, chartDefaults)
  try {
    validateDatacenterName(summary.datacenter)
  } catch (error) {
    errors.push(error as UserError)
  }
  if (summary.federation !== 'none') {
    if (!summary.tls) {
      errors.push(
        new UserError('Federation needs TLS: global.federation.enabled is true but global.tls.enabled is not.', {
          hint: 'Set global.tls.enabled: true (the chart refuses federation without TLS).',
        }),
      )
    }
    if (!summary.meshGateway) {
      errors.push(
        new UserError('Federation needs mesh gateways: global.federation.enabled is true but meshGateway.enabled is not.', {
          hint: 'Set meshGateway.enabled: true (the chart refuses federation without mesh gateways).',
        }),
      )
    }
  }
  // In a primary, global.acls.replicationToken is the pre-generated secret ID server-acl-init
  // creates the replication token with (-acl-replication-token-file plus
  // -create-acl-replication-token). Without createReplicationToken, server-acl-init would take
  // the datacenter for a secondary and skip bootstrapping ACLs.
  if (
    summary.federation === 'primary' &&
    summary.acls &&
    text(getValue(userValues, 'global.acls.replicationToken.secretName')) &&
    !truthy(getValue(userValues, 'global.acls.createReplicationToken'))
  ) {
    errors.push(
      new UserError('global.acls.replicationToken is set in the values of a primary datacenter without global.acls.createReplicationToken.', {
        hint: 'Set global.acls.createReplicationToken: true (server-acl-init then bootstraps ACLs and creates the replication token with that secret ID), or set global.federation.primaryDatacenter for a secondary.',
      }),
    )
  }
  if (summary.federation === 'secondary' && summary.acls) {
    if (!summary.k8sAuthMethodHost) {
      warnings.push('global.federation.k8sAuthMethodHost is not set: components of this secondary cannot log in to the primary with ACLs.')
    } else if (/^https?:\/\/(127\.|localhost|\[::1\])/.test(summary.k8sAuthMethodHost)) {
      warnings.push(`global.federation.k8sAuthMethodHost is ${summary.k8sAuthMethodHost}, a loopback address the primary's servers cannot reach.`)
    }
  }
  return {errors, warnings}
}

export interface HelmInstallArgs {
  release: string
  namespace: string
  chartArgs: string[]
  valuesFile: string
  timeout: string
  /** `upgrade --install` (install) or plain `upgrade`. */
  install: boolean
  createNamespace?: boolean
  noHooks?: boolean
  dryRun?: boolean
}

/** The helm command line (without the kube target flags, which Helm adds). */
export function helmUpgradeArgs(args: HelmInstallArgs): string[] {
  return [
    'upgrade',
    ...(args.install ? ['--install'] : []),
    args.release,
    ...args.chartArgs,
    '--namespace',
    args.namespace,
    ...(args.createNamespace ? ['--create-namespace'] : []),
    '--values',
    args.valuesFile,
    // The values file holds everything: the release's old values are not silently reused.
    '--reset-values',
    '--timeout',
    args.timeout,
    ...(args.noHooks ? ['--no-hooks'] : []),
    ...(args.dryRun ? ['--dry-run=server'] : []),
    '--output',
    'json',
  ]
}
