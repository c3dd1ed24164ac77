/**
 * `federate secondary`: bring the primary's federation secret into a secondary's context
 * (from the primary context or a file), choose k8sAuthMethodHost, and write the secondary's
 * Helm values. Every check (secret complete, datacenter name distinct, conflicts) runs
 * before anything is written.
 */
import {readFile} from 'node:fs/promises'

import type {KubeCluster} from '../kube/client.js'
import {UserError, errorMessage} from '../shared/errors.js'
import {writeFileAtomic} from '../shared/files.js'
import type {Choices} from './choices.js'
import {displayPath} from './command-support.js'
import {ensureProxyDefaults} from './proxy-defaults.js'
import type {ConsulClient} from '../consul/client.js'
import {consulk8sInstallCommand, helmInstallCommand} from '../helm/chart.js'
import {chooseK8sAuthMethodHost, isLoopbackServer, type AuthHostChoice} from './k8s-auth-host.js'
import {releaseNames, validateDatacenterName} from './names.js'
import type {Step, StepAction} from './primary.js'
import {parseSecretManifest, validateFederationData, type FederationSummary, type SecretObject} from './secret.js'
import {namespaceExists, readApiEndpoints, type SecretStore} from './store.js'
import {applyImport, planImport} from './transfer.js'
import {buildSecondaryValues, renderValues, secondaryValuesHeader, valuesFileAction} from './values.js'

export interface SecondaryOptions extends Omit<Choices, 'acls' | 'gossip'> {
  release: string
  namespace: string
  context: string
  /** The primary's kube context when known (--primary-context), for the printed verify step. */
  primaryContext?: string
  k8sAuthMethodHost?: string
  valuesFile: string
  force: boolean
  dryRun: boolean
}

export interface SecondaryResult {
  context: string
  namespace: string
  datacenter: string
  primaryDatacenter: string
  primaryGateways: string[]
  acls: boolean
  gossip: boolean
  k8sAuthMethodHost?: string
  k8sAuthMethodHostSource?: AuthHostChoice['source']
  dryRun: boolean
  source: string
  steps: Step[]
  warnings: string[]
  valuesFile: string
  next: string[]
}

/** The federation secret to import and a description of where it came from. */
export async function loadFederationSource(
  source: {store: SecretStore; release: string} | {text: string; path: string},
): Promise<{secret: SecretObject; name: string; summary: FederationSummary}> {
  if ('text' in source) {
    const name = source.path === '-' ? 'the federation secret on stdin' : `federation secret file ${source.path}`
    const secret = parseSecretManifest(source.text, name)
    return {secret, name, summary: validateFederationData(secret.data, name)}
  }
  const secretName = releaseNames(source.release).federationSecret
  const secret = await source.store.get(secretName)
  if (!secret) {
    throw new UserError(`There is no federation secret ${secretName} in ${source.store.where}.`, {
      hint: 'Create it first with `consulk8s federate primary --context <primary>` (after the primary is installed), or pass -f with an exported file.',
    })
  }
  const name = `Secret ${secretName} in ${source.store.where}`
  return {secret, name, summary: validateFederationData(secret.data, name)}
}

/** Refuses a secondary named like the primary. */
export function checkSecondaryDatacenter(datacenter: string, primaryDatacenter: string): void {
  validateDatacenterName(datacenter)
  if (datacenter === primaryDatacenter) {
    throw new UserError(`The secondary datacenter cannot be named "${datacenter}": that is the primary's name.`, {
      hint: 'Every federated datacenter needs a unique name; pass --datacenter with another one, e.g. dc2.',
    })
  }
}

/** What the operator runs next: the install (helm, or consulk8s in one step) in the secondary's context, then verify. */
export function secondaryNextSteps(target: {
  release: string
  namespace: string
  context: string
  valuesFile: string
  primaryContext?: string
}): string[] {
  return [
    helmInstallCommand(target),
    `${consulk8sInstallCommand(target)}   # or, instead of helm: the same install in one step with a preflight`,
    `consulk8s verify --context ${target.primaryContext ?? '<primary-context>'} --context ${target.context} -n ${target.namespace}`,
  ]
}

