/**
 * The one Kubernetes layer of consulk8s (kubectl's Factory in spirit): `connectCluster` gives
 * a KubeCluster for one context of the user's kubeconfig; every read and write goes through
 * it, over the lean transport (http.ts), with kubectl's request timeout and one readable
 * error per failure. Paths are the API's own (`kubePath`), bodies and answers plain JSON.
 * The client library is loaded only for pod exec (`cluster.library()`) and credential plugins.
 */
import {describeKubeError, isNotFound} from './errors.js'
import {openKubeApi, type KubeApi, type KubeTarget, type RequestOptions} from './http.js'
import {readKubeconfig, resolveContext, type Kubeconfig, type KubeconfigContext} from './kubeconfig.js'
import {libraryConfig, loadK8s, type K8s, type LibraryConfig} from './library.js'
import {kubePath, type ResourceRef} from './paths.js'

export type {KubeTarget} from './http.js'
export {apiStatusCode, describeKubeError, isConflict, isNotFound} from './errors.js'
export {kubePath, type ResourceRef} from './paths.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any

export interface ListOptions {
  labelSelector?: string
  fieldSelector?: string
}

export class KubeCluster {
  private libraryPromise?: Promise<{k8s: K8s; config: LibraryConfig}>

  constructor(
    readonly api: KubeApi,
    private readonly kubeconfig: Kubeconfig,
    readonly context: KubeconfigContext,
  ) {}

  get name(): string {
    return this.api.name
  }

  get server(): string {
    return this.api.server
  }

  /** Any API call; a failure becomes one UserError saying what was tried where. */
  async request<T = Json>(what: string, method: string, path: string, options?: RequestOptions): Promise<T> {
    try {
      return await this.api.request<T>(method, path, options)
    } catch (error) {
      throw describeKubeError(error, what, this)
    }
  }

  get<T = Json>(what: string, ref: ResourceRef): Promise<T> {
    return this.request<T>(what, 'GET', kubePath(ref))
  }

  /** A read that may find nothing: a 404 is undefined, anything else an error. */
  async getOptional<T = Json>(what: string, ref: ResourceRef): Promise<T | undefined> {
    try {
      return await this.api.request<T>('GET', kubePath(ref))
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw describeKubeError(error, what, this)
    }
  }

  /** Every item of a collection, following `continue` pages. */
  async list<T = Json>(what: string, ref: ResourceRef, options: ListOptions = {}): Promise<T[]> {
    const items: T[] = []
    let token: string | undefined
    do {
      const page = await this.request<{items?: T[]; metadata?: {continue?: string}}>(what, 'GET', kubePath(ref), {
        query: {labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: 500, continue: token},
      })
      items.push(...(page.items ?? []))
      token = page.metadata?.continue || undefined
    } while (token)
    return items
  }

  create<T = Json>(what: string, ref: ResourceRef, body: unknown): Promise<T> {
    return this.request<T>(what, 'POST', kubePath({...ref, name: undefined}), {body})
  }

  replace<T = Json>(what: string, ref: ResourceRef, body: unknown): Promise<T> {
    return this.request<T>(what, 'PUT', kubePath(ref), {body})
  }

  /** A JSON merge patch (RFC 7386), what `kubectl patch --type merge` sends. */
  mergePatch<T = Json>(what: string, ref: ResourceRef, patch: unknown): Promise<T> {
    return this.request<T>(what, 'PATCH', kubePath(ref), {body: patch, contentType: 'application/merge-patch+json'})
  }

  /** Delete; an object already gone counts as deleted (false). */
  async remove(what: string, ref: ResourceRef, query?: RequestOptions['query']): Promise<boolean> {
    try {
      await this.api.request('DELETE', kubePath(ref), {query})
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw describeKubeError(error, what, this)
    }
  }

  /** The client library and a config for this context, for what only it does (pod exec). */
  library(): Promise<{k8s: K8s; config: LibraryConfig}> {
    this.libraryPromise ??= Promise.all([loadK8s(), libraryConfig(this.kubeconfig, this.context)]).then(([k8s, config]) => ({k8s, config}))
    return this.libraryPromise
  }

  close(): void {
    this.api.close()
  }
}

/** Connect to one context of the kubeconfig the user gave (never the default one instead). */
export async function connectCluster(target: KubeTarget): Promise<KubeCluster> {
  const kubeconfig = readKubeconfig(target.kubeconfig)
  const context = resolveContext(kubeconfig, target.context)
  const api = await openKubeApi(kubeconfig, context, target.requestTimeoutMs)
  return new KubeCluster(api, kubeconfig, context)
}
