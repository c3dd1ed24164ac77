/**
 * `consulk8s uninstall`: asks (default no), removes the release with helm, and only with
 * --wipe-data also deletes the release's PersistentVolumeClaims (label release=<name>) and
 * the secrets consulk8s created (label app.kubernetes.io/managed-by=consulk8s). Federation
 * material (the federation secret, the CA and gossip-key secrets) is kept unless
 * --delete-federation-secret is given as well. Secrets the chart's own jobs made are listed,
 * never deleted.
 */
import type {KubeCluster} from '../kube/client.js'
import {chartNames, validateNamespaceName, validateReleaseName, type ChartNames} from '../federation/names.js'
import {UserError} from '../shared/errors.js'
import {confirmOrAbort} from '../ui/prompt.js'
import type {Terminal} from '../ui/terminal.js'
import {toGoDuration} from '../shared/duration.js'
import {Helm, helmBinary, type ReleaseInfo} from './helm.js'
import {deletePvc, deleteSecret, listPvcNames, listSecrets, serverVersion, type SecretSummary} from './kube.js'
import {DEFAULT_TIMEOUT_MS, type ReleaseOptions} from './install.js'
import {summarizeValues} from './plan.js'

/** The label on every object consulk8s itself creates (the federation commands set it too). */
export const CONSULK8S_SELECTOR = 'app.kubernetes.io/managed-by=consulk8s'
/** The label consul-k8s (the chart's jobs, its CLI) puts on the secrets it makes. */
export const CONSUL_K8S_SELECTOR = 'managed-by=consul-k8s'

export interface UninstallOptions extends ReleaseOptions {
  /** Also delete the release's PVCs and the secrets consulk8s created. */
  wipeData?: boolean
  /** With wipeData: the federation secret too. */
  deleteFederationSecret?: boolean
  dryRun?: boolean
  yes?: boolean
  interactive?: boolean
  timeoutMs?: number
  noHooks?: boolean
}

export interface SecretDecision {
  delete: string[]
  keep: Array<{name: string; reason: string}>
}

/**
 * Federation material: the federation secret (by name, or any secret holding serverConfigJSON)
 * and the CA and gossip-key secrets it was made from. Deleting the CA would force a new one on
 * the next install and split the datacenters, so these go only with --delete-federation-secret.
 */
export function isFederationMaterial(secret: SecretSummary, names: ChartNames): boolean {
  return [names.federationSecret, names.caCertSecret, names.caKeySecret, names.gossipSecret].includes(secret.name) || secret.keys.includes('serverConfigJSON')
}

