/**
 * Reading what a TLS server presents, for verify's checks: the certificate chain of a
 * Consul server's HTTPS or server RPC port (read to be checked against the federation
 * secret's CA, never trusted: nothing is sent on these connections), and whether an HTTPS
 * endpoint presents a certificate that is valid for its host under a given CA. Plain TCP
 * reachability too.
 */
import net from 'node:net'
import tls from 'node:tls'

import {errorMessage} from '../shared/errors.js'

/** Consul's RPC multiplexer: the first byte 3 (pool.RPCTLS) asks the server for a TLS handshake. */
const CONSUL_RPC_TLS = 3

export class TlsProbeError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'tls',
    message: string,
  ) {
    super(message)
    this.name = 'TlsProbeError'
  }
}

function toPem(der: Buffer): string {
  const base64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`
}

function chainOf(socket: tls.TLSSocket): string[] {
  const chain: string[] = []
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
  const seen = new Set<string>()
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256)
    chain.push(toPem(cert.raw))
    cert = cert.issuerCertificate
  }
  return chain
}

const isIp = (host: string) => net.isIP(host) !== 0

/** "host:port" or "[v6]:port" split; undefined when it is not that. */
export function splitHostPort(address: string): {host: string; port: number} | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address)
  return match ? {host: match[1], port: Number(match[2])} : undefined
}

function connectError(error: NodeJS.ErrnoException, where: string): TlsProbeError {
  const code = error.code ?? ''
  const tlsFailure = code.startsWith('ERR_TLS') || code.includes('CERT') || /certificate|handshake|alert/i.test(error.message)
  return new TlsProbeError(tlsFailure ? 'tls' : 'unreachable', `${where}: ${`${code} ${error.message}`.trim()}`)
}

/**
 * The certificates a server presents, leaf first. `rpc` speaks Consul's RPC preamble first.
 * Verification is deliberately left to the caller (against the CA under test), so the
 * handshake accepts any chain; the connection is closed as soon as the chain is read.
 */
export function presentedChain(options: {host: string; port: number; rpc?: boolean; timeoutMs: number}): Promise<string[]> {
  const {host, port, rpc, timeoutMs} = options
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  return new Promise((resolve, reject) => {
    let done = false
    const finish = (error: Error | undefined, chain?: string[]) => {
      if (done) return
      done = true
      clearTimeout(timer)
      // The TLS socket owns the raw one once wrapped: destroy it alone (destroying both crashes node).
      if (secure) secure.destroy()
      else raw?.destroy()
      if (error) reject(error)
      else resolve(chain!)
    }
    const timer = setTimeout(() => finish(new TlsProbeError('unreachable', `${where}: no TLS handshake within ${timeoutMs} ms`)), timeoutMs)
    let raw: net.Socket | undefined
    let secure: tls.TLSSocket | undefined
    const handshake = (socket?: net.Socket) => {
      secure = tls.connect({
        ...(socket ? {socket} : {host, port}),
        servername: isIp(host) ? undefined : host,
        // Read, not trusted: the chain is checked against the federation secret's CA by the caller.
        rejectUnauthorized: false,
      })
      secure.once('secureConnect', () => {
        const chain = chainOf(secure!)
        finish(chain.length > 0 ? undefined : new TlsProbeError('tls', `${where} presented no certificate`), chain)
      })
      secure.once('error', (error: NodeJS.ErrnoException) => finish(connectError(error, where)))
    }
    if (!rpc) {
      handshake()
      return
    }
    raw = net.connect({host, port}, () => {
      raw!.write(Buffer.from([CONSUL_RPC_TLS]))
      handshake(raw)
    })
    raw.once('error', (error: NodeJS.ErrnoException) => finish(connectError(error, where)))
  })
}

/** Whether a TCP connection to host:port opens within the timeout. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<{ok: true} | {ok: false; message: string}> {
  return new Promise((resolve) => {
    const socket = net.connect({host, port})
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ok: false, message: `no answer within ${timeoutMs} ms`})
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ok: true})
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve({ok: false, message: `${error.code ?? ''} ${error.message}`.trim()})
    })
  })
}

export type HostCertificateResult = {ok: true; subject: string; names: string} | {ok: false; kind: 'unreachable' | 'tls'; message: string}

/**
 * Connects to an https:// URL and verifies its certificate the normal way: signed by `ca`
 * (else the system CAs) and valid for the URL's host (DNS or IP SAN).
 */
export function checkHostCertificate(url: string, ca: string | undefined, timeoutMs: number): Promise<HostCertificateResult> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Promise.resolve({ok: false, kind: 'tls', message: `"${url}" is not a URL`})
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  const port = Number(parsed.port || 443)
  return new Promise((resolve) => {
    const socket = tls.connect({host, port, ca, servername: isIp(host) ? undefined : host, rejectUnauthorized: true})
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ok: false, kind: 'unreachable', message: `no TLS handshake within ${timeoutMs} ms`})
    }, timeoutMs)
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      const peer = socket.getPeerX509Certificate()
      socket.destroy()
      resolve({ok: true, subject: peer?.subject.replace(/\n/g, ', ') ?? '', names: peer?.subjectAltName ?? ''})
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.destroy()
      const failure = connectError(error, `${host}:${port}`)
      resolve({ok: false, kind: failure.kind, message: errorMessage(failure)})
    })
  })
}
