// @ts-check
/**
 * node test/env/forwarder.mjs LISTEN_HOST:PORT=TARGET_HOST:PORT ...
 *
 * The test environment's port mapping, like kind's: listens on each LISTEN address in the
 * root network namespace and pipes every TCP connection to its TARGET (an API server in its
 * test host's namespace), byte for byte (TLS end to end, watches and exec upgrades included).
 * Started and recorded by the environment (process "apiserver-forwarder"), stopped with it.
 * Plain JavaScript so that it starts without tsx.
 */
import net from 'node:net'

/** @param {string} value */
function hostPort(value) {
  const at = value.lastIndexOf(':')
  const port = Number(value.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not HOST:PORT: ${value}`)
  return {host: value.slice(0, at), port}
}

const mappings = process.argv.slice(2).map((arg) => {
  const [listen, target] = arg.split('=')
  if (!listen || !target) throw new Error(`usage: forwarder.mjs LISTEN_HOST:PORT=TARGET_HOST:PORT ... (got ${arg})`)
  return {listen: hostPort(listen), target: hostPort(target)}
})
if (mappings.length === 0) throw new Error('usage: forwarder.mjs LISTEN_HOST:PORT=TARGET_HOST:PORT ...')

for (const {listen, target} of mappings) {
  // Half-open on both sides: a client's FIN is passed on and the answer still flows back.
  const server = net.createServer({allowHalfOpen: true}, (client) => {
    const upstream = net.connect({...target, allowHalfOpen: true})
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', close)
    upstream.on('error', close)
    client.on('close', close)
    upstream.on('close', close)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.on('error', (error) => {
    process.stderr.write(`forwarder: ${listen.host}:${listen.port}: ${error.message}\n`)
    process.exit(1)
  })
  server.listen({host: listen.host, port: listen.port, exclusive: true}, () =>
    process.stdout.write(`forwarder: ${listen.host}:${listen.port} -> ${target.host}:${target.port}\n`),
  )
}

for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(signal, () => process.exit(0))
