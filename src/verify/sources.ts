/**
 * The two ways verify reads a datacenter's Consul server: over its HTTPS API (ConsulClient,
 * CA verified), or inside a server pod through the Kubernetes exec API, running
 * `consul members -wan` and curl against the server's own local API. Both answer the same
 * questions with the same types; failures become ProbeErrors whose kind selects the likely
 * cause. The ACL token reaches the pod on stdin, never on a command line.
 */
import {ConsulApiError, ConsulUnreachableError, type ConsulClient} from '../consul/client.js'
import {fingerprint} from '../federation/secret.js'
import {errorMessage, isUserError} from '../shared/errors.js'
import {presentedChain, splitHostPort, TlsProbeError} from './tls.js'
import {
  classifyConsulCliError,
  classifyConsulHttpError,
  parseAgentSelf,
  parseCurlOutput,
  parseDatacenters,
  parseKeyring,
  parsePemCertificates,
  parseProxyDefaults,
  parseTokenSelf,
  parseMembersJson,
  parseMembersTable,
  parseReplication,
  parseServerHealth,
} from './parsers.js'
import type {
  AgentInfo,
  FailureKind,
  KeyringView,
  PresentedChain,
  ProxyDefaultsView,
  ReplicationStatus,
  ServerHealth,
  TokenView,
  WanMember,
} from './types.js'

export class ProbeError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly next?: string,
  ) {
    super(message)
    this.name = 'ProbeError'
  }
}

export interface ConsulReader {
  readonly via: 'exec' | 'http'
  /** Where the answers come from, for the report. */
  readonly source: string
  agentSelf(): Promise<AgentInfo>
  wanMembers(): Promise<WanMember[]>
  datacenters(): Promise<string[]>
  /** The servers of `datacenter` with their checks, as this server sees them (?dc=). */
  serverHealth(datacenter: string): Promise<ServerHealth>
  /** This datacenter's ACL replication status, or another's (?dc=, forwarded by the server). */
  replication(datacenter?: string): Promise<ReplicationStatus | 'acl-disabled'>
  /** The gossip keyrings (keys as fingerprints); 'disabled' without gossip encryption. */
  keyring(): Promise<KeyringView[] | 'disabled'>
  /** /v1/acl/token/self with `secretId` (in `datacenter`, forwarded); 'unknown' when Consul does not know it. */
  tokenSelf(secretId: string, datacenter?: string): Promise<TokenView | 'unknown' | 'acl-disabled'>
  /** The proxy-defaults config entry "global" of this datacenter or another (?dc=); null when there is none. */
  proxyDefaults(datacenter?: string): Promise<ProxyDefaultsView | null>
  /** The certificate chain of the server's HTTPS port. */
  httpsChain(timeoutMs: number): Promise<PresentedChain>
  close(): void
}

const ACL_DISABLED = /ACL support disabled/i
const KEYRING_DISABLED = /encryption is not enabled|keyring.*(empty|not enabled|disabled)/i
const TOKEN_UNKNOWN = /ACL not found/i

/** The answers shared by both readers, from a GET of the API (path with query, optional token). */
abstract class ApiReader {
  protected abstract api(path: string, what: string, token?: string): Promise<unknown>

  async keyring(): Promise<KeyringView[] | 'disabled'> {
    try {
      const data = await this.api('/v1/operator/keyring', 'reading /v1/operator/keyring')
      return parseOrThrow('/v1/operator/keyring', () => parseKeyring(data, fingerprint))
    } catch (error) {
      if (error instanceof ProbeError && KEYRING_DISABLED.test(error.message)) return 'disabled'
      throw error
    }
  }

  async tokenSelf(secretId: string, datacenter?: string): Promise<TokenView | 'unknown' | 'acl-disabled'> {
    const query = datacenter ? `?dc=${encodeURIComponent(datacenter)}` : ''
    try {
      const data = await this.api(
        `/v1/acl/token/self${query}`,
        `reading /v1/acl/token/self${datacenter ? ` in ${datacenter}` : ''} with the replication token`,
        secretId,
      )
      return parseOrThrow('/v1/acl/token/self', () => parseTokenSelf(data))
    } catch (error) {
      if (error instanceof ProbeError && ACL_DISABLED.test(error.message)) return 'acl-disabled'
      if (error instanceof ProbeError && error.kind === 'forbidden' && TOKEN_UNKNOWN.test(error.message)) return 'unknown'
      throw error
    }
  }

