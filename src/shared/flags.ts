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
  'request-timeout': Flags.string({
    description:
      'How long a single Kubernetes or Consul request may take, connection included, before it is given up (e.g. 10s, 1m, or whole seconds as 30; 0: no limit), as kubectl takes it.',
    default: '30s',
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
  'consul-token-file': Flags.string({
    description: 'File holding the Consul ACL token; wins over --consul-token, as in consul (env CONSUL_HTTP_TOKEN_FILE).',
    env: 'CONSUL_HTTP_TOKEN_FILE',
  }),
  'consul-cacert': Flags.string({
    description: 'PEM file of the CA that signed the Consul HTTPS certificate (env CONSUL_CACERT).',
    env: 'CONSUL_CACERT',
  }),
  'consul-client-cert': Flags.string({
    description: 'PEM client certificate for Consul servers that verify incoming HTTPS (env CONSUL_CLIENT_CERT).',
    env: 'CONSUL_CLIENT_CERT',
  }),
  'consul-client-key': Flags.string({
    description: 'PEM key of --consul-client-cert (env CONSUL_CLIENT_KEY).',
    env: 'CONSUL_CLIENT_KEY',
  }),
  'consul-tls-server-name': Flags.string({
    description:
      'Name to check the Consul server certificate against, e.g. server.dc1.consul (env CONSUL_TLS_SERVER_NAME). CONSUL_HTTP_SSL_VERIFY=false skips the check.',
    env: 'CONSUL_TLS_SERVER_NAME',
  }),
  'consul-namespace': Flags.string({
    description: 'Consul Enterprise namespace, sent with every request (env CONSUL_NAMESPACE).',
    env: 'CONSUL_NAMESPACE',
  }),
  'consul-partition': Flags.string({
    description: 'Consul Enterprise admin partition, sent with every request (env CONSUL_PARTITION).',
    env: 'CONSUL_PARTITION',
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
