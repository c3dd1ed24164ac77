/**
 * `federate primary|secondary --install`: after the values are written, install Consul with
 * them through helm (the same preflight, summary and confirmation as `consulk8s install`), so
 * the journey from an empty cluster to a federation is consulk8s commands only. The options
 * come from the flags through chainInstallOptions (src/helm/flags.ts).
 */
import {installRelease, type InstallOptions, type InstallResult, type ReleaseHooks} from '../helm/install.js'
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'

export interface ChainInstallResult {
  skipped?: string
  result?: InstallResult
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
