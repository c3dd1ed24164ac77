/**
 * A small Consul HTTP API client on node:https/http with the CA verified by default.
 * Configuration follows consul's own CLI and API client: CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
 * CONSUL_HTTP_TOKEN_FILE, CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY,
 * CONSUL_TLS_SERVER_NAME, CONSUL_HTTP_SSL, CONSUL_HTTP_SSL_VERIFY, CONSUL_NAMESPACE,
 * CONSUL_PARTITION. Domain modules (ACL, catalog, health, txn) build on request().
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'

import {formatDuration} from '../shared/duration.js'
import {UserError, errorMessage} from '../shared/errors.js'
import {requestDeadline, requestTimeoutMs} from '../shared/request-timeout.js'

export interface ConsulConfig {
  /** http(s)://host:port or host:port (then CONSUL_HTTP_SSL decides the scheme). */
  address: string
  token?: string
  /** PEM of the CA that signed the server's HTTPS certificate. */
  caCert?: string
  /** Skip TLS verification; only when the user explicitly asks for it (CONSUL_HTTP_SSL_VERIFY=false). */
  insecure?: boolean
  /** PEM client certificate and key, presented to servers that verify incoming HTTPS. */
  clientCert?: string
  clientKey?: string
  /** The name the server certificate is checked against instead of the address's host. */
  serverName?: string
  /** Consul Enterprise namespace and admin partition, sent on every request (ns=, partition=). */
  namespace?: string
  partition?: string
  /** Per-request timeout in ms. */
  timeoutMs?: number
}

export interface ConsulFlags {
  'consul-http-addr'?: string
  'consul-token'?: string
  'consul-token-file'?: string
  'consul-cacert'?: string
  'consul-client-cert'?: string
  'consul-client-key'?: string
  'consul-tls-server-name'?: string
  'consul-namespace'?: string
  'consul-partition'?: string
}

function readConfigFile(file: string, what: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read the ${what} ${file}: ${errorMessage(error)}`, {hint})
  }
}

/** Go's strconv.ParseBool, as consul's CLI reads CONSUL_HTTP_SSL and CONSUL_HTTP_SSL_VERIFY. */
function envBool(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false
  throw new UserError(`${name}="${raw}" is not a boolean.`, {hint: `Set ${name} to true or false.`})
}

/**
 * Merge flags over CONSUL_* environment variables, as consul's CLI does; undefined when no
 * address is known. A token file wins over a token (consul's API client), and is read here.
 */
export function consulConfigFrom(flags: ConsulFlags, env: NodeJS.ProcessEnv = process.env): ConsulConfig | undefined {
  let address = flags['consul-http-addr'] ?? env.CONSUL_HTTP_ADDR
  if (!address) return undefined
  if (!/^https?:\/\//.test(address)) {
    const ssl = envBool('CONSUL_HTTP_SSL', env.CONSUL_HTTP_SSL) ?? false
    address = `${ssl ? 'https' : 'http'}://${address}`
  }
  const caFile = flags['consul-cacert'] ?? env.CONSUL_CACERT
  const caCert = caFile
    ? readConfigFile(
        caFile,
        'Consul CA certificate',
        'Point --consul-cacert / CONSUL_CACERT at the PEM file of the CA that signed the Consul servers.',
      )
    : undefined
  let token = flags['consul-token'] ?? env.CONSUL_HTTP_TOKEN
  const tokenFile = flags['consul-token-file'] ?? env.CONSUL_HTTP_TOKEN_FILE
  if (tokenFile) {
    const fromFile = readConfigFile(
      tokenFile,
      'Consul token file',
      'Point --consul-token-file / CONSUL_HTTP_TOKEN_FILE at a file holding the ACL token.',
    ).trim()
    if (fromFile === '') throw new UserError(`The Consul token file ${tokenFile} is empty.`, {hint: 'Write the ACL token (its SecretID) into it.'})
    token = fromFile
  }
  const certFile = flags['consul-client-cert'] ?? env.CONSUL_CLIENT_CERT
  const keyFile = flags['consul-client-key'] ?? env.CONSUL_CLIENT_KEY
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new UserError(`A Consul client ${certFile ? 'certificate was given without its key' : 'key was given without its certificate'}.`, {
      hint: 'Pass both --consul-client-cert and --consul-client-key (CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY).',
    })
  }
  const clientHint = 'Point --consul-client-cert / --consul-client-key (CONSUL_CLIENT_CERT / CONSUL_CLIENT_KEY) at PEM files.'
  const config: ConsulConfig = {address, token, caCert}
  if (certFile && keyFile) {
    config.clientCert = readConfigFile(certFile, 'Consul client certificate', clientHint)
    config.clientKey = readConfigFile(keyFile, 'Consul client key', clientHint)
  }
  const serverName = flags['consul-tls-server-name'] ?? env.CONSUL_TLS_SERVER_NAME
  if (serverName) config.serverName = serverName
  if (envBool('CONSUL_HTTP_SSL_VERIFY', env.CONSUL_HTTP_SSL_VERIFY) === false) config.insecure = true
  const namespace = flags['consul-namespace'] ?? env.CONSUL_NAMESPACE
  if (namespace) config.namespace = namespace
  const partition = flags['consul-partition'] ?? env.CONSUL_PARTITION
  if (partition) config.partition = partition
  return config
}

export class ConsulApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`Consul API ${method} ${path} returned HTTP ${status}: ${body.trim().slice(0, 300)}`)
    this.name = 'ConsulApiError'
  }
}

