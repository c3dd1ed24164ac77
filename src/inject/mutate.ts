/**
 * The Connect sidecar mutation, pure: a pod template in, the injected pod template and a
 * summary of what was added out. It follows consul-k8s's mesh webhook (connect-inject/
 * webhook) for the Helm chart's defaults: the shared in-memory volume, the connect-init
 * init container and the consul-dataplane sidecar (one of each per service in multi-port
 * pods), upstream environment variables in every existing container, transparent proxy
 * (traffic redirection config, probe rewriting), proxy lifecycle, and the status
 * annotation and labels. Nothing here does I/O.
 */
import {
  ANNOTATIONS,
  AnnotationError,
  INJECTED,
  LABELS,
  INJECT_MANAGED_BY_VALUE,
  boolAnnotation,
  cidrListAnnotation,
  listAnnotation,
  parseServiceNames,
  parseServicePorts,
  parseUpstreams,
  portListAnnotation,
  resolvePort,
  quantityAnnotation,
  uidListAnnotation,
  uintAnnotation,
  type Annotations,
  type ServicePort,
  type Upstream,
} from './annotations.js'
import {DEFAULT_IMAGES, type InjectSettings} from './settings.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = Record<string, any>

export interface PodTemplate {
  metadata?: {name?: string; labels?: Record<string, string>; annotations?: Annotations; [key: string]: unknown}
  spec?: Json
}

/** A mutation problem that is not about one annotation (a name clash, a UID clash). */
export class InjectError extends Error {
  constructor(
    message: string,
    readonly annotation?: string,
  ) {
    super(message)
    this.name = 'InjectError'
  }
}

export const VOLUME_NAME = 'consul-connect-inject-data'
export const MOUNT_PATH = '/consul/connect-inject'
export const INIT_CONTAINER = 'consul-connect-inject-init'
export const SIDECAR_CONTAINER = 'consul-dataplane'
export const SIDECAR_UID = 5995
export const INIT_UID = 5996
export const INBOUND_PORT = 20000
export const HEALTH_PORT = 21000
export const TPROXY_OUTBOUND_PORT = 15001
const SA_TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const PROBE_PORT_BASE = {livenessProbe: 20300, readinessProbe: 20400, startupProbe: 20500} as const
const CA_FILE = '/consul/connect-inject/consul-ca.pem'

export interface MutationContext {
  /** The namespace the pods run in. */
  namespace: string
  /** Labels of that namespace, when known (consul.hashicorp.com/transparent-proxy may default it). */
  namespaceLabels?: Record<string, string>
}

export interface InjectedService {
  /** Consul service name: from connect-service, else undefined (the Kubernetes Service's name is used at registration). */
  name?: string
  port?: number
  initContainer: string
  sidecar: string
  /** The proxy's public listener port. */
  proxyPort: number
}

export interface MutationSummary {
  services: InjectedService[]
  multiPort: boolean
  transparentProxy: boolean
  upstreams: Upstream[]
  /** Names of the upstream variables added to every existing container. */
  envVars: string[]
  volumes: string[]
  /** Container probes pointed at the proxy's exposed paths: "<container> <probe> -> <port>". */
  probesRewritten: string[]
  /** Where the sidecars went: first among containers (proxy lifecycle), last, or as restartable init containers. */
  sidecarPlacement: 'first' | 'last' | 'init'
  warnings: string[]
}

export interface MutationResult {
  template: PodTemplate
  summary: MutationSummary
}

interface Resolved {
  annotations: Annotations
  /** The metrics switches that are on (enable-metrics, enable-metrics-merging): reported, not applied. */
  metrics: string[]
  services: string[]
  ports: ServicePort[]
  upstreams: Upstream[]
  multiPort: boolean
  tproxy: boolean
  overwriteProbes: boolean
  lifecycle: boolean
  dataplaneAsSidecar: boolean
  useProxyHealthCheck: boolean
  /** The sidecar-proxy-lifecycle-graceful-port annotation resolved (a number or a container port name), if set. */
  gracefulPort?: number
}

