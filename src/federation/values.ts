/**
 * The Helm values of a federated primary and secondary: the documented shapes (Consul's
 * "Federation Between Kubernetes Clusters"), adapted so the chart uses the CA and gossip key
 * consulk8s made and consulk8s owns the federation secret. Pure.
 */
import {stringify} from 'yaml'

import {helmInstallCommand} from '../helm/chart.js'

import type {ChartNames} from './names.js'
import type {MeshGatewayServiceType} from './gateways.js'

export interface FederationFeatures {
  /** global.acls.manageSystemACLs (and the replication token). */
  acls: boolean
  /** global.gossipEncryption. */
  gossip: boolean
  meshGatewayServiceType: MeshGatewayServiceType
}

export interface PrimaryValuesInput extends FederationFeatures {
  /** Written as global.name so the chart's prefix equals the release. */
  release: string
  names: ChartNames
  datacenter: string
}

export interface SecondaryValuesInput extends FederationFeatures {
  release: string
  names: ChartNames
  datacenter: string
  primaryDatacenter: string
  /** Needed with ACLs. */
  k8sAuthMethodHost?: string
}

export type HelmValues = Record<string, unknown>

/** The data key of the replication token secret (the key server-acl-init itself writes). */
export const REPLICATION_TOKEN_KEY = 'token'

function meshGateway(type: MeshGatewayServiceType): HelmValues {
  return {enabled: true, service: {type}}
}

/**
 * Primary. The chart's own create-federation-secret job stays off (createFederationSecret:
 * false): it would overwrite consulk8s's secret on every install/upgrade, with gateways in an
 * unstable order. With ACLs the replication token's secret ID is consulk8s's (a UUID in
 * names.replicationTokenSecret, key `token`): global.acls.replicationToken together with
 * createReplicationToken makes server-acl-init bootstrap ACLs as usual and then create the
 * replication token with that secret ID (its -acl-replication-token-file +
 * -create-acl-replication-token path), so the federation secret can be complete before the
 * install. global.federation.primaryDatacenter stays unset here (see docs/federation.md).
 */
export function buildPrimaryValues(input: PrimaryValuesInput): HelmValues {
  const global: HelmValues = {
    name: input.release,
    datacenter: input.datacenter,
    tls: {
      enabled: true,
      caCert: {secretName: input.names.caCertSecret, secretKey: 'tls.crt'},
      caKey: {secretName: input.names.caKeySecret, secretKey: 'tls.key'},
    },
    federation: {enabled: true, createFederationSecret: false},
  }
  if (input.acls) {
    global.acls = {
      manageSystemACLs: true,
      createReplicationToken: true,
      replicationToken: {secretName: input.names.replicationTokenSecret, secretKey: REPLICATION_TOKEN_KEY},
    }
  }
  if (input.gossip) global.gossipEncryption = {autoGenerate: false, secretName: input.names.gossipSecret, secretKey: 'key'}
  return {global, connectInject: {enabled: true}, meshGateway: meshGateway(input.meshGatewayServiceType)}
}

/** Secondary: everything federation needs comes from the imported federation secret. */
export function buildSecondaryValues(input: SecondaryValuesInput): HelmValues {
  const secret = input.names.federationSecret
  const federation: HelmValues = {enabled: true, primaryDatacenter: input.primaryDatacenter}
  if (input.acls && input.k8sAuthMethodHost) federation.k8sAuthMethodHost = input.k8sAuthMethodHost
  const global: HelmValues = {
    name: input.release,
    datacenter: input.datacenter,
    tls: {
      enabled: true,
      caCert: {secretName: secret, secretKey: 'caCert'},
      caKey: {secretName: secret, secretKey: 'caKey'},
    },
    federation,
  }
  if (input.acls) global.acls = {manageSystemACLs: true, replicationToken: {secretName: secret, secretKey: 'replicationToken'}}
  if (input.gossip) global.gossipEncryption = {autoGenerate: false, secretName: secret, secretKey: 'gossipEncryptionKey'}
  return {
    global,
    connectInject: {enabled: true},
    meshGateway: meshGateway(input.meshGatewayServiceType),
    server: {
      extraVolumes: [{type: 'secret', name: secret, items: [{key: 'serverConfigJSON', path: 'config.json'}], load: true}],
    },
  }
}

/** YAML text with a comment header (one comment line per entry). */
export function renderValues(values: HelmValues, header: readonly string[] = []): string {
  const comments = header.map((line) => (line ? `# ${line}` : '#')).join('\n')
  return (comments ? comments + '\n' : '') + stringify(values, {lineWidth: 0})
}

/**
 * What a rerun writes over an existing values file: 'unchanged' when only comments differ
 * (the header names the context, which a rerun with or without --context changes), so
 * nobody is asked to overwrite a file for a comment and the file is left as it is.
 */
export function valuesFileAction(previous: string | undefined, next: string): 'create' | 'unchanged' | 'update' {
  if (previous === undefined) return 'create'
  const withoutComments = (text: string) =>
    text
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .join('\n')
      .trim()
  return withoutComments(previous) === withoutComments(next) ? 'unchanged' : 'update'
}

export function primaryValuesHeader(input: {datacenter: string; release: string; namespace: string; context?: string}): string[] {
  return [
    `Consul primary datacenter "${input.datacenter}", generated by consulk8s federate primary.`,
    `Install: ${helmInstallCommand({release: input.release, namespace: input.namespace, context: input.context ?? '<primary-context>', valuesFile: '<this file>'})}`,
    'The CA, gossip key and replication token secret ID come from secrets consulk8s created; consulk8s (not the chart) owns the federation secret.',
  ]
}

export function secondaryValuesHeader(input: {
  datacenter: string
  primaryDatacenter: string
  release: string
  namespace: string
  context?: string
}): string[] {
  return [
    `Consul secondary datacenter "${input.datacenter}" federated with primary "${input.primaryDatacenter}", generated by consulk8s federate secondary.`,
    `Install: ${helmInstallCommand({release: input.release, namespace: input.namespace, context: input.context ?? '<secondary-context>', valuesFile: '<this file>'})}`,
  ]
}
