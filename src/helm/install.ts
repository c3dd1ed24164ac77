/**
 * Install and upgrade of the Consul release through the real helm:
 *
 *   preflight (everything checked before anything changes: release and namespace names,
 *   values files, chart, helm present and recent, cluster reachable, release state, for an
 *   install the leftovers of an earlier one (preflight.ts; --force goes on), secrets the values
 *   read) -> summary (and for an upgrade the diff of the user values) -> confirmation (the
 *   command's confirm hook: unless --yes) -> `helm upgrade [--install]` -> the wait for ready
 *   workloads (unless --no-wait). Progress goes through the Progress hook; nothing here knows
 *   the screen.
 *
 * installRelease() is also what `federate primary|secondary --install` call.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseAllDocuments} from 'yaml'

import type {KubeCluster} from '../kube/client.js'
import {chartNames, validateNamespaceName, validateReleaseName} from '../federation/names.js'
import {UserError} from '../shared/errors.js'
import {writeFileAtomic} from '../shared/files.js'
import type {Confirm, Progress} from '../shared/hooks.js'
import {resolveChart, type ChartOptions, type ChartSource} from './chart.js'
import {diffValues, maskChanges, renderDiff, type ValueChange} from './diff.js'
import {formatDuration, toGoDuration} from '../shared/duration.js'
import {Helm, helmBinary, type ReleaseInfo} from './helm.js'
import {namespaceExists, serverVersion} from '../kube/reads.js'
import {readSecretSummary, type WorkloadState} from './release-objects.js'
import {checkValues, effectiveValues, helmUpgradeArgs, referencedSecrets, summarizeValues, summaryRows, type ValuesSummary} from './plan.js'
import {mergeValues, resolveUserValues, valuesToYaml, type Values, type ValuesSources} from './values.js'
import {findLeftovers, handleLeftovers} from './preflight.js'
import {waitForRelease} from './wait.js'

export const DEFAULT_TIMEOUT_MS = 10 * 60_000

export interface ReleaseOptions {
  /** The user's --kubeconfig (helm gets the same file). */
  kubeconfig?: string
  namespace: string
  release: string
  /** --helm-binary; else $CONSULK8S_HELM, else helm on PATH. */
  helmBinary?: string
}

export interface InstallOptions extends ReleaseOptions, ChartOptions, ValuesSources {
  /** Wait until the release's workloads are ready, printing what is awaited and why (default true). */
  wait?: boolean
  /** For helm and for --wait; default 10 minutes. */
  timeoutMs?: number
  /** Check and render everything, change nothing. */
  dryRun?: boolean
  /** helm --no-hooks: skip the chart's hook Jobs (for clusters that cannot run Jobs). */
  noHooks?: boolean
  /** Install despite another Consul release, leftover PVCs or secrets (warning what may break). */
  force?: boolean
}

export interface UpgradeOptions extends InstallOptions {
  /** Start from the release's current user values and apply the given ones on top. */
  reuseValues?: boolean
  /** Allow changes that replace the CA, the gossip key, ACL tokens or the datacenter name. */
  allowRotation?: boolean
}

/** How a release flow talks to its command: progress lines, and the question before helm runs. */
export interface ReleaseHooks {
  progress: Progress
  /** Asked before helm changes the cluster (never in a dry run); throws to abort. */
  confirm: Confirm
}

export interface ManifestObject {
  kind: string
  name: string
}

export interface InstallResult {
  action: 'install' | 'upgrade'
  dryRun: boolean
  /** False when an upgrade found nothing to change (helm was not run). */
  changed: boolean
  context: string
  namespace: string
  release: string
  chart: {source: string; name: string; version: string; appVersion?: string}
  summary: ValuesSummary
  /** Upgrade: the user values diff (secret values masked). */
  changes?: ValueChange[]
  revision?: number
  status?: string
  /** Dry run: the objects helm would apply, and the rendered manifest. */
  objects?: ManifestObject[]
  manifest?: string
  /** With --wait: the workloads and their readiness. */
  workloads?: WorkloadState[]
}

