/**
 * Where inject's manifests go (a file written atomically, 0600 when it holds a Secret), and
 * where they come from on stdin.
 */
import {readStdinText} from '../shared/stdin.js'
import {writeFileAtomic} from '../shared/files.js'

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
