/**
 * Data on stdout or in a file, one contract for every command: -o names the format
 * (json|yaml), --output-file the file (its .json extension picks JSON when -o is not given).
 */
import {extname} from 'node:path'
import {stringify} from 'yaml'

export interface OutputTarget {
  format: 'yaml' | 'json'
  /** Write here instead of stdout. */
  file?: string
}

/** The format and file of -o and --output-file ("-" is stdout). */
export function outputTarget(format: 'yaml' | 'json' | undefined, file: string | undefined): OutputTarget {
  const toFile = file === undefined || file === '-' ? undefined : file
  return {format: format ?? (toFile && extname(toFile).toLowerCase() === '.json' ? 'json' : 'yaml'), ...(toFile ? {file: toFile} : {})}
}

/** Data for -o json|yaml: indented JSON or YAML, ending in a newline. */
export function formatData(format: 'json' | 'yaml', data: unknown): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, {lineWidth: 0})
}
