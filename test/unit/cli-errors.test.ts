// How the built CLI reports bad input: one readable message, a non-zero exit, no stack trace,
// and with --json a small JSON error instead of oclif's parse context.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'

const STACK = /\n\s+at .*:\d+:\d+/

describe('CLI error output', () => {
  it('an unknown flag with --json gives a short JSON error and exit 2', async () => {
    const result = await runCli(['version', '--json', '--bogus'])
    assert.equal(result.exitCode, 2)
    const parsed = JSON.parse(result.stdout) as {error: {message: string}}
    assert.match(parsed.error.message, /Nonexistent flag: --bogus/)
    assert.ok(result.stdout.split('\n').length < 10, `short output, got ${result.stdout.split('\n').length} lines`)
  })

  it('a user error prints one ✗ line with a hint on stderr, no stack trace, exit 1', async () => {
    const result = await runCli(['federate', 'primary', '--datacenter', 'Not_Valid', '--output-dir', '/nonexistent/never-written', '--yes'])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /^✗ Invalid datacenter name "Not_Valid"\./m)
    assert.doesNotMatch(result.stderr, STACK)
    assert.equal(result.stdout.trim(), '')
  })

  it('a user error with --json is a JSON error on stdout', async () => {
    const result = await runCli(['federate', 'primary', '--datacenter', 'Not_Valid', '--output-dir', '/nonexistent/never-written', '--yes', '--json'])
    assert.equal(result.exitCode, 1)
    const parsed = JSON.parse(result.stdout) as {error: {message: string; hint?: string}}
    assert.match(parsed.error.message, /Invalid datacenter name/)
    assert.ok(parsed.error.hint)
  })

  it('an unknown context lists the contexts of the kubeconfig', async () => {
    const {mkdtemp, writeFile} = await import('node:fs/promises')
    const {join} = await import('node:path')
    const {tmpdir} = await import('node:os')
    const dir = await mkdtemp(join(tmpdir(), 'consulk8s-cli-errors-'))
    const kubeconfig = join(dir, 'config')
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: one, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: x}}]',
        'contexts: [{name: alpha, context: {cluster: one, user: u}}, {name: beta, context: {cluster: one, user: u}}]',
        'current-context: alpha',
      ].join('\n'),
    )
    const result = await runCli(['federate', 'export', '--kubeconfig', kubeconfig, '--context', 'gamma'])
    assert.notEqual(result.exitCode, 0)
    assert.match(result.stderr, /Unknown kube context "gamma"/)
    assert.match(result.stderr, /alpha, beta/)
    assert.doesNotMatch(result.stderr, STACK)
  })
})
