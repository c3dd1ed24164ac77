/**
 * The Kubernetes API transport of consulk8s: plain HTTPS with the credentials of one
 * kubeconfig context, JSON in and out, list pages and watch streams. Loading
 * @kubernetes/client-node costs ~75 MB of memory and most of a second before the first
 * request, and no command needs its typed models, so the common credentials (client
 * certificates, bearer tokens, token files, basic auth, CA, insecure-skip-tls-verify,
 * tls-server-name) are applied here directly. Contexts using `exec`, `auth-provider` or
 * `proxy-url` borrow the library's authentication for exactly that context
 * (libraryConfig in kubeconfig.ts).
 *
 * Every request has a deadline (kubectl's --request-timeout, 30 s by default) that covers
 * the connection, the TLS handshake and the answer, so a server that accepts and never
 * answers cannot hang a command.
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {isAbsolute, join} from 'node:path'
import {createInterface} from 'node:readline'

import {UserError, errorMessage} from '../shared/errors.js'
import {requestDeadline, requestTimeoutMs as currentRequestTimeout} from '../shared/request-timeout.js'
import {KubeHttpError, KubeTimeoutError} from './errors.js'
import {readKubeconfig, resolveContext, type Kubeconfig, type KubeconfigContext, type KubeconfigEntry} from './kubeconfig.js'
import {libraryConfig} from './library.js'

export {KubeHttpError} from './errors.js'

export interface KubeTarget {
  kubeconfig?: string
  context?: string
  /** Per-request deadline in ms; 0 means none (kubectl's --request-timeout=0). Default: the run's --request-timeout. */
  requestTimeoutMs?: number
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  /** Content type of the body; JSON by default (a merge patch sends application/merge-patch+json). */
  contentType?: string
  /** Overrides the connection's request timeout for this call (ms; 0: none). */
  timeoutMs?: number
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type WatchEvent = {type: string; object: any}

export interface KubeApi {
  /** Context name. */
  readonly name: string
  readonly server: string
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<T>
  /**
   * Stream a watch until the server ends it, `signal` aborts, or the connection fails
   * (rejects). Resolves 'closed' on a normal end. The request timeout bounds only the wait
   * for the response headers: a watch then runs as long as the server keeps it.
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<'closed'>
  close(): void
}

interface RawUser {
  'client-certificate'?: string
  'client-certificate-data'?: string
  'client-key'?: string
  'client-key-data'?: string
  token?: string
  tokenFile?: string
  username?: string
  password?: string
  exec?: unknown
  'auth-provider'?: unknown
}

interface RawCluster {
  server?: string
  'certificate-authority'?: string
  'certificate-authority-data'?: string
  'insecure-skip-tls-verify'?: boolean
  'tls-server-name'?: string
  'proxy-url'?: string
}

function material(data: string | undefined, file: string | undefined, dir: string, what: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64')
  if (!file) return undefined
  const path = isAbsolute(file) ? file : join(dir, file)
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UserError(`Cannot read the ${what} ${path} named in the kubeconfig: ${errorMessage(error)}`)
  }
}

type Authorize = (options: https.RequestOptions) => Promise<void>

/** A request's deadline, whose failure is reported as the server not answering in time. */
function deadline(server: string, timeoutMs: number, outer?: AbortSignal) {
  const limit = requestDeadline(timeoutMs, outer)
  return {...limit, reason: (error: unknown): unknown => (limit.timedOut() ? new KubeTimeoutError(server, timeoutMs) : error)}
}

class HttpKubeApi implements KubeApi {
  private readonly url: URL

  constructor(
    readonly name: string,
    readonly server: string,
    private readonly authorize: Authorize,
    private readonly agent: http.Agent | undefined,
    private readonly requestTimeoutMs: number,
  ) {
    this.url = new URL(server)
  }

  private async options(method: string, headers: Record<string, string>): Promise<https.RequestOptions> {
    const options: https.RequestOptions = {method, headers: {accept: 'application/json', ...headers}, agent: this.agent}
    await this.authorize(options)
    return options
  }

  private target(path: string, query: RequestOptions['query'] = {}): URL {
    const url = new URL(this.url.pathname.replace(/\/+$/, '') + path, this.url)
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, String(value))
    return url
  }

  private transport(url: URL) {
    return url.protocol === 'http:' ? http : https
  }

