import {UserError, errorMessage} from './errors.js'

/**
 * One readable message for a YAML (or JSON) syntax error, wherever a file is read: the
 * position as file:line:column, the parser's reason without its trailing " at line …:" and
 * code excerpt, and a hint with the fix.
 */
export function yamlSyntaxError(error: unknown, source: string, options: {what?: string; formats?: string; lineOffset?: number} = {}): UserError {
  const found = (error as {linePos?: Array<{line: number; col: number}>})?.linePos?.[0]
  // lineOffset: the lines before the parsed text in the file (a later document of several).
  const position = found && {line: found.line + (options.lineOffset ?? 0), col: found.col}
  const where = position ? `${source}:${position.line}:${position.col}` : source
  const reason = errorMessage(error)
    .split('\n')[0]
    .replace(/ at line \d+, column \d+:?\s*$/, '')
    .replace(/[.:]\s*$/, '')
  return new UserError(`${options.what ? `${options.what} ` : ''}${where} is not valid ${options.formats ?? 'YAML'}: ${reason}.`, {
    hint: `Fix the ${options.formats ?? 'YAML'}${position ? ` at line ${position.line}` : ''} (indentation, a missing ":", an unclosed quote or bracket) and run the command again; nothing was changed.`,
    cause: error,
  })
}
