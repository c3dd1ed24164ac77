// How the built CLI reports bad input: one readable message, a non-zero exit, no stack trace,
// and with --json a small JSON error instead of oclif's parse context.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {BIN, ROOT, runCli} from '../helpers/cli.js'
import {runCliInPty} from '../helpers/pty.js'

const STACK = /\n\s+at .*:\d+:\d+/

describe('CLI error output', () => {
  it('an unknown flag with --json gives a short JSON error and exit 2', async () => {
    const result = await runCli(['version', '--json', '--bogus'])
    assert.equal(result.exitCode, 2)
    const parsed = JSON.parse(result.stdout) as {error: {message: string}}
    assert.match(parsed.error.message, /Unknown flag --bogus for consulk8s version\./)
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

const work = mkdtempSync(join(tmpdir(), 'consulk8s-cli-ux-'))
after(() => {
  // Directories made read-only for the tests must be writable again to be removed.
  for (const dir of readdirSync(work)) chmodSync(join(work, dir), 0o755)
})

/** A kubeconfig whose only cluster is https://127.0.0.1:<port>. */
function kubeconfigFor(port: number): string {
  const file = join(work, `kubeconfig-${port}`)
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: one, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: u, user: {token: x}}]',
      'contexts: [{name: one, context: {cluster: one, user: u}}]',
      'current-context: one',
    ].join('\n'),
  )
  return file
}

describe('Ctrl-C is the user leaving, not a bug', () => {
  it('Ctrl-C at a prompt prints "Aborted.", exits 130 and writes nothing', async () => {
    const out = join(work, 'ctrl-c')
    const {screen, exitCode} = await runCliInPty(['federate', 'primary', '--output-dir', out], [['Consul datacenter name', '\u0003']], {cwd: work})
    assert.equal(exitCode, 130, screen)
    assert.match(screen, /Aborted\./)
    assert.doesNotMatch(screen, /Unexpected error|This is a bug/)
    assert.equal(existsSync(out), false, 'nothing written')
  })

  it('SIGINT while a command waits for a server prints "Aborted." and exits 130', async () => {
    // A server that accepts the connection and never answers: the command is surely running
    // (and waiting) once the connection arrives, and that is when it gets SIGINT.
    const sockets: Socket[] = []
    const server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    try {
      const child = spawn(
        process.execPath,
        [BIN, 'federate', 'export', '--kubeconfig', kubeconfigFor(port), '--output-file', join(work, 'never.yaml')],
        {env: {...process.env, CI: 'true', NO_COLOR: '1'}},
      )
      let stderr = ''
      child.stderr.on('data', (chunk) => (stderr += chunk))
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      const connected = new Promise<true>((resolve) => server.once('connection', () => resolve(true)))
      assert.equal(await Promise.race([connected, exited.then(() => false)]), true, `the command ended before it reached the server: ${stderr}`)
      child.kill('SIGINT')
      assert.equal(await exited, 130, stderr)
      assert.match(stderr, /Aborted\./)
      assert.doesNotMatch(stderr, /Unexpected error/)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  })
})

describe('an output path that cannot be written fails at once, nothing half-written', () => {
  it('--values-file naming a directory: a user error with the path, no secret written', async () => {
    const out = join(work, 'values-dir')
    const result = await runCli(['federate', 'primary', '--output-dir', out, '--values-file', work, '--yes'])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, new RegExp(`✗ --values-file: Cannot write ${work}: it is a directory\\.`))
    assert.match(result.stderr, /Give a file name/)
    assert.doesNotMatch(result.stderr, STACK)
    assert.equal(existsSync(out), false, 'no secrets written')
  })

  it('--values-file under a file (ENOTDIR) names the file in the way', async () => {
    const file = join(work, 'plain-file')
    writeFileSync(file, 'x')
    const out = join(work, 'values-notdir')
    const result = await runCli(['federate', 'primary', '--output-dir', out, '--values-file', join(file, 'values.yaml'), '--yes'])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, /not a directory \(at .*plain-file\)/)
    assert.equal(existsSync(out), false)
  })

  it('--values-file in a read-only directory (EACCES): a user error, no secret written', async () => {
    const readOnly = join(work, 'read-only')
    mkdirSync(readOnly)
    chmodSync(readOnly, 0o555)
    const out = join(work, 'open')
    mkdirSync(out)
    chmodSync(out, 0o777)
    // root may write anywhere: run the CLI as nobody then (setpriv, util-linux).
    const asRoot = process.getuid?.() === 0
    const args = ['federate', 'primary', '--output-dir', join(out, 'federation'), '--values-file', join(readOnly, 'values.yaml'), '--yes']
    const result = asRoot
      ? await runCli(['--', ...args], {command: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], env: {HOME: out}})
      : await runCli(args)
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, /✗ --values-file: Cannot write .*read-only\/values\.yaml: permission denied/)
    assert.doesNotMatch(result.stderr, STACK)
    assert.deepEqual(readdirSync(out), [], 'no secrets written')
    assert.deepEqual(readdirSync(readOnly), [])
  })

  it('--output-dir on a read-only file system (EROFS): a user error, nothing written', async (t) => {
    // A read-only tmpfs in a private mount namespace (needs root, as the whole suite does).
    const readOnly = join(work, 'read-only-fs')
    mkdirSync(readOnly)
    if (process.getuid?.() !== 0) return t.skip('needs root for a private read-only mount')
    const mountReadOnly = ['unshare', '--mount', 'sh', '-c', 'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"', readOnly]
    const result = await runCli(['--', 'federate', 'primary', '--output-dir', join(readOnly, 'federation'), '--yes'], {command: mountReadOnly})
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, /✗ --output-dir: Cannot write .*read-only-fs\/federation\/values\.yaml: the file system is read-only/)
    assert.match(result.stderr, /Choose a directory on a writable file system\./)
    assert.deepEqual(readdirSync(readOnly), [])
  })

  it('--output-dir under /proc fails at once instead of spinning in mkdir', async () => {
    const result = await runCli(['federate', 'primary', '--output-dir', '/proc/consulk8s-nope', '--yes'], {timeoutMs: 60_000})
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, /✗ --output-dir: Cannot write \/proc\/consulk8s-nope\//)
  })
})

