/**
 * From observations to verdicts: pure. Given what each side's Consul server and Kubernetes
 * said, produce one check per expectation with ok / warn / fail, what was found, and for
 * every problem the likely cause and the next step. No I/O, no clock (the caller passes now).
 *
 * The expectations are those of the federation procedure and of consul-k8s's acceptance
 * tests: every datacenter's servers alive in every side's WAN pool, the catalog listing every
 * datacenter, each side seeing the other datacenters' servers passing, ACL replication enabled
 * and running in secondaries, and the federation secret present, valid and identical in
 * every context, naming the right primary, with a CA that is not (nearly) expired.
 */
import {inspectCA} from '../federation/crypto.js'
import {fingerprint, validateFederationData} from '../federation/secret.js'
import {errorMessage} from '../shared/errors.js'
import {replicationHealthy} from './parsers.js'
import {failureAdvice, federateCommand, make, reimportCommand, sideLabel, unique, type Side} from './check-support.js'
import {gossipKeyCheck, replicationTokenCheck, serverCaCheck, type MaterialInput} from './material.js'
import {proxyDefaultsCheck, remoteProxyDefaultsChecks} from './mesh.js'
import type {Check, ConsulView, SideObservation, SideSummary, WanMember} from './types.js'

export interface EvaluateOptions {
  /** Datacenters that must be federated even if no side names them (--expect-dc). */
  expectDatacenters?: string[]
  now: Date
  /** A CA expiring within this many days is a warning. */
  caWarnDays?: number
}

export interface Evaluation {
  checks: Check[]
  primaryDatacenter?: string
  datacenters: string[]
  sides: SideSummary[]
}

interface SecretInfo {
  side: Side
  data: Record<string, string>
  primaryDatacenter?: string
  primaryGateways: string[]
}

export interface FederationFacts {
  /** The primary datacenter: what the Consul servers say, else what the federation secrets say. */
  primary?: string
  /**
   * The datacenters that must be federated: named by a flag, run by a reachable side, the
   * primary, or present (not merely left) in any side's WAN pool.
   */
  datacenters: string[]
  /** Datacenters whose servers all left the WAN pool and that nothing else names. */
  leftOnly: string[]
}

export function federationFacts(observations: SideObservation[], expect: string[] = []): FederationFacts {
  const agents = observations.flatMap((obs) => (obs.consul.agent.ok ? [obs.consul.agent.value] : []))
  const agentPrimaries = unique(agents.map((agent) => agent.primaryDatacenter))
  const secretPrimaries = unique(
    observations.map((obs) => {
      if (!obs.secret.ok || !obs.secret.value) return ''
      return serverConfig(obs.secret.value.data).primaryDatacenter ?? ''
    }),
  )
  const primary =
    agentPrimaries.length === 1 ? agentPrimaries[0] : agentPrimaries.length === 0 && secretPrimaries.length === 1 ? secretPrimaries[0] : undefined
  const seen = observations.flatMap((obs) => (obs.consul.agent.ok && obs.consul.members?.ok ? obs.consul.members.value : []))
  const datacenters = unique([
    ...expect,
    ...agents.map((agent) => agent.datacenter),
    ...(primary ? [primary] : []),
    ...seen.filter((member) => member.status !== 'left').map((member) => member.datacenter),
  ])
  const leftOnly = unique(seen.map((member) => member.datacenter)).filter((dc) => !datacenters.includes(dc))
  const facts: FederationFacts = {datacenters, leftOnly}
  if (primary) facts.primary = primary
  return facts
}

function serverConfig(data: Record<string, string>): {primaryDatacenter?: string; primaryGateways: string[]} {
  let config: {primary_datacenter?: unknown; primary_gateways?: unknown} = {}
  try {
    config = JSON.parse(data.serverConfigJSON ?? '') ?? {}
  } catch {
    // reported by the secret check
  }
  return {
    primaryDatacenter: typeof config.primary_datacenter === 'string' && config.primary_datacenter ? config.primary_datacenter : undefined,
    primaryGateways: Array.isArray(config.primary_gateways) ? config.primary_gateways.map(String) : [],
  }
}

