/**
 * consulk8s `sync` side by side with consul-k8s's own sync-catalog, run by hand (never by the
 * tests), in a fresh test environment whose Consul servers also open their gRPC/TLS port:
 *
 *   CONSULK8S_TESTENV_CONSUL_GRPC=1 node --import tsx test/env/with-env.ts -- \
 *     node --import tsx bench/sync-vs-consul-k8s.ts --sync-catalog <binary> [--sizes 100,1000,5000] [--max-wait 600]
 *
 * The sync-catalog binary (built from consul-k8s's source, see docs/benchmarks.md) comes from
 * --sync-catalog or CONSULK8S_BENCH_SYNC_CATALOG; without it only consulk8s and the floor run.
 *
 * For each size N (N ClusterIP Services with one ready endpoint each, test/helpers/fixtures.ts):
 *
 * 1. capture: `consulk8s sync --once` through a recording HTTPS proxy in front of Consul, which
 *    keeps every write request it forwards; then the node is deregistered again;
 * 2. consulk8s: `sync --once --to-consul` straight against Consul, timed from spawn to exit,
 *    with its write calls, peak RSS and CPU seconds; a second `--once` is the no-op resync;
 * 3. floor: the node deregistered, the captured writes are replayed by a minimal HTTPS client
 *    (bodies prepared beforehand, keep-alive, the same number in flight as consulk8s: 8): the
 *    Consul server's own apply time for the same transactions;
 * 4. sync-catalog: started with its defaults except where the comparison needs otherwise
 *    (listed in SYNC_CATALOG_SETTINGS), its Consul HTTP traffic through a counting proxy; timed
 *    until the catalog holds every instance (or --max-wait), then one more minute for its
 *    resyncs (write calls counted), then one Service edited and timed until the catalog shows it;
 * 5. consulk8s continuous (`sync` without --once) on an empty node: once converged, one Service
 *    edited and timed until the catalog shows it.
 *
 * Everything it creates (namespace, Consul nodes) is removed afterwards. Results are printed as
 * Markdown for docs/benchmarks.md.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'

import {ConsulClient} from '../src/consul/client.js'
import {signServerCert} from '../src/federation/crypto.js'
import {getTestEnv} from '../test/env/index.js'
import type {TestEnvState} from '../test/env/types.js'
import {createNamespace, createServices, deleteNamespace} from '../test/helpers/fixtures.js'
import {connectTestCluster, type TestCluster} from '../test/helpers/kube.js'
import {arg, buildCopy, hookReport, PEAK_RSS_HOOK, type Run, timedSync} from './lib.js'

const CONCURRENCY = 8
const POLL_MS = 2000
const RESYNC_WATCH_SECONDS = 65
const TAGS_ANNOTATION = 'consul.hashicorp.com/service-tags'

/** sync-catalog's flags in this benchmark; everything else is its default (see `settings` in the output). */
const SYNC_CATALOG_SETTINGS = [
  '-to-k8s=false: one direction, like `consulk8s sync --to-consul` (chart default: both)',
  '-allow-k8s-namespace <the benchmark namespace>: like `--k8s-allow-namespace` (chart default: *)',
  '-listen 127.0.0.1:<free port>: its health endpoint off the shared :8080',
  'connection: -addresses 127.0.0.1 -http-port <counting proxy> -grpc-port <gRPC/TLS> -use-tls -ca-cert-file -token-file -kubeconfig',
  'defaults kept: -consul-write-interval 30s, -k8s-default-sync=true, -sync-clusterip-services=true, -node-port-sync-type ExternalOnly, -consul-node-name k8s-sync, -consul-k8s-tag k8s, -log-level info, client-go default rate limits (QPS 5, burst 10: no flag)',
]

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const load = () => loadavg()[0].toFixed(1)
const log = (line: string) => process.stderr.write(`${line}\n`)

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(concurrency, items.length)}, async () => {
      while (next < items.length) await fn(items[next++])
    }),
  )
}