/** Reads and validates everything the mutation depends on before anything is changed. */
function resolve(template: PodTemplate, settings: InjectSettings, context: MutationContext): Resolved {
  const annotations = {...template.metadata?.annotations}
  const containers: Json[] = template.spec?.containers ?? []
  const services = parseServiceNames(annotations)
  const multiPort = services.length > 1
  // Default connect-service-port: every port of the first container (names preferred), as the webhook does.
  if (annotations[ANNOTATIONS.port] === undefined) {
    const defaults = ((containers[0]?.ports ?? []) as Json[])
      .map((port) => (port.name ? String(port.name) : port.containerPort > 0 ? String(port.containerPort) : ''))
      .filter(Boolean)
    if (defaults.length > 0) annotations[ANNOTATIONS.port] = defaults.join(',')
  }
  const ports = parseServicePorts(annotations, containers, services.length)
  const upstreams = parseUpstreams(annotations, containers)

  let tproxy = boolAnnotation(annotations, ANNOTATIONS.transparentProxy)
  if (tproxy === undefined && context.namespaceLabels?.[LABELS.transparentProxy] !== undefined) {
    tproxy = boolAnnotation(context.namespaceLabels, LABELS.transparentProxy)
  }
  tproxy ??= settings.transparentProxy
  if (multiPort && tproxy) {
    throw new AnnotationError(
      ANNOTATIONS.transparentProxy,
      annotations[ANNOTATIONS.transparentProxy],
      `multi-port pods (${ANNOTATIONS.service}: "${annotations[ANNOTATIONS.service]}") cannot use transparent proxy; set ${ANNOTATIONS.transparentProxy}: "false" on the pod template`,
    )
  }
  // The webhook refuses a malformed metrics switch even where metrics are not applied.
  const metrics = [ANNOTATIONS.enableMetrics, ANNOTATIONS.enableMetricsMerging].filter((key) => boolAnnotation(annotations, key))
  if (multiPort && metrics.length > 0) {
    throw new AnnotationError(metrics[0], annotations[metrics[0]], `multi-port pods cannot use metrics; remove ${metrics[0]} or set it to "false"`)
  }
  return {
    metrics,
    annotations,
    services,
    ports,
    upstreams,
    multiPort,
    tproxy,
    overwriteProbes: boolAnnotation(annotations, ANNOTATIONS.overwriteProbes) ?? settings.overwriteProbes,
    lifecycle: boolAnnotation(annotations, ANNOTATIONS.lifecycle, {emptyIsAbsent: true}) ?? settings.lifecycle.enabled,
    dataplaneAsSidecar: boolAnnotation(annotations, ANNOTATIONS.dataplaneAsSidecar, {emptyIsAbsent: true}) ?? settings.dataplaneAsSidecar.enabled,
    // The webhook treats an unparsable value as false here.
    useProxyHealthCheck: safeBool(annotations, ANNOTATIONS.useProxyHealthCheck),
    gracefulPort: gracefulPortAnnotation(annotations, containers),
  }
}

/** The graceful port as the webhook's DetermineAndValidatePort reads it: a port number or a container port name, unprivileged. */
function gracefulPortAnnotation(annotations: Annotations, containers: Json[]): number | undefined {
  const key = ANNOTATIONS.lifecycleGracefulPort
  const raw = annotations[key]
  if (raw === undefined || raw === '') return undefined
  const port = resolvePort(containers, raw)
  if (port === undefined || port < 1024) {
    throw new AnnotationError(key, raw, `annotation ${key}: "${raw}" is not an unprivileged port (1024-65535) or the name of one`)
  }
  return port
}

function safeBool(annotations: Annotations, key: string): boolean {
  try {
    return boolAnnotation(annotations, key) ?? false
  } catch {
    return false
  }
}

/**
 * Injects the pod template. Throws AnnotationError (a bad consul.hashicorp.com/* value) or
 * InjectError (a clash with what the template already has). The input is not modified.
 */