  async proxyDefaults(datacenter?: string): Promise<ProxyDefaultsView | null> {
    const query = datacenter ? `?dc=${encodeURIComponent(datacenter)}` : ''
    try {
      const data = await this.api(
        `/v1/config/proxy-defaults/global${query}`,
        `reading /v1/config/proxy-defaults/global${datacenter ? ` of ${datacenter}` : ''}`,
      )
      return parseOrThrow('/v1/config/proxy-defaults/global', () => parseProxyDefaults(data))
    } catch (error) {
      if (error instanceof ProbeError && error.kind === 'not-found') return null
      throw error
    }
  }
}

function parseOrThrow<T>(what: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    throw new ProbeError('error', `Unexpected answer to ${what}: ${errorMessage(error)}`)
  }
}

function apiFailure(status: number, body: string, what: string): ProbeError {
  const text = body.trim().slice(0, 200)
  const kind = classifyConsulHttpError(status, text)
  if (kind === 'forbidden') return new ProbeError(kind, `Consul denied ${what}: HTTP 403 (${text || 'Permission denied'})`)
  return new ProbeError(kind, `${what} failed: HTTP ${status}${text ? ` (${text})` : ''}`)
}

// ---------------------------------------------------------------------------------------
// HTTP

async function chainAt(endpoint: PresentedChain['endpoint'], address: string, timeoutMs: number): Promise<PresentedChain> {
  const target = splitHostPort(address)
  if (!target) throw new ProbeError('error', `cannot read the address "${address}" as host:port`)
  try {
    return {endpoint, address, chain: await presentedChain({...target, rpc: endpoint === 'rpc', timeoutMs})}
  } catch (error) {
    if (error instanceof TlsProbeError) throw new ProbeError(error.kind, error.message)
    throw error
  }
}

/** Reads a Consul server through its HTTP(S) API. */
export class HttpConsulReader extends ApiReader implements ConsulReader {
  readonly via = 'http' as const

  constructor(private readonly client: ConsulClient) {
    super()
  }

  get source(): string {
    return this.client.address
  }

  protected async api(pathAndQuery: string, what: string, token?: string): Promise<unknown> {
    const url = new URL(pathAndQuery, 'http://consul')
    return (await this.get(url.pathname, what, Object.fromEntries(url.searchParams), token)).data
  }

  async httpsChain(timeoutMs: number): Promise<PresentedChain> {
    const url = new URL(this.client.address)
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    if (url.protocol !== 'https:')
      throw new ProbeError(
        'tls',
        `${this.client.address} is not HTTPS, so there is no certificate to check`,
        'reach Consul over https:// (the chart serves HTTPS on 8501)',
      )
    return chainAt('https', `${url.hostname}:${port}`, timeoutMs)
  }

  /** The certificate chain of a server RPC address ("host:port", as the agent advertises it). */
  rpcChain(address: string, timeoutMs: number): Promise<PresentedChain> {
    return chainAt('rpc', address, timeoutMs)
  }

  private async get(path: string, what: string, query?: Record<string, string>, token?: string): Promise<{data: unknown; filtered: boolean}> {
    try {
      const response = await this.client.request<unknown>('GET', path, {query, token})
      const filtered = String(response.headers['x-consul-results-filtered-by-acls'] ?? '') === 'true'
      let data = response.data
      if (typeof data === 'string' && data.trim().startsWith('[')) data = JSON.parse(data)
      return {data, filtered}
    } catch (error) {
      if (error instanceof ConsulApiError) throw apiFailure(error.status, error.body, what)
      if (error instanceof ConsulUnreachableError) {
        const tls = (error.code ?? '').includes('CERT') || (error.code ?? '').startsWith('ERR_TLS') || /certificate/i.test(error.message)
        throw new ProbeError(tls ? 'tls' : 'unreachable', error.message)
      }
      throw new ProbeError('error', `${what} failed: ${errorMessage(error)}`)
    }
  }

  async agentSelf(): Promise<AgentInfo> {
    const {data} = await this.get('/v1/agent/self', 'reading /v1/agent/self')
    return parseOrThrow('/v1/agent/self', () => parseAgentSelf(data))
  }

  async wanMembers(): Promise<WanMember[]> {
    const {data} = await this.get('/v1/agent/members', 'listing WAN members', {wan: '1'})
    return parseOrThrow('/v1/agent/members?wan=1', () => parseMembersJson(data))
  }

