/**
 * Human output of a verify report: one ✓ / ! / ✗ line per check, the cause and next step
 * under each problem, and a verdict line. And the one-line "still waiting for" text of --wait.
 */
import type {Check, VerifyReport} from '../verify/types.js'
import type {Terminal} from './terminal.js'

export function renderReport(report: VerifyReport, ui: Terminal): void {
  for (const check of report.checks) {
    const hint = [check.cause ? `cause: ${check.cause}` : '', check.next ? `next:  ${check.next}` : ''].filter(Boolean).join('\n')
    ui.status(check.status, `${check.title} — ${check.detail}`, hint || undefined)
  }
  ui.line()
  const {ok, warn, fail} = report.summary
  const total = ok + warn + fail
  const scope = `${report.datacenters.join(', ') || 'no datacenter'}${report.primaryDatacenter ? `; primary ${report.primaryDatacenter}` : ''}`
  if (report.pre) {
    const what = `${report.pre.datacenter} in context ${report.pre.context}`
    if (fail > 0)
      ui.fail(`NOT ready to install ${what}: ${fail} of ${total} checks failed${warn ? `, ${warn} warning${warn === 1 ? '' : 's'}` : ''} (${scope}).`)
    else if (warn > 0) ui.warn(`Ready to install ${what}, with ${warn} warning${warn === 1 ? '' : 's'}: ${ok} of ${total} checks passed (${scope}).`)
    else ui.success(`Ready to install ${what}: all ${total} checks passed (${scope}).`)
    return
  }
  if (fail > 0) {
    ui.fail(`Federation NOT verified: ${fail} of ${total} checks failed${warn ? `, ${warn} warning${warn === 1 ? '' : 's'}` : ''} (${scope}).`)
  } else if (warn > 0) {
    ui.warn(`Federation verified with ${warn} warning${warn === 1 ? '' : 's'}: ${ok} of ${total} checks passed (${scope}).`)
  } else {
    ui.success(`Federation verified: all ${total} checks passed (${scope}).`)
  }
}

/** "dc1: dc2 servers alive in the WAN pool (0/1 alive: consul-server-0.dc2 failed); …" */
export function waitingText(pending: Check[], remainingMs: number): string {
  const items = pending.map((check) => `${check.title} (${check.detail.length > 100 ? check.detail.slice(0, 97) + '...' : check.detail})`)
  return `waiting ${Math.ceil(remainingMs / 1000)}s more for ${pending.length} check${pending.length === 1 ? '' : 's'}: ${items.join('; ')}`
}
