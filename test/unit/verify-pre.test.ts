/**
 * verify --pre's verdicts (pre.ts, pure) on observations built by hand, and what it reads from
 * the secondary's values file.
 */
import {strict as assert} from 'node:assert'
import {before, describe, it} from 'node:test'

import {createCA, createGossipKey, type CertificateAuthority} from '../../src/federation/crypto.js'
import {releaseNames} from '../../src/federation/names.js'
import {evaluatePre, type PreObservation} from '../../src/verify/pre.js'
import {plannedFromValues} from '../../src/verify/pre-gather.js'
import {probeFail, probeOk, type Check} from '../../src/verify/types.js'

let ca: CertificateAuthority
let gossip: string

function observation(
  overrides: Partial<PreObservation> = {},
  agent: {datacenter?: string; primaryDatacenter?: string; aclsEnabled?: boolean; https?: boolean} = {},
): PreObservation {
  return {
    target: {context: 'east', namespace: 'consul', release: 'consul'},
    datacenter: 'dc3',
    secretSource: 'secret consul-federation in namespace consul of context east',
    fromFile: false,
    secret: probeOk({
      caCert: ca.certPem,
      caKey: ca.keyPem,
      serverConfigJSON: JSON.stringify({primary_datacenter: 'dc1', primary_gateways: ['198.51.100.10:443']}),
      replicationToken: '6c3e4a3c-6d1b-4b8e-9d5e-2f1a0c7b9e11',
      gossipEncryptionKey: gossip,
    }),
    primary: {
      context: 'west',
      namespace: 'consul',
      names: releaseNames('consul'),
      secret: probeOk(null),
      consul: {
        via: 'http',
        source: 'https://consul.west.example:8501',
        agent: probeOk({
          datacenter: 'dc1',
          primaryDatacenter: 'dc1',
          nodeName: 'consul-server-0',
          version: '1.22.2',
          server: true,
          aclsEnabled: true,
          https: true,
          gossipEncryption: true,
          ...agent,
        }),
        members: probeOk([
          {name: 'consul-server-0.dc1', address: '10.0.0.1:8302', status: 'alive', type: 'server', build: '1.22.2', protocol: '2', datacenter: 'dc1'},
        ]),
        datacenters: probeOk(['dc1']),
      },
    },
    gateways: [{address: '198.51.100.10:443', reachable: true}],
    authHost: {
      url: 'https://203.0.113.20:6443',
      source: "from the kubeconfig's server of context east",
      result: {ok: true, subject: 'CN=kube-apiserver', names: 'IP Address:203.0.113.20'},
    },
    planned: {},
    ...overrides,
  }
}

const byId = (checks: Check[], id: string) => {
  const found = checks.find((check) => check.id === id)
  assert.ok(found, `no check ${id} in ${checks.map((check) => check.id).join(', ')}`)
  return found
}