export function evaluate(observations: SideObservation[], options: EvaluateOptions): Evaluation {
  const sides: Side[] = observations.map((obs) => {
    const agent = obs.consul.agent.ok ? obs.consul.agent.value : undefined
    return {obs, agent, label: sideLabel(obs, agent)}
  })
  const checks: Check[] = []
  const reachable = sides.filter((side) => side.agent)

  const secrets = sides.map((side) => secretInfo(side)).filter((info): info is SecretInfo => info !== undefined)
  const {primary, datacenters, leftOnly} = federationFacts(observations, options.expectDatacenters)
  const primarySide = primary === undefined ? undefined : sides.find((side) => side.agent?.datacenter === primary)

  for (const side of sides) {
    const view = side.obs.consul
    const context = side.obs.context
    if (!view.agent.ok) {
      const advice = failureAdvice(view.agent.error, side, 'consul')
      checks.push(make(`consul:${context}`, `${side.label}: Consul server reachable`, 'fail', view.agent.error.message, {...advice, context}))
      continue
    }
    const agent = view.agent.value
    checks.push(
      make(
        `consul:${context}`,
        `${side.label}: Consul server reachable`,
        'ok',
        `datacenter ${agent.datacenter}, node ${agent.nodeName}, Consul ${agent.version || 'unknown version'}, via ${view.source}`,
        {context},
      ),
    )
    checks.push(...wanChecks(side, datacenters, primary, sides, secrets))
    checks.push(...catalogChecks(side, datacenters))
    checks.push(...healthChecks(side, datacenters))
    for (const [dc, probe] of [[agent.datacenter, view.replication] as const, ...Object.entries(view.remoteReplication ?? {})]) {
      const replication = replicationCheck(side, dc, probe, primary, primarySide)
      if (replication) checks.push(replication)
    }
  }

  for (const dc of leftOnly) {
    checks.push(
      make(`wan-left:${dc}`, `datacenter ${dc} left the WAN pool`, 'warn', `every server of ${dc} has status left`, {
        cause: `${dc} was removed from the federation (consul leave, or its servers were scaled down or uninstalled)`,
        next: `if ${dc} should be federated, reinstall or restart its servers; else nothing to do (Consul reaps left members after 72h)`,
      }),
    )
  }

  checks.push(...federationChecks(sides, reachable, primary, primarySide, secrets, options))
  checks.push(...liveChecks(sides, primary, primarySide, secrets))

  const summaries: SideSummary[] = sides.map((side) => {
    const summary: SideSummary = {context: side.obs.context, namespace: side.obs.namespace, via: side.obs.consul.via, source: side.obs.consul.source}
    if (side.agent) summary.datacenter = side.agent.datacenter
    return summary
  })
  const evaluation: Evaluation = {checks, datacenters, sides: summaries}
  if (primary) evaluation.primaryDatacenter = primary
  return evaluation
}

/**
 * What the servers actually use, per reachable side: the secret's CA, gossip key and
 * replication token (material.ts), and the mesh gateway proxy-defaults (mesh.ts).
 */
function liveChecks(sides: Side[], primary: string | undefined, primarySide: Side | undefined, secrets: SecretInfo[]): Check[] {
  const checks: Check[] = []
  const primaryContext = (primary ? sideOf(sides, primary) : undefined)?.obs.context
  const primaryEntry = primarySide?.obs.consul.proxyDefaults
  const primaryHasIt = Boolean(primaryEntry?.ok && primaryEntry.value)
  for (const side of sides) {
    if (!side.agent) continue
    const isPrimary = primary !== undefined && side.agent.datacenter === primary
    const info = secrets.find((candidate) => candidate.side === side)
    if (info && secretProblem(info) === undefined) {
      const input: MaterialInput = {
        side,
        data: info.data,
        secretName: `secret ${side.obs.names.federationSecret}`,
        primary,
        isPrimary,
        fixSecret: isPrimary ? federateCommand(side, primaryContext, true, '--force') : reimportCommand(side, primaryContext, true),
        fixToken: federateCommand(side, primaryContext, true, '--rotate replication-token'),
        fixValues: federateCommand(side, primaryContext, false),
      }
      for (const check of [serverCaCheck(input), gossipKeyCheck(input), replicationTokenCheck(input, side.obs.consul.replication)])
        if (check) checks.push(check)
    }
    const proxy = proxyDefaultsCheck(side, federateCommand(side, primaryContext, isPrimary), {primary, primaryHasIt})
    if (proxy) checks.push(proxy)
    const remoteFix = (dc: string) => federateCommand({...side, obs: {...side.obs, context: `<${dc}'s context>`}}, primaryContext, dc === primary)
    checks.push(...remoteProxyDefaultsChecks(side, remoteFix, {primary, primaryHasIt}))
  }
  return checks
}

