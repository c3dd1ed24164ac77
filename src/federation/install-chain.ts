/**
 * `federate primary|secondary --install`: after the values are written, install Consul with
 * them through helm (the same preflight, summary and confirmation as `consulk8s install`), so
 * the journey from an empty cluster to a federation is consulk8s commands only. The options
 * come from the flags through chainInstallOptions (src/helm/flags.ts).
 */
import type {ConsulClient} from '../consul/client.js'
import {installRelease, type InstallOptions, type InstallResult, type ReleaseHooks} from '../helm/install.js'
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import type {PrimaryResult, Step} from './primary.js'
import {finishPendingProxyDefaults} from './proxy-defaults.js'

export interface ChainInstallResult {
  skipped?: string
  result?: InstallResult
}

/** The release hooks, and the step finished after the install (the ProxyDefaults that needed its CRD). */
export interface ChainHooks extends ReleaseHooks {
  finished(step: Step): void
}

/** Where the chained install goes: the federate command's cluster, its Consul, its namespace. */
export interface ChainTarget {
  cluster?: KubeCluster
  consul?: ConsulClient
  namespace: string
}

export async function chainInstall(cluster: KubeCluster | undefined, options: InstallOptions, hooks: ReleaseHooks): Promise<ChainInstallResult> {
  if (!cluster) {
    throw new UserError('--install needs a cluster; it cannot be combined with --output-dir.', {
      hint: 'Drop --install to write files only, or drop --output-dir to work against the cluster of --context.',
    })
  }
  if (options.dryRun) {
    // The values file is not written in a dry run, so there is nothing helm could render yet.
    const skipped = `would install release ${options.release} in namespace ${options.namespace} of context "${cluster.name}" with ${options.files?.join(', ')}`
    hooks.progress.info(`--install: ${skipped} (dry run)`)
    return {skipped}
  }
  return {result: await installRelease(cluster, options, hooks)}
}

/** The install, then the pending ProxyDefaults step of `steps` (the install brought its CRD), reported through `finished`. */
export async function chainInstallFinishing(
  target: ChainTarget,
  steps: Step[],
  options: InstallOptions,
  hooks: ChainHooks,
): Promise<ChainInstallResult> {
  const install = await chainInstall(target.cluster, options, hooks)
  const finished = install.result
    ? await finishPendingProxyDefaults(steps, {cluster: target.cluster!, consul: target.consul, namespace: target.namespace})
    : undefined
  if (finished) hooks.finished(finished)
  return install
}

export interface PrimaryInstallOutcome {
  result: PrimaryResult
  install: ChainInstallResult
  /** A second pass wrote the federation secret after the install (its result is the whole story). */
  rerun: boolean
}

/**
 * `federate primary --install`: the first pass without waiting (the gateway address and the
 * token appear only after the install), reported through `written`; the install; then, with
 * waitMs, a second pass that waits for them and writes the federation secret.
 */
export async function federatePrimaryThenInstall(
  runPass: (waitMs: number | undefined) => Promise<PrimaryResult>,
  target: ChainTarget,
  options: InstallOptions,
  waitMs: number | undefined,
  hooks: ChainHooks & {written(result: PrimaryResult): void},
): Promise<PrimaryInstallOutcome> {
  const first = await runPass(undefined)
  hooks.progress.done()
  hooks.written(first)
  const install = await chainInstallFinishing(target, first.steps, options, hooks)
  const waitingFor = first.federationSecret.waitingFor
  if (!install.result || waitingFor.length === 0 || waitMs === undefined) return {result: first, install, rerun: false}
  hooks.progress.progress(`Waiting for ${waitingFor.join('; ')}`)
  const result = await runPass(waitMs)
  hooks.progress.done()
  return {result, install, rerun: true}
}
