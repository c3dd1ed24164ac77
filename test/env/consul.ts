/**
 * Two Consul server datacenters on loopback, dc1 primary and dc2 secondary, WAN-joined, with
 * TLS, gossip encryption and ACLs (token replication in dc2), started from the offline bundle
 * consulk8s writes (`federate primary --output-dir`, src/federation/primary.ts): its CA (server
 * certificates signed with src/federation/crypto.ts), its gossip key, and its replication
 * token secret ID, which dc1 gets as the chart's server-acl-init would create it
 * (ensureReplicationToken, src/consul/acl.ts); dc2 replicates with the federation secret's token.
 */
import {randomUUID} from 'node:crypto'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ensureReplicationToken} from '../../src/consul/acl.js'
import {ConsulClient} from '../../src/consul/client.js'
import {PRIMARY_DEFAULTS} from '../../src/federation/choices.js'
import {signServerCert} from '../../src/federation/crypto.js'
import {runPrimary} from '../../src/federation/primary.js'
import {DirSecretStore} from '../../src/federation/store.js'
import {freePort, freePorts} from './ports.js'
import {aliveGuard, allAlive, startProcess, waitFor} from './procs.js'
import type {ConsulDatacenterInfo, TestEnvState} from './types.js'

export type Datacenter = 'dc1' | 'dc2'
export const DATACENTERS: Datacenter[] = ['dc1', 'dc2']
export const PRIMARY: Datacenter = 'dc1'
/** The chart's resource prefix with global.name = consul: pods consul-server-0, ... */
export const NODE_NAME = 'consul-server-0'

export const consulProcessName = (dc: string) => `consul-${dc}`

/**
 * CONSULK8S_TESTENV_CONSUL_GRPC=1 (off by default; for bench/sync-vs-consul-k8s.ts): each server
 * also opens its gRPC port with TLS (`grpc_tls`, server certificate from the environment's CA,
 * no client certificate asked), through which consul-k8s's own components (sync-catalog) find
 * the servers.
 */
export const consulGrpcEnabled = (env: NodeJS.ProcessEnv = process.env) => env.CONSULK8S_TESTENV_CONSUL_GRPC === '1'

type Federation = TestEnvState['federation']

/** The agent configuration (JSON) of one datacenter's server. */
export function consulServerConfig(options: {
  info: ConsulDatacenterInfo
  peerWanPort: number
  caFile: string
  certFile: string
  keyFile: string
  gossipKey: string
  tokens: {initial_management: string; agent: string} | {replication: string; agent: string}
}): Record<string, unknown> {
  const {info} = options
  const primary = info.datacenter === PRIMARY
  return {
    datacenter: info.datacenter,
    primary_datacenter: PRIMARY,
    node_name: info.nodeName,
    server: true,
    bootstrap_expect: 1,
    data_dir: info.dataDir,
    bind_addr: '127.0.0.1',
    advertise_addr: '127.0.0.1',
    advertise_addr_wan: '127.0.0.1',
    client_addr: '127.0.0.1',
    ports: {
      http: -1,
      https: info.httpsPort,
      dns: info.dnsPort,
      serf_lan: info.serfLanPort,
      serf_wan: info.serfWanPort,
      server: info.serverPort,
      grpc: -1,
      grpc_tls: info.grpcTlsPort ?? -1,
    },
    encrypt: options.gossipKey,
    tls: {
      defaults: {
        ca_file: options.caFile,
        cert_file: options.certFile,
        key_file: options.keyFile,
        verify_incoming: true,
        verify_outgoing: true,
      },
      internal_rpc: {verify_server_hostname: true},
      // The HTTPS API verifies the server to clients but asks them for no certificate (a token
      // is the API's credential), like the Helm chart's servers.
      https: {verify_incoming: false},
      ...(info.grpcTlsPort ? {grpc: {verify_incoming: false}} : {}),
    },
    acl: {
      enabled: true,
      default_policy: 'deny',
      down_policy: 'extend-cache',
      enable_token_persistence: true,
      ...(primary ? {} : {enable_token_replication: true}),
      tokens: options.tokens,
    },
    // Both sides retry, so either datacenter can be stopped and started again.
    retry_join_wan: [`127.0.0.1:${options.peerWanPort}`],
    retry_interval_wan: '1s',
    performance: {raft_multiplier: 1},
    disable_update_check: true,
    log_level: 'INFO',
  }
}

export function consulClientFor(state: Pick<TestEnvState, 'consul' | 'federation'>, dc: Datacenter, token?: string): ConsulClient {
  return new ConsulClient({
    address: state.consul[dc].httpAddr,
    caCert: state.federation.caCertPem,
    token: token ?? state.federation.managementToken,
    timeoutMs: 5000,
  })
}