  async datacenters(): Promise<string[]> {
    const {data} = await this.get('/v1/catalog/datacenters', 'listing datacenters')
    return parseOrThrow('/v1/catalog/datacenters', () => parseDatacenters(data))
  }

  async serverHealth(datacenter: string): Promise<ServerHealth> {
    const {data, filtered} = await this.get('/v1/health/service/consul', `reading the health of ${datacenter}'s servers`, {dc: datacenter})
    return parseOrThrow('/v1/health/service/consul', () => parseServerHealth(data, filtered))
  }

  async replication(datacenter?: string): Promise<ReplicationStatus | 'acl-disabled'> {
    try {
      const {data} = await this.get(
        '/v1/acl/replication',
        `reading /v1/acl/replication${datacenter ? ` of ${datacenter}` : ''}`,
        datacenter ? {dc: datacenter} : undefined,
      )
      return parseOrThrow('/v1/acl/replication', () => parseReplication(data))
    } catch (error) {
      if (error instanceof ProbeError && ACL_DISABLED.test(error.message)) return 'acl-disabled'
      throw error
    }
  }

  close(): void {
    this.client.close()
  }
}

// ---------------------------------------------------------------------------------------
// exec

/** Runs a command in the chosen server pod (kube exec in production, anything in tests). */
export type PodRunner = (command: string[], stdin: string) => Promise<{stdout: string; stderr: string; exitCode: number}>

/**
 * `consul members -wan` with the token read from stdin into CONSUL_HTTP_TOKEN (an empty line
 * keeps whatever the container's environment has). The container's CONSUL_HTTP_ADDR and
 * CONSUL_CACERT (set by the Helm chart when TLS is on) tell consul where to connect.
 */
export function membersCommand(): string[] {
  return [
    '/bin/sh',
    '-c',
    'IFS= read -r t || true; if [ -n "$t" ]; then CONSUL_HTTP_TOKEN="$t"; export CONSUL_HTTP_TOKEN; fi; exec consul members -wan',
  ]
}

/**
 * A GET of the local agent's HTTP API with curl: address and CA from the container's
 * CONSUL_HTTP_ADDR / CONSUL_HTTP_SSL / CONSUL_CACERT, the token as a header read from stdin
 * (curl -H @-), the status code on the last line. The path is an argument, not spliced into
 * the script.
 */
export function apiCommand(pathAndQuery: string): string[] {
  const script = [
    'addr="${CONSUL_HTTP_ADDR:-127.0.0.1:8500}"',
    'case "$addr" in http://*|https://*) ;; *) if [ "$CONSUL_HTTP_SSL" = true ] || [ "$CONSUL_HTTP_SSL" = 1 ]; then addr="https://$addr"; else addr="http://$addr"; fi ;; esac',
    'IFS= read -r t || true',
    'if [ -z "$t" ]; then t="$CONSUL_HTTP_TOKEN"; fi',
    `printf 'X-Consul-Token: %s\\n' "$t" | exec curl -sS -H @- \${CONSUL_CACERT:+--cacert "$CONSUL_CACERT"} -w '\\n%{http_code}' "$addr$1"`,
  ].join('\n')
  return ['/bin/sh', '-c', script, 'consulk8s-verify', pathAndQuery]
}

/**
 * The certificate chain of the local agent's HTTPS API as curl sees it (%{certs}, curl 7.88+),
 * verified against the container's own CA (CONSUL_CACERT); no token is sent.
 */
export function certsCommand(): string[] {
  const script = [
    'IFS= read -r t || true',
    'addr="${CONSUL_HTTP_ADDR:-127.0.0.1:8501}"',
    'case "$addr" in http://*) echo "CONSUL_HTTP_ADDR is not HTTPS" >&2; exit 1 ;; https://*) ;; *) addr="https://$addr" ;; esac',
    `exec curl -sS \${CONSUL_CACERT:+--cacert "$CONSUL_CACERT"} -o /dev/null -w '%{certs}' "$addr/v1/status/leader"`,
  ].join('\n')
  return ['/bin/sh', '-c', script]
}

/** curl's exit codes that mean "could not connect" and "TLS failed". */
const CURL_UNREACHABLE = new Set([6, 7, 28, 52, 56])
const CURL_TLS = new Set([35, 51, 58, 60, 77, 83, 90, 91])

/** Reads a Consul server from inside its pod. */
export class ExecConsulReader extends ApiReader implements ConsulReader {
  readonly via = 'exec' as const

