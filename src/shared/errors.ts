/**
 * An error the user can act on: printed as one readable line (plus an optional hint),
 * never with a stack trace. Anything else that escapes a command is a bug and is
 * reported as such.
 */
export class UserError extends Error {
  readonly hint?: string
  readonly exitCode: number

  constructor(message: string, options: {hint?: string; exitCode?: number; cause?: unknown} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'UserError'
    this.hint = options.hint
    this.exitCode = options.exitCode ?? 1
  }
}

/** Exit status of a command the user interrupted (Ctrl-C), as shells report SIGINT. */
export const ABORTED_EXIT_CODE = 130

/** The user interrupted (Ctrl-C at a prompt): "Aborted.", exit 130. */
export function abortedError(): UserError {
  return new UserError('Aborted.', {exitCode: ABORTED_EXIT_CODE})
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError
}

/** The message of anything thrown, for wrapping lower-level failures in a UserError. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