describe('typos and help', () => {
  it('a mistyped command suggests the right one', async () => {
    const install = await runCli(['instal'])
    assert.equal(install.exitCode, 2)
    assert.match(install.stderr, /Unknown command "instal" for consulk8s\. Did you mean "consulk8s install"\?/)
    const primary = await runCli(['federate', 'primay'])
    assert.equal(primary.exitCode, 2)
    assert.match(primary.stderr, /Did you mean "consulk8s federate primary"\?/)
  })

  it('help, help <command> and -h show help', async () => {
    const help = await runCli(['help'])
    assert.equal(help.exitCode, 0, help.stderr)
    assert.match(help.stdout, /COMMANDS/)
    const command = await runCli(['help', 'federate', 'primary'])
    assert.equal(command.exitCode, 0, command.stderr)
    assert.match(command.stdout, /\$ consulk8s federate primary/)
    const typo = await runCli(['help', 'federate', 'primay'])
    assert.equal(typo.exitCode, 2)
    assert.match(typo.stderr, /Did you mean "consulk8s federate primary"\?/)
    const short = await runCli(['status', '-h'])
    assert.equal(short.exitCode, 0, short.stderr)
    assert.match(short.stdout, /\$ consulk8s status/)
  })

  it('an unknown flag is one error with a did-you-mean and the usage line, not the whole help', async () => {
    const result = await runCli(['status', '--contxt', 'dc1'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^✗ Unknown flag --contxt for consulk8s status\. Did you mean --context\?$/m)
    assert.match(result.stderr, /Usage: consulk8s status \[flags\]/)
    assert.ok(result.stderr.trim().split('\n').length <= 4, result.stderr)
  })

  it('a stray positional says "unexpected argument"', async () => {
    for (const args of [
      ['status', 'extra'],
      ['federate', 'primary', 'extra'],
    ]) {
      const result = await runCli(args)
      assert.equal(result.exitCode, 2)
      assert.match(result.stderr, /Unexpected argument "extra" for consulk8s /)
    }
  })

  it('with -o json a failure is the same JSON error as with --json', async () => {
    const result = await runCli(['status', '--contxt', 'dc1', '-o', 'json'])
    assert.equal(result.exitCode, 2)
    const parsed = JSON.parse(result.stdout) as {error: {message: string}}
    assert.match(parsed.error.message, /Unknown flag --contxt/)
  })
})

describe('one contract per flag', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {flags: Record<string, {char?: string; options?: string[]; default?: unknown; aliases?: string[]}>}>
  }
  const commands = Object.entries(manifest.commands)

  it('-o takes json|yaml (table where there is a table) on every command, never a file name', () => {
    for (const [id, command] of commands) {
      const output = command.flags.output
      if (!output) continue
      assert.equal(output.char, 'o', id)
      assert.ok(output.options, `${id}: -o has a fixed list of formats`)
      for (const format of ['json', 'yaml']) assert.ok(output.options.includes(format), `${id}: -o ${format}`)
      for (const format of output.options) assert.ok(['json', 'yaml', 'table', 'wide'].includes(format), `${id}: -o ${format}`)
    }
  })

  it('-o with an unknown value is an error; a file name is pointed to --output-file', async () => {
    const result = await runCli(['federate', 'export', '-o', 'fed.yaml'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /Expected --output=fed\.yaml to be one of: yaml, json/)
    assert.match(result.stderr, /to write a file, pass --output-file fed\.yaml/)
    const inject = await runCli(['inject', '-f', '-', '-o', 'xml'], {input: 'a: 1\n'})
    assert.equal(inject.exitCode, 2)
    assert.match(inject.stderr, /Expected --output=xml to be one of: yaml, json/)
  })

  it('every --timeout has the one default, --kube-context is an alias of --context, --yes only where something asks', () => {
    const asking = ['federate:import', 'federate:primary', 'federate:secondary', 'inject', 'install', 'uninstall', 'upgrade']
    for (const [id, command] of commands) {
      if (command.flags.timeout) assert.equal(command.flags.timeout.default, '5m', `${id} --timeout default`)
      if (command.flags.context) assert.deepEqual(command.flags.context.aliases, ['kube-context'], `${id} --kube-context`)
      assert.equal(Boolean(command.flags.yes), asking.includes(id), `${id} --yes`)
    }
  })

  it('a bare number for a duration is refused like helm, naming the flag and the fix', async () => {
    const result = await runCli(['verify', '--timeout', '90'])
    assert.notEqual(result.exitCode, 0)
    assert.match(result.stderr, /^✗ Invalid duration "90" for --timeout: missing unit\.$/m)
    assert.match(result.stderr, /90s or 90m/)
    assert.doesNotMatch(result.stderr, /Parsing --timeout|See more help/)
  })

  it('--kube-context selects the context like --context', async () => {
    const kubeconfig = kubeconfigFor(1)
    const result = await runCli(['federate', 'export', '--kubeconfig', kubeconfig, '--kube-context', 'gamma'])
    assert.notEqual(result.exitCode, 0)
    assert.match(result.stderr, /Unknown kube context "gamma"/)
  })
})

