/**
 * `federate primary`: the CA, gossip key and federation secret of the primary datacenter and
 * its Helm values. Three phases: read what exists (secrets, gateways, token), plan what
 * should exist (pure: planPrimary), then apply. Nothing is written before every check has
 * passed, and existing key material is only replaced with an explicit --rotate/--force.
 */
import {randomUUID} from 'node:crypto'
import {dirname, join} from 'node:path'

import type {ConsulClient} from '../consul/client.js'
import {describeConsulError} from '../consul/client.js'
import {ensureReplicationToken, hasReplicationPolicy, revokeToken} from '../consul/acl.js'
import type {KubeCluster} from '../kube/client.js'
import {namespaceExists} from '../kube/reads.js'
import {UserError, errorMessage} from '../shared/errors.js'
import {displayPath, readOptionalText, writeFileAtomic} from '../shared/files.js'
import type {Choices} from './choices.js'
import {consulk8sInstallCommand, helmInstallCommand} from '../helm/chart.js'
import {createCA, createGossipKey, inspectCA, validateGossipKey, type CertificateAuthority} from './crypto.js'
import {gatewaysFromCatalog, sortGateways, type CatalogGateway, type GatewayDiscovery} from './gateways.js'
import {releaseNames, validateDatacenterName, validateNamespaceName, type ChartNames} from './names.js'
import {assembleFederationData, diffSecretData, parseServerConfig, secretManifest, type FederationData, type SecretData} from './secret.js'
import {DirSecretStore, createNamespace, discoverGateways, manifestYaml, type SecretStore, type StoredSecret} from './store.js'
import {buildPrimaryValues, primaryValuesHeader, renderValues, valuesFileAction} from './values.js'
import {ensureProxyDefaults, proxyDefaultsManifest} from './proxy-defaults.js'
import {defaultLayout, existingPrimaryValues, releaseFacts, type ExistingRelease, type PrimaryLayout} from './existing.js'
import {diffValues} from '../helm/diff.js'
import {CONSULK8S_LABEL, FEDERATION_LABELS} from '../shared/labels.js'
import {pollUntil} from '../shared/poll.js'

export type RotateTarget = 'ca' | 'gossip-key' | 'replication-token'
export const ROTATE_TARGETS: readonly RotateTarget[] = ['ca', 'gossip-key', 'replication-token']

export type StepAction = 'create' | 'update' | 'unchanged' | 'rotate' | 'pending'
export interface Step {
  kind: 'namespace' | 'secret' | 'token' | 'file' | 'proxy-defaults'
  name: string
  action: StepAction
  detail?: string
  /** Extra lines under the step (what it waits for). */
  hints?: string[]
}

export interface PrimaryOptions extends Choices {
  release: string
  namespace: string
  /** Kube context (cluster mode), for messages and the values header. */
  context?: string
  /** --primary-gateway values; empty: discover from the mesh gateway Service. */
  primaryGateways: string[]
  rotate: RotateTarget[]
  force: boolean
  valuesFile: string
}

export interface PrimaryEnv {
  store: SecretStore
  /** Cluster mode; undefined when writing to a directory. */
  cluster?: KubeCluster
  /**
   * The primary's Consul API with a management token (cluster mode only): makes sure the
   * replication token exists there, and tells which secondaries a rotation affects.
   */
  consul?: ConsulClient
  /** The Consul release already installed in the namespace (cluster mode), read with helm. */
  existing?: ExistingRelease
}

/** Everything read before planning. */
export interface PrimaryState {
  /** The release already installed (its values decide names, datacenter, CA, ACLs). */
  existing?: ExistingRelease
  /** What the primary's Consul says of itself (/v1/agent/self), when its API was given. */
  consulAgent?: {datacenter: string; primaryDatacenter?: string}
  namespaceExists: boolean
  caCert?: StoredSecret
  caKey?: StoredSecret
  gossip?: StoredSecret
  federation?: StoredSecret
  /** The replication token secret (<prefix>-acl-replication-acl-token, key `token`). */
  tokenSecret?: StoredSecret
  gateways: GatewayDiscovery
  valuesText?: string
  /** Offline: the ProxyDefaults manifest file of the bundle, and its current text. */
  proxyDefaultsFile?: {path: string; text?: string}
  /** The datacenters the primary's Consul knows (its own included); undefined without Consul. */
  consulDatacenters?: string[]
  /** Read from a directory (--output-dir), not a cluster. */
  offline?: boolean
}

/**
 * Where the replication token's secret ID comes from: the token secret (what server-acl-init
 * reads), restored from the federation secret, or generated now (a random UUID v4).
 */
export type TokenSource = 'token-secret' | 'federation-secret' | 'generated' | 'none'

export interface PrimaryPlan {
  names: ChartNames
  layout: PrimaryLayout
  steps: Step[]
  ca: CertificateAuthority
  gossipKey?: string
  token: {source: TokenSource; value?: string; action?: StepAction; previous?: string}
  gateways?: string[]
  /** Why the federation secret cannot be written yet (empty when it can). */
  pending: string[]
  /** The federation data to write, when complete and the token is known now. */
  federation?: FederationData
  federationAction: StepAction
  /** Steps that replace existing material and need confirmation. */
  destructive: string[]
  valuesText: string
  /** Offline: the ProxyDefaults manifest to write into the bundle. */
  proxyDefaultsFile?: {path: string; text: string}
  warnings: string[]
}

