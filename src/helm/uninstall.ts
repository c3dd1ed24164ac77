/**
 * `consulk8s uninstall`: shows the plan, asks (default no), deletes the release's Consul custom
 * resources (resources.ts: while the controller still runs, then their finalizer), removes the
 * release with helm, and only with --wipe-data also deletes the release's PersistentVolumeClaims
 * (label release=<name>) and every secret of the install: those consulk8s created (label
 * app.kubernetes.io/managed-by=consulk8s), those the chart's jobs made (label
 * managed-by=consul-k8s: ACL tokens, certificates) and the release's ACL token secrets
 * (<prefix>-*-acl-token). Federation material (the federation secret, the CA and gossip-key
 * secrets) is kept unless --delete-federation-secret is given as well. Without these labels or
 * names nothing is touched.
 */
import type {KubeCluster} from '../kube/client.js'
import {chartNames, validateNamespaceName, validateReleaseName, type ChartNames} from '../federation/names.js'

import {UserError} from '../shared/errors.js'
import {toGoDuration} from '../shared/duration.js'
import {Helm, helmBinary, type ReleaseInfo} from './helm.js'
import {serverVersion} from '../kube/reads.js'
import {deletePvc, deleteSecret, listPvcNames, listSecrets, type SecretSummary} from './release-objects.js'
import type {Progress} from '../shared/hooks.js'
import {DEFAULT_TIMEOUT_MS, type ReleaseHooks, type ReleaseOptions} from './install.js'
import {summarizeValues} from './plan.js'
import {
  CONSUL_FINALIZER,
  describeResource,
  listConsulCrds,
  listCustomResources,
  removeCustomResources,
  type ConsulCrd,
  type CustomResourceCleanup,
} from './resources.js'
import {CONSULK8S_LABEL, CONSUL_K8S_LABEL} from '../shared/labels.js'

export interface UninstallOptions extends ReleaseOptions {
  /** Also delete the release's PVCs and every secret of the install (federation material aside). */
  wipeData?: boolean
  /** With wipeData: the federation secret too. */
  deleteFederationSecret?: boolean
  dryRun?: boolean
  timeoutMs?: number
  noHooks?: boolean
  /** How long the Consul controller gets to release deleted custom resources (default 15s). */
  customResourceGraceMs?: number
}

export interface SecretDecision {
  delete: Array<{name: string; origin: string}>
  keep: Array<{name: string; reason: string}>
}

/**
 * Federation material: the federation secret (by name, or any secret holding serverConfigJSON)
 * and the CA and gossip-key secrets it was made from. Deleting the CA would force a new one on
 * the next install and split the datacenters, so these go only with --delete-federation-secret.
 */
export function isFederationMaterial(secret: SecretSummary, names: ChartNames): boolean {
  return (
    [names.federationSecret, names.caCertSecret, names.caKeySecret, names.gossipSecret].includes(secret.name) ||
    secret.keys.includes('serverConfigJSON')
  )
}

/** `<prefix>-<name>-acl-token`: the secrets server-acl-init writes its ACL tokens to. */
export function isReleaseTokenSecret(name: string, names: ChartNames): boolean {
  return name.startsWith(`${names.prefix}-`) && name.endsWith('-acl-token') && name.length > names.prefix.length + '--acl-token'.length
}

function hasLabel(secret: SecretSummary, label: Readonly<Record<string, string>>): boolean {
  return Object.entries(label).every(([key, value]) => secret.labels[key] === value)
}

/** Who made a secret of the install, or undefined when it is none of consulk8s's, the chart's or the release's. */
export function secretOrigin(secret: SecretSummary, names: ChartNames): string | undefined {
  if (hasLabel(secret, CONSULK8S_LABEL)) return 'created by consulk8s'
  if (hasLabel(secret, CONSUL_K8S_LABEL)) return "made by the chart's jobs"
  if (isReleaseTokenSecret(secret.name, names)) return 'ACL token of the release'
  return undefined
}

