/**
 * ACL operations consulk8s needs: the replication token secondaries use to replicate ACLs
 * from the primary, with the same policy consul-k8s's server-acl-init creates
 * (`acl-replication-token`), and token reads for checks.
 */
import {ConsulApiError, type ConsulClient} from './client.js'

/** The rules of consul-k8s's replication policy (OSS, no namespaces). */
export const REPLICATION_POLICY_RULES = `operator = "write"
agent_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "write"
}
acl = "write"
service_prefix "" {
  policy = "write"
  intentions = "read"
}
`

export const REPLICATION_POLICY_NAME = 'acl-replication-token'

export interface AclPolicy {
  ID: string
  Name: string
  Rules?: string
}

export interface AclToken {
  AccessorID: string
  SecretID: string
  Description?: string
  Policies?: Array<{ID: string; Name: string}>
  Local?: boolean
}

function isNotFound(error: unknown): boolean {
  // Consul answers 403 "ACL not found" or 404 for a missing policy/token depending on the endpoint.
  return error instanceof ConsulApiError && (error.status === 404 || (error.status === 403 && /not found/i.test(error.body)))
}

export async function readPolicyByName(client: ConsulClient, name: string): Promise<AclPolicy | undefined> {
  try {
    return await client.get<AclPolicy>(`/v1/acl/policy/name/${encodeURIComponent(name)}`)
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** The replication policy, created if missing; an existing one is reused as it is. */
export async function ensureReplicationPolicy(client: ConsulClient, name = REPLICATION_POLICY_NAME): Promise<AclPolicy> {
  const existing = await readPolicyByName(client, name)
  if (existing) return existing
  return client.put<AclPolicy>('/v1/acl/policy', {
    Name: name,
    Description: 'Token Policy for ACL replication (created by consulk8s)',
    Rules: REPLICATION_POLICY_RULES,
  })
}

/**
 * Creates a new global token with the replication policy. Needs a token with acl = "write"
 * (the management token) in the primary datacenter.
 */
export async function createReplicationToken(
  client: ConsulClient,
  options: {description?: string; policyName?: string; secretId?: string} = {},
): Promise<{accessorId: string; secretId: string}> {
  const policy = await ensureReplicationPolicy(client, options.policyName)
  const token = await client.put<AclToken>('/v1/acl/token', {
    Description: options.description ?? 'ACL replication token (created by consulk8s)',
    Policies: [{ID: policy.ID}],
    Local: false,
    ...(options.secretId ? {SecretID: options.secretId} : {}),
  })
  return {accessorId: token.AccessorID, secretId: token.SecretID}
}

/**
 * What server-acl-init does with -acl-replication-token-file and -create-acl-replication-token:
 * a token with that secret ID already known to Consul is left as it is; otherwise one is
 * created with exactly that secret ID and the replication policy.
 */
export async function ensureReplicationToken(
  client: ConsulClient,
  secretId: string,
  options: {description?: string} = {},
): Promise<{created: boolean; token: AclToken}> {
  const existing = await readTokenSelf(client, secretId)
  if (existing) return {created: false, token: existing}
  await createReplicationToken(client, {secretId, description: options.description})
  const token = await readTokenSelf(client, secretId)
  if (!token) throw new Error('the replication token was created but Consul does not resolve it')
  return {created: true, token}
}

/** Deletes the token behind a secret ID; false when Consul does not know it. */
export async function revokeToken(client: ConsulClient, secretId: string): Promise<boolean> {
  const token = await readTokenSelf(client, secretId)
  if (!token) return false
  await client.delete(`/v1/acl/token/${encodeURIComponent(token.AccessorID)}`)
  return true
}

/** The token behind a secret ID (token/self), or undefined when Consul does not know it. */
export async function readTokenSelf(client: ConsulClient, secretId: string): Promise<AclToken | undefined> {
  try {
    return await client.get<AclToken>('/v1/acl/token/self', {token: secretId})
  } catch (error) {
    if (isNotFound(error)) return undefined
    if (error instanceof ConsulApiError && error.status === 403) return undefined
    throw error
  }
}

/** Whether a token carries the replication policy (by name). */
export function hasReplicationPolicy(token: AclToken, policyName = REPLICATION_POLICY_NAME): boolean {
  return (token.Policies ?? []).some((policy) => policy.Name === policyName || policy.Name.startsWith(`${policyName}-`))
}
