/**
 * Flags shared by every command, defined once. Cluster-facing commands take kubeFlags;
 * commands that also reach Consul directly take consulFlags.
 */
import {Flags} from '@oclif/core'

import {parseDuration} from './duration.js'

/** The one default of every --timeout (helm's). */
export const DEFAULT_TIMEOUT = '5m'

/**
 * A duration flag (90s, 10m, 1h30m; a bare number is refused, like helm), parsed to
 * milliseconds with one message for every command.
 */
export function durationFlag(options: {description: string; default: string; helpGroup?: string}) {
  return Flags.custom<number>({
    parse: async (input, _context, flag) => parseDuration(input, `--${flag.name}`),
    helpValue: 'DURATION',
  })({
    description: options.description,
    helpGroup: options.helpGroup,
    default: parseDuration(options.default),
    defaultHelp: async () => options.default,
  })
}

/** --timeout with the one default. */
export function timeoutFlag(description: string) {
  return {timeout: durationFlag({description, default: DEFAULT_TIMEOUT})}
}

export const kubeFlags = {
  kubeconfig: Flags.string({
    description: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).',
    helpGroup: 'GLOBAL',
  }),
  context: Flags.string({
    aliases: ['kube-context'],
    description: 'Kube context to use (default: the current context; alias --kube-context, as helm calls it).',
    helpGroup: 'GLOBAL',
  }),
  namespace: Flags.string({
    char: 'n',
    description: 'Namespace Consul is (or will be) installed in.',
    default: 'consul',
    helpGroup: 'GLOBAL',
  }),
  release: Flags.string({
    description: 'Helm release name; every chart-derived name (secrets, StatefulSet) follows from it.',
    default: 'consul',
    helpGroup: 'GLOBAL',
  }),
}

/** --yes, only on the commands that ask something. */
export const yesFlag = {
  yes: Flags.boolean({
    char: 'y',
    description: 'Answer yes to confirmations and never prompt.',
    default: false,
    helpGroup: 'GLOBAL',
  }),
}

export const commonFlags = {
  verbose: Flags.boolean({
    char: 'v',
    description: 'Print more detail.',
    default: false,
    helpGroup: 'GLOBAL',
  }),
}

export const consulFlags = {
  'consul-http-addr': Flags.string({
    description: 'Consul HTTP(S) API address, e.g. https://127.0.0.1:8501 (env CONSUL_HTTP_ADDR).',
    env: 'CONSUL_HTTP_ADDR',
  }),
  'consul-token': Flags.string({
    description: 'Consul ACL token (env CONSUL_HTTP_TOKEN).',
    env: 'CONSUL_HTTP_TOKEN',
  }),
  'consul-cacert': Flags.string({
    description: 'PEM file of the CA that signed the Consul HTTPS certificate (env CONSUL_CACERT).',
    env: 'CONSUL_CACERT',
  }),
}

export const dryRunFlag = {
  'dry-run': Flags.boolean({description: 'Show what would change, change nothing.', default: false}),
}

/**
 * -o, the same contract on every command: a format name (json|yaml, plus table where the
 * command draws a table), never a file name (that is --output-file); any other value is an error.
 */
export function outputFlag<const F extends string>(formats: readonly F[], description: string) {
  return Flags.option({char: 'o', options: formats, description})()
}
