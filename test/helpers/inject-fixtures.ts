/**
 * Fixtures for unit tests of the pure pod mutation (src/inject/mutate.ts): the settings of
 * consul-k8s's webhook tests (MeshWebhook{...} with Go's zero values), pod templates, and
 * lookups in the mutated template.
 */
import assert from 'node:assert/strict'

import {mutatePodTemplate, type Json, type MutationResult, type PodTemplate} from '../../src/inject/mutate.js'
import {defaultSettings, type InjectSettings} from '../../src/inject/settings.js'

/**
 * The injector as consul-k8s's webhook tests build it: `MeshWebhook{ConsulAddress: "1.1.1.1",
 * ConsulConfig: {GRPCPort: 8502, HTTPPort: 8500}, LogLevel: "info"}` and Go's zero values for the
 * rest (no transparent proxy, no probe overwriting, no proxy lifecycle, concurrency 0, no
 * init container resources, API timeout 0s), then what the case changes.
 */
export function webhookSettings(change: (settings: InjectSettings) => void = () => {}): InjectSettings {
  const settings = defaultSettings()
  settings.consulAddress = '1.1.1.1'
  settings.transparentProxy = false
  settings.overwriteProbes = false
  settings.lifecycle.enabled = false
  settings.lifecycle.drainListeners = false
  settings.lifecycle.shutdownGracePeriodSeconds = 0
  settings.envoyConcurrency = 0
  settings.apiTimeout = '0s'
  settings.initResources = {}
  change(settings)
  return settings
}

/** A pod template with these annotations; containers `web` and `web-side` unless the spec says otherwise. */
export function podTemplate(annotations: Record<string, string> = {}, spec: Json = {containers: [{name: 'web'}, {name: 'web-side'}]}): PodTemplate {
  return {metadata: {annotations: {...annotations}}, spec: structuredClone(spec)}
}

/** Mutates the template in namespace k8snamespace (the webhook tests' testNS), with these namespace labels. */
export function mutate(
  template: PodTemplate,
  settings: InjectSettings = webhookSettings(),
  namespaceLabels?: Record<string, string>,
): MutationResult {
  return mutatePodTemplate(template, settings, {namespace: 'k8snamespace', namespaceLabels})
}

/** The container (or init container) of that name in the mutated template. */
export function containerNamed(result: MutationResult, name: string): Json {
  const spec = result.template.spec!
  const found = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].find((container: Json) => container.name === name)
  assert.ok(found, `container ${name} in ${JSON.stringify([...(spec.initContainers ?? []), ...spec.containers].map((c: Json) => c.name))}`)
  return found
}

export const sidecarOf = (result: MutationResult, service?: string): Json =>
  containerNamed(result, service ? `consul-dataplane-${service}` : 'consul-dataplane')
export const initOf = (result: MutationResult, service?: string): Json =>
  containerNamed(result, service ? `consul-connect-inject-init-${service}` : 'consul-connect-inject-init')
export const argLine = (container: Json): string => (container.args as string[]).join(' ')
export const names = (list: Json[] | undefined): string[] => (list ?? []).map((item) => item.name)
export const envValue = (container: Json, name: string): string | undefined =>
  (container.env as Json[] | undefined)?.find((env) => env.name === name)?.value

/** Runs fn and returns the error it throws, checked to be of that class. */
export function thrown<T extends Error>(kind: new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`)
    return error
  }
  assert.fail(`expected ${kind.name}, nothing was thrown`)
}
