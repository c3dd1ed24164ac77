/**
 * Starts the whole environment in a work directory and writes its state file; stops it.
 * Used by with-env.ts (one environment per test run) and cli.ts (the shared development one).
 */
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {cacheDir, readVersions, REPO_ROOT, resolveBins} from './bins.js'
import {resolveChartDir} from './chart.js'
import {startConsulFederation} from './consul.js'
import {kubeconfigYaml, startKubeCluster, startLocalForwarder} from './kube.js'
import {startSimulatedNode} from './kwok.js'
import {createTestHost, deleteTestHosts, testHostStatus} from './netns.js'
import {isRunning, processNames, stopAll} from './procs.js'
import type {TestEnvState} from './types.js'

export const STATE_FILE = 'state.json'

export class SetupError extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`test environment setup failed at step "${step}": ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'SetupError'
  }
}

async function step<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw error instanceof SetupError ? error : new SetupError(name, error)
  }
}

export function reporter(prefix = 'testenv'): (line: string) => void {
  const start = Date.now()
  return (line) => process.stderr.write(`${prefix}: ${line} (${((Date.now() - start) / 1000).toFixed(1)}s)\n`)
}

/** Starts everything in `workDir` (created if needed) and returns the state written to `<workDir>/state.json`. */
// eslint-disable-next-line max-lines-per-function -- the environment start-up as a list of named steps
export async function startEnvironment(workDir: string, report = reporter()): Promise<TestEnvState> {
  mkdirSync(workDir, {recursive: true, mode: 0o700})
  try {
    const {bin, versions} = await step('binaries', () => resolveBins())
    const chartDir = await step('consul helm chart', () => resolveChartDir(REPO_ROOT, cacheDir(), readVersions().CONSUL_CHART_VERSION ?? '2.0.3'))
    report(`chart ${chartDir}`)
    // One network namespace per cluster and run (the project's own test hosts; see netns.ts).
    const runId = randomBytes(3).toString('hex')
    const hosts = await step('network namespaces (ip netns add + veth pair per cluster)', () => ({
      dc1: createTestHost(workDir, 'dc1', runId),
      dc2: createTestHost(workDir, 'dc2', runId),
    }))
    report(`test hosts: dc1 ${hosts.dc1.address} (netns ${hosts.dc1.netns}), dc2 ${hosts.dc2.address} (netns ${hosts.dc2.netns})`)
    report('starting 2 Kubernetes control planes (etcd and kube-apiserver in the namespaces) and 2 Consul datacenters')
    const kubeBins = {etcd: bin.etcd, kubeApiserver: bin.kubeApiserver, kubeControllerManager: bin.kubeControllerManager}
    const [dc1, dc2, consul] = await Promise.all([
      step('kubernetes dc1', () =>
        startKubeCluster({
          workDir,
          name: 'dc1',
          testHost: hosts.dc1,
          serviceCidr: '10.96.0.0/16',
          firstServiceIp: '10.96.0.1',
          bins: kubeBins,
          report,
        }),
      ),
      step('kubernetes dc2', () =>
        startKubeCluster({
          workDir,
          name: 'dc2',
          testHost: hosts.dc2,
          serviceCidr: '10.97.0.0/16',
          firstServiceIp: '10.97.0.1',
          bins: kubeBins,
          report,
        }),
      ),
      step('consul federation', () => startConsulFederation({workDir, consulBin: bin.consul, report})),
    ])
    await step('localhost forwarder (127.0.0.1:<port> -> API servers)', () => startLocalForwarder(workDir, [dc1, dc2], report))

    let simulatedNode: string | undefined
    if (bin.kwok) {
      const kwokBins = {kwok: bin.kwok, kubeScheduler: bin.kubeScheduler, consul: bin.consul}
      const simulated = (name: 'dc1' | 'dc2', cluster: typeof dc1, podCidr: string) =>
        step(`simulated node ${name}`, () =>
          startSimulatedNode({
            workDir,
            name,
            cluster,
            bins: kwokBins,
            consul: {httpAddr: consul.consul[name].httpAddr, caCertFile: consul.federation.caCertFile},
            podCidr,
            report,
          }),
        )
      ;[simulatedNode] = await Promise.all([simulated('dc1', dc1, '10.244.0.0/16'), simulated('dc2', dc2, '10.245.0.0/16')])
    }

    const kubeconfig = join(workDir, 'kubeconfig')
    const kubeconfigLocalhost = join(workDir, 'kubeconfig-localhost')
    writeFileSync(
      kubeconfig,
      kubeconfigYaml([
        {name: 'dc1', server: dc1.info.server, tls: dc1.tls},
        {name: 'dc2', server: dc2.info.server, tls: dc2.tls},
      ]),
      {mode: 0o600},
    )
    writeFileSync(
      kubeconfigLocalhost,
      kubeconfigYaml([
        {name: 'dc1', server: dc1.info.server, tls: dc1.tls},
        {name: 'dc2', server: dc2.info.localServer, tls: dc2.tls},
      ]),
      {mode: 0o600},
    )
    const state: TestEnvState = {
      workDir,
      kubeconfig,
      kubeconfigLocalhost,
      clusters: {dc1: dc1.info, dc2: dc2.info},
      consul: consul.consul,
      federation: consul.federation,
      bin,
      versions,
      chartDir,
      simulatedNode,
    }
    writeFileSync(join(workDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n', {mode: 0o600})
    writeFileSync(join(workDir, 'env.sh'), labEnv(state), {mode: 0o600})
    report(`ready: ${join(workDir, STATE_FILE)}`)
    return state
  } catch (error) {
    report('setup failed, stopping what was started')
    await stopEnvironment(workDir).catch((teardown: unknown) =>
      report(`teardown after the failed setup: ${teardown instanceof Error ? teardown.message : String(teardown)}`),
    )
    throw error
  }
}

/** `source <workDir>/env.sh` points kubectl, consul and helm at the environment (dc1). */
function labEnv(state: TestEnvState): string {
  const q = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`
  return [
    '# source this file to use the consulk8s test environment by hand',
    `export CONSULK8S_TESTENV=${q(join(state.workDir, STATE_FILE))}`,
    `export KUBECONFIG=${q(state.kubeconfig)}`,
    `export CONSUL_HTTP_ADDR=${q(state.consul.dc1.httpAddr)}`,
    `export CONSUL_CACERT=${q(state.federation.caCertFile)}`,
    `export CONSUL_HTTP_TOKEN=${q(state.federation.managementToken)}`,
    `export PATH=${q(dirname(state.bin.consul))}:${q(dirname(state.bin.helm))}:"$PATH"`,
    '',
  ].join('\n')
}

export function readState(workDir: string): TestEnvState | undefined {
  try {
    return JSON.parse(readFileSync(join(workDir, STATE_FILE), 'utf8')) as TestEnvState
  } catch {
    return undefined
  }
}

/** Process name -> running, for every process the environment started, and "netns <name>" -> exists for its test hosts. */
export function processStatus(workDir: string): Record<string, boolean> {
  return {...Object.fromEntries(processNames(workDir).map((name) => [name, isRunning(workDir, name)])), ...testHostStatus(workDir)}
}

/**
 * Stops every process, then kills what is left in the test hosts' network namespaces and
 * deletes them (with their veth pairs); with `remove`, deletes the work directory (not when
 * a namespace could not be deleted: its record stays for the next try).
 */
export async function stopEnvironment(workDir: string, options: {remove?: boolean} = {}): Promise<void> {
  await stopAll(workDir)
  await deleteTestHosts(workDir)
  if (options.remove) rmSync(workDir, {recursive: true, force: true})
}
