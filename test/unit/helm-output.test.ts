import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {manifestObjects} from '../../src/helm/install.js'
import {formatOutput} from '../../src/helm/output.js'
import {summarizeValues} from '../../src/helm/plan.js'

describe('dry-run output', () => {
  it('lists the objects of a manifest and prints the manifest for -o yaml', () => {
    const manifest =
      '---\n# Source: a\napiVersion: v1\nkind: Service\nmetadata:\n  name: consul-server\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: consul-server\n'
    assert.deepEqual(manifestObjects(manifest), [
      {kind: 'Service', name: 'consul-server'},
      {kind: 'StatefulSet', name: 'consul-server'},
    ])
    const result = {
      action: 'install' as const,
      dryRun: true,
      changed: false,
      context: 'dc1',
      namespace: 'consul',
      release: 'consul',
      chart: {source: 's', name: 'consul', version: '1'},
      summary: summarizeValues('consul', {}),
      manifest,
    }
    assert.equal(formatOutput('yaml', result), manifest)
    const json = JSON.parse(formatOutput('json', result)) as Record<string, unknown>
    assert.equal(json.manifest, undefined)
    assert.equal(json.release, 'consul')
  })
})