/** Which secrets --wipe-data deletes: every one of the install, federation material only with the second flag. */
export function decideSecrets(secrets: SecretSummary[], names: ChartNames, options: {deleteFederationSecret?: boolean}): SecretDecision {
  const decision: SecretDecision = {delete: [], keep: []}
  for (const secret of secrets) {
    const origin = secretOrigin(secret, names)
    if (!origin) continue
    if (isFederationMaterial(secret, names) && !options.deleteFederationSecret) {
      decision.keep.push({name: secret.name, reason: 'federation secret, CA or gossip key (add --delete-federation-secret to delete it)'})
    } else {
      decision.delete.push({name: secret.name, origin})
    }
  }
  return decision
}

export interface UninstallResult {
  context: string
  namespace: string
  release: string
  dryRun: boolean
  /** The release as it was (absent when only leftovers were cleaned). */
  found: boolean
  revision?: number
  chart?: string
  releaseRemoved: boolean
  /** The release's Consul custom resources: planned (dry run) or what became of them. */
  customResources: CustomResourceCleanup & {planned: string[]}
  pvcsDeleted: string[]
  secretsDeleted: string[]
  secretsKept: Array<{name: string; reason: string}>
}

/** What the uninstall found: the release, its custom resources and, with --wipe-data, its data. */
interface UninstallState {
  helm: Helm
  release?: ReleaseInfo
  crds: ConsulCrd[]
  customResources: string[]
  pvcs: string[]
  decision: SecretDecision
}

/** helm and the cluster checked, then the release, its custom resources and (--wipe-data) its PVCs and secrets read. */
async function readUninstallState(cluster: KubeCluster, options: UninstallOptions, ui: Progress): Promise<UninstallState> {
  const helm = new Helm(helmBinary(options.helmBinary), {kubeconfig: options.kubeconfig, context: cluster.name})
  const version = await helm.checkUsable()
  ui.success(`helm ${version.raw} (${helm.binary})`)
  const kubeVersion = await serverVersion(cluster)
  ui.success(`Cluster reachable: context "${cluster.name}" (${cluster.server}), Kubernetes ${kubeVersion}`)
  const release: ReleaseInfo | undefined = await helm.findRelease(options.release, options.namespace)
  if (!release && !options.wipeData) {
    throw new UserError(`There is no release ${options.release} in namespace ${options.namespace} of context "${cluster.name}".`, {
      hint: 'Check --release and -n (helm list -A lists every release); with --wipe-data consulk8s still removes data left by an earlier uninstall.',
    })
  }
  const values = release ? await helm.getValues(options.release, options.namespace) : {}
  const names = chartNames(summarizeValues(options.release, values).prefix)

  const crds = await listConsulCrds(cluster, options.release)
  const customResources = (await listCustomResources(cluster, crds)).map((resource) => describeResource(resource))
  let pvcs: string[] = []
  let decision: SecretDecision = {delete: [], keep: []}
  if (options.wipeData) {
    pvcs = await listPvcNames(cluster, options.namespace, `release=${options.release}`)
    decision = decideSecrets(await listSecrets(cluster, options.namespace), names, options)
  }
  return {helm, release, crds, customResources, pvcs, decision}
}

function renderUninstallPlan(options: UninstallOptions, state: UninstallState, ui: Progress): void {
  const {release, decision} = state
  ui.header('Uninstall plan')
  if (release)
    ui.line(`- release ${release.name} (revision ${release.revision}, ${release.status}, chart ${release.chart}) in namespace ${options.namespace}`)
  else ui.warn(`No release ${options.release} in namespace ${options.namespace}: only leftover data is removed.`)
  for (const resource of state.customResources) ui.line(`- ${resource} (Consul custom resource, deleted before helm runs)`)
  for (const pvc of state.pvcs) ui.line(`- PersistentVolumeClaim ${pvc} (the servers' data)`)
  for (const secret of decision.delete) ui.line(`- Secret ${secret.name} (${secret.origin})`)
  for (const kept of decision.keep) ui.line(`  keeps Secret ${kept.name}: ${kept.reason}`)
  if (!options.wipeData) ui.line('  keeps the PersistentVolumeClaims and secrets (pass --wipe-data to delete the data too)')
}