  constructor(
    private readonly run: PodRunner,
    readonly source: string,
    private readonly token = '',
  ) {
    super()
  }

  private async exec(command: string[], what: string, token = this.token) {
    try {
      return await this.run(command, `${token}\n`)
    } catch (error) {
      throw new ProbeError('exec', `${what}: ${errorMessage(error)}`, isUserError(error) ? error.hint : undefined)
    }
  }

  async httpsChain(): Promise<PresentedChain> {
    const what = "reading the HTTPS server's certificate chain"
    const result = await this.exec(certsCommand(), what, '')
    const chain = parsePemCertificates(result.stdout)
    if (result.exitCode !== 0 || chain.length === 0) {
      const kind = CURL_TLS.has(result.exitCode) ? 'tls' : CURL_UNREACHABLE.has(result.exitCode) ? 'unreachable' : 'exec'
      throw new ProbeError(
        kind,
        `${what} from inside ${this.source} failed: ${result.stderr.trim() || (chain.length === 0 ? 'curl printed no certificate (it needs curl 7.88 or newer for %{certs})' : `curl exit ${result.exitCode}`)}`,
        'reach Consul over HTTPS with --consul-http-addr to read the chain from here',
      )
    }
    return {endpoint: 'https', address: this.source, chain}
  }

  protected async api(path: string, what: string, token?: string): Promise<unknown> {
    const result = await this.exec(apiCommand(path), what, token)
    if (result.exitCode === 127 || /curl: (not found|No such file)/.test(result.stderr)) {
      throw new ProbeError(
        'exec',
        `curl is not available in the Consul server container (${this.source}), so ${what} cannot be read through exec`,
        'Reach Consul over HTTPS instead with --consul-http-addr (and --consul-cacert / --consul-token).',
      )
    }
    if (result.exitCode !== 0) {
      const kind = CURL_TLS.has(result.exitCode) ? 'tls' : CURL_UNREACHABLE.has(result.exitCode) ? 'unreachable' : 'error'
      throw new ProbeError(kind, `${what} from inside ${this.source} failed: ${result.stderr.trim() || `curl exit ${result.exitCode}`}`)
    }
    const reply = parseOrThrow(what, () => parseCurlOutput(result.stdout))
    if (reply.status < 200 || reply.status >= 300) throw apiFailure(reply.status, reply.body, what)
    return parseOrThrow(what, () => JSON.parse(reply.body))
  }

  async agentSelf(): Promise<AgentInfo> {
    const data = await this.api('/v1/agent/self', 'reading /v1/agent/self')
    return parseOrThrow('/v1/agent/self', () => parseAgentSelf(data))
  }

  async wanMembers(): Promise<WanMember[]> {
    const result = await this.exec(membersCommand(), 'running consul members -wan')
    // consul members exits 2, printing nothing, when no member matches.
    if (result.exitCode === 2 && result.stdout.trim() === '') return []
    if (result.exitCode !== 0) {
      const stderr = result.stderr.trim() || result.stdout.trim() || `exit ${result.exitCode}`
      throw new ProbeError(classifyConsulCliError(stderr), `consul members -wan in ${this.source} failed: ${stderr}`)
    }
    return parseOrThrow('consul members -wan', () => parseMembersTable(result.stdout))
  }

  async datacenters(): Promise<string[]> {
    const data = await this.api('/v1/catalog/datacenters', 'listing datacenters')
    return parseOrThrow('/v1/catalog/datacenters', () => parseDatacenters(data))
  }

  async serverHealth(datacenter: string): Promise<ServerHealth> {
    const data = await this.api(`/v1/health/service/consul?dc=${encodeURIComponent(datacenter)}`, `reading the health of ${datacenter}'s servers`)
    return parseOrThrow('/v1/health/service/consul', () => parseServerHealth(data))
  }

  async replication(datacenter?: string): Promise<ReplicationStatus | 'acl-disabled'> {
    try {
      const query = datacenter ? `?dc=${encodeURIComponent(datacenter)}` : ''
      const data = await this.api(`/v1/acl/replication${query}`, `reading /v1/acl/replication${datacenter ? ` of ${datacenter}` : ''}`)
      return parseOrThrow('/v1/acl/replication', () => parseReplication(data))
    } catch (error) {
      if (error instanceof ProbeError && ACL_DISABLED.test(error.message)) return 'acl-disabled'
      throw error
    }
  }

  close(): void {}
}
