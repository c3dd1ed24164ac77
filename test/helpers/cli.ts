/**
 * Runs the built consulk8s binary (bin/run.js over dist/) as a user would: a real process,
 * real argv, real exit code. `npm run build` must have run (test/run.sh does it).
 */
import {execa} from 'execa'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  stdout: string
  stderr: string
  exitCode: number
}

export async function runCli(
  args: string[],
  options: {env?: Record<string, string | undefined>; input?: string; cwd?: string; timeoutMs?: number; command?: string[]} = {},
): Promise<CliResult> {
  // options.command runs the CLI through a wrapper (e.g. setpriv to drop root); args then start with '--'.
  const argv = options.command
    ? [...options.command, process.execPath, BIN, ...args.slice(args[0] === '--' ? 1 : 0)]
    : [process.execPath, BIN, ...args]
  const result = await execa(argv[0], argv.slice(1), {
    reject: false,
    cwd: options.cwd ?? ROOT,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    env: {CI: 'true', NO_COLOR: '1', ...options.env},
    timeout: options.timeoutMs ?? 120_000,
  })
  return {stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? 1}
}
