import {randomBytes} from 'node:crypto'
import {constants, rmSync} from 'node:fs'
import {access, mkdir, open, readFile, rename, rm, stat} from 'node:fs/promises'
import {basename, dirname, isAbsolute, join, relative, resolve} from 'node:path'

import {UserError, errorMessage} from './errors.js'

/** Temp files being written right now, removed by removeTempFiles() when the process is interrupted. */
const inFlight = new Set<string>()

/**
 * Writes a file atomically (temp file in the same directory, fsync, rename) so a reader
 * never sees half a file and a failure leaves the old content in place. Secret material
 * is written with mode 0600 (the default here); pass 0o644 for public files. A path that
 * cannot be written is a UserError naming the path and the fix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  try {
    await writeAtomic(path, data, mode)
  } catch (error) {
    throw describeFileError(error, path, 'write')
  }
}

async function writeAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  await makeDirectory(dirname(path))
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(tmp, 'wx', mode)
  inFlight.add(tmp)
  try {
    try {
      await handle.writeFile(data)
      await handle.chmod(mode)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  } finally {
    inFlight.delete(tmp)
  }
}

/** Removes the temp files of writes cut short (called on Ctrl-C before exiting). */
export function removeTempFiles(): void {
  for (const tmp of inFlight) rmSync(tmp, {force: true})
  inFlight.clear()
}

/**
 * mkdir -p, one level at a time. Node's own recursive mkdir loops forever where a parent
 * exists but refuses new entries with ENOENT (/proc): here every level is tried once.
 */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = []
  let current = resolve(dir)
  for (;;) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined
      throw error
    })
    if (info) {
      if (!info.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), {code: 'ENOTDIR', path: current})
      break
    }
    missing.push(current)
    const parent = dirname(current)
    if (parent === current) break
    current = parent
  }
  for (const level of missing.reverse()) {
    await mkdir(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error
    })
  }
}

const FILE_ERRORS: Record<string, {reason: string; fix: string}> = {
  EACCES: {reason: 'permission denied', fix: 'Choose a directory you can write to, or fix its permissions.'},
  EPERM: {reason: 'operation not permitted', fix: 'Choose a directory you can write to, or fix its permissions.'},
  EROFS: {reason: 'the file system is read-only', fix: 'Choose a directory on a writable file system.'},
  ENOTDIR: {reason: 'a part of the path is a file, not a directory', fix: 'Choose a path whose parent directories are directories.'},
  EISDIR: {reason: 'it is a directory', fix: 'Give a file name (e.g. <dir>/values.yaml), not a directory.'},
  ENOENT: {reason: 'a directory on the way cannot be created', fix: 'Choose a path on an ordinary, writable file system.'},
  ENOSPC: {reason: 'no space left on the device', fix: 'Free some space or choose another directory.'},
  EDQUOT: {reason: 'the disk quota is exceeded', fix: 'Free some space or choose another directory.'},
  ENAMETOOLONG: {reason: 'the name is too long', fix: 'Choose a shorter path.'},
}

/** A file-system error on `path` as a UserError with the reason and the fix; anything else unchanged. */
export function describeFileError(error: unknown, path: string, verb: 'write' | 'create' = 'write'): unknown {
  if (error instanceof UserError) return error
  const code = (error as NodeJS.ErrnoException)?.code
  const known = code ? FILE_ERRORS[code] : undefined
  if (!known) return error
  const where = (error as NodeJS.ErrnoException).path
  const culprit = where && resolve(where) !== resolve(path) && !basename(where).startsWith(`.${basename(path)}.`) ? ` (at ${where})` : ''
  return new UserError(`Cannot ${verb} ${path}: ${known.reason}${culprit}.`, {hint: known.fix, cause: error})
}

export interface OutputPath {
  /** The path to be written. */
  path: string
  /** A file (written atomically: its directory must take new files) or a directory to fill. */
  kind: 'file' | 'dir'
  /** The flag the path came from, for the message (e.g. --values-file). */
  flag?: string
}

/**
 * Checks, before anything is written, that every output path can be written: a file is not
 * a directory, a directory is not a file, and the nearest existing directory takes new
 * entries (probed with a temp file that is removed again, which also catches read-only and
 * special file systems such as /proc). The first problem is a UserError naming the flag,
 * the path and the fix. Creates nothing that stays.
 */
export async function checkOutputPaths(outputs: OutputPath[]): Promise<void> {
  for (const output of outputs) {
    try {
      await checkOutputPath(output)
    } catch (error) {
      const described = describeFileError(error, output.path)
      if (described instanceof UserError && output.flag) {
        throw new UserError(`${output.flag}: ${described.message}`, {hint: described.hint, cause: error})
      }
      throw described
    }
  }
}

async function checkOutputPath(output: OutputPath): Promise<void> {
  const path = resolve(output.path)
  const info = await stat(path).catch(() => undefined)
  if (info?.isDirectory() && output.kind === 'file') throw Object.assign(new Error('is a directory'), {code: 'EISDIR', path})
  if (info && !info.isDirectory() && output.kind === 'dir') throw Object.assign(new Error('not a directory'), {code: 'ENOTDIR', path})
  // The directory new entries go into: the file's directory, or the directory itself.
  let dir = output.kind === 'file' ? dirname(path) : path
  for (;;) {
    const found = await stat(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined
      throw error
    })
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error('not a directory'), {code: 'ENOTDIR', path: dir})
      break
    }
    if (dirname(dir) === dir) break
    dir = dirname(dir)
  }
  await access(dir, constants.W_OK | constants.X_OK).catch((error: NodeJS.ErrnoException) => {
    throw Object.assign(error, {path: dir})
  })
  const probe = join(dir, `.consulk8s-probe-${randomBytes(6).toString('hex')}`)
  const handle = await open(probe, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
    throw Object.assign(error, {path: dir})
  })
  await handle.close()
  await rm(probe, {force: true})
}

/** The text of a file, or undefined when it does not exist; any other failure is a UserError naming the path. */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UserError(`Cannot read ${path}: ${errorMessage(error)}`)
  }
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}