  async request<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
    const url = this.target(path, request.query)
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body)
    const headers: Record<string, string> =
      payload === undefined ? {} : {'content-type': request.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload))}
    const options = await this.options(method, headers)
    const limit = deadline(this.server, request.timeoutMs ?? this.requestTimeoutMs)
    try {
      return await new Promise<T>((resolve, reject) => {
        const req = this.transport(url).request(url, {...options, signal: limit.signal}, (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('error', reject)
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            chunks.length = 0 // the response may outlive this call on a keep-alive socket
            const status = response.statusCode ?? 0
            if (status < 200 || status >= 300) return reject(new KubeHttpError(status, text, method, url.pathname))
            try {
              resolve((text ? JSON.parse(text) : undefined) as T)
            } catch (error) {
              reject(new Error(`${method} ${url.pathname}: the answer is not JSON (${errorMessage(error)})`))
            }
          })
        })
        req.on('error', reject)
        if (payload !== undefined) req.write(payload)
        req.end()
      })
    } catch (error) {
      throw limit.reason(error)
    } finally {
      limit.dispose()
    }
  }

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<'closed'> {
    const url = this.target(path, {...query, watch: 'true'})
    // A watch holds its connection for minutes: not on the shared keep-alive pool.
    const base = await this.options('GET', {})
    const limit = deadline(this.server, this.requestTimeoutMs, signal)
    const options = this.agent && base.agent === this.agent ? {...base, ...agentTls(this.agent), agent: false as const} : base
    try {
      return await new Promise<'closed'>((resolve, reject) => {
        const failed = (error: Error) => (signal.aborted ? resolve('closed') : reject(limit.reason(error)))
        const req = this.transport(url).request(url, {...options, signal: limit.signal}, (response) => {
          limit.stop()
          if ((response.statusCode ?? 0) !== 200) {
            const chunks: Buffer[] = []
            response.on('data', (chunk: Buffer) => chunks.push(chunk))
            response.on('end', () => reject(new KubeHttpError(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), 'GET', url.pathname)))
            return
          }
          const lines = createInterface({input: response, crlfDelay: Number.POSITIVE_INFINITY})
          lines.on('line', (line) => {
            if (!line.trim()) return
            try {
              onEvent(JSON.parse(line) as WatchEvent)
            } catch {
              // A partial line can only come with a broken connection, which ends the watch.
            }
          })
          lines.on('close', () => resolve('closed'))
          // readline re-emits the stream's errors (a reset, the abort on Ctrl-C): handled, never thrown.
          lines.on('error', failed)
          response.on('error', failed)
        })
        req.on('error', failed)
        req.end()
      })
    } finally {
      limit.dispose()
    }
  }

  close(): void {
    this.agent?.destroy()
  }
}

/** The TLS settings of an agent, for a request that does not use the agent itself. */
function agentTls(agent: http.Agent): https.RequestOptions {
  const o = (agent as unknown as {options: https.AgentOptions}).options ?? {}
  return {ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername}
}

/**
 * Connect to one context of the kubeconfig the user gave (never the default one instead),
 * with kubectl's file, merge and context rules.
 */
export async function connectKube(target: KubeTarget): Promise<KubeApi> {
  const config = readKubeconfig(target.kubeconfig)
  return openKubeApi(config, resolveContext(config, target.context), target.requestTimeoutMs)
}

/** The PEM of the CA a context's cluster entry names (certificate-authority-data or -file); undefined: the system CAs. */
export function clusterCa(config: Kubeconfig, context: KubeconfigContext): string | undefined {
  const cluster = config.clusters.get(context.cluster)
  const c = (cluster?.value ?? {}) as RawCluster
  return material(c['certificate-authority-data'], c['certificate-authority'], cluster?.dir ?? process.cwd(), 'certificate authority')?.toString(
    'utf8',
  )
}

/** The transport for a context already resolved from a read kubeconfig. */
export async function openKubeApi(config: Kubeconfig, context: KubeconfigContext, requestTimeoutMs?: number): Promise<KubeApi> {
  const cluster = config.clusters.get(context.cluster)
  const user = context.user ? config.users.get(context.user) : undefined
  const server = context.server ?? ''
  const timeoutMs = requestTimeoutMs ?? currentRequestTimeout()
  const c = (cluster?.value ?? {}) as RawCluster
  const u = (user?.value ?? {}) as RawUser
  if (u.exec || u['auth-provider'] || c['proxy-url']) {
    // Credentials plugins and proxies: let the client library do what it knows, for this context only.
    const library = await libraryConfig(config, context)
    return new HttpKubeApi(context.name, server, (options) => library.applyToHTTPSOptions(options), undefined, timeoutMs)
  }
  const dir = (entry?: KubeconfigEntry) => entry?.dir ?? process.cwd()
  const agent = new (server.startsWith('http:') ? http.Agent : https.Agent)({
    keepAlive: true,
    maxSockets: 16,
    ca: material(c['certificate-authority-data'], c['certificate-authority'], dir(cluster), 'certificate authority'),
    cert: material(u['client-certificate-data'], u['client-certificate'], dir(user), 'client certificate'),
    key: material(u['client-key-data'], u['client-key'], dir(user), 'client key'),
    rejectUnauthorized: c['insecure-skip-tls-verify'] !== true,
    servername: c['tls-server-name'],
  } as https.AgentOptions)
  const tokenFile = u.tokenFile ? (isAbsolute(u.tokenFile) ? u.tokenFile : join(dir(user), u.tokenFile)) : undefined
  const authorize: Authorize = async (options) => {
    const headers = options.headers as Record<string, string>
    // A token file is read on every request: it may be rotated (projected service account tokens).
    const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : u.token
    if (token) headers.authorization = `Bearer ${token}`
    else if (u.username) headers.authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ''}`).toString('base64')}`
  }
  return new HttpKubeApi(context.name, server, authorize, agent, timeoutMs)
}
