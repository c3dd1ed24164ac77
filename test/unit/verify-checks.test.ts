import {strict as assert} from 'node:assert'
import {before, describe, it} from 'node:test'

import {createCA, createGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {releaseNames} from '../../src/federation/names.js'
import {evaluate, federationFacts} from '../../src/verify/checks.js'
import {probeFail, probeOk, type AgentInfo, type Check, type ReplicationStatus, type SideObservation, type WanMember} from '../../src/verify/types.js'

const NOW = new Date('2026-03-01T12:00:00Z')

function member(node: string, dc: string, status = 'alive'): WanMember {
  return {
    name: `${node}.${dc}`,
    address: '127.0.0.1:8302',
    status,
    type: 'server',
    build: '1.22.2',
    protocol: '2',
    datacenter: dc,
    partition: 'default',
    segment: '<all>',
  }
}

function agent(dc: string, primary = 'dc1', aclsEnabled = true): AgentInfo {
  return {datacenter: dc, primaryDatacenter: primary, nodeName: 'consul-server-0', version: '1.22.2', server: true, aclsEnabled}
}

const running: ReplicationStatus = {
  enabled: true,
  running: true,
  sourceDatacenter: 'dc1',
  replicationType: 'tokens',
  replicatedIndex: 42,
  lastSuccess: '2026-03-01T11:59:58Z',
}

let ca: CertificateAuthority
let gossip: string

function secretData(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const data: Record<string, string | undefined> = {
    caCert: ca.certPem,
    caKey: ca.keyPem,
    serverConfigJSON: JSON.stringify({primary_datacenter: 'dc1', primary_gateways: ['198.51.100.10:443']}),
    replicationToken: '6c3e4a3c-6d1b-4b8e-9d5e-2f1a0c7b9e11',
    gossipEncryptionKey: gossip,
    ...overrides,
  }
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)) as Record<string, string>
}

/** A healthy side of a dc1/dc2 federation; pass overrides to break it. */
function side(dc: 'dc1' | 'dc2', overrides: Partial<SideObservation['consul']> & {secret?: SideObservation['secret']} = {}): SideObservation {
  const other = dc === 'dc1' ? 'dc2' : 'dc1'
  const {secret, ...consul} = overrides
  return {
    context: dc,
    namespace: 'consul',
    names: releaseNames('consul'),
    secret: secret ?? probeOk({name: 'consul-federation', data: secretData()}),
    consul: {
      via: 'http',
      source: `https://consul.${dc}.example:8501`,
      agent: probeOk(agent(dc)),
      members: probeOk([member('consul-server-0', 'dc1'), member('consul-server-0', 'dc2')]),
      datacenters: probeOk(['dc1', 'dc2']),
      serverHealth: {
        [other]: probeOk({
          servers: [
            {
              node: 'consul-server-0',
              address: '10.0.0.1',
              checks: [{name: 'Serf Health Status', checkId: 'serfHealth', status: 'passing', output: 'Agent alive and reachable'}],
            },
          ],
          filteredByAcls: false,
        }),
      },
      replication: probeOk(dc === 'dc1' ? {...running, enabled: false, running: false, sourceDatacenter: ''} : running),
      ...consul,
    },
  }
}

const byId = (checks: Check[], id: string): Check => {
  const found = checks.find((check) => check.id === id)
  assert.ok(found, `no check ${id} in ${checks.map((check) => check.id).join(', ')}`)
  return found
}
const failed = (checks: Check[]) => checks.filter((check) => check.status === 'fail').map((check) => check.id)

