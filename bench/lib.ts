/**
 * Pieces shared by the hand-run benchmarks (bench/*.ts): flags, a private compiled copy of the
 * CLI, and timing one `consulk8s sync` process with its peak RSS and CPU time.
 */
import {copyFileSync, existsSync, mkdirSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'

import type {SyncResult} from '../src/sync/engine.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Preloaded into a benchmarked consulk8s process (node --import): prints PEAK_RSS_KB= and CPU_MS= on exit. */
export const PEAK_RSS_HOOK = fileURLToPath(new URL('./peak-rss.mjs', import.meta.url))

/** The value after `--name` on the command line, or the fallback. */
export function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback
}

export interface Run {
  seconds: number
  writeCalls: number
  peakRssMb: number
  cpuSeconds: number
  result: SyncResult
}

/**
 * Compile and bundle the CLI (as `npm run build` does) into a temporary directory of its own
 * (so a concurrent `npm run build` cannot pull it away); returns its bin/run.js.
 */
export async function buildCopy(dir: string): Promise<string> {
  mkdirSync(join(dir, 'bin'), {recursive: true})
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  copyFileSync(join(ROOT, 'bin/run.js'), join(dir, 'bin/run.js'))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  await execa(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(dir, 'dist')], {
    reject: false,
  })
  await execa(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bundle.ts'), '--dist', join(dir, 'dist')], {cwd: ROOT, reject: false})
  if (!existsSync(join(dir, 'dist/chunks'))) throw new Error('compiling consulk8s failed')
  return join(dir, 'bin/run.js')
}

/** Peak RSS (MB) and CPU seconds a process wrapped with PEAK_RSS_HOOK printed on stderr. */
export function hookReport(stderr: string): {peakRssMb: number; cpuSeconds: number} {
  const rss = /PEAK_RSS_KB=(\d+)/.exec(stderr)
  const cpu = /CPU_MS=(\d+)/.exec(stderr)
  return {peakRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, cpuSeconds: cpu ? Number(cpu[1]) / 1000 : Number.NaN}
}

/** Run `consulk8s <args>` (which must include --json) to completion, timed from spawn to exit. */
export async function timedSync(bin: string, args: string[], env: Record<string, string>): Promise<Run> {
  const started = performance.now()
  const child = await execa(process.execPath, ['--import', PEAK_RSS_HOOK, bin, ...args], {
    reject: false,
    env: {CI: 'true', NO_COLOR: '1', ...env},
    maxBuffer: 512 * 1024 * 1024,
  })
  const seconds = (performance.now() - started) / 1000
  if (child.exitCode !== 0) throw new Error(`sync exited ${child.exitCode}: ${child.stderr.slice(-2000)}`)
  const result = JSON.parse(child.stdout) as SyncResult
  return {seconds, writeCalls: result.writeCalls.consul, ...hookReport(child.stderr), result}
}
