/**
 * The layering of docs/architecture.md, checked on the sources: domain folders know no screen
 * (no import of src/ui/) and no oclif.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

const DOMAIN_FOLDERS = ['federation', 'helm', 'sync', 'inject', 'verify', 'consul', 'kube']

function imports(folder: string): Array<{file: string; from: string}> {
  const dir = new URL(`../../src/${folder}/`, import.meta.url)
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) =>
      [...readFileSync(new URL(name, dir), 'utf8').matchAll(/^import\b[^;]*?from '([^']+)'/gms)].map((match) => ({
        file: `src/${folder}/${name}`,
        from: match[1],
      })),
    )
}

describe('domain folders', () => {
  for (const folder of DOMAIN_FOLDERS) {
    it(`src/${folder}/ imports neither src/ui/ nor oclif`, () => {
      const found = imports(folder)
      assert.ok(found.length > 0, `no imports read in src/${folder}/`)
      const offending = found.filter(({from}) => from.startsWith('../ui/') || from.startsWith('@oclif/'))
      // helm/flags.ts holds the oclif flag definitions the commands share (command side by design).
      const allowed = offending.filter(({file, from}) => !(file === 'src/helm/flags.ts' && from === '@oclif/core'))
      assert.deepEqual(allowed, [])
    })
  }
})

describe('the one Kubernetes layer', () => {
  it('only src/kube/ loads the Kubernetes client library; elsewhere its types are imported as types', () => {
    const folders = readdirSync(new URL('../../src/', import.meta.url), {withFileTypes: true})
      .filter((entry) => entry.isDirectory() && entry.name !== 'kube')
      .map((entry) => entry.name)
    const runtime = folders.flatMap((folder) =>
      readdirSync(new URL(`../../src/${folder}/`, import.meta.url), {recursive: true})
        .map(String)
        .filter((name) => name.endsWith('.ts'))
        .filter((name) =>
          /^import (?!type\b)[^']*?from '@kubernetes\/client-node'/m.test(
            readFileSync(new URL(`../../src/${folder}/${name}`, import.meta.url), 'utf8'),
          ),
        )
        .map((name) => `src/${folder}/${name}`),
    )
    assert.ok(folders.length > 5)
    assert.deepEqual(runtime, [])
  })
})