/** Waits until the datacenter's server has a leader and answers ACL requests. */
export async function waitConsulUp(
  state: Pick<TestEnvState, 'workDir' | 'consul' | 'federation'>,
  dc: Datacenter,
  report: (line: string) => void = () => {},
): Promise<void> {
  const client = consulClientFor(state, dc)
  try {
    await waitFor(
      `consul ${dc} to elect a leader and resolve ACL tokens`,
      async () => {
        const leader = await client.get<string>('/v1/status/leader')
        if (!leader) throw new Error('no leader yet')
        await client.get('/v1/acl/token/self')
        return true
      },
      {alive: aliveGuard(state.workDir, consulProcessName(dc)), report, timeoutMs: 90_000},
    )
  } finally {
    client.close()
  }
}

interface Member {
  Name: string
  Status: number
  Tags?: Record<string, string>
}

/**
 * Waits until the federation works both ways: both datacenters in /v1/catalog/datacenters and
 * alive in the WAN pool, each sees the other's server node passing, and dc2's ACL
 * replication runs and has replicated tokens.
 */
export async function waitFederated(
  state: Pick<TestEnvState, 'workDir' | 'consul' | 'federation'>,
  report: (line: string) => void = () => {},
): Promise<void> {
  const clients = {dc1: consulClientFor(state, 'dc1'), dc2: consulClientFor(state, 'dc2')}
  const alive = allAlive(
    state.workDir,
    DATACENTERS.map((dc) => consulProcessName(dc)),
  )
  try {
    for (const dc of DATACENTERS) {
      const other = dc === 'dc1' ? 'dc2' : 'dc1'
      await waitFor(
        `${dc} to list both datacenters and see both servers alive over WAN`,
        async () => {
          const dcs = await clients[dc].get<string[]>('/v1/catalog/datacenters')
          if (!DATACENTERS.every((d) => dcs.includes(d))) throw new Error(`datacenters: ${dcs.join(', ')}`)
          const members = await clients[dc].get<Member[]>('/v1/agent/members', {query: {wan: 1}})
          const aliveDcs = members.filter((m) => m.Status === 1).map((m) => m.Tags?.dc)
          if (!DATACENTERS.every((d) => aliveDcs.includes(d)))
            throw new Error(
              `WAN members alive: ${members
                .filter((m) => m.Status === 1)
                .map((m) => m.Name)
                .join(', ')}`,
            )
          return true
        },
        {alive, report, timeoutMs: 90_000},
      )
      await waitFor(
        `${dc} to see node ${NODE_NAME} of ${other} passing`,
        async () => {
          const checks = await clients[dc].get<Array<{Status: string}>>(`/v1/health/node/${NODE_NAME}`, {query: {dc: other}})
          if (checks.length === 0 || checks.some((c) => c.Status !== 'passing'))
            throw new Error(`checks: ${JSON.stringify(checks.map((c) => c.Status))}`)
          return true
        },
        {alive, report, timeoutMs: 90_000},
      )
    }
    await waitFor(
      'ACL replication in dc2 to run',
      async () => {
        const status = await clients.dc2.get<{Enabled: boolean; Running: boolean; ReplicatedTokenIndex: number; LastErrorMessage?: string}>(
          '/v1/acl/replication',
        )
        if (!status.Enabled || !status.Running || !(status.ReplicatedTokenIndex > 0)) throw new Error(`replication: ${JSON.stringify(status)}`)
        return true
      },
      {alive, report, timeoutMs: 90_000},
    )
  } finally {
    clients.dc1.close()
    clients.dc2.close()
  }
}

/**
 * Makes the federation material, starts dc1, creates the replication token in it, starts dc2
 * and waits for the federation. Returns the state's `consul` and `federation` parts.
 */
