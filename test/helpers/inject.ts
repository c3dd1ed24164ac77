/**
 * The injection engine over a table of manifests, for the unit tests of src/inject: plan the
 * manifests of one file (`plan`), plan and write them (`inject`), read the result (`workload`,
 * `containerNames`, `envOf`) and the fixtures of test/fixtures/inject (`fixture`, `deployment`).
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'

import {applyManifestPlan, planManifests, renderManifests} from '../../src/inject/manifests.js'
import type {Json} from '../../src/inject/mutate.js'
import type {WorkloadPlan} from '../../src/inject/plan.js'
import {buildSettings, type SettingsInput} from '../../src/inject/settings.js'

const FIXTURES = new URL('../fixtures/inject/', import.meta.url)
export const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8')

export function plan(text: string, settings: SettingsInput = {}, namespace = 'default') {
  const manifests = planManifests([{name: 'input.yaml', text}], buildSettings(settings), namespace)
  const workload = (name: string): WorkloadPlan => {
    const found = manifests.plan.workloads.find((candidate) => candidate.name === name)
    assert.ok(found, `workload ${name} planned`)
    return found
  }
  return {manifests, workload}
}

export function inject(text: string, settings: SettingsInput = {}) {
  const result = plan(text, settings)
  applyManifestPlan(result.manifests)
  return {...result, output: renderManifests(result.manifests, 'yaml')}
}

export const containerNames = (list: Json[] | undefined) => (list ?? []).map((container) => container.name)
export const envOf = (container: Json) => Object.fromEntries((container.env ?? []).map((env: Json) => [env.name, env.value]))

export function deployment(name: string, annotations: Record<string, string>, extra: {namespace?: string; spec?: Json; meta?: Json} = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name, namespace: extra.namespace, annotations: extra.meta},
    spec: {
      selector: {matchLabels: {app: name}},
      template: {
        metadata: {labels: {app: name}, annotations},
        spec: {containers: [{name: 'app', image: 'nginx', ports: [{name: 'http', containerPort: 80}]}], ...extra.spec},
      },
    },
  })
}
