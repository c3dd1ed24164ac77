/**
 * Manifests in and out (src/inject/manifests.ts): document order, comments, indentation,
 * JSON output and invalid YAML.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseAllDocuments} from 'yaml'

import {ANNOTATIONS} from '../../src/inject/annotations.js'
import {applyManifestPlan, renderManifests} from '../../src/inject/manifests.js'
import type {Json} from '../../src/inject/mutate.js'
import {deployment, fixture, inject, plan} from '../helpers/inject.js'

describe('inject: many documents', () => {
  it('plans the workloads in document order', () => {
    const names = Array.from({length: 12}, (_, index) => `app-${index + 1}`)
    const text = names.map((name) => deployment(name, {[ANNOTATIONS.inject]: 'true'})).join('\n---\n')
    const {manifests} = plan(text)
    assert.deepEqual(
      manifests.plan.workloads.map((workload) => [workload.name, workload.source]),
      names.map((name, index) => [name, `input.yaml#${index + 1}`]),
    )
  })
})

describe('inject: manifest round trip', () => {
  it('keeps comments, order and untouched documents byte for byte', () => {
    const source = fixture('static-server.yaml')
    const {output} = inject(source)
    const [service, account] = source.split(/^---\n/m)
    assert.ok(output.startsWith(service + '---\n' + account + '---\n'), 'the Service and ServiceAccount are unchanged')
    assert.ok(
      output.includes(
        '      # If ACLs are enabled, the serviceAccountName must match the Consul service name.\n      serviceAccountName: static-server',
      ),
    )
    assert.ok(output.includes(`        'consul.hashicorp.com/connect-inject': 'true'`), 'quoting kept')
    const docs = parseAllDocuments(output)
    assert.deepEqual(
      docs.map((doc) => doc.get('kind')),
      ['Service', 'ServiceAccount', 'Deployment'],
    )
  })

  it('keeps the source indentation style of sequences', () => {
    const compact =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    consul.hashicorp.com/connect-inject: "true"\nspec:\n  containers:\n  - name: app\n    image: busybox\n'
    const {output} = inject(compact)
    assert.match(output, /\n {2}containers:\n {2}- name: consul-dataplane\n/)
  })

  it('writes JSON on request', () => {
    const result = plan(fixture('static-server.yaml'))
    applyManifestPlan(result.manifests)
    const json = JSON.parse(renderManifests(result.manifests, 'json'))
    assert.equal(json.kind, 'List')
    assert.deepEqual(
      json.items.map((item: Json) => item.kind),
      ['Service', 'ServiceAccount', 'Deployment'],
    )
    assert.equal(json.items[2].spec.template.metadata.annotations[ANNOTATIONS.injectStatus], 'injected')
  })

  it('reports invalid YAML with the source and line', () => {
    assert.throws(() => plan('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n'), /input\.yaml:\d+:\d+ is not valid YAML: .*\.$/)
  })
})