function wanChecks(side: Side, datacenters: string[], primary: string | undefined, sides: Side[], secrets: SecretInfo[]): Check[] {
  const {context} = side.obs
  const agent = side.agent!
  const members = side.obs.consul.members
  if (!members) return []
  if (!members.ok) {
    return [
      make(`wan:${context}`, `${side.label}: WAN pool readable`, 'fail', members.error.message, {
        ...failureAdvice(members.error, side, 'consul'),
        context,
      }),
    ]
  }
  const checks: Check[] = []
  for (const dc of datacenters) {
    const id = `wan:${context}:${dc}`
    const title = `${side.label}: ${dc} servers alive in the WAN pool`
    const servers = members.value.filter((member) => member.datacenter === dc && member.type !== 'client')
    if (servers.length === 0) {
      checks.push(
        make(id, title, 'fail', `no server of ${dc} in the WAN pool of ${agent.datacenter} (${describePool(members.value)})`, {
          ...missingFromPool(side, dc, primary, sides, secrets),
          context,
        }),
      )
      continue
    }
    const down = servers.filter((member) => member.status !== 'alive')
    const list = servers.map((member) => `${member.name} ${member.status}`).join(', ')
    if (down.length === 0) {
      checks.push(make(id, title, 'ok', `${servers.length}/${servers.length} alive: ${servers.map((member) => member.name).join(', ')}`, {context}))
      continue
    }
    const left = down.every((member) => member.status === 'left' || member.status === 'leaving')
    const otherSide = sideOf(sides, dc)
    checks.push(
      make(id, title, 'fail', `${servers.length - down.length}/${servers.length} alive: ${list}`, {
        context,
        cause:
          dc === agent.datacenter
            ? `servers of ${dc} itself are not alive: a server pod is down or restarting`
            : left
              ? `the servers of ${dc} left the federation (consul leave, scaled down, or uninstalled)`
              : `the ${dc} server(s) stopped answering WAN gossip: they are down, or the path between ${agent.datacenter} and ${dc} (serf WAN port 8302 through the mesh gateways) is broken`,
        next:
          dc === agent.datacenter
            ? `kubectl get pods -n ${side.obs.namespace} --context ${context}`
            : `check ${dc}'s server pods${otherSide ? ` (kubectl get pods -n ${otherSide.obs.namespace} --context ${otherSide.obs.context})` : ''}; if they run, check the mesh gateways of both datacenters`,
      }),
    )
  }
  return checks
}

/** The side that runs a datacenter; for an unreachable side, the one whose context has its name. */
function sideOf(sides: Side[], dc: string): Side | undefined {
  return sides.find((candidate) => candidate.agent?.datacenter === dc) ?? sides.find((candidate) => !candidate.agent && candidate.obs.context === dc)
}

function describePool(members: WanMember[]): string {
  if (members.length === 0) return 'the pool is empty'
  const counts = new Map<string, number>()
  for (const member of members) counts.set(member.datacenter, (counts.get(member.datacenter) ?? 0) + 1)
  return `pool holds ${[...counts].map(([dc, count]) => `${dc} ×${count}`).join(', ')}`
}

/** Why a datacenter is absent from a side's WAN pool, told from that side's role. */
function missingFromPool(side: Side, dc: string, primary: string | undefined, sides: Side[], secrets: SecretInfo[]): {cause: string; next: string} {
  const here = side.agent!.datacenter
  const otherSide = sideOf(sides, dc)
  const otherHint = otherSide ? ` (consulk8s verify --context ${otherSide.obs.context})` : ''
  const gateways = secrets.find((info) => info.side === side)?.primaryGateways ?? []
  if (dc === here) {
    return {
      cause: `the server is not in its own WAN pool: it runs without WAN gossip (serf_wan disabled)`,
      next: 'check the server configuration (ports.serf_wan)',
    }
  }
  if (dc === primary) {
    return {
      cause: `${here} never reached the primary ${dc}: the mesh gateway addresses in serverConfigJSON (primary_gateways: ${gateways.length > 0 ? gateways.join(', ') : 'unknown'}) are unreachable or stale, or ${dc}'s servers are down`,
      next: `compare primary_gateways with the primary's mesh gateway Service address (kubectl get svc ${side.obs.names.meshGatewayService} --context <primary>); fix and re-import the federation secret, then restart ${here}'s servers`,
    }
  }
  return {
    cause: `the servers of ${dc} never joined, or were reaped: ${dc} is not installed or not running, or its servers cannot reach the primary through the mesh gateways in their serverConfigJSON`,
    next: `look at ${dc}'s side${otherHint}, and at the logs of its servers (kubectl logs ${side.obs.names.serverStatefulSet}-0 -n <namespace> --context <${dc}'s context>)`,
  }
}