export function mutatePodTemplate(input: PodTemplate, settings: InjectSettings, context: MutationContext): MutationResult {
  const original = structuredClone(input)
  const template = structuredClone(input)
  template.metadata ??= {}
  template.spec ??= {}
  const spec = template.spec
  spec.containers ??= []
  const resolved = resolve(template, settings, context)
  checkClashes(spec, resolved)
  checkSidecarUid(spec, settings)

  const summary: MutationSummary = {
    services: [],
    multiPort: resolved.multiPort,
    transparentProxy: resolved.tproxy,
    upstreams: resolved.upstreams,
    envVars: [],
    volumes: [VOLUME_NAME],
    probesRewritten: [],
    sidecarPlacement: resolved.dataplaneAsSidecar ? 'init' : resolved.lifecycle ? 'first' : 'last',
    warnings: [],
  }
  const userContainers = spec.containers as Json[]
  addVolumes(spec, settings, resolved, summary)
  addUpstreamEnv(spec, resolved, summary)
  addProxies(original, spec, settings, resolved, summary)
  markInjected(template, original, userContainers, settings, resolved, summary)

  if (settings.acls && !resolved.multiPort && spec.automountServiceAccountToken === false && !findTokenMount(original.spec ?? {})) {
    summary.warnings.push('with ACLs the injected containers log in with the service account token, but automountServiceAccountToken is false')
  }
  for (const key of resolved.metrics) {
    summary.warnings.push(`${key} is not applied by consulk8s inject (no metrics ports or Prometheus annotations are added)`)
  }
  return {template, summary}
}

/**
 * The shared in-memory volume and its mount in the containers connect-inject-mount-volume
 * names, the volumes of the user-volume annotation, and with ACLs in a multi-port pod the
 * service account token volume each extra service logs in with.
 */
function addVolumes(spec: Json, settings: InjectSettings, resolved: Resolved, summary: MutationSummary): void {
  const annotations = resolved.annotations
  spec.volumes = [...(spec.volumes ?? []), {name: VOLUME_NAME, emptyDir: {medium: 'Memory'}}]
  const mountInto = listAnnotation(annotations, ANNOTATIONS.mountVolume)
  for (const container of spec.containers as Json[]) {
    if (mountInto.includes(container.name)) {
      container.volumeMounts = [...(container.volumeMounts ?? []), {name: VOLUME_NAME, mountPath: MOUNT_PATH}]
    }
  }
  const userVolumes = jsonListAnnotation(annotations, ANNOTATIONS.userVolume)
  if (userVolumes.length > 0) {
    spec.volumes.push(...userVolumes)
    summary.volumes.push(...userVolumes.map((volume) => String(volume.name)))
  }

  const serviceAccount: string = spec.serviceAccountName ?? ''
  if (settings.acls && resolved.multiPort) {
    for (const service of resolved.services) {
      if (service === serviceAccount) continue
      spec.volumes.push({name: `${service}-service-account`, secret: {secretName: service}})
      summary.volumes.push(`${service}-service-account`)
    }
  }
}

/** <NAME>_CONNECT_SERVICE_HOST/PORT for every upstream, in every container already there. */
function addUpstreamEnv(spec: Json, resolved: Resolved, summary: MutationSummary): void {
  const upstreamEnv = upstreamEnvVars(resolved.upstreams)
  summary.envVars = upstreamEnv.map((env) => env.name)
  const seen = new Set<string>()
  for (const env of upstreamEnv) {
    if (seen.has(env.name)) summary.warnings.push(`two upstreams set ${env.name}; the later one wins in the containers`)
    seen.add(env.name)
  }
  if (upstreamEnv.length > 0) {
    for (const container of [...(spec.initContainers ?? []), ...spec.containers] as Json[]) {
      container.env = [...(container.env ?? []), ...structuredClone(upstreamEnv)]
    }
  }
}

/**
 * One connect-init init container and one consul-dataplane sidecar per service (one of each
 * for a single-service pod); the sidecars go among the init containers (dataplane as a
 * sidecar init container), first (lifecycle), or after the user's containers.
 */
function addProxies(original: PodTemplate, spec: Json, settings: InjectSettings, resolved: Resolved, summary: MutationSummary): void {
  const userContainers = spec.containers as Json[]
  const serviceList: Array<{index: number; name: string} | undefined> = resolved.multiPort
    ? resolved.services.map((name, index) => ({index, name}))
    : [undefined]
  const sidecars: Json[] = []
  const initContainers: Json[] = []
  for (const service of serviceList) {
    const init = initContainer(original, spec, settings, resolved, service)
    const sidecar = sidecarContainer(spec, settings, resolved, service)
    initContainers.push(init)
    sidecars.push(sidecar)
    summary.services.push({
      name: service?.name ?? (resolved.services[0] || undefined),
      port: resolved.ports[service?.index ?? 0]?.port,
      initContainer: init.name,
      sidecar: sidecar.name,
      proxyPort: INBOUND_PORT + (service?.index ?? 0),
    })
  }
  spec.initContainers = [...(spec.initContainers ?? []), ...initContainers]
  if (resolved.dataplaneAsSidecar) spec.initContainers.push(...sidecars)
  else if (resolved.lifecycle) spec.containers = [...sidecars, ...userContainers]
  else spec.containers = [...userContainers, ...sidecars]
}

