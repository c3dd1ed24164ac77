/**
 * Where the Consul chart comes from: the official HashiCorp repository by version
 * (hashicorp/consul from https://helm.releases.hashicorp.com, --chart-version), or a local
 * chart (--chart DIR, or a packaged .tgz) for air-gapped users and the tests. A local chart is
 * checked (Chart.yaml, name "consul") before anything reaches the cluster, and its default
 * values feed the summary so it shows what will really run.
 */
import {readFile, stat} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'
import {parse} from 'yaml'

import {UserError, errorMessage} from '../shared/errors.js'
import {isPlainObject, parseValuesText, type Values} from './values.js'

export const HASHICORP_REPO = 'https://helm.releases.hashicorp.com'
export const CONSUL_CHART = 'consul'
/** The chart version consulk8s is tested with (test/env/versions.env); install uses it unless --chart-version says otherwise. */
export const DEFAULT_CHART_VERSION = '2.0.3'

/**
 * The helm command a person runs to install (or upgrade) a release with a values file: works
 * as printed (the repository given with --repo, no `helm repo add` needed), pins the chart
 * version, and names the kube context and namespace, so it cannot land in another cluster.
 */
export function helmInstallCommand(input: {release: string; namespace: string; context: string; valuesFile: string; version?: string}): string {
  return `helm upgrade --install ${input.release} ${CONSUL_CHART} --repo ${HASHICORP_REPO} --version ${input.version ?? DEFAULT_CHART_VERSION} --kube-context ${input.context} --namespace ${input.namespace} --create-namespace -f ${input.valuesFile}`
}

/**
 * The same in one consulk8s step (preflight, summary, confirmation; see docs/install.md); for
 * a release that exists, `consulk8s upgrade`, which shows the diff of its values first.
 */
export function consulk8sInstallCommand(input: {
  release: string
  namespace: string
  context: string
  valuesFile: string
  upgrade?: boolean
  version?: string
}): string {
  const release = input.release === 'consul' ? '' : ` --release ${input.release}`
  return `consulk8s ${input.upgrade ? 'upgrade' : 'install'} --context ${input.context} -n ${input.namespace}${release} -f ${input.valuesFile} --chart-version ${input.version ?? DEFAULT_CHART_VERSION}`
}

export interface ChartOptions {
  /** A local chart directory or .tgz (--chart). */
  chart?: string
  /** A chart version from the repository (--chart-version). */
  chartVersion?: string
  /** The repository URL (--chart-repo). */
  chartRepo?: string
}

export interface ChartSource {
  kind: 'local' | 'repository'
  /** For humans: "hashicorp/consul 1.9.2 (https://...)" or "./charts/consul (consul 1.9.2)". */
  display: string
  /** What helm takes as the chart argument, and the flags that go with it. */
  helmArgs: string[]
  name: string
  /** Empty only for a packaged chart whose file name carries no version. */
  version: string
  appVersion?: string
  repo?: string
  path?: string
  /** The chart's own values.yaml (local directory charts only). */
  defaults?: Values
}

interface ChartYaml {
  name?: string
  version?: string
  appVersion?: string
}

export async function resolveChart(options: ChartOptions): Promise<ChartSource> {
  if (options.chart) return resolveLocalChart(options.chart, options.chartVersion)
  const repo = options.chartRepo || HASHICORP_REPO
  const version = (options.chartVersion ?? DEFAULT_CHART_VERSION).replace(/^v/, '')
  if (version && !/^\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(version)) {
    throw new UserError(`Invalid --chart-version "${options.chartVersion}".`, {hint: 'Give a chart version such as 1.9.2.'})
  }
  return {
    kind: 'repository',
    display: `hashicorp/${CONSUL_CHART} ${version} from ${repo}`,
    helmArgs: [CONSUL_CHART, '--repo', repo, '--version', version],
    name: CONSUL_CHART,
    version,
    repo,
  }
}

async function resolveLocalChart(path: string, wantedVersion?: string): Promise<ChartSource> {
  const absolute = resolve(path)
  let info
  try {
    info = await stat(absolute)
  } catch {
    throw new UserError(`No chart at ${path}: the path does not exist.`, {
      hint: 'Pass --chart with the directory that holds the Consul chart (Chart.yaml, values.yaml, templates/), or omit --chart to use the HashiCorp repository.',
    })
  }
  if (info.isFile()) {
    if (!/\.tgz$|\.tar\.gz$/.test(absolute)) {
      throw new UserError(`${path} is a file but not a packaged chart (.tgz).`, {
        hint: 'Pass --chart with a chart directory or a chart archive made by helm package.',
      })
    }
    const match = /^(.+?)-(\d+\.\d+\.\d+.*?)\.(tgz|tar\.gz)$/.exec(basename(absolute))
    return {
      kind: 'local',
      display: absolute,
      helmArgs: [absolute],
      name: match?.[1] ?? CONSUL_CHART,
      version: match?.[2] ?? '',
      path: absolute,
    }
  }
  const chartYamlPath = join(absolute, 'Chart.yaml')
  let chartYaml: ChartYaml
  try {
    const parsed: unknown = parse(await readFile(chartYamlPath, 'utf8'))
    chartYaml = isPlainObject(parsed) ? (parsed as ChartYaml) : {}
  } catch (error) {
    const missing = (error as {code?: string}).code === 'ENOENT'
    throw new UserError(missing ? `No chart at ${path}: it has no Chart.yaml.` : `Cannot read ${chartYamlPath}: ${errorMessage(error)}`, {
      hint: 'Pass --chart with the directory that holds the Consul chart (Chart.yaml, values.yaml, templates/).',
    })
  }
  if (chartYaml.name !== CONSUL_CHART) {
    throw new UserError(`The chart at ${path} is "${chartYaml.name ?? '(unnamed)'}", not the Consul chart.`, {
      hint: 'Pass --chart with a directory of the official Consul chart (name: consul in Chart.yaml).',
    })
  }
  const version = String(chartYaml.version ?? '')
  if (wantedVersion && wantedVersion.replace(/^v/, '') !== version) {
    throw new UserError(`--chart-version ${wantedVersion} does not match the local chart at ${path} (version ${version}).`, {
      hint: '--chart-version picks a version from the repository; with --chart the local chart is used as it is.',
    })
  }
  let defaults: Values | undefined
  try {
    defaults = parseValuesText(await readFile(join(absolute, 'values.yaml'), 'utf8'), join(path, 'values.yaml'))
  } catch {
    defaults = undefined
  }
  return {
    kind: 'local',
    display: `${absolute} (consul ${version})`,
    helmArgs: [absolute],
    name: CONSUL_CHART,
    version,
    appVersion: chartYaml.appVersion === undefined ? undefined : String(chartYaml.appVersion),
    path: absolute,
    defaults,
  }
}
