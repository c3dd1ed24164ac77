/**
 * What an earlier install left behind, checked before `consulk8s install` (as consul-k8s install
 * does): another Consul release in the cluster, PersistentVolumeClaims of a previous release
 * (new servers would start on old Raft and ACL state), and secrets of a previous install (a stale
 * bootstrap token keeps server-acl-init from ever completing). Each is an error naming the
 * command that clears it; --force turns them into warnings saying what may break.
 *
 * Federation material (the federation secret, the CA and gossip-key secrets, kept on purpose by
 * `uninstall --wipe-data`) and secrets the values read are expected, never leftovers.
 */
import type {V1PersistentVolumeClaim} from '@kubernetes/client-node'

import type {KubeCluster} from '../kube/client.js'
import type {ChartNames} from '../federation/names.js'
import {UserError} from '../shared/errors.js'
import type {Progress} from '../shared/hooks.js'
import type {Helm} from './helm.js'
import {listSecrets, type SecretSummary} from './release-objects.js'
import {isFederationMaterial, secretOrigin} from './uninstall.js'

export interface Leftover {
  /** "another Consul release", ... */
  what: string
  items: string[]
  /** The command that clears it. */
  clear: string
  /** What may break when the install goes on anyway (--force). */
  risk: string
}

export interface LeftoverTarget {
  context: string
  namespace: string
  release: string
  names: ChartNames
  /** Secrets the values read: expected to exist. */
  referenced: string[]
}

/** Secrets of an earlier install: the chart jobs' and the release's ACL tokens, not federation material, not what the values read. */
export function leftoverSecrets(secrets: SecretSummary[], names: ChartNames, referenced: string[]): string[] {
  return secrets
    .filter((secret) => {
      const origin = secretOrigin(secret, names)
      return origin !== undefined && origin !== 'created by consulk8s' && !isFederationMaterial(secret, names) && !referenced.includes(secret.name)
    })
    .map((secret) => secret.name)
    .sort()
}

/**
 * Claims of a previous release's servers: in the namespace, label release=<name> or the
 * StatefulSet's claim names; anywhere in the cluster, a name holding "consul-server" (the rule of
 * `consul-k8s install`). Claims of another namespace are named "<namespace>/<name>".
 */
export function leftoverClaims(
  claims: V1PersistentVolumeClaim[],
  target: Pick<LeftoverTarget, 'namespace' | 'release' | 'names'>,
): {blocking: string[]; terminating: string[]} {
  const serverClaim = new RegExp(`^data-${target.namespace}-${target.names.serverStatefulSet}-\\d+$`)
  const blocking: string[] = []
  const terminating: string[] = []
  for (const claim of claims) {
    const name = claim.metadata?.name ?? ''
    const namespace = claim.metadata?.namespace ?? target.namespace
    const here = namespace === target.namespace
    const ours = here && (claim.metadata?.labels?.release === target.release || serverClaim.test(name))
    if (!ours && !name.includes('consul-server')) continue
    const shown = here ? name : `${namespace}/${name}`
    if (claim.metadata?.deletionTimestamp) terminating.push(shown)
    else blocking.push(shown)
  }
  return {blocking: blocking.sort(), terminating: terminating.sort()}
}

/** `kubectl delete pvc` for the claims, one command per namespace ("ns/name" names another one). */
export function deleteClaimsCommand(namespace: string, claims: string[]): string {
  const byNamespace = new Map<string, string[]>()
  for (const claim of claims) {
    const [claimNamespace, name] = claim.includes('/') ? claim.split('/', 2) : [namespace, claim]
    byNamespace.set(claimNamespace, [...(byNamespace.get(claimNamespace) ?? []), name])
  }
  return [...byNamespace].map(([claimNamespace, names]) => `kubectl delete pvc -n ${claimNamespace} ${names.join(' ')}`).join('; ')
}

export async function findLeftovers(cluster: KubeCluster, helm: Helm, target: LeftoverTarget, ui: Progress): Promise<Leftover[]> {
  const leftovers: Leftover[] = []
  const scope = `--context ${target.context} -n ${target.namespace} --release ${target.release}`

  const others = (await helm.listAll()).filter(
    (release) => release.chartName === 'consul' && !(release.name === target.release && release.namespace === target.namespace),
  )
  if (others.length > 0) {
    leftovers.push({
      what: 'another Consul release in this cluster',
      items: others.map((other) => `${other.name} in namespace ${other.namespace} (${other.status}, chart ${other.chart})`),
      clear: others.map((other) => `consulk8s uninstall --context ${target.context} -n ${other.namespace} --release ${other.name}`).join('\n'),
      risk: 'two Consul installs in one cluster share the cluster-wide CustomResourceDefinitions, webhooks and ClusterRoles: helm may refuse objects the other release owns, or this release takes them over and breaks the other',
    })
  }

  const claims = await cluster.list<V1PersistentVolumeClaim>('list persistent volume claims in all namespaces', {
    resource: 'persistentvolumeclaims',
  })
  const {blocking, terminating} = leftoverClaims(claims, target)
  if (terminating.length > 0) ui.info(`PersistentVolumeClaims being deleted: ${terminating.join(', ')} (they go once no pod uses them)`)
  if (blocking.length > 0) {
    leftovers.push({
      what: 'PersistentVolumeClaims of a previous release',
      items: blocking,
      clear: `consulk8s uninstall ${scope} --wipe-data   (or: ${deleteClaimsCommand(target.namespace, blocking)})`,
      risk: "the new servers start on the old data (Raft peers, ACL state): they may not elect a leader, and the chart's ACL set-up may never complete",
    })
  }

  const secrets = leftoverSecrets(await listSecrets(cluster, target.namespace), target.names, target.referenced)
  if (secrets.length > 0) {
    leftovers.push({
      what: 'secrets of a previous Consul install',
      items: secrets,
      clear: `consulk8s uninstall ${scope} --wipe-data   (or: kubectl delete secret -n ${target.namespace} ${secrets.join(' ')})`,
      risk: 'a stale bootstrap or component ACL token does not match the new servers: server-acl-init never completes and the components cannot log in',
    })
  }
  return leftovers
}

/** Refuse (or with force, warn about) the leftovers. */
export function handleLeftovers(leftovers: Leftover[], force: boolean, ui: Progress): void {
  if (leftovers.length === 0) {
    ui.success('No other Consul release, no leftover PersistentVolumeClaims or secrets')
    return
  }
  if (force) {
    for (const leftover of leftovers) {
      ui.warn(`--force: going on despite ${leftover.what}: ${leftover.items.join(', ')}. What may break: ${leftover.risk}.`)
    }
    return
  }
  const message = leftovers.map((leftover) => `${leftover.what}: ${leftover.items.join(', ')}`).join('; ')
  throw new UserError(`Install refused, the cluster holds ${message}.`, {
    hint: [
      ...leftovers.map((leftover) => `Clear ${leftover.what} with:\n  ${leftover.clear.split('\n').join('\n  ')}`),
      'Or pass --force to install anyway (it says what may break). Nothing was changed.',
    ].join('\n'),
  })
}