export function validatePrimaryOptions(options: PrimaryOptions): void {
  validateDatacenterName(options.datacenter)
  validateNamespaceName(options.namespace)
  releaseNames(options.release)
  options.primaryGateways = sortGateways(options.primaryGateways)
}

/**
 * Names and keys of the primary's material: the existing release's (its fullname, the CA and
 * gossip secrets its values name or its chart made), else those of a release consulk8s
 * installs (global.name = release).
 */
export function primaryLayout(options: Pick<PrimaryOptions, 'release'>, existing?: ExistingRelease): PrimaryLayout {
  const layout = existing ? releaseFacts(existing).layout : defaultLayout(releaseNames(options.release))
  return {
    ...layout,
    names: {
      ...layout.names,
      caCertSecret: layout.caCert.secretName,
      caKeySecret: layout.caKey.secretName,
      gossipSecret: layout.gossip.secretName,
      replicationTokenSecret: layout.token.secretName,
    },
  }
}

/** X509Certificate subjects come one attribute a line. */
function oneLine(subject: string): string {
  return subject.split('\n').join(', ')
}

function secretKeyOf(secret: StoredSecret | undefined, key: string): string | undefined {
  const value = secret?.data[key]
  return value?.trim() ? value : undefined
}

function describeSecretProblem(secret: StoredSecret, problem: string, fix: string): UserError {
  return new UserError(`Secret ${secret.name} ${problem}.`, {hint: fix})
}

/** The CA to use: rotated, existing (CA secrets), restored from the federation secret, or new. */
async function chooseCA(
  options: PrimaryOptions,
  state: PrimaryState,
  layout: PrimaryLayout,
  steps: Step[],
  destructive: string[],
): Promise<CertificateAuthority> {
  const {names} = layout
  const certPem = secretKeyOf(state.caCert, layout.caCert.secretKey)
  const keyPem = secretKeyOf(state.caKey, layout.caKey.secretKey)
  const rotate = options.rotate.includes('ca')
  const rotateHint = 'Re-run with --rotate ca to replace it with a new CA (servers then need new certificates).'
  let ca: CertificateAuthority | undefined
  let from = ''
  if (!rotate) {
    if (state.caCert && !certPem) throw describeSecretProblem(state.caCert, `exists but has no key ${layout.caCert.secretKey}`, rotateHint)
    if (state.caKey && !keyPem) throw describeSecretProblem(state.caKey, `exists but has no key ${layout.caKey.secretKey}`, rotateHint)
    if (certPem && keyPem) {
      ca = {certPem, keyPem}
    } else if (certPem || keyPem) {
      const [present, absent] = certPem ? [names.caCertSecret, names.caKeySecret] : [names.caKeySecret, names.caCertSecret]
      throw new UserError(`Secret ${present} exists but ${absent} does not; the CA is incomplete.`, {
        hint: `Restore ${absent}, or ${rotateHint.charAt(0).toLowerCase()}${rotateHint.slice(1)}`,
      })
    } else if (secretKeyOf(state.federation, 'caCert') && secretKeyOf(state.federation, 'caKey')) {
      ca = {certPem: state.federation!.data.caCert, keyPem: state.federation!.data.caKey}
      from = ` from the existing ${names.federationSecret}`
    }
  }
  if (ca) {
    let inspection
    try {
      inspection = inspectCA(ca)
    } catch (error) {
      throw new UserError(`The existing CA${from || ` in ${names.caCertSecret}/${names.caKeySecret}`} is not usable: ${errorMessage(error)}`, {
        hint: rotateHint,
      })
    }
    const detail = `${oneLine(inspection.subject)}, ${inspection.fingerprint256.slice(0, 23)}…, ${inspection.daysLeft} days left`
    const action: StepAction = from ? 'create' : 'unchanged'
    steps.push({kind: 'secret', name: names.caCertSecret, action, detail: from ? `CA certificate${from}` : `existing CA reused (${detail})`})
    steps.push({kind: 'secret', name: names.caKeySecret, action, detail: from ? `CA key${from}` : 'existing CA key reused'})
    if (inspection.daysLeft < 30)
      steps.push({
        kind: 'secret',
        name: names.caCertSecret,
        action: 'pending',
        detail: `the CA expires in ${inspection.daysLeft} days; plan a rotation (--rotate ca)`,
      })
    return ca
  }
  if (state.existing && releaseFacts(state.existing).tls && !rotate) {
    throw new UserError(
      `Release ${state.existing.release} runs with TLS, but its CA (${names.caCertSecret}/${names.caKeySecret}) was not found in namespace ${state.existing.namespace}.`,
      {
        hint: 'consulk8s never makes a second CA for a release that has one: restore those secrets, or re-run with --rotate ca to replace the CA on purpose.',
      },
    )
  }
  const fresh = await createCA()
  const inspection = inspectCA(fresh)
  const action: StepAction = rotate && (state.caCert || state.caKey) ? 'rotate' : 'create'
  if (action === 'rotate')
    destructive.push(`replace the CA in ${names.caCertSecret}/${names.caKeySecret} (every server and secondary must then use the new CA)`)
  steps.push({
    kind: 'secret',
    name: names.caCertSecret,
    action,
    detail: `new EC P-256 CA (${oneLine(inspection.subject)}, ${inspection.fingerprint256.slice(0, 23)}…)`,
  })
  steps.push({kind: 'secret', name: names.caKeySecret, action, detail: 'its private key'})
  return fresh
}

