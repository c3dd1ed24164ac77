import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parse} from 'yaml'

import {UserError} from '../../src/shared/errors.js'
import {yamlSyntaxError} from '../../src/shared/yaml-error.js'

function parseError(text: string): unknown {
  try {
    parse(text)
  } catch (error) {
    return error
  }
  assert.fail(`${JSON.stringify(text)} parsed`)
}

describe('yamlSyntaxError', () => {
  it("names the file, line and column, with the parser's reason and no code excerpt", () => {
    const error = parseError('global:\n  datacenter: dc1\n    name: consul\n')
    assert.match((error as Error).message, / at line \d+, column \d+:/, "the parser's own message has the position and an excerpt")
    const described = yamlSyntaxError(error, 'values.yaml')
    assert.ok(described instanceof UserError)
    assert.match(described.message, /^values\.yaml:2:15 is not valid YAML: [^\n]+\.$/)
    assert.doesNotMatch(described.message, /at line|\n/)
    assert.match(described.hint ?? '', /^Fix the YAML at line 2 \(indentation, a missing ":", an unclosed quote or bracket\).*nothing was changed\.$/)
    assert.equal(described.cause, error)
  })

  it('says what was read, in which formats, and counts the lines before a later document', () => {
    const described = yamlSyntaxError(parseError('a: [unclosed\n'), 'deploy.yaml', {what: 'Manifest', formats: 'YAML or JSON', lineOffset: 10})
    assert.match(described.message, /^Manifest deploy\.yaml:12:1 is not valid YAML or JSON: /)
    assert.match(described.hint ?? '', /^Fix the YAML or JSON at line 12 /)
  })

  it('names only the file when the error has no position', () => {
    const described = yamlSyntaxError(new Error('boom.'), 'values.yaml')
    assert.equal(described.message, 'values.yaml is not valid YAML: boom.')
    assert.match(described.hint ?? '', /^Fix the YAML \(indentation/)
  })
})
