/**
 * Human rendering of the federate commands' steps through the shared Terminal: one ✓ / ! line per step
 * ("would …" in a dry run), warnings, and the next commands to run. No secret values ever
 * reach these lines; steps carry names, key names and fingerprints only.
 */
import type {PrimaryResult, Step, StepAction} from '../federation/primary.js'
import type {SecondaryResult} from '../federation/secondary.js'
import {displayPath} from '../shared/files.js'
import type {Terminal} from './terminal.js'

const VERBS: Record<StepAction, [done: string, planned: string]> = {
  create: ['created', 'would create'],
  update: ['updated', 'would update'],
  unchanged: ['unchanged', 'unchanged'],
  rotate: ['rotated', 'would rotate'],
  pending: ['not written yet', 'not written yet'],
}

function label(step: Step): string {
  if (step.kind === 'file') return displayPath(step.name)
  if (step.kind === 'token') return step.name
  return `${step.kind} ${step.name}`
}

export function renderSteps(ui: Terminal, steps: readonly Step[], dryRun: boolean): void {
  for (const step of steps) {
    const verb = VERBS[step.action][dryRun ? 1 : 0]
    const text = step.action === 'unchanged' || step.action === 'pending' ? `${label(step)}: ${verb}` : `${verb} ${label(step)}`
    const line = step.detail ? `${text} — ${step.detail}` : text
    const hint = step.hints?.map((text) => `- ${text}`).join('\n')
    if (step.action === 'pending' || step.action === 'rotate') ui.warn(line, hint)
    else ui.success(line, hint)
  }
}

export function renderWarnings(ui: Terminal, warnings: readonly string[]): void {
  for (const warning of warnings) ui.warn(warning)
}

export function renderNext(ui: Terminal, next: readonly string[], dryRun = false): void {
  if (next.length === 0) return
  // A dry run wrote nothing: its next steps name files and secrets that exist only once it runs for real.
  ui.header(dryRun ? 'Next steps, once the same command has run without --dry-run' : 'Next steps')
  for (const command of next) ui.line(`  ${command}`)
}

/** `federate primary`: the header, the steps, warnings and (unless --install does them) the next steps. */
export function renderPrimary(ui: Terminal, result: PrimaryResult, options: {next: boolean} = {next: true}): void {
  ui.header(`Federation primary "${result.datacenter}" (${result.target})${result.dryRun ? ' — dry run, nothing written' : ''}`)
  renderSteps(ui, result.steps, result.dryRun)
  renderWarnings(ui, result.warnings)
  if (options.next) renderNext(ui, result.next, result.dryRun)
}

/** `federate secondary`: the header, where the secret came from, the steps, k8sAuthMethodHost, warnings, next steps. */
export function renderSecondary(ui: Terminal, result: SecondaryResult): void {
  ui.header(
    `Federation secondary "${result.datacenter}" of primary "${result.primaryDatacenter}" (context "${result.context}", namespace ${result.namespace})${result.dryRun ? ' — dry run, nothing written' : ''}`,
  )
  ui.info(`Federation secret from ${result.source}`)
  renderSteps(ui, result.steps, result.dryRun)
  if (result.k8sAuthMethodHost) ui.success(`k8sAuthMethodHost ${result.k8sAuthMethodHost} (from ${result.k8sAuthMethodHostSource})`)
  renderWarnings(ui, result.warnings)
  renderNext(ui, result.next, result.dryRun)
}
