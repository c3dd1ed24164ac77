/** Reads that several flows share (install preflight, federation planning, import). */
import type {KubeCluster} from './client.js'

export async function namespaceExists(cluster: KubeCluster, namespace: string): Promise<boolean> {
  return (await cluster.getOptional(`read namespace ${namespace}`, {resource: 'namespaces', name: namespace})) !== undefined
}

export async function serverVersion(cluster: KubeCluster): Promise<string> {
  const info = await cluster.request<{gitVersion: string}>('read the server version', 'GET', '/version')
  return info.gitVersion
}
