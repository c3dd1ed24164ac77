/**
 * -o json|yaml of install and upgrade: the result on stdout (progress already goes to
 * stderr). With a dry run, yaml is the manifest helm rendered, ready for kubectl diff.
 */
import {formatData} from '../shared/output.js'
import type {InstallResult} from './install.js'

export function formatOutput(format: 'json' | 'yaml', result: InstallResult): string {
  if (format === 'yaml' && result.dryRun && result.manifest !== undefined) {
    return result.manifest.endsWith('\n') ? result.manifest : `${result.manifest}\n`
  }
  const {manifest: _manifest, ...rest} = result
  return formatData(format, rest)
}

export function printOutput(format: string | undefined, result: InstallResult): void {
  if (format === 'json' || format === 'yaml') process.stdout.write(formatOutput(format, result))
}