function catalogChecks(side: Side, datacenters: string[]): Check[] {
  const {context} = side.obs
  const listed = side.obs.consul.datacenters
  if (!listed) return []
  const id = `datacenters:${context}`
  const title = `${side.label}: /v1/catalog/datacenters lists every datacenter`
  if (!listed.ok) return [make(id, title, 'fail', listed.error.message, {...failureAdvice(listed.error, side, 'consul'), context})]
  const missing = datacenters.filter((dc) => !listed.value.includes(dc))
  if (missing.length === 0) return [make(id, title, 'ok', listed.value.join(', '), {context})]
  return [
    make(id, title, 'fail', `lists ${listed.value.join(', ') || 'nothing'}; missing ${missing.join(', ')}`, {
      context,
      cause: `${side.agent!.datacenter} only lists datacenters with servers in its WAN pool; ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} none`,
      next: 'fix WAN membership first (see the WAN pool checks)',
    }),
  ]
}

function healthChecks(side: Side, datacenters: string[]): Check[] {
  const {context} = side.obs
  const here = side.agent!.datacenter
  const checks: Check[] = []
  for (const dc of datacenters) {
    if (dc === here) continue
    const probe = side.obs.consul.serverHealth?.[dc]
    if (!probe) continue
    const id = `health:${context}:${dc}`
    const title = `${side.label}: ${dc} servers passing, seen from ${here}`
    if (!probe.ok) {
      checks.push(make(id, title, 'fail', probe.error.message, {...failureAdvice(probe.error, side, 'consul'), context}))
      continue
    }
    const {servers, filteredByAcls} = probe.value
    if (servers.length === 0) {
      checks.push(
        make(id, title, 'fail', `no consul server of ${dc} is visible from ${here}`, {
          context,
          cause: filteredByAcls
            ? `the ACL token lacks node:read / service:read in ${dc}, so Consul filtered the servers out`
            : `${dc} has no registered Consul servers: they are not running or have no leader`,
          next: filteredByAcls
            ? 'use a token with read access to every datacenter (a management token)'
            : `check ${dc}'s servers (consul operator raft list-peers there)`,
        }),
      )
      continue
    }
    const bad = servers.flatMap((server) =>
      server.checks
        .filter((check) => check.status !== 'passing')
        .map(
          (check) =>
            `${server.node}: ${check.name || check.checkId} ${check.status}${check.output ? ` (${check.output.split('\n')[0].slice(0, 120)})` : ''}`,
        ),
    )
    if (bad.length === 0) {
      checks.push(
        make(
          id,
          title,
          'ok',
          servers.map((server) => `${server.node} (${server.checks.length} check${server.checks.length === 1 ? '' : 's'} passing)`).join(', '),
          {context},
        ),
      )
    } else {
      checks.push(
        make(id, title, 'fail', bad.join('; '), {
          context,
          cause: `a server of ${dc} is failing its checks: serfHealth critical means the agent is down or unreachable over gossip`,
          next: `check ${dc}'s server pods and their logs`,
        }),
      )
    }
  }
  return checks
}