// ---------------------------------------------------------------------------------------------
// A counting (and optionally recording) HTTPS proxy in front of Consul's HTTPS API.

interface Recorded {
  method: string
  url: string
  body: Buffer
}

interface Proxy {
  port: number
  /** Write requests (anything but GET/HEAD) per "METHOD /path". */
  writes: Map<string, number>
  reads: number
  status429: number
  recording: boolean
  recorded: Recorded[]
  writeCount(): number
  reset(): void
  /** Closes the connections to Consul (Consul allows 200 per client address: http_max_conns_per_client). */
  dropUpstream(): void
  close(): Promise<void>
}

async function startProxy(env: TestEnvState, target: URL): Promise<Proxy> {
  const cert = await signServerCert({certPem: env.federation.caCertPem, keyPem: env.federation.caKeyPem}, {datacenter: 'bench-proxy'})
  const newAgent = () => new https.Agent({keepAlive: true, maxSockets: 512, ca: env.federation.caCertPem})
  let agent = newAgent()
  const proxy: Proxy = {
    port: 0,
    writes: new Map(),
    reads: 0,
    status429: 0,
    recording: false,
    recorded: [],
    writeCount: () => [...proxy.writes.values()].reduce((a, b) => a + b, 0),
    reset() {
      proxy.writes.clear()
      proxy.reads = 0
      proxy.status429 = 0
      proxy.recorded = []
    },
    dropUpstream() {
      agent.destroy()
      agent = newAgent()
    },
    close: async () => {},
  }
  const server = https.createServer(
    {cert: cert.certPem, key: cert.keyPem, keepAliveTimeout: 120_000, requestTimeout: 0, headersTimeout: 0},
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        const method = req.method ?? 'GET'
        const url = req.url ?? '/'
        if (method === 'GET' || method === 'HEAD') proxy.reads++
        else {
          const key = `${method} ${url.split('?')[0]}`
          proxy.writes.set(key, (proxy.writes.get(key) ?? 0) + 1)
          if (proxy.recording) proxy.recorded.push({method, url, body})
        }
        const headers = {...req.headers, host: target.host, 'content-length': String(body.length)}
        delete headers.connection
        delete headers['transfer-encoding']
        const upstream = https.request({host: target.hostname, port: target.port, method, path: url, headers, agent}, (answer) => {
          if (answer.statusCode === 429) proxy.status429++
          const out = {...answer.headers}
          delete out.connection
          res.writeHead(answer.statusCode ?? 502, out)
          answer.pipe(res)
        })
        upstream.on('error', (error) => {
          if (!res.headersSent) res.writeHead(502)
          res.end(String(error))
        })
        res.on('close', () => upstream.destroy())
        upstream.end(body)
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.port = (server.address() as AddressInfo).port
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
      agent.destroy()
    })
  return proxy
}

/** Replays recorded writes with a minimal client: the requests before the first /v1/txn in order, then the rest 8 at a time. */
async function replay(env: TestEnvState, target: URL, requests: Recorded[]): Promise<{seconds: number; failed: number}> {
  const agent = new https.Agent({keepAlive: true, maxSockets: CONCURRENCY, ca: env.federation.caCertPem})
  const send = (r: Recorded) =>
    new Promise<number>((resolve, reject) => {
      const request = https.request(
        {
          host: target.hostname,
          port: target.port,
          method: r.method,
          path: r.url,
          agent,
          headers: {'x-consul-token': env.federation.managementToken, 'content-type': 'application/json', 'content-length': String(r.body.length)},
        },
        (answer) => {
          answer.resume()
          answer.on('end', () => resolve(answer.statusCode ?? 0))
        },
      )
      request.on('error', reject)
      request.end(r.body)
    })
  const firstTxn = requests.findIndex((r) => r.url.startsWith('/v1/txn'))
  const head = firstTxn < 0 ? requests : requests.slice(0, firstTxn)
  const rest = firstTxn < 0 ? [] : requests.slice(firstTxn)
  let failed = 0
  const started = performance.now()
  for (const r of head) if ((await send(r)) !== 200) failed++
  await pool(rest, CONCURRENCY, async (r) => {
    if ((await send(r)) !== 200) failed++
  })
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  return {seconds, failed}
}

