/**
 * `verify --pre`: before a secondary is installed, from the kubeconfig and the primary: is
 * the new datacenter's name unused, does the federation secret it will be installed from
 * hold the primary's live CA, gossip key and replication token, can the primary's mesh
 * gateways and the secondary's k8sAuthMethodHost be reached, do TLS, ACL and gossip settings
 * agree. Pure: observations in (pre-gather.ts reads them), checks out.
 */
import {validateDatacenterName} from '../federation/names.js'
import {validateFederationData} from '../federation/secret.js'
import {errorMessage} from '../shared/errors.js'
import {failureAdvice, make, scopeFlags, sideLabel, type Side} from './check-support.js'
import {gossipKeyCheck, replicationTokenCheck, serverCaCheck} from './material.js'
import type {HostCertificateResult} from './tls.js'
import type {Check, Probe, SideObservation, TokenView} from './types.js'

/** The secondary's settings, from the values it will be installed with (when given). */
export interface PlannedSettings {
  tls?: boolean
  acls?: boolean
  gossip?: boolean
}

export interface PreObservation {
  /** The context the secondary will be installed in. */
  target: {context: string; namespace: string; release: string}
  datacenter: string
  /** Where the federation data comes from: "secret consul-federation in context dc3" or "file x.yaml". */
  secretSource: string
  /** Whether the secret is read from a file (-f) rather than the target context. */
  fromFile: boolean
  /** null: no such secret in the target context. */
  secret: Probe<Record<string, string> | null>
  /** The primary's side (its own federation secret is not what is checked). */
  primary: SideObservation
  /** /v1/acl/token/self in the primary with the candidate secret's replicationToken. */
  candidateToken?: Probe<TokenView | 'unknown' | 'acl-disabled'>
  /** TCP reachability of each primary_gateways address from here. */
  gateways: Array<{address: string; reachable: true} | {address: string; reachable: false; message: string}>
  /** The k8sAuthMethodHost the secondary will use (undefined when none could be chosen) and what its HTTPS endpoint presented. */
  authHost: {url?: string; source: string; result: HostCertificateResult | {ok: false; kind: 'error'; message: string}}
  planned: PlannedSettings
  plannedSource?: string
}

const PRE = 'pre-'

export function evaluatePre(obs: PreObservation): {checks: Check[]; primaryDatacenter?: string} {
  const agent = obs.primary.consul.agent.ok ? obs.primary.consul.agent.value : undefined
  const side: Side = {obs: obs.primary, agent, label: sideLabel(obs.primary, agent)}
  const primaryContext = obs.primary.context
  const {context: targetContext} = obs.target
  const targetSide: Side = {obs: {...obs.primary, context: targetContext, namespace: obs.target.namespace}, label: targetContext}
  const exportCommand = `consulk8s federate export --context ${primaryContext} ${scopeFlags(side)}`
  const copy = obs.fromFile
    ? `export it again from the primary: ${exportCommand} -o <file>`
    : `copy it from the primary: consulk8s federate secondary --context ${targetContext} --primary-context ${primaryContext} ${scopeFlags(targetSide)} --datacenter ${obs.datacenter} (or ${exportCommand} | consulk8s federate import --context ${targetContext} ${scopeFlags(targetSide)} -f - --force)`

  const checks = [primaryReachCheck(obs, side, agent), datacenterCheck(obs, agent?.datacenter)]
  const secret = federationDataChecks(obs, targetSide, agent, copy)
  checks.push(...secret.checks)
  if (agent && secret.data) checks.push(...materialChecks(obs, side, agent, secret.data, copy))
  checks.push(authHostCheck(obs))
  return agent ? {checks, primaryDatacenter: agent.datacenter} : {checks}
}

type Agent = NonNullable<Side['agent']>

/** The primary's Consul: reachable, and the primary (not a secondary). */
function primaryReachCheck(obs: PreObservation, side: Side, agent: Agent | undefined): Check {
  const primaryContext = obs.primary.context
  const reachId = `${PRE}consul:${primaryContext}`
  const reachTitle = `${side.label}: the primary's Consul server reachable`
  if (!agent) {
    const failure = (obs.primary.consul.agent as Extract<typeof obs.primary.consul.agent, {ok: false}>).error
    return make(reachId, reachTitle, 'fail', failure.message, {...failureAdvice(failure, side, 'consul'), context: primaryContext})
  }
  if (agent.primaryDatacenter !== agent.datacenter) {
    return make(reachId, reachTitle, 'fail', `context ${primaryContext} runs ${agent.datacenter}, a secondary of ${agent.primaryDatacenter}`, {
      context: primaryContext,
      cause: '--primary-context names a secondary',
      next: `pass the context that runs ${agent.primaryDatacenter} as --primary-context`,
    })
  }
  return make(
    reachId,
    reachTitle,
    'ok',
    `primary datacenter ${agent.datacenter}, Consul ${agent.version || 'unknown version'}, via ${obs.primary.consul.source}`,
    {context: primaryContext},
  )
}

