/**
 * States for the sync planner's unit tests (the types of src/sync/model.ts): a Kubernetes
 * Service with the defaults of a plain ClusterIP, and the Consul catalog right after a
 * perfect apply.
 */
import type {ConsulState, K8sService, SyncOptions, K8sState} from '../../src/sync/model.js'
import {desiredRegistrations} from '../../src/sync/to-consul.js'

/** A ClusterIP Service in namespace default with one port http/80, changed by `partial`. */
export function k8sService(partial: Partial<K8sService> & {name: string}): K8sService {
  return {
    namespace: 'default',
    type: 'ClusterIP',
    annotations: {},
    labels: {},
    ports: [{name: 'http', port: 80}],
    externalIPs: [],
    loadBalancerIngress: [],
    ...partial,
  }
}

/** The Consul state right after a perfect apply of `k8s` (services read back with ModifyIndex 100, 101, …). */
export function consulAfter(k8s: K8sState, options: SyncOptions): ConsulState {
  const desired = desiredRegistrations(k8s, options).registrations
  return {
    nodeExists: true,
    nodeServices: desired.map((r, index) => ({...r.service, ModifyIndex: 100 + index})),
    nodeChecks: desired.flatMap((r) => (r.check ? [{...r.check, ServiceID: r.service.ID, ModifyIndex: 1}] : [])),
    catalogServices: {},
  }
}