/**
 * The injected marks (status annotation and label, transparent-proxy status, managed-by, the
 * original-pod annotation the endpoints controller reads), and with transparent proxy the
 * probes rewritten through the proxy.
 */
function markInjected(
  template: PodTemplate,
  original: PodTemplate,
  userContainers: Json[],
  settings: InjectSettings,
  resolved: Resolved,
  summary: MutationSummary,
): void {
  const meta = template.metadata!
  meta.annotations = {...resolved.annotations, [ANNOTATIONS.injectStatus]: INJECTED}
  if (resolved.tproxy) meta.annotations[ANNOTATIONS.transparentProxyStatus] = 'enabled'
  meta.labels = {...meta.labels, [LABELS.injectStatus]: INJECTED, [LABELS.managedBy]: INJECT_MANAGED_BY_VALUE}

  // As the webhook: always, the pod as it was before the mutation (the endpoints controller reads its probes).
  meta.annotations[ANNOTATIONS.originalPod] = JSON.stringify(originalPodJson(original))
  // Without a version the endpoints controller takes the pod for a pre-dataplane one and never registers it.
  const version = consulK8sVersion(settings.consulK8sImage)
  meta.annotations[ANNOTATIONS.legacyConsulK8sVersion] = version
  meta.annotations[ANNOTATIONS.consulK8sVersion] = version
  meta.annotations[ANNOTATIONS.dualStack] = 'false'
  if (resolved.tproxy && resolved.overwriteProbes) summary.probesRewritten = rewriteProbes(userContainers)
}

/**
 * The consul-k8s version the webhook writes (its GetHumanVersion, "v2.0.3"): the tag of the
 * connect-init image when it is a version, else the version of the default image.
 */
export function consulK8sVersion(image: string): string {
  const tag = /^[^@]*:([^:/@]+)$/.exec(image)?.[1]
  const version = tag && /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/.test(tag) ? tag : DEFAULT_IMAGES.consulK8s.split(':')[1]
  return version.startsWith('v') ? version : `v${version}`
}

function checkClashes(spec: Json, resolved: Resolved): void {
  if ((spec.volumes ?? []).some((volume: Json) => volume.name === VOLUME_NAME)) {
    throw new InjectError(`the pod template already has a volume named ${VOLUME_NAME} but is not marked injected`, ANNOTATIONS.injectStatus)
  }
  const names = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((container: Json) => container.name))
  const suffixes = resolved.multiPort ? resolved.services.map((service) => `-${service}`) : ['']
  for (const suffix of suffixes) {
    for (const name of [INIT_CONTAINER + suffix, SIDECAR_CONTAINER + suffix]) {
      if (names.has(name)) {
        throw new InjectError(`the pod template already has a container named ${name} but is not marked injected`, ANNOTATIONS.injectStatus)
      }
    }
  }
}

/** The webhook refuses pods whose own user ID is the dataplane's (5995). */
function checkSidecarUid(spec: Json, settings: InjectSettings): void {
  if (spec.securityContext?.runAsUser === SIDECAR_UID) {
    throw new InjectError(`the pod's securityContext.runAsUser is ${SIDECAR_UID}, the user ID consul-dataplane runs as; pick another`)
  }
  for (const container of spec.containers ?? []) {
    if (container.securityContext?.runAsUser === SIDECAR_UID && container.image !== settings.dataplaneImage) {
      throw new InjectError(`container "${container.name}" runs as user ${SIDECAR_UID}, the user ID consul-dataplane runs as; pick another`)
    }
  }
}

function jsonListAnnotation(annotations: Annotations, key: string): Json[] {
  const raw = annotations[key]
  if (raw === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new AnnotationError(key, raw, `annotation ${key} is not valid JSON (expected a JSON list)`)
  }
  if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== 'object' || item === null || typeof item.name !== 'string')) {
    throw new AnnotationError(key, raw, `annotation ${key} must be a JSON list of objects with a "name"`)
  }
  return parsed as Json[]
}

