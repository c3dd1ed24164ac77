// src/inject/decide.ts against consul-k8s 2.0.3's own table for the webhook's decision
// (control-plane/connect-inject/webhook/mesh_webhook_test.go, TestShouldInject: pods with
// only the service annotation, RequireAnnotation false, i.e. --default-inject), then the
// rules around it: already injected, the explicit annotation as strconv.ParseBool reads it,
// and the seed's misplaced-annotation mistake. Then the same rules over manifests, through the
// plan: opt-in/out, --default-inject, namespaces, already injected, the misplaced annotation.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ANNOTATIONS, AnnotationError} from '../../src/inject/annotations.js'
import {decide, type NamespacePolicy} from '../../src/inject/decide.js'
import {deployment, fixture, inject, plan} from '../helpers/inject.js'

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

describe('inject: the decision rules', () => {
  const optedOut = deployment('opted-out', {[ANNOTATIONS.inject]: 'false'})
  const plain = deployment('plain', {})

  it('is opt-in by default and honours an explicit opt-out even with --default-inject', () => {
    assert.equal(plan(plain).workload('plain').action, 'skip')
    assert.match(plan(plain).workload('plain').reason, /opt-in/)
    assert.equal(plan(plain, {defaultInject: true}).workload('plain').action, 'inject')
    const out = plan(optedOut, {defaultInject: true}).workload('opted-out')
    assert.equal(out.action, 'skip')
    assert.match(out.reason, /opted out/)
  })

  it('never injects kube-system or kube-public, even when annotated and allowed', () => {
    for (const namespace of ['kube-system', 'kube-public']) {
      const text = deployment('sys', {[ANNOTATIONS.inject]: 'true'}, {namespace})
      const planned = plan(text, {allowNamespaces: ['*', namespace]}).workload('sys')
      assert.equal(planned.action, 'skip')
      assert.match(planned.reason, /never injected/)
    }
  })

  it('applies the allow list and lets the deny list win', () => {
    const annotated = {[ANNOTATIONS.inject]: 'true'}
    const text = [deployment('a', annotated, {namespace: 'team-a'}), deployment('b', annotated, {namespace: 'team-b'})].join('\n---\n')
    const allowA = plan(text, {allowNamespaces: ['team-a']})
    assert.equal(allowA.workload('a').action, 'inject')
    assert.equal(allowA.workload('b').action, 'skip')
    assert.match(allowA.workload('b').reason, /not in the allow list/)
    const both = plan(text, {allowNamespaces: ['team-a', 'team-b'], denyNamespaces: ['team-a']})
    assert.equal(both.workload('a').action, 'skip')
    assert.match(both.workload('a').reason, /deny list/)
    assert.equal(both.workload('b').action, 'inject')
    // Objects without a namespace are in -n's namespace.
    const defaulted = plan(deployment('c', annotated), {denyNamespaces: ['shop']}, 'shop')
    assert.equal(defaulted.workload('c').namespace, 'shop')
    assert.equal(defaulted.workload('c').action, 'skip')
  })

  it('skips what is already injected: injecting twice equals injecting once', () => {
    for (const name of ['static-server.yaml', 'multiport-web.yaml', 'static-client-upstreams.yaml']) {
      const once = inject(fixture(name)).output
      const twice = inject(once)
      assert.equal(twice.output, once, name)
      assert.ok(twice.manifests.plan.workloads.every((workload) => workload.action === 'skip' && /already injected/.test(workload.reason)))
    }
  })

  it('warns about the common mistake: the annotation on the Deployment instead of its pod template', () => {
    const text = deployment('mistake', {}, {meta: {[ANNOTATIONS.inject]: 'true'}})
    const planned = plan(text).workload('mistake')
    assert.equal(planned.action, 'skip')
    assert.equal(planned.warnings.length, 1)
    assert.match(
      planned.warnings[0],
      /consul\.hashicorp\.com\/connect-inject is set on the Deployment's own metadata.*spec\.template\.metadata\.annotations/,
    )
    assert.deepEqual(plan(deployment('right', {[ANNOTATIONS.inject]: 'true'})).workload('right').warnings, [])
  })
})
