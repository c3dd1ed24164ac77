/** A minimal HTTP(S) GET for readiness probes of etcd and the API servers (client certs, own CA). */
import http from 'node:http'
import https from 'node:https'

export interface TlsMaterial {
  ca?: string
  cert?: string
  key?: string
}

export function httpGet(url: string, tls: TlsMaterial = {}, timeoutMs = 5000): Promise<{status: number; body: string}> {
  const target = new URL(url)
  const transport = target.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = transport.request(target, {method: 'GET', ...tls, agent: false, timeout: timeoutMs}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** Resolves with the body when GET answers 200, otherwise throws with the status and body. */
export async function get200(url: string, tls: TlsMaterial = {}): Promise<string> {
  const {status, body} = await httpGet(url, tls)
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status} ${body.trim().slice(0, 200)}`)
  return body
}
