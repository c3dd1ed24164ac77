import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {UserError} from '../../src/shared/errors.js'
import {confirmHook} from '../../src/ui/prompt.js'

describe('the confirm hook domain flows take', () => {
  it('goes on with --yes, whatever the default answer', async () => {
    await confirmHook({yes: true})('Uninstall Consul?', false)
    await confirmHook({yes: true})('Install Consul?')
  })

  it('refuses without a terminal to ask, naming --yes, for destructive and ordinary questions alike', async () => {
    for (const defaultYes of [true, false]) {
      await assert.rejects(confirmHook({interactive: false})('Uninstall Consul?', defaultYes), (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.equal(error.message, 'Uninstall Consul? Refusing to continue without confirmation.')
        assert.match(error.hint ?? '', /--yes/)
        return true
      })
    }
  })
})
