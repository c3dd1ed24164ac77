// Preloaded into the benchmarked consulk8s process (node --import): reports its peak
// resident set size on exit, read by bench/sync-convergence.ts.
//
// On Linux this is VmHWM of /proc/self/status, the high-water mark of this program's own
// memory. getrusage's ru_maxrss (process.resourceUsage().maxRSS) is not usable for a child:
// Linux carries the parent's RSS at fork time over into it, so a child of a large parent
// would report the parent's size.
import {readFileSync} from 'node:fs'

function peakKb() {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) return Number(match[1])
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS
}

process.on('exit', () => {
  process.stderr.write(`PEAK_RSS_KB=${peakKb()}\n`)
})
