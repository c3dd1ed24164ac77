/**
 * node --import tsx test/env/with-env.ts -- <command> [args...]
 *
 * Starts a fresh test environment in a temporary directory, runs the command with
 * CONSULK8S_TESTENV pointing at its state file, stops every process it started (also on
 * failure, SIGINT, SIGTERM; a detached watchdog covers SIGKILL of this process), and exits
 * with the command's status. When setup fails it names the failed step and exits 1 without
 * running the command. The work directory is removed after a passing run; after a failure
 * its logs and configuration stay (data directories removed) and its path is printed.
 *
 * CONSULK8S_TESTENV_KEEP=1 keeps the work directory in every case.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ENV_DIR} from './bins.js'
import {abortStarts} from './procs.js'
import {reporter, startEnvironment, STATE_FILE, stopEnvironment} from './setup.js'

const separator = process.argv.indexOf('--')
const command = separator >= 0 ? process.argv.slice(separator + 1) : []
if (command.length === 0) {
  process.stderr.write('usage: node --import tsx test/env/with-env.ts -- <command> [args...]\n')
  process.exit(2)
}

const report = reporter()
const workDir = mkdtempSync(join(tmpdir(), 'consulk8s-testenv-'))
writeFileSync(join(workDir, '.ephemeral'), '')
const watchdog = spawn('bash', [join(ENV_DIR, 'watchdog.sh'), String(process.pid), workDir], {detached: true, stdio: 'ignore'})
watchdog.unref()

let child: ChildProcess | undefined
let interrupted: NodeJS.Signals | undefined
let finishing = false

async function finish(code: number): Promise<never> {
  if (finishing) return new Promise<never>(() => {})
  finishing = true
  abortStarts()
  report('stopping the test environment')
  try {
    watchdog.kill('SIGKILL')
  } catch {
    // already gone
  }
  const keep = process.env.CONSULK8S_TESTENV_KEEP === '1'
  try {
    const nothingToKeep = !existsSync(join(workDir, 'logs'))
    await stopEnvironment(workDir, {remove: (code === 0 || nothingToKeep) && !keep})
    if (code !== 0 && !keep && !nothingToKeep) {
      // Keep logs and configuration for the post-mortem, drop the bulky data.
      for (const dir of ['kube/dc1/etcd', 'kube/dc2/etcd', 'consul/dc1/data', 'consul/dc2/data'])
        rmSync(join(workDir, dir), {recursive: true, force: true})
      rmSync(join(workDir, '.ephemeral'), {force: true})
    }
    if ((code !== 0 && !nothingToKeep) || keep) report(`logs and configuration kept in ${workDir}/logs`)
    report('test environment stopped')
  } catch (error) {
    process.stderr.write(`testenv: teardown failed: ${error instanceof Error ? error.message : String(error)}\n`)
    if (code === 0) code = 1
  }
  process.exit(code)
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    interrupted = signal
    if (child && child.exitCode === null) {
      child.kill(signal) // its exit handler finishes
    } else if (!child) {
      // Setup still running: its processes are recorded, stop them.
      void finish(signal === 'SIGINT' ? 130 : 143)
    }
  })
}

try {
  await startEnvironment(workDir, report)
} catch (error) {
  process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n\n`)
  await finish(1)
}
if (interrupted) await finish(130)

child = spawn(command[0]!, command.slice(1), {
  stdio: 'inherit',
  env: {...process.env, CONSULK8S_TESTENV: join(workDir, STATE_FILE)},
})
if (child.pid) writeFileSync(join(workDir, 'command.pid'), `${child.pid}\n`)
child.on('error', (error) => {
  process.stderr.write(`testenv: cannot run ${command[0]}: ${error.message}\n`)
  void finish(127)
})
child.on('exit', (code, signal) => {
  void finish(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9) : 1))
})
