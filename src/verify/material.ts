/**
 * Whether a federation secret's material is what the Consul servers actually use: the CA
 * their TLS certificates chain to, the gossip key in their keyrings, the replication token
 * the primary knows. Pure (certificate parsing only); used by verify for every side's own
 * secret and by verify --pre for the secret a new secondary would be installed from.
 */
import {X509Certificate} from 'node:crypto'

import {fingerprint} from '../federation/secret.js'
import {hasReplicationPolicy, REPLICATION_POLICY_NAME} from '../consul/acl.js'
import {errorMessage} from '../shared/errors.js'
import {failureAdvice, make, type Side} from './check-support.js'
import type {Check, KeyringView, PresentedChain, Probe, ReplicationStatus} from './types.js'

/** What the material checks of one side need besides its observation. */
export interface MaterialInput {
  side: Side
  /** The federation data under test (already validated). */
  data: Record<string, string>
  /** "secret consul-federation" or "federation secret file x.yaml". */
  secretName: string
  primary?: string
  /** Whether `side` runs the primary datacenter. */
  isPrimary: boolean
  /** The command that makes this secret hold the servers' material again. */
  fixSecret: string
  /** The command that makes a new replication token and writes it into the secret. */
  fixToken: string
  /** The command that writes values using the secret's material (a secondary's servers then use its token). */
  fixValues: string
  /** Prefix of check ids ("" for verify, "pre-" for verify --pre). */
  idPrefix?: string
}

/** "AB:CD:EF:01:23:45:67:89…": the start of a certificate's SHA-256 fingerprint (public data). */
const certPrint = (cert: X509Certificate) => `SHA-256 ${cert.fingerprint256.slice(0, 23)}…`
const subjectOf = (cert: X509Certificate) => cert.subject.replace(/\n/g, ', ')

/** Whether the chain (leaf first) leads to `ca`: each certificate signed by the next, the last by the CA. */
export function chainVerifies(chain: X509Certificate[], ca: X509Certificate): boolean {
  let current = chain[0]
  const rest = chain.slice(1)
  for (let step = 0; current && step <= chain.length; step++) {
    if (current.fingerprint256 === ca.fingerprint256) return true
    if (current.checkIssued(ca) && current.verify(ca.publicKey)) return true
    const next = rest.find((candidate) => candidate !== current && current.checkIssued(candidate) && current.verify(candidate.publicKey))
    if (!next) return false
    current = next
  }
  return false
}

/** ✓ when every chain the side's server presented verifies against the secret's caCert. */
export function serverCaCheck(input: MaterialInput): Check | undefined {
  const {side, data, secretName} = input
  const chains = side.obs.consul.tls
  if (!chains || chains.length === 0) return undefined
  const context = side.obs.context
  const id = `${input.idPrefix ?? ''}server-ca:${context}`
  const title = `${side.label}: the Consul servers' TLS certificates are signed by the CA of ${secretName}`
  let ca: X509Certificate
  try {
    ca = new X509Certificate(data.caCert)
  } catch (error) {
    return make(id, title, 'fail', `caCert of ${secretName} is not a certificate: ${errorMessage(error)}`, {
      context,
      cause: 'the secret was edited by hand',
      next: input.fixSecret,
    })
  }
  const good: string[] = []
  const skipped: string[] = []
  const bad: string[] = []
  for (const probe of chains as Array<Probe<PresentedChain>>) {
    if (!probe.ok) {
      skipped.push(probe.error.message)
      continue
    }
    const {endpoint, address, chain} = probe.value
    const label = `${endpoint === 'https' ? 'HTTPS' : 'server RPC'} ${address}`
    let certs: X509Certificate[]
    try {
      certs = chain.map((pem) => new X509Certificate(pem))
    } catch (error) {
      skipped.push(`${label}: unreadable certificate (${errorMessage(error)})`)
      continue
    }
    if (chainVerifies(certs, ca)) {
      good.push(label)
      continue
    }
    const leaf = certs[0]
    const top = certs.at(-1)!
    const serverCa = certs.length > 1 && top.checkIssued(top) ? `, whose CA is ${certPrint(top)}` : ''
    bad.push(`${label} presents ${certPrint(leaf)} issued by ${leaf.issuer.replace(/\n/g, ', ')}${serverCa}`)
  }
  const secretCa = `the CA of ${secretName} is ${certPrint(ca)} (${subjectOf(ca)})`
  if (bad.length > 0) {
    return make(id, title, 'fail', `${bad.join('; ')}; ${secretCa}`, {
      context,
      cause: input.isPrimary
        ? `${secretName} holds another CA than the one the servers use (made by another or an earlier run, or a rotation that did not reach the servers): a secondary installed from it cannot join over TLS`
        : `${secretName} is stale or from another federation: servers installed from it cannot join over TLS`,
      next: input.fixSecret,
    })
  }
  if (good.length === 0) {
    return make(id, title, 'warn', `no certificate chain could be read: ${skipped.join('; ')}`, {
      context,
      cause: 'the server ports are not reachable from here, or curl in the server image cannot print the chain',
      next: 'reach Consul over HTTPS with --consul-http-addr so verify can read the certificates',
    })
  }
  const notChecked = skipped.length > 0 ? `; not checked: ${skipped.join('; ')}` : ''
  return make(id, title, 'ok', `${good.join(', ')} chain to ${certPrint(ca)}${notChecked}`, {context})
}

