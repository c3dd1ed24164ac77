/**
 * `federate primary|secondary --install`: after the values are written, install Consul with
 * them through helm (the same preflight, summary and confirmation as `consulk8s install`), so
 * the journey from an empty cluster to a federation is consulk8s commands only.
 */
import {installRelease, type InstallResult} from '../helm/install.js'
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import type {Terminal} from '../ui/terminal.js'

export interface ChainInstallOptions {
  kubeconfig?: string
  namespace: string
  release: string
  valuesFile: string
  chart?: string
  chartVersion?: string
  chartRepo?: string
  helmBinary?: string
  noHooks?: boolean
  wait?: boolean
  timeoutMs?: number
  yes?: boolean
  dryRun?: boolean
}

/** The parsed flags `federate ... --install` shares with `consulk8s install`. */
export interface ChainInstallFlags {
  kubeconfig?: string
  namespace: string
  release: string
  chart?: string
  'chart-version'?: string
  'chart-repo'?: string
  'helm-binary'?: string
  'no-hooks': boolean
  wait: boolean
  yes: boolean
  'dry-run': boolean
}

export function chainInstallOptions(flags: ChainInstallFlags, valuesFile: string, timeoutMs: number): ChainInstallOptions {
  return {
    kubeconfig: flags.kubeconfig,
    namespace: flags.namespace,
    release: flags.release,
    valuesFile,
    chart: flags.chart,
    chartVersion: flags['chart-version'],
    chartRepo: flags['chart-repo'],
    helmBinary: flags['helm-binary'],
    noHooks: flags['no-hooks'],
    wait: flags.wait,
    timeoutMs,
    yes: flags.yes,
    dryRun: flags['dry-run'],
  }
}

export interface ChainInstallResult {
  skipped?: string
  result?: InstallResult
}

export async function chainInstall(cluster: KubeCluster | undefined, options: ChainInstallOptions, ui: Terminal): Promise<ChainInstallResult> {
  if (!cluster) {
    throw new UserError('--install needs a cluster; it cannot be combined with --output-dir.', {
      hint: 'Drop --install to write files only, or drop --output-dir to work against the cluster of --context.',
    })
  }
  if (options.dryRun) {
    // The values file is not written in a dry run, so there is nothing helm could render yet.
    const skipped = `would install release ${options.release} in namespace ${options.namespace} of context "${cluster.name}" with ${options.valuesFile}`
    ui.info(`--install: ${skipped} (dry run)`)
    return {skipped}
  }
  const result = await installRelease(
    cluster,
    {
      kubeconfig: options.kubeconfig,
      namespace: options.namespace,
      release: options.release,
      files: [options.valuesFile],
      chart: options.chart,
      chartVersion: options.chartVersion,
      chartRepo: options.chartRepo,
      helmBinary: options.helmBinary,
      noHooks: options.noHooks,
      wait: options.wait,
      timeoutMs: options.timeoutMs,
      yes: options.yes,
    },
    ui,
  )
  return {result}
}
