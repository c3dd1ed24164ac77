/**
 * A lean Kubernetes API connection for the sync engine: plain HTTPS with the credentials of
 * one kubeconfig context, JSON in and out, list pages and watch streams. Loading
 * @kubernetes/client-node costs ~75 MB of memory and most of a second before the first
 * request; sync needs none of its typed models, so the common credentials (client
 * certificates, bearer tokens, token files, basic auth, CA, insecure-skip-tls-verify,
 * tls-server-name) are applied here directly. Contexts using `exec`, `auth-provider` or
 * `proxy-url` fall back to the library's own authentication (src/kube/client.ts).
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {isAbsolute, join} from 'node:path'
import {createInterface} from 'node:readline'

import {connectCluster, type KubeTarget} from '../kube/client.js'
import {readKubeconfig, resolveContext, type KubeconfigEntry} from '../kube/kubeconfig.js'
import {UserError, errorMessage} from '../shared/errors.js'

/** An API error shaped like the client library's (numeric code, body), so describeKubeError, isNotFound, isConflict understand it. */
export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    method: string,
    path: string,
  ) {
    super(`${method} ${path}: HTTP ${code} ${body.slice(0, 300)}`)
    this.name = 'KubeHttpError'
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
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
   * (rejects). Resolves 'closed' on a normal end.
   */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<'closed'>
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

class HttpKubeApi implements KubeApi {
  private readonly url: URL

  constructor(
    readonly name: string,
    readonly server: string,
    private readonly authorize: Authorize,
    private readonly agent: http.Agent | undefined,
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
    const options = await this.options(method, payload === undefined ? {} : {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload))})
    const timeoutMs = request.timeoutMs ?? 60_000
    return new Promise<T>((resolve, reject) => {
      const req = this.transport(url).request(url, options, (response) => {
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
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), {code: 'ETIMEDOUT'})))
      req.on('error', reject)
      if (payload !== undefined) req.write(payload)
      req.end()
    })
  }

  async watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<'closed'> {
    const url = this.target(path, {...query, watch: 'true'})
    // A watch holds its connection for minutes: not on the shared keep-alive pool.
    const base = await this.options('GET', {})
    const options = this.agent && base.agent === this.agent ? {...base, ...agentTls(this.agent), agent: false as const, signal} : {...base, signal}
    return new Promise<'closed'>((resolve, reject) => {
      const req = this.transport(url).request(url, options, (response) => {
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
        const failed = (error: Error) => (signal.aborted ? resolve('closed') : reject(error))
        lines.on('close', () => resolve('closed'))
        // readline re-emits the stream's errors (a reset, the abort on Ctrl-C): handled, never thrown.
        lines.on('error', failed)
        response.on('error', failed)
      })
      req.on('error', (error) => (signal.aborted ? resolve('closed') : reject(error)))
      req.end()
    })
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
 * with the same file and context rules and error messages as the rest of consulk8s.
 */
export async function connectKube(target: KubeTarget): Promise<KubeApi> {
  const config = readKubeconfig(target.kubeconfig)
  const context = resolveContext(config, target.context)
  const cluster = config.clusters.get(context.cluster)
  const user = context.user ? config.users.get(context.user) : undefined
  const server = context.server ?? ''
  const c = (cluster?.value ?? {}) as RawCluster
  const u = (user?.value ?? {}) as RawUser
  if (u.exec || u['auth-provider'] || c['proxy-url']) {
    // Credentials plugins and proxies: let the client library do what it knows.
    const library = await connectCluster(target)
    return new HttpKubeApi(context.name, server, (options) => library.config.applyToHTTPSOptions(options), undefined)
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
  return new HttpKubeApi(context.name, server, authorize, agent)
}
