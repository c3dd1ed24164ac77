import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parse} from 'yaml'

import {PRIMARY_DEFAULTS, choicesFromValues, resolveChoices, type Asker} from '../../src/federation/choices.js'
import {releaseNames} from '../../src/federation/names.js'
import {buildPrimaryValues, buildSecondaryValues, primaryValuesHeader, renderValues} from '../../src/federation/values.js'

const names = releaseNames('consul')

describe('primary values', () => {
  const values = buildPrimaryValues({release: 'consul', names, datacenter: 'dc1', acls: true, gossip: true, meshGatewayServiceType: 'LoadBalancer'})

  it('is the documented primary shape with consulk8s-made CA and gossip key', () => {
    assert.deepEqual(values, {
      global: {
        name: 'consul',
        datacenter: 'dc1',
        tls: {
          enabled: true,
          caCert: {secretName: 'consul-ca-cert', secretKey: 'tls.crt'},
          caKey: {secretName: 'consul-ca-key', secretKey: 'tls.key'},
        },
        federation: {enabled: true, createFederationSecret: false},
        acls: {
          manageSystemACLs: true,
          createReplicationToken: true,
          replicationToken: {secretName: 'consul-acl-replication-acl-token', secretKey: 'token'},
        },
        gossipEncryption: {autoGenerate: false, secretName: 'consul-gossip-encryption-key', secretKey: 'key'},
      },
      connectInject: {enabled: true},
      meshGateway: {enabled: true, service: {type: 'LoadBalancer'}},
    })
  })

  it('never sets federation.primaryDatacenter in the primary (the chart would then log in with a secondary-only auth method)', () => {
    assert.equal((values.global as Record<string, Record<string, unknown>>).federation.primaryDatacenter, undefined)
  })

  it('drops ACLs and gossip when off, follows the release prefix', () => {
    const other = buildPrimaryValues({
      release: 'east',
      names: releaseNames('east'),
      datacenter: 'east-1',
      acls: false,
      gossip: false,
      meshGatewayServiceType: 'NodePort',
    })
    const global = other.global as Record<string, unknown>
    assert.equal(global.acls, undefined)
    assert.equal(global.gossipEncryption, undefined)
    assert.equal(global.name, 'east')
    assert.deepEqual((global.tls as {caCert: unknown}).caCert, {secretName: 'east-ca-cert', secretKey: 'tls.crt'})
    assert.deepEqual(other.meshGateway, {enabled: true, service: {type: 'NodePort'}})
  })

  it('renders YAML with a comment header that parses back to the same values', () => {
    const text = renderValues(values, primaryValuesHeader({datacenter: 'dc1', release: 'consul', namespace: 'consul', context: 'dc1'}))
    assert.match(text, /^# Consul primary datacenter "dc1"/)
    assert.match(
      text,
      /helm upgrade --install consul consul --repo https:\/\/helm.releases.hashicorp.com --version 2.0.3 --kube-context dc1 --namespace consul/,
    )
    assert.deepEqual(parse(text), values)
  })
})

describe('secondary values', () => {
  it('takes everything from the federation secret (seed shape)', () => {
    const values = buildSecondaryValues({
      release: 'consul',
      names,
      datacenter: 'dc2',
      primaryDatacenter: 'dc1',
      acls: true,
      gossip: true,
      meshGatewayServiceType: 'LoadBalancer',
      k8sAuthMethodHost: 'https://10.0.0.2:6443',
    })
    assert.deepEqual(values, {
      global: {
        name: 'consul',
        datacenter: 'dc2',
        tls: {
          enabled: true,
          caCert: {secretName: 'consul-federation', secretKey: 'caCert'},
          caKey: {secretName: 'consul-federation', secretKey: 'caKey'},
        },
        federation: {enabled: true, primaryDatacenter: 'dc1', k8sAuthMethodHost: 'https://10.0.0.2:6443'},
        acls: {manageSystemACLs: true, replicationToken: {secretName: 'consul-federation', secretKey: 'replicationToken'}},
        gossipEncryption: {autoGenerate: false, secretName: 'consul-federation', secretKey: 'gossipEncryptionKey'},
      },
      connectInject: {enabled: true},
      meshGateway: {enabled: true, service: {type: 'LoadBalancer'}},
      server: {extraVolumes: [{type: 'secret', name: 'consul-federation', items: [{key: 'serverConfigJSON', path: 'config.json'}], load: true}]},
    })
  })

  it('has no ACL block or auth host without ACLs, no gossip block without gossip', () => {
    const values = buildSecondaryValues({
      release: 'consul',
      names,
      datacenter: 'dc2',
      primaryDatacenter: 'dc1',
      acls: false,
      gossip: false,
      meshGatewayServiceType: 'NodePort',
      k8sAuthMethodHost: 'https://x:1',
    })
    const global = values.global as Record<string, unknown>
    assert.equal(global.acls, undefined)
    assert.equal(global.gossipEncryption, undefined)
    assert.deepEqual(global.federation, {enabled: true, primaryDatacenter: 'dc1'})
  })
})

describe('choices', () => {
  const scripted = (answers: unknown[]): Asker & {asked: string[]} => {
    const asked: string[] = []
    const next = async (message: string, defaultValue: unknown) => {
      asked.push(`${message} [${String(defaultValue)}]`)
      const answer = answers.shift()
      return (answer === undefined ? defaultValue : answer) as never
    }
    return {asked, text: next, confirm: next, select: (message, _choices, defaultValue) => next(message, defaultValue)}
  }

  it('uses flags, then documented defaults when nobody can be asked', async () => {
    assert.deepEqual(await resolveChoices({flags: {}, defaults: PRIMARY_DEFAULTS}), PRIMARY_DEFAULTS)
    assert.deepEqual(await resolveChoices({flags: {acls: false, datacenter: 'east'}, defaults: PRIMARY_DEFAULTS}), {
      ...PRIMARY_DEFAULTS,
      acls: false,
      datacenter: 'east',
    })
  })

  it('asks only what flags leave open, with the previous run as default', async () => {
    const asker = scripted(['west', false, undefined])
    const previous = choicesFromValues(
      renderValues(buildPrimaryValues({release: 'consul', names, datacenter: 'old', acls: true, gossip: true, meshGatewayServiceType: 'NodePort'})),
    )
    const choices = await resolveChoices({flags: {acls: true}, previous, defaults: PRIMARY_DEFAULTS, asker})
    assert.deepEqual(choices, {datacenter: 'west', acls: true, gossip: false, meshGatewayServiceType: 'NodePort'})
    assert.deepEqual(asker.asked, ['Consul datacenter name [old]', 'Enable gossip encryption? [true]', 'Mesh gateway Service type [NodePort]'])
  })

  it('reads choices back from a values file, and nothing from garbage', () => {
    assert.deepEqual(choicesFromValues('global:\n  datacenter: dc7\nmeshGateway:\n  service:\n    type: NodePort\n'), {
      datacenter: 'dc7',
      acls: false,
      gossip: false,
      meshGatewayServiceType: 'NodePort',
    })
    assert.deepEqual(choicesFromValues('::: not yaml ['), {})
    assert.deepEqual(choicesFromValues(undefined), {})
  })
})
