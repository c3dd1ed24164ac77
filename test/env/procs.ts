/**
 * The environment's server processes: started detached (their own process group, so a
 * Ctrl-C in the terminal reaches the test runner, not them, and teardown stays in order),
 * output appended to `<workDir>/logs/<name>.log`, and described in `<workDir>/procs/`:
 * `<name>.pid` (the pid, read by watchdog.sh too) and `<name>.json` (how to start it again),
 * so any process (a test, `testenv:down`) can stop and restart them.
 */
import {spawn} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

export interface ProcessSpec {
  name: string
  command: string
  args: string[]
  env?: Record<string, string>
  /** How long stopProcess waits after SIGTERM before SIGKILL (default 10 s). */
  stopGraceMs?: number
  /** stopAll stops lower tiers first (default 0): clients before the servers they use. */
  stopTier?: number
  /**
   * Run inside this network namespace (`ip netns exec <netns> <command> ...`; `ip` execs the
   * command, so the recorded pid is the command's own).
   */
  netns?: string
}

export const procsDir = (workDir: string) => join(workDir, 'procs')
export const logFile = (workDir: string, name: string) => join(workDir, 'logs', `${name}.log`)
const pidFile = (workDir: string, name: string) => join(procsDir(workDir), `${name}.pid`)
const specFile = (workDir: string, name: string) => join(procsDir(workDir), `${name}.json`)

/** Whether `pid` runs `command` (or one of several; guards against a recycled pid) and is not a zombie. */
export function pidRuns(pid: number, command: string | string[]): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (/^\d+ \(.*\) Z/.test(stat)) return false
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? ''
    // During an exec the kernel briefly shows no command line: the process is there.
    if (argv0 === '') return true
    return (Array.isArray(command) ? command : [command]).some((name) => basename(argv0) === basename(name))
  } catch {
    return true // no /proc: trust kill(0)
  }
}

export function readPid(workDir: string, name: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(workDir, name), 'utf8'), 10)
    return Number.isFinite(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export function readSpec(workDir: string, name: string): ProcessSpec {
  try {
    return JSON.parse(readFileSync(specFile(workDir, name), 'utf8')) as ProcessSpec
  } catch {
    throw new Error(`the test environment in ${workDir} has no process named "${name}"`)
  }
}

/** Names of every process the environment in `workDir` has started. */
export function processNames(workDir: string): string[] {
  if (!existsSync(procsDir(workDir))) return []
  return readdirSync(procsDir(workDir))
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
}

/**
 * Whether `pid` runs the spec's command. For a moment after the start the child still shows
 * the spawning node's argv (forked, not yet exec'd), or `ip netns exec` about to exec the
 * command: both count as running, else a start is misread as an exit with an empty log.
 */
function specRuns(pid: number, spec: ProcessSpec): boolean {
  return pidRuns(pid, [spec.command, process.execPath, ...(spec.netns ? ['ip'] : [])])
}

export function isRunning(workDir: string, name: string): boolean {
  const pid = readPid(workDir, name)
  return pid !== undefined && specRuns(pid, readSpec(workDir, name))
}

/** The last lines of a process's log, for error messages. */
export function logTail(workDir: string, name: string, lines = 15): string {
  try {
    const text = readFileSync(logFile(workDir, name), 'utf8').trimEnd().split('\n')
    return text.slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

let aborted = false
/** After this, startProcess refuses to start anything (teardown has begun in this process). */
export function abortStarts(): void {
  aborted = true
}

/** Marks the environment as being stopped: from then on no process of any test starts in it. */
export const stoppingMarker = (workDir: string) => join(workDir, '.stopping')

/** Throws once teardown has begun (in this process, or the stopping marker of any). */
export function assertStartsAllowed(workDir: string, what: string): void {
  if (aborted || existsSync(stoppingMarker(workDir))) throw new Error(`not starting ${what}: the environment in ${workDir} is being stopped`)
}

/** Starts a process detached and records it; resolves with its pid once it has spawned. */
export async function startProcess(workDir: string, spec: ProcessSpec): Promise<number> {
  assertStartsAllowed(workDir, spec.name)
  mkdirSync(procsDir(workDir), {recursive: true})
  mkdirSync(join(workDir, 'logs'), {recursive: true})
  writeFileSync(specFile(workDir, spec.name), JSON.stringify(spec, null, 2) + '\n', {mode: 0o600})
  const log = openSync(logFile(workDir, spec.name), 'a')
  try {
    const [command, args]: [string, string[]] = spec.netns
      ? ['ip', ['netns', 'exec', spec.netns, spec.command, ...spec.args]]
      : [spec.command, spec.args]
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: {...process.env, ...spec.env},
    })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', (error) => reject(new Error(`cannot start ${spec.name} (${command}): ${error.message}`)))
    })
    child.unref()
    writeFileSync(pidFile(workDir, spec.name), `${child.pid}\n`)
    return child.pid!
  } finally {
    closeSync(log)
  }
}

