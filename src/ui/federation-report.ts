/**
 * Human rendering of the federate commands' steps through the shared Terminal: one ✓ / ! line per step
 * ("would …" in a dry run), warnings, and the next commands to run. No secret values ever
 * reach these lines; steps carry names, key names and fingerprints only.
 */
import type {Step, StepAction} from '../federation/primary.js'
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

export function renderNext(ui: Terminal, next: readonly string[]): void {
  if (next.length === 0) return
  ui.header('Next steps')
  for (const command of next) ui.line(`  ${command}`)
}
