/**
 * `federate secondary`: bring the primary's federation secret into a secondary's context
 * (from the primary context or a file), choose k8sAuthMethodHost, and write the secondary's
 * Helm values. Like primary.ts in three phases: read what exists (readSecondaryState), plan
 * (pure: planSecondary), apply. Every check (secret complete, datacenter name distinct,
 * conflicts) runs before anything is written.
 */
import type {KubeCluster} from '../kube/client.js'
import {namespaceExists} from '../kube/reads.js'
import {UserError} from '../shared/errors.js'
import {displayPath, readOptionalText, writeFileAtomic} from '../shared/files.js'
import type {Choices} from './choices.js'
import {ensureProxyDefaults} from './proxy-defaults.js'
import type {ConsulClient} from '../consul/client.js'
import {consulk8sInstallCommand, helmInstallCommand} from '../helm/chart.js'
import {chooseK8sAuthMethodHost, isLoopbackServer, validateK8sAuthMethodHost, type ApiEndpoint, type AuthHostChoice} from './k8s-auth-host.js'
import {releaseNames, validateDatacenterName} from './names.js'
import type {Step, StepAction} from './primary.js'
import {parseSecretManifest, validateFederationData, type FederationSummary, type SecretObject} from './secret.js'
import {readApiEndpoints, type SecretStore, type StoredSecret} from './store.js'
import {applyImport, planImport, type ImportPlan} from './transfer.js'
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

/** The federation secret to import, a description of where it came from, and what it holds. */
export interface FederationSource {
  secret: SecretObject
  name: string
  summary: FederationSummary
}

/** The federation secret to import and a description of where it came from. */
export async function loadFederationSource(source: {store: SecretStore; release: string} | {text: string; path: string}): Promise<FederationSource> {
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

export interface SecondaryEnv {
  target: SecretStore
  cluster: KubeCluster
  consul?: ConsulClient
  source: FederationSource
  /** Ask before overwriting the values file or (with --force) a federation secret; throws to abort. */
  confirm(message: string): Promise<void>
}

/** Everything read before planning. */
export interface SecondaryState {
  /** The secondary's kube context and the API server its kubeconfig names. */
  context: string
  server: string
  /** default/kubernetes endpoints: read only when ACLs need k8sAuthMethodHost, no flag gives it and the server is loopback. */
  endpoints?: ApiEndpoint[]
  /** The values file's current text; undefined when it does not exist. */
  valuesText?: string
  /** The federation secret already in the secondary's namespace. */
  existing?: StoredSecret
  namespaceExists: boolean
}

export interface SecondaryPlan {
  authHost?: AuthHostChoice
  valuesText: string
  valuesAction: StepAction
  import: ImportPlan
  /** The federation secret the import replaces (or leaves), as read. */
  existing?: StoredSecret
  steps: Step[]
  warnings: string[]
}

/** The checks that need no cluster: the datacenter name, and --k8s-auth-method-host when ACLs use it. */
export function validateSecondaryOptions(options: SecondaryOptions, summary: FederationSummary): void {
  checkSecondaryDatacenter(options.datacenter, summary.primaryDatacenter)
  if (summary.acls && options.k8sAuthMethodHost) validateK8sAuthMethodHost(options.k8sAuthMethodHost)
}

/** Reads the secondary's API endpoints (when needed), the values file and the federation secret there. Only reads. */
export async function readSecondaryState(options: SecondaryOptions, env: SecondaryEnv): Promise<SecondaryState> {
  const server = env.cluster.server
  const needsEndpoints = env.source.summary.acls && !options.k8sAuthMethodHost && isLoopbackServer(server)
  const endpoints = needsEndpoints ? await readApiEndpoints(env.cluster) : undefined
  const valuesText = await readOptionalText(options.valuesFile)
  const existing = await env.target.get(releaseNames(options.release).federationSecret)
  return {
    context: env.cluster.name,
    server,
    endpoints,
    valuesText,
    existing,
    namespaceExists: await namespaceExists(env.cluster, options.namespace),
  }
}

/** Pure: k8sAuthMethodHost, the values, and the import, each checked (it throws on conflicts) before anything is written. */
export function planSecondary(options: SecondaryOptions, source: FederationSource, state: SecondaryState): SecondaryPlan {
  const {summary} = source
  const names = releaseNames(options.release)
  const warnings: string[] = []
  let authHost: AuthHostChoice | undefined
  if (summary.acls) {
    authHost = chooseK8sAuthMethodHost({flag: options.k8sAuthMethodHost, server: state.server, context: state.context, endpoints: state.endpoints})
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
      context: state.context,
    }),
  )
  const valuesAction: StepAction = valuesFileAction(state.valuesText, valuesText)
  const importPlan = planImport(source.secret, state.existing, {
    release: options.release,
    namespace: options.namespace,
    force: options.force,
    namespaceExists: state.namespaceExists,
    sourceName: source.name,
  })
  if (importPlan.renamedFrom)
    warnings.push(
      `The secret is named ${importPlan.renamedFrom} in its source; it is imported as ${importPlan.name}, the name release "${options.release}" uses.`,
    )
  const steps: Step[] = [...importPlan.steps, {kind: 'file', name: options.valuesFile, action: valuesAction, detail: 'Helm values of the secondary'}]
  return {authHost, valuesText, valuesAction, import: importPlan, existing: state.existing, steps, warnings}
}

/** Writes what the plan says: the federation secret (and its namespace), then the values file. */
export async function applySecondary(options: SecondaryOptions, env: SecondaryEnv, plan: SecondaryPlan): Promise<void> {
  if (plan.valuesAction === 'update') await env.confirm(`${options.valuesFile} exists with other content and will be overwritten. Continue?`)
  await applyImport(plan.import, plan.existing, {store: env.target, cluster: env.cluster}, env.confirm)
  if (plan.valuesAction !== 'unchanged') await writeFileAtomic(options.valuesFile, plan.valuesText, 0o644)
}

/** The whole `federate secondary`: check, read, plan, apply (unless a dry run), then the ProxyDefaults step. */
export async function runSecondary(options: SecondaryOptions, env: SecondaryEnv): Promise<SecondaryResult> {
  const {summary} = env.source
  validateSecondaryOptions(options, summary)
  const plan = planSecondary(options, env.source, await readSecondaryState(options, env))
  if (!options.dryRun) await applySecondary(options, env, plan)
  // The seed's ProxyDefaults step (mesh gateway mode local), in the secondary's cluster.
  const proxyDefaults = await ensureProxyDefaults({cluster: env.cluster, consul: env.consul, namespace: options.namespace, dryRun: options.dryRun})
  return {
    context: env.cluster.name,
    namespace: options.namespace,
    datacenter: options.datacenter,
    primaryDatacenter: summary.primaryDatacenter,
    primaryGateways: summary.primaryGateways,
    acls: summary.acls,
    gossip: summary.gossip,
    k8sAuthMethodHost: plan.authHost?.url,
    k8sAuthMethodHostSource: plan.authHost?.source,
    dryRun: options.dryRun,
    source: env.source.name,
    steps: [...plan.steps, proxyDefaults],
    warnings: plan.warnings,
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