export function upstreamEnvVars(upstreams: Upstream[]): Array<{name: string; value: string}> {
  return upstreams.flatMap((upstream) =>
    upstream.envPrefix
      ? [
          {name: `${upstream.envPrefix}_CONNECT_SERVICE_HOST`, value: '127.0.0.1'},
          {name: `${upstream.envPrefix}_CONNECT_SERVICE_PORT`, value: String(upstream.localBindPort)},
        ]
      : [],
  )
}

const fieldEnv = (name: string, fieldPath: string): Json => ({name, valueFrom: {fieldRef: {fieldPath}}})

/** The service account token mount the pod's containers already have, if any. */
function findTokenMount(spec: Json): Json | undefined {
  for (const container of spec.containers ?? []) {
    const mount = (container.volumeMounts ?? []).find((candidate: Json) => candidate.mountPath === SA_TOKEN_DIR)
    if (mount) return mount
  }
  return undefined
}

/**
 * The token the injected containers log in with, and the mount they need for it. A
 * multi-port service other than the pod's own service account uses the token Secret named
 * like the service (the seed's Kubernetes 1.24+ setup); otherwise the pod's own token,
 * which the ServiceAccount admission plugin mounts into every container when the pod is
 * created (or which the template mounts itself).
 */
function loginToken(spec: Json, service: {name: string} | undefined): {file: string; mount?: Json} {
  if (service && service.name !== (spec.serviceAccountName ?? '')) {
    const mountPath = `/consul/serviceaccount-${service.name}`
    return {file: `${mountPath}/token`, mount: {name: `${service.name}-service-account`, readOnly: true, mountPath}}
  }
  const existing = findTokenMount(spec)
  return {file: `${SA_TOKEN_DIR}/token`, mount: existing ? structuredClone(existing) : undefined}
}

function initContainer(
  original: PodTemplate,
  spec: Json,
  settings: InjectSettings,
  resolved: Resolved,
  service: {index: number; name: string} | undefined,
): Json {
  const serviceName = service?.name ?? resolved.annotations[ANNOTATIONS.service] ?? ''
  const lines = [
    'consul-k8s-control-plane connect-init -pod-name=${POD_NAME} -pod-namespace=${POD_NAMESPACE} \\',
    `  -log-level=${settings.logLevel} \\`,
    `  -log-json=${settings.logJSON} \\`,
  ]
  if (settings.acls) {
    lines.push(`  -service-account-name="${service ? service.name : (spec.serviceAccountName ?? '')}" \\`, `  -service-name="${serviceName}" \\`)
  }
  if (service) {
    lines.push('  -multiport=true \\', `  -proxy-id-file=${MOUNT_PATH}/proxyid-${service.name} \\`)
    if (!settings.acls) lines.push(`  -service-name="${service.name}" \\`)
  }
  const env: Json[] = [
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    {name: 'CONSUL_ADDRESSES', value: settings.consulAddress},
    {name: 'CONSUL_GRPC_PORT', value: String(settings.grpcPort)},
    {name: 'CONSUL_HTTP_PORT', value: String(settings.httpPort)},
    {name: 'CONSUL_API_TIMEOUT', value: settings.apiTimeout},
    {name: 'CONSUL_NODE_NAME', value: '$(NODE_NAME)-virtual'},
    {name: 'CONSUL_DUAL_STACK', value: 'false'},
  ]
  if (settings.tls.enabled) {
    env.push(
      {name: 'CONSUL_USE_TLS', value: 'true'},
      {name: 'CONSUL_CACERT_PEM', value: settings.tls.caCertPem ?? ''},
      {name: 'CONSUL_TLS_SERVER_NAME', value: settings.tls.serverName ?? ''},
    )
  }
  const volumeMounts: Json[] = [{name: VOLUME_NAME, mountPath: MOUNT_PATH}]
  if (settings.acls) {
    const token = loginToken(spec, service)
    if (token.mount) volumeMounts.push(token.mount)
    env.push(
      {name: 'CONSUL_LOGIN_AUTH_METHOD', value: settings.authMethod},
      {name: 'CONSUL_LOGIN_BEARER_TOKEN_FILE', value: token.file},
      {name: 'CONSUL_LOGIN_META', value: 'pod=$(POD_NAMESPACE)/$(POD_NAME)'},
    )
  }
  let securityContext: Json
  if (resolved.tproxy) {
    env.push({name: 'CONSUL_REDIRECT_TRAFFIC_CONFIG', value: redirectTrafficConfig(original, resolved)})
    // iptables needs root and NET_ADMIN.
    securityContext = {runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, privileged: false, capabilities: {add: ['NET_ADMIN']}}
  } else {
    securityContext = {
      allowPrivilegeEscalation: false,
      capabilities: {add: [], drop: ['ALL']},
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      seccompProfile: {type: 'RuntimeDefault'},
    }
  }
  return {
    name: service ? `${INIT_CONTAINER}-${service.name}` : INIT_CONTAINER,
    image: settings.consulK8sImage,
    env,
    resources: structuredClone(settings.initResources),
    volumeMounts,
    command: ['/bin/sh', '-ec', lines.join('\n')],
    securityContext,
  }
}