/** A transport-level failure (refused, reset, TLS): the request may not have reached Consul. */
export class ConsulUnreachableError extends Error {
  constructor(
    readonly address: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message)
    this.name = 'ConsulUnreachableError'
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  headers?: Record<string, string>
  /** Override the client's token for this request. */
  token?: string
  timeoutMs?: number
  /** Do not keep or parse a successful answer (`data` is then empty); error bodies are still read. */
  discardBody?: boolean
}

export interface ConsulResponse<T> {
  status: number
  data: T
  headers: http.IncomingHttpHeaders
  /** X-Consul-Index, for blocking queries. */
  index?: string
}

export class ConsulClient {
  private readonly url: URL
  private readonly agent: http.Agent

  constructor(readonly config: ConsulConfig) {
    try {
      this.url = new URL(config.address)
    } catch {
      throw new UserError(`Invalid Consul address "${config.address}".`, {hint: 'Use https://host:port, for example https://127.0.0.1:8501.'})
    }
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 16,
            ca: config.caCert,
            cert: config.clientCert,
            key: config.clientKey,
            servername: config.serverName,
            rejectUnauthorized: !config.insecure,
          })
        : new http.Agent({keepAlive: true, maxSockets: 16})
  }

  get address(): string {
    return this.config.address
  }

  close(): void {
    this.agent.destroy()
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ConsulResponse<T>> {
    const url = new URL(path, this.url)
    // As consul's API client: the namespace and partition go on every request.
    if (this.config.namespace) url.searchParams.set('ns', this.config.namespace)
    if (this.config.partition) url.searchParams.set('partition', this.config.partition)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value === undefined || value === false) continue
      url.searchParams.set(key, value === true ? '' : String(value))
    }
    const token = options.token ?? this.config.token
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = {accept: 'application/json', ...options.headers}
    if (token) headers['x-consul-token'] = token
    if (payload !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(Buffer.byteLength(payload))
    }
    const transport = url.protocol === 'https:' ? https : http
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs ?? requestTimeoutMs()
    const limit = requestDeadline(timeoutMs)
    const timedOut = () =>
      new ConsulUnreachableError(this.address, 'ETIMEDOUT', `Consul at ${this.address} did not answer within ${formatDuration(timeoutMs)}`)
    return new Promise<ConsulResponse<T>>((resolve, reject) => {
      const req = transport.request(url, {method, headers, agent: this.agent, signal: limit.signal}, (res) => {
        const chunks: Buffer[] = []
        const discard = options.discardBody && (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300
        res.on('data', (chunk: Buffer) => {
          if (!discard) chunks.push(chunk)
        })
        res.on('error', (error) => reject(limit.timedOut() ? timedOut() : new ConsulUnreachableError(this.address, undefined, errorMessage(error))))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const status = res.statusCode ?? 0
          if (status < 200 || status >= 300) {
            reject(new ConsulApiError(status, text, method, url.pathname))
            return
          }
          let data: unknown = text
          if (text && (res.headers['content-type'] ?? '').includes('json')) {
            try {
              data = JSON.parse(text)
            } catch {
              data = text
            }
          }
          const index = res.headers['x-consul-index']
          resolve({status, data: data as T, headers: res.headers, index: Array.isArray(index) ? index[0] : index})
        })
      })
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (limit.timedOut()) return reject(timedOut())
        reject(
          new ConsulUnreachableError(
            this.address,
            error.code,
            `Cannot reach Consul at ${this.address}: ${error.code ?? ''} ${error.message}`.replace(/\s+/g, ' '),
          ),
        )
      })
      if (payload !== undefined) req.write(payload)
      req.end()
    }).finally(() => limit.dispose())
  }

  async get<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('GET', path, options)).data
  }

  async put<T = unknown>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('PUT', path, {...options, body})).data
  }

  async delete<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('DELETE', path, options)).data
  }
}

/** One readable message for a Consul failure, with the next step. */
export function describeConsulError(error: unknown, what: string): UserError {
  if (error instanceof UserError) return error
  if (error instanceof ConsulApiError) {
    if (error.status === 403) {
      return new UserError(`Consul denied permission to ${what} (HTTP 403: ${error.body.trim().slice(0, 200)}).`, {
        hint: 'The ACL token (CONSUL_HTTP_TOKEN / --consul-token) is missing, invalid or lacks the needed policy.',
      })
    }
    return new UserError(`Consul failed to ${what}: HTTP ${error.status} ${error.body.trim().slice(0, 200)}`)
  }
  if (error instanceof ConsulUnreachableError) {
    if (error.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new UserError(`${error.message} (while trying to ${what}).`, {
        hint: 'The server certificate is not for this host name: set --consul-tls-server-name / CONSUL_TLS_SERVER_NAME to a name in it (e.g. server.<datacenter>.consul).',
      })
    }
    const tls = (error.code ?? '').includes('CERT') || (error.code ?? '').startsWith('ERR_TLS') || /certificate/i.test(error.message)
    return new UserError(`${error.message} (while trying to ${what}).`, {
      hint: tls
        ? 'The server certificate did not verify: pass the CA that signed it with --consul-cacert / CONSUL_CACERT.'
        : 'Check the address (--consul-http-addr / CONSUL_HTTP_ADDR) and that the Consul server is running.',
    })
  }
  return new UserError(`Failed to ${what}: ${errorMessage(error)}`)
}
