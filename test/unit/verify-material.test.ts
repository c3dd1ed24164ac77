/**
 * The checks of what the servers actually use (material.ts: CA, gossip key, replication token)
 * and of the mesh gateway proxy-defaults (mesh.ts), on observations built by hand, with real
 * certificates made by consulk8s's own crypto.
 */
import {strict as assert} from 'node:assert'
import {X509Certificate} from 'node:crypto'
import {before, describe, it} from 'node:test'

import {createCA, createGossipKey, signServerCert, type CertificateAuthority} from '../../src/federation/crypto.js'
import {releaseNames} from '../../src/federation/names.js'
import {fingerprint} from '../../src/federation/secret.js'
import {evaluate} from '../../src/verify/checks.js'
import type {Side} from '../../src/verify/check-support.js'
import {chainVerifies, gossipKeyCheck, replicationTokenCheck, serverCaCheck, type MaterialInput} from '../../src/verify/material.js'
import {proxyDefaultsCheck} from '../../src/verify/mesh.js'
import {probeFail, probeOk, type ConsulView, type KeyringView, type SideObservation} from '../../src/verify/types.js'

const NOW = new Date('2026-03-01T12:00:00Z')
const TOKEN = '6c3e4a3c-6d1b-4b8e-9d5e-2f1a0c7b9e11'

let ca: CertificateAuthority
let otherCa: CertificateAuthority
let serverCert: string
let otherServerCert: string
let gossip: string

function data(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    caCert: ca.certPem,
    caKey: ca.keyPem,
    serverConfigJSON: JSON.stringify({primary_datacenter: 'dc1', primary_gateways: ['198.51.100.10:443']}),
    replicationToken: TOKEN,
    gossipEncryptionKey: gossip,
    ...overrides,
  }
}

function ring(wan: boolean, dc: string, keys: string[], primary = keys.slice(0, 1)): KeyringView {
  return {
    wan,
    datacenter: dc,
    keys: Object.fromEntries(keys.map((key) => [fingerprint(key), 1])),
    primaryKeys: Object.fromEntries(primary.map((key) => [fingerprint(key), 1])),
    numNodes: 1,
  }
}

function observation(dc: string, consul: Partial<ConsulView> = {}, extra: Partial<SideObservation> = {}): SideObservation {
  return {
    context: dc,
    namespace: 'consul',
    names: releaseNames('consul'),
    secret: probeOk({name: 'consul-federation', data: data()}),
    consul: {
      via: 'http',
      source: `https://consul.${dc}.example:8501`,
      agent: probeOk({datacenter: dc, primaryDatacenter: 'dc1', nodeName: 'consul-server-0', version: '1.22.2', server: true, aclsEnabled: true}),
      ...consul,
    },
    ...extra,
  }
}

function sideOf(obs: SideObservation): Side {
  return {obs, label: obs.context, agent: obs.consul.agent.ok ? obs.consul.agent.value : undefined}
}

function input(obs: SideObservation, overrides: Partial<MaterialInput> = {}): MaterialInput {
  const isPrimary = obs.context === 'dc1'
  return {
    side: sideOf(obs),
    data: data(),
    secretName: 'secret consul-federation',
    primary: 'dc1',
    isPrimary,
    fixSecret: isPrimary
      ? 'consulk8s federate primary --context dc1 -n consul --force'
      : 'consulk8s federate export --context dc1 -n consul | consulk8s federate import --context dc2 -n consul -f - --force',
    fixToken: 'consulk8s federate primary --context dc1 -n consul --rotate replication-token',
    fixValues: 'consulk8s federate secondary --context dc2 --primary-context dc1 -n consul',
    ...overrides,
  }
}

const https = (cert: string, address = '127.0.0.1:8501') => probeOk({endpoint: 'https' as const, address, chain: [cert]})

