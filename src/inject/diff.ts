/**
 * A readable unified diff (like `diff -u`) of a workload's pod template before and after
 * injection, for --diff.
 */
import {stringify} from 'yaml'

import type {PodTemplate} from './mutate.js'
import {describeRef, type WorkloadPlan} from './plan.js'

type Edit = {op: ' ' | '-' | '+'; line: string}

/** Line edits by longest common subsequence (templates are small; very large inputs fall back to replace-all). */
function lineEdits(before: string[], after: string[]): Edit[] {
  const n = before.length
  const m = after.length
  if (n * m > 4_000_000) return [...before.map((line) => ({op: '-' as const, line})), ...after.map((line) => ({op: '+' as const, line}))]
  const width = m + 1
  const table = new Uint32Array((n + 1) * width)
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * width + j] =
        before[i] === after[j] ? table[(i + 1) * width + j + 1] + 1 : Math.max(table[(i + 1) * width + j], table[i * width + j + 1])
    }
  }
  const edits: Edit[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      edits.push({op: ' ', line: before[i++]})
      j++
    } else if (table[(i + 1) * width + j] >= table[i * width + j + 1]) edits.push({op: '-', line: before[i++]})
    else edits.push({op: '+', line: after[j++]})
  }
  while (i < n) edits.push({op: '-', line: before[i++]})
  while (j < m) edits.push({op: '+', line: after[j++]})
  return edits
}

/** Unified diff text with `context` lines around each change; empty when equal. */
export function unifiedDiff(before: string, after: string, labels: {before: string; after: string}, context = 3): string {
  const a = before.replace(/\n$/, '').split('\n')
  const b = after.replace(/\n$/, '').split('\n')
  const edits = lineEdits(a, b)
  if (edits.every((edit) => edit.op === ' ')) return ''
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`]
  // Positions (in edits) of changes; group those closer than 2*context into one hunk.
  const changes = edits.flatMap((edit, index) => (edit.op === ' ' ? [] : [index]))
  let hunkStart = 0
  while (hunkStart < changes.length) {
    let hunkEnd = hunkStart
    while (hunkEnd + 1 < changes.length && changes[hunkEnd + 1] - changes[hunkEnd] <= 2 * context) hunkEnd++
    const from = Math.max(0, changes[hunkStart] - context)
    const to = Math.min(edits.length, changes[hunkEnd] + context + 1)
    let oldLine = 1
    let newLine = 1
    for (const edit of edits.slice(0, from)) {
      if (edit.op !== '+') oldLine++
      if (edit.op !== '-') newLine++
    }
    const slice = edits.slice(from, to)
    const oldCount = slice.filter((edit) => edit.op !== '+').length
    const newCount = slice.filter((edit) => edit.op !== '-').length
    out.push(`@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@`)
    for (const edit of slice) out.push(`${edit.op}${edit.line}`)
    hunkStart = hunkEnd + 1
  }
  return out.join('\n') + '\n'
}

export function templateYaml(template: PodTemplate | undefined): string {
  return stringify(template ?? {}, {lineWidth: 0, aliasDuplicateObjects: false})
}

/** The diff of one injected workload's pod template. */
export function workloadDiff(workload: WorkloadPlan): string {
  if (workload.action !== 'inject') return ''
  const name = describeRef(workload)
  return unifiedDiff(templateYaml(workload.before), templateYaml(workload.after), {
    before: `${name} (pod template, before)`,
    after: `${name} (pod template, injected)`,
  })
}
