/**
 * Helm values as consulk8s handles them: values files read and checked here (a YAML error is
 * reported with its file, line and column before anything reaches the cluster), --set and
 * --set-string parsed with Helm's rules, everything merged the way Helm merges it. The merged
 * result is what the summary and the upgrade diff show, and exactly what is handed to helm
 * (as one values file), so what the user confirmed is what gets applied.
 */
import {readFile} from 'node:fs/promises'
import {parseDocument, stringify} from 'yaml'

import {yamlSyntaxError} from '../shared/yaml-error.js'
import {UserError, errorMessage} from '../shared/errors.js'

export type Values = Record<string, unknown>

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Parse the text of a values file; `source` names it in error messages. */
export function parseValuesText(text: string, source: string): Values {
  const document = parseDocument(text, {uniqueKeys: true})
  const error = document.errors[0]
  if (error) throw yamlSyntaxError(error, source, {what: 'Values file'})
  const parsed: unknown = document.toJS()
  if (parsed === null || parsed === undefined) return {}
  if (!isPlainObject(parsed)) {
    throw new UserError(`Values file ${source} must hold a YAML mapping (key: value), not ${Array.isArray(parsed) ? 'a list' : 'a single value'}.`)
  }
  return parsed
}

export async function loadValuesFile(path: string): Promise<Values> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as {code?: string}).code
    throw new UserError(code === 'ENOENT' ? `Values file ${path} does not exist.` : `Cannot read values file ${path}: ${errorMessage(error)}`, {
      hint: 'Pass -f/--values with the path of a readable YAML file.',
    })
  }
  return parseValuesText(text, path)
}

/**
 * Helm's merge of user values: maps merge key by key (the later source wins), anything else
 * (lists included) is replaced whole. A null is kept: Helm reads it as "remove this key from
 * the chart's defaults".
 */
export function mergeValues(base: Values, override: Values): Values {
  const result: Values = {...base}
  for (const [key, value] of Object.entries(override)) {
    const current = result[key]
    result[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value
  }
  return result
}

/** Helm's typing of a --set value: true/false/null (any case), integers without a leading zero. */
export function typedSetValue(raw: string): unknown {
  const lower = raw.toLowerCase()
  if (lower === 'true') return true
  if (lower === 'false') return false
  if (lower === 'null') return null
  if (raw === '0') return 0
  if (/^-?[1-9]\d*$/.test(raw)) {
    const number = Number(raw)
    if (Number.isSafeInteger(number)) return number
  }
  return raw
}

type PathStep = string | number

/** `a.b\\.c[0].d` -> ['a', 'b.c', 0, 'd'] */
export function parseSetKey(key: string, expression: string): PathStep[] {
  const invalid = (why: string) =>
    new UserError(`Invalid --set expression "${expression}": ${why}.`, {
      hint: 'Use key.path=value, e.g. --set global.datacenter=dc2 or --set server.extraLabels.team=core; escape a literal dot as \\.',
    })
  // Split on unescaped dots; an escaped dot ("\.") stays inside its segment.
  const segments: string[] = []
  let current = ''
  for (let index = 0; index < key.length; index++) {
    if (key[index] === '\\' && index + 1 < key.length) current += key[++index] === '.' ? '\u0000' : key[index]
    else if (key[index] === '.') {
      segments.push(current)
      current = ''
    } else current += key[index]
  }
  segments.push(current)
  const steps: PathStep[] = []
  for (const segment of segments) {
    const match = /^([^[\]]+)((?:\[\d+\])*)$/.exec(segment)
    if (!match)
      throw invalid(segment === '' ? 'empty key segment' : `cannot read "${segment.replaceAll('\u0000', '.')}" (a list index is written name[0])`)
    steps.push(match[1].replaceAll('\u0000', '.'))
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(index[1]))
  }
  return steps
}

