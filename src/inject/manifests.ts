/**
 * Kubernetes manifests in and out: multi-document YAML (or one JSON object / List) read
 * from files, directories or stdin; the workloads in them and where their pod template
 * lives; and the output with each injected pod template written back through the `yaml`
 * Document API, so comments, key order and quoting survive. Documents that are not changed
 * are written back byte for byte.
 */
import {readdir, readFile, stat} from 'node:fs/promises'
import {extname, join} from 'node:path'
import {Document, isMap, isScalar, isSeq, Pair, parseDocument, stringify, type Node} from 'yaml'

import {UserError, errorMessage} from '../shared/errors.js'
import {yamlSyntaxError} from '../shared/yaml-error.js'
import type {Json} from './mutate.js'
import {planWorkload, type InjectPlan, type PlanEnvironment, type ServiceInfo, type WorkloadInput, type WorkloadPlan} from './plan.js'
import type {InjectSettings} from './settings.js'
import {isObject, TEMPLATE_PATHS, templateOf, withTemplate} from './workloads.js'

export interface ManifestSource {
  /** A path, or "<stdin>". */
  name: string
  text: string
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

/** Reads -f arguments: files, directories (their .yaml/.yml/.json files, sorted) and "-" (stdin, once). */
export async function readManifestSources(paths: string[], readStdin: () => Promise<string>): Promise<ManifestSource[]> {
  const sources: ManifestSource[] = []
  let stdinRead = false
  for (const path of paths) {
    if (path === '-') {
      if (stdinRead) throw new UserError('-f - (stdin) was given twice.')
      stdinRead = true
      sources.push({name: '<stdin>', text: await readStdin()})
      continue
    }
    let info
    try {
      info = await stat(path)
    } catch (error) {
      throw new UserError(`Cannot read ${path}: ${errorMessage(error)}`, {
        hint: 'Pass -f with a manifest file, a directory of manifests, or - for stdin.',
      })
    }
    const files = info.isDirectory()
      ? (await readdir(path))
          .filter((name) => MANIFEST_EXTENSIONS.has(extname(name).toLowerCase()))
          .sort()
          .map((name) => join(path, name))
      : [path]
    if (files.length === 0) throw new UserError(`Directory ${path} holds no .yaml, .yml or .json files.`)
    for (const file of files) {
      try {
        sources.push({name: file, text: await readFile(file, 'utf8')})
      } catch (error) {
        throw new UserError(`Cannot read ${file}: ${errorMessage(error)}`)
      }
    }
  }
  return sources
}

/** One document of a source: its original text and its parsed form. */
export interface ManifestChunk {
  source: string
  /** 1-based document number within its source. */
  index: number
  text: string
  json: boolean
  /** The YAML document (YAML sources only). */
  doc?: Document
  /** The document as plain data (null for an empty document). */
  object: unknown
  /** The new content when a workload in it was injected. */
  replacement?: unknown
}

/** Splits a YAML stream at its document-start lines ("---"), keeping every byte. */
function splitDocuments(text: string): string[] {
  const chunks: string[] = []
  let current = ''
  for (const line of text.split(/(?<=\n)/)) {
    if (/^---(\s|$)/.test(line) && current.trim() !== '') {
      chunks.push(current)
      current = ''
    }
    current += line
  }
  if (current !== '' || chunks.length === 0) chunks.push(current)
  return chunks
}

export function parseSource(source: ManifestSource): ManifestChunk[] {
  const trimmed = source.text.trimStart()
  // One JSON value; a stream of JSON documents separated by "---" is read as the YAML it also is.
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && !/^---(\s|$)/m.test(source.text)) {
    let object: unknown
    try {
      object = JSON.parse(source.text)
    } catch (error) {
      throw yamlSyntaxError(error, source.name, {formats: 'JSON'})
    }
    return [{source: source.name, index: 1, text: source.text, json: true, object}]
  }
  let lineOffset = 0
  return splitDocuments(source.text).map((text, position) => {
    const doc = parseDocument(text, {prettyErrors: true, uniqueKeys: false})
    if (doc.errors.length > 0) throw yamlSyntaxError(doc.errors[0], source.name, {lineOffset})
    lineOffset += text.split('\n').length - 1
    return {source: source.name, index: position + 1, text, json: false, doc, object: doc.toJS({maxAliasCount: 1000})}
  })
}

/** A workload found in the manifests, and how to reach its template. */
interface Located {
  chunk: ManifestChunk
  /** Index in a List's items, if the workload is one. */
  item?: number
  input: WorkloadInput
}

function objectsOf(chunk: ManifestChunk): Array<{object: Json; item?: number}> {
  const object = chunk.object
  if (!isObject(object)) return []
  if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
    return object.items.flatMap((item: unknown, index: number) => (isObject(item) ? [{object: item, item: index}] : []))
  }
  return [{object}]
}