/** Starts a recorded process again with the same command line. */
export async function restartProcess(workDir: string, name: string): Promise<number> {
  if (isRunning(workDir, name)) throw new Error(`${name} is already running (pid ${readPid(workDir, name)})`)
  return startProcess(workDir, readSpec(workDir, name))
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopProcess(workDir: string, name: string, graceMs?: number): Promise<void> {
  const pid = readPid(workDir, name)
  if (pid === undefined) return
  const spec = readSpec(workDir, name)
  const runs = () => specRuns(pid, spec)
  graceMs ??= spec.stopGraceMs ?? 10_000
  const signal = (sig: NodeJS.Signals) => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, sig)
      } catch {
        // already gone, or not a group leader
      }
    }
  }
  if (runs()) {
    signal('SIGTERM')
    const deadline = Date.now() + graceMs
    while (runs() && Date.now() < deadline) await sleep(100)
    if (runs()) {
      signal('SIGKILL')
      while (runs()) await sleep(50)
    }
  }
  rmSync(pidFile(workDir, name), {force: true})
}

/**
 * Stops every recorded process: tier by tier (see ProcessSpec.stopTier), each tier in parallel.
 * The stopping marker keeps a test's startConsul() from starting a server again meanwhile; a
 * process started just before it is caught by the second round.
 */
export async function stopAll(workDir: string): Promise<void> {
  if (existsSync(workDir)) writeFileSync(stoppingMarker(workDir), `${process.pid}\n`)
  await stopTiers(workDir)
  await sleep(200)
  await stopTiers(workDir)
}

async function stopTiers(workDir: string): Promise<void> {
  const tiers = new Map<number, string[]>()
  for (const name of processNames(workDir)) {
    const tier = readSpec(workDir, name).stopTier ?? 0
    tiers.set(tier, [...(tiers.get(tier) ?? []), name])
  }
  for (const tier of [...tiers.keys()].sort((a, b) => a - b)) {
    await Promise.all(tiers.get(tier)!.map((name) => stopProcess(workDir, name)))
  }
}

export class WaitTimeoutError extends Error {}

/**
 * Polls `check` until it returns a value (not undefined) or throws nothing; fails after
 * `timeoutMs` naming what it waited for and the last reason. `alive` is called first on every
 * round and should throw when the server being waited for has died. Every `reportEveryMs`
 * `report` hears what it still waits for.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: {timeoutMs?: number; intervalMs?: number; alive?: () => void; report?: (line: string) => void; reportEveryMs?: number} = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const start = Date.now()
  let nextReport = start + (options.reportEveryMs ?? 10_000)
  let last = 'not ready yet'
  for (;;) {
    options.alive?.()
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    const now = Date.now()
    if (now - start > timeoutMs) throw new WaitTimeoutError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what} (last: ${last})`)
    if (options.report && now >= nextReport) {
      options.report(`still waiting for ${what} (${Math.round((now - start) / 1000)}s; last: ${last})`)
      nextReport = now + (options.reportEveryMs ?? 10_000)
    }
    await sleep(options.intervalMs ?? 200)
  }
}

/**
 * An `alive` guard for waitFor: throws with the log tail when the named process has exited.
 * Three misses in a row are needed, so one odd /proc reading during a start is not an exit.
 */
export function aliveGuard(workDir: string, name: string): () => void {
  let misses = 0
  return () => {
    misses = isRunning(workDir, name) ? 0 : misses + 1
    if (misses >= 3) throw new Error(`${name} exited; the end of ${logFile(workDir, name)}:\n${logTail(workDir, name)}`)
  }
}

/** One alive guard over several processes (each keeps its own count of misses). */
export function allAlive(workDir: string, names: string[]): () => void {
  const guards = names.map((name) => aliveGuard(workDir, name))
  return () => guards.forEach((guard) => guard())
}
