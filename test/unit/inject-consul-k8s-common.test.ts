/**
 * consul-k8s 2.0.3's control-plane/connect-inject/common/common_test.go, case by case, against
 * consulk8s's annotation parsing. Each `it` is named "<Go test>/<table entry>".
 *
 * DetermineAndValidatePort is the webhook's reading of a port annotation; of the annotations
 * consulk8s applies, it reads sidecar-proxy-lifecycle-graceful-port (unprivileged), so its
 * cases run through that annotation. Its "privileged" mode and named default ports serve the
 * metrics annotations, which consulk8s does not apply (docs/inject.md "Not done"): "Uses
 * default when there's no annotation" is checked with the chart's default graceful port,
 * "Gets the value of the named default port"/"Errors if the named default port doesn't exist"
 * and "Privileged ports allowed" are skipped.
 *
 * Skipped: TestShouldIgnore (the endpoints controller's namespace filter, which also ignores
 * local-path-storage; the webhook's own rule, kube-system and kube-public, is ported with
 * TestShouldInject in inject-decide.test.ts) and Test_ConsulNamespaceIsNotFound (Consul Enterprise).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ANNOTATIONS, AnnotationError, resolvePort} from '../../src/inject/annotations.js'
import {argLine, mutate, podTemplate, sidecarOf, thrown} from '../helpers/inject-fixtures.js'

const KEY = ANNOTATIONS.lifecycleGracefulPort

describe('common_test.go: TestCommonDetermineAndValidatePort (through the graceful port annotation)', () => {
  const gracefulArg = (annotations: Record<string, string>) => {
    const line = argLine(sidecarOf(mutate(podTemplate({[ANNOTATIONS.service]: 'foo', ...annotations}, spec))))
    return /-graceful-port=(\S+)/.exec(line)?.[1]
  }
  const spec = {containers: [{name: 'web', ports: [{name: 'web-port', containerPort: 2222}]}, {name: 'web-side'}]}
  it('Valid annotation', () => {
    assert.equal(gracefulArg({[KEY]: '1234'}), '1234')
  })
  it("Uses default when there's no annotation", () => {
    assert.equal(gracefulArg({}), '20600')
  })
  it('Gets the value of the named port', () => {
    assert.equal(gracefulArg({[KEY]: 'web-port'}), '2222')
  })
  for (const [name, value] of [
    ['Invalid annotation (not an integer)', 'not-an-int'],
    ['Invalid annotation (integer not in port range)', '100000'],
    ['Invalid annotation (integer not in unprivileged port range)', '22'],
  ]) {
    it(name, () => {
      const error = thrown(AnnotationError, () => gracefulArg({[KEY]: value}))
      assert.equal(error.annotation, KEY)
      assert.match(error.message, /unprivileged port \(1024-65535\)/)
    })
  }
})

describe('common_test.go: TestPortValue', () => {
  it('empty', () => {
    assert.equal(resolvePort([], ''), undefined)
  })
  it('basic pod, with ports', () => {
    assert.equal(resolvePort([{name: 'web', ports: [{name: 'http', containerPort: 8080}]}, {name: 'web-side'}], 'http'), 8080)
  })
  it('basic pod, with unnamed ports', () => {
    assert.equal(resolvePort([{name: 'web', ports: [{containerPort: 8080}]}, {name: 'web-side'}], '8080'), 8080)
  })
})
