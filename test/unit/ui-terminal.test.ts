// Colour and the spinner follow the terminal: none for NO_COLOR or TERM=dumb, none off a TTY.
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {afterEach, describe, it} from 'node:test'

import {Terminal} from '../../src/ui/terminal.js'

const saved = {TERM: process.env.TERM, NO_COLOR: process.env.NO_COLOR, CI: process.env.CI}
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
})

function render(env: Record<string, string | undefined>): string {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  const stream = Object.assign(new PassThrough(), {isTTY: true})
  let text = ''
  stream.on('data', (chunk) => (text += chunk))
  const terminal = new Terminal({stream})
  terminal.success('done')
  terminal.progress('working')
  terminal.done()
  return text
}

describe('terminal colour', () => {
  it('colours a capable TTY', () => {
    assert.match(render({TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined}), /\u001B\[32m/)
  })

  it('TERM=dumb gets no colour and no spinner escape codes', () => {
    const text = render({TERM: 'dumb', NO_COLOR: undefined, CI: undefined})
    assert.doesNotMatch(text, /\u001B/)
    assert.match(text, /^✓ done$/m)
    assert.match(text, /^\.\.\. working$/m)
  })

  it('NO_COLOR gets no colour', () => {
    assert.doesNotMatch(render({TERM: 'xterm', NO_COLOR: '1', CI: 'true'}), /\u001B/)
  })
})

describe('the spinner', () => {
  it('fits its line to the terminal width and counts down from a text function', async () => {
    process.env.TERM = 'xterm'
    delete process.env.CI
    const stream = Object.assign(new PassThrough(), {isTTY: true, columns: 40})
    let text = ''
    stream.on('data', (chunk) => (text += chunk))
    const terminal = new Terminal({stream, color: false})
    let left = 9
    terminal.progress(() => `waiting ${left--}s more for 3 checks: dc2 WAN pool, dc2 replication, dc1 catalog`)
    assert.equal(terminal.spinning, true)
    await new Promise((resolve) => setTimeout(resolve, 300))
    terminal.done()
    const frames = text.split('\r\u001B[2K').filter(Boolean)
    assert.ok(frames.length >= 2, text)
    for (const frame of frames) assert.ok([...frame].length <= 39, `fits 40 columns: ${JSON.stringify(frame)}`)
    assert.match(frames[0], /waiting 9s more/)
    assert.match(frames[1], /waiting 8s more/)
    assert.ok(frames[0].endsWith('…'))
  })

  it('off a terminal prints the text once per update, uncut', () => {
    const stream = Object.assign(new PassThrough(), {isTTY: false})
    let text = ''
    stream.on('data', (chunk) => (text += chunk))
    new Terminal({stream}).progress(() => 'a long line '.repeat(20).trim())
    assert.equal(text, `... ${'a long line '.repeat(20).trim()}\n`)
  })
})