// ---------------------------------------------------------------------------------------------
// The catalog, as the benchmark checks it (always straight against Consul, never through the proxy).

async function instancesOn(consul: ConsulClient, node: string): Promise<number> {
  const answer = await consul.get<{Services?: unknown[]} | null>(`/v1/catalog/node-services/${encodeURIComponent(node)}`)
  return answer?.Services?.length ?? 0
}

async function deregisterNode(consul: ConsulClient, node: string): Promise<void> {
  await consul.put('/v1/catalog/deregister', {Node: node}).catch(() => {})
}

async function waitInstances(
  consul: ConsulClient,
  node: string,
  size: number,
  maxSeconds: number,
  onPoll?: (seconds: number, count: number) => void,
): Promise<{seconds: number; count: number; converged: boolean}> {
  const started = performance.now()
  let count = 0
  for (;;) {
    // A failed poll (e.g. Consul refusing connections beyond http_max_conns_per_client while
    // sync-catalog holds its watches) is skipped, not counted as an empty catalog.
    const polled = await instancesOn(consul, node).catch(() => undefined)
    const seconds = (performance.now() - started) / 1000
    if (polled !== undefined) {
      count = polled
      onPoll?.(seconds, count)
      if (count >= size) return {seconds, count, converged: true}
    }
    if (seconds > maxSeconds) return {seconds, count, converged: false}
    await sleep(POLL_MS)
  }
}

/** Edits one Service (a new tag) and times until Consul's catalog shows the tag on it. */
async function timeOneChange(kube: TestCluster, consul: ConsulClient, ns: string, name: string, maxSeconds: number): Promise<number | undefined> {
  const tag = `bench-${randomBytes(3).toString('hex')}`
  const started = performance.now()
  await kube.mergePatch(
    `edit service ${ns}/${name}`,
    {resource: 'services', namespace: ns, name},
    {metadata: {annotations: {[TAGS_ANNOTATION]: tag}}},
  )
  for (;;) {
    const instances = await consul.get<Array<{ServiceTags?: string[]}>>(`/v1/catalog/service/${encodeURIComponent(name)}`).catch(() => [])
    const seconds = (performance.now() - started) / 1000
    if (instances.some((i) => i.ServiceTags?.includes(tag))) return seconds
    if (seconds > maxSeconds) return undefined
    await sleep(100)
  }
}

// ---------------------------------------------------------------------------------------------
// A long-running process: its CPU time and peak RSS from /proc while it runs.

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100
  } catch {
    return 100
  }
})()

function procUsage(pid: number): {cpuSeconds: number; peakRssMb: number} {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return {cpuSeconds, peakRssMb: hwm ? Number(hwm[1]) / 1024 : Number.NaN}
  } catch {
    return {cpuSeconds: Number.NaN, peakRssMb: Number.NaN}
  }
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