/** The iptables configuration connect-init applies, as the webhook marshals consul's iptables.Config. */
function redirectTrafficConfig(original: PodTemplate, resolved: Resolved): string {
  const annotations = resolved.annotations
  const excludeInbound: string[] = []
  if (resolved.useProxyHealthCheck) excludeInbound.push(String(HEALTH_PORT))
  if (resolved.overwriteProbes) {
    userContainerProbes(original.spec?.containers ?? [], (_container, _probe, port) => excludeInbound.push(String(port)))
  }
  excludeInbound.push(...portListAnnotation(annotations, ANNOTATIONS.excludeInboundPorts))
  const excludeOutbound = portListAnnotation(annotations, ANNOTATIONS.excludeOutboundPorts)
  const excludeCIDRs = cidrListAnnotation(annotations, ANNOTATIONS.excludeOutboundCIDRs)
  const excludeUIDs = [String(INIT_UID), ...uidListAnnotation(annotations, ANNOTATIONS.excludeUIDs)]
  const orNull = (list: string[]) => (list.length > 0 ? list : null)
  return JSON.stringify({
    ConsulDNSIP: '',
    ConsulDNSPort: 0,
    ProxyUserID: String(SIDECAR_UID),
    ProxyInboundPort: INBOUND_PORT,
    ProxyOutboundPort: TPROXY_OUTBOUND_PORT,
    ExcludeInboundPorts: orNull(excludeInbound),
    ExcludeOutboundPorts: orNull(excludeOutbound),
    ExcludeOutboundCIDRs: orNull(excludeCIDRs),
    ExcludeUIDs: excludeUIDs,
    NetNS: '',
    IptablesProvider: null,
  })
}

/** Calls back for every HTTP probe of the user's containers with the exposed-path port it moves to. */
function userContainerProbes(containers: Json[], visit: (container: Json, probe: keyof typeof PROBE_PORT_BASE, port: number) => void): void {
  let index = 0
  for (const container of containers) {
    if (container.name === SIDECAR_CONTAINER) continue
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (container[probe]?.httpGet) visit(container, probe, PROBE_PORT_BASE[probe] + index)
    }
    index++
  }
}

function rewriteProbes(containers: Json[]): string[] {
  const rewritten: string[] = []
  userContainerProbes(containers, (container, probe, port) => {
    container[probe].httpGet.port = port
    rewritten.push(`${container.name} ${probe} -> ${port}`)
  })
  return rewritten
}

function originalPodJson(original: PodTemplate): Json {
  return {metadata: original.metadata ?? {}, spec: original.spec ?? {}, status: {}}
}

function sidecarResources(annotations: Annotations): Json | undefined {
  const limits: Record<string, string> = {}
  const requests: Record<string, string> = {}
  const set = (target: Record<string, string>, resource: string, key: string) => {
    const value = quantityAnnotation(annotations, key)
    if (value !== undefined) target[resource] = value
  }
  set(limits, 'cpu', ANNOTATIONS.cpuLimit)
  set(requests, 'cpu', ANNOTATIONS.cpuRequest)
  set(limits, 'memory', ANNOTATIONS.memoryLimit)
  set(requests, 'memory', ANNOTATIONS.memoryRequest)
  const resources: Json = {}
  if (Object.keys(limits).length > 0) resources.limits = limits
  if (Object.keys(requests).length > 0) resources.requests = requests
  return Object.keys(resources).length > 0 ? resources : undefined
}

