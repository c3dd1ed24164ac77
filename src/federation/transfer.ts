/**
 * Moving the federation secret between clusters: export (a clean manifest of the secret in
 * the primary), and import (create it in a secondary's namespace, keeping the label
 * `managed-by: consul-k8s` the consul-k8s CLI looks for, consul-k8s#1067). An existing secret
 * with other data is never overwritten without --force; the message names the keys that
 * differ, never their values.
 */
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import {releaseNames, validateNamespaceName} from './names.js'
import type {Step, StepAction} from './primary.js'
import {
  cleanSecretManifest,
  diffSecretData,
  validateFederationData,
  type FederationSummary,
  type SecretManifest,
  type SecretObject,
} from './secret.js'
import {namespaceExists} from '../kube/reads.js'
import {createNamespace, type SecretStore} from './store.js'
import {CONSULK8S_LABEL, CONSUL_K8S_LABEL} from '../shared/labels.js'

export interface ExportResult {
  manifest: SecretManifest
  summary: FederationSummary
}

/** The federation secret of `store` as a clean, validated manifest. */
export async function exportFederationSecret(store: SecretStore, options: {release: string; targetNamespace?: string}): Promise<ExportResult> {
  const names = releaseNames(options.release)
  if (options.targetNamespace) validateNamespaceName(options.targetNamespace)
  const secret = await store.get(names.federationSecret)
  if (!secret) {
    throw new UserError(`There is no federation secret ${names.federationSecret} in ${store.where}.`, {
      hint: 'Create it with `consulk8s federate primary --context <primary>` (check --context, -n and --release).',
    })
  }
  const summary = validateFederationData(secret.data, `Secret ${names.federationSecret} in ${store.where}`)
  const manifest = cleanSecretManifest(secret, options.targetNamespace ?? secret.namespace)
  return {manifest, summary}
}

export const EXPORT_WARNING =
  'The federation secret holds the CA private key, the gossip encryption key and the ACL replication token: whoever has it controls Consul. Keep the file private (it is written with mode 0600) and delete it once imported.'

export interface ImportPlan {
  name: string
  namespace: string
  manifest: SecretManifest
  summary: FederationSummary
  steps: Step[]
  action: StepAction
  /** Present when an existing secret is replaced (with --force): the keys that differ. */
  overwrites?: string[]
  renamedFrom?: string
}

/** The labels an imported secret carries: the source's, plus consul-k8s's and consulk8s's. */
function importLabels(source: SecretObject): Record<string, string> {
  const labels = {...source.labels}
  delete labels['app.kubernetes.io/instance'] // belongs to the source's Helm release, if any
  return {...labels, ...CONSUL_K8S_LABEL, ...CONSULK8S_LABEL}
}

/** The local checks of an import (target namespace name, complete secret): run before any cluster is contacted. */
export function validateImportSource(source: SecretObject, options: {namespace: string; sourceName: string}): FederationSummary {
  validateNamespaceName(options.namespace)
  return validateFederationData(source.data, options.sourceName)
}

/** Pure: what importing `source` into a namespace where `existing` may be means. */
export function planImport(
  source: SecretObject,
  existing: SecretObject | undefined,
  options: {release: string; namespace: string; force: boolean; namespaceExists: boolean; sourceName: string},
): ImportPlan {
  const names = releaseNames(options.release)
  const summary = validateImportSource(source, options)
  const name = names.federationSecret
  const manifest = cleanSecretManifest({...source, name, labels: importLabels(source)}, options.namespace)
  const steps: Step[] = []
  if (!options.namespaceExists) steps.push({kind: 'namespace', name: options.namespace, action: 'create'})
  let action: StepAction = 'create'
  let overwrites: string[] | undefined
  const keys = Object.keys(source.data).sort().join(', ')
  if (existing) {
    const differing = diffSecretData(existing.data, source.data)
    if (differing.length > 0) {
      if (!options.force) {
        throw new UserError(`Secret ${options.namespace}/${name} already exists with different ${differing.join(', ')}; refusing to overwrite it.`, {
          hint: 'It belongs to another federation (or an older export). Re-run with --force to replace it, after checking you import into the right context.',
        })
      }
      overwrites = differing
      action = 'update'
    } else {
      const missingLabel = existing.labels['managed-by'] !== CONSUL_K8S_LABEL['managed-by']
      action = missingLabel ? 'update' : 'unchanged'
    }
  }
  const detail =
    action === 'unchanged'
      ? `same data (${keys})`
      : overwrites
        ? `replaces ${overwrites.join(', ')}`
        : action === 'update'
          ? 'adds the label managed-by: consul-k8s'
          : `keys ${keys}; primary ${summary.primaryDatacenter}, CA ${summary.caFingerprint256.slice(0, 23)}…`
  steps.push({kind: 'secret', name, action, detail})
  return {
    name,
    namespace: options.namespace,
    manifest,
    summary,
    steps,
    action,
    overwrites,
    renamedFrom: source.name === name ? undefined : source.name,
  }
}

/** Writes a planned import (nothing when unchanged). `confirm` guards --force overwrites. */
export async function applyImport(
  plan: ImportPlan,
  existing: SecretObject | undefined,
  target: {store: SecretStore; cluster?: KubeCluster},
  confirm: (message: string) => Promise<void>,
): Promise<void> {
  if (plan.action === 'unchanged') return
  if (plan.overwrites)
    await confirm(`Secret ${plan.namespace}/${plan.name} in ${target.store.where} will be replaced (${plan.overwrites.join(', ')} differ). Continue?`)
  if (target.cluster && plan.steps.some((step) => step.kind === 'namespace' && step.action === 'create'))
    await createNamespace(target.cluster, plan.namespace)
  await target.store.put(plan.manifest, existing)
}

/** Reads what is in the target, plans the import and (unless dryRun) writes it. */
export async function importFederationSecret(
  source: SecretObject,
  target: {store: SecretStore; cluster?: KubeCluster},
  options: {release: string; namespace: string; force: boolean; dryRun: boolean; sourceName: string; confirm(message: string): Promise<void>},
): Promise<ImportPlan & {existing?: SecretObject}> {
  const existing = await target.store.get(releaseNames(options.release).federationSecret)
  const exists = target.cluster ? await namespaceExists(target.cluster, options.namespace) : true
  const plan = planImport(source, existing, {...options, namespaceExists: exists})
  if (!options.dryRun) await applyImport(plan, existing, target, options.confirm)
  return plan
}