/** ACL replication of datacenter `dc`, as `side`'s server reports it (its own, or another's through ?dc=). */
function replicationCheck(
  side: Side,
  dc: string,
  probe: ConsulView['replication'],
  primary: string | undefined,
  primarySide: Side | undefined,
): Check | undefined {
  const agent = side.agent!
  if (!probe || !primary || dc === primary) return undefined
  if (agent.aclsEnabled === false || (probe.ok && probe.value === 'acl-disabled')) return undefined
  const {context} = side.obs
  const remote = dc !== agent.datacenter
  const id = remote ? `replication:${context}:${dc}` : `replication:${context}`
  const title = remote
    ? `${side.label}: ACL replication of ${dc} (asked through ${agent.datacenter}) from ${primary} enabled and running`
    : `${side.label}: ACL replication from ${primary} enabled and running`
  if (!probe.ok) return make(id, title, 'fail', probe.error.message, {...failureAdvice(probe.error, side, 'consul'), context})
  const status = probe.value as Exclude<typeof probe.value, 'acl-disabled'>
  const tokenCause = `the replication token is invalid in ${primary} (deleted, or from an earlier install of the primary) or ${dc} cannot reach ${primary}; with consul-k8s a wrong or unreachable global.federation.k8sAuthMethodHost also breaks the secondary's ACL setup`
  const tokenNext = `compare replicationToken in both federation secrets, check the token exists in ${primary} (consul acl token read -accessor … there)${primarySide ? ` via context ${primarySide.obs.context}` : ''}, and that k8sAuthMethodHost is reachable from ${primary}'s servers`
  if (!status.enabled) {
    return make(id, title, 'fail', 'replication is not enabled', {
      context,
      cause: `${dc}'s servers run without acl.enable_token_replication or without a replication token`,
      next: `set global.acls.replicationToken (secretName: ${side.obs.names.federationSecret}, secretKey: replicationToken) in ${dc}'s values and upgrade`,
    })
  }
  const lastError = status.lastErrorMessage ? `; last error${status.lastError ? ` at ${status.lastError}` : ''}: ${status.lastErrorMessage}` : ''
  if (!status.running) return make(id, title, 'fail', `enabled but not running${lastError}`, {context, cause: tokenCause, next: tokenNext})
  if (status.sourceDatacenter && status.sourceDatacenter !== primary) {
    return make(id, title, 'fail', `replicating from ${status.sourceDatacenter}, not from ${primary}`, {
      context,
      cause: `${dc} was configured with primary_datacenter ${status.sourceDatacenter}`,
      next: 'fix primary_datacenter (serverConfigJSON of the federation secret) and restart the servers',
    })
  }
  const detail = `replicating ${status.replicationType || 'tokens'} from ${status.sourceDatacenter || primary}, index ${status.replicatedIndex}${status.lastSuccess ? `, last success ${status.lastSuccess}` : ''}`
  if (!replicationHealthy(status)) return make(id, title, 'warn', `${detail}${lastError}`, {context, cause: tokenCause, next: tokenNext})
  return make(id, title, 'ok', detail, {context})
}

function secretInfo(side: Side): SecretInfo | undefined {
  const probe = side.obs.secret
  if (!probe.ok || !probe.value) return undefined
  return {side, data: probe.value.data, ...serverConfig(probe.value.data)}
}

/** What is wrong with a federation secret's content (the federation module's rules), if anything. */
function secretProblem(info: SecretInfo): string | undefined {
  try {
    validateFederationData(info.data, `secret ${info.side.obs.names.federationSecret}`)
    return undefined
  } catch (error) {
    return errorMessage(error)
  }
}

function federationChecks(
  sides: Side[],
  reachable: Side[],
  primary: string | undefined,
  primarySide: Side | undefined,
  secrets: SecretInfo[],
  options: EvaluateOptions,
): Check[] {
  const primaryContext = (primary ? sideOf(sides, primary) : undefined)?.obs.context ?? '<primary context>'
  const reimport = (side: Side, force: boolean) => reimportCommand(side, primaryContext, force)
  const checks = agreementChecks(reachable)
  for (const side of sides) checks.push(...secretChecks(side, primary, primarySide, secrets, reimport))
  const valid = secrets.filter((info) => secretProblem(info) === undefined)
  const match = secretMatchCheck(valid, primarySide, reimport)
  if (match) checks.push(match)
  checks.push(...caChecks(valid, options))
  return checks
}

type Reimport = (side: Side, force: boolean) => string

