/**
 * The base of every consulk8s command: the shared flags, one Terminal for human output
 * (silent with --json), and error rendering that prints one readable line and a hint
 * instead of a stack trace. Ctrl-C ends a command with "Aborted." and exit 130 (143 for SIGTERM),
 * except while work run through withInterrupt() stops gently (src/shared/interrupt.ts).
 */
import {Command, type Interfaces} from '@oclif/core'

import {Terminal} from '../ui/terminal.js'
import {commonFlags} from './flags.js'
import {ABORTED_EXIT_CODE, isUserError, errorMessage} from './errors.js'
import {removeTempFiles} from './files.js'
import {interruptHandled} from './interrupt.js'
import {parseRequestTimeout, setRequestTimeoutMs} from './request-timeout.js'
import {closest} from './suggest.js'

/** What oclif's parser errors carry beyond the message. */
interface ParseErrorDetails {
  oclif?: {exit?: number}
  parse?: unknown
  flags?: string[]
  args?: string[]
}

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

  /** Ends the command at once, unless work run through withInterrupt() stops gently instead (src/shared/interrupt.ts). */
  private readonly onInterrupt = (signal: NodeJS.Signals): void => {
    if (interruptHandled()) return
    removeTempFiles()
    new Terminal({stream: process.stderr}).fail('Aborted.')
    // 128 + the signal number, as a shell reports it: 130 for Ctrl-C (SIGINT), 143 for SIGTERM.
    process.exit(signal === 'SIGTERM' ? 143 : ABORTED_EXIT_CODE)
  }

  /** Human output. Goes to stderr when stdout carries data (call useStderr() first). */
  get ui(): Terminal {
    this.terminal ??= new Terminal({quiet: this.jsonEnabled(), verbose: this.verboseEnabled()})
    return this.terminal
  }

  /** Route status output to stderr, e.g. when a manifest is written to stdout. */
  useStderr(): void {
    this.terminal = new Terminal({stream: process.stderr, quiet: this.jsonEnabled(), verbose: this.verboseEnabled()})
  }

  async init(): Promise<void> {
    await super.init()
    process.on('SIGINT', this.onInterrupt)
    process.on('SIGTERM', this.onInterrupt)
  }

  async finally(error: Error | undefined): Promise<unknown> {
    process.off('SIGINT', this.onInterrupt)
    process.off('SIGTERM', this.onInterrupt)
    return super.finally(error)
  }

  private verboseEnabled(): boolean {
    return this.argv.includes('--verbose') || this.argv.includes('-v')
  }

  /** --json, or -o/--output json: failures are a JSON error on stdout then. */
  protected jsonErrors(): boolean {
    if (this.jsonEnabled()) return true
    for (const [index, arg] of this.argv.entries()) {
      if (arg === '--') break
      if ((arg === '-o' || arg === '--output') && this.argv[index + 1] === 'json') return true
      if (['-ojson', '-o=json', '--output=json'].includes(arg)) return true
    }
    return false
  }

  protected async catch(error: Error & {exitCode?: number} & ParseErrorDetails): Promise<unknown> {
    // oclif's own exits (this.exit) keep their behaviour.
    if (/^EEXIT/.test(error.message)) return super.catch(error)
    // Parse errors (unknown flag, bad value, stray argument): one line, the usage, exit 2.
    if (error.oclif?.exit !== undefined && error.parse !== undefined) return this.failParse(error)
    if (error.oclif?.exit !== undefined || error.name === 'CLIError') return this.fail(error.message, undefined, error.oclif?.exit ?? 2)
    // A UserError thrown by a flag's parse function arrives wrapped in oclif's "Parsing --flag" text.
    if (isUserError(error)) return this.fail(withoutParseNoise(error.message), error.hint, error.exitCode)
    if (this.verboseEnabled() && error.stack && !this.jsonErrors()) process.stderr.write(error.stack + '\n')
    return this.fail(`Unexpected error: ${errorMessage(error)}`, 'This is a bug in consulk8s; re-run with --verbose for details.', 1)
  }

  /** One ✗ line and the hint on stderr, or {"error": {message, hint}} on stdout for --json / -o json. */
  private fail(message: string, hint: string | undefined, exitCode: number): Promise<unknown> {
    if (this.jsonErrors()) {
      process.stdout.write(JSON.stringify({error: {message, ...(hint ? {hint} : {})}}, null, 2) + '\n')
    } else {
      new Terminal({stream: process.stderr}).fail(message, hint)
    }
    process.exitCode = exitCode
    this.exit(exitCode)
    return Promise.resolve()
  }

  private failParse(error: Error & ParseErrorDetails): Promise<unknown> {
    const name = `${this.config.bin} ${this.id?.replace(/:/g, ' ') ?? ''}`.trim()
    const usage = `Usage: ${name} [flags]\nSee '${name} --help' for the flags.`
    let message = withoutParseNoise(error.message)
    if (error.flags?.length) {
      const known = this.knownFlags()
      message = error.flags
        .map((flag) => {
          const suggestion = flag.startsWith('--') ? closest(flag.slice(2).split('=')[0], known) : undefined
          return `unknown flag ${flag} for ${name}.${suggestion ? ` Did you mean --${suggestion}?` : ''}`
        })
        .join('\n')
    } else if (error.args?.length) {
      message = `unexpected argument${error.args.length === 1 ? '' : 's'} ${error.args.map((arg) => `"${arg}"`).join(', ')} for ${name}.`
    }
    // -o names a format everywhere; a file name there is the old habit of `-o FILE`.
    const outputValue = /^Expected --output=(.+) to be one of/.exec(message)?.[1]
    const fileHint =
      outputValue && /[./]/.test(outputValue) && this.knownFlags().includes('output-file')
        ? `-o names a format; to write a file, pass --output-file ${outputValue}.\n`
        : ''
    return this.fail(message.charAt(0).toUpperCase() + message.slice(1), fileHint + usage, error.oclif?.exit ?? 2)
  }

  /** Flag names (and aliases) of this command, for did-you-mean. */
  private knownFlags(): string[] {
    const flags = (this.ctor as unknown as {flags?: Record<string, {aliases?: string[]; hidden?: boolean}>}).flags ?? {}
    const base = (this.ctor as unknown as {baseFlags?: Record<string, {aliases?: string[]}>}).baseFlags ?? {}
    const all: Record<string, {aliases?: string[]}> = {...base, ...flags, ...(this.ctor.enableJsonFlag ? {json: {}} : {}), help: {}}
    return Object.entries(all).flatMap(([flag, definition]) => [flag, ...(definition.aliases ?? [])])
  }
}

/** oclif's parser decorations ("Parsing --timeout \n\t…", "See more help with --help") off a message. */
function withoutParseNoise(message: string): string {
  return message
    .replace(/^Parsing --\S+\s*\n\t/, '')
    .replace(/\nSee more help with --help\s*$/, '')
    .trim()
}
