/**
 * Where the Consul Helm chart comes from. It is never part of this repository. In order:
 *   1. $CONSULK8S_CHART_DIR
 *   2. ../shared/charts/consul beside the repository
 *   3. <cache>/consul-chart-<CONSUL_CHART_VERSION>/consul
 */
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'

const isChart = (dir: string) => existsSync(join(dir, 'Chart.yaml')) && existsSync(join(dir, 'templates'))

export function chartCandidates(repoRoot: string, cacheDir: string, chartVersion: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    ...(env.CONSULK8S_CHART_DIR ? [resolve(env.CONSULK8S_CHART_DIR)] : []),
    resolve(repoRoot, '..', 'shared', 'charts', 'consul'),
    join(cacheDir, `consul-chart-${chartVersion}`, 'consul'),
  ]
}

export function resolveChartDir(repoRoot: string, cacheDir: string, chartVersion: string, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = chartCandidates(repoRoot, cacheDir, chartVersion, env)
  if (env.CONSULK8S_CHART_DIR && !isChart(candidates[0]!)) {
    throw new Error(`CONSULK8S_CHART_DIR=${env.CONSULK8S_CHART_DIR} is not a Helm chart directory (no Chart.yaml and templates/).`)
  }
  const found = candidates.find(isChart)
  if (found) return found

  throw new Error(
    `the Consul Helm chart ${chartVersion} was not found. Looked in: ${candidates.join(', ')}. ` +
      'Put the chart (the charts/consul directory of hashicorp/consul-k8s) in one of these places or point CONSULK8S_CHART_DIR at it.',
  )
}
