/**
 * Where the command's data goes: -o yaml|json picks a format for stdout, any other -o value
 * is a file (JSON when it ends in .json), written atomically. Also reads manifests from stdin.
 */
import {extname} from 'node:path'

import {readStdinText} from '../shared/stdin.js'
import {UserError} from '../shared/errors.js'
import {writeFileAtomic} from '../shared/files.js'
import type {ManifestFormat} from './manifests.js'

export interface OutputTarget {
  format: ManifestFormat
  /** Write here instead of stdout. */
  file?: string
}

export function outputTarget(value: string | undefined): OutputTarget {
  if (value === undefined || value === 'yaml' || value === 'yml') return {format: 'yaml'}
  if (value === 'json') return {format: 'json'}
  if (value.trim() === '' || value === '-') return {format: 'yaml'}
  return {format: extname(value).toLowerCase() === '.json' ? 'json' : 'yaml', file: value}
}

/**
 * Writes the output file. Manifests that carry a Secret are written 0600 (like every file
 * holding secret material), others 0644.
 */
export async function writeOutputFile(file: string, text: string, holdsSecrets: boolean): Promise<void> {
  await writeFileAtomic(file, text, holdsSecrets ? 0o600 : 0o644)
}

/** Manifests from stdin (`-f -`). */
export function readStdinManifests(): Promise<string> {
  return readStdinText({
    message: '-f - reads manifests from stdin, but stdin is a terminal.',
    hint: 'Pipe manifests in (e.g. kubectl get deploy -o yaml | consulk8s inject -f -) or pass a file.',
  })
}