function chooseGossipKey(
  options: PrimaryOptions,
  state: PrimaryState,
  layout: PrimaryLayout,
  steps: Step[],
  destructive: string[],
): string | undefined {
  if (!options.gossip) return undefined
  const {names} = layout
  const rotate = options.rotate.includes('gossip-key')
  const existing = secretKeyOf(state.gossip, layout.gossip.secretKey)
  if (!rotate) {
    if (state.gossip && !existing)
      throw describeSecretProblem(
        state.gossip,
        `exists but has no key "${layout.gossip.secretKey}"`,
        'Re-run with --rotate gossip-key to write a new gossip key into it.',
      )
    if (existing) {
      try {
        validateGossipKey(existing)
      } catch (error) {
        throw new UserError(`Secret ${names.gossipSecret}: ${errorMessage(error)}`, {hint: 'Re-run with --rotate gossip-key to replace it.'})
      }
      steps.push({kind: 'secret', name: names.gossipSecret, action: 'unchanged', detail: 'existing gossip key reused'})
      return existing.trim()
    }
    const fromFederation = secretKeyOf(state.federation, 'gossipEncryptionKey')
    if (fromFederation) {
      steps.push({kind: 'secret', name: names.gossipSecret, action: 'create', detail: `gossip key from the existing ${names.federationSecret}`})
      return fromFederation
    }
  }
  const action: StepAction = rotate && state.gossip ? 'rotate' : 'create'
  if (action === 'rotate') destructive.push(`replace the gossip key in ${names.gossipSecret} (all agents of every datacenter must switch together)`)
  steps.push({kind: 'secret', name: names.gossipSecret, action, detail: 'new 32-byte gossip encryption key'})
  return createGossipKey()
}

/**
 * The replication token's secret ID. consulk8s chooses it (a UUID v4) and keeps it in the token
 * secret; the chart's server-acl-init creates the token in Consul with that ID. A rerun keeps
 * it; --rotate replication-token replaces it (and the federation secret follows).
 */
function chooseToken(
  options: PrimaryOptions,
  state: PrimaryState,
  layout: PrimaryLayout,
  steps: Step[],
  destructive: string[],
  warnings: string[],
): PrimaryPlan['token'] {
  if (!options.acls) return {source: 'none'}
  const {names} = layout
  const stored = secretKeyOf(state.tokenSecret, layout.token.secretKey)?.trim()
  const fromFederation = secretKeyOf(state.federation, 'replicationToken')?.trim()
  if (state.tokenSecret && !stored && !options.rotate.includes('replication-token')) {
    throw describeSecretProblem(
      state.tokenSecret,
      `exists but has no key "${layout.token.secretKey}"`,
      'Re-run with --rotate replication-token to write a new replication token into it.',
    )
  }
  if (options.rotate.includes('replication-token')) {
    const previous = stored ?? fromFederation
    const value = randomUUID()
    const action: StepAction = previous ? 'rotate' : 'create'
    if (previous) {
      const secondaries = state.consulDatacenters?.filter((dc) => dc !== options.datacenter)
      if (secondaries === undefined) {
        destructive.push(
          `replace the replication token in ${names.replicationTokenSecret} and ${names.federationSecret}; every secondary must re-import ${names.federationSecret}. The old token is NOT revoked: without the primary's Consul API consulk8s cannot tell which secondaries still use it`,
        )
        warnings.push(
          `The old replication token stays valid in Consul. Once every secondary has re-imported ${names.federationSecret} and restarted its servers, delete it there (consul acl token delete), or re-run the rotation with --consul-http-addr and --consul-token to have it revoked.`,
        )
      } else {
        const which =
          secondaries.length > 0
            ? `secondaries ${secondaries.join(', ')} replicate with the old token and must re-import ${names.federationSecret}`
            : 'no secondary is federated yet'
        destructive.push(
          `replace the replication token in ${names.replicationTokenSecret} and ${names.federationSecret} and revoke the old one in Consul (${which})`,
        )
      }
    }
    steps.push({kind: 'token', name: 'replication token', action, detail: `new secret ID (UUID v4) in ${names.replicationTokenSecret}`})
    return {source: 'generated', value, action, previous: previous !== value ? previous : undefined}
  }
  if (stored) {
    steps.push({kind: 'token', name: 'replication token', action: 'unchanged', detail: `from secret ${names.replicationTokenSecret}`})
    return {source: 'token-secret', value: stored, action: 'unchanged'}
  }
  if (fromFederation) {
    steps.push({
      kind: 'token',
      name: 'replication token',
      action: 'create',
      detail: `secret ${names.replicationTokenSecret} restored from ${names.federationSecret}`,
    })
    return {source: 'federation-secret', value: fromFederation, action: 'create'}
  }
  steps.push({
    kind: 'token',
    name: 'replication token',
    action: 'create',
    detail: `new secret ID (UUID v4) in ${names.replicationTokenSecret}; server-acl-init creates the token with it`,
  })
  return {source: 'generated', value: randomUUID(), action: 'create'}
}

/** Keys of the federation secret that may change without --force (refreshing gateways). */
const REFRESHABLE: Record<string, RotateTarget | 'always'> = {
  serverConfigJSON: 'always',
  caCert: 'ca',
  caKey: 'ca',
  gossipEncryptionKey: 'gossip-key',
  // The token secret is what server-acl-init and Consul use; the federation secret follows it.
  replicationToken: 'always',
}

