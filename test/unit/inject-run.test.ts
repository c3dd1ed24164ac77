/**
 * The inject flow (src/inject/run.ts) in manifest mode, with no cluster: the order of the
 * hooks (plan shown before anything is written), what is written where and with which mode,
 * nothing written when a workload is refused, and the flag conflicts refused before reading.
 */
import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {parseAllDocuments} from 'yaml'

import {runInject, stdoutCarriesData, type InjectHooks, type InjectOptions} from '../../src/inject/run.js'
import {isUserError} from '../../src/shared/errors.js'

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/inject/${name}`, import.meta.url))

function options(overrides: Partial<InjectOptions> = {}): InjectOptions {
  return {
    settings: {},
    filenames: [fixture('static-server.yaml')],
    allNamespaces: false,
    output: {format: 'yaml'},
    writeObjects: false,
    diff: false,
    dryRun: false,
    ...overrides,
  }
}

/** Hooks that record what the flow asked for, in order. */
function recorder() {
  const events: string[] = []
  const printed: string[] = []
  const hooks: InjectHooks = {
    progress: (text) => events.push(`progress ${text}`),
    done: () => events.push('done'),
    planned: (plan) => events.push(`planned ${plan.mode} ${plan.workloads.length}`),
    print: (text) => {
      events.push('print')
      printed.push(text)
    },
    confirm: async () => {
      events.push('confirm')
    },
  }
  return {events, printed, hooks}
}

describe('runInject, manifest mode', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consulk8s-inject-run-'))
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('shows the plan, then prints the injected manifests; never confirms offline', async () => {
    const {events, printed, hooks} = recorder()
    const outcome = await runInject(options(), hooks)
    assert.deepEqual(events, ['planned manifests 1', 'print'])
    assert.equal(outcome.failure, undefined)
    assert.equal(outcome.wrote, undefined)
    assert.deepEqual(outcome.result.counts, {inject: 1, skip: 0, error: 0})
    const kinds = parseAllDocuments(printed[0]).map((document) => document.toJS()?.kind)
    assert.ok(kinds.includes('Deployment'), kinds.join(', '))
    assert.match(printed[0], /consul-dataplane/)
  })

  it('writes --output-file 0644 and prints nothing; with --diff alone prints nothing either', async () => {
    const file = join(dir, 'out.yaml')
    const recorded = recorder()
    const outcome = await runInject(options({output: {format: 'yaml', file}}), recorded.hooks)
    assert.equal(outcome.wrote, file)
    assert.equal(outcome.result.output, file)
    assert.deepEqual(recorded.printed, [])
    assert.equal((await stat(file)).mode & 0o777, 0o644)
    assert.match(await readFile(file, 'utf8'), /consul-dataplane/)

    const diffOnly = recorder()
    await runInject(options({diff: true}), diffOnly.hooks)
    assert.deepEqual(diffOnly.events, ['planned manifests 1'])
  })

  it('--dry-run plans without writing', async () => {
    const file = join(dir, 'dry.yaml')
    const {events, hooks} = recorder()
    const outcome = await runInject(options({dryRun: true, output: {format: 'yaml', file}}), hooks)
    assert.deepEqual(events, ['planned manifests 1'])
    assert.equal(outcome.result.dryRun, true)
    await assert.rejects(stat(file), /ENOENT/)
  })

  it('writes nothing when a workload has invalid annotations, and says why', async () => {
    const file = join(dir, 'bad.yaml')
    const {printed, hooks} = recorder()
    const outcome = await runInject(options({filenames: [fixture('malformed.yaml')], output: {format: 'yaml', file}}), hooks)
    assert.match(outcome.failure ?? '', /^\d+ workload\(s\) have invalid Connect annotations; no manifests were written\.$/)
    assert.ok(outcome.result.counts.error > 0)
    assert.deepEqual(printed, [])
    await assert.rejects(stat(file), /ENOENT/)
  })

  it('refuses cluster flags with -f, and -n with --all-namespaces, before reading anything', async () => {
    for (const [overrides, message] of [
      [{context: 'dc1'}, '--context selects a live cluster, but -f injects manifests offline.'],
      [{kubeconfig: 'kubeconfig'}, '--kubeconfig selects a live cluster, but -f injects manifests offline.'],
      [{allNamespaces: true}, '--all-namespaces selects a live cluster, but -f injects manifests offline.'],
      [{filenames: undefined, allNamespaces: true, namespace: 'shop'}, '-n and --all-namespaces cannot be combined.'],
    ] as const) {
      const {events, hooks} = recorder()
      await assert.rejects(runInject(options(overrides), hooks), (error: Error) => isUserError(error) && error.message === message)
      assert.deepEqual(events, [])
    }
  })

  it('says when stdout carries data (human output then goes to stderr)', () => {
    assert.equal(stdoutCarriesData(options()), true)
    assert.equal(stdoutCarriesData(options({output: {format: 'yaml', file: 'x.yaml'}})), false)
    assert.equal(stdoutCarriesData(options({output: {format: 'yaml', file: 'x.yaml'}, diff: true})), true)
    assert.equal(stdoutCarriesData(options({dryRun: true})), false)
    assert.equal(stdoutCarriesData(options({filenames: undefined})), false)
    assert.equal(stdoutCarriesData(options({filenames: undefined, writeObjects: true})), true)
    assert.equal(stdoutCarriesData(options({filenames: undefined, writeObjects: true, output: {format: 'json', file: 'x.json'}})), false)
  })
})
