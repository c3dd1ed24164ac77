import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {unifiedDiff} from '../../src/inject/diff.js'

const labels = {before: 'a', after: 'b'}

describe('inject --diff', () => {
  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('x\ny\n', 'x\ny\n', labels), '')
  })

  it('writes unified hunks with context and correct line numbers', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].join('\n')
    const after = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', 'eleven', '12'].join('\n')
    assert.equal(
      unifiedDiff(before, after, labels),
      ['--- a', '+++ b', '@@ -1,3 +1,4 @@', '+0', ' 1', ' 2', ' 3', '@@ -8,5 +9,5 @@', ' 8', ' 9', ' 10', '-11', '+eleven', ' 12', ''].join('\n'),
    )
  })

  it('merges changes closer than twice the context into one hunk', () => {
    const diff = unifiedDiff('a\nb\nc\nd\ne\n', 'a\nB\nc\nD\ne\n', labels)
    assert.equal(diff.match(/^@@/gm)?.length, 1)
    assert.match(diff, /^@@ -1,5 \+1,5 @@$/m)
  })
})
