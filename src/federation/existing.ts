/**
 * A Consul release that already runs in the primary's namespace: its values are read (helm get
 * values), never guessed, and decide the datacenter, the chart's resource prefix, the CA and
 * gossip secrets and the ACL settings `federate primary` works with. What the user asks for
 * through flags must agree with the release; the values written are the release's values plus
 * the federation changes. The reading is in readExistingRelease; everything else is pure.
 */
import type {V1StatefulSet} from '@kubernetes/client-node'

import {Helm, helmBinary} from '../helm/helm.js'
import {getValue, mergeValues, type Values} from '../helm/values.js'
import type {KubeCluster} from '../kube/client.js'
import {UserError} from '../shared/errors.js'
import type {ChoiceFlags, Choices} from './choices.js'
import {MESH_GATEWAY_SERVICE_TYPES, type MeshGatewayServiceType} from './gateways.js'
import {chartFullname, chartNames, type ChartNames} from './names.js'
import {REPLICATION_TOKEN_KEY} from './values.js'

export interface SecretRef {
  secretName: string
  secretKey: string
}

/** Where the primary's key material lives, and under which keys. */
export interface PrimaryLayout {
  names: ChartNames
  caCert: SecretRef
  caKey: SecretRef
  gossip: SecretRef
  token: SecretRef
}

/** The layout of a release consulk8s installs itself: global.name = release, its own secrets. */
export function defaultLayout(names: ChartNames): PrimaryLayout {
  return {
    names,
    caCert: {secretName: names.caCertSecret, secretKey: 'tls.crt'},
    caKey: {secretName: names.caKeySecret, secretKey: 'tls.key'},
    gossip: {secretName: names.gossipSecret, secretKey: 'key'},
    token: {secretName: names.replicationTokenSecret, secretKey: REPLICATION_TOKEN_KEY},
  }
}

export interface ExistingRelease {
  release: string
  namespace: string
  /** Where the values came from, for messages: "helm get values" or the live objects. */
  source: string
  /** The release's user values (helm get values). */
  values: Values
  /** The chart version it runs (kept by the printed upgrade commands). */
  chartVersion?: string
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)
const truthy = (value: unknown): boolean => value === true || value === 'true'

/** What the release's values say, with the chart's defaults where they say nothing. */
export interface ReleaseFacts {
  prefix: string
  datacenter: string
  acls: boolean
  gossip: boolean
  tls: boolean
  meshGatewayServiceType?: MeshGatewayServiceType
  meshGatewayConsulServiceName: string
  layout: PrimaryLayout
  /** Role of the release in a federation when it already has one. */
  primaryDatacenter?: string
}

export function releaseFacts(existing: ExistingRelease): ReleaseFacts {
  const {values, release} = existing
  const prefix = chartFullname(release, {
    fullnameOverride: text(getValue(values, 'fullnameOverride')),
    globalName: text(getValue(values, 'global.name')),
  })
  const names = chartNames(prefix)
  const layout = defaultLayout(names)
  // A CA the values name (global.tls.caCert/caKey), else the one the chart's tls-init made.
  const caCertName = text(getValue(values, 'global.tls.caCert.secretName'))
  const caKeyName = text(getValue(values, 'global.tls.caKey.secretName'))
  if (caCertName && caKeyName) {
    layout.caCert = {secretName: caCertName, secretKey: text(getValue(values, 'global.tls.caCert.secretKey')) ?? 'tls.crt'}
    layout.caKey = {secretName: caKeyName, secretKey: text(getValue(values, 'global.tls.caKey.secretKey')) ?? 'tls.key'}
  }
  // The gossip key the values name, else the one the chart's autogenerate job writes.
  const gossipName = text(getValue(values, 'global.gossipEncryption.secretName'))
  if (gossipName) layout.gossip = {secretName: gossipName, secretKey: text(getValue(values, 'global.gossipEncryption.secretKey')) ?? 'key'}
  const tokenName = text(getValue(values, 'global.acls.replicationToken.secretName'))
  if (tokenName)
    layout.token = {secretName: tokenName, secretKey: text(getValue(values, 'global.acls.replicationToken.secretKey')) ?? REPLICATION_TOKEN_KEY}
  const type = text(getValue(values, 'meshGateway.service.type'))
  return {
    prefix,
    datacenter: text(getValue(values, 'global.datacenter')) ?? 'dc1',
    acls: truthy(getValue(values, 'global.acls.manageSystemACLs')),
    gossip: truthy(getValue(values, 'global.gossipEncryption.autoGenerate')) || Boolean(gossipName),
    tls: truthy(getValue(values, 'global.tls.enabled')),
    meshGatewayServiceType: type && (MESH_GATEWAY_SERVICE_TYPES as readonly string[]).includes(type) ? (type as MeshGatewayServiceType) : undefined,
    meshGatewayConsulServiceName: text(getValue(values, 'meshGateway.consulServiceName')) ?? 'mesh-gateway',
    layout,
    primaryDatacenter: text(getValue(values, 'global.federation.primaryDatacenter')),
  }
}

/**
 * The choices for an existing release: the release decides; a flag that says otherwise is
 * refused with both values named. The mesh gateway type is the release's when it sets one.
 */
