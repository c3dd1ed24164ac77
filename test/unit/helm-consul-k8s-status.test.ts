/**
 * consul-k8s 2.0.3's own CLI tests for `consul-k8s status` (cli/cmd/status/status_test.go),
 * case by case, against consulk8s's workload reading and status rows. Each case is named after
 * its Go test and table entry. The workloads come from a narrow in-process stand-in of the API
 * server's list (StatefulSets, Deployments, DaemonSets of the release, as the Go fixtures make them).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {KubeCluster, ResourceRef} from '../../src/kube/client.js'
import {listReleaseWorkloads, type WorkloadState} from '../../src/helm/release-objects.js'
import {isHealthy, statusRows, type StatusReport} from '../../src/helm/status.js'

/** The Go tables: "No servers", "3 servers expected, 1 healthy", "3 servers expected, 3 healthy" (clients, deployments alike). */
const cases = (noun: string): Array<[string, number, number]> => [
  [`No ${noun}`, 0, 0],
  [`3 ${noun} expected, 1 healthy`, 3, 1],
  [`3 ${noun} expected, 3 healthy`, 3, 3],
]

/** The Go fixtures: spec.replicas desired, status.readyReplicas healthy (a DaemonSet: desiredNumberScheduled, numberReady). */
function workloadObject(kind: string, name: string, desired: number, healthy: number) {
  const metadata = {name, namespace: 'default', labels: {app: 'consul', release: 'consul'}}
  if (kind === 'daemonsets') return {metadata, status: {desiredNumberScheduled: desired, numberReady: healthy}}
  // Deployments: consulk8s counts available replicas (the chart sets no minReadySeconds, so they are the ready ones).
  return {metadata, spec: {replicas: desired}, status: {replicas: desired, readyReplicas: healthy, availableReplicas: healthy}}
}

async function workloads(resource: string, name: string, desired: number, healthy: number): Promise<WorkloadState[]> {
  const selectors: string[] = []
  const cluster = {
    async list(_what: string, ref: ResourceRef, options: {labelSelector?: string}) {
      selectors.push(options.labelSelector ?? '')
      return ref.resource === resource && desired > 0 ? [workloadObject(resource, name, desired, healthy)] : []
    },
  } as unknown as KubeCluster
  const found = await listReleaseWorkloads(cluster, 'default', 'consul')
  assert.deepEqual([...new Set(selectors)], ['release=consul'])
  return found
}

function report(found: WorkloadState[]): StatusReport {
  const federationSecret = {name: 'consul-federation', present: false, keys: [], missing: [], valid: false}
  return {
    context: 'dc1',
    server: 'https://127.0.0.1:6443',
    namespace: 'default',
    release: 'consul',
    found: true,
    status: 'deployed',
    chart: 'consul-2.0.3',
    appVersion: '2.0.3',
    revision: 1,
    federation: 'none',
    hooks: [],
    workloads: found,
    federationSecret,
    proxyDefaults: {crd: false, found: false},
    healthy: isHealthy({status: 'deployed', hooks: [], workloads: found, federationSecret, needsSecret: false}),
  }
}

for (const [test, noun, resource, kind, name] of [
  ['TestCheckConsulServers', 'servers', 'statefulsets', 'StatefulSet', 'consul-server'],
  ['TestCheckConsulClients', 'clients', 'daemonsets', 'DaemonSet', 'consul-client'],
  ['TestCheckConsulDeployments', 'deployments', 'deployments', 'Deployment', 'consul-deployment'],
] as const) {
  describe(test, () => {
    for (const [label, desired, healthy] of cases(noun)) {
      it(label, async () => {
        const found = await workloads(resource, name, desired, healthy)
        const rows = statusRows(report(found)).filter((row) => row.component.startsWith(kind) || row.component === 'Workloads')
        if (desired === 0) {
          // consul-k8s shows no table; consulk8s shows one "Workloads none" row, marked "!".
          assert.deepEqual(found, [])
          assert.deepEqual(
            rows.map((row) => [row.mark, row.component, row.state]),
            [['warn', 'Workloads', 'none']],
          )
          return
        }
        assert.equal(rows.length, 1)
        assert.equal(rows[0].component, `${kind} ${name}`)
        assert.equal(rows[0].state, `${healthy}/${desired} ready`)
        // consul-k8s colours a row red when ready != desired; consulk8s marks it "!" and the report not healthy.
        assert.equal(rows[0].mark, healthy === desired ? 'ok' : 'warn')
        assert.equal(report(found).healthy, healthy === desired)
      })
    }
  })
}
