/**
 * Parsers for what Consul says, in the two forms verify reads it: the `consul members -wan`
 * table (run in a server pod) and the JSON of the HTTP API (directly, or through curl in
 * the pod). Pure; every parser throws a plain Error naming what did not fit.
 */
import type {
  KeyringView,
  ProxyDefaultsView,
  TokenView,
  AgentInfo,
  FailureKind,
  HealthCheckView,
  ReplicationStatus,
  ServerHealth,
  WanMember,
} from './types.js'

const SERF_STATUS = ['none', 'alive', 'leaving', 'left', 'failed'] as const

/**
 * `consul members [-wan]` output: a header row and one row per member, columns aligned by
 * columnize. Works for the old layout (… Protocol DC Segment) and the new one with a
 * Partition column. Columns are found by name. A row with one word per column is split on
 * blanks (also right for text whose alignment was lost, as in the federation guide); a row
 * with empty cells (members of an unknown role) is cut at the header's column offsets.
 */
export function parseMembersTable(text: string): WanMember[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length === 0) return []
  const header = lines[0]
  if (!/^Node\s+Address\s+Status\b/.test(header)) {
    throw new Error(`not a \`consul members\` table (first line: "${header.slice(0, 80)}")`)
  }
  const columns: Array<{name: string; start: number}> = []
  for (const match of header.matchAll(/\S+/g)) columns.push({name: match[0], start: match.index ?? 0})
  const cellsOf = (line: string): string[] => {
    const words = line.trim().split(/\s+/)
    if (words.length === columns.length) return words
    return columns.map((column, index) => line.slice(column.start, columns[index + 1]?.start).trim())
  }
  const at = (name: string) => columns.findIndex((column) => column.name === name)
  for (const name of ['Node', 'Address', 'Status', 'Type', 'DC']) if (at(name) < 0) throw new Error(`the members table has no ${name} column`)
  return lines.slice(1).map((line) => {
    const cells = cellsOf(line)
    const get = (name: string) => (at(name) >= 0 ? cells[at(name)] : undefined)
    const member: WanMember = {
      name: get('Node')!,
      address: get('Address')!,
      status: get('Status')!,
      type: get('Type')!,
      build: get('Build') ?? '',
      protocol: get('Protocol') ?? '',
      datacenter: get('DC')!,
    }
    const partition = get('Partition')
    const segment = get('Segment')
    if (partition !== undefined) member.partition = partition
    if (segment !== undefined) member.segment = segment
    if (!member.name || !member.status) throw new Error(`cannot read the members row "${line.trim()}"`)
    return member
  })
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a JSON array, got ${describeJson(value)}`)
  return value
}

function expectRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what}: expected a JSON object, got ${describeJson(value)}`)
  return value
}

function describeJson(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `text "${value.slice(0, 60)}"`
  return typeof value
}

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value))

/** /v1/agent/members?wan=1, in the same shape as the table (what `consul members -wan` prints). */
export function parseMembersJson(json: unknown): WanMember[] {
  return expectArray(json, '/v1/agent/members').map((raw) => {
    const member = expectRecord(raw, 'a WAN member')
    const tags = isRecord(member.Tags) ? member.Tags : {}
    const role = str(tags.role)
    const type = role === 'consul' ? 'server' : role === 'node' ? 'client' : 'unknown'
    const addr = str(member.Addr)
    const host = addr.includes(':') ? `[${addr}]` : addr
    const status = typeof member.Status === 'number' ? (SERF_STATUS[member.Status] ?? String(member.Status)) : str(member.Status)
    const view: WanMember = {
      name: str(member.Name),
      address: `${host}:${str(member.Port)}`,
      status,
      type,
      build: str(tags.build).split(':')[0],
      protocol: str(tags.vsn),
      datacenter: str(tags.dc),
      partition: str(tags.ap) || 'default',
    }
    if (type === 'server') view.segment = '<all>'
    return view
  })
}

/** /v1/agent/self: who this agent is and what it thinks the primary datacenter is. */
export function parseAgentSelf(json: unknown): AgentInfo {
  const self = expectRecord(json, '/v1/agent/self')
  const config = expectRecord(self.Config, '/v1/agent/self Config')
  const datacenter = str(config.Datacenter)
  if (!datacenter) throw new Error('/v1/agent/self names no datacenter')
  const info: AgentInfo = {
    datacenter,
    primaryDatacenter: str(config.PrimaryDatacenter) || datacenter,
    nodeName: str(config.NodeName),
    version: str(config.Version),
    server: config.Server === true,
  }
  const debug = isRecord(self.DebugConfig) ? self.DebugConfig : undefined
  if (debug && typeof debug.ACLsEnabled === 'boolean') info.aclsEnabled = debug.ACLsEnabled
  if (debug && typeof debug.HTTPSPort === 'number') info.https = debug.HTTPSPort > 0
  if (debug && typeof debug.EncryptKey === 'string') info.gossipEncryption = debug.EncryptKey !== ''
  const member = isRecord(self.Member) ? self.Member : undefined
  const tags = member && isRecord(member.Tags) ? member.Tags : {}
  if (member && str(member.Addr) && str(tags.port)) {
    const addr = str(member.Addr)
    info.rpcAddress = `${addr.includes(':') ? `[${addr}]` : addr}:${str(tags.port)}`
  }
  return info
}

/**
 * /v1/operator/keyring: one entry per ring (LAN of each datacenter, WAN). The keys are turned
 * into fingerprints here, so no gossip key travels further than this function.
 */
