import {readFile} from 'node:fs/promises'

import {UserError} from './errors.js'

/**
 * All of stdin as text, for `-f -`. A terminal on stdin would wait forever for input nobody
 * meant to type, and an empty stdin is a pipe that delivered nothing (a failed command before
 * the |): both are errors with the caller's hint.
 */
export async function readStdinText(what: {message: string; hint: string}, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) throw new UserError(what.message, {hint: what.hint})
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') throw new UserError('-f - read nothing: stdin is empty.', {hint: what.hint})
  return text
}

/** What a command reads with `-f`, for its messages: "the federation secret", and how to pipe it in. */
export interface InputUse {
  what: string
  /** The command line that takes it from stdin, e.g. "consulk8s federate import -f -". */
  command: string
  /** Where such a file comes from, e.g. "Pass the file `consulk8s federate export --output-file <file>` wrote." */
  hint: string
}

/** The text of a file, or of stdin for "-", with one readable error naming what was read. */
export async function readInput(path: string, use: InputUse): Promise<string> {
  if (path === '-') {
    return readStdinText({
      message: `Reading ${use.what} from stdin, but stdin is a terminal.`,
      hint: `Pipe the file in (… | ${use.command}) or pass the file name.`,
    })
  }
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new UserError(
      `Cannot read ${use.what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      {
        hint: use.hint,
      },
    )
  }
}

/** The federation secret, as `federate export` writes it. */
export const FEDERATION_SECRET_INPUT = {
  what: 'the federation secret',
  hint: 'Pass the file `consulk8s federate export --output-file <file>` wrote.',
}
