/**
 * "Did you mean …?" for mistyped commands and flags: the candidate nearest by edit distance,
 * when it is near enough to be a typo (kubectl and helm suggest the same way).
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

/** The nearest candidate within a third of the input's length (at least 2 edits), or a candidate it is a prefix of. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(input.length / 3))
  let best: {candidate: string; distance: number} | undefined
  for (const candidate of candidates) {
    const distance = candidate.startsWith(input) && input.length >= 3 ? 1 : editDistance(input, candidate)
    if (distance <= limit && (!best || distance < best.distance)) best = {candidate, distance}
  }
  return best?.candidate
}
