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
