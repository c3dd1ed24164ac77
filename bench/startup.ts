/**
 * Start-up benchmark, run by hand (never by the tests):
 *
 *   npm run build && npx tsx bench/startup.ts [--runs 9] [--bin bin/run.js]
 *
 * Times whole processes of the built CLI against a bare `node -e 0` in the same run:
 * `--help`, `version`, an offline `federate primary --output-dir DIR --yes` (a first run in a
 * fresh directory, and a rerun over a directory it already wrote) and `inject -f` on a small
 * manifest. Every round runs each case right after its own `node -e 0`, pair by pair, so load
 * that comes and goes hits both sides alike; the report gives medians and the ratio of each
 * case's median to the median of its `node -e 0` runs, plus the load average before and after.
 * On a loaded machine wall time mostly measures the scheduler, so when `perf` is usable each
 * pair is also run under `perf stat -e task-clock` (a second, separate run), which gives the
 * CPU time the process (all its threads) used: the steadier figure.
 * Every run must exit 0 (a failing command would time nothing useful). Nothing talks to a
 * cluster; the temporary directories are removed afterwards.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback
}

const runs = Number(arg('runs', '9'))
const bin = resolve(ROOT, arg('bin', 'bin/run.js'))
const manifest = join(ROOT, 'test/fixtures/inject/static-server.yaml')
if (!existsSync(bin)) throw new Error(`${bin} does not exist: run \`npm run build\` first`)

const work = mkdtempSync(join(tmpdir(), 'consulk8s-startup-'))
let fresh = 0

interface Case {
  name: string
  /** Arguments for node; a function when each run needs its own (a fresh directory). */
  args: () => string[]
}

const rerunDir = join(work, 'rerun')
const cases: Case[] = [
  {name: '`--help`', args: () => [bin, '--help']},
  {name: '`version`', args: () => [bin, 'version']},
  {
    name: '`federate primary --output-dir` (first run)',
    args: () => [bin, 'federate', 'primary', '--output-dir', join(work, `first-${fresh++}`), '--yes'],
  },
  {name: '`federate primary --output-dir` (rerun)', args: () => [bin, 'federate', 'primary', '--output-dir', rerunDir, '--yes']},
  {name: '`inject -f` (one small manifest)', args: () => [bin, 'inject', '-f', manifest]},
]
const BARE = ['-e', '0']

function run(command: string, args: string[]): number {
  const started = performance.now()
  const result = spawnSync(command, args, {cwd: work, env: {...process.env, CI: 'true', NO_COLOR: '1'}, encoding: 'utf8'})
  const ms = performance.now() - started
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${(result.stderr || result.error?.message || '').slice(-2000)}`)
  return ms
}

/** Wall time of one node process in milliseconds; it must succeed. */
function time(args: string[]): number {
  return run(process.execPath, args)
}

const PERF_OUT = join(work, 'perf.csv')
/** CPU time (task-clock, ms) of one node process, measured by `perf stat`. */
function cpu(args: string[]): number {
  run('perf', ['stat', '-x,', '-e', 'task-clock', '-o', PERF_OUT, '--', process.execPath, ...args])
  const line = readFileSync(PERF_OUT, 'utf8')
    .split('\n')
    .find((text) => text.includes('task-clock'))
  const ms = Number(line?.split(',')[0])
  if (!Number.isFinite(ms)) throw new Error(`cannot read perf's task-clock from ${JSON.stringify(line)}`)
  return ms
}

function perfUsable(): boolean {
  try {
    cpu(BARE)
    return true
  } catch {
    return false
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function main(): void {
  const loadBefore = loadavg()
  // Warm the file cache and create the rerun directory; not counted.
  time(BARE)
  for (const item of cases) time(item.args())
  const withCpu = perfUsable()
  const wall = {bare: [] as number[], cases: cases.map(() => [] as number[])}
  const cpuTime = {bare: [] as number[], cases: cases.map(() => [] as number[])}
  for (let round = 0; round < runs; round++) {
    cases.forEach((item, index) => {
      wall.bare.push(time(BARE))
      wall.cases[index].push(time(item.args()))
      if (!withCpu) return
      cpuTime.bare.push(cpu(BARE))
      cpuTime.cases[index].push(cpu(item.args()))
    })
  }
  const loadAfter = loadavg()
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ')
  console.log(
    `Node ${process.version}, ${cpus().length} CPUs, ${runs} rounds; load average (1/5/15 min) ${load(loadBefore)} before, ${load(loadAfter)} after`,
  )
  console.log('')
  const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`
  const cells = (values: number[], base: number) => [
    seconds(median(values)),
    `${seconds(Math.min(...values))}-${seconds(Math.max(...values))}`.replace(/ s-/, '-'),
    (median(values) / base).toFixed(2),
  ]
  const header = [
    'command',
    'wall median',
    'wall min-max',
    'wall × `node -e 0`',
    ...(withCpu ? ['CPU median', 'CPU min-max', 'CPU × `node -e 0`'] : []),
  ]
  console.log(`| ${header.join(' | ')} |`)
  console.log(`|${' --- |'.repeat(header.length)}`)
  const row = (name: string, wallValues: number[], cpuValues: number[]) =>
    console.log(`| ${[name, ...cells(wallValues, median(wall.bare)), ...(withCpu ? cells(cpuValues, median(cpuTime.bare)) : [])].join(' | ')} |`)
  row('`node -e 0`', wall.bare, cpuTime.bare)
  cases.forEach((item, index) => row(item.name, wall.cases[index], cpuTime.cases[index]))
  if (!withCpu) console.log('\n(`perf stat` is not usable here: wall time only.)')
}

try {
  main()
} finally {
  rmSync(work, {recursive: true, force: true})
}