export async function runSecondary(
  options: SecondaryOptions,
  env: {
    target: SecretStore
    cluster: KubeCluster
    consul?: ConsulClient
    source: {secret: SecretObject; name: string; summary: FederationSummary}
    confirm(message: string): Promise<void>
  },
): Promise<SecondaryResult> {
  const {secret, summary} = env.source
  checkSecondaryDatacenter(options.datacenter, summary.primaryDatacenter)
  const names = releaseNames(options.release)
  const warnings: string[] = []
  let authHost: AuthHostChoice | undefined
  if (summary.acls) {
    const server = env.cluster.server
    const endpoints = !options.k8sAuthMethodHost && isLoopbackServer(server) ? await readApiEndpoints(env.cluster) : undefined
    authHost = chooseK8sAuthMethodHost({flag: options.k8sAuthMethodHost, server, context: env.cluster.name, endpoints})
    if (authHost.warning) warnings.push(authHost.warning)
  } else if (options.k8sAuthMethodHost) {
    warnings.push('--k8s-auth-method-host is ignored: the federation secret has no replication token, so ACLs are off.')
  }

  const valuesText = renderValues(
    buildSecondaryValues({
      release: options.release,
      names,
      datacenter: options.datacenter,
      primaryDatacenter: summary.primaryDatacenter,
      acls: summary.acls,
      gossip: summary.gossip,
      meshGatewayServiceType: options.meshGatewayServiceType,
      k8sAuthMethodHost: authHost?.url,
    }),
    secondaryValuesHeader({
      datacenter: options.datacenter,
      primaryDatacenter: summary.primaryDatacenter,
      release: options.release,
      namespace: options.namespace,
      context: env.cluster.name,
    }),
  )
  let previous: string | undefined
  try {
    previous = await readFile(options.valuesFile, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`Cannot read ${options.valuesFile}: ${errorMessage(error)}`)
  }
  const valuesAction: StepAction = valuesFileAction(previous, valuesText)

  // Plan the import first (it throws on conflicts) so nothing is written on bad input.
  const existing = await env.target.get(names.federationSecret)
  const nsExists = await namespaceExists(env.cluster, options.namespace)
  const importPlan = planImport(secret, existing, {
    release: options.release,
    namespace: options.namespace,
    force: options.force,
    namespaceExists: nsExists,
    sourceName: env.source.name,
  })
  if (importPlan.renamedFrom)
    warnings.push(
      `The secret is named ${importPlan.renamedFrom} in its source; it is imported as ${importPlan.name}, the name release "${options.release}" uses.`,
    )
  if (!options.dryRun) {
    if (valuesAction === 'update') await env.confirm(`${options.valuesFile} exists with other content and will be overwritten. Continue?`)
    await applyImport(importPlan, existing, {store: env.target, cluster: env.cluster}, env.confirm)
    if (valuesAction !== 'unchanged') await writeFileAtomic(options.valuesFile, valuesText, 0o644)
  }
  const steps: Step[] = [...importPlan.steps, {kind: 'file', name: options.valuesFile, action: valuesAction, detail: 'Helm values of the secondary'}]
  // The seed's ProxyDefaults step (mesh gateway mode local), in the secondary's cluster.
  steps.push(await ensureProxyDefaults({cluster: env.cluster, consul: env.consul, namespace: options.namespace, dryRun: options.dryRun}))
  return {
    context: env.cluster.name,
    namespace: options.namespace,
    datacenter: options.datacenter,
    primaryDatacenter: summary.primaryDatacenter,
    primaryGateways: summary.primaryGateways,
    acls: summary.acls,
    gossip: summary.gossip,
    k8sAuthMethodHost: authHost?.url,
    k8sAuthMethodHostSource: authHost?.source,
    dryRun: options.dryRun,
    source: env.source.name,
    steps,
    warnings,
    valuesFile: options.valuesFile,
    next: secondaryNextSteps({
      release: options.release,
      namespace: options.namespace,
      context: env.cluster.name,
      valuesFile: displayPath(options.valuesFile),
      primaryContext: options.primaryContext,
    }),
  }
}
