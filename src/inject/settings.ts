/**
 * What the injector is configured with: the values the Consul Helm chart passes to the
 * consul-k8s connect injector (connectInject.*, global.*), as plain data. Defaults are the
 * chart's defaults for release "consul" installed in namespace "consul".
 */
import {UserError} from '../shared/errors.js'

export interface InjectSettings {
  /** connectInject.default: inject pods without the connect-inject annotation. */
  defaultInject: boolean
  /** connectInject.k8sAllowNamespaces ('*' = all). */
  allowNamespaces: string[]
  /** connectInject.k8sDenyNamespaces; wins over the allow list. */
  denyNamespaces: string[]
  /** Image of the connect-init init container (global.imageK8S). */
  consulK8sImage: string
  /** Image of the sidecar (global.imageConsulDataplane). */
  dataplaneImage: string
  /** Consul server address(es) the init container and dataplane connect to (host only). */
  consulAddress: string
  grpcPort: number
  httpPort: number
  /** global.consulAPITimeout, as Go prints a duration. */
  apiTimeout: string
  /** connectInject.transparentProxy.defaultEnabled. */
  transparentProxy: boolean
  /** connectInject.transparentProxy.defaultOverwriteProbes. */
  overwriteProbes: boolean
  /** connectInject.sidecarProxy.lifecycle.* */
  lifecycle: {
    enabled: boolean
    drainListeners: boolean
    shutdownGracePeriodSeconds: number
    startupGracePeriodSeconds: number
    gracefulPort: number
    shutdownPath: string
    startupPath: string
  }
  /** connectInject.dataplaneAsSidecarInitContainer.* */
  dataplaneAsSidecar: {enabled: boolean; initialDelaySeconds: number; periodSeconds: number; failureThreshold: number; timeoutSeconds: number}
  /** connectInject.sidecarProxy.concurrency. */
  envoyConcurrency: number
  logLevel: string
  logJSON: boolean
  /** global.acls.manageSystemACLs: pods log in with their service account through this auth method. */
  acls: boolean
  authMethod: string
  /** global.tls.enabled and the CA / server name the pods verify Consul with. */
  tls: {enabled: boolean; caCertPem?: string; serverName?: string}
  /** connectInject.initContainer.resources. */
  initResources: {requests?: Record<string, string>; limits?: Record<string, string>}
}

/** consul-k8s 1.9.x (Consul 1.22, the line the test environment runs). */
export const DEFAULT_IMAGES = {
  consulK8s: 'hashicorp/consul-k8s-control-plane:2.0.3',
  dataplane: 'hashicorp/consul-dataplane:2.0.3',
} as const

export const DEFAULT_CONSUL_ADDRESS = 'consul-server.consul.svc'
export const DEFAULT_AUTH_METHOD = 'consul-k8s-auth-method'

export function defaultSettings(): InjectSettings {
  return {
    defaultInject: false,
    allowNamespaces: ['*'],
    denyNamespaces: [],
    consulK8sImage: DEFAULT_IMAGES.consulK8s,
    dataplaneImage: DEFAULT_IMAGES.dataplane,
    consulAddress: DEFAULT_CONSUL_ADDRESS,
    grpcPort: 8502,
    httpPort: 8500,
    apiTimeout: '5s',
    transparentProxy: true,
    overwriteProbes: true,
    lifecycle: {
      enabled: true,
      drainListeners: true,
      shutdownGracePeriodSeconds: 30,
      startupGracePeriodSeconds: 0,
      gracefulPort: 20600,
      shutdownPath: '/graceful_shutdown',
      startupPath: '/graceful_startup',
    },
    dataplaneAsSidecar: {enabled: false, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 10, timeoutSeconds: 5},
    envoyConcurrency: 2,
    logLevel: 'info',
    logJSON: false,
    acls: false,
    authMethod: DEFAULT_AUTH_METHOD,
    tls: {enabled: false},
    initResources: {requests: {memory: '25Mi', cpu: '50m'}, limits: {memory: '150Mi'}},
  }
}

export interface SettingsInput {
  defaultInject?: boolean
  allowNamespaces?: string[]
  denyNamespaces?: string[]
  consulK8sImage?: string
  dataplaneImage?: string
  consulAddress?: string
  grpcPort?: number
  httpPort?: number
  transparentProxy?: boolean
  acls?: boolean
  authMethod?: string
  tls?: boolean
  caCertPem?: string
  tlsServerName?: string
  logLevel?: string
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error']

/** Settings from command-line values, validated (one readable UserError per problem). */
export function buildSettings(input: SettingsInput): InjectSettings {
  const settings = defaultSettings()
  if (input.defaultInject !== undefined) settings.defaultInject = input.defaultInject
  if (input.allowNamespaces?.length) settings.allowNamespaces = input.allowNamespaces
  if (input.denyNamespaces?.length) settings.denyNamespaces = input.denyNamespaces
  for (const [flag, value] of [
    ['--consul-k8s-image', input.consulK8sImage],
    ['--dataplane-image', input.dataplaneImage],
  ] as const) {
    if (value !== undefined && (value.trim() === '' || /\s/.test(value))) {
      throw new UserError(`${flag} "${value}" is not a container image reference.`, {
        hint: 'Pass an image such as hashicorp/consul-dataplane:2.0.3.',
      })
    }
  }
  if (input.consulK8sImage) settings.consulK8sImage = input.consulK8sImage
  if (input.dataplaneImage) settings.dataplaneImage = input.dataplaneImage
  if (input.consulAddress !== undefined) {
    if (!/^[A-Za-z0-9.-]+$|^exec=/.test(input.consulAddress)) {
      throw new UserError(`--consul-address "${input.consulAddress}" is not a host name or IP address.`, {
        hint: 'Give the host only (no scheme or port), e.g. consul-server.consul.svc; ports are --consul-grpc-port and --consul-http-port.',
      })
    }
    settings.consulAddress = input.consulAddress
  }
  if (input.tls) {
    settings.tls = {enabled: true, caCertPem: input.caCertPem, serverName: input.tlsServerName}
    settings.httpPort = 8501
  } else if (input.caCertPem || input.tlsServerName) {
    throw new UserError('--ca-file and --tls-server-name only apply with --tls.', {hint: 'Add --tls when Consul serves TLS (global.tls.enabled).'})
  }
  for (const [flag, value, key] of [
    ['--consul-grpc-port', input.grpcPort, 'grpcPort'],
    ['--consul-http-port', input.httpPort, 'httpPort'],
  ] as const) {
    if (value === undefined) continue
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new UserError(`${flag} ${value} is not a port (1-65535).`)
    settings[key] = value
  }
  if (input.transparentProxy !== undefined) settings.transparentProxy = input.transparentProxy
  if (input.acls) settings.acls = true
  if (input.authMethod !== undefined) {
    if (!input.acls)
      throw new UserError('--auth-method only applies with --acls.', {hint: 'Add --acls when Consul runs with ACLs (global.acls.manageSystemACLs).'})
    settings.authMethod = input.authMethod
  }
  if (input.logLevel !== undefined) {
    if (!LOG_LEVELS.includes(input.logLevel)) {
      throw new UserError(`--log-level "${input.logLevel}" is not one of ${LOG_LEVELS.join(', ')}.`)
    }
    settings.logLevel = input.logLevel
  }
  for (const namespace of [...settings.allowNamespaces, ...settings.denyNamespaces]) {
    if (namespace !== '*' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
      throw new UserError(`"${namespace}" is not a Kubernetes namespace name.`, {hint: "Namespace lists take namespace names or '*'."})
    }
  }
  return settings
}
