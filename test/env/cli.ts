/**
 * The shared development environment (one per checkout, in <repo>/.testenv/ or
 * $CONSULK8S_TESTENV_DIR):
 *
 *   npm run testenv:up       start it, or reuse it when all its processes are alive; prints
 *                            the state file path (for CONSULK8S_TESTENV) on stdout
 *   npm run testenv:status   which processes run and which network namespaces exist; exit 0 only when all do
 *   npm run testenv:down     stop everything, delete the network namespaces and remove the directory
 */
import {execFileSync} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {ENV_DIR, REPO_ROOT} from './bins.js'
import {testHostExists} from './netns.js'
import {pidRuns} from './procs.js'
import {processStatus, readState, reporter, SetupError, startEnvironment, STATE_FILE, stopEnvironment} from './setup.js'

const workDir = resolve(process.env.CONSULK8S_TESTENV_DIR ?? join(REPO_ROOT, '.testenv'))
const lockFile = `${workDir}.lock`
const stateFile = join(workDir, STATE_FILE)
const report = reporter()

/** One `up`/`down` at a time per directory; a lock left by a dead process is taken over. */
async function withLock<T>(run: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited++) {
    try {
      closeSync(openSync(lockFile, 'wx'))
      writeFileSync(lockFile, String(process.pid))
      break
    } catch {
      let owner = 0
      try {
        owner = Number.parseInt(readFileSync(lockFile, 'utf8') || '0', 10)
      } catch {
        continue // released meanwhile
      }
      if (owner && !pidRuns(owner, 'node')) {
        rmSync(lockFile, {force: true})
        continue
      }
      if (waited % 20 === 0) report(`waiting for another testenv command (pid ${owner || '?'}) to finish`)
      await sleep(500)
    }
  }
  try {
    return await run()
  } finally {
    rmSync(lockFile, {force: true})
  }
}

/** Every process alive, and laid out as this code makes it (API servers in their test hosts' namespaces, which exist). */
function reusable(): boolean {
  const state = readState(workDir)
  const status = Object.values(processStatus(workDir))
  const clusters = state ? Object.values(state.clusters) : []
  return (
    status.length > 0 &&
    status.every(Boolean) &&
    clusters.length > 0 &&
    clusters.every(
      (cluster) =>
        cluster.testHost !== undefined && testHostExists(cluster.testHost) && new URL(cluster.server).hostname === cluster.testHost.address,
    )
  )
}

async function up(): Promise<number> {
  return withLock(async () => {
    if (reusable()) {
      report(`reusing the running environment in ${workDir}`)
    } else {
      if (existsSync(workDir)) {
        report(`the environment in ${workDir} is not (fully) running: starting it afresh`)
        await stopEnvironment(workDir, {remove: true})
      }
      try {
        execFileSync('bash', [join(ENV_DIR, 'build.sh')], {stdio: ['ignore', 'ignore', 'inherit']})
      } catch {
        process.stderr.write('\ntest environment setup failed at step "build binaries" (see above)\n')
        return 1
      }
      try {
        await startEnvironment(workDir, report)
      } catch (error) {
        process.stderr.write(`\n${error instanceof SetupError ? error.message : String(error)}\nlogs: ${join(workDir, 'logs')}\n`)
        return 1
      }
    }
    process.stderr.write(`\n  export CONSULK8S_TESTENV=${stateFile}\n  # or, for kubectl/consul/helm by hand: source ${join(workDir, 'env.sh')}\n\n`)
    process.stdout.write(`${stateFile}\n`)
    return 0
  })
}

async function down(): Promise<number> {
  return withLock(async () => {
    await stopEnvironment(workDir, {remove: true})
    report(`stopped and removed ${workDir}`)
    return 0
  })
}

function status(): number {
  const status = processStatus(workDir)
  if (Object.keys(status).length === 0) {
    process.stdout.write(`no test environment in ${workDir}\n`)
    return 1
  }
  for (const [name, running] of Object.entries(status)) process.stdout.write(`${running ? '✓' : '✗'} ${name}\n`)
  process.stdout.write(`state: ${stateFile}\n`)
  return Object.values(status).every(Boolean) ? 0 : 1
}

const commands: Record<string, () => number | Promise<number>> = {up, down, status}
const command = commands[process.argv[2] ?? '']
if (!command) {
  process.stderr.write('usage: tsx test/env/cli.ts up|down|status\n')
  process.exit(2)
}
process.exit(await command())