/** The primary datacenter, as every reachable server sees it; and ACLs on in all or none. */
function agreementChecks(reachable: Side[]): Check[] {
  const checks: Check[] = []
  const claims = reachable.map((side) => `${side.label} says ${side.agent!.primaryDatacenter}`)
  const agentPrimaries = unique(reachable.map((side) => side.agent!.primaryDatacenter))
  if (agentPrimaries.length > 1) {
    checks.push(
      make('primary', 'every datacenter names the same primary', 'fail', claims.join('; '), {
        cause: 'the datacenters were installed with different primary_datacenter settings, so they are not one federation',
        next: 'reinstall the secondaries with the primary_datacenter of the real primary (serverConfigJSON of its federation secret)',
      }),
    )
  } else if (agentPrimaries.length === 1 && reachable.length > 1) {
    checks.push(
      make('primary', 'every datacenter names the same primary', 'ok', `${agentPrimaries[0]} (${reachable.map((side) => side.label).join(', ')})`),
    )
  }

  // ACLs on in all or none.
  const aclStates = reachable.filter((side) => side.agent!.aclsEnabled !== undefined)
  if (aclStates.length > 1 && new Set(aclStates.map((side) => side.agent!.aclsEnabled)).size > 1) {
    checks.push(
      make(
        'acls',
        'ACLs enabled in every datacenter or in none',
        'fail',
        aclStates.map((side) => `${side.label}: ACLs ${side.agent!.aclsEnabled ? 'on' : 'off'}`).join('; '),
        {
          cause: 'a datacenter with ACLs cannot be reached without tokens from one that has none',
          next: 'enable ACLs (global.acls.manageSystemACLs) in every datacenter',
        },
      ),
    )
  }
  return checks
}

/** The federation secret of one side: present and valid, and its serverConfigJSON naming the primary. */
function secretChecks(side: Side, primary: string | undefined, primarySide: Side | undefined, secrets: SecretInfo[], reimport: Reimport): Check[] {
  const checks: Check[] = []
  const {context, namespace, names} = side.obs
  const id = `secret:${context}`
  const title = `${side.label}: federation secret ${names.federationSecret} present and valid`
  const probe = side.obs.secret
  if (!probe.ok) {
    checks.push(make(id, title, 'fail', probe.error.message, {...failureAdvice(probe.error, side, 'secret'), context}))
    return checks
  }
  if (!probe.value) {
    const isPrimary = side === primarySide
    checks.push(
      make(id, title, 'fail', `secret ${names.federationSecret} not found in namespace ${namespace} of context ${context}`, {
        context,
        cause: isPrimary
          ? 'the primary was installed without global.federation.createFederationSecret, or in another namespace or release'
          : 'the federation secret was not imported into this cluster (or into another namespace)',
        next: isPrimary
          ? 'set global.federation.createFederationSecret: true in the primary and upgrade; check --namespace/--release'
          : `copy it from the primary: ${reimport(side, false)}`,
      }),
    )
    return checks
  }
  const info = secrets.find((candidate) => candidate.side === side)!
  const problem = secretProblem(info)
  if (problem) {
    checks.push(
      make(id, title, 'fail', problem, {
        context,
        cause: 'the secret was edited by hand or copied incompletely',
        next:
          side === primarySide
            ? 'recreate it in the primary (consulk8s federate primary)'
            : `copy it again from the primary: ${reimport(side, true)}`,
      }),
    )
    return checks
  }
  const keys = Object.keys(info.data).sort().join(', ')
  checks.push(
    make(
      id,
      title,
      'ok',
      `keys ${keys}; primary_datacenter ${info.primaryDatacenter}; primary_gateways ${info.primaryGateways.join(', ') || '(none)'}`,
      {context},
    ),
  )
  if (primary) checks.push(serverConfigCheck(side, info, primary, primarySide, reimport))
  return checks
}

/** serverConfigJSON names the primary Consul itself reports (and, in a secondary, its gateways). */
function serverConfigCheck(side: Side, info: SecretInfo, primary: string, primarySide: Side | undefined, reimport: Reimport): Check {
  const {context} = side.obs
  const id = `server-config:${context}`
  const title = `${side.label}: serverConfigJSON names the primary ${primary}`
  if (info.primaryDatacenter !== primary) {
    return make(id, title, 'fail', `serverConfigJSON names primary_datacenter ${info.primaryDatacenter}, but the primary is ${primary}`, {
      context,
      cause: 'the secret comes from another federation or an earlier install of the primary',
      next: `copy the secret again from the primary (${reimport(side, true)}), then restart the servers of ${side.label}`,
    })
  }
  if (side !== primarySide && info.primaryGateways.length === 0) {
    return make(id, title, 'warn', `primary_datacenter ${primary}, but primary_gateways is empty`, {
      context,
      cause: "the primary's mesh gateway had no address when the secret was made (LoadBalancer still pending)",
      next: `wait for the mesh gateway address in the primary, then copy the secret again: ${reimport(side, true)}`,
    })
  }
  return make(id, title, 'ok', `primary_datacenter ${primary}`, {context})
}