/** The release's custom resources deleted while the controller still runs, their finalizers cleared when it does not finish them. */
async function removeReleaseCustomResources(
  cluster: KubeCluster,
  options: UninstallOptions,
  state: UninstallState,
  ui: Progress,
): Promise<UninstallResult['customResources']> {
  const cleanup = await removeCustomResources(cluster, state.crds, ui, options.customResourceGraceMs)
  for (const name of cleanup.deleted) ui.success(`Deleted ${name}`)
  for (const name of cleanup.finalizersCleared) {
    ui.warn(
      `Deleted ${name} by clearing its finalizer ${CONSUL_FINALIZER}: the Consul controller did not release it in time; its config entry may remain in Consul.`,
    )
  }
  if (cleanup.remaining.length > 0) {
    ui.warn(
      `${cleanup.remaining.length} custom resource(s) remain, held by other finalizers: ${cleanup.remaining.join(', ')}.`,
      'Their CustomResourceDefinitions stay in deletion until they are gone; check their metadata.finalizers (kubectl get <kind> -A -o yaml).',
    )
  }
  return {planned: state.customResources, ...cleanup}
}

async function helmUninstall(helm: Helm, options: UninstallOptions, ui: Progress): Promise<void> {
  ui.progress(`Removing release ${options.release} with helm`)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  try {
    await helm.run(
      [
        'uninstall',
        options.release,
        '--namespace',
        options.namespace,
        '--timeout',
        toGoDuration(timeoutMs),
        ...(options.noHooks ? ['--no-hooks'] : []),
      ],
      {what: `uninstall release ${options.release}`, onLine: (line) => ui.detail(`helm: ${line}`), timeoutMs: timeoutMs + 60_000},
    )
  } finally {
    ui.done()
  }
  ui.success(`Removed release ${options.release} from namespace ${options.namespace}`)
}

/** --wipe-data: the PVCs and the secrets decided on, one by one, each reported. */
async function deleteData(cluster: KubeCluster, options: UninstallOptions, state: UninstallState, result: UninstallResult, ui: Progress) {
  for (const pvc of state.pvcs) {
    await deletePvc(cluster, options.namespace, pvc)
    result.pvcsDeleted.push(pvc)
    ui.success(`Deleted PersistentVolumeClaim ${pvc}`)
  }
  for (const secret of state.decision.delete) {
    await deleteSecret(cluster, options.namespace, secret.name)
    result.secretsDeleted.push(secret.name)
    ui.success(`Deleted Secret ${secret.name} (${secret.origin})`)
  }
  for (const kept of state.decision.keep) ui.info(`Kept Secret ${kept.name}: ${kept.reason}`)
}

/** Read, show the plan, ask (default no), then custom resources, helm uninstall, and with --wipe-data the data. */
export async function uninstallRelease(cluster: KubeCluster, options: UninstallOptions, hooks: ReleaseHooks): Promise<UninstallResult> {
  const ui = hooks.progress
  validateReleaseName(options.release)
  validateNamespaceName(options.namespace)
  if (options.deleteFederationSecret && !options.wipeData) {
    throw new UserError('--delete-federation-secret only works together with --wipe-data.', {
      hint: 'Pass both to delete the data and the federation secret; nothing was changed.',
    })
  }
  ui.header(`Uninstalling Consul (release ${options.release}) from context "${cluster.name}"`)
  const state = await readUninstallState(cluster, options, ui)
  renderUninstallPlan(options, state, ui)
  const {release} = state
  const result: UninstallResult = {
    context: cluster.name,
    namespace: options.namespace,
    release: options.release,
    dryRun: Boolean(options.dryRun),
    found: Boolean(release),
    revision: release?.revision,
    chart: release?.chart,
    releaseRemoved: false,
    customResources: {planned: state.customResources, deleted: [], finalizersCleared: [], remaining: []},
    pvcsDeleted: [],
    secretsDeleted: [],
    secretsKept: state.decision.keep,
  }
  if (options.dryRun) {
    ui.success('Dry run: nothing was changed')
    return result
  }
  await hooks.confirm(
    `Uninstall Consul (release ${options.release}) from context "${cluster.name}"${options.wipeData ? ' and delete its data' : ''}?`,
    false,
  )
  if (state.customResources.length > 0) result.customResources = await removeReleaseCustomResources(cluster, options, state, ui)
  if (release) {
    await helmUninstall(state.helm, options, ui)
    result.releaseRemoved = true
  }
  await deleteData(cluster, options, state, result, ui)
  return result
}
