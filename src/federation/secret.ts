/**
 * The federation secret (what consul-k8s's create-federation-secret writes and secondaries
 * read): assembling its data, validating a secret someone hands us, comparing two of them
 * by key (never printing values), and turning Secret objects into clean manifests.
 * Pure: no Kubernetes client, no files.
 */
import {createHash} from 'node:crypto'
import {parse as parseYaml} from 'yaml'

import {UserError, errorMessage, isUserError} from '../shared/errors.js'
import {yamlSyntaxError} from '../shared/yaml-error.js'
import {inspectCA, validateGossipKey, type CertificateAuthority} from './crypto.js'
import {validateDatacenterName} from './names.js'
import {parseGateway} from './gateways.js'

export const FEDERATION_KEYS = ['caCert', 'caKey', 'serverConfigJSON', 'replicationToken', 'gossipEncryptionKey'] as const
export type FederationKey = (typeof FEDERATION_KEYS)[number]
export const REQUIRED_FEDERATION_KEYS: readonly FederationKey[] = ['caCert', 'caKey', 'serverConfigJSON']

/** Decoded (not base64) secret data. */
export type SecretData = Record<string, string>
export type FederationData = Partial<Record<FederationKey, string>>

export interface ServerConfig {
  primary_datacenter: string
  primary_gateways: string[]
}

/** serverConfigJSON exactly as consul-k8s writes it: these two fields and nothing else. */
export function renderServerConfig(primaryDatacenter: string, gateways: readonly string[]): string {
  const config: ServerConfig = {primary_datacenter: primaryDatacenter, primary_gateways: [...gateways]}
  return JSON.stringify(config)
}

export function parseServerConfig(json: string): ServerConfig {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new UserError(`serverConfigJSON is not valid JSON: ${errorMessage(error)}`)
  }
  const config = parsed as Partial<ServerConfig>
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new UserError('serverConfigJSON is not a JSON object.')
  if (typeof config.primary_datacenter !== 'string' || !config.primary_datacenter) {
    throw new UserError('serverConfigJSON has no primary_datacenter.')
  }
  validateDatacenterName(config.primary_datacenter)
  if (!Array.isArray(config.primary_gateways) || config.primary_gateways.length === 0) {
    throw new UserError(
      'serverConfigJSON has no primary_gateways (the addresses of the primary mesh gateways), so a secondary cannot join with it.',
      {
        hint: 'An offline bundle has none until the primary is installed: run `consulk8s federate primary --context <primary-context> --wait` once its mesh gateway has an address (or rerun the offline command with --primary-gateway), then export the secret again.',
      },
    )
  }
  for (const gateway of config.primary_gateways) parseGateway(String(gateway))
  const extra = Object.keys(config).filter((key) => key !== 'primary_datacenter' && key !== 'primary_gateways')
  if (extra.length > 0)
    throw new UserError(`serverConfigJSON has unexpected fields: ${extra.join(', ')} (only primary_datacenter and primary_gateways belong there).`)
  return {primary_datacenter: config.primary_datacenter, primary_gateways: config.primary_gateways.map(String)}
}

export interface FederationInput {
  ca: CertificateAuthority
  primaryDatacenter: string
  gateways: readonly string[]
  /** Required when ACLs are on. */
  replicationToken?: string
  /** Required when gossip encryption is on. */
  gossipKey?: string
}

/** The data of the federation secret: exactly the keys consul-k8s writes, no more. */
export function assembleFederationData(input: FederationInput): FederationData {
  const data: FederationData = {
    caCert: input.ca.certPem,
    caKey: input.ca.keyPem,
    serverConfigJSON: renderServerConfig(input.primaryDatacenter, input.gateways),
  }
  if (input.replicationToken !== undefined) data.replicationToken = input.replicationToken
  if (input.gossipKey !== undefined) data.gossipEncryptionKey = input.gossipKey
  return data
}

export interface FederationSummary {
  primaryDatacenter: string
  primaryGateways: string[]
  acls: boolean
  gossip: boolean
  keys: FederationKey[]
  caSubject: string
  caFingerprint256: string
  caDaysLeft: number
}

/**
 * Checks that data is a usable federation secret: the required keys are there (the message
 * names every missing one), no unknown keys, the CA is an EC CA with its key, the gossip key
 * and serverConfigJSON are well formed. `source` names where the data came from.
 */
export function validateFederationData(data: SecretData, source: string): FederationSummary {
  const missing = REQUIRED_FEDERATION_KEYS.filter((key) => !data[key]?.trim())
  if (missing.length > 0) {
    throw new UserError(`${source} is missing ${plural(missing.length, 'key')} ${missing.join(', ')}.`, {
      hint: `A federation secret holds ${REQUIRED_FEDERATION_KEYS.join(', ')} (and replicationToken with ACLs, gossipEncryptionKey with gossip encryption); export it again with \`consulk8s federate export --context <primary>\`.`,
    })
  }
  const unknown = Object.keys(data).filter((key) => !(FEDERATION_KEYS as readonly string[]).includes(key))
  if (unknown.length > 0) {
    throw new UserError(`${source} has unexpected ${plural(unknown.length, 'key')} ${unknown.join(', ')}.`, {
      hint: `A federation secret holds only ${FEDERATION_KEYS.join(', ')}.`,
    })
  }
  const empty = (['replicationToken', 'gossipEncryptionKey'] as const).filter((key) => key in data && !data[key].trim())
  if (empty.length > 0) throw new UserError(`${source} has empty ${empty.join(', ')}.`)
  const wrap = <T>(what: string, fn: () => T): T => {
    try {
      return fn()
    } catch (error) {
      throw new UserError(`${source}: ${what}: ${errorMessage(error)}`, {hint: isUserError(error) ? error.hint : undefined})
    }
  }
  const ca = wrap('caCert/caKey', () => inspectCA({certPem: data.caCert, keyPem: data.caKey}))
  const config = wrap('serverConfigJSON', () => parseServerConfig(data.serverConfigJSON))
  if (data.gossipEncryptionKey) wrap('gossipEncryptionKey', () => validateGossipKey(data.gossipEncryptionKey))
  return {
    primaryDatacenter: config.primary_datacenter,
    primaryGateways: config.primary_gateways,
    acls: Boolean(data.replicationToken),
    gossip: Boolean(data.gossipEncryptionKey),
    keys: FEDERATION_KEYS.filter((key) => key in data),
    caSubject: ca.subject,
    caFingerprint256: ca.fingerprint256,
    caDaysLeft: ca.daysLeft,
  }
}