/** The same secret everywhere (with two valid copies or more): CA, gossip key, replication token, primary_gateways. */
function secretMatchCheck(valid: SecretInfo[], primarySide: Side | undefined, reimport: Reimport): Check | undefined {
  if (valid.length <= 1) return undefined
  const reimportSecondaries = () =>
    valid
      .filter((info) => info.side !== primarySide)
      .map((info) => reimport(info.side, true))
      .join('; ')
  const differing: string[] = []
  for (const key of ['caCert', 'caKey', 'gossipEncryptionKey', 'replicationToken']) {
    const prints = valid.map((info) => fingerprint(info.data[key]))
    if (new Set(prints).size > 1) differing.push(`${key} (${valid.map((info, index) => `${info.side.label} ${prints[index]}`).join(' vs ')})`)
  }
  const title = `federation secrets identical in ${valid.map((info) => info.side.label).join(', ')}`
  if (differing.length > 0) {
    return make('secret-match', title, 'fail', `differ: ${differing.join('; ')}`, {
      cause:
        'a copy is stale (the primary regenerated its secret) or comes from another federation; servers with another CA or gossip key cannot join',
      next: `copy the primary's secret into every secondary (${reimportSecondaries()}), then restart the secondaries' servers`,
    })
  }
  if (unique(valid.map((info) => info.primaryGateways.join(','))).length > 1) {
    return make(
      'secret-match',
      title,
      'warn',
      `CA, gossip key and replication token match, but primary_gateways differ: ${valid.map((info) => `${info.side.label} [${info.primaryGateways.join(', ')}]`).join(' vs ')}`,
      {
        cause: "a copy holds stale mesh gateway addresses (the primary's gateway address changed after the export, consul-k8s#366)",
        next: `copy the primary's secret again so every copy has the current primary_gateways: ${reimportSecondaries()}`,
      },
    )
  }
  return make('secret-match', title, 'ok', `CA ${fingerprint(valid[0].data.caCert)}, same gossip key and replication token`)
}

/** The CA's validity, once per distinct CA. */
function caChecks(valid: SecretInfo[], options: EvaluateOptions): Check[] {
  const checks: Check[] = []
  const warnDays = options.caWarnDays ?? 30
  const seenCAs = new Set<string>()
  for (const info of valid) {
    const print = fingerprint(info.data.caCert)
    if (seenCAs.has(print)) continue
    seenCAs.add(print)
    const ca = inspectCA({certPem: info.data.caCert, keyPem: info.data.caKey}, options.now)
    const holders = valid.filter((other) => fingerprint(other.data.caCert) === print).map((other) => other.side.label)
    const id = `ca:${print}`
    const title = `CA of the federation secret (${holders.join(', ')}) not expired`
    const when = ca.notAfter.toISOString().slice(0, 10)
    if (ca.notAfter.getTime() <= options.now.getTime()) {
      checks.push(
        make(id, title, 'fail', `${ca.subject} expired on ${when}`, {
          cause: 'the server CA has expired: servers cannot verify each other and federation breaks',
          next: 'rotate the CA: create a new one, roll new server certificates in every datacenter, update the federation secret',
        }),
      )
    } else if (ca.notBefore.getTime() > options.now.getTime()) {
      checks.push(
        make(id, title, 'fail', `${ca.subject} is not valid before ${ca.notBefore.toISOString()}`, {
          cause: 'the clock of the machine that made the CA was ahead',
          next: 'make a new CA with a correct clock',
        }),
      )
    } else if (ca.daysLeft < warnDays) {
      checks.push(
        make(id, title, 'warn', `${ca.subject} expires on ${when} (${ca.daysLeft} days left)`, {
          cause: 'the server CA is close to expiry',
          next: 'plan a CA rotation before it expires',
        }),
      )
    } else {
      checks.push(make(id, title, 'ok', `expires ${when} (${ca.daysLeft} days left)`))
    }
  }
  return checks
}
