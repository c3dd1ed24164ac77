import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {diffValues, renderDiff, maskChanges} from '../../src/helm/diff.js'
import {parseDuration, toGoDuration} from '../../src/shared/duration.js'
import {applySet, mergeValues, parseValuesText, resolveUserValues, typedSetValue, type Values} from '../../src/helm/values.js'
import {UserError} from '../../src/shared/errors.js'

function set(...expressions: string[]): Values {
  const values: Values = {}
  for (const expression of expressions) applySet(values, expression)
  return values
}

describe('values files', () => {
  it('reports a YAML error with file, line and column', () => {
    assert.throws(
      () => parseValuesText('global:\n  datacenter: dc1\n   tls: [\n', 'values.yaml'),
      (error: unknown) =>
        error instanceof UserError &&
        /^Values file values\.yaml:2:15 is not valid YAML: Nested mappings are not allowed in compact mappings\.$/.test(error.message),
    )
  })

  it('refuses a list or a scalar at the top', () => {
    assert.throws(() => parseValuesText('- a\n- b\n', 'v.yaml'), /must hold a YAML mapping/)
    assert.throws(() => parseValuesText('just text\n', 'v.yaml'), /must hold a YAML mapping/)
  })

  it('reads an empty file as no values and refuses duplicate keys', () => {
    assert.deepEqual(parseValuesText('# nothing\n', 'v.yaml'), {})
    assert.throws(() => parseValuesText('a: 1\na: 2\n', 'v.yaml'), /not valid YAML/)
  })

  describe('from disk', () => {
    let dir: string
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'helm-values-test-'))
      await writeFile(join(dir, 'a.yaml'), 'global:\n  datacenter: dc1\n  tls:\n    enabled: true\nserver:\n  replicas: 3\n')
      await writeFile(join(dir, 'b.yaml'), 'global:\n  datacenter: dc2\nserver:\n  extraLabels: [x]\n')
    })
    after(() => rm(dir, {recursive: true, force: true}))

    it('merges files in order, then --set, then --set-string', async () => {
      const values = await resolveUserValues({
        files: [join(dir, 'a.yaml'), join(dir, 'b.yaml')],
        set: ['server.replicas=5'],
        setString: ['global.domain=007'],
      })
      assert.deepEqual(values, {
        global: {datacenter: 'dc2', tls: {enabled: true}, domain: '007'},
        server: {replicas: 5, extraLabels: ['x']},
      })
    })

    it('names a missing file', async () => {
      await assert.rejects(resolveUserValues({files: [join(dir, 'nope.yaml')]}), /Values file .*nope\.yaml does not exist/)
    })
  })
})

describe('--set (Helm rules)', () => {
  it('types values like helm', () => {
    assert.equal(typedSetValue('true'), true)
    assert.equal(typedSetValue('FALSE'), false)
    assert.equal(typedSetValue('null'), null)
    assert.equal(typedSetValue('0'), 0)
    assert.equal(typedSetValue('42'), 42)
    assert.equal(typedSetValue('-7'), -7)
    assert.equal(typedSetValue('007'), '007')
    assert.equal(typedSetValue('1.5'), '1.5')
    assert.equal(typedSetValue('dc1'), 'dc1')
  })

  it('handles nesting, several assignments, escapes, lists and indexes', () => {
    assert.deepEqual(set('global.datacenter=dc2,server.replicas=3'), {global: {datacenter: 'dc2'}, server: {replicas: 3}})
    assert.deepEqual(set('server.annotations.a\\.b/c=x'), {server: {annotations: {'a.b/c': 'x'}}})
    assert.deepEqual(set('a.list={x,y,3}'), {a: {list: ['x', 'y', 3]}})
    assert.deepEqual(set('a.text=one\\,two'), {a: {text: 'one,two'}})
    assert.deepEqual(set('a.items[1].name=n'), {a: {items: [null, {name: 'n'}]}})
    assert.deepEqual(set('a=b=c'), {a: 'b=c'})
    assert.deepEqual(set('a.empty='), {a: {empty: ''}})
  })

  it('replaces a scalar with a map when a deeper key is set', () => {
    assert.deepEqual(set('a=1', 'a.b=2'), {a: {b: 2}})
  })

  it('keeps --set-string values as strings', () => {
    const values: Values = {}
    applySet(values, 'a=true,b=12', {asString: true})
    assert.deepEqual(values, {a: 'true', b: '12'})
  })

  it('rejects malformed expressions with a readable message', () => {
    assert.throws(
      () => set('novalue'),
      (error: unknown) => error instanceof UserError && /has no key=value/.test(error.message),
    )
    assert.throws(() => set('a..b=1'), /empty key segment/)
    assert.throws(() => set('a[x]=1'), /list index/)
    assert.throws(() => set('=1'), /has no key=value/)
  })
})