/** The keys whose values differ (added, removed or changed), sorted; never the values. */
export function diffSecretData(current: SecretData, wanted: SecretData): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(wanted)])
  return [...keys].filter((key) => current[key] !== wanted[key]).sort()
}

/** A short, non-reversible fingerprint of a secret value for reports (never the value). */
export function fingerprint(value: string): string {
  return 'sha256:' + createHash('sha256').update(value).digest('hex').slice(0, 12)
}

// ---------------------------------------------------------------------------------------
// Manifests

export interface SecretManifest {
  apiVersion: 'v1'
  kind: 'Secret'
  metadata: {name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>}
  type: string
  data: Record<string, string>
}

export function encodeData(data: SecretData): Record<string, string> {
  const encoded: Record<string, string> = {}
  for (const key of Object.keys(data).sort()) encoded[key] = Buffer.from(data[key], 'utf8').toString('base64')
  return encoded
}

export function decodeData(data: Record<string, unknown> | undefined, source: string): SecretData {
  const decoded: SecretData = {}
  for (const [key, value] of Object.entries(data ?? {})) {
    const text = String(value ?? '').replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new UserError(`${source}: data.${key} is not valid base64.`, {
        hint: 'Values under `data:` are base64 encoded; use `stringData:` for plain text.',
      })
    }
    decoded[key] = Buffer.from(text, 'base64').toString('utf8')
  }
  return decoded
}

export function secretManifest(options: {
  name: string
  namespace?: string
  labels?: Record<string, string>
  data: SecretData
  type?: string
}): SecretManifest {
  const metadata: SecretManifest['metadata'] = {name: options.name}
  if (options.namespace) metadata.namespace = options.namespace
  if (options.labels && Object.keys(options.labels).length > 0) metadata.labels = {...options.labels}
  return {apiVersion: 'v1', kind: 'Secret', metadata, type: options.type ?? 'Opaque', data: encodeData(options.data)}
}

/** A Secret as read from a cluster or a file, decoded. */
export interface SecretObject {
  name: string
  namespace?: string
  type: string
  labels: Record<string, string>
  annotations: Record<string, string>
  data: SecretData
}

const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration']

/**
 * A clean manifest of a Secret: only name, namespace (overridable), labels, annotations,
 * type and data; no resourceVersion, uid, creationTimestamp, managedFields, ownerReferences.
 */
export function cleanSecretManifest(secret: SecretObject, namespace?: string): SecretManifest {
  const manifest = secretManifest({
    name: secret.name,
    namespace: namespace ?? secret.namespace,
    labels: secret.labels,
    data: secret.data,
    type: secret.type,
  })
  const annotations = Object.fromEntries(Object.entries(secret.annotations).filter(([key]) => !DROPPED_ANNOTATIONS.includes(key)))
  if (Object.keys(annotations).length > 0) manifest.metadata.annotations = annotations
  return manifest
}

/** A Secret object from the API (client-node's V1Secret shape) or a parsed manifest. */
export function secretFromObject(object: unknown, source: string): SecretObject {
  const raw = object as {
    kind?: string
    apiVersion?: string
    metadata?: {name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>}
    type?: string
    data?: Record<string, unknown>
    stringData?: Record<string, unknown>
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source} is not a Kubernetes Secret manifest.`)
  if (raw.kind !== undefined && raw.kind !== 'Secret') {
    throw new UserError(`${source} holds a ${raw.kind}, not a Secret.`, {
      hint: 'Pass the file `consulk8s federate export` wrote (or `kubectl get secret <name> -o yaml`).',
    })
  }
  if (!raw.metadata?.name) throw new UserError(`${source} is not a Kubernetes Secret manifest (no metadata.name).`)
  const data = decodeData(raw.data, source)
  for (const [key, value] of Object.entries(raw.stringData ?? {})) data[key] = String(value ?? '')
  return {
    name: raw.metadata.name,
    namespace: raw.metadata.namespace,
    type: raw.type ?? 'Opaque',
    labels: {...raw.metadata.labels},
    annotations: {...raw.metadata.annotations},
    data,
  }
}

/** Parses a Secret manifest (YAML or JSON text). */
export function parseSecretManifest(text: string, source: string): SecretObject {
  if (!text.trim()) throw new UserError(`${source} is empty.`, {hint: 'Pass the file `consulk8s federate export` wrote.'})
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (error) {
    throw yamlSyntaxError(error, source, {formats: 'YAML or JSON'})
  }
  return secretFromObject(parsed, source)
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`
}
