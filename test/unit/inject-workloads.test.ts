import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parse} from 'yaml'

import {ANNOTATIONS} from '../../src/inject/annotations.js'
import type {Json} from '../../src/inject/mutate.js'
import {containerNames, inject} from '../helpers/inject.js'

describe('inject: workload kinds', () => {
  it('finds the pod template of every kind, including a List, and leaves other kinds alone', () => {
    const template = {metadata: {annotations: {[ANNOTATIONS.inject]: 'true'}}, spec: {containers: [{name: 'app', image: 'busybox'}]}}
    const objects = [
      {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'pod', annotations: {[ANNOTATIONS.inject]: 'true'}}, spec: template.spec},
      {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'sts'}, spec: {serviceName: 'sts', selector: {}, template}},
      {apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'ds'}, spec: {selector: {}, template}},
      {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: 'rs'}, spec: {selector: {}, template}},
      {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'job'}, spec: {template}},
      {apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name: 'cron'}, spec: {schedule: '* * * * *', jobTemplate: {spec: {template}}}},
      {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'cm'}, data: {a: 'b'}},
    ]
    const list = JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects})
    const result = inject(list)
    assert.deepEqual(
      result.manifests.plan.workloads.map((workload) => [workload.kind, workload.action]),
      ['Pod', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'].map((kind) => [kind, 'inject']),
    )
    const items = parse(result.output).items as Json[]
    assert.deepEqual(containerNames(items[0].spec.containers), ['consul-dataplane', 'app'])
    assert.equal(items[0].metadata.annotations[ANNOTATIONS.injectStatus], 'injected')
    assert.deepEqual(containerNames(items[5].spec.jobTemplate.spec.template.spec.containers), ['consul-dataplane', 'app'])
    assert.deepEqual(items[6], objects[6])
  })
})
