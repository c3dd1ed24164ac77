/**
 * From flags to the sides to verify: which contexts, and for each its Consul address, token
 * and CA. The Consul flags take either a value for every context or `<context>=<value>` for
 * one; the CONSUL_* environment variables apply when the flag is absent. Pure.
 */
import {UserError} from '../shared/errors.js'
import {validateNamespaceName} from '../federation/names.js'
import type {SideTarget} from './gather.js'

export interface PlanInput {
  /** --context values; empty means the kubeconfig's current context. */
  contexts: string[]
  currentContext?: string
  namespace: string
  release: string
  addresses?: string[]
  tokens?: string[]
  caFiles?: string[]
  env?: Record<string, string | undefined>
}

interface PerContext {
  all?: string
  byContext: Map<string, string>
}

/**
 * Split `dc1=value` / `value` entries. A name before "=" must be one of the contexts being
 * verified (a typo is an error, not a value); paths and URLs containing "=" stay plain values.
 */
export function splitPerContext(flag: string, values: string[], contexts: string[]): PerContext {
  const result: PerContext = {byContext: new Map()}
  for (const raw of values) {
    const match = /^([^=]+)=(.*)$/.exec(raw)
    if (match && contexts.includes(match[1])) {
      if (result.byContext.has(match[1])) throw new UserError(`--${flag} is given twice for context ${match[1]}.`)
      if (!match[2]) throw new UserError(`--${flag} ${raw}: the value after "=" is empty.`)
      result.byContext.set(match[1], match[2])
      continue
    }
    if (match && /^[a-zA-Z0-9._@-]+$/.test(match[1])) {
      throw new UserError(`--${flag} ${raw} names context "${match[1]}", which is not being verified.`, {
        hint: `Verifying: ${contexts.join(', ')}. Add --context ${match[1]}, or fix the name.`,
      })
    }
    if (result.all !== undefined) {
      throw new UserError(`--${flag} is given twice without a context.`, {
        hint: `Give one value for every context, or one per context as --${flag} <context>=<value>.`,
      })
    }
    result.all = raw
  }
  return result
}

export function planTargets(input: PlanInput): SideTarget[] {
  const env = input.env ?? {}
  validateNamespaceName(input.namespace)
  const contexts = input.contexts.length > 0 ? input.contexts : input.currentContext ? [input.currentContext] : []
  if (contexts.length === 0) {
    throw new UserError('No kube context to verify: the kubeconfig has no current context.', {
      hint: 'Pass --context (once per cluster of the federation).',
    })
  }
  const duplicate = contexts.find((context, index) => contexts.indexOf(context) !== index)
  if (duplicate) throw new UserError(`Context ${duplicate} is given twice.`)

  const fromEnv = (values: string[] | undefined, name: string) => (values && values.length > 0 ? values : env[name] ? [env[name]!] : [])
  const addresses = splitPerContext('consul-http-addr', fromEnv(input.addresses, 'CONSUL_HTTP_ADDR'), contexts)
  const tokens = splitPerContext('consul-token', fromEnv(input.tokens, 'CONSUL_HTTP_TOKEN'), contexts)
  const caFiles = splitPerContext('consul-cacert', fromEnv(input.caFiles, 'CONSUL_CACERT'), contexts)

  // One address is one Consul server, i.e. one datacenter's view: it cannot stand for several sides.
  if (addresses.all !== undefined && contexts.length > 1) {
    const source = input.addresses && input.addresses.length > 0 ? '--consul-http-addr' : 'CONSUL_HTTP_ADDR'
    throw new UserError(`${source} names one Consul server, but ${contexts.length} contexts are being verified.`, {
      hint: `Give each context its own server: --consul-http-addr ${contexts[0]}=https://… --consul-http-addr ${contexts[1]}=https://… (or leave the address out to exec into the server pods).`,
    })
  }

  return contexts.map((context) => {
    const target: SideTarget = {context, namespace: input.namespace, release: input.release}
    const address = addresses.byContext.get(context) ?? addresses.all
    const token = tokens.byContext.get(context) ?? tokens.all
    const caFile = caFiles.byContext.get(context) ?? caFiles.all
    if (address !== undefined) target.address = address
    if (token !== undefined) target.token = token
    if (caFile !== undefined) target.caFile = caFile
    return target
  })
}
