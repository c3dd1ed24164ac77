/**
 * What tests use of the real test environment:
 *
 *   import {getTestEnv, kubectlArgs, consulEnv, stopConsul, startConsul} from '../env/index.js'
 *   const env = getTestEnv()           // TestEnvState, from $CONSULK8S_TESTENV
 *
 * The environment is started by test/run.sh (through with-env.ts) or, while developing, by
 * `npm run testenv:up`, which prints the state file to put in CONSULK8S_TESTENV.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {consulClientFor, consulProcessName, DATACENTERS, waitConsulUp, waitFederated, type Datacenter} from './consul.js'
import {isRunning, restartProcess, stopProcess} from './procs.js'
import type {TestEnvState} from './types.js'

export type {ConsulDatacenterInfo, KubeClusterInfo, TestEnvState} from './types.js'
export type {Datacenter} from './consul.js'
export {DATACENTERS}

let cached: {path: string; state: TestEnvState} | undefined

/** The running environment's state. Throws a clear error when CONSULK8S_TESTENV is not set. */
export function getTestEnv(): TestEnvState {
  const path = process.env.CONSULK8S_TESTENV
  if (!path) {
    throw new Error(
      'CONSULK8S_TESTENV is not set: integration tests need the real test environment. ' +
        'Run them through `npm test` (test/run.sh), or start one with `npm run testenv:up` and set CONSULK8S_TESTENV to the state file it prints.',
    )
  }
  if (cached?.path === path) return cached.state
  let state: TestEnvState
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as TestEnvState
  } catch (error) {
    throw new Error(
      `CONSULK8S_TESTENV=${path} is not a readable test environment state file: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
  cached = {path, state}
  return state
}

/** `kubectl` arguments for one cluster: `execa(env.bin.kubectl, [...kubectlArgs('dc2'), 'get', 'ns'])`. */
export function kubectlArgs(context: Datacenter | string, options: {localhost?: boolean} = {}): string[] {
  const env = getTestEnv()
  return [`--kubeconfig=${options.localhost ? env.kubeconfigLocalhost : env.kubeconfig}`, `--context=${context}`]
}

/** `helm` arguments for one cluster: `execa(env.bin.helm, [...helmArgs('dc1'), 'list', '-A'], {env: helmEnv()})`. */
export function helmArgs(context: Datacenter | string): string[] {
  return [`--kubeconfig=${getTestEnv().kubeconfig}`, `--kube-context=${context}`]
}

/** Keeps helm's cache, config and data inside the environment's work directory. */
export function helmEnv(): Record<string, string> {
  const dir = join(getTestEnv().workDir, 'helm')
  return {HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config'), HELM_DATA_HOME: join(dir, 'data')}
}

/** Environment variables for the `consul` CLI (or consulk8s) against one datacenter, with the management token. */
export function consulEnv(dc: Datacenter, token?: string): Record<string, string> {
  const env = getTestEnv()
  return {
    CONSUL_HTTP_ADDR: env.consul[dc].httpAddr,
    CONSUL_CACERT: env.federation.caCertFile,
    CONSUL_HTTP_TOKEN: token ?? env.federation.managementToken,
  }
}

/** A ConsulClient (src/consul/client.ts) for one datacenter; management token unless given. Close it after use. */
export function consulClient(dc: Datacenter, token?: string) {
  return consulClientFor(getTestEnv(), dc, token)
}

/**
 * Stops a datacenter's Consul server (SIGTERM, then SIGKILL after 10 s), from any process.
 * Tests that do this share the environment with every other test file running at the same
 * time: restart it before the test ends (try/finally).
 */
export async function stopConsul(dc: Datacenter): Promise<void> {
  await stopProcess(getTestEnv().workDir, consulProcessName(dc))
}

/**
 * Starts a stopped datacenter's Consul server again with the same configuration and data,
 * and waits until it has a leader and resolves ACLs. With `federated`, it also waits until
 * both datacenters see each other again and dc2's ACL replication runs.
 */
export async function startConsul(dc: Datacenter, options: {federated?: boolean} = {}): Promise<void> {
  const env = getTestEnv()
  if (!isRunning(env.workDir, consulProcessName(dc))) await restartProcess(env.workDir, consulProcessName(dc))
  await waitConsulUp(env, dc)
  if (options.federated) await waitFederated(env)
}

export function consulRunning(dc: Datacenter): boolean {
  return isRunning(getTestEnv().workDir, consulProcessName(dc))
}

/** Waits until the two datacenters are federated again (WAN both ways, replication running). */
export async function waitForFederation(): Promise<void> {
  await waitFederated(getTestEnv())
}
