// federate primary --dry-run: nothing written, and the next steps say they apply once it runs for real.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'

describe('federate primary --dry-run (offline)', () => {
  it('writes nothing; its next steps are headed as applying after a real run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dry-run-'))
    const result = await runCli(['federate', 'primary', '--output-dir', 'federation', '--dry-run'], {cwd: dir})
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /dry run, nothing written/)
    assert.match(result.stdout, /==> Next steps, once the same command has run without --dry-run/)
    assert.equal(existsSync(join(dir, 'federation')), false)
    const real = await runCli(['federate', 'primary', '--output-dir', 'federation', '--yes'], {cwd: dir})
    assert.match(real.stdout, /==> Next steps\n/)
  })
})
