/**
 * Kubernetes access for tests: consulk8s's own KubeCluster (so a test can hand it to the code
 * under test) plus the client library's typed APIs for arranging fixtures, built from the
 * same context. The library is a test-side convenience only; consulk8s itself goes through
 * the lean transport (src/kube/http.ts).
 */
import {KubeCluster, connectCluster, type KubeTarget} from '../../src/kube/client.js'
import type {K8s, LibraryConfig} from '../../src/kube/library.js'

export class TestCluster extends KubeCluster {
  k8s!: K8s
  config!: LibraryConfig

  core() {
    return this.config.makeApiClient(this.k8s.CoreV1Api)
  }

  apps() {
    return this.config.makeApiClient(this.k8s.AppsV1Api)
  }

  batch() {
    return this.config.makeApiClient(this.k8s.BatchV1Api)
  }

  discovery() {
    return this.config.makeApiClient(this.k8s.DiscoveryV1Api)
  }

  objects() {
    return this.k8s.KubernetesObjectApi.makeApiClient(this.config)
  }
}

export async function connectTestCluster(target: KubeTarget): Promise<TestCluster> {
  const cluster = await connectCluster(target)
  const test = Object.setPrototypeOf(cluster, TestCluster.prototype) as TestCluster
  const {k8s, config} = await cluster.library()
  test.k8s = k8s
  test.config = config
  return test
}