/** Which consulk8s-made secrets --wipe-data deletes; federation material only with the second flag. */
export function decideSecrets(secrets: SecretSummary[], names: ChartNames, options: {deleteFederationSecret?: boolean}): SecretDecision {
  const decision: SecretDecision = {delete: [], keep: []}
  for (const secret of secrets) {
    if (secret.labels['app.kubernetes.io/managed-by'] !== 'consulk8s') {
      decision.keep.push({name: secret.name, reason: 'not created by consulk8s'})
    } else if (isFederationMaterial(secret, names) && !options.deleteFederationSecret) {
      decision.keep.push({name: secret.name, reason: 'federation secret, CA or gossip key (add --delete-federation-secret to delete it)'})
    } else {
      decision.delete.push(secret.name)
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
  pvcsDeleted: string[]
  secretsDeleted: string[]
  secretsKept: Array<{name: string; reason: string}>
  /** Secrets made by the chart's jobs (label managed-by=consul-k8s), left in place. */
  chartSecretsLeft: string[]
}

export async function uninstallRelease(cluster: KubeCluster, options: UninstallOptions, ui: Terminal): Promise<UninstallResult> {
  validateReleaseName(options.release)
  validateNamespaceName(options.namespace)
  if (options.deleteFederationSecret && !options.wipeData) {
    throw new UserError('--delete-federation-secret only works together with --wipe-data.', {
      hint: 'Pass both to delete the data and the federation secret; nothing was changed.',
    })
  }
  ui.header(`Uninstalling Consul (release ${options.release}) from context "${cluster.name}"`)
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

  let pvcs: string[] = []
  let decision: SecretDecision = {delete: [], keep: []}
  let chartSecretsLeft: string[] = []
  if (options.wipeData) {
    pvcs = await listPvcNames(cluster, options.namespace, `release=${options.release}`)
    decision = decideSecrets(await listSecrets(cluster, options.namespace, CONSULK8S_SELECTOR), names, options)
    const decided = new Set([...decision.delete, ...decision.keep.map((kept) => kept.name)])
    chartSecretsLeft = (await listSecrets(cluster, options.namespace, CONSUL_K8S_SELECTOR))
      .filter((secret) => !decided.has(secret.name) && !isFederationMaterial(secret, names))
      .map((secret) => secret.name)
  }

  ui.header('Uninstall plan')
  if (release) ui.line(`- release ${release.name} (revision ${release.revision}, ${release.status}, chart ${release.chart}) in namespace ${options.namespace}`)
  else ui.warn(`No release ${options.release} in namespace ${options.namespace}: only leftover data is removed.`)
  for (const pvc of pvcs) ui.line(`- PersistentVolumeClaim ${pvc} (the servers' data)`)
  for (const secret of decision.delete) ui.line(`- Secret ${secret} (created by consulk8s)`)
  for (const kept of decision.keep) ui.line(`  keeps Secret ${kept.name}: ${kept.reason}`)
  if (!options.wipeData) ui.line('  keeps the PersistentVolumeClaims and secrets (pass --wipe-data to delete the data too)')

  const result: UninstallResult = {
    context: cluster.name,
    namespace: options.namespace,
    release: options.release,
    dryRun: Boolean(options.dryRun),
    found: Boolean(release),
    revision: release?.revision,
    chart: release?.chart,
    releaseRemoved: false,
    pvcsDeleted: [],
    secretsDeleted: [],
    secretsKept: decision.keep,
    chartSecretsLeft,
  }
  if (options.dryRun) {
    ui.success('Dry run: nothing was changed')
    return result
  }
  await confirmOrAbort(
    `Uninstall Consul (release ${options.release}) from context "${cluster.name}"${options.wipeData ? ' and delete its data' : ''}?`,
    {yes: options.yes, interactive: options.interactive, defaultYes: false},
  )

  if (release) {
    ui.progress(`Removing release ${options.release} with helm`)
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    try {
      await helm.run(
        ['uninstall', options.release, '--namespace', options.namespace, '--timeout', toGoDuration(timeoutMs), ...(options.noHooks ? ['--no-hooks'] : [])],
        {what: `uninstall release ${options.release}`, onLine: (line) => ui.detail(`helm: ${line}`), timeoutMs: timeoutMs + 60_000},
      )
    } finally {
      ui.done()
    }
    result.releaseRemoved = true
    ui.success(`Removed release ${options.release} from namespace ${options.namespace}`)
  }
  for (const pvc of pvcs) {
    await deletePvc(cluster, options.namespace, pvc)
    result.pvcsDeleted.push(pvc)
    ui.success(`Deleted PersistentVolumeClaim ${pvc}`)
  }
  for (const secret of decision.delete) {
    await deleteSecret(cluster, options.namespace, secret)
    result.secretsDeleted.push(secret)
    ui.success(`Deleted Secret ${secret}`)
  }
  for (const kept of decision.keep) ui.info(`Kept Secret ${kept.name}: ${kept.reason}`)
  if (chartSecretsLeft.length > 0) {
    ui.warn(
      `Left in place ${chartSecretsLeft.length} secret(s) made by the chart's jobs: ${chartSecretsLeft.join(', ')}.`,
      `consulk8s deletes only what it created; remove them with kubectl delete secret -n ${options.namespace} <name> if you reinstall from scratch.`,
    )
  }
  return result
}
