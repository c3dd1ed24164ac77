/**
 * `inject`: the two flows behind the command. Manifest mode (-f) reads the files, plans every
 * pod template (pure: planManifests) and writes the mutated manifests; cluster mode reads the
 * workloads of a namespace (planCluster), and after confirmation replaces the pod templates
 * that change (applyClusterPlan). Nothing is written when a workload's annotations are
 * invalid (manifest mode) or before the plan has been shown and confirmed (cluster mode).
 * The command renders; this module tells it what to show through hooks and the outcome.
 */
import {readFile} from 'node:fs/promises'

import {UserError, errorMessage} from '../shared/errors.js'
import {checkOutputPaths} from '../shared/files.js'
import type {OutputTarget} from '../shared/output.js'
import {applyClusterPlan, injectedObject, planCluster, presentable, type ApplyResult} from './cluster.js'
import {applyManifestPlan, manifestsHoldSecrets, planManifests, readManifestSources, renderManifests, renderObjects} from './manifests.js'
import {readStdinManifests, writeOutputFile} from './output.js'
import {countPlan, type InjectPlan} from './plan.js'
import {planJson, type InjectResultJson} from './result.js'
import {buildSettings, type InjectSettings, type SettingsInput} from './settings.js'

/** What `inject` is asked to do, as the command's flags say it. */
export interface InjectOptions {
  /** The injector's configuration (buildSettings' input); the CA PEM is read from caFile (--ca-file). */
  settings: Omit<SettingsInput, 'caCertPem'> & {caFile?: string}
  /** -f: manifest files, directories or "-" (stdin). Empty or undefined: inject the live cluster. */
  filenames?: string[]
  /** Manifest mode: the namespace of objects that name none (default "default"). Cluster mode: the namespace to inject. */
  namespace?: string
  /** Cluster mode: the kubeconfig and context of the cluster, and whether every namespace is injected. */
  kubeconfig?: string
  context?: string
  allNamespaces: boolean
  /** Where the manifests (or, in cluster mode, the injected workloads) go: -o and --output-file. */
  output: OutputTarget
  /** Cluster mode: write the injected workloads (-o or --output-file given). */
  writeObjects: boolean
  /** --diff: the command prints the diffs, and the manifests go to stdout only without it (and without --output-file). */
  diff: boolean
  dryRun: boolean
}

/** How the flow talks to the command's side (the screen and the person at it). */
export interface InjectHooks {
  /** Says what is being done (a spinner on a terminal); done() ends it. */
  progress(text: string): void
  done(): void
  /** The plan, once made and before anything is written: the command shows it (and its diffs). */
  planned(plan: InjectPlan): void
  /** Data for stdout: the mutated manifests, or in cluster mode the injected workloads (-o). */
  print(text: string): void
  /** Asks before live workloads are patched; throws to abort. */
  confirm(message: string): Promise<void>
}

export interface InjectOutcome {
  /** What --json returns. */
  result: InjectResultJson
  /** Manifest mode: the --output-file written. */
  wrote?: string
  /** Cluster mode: no workload needed a change (and none has invalid annotations). */
  nothingToChange?: boolean
  /** Cluster mode: the result of each patch. */
  applied?: ApplyResult[]
  /** Why the command fails (exit code 1) although what could be done was done. */
  failure?: string
}

/** Whether stdout carries data (manifests, workloads), so that human output goes to stderr. */
export function stdoutCarriesData(options: InjectOptions): boolean {
  if (options.filenames?.length) return !options.dryRun && (options.diff || !options.output.file)
  return options.writeObjects && !options.output.file
}