async function freeLoopbackPort(): Promise<number> {
  const {createServer} = await import('node:net')
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------------------------------------

interface SizeResult {
  size: number
  create: {seconds: number}
  capture: {writes: number}
  consulk8s: {
    load: string
    seconds: number
    secondsRange: [number, number]
    engineSeconds: number
    engineRange: [number, number]
    writeCalls: number
    proxyWrites: number
    peakRssMb: number
    cpuSeconds: number
    noopSeconds: number
    noopWrites: number
  }
  floor: {load: string; seconds: number; range: [number, number]; requests: number}
  syncCatalog?: {
    load: string
    converged: boolean
    seconds: number
    reached: number
    progress: Array<[number, number]>
    writes: number
    writesByPath: Record<string, number>
    status429: number
    reads: number
    peakRssMb: number
    cpuSeconds: number
    resyncWrites: number
    changeSeconds?: number
  }
  continuous?: {load: string; convergeSeconds: number; changeSeconds?: number}
}

// eslint-disable-next-line max-lines-per-function -- the benchmark run, step by step as docs/benchmarks.md describes it
async function main(): Promise<void> {
  const env = getTestEnv()
  const context = arg('context', 'dc1')
  const dc = context === 'dc2' ? 'dc2' : 'dc1'
  const sizes = arg('sizes', '100,1000').split(',').map(Number)
  const maxWait = Number(arg('max-wait', '600'))
  const settleSeconds = Number(arg('settle', '20'))
  const repeat = Number(arg('repeat', '3'))
  const syncCatalogBin = arg('sync-catalog', process.env.CONSULK8S_BENCH_SYNC_CATALOG ?? '')
  if (syncCatalogBin && !existsSync(syncCatalogBin)) throw new Error(`sync-catalog binary not found: ${syncCatalogBin}`)
  const grpcTlsPort = env.consul[dc].grpcTlsPort
  if (syncCatalogBin && !grpcTlsPort) throw new Error("the environment's Consul has no gRPC port: start it with CONSULK8S_TESTENV_CONSUL_GRPC=1")

  const target = new URL(env.consul[dc].httpAddr)
  const kube = await connectTestCluster({kubeconfig: env.kubeconfig, context})
  const consul = new ConsulClient({
    address: env.consul[dc].httpAddr,
    caCert: env.federation.caCertPem,
    token: env.federation.managementToken,
    timeoutMs: 60_000,
  })
  const proxy = await startProxy(env, target)
  const work = mkdtempSync(join(tmpdir(), 'consulk8s-bench-vs-'))
  const results: SizeResult[] = []
  try {
    const bin = await buildCopy(join(work, 'cli'))
    const tokenFile = join(work, 'token')
    writeFileSync(tokenFile, env.federation.managementToken, {mode: 0o600})
    // sync-catalog has no --context: a copy of the kubeconfig whose current context is the one benchmarked.
    const kubeconfig = join(work, 'kubeconfig')
    writeFileSync(kubeconfig, readFileSync(env.kubeconfig), {mode: 0o600})
    execFileSync(env.bin.kubectl, ['--kubeconfig', kubeconfig, 'config', 'use-context', context], {stdio: 'ignore'})

    for (const size of sizes) {
      const id = randomBytes(3).toString('hex')
      const ns = `bench-vs-${size}-${id}`
      const node = `bench-vs-${id}`
      const syncNode = 'k8s-sync'
      log(`N=${size}: creating ${size} Services and EndpointSlices in ${ns} ...`)
      const createStart = performance.now()
      await createNamespace(kube, ns)
      try {
        await createServices(kube, ns, size, {concurrency: 16, onProgress: (done) => log(`  ${done}/${size}`)})
        const createSeconds = (performance.now() - createStart) / 1000
        log(`  created in ${createSeconds.toFixed(1)} s; settling ${settleSeconds} s ...`)
        await sleep(settleSeconds * 1000)
        const syncArgs = (address: string) => [
          'sync',
          '--to-consul',
          '--kubeconfig',
          env.kubeconfig,
          '--context',
          context,
          '--consul-http-addr',
          address,
          '--consul-cacert',
          env.federation.caCertFile,
          '--k8s-allow-namespace',
          ns,
          '--consul-node-name',
          node,
        ]
        const tokenEnv = {CONSUL_HTTP_TOKEN: env.federation.managementToken}

        // 1. capture consulk8s's writes
        proxy.reset()
        proxy.recording = true
        await timedSync(bin, [...syncArgs(`https://127.0.0.1:${proxy.port}`), '--once', '--json'], tokenEnv)
        proxy.recording = false
        const captured = proxy.recorded
        const captureWrites = proxy.writeCount()
        log(`  captured ${captured.length} write requests (${[...proxy.writes].map(([k, v]) => `${k}: ${v}`).join(', ')})`)
        await deregisterNode(consul, node)

        // 2 and 3, `repeat` times in turn: consulk8s sync --once straight to Consul on an empty
        // node (after the last one, the no-op resync), then the floor: the captured writes replayed
        // on an empty node.
        const ck8sLoad = load()
        const runs: Run[] = []
        const floors: number[] = []
        let noop: Run | undefined
        for (let round = 0; round < repeat; round++) {
          await deregisterNode(consul, node)
          const first = await timedSync(bin, [...syncArgs(env.consul[dc].httpAddr), '--once', '--json'], tokenEnv)
          const registered = await instancesOn(consul, node)
          if (registered !== size) throw new Error(`consulk8s did not converge: ${registered} instances, expected ${size}`)
          runs.push(first)
          log(
            `  consulk8s: ${first.seconds.toFixed(2)} s (engine ${(first.result.durationMs / 1000).toFixed(2)} s), ${first.writeCalls} writes, ${first.peakRssMb.toFixed(0)} MB, ${first.cpuSeconds.toFixed(2)} CPU s (load ${load()})`,
          )
          if (round === repeat - 1) {
            noop = await timedSync(bin, [...syncArgs(env.consul[dc].httpAddr), '--once', '--json'], tokenEnv)
            log(`  consulk8s no-op: ${noop.seconds.toFixed(2)} s, ${noop.writeCalls} writes`)
          }
          await deregisterNode(consul, node)
          await sleep(1000)
          const floor = await replay(env, target, captured)
          const replayed = await instancesOn(consul, node)
          if (floor.failed > 0 || replayed !== size)
            throw new Error(`floor replay: ${floor.failed} failed requests, ${replayed} instances, expected ${size}`)
          floors.push(floor.seconds)
          log(`  floor: ${floor.seconds.toFixed(2)} s for ${captured.length} requests (load ${load()})`)
        }
        await deregisterNode(consul, node)
        const first = runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]
        const engines = runs.map((r) => r.result.durationMs / 1000).sort((a, b) => a - b)

        const result: SizeResult = {
          size,
          create: {seconds: createSeconds},
          capture: {writes: captureWrites},
          consulk8s: {
            load: ck8sLoad,
            seconds: first.seconds,
            secondsRange: [runs[0].seconds, runs.at(-1)!.seconds],
            engineSeconds: median(engines),
            engineRange: [engines[0], engines.at(-1)!],
            writeCalls: first.writeCalls,
            proxyWrites: captureWrites,
            peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
            cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
            noopSeconds: noop!.seconds,
            noopWrites: noop!.writeCalls,
          },
          floor: {load: ck8sLoad, seconds: median(floors), range: [Math.min(...floors), Math.max(...floors)], requests: captured.length},
        }

        // 4. sync-catalog
        if (syncCatalogBin) {
          await deregisterNode(consul, syncNode)
          proxy.reset()
          const listen = await freeLoopbackPort()
          const logFile = join(work, `sync-catalog-${size}.log`)
          const out = createWriteStream(logFile)
          const scLoad = load()
          const started = performance.now()
          const child = spawn(
            syncCatalogBin,
            [
              '-to-k8s=false',
              '-allow-k8s-namespace',
              ns,
              '-listen',
              `127.0.0.1:${listen}`,
              '-addresses',
              '127.0.0.1',
              '-http-port',
              String(proxy.port),
              '-grpc-port',
              String(grpcTlsPort),
              '-use-tls',
              '-ca-cert-file',
              env.federation.caCertFile,
              '-token-file',
              tokenFile,
              '-kubeconfig',
              kubeconfig,
            ],
            {stdio: ['ignore', 'pipe', 'pipe']},
          )
          child.stdout!.pipe(out)
          child.stderr!.pipe(out)
          const progress: Array<[number, number]> = []
          let nextMark = 30
          const wait = await waitInstances(consul, syncNode, size, maxWait, (seconds, count) => {
            if (child.exitCode !== null) throw new Error(`sync-catalog exited ${child.exitCode}; log: ${readFileSync(logFile, 'utf8').slice(-3000)}`)
            if (seconds >= nextMark) {
              progress.push([Math.round(seconds), count])
              log(`  sync-catalog: ${count}/${size} after ${seconds.toFixed(0)} s (load ${load()})`)
              nextMark *= 2
            }
          })
          const seconds = (performance.now() - started) / 1000
          const atConvergence = {
            writes: proxy.writeCount(),
            writesByPath: Object.fromEntries(proxy.writes),
            status429: proxy.status429,
            reads: proxy.reads,
          }
          const usage = procUsage(child.pid!)
          log(
            `  sync-catalog: ${wait.converged ? 'converged' : 'NOT converged'}: ${wait.count}/${size} after ${seconds.toFixed(1)} s, ${atConvergence.writes} writes, ${atConvergence.status429} answers 429, ${usage.peakRssMb.toFixed(0)} MB, ${usage.cpuSeconds.toFixed(1)} CPU s`,
          )
          let resyncWrites = Number.NaN
          let changeSeconds: number | undefined
          if (wait.converged) {
            const before = proxy.writeCount()
            await sleep(RESYNC_WATCH_SECONDS * 1000)
            resyncWrites = proxy.writeCount() - before
            changeSeconds = await timeOneChange(kube, consul, ns, 'svc-1', 180)
            log(
              `  sync-catalog: ${resyncWrites} writes in the ${RESYNC_WATCH_SECONDS} s after convergence; one change seen after ${changeSeconds?.toFixed(1) ?? 'never'} s`,
            )
          }
          await stop(child)
          out.end()
          proxy.dropUpstream()
          result.syncCatalog = {
            load: scLoad,
            converged: wait.converged,
            seconds,
            reached: wait.count,
            progress,
            ...atConvergence,
            peakRssMb: usage.peakRssMb,
            cpuSeconds: usage.cpuSeconds,
            resyncWrites,
            changeSeconds,
          }
          await deregisterNode(consul, syncNode)
        }

        // 5. consulk8s continuous: converge, then one change
        {
          const contLoad = load()
          const child = spawn(process.execPath, ['--import', PEAK_RSS_HOOK, bin, ...syncArgs(env.consul[dc].httpAddr)], {
            stdio: ['ignore', 'ignore', 'pipe'],
            env: {...process.env, CI: 'true', NO_COLOR: '1', ...tokenEnv},
          })
          let stderr = ''
          child.stderr!.on('data', (chunk: Buffer) => {
            stderr = (stderr + chunk.toString()).slice(-20_000)
          })
          const wait = await waitInstances(consul, node, size, maxWait)
          let changeSeconds: number | undefined
          if (wait.converged) {
            await sleep(3000)
            changeSeconds = await timeOneChange(kube, consul, ns, 'svc-2', 120)
          }
          await stop(child, 'SIGINT')
          log(
            `  consulk8s continuous: converged after ${wait.seconds.toFixed(1)} s, one change seen after ${changeSeconds?.toFixed(2) ?? 'never'} s (${JSON.stringify(hookReport(stderr))})`,
          )
          result.continuous = {load: contLoad, convergeSeconds: wait.seconds, changeSeconds}
          await deregisterNode(consul, node)
        }
        results.push(result)
        log(render(results))
      } finally {
        await deregisterNode(consul, node)
        await deleteNamespace(kube, ns)
      }
    }
  } finally {
    await proxy.close()
    consul.close()
    rmSync(work, {recursive: true, force: true})
  }
  process.stdout.write(render(results))
}

