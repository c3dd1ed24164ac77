/**
 * Free loopback ports for the environment's servers. Ports are drawn at random from
 * 20000-32767 (below Linux's ephemeral range, so outgoing connections never take them) and
 * checked by binding them (TCP on 127.0.0.1 and 0.0.0.0, UDP too where Serf needs it). Two
 * runs on one machine therefore do not collide unless they draw the same port within the
 * moment between the check and the server's own bind; a setup that still loses that race
 * fails with the server's "address already in use" in its log.
 */
import {randomInt} from 'node:crypto'
import dgram from 'node:dgram'
import net from 'node:net'

const LOW = 20000
const HIGH = 32767
const handedOut = new Set<number>()

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen({port, host, exclusive: true}, () => server.close(() => resolve(true)))
  })
}

function udpFree(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4')
    socket.once('error', () => {
      socket.close()
      resolve(false)
    })
    socket.bind({port, address, exclusive: true}, () => socket.close(() => resolve(true)))
  })
}

async function isFree(port: number, udp: boolean): Promise<boolean> {
  if (!(await tcpFree(port, '127.0.0.1')) || !(await tcpFree(port, '0.0.0.0'))) return false
  return !udp || ((await udpFree(port, '127.0.0.1')) && (await udpFree(port, '0.0.0.0')))
}

/** A port nobody listens on (TCP, and UDP when `udp`), never the same one twice per process. */
export async function freePort(options: {udp?: boolean} = {}): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = randomInt(LOW, HIGH + 1)
    if (handedOut.has(port)) continue
    handedOut.add(port)
    if (await isFree(port, options.udp ?? false)) return port
  }
  throw new Error(`no free port found in ${LOW}-${HIGH}`)
}

/** Several distinct free ports at once. */
export async function freePorts<K extends string>(spec: Record<K, {udp?: boolean}>): Promise<Record<K, number>> {
  const result = {} as Record<K, number>
  for (const key of Object.keys(spec) as K[]) result[key] = await freePort(spec[key])
  return result
}