describe('verify checks', () => {
  before(async () => {
    ca = await createCA({now: new Date('2026-01-01T00:00:00Z')})
    gossip = createGossipKey()
  })

  it('passes a healthy two-datacenter federation, in both directions', () => {
    const {checks, primaryDatacenter, datacenters} = evaluate([side('dc1'), side('dc2')], {now: NOW})
    assert.deepEqual(failed(checks), [])
    assert.equal(primaryDatacenter, 'dc1')
    assert.deepEqual(datacenters, ['dc1', 'dc2'])
    for (const id of [
      'wan:dc1:dc2',
      'wan:dc2:dc1',
      'health:dc1:dc2',
      'health:dc2:dc1',
      'replication:dc2',
      'secret-match',
      'server-config:dc2',
      'datacenters:dc1',
    ]) {
      assert.equal(byId(checks, id).status, 'ok', id)
    }
    // The primary does not replicate: no replication check for it.
    assert.ok(!checks.some((check) => check.id === 'replication:dc1'))
  })

  it('fails when the other datacenter is missing from the WAN pool, blaming the gateways in serverConfigJSON from the secondary', () => {
    const dc2 = side('dc2', {members: probeOk([member('consul-server-0', 'dc2')]), datacenters: probeOk(['dc2'])})
    const {checks} = evaluate([side('dc1'), dc2], {now: NOW})
    const wan = byId(checks, 'wan:dc2:dc1')
    assert.equal(wan.status, 'fail')
    assert.match(wan.detail, /no server of dc1 in the WAN pool of dc2/)
    assert.match(wan.cause ?? '', /primary_gateways: 198\.51\.100\.10:443/)
    assert.match(wan.cause ?? '', /unreachable or stale/)
    assert.match(wan.next ?? '', /consul-mesh-gateway/)
    assert.equal(byId(checks, 'datacenters:dc2').status, 'fail')
    assert.match(byId(checks, 'datacenters:dc2').detail, /missing dc1/)
  })

  it('fails on a failed server and says which, when one datacenter is down', () => {
    const dc1 = side('dc1', {
      members: probeOk([member('consul-server-0', 'dc1'), member('consul-server-0', 'dc2', 'failed')]),
      serverHealth: {dc2: probeFail('no-route', "reading the health of dc2's servers failed: HTTP 500 (No path to datacenter)")},
    })
    const dc2 = side('dc2', {
      agent: probeFail('unreachable', 'Cannot reach Consul at https://consul.dc2.example:8501: ECONNREFUSED connect ECONNREFUSED'),
    })
    const {checks, datacenters} = evaluate([dc1, dc2], {now: NOW})
    assert.deepEqual(datacenters, ['dc1', 'dc2'], 'dc2 stays expected while its server is only failed')
    const wan = byId(checks, 'wan:dc1:dc2')
    assert.equal(wan.status, 'fail')
    assert.equal(wan.detail, '0/1 alive: consul-server-0.dc2 failed')
    assert.match(wan.cause ?? '', /down, or the path between dc1 and dc2/)
    assert.match(wan.next ?? '', /--context dc2/)
    assert.equal(byId(checks, 'health:dc1:dc2').status, 'fail')
    assert.match(byId(checks, 'health:dc1:dc2').cause ?? '', /cannot forward/)
    const reach = byId(checks, 'consul:dc2')
    assert.equal(reach.status, 'fail')
    assert.match(reach.cause ?? '', /down/)
    // Nothing is checked from a side that could not be reached.
    assert.ok(!checks.some((check) => check.id.startsWith('wan:dc2')))
  })

  it('reports a wrong token as a permission problem with the way out', () => {
    const dc1 = side('dc1', {agent: probeFail('forbidden', 'Consul denied reading /v1/agent/self: HTTP 403 (ACL not found)')})
    const {checks} = evaluate([dc1], {now: NOW})
    const reach = byId(checks, 'consul:dc1')
    assert.equal(reach.status, 'fail')
    assert.match(reach.cause ?? '', /ACL token is missing, unknown/)
    assert.match(reach.next ?? '', /consul-bootstrap-acl-token/)
  })

  it('fails replication that is not running, with the last error, the token and k8sAuthMethodHost as causes', () => {
    const dc2 = side('dc2', {
      replication: probeOk({
        ...running,
        running: false,
        lastError: '2026-03-01T11:59:00Z',
        lastErrorMessage: 'failed to retrieve remote ACL tokens: ACL not found',
      }),
    })
    const check = byId(evaluate([side('dc1'), dc2], {now: NOW}).checks, 'replication:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /not running; last error at .*ACL not found/)
    assert.match(check.cause ?? '', /replication token is invalid/)
    assert.match(check.cause ?? '', /k8sAuthMethodHost/)
  })

  it("checks a secondary's replication through the primary when the secondary is not a side", () => {
    const dc1 = side('dc1', {remoteReplication: {dc2: probeOk(running)}})
    const ok = byId(evaluate([dc1], {now: NOW}).checks, 'replication:dc1:dc2')
    assert.equal(ok.status, 'ok')
    assert.equal(ok.title, 'dc1: ACL replication of dc2 (asked through dc1) from dc1 enabled and running')
    const stalled = side('dc1', {remoteReplication: {dc2: probeOk({...running, running: false})}})
    const check = byId(evaluate([stalled], {now: NOW}).checks, 'replication:dc1:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.cause ?? '', /or dc2 cannot reach dc1/)
  })

  it('fails replication that is off in a secondary with ACLs, and skips it when ACLs are off', () => {
    const off = side('dc2', {replication: probeOk({...running, enabled: false, running: false})})
    assert.equal(byId(evaluate([side('dc1'), off], {now: NOW}).checks, 'replication:dc2').status, 'fail')
    const noAcls = side('dc2', {agent: probeOk(agent('dc2', 'dc1', false)), replication: probeOk('acl-disabled')})
    const checks = evaluate([side('dc1', {agent: probeOk(agent('dc1', 'dc1', false))}), noAcls], {now: NOW}).checks
    assert.ok(!checks.some((check) => check.id === 'replication:dc2'))
  })

  it('warns when replication runs but its last error is newer than its last success', () => {
    const dc2 = side('dc2', {
      replication: probeOk({...running, lastSuccess: '2026-03-01T11:00:00Z', lastError: '2026-03-01T11:59:00Z', lastErrorMessage: 'rpc error'}),
    })
    assert.equal(byId(evaluate([side('dc1'), dc2], {now: NOW}).checks, 'replication:dc2').status, 'warn')
  })

  it('fails when ACLs are on in one datacenter and off in the other', () => {
    const dc2 = side('dc2', {agent: probeOk(agent('dc2', 'dc1', false)), replication: probeOk('acl-disabled')})
    assert.equal(byId(evaluate([side('dc1'), dc2], {now: NOW}).checks, 'acls').status, 'fail')
  })

  it('fails unhealthy servers of the other datacenter, naming the check', () => {
    const dc1 = side('dc1', {
      serverHealth: {
        dc2: probeOk({
          servers: [
            {
              node: 'consul-server-0',
              address: '10.0.0.2',
              checks: [{name: 'Serf Health Status', checkId: 'serfHealth', status: 'critical', output: 'Agent not live or unreachable'}],
            },
          ],
          filteredByAcls: false,
        }),
      },
    })
    const check = byId(evaluate([dc1, side('dc2')], {now: NOW}).checks, 'health:dc1:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /consul-server-0: Serf Health Status critical \(Agent not live or unreachable\)/)
  })

  it('blames the token when ACLs filtered every server out', () => {
    const dc1 = side('dc1', {serverHealth: {dc2: probeOk({servers: [], filteredByAcls: true})}})
    const check = byId(evaluate([dc1, side('dc2')], {now: NOW}).checks, 'health:dc1:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.cause ?? '', /node:read/)
  })

  it('fails a missing federation secret in the secondary, saying how to import it', () => {
    const dc2 = side('dc2', {secret: probeOk(null)})
    const check = byId(evaluate([side('dc1'), dc2], {now: NOW}).checks, 'secret:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /consul-federation not found in namespace consul of context dc2/)
    assert.match(check.cause ?? '', /not imported/)
    assert.equal(
      check.next,
      'copy it from the primary: consulk8s federate export --context dc1 -n consul | consulk8s federate import --context dc2 -n consul -f -',
    )
  })

  it('fails secrets that differ, naming the keys but never printing their values', () => {
    const otherGossip = createGossipKey()
    const dc2 = side('dc2', {secret: probeOk({name: 'consul-federation', data: secretData({gossipEncryptionKey: otherGossip})})})
    const {checks} = evaluate([side('dc1'), dc2], {now: NOW})
    const check = byId(checks, 'secret-match')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /gossipEncryptionKey \(dc1 sha256:[0-9a-f]{12} vs dc2 sha256:[0-9a-f]{12}\)/)
    const everything = JSON.stringify(checks)
    for (const secret of [gossip, otherGossip, ca.keyPem.split('\n')[1], '6c3e4a3c-6d1b-4b8e-9d5e-2f1a0c7b9e11']) {
      assert.ok(!everything.includes(secret), 'secret material in the checks')
    }
  })

  it('warns when the copies hold different primary_gateways (a stale copy)', () => {
    const stale = secretData({serverConfigJSON: JSON.stringify({primary_datacenter: 'dc1', primary_gateways: ['203.0.113.7:443']})})
    const dc2 = side('dc2', {secret: probeOk({name: 'consul-federation', data: stale})})
    const check = byId(evaluate([side('dc1'), dc2], {now: NOW}).checks, 'secret-match')
    assert.equal(check.status, 'warn')
    assert.match(check.detail, /primary_gateways differ/)
  })

  it("fails a secondary whose serverConfigJSON names another primary than Consul's", () => {
    const wrong = secretData({serverConfigJSON: JSON.stringify({primary_datacenter: 'dc9', primary_gateways: ['198.51.100.10:443']})})
    const dc2 = side('dc2', {secret: probeOk({name: 'consul-federation', data: wrong})})
    const {checks} = evaluate([side('dc1'), dc2], {now: NOW})
    const check = byId(checks, 'server-config:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /names primary_datacenter dc9, but the primary is dc1/)
  })

  it('fails a secret with a broken CA or gossip key, and one the user may not read', () => {
    const noKey = side('dc2', {secret: probeOk({name: 'consul-federation', data: secretData({caKey: undefined})})})
    const check = byId(evaluate([side('dc1'), noKey], {now: NOW}).checks, 'secret:dc2')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /secret consul-federation is missing key caKey/)
    const badGossip = side('dc2', {secret: probeOk({name: 'consul-federation', data: secretData({gossipEncryptionKey: 'short'})})})
    assert.match(byId(evaluate([side('dc1'), badGossip], {now: NOW}).checks, 'secret:dc2').detail, /gossipEncryptionKey/)
    const forbidden = side('dc2', {secret: probeFail('forbidden', 'Kubernetes context "dc2" refused to read secret consul-federation: HTTP 403')})
    assert.match(byId(evaluate([forbidden], {now: NOW}).checks, 'secret:dc2').cause ?? '', /may not read secrets/)
  })

  it('fails an expired CA and warns about one close to expiry', async () => {
    const old = await createCA({now: new Date('2025-01-01T00:00:00Z'), days: 30})
    const expired = {name: 'consul-federation', data: secretData({caCert: old.certPem, caKey: old.keyPem})}
    const checks = evaluate([side('dc1', {secret: probeOk(expired)})], {now: NOW}).checks
    const caCheck = checks.find((check) => check.id.startsWith('ca:'))!
    assert.equal(caCheck.status, 'fail')
    assert.match(caCheck.detail, /expired on 2025-01-31/)
    const soon = await createCA({now: new Date('2026-02-15T00:00:00Z'), days: 30})
    const near = {name: 'consul-federation', data: secretData({caCert: soon.certPem, caKey: soon.keyPem})}
    const nearCheck = evaluate([side('dc1', {secret: probeOk(near)})], {now: NOW}).checks.find((check) => check.id.startsWith('ca:'))!
    assert.equal(nearCheck.status, 'warn')
    assert.match(nearCheck.detail, /\d+ days left/)
  })

  it('expects datacenters named by --expect-dc and seen in any WAN pool, but not those that only left', () => {
    const dc1 = side('dc1', {
      members: probeOk([member('consul-server-0', 'dc1'), member('consul-server-0', 'dc2'), member('consul-server-0', 'dc3', 'left')]),
    })
    const facts = federationFacts([dc1], ['dc4'])
    assert.deepEqual(facts.datacenters, ['dc1', 'dc2', 'dc4'])
    assert.deepEqual(facts.leftOnly, ['dc3'])
    const checks = evaluate([dc1], {now: NOW, expectDatacenters: ['dc4']}).checks
    assert.equal(byId(checks, 'wan:dc1:dc4').status, 'fail')
    assert.equal(byId(checks, 'wan-left:dc3').status, 'warn')
  })

  it('fails when the datacenters disagree on the primary', () => {
    const dc2 = side('dc2', {agent: probeOk(agent('dc2', 'dc2'))})
    const check = byId(evaluate([side('dc1'), dc2], {now: NOW}).checks, 'primary')
    assert.equal(check.status, 'fail')
    assert.match(check.detail, /dc1 says dc1; dc2 says dc2/)
  })

  it('labels a side by context and datacenter when they differ', () => {
    const obs = {...side('dc1'), context: 'kind-east'}
    const check = byId(evaluate([obs], {now: NOW}).checks, 'consul:kind-east')
    assert.equal(check.title, 'kind-east (dc1): Consul server reachable')
  })
})
