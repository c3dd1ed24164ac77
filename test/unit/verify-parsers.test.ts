/**
 * The parsers on real Consul output (test/fixtures/verify/, captured from the test
 * environment's Consul 1.22.2; see the README there).
 */
import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {
  classifyConsulCliError,
  classifyConsulHttpError,
  parseAgentSelf,
  parseCurlOutput,
  parseDatacenters,
  parseKeyring,
  parseMembersJson,
  parsePemCertificates,
  parseProxyDefaults,
  parseTokenSelf,
  parseMembersTable,
  parseReplication,
  parseServerHealth,
  replicationHealthy,
} from '../../src/verify/parsers.js'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/verify/${name}`, import.meta.url), 'utf8')
const json = (name: string) => JSON.parse(fixture(name)) as unknown

describe('consul members -wan tables', () => {
  it('reads the current layout with the Partition column', () => {
    const members = parseMembersTable(fixture('members-wan-dc1.txt'))
    assert.equal(members.length, 2)
    assert.deepEqual(members[1], {
      name: 'consul-server-0.dc2',
      address: members[1].address,
      status: 'alive',
      type: 'server',
      build: '1.22.2',
      protocol: '2',
      datacenter: 'dc2',
      partition: 'default',
      segment: '<all>',
    })
    assert.match(members[1].address, /^127\.0\.0\.1:\d+$/)
    assert.deepEqual(
      parseMembersTable(fixture('members-wan-dc2.txt')).map((member) => member.datacenter),
      ['dc1', 'dc2'],
    )
  })

  it('reads a failed server of a stopped datacenter', () => {
    const members = parseMembersTable(fixture('members-wan-dc1-dc2-stopped.txt'))
    assert.deepEqual(
      members.map((member) => [member.name, member.status]),
      [
        ['consul-server-0.dc1', 'alive'],
        ['consul-server-0.dc2', 'failed'],
      ],
    )
  })

  it('reads the older layout without Partition', () => {
    const members = parseMembersTable(fixture('members-wan-no-partition.txt'))
    assert.equal(members[1].status, 'failed')
    assert.equal(members[1].datacenter, 'dc2')
    assert.equal(members[1].segment, '<all>')
    assert.equal(members[1].partition, undefined)
  })

  it("reads the federation guide's Consul 1.8 table, printed with single spaces", () => {
    const members = parseMembersTable(fixture('members-wan-seed-1.8.txt'))
    assert.equal(members.length, 6)
    assert.deepEqual(members[3], {
      name: 'consul-server-1.dc2',
      address: '192.168.88.64:8302',
      status: 'alive',
      type: 'server',
      build: '1.8.0',
      protocol: '2',
      datacenter: 'dc2',
      segment: '<all>',
    })
  })

  it('cuts rows with empty cells at the header offsets (members of an unknown role)', () => {
    const header = fixture('members-wan-dc1.txt').split('\n')[0]
    const offset = (name: string) => header.indexOf(name)
    const row =
      'odd-node.dc3'.padEnd(offset('Address')) +
      '10.0.0.9:8302'.padEnd(offset('Status') - offset('Address')) +
      'alive'.padEnd(offset('Type') - offset('Status')) +
      'unknown'
    const [member] = parseMembersTable(`${header}\n${row}\n`)
    assert.equal(member.name, 'odd-node.dc3')
    assert.equal(member.type, 'unknown')
    assert.equal(member.datacenter, '')
  })

  it('refuses text that is not a members table, and reads no members from empty output', () => {
    assert.throws(() => parseMembersTable(fixture('members-wan-bad-token.stderr.txt')), /not a `consul members` table/)
    assert.deepEqual(parseMembersTable(''), [])
  })
})

describe('Consul HTTP API answers', () => {
  it('reads /v1/agent/members?wan=1 into the same rows as the table', () => {
    const fromJson = parseMembersJson(json('agent-members-wan-dc1.json'))
    const fromTable = parseMembersTable(fixture('members-wan-dc1.txt'))
    assert.deepEqual(
      fromJson.map(({name, status, type, build, protocol, datacenter, partition, segment}) => ({
        name,
        status,
        type,
        build,
        protocol,
        datacenter,
        partition,
        segment,
      })),
      fromTable.map(({name, status, type, build, protocol, datacenter, partition, segment}) => ({
        name,
        status,
        type,
        build,
        protocol,
        datacenter,
        partition,
        segment,
      })),
    )
    const stopped = parseMembersJson(JSON.parse(parseCurlOutput(fixture('agent-members-wan-dc1-dc2-stopped.http.txt')).body))
    assert.deepEqual(
      stopped.map((member) => member.status),
      ['alive', 'failed'],
    )
  })

  it('reads who an agent is, its primary, whether ACLs, HTTPS and gossip encryption are on, and its RPC address', () => {
    assert.deepEqual(parseAgentSelf(json('agent-self-dc2.json')), {
      datacenter: 'dc2',
      primaryDatacenter: 'dc1',
      nodeName: 'consul-server-0',
      version: '1.22.2',
      server: true,
      aclsEnabled: true,
      https: true,
      gossipEncryption: true,
      rpcAddress: '127.0.0.1:24290',
    })
    assert.equal(parseAgentSelf(json('agent-self-dc1.json')).primaryDatacenter, 'dc1')
    assert.throws(() => parseAgentSelf([]), /expected a JSON object/)
  })

  it("reads the secondary's running replication and the primary's disabled one", () => {
    const secondary = parseReplication(json('acl-replication-dc2.json'))
    assert.equal(secondary.enabled, true)
    assert.equal(secondary.running, true)
    assert.equal(secondary.sourceDatacenter, 'dc1')
    assert.equal(secondary.replicationType, 'tokens')
    assert.equal(secondary.lastError, undefined, "Go's zero time means never")
    assert.ok(secondary.lastSuccess)
    assert.equal(replicationHealthy(secondary), true)
    const primary = parseReplication(json('acl-replication-dc1.json'))
    assert.deepEqual([primary.enabled, primary.running, primary.lastSuccess], [false, false, undefined])
    assert.equal(replicationHealthy(primary), false)
    assert.equal(replicationHealthy({...secondary, lastError: '2999-01-01T00:00:00Z', lastErrorMessage: 'x'}), false)
    assert.throws(() => parseReplication({Running: true}), /no Enabled field/)
  })

  it('reads the servers of another datacenter with their checks', () => {
    const health = parseServerHealth(json('health-service-consul-dc2.json'))
    assert.equal(health.servers.length, 1)
    assert.equal(health.servers[0].node, 'consul-server-0')
    assert.deepEqual(
      health.servers[0].checks.map((check) => [check.checkId, check.status]),
      [['serfHealth', 'passing']],
    )
    assert.equal(health.filteredByAcls, false)
  })

  it('reads the datacenters from JSON and from `consul catalog datacenters`', () => {
    assert.deepEqual(parseDatacenters(json('catalog-datacenters.json')), ['dc1', 'dc2'])
    assert.deepEqual(parseDatacenters('dc1\ndc2\n'), ['dc1', 'dc2'])
  })

  it('splits what curl prints into body and status, as captured while dc2 was stopped', () => {
    const health = parseCurlOutput(fixture('health-service-consul-dc2-stopped.http.txt'))
    assert.equal(health.status, 500)
    assert.equal(classifyConsulHttpError(health.status, health.body), 'no-route')
    const datacenters = parseCurlOutput(fixture('catalog-datacenters-dc2-stopped.http.txt'))
    assert.equal(datacenters.status, 200)
    assert.deepEqual(parseDatacenters(JSON.parse(datacenters.body)), ['dc1', 'dc2'])
    assert.throws(() => parseCurlOutput(''), /no HTTP status/)
  })

  it('classifies failures: a wrong token, ACLs off, a dead agent', () => {
    assert.equal(classifyConsulCliError(fixture('members-wan-bad-token.stderr.txt')), 'forbidden')
    assert.equal(
      classifyConsulCliError(
        'Error retrieving members: Get "https://127.0.0.1:8501/v1/agent/members?segment=_all&wan=1": dial tcp 127.0.0.1:8501: connect: connection refused',
      ),
      'unreachable',
    )
    assert.equal(classifyConsulHttpError(403, 'ACL not found'), 'forbidden')
    assert.equal(fixture('acl-replication-disabled.401.txt'), 'ACL support disabled')
    assert.equal(classifyConsulHttpError(401, fixture('acl-replication-disabled.401.txt')), 'error')
  })
})

describe('what the servers use: keyring, token, proxy-defaults, certificate chain', () => {
  it('reads the keyring rings with fingerprints instead of keys', () => {
    const rings = parseKeyring(json('operator-keyring-dc1.json'), (key) => `fp(${key.slice(0, 4)})`)
    assert.deepEqual(rings, [
      {wan: true, datacenter: 'dc1', keys: {'fp(c2Vj)': 2}, primaryKeys: {'fp(c2Vj)': 2}, numNodes: 2},
      {wan: false, datacenter: 'dc1', keys: {'fp(c2Vj)': 1}, primaryKeys: {'fp(c2Vj)': 1}, numNodes: 1},
      {wan: false, datacenter: 'dc2', keys: {'fp(c2Vj)': 1}, primaryKeys: {'fp(c2Vj)': 1}, numNodes: 1},
    ])
    assert.ok(!JSON.stringify(rings).includes('c2VjcmV0'), 'no key value survives the parser')
  })

  it('reads token/self without the secret, and knows an unknown token by its 403', () => {
    assert.deepEqual(parseTokenSelf(json('acl-token-self-replication.json')), {
      accessorId: 'd1c1a6de-ceb1-7087-9c0d-5a12ca4e2d56',
      policies: ['acl-replication-token'],
      local: false,
    })
    const reply = parseCurlOutput(fixture('acl-token-self-unknown.http.txt'))
    assert.equal(reply.status, 403)
    assert.match(reply.body, /ACL not found/)
    assert.equal(classifyConsulHttpError(reply.status, reply.body), 'forbidden')
  })

  it('reads the proxy-defaults mesh gateway mode; a missing entry is a 404', () => {
    assert.deepEqual(parseProxyDefaults(json('proxy-defaults-global-dc2.json')), {meshGatewayMode: 'local'})
    assert.deepEqual(parseProxyDefaults({Kind: 'proxy-defaults', Name: 'global'}), {meshGatewayMode: ''})
    const missing = parseCurlOutput(fixture('proxy-defaults-missing.http.txt'))
    assert.equal(classifyConsulHttpError(missing.status, missing.body), 'not-found')
  })

  it("takes the PEM certificates out of curl's %{certs} output", () => {
    const certs = parsePemCertificates(fixture('curl-certs-dc1.txt'))
    assert.equal(certs.length, 1)
    assert.match(certs[0], /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/)
    assert.deepEqual(parsePemCertificates('no certificate here'), [])
  })
})