export interface ManifestPlan {
  plan: InjectPlan
  chunks: ManifestChunk[]
  /** Sources in order, with their chunks (for rendering). */
  sources: Array<{name: string; json: boolean; chunks: ManifestChunk[]}>
  located: Map<WorkloadPlan, Located>
}

/**
 * Plans the injection of every workload in the sources. Objects without a namespace are
 * taken to be in `namespace` (the -n of the command, like kubectl apply -n).
 */
export function planManifests(sources: ManifestSource[], settings: InjectSettings, namespace: string): ManifestPlan {
  const parsed = sources.map((source) => ({name: source.name, chunks: parseSource(source)}))
  const chunks = parsed.flatMap((source) => source.chunks)
  const services: ServiceInfo[] = []
  const namespaceLabels = new Map<string, Record<string, string>>()
  // In document order: a workload to plan, or one already known to be skipped.
  const entries: Array<Located | WorkloadPlan> = []
  for (const chunk of chunks) {
    for (const {object, item} of objectsOf(chunk)) {
      const kind = object.kind
      const metadata: Json = isObject(object.metadata) ? object.metadata : {}
      const objectNamespace = typeof metadata.namespace === 'string' && metadata.namespace ? metadata.namespace : namespace
      if (kind === 'Service') services.push({name: String(metadata.name), namespace: objectNamespace, selector: object.spec?.selector})
      if (kind === 'Namespace' && typeof metadata.name === 'string') namespaceLabels.set(metadata.name, metadata.labels ?? {})
      if (typeof kind !== 'string' || !(kind in TEMPLATE_PATHS)) continue
      const source = `${chunk.source}#${chunk.index}${item === undefined ? '' : `.items[${item}]`}`
      const ref = {kind, name: String(metadata.name ?? metadata.generateName ?? '(unnamed)'), namespace: objectNamespace, source}
      const template = templateOf(object, kind)
      if (!template) {
        entries.push({...ref, action: 'skip', reason: 'has no pod template', warnings: []})
        continue
      }
      const workloadAnnotations = kind === 'Pod' ? undefined : isObject(metadata.annotations) ? metadata.annotations : {}
      entries.push({chunk, item, input: {...ref, template, workloadAnnotations}})
    }
  }
  // Services and Namespaces anywhere in the input count, so planning waits until all are read.
  const environment: PlanEnvironment = {services, namespaceLabels: (name) => namespaceLabels.get(name)}
  const located = new Map<WorkloadPlan, Located>()
  const workloads = entries.map((entry) => {
    if (!('input' in entry)) return entry
    const planned = planWorkload(entry.input, settings, environment)
    located.set(planned, entry)
    return planned
  })
  return {
    plan: {mode: 'manifests', workloads},
    chunks,
    sources: parsed.map((source) => ({name: source.name, json: source.chunks.some((chunk) => chunk.json), chunks: source.chunks})),
    located,
  }
}

/** Puts every injected template into its document (the plan's "inject" workloads). */
export function applyManifestPlan(manifests: ManifestPlan): void {
  for (const workload of manifests.plan.workloads) {
    if (workload.action !== 'inject' || !workload.after) continue
    const found = manifests.located.get(workload)
    if (!found) continue
    const {chunk, item} = found
    const current = (chunk.replacement ?? structuredClone(chunk.object)) as Json
    if (item === undefined) chunk.replacement = withTemplate(current, workload.kind, workload.after)
    else {
      current.items[item] = withTemplate(current.items[item], workload.kind, workload.after)
      chunk.replacement = current
    }
  }
}

export type ManifestFormat = 'yaml' | 'json'

/** The manifests as one stream: YAML (unchanged documents verbatim) or JSON (one object, or a List). */
export function renderManifests(manifests: ManifestPlan, format: ManifestFormat): string {
  if (format === 'json') {
    const objects = manifests.chunks
      .map((chunk) => chunk.replacement ?? chunk.object)
      .filter((object) => object !== null && object !== undefined)
      .flatMap((object) =>
        isObject(object) && object.kind === 'List' && Array.isArray(object.items) && manifests.chunks.length > 1 ? object.items : [object],
      )
    return renderObjects(objects, 'json')
  }
  let output = ''
  for (const source of manifests.sources) {
    let text = source.chunks.map((chunk) => renderChunk(chunk)).join('')
    if (text !== '' && !text.endsWith('\n')) text += '\n'
    if (output !== '' && text !== '' && !/^---(\s|$)/.test(text)) output += '---\n'
    output += text
  }
  return output
}

