/**
 * Where the Consul Helm chart comes from. It is never part of this repository. In order:
 *   1. $CONSULK8S_CHART_DIR
 *   2. ../shared/charts/consul beside the repository
 *   3. <cache>/consul-chart-<CONSUL_CHART_VERSION>/consul
 *   4. extracted into (3) from a local mirror of hashicorp/consul-k8s (a bare git
 *      repository, $CONSULK8S_CHART_MIRROR, default /work/.mirror/hashicorp+consul-k8s/repo),
 *      tag v<CONSUL_CHART_VERSION>, directory charts/consul.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, renameSync, rmSync} from 'node:fs'
import {join, resolve} from 'node:path'

export const DEFAULT_CHART_MIRROR = '/work/.mirror/hashicorp+consul-k8s/repo'

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

  const cached = candidates.at(-1)!
  const mirror = env.CONSULK8S_CHART_MIRROR ?? DEFAULT_CHART_MIRROR
  if (existsSync(mirror)) {
    const parent = resolve(cached, '..')
    mkdirSync(resolve(parent, '..'), {recursive: true})
    const tmp = mkdtempSync(`${parent}.tmp-`)
    try {
      const archive = execFileSync('git', [`--git-dir=${mirror}`, 'archive', '--format=tar', '--prefix=consul/', `v${chartVersion}:charts/consul`], {
        maxBuffer: 256 * 1024 * 1024,
      })
      execFileSync('tar', ['-x', '-C', tmp], {input: archive})
      if (!isChart(join(tmp, 'consul'))) throw new Error('the archive holds no chart')
      if (isChart(cached)) return cached // another run was quicker
      rmSync(parent, {recursive: true, force: true})
      renameSync(tmp, parent)
      return cached
    } catch (error) {
      throw new Error(`extracting the Consul chart ${chartVersion} from the mirror ${mirror} failed: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      rmSync(tmp, {recursive: true, force: true})
    }
  }
  throw new Error(
    `the Consul Helm chart ${chartVersion} was not found. Looked in: ${candidates.join(', ')}; and no mirror of hashicorp/consul-k8s at ${mirror}. ` +
      'Put the chart (the charts/consul directory of hashicorp/consul-k8s) in one of these places or point CONSULK8S_CHART_DIR at it.',
  )
}