function sidecarContainer(spec: Json, settings: InjectSettings, resolved: Resolved, service: {index: number; name: string} | undefined): Json {
  const annotations = resolved.annotations
  const index = service?.index ?? 0
  const probeHandler: Json = resolved.useProxyHealthCheck
    ? {httpGet: {port: HEALTH_PORT + index, path: '/ready'}}
    : {tcpSocket: {port: INBOUND_PORT + index}}
  const env: Json[] = [
    {name: 'TMPDIR', value: MOUNT_PATH},
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    {name: 'DP_SERVICE_NODE_NAME', value: '$(NODE_NAME)-virtual'},
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('POD_UID', 'metadata.uid'),
    {name: 'DP_CREDENTIAL_LOGIN_META', value: 'pod=$(POD_NAMESPACE)/$(POD_NAME)'},
    {name: 'DP_CREDENTIAL_LOGIN_META1', value: 'pod=$(POD_NAMESPACE)/$(POD_NAME)'},
    {name: 'DP_CREDENTIAL_LOGIN_META2', value: 'pod-uid=$(POD_UID)'},
    fieldEnv('HOST_IP', 'status.hostIP'),
  ]
  const volumeMounts: Json[] = [{name: VOLUME_NAME, mountPath: MOUNT_PATH}]
  const token = settings.acls ? loginToken(spec, service) : undefined
  if (token?.mount) volumeMounts.push(token.mount)
  volumeMounts.push(...jsonListAnnotation(annotations, ANNOTATIONS.userVolumeMount))
  const container: Json = {
    name: service ? `${SIDECAR_CONTAINER}-${service.name}` : SIDECAR_CONTAINER,
    image: settings.dataplaneImage,
    args: sidecarArgs(settings, resolved, service, token?.file),
    env,
    volumeMounts,
    readinessProbe: {...structuredClone(probeHandler), initialDelaySeconds: 1},
    securityContext: {
      runAsUser: SIDECAR_UID,
      runAsGroup: SIDECAR_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      seccompProfile: {type: 'RuntimeDefault'},
      capabilities: {drop: ['ALL']},
      readOnlyRootFilesystem: true,
    },
  }
  const resources = sidecarResources(annotations)
  if (resources) container.resources = resources
  if (resolved.useProxyHealthCheck) {
    env.push(fieldEnv('DP_ENVOY_READY_BIND_ADDRESS', 'status.podIP'))
    container.ports = [{name: `proxy-health-${index}`, containerPort: HEALTH_PORT + index}]
  }
  const startupSeconds = positiveOrZero(annotations, ANNOTATIONS.startupFailureSeconds)
  const livenessSeconds = positiveOrZero(annotations, ANNOTATIONS.livenessFailureSeconds)
  if (startupSeconds > 0) container.startupProbe = {...structuredClone(probeHandler), periodSeconds: 1, failureThreshold: startupSeconds}
  if (livenessSeconds > 0) container.livenessProbe = {...structuredClone(probeHandler), periodSeconds: 1, failureThreshold: livenessSeconds}
  if (resolved.dataplaneAsSidecar) {
    const probe = settings.dataplaneAsSidecar
    container.restartPolicy = 'Always'
    const startupProbe: Json = {exec: {command: ['/usr/local/bin/consul-dataplane', '-check-proxy-health']}}
    for (const [field, key, fallback] of [
      ['initialDelaySeconds', ANNOTATIONS.probeInitialDelay, probe.initialDelaySeconds],
      ['periodSeconds', ANNOTATIONS.probePeriod, probe.periodSeconds],
      ['failureThreshold', ANNOTATIONS.probeFailureThreshold, probe.failureThreshold],
      ['timeoutSeconds', ANNOTATIONS.probeTimeout, probe.timeoutSeconds],
    ] as const) {
      // Zero means "not set" for the webhook.
      const value = key in annotations ? atoiOrZero(annotations[key]) : fallback
      if (value > 0) startupProbe[field] = value
    }
    container.startupProbe = startupProbe
  }
  return container
}

/** A seconds/count annotation read as the webhook does (strconv.Atoi, errors ignored): unparsable or negative is 0, "not set". */
function positiveOrZero(annotations: Annotations, key: string): number {
  return key in annotations ? atoiOrZero(annotations[key]) : 0
}

function atoiOrZero(raw: string): number {
  if (!/^[+-]?\d+$/.test(raw)) return 0
  const value = Number(raw)
  return value > 0 && value <= 2 ** 31 - 1 ? value : 0
}

