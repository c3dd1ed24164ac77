/**
 * A structured diff of two sets of Helm user values (the release's current ones against the
 * ones an upgrade would apply): one line per changed leaf, by dotted path. Lists are compared
 * whole. Values under keys that look like secret material are never printed.
 */
import {isPlainObject, type Values} from './values.js'

export type ChangeKind = 'added' | 'removed' | 'changed'

export interface ValueChange {
  path: string
  kind: ChangeKind
  before?: unknown
  after?: unknown
}

const SIMPLE_KEY = /^[A-Za-z_][\w-]*$/

export function joinPath(prefix: string, key: string): string {
  const part = SIMPLE_KEY.test(key) ? key : `"${key.replaceAll('"', '\\"')}"`
  return prefix ? `${prefix}.${part}` : part
}

function leaves(value: unknown, path: string): Array<[string, unknown]> {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, child]) => leaves(child, joinPath(path, key)))
  }
  return [[path, value]]
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Leaf-level changes from `before` to `after`, sorted by path. */
export function diffValues(before: Values, after: Values): ValueChange[] {
  const changes: ValueChange[] = []
  const walk = (left: unknown, right: unknown, path: string) => {
    if (isPlainObject(left) && isPlainObject(right)) {
      const keys = new Set([...Object.keys(left), ...Object.keys(right)])
      for (const key of keys) {
        const childPath = joinPath(path, key)
        if (!(key in right))
          for (const [leafPath, value] of leaves(left[key], childPath)) changes.push({path: leafPath, kind: 'removed', before: value})
        else if (!(key in left))
          for (const [leafPath, value] of leaves(right[key], childPath)) changes.push({path: leafPath, kind: 'added', after: value})
        else walk(left[key], right[key], childPath)
      }
      return
    }
    if (sameValue(left, right)) return
    if (isPlainObject(left) || isPlainObject(right)) {
      // A map replaced by a scalar (or the reverse): show both sides leaf by leaf.
      for (const [leafPath, value] of leaves(left, path)) changes.push({path: leafPath, kind: 'removed', before: value})
      for (const [leafPath, value] of leaves(right, path)) changes.push({path: leafPath, kind: 'added', after: value})
      return
    }
    changes.push({path, kind: 'changed', before: left, after: right})
  }
  walk(before, after, '')
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

const SENSITIVE_LEAF = /(password|passwd|token|licen[cs]e|privatekey|secretvalue|gossipkey)$/i

/** True when the last key of a path names secret material (a token, a password, a licence). */
export function isSensitivePath(path: string): boolean {
  const last = path.split('.').at(-1)?.replaceAll('"', '') ?? ''
  return SENSITIVE_LEAF.test(last)
}

export function formatValue(value: unknown, path: string): string {
  if (isSensitivePath(path) && typeof value === 'string' && value !== '') return '(hidden)'
  if (value === undefined) return '(unset)'
  if (isPlainObject(value) && Object.keys(value).length === 0) return '{}'
  const text = JSON.stringify(value)
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

/** `+ path: value`, `- path: value`, `~ path: before -> after`, one line each. */
export function renderDiff(changes: ValueChange[]): string[] {
  return changes.map((change) => {
    if (change.kind === 'added') return `+ ${change.path}: ${formatValue(change.after, change.path)}`
    if (change.kind === 'removed') return `- ${change.path}: ${formatValue(change.before, change.path)}`
    return `~ ${change.path}: ${formatValue(change.before, change.path)} -> ${formatValue(change.after, change.path)}`
  })
}

/** The same changes with secret values replaced, for JSON output. */
export function maskChanges(changes: ValueChange[]): ValueChange[] {
  return changes.map((change) => {
    if (!isSensitivePath(change.path)) return change
    const mask = (value: unknown) => (typeof value === 'string' && value !== '' ? '(hidden)' : value)
    return {...change, before: mask(change.before), after: mask(change.after)}
  })
}