/** What a plan step appends to: the steps to report, what needs confirmation, warnings. */
interface PlanLog {
  steps: Step[]
  destructive: string[]
  warnings: string[]
}

/** The primary gateways: flags, else discovered, else kept from the existing secret; `pending` says why there are none yet. */
function chooseGateways(options: PrimaryOptions, state: PrimaryState, names: ChartNames, log: PlanLog): {gateways?: string[]; pending: string[]} {
  if (options.primaryGateways.length > 0) return {gateways: options.primaryGateways, pending: []}
  if (state.gateways.ready) return {gateways: state.gateways.gateways, pending: []}
  const existing = secretKeyOf(state.federation, 'serverConfigJSON')
  let kept: string[] | undefined
  if (existing) {
    try {
      const config = parseServerConfig(existing)
      if (config.primary_datacenter === options.datacenter) kept = config.primary_gateways
    } catch {
      kept = undefined
    }
  }
  if (kept) {
    log.warnings.push(
      `Could not refresh the gateway addresses (${state.gateways.reason}); keeping ${kept.join(', ')} from ${names.federationSecret}.`,
    )
    return {gateways: kept, pending: []}
  }
  // The offline bundle is the whole federation: every key is known now except the gateway
  // addresses, which exist only once the primary's mesh gateway runs. serverConfigJSON gets
  // an empty primary_gateways, which every secondary-side reader refuses with the fix, and
  // `federate primary --context` fills in once the gateway has an address.
  if (state.offline) return {gateways: [], pending: []}
  return {pending: [`the primary mesh gateway address: ${state.gateways.reason}`]}
}

/** The federation secret: created, unchanged, refreshed (keys that may change without --force), or refused. */
function planFederationSecret(
  options: PrimaryOptions,
  state: PrimaryState,
  names: ChartNames,
  wanted: FederationData,
  gateways: string[],
  log: PlanLog,
): StepAction {
  let federationAction: StepAction = 'create'
  if (state.federation) {
    const changed = diffSecretData(state.federation.data, wanted as SecretData)
    const removed = changed.filter((key) => !(key in wanted))
    const replaced = changed.filter((key) => key in state.federation!.data && key in wanted)
    const allowed = (key: string) => REFRESHABLE[key] === 'always' || options.rotate.includes(REFRESHABLE[key] as RotateTarget)
    const conflicts = [...removed, ...replaced.filter((key) => !allowed(key))]
    if (conflicts.length > 0 && !options.force) {
      throw new UserError(
        `Secret ${names.federationSecret} (${state.federation.namespace ?? options.namespace}) already exists with different ${conflicts.join(', ')}; refusing to overwrite.`,
        {
          hint: `It holds other key material than the primary's secrets. Re-run with --force to overwrite it (or --rotate to replace material on purpose).`,
        },
      )
    }
    if (conflicts.length > 0) log.destructive.push(`overwrite ${conflicts.join(', ')} in ${names.federationSecret}`)
    federationAction = changed.length === 0 ? 'unchanged' : 'update'
    if (changed.length > 0) log.steps.push({kind: 'secret', name: names.federationSecret, action: 'update', detail: `changes ${changed.join(', ')}`})
  }
  const gatewaysMissing = gateways.length === 0
  if (federationAction !== 'update') {
    const gatewayDetail = gatewaysMissing ? 'primary_gateways empty until the primary mesh gateway has an address' : `gateways ${gateways.join(', ')}`
    log.steps.push({
      kind: 'secret',
      name: names.federationSecret,
      action: federationAction,
      detail: `keys ${Object.keys(wanted).join(', ')}; ${gatewayDetail}`,
    })
  }
  if (gatewaysMissing) {
    log.warnings.push(
      `${names.federationSecret} has no primary gateways yet (no --primary-gateway given, and with --output-dir there is no cluster to discover them from): a secondary cannot join with it. After the primary's install, run federate primary with --context to fill them in (or give --primary-gateway here).`,
    )
  }
  return federationAction
}

