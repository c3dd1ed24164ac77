/**
 * --wait: poll the release's StatefulSets, Deployments and DaemonSets until each is ready,
 * printing what is still awaited (and why its pods are not ready) instead of a bare
 * "deadline exceeded". helm's own --wait is not used: it says nothing while it waits.
 */
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import type {Progress} from '../shared/hooks.js'
import {pollUntil} from '../shared/poll.js'
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
  let lastMessage = ''
  const reported = new Set<string>()
  const pendingOf = (workloads: WorkloadState[]) => workloads.filter((workload) => !isWorkloadReady(workload))
  const workloads = await pollUntil<WorkloadState[]>({
    attempt: async () => {
      const workloads = await listReleaseWorkloads(cluster, options.namespace, options.release)
      const pending = pendingOf(workloads)
      const message = `Waiting for ${describeWaiting(pending)}`
      if (pending.length > 0 && message !== lastMessage) {
        ui.progress(message)
        lastMessage = message
      }
      return workloads
    },
    done: (workloads) => pendingOf(workloads).length === 0,
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs ?? 2000,
    // What keeps them back, each reason once, as it appears (a crash loop shows before the timeout).
    onWaiting: async () => {
      for (const problem of await podProblems(cluster, options.namespace, options.release)) {
        if (reported.has(problem)) continue
        reported.add(problem)
        ui.line(`    ${problem}`)
      }
    },
    onTimeout: async (workloads) => {
      ui.done()
      const problems = await podProblems(cluster, options.namespace, options.release)
      throw new UserError(`Timed out after ${formatDuration(options.timeoutMs)} still waiting for ${describeWaiting(pendingOf(workloads))}.`, {
        hint: [
          ...(problems.length > 0
            ? ['Not ready:', ...problems.slice(0, 10).map((problem) => `  ${problem}`)]
            : ['No pods were created for them yet.']),
          `The release is installed; \`consulk8s status --context ${cluster.name} -n ${options.namespace}\` shows its state, \`kubectl get pods -n ${options.namespace} -l release=${options.release}\` the pods.`,
        ].join('\n'),
      })
    },
  })
  ui.done('ok', workloads.length === 0 ? 'The release has no workloads to wait for' : `Ready: ${describeWaiting(workloads)}`)
  return workloads
}
