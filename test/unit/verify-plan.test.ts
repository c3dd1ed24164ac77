import {strict as assert} from 'node:assert'
import {describe, it} from 'node:test'

import {isUserError} from '../../src/shared/errors.js'
import {planTargets} from '../../src/verify/plan.js'

const base = {namespace: 'consul', release: 'consul'}

function userError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => isUserError(error) && pattern.test(error.message))
}

describe('verify plan', () => {
  it('defaults to the current context and execs when no address is given', () => {
    assert.deepEqual(planTargets({...base, contexts: [], currentContext: 'dc1'}), [{context: 'dc1', namespace: 'consul', release: 'consul'}])
  })

  it('gives each context its own address, and shared token and CA to all', () => {
    const targets = planTargets({
      ...base,
      contexts: ['dc1', 'dc2'],
      addresses: ['dc1=https://10.0.0.1:8501', 'dc2=https://10.0.0.2:8501'],
      tokens: ['secret-token'],
      caFiles: ['/etc/consul/ca.pem'],
    })
    assert.deepEqual(
      targets.map((target) => [target.context, target.address, target.token, target.caFile]),
      [
        ['dc1', 'https://10.0.0.1:8501', 'secret-token', '/etc/consul/ca.pem'],
        ['dc2', 'https://10.0.0.2:8501', 'secret-token', '/etc/consul/ca.pem'],
      ],
    )
  })

  it('lets one context use HTTPS while the other execs, with a per-context token', () => {
    const targets = planTargets({...base, contexts: ['dc1', 'dc2'], addresses: ['dc2=https://10.0.0.2:8501'], tokens: ['dc2=t2', 'all']})
    assert.equal(targets[0].address, undefined)
    assert.equal(targets[0].token, 'all')
    assert.equal(targets[1].token, 't2')
  })

  it('takes CONSUL_* from the environment when the flags are absent', () => {
    const [target] = planTargets({
      ...base,
      contexts: ['dc1'],
      env: {CONSUL_HTTP_ADDR: 'https://127.0.0.1:8501', CONSUL_HTTP_TOKEN: 'env-token', CONSUL_CACERT: '/tmp/ca.pem'},
    })
    assert.deepEqual([target.address, target.token, target.caFile], ['https://127.0.0.1:8501', 'env-token', '/tmp/ca.pem'])
  })

  it('refuses one address for several contexts (one server is one datacenter)', () => {
    userError(() => planTargets({...base, contexts: ['dc1', 'dc2'], addresses: ['https://10.0.0.1:8501']}), /names one Consul server, but 2 contexts/)
    userError(() => planTargets({...base, contexts: ['dc1', 'dc2'], env: {CONSUL_HTTP_ADDR: 'https://10.0.0.1:8501'}}), /^CONSUL_HTTP_ADDR names one/)
  })

  it('refuses a value for a context that is not verified, duplicates, and no context at all', () => {
    userError(() => planTargets({...base, contexts: ['dc1'], addresses: ['dc3=https://10.0.0.3:8501']}), /context "dc3", which is not being verified/)
    userError(() => planTargets({...base, contexts: ['dc1', 'dc1']}), /dc1 is given twice/)
    userError(() => planTargets({...base, contexts: ['dc1'], tokens: ['dc1=a', 'dc1=b']}), /given twice for context dc1/)
    userError(() => planTargets({...base, contexts: []}), /no current context/)
    userError(() => planTargets({...base, namespace: 'Bad_NS', contexts: ['dc1']}), /Invalid namespace/)
  })

  it('keeps paths and URLs with "=" as plain values', () => {
    const [target] = planTargets({...base, contexts: ['dc1'], caFiles: ['/tmp/a=b/ca.pem'], addresses: ['https://h:8501/?x=1']})
    assert.equal(target.caFile, '/tmp/a=b/ca.pem')
    assert.equal(target.address, 'https://h:8501/?x=1')
  })
})
