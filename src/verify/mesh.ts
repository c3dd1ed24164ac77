/**
 * The mesh-gateway step of the federation procedure: a proxy-defaults config entry "global"
 * with MeshGateway.Mode = local in every datacenter (and, where the ProxyDefaults CRD is
 * installed, the resource synced to Consul). Pure.
 */
import {failureAdvice, make, type Side} from './check-support.js'
import type {Check, Probe, ProxyDefaultsView} from './types.js'

const WHY =
  'without MeshGateway.Mode local, traffic from one datacenter to another does not go through the mesh gateways (the federation guide requires it in every datacenter)'

/** The failing check for a missing, unreadable or wrong entry of datacenter `dc`; undefined when it is local. */
function entryProblem(
  side: Side,
  probe: Probe<ProxyDefaultsView | null>,
  dc: string,
  id: string,
  title: string,
  fix: string,
  context: {primary?: string; primaryHasIt?: boolean},
): Check | undefined {
  const ctx = side.obs.context
  if (!probe.ok) return make(id, title, 'fail', probe.error.message, {...failureAdvice(probe.error, side, 'consul'), context: ctx})
  if (probe.value === null) {
    const replicating = context.primaryHasIt && context.primary && context.primary !== dc
    return make(id, title, 'fail', `${dc} has no proxy-defaults config entry "global" (/v1/config/proxy-defaults/global: not found)`, {
      context: ctx,
      cause: replicating
        ? `config entries replicate from the primary ${context.primary}, which has it: ${dc} has not received it (replication lags or fails)`
        : `it was never created (or was deleted); ${WHY}`,
      next: fix,
    })
  }
  const mode = probe.value.meshGatewayMode
  if (mode !== 'local')
    return make(id, title, 'fail', `MeshGateway.Mode is ${mode ? `"${mode}"` : 'not set'} in ${dc}, not "local"`, {
      context: ctx,
      cause: WHY,
      next: fix,
    })
  return undefined
}

/** The entries of datacenters no reachable side runs, asked through `side` (?dc=). */
export function remoteProxyDefaultsChecks(side: Side, fixFor: (dc: string) => string, context: {primary?: string; primaryHasIt?: boolean}): Check[] {
  return Object.entries(side.obs.consul.remoteProxyDefaults ?? {}).map(([dc, probe]) => {
    const id = `proxy-defaults:${side.obs.context}:${dc}`
    const title = `${side.label}: proxy-defaults "global" sets mesh gateway mode local in ${dc} (asked through ${side.agent?.datacenter ?? side.obs.context})`
    return (
      entryProblem(side, probe, dc, id, title, fixFor(dc), context) ?? make(id, title, 'ok', 'MeshGateway.Mode local', {context: side.obs.context})
    )
  })
}

/**
 * ✓ when Consul holds proxy-defaults "global" with mesh gateway mode local and, where the
 * CRD exists and a ProxyDefaults "global" is there, its Synced condition is True.
 * `fix` is the consulk8s command that creates it; `primaryHasIt` tells a secondary's missing
 * entry (config entries replicate from the primary) from one nobody wrote.
 */
export function proxyDefaultsCheck(side: Side, fix: string, context: {primary?: string; primaryHasIt?: boolean}): Check | undefined {
  const probe = side.obs.consul.proxyDefaults
  if (!probe || !side.agent) return undefined
  const ctx = side.obs.context
  const dc = side.agent.datacenter
  const id = `proxy-defaults:${ctx}`
  const title = `${side.label}: proxy-defaults "global" sets mesh gateway mode local in ${dc}`
  const problem = entryProblem(side, probe, dc, id, title, fix, context)
  if (problem) return problem
  const resource = side.obs.proxyDefaultsResource
  if (!resource) return make(id, title, 'ok', 'MeshGateway.Mode local', {context: ctx})
  if (!resource.ok) {
    return make(id, title, 'warn', `MeshGateway.Mode local; the ProxyDefaults resource could not be read: ${resource.error.message}`, {
      ...failureAdvice(resource.error, side, 'secret'),
      context: ctx,
    })
  }
  const view = resource.value
  if (!view.crd) return make(id, title, 'ok', 'MeshGateway.Mode local (no ProxyDefaults CRD in this cluster)', {context: ctx})
  if (!view.resource)
    return make(id, title, 'ok', 'MeshGateway.Mode local (written through the API; no ProxyDefaults resource "global" in this cluster)', {
      context: ctx,
    })
  const where = `ProxyDefaults global in namespace ${view.resource.namespace}`
  if (view.resource.synced !== 'True') {
    const reason = [view.resource.reason, view.resource.message].filter(Boolean).join(': ')
    return make(
      id,
      title,
      'fail',
      `MeshGateway.Mode local in Consul, but ${where} is not synced (Synced ${view.resource.synced ?? 'not reported'}${reason ? `, ${reason}` : ''})`,
      {
        context: ctx,
        cause:
          "consul-k8s's controller (in the connect-injector) has not written the resource to Consul: it is not running, or Consul refused the entry",
        next: `kubectl describe proxydefaults global -n ${view.resource.namespace} --context ${ctx}, and the connect-injector's logs; then ${fix}`,
      },
    )
  }
  return make(id, title, 'ok', `MeshGateway.Mode local; ${where} Synced True`, {context: ctx})
}
