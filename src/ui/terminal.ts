/**
 * The one terminal abstraction every command renders through: status lines
 * (✓ success, ! warning, ✗ failure, ==> header), tables, and a progress indicator that
 * spins on a TTY and prints plain lines in CI or when piped. Silent in --json mode.
 */
import type {Writable} from 'node:stream'

import type {Progress, ProgressStatus} from '../shared/hooks.js'

export type Status = ProgressStatus

export const SYMBOLS: Record<Status, string> = {ok: '✓', warn: '!', fail: '✗', info: '*'}

export interface TerminalOptions {
  /** Where human output goes; stderr when stdout carries data (a manifest, JSON). */
  stream?: Writable & {isTTY?: boolean}
  /** Print nothing (the command prints JSON instead). */
  quiet?: boolean
  /** Show extra detail lines. */
  verbose?: boolean
  /** Force colour on/off; default: on when the stream is a TTY, NO_COLOR is unset and TERM is not "dumb". */
  color?: boolean
}

const COLORS: Record<Status, string> = {ok: '\u001B[32m', warn: '\u001B[33m', fail: '\u001B[31m', info: '\u001B[36m'}
const RESET = '\u001B[0m'

/** A terminal that understands escape sequences (TERM=dumb ones, e.g. Emacs shells, do not). */
function capableTerminal(stream: {isTTY?: boolean}): boolean {
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb'
}

/** Where a spinner may redraw its line: a capable terminal, not CI. */
export function isInteractiveStream(stream: {isTTY?: boolean}): boolean {
  return capableTerminal(stream) && !process.env.CI
}

/** Colour as NO_COLOR (no-color.org) and TERM=dumb ask: none. */
export function colorEnabled(stream: {isTTY?: boolean}): boolean {
  return capableTerminal(stream) && !process.env.NO_COLOR
}

export class Terminal implements Progress {
  readonly stream: Writable & {isTTY?: boolean}
  readonly quiet: boolean
  readonly verbose: boolean
  private readonly color: boolean
  private spinner?: {timer: NodeJS.Timeout; text: string | (() => string)}

  constructor(options: TerminalOptions = {}) {
    this.stream = options.stream ?? process.stdout
    this.quiet = options.quiet ?? false
    this.verbose = options.verbose ?? false
    this.color = options.color ?? colorEnabled(this.stream)
  }

  private write(line: string): void {
    if (this.quiet) return
    this.clearSpinnerLine()
    this.stream.write(line + '\n')
  }

  private paint(status: Status, text: string): string {
    return this.color ? `${COLORS[status]}${text}${RESET}` : text
  }

  header(text: string): void {
    this.write(`\n==> ${text}`)
  }

  line(text = ''): void {
    this.write(text)
  }

  status(status: Status, text: string, hint?: string): void {
    this.write(`${this.paint(status, SYMBOLS[status])} ${text}`)
    if (hint) for (const hintLine of hint.split('\n')) this.write(`  ${hintLine}`)
  }

  success(text: string, hint?: string): void {
    this.status('ok', text, hint)
  }

  warn(text: string, hint?: string): void {
    this.status('warn', text, hint)
  }

  fail(text: string, hint?: string): void {
    this.status('fail', text, hint)
  }

  info(text: string, hint?: string): void {
    this.status('info', text, hint)
  }

  detail(text: string): void {
    if (this.verbose) this.write(`  ${text}`)
  }

  table(headers: string[], rows: string[][]): void {
    this.write(renderTable(headers, rows))
  }

  /** Whether a spinner redraws its line now (a capable terminal, not CI). */
  get spinning(): boolean {
    return this.spinner !== undefined
  }

  /**
   * Start a progress indicator; on a TTY it spins, elsewhere one plain line per update. A
   * function as text is read again at every frame (a countdown); the spinning line is cut to
   * the terminal's width, so that it redraws in place instead of wrapping.
   */
  progress(text: string | (() => string)): void {
    if (this.quiet) return
    if (!isInteractiveStream(this.stream)) {
      this.stream.write(`... ${typeof text === 'function' ? text() : text}\n`)
      return
    }
    if (this.spinner) {
      this.spinner.text = text
      return
    }
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
    let frame = 0
    const state: {text: string | (() => string); timer: NodeJS.Timeout} = {
      text,
      timer: setInterval(() => {
        const line = typeof state.text === 'function' ? state.text() : state.text
        this.stream.write(`\r\u001B[2K${frames[frame++ % frames.length]} ${fitLine(line, (this.stream as {columns?: number}).columns)}`)
      }, 80),
    }
    state.timer.unref()
    this.spinner = state
  }

  /** Stop the progress indicator, optionally with a final status line. */
  done(status?: Status, text?: string): void {
    if (this.spinner) {
      clearInterval(this.spinner.timer)
      this.clearSpinnerLine()
      this.spinner = undefined
    }
    if (status && text) this.status(status, text)
  }

  private clearSpinnerLine(): void {
    if (this.spinner) this.stream.write('\r\u001B[2K')
  }
}

/** One line cut to fit `columns` (less the spinner frame and its space), ending in … when cut. */
export function fitLine(text: string, columns: number | undefined): string {
  const line = text.replace(/\s*\n\s*/g, ' ')
  const width = Math.max(10, (columns ?? 80) - 3)
  const chars = [...line]
  return chars.length <= width ? line : chars.slice(0, width - 1).join('') + '…'
}

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => [...(row[column] ?? '')].length)))
  const render = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - [...cell].length)))
      .join('  ')
      .trimEnd()
  return [render(headers), ...rows.map((row) => render(row))].join('\n')
}