interface Prepared {
  helm: Helm
  chart: ChartSource
  userValues: Values
  summary: ValuesSummary
  existing?: ReleaseInfo
  namespaceExists: boolean
  timeoutMs: number
}

/** Checks that touch nothing outside this machine: names, values files, chart, helm. */
async function localPreflight(cluster: KubeCluster, options: InstallOptions, ui: Progress) {
  validateReleaseName(options.release)
  validateNamespaceName(options.namespace)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const userValues = await resolveUserValues(options)
  const files = options.files?.length ?? 0
  const sets = (options.set?.length ?? 0) + (options.setString?.length ?? 0)
  if (files + sets > 0 || options.base) {
    ui.success(`Values read${files ? ` from ${options.files!.join(', ')}` : ''}${sets ? ` with ${sets} --set` : ''}`)
  }
  const helm = new Helm(helmBinary(options.helmBinary), {kubeconfig: options.kubeconfig, context: cluster.name})
  const version = await helm.checkUsable()
  ui.success(`helm ${version.raw} (${helm.binary})`)
  return {helm, userValues, timeoutMs}
}

async function clusterPreflight(cluster: KubeCluster, helm: Helm, options: InstallOptions, ui: Progress) {
  const kubeVersion = await serverVersion(cluster)
  ui.success(`Cluster reachable: context "${cluster.name}" (${cluster.server}), Kubernetes ${kubeVersion}`)
  const existing = await helm.findRelease(options.release, options.namespace)
  const exists = await namespaceExists(cluster, options.namespace)
  return {existing, namespaceExists: exists}
}

function checkValuesOrThrow(release: string, userValues: Values, chart: ChartSource, ui: Progress): ValuesSummary {
  const {errors, warnings} = checkValues(release, userValues, chart.defaults)
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) {
    throw new UserError(`The values have ${errors.length} problems: ${errors.map((error) => error.message).join(' ')}`, {
      hint: errors
        .map((error) => error.hint)
        .filter(Boolean)
        .join('\n'),
    })
  }
  for (const warning of warnings) ui.warn(warning)
  return summarizeValues(release, userValues, chart.defaults)
}

/** Every secret the values read must exist and hold the keys read from it. */
async function checkReferencedSecrets(cluster: KubeCluster, namespace: string, userValues: Values, summary: ValuesSummary, ui: Progress) {
  const references = referencedSecrets(userValues)
  const problems: string[] = []
  for (const reference of references) {
    const secret = await readSecretSummary(cluster, namespace, reference.name)
    const missing = secret ? reference.keys.filter((key) => !secret.keys.includes(key)) : reference.keys
    if (!secret) problems.push(`secret ${reference.name} does not exist (read by ${reference.via.join(', ')})`)
    else if (missing.length > 0) problems.push(`secret ${reference.name} lacks ${missing.join(', ')} (read by ${reference.via.join(', ')})`)
    else ui.success(`Secret ${reference.name} present with ${reference.keys.length > 0 ? reference.keys.join(', ') : 'data'}`)
  }
  if (problems.length === 0) return
  const federationSecret = chartNames(summary.prefix).federationSecret
  const isFederation = summary.federation === 'secondary' || references.some((reference) => reference.name === federationSecret)
  throw new UserError(`Namespace ${namespace} of context "${cluster.name}" lacks what the values need: ${problems.join('; ')}.`, {
    hint: isFederation
      ? `A secondary needs the primary's federation secret, complete, in namespace ${namespace} first: \`consulk8s federate secondary --context ${cluster.name} --primary-context <primary>\` (or federate export | federate import) copies it; see docs/federation.md. Nothing was changed.`
      : `Create the secret(s) in namespace ${namespace} first, or change the values that name them. Nothing was changed.`,
  })
}

function renderSummary(action: string, cluster: KubeCluster, options: InstallOptions, prepared: Prepared, ui: Progress): void {
  ui.header(`${action} summary`)
  const rows: Array<[string, string]> = [
    ['Chart', prepared.chart.display],
    ['Release', options.release],
    ['Namespace', `${options.namespace}${prepared.namespaceExists ? '' : ' (will be created)'}`],
    ['Context', `${cluster.name} (${cluster.server})`],
    ...summaryRows(prepared.summary),
  ]
  ui.table(['SETTING', 'VALUE'], rows)
  if (options.noHooks) ui.warn("--no-hooks: the chart's hook Jobs (TLS, gossip key, ACL and federation secret set-up) will not run.")
}

