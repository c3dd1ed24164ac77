// verify blames the Kubernetes API, not Consul, when the Kubernetes API is what failed
// (issue 11): a real listener that refuses (a port closed right after it was bound).
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('verify when the Kubernetes API refuses', () => {
  it('names the Kubernetes API as the cause of every failed check, never the Consul server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-blame-'))
    const kubeconfig = join(dir, 'config')
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${await closedPort()}"}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: refused, context: {cluster: c, user: u}}]
current-context: refused
`,
    )
    const result = await runCli(['verify', '--kubeconfig', kubeconfig, '--context', 'refused', '-o', 'json'])
    assert.equal(result.exitCode, 1, result.stderr)
    const report = JSON.parse(result.stdout) as {checks: {status: string; cause?: string; next?: string; detail: string}[]}
    const failed = report.checks.filter((check) => check.status === 'fail')
    assert.ok(failed.length > 0, result.stdout)
    for (const check of failed) {
      assert.match(check.detail, /Cannot reach the Kubernetes API of context "refused"/)
      assert.equal(check.cause, 'the Kubernetes API of context refused did not answer')
      assert.doesNotMatch(`${check.cause} ${check.next}`, /Consul server|Consul server logs/)
    }
  })
})