/** The federation secret the secondary will use: present, valid, naming the primary; its data when valid. */
function federationDataChecks(
  obs: PreObservation,
  targetSide: Side,
  agent: Agent | undefined,
  copy: string,
): {checks: Check[]; data?: Record<string, string>} {
  const primaryContext = obs.primary.context
  const targetContext = obs.target.context
  const secretId = `${PRE}secret:${targetContext}`
  const secretTitle = `the federation data (${obs.secretSource}) present and valid`
  if (!obs.secret.ok) {
    const advice = failureAdvice(obs.secret.error, targetSide, 'secret')
    return {checks: [make(secretId, secretTitle, 'fail', obs.secret.error.message, {...advice, context: targetContext})]}
  }
  if (!obs.secret.value) {
    const check = make(secretId, secretTitle, 'fail', `${obs.secretSource} does not exist`, {
      context: targetContext,
      cause: 'the federation secret was not imported into this cluster yet',
      next: copy,
    })
    return {checks: [check]}
  }
  let summary: ReturnType<typeof validateFederationData>
  try {
    summary = validateFederationData(obs.secret.value, obs.secretSource)
  } catch (error) {
    const check = make(secretId, secretTitle, 'fail', errorMessage(error), {
      context: targetContext,
      cause: 'the secret was edited by hand or copied incompletely',
      next: copy,
    })
    return {checks: [check]}
  }
  const checks = [
    make(
      secretId,
      secretTitle,
      'ok',
      `primary_datacenter ${summary.primaryDatacenter}; primary_gateways ${summary.primaryGateways.join(', ') || '(none)'}; CA ${summary.caSubject.replace(/\n/g, ', ')}`,
      {context: targetContext},
    ),
  ]
  if (agent && summary.primaryDatacenter !== agent.datacenter) {
    checks.push(
      make(
        `${PRE}server-config:${targetContext}`,
        `serverConfigJSON names the primary ${agent.datacenter}`,
        'fail',
        `serverConfigJSON names primary_datacenter ${summary.primaryDatacenter}, but ${primaryContext} runs the primary ${agent.datacenter}`,
        {
          context: targetContext,
          cause: 'the data comes from another federation or an earlier install of the primary',
          next: copy,
        },
      ),
    )
  }
  return {checks, data: obs.secret.value}
}

/** The same material the primary's servers use (CA, gossip key, replication token), its gateways, and the settings. */
function materialChecks(obs: PreObservation, side: Side, agent: Agent, data: Record<string, string>, copy: string): Check[] {
  const primaryContext = obs.primary.context
  const primaryObservation: SideObservation = {...obs.primary, consul: {...obs.primary.consul, replicationToken: obs.candidateToken}}
  const primarySide: Side = {...side, obs: primaryObservation}
  const fixPrimaryFirst = `; if \`consulk8s verify --context ${primaryContext}\` fails the same check, fix the primary's own secret first`
  const input = {
    side: primarySide,
    data,
    secretName: obs.secretSource,
    primary: agent.datacenter,
    isPrimary: true,
    fixSecret: `${copy}${fixPrimaryFirst}`,
    fixToken: `${copy}${fixPrimaryFirst}`,
    fixValues: copy,
    idPrefix: PRE,
  }
  const checks: Check[] = []
  for (const check of [serverCaCheck(input), gossipKeyCheck(input), replicationTokenCheck(input)]) if (check) checks.push(check)
  checks.push(gatewaysCheck(obs))
  checks.push(settingsCheck(obs, side, data))
  return checks
}

/** The new datacenter's name: valid, not the primary's, not in the federation already. */
function datacenterCheck(obs: PreObservation, primary: string | undefined): Check {
  const id = `${PRE}datacenter`
  const title = `datacenter name ${obs.datacenter} is unique in the federation`
  const next = 'choose another name with --datacenter (it becomes global.datacenter of the secondary)'
  try {
    validateDatacenterName(obs.datacenter)
  } catch (error) {
    return make(id, title, 'fail', errorMessage(error), {cause: 'not a valid datacenter name', next})
  }
  if (primary === obs.datacenter)
    return make(id, title, 'fail', `${obs.datacenter} is the primary's name`, {cause: 'every federated datacenter needs its own name', next})
  const members = obs.primary.consul.members?.ok
    ? obs.primary.consul.members.value.filter((member) => member.datacenter === obs.datacenter && member.status !== 'left')
    : []
  const listed = obs.primary.consul.datacenters?.ok ? obs.primary.consul.datacenters.value : []
  if (members.length > 0 || listed.includes(obs.datacenter)) {
    const seen =
      members.length > 0
        ? `servers in the primary's WAN pool: ${members.map((member) => `${member.name} ${member.status}`).join(', ')}`
        : 'listed by /v1/catalog/datacenters'
    return make(id, title, 'fail', `${obs.datacenter} is already in the federation (${seen})`, {
      cause: 'another datacenter already uses this name: installing a second one with it breaks both',
      next,
    })
  }
  if (!obs.primary.consul.agent.ok)
    return make(id, title, 'warn', 'the primary could not be asked which datacenters exist', {
      cause: 'the primary is not reachable (see above)',
      next: 'fix the primary check first',
    })
  return make(id, title, 'ok', `the federation has ${[...new Set(listed)].join(', ') || 'no other datacenter'}`)
}