export function parseKeyring(json: unknown, fingerprint: (key: string) => string): KeyringView[] {
  const prints = (value: unknown): Record<string, number> =>
    Object.fromEntries(
      Object.entries(isRecord(value) ? value : {}).map(([key, count]) => [fingerprint(key), typeof count === 'number' ? count : Number(count) || 0]),
    )
  return expectArray(json, '/v1/operator/keyring').map((raw) => {
    const ring = expectRecord(raw, 'a keyring entry')
    return {
      wan: ring.WAN === true,
      datacenter: str(ring.Datacenter),
      keys: prints(ring.Keys),
      primaryKeys: prints(ring.PrimaryKeys),
      numNodes: typeof ring.NumNodes === 'number' ? ring.NumNodes : 0,
    }
  })
}

/** /v1/acl/token/self: who the token is (accessor, policies), never its secret. */
export function parseTokenSelf(json: unknown): TokenView {
  const token = expectRecord(json, '/v1/acl/token/self')
  const policies = (Array.isArray(token.Policies) ? token.Policies : []).filter(isRecord).map((policy) => str(policy.Name))
  return {accessorId: str(token.AccessorID), policies, local: token.Local === true}
}

/** /v1/config/proxy-defaults/global. */
export function parseProxyDefaults(json: unknown): ProxyDefaultsView {
  const entry = expectRecord(json, '/v1/config/proxy-defaults/global')
  const gateway = isRecord(entry.MeshGateway) ? entry.MeshGateway : {}
  return {meshGatewayMode: str(gateway.Mode)}
}

/** The PEM certificates in a text (curl's %{certs} output, a PEM bundle), in order. */
export function parsePemCertificates(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((match) => `${match[0].replace(/\r/g, '')}\n`)
}

/** /v1/catalog/datacenters (or `consul catalog datacenters`, one name a line). */
export function parseDatacenters(input: unknown): string[] {
  if (typeof input === 'string')
    return input
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
  return expectArray(input, '/v1/catalog/datacenters').map(str)
}

/** /v1/health/service/consul?dc=X: the datacenter's servers and their node checks. */
export function parseServerHealth(json: unknown, filteredByAcls = false): ServerHealth {
  const servers = expectArray(json, '/v1/health/service/consul').map((raw) => {
    const entry = expectRecord(raw, 'a health entry')
    const node = isRecord(entry.Node) ? entry.Node : {}
    const checks: HealthCheckView[] = (Array.isArray(entry.Checks) ? entry.Checks : []).filter(isRecord).map((check) => ({
      name: str(check.Name),
      checkId: str(check.CheckID),
      status: str(check.Status),
      output: str(check.Output).trim(),
    }))
    return {node: str(node.Node), address: str(node.Address), checks}
  })
  return {servers, filteredByAcls}
}

/** Go's zero time means "never". */
function time(value: unknown): string | undefined {
  const text = str(value)
  return !text || text.startsWith('0001-01-01') ? undefined : text
}

/** /v1/acl/replication. */
export function parseReplication(json: unknown): ReplicationStatus {
  const status = expectRecord(json, '/v1/acl/replication')
  if (typeof status.Enabled !== 'boolean') throw new Error('/v1/acl/replication has no Enabled field')
  const result: ReplicationStatus = {
    enabled: status.Enabled,
    running: status.Running === true,
    sourceDatacenter: str(status.SourceDatacenter),
    replicationType: str(status.ReplicationType),
    replicatedIndex: typeof status.ReplicatedIndex === 'number' ? status.ReplicatedIndex : 0,
  }
  const lastSuccess = time(status.LastSuccess)
  const lastError = time(status.LastError)
  if (lastSuccess) result.lastSuccess = lastSuccess
  if (lastError) result.lastError = lastError
  if (str(status.LastErrorMessage)) result.lastErrorMessage = str(status.LastErrorMessage)
  return result
}

/** Running and not failing since the last success. */
export function replicationHealthy(status: ReplicationStatus): boolean {
  if (!status.enabled || !status.running) return false
  if (!status.lastError) return true
  return Boolean(status.lastSuccess) && Date.parse(status.lastSuccess!) >= Date.parse(status.lastError)
}

export interface HttpReply {
  status: number
  body: string
}

/**
 * The output of the curl command verify runs in a pod: the body, then a last line with the
 * HTTP status code (curl -w '\n%{http_code}').
 */
export function parseCurlOutput(stdout: string): HttpReply {
  const match = /\n?(\d{3})\s*$/.exec(stdout)
  if (!match) throw new Error(`curl printed no HTTP status (output: "${stdout.trim().slice(0, 120)}")`)
  return {status: Number(match[1]), body: stdout.slice(0, match.index)}
}

/** The kind of failure a Consul HTTP error stands for (status code and Consul's own text). */
export function classifyConsulHttpError(status: number, body: string): FailureKind {
  if (status === 403) return 'forbidden'
  if (
    /no path to datacenter|no known consul servers|no servers|rpc error making call: .*(stream closed|dial|EOF|connection refused|i\/o timeout)/i.test(
      body,
    )
  )
    return 'no-route'
  if (status === 404) return 'not-found'
  return 'error'
}

/**
 * The kind of failure behind the stderr of a consul CLI command run in the pod, e.g.
 * "Error retrieving members: Unexpected response code: 403 (ACL not found)".
 */
export function classifyConsulCliError(stderr: string): FailureKind {
  const code = /Unexpected response code: (\d{3})/.exec(stderr)
  if (code) return classifyConsulHttpError(Number(code[1]), stderr)
  if (/connection refused|no such host|i\/o timeout|Error connecting to Consul agent/i.test(stderr)) return 'unreachable'
  if (/x509|certificate|tls:/i.test(stderr)) return 'tls'
  if (/not found|No such file/i.test(stderr)) return 'exec'
  return 'error'
}
