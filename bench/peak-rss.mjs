// Preloaded into the benchmarked consulk8s process (node --import): reports its peak
// resident set size and its CPU time (user + system) on exit, read by bench/lib.ts.
//
// On Linux peak RSS is VmHWM of /proc/self/status, the high-water mark of this program's own
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
  const cpu = process.cpuUsage()
  process.stderr.write(`PEAK_RSS_KB=${peakKb()}\nCPU_MS=${Math.round((cpu.user + cpu.system) / 1000)}\n`)
})
