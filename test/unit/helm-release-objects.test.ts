/**
 * How waiting counts ready replicas on the current spec and explains a pod that is not ready.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {V1Pod} from '@kubernetes/client-node'

import {containerProblems, rolledOut} from '../../src/helm/release-objects.js'

describe('waiting: ready on the current spec', () => {
  it('counts no replica until the controller saw the new generation, and only updated ones after', () => {
    assert.equal(rolledOut({metadata: {generation: 3}, status: {observedGeneration: 2}}, 3, 3), 0)
    assert.equal(rolledOut({metadata: {generation: 3}, status: {observedGeneration: 3}}, 3, 1), 1)
    assert.equal(rolledOut({metadata: {generation: 3}, status: {observedGeneration: 3}}, 2, undefined), 2)
  })
})

describe('waiting: why a pod is not ready', () => {
  it('names container states, exit codes and restarts', () => {
    const pod: V1Pod = {
      status: {
        initContainerStatuses: [{name: 'init', ready: false, restartCount: 0, image: 'i', imageID: '', state: {terminated: {exitCode: 0}}}],
        containerStatuses: [
          {
            name: 'consul',
            ready: false,
            restartCount: 4,
            image: 'c',
            imageID: '',
            state: {waiting: {reason: 'CrashLoopBackOff', message: 'back-off 5m0s'}},
          },
          {name: 'sidecar', ready: false, restartCount: 1, image: 's', imageID: '', state: {terminated: {exitCode: 2, reason: 'Error'}}},
          {name: 'ok', ready: true, restartCount: 0, image: 'o', imageID: ''},
        ],
      },
    }
    assert.deepEqual(containerProblems(pod), [
      'consul: CrashLoopBackOff (back-off 5m0s), 4 restarts',
      'sidecar: terminated Error exit code 2, 1 restart',
    ])
  })
})