function sidecarArgs(settings: InjectSettings, resolved: Resolved, service: {index: number; name: string} | undefined, tokenFile?: string): string[] {
  const annotations = resolved.annotations
  const index = service?.index ?? 0
  const concurrency = uintAnnotation(annotations, ANNOTATIONS.envoyConcurrency) ?? settings.envoyConcurrency
  const args = [
    '-addresses',
    settings.consulAddress,
    '-envoy-admin-bind-address=127.0.0.1',
    '-consul-dns-bind-addr=127.0.0.1',
    '-xds-bind-addr=127.0.0.1',
    `-grpc-port=${settings.grpcPort}`,
    `-proxy-service-id-path=${MOUNT_PATH}/${service ? `proxyid-${service.name}` : 'proxyid'}`,
    `-log-level=${settings.logLevel}`,
    `-log-json=${settings.logJSON}`,
    `-envoy-concurrency=${concurrency}`,
    '-graceful-addr=127.0.0.1',
  ]
  if (settings.acls) {
    args.push('-credential-type=login', `-login-auth-method=${settings.authMethod}`, `-login-bearer-token-path=${tokenFile}`)
  }
  if (settings.tls.enabled) {
    if (settings.tls.serverName) args.push(`-tls-server-name=${settings.tls.serverName}`)
    if (settings.tls.caCertPem) args.push(`-ca-certs=${CA_FILE}`)
  } else {
    args.push('-tls-disabled')
  }
  if (resolved.useProxyHealthCheck) args.push(`-envoy-ready-bind-port=${HEALTH_PORT + index}`)
  if (service) args.push(`-envoy-admin-bind-port=${19000 + index}`)

  const lifecycle = settings.lifecycle
  args.push(`-graceful-port=${(resolved.gracefulPort ?? lifecycle.gracefulPort) + index}`)
  if (resolved.lifecycle) {
    if (boolAnnotation(annotations, ANNOTATIONS.lifecycleDrainListeners, {emptyIsAbsent: true}) ?? lifecycle.drainListeners) {
      args.push('-shutdown-drain-listeners')
    }
    args.push(
      `-shutdown-grace-period-seconds=${uintAnnotation(annotations, ANNOTATIONS.lifecycleShutdownGrace) ?? lifecycle.shutdownGracePeriodSeconds}`,
      `-graceful-shutdown-path=${annotations[ANNOTATIONS.lifecycleShutdownPath] || lifecycle.shutdownPath}`,
      `-startup-grace-period-seconds=${uintAnnotation(annotations, ANNOTATIONS.lifecycleStartupGrace) ?? lifecycle.startupGracePeriodSeconds}`,
      `-graceful-startup-path=${annotations[ANNOTATIONS.lifecycleStartupPath] || lifecycle.startupPath}`,
    )
  }
  args.push('-telemetry-prom-scrape-path=/metrics')

  const envoyArgs: string[] = []
  // --base-id lets several Envoys share a host.
  if (service) envoyArgs.push('--base-id', String(index))
  const extra = annotations[ANNOTATIONS.envoyExtraArgs]
  if (extra !== undefined) {
    for (const token of shellSplit(extra, ANNOTATIONS.envoyExtraArgs)) envoyArgs.push(token.includes(' ') ? JSON.stringify(token) : token)
  }
  if (envoyArgs.length > 0) args.push('--', ...envoyArgs)
  return args
}

/** Splits like a POSIX shell (quotes and backslashes), as the webhook's shlex does. */
export function shellSplit(text: string, annotation: string): string[] {
  const tokens: string[] = []
  let current = ''
  let inToken = false
  let quote: '"' | "'" | undefined
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (quote) {
      if (char === quote) quote = undefined
      else if (char === '\\' && quote === '"' && index + 1 < text.length) current += text[++index]
      else current += char
    } else if (char === '"' || char === "'") {
      quote = char
      inToken = true
    } else if (char === '\\' && index + 1 < text.length) {
      current += text[++index]
      inToken = true
    } else if (/\s/.test(char)) {
      if (inToken) tokens.push(current)
      current = ''
      inToken = false
    } else {
      current += char
      inToken = true
    }
  }
  if (quote) throw new AnnotationError(annotation, text, `annotation ${annotation} has an unclosed ${quote} quote`)
  if (inToken) tokens.push(current)
  return tokens
}
