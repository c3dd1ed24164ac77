/**
 * Go-style durations as helm and kubectl take them: "90s", "10m", "1h30m", "500ms".
 * A bare number is refused, as helm refuses it ("missing unit"): 90 could be seconds or minutes.
 */
import {UserError} from './errors.js'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

export function parseDuration(text: string, flag = '--timeout'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    throw new UserError(`Invalid duration "${text}" for ${flag}: missing unit.`, {
      hint: `Add a unit, e.g. ${trimmed}s or ${trimmed}m (s, m, h, ms; 1h30m).`,
    })
  }
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * UNITS[match[2]]
    consumed += match[0].length
  }
  if (trimmed === '' || consumed !== trimmed.length || total <= 0) {
    throw new UserError(`Invalid duration "${text}" for ${flag}.`, {hint: 'Use a duration such as 90s, 10m or 1h30m.'})
  }
  return Math.round(total)
}

/** Milliseconds as a Go duration helm accepts ("10m0s" style is not needed: "600s"). */
export function toGoDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  const rest = seconds % 60
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`
}