describe('verify --pre verdicts', () => {
  before(async () => {
    ca = await createCA()
    gossip = createGossipKey()
  })

  it('passes a ready secondary', () => {
    const {checks, primaryDatacenter} = evaluatePre(observation())
    assert.equal(primaryDatacenter, 'dc1')
    assert.deepEqual(
      checks.filter((check) => check.status !== 'ok').map((check) => check.id),
      [],
    )
  })

  it('fails a --primary-context that runs a secondary', () => {
    const check = byId(evaluatePre(observation({}, {datacenter: 'dc2', primaryDatacenter: 'dc1'})).checks, 'pre-consul:west')
    assert.equal(check.status, 'fail')
    assert.equal(check.detail, 'context west runs dc2, a secondary of dc1')
  })

  it('fails a name listed by the catalog, and an invalid name', () => {
    const listed = byId(evaluatePre(observation({datacenter: 'dc9'}, {})).checks, 'pre-datacenter')
    assert.equal(listed.status, 'ok')
    const obs = observation({datacenter: 'dc9'})
    obs.primary.consul.datacenters = probeOk(['dc1', 'dc9'])
    assert.equal(byId(evaluatePre(obs).checks, 'pre-datacenter').detail, 'dc9 is already in the federation (listed by /v1/catalog/datacenters)')
    assert.equal(byId(evaluatePre(observation({datacenter: 'DC_3'})).checks, 'pre-datacenter').status, 'fail')
  })

  it('fails data naming another primary, and a missing secret with the command that copies it', () => {
    const other = observation()
    other.secret = probeOk({
      ...(other.secret as {ok: true; value: Record<string, string>}).value,
      serverConfigJSON: JSON.stringify({primary_datacenter: 'dc7', primary_gateways: ['198.51.100.10:443']}),
    })
    assert.match(byId(evaluatePre(other).checks, 'pre-server-config:east').detail, /names primary_datacenter dc7, but west runs the primary dc1/)
    const missing = byId(evaluatePre(observation({secret: probeOk(null)})).checks, 'pre-secret:east')
    assert.equal(missing.status, 'fail')
    assert.match(
      missing.next ?? '',
      /^copy it from the primary: consulk8s federate secondary --context east --primary-context west -n consul --datacenter dc3 /,
    )
  })

  it('warns about gateways not reachable from here, fails TLS/ACL/gossip disagreement', () => {
    const gateways = byId(
      evaluatePre(observation({gateways: [{address: '198.51.100.10:443', reachable: false, message: 'ETIMEDOUT'}]})).checks,
      'pre-gateways',
    )
    assert.equal(gateways.status, 'warn')
    assert.equal(gateways.detail, '198.51.100.10:443: ETIMEDOUT')
    const settings = byId(
      evaluatePre(observation({planned: {tls: true, acls: false, gossip: true}, plannedSource: 'east-values.yaml'})).checks,
      'pre-settings',
    )
    assert.equal(settings.status, 'fail')
    assert.match(settings.detail, /ACLs: primary on, dc3 off \(east-values\.yaml\)/)
    assert.match(settings.cause ?? '', /^ACLs differ/)
    const noAcls = byId(evaluatePre(observation({}, {aclsEnabled: false})).checks, 'pre-settings')
    assert.match(noAcls.detail, /ACLs: primary off, dc3 on \(replicationToken in the secret\)/)
  })

  it('fails a k8sAuthMethodHost whose certificate is not for its host, or that does not answer', () => {
    const tls = byId(
      evaluatePre(
        observation({
          authHost: {
            url: 'https://203.0.113.20:6443',
            source: 'from --k8s-auth-method-host',
            result: {
              ok: false,
              kind: 'tls',
              message: "203.0.113.20:6443: ERR_TLS_CERT_ALTNAME_INVALID Hostname/IP does not match certificate's altnames",
            },
          },
        }),
      ).checks,
      'pre-k8s-auth-method-host',
    )
    assert.equal(tls.status, 'fail')
    assert.match(tls.cause ?? '', /not issued for that host/)
    const down = byId(
      evaluatePre(
        observation({authHost: {url: 'https://203.0.113.20:6443', source: 'x', result: {ok: false, kind: 'unreachable', message: 'ECONNREFUSED'}}}),
      ).checks,
      'pre-k8s-auth-method-host',
    )
    assert.match(down.cause ?? '', /does not answer there/)
  })

  it('reports an unreachable primary once, and still checks the secret and the auth host', () => {
    const {checks} = evaluatePre(
      observation({
        primary: {
          ...observation().primary,
          consul: {via: 'http', source: 'https://consul.west.example:8501', agent: probeFail('unreachable', 'ECONNREFUSED')},
        },
      }),
    )
    assert.equal(byId(checks, 'pre-consul:west').status, 'fail')
    assert.equal(byId(checks, 'pre-datacenter').status, 'warn')
    assert.equal(byId(checks, 'pre-secret:east').status, 'ok')
    assert.equal(byId(checks, 'pre-k8s-auth-method-host').status, 'ok')
    assert.ok(!checks.some((check) => check.id === 'pre-server-ca:west'))
  })
})

describe('the secondary values verify --pre reads', () => {
  it('takes datacenter, TLS, ACLs, gossip and k8sAuthMethodHost from the values federate secondary writes', () => {
    const values = [
      'global:',
      '  datacenter: dc3',
      '  tls: {enabled: true}',
      '  acls: {manageSystemACLs: true}',
      '  gossipEncryption: {secretName: consul-federation, secretKey: gossipEncryptionKey}',
      '  federation: {enabled: true, primaryDatacenter: dc1, k8sAuthMethodHost: "https://203.0.113.20:6443"}',
    ].join('\n')
    assert.deepEqual(plannedFromValues(values), {
      datacenter: 'dc3',
      acls: true,
      gossip: true,
      tls: true,
      k8sAuthMethodHost: 'https://203.0.113.20:6443',
    })
    assert.deepEqual(plannedFromValues('global: {datacenter: dc4}'), {datacenter: 'dc4', acls: false, gossip: false, tls: false})
    assert.deepEqual(plannedFromValues(': not yaml ['), {})
  })
})