// eslint-disable-next-line max-lines-per-function -- the start-up of two federated datacenters, in the order Consul needs
export async function startConsulFederation(options: {
  workDir: string
  consulBin: string
  report: (line: string) => void
}): Promise<Pick<TestEnvState, 'consul' | 'federation'>> {
  const {workDir, consulBin, report} = options
  const dir = join(workDir, 'consul')
  mkdirSync(dir, {recursive: true, mode: 0o700})

  // The offline bundle, as `consulk8s federate primary --output-dir <bundle> --primary-gateway …` writes it.
  const bundleDir = join(dir, 'bundle')
  const bundle = new DirSecretStore(join(bundleDir, 'secrets'), 'consul')
  await runPrimary(
    {
      ...PRIMARY_DEFAULTS,
      release: 'consul',
      namespace: 'consul',
      primaryGateways: ['127.0.0.1:8443'],
      rotate: [],
      force: false,
      valuesFile: join(bundleDir, 'values.yaml'),
    },
    {store: bundle},
    {dryRun: false, confirm: async () => {}},
  )
  const secret = await bundle.get('consul-federation')
  if (!secret?.data.replicationToken || !secret.data.gossipEncryptionKey)
    throw new Error(`the bundle in ${bundleDir} has no complete federation secret`)
  const ca = {certPem: secret.data.caCert, keyPem: secret.data.caKey}
  const caCertFile = join(dir, 'consul-agent-ca.pem')
  writeFileSync(caCertFile, ca.certPem, {mode: 0o644})
  writeFileSync(join(dir, 'consul-agent-ca-key.pem'), ca.keyPem, {mode: 0o600})
  const federation: Federation = {
    caCertFile,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    gossipKey: secret.data.gossipEncryptionKey,
    managementToken: randomUUID(),
    replicationToken: secret.data.replicationToken,
    bundleDir,
  }

  const consul = {} as Record<Datacenter, ConsulDatacenterInfo>
  for (const dc of DATACENTERS) {
    const ports = await freePorts({https: {}, dns: {udp: true}, serfLan: {udp: true}, serfWan: {udp: true}, server: {}})
    const grpcTlsPort = consulGrpcEnabled() ? await freePort() : undefined
    consul[dc] = {
      datacenter: dc,
      httpAddr: `https://127.0.0.1:${ports.https}`,
      httpsPort: ports.https,
      serfLanPort: ports.serfLan,
      serfWanPort: ports.serfWan,
      serverPort: ports.server,
      dnsPort: ports.dns,
      ...(grpcTlsPort ? {grpcTlsPort} : {}),
      nodeName: NODE_NAME,
      dataDir: join(dir, dc, 'data'),
      configFile: join(dir, dc, 'server.json'),
    }
  }

  const start = async (dc: Datacenter, tokens: Parameters<typeof consulServerConfig>[0]['tokens']) => {
    const info = consul[dc]
    const dcDir = join(dir, dc)
    mkdirSync(info.dataDir, {recursive: true, mode: 0o700})
    const server = await signServerCert(ca, {datacenter: dc})
    const certFile = join(dcDir, `${dc}-server-consul-0.pem`)
    const keyFile = join(dcDir, `${dc}-server-consul-0-key.pem`)
    writeFileSync(certFile, server.certPem, {mode: 0o644})
    writeFileSync(keyFile, server.keyPem, {mode: 0o600})
    const other = dc === 'dc1' ? 'dc2' : 'dc1'
    const config = consulServerConfig({
      info,
      peerWanPort: consul[other].serfWanPort,
      caFile: caCertFile,
      certFile,
      keyFile,
      gossipKey: federation.gossipKey,
      tokens,
    })
    writeFileSync(info.configFile, JSON.stringify(config, null, 2) + '\n', {mode: 0o600})
    await startProcess(workDir, {name: consulProcessName(dc), command: consulBin, args: ['agent', `-config-file=${info.configFile}`]})
    await waitConsulUp({workDir, consul, federation}, dc, report)
    report(`consul ${dc} ready (${info.httpAddr})`)
  }

  await start('dc1', {initial_management: federation.managementToken, agent: federation.managementToken})
  const primary = consulClientFor({consul, federation}, 'dc1')
  try {
    // What server-acl-init does with -acl-replication-token-file and -create-acl-replication-token.
    const ensured = await ensureReplicationToken(primary, federation.replicationToken, {
      description: 'consulk8s test environment: ACL replication for dc2',
    })
    if (!ensured.created || ensured.token.SecretID !== federation.replicationToken)
      throw new Error("dc1 did not create the replication token with the bundle's secret ID")
  } finally {
    primary.close()
  }
  report('replication token created in dc1 with the secret ID of the offline bundle')
  await start('dc2', {replication: federation.replicationToken, agent: federation.replicationToken})
  await waitFederated({workDir, consul, federation}, report)
  report('consul dc1 and dc2 federated (WAN joined, ACL replication running)')
  return {consul, federation}
}

/** Reads a datacenter's configuration back (for tests that want to look at it). */
export function readConsulConfig(info: ConsulDatacenterInfo): Record<string, unknown> {
  return JSON.parse(readFileSync(info.configFile, 'utf8')) as Record<string, unknown>
}