/** The rings of the side's own datacenter: its LAN ring and the WAN ring. */
function ownRings(rings: KeyringView[], datacenter: string): KeyringView[] {
  return rings.filter((ring) => ring.wan || ring.datacenter === datacenter)
}

const ringName = (ring: KeyringView) => (ring.wan ? 'the WAN keyring' : `the LAN keyring of ${ring.datacenter}`)
/** LAN before WAN. */
const lanFirst = (rings: KeyringView[]) => [...rings].sort((a, b) => Number(a.wan) - Number(b.wan))
const ringNames = (rings: KeyringView[]) => lanFirst(rings).map(ringName).join(' and ')

/** ✓ when the secret's gossip key is installed and primary in the side's LAN and WAN keyrings. */
export function gossipKeyCheck(input: MaterialInput): Check | undefined {
  const {side, data, secretName} = input
  const probe = side.obs.consul.keyring
  if (!probe || !side.agent) return undefined
  const context = side.obs.context
  const dc = side.agent.datacenter
  const id = `${input.idPrefix ?? ''}gossip-key:${context}`
  const title = `${side.label}: the gossip key of ${secretName} is in use in ${dc}`
  const key = data.gossipEncryptionKey?.trim()
  if (!probe.ok) {
    const advice = failureAdvice(probe.error, side, 'consul')
    return make(id, title, 'warn', `the keyring could not be read: ${probe.error.message}`, {
      context,
      cause: probe.error.kind === 'forbidden' ? 'the ACL token lacks operator:read (/v1/operator/keyring)' : advice.cause,
      next: advice.next,
    })
  }
  if (probe.value === 'disabled') {
    if (!key) return make(id, title, 'ok', `gossip encryption is off in ${dc} and ${secretName} holds no key`, {context})
    return make(id, title, 'fail', `${dc} runs without gossip encryption, but ${secretName} holds a gossipEncryptionKey`, {
      context,
      cause:
        'the servers were installed without global.gossipEncryption while the federation expects it: datacenters with and without encryption cannot gossip with each other',
      next: input.isPrimary ? `enable gossip encryption in the primary's values and upgrade, then ${input.fixSecret}` : input.fixSecret,
    })
  }
  const rings = ownRings(probe.value, dc)
  if (!key) {
    const installed = rings.some((ring) => Object.keys(ring.keys).length > 0)
    if (!installed) return make(id, title, 'ok', `gossip encryption is off in ${dc} and ${secretName} holds no key`, {context})
    return make(id, title, 'fail', `${dc} encrypts gossip, but ${secretName} has no gossipEncryptionKey`, {
      context,
      cause: 'a secondary installed from this secret would gossip unencrypted and cannot join',
      next: input.fixSecret,
    })
  }
  const print = fingerprint(key)
  const missing = rings.filter((ring) => !(print in ring.keys))
  const notPrimary = rings.filter((ring) => print in ring.keys && (ring.primaryKeys[print] ?? 0) < Math.max(1, ring.numNodes))
  const summary = lanFirst(rings)
    .map(
      (ring) =>
        `${ring.wan ? 'WAN' : `LAN ${ring.datacenter}`}: ${Object.keys(ring.keys).length} key(s), primary ${Object.keys(ring.primaryKeys).join(', ') || 'none'}`,
    )
    .join('; ')
  if (rings.length === 0 || missing.length > 0) {
    return make(
      id,
      title,
      'fail',
      `the key ${print} of ${secretName} is not installed in ${ringNames(missing) || `the keyrings of ${dc}`} (${summary || 'no rings listed'})`,
      {
        context,
        cause: `${secretName} holds another gossip key than the servers use (another federation, an earlier run, or a rotation that did not reach the secret)`,
        next: input.fixSecret,
      },
    )
  }
  if (notPrimary.length > 0) {
    return make(id, title, 'warn', `the key ${print} is installed but not primary in ${ringNames(notPrimary)} (${summary})`, {
      context,
      cause: 'a gossip key rotation is in progress (the new key is installed, not yet used), or the secret holds the old key',
      next: `finish the rotation (consul keyring -use with the new key in ${dc}), or, if the secret is stale: ${input.fixSecret}`,
    })
  }
  return make(id, title, 'ok', `key ${print} installed and primary in ${ringNames(rings)}`, {context})
}

