// The generated artefacts stay in step with the commands: oclif.manifest.json lists every
// command with the flags its compiled class declares, and docs/commands.md is what the
// generator renders from that manifest. Needs `npm run build` (test/run.sh does it).
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'

import {renderCommandDocs, type Manifest} from '../../scripts/command-docs.js'
import {ROOT} from '../helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest

function commandFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return commandFiles(path)
    return entry.endsWith('.ts') ? [path] : []
  })
}

describe('command reference', () => {
  const sourceDir = join(ROOT, 'src', 'commands')
  const ids = commandFiles(sourceDir)
    .map((file) =>
      relative(sourceDir, file)
        .replace(/\.ts$/, '')
        .replace(/\/index$/, '')
        .split('/')
        .join(':'),
    )
    .sort()

  it('oclif.manifest.json lists exactly the commands in src/commands', () => {
    assert.deepEqual(Object.keys(manifest.commands).sort(), ids, 'run `npm run build` and commit oclif.manifest.json')
  })

  it('oclif.manifest.json has the flags each compiled command declares', async () => {
    for (const id of ids) {
      const module = await import(pathToFileURL(join(ROOT, 'dist', 'commands', ...id.split(':')) + '.js').href)
      const command = module.default as {flags?: object; baseFlags?: object; enableJsonFlag?: boolean}
      const expected = new Set([...Object.keys(command.baseFlags ?? {}), ...Object.keys(command.flags ?? {})])
      if (command.enableJsonFlag) expected.add('json')
      assert.deepEqual(Object.keys(manifest.commands[id].flags).sort(), [...expected].sort(), `flags of ${id}`)
    }
  })

  it('the committed oclif.manifest.json is the one the build generates', async () => {
    const {execFileSync} = await import('node:child_process')
    const committed = execFileSync('git', ['show', 'HEAD:oclif.manifest.json'], {cwd: ROOT, encoding: 'utf8'})
    assert.deepEqual(JSON.parse(committed), manifest, 'run `npm run build` and commit oclif.manifest.json')
  })

  it('docs/commands.md shows examples as typed: no template left, file names as federate writes them', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8')
    assert.doesNotMatch(docs, /<%/)
    for (const id of ['install', 'upgrade']) {
      for (const example of manifest.commands[id].examples ?? []) {
        const command = typeof example === 'string' ? example : example.command
        for (const [, file] of command.matchAll(/ -f (\S+)/g))
          assert.ok(['primary-values.yaml', 'secondary-values.yaml'].includes(file), `${id} example uses ${file}`)
      }
    }
  })

  it('docs/commands.md is generated from the manifest', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8')
    assert.equal(committed, renderCommandDocs(manifest), 'run `npm run build && npm run docs` and commit docs/commands.md')
  })
})