export function choicesFromRelease(existing: ExistingRelease, facts: ReleaseFacts, flags: ChoiceFlags, fallback: Choices): Choices {
  const where = `release ${existing.release} (namespace ${existing.namespace}, from ${existing.source})`
  const refuse = (flag: string, actual: string, what: string) =>
    new UserError(`${flag} contradicts ${where}, whose ${what} is ${actual}.`, {
      hint: `Federating an existing release keeps what it runs with; drop ${flag.split(' ')[0]} (or change the release with helm first).`,
    })
  if (flags.datacenter !== undefined && flags.datacenter !== facts.datacenter)
    throw refuse(`--datacenter ${flags.datacenter}`, facts.datacenter, 'datacenter (global.datacenter)')
  if (facts.primaryDatacenter && facts.primaryDatacenter !== facts.datacenter) {
    throw new UserError(`${where} is a secondary of ${facts.primaryDatacenter} (global.federation.primaryDatacenter), not a primary.`, {
      hint: `Run federate primary against ${facts.primaryDatacenter}'s cluster, or federate secondary for this one.`,
    })
  }
  if (flags.acls !== undefined && flags.acls !== facts.acls)
    throw refuse(flags.acls ? '--acls' : '--no-acls', facts.acls ? 'on' : 'off', 'ACLs setting (global.acls.manageSystemACLs)')
  if (flags.gossip !== undefined && flags.gossip !== facts.gossip)
    throw refuse(flags.gossip ? '--gossip' : '--no-gossip', facts.gossip ? 'on' : 'off', 'gossip encryption')
  if (flags.meshGatewayServiceType && facts.meshGatewayServiceType && flags.meshGatewayServiceType !== facts.meshGatewayServiceType) {
    throw refuse(
      `--mesh-gateway-service-type ${flags.meshGatewayServiceType}`,
      facts.meshGatewayServiceType,
      'mesh gateway Service type (meshGateway.service.type)',
    )
  }
  return {
    datacenter: facts.datacenter,
    acls: facts.acls,
    gossip: facts.gossip,
    meshGatewayServiceType: flags.meshGatewayServiceType ?? facts.meshGatewayServiceType ?? fallback.meshGatewayServiceType,
  }
}

/**
 * The release's values plus the federation changes: TLS with the CA it has (or consulk8s's),
 * federation on with consulk8s owning the federation secret, the pre-generated replication
 * token, the gossip key from its secret, mesh gateway and connect inject on. Nothing else of the
 * release changes; global.name is not added (that would rename every object).
 */
export function existingPrimaryValues(existing: ExistingRelease, facts: ReleaseFacts, choices: Choices): Values {
  const {layout} = facts
  const global: Values = {
    tls: {enabled: true, caCert: {...layout.caCert}, caKey: {...layout.caKey}},
    federation: {enabled: true, createFederationSecret: false},
  }
  if (choices.acls) global.acls = {manageSystemACLs: true, createReplicationToken: true, replicationToken: {...layout.token}}
  if (choices.gossip) global.gossipEncryption = {autoGenerate: false, secretName: layout.gossip.secretName, secretKey: layout.gossip.secretKey}
  const changes: Values = {
    global,
    connectInject: {enabled: true},
    meshGateway: {enabled: true, service: {type: choices.meshGatewayServiceType}},
  }
  return mergeValues(existing.values, changes)
}

/** A helm-missing error, told apart from helm's own failures. */
function isHelmMissing(error: unknown): boolean {
  return error instanceof UserError && /^helm was not found/.test(error.message)
}

/**
 * The release, when one of that name is installed in the namespace: its values from
 * `helm get values`. Without helm, the live server StatefulSet of the release shows it exists;
 * then its values cannot be read and the run is refused rather than guessed.
 */
export async function readExistingRelease(input: {
  cluster: KubeCluster
  kubeconfig?: string
  helmBinary?: string
  release: string
  namespace: string
}): Promise<ExistingRelease | undefined> {
  const helm = new Helm(helmBinary(input.helmBinary), {kubeconfig: input.kubeconfig, context: input.cluster.name})
  try {
    const found = await helm.findRelease(input.release, input.namespace)
    if (!found) return undefined
    const values = await helm.getValues(input.release, input.namespace)
    return {release: input.release, namespace: input.namespace, source: 'helm get values', values, chartVersion: found.chartVersion || undefined}
  } catch (error) {
    if (!isHelmMissing(error)) throw error
  }
  const servers = await input.cluster.list<V1StatefulSet>(
    `list the StatefulSets of release ${input.release}`,
    {group: 'apps', resource: 'statefulsets', namespace: input.namespace},
    {labelSelector: `release=${input.release},component=server`},
  )
  if (servers.length === 0) return undefined
  throw new UserError(
    `Release ${input.release} already runs in namespace ${input.namespace} (StatefulSet ${servers[0].metadata?.name}), and without helm its values cannot be read.`,
    {
      hint: "Install helm 3.13 or newer (or point --helm-binary / CONSULK8S_HELM at it): consulk8s reads the release's datacenter, names, CA and ACL settings with `helm get values` instead of guessing them.",
    },
  )
}
