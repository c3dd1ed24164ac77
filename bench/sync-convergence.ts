/**
 * Catalog-sync benchmark, run by hand (never by the tests):
 *
 *   npm run testenv:up                       # the real test environment
 *   CONSULK8S_TESTENV=.testenv/state.json npm run bench -- [--sizes 100,1000,5000] [--context dc1] [--settle 20]
 *
 * For each size N it creates N ClusterIP Services, each with an EndpointSlice holding one
 * ready endpoint, in the real kube-apiserver, lets the control plane settle, then times `consulk8s sync --once --to-consul`
 * (the built binary, a real process) until it exits having converged the real Consul
 * catalog, counts its Consul write calls, and records its peak RSS. A second run measures
 * the no-op case. Everything it creates (namespace, Consul node) is removed afterwards.
 * Results are printed as a Markdown table for docs/benchmarks.md. The CLI is compiled into a
 * private temporary copy first, so a concurrent `npm run build` cannot pull it away mid-run.
 */
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'

import {nodeChecks, nodeServices} from '../src/consul/catalog.js'
import {ConsulClient} from '../src/consul/client.js'
import {connectTestCluster} from '../test/helpers/kube.js'
import {getTestEnv} from '../test/env/index.js'
import {createNamespace, createServices, deleteNamespace} from '../test/helpers/fixtures.js'
import {arg, buildCopy, timedSync} from './lib.js'

async function main(): Promise<void> {
  const env = getTestEnv()
  const context = arg('context', 'dc1')
  const dc = context === 'dc2' ? 'dc2' : 'dc1'
  const sizes = arg('sizes', '100,1000,5000').split(',').map(Number)
  const settleSeconds = Number(arg('settle', '20'))
  const kube = await connectTestCluster({kubeconfig: env.kubeconfig, context})
  const consul = new ConsulClient({address: env.consul[dc].httpAddr, caCert: env.federation.caCertPem, token: env.federation.managementToken})
  const rows: string[] = []
  const copy = mkdtempSync(join(tmpdir(), 'consulk8s-bench-'))
  try {
    const bin = await buildCopy(copy)
    for (const size of sizes) {
      const id = randomBytes(3).toString('hex')
      const ns = `bench-sync-${size}-${id}`
      const node = `bench-sync-${id}`
      process.stderr.write(`N=${size}: creating ${size} Services and EndpointSlices in ${ns} ...\n`)
      const createStart = performance.now()
      await createNamespace(kube, ns)
      try {
        await createServices(kube, ns, size, {concurrency: 16, onProgress: (done) => process.stderr.write(`  ${done}/${size}\n`)})
        const createSeconds = (performance.now() - createStart) / 1000
        const args = [
          'sync',
          '--once',
          '--to-consul',
          '--json',
          '--kubeconfig',
          env.kubeconfig,
          '--context',
          context,
          '--consul-http-addr',
          env.consul[dc].httpAddr,
          '--consul-cacert',
          env.federation.caCertFile,
          '--k8s-allow-namespace',
          ns,
          '--consul-node-name',
          node,
        ]
        const tokenEnv = {CONSUL_HTTP_TOKEN: env.federation.managementToken}
        // Let the control plane (controller-manager, watch caches) finish reacting to the burst of creations.
        process.stderr.write(`  created in ${createSeconds.toFixed(1)} s; settling ${settleSeconds} s, then syncing ...\n`)
        await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000))
        const first = await timedSync(bin, args, tokenEnv)
        const registered = (await nodeServices(consul, node)).data.services.length
        const passing = (await nodeChecks(consul, node)).data.filter((check) => check.Status === 'passing').length
        if (registered !== size || passing !== size) throw new Error(`not converged: ${registered} registered, ${passing} passing, expected ${size}`)
        const second = await timedSync(bin, args, tokenEnv)
        if (second.writeCalls !== 0) throw new Error(`second run wrote ${second.writeCalls} times`)
        rows.push(
          `| ${size} | ${loadavg()[0].toFixed(1)} | ${first.seconds.toFixed(2)} s | ${(first.result.durationMs / 1000).toFixed(2)} s | ${first.writeCalls} | ${first.peakRssMb.toFixed(0)} MB | ${second.seconds.toFixed(2)} s | ${second.peakRssMb.toFixed(0)} MB |`,
        )
        process.stderr.write(`  ${rows.at(-1)}\n`)
      } finally {
        await consul.put('/v1/catalog/deregister', {Node: node}).catch(() => {})
        await deleteNamespace(kube, ns)
      }
    }
  } finally {
    consul.close()
    rmSync(copy, {recursive: true, force: true})
  }
  process.stdout.write(
    [
      '| services (N) | load avg (2 cores) | sync --once, process wall time | of which engine (read+plan+apply) | Consul write calls | peak RSS | no-op rerun wall time | no-op peak RSS |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n') + '\n',
  )
}

await main()
