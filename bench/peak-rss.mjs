// Preloaded into the benchmarked consulk8s process (node --import): reports its peak
// resident set size on exit, read by bench/sync-convergence.ts.
process.on('exit', () => {
  process.stderr.write(`PEAK_RSS_KB=${process.resourceUsage().maxRSS}\n`)
})