describe('verify: the CA the servers use', () => {
  before(async () => {
    ca = await createCA({now: new Date('2026-01-01T00:00:00Z')})
    otherCa = await createCA({now: new Date('2026-01-01T00:00:00Z')})
    serverCert = (await signServerCert(ca, {datacenter: 'dc1', now: new Date('2026-01-01T00:00:00Z')})).certPem
    otherServerCert = (await signServerCert(otherCa, {datacenter: 'dc1', now: new Date('2026-01-01T00:00:00Z')})).certPem
    gossip = createGossipKey()
  })

  it('verifies a chain against its CA, and not against another', () => {
    const leaf = new X509Certificate(serverCert)
    assert.equal(chainVerifies([leaf], new X509Certificate(ca.certPem)), true)
    assert.equal(chainVerifies([leaf], new X509Certificate(otherCa.certPem)), false)
    assert.equal(chainVerifies([leaf, new X509Certificate(ca.certPem)], new X509Certificate(ca.certPem)), true)
  })

  it('passes when HTTPS and RPC present certificates of the secret CA', () => {
    const check = serverCaCheck(
      input(observation('dc1', {tls: [https(serverCert), probeOk({endpoint: 'rpc', address: '127.0.0.1:8300', chain: [serverCert]})]})),
    )!
    assert.equal(check.status, 'ok')
    assert.match(check.detail, /^HTTPS 127\.0\.0\.1:8501, server RPC 127\.0\.0\.1:8300 chain to SHA-256 [0-9A-F:]{23}…$/)
  })

  it('fails on another CA, naming both fingerprints and the command that fixes the secret', () => {
    const check = serverCaCheck(input(observation('dc1', {tls: [https(otherServerCert)]})))!
    assert.equal(check.status, 'fail')
    const leafPrint = new X509Certificate(otherServerCert).fingerprint256.slice(0, 23)
    const caPrint = new X509Certificate(ca.certPem).fingerprint256.slice(0, 23)
    assert.ok(check.detail.includes(leafPrint) && check.detail.includes(caPrint), check.detail)
    assert.match(check.detail, /issued by CN=/)
    assert.match(check.cause ?? '', /another CA than the one the servers use/)
    assert.equal(check.next, 'consulk8s federate primary --context dc1 -n consul --force')
    assert.ok(!check.detail.includes(ca.keyPem.split('\n')[1]), 'no key material')
  })

  it('notes an RPC port that does not answer from here, and warns when no chain could be read', () => {
    const partly = serverCaCheck(input(observation('dc1', {tls: [https(serverCert), probeFail('unreachable', '10.0.0.5:8300: ECONNREFUSED')]})))!
    assert.equal(partly.status, 'ok')
    assert.match(partly.detail, /not checked: 10\.0\.0\.5:8300: ECONNREFUSED/)
    const none = serverCaCheck(input(observation('dc1', {tls: [probeFail('exec', 'curl printed no certificate')]})))!
    assert.equal(none.status, 'warn')
    assert.match(none.next ?? '', /--consul-http-addr/)
  })
})

