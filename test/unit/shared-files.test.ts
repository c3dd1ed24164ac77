import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {UserError} from '../../src/shared/errors.js'
import {checkOutputPaths, displayPath, makeDirectory, readOptionalText, writeFileAtomic} from '../../src/shared/files.js'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'consulk8s-files-test-'))
})
after(() => rm(dir, {recursive: true, force: true}))

const modeOf = async (path: string) => (await stat(path)).mode & 0o777

/** A UserError whose message and hint match. */
const userError = (message: RegExp, hint: RegExp) => (error: unknown) =>
  error instanceof UserError && message.test(error.message) && hint.test(error.hint ?? '')

describe('writeFileAtomic', () => {
  it('writes secrets with mode 0600, public files with the mode asked for, creating directories', async () => {
    const secret = join(dir, 'new', 'deeper', 'federation-secret.yaml')
    await writeFileAtomic(secret, 'caKey: x\n')
    assert.equal(await readFile(secret, 'utf8'), 'caKey: x\n')
    assert.equal(await modeOf(secret), 0o600)
    const values = join(dir, 'values.yaml')
    await writeFileAtomic(values, 'global: {}\n', 0o644)
    assert.equal(await modeOf(values), 0o644)
  })

  it('replaces a file whole, leaving no temp file, and tightens its mode', async () => {
    const sub = join(dir, 'replace')
    await mkdir(sub)
    const path = join(sub, 'token')
    await writeFile(path, 'old content that is longer than the new one\n', {mode: 0o644})
    await writeFileAtomic(path, 'new\n')
    assert.equal(await readFile(path, 'utf8'), 'new\n')
    assert.equal(await modeOf(path), 0o600)
    assert.deepEqual(await readdir(sub), ['token'])
  })

  it('refuses a path that is a directory or under a file with a UserError, writing nothing', async () => {
    const sub = join(dir, 'refuse')
    await mkdir(join(sub, 'values.yaml'), {recursive: true})
    await writeFile(join(sub, 'plain'), 'x')
    await assert.rejects(
      writeFileAtomic(join(sub, 'values.yaml'), 'a: 1\n'),
      userError(/^Cannot write .*values\.yaml: it is a directory\.$/, /file name/),
    )
    await assert.rejects(
      writeFileAtomic(join(sub, 'plain', 'x.yaml'), 'a: 1\n'),
      userError(/^Cannot write .*plain\/x\.yaml: a part of the path is a file, not a directory \(at .*plain\)\.$/, /parent directories/),
    )
    assert.deepEqual((await readdir(sub)).sort(), ['plain', 'values.yaml'])
    assert.deepEqual(await readdir(join(sub, 'values.yaml')), [])
    assert.equal(await readFile(join(sub, 'plain'), 'utf8'), 'x')
  })
})

describe('makeDirectory', () => {
  it('creates every missing level and refuses a file on the way', async () => {
    await makeDirectory(join(dir, 'mk', 'a', 'b'))
    assert.ok((await stat(join(dir, 'mk', 'a', 'b'))).isDirectory())
    await makeDirectory(join(dir, 'mk', 'a'))
    await writeFile(join(dir, 'mk', 'file'), 'x')
    await assert.rejects(makeDirectory(join(dir, 'mk', 'file', 'c')), {code: 'ENOTDIR'})
  })
})

describe('checkOutputPaths', () => {
  it('accepts files and directories that can be written, creating nothing', async () => {
    const sub = join(dir, 'check-ok')
    await mkdir(sub)
    await writeFile(join(sub, 'existing.yaml'), 'x')
    await checkOutputPaths([
      {path: join(sub, 'existing.yaml'), kind: 'file'},
      {path: join(sub, 'not', 'yet', 'values.yaml'), kind: 'file'},
      {path: join(sub, 'out'), kind: 'dir'},
    ])
    assert.deepEqual(await readdir(sub), ['existing.yaml'])
  })

  it('refuses a directory where a file is expected, naming the flag', async () => {
    const sub = join(dir, 'check-dir')
    await mkdir(sub)
    await assert.rejects(
      checkOutputPaths([{path: sub, kind: 'file', flag: '--values-file'}]),
      userError(/^--values-file: Cannot write .*check-dir: it is a directory\.$/, /Give a file name/),
    )
  })

  it('refuses a file where a directory is expected, and a file on the way (ENOTDIR)', async () => {
    const file = join(dir, 'check-file')
    await writeFile(file, 'x')
    await assert.rejects(
      checkOutputPaths([{path: file, kind: 'dir', flag: '--output-dir'}]),
      userError(/^--output-dir: Cannot write .*check-file: a part of the path is a file, not a directory\.$/, /parent directories/),
    )
    await assert.rejects(
      checkOutputPaths([
        {path: join(dir, 'fine.yaml'), kind: 'file'},
        {path: join(file, 'sub', 'x.yaml'), kind: 'file', flag: '--secret-file'},
      ]),
      userError(/^--secret-file: Cannot write .*x\.yaml: a part of the path is a file, not a directory \(at .*check-file\)\.$/, /parent directories/),
    )
    assert.equal(await readFile(file, 'utf8'), 'x')
  })
})

describe('readOptionalText', () => {
  it('reads a file, gives undefined for a missing one and a UserError for anything else', async () => {
    const path = join(dir, 'optional.txt')
    await writeFile(path, 'hello\n')
    assert.equal(await readOptionalText(path), 'hello\n')
    assert.equal(await readOptionalText(join(dir, 'missing.txt')), undefined)
    await assert.rejects(readOptionalText(dir), (error: unknown) => error instanceof UserError && error.message.startsWith(`Cannot read ${dir}: `))
  })
})

describe('displayPath', () => {
  it('shows paths inside the working directory relative to it, others as given', () => {
    assert.equal(displayPath(resolve('out', 'values.yaml')), join('out', 'values.yaml'))
    assert.equal(displayPath(resolve('..', 'elsewhere.yaml')), resolve('..', 'elsewhere.yaml'))
    assert.equal(displayPath(process.cwd()), process.cwd())
    assert.equal(displayPath(join(dir, 'x')), join(dir, 'x'), 'the temp directory is outside the checkout')
  })
})
