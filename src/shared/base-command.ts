/**
 * The base of every consulk8s command: the shared flags, one Terminal for human output
 * (silent with --json), and error rendering that prints one readable line and a hint
 * instead of a stack trace.
 */
import {Command, type Interfaces} from '@oclif/core'

import {Terminal} from '../ui/terminal.js'
import {commonFlags} from './flags.js'
import {isUserError, errorMessage} from './errors.js'
import {parseRequestTimeout, setRequestTimeoutMs} from './request-timeout.js'

export abstract class BaseCommand extends Command {
  static baseFlags = {...commonFlags}

  private terminal?: Terminal

  /** oclif's parse, plus the settings that hold for the whole run (--request-timeout). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  protected async parse<F extends Record<string, any>, B extends Record<string, any>, A extends Record<string, any>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    const timeout = (parsed.flags as {'request-timeout'?: string})['request-timeout']
    if (timeout !== undefined) setRequestTimeoutMs(parseRequestTimeout(timeout))
    return parsed
  }

  /** Human output. Goes to stderr when stdout carries data (call useStderr() first). */
  get ui(): Terminal {
    this.terminal ??= new Terminal({quiet: this.jsonEnabled(), verbose: this.argv.includes('--verbose') || this.argv.includes('-v')})
    return this.terminal
  }

  /** Route status output to stderr, e.g. when a manifest is written to stdout. */
  useStderr(): void {
    this.terminal = new Terminal({stream: process.stderr, quiet: this.jsonEnabled(), verbose: this.argv.includes('--verbose')})
  }

  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own exits (this.exit) keep their behaviour.
    if (/^EEXIT/.test(error.message)) return super.catch(error)
    // Parse errors (unknown flag, bad value): oclif's JSON rendering would dump the whole parse
    // context, so --json gets the message alone.
    if (error.oclif?.exit !== undefined && this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({error: {message: error.message.trim()}}, null, 2) + '\n')
      process.exitCode = error.oclif.exit
      return this.exit(error.oclif.exit)
    }
    if (error.oclif?.exit !== undefined) return super.catch(error)
    if (error.constructor?.name === 'CLIError' || error.name === 'CLIError' || /^(Nonexistent|Unexpected argument|Expected)/.test(error.message)) {
      return super.catch(error)
    }
    const verbose = this.argv.includes('--verbose') || this.argv.includes('-v')
    const message = isUserError(error) ? error.message : `Unexpected error: ${errorMessage(error)}`
    const hint = isUserError(error) ? error.hint : 'This is a bug in consulk8s; re-run with --verbose for details.'
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({error: {message, hint}}, null, 2) + '\n')
    } else {
      const stderr = new Terminal({stream: process.stderr})
      stderr.fail(message, hint)
      if (verbose && !isUserError(error) && error.stack) process.stderr.write(error.stack + '\n')
    }
    process.exitCode = isUserError(error) ? error.exitCode : 1
    return this.exit(process.exitCode)
  }
}
