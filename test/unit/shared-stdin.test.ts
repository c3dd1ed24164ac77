// readInput: -f FILE or -f -, with messages naming what the command reads and how to pipe it in.
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'

import {FEDERATION_SECRET_INPUT, readInput, readStdinText} from '../../src/shared/stdin.js'
import type {UserError} from '../../src/shared/errors.js'

describe('readInput', () => {
  it('a missing file names what was to be read and where such a file comes from', async () => {
    await assert.rejects(
      readInput('/nonexistent/fed.yaml', {...FEDERATION_SECRET_INPUT, command: 'consulk8s federate secondary -f -'}),
      (error: UserError) =>
        error.message === 'Cannot read the federation secret /nonexistent/fed.yaml: no such file' &&
        /federate export --output-file/.test(error.hint ?? ''),
    )
    await assert.rejects(
      readInput('/nonexistent/values.yaml', {what: 'the values file', command: 'consulk8s verify --pre --values-file -', hint: 'h'}),
      /Cannot read the values file \/nonexistent\/values.yaml: no such file/,
    )
  })

  it('stdin that is a terminal, or empty, is an error with the hint of the command that reads it', async () => {
    const tty = Object.assign(new PassThrough(), {isTTY: true}) as unknown as NodeJS.ReadStream
    await assert.rejects(readStdinText({message: 'm', hint: 'h'}, tty), /^UserError: m$/)
    const empty = new PassThrough()
    empty.end('  \n')
    await assert.rejects(readStdinText({message: 'm', hint: 'h'}, empty as unknown as NodeJS.ReadStream), /stdin is empty/)
  })
})