/** Objects as a manifest stream: YAML documents, or JSON (one object, or a v1 List of several). */
export function renderObjects(objects: unknown[], format: ManifestFormat): string {
  if (format === 'json') {
    const output = objects.length === 1 ? objects[0] : {apiVersion: 'v1', kind: 'List', items: objects}
    return JSON.stringify(output, null, 2) + '\n'
  }
  return objects.map((object) => stringify(object, {lineWidth: 0, aliasDuplicateObjects: false})).join('---\n')
}

/** Whether any document is a Secret (the output file is then written 0600). */
export function manifestsHoldSecrets(manifests: ManifestPlan): boolean {
  return manifests.chunks.some((chunk) => {
    const object = chunk.object
    if (!isObject(object)) return false
    if (object.kind === 'Secret') return true
    return Array.isArray(object.items) && object.items.some((item: unknown) => isObject(item) && item.kind === 'Secret')
  })
}

function renderChunk(chunk: ManifestChunk): string {
  if (chunk.replacement === undefined) {
    if (!chunk.json) return chunk.text
    return chunk.object === null ? '' : stringify(chunk.object, {lineWidth: 0, aliasDuplicateObjects: false})
  }
  if (!chunk.doc) return stringify(chunk.replacement, {lineWidth: 0, aliasDuplicateObjects: false})
  const doc = chunk.doc
  doc.contents = patchNode(doc, doc.contents, chunk.replacement) as typeof doc.contents
  const style = detectStyle(chunk.text)
  return doc.toString({lineWidth: 0, indentSeq: style.indentSeq, flowCollectionPadding: style.flowPadding})
}

/** Whether the source indents block sequences under their key ("key:\n  - a") and pads flow collections. */
function detectStyle(text: string): {indentSeq: boolean; flowPadding: boolean} {
  const lines = text.split('\n')
  let indentSeq = true
  for (let index = 0; index < lines.length - 1; index++) {
    const key = /^(\s*)[^\s#-][^:]*:\s*(#.*)?$/.exec(lines[index])
    if (!key) continue
    const next = lines.slice(index + 1).find((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    if (!next) break
    const item = /^(\s*)- /.exec(next)
    if (!item) continue
    indentSeq = item[1].length > key[1].length
    break
  }
  const flowPadding = !/[[{][^\s\]}]/.test(text.replaceAll(/"[^"\n]*"|'[^'\n]*'|#.*$/gm, '""'))
  return {indentSeq, flowPadding}
}

/** Makes `node` hold `value`, changing only what differs so comments and styles stay where they were. */
function patchNode(doc: Document, node: unknown, value: unknown): unknown {
  if (isMap(node) && isObject(value)) {
    node.items = node.items.filter((pair) => keyOf(pair) in value)
    const present = new Set<string>()
    for (const pair of node.items) {
      const key = keyOf(pair)
      present.add(key)
      pair.value = patchNode(doc, pair.value, value[key])
    }
    for (const [key, child] of Object.entries(value)) {
      if (!present.has(key)) node.items.push(new Pair(doc.createNode(key), createNode(doc, child)))
    }
    return node
  }
  if (isSeq(node) && Array.isArray(value)) {
    const old = node.items.map((item) => toJs(doc, item))
    const used = new Set<number>()
    node.items = value.map((child, index) => {
      const match = matchItem(old, child, index, used, value.length)
      if (match < 0) return createNode(doc, child)
      used.add(match)
      return patchNode(doc, node.items[match], child)
    }) as typeof node.items
    return node
  }
  if (isScalar(node) && (value === null || typeof value !== 'object')) {
    if (node.value === value) return node
    const created = createNode(doc, value) as Node
    created.comment = node.comment
    created.commentBefore = node.commentBefore
    return created
  }
  if (deepEqual(toJs(doc, node), value)) return node
  return createNode(doc, value)
}

function createNode(doc: Document, value: unknown): Node {
  return doc.createNode(value, {aliasDuplicateObjects: false}) as Node
}

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
}

function toJs(doc: Document, node: unknown): unknown {
  if (node && typeof node === 'object' && 'toJS' in node && typeof (node as {toJS: unknown}).toJS === 'function') {
    return (node as {toJS: (doc: Document) => unknown}).toJS(doc)
  }
  return node
}

/** The old sequence item that becomes `value`: same name, else equal, else same position in a list of equal length. */
function matchItem(old: unknown[], value: unknown, index: number, used: Set<number>, newLength: number): number {
  if (isObject(value) && typeof value.name === 'string') {
    return old.findIndex((item, position) => !used.has(position) && isObject(item) && item.name === value.name)
  }
  if (index < old.length && !used.has(index) && deepEqual(old[index], value)) return index
  const equal = old.findIndex((item, position) => !used.has(position) && deepEqual(item, value))
  if (equal >= 0) return equal
  return old.length === newLength && index < old.length && !used.has(index) ? index : -1
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => deepEqual(item, b[index]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && deepEqual(a[key], b[key]))
  }
  return false
}
