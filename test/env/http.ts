/** Minimal HTTP(S) requests for readiness probes and setup calls to etcd and the API servers (client certs, own CA). */
import http from 'node:http'
import https from 'node:https'

export interface TlsMaterial {
  ca?: string
  cert?: string
  key?: string
}

export function httpRequest(
  method: string,
  url: string,
  tls: TlsMaterial = {},
  body?: unknown,
  timeoutMs = 5000,
): Promise<{status: number; body: string}> {
  const target = new URL(url)
  const transport = target.protocol === 'https:' ? https : http
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers: Record<string, string> =
    payload === undefined ? {} : {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload))}
  return new Promise((resolve, reject) => {
    const req = transport.request(target, {method, headers, ...tls, agent: false, timeout: timeoutMs}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** Resolves with the body when the request answers 2xx, otherwise throws with the status and body. */
export async function request2xx(method: string, url: string, tls: TlsMaterial = {}, body?: unknown): Promise<string> {
  const response = await httpRequest(method, url, tls, body)
  if (response.status < 200 || response.status > 299)
    throw new Error(`${method} ${url}: HTTP ${response.status} ${response.body.trim().slice(0, 200)}`)
  return response.body
}

export const get200 = (url: string, tls: TlsMaterial = {}) => request2xx('GET', url, tls)
