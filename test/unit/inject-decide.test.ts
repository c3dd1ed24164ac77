// src/inject/decide.ts against consul-k8s 2.0.3's own table for the webhook's decision
// (control-plane/connect-inject/webhook/mesh_webhook_test.go, TestShouldInject: pods with
// only the service annotation, RequireAnnotation false, i.e. --default-inject), then the
// rules around it: already injected, the explicit annotation as strconv.ParseBool reads it,
// and the seed's misplaced-annotation mistake.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AnnotationError} from '../../src/inject/annotations.js'
import {decide, type NamespacePolicy} from '../../src/inject/decide.js'

const policy = (allow: string[], deny: string[], defaultInject = true): NamespacePolicy => ({
  defaultInject,
  allowNamespaces: allow,
  denyNamespaces: deny,
})
const serviceOnly = {'consul.hashicorp.com/connect-service': 'testing'}

describe('inject decision (consul-k8s TestShouldInject)', () => {
  const table: Array<[name: string, namespace: string, allow: string[], deny: string[], expected: boolean]> = [
    ['kube-system not injected', 'kube-system', ['*'], [], false],
    ['kube-public not injected', 'kube-public', ['*'], [], false],
    ['namespaces cannot be injected without an allow list', 'default', [], [], false],
    ['namespace allowed by wildcard', 'default', ['*'], [], true],
    ['namespace in the allow list', 'default', ['default'], [], true],
    ['namespace in the allow list with a wildcard', 'default', ['*', 'default'], [], true],
    ['namespace not in the allow list', 'default', ['ns1', 'ns2'], [], false],
    ['namespace in the deny list', 'default', [], ['default'], false],
    ['namespace in the deny list with an allow wildcard', 'default', ['*'], ['default'], false],
    ['namespace in both lists: deny wins', 'default', ['default'], ['default'], false],
  ]
  for (const [name, namespace, allow, deny, expected] of table) {
    it(name, () => {
      const decision = decide({namespace, kind: 'Pod', templateAnnotations: serviceOnly}, policy(allow, deny))
      assert.equal(decision.inject, expected, decision.reason)
    })
  }

  it("'*' in the deny list is a name, not a wildcard (as the webhook's set lookup)", () => {
    assert.equal(decide({namespace: 'default', kind: 'Pod', templateAnnotations: serviceOnly}, policy(['*'], ['*'])).inject, true)
  })

  it('never injects twice', () => {
    const decision = decide(
      {
        namespace: 'default',
        kind: 'Pod',
        templateAnnotations: {'consul.hashicorp.com/connect-inject': 'true', 'consul.hashicorp.com/connect-inject-status': 'injected'},
      },
      policy(['*'], []),
    )
    assert.equal(decision.inject, false)
    assert.equal(decision.alreadyInjected, true)
  })

  it('the explicit annotation wins over the default, read as strconv.ParseBool reads it', () => {
    for (const value of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
      assert.equal(
        decide({namespace: 'default', kind: 'Pod', templateAnnotations: {'consul.hashicorp.com/connect-inject': value}}, policy(['*'], [], false))
          .inject,
        true,
        value,
      )
    }
    for (const value of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
      assert.equal(
        decide({namespace: 'default', kind: 'Pod', templateAnnotations: {'consul.hashicorp.com/connect-inject': value}}, policy(['*'], [], true))
          .inject,
        false,
        value,
      )
    }
    assert.throws(
      () => decide({namespace: 'default', kind: 'Pod', templateAnnotations: {'consul.hashicorp.com/connect-inject': 'yes'}}, policy(['*'], [])),
      AnnotationError,
    )
  })

  it('without the annotation, injection is opt-in unless --default-inject', () => {
    assert.equal(decide({namespace: 'default', kind: 'Pod', templateAnnotations: {}}, policy(['*'], [], false)).inject, false)
    assert.equal(decide({namespace: 'default', kind: 'Pod', templateAnnotations: {}}, policy(['*'], [], true)).inject, true)
  })

  it("warns when the annotations sit on the workload's own metadata (the seed's common mistake)", () => {
    const decision = decide(
      {namespace: 'default', kind: 'Deployment', templateAnnotations: {}, workloadAnnotations: {'consul.hashicorp.com/connect-inject': 'true'}},
      policy(['*'], [], false),
    )
    assert.equal(decision.inject, false)
    assert.match(decision.warnings[0], /connect-inject is set on the Deployment's own metadata.*spec\.template\.metadata\.annotations/)
  })
})
