/**
 * The exec path without a kubelet: the commands verify runs in a server pod (run here by the
 * real /bin/sh, with stand-in `consul` and `curl` that print what they received), the exit
 * code read from the API server's status, and the sentence for a pod that cannot take exec.
 * test/integration/verify-exec.test.ts runs the same commands against the real Consul.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {exitCodeFromStatus, podNotReadyReason} from '../../src/kube/exec.js'
import {apiCommand, membersCommand} from '../../src/verify/sources.js'

type V1Pod = import('@kubernetes/client-node').V1Pod

let bin: string

function run(command: string[], stdin: string, env: Record<string, string> = {}) {
  const result = spawnSync(command[0], command.slice(1), {input: stdin, encoding: 'utf8', env: {PATH: `${bin}:/usr/bin:/bin`, ...env}})
  return {stdout: result.stdout, stderr: result.stderr, status: result.status}
}

describe('verify exec commands', () => {
  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'verify-exec-'))
    // Stand-ins that report their argv, the token env var and their stdin.
    writeFileSync(join(bin, 'consul'), '#!/bin/sh\necho "argv: $*"\necho "token: ${CONSUL_HTTP_TOKEN:-<none>}"\n')
    writeFileSync(join(bin, 'curl'), '#!/bin/sh\nfor a in "$@"; do printf "arg: %s\\n" "$a"; done\necho "stdin: $(cat)"\nprintf "200"\n')
    chmodSync(join(bin, 'consul'), 0o755)
    chmodSync(join(bin, 'curl'), 0o755)
  })
  after(() => rmSync(bin, {recursive: true, force: true}))

  it('runs consul members -wan with the token from stdin in CONSUL_HTTP_TOKEN, not on the command line', () => {
    const command = membersCommand()
    assert.ok(!command.join(' ').includes('s3cr3t'))
    const result = run(command, 's3cr3t\n')
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /^argv: members -wan$/m)
    assert.match(result.stdout, /^token: s3cr3t$/m)
  })

  it("keeps the container's own CONSUL_HTTP_TOKEN when no token is sent", () => {
    const result = run(membersCommand(), '\n', {CONSUL_HTTP_TOKEN: 'from-pod'})
    assert.match(result.stdout, /^token: from-pod$/m)
  })

  it('curls the local API at CONSUL_HTTP_ADDR with CONSUL_CACERT, the token as a header on stdin', () => {
    const command = apiCommand('/v1/health/service/consul?dc=dc2')
    const result = run(command, 'tok-123\n', {CONSUL_HTTP_ADDR: 'https://localhost:8501', CONSUL_CACERT: '/consul/tls/ca/tls.crt'})
    assert.equal(result.status, 0, result.stderr)
    const args = [...result.stdout.matchAll(/^arg: (.*)$/gm)].map((match) => match[1])
    assert.deepEqual(args, [
      '-sS',
      '-H',
      '@-',
      '--cacert',
      '/consul/tls/ca/tls.crt',
      '-w',
      '\\n%{http_code}',
      'https://localhost:8501/v1/health/service/consul?dc=dc2',
    ])
    assert.match(result.stdout, /^stdin: X-Consul-Token: tok-123$/m)
    assert.ok(!args.some((arg) => arg.includes('tok-123')))
  })

  it('adds the scheme the way the consul CLI does, and leaves --cacert out without a CA', () => {
    const https = run(apiCommand('/v1/agent/self'), '\n', {CONSUL_HTTP_ADDR: '127.0.0.1:8501', CONSUL_HTTP_SSL: 'true'})
    assert.match(https.stdout, /^arg: https:\/\/127\.0\.0\.1:8501\/v1\/agent\/self$/m)
    const plain = run(apiCommand('/v1/agent/self'), '\n')
    assert.match(plain.stdout, /^arg: http:\/\/127\.0\.0\.1:8500\/v1\/agent\/self$/m)
    assert.ok(!plain.stdout.includes('--cacert'))
  })

  it('reads the exit code from the status the API server sends', () => {
    assert.equal(exitCodeFromStatus({status: 'Success'}), 0)
    assert.equal(
      exitCodeFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        message: 'command terminated with non-zero exit code: exit status 2',
        details: {causes: [{reason: 'ExitCode', message: '2'}]},
      }),
      2,
    )
    assert.equal(exitCodeFromStatus({status: 'Failure', reason: 'InternalError', message: 'container not found ("consul")'}), undefined)
  })
})

function pod(status: V1Pod['status'], nodeName?: string, deleting = false): V1Pod {
  return {
    metadata: {name: 'consul-server-0', ...(deleting ? {deletionTimestamp: new Date()} : {})},
    spec: {containers: [{name: 'consul'}], ...(nodeName ? {nodeName} : {})},
    status,
  }
}

describe('pods that cannot take an exec', () => {
  it('accepts a running container on a node', () => {
    assert.equal(
      podNotReadyReason(
        pod(
          {phase: 'Running', containerStatuses: [{name: 'consul', ready: true, restartCount: 0, image: 'x', imageID: 'x', state: {running: {}}}]},
          'node-1',
        ),
        'consul',
      ),
      undefined,
    )
  })

  it('says a pod is Pending and not scheduled, with the scheduler message when there is one', () => {
    assert.equal(podNotReadyReason(pod({phase: 'Pending'}), 'consul'), 'pod consul-server-0 is Pending: not scheduled to a node')
    const unschedulable = pod({
      phase: 'Pending',
      conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.'}],
    })
    assert.equal(
      podNotReadyReason(unschedulable, 'consul'),
      'pod consul-server-0 is Pending: not scheduled: 0/3 nodes are available: 3 Insufficient cpu.',
    )
  })

  it('names a waiting container, a terminating pod and a missing container', () => {
    const waiting = pod(
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'consul',
            ready: false,
            restartCount: 0,
            image: 'x',
            imageID: 'x',
            state: {waiting: {reason: 'ImagePullBackOff', message: 'Back-off pulling image'}},
          },
        ],
      },
      'node-1',
    )
    assert.equal(podNotReadyReason(waiting, 'consul'), 'pod consul-server-0 is Pending: container consul ImagePullBackOff: Back-off pulling image')
    assert.equal(podNotReadyReason(pod({phase: 'Running'}, 'node-1', true), 'consul'), 'pod consul-server-0 is terminating')
    assert.match(podNotReadyReason(pod({phase: 'Running'}, 'node-1'), 'envoy') ?? '', /has no container named envoy/)
  })
})