describe('verify: the gossip key in use', () => {
  it('passes when the key is installed and primary in the LAN and WAN rings', () => {
    const check = gossipKeyCheck(
      input(observation('dc2', {keyring: probeOk([ring(false, 'dc2', [gossip]), ring(true, 'dc1', [gossip]), ring(false, 'dc1', [gossip])])})),
    )!
    assert.equal(check.status, 'ok')
    assert.equal(check.detail, `key ${fingerprint(gossip)} installed and primary in the LAN keyring of dc2 and the WAN keyring`)
  })

  it('fails when the key is missing, naming the re-import; warns when installed but not primary', () => {
    const other = createGossipKey()
    const missing = gossipKeyCheck(input(observation('dc2', {keyring: probeOk([ring(false, 'dc2', [other]), ring(true, 'dc2', [other])])})))!
    assert.equal(missing.status, 'fail')
    assert.match(missing.detail, /is not installed in the LAN keyring of dc2 and the WAN keyring \(/)
    assert.ok(!missing.detail.includes(gossip) && !missing.detail.includes(other), 'no key values')
    assert.match(missing.next ?? '', /federate import --context dc2 -n consul -f - --force/)
    const rotating = gossipKeyCheck(
      input(observation('dc2', {keyring: probeOk([ring(false, 'dc2', [other, gossip], [other]), ring(true, 'dc2', [other, gossip], [other])])})),
    )!
    assert.equal(rotating.status, 'warn')
    assert.match(rotating.cause ?? '', /rotation is in progress/)
  })

  it('fails when encryption is off but the secret holds a key, or on but the secret has none', () => {
    assert.equal(gossipKeyCheck(input(observation('dc1', {keyring: probeOk('disabled')})))!.status, 'fail')
    const noKey = gossipKeyCheck(
      input(observation('dc1', {keyring: probeOk([ring(false, 'dc1', [gossip])])}), {data: data({gossipEncryptionKey: ''})}),
    )!
    assert.equal(noKey.status, 'fail')
    assert.match(noKey.detail, /has no gossipEncryptionKey/)
    assert.equal(gossipKeyCheck(input(observation('dc1', {keyring: probeOk('disabled')}), {data: data({gossipEncryptionKey: ''})}))!.status, 'ok')
  })

  it('warns when the keyring cannot be read', () => {
    const check = gossipKeyCheck(
      input(observation('dc1', {keyring: probeFail('forbidden', 'Consul denied reading /v1/operator/keyring: HTTP 403 (Permission denied)')})),
    )!
    assert.equal(check.status, 'warn')
    assert.match(check.cause ?? '', /operator:read/)
  })
})

describe('verify: the replication token', () => {
  const token = (policies = ['acl-replication-token'], local = false) =>
    probeOk({accessorId: 'a1b2c3d4-0000-4000-8000-000000000001', policies, local})

  it('passes a global token with the replication policy; in a secondary, while replication runs', () => {
    const primary = replicationTokenCheck(input(observation('dc1', {replicationToken: token()})))!
    assert.equal(primary.status, 'ok')
    assert.equal(primary.detail, 'accessor a1b2c3d4-0000-4000-8000-000000000001 in dc1, policy acl-replication-token')
    const status = probeOk({
      enabled: true,
      running: true,
      sourceDatacenter: 'dc1',
      replicationType: 'tokens',
      replicatedIndex: 9,
      lastSuccess: '2026-03-01T11:59:00Z',
    })
    const secondary = replicationTokenCheck(input(observation('dc2', {replicationToken: token()})), status)!
    assert.equal(secondary.status, 'ok')
    assert.match(secondary.detail, /dc2 replicates with it \(running, no authentication errors\)/)
  })

  it('fails an unknown token, with rotation in the primary and re-import in a secondary', () => {
    const primary = replicationTokenCheck(input(observation('dc1', {replicationToken: probeOk('unknown')})))!
    assert.equal(primary.status, 'fail')
    assert.equal(primary.detail, `dc1 does not know the token ${fingerprint(TOKEN)} (/v1/acl/token/self: ACL not found)`)
    assert.equal(primary.next, 'consulk8s federate primary --context dc1 -n consul --rotate replication-token')
    const secondary = replicationTokenCheck(input(observation('dc2', {replicationToken: probeOk('unknown')})))!
    assert.match(secondary.next ?? '', /^consulk8s federate export --context dc1/)
    assert.ok(!(primary.detail + secondary.detail).includes(TOKEN))
  })

  it('fails a token without the replication policy, a local token, and a secondary replicating with another token', () => {
    assert.match(
      replicationTokenCheck(input(observation('dc1', {replicationToken: token(['global-management'])})))!.detail,
      /policies global-management, not acl-replication-token/,
    )
    assert.match(replicationTokenCheck(input(observation('dc1', {replicationToken: token(undefined, true)})))!.detail, /local token/)
    const status = probeOk({
      enabled: true,
      running: true,
      sourceDatacenter: 'dc1',
      replicationType: 'tokens',
      replicatedIndex: 9,
      lastSuccess: '2026-03-01T11:00:00Z',
      lastError: '2026-03-01T11:59:00Z',
      lastErrorMessage: 'failed to retrieve remote ACL tokens: ACL not found',
    })
    const check = replicationTokenCheck(input(observation('dc2', {replicationToken: token()})), status)!
    assert.equal(check.status, 'fail')
    assert.match(check.cause ?? '', /replicate with another token than the secret's/)
    assert.match(check.next ?? '', /^consulk8s federate secondary --context dc2 --primary-context dc1 -n consul writes values/)
  })
})

describe('verify: mesh gateway proxy-defaults', () => {
  const fix = 'consulk8s federate secondary --context dc2 --primary-context dc1 -n consul'

  it('fails a missing entry with the command that creates it, blaming replication when the primary has it', () => {
    const alone = proxyDefaultsCheck(sideOf(observation('dc2', {proxyDefaults: probeOk(null)})), fix, {primary: 'dc1'})!
    assert.equal(alone.status, 'fail')
    assert.match(alone.detail, /dc2 has no proxy-defaults config entry "global"/)
    assert.match(alone.cause ?? '', /never created/)
    assert.equal(alone.next, fix)
    const lagging = proxyDefaultsCheck(sideOf(observation('dc2', {proxyDefaults: probeOk(null)})), fix, {primary: 'dc1', primaryHasIt: true})!
    assert.match(lagging.cause ?? '', /replicate from the primary dc1/)
  })

  it('fails another mode, passes local, and checks the resource where the CRD exists', () => {
    assert.match(
      proxyDefaultsCheck(sideOf(observation('dc2', {proxyDefaults: probeOk({meshGatewayMode: 'remote'})})), fix, {})!.detail,
      /MeshGateway.Mode is "remote" in dc2, not "local"/,
    )
    assert.match(proxyDefaultsCheck(sideOf(observation('dc2', {proxyDefaults: probeOk({meshGatewayMode: ''})})), fix, {})!.detail, /not set/)
    const local = {proxyDefaults: probeOk({meshGatewayMode: 'local'})}
    assert.equal(
      proxyDefaultsCheck(sideOf(observation('dc2', local, {proxyDefaultsResource: probeOk({crd: false})})), fix, {})!.detail,
      'MeshGateway.Mode local (no ProxyDefaults CRD in this cluster)',
    )
    const synced = proxyDefaultsCheck(
      sideOf(observation('dc2', local, {proxyDefaultsResource: probeOk({crd: true, resource: {namespace: 'consul', synced: 'True'}})})),
      fix,
      {},
    )!
    assert.equal(synced.status, 'ok')
    assert.equal(synced.detail, 'MeshGateway.Mode local; ProxyDefaults global in namespace consul Synced True')
    const stuck = proxyDefaultsCheck(
      sideOf(
        observation('dc2', local, {
          proxyDefaultsResource: probeOk({
            crd: true,
            resource: {namespace: 'consul', synced: 'False', reason: 'ConsulAgentError', message: 'writing config entry to consul: 403'},
          }),
        }),
      ),
      fix,
      {},
    )!
    assert.equal(stuck.status, 'fail')
    assert.match(stuck.detail, /is not synced \(Synced False, ConsulAgentError: writing config entry to consul: 403\)/)
    assert.match(stuck.next ?? '', /kubectl describe proxydefaults global -n consul --context dc2/)
  })

  it('runs in evaluate for every side, with federate primary in the primary and federate secondary elsewhere', () => {
    const {checks} = evaluate(
      [observation('dc1', {proxyDefaults: probeOk(null)}), observation('dc2', {proxyDefaults: probeOk(null), tls: [https(otherServerCert)]})],
      {now: NOW},
    )
    const byId = (id: string) => checks.find((check) => check.id === id)!
    assert.equal(byId('proxy-defaults:dc1').next, 'consulk8s federate primary --context dc1 -n consul')
    assert.equal(byId('proxy-defaults:dc2').next, fix)
    assert.equal(byId('server-ca:dc2').status, 'fail')
    assert.match(byId('server-ca:dc2').next ?? '', /federate import --context dc2 -n consul -f - --force/)
  })

  it("checks a datacenter no side runs through another side's server (?dc=), naming its context as a placeholder", () => {
    const {checks} = evaluate([observation('dc1', {proxyDefaults: probeOk({meshGatewayMode: 'local'}), remoteProxyDefaults: {dc2: probeOk(null)}})], {
      now: NOW,
      expectDatacenters: ['dc2'],
    })
    const remote = checks.find((check) => check.id === 'proxy-defaults:dc1:dc2')!
    assert.equal(remote.status, 'fail')
    assert.equal(remote.title, 'dc1: proxy-defaults "global" sets mesh gateway mode local in dc2 (asked through dc1)')
    assert.match(remote.cause ?? '', /replicate from the primary dc1, which has it/)
    assert.equal(remote.next, "consulk8s federate secondary --context <dc2's context> --primary-context dc1 -n consul")
  })
})
