/**
 * Human output of `sync`: the settings taken from a Helm release, a pass's plan (per side:
 * + adds, ~ updates, - removals), what was skipped and why, failures, and one summary line
 * with counts, write calls and duration.
 */
import {exitCodeOf, type SyncResult} from '../sync/engine.js'
import type {ReleaseSettings, Setting} from '../sync/release.js'
import type {Terminal} from './terminal.js'

export interface RenderOptions {
  /** List every planned change (dry run, --verbose); otherwise only counts. */
  listChanges: boolean
  consulAddress: string
  kubeContext: string
}

/** --from-release: where the settings came from (each one with --dry-run or --verbose), and what the release sets that consulk8s cannot honour. */
export function renderSettings(ui: Terminal, release: ReleaseSettings, settings: Setting[], listSettings: boolean): void {
  ui.header(`Settings (release ${release.namespace}/${release.release})`)
  if (listSettings)
    ui.table(
      ['flag', 'value', 'from'],
      settings.map((s) => [`--${s.flag}`, s.value, s.from]),
    )
  else
    ui.detail(
      `${settings.filter((s) => s.from === 'release').length} settings from the release, ${settings.filter((s) => s.from === 'flag').length} from flags (--dry-run lists them)`,
    )
  for (const note of release.notes) ui.warn(note)
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

function counts(
  side: {add: unknown[]; update: unknown[]; remove: unknown[]; unchanged: number; applied?: {added: number; updated: number; removed: number}},
  dryRun: boolean,
): string {
  const a = side.applied
  if (dryRun || !a) return `${side.add.length} to add, ${side.update.length} to update, ${side.remove.length} to remove, ${side.unchanged} unchanged`
  return `${a.added} added, ${a.updated} updated, ${a.removed} removed, ${side.unchanged} unchanged`
}

export function renderResult(ui: Terminal, result: SyncResult, options: RenderOptions): void {
  const verb = result.dryRun ? 'would ' : ''
  const c = result.toConsul
  if (c) {
    ui.header(`Kubernetes (${options.kubeContext}) -> Consul (${options.consulAddress}, node ${c.node})`)
    if (options.listChanges) {
      const on = (node: string) => (node === c.node ? '' : ` on node ${node}`)
      for (const r of c.add) ui.line(`  + ${r.service} ${r.id} ${r.address}:${r.port}${on(r.node)} from ${r.source}${r.check ? ` (${r.check})` : ''}`)
      for (const r of c.update) ui.line(`  ~ ${r.service} ${r.id} ${r.address}:${r.port}${on(r.node)} from ${r.source}: ${r.changes.join(', ')}`)
      for (const r of c.remove) ui.line(`  - ${r.service} ${r.id}${on(r.node)}`)
      for (const node of c.removeNodes) ui.line(`  - node ${node} (created by this engine, now empty)`)
      for (const pending of c.pending) ui.detail(`no instances yet: ${pending}`)
    }
    const status = result.failures.some((f) => f.side === 'consul') ? 'fail' : 'ok'
    const kept = c.kept > 0 ? `, ${c.kept} kept for malformed annotations` : ''
    ui.status(status, `${c.selected} Kubernetes services selected: ${counts(c, result.dryRun)}${kept}`)
  }
  const k = result.toK8s
  if (k) {
    ui.header(`Consul (${options.consulAddress}) -> Kubernetes (${options.kubeContext}, namespace ${k.namespace})`)
    if (options.listChanges) {
      for (const s of k.add) ui.line(`  + service/${s.name} -> ${s.externalName}`)
      for (const s of k.update) ui.line(`  ~ service/${s.name} -> ${s.externalName}: ${s.changes.join(', ')}`)
      for (const s of k.remove) ui.line(`  - service/${s.name}`)
    }
    const status = result.failures.some((f) => f.side === 'kubernetes') ? 'fail' : 'ok'
    ui.status(status, `ExternalName services: ${counts(k, result.dryRun)}`)
  }
  for (const warning of result.warnings) ui.warn(`${warning.source}: ${warning.message}`)
  for (const skip of result.skipped) ui.warn(`${verb ? 'Would skip' : 'Skipped'} ${skip.source}: ${skip.reason}`)
  for (const failure of result.failures)
    ui.fail(`Failed to ${failure.item} in ${failure.side === 'consul' ? 'Consul' : 'Kubernetes'}: ${failure.reason}`)
  for (const reason of result.removalsSkipped) ui.warn(`Removals held back (${reason})`)
  renderSummary(ui, result)
}

export function summaryLine(result: SyncResult): string {
  const writes = `${result.writeCalls.consul} Consul write call${result.writeCalls.consul === 1 ? '' : 's'}, ${result.writeCalls.kubernetes} Kubernetes write call${result.writeCalls.kubernetes === 1 ? '' : 's'}`
  const skipped = result.skipped.length > 0 ? `, ${result.skipped.length} skipped` : ''
  if (result.dryRun) return `Dry run: nothing was changed (${seconds(result.durationMs)}${skipped}).`
  if (result.interrupted) return `Interrupted after ${seconds(result.durationMs)}: writes in flight finished, the rest was not started (${writes}).`
  if (result.failures.length > 0)
    return `${result.failures.length} write${result.failures.length === 1 ? '' : 's'} failed after ${seconds(result.durationMs)} (${writes}${skipped}); run again to complete.`
  return `Synced in ${seconds(result.durationMs)} (${writes}${skipped}).`
}

export function renderSummary(ui: Terminal, result: SyncResult): void {
  const code = exitCodeOf(result)
  const line = summaryLine(result)
  ui.line()
  if (code === 0) ui.success(line)
  else if (code === 2) ui.warn(line, 'Some services were skipped (see above); the exit code is 2.')
  else ui.fail(line)
}

/** One line for a continuous-mode pass. */
export function passLine(result: SyncResult): string {
  const parts: string[] = []
  const c = result.toConsul
  if (c?.applied) parts.push(`Consul +${c.applied.added} ~${c.applied.updated} -${c.applied.removed}`)
  const k = result.toK8s
  if (k?.applied) parts.push(`Kubernetes +${k.applied.added} ~${k.applied.updated} -${k.applied.removed}`)
  return `${new Date().toISOString().slice(11, 19)} ${parts.join(', ')} (${seconds(result.durationMs)}, ${result.writeCalls.consul + result.writeCalls.kubernetes} write calls)`
}

function changedAnything(result: SyncResult): boolean {
  const a = result.toConsul?.applied
  const b = result.toK8s?.applied
  return Boolean((a && a.added + a.updated + a.removed > 0) || (b && b.added + b.updated + b.removed > 0))
}

/**
 * A continuous-mode pass: one line when something changed (or always with verbose), each
 * skipped service once (not again on every pass), failures every time.
 */
export function renderPass(ui: Terminal, result: SyncResult, reported: Set<string>): void {
  if (result.failures.length > 0) ui.fail(passLine(result))
  else if (changedAnything(result)) ui.success(passLine(result))
  else ui.detail(passLine(result))
  const current = new Set<string>()
  const lines = [
    ...result.warnings.map((w) => `${w.source}: ${w.message}`),
    ...result.skipped.map((skip) => `Skipped ${skip.source}: ${skip.reason}`),
  ]
  for (const line of lines) {
    current.add(line)
    if (!reported.has(line)) ui.warn(line)
  }
  reported.clear()
  for (const line of current) reported.add(line)
  for (const failure of result.failures)
    ui.fail(`Failed to ${failure.item} in ${failure.side === 'consul' ? 'Consul' : 'Kubernetes'}: ${failure.reason}`)
  for (const reason of result.removalsSkipped) ui.warn(`Removals held back (${reason})`)
}