/** The primary's mesh gateways from here: only a warning, the secondary's network may differ. */
function gatewaysCheck(obs: PreObservation): Check {
  const id = `${PRE}gateways`
  const title = "the primary's mesh gateways (primary_gateways) answer TCP from here"
  if (obs.gateways.length === 0) {
    return make(id, title, 'warn', `serverConfigJSON of ${obs.secretSource} names no primary_gateways`, {
      cause: "the primary's mesh gateway had no address when the secret was made",
      next: `wait for the primary's mesh gateway address, then write the secret again (consulk8s federate primary --context ${obs.primary.context})`,
    })
  }
  const down = obs.gateways.filter((gateway) => !gateway.reachable)
  if (down.length === 0) return make(id, title, 'ok', obs.gateways.map((gateway) => gateway.address).join(', '))
  return make(id, title, 'warn', down.map((gateway) => `${gateway.address}: ${(gateway as {message: string}).message}`).join('; '), {
    cause: "the gateways are not reachable from where this runs; the secondary's servers may still reach them from their network",
    next: "check from the secondary's cluster (e.g. a pod there: nc -vz <host> <port>); if they are unreachable there too, the secondary cannot join",
  })
}

/** TLS, ACLs and gossip encryption: what the primary runs and what the secondary will. */
function settingsCheck(obs: PreObservation, side: Side, data: Record<string, string>): Check {
  const agent = side.agent!
  const keyring = obs.primary.consul.keyring
  const primaryGossip = keyring?.ok
    ? keyring.value !== 'disabled' && keyring.value.some((ring) => Object.keys(ring.keys).length > 0)
    : agent.gossipEncryption
  const planned = obs.planned
  const rows: Array<{name: string; primary?: boolean; secondary: boolean; from: string}> = [
    {
      name: 'TLS',
      primary: agent.https,
      secondary: planned.tls ?? true,
      from: planned.tls === undefined ? 'federate secondary always enables it' : obs.plannedSource!,
    },
    {
      name: 'ACLs',
      primary: agent.aclsEnabled,
      secondary: planned.acls ?? Boolean(data.replicationToken),
      from: planned.acls === undefined ? `replicationToken ${data.replicationToken ? 'in' : 'absent from'} the secret` : obs.plannedSource!,
    },
    {
      name: 'gossip encryption',
      primary: primaryGossip,
      secondary: planned.gossip ?? Boolean(data.gossipEncryptionKey),
      from: planned.gossip === undefined ? `gossipEncryptionKey ${data.gossipEncryptionKey ? 'in' : 'absent from'} the secret` : obs.plannedSource!,
    },
  ]
  const onOff = (value: boolean | undefined) => (value === undefined ? 'unknown' : value ? 'on' : 'off')
  const detail = rows.map((row) => `${row.name}: primary ${onOff(row.primary)}, ${obs.datacenter} ${onOff(row.secondary)} (${row.from})`).join('; ')
  const differ = rows.filter((row) => row.primary !== undefined && row.primary !== row.secondary)
  const id = `${PRE}settings`
  const title = `TLS, ACL and gossip settings of ${obs.datacenter} agree with the primary's`
  if (differ.length === 0) return make(id, title, 'ok', detail)
  return make(id, title, 'fail', detail, {
    cause: `${differ.map((row) => row.name).join(', ')} differ: a datacenter with ${differ.map((row) => row.name).join('/')} on cannot federate with one that has it off`,
    next: `make the secondary's values match the primary (consulk8s federate secondary --context ${obs.target.context} --primary-context ${obs.primary.context} writes them from the primary's secret)`,
  })
}

/** The secondary's Kubernetes API as its k8sAuthMethodHost: reachable, with a certificate for that host. */
function authHostCheck(obs: PreObservation): Check {
  const id = `${PRE}k8s-auth-method-host`
  const {url, source, result} = obs.authHost
  const title = `k8sAuthMethodHost ${url ?? '(none)'} is reachable and presents a certificate for its host`
  const context = obs.target.context
  if (result.ok) {
    return make(
      id,
      title,
      'ok',
      `${source}; certificate ${result.subject || '(no subject)'}${result.names ? `, ${result.names}` : ''} (checked from here; the primary's servers must reach it too)`,
      {context},
    )
  }
  return make(id, title, 'fail', result.message, {
    context,
    cause:
      result.kind === 'tls'
        ? `the certificate there is not signed by the CA of context ${context} in the kubeconfig, or not issued for that host: the primary's auth method login for ${obs.datacenter} would fail`
        : result.kind === 'unreachable'
          ? `the Kubernetes API of ${context} does not answer there: the primary's servers could not validate the secondary's service account tokens`
          : 'no usable address',
    next: 'pass the address of the Kubernetes API that the primary can reach, with --k8s-auth-method-host (and the same to consulk8s federate secondary)',
  })
}