/** Write the merged values where only this user can read them, run `fn`, remove them. */
async function withValuesFile<T>(values: Values, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'consulk8s-values-'))
  try {
    const path = join(dir, 'values.yaml')
    await writeFileAtomic(path, valuesToYaml(values), 0o600)
    return await fn(path)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

interface HelmReleaseJson {
  version?: number
  info?: {status?: string}
  manifest?: string
  chart?: {metadata?: {version?: string; appVersion?: string}}
}

/** The kind/name of every object in a rendered manifest. */
export function manifestObjects(manifest: string): ManifestObject[] {
  const objects: ManifestObject[] = []
  for (const document of parseAllDocuments(manifest)) {
    if (!('toJS' in document)) continue
    const object = document.toJS() as {kind?: string; metadata?: {name?: string}} | null
    if (object?.kind) objects.push({kind: object.kind, name: object.metadata?.name ?? ''})
  }
  return objects
}

async function runHelm(
  cluster: KubeCluster,
  options: InstallOptions,
  prepared: Prepared,
  mode: 'install' | 'upgrade',
  ui: Progress,
): Promise<HelmReleaseJson> {
  const verb = options.dryRun ? 'Rendering (dry run)' : mode === 'install' ? 'Installing' : 'Upgrading'
  ui.progress(`${verb} release ${options.release} with helm (timeout ${formatDuration(prepared.timeoutMs)})`)
  try {
    const output = await withValuesFile(prepared.userValues, (valuesFile) =>
      prepared.helm.run(
        helmUpgradeArgs({
          release: options.release,
          namespace: options.namespace,
          chartArgs: prepared.chart.helmArgs,
          valuesFile,
          timeout: toGoDuration(prepared.timeoutMs),
          install: mode === 'install',
          createNamespace: mode === 'install',
          noHooks: options.noHooks,
          dryRun: options.dryRun,
        }),
        {
          what: options.dryRun ? 'render the chart' : `${mode} release ${options.release}`,
          onLine: (line) => {
            if (!line.startsWith('{') && !line.startsWith('"')) ui.detail(`helm: ${line}`)
          },
          // helm enforces --timeout itself; this only guards against a hung process.
          timeoutMs: prepared.timeoutMs + 60_000,
        },
      ),
    )
    ui.done()
    return parseReleaseJson(output)
  } catch (error) {
    ui.done()
    if (error instanceof UserError && !options.dryRun) {
      throw new UserError(error.message, {
        hint: [error.hint, `Check what is there with \`consulk8s status --context ${cluster.name} -n ${options.namespace}\`.`]
          .filter(Boolean)
          .join('\n'),
        cause: error,
      })
    }
    throw error
  }
}

function parseReleaseJson(output: string): HelmReleaseJson {
  const start = output.indexOf('{')
  if (start === -1) return {}
  try {
    return JSON.parse(output.slice(start)) as HelmReleaseJson
  } catch {
    return {}
  }
}

async function finish(
  cluster: KubeCluster,
  options: InstallOptions,
  prepared: Prepared,
  mode: 'install' | 'upgrade',
  ui: Progress,
  changes?: ValueChange[],
): Promise<InstallResult> {
  const released = await runHelm(cluster, options, prepared, mode, ui)
  const result: InstallResult = {
    action: mode,
    dryRun: Boolean(options.dryRun),
    changed: !options.dryRun,
    context: cluster.name,
    namespace: options.namespace,
    release: options.release,
    chart: {
      source: prepared.chart.display,
      name: prepared.chart.name,
      version: released.chart?.metadata?.version ?? prepared.chart.version,
      appVersion: released.chart?.metadata?.appVersion ?? prepared.chart.appVersion,
    },
    summary: prepared.summary,
    changes: changes ? maskChanges(changes) : undefined,
    revision: released.version,
    status: released.info?.status,
  }
  if (options.dryRun) {
    result.manifest = released.manifest ?? ''
    result.objects = manifestObjects(result.manifest)
    ui.success(`Dry run: the chart renders ${result.objects.length} objects; nothing was changed`)
    ui.detail(result.objects.map((object) => `${object.kind}/${object.name}`).join(', '))
    return result
  }
  const verb = mode === 'install' ? 'Installed' : 'Upgraded'
  ui.success(
    `${verb} release ${options.release} in namespace ${options.namespace} of context "${cluster.name}": revision ${result.revision ?? '?'}, ${result.status ?? 'unknown status'}, chart consul ${result.chart.version}`,
  )
  if (options.wait !== false) {
    result.workloads = await waitForRelease(cluster, {namespace: options.namespace, release: options.release, timeoutMs: prepared.timeoutMs}, ui)
  } else {
    ui.info(`Not waiting for the pods; \`consulk8s status --context ${cluster.name} -n ${options.namespace}\` shows their readiness.`)
  }
  return result
}

/**
 * Install Consul with the given chart and values into one cluster: refuses an existing
 * release (pointing to upgrade), checks the secrets a secondary needs, shows a summary and
 * asks unless `yes`, then runs `helm upgrade --install`.
 */
export async function installRelease(cluster: KubeCluster, options: InstallOptions, hooks: ReleaseHooks): Promise<InstallResult> {
  const ui = hooks.progress
  ui.header(`Preflight for installing Consul (release ${options.release}) in context "${cluster.name}"`)
  const chart = await resolveChart(options)
  if (chart.kind === 'local') ui.success(`Chart ${chart.display}`)
  const local = await localPreflight(cluster, options, ui)
  const summary = checkValuesOrThrow(options.release, local.userValues, chart, ui)
  const remote = await clusterPreflight(cluster, local.helm, options, ui)
  if (remote.existing && remote.existing.status !== 'failed') {
    const found = remote.existing
    throw new UserError(
      `Release ${found.name} already exists in namespace ${found.namespace} of context "${cluster.name}" (revision ${found.revision}, ${found.status}, chart ${found.chart}).`,
      {
        hint: `Use \`consulk8s upgrade --context ${cluster.name} -n ${found.namespace}\` to change it (it shows the values diff first), or \`consulk8s uninstall\` to remove it.`,
      },
    )
  }
  if (remote.existing)
    ui.warn(`A previous install of release ${options.release} failed (revision ${remote.existing.revision}); this install replaces it.`)
  else ui.success(`No release ${options.release} in namespace ${options.namespace} yet`)
  const leftovers = await findLeftovers(
    cluster,
    local.helm,
    {
      context: cluster.name,
      namespace: options.namespace,
      release: options.release,
      names: chartNames(summary.prefix),
      referenced: referencedSecrets(local.userValues).map((reference) => reference.name),
    },
    ui,
  )
  handleLeftovers(leftovers, Boolean(options.force), ui)
  await checkReferencedSecrets(cluster, options.namespace, local.userValues, summary, ui)
  const prepared: Prepared = {...local, ...remote, chart, summary}
  renderSummary('Install', cluster, options, prepared, ui)
  if (!options.dryRun) {
    await hooks.confirm(`Install Consul (release ${options.release}) into context "${cluster.name}"?`, true)
  }
  return finish(cluster, options, prepared, 'install', ui)
}

/** Value paths whose change replaces key material or the identity of a running datacenter. */
export const ROTATION_PATHS = [
  'global.datacenter',
  'global.tls.caCert',
  'global.tls.caKey',
  'global.gossipEncryption',
  'global.acls.bootstrapToken',
  'global.acls.replicationToken',
  'global.federation.primaryDatacenter',
]

export function rotatingChanges(changes: ValueChange[]): ValueChange[] {
  return changes.filter((change) => ROTATION_PATHS.some((path) => change.path === path || change.path.startsWith(`${path}.`)))
}

/**
 * Upgrade the release: the diff of the release's current user values against the new ones
 * first, then confirmation unless `yes`, then `helm upgrade`. Without a chart option the
 * release keeps its current chart version (from the HashiCorp repository).
 */
export async function upgradeRelease(cluster: KubeCluster, options: UpgradeOptions, hooks: ReleaseHooks): Promise<InstallResult> {
  const ui = hooks.progress
  ui.header(`Preflight for upgrading Consul (release ${options.release}) in context "${cluster.name}"`)
  if (options.chart) await resolveChart(options) // a wrong --chart path fails before anything else
  const local = await localPreflight(cluster, options, ui)
  const remote = await clusterPreflight(cluster, local.helm, options, ui)
  const existing = remote.existing
  if (!existing) {
    throw new UserError(`There is no release ${options.release} in namespace ${options.namespace} of context "${cluster.name}" to upgrade.`, {
      hint: `Install it with \`consulk8s install --context ${cluster.name} -n ${options.namespace} -f values.yaml\`, or pass --release/-n of the existing one.`,
    })
  }
  if (existing.status.startsWith('pending')) {
    throw new UserError(`Release ${existing.name} is ${existing.status}: another helm operation is running or was interrupted.`, {
      hint: 'Wait for it to finish, or roll it back with helm rollback, then run the upgrade again.',
    })
  }
  ui.success(`Release ${existing.name}: revision ${existing.revision}, ${existing.status}, chart ${existing.chart}`)
  const chart = await resolveChart({...options, chartVersion: options.chartVersion ?? (options.chart ? undefined : existing.chartVersion)})
  const current = await local.helm.getValues(options.release, options.namespace)
  // Like helm: with no values given at all, the release keeps its values.
  const givenNone = !options.base && !options.files?.length && !options.set?.length && !options.setString?.length
  if (givenNone && !options.reuseValues) ui.info('No values given: the release keeps its current values')
  const userValues = options.reuseValues || givenNone ? mergeValues(current, local.userValues) : local.userValues
  const summary = checkValuesOrThrow(options.release, userValues, chart, ui)
  const changes = diffValues(current, userValues)
  // Compared with the chart's defaults filled in, so dropping a key that equals its default is no change.
  const rotating = rotatingChanges(diffValues(effectiveValues(current, chart.defaults), effectiveValues(userValues, chart.defaults)))
  if (rotating.length > 0 && !options.allowRotation) {
    throw new UserError(
      `This upgrade changes ${rotating.map((change) => change.path).join(', ')}: that replaces key material (CA, gossip key, ACL tokens) or the identity of a running datacenter.`,
      {hint: 'Pass --allow-rotation if that is what you want (plan the restart of every server and of federated datacenters); nothing was changed.'},
    )
  }
  await checkReferencedSecrets(cluster, options.namespace, userValues, summary, ui)
  const prepared: Prepared = {...local, ...remote, chart, summary, userValues}
  const chartChanges = chart.version !== '' && chart.version !== existing.chartVersion
  ui.header(`Changes to the values of release ${options.release}`)
  if (changes.length === 0) ui.line('(no changes to the user values)')
  for (const line of renderDiff(changes)) ui.line(line)
  if (chartChanges) ui.line(`~ chart: consul ${existing.chartVersion} -> ${chart.version}`)
  if (changes.length === 0 && !chartChanges && existing.status === 'deployed') {
    ui.success(`Release ${options.release} already has these values and chart version; nothing to do`)
    return {
      action: 'upgrade',
      dryRun: Boolean(options.dryRun),
      changed: false,
      context: cluster.name,
      namespace: options.namespace,
      release: options.release,
      chart: {source: chart.display, name: chart.name, version: existing.chartVersion, appVersion: existing.appVersion},
      summary,
      changes: [],
      revision: existing.revision,
      status: existing.status,
    }
  }
  renderSummary('Upgrade', cluster, options, prepared, ui)
  if (!options.dryRun) {
    await hooks.confirm(`Upgrade release ${options.release} in context "${cluster.name}" with these changes?`, true)
  }
  return finish(cluster, options, prepared, 'upgrade', ui, changes)
}
