import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {checkHelmVersion, helmErrorText, parseHelmVersion, splitChartLabel} from '../../src/helm/helm.js'
import {UserError} from '../../src/shared/errors.js'

describe('helm command line', () => {
  it('reads helm versions and refuses old ones', () => {
    assert.deepEqual(parseHelmVersion('v3.22.0'), {raw: 'v3.22.0', major: 3, minor: 22, patch: 0})
    assert.equal(parseHelmVersion('garbage'), undefined)
    assert.doesNotThrow(() => checkHelmVersion(parseHelmVersion('v3.13.0')!, 'helm'))
    assert.doesNotThrow(() => checkHelmVersion(parseHelmVersion('v4.0.1')!, 'helm'))
    assert.throws(() => checkHelmVersion(parseHelmVersion('v3.12.3')!, '/usr/bin/helm'), /helm v3\.12\.3; consulk8s needs helm 3\.13\.0 or newer/)
    assert.throws(() => checkHelmVersion(parseHelmVersion('v2.17.0')!, 'helm'), UserError)
  })

  it("splits chart labels and keeps helm's error line", () => {
    assert.deepEqual(splitChartLabel('consul-1.9.2'), {name: 'consul', version: '1.9.2'})
    assert.deepEqual(splitChartLabel('consul-2.1.0-dev'), {name: 'consul', version: '2.1.0-dev'})
    assert.deepEqual(splitChartLabel('my-chart-0.1.0'), {name: 'my-chart', version: '0.1.0'})
    assert.equal(helmErrorText('W1122 warning\nError: INSTALLATION FAILED: boom\n'), 'INSTALLATION FAILED: boom')
  })
})