describe('merging', () => {
  it('merges maps deeply, replaces lists and keeps nulls', () => {
    assert.deepEqual(mergeValues({a: {b: 1, c: [1, 2]}, d: 1}, {a: {c: [3], e: 2}, d: null}), {a: {b: 1, c: [3], e: 2}, d: null})
  })
})

describe('values diff', () => {
  it('lists added, removed and changed leaves by path, sorted', () => {
    const before = {global: {datacenter: 'dc1', tls: {enabled: false}}, server: {replicas: 1}, ui: {enabled: true}}
    const after = {global: {datacenter: 'dc1', tls: {enabled: true}}, server: {replicas: 3}, meshGateway: {enabled: true}}
    assert.deepEqual(renderDiff(diffValues(before, after)), [
      '~ global.tls.enabled: false -> true',
      '+ meshGateway.enabled: true',
      '~ server.replicas: 1 -> 3',
      '- ui.enabled: true',
    ])
  })

  it('finds no change in equal values and compares lists whole', () => {
    assert.deepEqual(diffValues({a: [1, 2], b: {c: 1}}, {a: [1, 2], b: {c: 1}}), [])
    assert.deepEqual(renderDiff(diffValues({a: [1]}, {a: [1, 2]})), ['~ a: [1] -> [1,2]'])
  })

  it('shows a map replaced by a scalar leaf by leaf, and quotes odd keys', () => {
    assert.deepEqual(renderDiff(diffValues({a: {b: 1}}, {a: 'x'})), ['+ a: "x"', '- a.b: 1'])
    assert.deepEqual(renderDiff(diffValues({}, {server: {annotations: {'x.y/z': 'v'}}})), ['+ server.annotations."x.y/z": "v"'])
  })

  it('never prints secret-looking values', () => {
    const changes = diffValues({global: {acls: {bootstrapToken: 'old-secret'}}}, {global: {acls: {bootstrapToken: 'new-secret'}}})
    const lines = renderDiff(changes).join('\n')
    assert.match(lines, /global\.acls\.bootstrapToken: \(hidden\) -> \(hidden\)/)
    assert.doesNotMatch(lines, /secret/)
    assert.doesNotMatch(JSON.stringify(maskChanges(changes)), /old-secret|new-secret/)
    // a reference to a secret by name is not secret material
    assert.deepEqual(renderDiff(diffValues({}, {global: {acls: {replicationToken: {secretName: 'consul-federation'}}}})), [
      '+ global.acls.replicationToken.secretName: "consul-federation"',
    ])
  })
})

describe('durations', () => {
  it('reads Go durations', () => {
    assert.equal(parseDuration('10m'), 600_000)
    assert.equal(parseDuration('1h30m'), 5_400_000)
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(toGoDuration(600_000), '600s')
  })

  it('refuses a bare number like helm ("missing unit"), with the fix in the hint', () => {
    assert.throws(
      () => parseDuration('30', '--timeout'),
      (error: unknown) =>
        error instanceof UserError &&
        /^Invalid duration "30" for --timeout: missing unit\.$/.test(error.message) &&
        /30s or 30m/.test(error.hint ?? ''),
    )
  })

  it('rejects nonsense', () => {
    for (const bad of ['', 'ten', '10x', '0s', '5m junk']) assert.throws(() => parseDuration(bad), /Invalid duration/)
  })
})
