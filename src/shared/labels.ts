/**
 * Who made a Kubernetes object, in one place. consulk8s marks everything it creates with
 * `app.kubernetes.io/managed-by: consulk8s` (uninstall --wipe-data and sync's ownership rely on
 * it); the federation secret also carries `managed-by: consul-k8s`, the label consul-k8s's CLI
 * looks for (consul-k8s#1067); sync-catalog labels the Services it makes from Consul `consul=true`.
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const CONSULK8S = 'consulk8s'
/** On every object consulk8s creates. */
export const CONSULK8S_LABEL = {[MANAGED_BY_LABEL]: CONSULK8S} as const
/** consul-k8s#1067: the consul-k8s CLI looks for this label on the federation secret. */
export const CONSUL_K8S_LABEL = {'managed-by': 'consul-k8s'} as const
export const FEDERATION_LABELS: Record<string, string> = {...CONSUL_K8S_LABEL, ...CONSULK8S_LABEL}
/** On every ExternalName Service made from Consul (consul-k8s's sync-catalog: consul=true). */
export const SYNC_SERVICE_LABEL = 'consul'
