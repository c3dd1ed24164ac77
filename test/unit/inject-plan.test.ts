/**
 * The plan of a workload (src/inject/plan.ts): ACLs and the service account checks.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {Json} from '../../src/inject/mutate.js'
import {envOf, fixture, plan} from '../helpers/inject.js'

describe('inject: ACLs and service accounts', () => {
  it('accepts the seed examples, whose service accounts match', () => {
    assert.deepEqual(plan(fixture('static-server.yaml'), {acls: true}).workload('static-server').warnings, [])
    assert.deepEqual(plan(fixture('multiport-web.yaml'), {acls: true}).workload('web').warnings, [])
  })

  it('warns when the service account is not named like the service', () => {
    const wrong = fixture('static-server.yaml').replace('serviceAccountName: static-server', 'serviceAccountName: default')
    const [warning] = plan(wrong, {acls: true}).workload('static-server').warnings
    assert.match(warning, /serviceAccountName is "default" but the Consul service is "static-server"/)
    // Without ACLs the name does not matter.
    assert.deepEqual(plan(wrong).workload('static-server').warnings, [])
    const multi = fixture('multiport-web.yaml').replace('serviceAccountName: web', 'serviceAccountName: web-admin')
    assert.match(plan(multi, {acls: true}).workload('web').warnings[0], /the first service of the multi-port pod is "web"/)
  })

  it('logs in with the auth method; extra multi-port services use their own token secret', () => {
    const web = plan(fixture('multiport-web.yaml'), {acls: true, authMethod: 'my-auth'}).workload('web')
    const spec = web.after!.spec!
    assert.deepEqual(spec.volumes.at(-1), {name: 'web-admin-service-account', secret: {secretName: 'web-admin'}})
    const [webInit, adminInit] = spec.initContainers
    assert.equal(envOf(webInit).CONSUL_LOGIN_AUTH_METHOD, 'my-auth')
    assert.equal(envOf(webInit).CONSUL_LOGIN_BEARER_TOKEN_FILE, '/var/run/secrets/kubernetes.io/serviceaccount/token')
    assert.equal(envOf(adminInit).CONSUL_LOGIN_BEARER_TOKEN_FILE, '/consul/serviceaccount-web-admin/token')
    assert.ok(adminInit.volumeMounts.some((mount: Json) => mount.mountPath === '/consul/serviceaccount-web-admin' && mount.readOnly))
    assert.match(adminInit.command[2], /-service-account-name="web-admin" \\\n {2}-service-name="web-admin" \\\n {2}-multiport=true/)
    const adminSidecar = spec.containers[1]
    assert.ok(adminSidecar.args.includes('-credential-type=login'))
    assert.ok(adminSidecar.args.includes('-login-bearer-token-path=/consul/serviceaccount-web-admin/token'))
  })
})
