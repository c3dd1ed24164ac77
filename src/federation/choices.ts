/**
 * The choices an operator makes for a federated datacenter (name, ACLs, gossip encryption,
 * mesh gateway service type): taken from flags, else asked on a terminal, else the previous
 * run's answers (its values file), else the documented defaults. The asking is injected so
 * this stays free of terminal code and testable.
 */
import {parse as parseYaml} from 'yaml'

import {MESH_GATEWAY_SERVICE_TYPES, type MeshGatewayServiceType} from './gateways.js'
import {validateDatacenterName} from './names.js'

export interface Asker {
  text(message: string, defaultValue: string, validate?: (value: string) => true | string): Promise<string>
  confirm(message: string, defaultValue: boolean): Promise<boolean>
  select<T extends string>(message: string, choices: readonly T[], defaultValue: T): Promise<T>
}

export interface Choices {
  datacenter: string
  acls: boolean
  gossip: boolean
  meshGatewayServiceType: MeshGatewayServiceType
}

export type ChoiceFlags = Partial<Choices>

export const PRIMARY_DEFAULTS: Choices = {datacenter: 'dc1', acls: true, gossip: true, meshGatewayServiceType: 'LoadBalancer'}
export const SECONDARY_DEFAULTS: Choices = {datacenter: 'dc2', acls: true, gossip: true, meshGatewayServiceType: 'LoadBalancer'}

/** What a values file consulk8s (or a person) wrote says about the choices; {} if unreadable. */
export function choicesFromValues(text: string | undefined): ChoiceFlags {
  if (!text) return {}
  let values: {
    global?: {datacenter?: unknown; acls?: {manageSystemACLs?: unknown}; gossipEncryption?: {autoGenerate?: unknown; secretName?: unknown}}
    meshGateway?: {service?: {type?: unknown}}
  }
  try {
    values = parseYaml(text) ?? {}
  } catch {
    return {}
  }
  if (!values || typeof values !== 'object') return {}
  const choices: ChoiceFlags = {}
  const datacenter = values.global?.datacenter
  if (typeof datacenter === 'string') choices.datacenter = datacenter
  if (values.global) {
    choices.acls = values.global.acls?.manageSystemACLs === true
    const gossip = values.global.gossipEncryption
    choices.gossip = Boolean(gossip && (gossip.autoGenerate === true || gossip.secretName))
  }
  const type = values.meshGateway?.service?.type
  if (typeof type === 'string' && (MESH_GATEWAY_SERVICE_TYPES as readonly string[]).includes(type))
    choices.meshGatewayServiceType = type as MeshGatewayServiceType
  return choices
}

function datacenterValidator(forbidden?: string): (value: string) => true | string {
  return (value: string) => {
    try {
      validateDatacenterName(value)
    } catch (error) {
      return (error as Error).message
    }
    return value === forbidden ? `The datacenter name must differ from the primary's ("${forbidden}").` : true
  }
}

/**
 * Fills every choice: flag, else (with an asker) the answer to a question whose default is
 * the previous or documented value, else that value. `ask` lists which choices may be asked.
 */
export async function resolveChoices(options: {
  flags: ChoiceFlags
  previous?: ChoiceFlags
  defaults: Choices
  asker?: Asker
  ask?: ReadonlyArray<keyof Choices>
  /** A secondary's name must differ from the primary's. */
  forbiddenDatacenter?: string
}): Promise<Choices> {
  const {flags, asker} = options
  const defaults: Choices = {...options.defaults, ...options.previous}
  if (defaults.datacenter === options.forbiddenDatacenter) defaults.datacenter = options.defaults.datacenter
  const askable = new Set(options.ask ?? ['datacenter', 'acls', 'gossip', 'meshGatewayServiceType'])
  const may = (key: keyof Choices) => asker !== undefined && askable.has(key) && flags[key] === undefined
  const datacenter =
    flags.datacenter ??
    (may('datacenter')
      ? (await asker!.text('Consul datacenter name', defaults.datacenter, datacenterValidator(options.forbiddenDatacenter))).trim()
      : defaults.datacenter)
  const acls =
    flags.acls ?? (may('acls') ? await asker!.confirm('Enable ACLs (with a replication token for secondaries)?', defaults.acls) : defaults.acls)
  const gossip = flags.gossip ?? (may('gossip') ? await asker!.confirm('Enable gossip encryption?', defaults.gossip) : defaults.gossip)
  const meshGatewayServiceType =
    flags.meshGatewayServiceType ??
    (may('meshGatewayServiceType')
      ? await asker!.select('Mesh gateway Service type', MESH_GATEWAY_SERVICE_TYPES, defaults.meshGatewayServiceType)
      : defaults.meshGatewayServiceType)
  return {datacenter, acls, gossip, meshGatewayServiceType}
}
