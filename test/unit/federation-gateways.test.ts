import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {compareGateways, gatewaysFromService, nodeAddress, parseGateway, sortGateways, type ServiceLike} from '../../src/federation/gateways.js'
import {UserError} from '../../src/shared/errors.js'

const lb = (ingress: Array<{ip?: string; hostname?: string}>, port = 443): ServiceLike => ({
  metadata: {name: 'consul-mesh-gateway'},
  spec: {type: 'LoadBalancer', ports: [{name: 'gateway', port, nodePort: 31000}]},
  status: {loadBalancer: {ingress}},
})

describe('gateway addresses', () => {
  it('orders LoadBalancer ingress stably: IPv4 numerically, then IPv6, then host names', () => {
    const ingress = [
      {hostname: 'b.example.com'},
      {ip: '10.0.0.10'},
      {ip: '2001:db8::1'},
      {ip: '10.0.0.9'},
      {hostname: 'a.example.com'},
      {ip: '9.1.1.1'},
    ]
    const expected = ['9.1.1.1:443', '10.0.0.9:443', '10.0.0.10:443', '[2001:db8::1]:443', 'a.example.com:443', 'b.example.com:443']
    const first = gatewaysFromService(lb(ingress))
    const reversed = gatewaysFromService(lb([...ingress].reverse()))
    assert.deepEqual(first, {ready: true, gateways: expected, source: 'Service consul-mesh-gateway (LoadBalancer ingress)'})
    assert.deepEqual(reversed, first)
  })

  it('prefers the ingress IP over its hostname and de-duplicates', () => {
    const result = gatewaysFromService(lb([{ip: '1.2.3.4', hostname: 'x.example'}, {ip: '1.2.3.4'}], 8443))
    assert.deepEqual(result.ready && result.gateways, ['1.2.3.4:8443'])
  })

  it('says what is missing when the gateway is not ready', () => {
    assert.deepEqual(gatewaysFromService(undefined, {}, 'Service consul/consul-mesh-gateway'), {
      ready: false,
      reason: 'Service consul/consul-mesh-gateway does not exist yet (is Consul installed with meshGateway.enabled?)',
    })
    const pending = gatewaysFromService(lb([]))
    assert.equal(pending.ready, false)
    assert.match((pending as {reason: string}).reason, /has no external IP or hostname yet/)
  })

  it('uses the nodes of the gateway pods and the nodePort for NodePort services', () => {
    const service: ServiceLike = {metadata: {name: 'gw'}, spec: {type: 'NodePort', ports: [{name: 'gateway', port: 443, nodePort: 30443}]}}
    const nodes = [
      {
        metadata: {name: 'n2'},
        status: {
          addresses: [
            {type: 'InternalIP', address: '192.168.0.2'},
            {type: 'Hostname', address: 'n2'},
          ],
        },
      },
      {
        metadata: {name: 'n1'},
        status: {
          addresses: [
            {type: 'InternalIP', address: '192.168.0.1'},
            {type: 'ExternalIP', address: '203.0.113.1'},
          ],
        },
      },
    ]
    const pods = [
      {spec: {nodeName: 'n2'}},
      {spec: {nodeName: 'n1'}},
      {spec: {nodeName: 'n2'}},
      {spec: {nodeName: 'gone'}, status: {hostIP: '192.168.0.9'}},
    ]
    assert.deepEqual(gatewaysFromService(service, {pods, nodes}), {
      ready: true,
      gateways: ['192.168.0.2:30443', '192.168.0.9:30443', '203.0.113.1:30443'],
      source: "Service gw (NodePort, gateway pods' nodes)",
    })
    assert.equal(gatewaysFromService(service, {pods: [], nodes}).ready, false)
    assert.equal(nodeAddress(nodes[0]), '192.168.0.2')
  })

  it('refuses ClusterIP services, which other clusters cannot reach', () => {
    assert.throws(
      () => gatewaysFromService({spec: {type: 'ClusterIP', ports: [{port: 443}]}}),
      (error: unknown) => error instanceof UserError && /ClusterIP, which other clusters cannot reach/.test(error.message),
    )
  })

  it('validates and normalises --primary-gateway values', () => {
    assert.equal(parseGateway(' GW.Example.com:443 '), 'gw.example.com:443')
    assert.equal(parseGateway('[2001:db8::1]:8443'), '[2001:db8::1]:8443')
    for (const bad of ['1.2.3.4', 'host:0', 'host:70000', 'a b:1', '2001:db8::1:443', '[nothost]:1', ':443']) {
      assert.throws(() => parseGateway(bad), UserError, bad)
    }
    assert.deepEqual(sortGateways(['b.example:1', '10.0.0.1:2', '10.0.0.1:1', 'b.example:1']), ['10.0.0.1:1', '10.0.0.1:2', 'b.example:1'])
    assert.ok(compareGateways('2.0.0.0:1', '10.0.0.0:1') < 0)
  })
})
