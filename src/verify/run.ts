/**
 * `verify`: from the command's options to a report. Resolves the sides (contexts, Consul
 * addresses, tokens, CAs), then runs the federation checks (verifyFederation, with --wait
 * rounds) or, with --pre, the checks of a secondary before it is installed (verifyPre). The
 * command renders the report; progress and the --wait lines go through hooks.
 */
import {readKubeconfig} from '../kube/kubeconfig.js'
import {UserError} from '../shared/errors.js'
import {planTargets} from './plan.js'
import {plannedFromValues, verifyPre} from './pre-gather.js'
import {verifyFederation} from './runner.js'
import type {Check, VerifyReport} from './types.js'
import {FEDERATION_SECRET_INPUT, type InputUse} from '../shared/stdin.js'

const VALUES_INPUT: InputUse = {
  what: 'the values file',
  command: 'consulk8s verify --pre --values-file -',
  hint: 'Pass the values file the secondary will be installed with (federate secondary writes it).',
}

/** What `verify` is asked to do, as the command's flags say it. */
export interface RunVerifyOptions {
  kubeconfig?: string
  /** --context: the contexts to verify from (--pre: the new secondary's); empty: the kubeconfig's current context. */
  contexts: string[]
  namespace: string
  release: string
  /** --consul-http-addr, --consul-token, --consul-cacert: for every context or as <context>=<value>. */
  consul: {addresses?: string[]; tokens?: string[]; caFiles?: string[]}
  /** CONSUL_* variables, used where a Consul flag is absent. */
  env: Record<string, string | undefined>
  /** --expect-dc: datacenters that must be in the federation even if no context runs them. */
  expectDatacenters?: string[]
  /** --wait: retry rounds until every check passes or timeoutMs ends, intervalMs apart. */
  wait: boolean
  timeoutMs: number
  intervalMs: number
  /** --pre and the flags that only apply with it. */
  pre: boolean
  primaryContext?: string
  datacenter?: string
  /** -f: an exported federation secret file ("-" for stdin). */
  file?: string
  k8sAuthMethodHost?: string
  valuesFile?: string
}

export interface VerifyHooks {
  /** Says what is being checked (a spinner on a terminal); done() ends it. */
  progress(text: string): void
  done(): void
  /** --wait: after each failed round that will be retried, what is still awaited. */
  onWaiting?(pending: Check[], remainingMs: number): void
  /** Reads -f and --values-file (a path, or "-" for stdin), with one readable error. */
  readInput(path: string, use: InputUse): Promise<string>
}

/** The flags that only apply with --pre, by option. */
const PRE_ONLY = [
  ['primaryContext', 'primary-context'],
  ['datacenter', 'datacenter'],
  ['file', 'file'],
  ['k8sAuthMethodHost', 'k8s-auth-method-host'],
  ['valuesFile', 'values-file'],
] as const

/** Verifies the federation from every given context, or with --pre one secondary-to-be. */
export async function runVerify(options: RunVerifyOptions, hooks: VerifyHooks): Promise<VerifyReport> {
  if (options.pre) return runPre(options, hooks)
  const preOnly = PRE_ONLY.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag)
  if (preOnly.length > 0)
    throw new UserError(`--${preOnly[0]} only applies to verify --pre.`, {
      hint: 'Add --pre to check a secondary before installing it, or leave the flag out.',
    })
  const currentContext = options.contexts.length > 0 ? undefined : readKubeconfig(options.kubeconfig).currentContext
  const targets = consulTargets(options, options.contexts, currentContext)

  hooks.progress(`verifying ${targets.map((target) => target.context).join(', ')}`)
  const report = await verifyFederation({
    targets,
    kubeconfig: options.kubeconfig,
    expectDatacenters: options.expectDatacenters,
    wait: options.wait,
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs,
    onWaiting: hooks.onWaiting,
  })
  hooks.done()
  return report
}

/** The sides to read Consul from, with the Consul flags (or CONSUL_* variables) resolved per context. */
function consulTargets(options: RunVerifyOptions, contexts: string[], currentContext?: string) {
  return planTargets({
    contexts,
    currentContext,
    namespace: options.namespace,
    release: options.release,
    addresses: options.consul.addresses,
    tokens: options.consul.tokens,
    caFiles: options.consul.caFiles,
    env: options.env,
  })
}

/** verify --pre: one secondary-to-be (--context) against the primary (--primary-context). */
async function runPre(options: RunVerifyOptions, hooks: VerifyHooks): Promise<VerifyReport> {
  const {contexts} = options
  if (contexts.length > 1)
    throw new UserError('verify --pre checks one new secondary: give --context once.', {
      hint: 'Run it once per secondary you are about to install.',
    })
  if (options.wait) throw new UserError('--wait does not apply to verify --pre: it checks once, before anything is installed.')
  const target = contexts[0] ?? readKubeconfig(options.kubeconfig).currentContext
  if (!target)
    throw new UserError('No kube context for the new secondary: the kubeconfig has no current context.', {
      hint: "Pass --context <the secondary's context>.",
    })
  const {primaryContext} = options
  if (!primaryContext) throw new UserError('verify --pre needs the primary: pass --primary-context <context of the primary datacenter>.')
  if (primaryContext === target)
    throw new UserError(`--primary-context and --context are both ${target}.`, {
      hint: 'The secondary is installed in another cluster than the primary.',
    })
  const values = options.valuesFile ? {text: await hooks.readInput(options.valuesFile, VALUES_INPUT), path: options.valuesFile} : undefined
  const datacenter = options.datacenter ?? (values ? plannedFromValues(values.text).datacenter : undefined)
  if (!datacenter)
    throw new UserError('verify --pre needs the name of the new datacenter.', {
      hint: 'Pass --datacenter <name> (or --values-file with global.datacenter).',
    })
  const [primary] = consulTargets(options, [primaryContext])
  hooks.progress(`checking ${datacenter} in context ${target} against the primary in ${primaryContext}`)
  const report = await verifyPre({
    kubeconfig: options.kubeconfig,
    target: {context: target, namespace: options.namespace, release: options.release},
    primary,
    datacenter,
    file: options.file
      ? {text: await hooks.readInput(options.file, {...FEDERATION_SECRET_INPUT, command: 'consulk8s verify --pre -f -'}), path: options.file}
      : undefined,
    k8sAuthMethodHost: options.k8sAuthMethodHost,
    values,
  })
  hooks.done()
  return report
}
