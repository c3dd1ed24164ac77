/**
 * --wait: poll the release's StatefulSets, Deployments and DaemonSets until each is ready,
 * printing what is still awaited (and why its pods are not ready) instead of a bare
 * "deadline exceeded". helm's own --wait is not used: it says nothing while it waits.
 */
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import type {Progress} from '../shared/hooks.js'
import {formatDuration} from '../shared/duration.js'
import {isWorkloadReady, listReleaseWorkloads, podProblems, type WorkloadState} from './release-objects.js'

export interface WaitOptions {
  namespace: string
  release: string
  timeoutMs: number
  intervalMs?: number
}

export function describeWaiting(workloads: WorkloadState[]): string {
  return workloads.map((workload) => `${workload.kind} ${workload.name} (${workload.ready}/${workload.desired} ready)`).join(', ')
}

export async function waitForRelease(cluster: KubeCluster, options: WaitOptions, ui: Progress): Promise<WorkloadState[]> {
  const deadline = Date.now() + options.timeoutMs
  const interval = options.intervalMs ?? 2000
  let lastMessage = ''
  const reported = new Set<string>()
  for (;;) {
    const workloads = await listReleaseWorkloads(cluster, options.namespace, options.release)
    const pending = workloads.filter((workload) => !isWorkloadReady(workload))
    if (pending.length === 0) {
      ui.done('ok', workloads.length === 0 ? 'The release has no workloads to wait for' : `Ready: ${describeWaiting(workloads)}`)
      return workloads
    }
    const message = `Waiting for ${describeWaiting(pending)}`
    if (message !== lastMessage) {
      ui.progress(message)
      lastMessage = message
    }
    if (Date.now() >= deadline) {
      ui.done()
      const problems = await podProblems(cluster, options.namespace, options.release)
      throw new UserError(`Timed out after ${formatDuration(options.timeoutMs)} still waiting for ${describeWaiting(pending)}.`, {
        hint: [
          ...(problems.length > 0
            ? ['Not ready:', ...problems.slice(0, 10).map((problem) => `  ${problem}`)]
            : ['No pods were created for them yet.']),
          `The release is installed; \`consulk8s status --context ${cluster.name} -n ${options.namespace}\` shows its state, \`kubectl get pods -n ${options.namespace} -l release=${options.release}\` the pods.`,
        ].join('\n'),
      })
    }
    // What keeps them back, each reason once, as it appears (a crash loop shows before the timeout).
    for (const problem of await podProblems(cluster, options.namespace, options.release)) {
      if (reported.has(problem)) continue
      reported.add(problem)
      ui.line(`    ${problem}`)
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))))
  }
}