/** The primary's Helm values: the existing release's plus the federation changes (listed), else consulk8s's own. */
function planPrimaryValues(options: PrimaryOptions, state: PrimaryState, names: ChartNames, log: PlanLog): string {
  const header = primaryValuesHeader({
    datacenter: options.datacenter,
    release: options.release,
    namespace: options.namespace,
    context: options.context,
  })
  let valuesText: string
  let valuesDetail = 'Helm values of the primary'
  const valuesHints: string[] = []
  if (state.existing) {
    // The release's values plus the federation changes, and the changes listed (the diff an upgrade applies).
    const values = existingPrimaryValues(state.existing, releaseFacts(state.existing), options)
    valuesText = renderValues(values, [
      header[0],
      `Release ${options.release} exists: these are its values (${state.existing.source}) plus the federation changes; apply them with consulk8s upgrade (it shows the diff) or helm upgrade.`,
    ])
    const changes = diffValues(state.existing.values, values)
    valuesDetail = `the values of release ${options.release} plus ${changes.length} federation ${changes.length === 1 ? 'change' : 'changes'}`
    for (const change of changes)
      valuesHints.push(
        `${change.path}: ${change.kind === 'added' ? `+ ${JSON.stringify(change.after)}` : `${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`}`,
      )
    if (!releaseFacts(state.existing).tls)
      log.warnings.push(
        `Release ${options.release} runs without TLS; federation turns it on with the CA in ${names.caCertSecret}. Follow Consul's "Configuring TLS on an Existing Cluster" when upgrading.`,
      )
  } else {
    valuesText = renderValues(
      buildPrimaryValues({
        release: options.release,
        names,
        datacenter: options.datacenter,
        acls: options.acls,
        gossip: options.gossip,
        meshGatewayServiceType: options.meshGatewayServiceType,
      }),
      header,
    )
  }
  const valuesAction: StepAction = valuesFileAction(state.valuesText, valuesText)
  if (valuesAction === 'update') log.destructive.push(`overwrite ${options.valuesFile}, which has other content`)
  log.steps.push({
    kind: 'file',
    name: options.valuesFile,
    action: valuesAction,
    detail: valuesDetail,
    ...(valuesHints.length > 0 ? {hints: valuesHints} : {}),
  })
  return valuesText
}

/** Offline: the seed's ProxyDefaults step as a manifest of the bundle, applied after the install (it needs the CRD). */
function planProxyDefaultsFile(options: PrimaryOptions, state: PrimaryState, log: PlanLog): PrimaryPlan['proxyDefaultsFile'] {
  if (!state.proxyDefaultsFile) return undefined
  const text = manifestYaml(proxyDefaultsManifest(options.namespace))
  const current = state.proxyDefaultsFile.text
  const action: StepAction = current === undefined ? 'create' : current === text ? 'unchanged' : 'update'
  if (action === 'update') log.destructive.push(`overwrite ${state.proxyDefaultsFile.path}, which has other content`)
  log.steps.push({
    kind: 'file',
    name: state.proxyDefaultsFile.path,
    action,
    detail: 'ProxyDefaults global (meshGateway.mode local), to create after the install',
  })
  return {path: state.proxyDefaultsFile.path, text}
}

/** Pure planning (apart from generating new key material in memory). */
export async function planPrimary(options: PrimaryOptions, state: PrimaryState): Promise<PrimaryPlan> {
  const layout = primaryLayout(options, state.existing)
  const {names} = layout
  const log: PlanLog = {steps: [], destructive: [], warnings: []}
  const {steps, destructive, warnings} = log
  checkConsulAgent(options, state)
  if (!state.namespaceExists) steps.push({kind: 'namespace', name: options.namespace, action: 'create'})
  const ca = await chooseCA(options, state, layout, steps, destructive)
  const gossipKey = chooseGossipKey(options, state, layout, steps, destructive)
  const token = chooseToken(options, state, layout, steps, destructive, warnings)
  const {gateways, pending} = chooseGateways(options, state, names, log)
  let federation: FederationData | undefined
  let federationAction: StepAction = 'pending'
  if (pending.length === 0) {
    federation = assembleFederationData({ca, primaryDatacenter: options.datacenter, gateways: gateways!, replicationToken: token.value, gossipKey})
    federationAction = planFederationSecret(options, state, names, federation, gateways!, log)
  } else {
    steps.push({
      kind: 'secret',
      name: names.federationSecret,
      action: 'pending',
      detail: `needs ${pending.map((reason) => reason.split(':')[0]).join(' and ')}`,
      hints: pending,
    })
  }
  const valuesText = planPrimaryValues(options, state, names, log)
  const proxyDefaultsFile = planProxyDefaultsFile(options, state, log)
  return {
    names,
    layout,
    proxyDefaultsFile,
    steps,
    ca,
    gossipKey,
    token,
    gateways,
    pending,
    federation,
    federationAction,
    destructive,
    valuesText,
    warnings,
  }
}

/** The bundle's ProxyDefaults manifest: beside values.yaml, outside the secrets directory. */
function proxyDefaultsPath(store: DirSecretStore): string {
  return join(dirname(store.dir), 'proxy-defaults.yaml')
}

/** Reads secrets, gateways and the chart's token. Only reads. */
export async function readPrimaryState(options: PrimaryOptions, env: PrimaryEnv): Promise<PrimaryState> {
  const layout = primaryLayout(options, env.existing)
  const {names} = layout
  const [caCert, caKey, gossip, federation, tokenSecret] = [
    await env.store.get(names.caCertSecret),
    await env.store.get(names.caKeySecret),
    await env.store.get(names.gossipSecret),
    await env.store.get(names.federationSecret),
    options.acls ? await env.store.get(names.replicationTokenSecret) : undefined,
  ]
  let gateways: GatewayDiscovery = {ready: false, reason: 'no --primary-gateway given (with --output-dir there is no cluster to discover it from)'}
  let nsExists = true
  let consulAgent: PrimaryState['consulAgent']
  if (env.consul) consulAgent = await readConsulAgent(env.consul)
  if (env.cluster) {
    nsExists = await namespaceExists(env.cluster, options.namespace)
    if (options.primaryGateways.length === 0) {
      // Consul's own view first (what the chart's federation job uses), the Service only without Consul.
      const serviceName = env.existing ? releaseFacts(env.existing).meshGatewayConsulServiceName : 'mesh-gateway'
      gateways = env.consul ? await discoverGatewaysInConsul(env.consul, serviceName) : await discoverGateways(env.cluster, options.namespace, names)
    }
  }
  let consulDatacenters: string[] | undefined
  if (env.consul && options.acls && options.rotate.includes('replication-token')) {
    try {
      consulDatacenters = await env.consul.get<string[]>('/v1/catalog/datacenters')
    } catch (error) {
      throw describeConsulError(error, 'list the federated datacenters')
    }
  }
  return {
    existing: env.existing,
    consulAgent,
    namespaceExists: nsExists,
    caCert,
    caKey,
    gossip,
    federation,
    tokenSecret,
    gateways,
    valuesText: await readOptionalText(options.valuesFile),
    proxyDefaultsFile:
      env.store instanceof DirSecretStore
        ? {path: proxyDefaultsPath(env.store), text: await readOptionalText(proxyDefaultsPath(env.store))}
        : undefined,
    consulDatacenters,
    offline: env.cluster === undefined,
  }
}

/** /v1/agent/self of the primary's Consul: its datacenter and primary_datacenter. */
async function readConsulAgent(consul: ConsulClient): Promise<PrimaryState['consulAgent']> {
  try {
    const self = await consul.get<{Config?: {Datacenter?: string; PrimaryDatacenter?: string}}>('/v1/agent/self')
    return {datacenter: self.Config?.Datacenter ?? '', primaryDatacenter: self.Config?.PrimaryDatacenter || undefined}
  } catch (error) {
    throw describeConsulError(error, 'read /v1/agent/self')
  }
}

/** The Consul given with --consul-http-addr must be this primary: same datacenter, its own primary. */
export function checkConsulAgent(options: Pick<PrimaryOptions, 'datacenter'>, state: Pick<PrimaryState, 'consulAgent'>): void {
  const agent = state.consulAgent
  if (!agent) return
  if (agent.datacenter && agent.datacenter !== options.datacenter) {
    throw new UserError(`The Consul at --consul-http-addr is datacenter "${agent.datacenter}", but the primary is "${options.datacenter}".`, {
      hint: "Point --consul-http-addr at the primary datacenter's Consul, or pass the datacenter it runs (--datacenter).",
    })
  }
  if (agent.primaryDatacenter && agent.primaryDatacenter !== options.datacenter) {
    throw new UserError(
      `The Consul of datacenter "${options.datacenter}" has primary_datacenter "${agent.primaryDatacenter}" (/v1/agent/self): it is a secondary, not the primary.`,
      {
        hint: `Run federate primary against ${agent.primaryDatacenter}'s cluster and Consul.`,
      },
    )
  }
}

/** Checks the Consul API answers with a token allowed to write ACLs, before anything is written. */
export async function checkConsul(consul: ConsulClient): Promise<void> {
  try {
    await consul.get('/v1/acl/token/self')
  } catch (error) {
    throw describeConsulError(error, 'read the ACL token given with --consul-token')
  }
}

/** The mesh gateways' `wan` tagged addresses in the primary's Consul catalog. */
async function discoverGatewaysInConsul(consul: ConsulClient, serviceName: string): Promise<GatewayDiscovery> {
  try {
    return gatewaysFromCatalog(await consul.get<CatalogGateway[]>(`/v1/catalog/service/${encodeURIComponent(serviceName)}`), serviceName)
  } catch (error) {
    throw describeConsulError(error, `read the ${serviceName} service from the catalog`)
  }
}

/**
 * Cluster mode with the primary's Consul: the replication token made there with the planned
 * secret ID and, after a rotation, the old one revoked (the secondaries told first).
 */
async function applyTokenInConsul(
  options: PrimaryOptions,
  consul: ConsulClient,
  plan: PrimaryPlan,
  value: string,
  notice?: (message: string) => void,
): Promise<string[]> {
  const {names} = plan
  const warnings: string[] = []
  // What server-acl-init does on install/upgrade, done now so secondaries can replicate at once.
  try {
    const ensured = await ensureReplicationToken(consul, value, {
      description: `ACL replication token for datacenters federated with ${options.datacenter} (created by consulk8s)`,
    })
    if (ensured.created)
      plan.steps.push({
        kind: 'token',
        name: 'replication token in Consul',
        action: 'create',
        detail: 'created with the secret ID of ' + names.replicationTokenSecret,
      })
    else if (!hasReplicationPolicy(ensured.token))
      warnings.push('The replication token does not carry the acl-replication-token policy; secondaries may fail to replicate ACLs.')
  } catch (error) {
    throw describeConsulError(error, 'create the replication token')
  }
  if (plan.token.previous) {
    // The chart gives the primary's servers the replication token as their agent token too.
    const restartPrimary = `The primary's servers read it at start as their agent token: restart them (kubectl rollout restart statefulset ${names.serverStatefulSet} --context ${options.context ?? '<primary-context>'} --namespace ${options.namespace}).`
    const secondaries = (await consul.get<string[]>('/v1/catalog/datacenters').catch(() => [] as string[])).filter((dc) => dc !== options.datacenter)
    notice?.(
      secondaries.length > 0
        ? `Secondaries ${secondaries.join(', ')} must re-import ${names.federationSecret} (consulk8s federate secondary --context <their context> ...) and restart their servers: the old replication token is revoked now. ${restartPrimary}`
        : `No secondary is federated; the old replication token is revoked now. ${restartPrimary}`,
    )
    try {
      const revoked = await revokeToken(consul, plan.token.previous)
      plan.steps.push({
        kind: 'token',
        name: 'old replication token',
        action: 'update',
        detail: revoked ? 'revoked in Consul' : 'not known to Consul (nothing to revoke)',
      })
    } catch (error) {
      throw describeConsulError(error, 'revoke the old replication token')
    }
  }
  return warnings
}

/** Writes what the plan says, in order: namespace, CA, gossip key, token, federation secret, values. */
export async function applyPrimary(
  options: PrimaryOptions,
  env: PrimaryEnv,
  plan: PrimaryPlan,
  notice?: (message: string) => void,
): Promise<string[]> {
  const {names} = plan
  const warnings: string[] = []
  const stepFor = (name: string) => plan.steps.find((step) => step.name === name && step.action !== 'pending')
  const writes = (name: string) => ['create', 'update', 'rotate'].includes(stepFor(name)?.action ?? '')
  if (env.cluster && plan.steps.some((step) => step.kind === 'namespace' && step.action === 'create'))
    await createNamespace(env.cluster, options.namespace)
  const existing = async (name: string) => env.store.get(name)
  if (writes(names.caCertSecret)) {
    await env.store.put(
      secretManifest({name: names.caCertSecret, labels: {...CONSULK8S_LABEL}, data: {[plan.layout.caCert.secretKey]: plan.ca.certPem}}),
      await existing(names.caCertSecret),
    )
    await env.store.put(
      secretManifest({name: names.caKeySecret, labels: {...CONSULK8S_LABEL}, data: {[plan.layout.caKey.secretKey]: plan.ca.keyPem}}),
      await existing(names.caKeySecret),
    )
  }
  if (plan.gossipKey && writes(names.gossipSecret)) {
    await env.store.put(
      secretManifest({name: names.gossipSecret, labels: {...CONSULK8S_LABEL}, data: {[plan.layout.gossip.secretKey]: plan.gossipKey}}),
      await existing(names.gossipSecret),
    )
  }
  const token = plan.token
  if (token.value && (token.action === 'create' || token.action === 'rotate')) {
    await env.store.put(
      secretManifest({name: names.replicationTokenSecret, labels: {...CONSULK8S_LABEL}, data: {[plan.layout.token.secretKey]: token.value}}),
      await existing(names.replicationTokenSecret),
    )
  }
  if (plan.federation && plan.federationAction !== 'unchanged') {
    await env.store.put(
      secretManifest({name: names.federationSecret, labels: FEDERATION_LABELS, data: plan.federation as SecretData}),
      await existing(names.federationSecret),
    )
  }
  if (token.value && env.consul) warnings.push(...(await applyTokenInConsul(options, env.consul, plan, token.value, notice)))
  if (stepFor(options.valuesFile)?.action !== 'unchanged') await writeFileAtomic(options.valuesFile, plan.valuesText, 0o644)
  if (plan.proxyDefaultsFile && stepFor(plan.proxyDefaultsFile.path)?.action !== 'unchanged')
    await writeFileAtomic(plan.proxyDefaultsFile.path, plan.proxyDefaultsFile.text, 0o644)
  return warnings
}

export interface PrimaryResult {
  mode: 'cluster' | 'directory'
  target: string
  datacenter: string
  acls: boolean
  gossip: boolean
  meshGatewayServiceType: string
  dryRun: boolean
  steps: Step[]
  caFingerprint256: string
  federationSecret: {name: string; status: StepAction; keys: string[]; primaryGateways?: string[]; waitingFor: string[]}
  replicationTokenSource: TokenSource
  valuesFile: string
  warnings: string[]
  next: string[]
}

export interface RunHooks {
  /** Ask before replacing material; throws to abort. */
  confirm(message: string): Promise<void>
  /** Say something at once (before an irreversible step such as revoking a token). */
  notice?(message: string): void
  /** --wait: called with what is still missing, before each new look. */
  onWaiting?(waitingFor: string[]): void
  /** Milliseconds to keep waiting for the gateway address and token (cluster mode). */
  waitMs?: number
  pollMs?: number
  dryRun: boolean
}

function summarize(options: PrimaryOptions, env: PrimaryEnv, plan: PrimaryPlan, dryRun: boolean, warnings: string[]): PrimaryResult {
  const fedStep = plan.steps.find((step) => step.name === plan.names.federationSecret)!
  const result: PrimaryResult = {
    mode: env.cluster ? 'cluster' : 'directory',
    target: env.store.where,
    datacenter: options.datacenter,
    acls: options.acls,
    gossip: options.gossip,
    meshGatewayServiceType: options.meshGatewayServiceType,
    dryRun,
    steps: plan.steps,
    caFingerprint256: inspectCA(plan.ca).fingerprint256,
    federationSecret: {
      name: plan.names.federationSecret,
      status: fedStep.action,
      keys: plan.federation ? Object.keys(plan.federation) : [],
      primaryGateways: plan.gateways,
      waitingFor: plan.pending,
    },
    replicationTokenSource: plan.token.source,
    valuesFile: options.valuesFile,
    warnings: [...plan.warnings, ...warnings],
    next: [],
  }
  result.next = primaryNextSteps(options, env, result)
  return result
}

/** What the operator runs next, as commands: each kubectl/helm line names the context and namespace. */
export function primaryNextSteps(options: PrimaryOptions, env: PrimaryEnv, result: PrimaryResult): string[] {
  const context = options.context ?? '<primary-context>'
  const values = displayPath(options.valuesFile)
  const ns = options.namespace
  const release = options.release === 'consul' ? '' : ` --release ${options.release}`
  const target = {
    release: options.release,
    namespace: ns,
    context,
    valuesFile: values,
    upgrade: env.existing !== undefined,
    version: env.existing?.chartVersion,
  }
  const next: string[] = []
  const dir = env.store instanceof DirSecretStore ? env.store.dir : undefined
  if (dir) {
    next.push(`kubectl create namespace ${ns} --context ${context}   # if it does not exist yet`)
    // Create-only: an existing secret (a live CA, gossip key or token) makes kubectl fail with
    // AlreadyExists instead of being replaced, as `kubectl apply` would do.
    next.push(
      `kubectl create --context ${context} --namespace ${ns} -f ${displayPath(dir)}   # create-only: fails with AlreadyExists rather than replace a live CA, gossip key or token`,
    )
  }
  next.push(helmInstallCommand(target))
  next.push(
    `${consulk8sInstallCommand(target)}   # or, instead of helm: the same in one step with a preflight${target.upgrade ? ' and the diff of the values' : ''}`,
  )
  if (dir) {
    next.push(
      `kubectl create --context ${context} --namespace ${ns} -f ${displayPath(proxyDefaultsPath(env.store as DirSecretStore))}   # after the install (needs the ProxyDefaults CRD and connect-inject running)`,
    )
  }
  if (result.federationSecret.status === 'pending' || result.federationSecret.primaryGateways?.length === 0) {
    const meshType = options.meshGatewayServiceType === 'LoadBalancer' ? '' : ` --mesh-gateway-service-type ${options.meshGatewayServiceType}`
    const choices = ` --datacenter ${options.datacenter}${options.acls ? '' : ' --no-acls'}${options.gossip ? '' : ' --no-gossip'}${meshType}`
    const valuesFlag = values === 'primary-values.yaml' ? '' : ` --values-file ${values}`
    const what = result.federationSecret.status === 'pending' ? 'writes' : 'fills in the primary gateways of'
    next.push(
      `consulk8s federate primary --context ${context} -n ${ns}${release}${choices}${valuesFlag} --wait   # after the install: ${what} ${result.federationSecret.name} once the mesh gateway has an address`,
    )
  } else if (result.mode === 'cluster') {
    next.push(`consulk8s federate secondary --context <secondary-context> --primary-context ${context} -n ${ns}${release}`)
  } else {
    next.push(
      `consulk8s federate secondary --context <secondary-context> -f ${displayPath(join(dir ?? '.', `${result.federationSecret.name}.yaml`))} -n ${ns}${release}`,
    )
  }
  return next
}

/**
 * The whole `federate primary`: read, plan, confirm, apply; with waitMs, keep looking for
 * the gateway address and replication token after writing what can be written, then write
 * the federation secret.
 */
export async function runPrimary(options: PrimaryOptions, env: PrimaryEnv, hooks: RunHooks): Promise<PrimaryResult> {
  validatePrimaryOptions(options)
  if (env.consul) await checkConsul(env.consul)
  let plan = await planPrimary(options, await readPrimaryState(options, env))
  if (hooks.dryRun) {
    if (env.cluster)
      plan.steps.push(await ensureProxyDefaults({cluster: env.cluster, consul: env.consul, namespace: options.namespace, dryRun: true}))
    return summarize(options, env, plan, true, [])
  }
  if (plan.destructive.length > 0) await hooks.confirm(`This will ${plan.destructive.join('; ')}. Continue?`)
  const warnings = await applyPrimary(options, env, plan, hooks.notice)
  if (plan.pending.length > 0 && hooks.waitMs && env.cluster) {
    const firstPass = plan
    const once = {...options, rotate: []}
    let tries = 0
    plan = await pollUntil<PrimaryPlan>({
      attempt: async () => {
        if (tries++ === 0) return firstPass
        const next = await planPrimary(once, await readPrimaryState(once, env))
        if (next.pending.length === 0) {
          if (next.destructive.length > 0) await hooks.confirm(`This will ${next.destructive.join('; ')}. Continue?`)
          warnings.push(...(await applyPrimary(once, env, next, hooks.notice)))
          // Report the steps of the first pass, with the federation secret as finally written.
          const fedName = next.names.federationSecret
          next.steps = [
            ...firstPass.steps.filter((step) => step.name !== fedName && step.kind !== 'token'),
            ...next.steps.filter((step) => step.name === fedName || step.kind === 'token'),
          ]
        }
        return next
      },
      done: (next) => next.pending.length === 0,
      timeoutMs: hooks.waitMs,
      intervalMs: hooks.pollMs ?? 2000,
      onWaiting: (next) => hooks.onWaiting?.(next.pending),
      onTimeout: (next) => {
        throw new UserError(`Timed out waiting for ${next.pending.join('; ')}.`, {
          hint: 'The CA, gossip key and values file are written; re-run the same command once Consul is installed and its mesh gateway has an address.',
        })
      },
    })
  }
  // The seed's ProxyDefaults step (mesh gateway mode local), in the primary's cluster.
  if (env.cluster) plan.steps.push(await ensureProxyDefaults({cluster: env.cluster, consul: env.consul, namespace: options.namespace, dryRun: false}))
  return summarize(options, env, plan, false, warnings)
}