describe('local input is checked before anything else', () => {
  it('federate import -f with an incomplete secret names the missing keys without reaching a cluster', async () => {
    const partial = join(work, 'partial.yaml')
    writeFileSync(
      partial,
      ['apiVersion: v1', 'kind: Secret', 'metadata: {name: consul-federation}', 'data:', `  caCert: ${Buffer.from('x').toString('base64')}`].join(
        '\n',
      ),
    )
    // A kubeconfig whose server would never answer: the error must come before any request.
    const result = await runCli(['federate', 'import', '--kubeconfig', join(work, 'no-such-kubeconfig'), '-f', partial])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, /partial\.yaml is missing keys .*caKey.*serverConfigJSON/)
    assert.doesNotMatch(result.stderr, /kubeconfig/i)
  })

  it('inject -f - with empty stdin is an error, like federate import -f -', async () => {
    for (const args of [
      ['inject', '-f', '-'],
      ['federate', 'import', '-f', '-'],
    ]) {
      const result = await runCli(args, {input: ''})
      assert.equal(result.exitCode, 1, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, /^✗ -f - read nothing: stdin is empty\.$/m)
      assert.equal(result.stdout.trim(), '')
    }
  })

  it('a YAML error names file:line:column and ends with the fix, not a dangling colon', async () => {
    const bad = join(work, 'bad.yaml')
    writeFileSync(bad, 'a: 1\n---\nb: [2\nc: 3\n')
    for (const args of [
      ['inject', '-f', bad],
      ['federate', 'import', '-f', bad],
    ]) {
      const result = await runCli(args)
      assert.equal(result.exitCode, 1)
      const lines = result.stderr.trim().split('\n')
      assert.match(lines[0], /bad\.yaml:\d+:\d+ is not valid YAML.*\.$/)
      assert.doesNotMatch(result.stderr, /:\s*$/m, 'no line ends in a colon')
      assert.match(lines.at(-1)!, /Fix the YAML.* at line \d+ .*run the command again/)
    }
  })
})
