/**
 * What every check builder shares: the Side being judged, making a check, the likely cause
 * and next step of a failure to read something, and the consulk8s commands named as fixes.
 * Pure.
 */
import type {AgentInfo, Check, CheckStatus, FailureKind, ProbeFailure, SideObservation} from './types.js'

export interface Side {
  obs: SideObservation
  label: string
  agent?: AgentInfo
}

export function make(
  id: string,
  title: string,
  status: CheckStatus,
  detail: string,
  extra: {cause?: string; next?: string; context?: string} = {},
): Check {
  const result: Check = {id, title, status, detail}
  if (extra.context !== undefined) result.context = extra.context
  if (status !== 'ok') {
    if (extra.cause) result.cause = extra.cause
    if (extra.next) result.next = extra.next
  }
  return result
}

export const unique = (values: Iterable<string>): string[] => [...new Set([...values].filter(Boolean))].sort()

export function sideLabel(obs: SideObservation, agent?: AgentInfo): string {
  return agent && agent.datacenter !== obs.context ? `${obs.context} (${agent.datacenter})` : obs.context
}

/** Likely cause and next step for a failure to reach something, by kind. */
export function failureAdvice(failure: ProbeFailure, side: Side, what: 'consul' | 'secret'): {cause: string; next: string} {
  const {context, namespace, names} = side.obs
  const viaExec = side.obs.consul.via === 'exec'
  const defaults: Record<FailureKind, {cause: string; next: string}> = {
    unreachable:
      what === 'secret'
        ? {cause: `the Kubernetes API of context ${context} did not answer`, next: 'check that the cluster is up and the kubeconfig points at it'}
        : {
            cause: `the Consul server is down, or ${side.obs.consul.source} is not its address`,
            next: viaExec
              ? `check the server pods: kubectl get pods -n ${namespace} --context ${context}`
              : 'check the address (--consul-http-addr / CONSUL_HTTP_ADDR) and that the Consul servers run',
          },
    tls: {
      cause: "Consul's HTTPS certificate did not verify against the CA in use (--consul-cacert, else caCert of the federation secret)",
      next: 'pass the CA that signed the Consul servers with --consul-cacert; do not turn verification off',
    },
    forbidden:
      what === 'secret'
        ? {
            cause: `your Kubernetes user may not read secrets in namespace ${namespace}`,
            next: 'ask for get permission on secrets there, or use an admin context',
          }
        : {
            cause:
              'the ACL token is missing, unknown to this datacenter (not replicated yet, or from another primary) or lacks agent:read / node:read',
            next: `pass a management token with --consul-token / CONSUL_HTTP_TOKEN (the chart keeps it in secret ${names.bootstrapTokenSecret}, key token)`,
          },
    'not-found': {
      cause: `Consul is not installed in namespace ${namespace} of context ${context}, or under another release name`,
      next: 'check --namespace and --release (every name follows from the release)',
    },
    'pod-not-ready': {
      cause: "no Consul server pod is running, so nothing can be exec'd into",
      next: `kubectl describe pod ${names.serverStatefulSet}-0 -n ${namespace} --context ${context}; or reach Consul over HTTPS with --consul-http-addr`,
    },
    exec: {
      cause: "the command could not be run in the server pod (exec forbidden, the node's kubelet unreachable, or a tool missing in the image)",
      next: 'reach Consul over HTTPS with --consul-http-addr, --consul-cacert and --consul-token',
    },
    'no-route': {
      cause: 'the server cannot forward the request to that datacenter: no alive server of it in its WAN pool',
      next: 'fix WAN membership first (see the WAN pool checks)',
    },
    error: {cause: 'an unexpected answer', next: 'rerun with --verbose and check the Consul server logs'},
  }
  if (failure.origin === 'kubernetes' && (failure.kind === 'unreachable' || failure.kind === 'error')) {
    // The Kubernetes API failed before Consul was asked anything: blame it, not Consul.
    return {
      cause:
        failure.kind === 'unreachable'
          ? `the Kubernetes API of context ${context} did not answer`
          : `the Kubernetes API of context ${context} refused the request`,
      next: failure.next ?? 'check that the cluster is up and the kubeconfig points at it (--context/--kubeconfig)',
    }
  }
  const advice = defaults[failure.kind]
  return {cause: advice.cause, next: failure.next ?? advice.next}
}

/** -n and, for another release, --release, as every consulk8s command for this side takes them. */
export function scopeFlags(side: Side): string {
  return `-n ${side.obs.namespace}${side.obs.names.prefix === 'consul' ? '' : ` --release ${side.obs.names.prefix}`}`
}

/** The consulk8s command that (re)writes a side's federation setup: federate primary in the primary, federate secondary elsewhere. */
export function federateCommand(side: Side, primaryContext: string | undefined, isPrimary: boolean, extra = ''): string {
  const tail = `${scopeFlags(side)}${extra ? ` ${extra}` : ''}`
  return isPrimary
    ? `consulk8s federate primary --context ${side.obs.context} ${tail}`
    : `consulk8s federate secondary --context ${side.obs.context} --primary-context ${primaryContext ?? '<primary context>'} ${tail}`
}

/** consulk8s's own way to copy the federation secret from the primary into a side. */
export function reimportCommand(side: Side, primaryContext: string | undefined, force: boolean): string {
  const where = scopeFlags(side)
  return `consulk8s federate export --context ${primaryContext ?? '<primary context>'} ${where} | consulk8s federate import --context ${side.obs.context} ${where} -f -${force ? ' --force' : ''}`
}