function render(results: SizeResult[]): string {
  const s = (value: number | undefined, digits = 2) => (value === undefined || Number.isNaN(value) ? '–' : `${value.toFixed(digits)} s`)
  const range = ([low, high]: [number, number]) => `${low.toFixed(2)}–${high.toFixed(2)}`
  const mb = (value: number) => (Number.isNaN(value) ? '–' : `${value.toFixed(0)} MB`)
  const lines = [
    '| N | what | load avg | time to converge (consulk8s, floor: median [min–max]) | Consul write calls | peak RSS | CPU | no-op resync |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of results) {
    const c = r.consulk8s
    lines.push(
      `| ${r.size} | consulk8s \`sync --once\` | ${c.load} | ${s(c.seconds)} [${range(c.secondsRange)}] (engine ${s(c.engineSeconds)} [${range(c.engineRange)}]) | ${c.writeCalls} | ${mb(c.peakRssMb)} | ${s(c.cpuSeconds)} | ${c.noopWrites} writes, ${s(c.noopSeconds)} |`,
    )
    lines.push(
      `| ${r.size} | floor: the same ${r.floor.requests} requests replayed | ${r.floor.load} | ${s(r.floor.seconds)} [${range(r.floor.range)}] | ${r.floor.requests} | – | – | – |`,
    )
    lines.push(
      `| ${r.size} | consulk8s ÷ floor | | ${(c.seconds / r.floor.seconds).toFixed(1)}× (engine ${(c.engineSeconds / r.floor.seconds).toFixed(1)}×) | | | | |`,
    )
    const sc = r.syncCatalog
    if (sc) {
      const reached = sc.converged ? s(sc.seconds, 1) : `not converged: ${sc.reached}/${r.size} after ${s(sc.seconds, 0)}`
      lines.push(
        `| ${r.size} | sync-catalog | ${sc.load} | ${reached} | ${sc.writes} (${sc.status429} answered 429) | ${mb(sc.peakRssMb)} | ${s(sc.cpuSeconds, 1)} | ${Number.isNaN(sc.resyncWrites) ? '–' : `${sc.resyncWrites} writes in ${RESYNC_WATCH_SECONDS} s`} |`,
      )
      if (sc.converged) lines.push(`| ${r.size} | sync-catalog ÷ consulk8s | | ${(sc.seconds / c.seconds).toFixed(0)}× | | | | |`)
    }
  }
  lines.push('', '| N | one Service edited → catalog updated: consulk8s `sync` (continuous) | sync-catalog |', '| --- | --- | --- |')
  for (const r of results)
    lines.push(`| ${r.size} | ${s(r.continuous?.changeSeconds)} (load ${r.continuous?.load ?? '–'}) | ${s(r.syncCatalog?.changeSeconds, 1)} |`)
  const progress = results.filter((r) => r.syncCatalog && r.syncCatalog.progress.length > 0)
  if (progress.length > 0) {
    lines.push('', 'sync-catalog progress (instances in the catalog after t seconds):', '')
    for (const r of progress) lines.push(`- N=${r.size}: ${r.syncCatalog!.progress.map(([t, n]) => `${t} s: ${n}`).join(', ')}`)
  }
  const byPath = results.filter((r) => r.syncCatalog)
  if (byPath.length > 0) {
    lines.push('', 'sync-catalog write calls by endpoint until convergence, and its reads (watches included):', '')
    for (const r of byPath)
      lines.push(
        `- N=${r.size}: ${Object.entries(r.syncCatalog!.writesByPath)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}; ${r.syncCatalog!.reads} reads`,
      )
  }
  lines.push('', 'sync-catalog settings:', '', ...SYNC_CATALOG_SETTINGS.map((line) => `- ${line}`))
  return lines.join('\n') + '\n'
}

await main()