function setPath(target: Values, steps: PathStep[], value: unknown): void {
  let node: unknown = target
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]
    const last = index === steps.length - 1
    const next = steps[index + 1]
    const container = node as Record<string, unknown> & unknown[]
    if (last) {
      container[step as never] = value as never
      return
    }
    let child = container[step as never] as unknown
    const wantList = typeof next === 'number'
    if (wantList ? !Array.isArray(child) : !isPlainObject(child)) child = wantList ? [] : {}
    if (wantList) {
      const list = child as unknown[]
      while (list.length < (next as number)) list.push(null)
    }
    container[step as never] = child as never
    node = child
  }
}

/** Split on commas that are neither escaped nor inside {...}. */
function splitAssignments(expression: string): string[] {
  const parts: string[] = []
  let current = ''
  let depth = 0
  for (let index = 0; index < expression.length; index++) {
    const char = expression[index]
    if (char === '\\' && index + 1 < expression.length) {
      current += char + expression[++index]
      continue
    }
    if (char === '{') depth++
    if (char === '}') depth = Math.max(0, depth - 1)
    if (char === ',' && depth === 0) {
      parts.push(current)
      current = ''
      continue
    }
    current += char
  }
  parts.push(current)
  return parts
}

function unescapeValue(raw: string): string {
  return raw.replace(/\\(.)/g, '$1')
}

function splitListItems(body: string): string[] {
  const items: string[] = []
  let current = ''
  for (let index = 0; index < body.length; index++) {
    const char = body[index]
    if (char === '\\' && index + 1 < body.length) {
      current += body[++index]
    } else if (char === ',') {
      items.push(current)
      current = ''
    } else {
      current += char
    }
  }
  items.push(current)
  return items
}

/**
 * Apply one --set (or, with asString, --set-string) argument to `values`, in place.
 * Supports Helm's forms: a.b=c, several assignments separated by commas, name[0]=x,
 * lists {a,b}, and backslash escapes for "." and ",".
 */
export function applySet(values: Values, expression: string, options: {asString?: boolean} = {}): void {
  for (const assignment of splitAssignments(expression)) {
    const equals = findUnescaped(assignment, '=')
    if (equals <= 0) {
      throw new UserError(`Invalid --set expression "${expression}": "${assignment}" has no key=value.`, {
        hint: 'Use key.path=value, e.g. --set global.datacenter=dc2.',
      })
    }
    const steps = parseSetKey(assignment.slice(0, equals), expression)
    const raw = assignment.slice(equals + 1)
    const typed = (text: string) => (options.asString ? text : typedSetValue(text))
    let value: unknown
    if (raw.startsWith('{') && raw.endsWith('}')) {
      const body = raw.slice(1, -1)
      value = body === '' ? [] : splitListItems(body).map((item) => typed(item))
    } else {
      value = typed(unescapeValue(raw))
    }
    setPath(values, steps, value)
  }
}

function findUnescaped(text: string, char: string): number {
  for (let index = 0; index < text.length; index++) {
    if (text[index] === '\\') index++
    else if (text[index] === char) return index
  }
  return -1
}

export interface ValuesSources {
  /** Values given as an object (e.g. generated by `federate`), applied first. */
  base?: Values
  /** -f/--values files, in order. */
  files?: string[]
  /** --set expressions, in order. */
  set?: string[]
  /** --set-string expressions, in order. */
  setString?: string[]
}

/** The user values of one install/upgrade, merged as Helm would: base, files in order, --set, --set-string. */
export async function resolveUserValues(sources: ValuesSources): Promise<Values> {
  let values: Values = structuredClone(sources.base ?? {})
  for (const file of sources.files ?? []) values = mergeValues(values, await loadValuesFile(file))
  for (const expression of sources.set ?? []) applySet(values, expression)
  for (const expression of sources.setString ?? []) applySet(values, expression, {asString: true})
  return values
}

/** Read a dotted path ("global.tls.enabled") from values. */
export function getValue(values: unknown, path: string): unknown {
  let node: unknown = values
  for (const key of path.split('.')) {
    if (!isPlainObject(node)) return undefined
    node = node[key]
  }
  return node
}

export function valuesToYaml(values: Values): string {
  return Object.keys(values).length === 0 ? '{}\n' : stringify(values)
}
