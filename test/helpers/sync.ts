/** Arguments of `consulk8s sync` against the test environment's dc1. */
import type {TestEnvState} from '../env/index.js'

/** dc1's Kubernetes API and Consul (HTTPS, the environment's CA); the token goes through the environment. */
export function dc1Args(env: TestEnvState): string[] {
  return [
    '--kubeconfig',
    env.kubeconfig,
    '--context',
    'dc1',
    '--consul-http-addr',
    env.consul.dc1.httpAddr,
    '--consul-cacert',
    env.federation.caCertFile,
  ]
}

/** `sync` against dc1, from one namespace, as the engine `consulNode`; then `extra`. */
export function syncArgs(env: TestEnvState, allowNamespace: string, consulNode: string, extra: string[] = []): string[] {
  return ['sync', ...dc1Args(env), '--k8s-allow-namespace', allowNamespace, '--consul-node-name', consulNode, ...extra]
}