const AUTH_ERROR = /ACL not found|Permission denied|token.*(invalid|not found)|403/i

/**
 * ✓ when the secret's replicationToken is a global token of the primary with the replication
 * policy; in a secondary, also that replication does not fail with an authentication error.
 */
export function replicationTokenCheck(input: MaterialInput, replication?: Probe<ReplicationStatus | 'acl-disabled'>): Check | undefined {
  const {side, secretName, primary} = input
  const probe = side.obs.consul.replicationToken
  if (!probe || !primary || !side.agent) return undefined
  if (probe.ok && probe.value === 'acl-disabled') return undefined
  const context = side.obs.context
  const id = `${input.idPrefix ?? ''}replication-token:${context}`
  const title = `${side.label}: the replicationToken of ${secretName} is a replication token of ${primary}`
  const print = fingerprint(input.data.replicationToken ?? '')
  if (!probe.ok) return make(id, title, 'fail', probe.error.message, {...failureAdvice(probe.error, side, 'consul'), context})
  const token = probe.value as Exclude<typeof probe.value, 'acl-disabled'>
  if (token === 'unknown') {
    return make(id, title, 'fail', `${primary} does not know the token ${print} (/v1/acl/token/self: ACL not found)`, {
      context,
      cause: `the token was deleted in ${primary}, or ${secretName} comes from another federation or an earlier install of the primary`,
      next: input.isPrimary ? input.fixToken : `${input.fixSecret} (once the primary's own secret passes this check)`,
    })
  }
  const problems: string[] = []
  if (!hasReplicationPolicy({AccessorID: token.accessorId, SecretID: '', Policies: token.policies.map((name) => ({ID: '', Name: name}))})) {
    problems.push(`it has the policies ${token.policies.join(', ') || '(none)'}, not ${REPLICATION_POLICY_NAME}`)
  }
  if (token.local) problems.push('it is a local token (replication needs a global one)')
  if (problems.length > 0) {
    return make(id, title, 'fail', `token ${print} (accessor ${token.accessorId}): ${problems.join('; ')}`, {
      context,
      cause: 'the token in the secret is not the replication token the primary made',
      next: input.isPrimary ? input.fixToken : `${input.fixSecret} (once the primary's own secret passes this check)`,
    })
  }
  const found = `accessor ${token.accessorId} in ${primary}, policy ${REPLICATION_POLICY_NAME}`
  const status = replication?.ok && replication.value !== 'acl-disabled' ? replication.value : undefined
  if (!input.isPrimary && status) {
    const failing =
      status.lastErrorMessage &&
      AUTH_ERROR.test(status.lastErrorMessage) &&
      (!status.lastSuccess || !status.lastError || Date.parse(status.lastError) > Date.parse(status.lastSuccess))
    if (failing) {
      return make(id, title, 'fail', `${found}, but replication in ${side.agent.datacenter} fails: ${status.lastErrorMessage}`, {
        context,
        cause: `the servers of ${side.agent.datacenter} replicate with another token than the secret's (values not pointing global.acls.replicationToken at ${secretName}, or not restarted after a re-import)`,
        next: `${input.fixValues} writes values that use the secret's token; upgrade with them and restart the servers`,
      })
    }
    if (status.running)
      return make(id, title, 'ok', `${found}; ${side.agent.datacenter} replicates with it (running, no authentication errors)`, {context})
  }
  return make(id, title, 'ok', found, {context})
}
