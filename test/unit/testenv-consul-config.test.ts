import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {consulGrpcEnabled, consulServerConfig} from '../env/consul.js'
import type {ConsulDatacenterInfo} from '../env/types.js'

const info: ConsulDatacenterInfo = {
  datacenter: 'dc1',
  httpAddr: 'https://127.0.0.1:20001',
  httpsPort: 20001,
  serfLanPort: 20002,
  serfWanPort: 20003,
  serverPort: 20004,
  dnsPort: 20005,
  nodeName: 'consul-server-0',
  dataDir: 'data',
  configFile: 'server.json',
}
const config = (overrides: Partial<ConsulDatacenterInfo> = {}) =>
  consulServerConfig({
    info: {...info, ...overrides},
    peerWanPort: 20013,
    caFile: 'ca.pem',
    certFile: 'cert.pem',
    keyFile: 'key.pem',
    gossipKey: 'k',
    tokens: {initial_management: 't', agent: 't'},
  }) as {
    ports: Record<string, number>
    tls: Record<string, unknown>
  }

describe('test environment: Consul server configuration', () => {
  it('opens no gRPC port by default', () => {
    assert.equal(consulGrpcEnabled({}), false)
    const {ports, tls} = config()
    assert.equal(ports.grpc, -1)
    assert.equal(ports.grpc_tls, -1)
    assert.equal(tls.grpc, undefined)
  })

  it('opens the gRPC/TLS port without client certificates when asked (CONSULK8S_TESTENV_CONSUL_GRPC=1)', () => {
    assert.equal(consulGrpcEnabled({CONSULK8S_TESTENV_CONSUL_GRPC: '1'}), true)
    const {ports, tls} = config({grpcTlsPort: 20006})
    assert.equal(ports.grpc, -1)
    assert.equal(ports.grpc_tls, 20006)
    assert.deepEqual(tls.grpc, {verify_incoming: false})
  })
})