/** Validates the options, then injects the manifests (-f) or the live cluster. */
export async function runInject(options: InjectOptions, hooks: InjectHooks): Promise<InjectOutcome> {
  const {caFile, ...settingsInput} = options.settings
  const settings = buildSettings({...settingsInput, caCertPem: caFile ? await readCaFile(caFile) : undefined})
  const {output} = options
  if (output.file && !options.dryRun) await checkOutputPaths([{path: output.file, kind: 'file', flag: '--output-file'}])
  if (options.filenames?.length) {
    for (const [flag, given] of [
      ['--context', options.context],
      ['--kubeconfig', options.kubeconfig],
      ['--all-namespaces', options.allNamespaces || undefined],
    ] as const) {
      if (given !== undefined) {
        throw new UserError(`${flag} selects a live cluster, but -f injects manifests offline.`, {
          hint: `Drop ${flag} to inject the manifests, or drop -f to inject the cluster.`,
        })
      }
    }
    return injectManifests(options.filenames, options.namespace ?? 'default', settings, options, hooks)
  }
  if (options.allNamespaces && options.namespace) {
    throw new UserError('-n and --all-namespaces cannot be combined.', {hint: 'Pick one namespace with -n, or all with --all-namespaces.'})
  }
  return injectCluster(settings, options, hooks)
}

/** Manifest mode: read, plan (pure), and unless a workload is refused or --dry-run, write. */
async function injectManifests(
  paths: string[],
  namespace: string,
  settings: InjectSettings,
  options: InjectOptions,
  hooks: InjectHooks,
): Promise<InjectOutcome> {
  const {output, dryRun} = options
  const sources = await readManifestSources(paths, () => readStdinManifests())
  const manifests = planManifests(sources, settings, namespace)
  const {plan} = manifests
  hooks.planned(plan)
  const errors = countPlan(plan).error
  if (errors > 0)
    return {result: planJson(plan, {dryRun}), failure: `${errors} workload(s) have invalid Connect annotations; no manifests were written.`}
  if (dryRun) return {result: planJson(plan, {dryRun: true})}

  applyManifestPlan(manifests)
  const text = renderManifests(manifests, output.format)
  if (output.file) await writeOutputFile(output.file, text, manifestsHoldSecrets(manifests))
  else if (!options.diff) hooks.print(text)
  return {result: planJson(plan, {dryRun: false, output: output.file}), wrote: output.file}
}

/** Cluster mode: read the workloads, plan, show; then confirm and patch the templates that change. */
async function injectCluster(settings: InjectSettings, options: InjectOptions, hooks: InjectHooks): Promise<InjectOutcome> {
  const {output, dryRun} = options
  const target = {kubeconfig: options.kubeconfig, context: options.context, namespace: options.namespace, allNamespaces: options.allNamespaces}
  const clusterPlan = await planCluster(target, settings, (text) => hooks.progress(text))
  hooks.done()
  const {plan} = clusterPlan
  hooks.planned(plan)

  const changed = plan.workloads.filter((workload) => workload.action === 'inject')
  if (options.writeObjects) {
    const objects = changed.map((workload) => presentable(injectedObject(clusterPlan, workload)!))
    const text = renderObjects(objects, output.format)
    if (output.file) await writeOutputFile(output.file, text, false)
    else hooks.print(text)
  }
  const annotationErrors = countPlan(plan).error
  const failureText = (count: number) => `${count} workload(s) could not be injected.`
  if (dryRun || changed.length === 0) {
    return {
      result: planJson(plan, {dryRun}),
      nothingToChange: changed.length === 0 && annotationErrors === 0,
      failure: annotationErrors > 0 ? failureText(annotationErrors) : undefined,
    }
  }

  await hooks.confirm(
    `Patch the pod templates of ${changed.length} workload(s) in context "${plan.context}"? Their pods will be replaced with injected ones.`,
  )
  hooks.progress(`Patching ${changed.length} workload(s)`)
  const results = await applyClusterPlan(clusterPlan)
  hooks.done()
  const failed = annotationErrors + results.filter((result) => !result.ok).length
  return {result: planJson(plan, {dryRun: false, results}), applied: results, failure: failed > 0 ? failureText(failed) : undefined}
}

async function readCaFile(path: string): Promise<string> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read --ca-file ${path}: ${errorMessage(error)}`)
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UserError(`--ca-file ${path} holds no PEM certificate.`)
  return pem
}
