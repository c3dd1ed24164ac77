/**
 * oclif flag definitions of the install lifecycle, shared by install, upgrade, status and
 * uninstall (and reusable by `federate ... --install`), and the one mapping of their parsed
 * values to the library's options. Only definitions live here; the logic of src/helm/ knows
 * nothing of oclif.
 */
import {Flags} from '@oclif/core'

import {DEFAULT_CHART_VERSION, HASHICORP_REPO} from './chart.js'
import {outputFlag, timeoutFlag} from '../shared/flags.js'
import type {InstallOptions} from './install.js'
import type {LocateOptions} from './status.js'

export const helmBinaryFlag = {
  'helm-binary': Flags.string({
    description: 'Path of the helm binary, 3.13 or newer (default: helm on PATH).',
    env: 'CONSULK8S_HELM',
  }),
}

export const chartFlags = {
  chart: Flags.string({
    description: 'Local Consul chart directory (or packaged .tgz) instead of the HashiCorp repository, e.g. for air-gapped clusters.',
    helpValue: 'DIR',
  }),
  'chart-version': Flags.string({
    description: `Version of the hashicorp/consul chart from the repository (default: ${DEFAULT_CHART_VERSION}, the version consulk8s is tested with, on install; the release's current version on upgrade).`,
    helpValue: 'VERSION',
  }),
  'chart-repo': Flags.string({
    description: 'Helm repository URL of the Consul chart.',
    default: HASHICORP_REPO,
    helpValue: 'URL',
  }),
}

export const valuesFlags = {
  values: Flags.string({
    char: 'f',
    description: 'Helm values file (YAML); repeat for several, later files win.',
    multiple: true,
    helpValue: 'FILE',
  }),
  set: Flags.string({
    description: 'Set a value, Helm style: key.path=value (repeatable; a,b lists as {a,b}).',
    multiple: true,
    helpValue: 'KEY=VALUE',
  }),
  'set-string': Flags.string({
    description: 'Set a value, always as a string (repeatable).',
    multiple: true,
    helpValue: 'KEY=VALUE',
  }),
}

export const waitFlags = {
  wait: Flags.boolean({
    description: "Wait until the release's servers and gateways are ready, printing what is still awaited.",
    default: false,
  }),
  ...timeoutFlag('How long helm and --wait may take (90s, 10m, 1h).'),
}

/** install and upgrade: wait by default (consul-k8s does too); --no-wait returns after helm. */
export const releaseWaitFlags = {
  wait: Flags.boolean({
    description:
      "Wait until the release's workloads are ready, printing what is still awaited and why (pod and container states, events); --no-wait returns once helm is done.",
    default: true,
    allowNo: true,
  }),
  timeout: waitFlags.timeout,
}

export const forceFlag = {
  force: Flags.boolean({
    description:
      'Install despite another Consul release in the cluster, leftover PersistentVolumeClaims or secrets of an earlier install (says what may break).',
    default: false,
  }),
}

export const noHooksFlag = {
  'no-hooks': Flags.boolean({
    description: "Skip the chart's hook Jobs (TLS, gossip key, ACL and federation-secret set-up); for clusters that cannot run Jobs.",
    default: false,
  }),
}

/** status and config read: -n/--release without defaults, so that the release is searched for in every namespace. */
export const releaseLocatorFlags = {
  namespace: Flags.string({char: 'n', description: 'Namespace of the release (default: search every namespace).', helpGroup: 'GLOBAL'}),
  release: Flags.string({
    description: 'Helm release name (default: consul with -n; without -n, the one release of the consul chart).',
    helpGroup: 'GLOBAL',
  }),
}

/** The options of locateRelease from the flags of status and config read. */
export function locateOptionsFromFlags(flags: {kubeconfig?: string; namespace?: string; release?: string; 'helm-binary'?: string}): LocateOptions {
  return {kubeconfig: flags.kubeconfig, namespace: flags.namespace, release: flags.release, helmBinary: flags['helm-binary']}
}

/** The -f/--set flags as the library takes them. */
export function valuesFromFlags(flags: {values?: string[]; set?: string[]; 'set-string'?: string[]}) {
  return {files: flags.values ?? [], set: flags.set ?? [], setString: flags['set-string'] ?? []}
}

export const resultOutputFlag = {
  output: outputFlag(
    ['json', 'yaml'],
    'Print the result to stdout as json or yaml (with --dry-run, yaml is the manifest helm rendered); progress goes to stderr.',
  ),
}

/** The parsed flags install and upgrade share. */
export interface LifecycleFlags {
  kubeconfig?: string
  namespace: string
  release: string
  'helm-binary'?: string
  chart?: string
  'chart-version'?: string
  'chart-repo'?: string
  values?: string[]
  set?: string[]
  'set-string'?: string[]
  wait: boolean
  timeout: number
  'dry-run': boolean
  'no-hooks': boolean
  force?: boolean
}

/** The library options of install/upgrade from their flags. */
export function installOptionsFromFlags(flags: LifecycleFlags): InstallOptions {
  return {
    kubeconfig: flags.kubeconfig,
    namespace: flags.namespace,
    release: flags.release,
    helmBinary: flags['helm-binary'],
    chart: flags.chart,
    chartVersion: flags['chart-version'],
    chartRepo: flags['chart-repo'],
    ...valuesFromFlags(flags),
    wait: flags.wait,
    timeoutMs: flags.timeout,
    dryRun: flags['dry-run'],
    noHooks: flags['no-hooks'],
    force: flags.force,
  }
}

/** The parsed flags `federate ... --install` shares with `consulk8s install` (values and timeout come from the command). */
export type ChainInstallFlags = Omit<LifecycleFlags, 'values' | 'set' | 'set-string' | 'timeout' | 'force'>

/** The install options of `federate ... --install`: its flags, with the values file it wrote. */
export function chainInstallOptions(flags: ChainInstallFlags, valuesFile: string, timeoutMs: number): InstallOptions {
  // federate's own --force (overwrite the federation secret) is not install's --force.
  return installOptionsFromFlags({...flags, values: [valuesFile], set: undefined, 'set-string': undefined, timeout: timeoutMs, force: undefined})
}
