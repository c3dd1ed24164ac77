/**
 * The real `helm` binary, run with execa. Finds it (--helm-binary, else $CONSULK8S_HELM,
 * else `helm` on PATH), checks its version, and always passes the kube context and the
 * user's --kubeconfig so helm talks to exactly the cluster consulk8s checked. Failures come
 * back as one readable UserError carrying helm's own "Error: ..." line.
 */
import {UserError} from '../shared/errors.js'
import type {Values} from './values.js'
import {isPlainObject} from './values.js'

/** Oldest helm accepted: `--dry-run=server` and current `helm get values -o json` need 3.13. */
export const MIN_HELM_VERSION = {major: 3, minor: 13, patch: 0}

export interface HelmVersion {
  raw: string
  major: number
  minor: number
  patch: number
}

export function parseHelmVersion(text: string): HelmVersion | undefined {
  const raw = text.trim()
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(raw)
  if (!match) return undefined
  return {raw, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3])}
}

/** Helm 3.13 or newer, or Helm 4; anything else is refused with what to do. */
export function checkHelmVersion(version: HelmVersion, binary: string): void {
  const min = MIN_HELM_VERSION
  const tooOld =
    version.major < min.major ||
    (version.major === min.major && (version.minor < min.minor || (version.minor === min.minor && version.patch < min.patch)))
  if (tooOld || version.major > 4) {
    throw new UserError(`${binary} is helm ${version.raw}; consulk8s needs helm ${min.major}.${min.minor}.${min.patch} or newer (3.x or 4.x).`, {
      hint: 'Install a current helm (https://helm.sh/docs/intro/install/) and point --helm-binary or CONSULK8S_HELM at it.',
    })
  }
}

/** --helm-binary, else $CONSULK8S_HELM, else `helm` from PATH. */
export function helmBinary(explicit?: string): string {
  return explicit || process.env.CONSULK8S_HELM || 'helm'
}

export interface HelmTarget {
  /** The user's --kubeconfig; without it helm reads $KUBECONFIG / ~/.kube/config like consulk8s does. */
  kubeconfig?: string
  /** The kube context; always passed so helm never falls back to another current context. */
  context?: string
}

export interface ReleaseInfo {
  name: string
  namespace: string
  revision: number
  status: string
  updated: string
  chart: string
  chartName: string
  chartVersion: string
  appVersion: string
}

interface HelmListEntry {
  name: string
  namespace: string
  revision: string | number
  updated: string
  status: string
  chart: string
  app_version: string
}

/** "consul-1.9.2" -> {name: "consul", version: "1.9.2"} */
export function splitChartLabel(label: string): {name: string; version: string} {
  const match = /^(.+?)-(v?\d+\.\d+\.\d+.*)$/.exec(label)
  return match ? {name: match[1], version: match[2]} : {name: label, version: ''}
}

export function toReleaseInfo(entry: HelmListEntry): ReleaseInfo {
  const chart = splitChartLabel(entry.chart)
  return {
    name: entry.name,
    namespace: entry.namespace,
    revision: Number(entry.revision),
    status: entry.status,
    updated: entry.updated,
    chart: entry.chart,
    chartName: chart.name,
    chartVersion: chart.version,
    appVersion: entry.app_version,
  }
}

/** Helm prints "Error: <what went wrong>"; keep that line (and what follows it). */
export function helmErrorText(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const index = lines.findIndex((line) => line.startsWith('Error:'))
  const relevant = index === -1 ? lines.slice(-3) : lines.slice(index)
  return (
    relevant
      .join(' ')
      .replace(/^Error:\s*/, '')
      .slice(0, 1500) || 'no error output'
  )
}

export interface RunOptions {
  /** Called with each line helm prints (stdout and stderr), e.g. for progress. */
  onLine?: (line: string) => void
  /** What this call does, for the error message ("install the release"). */
  what?: string
  /** Don't add --kube-context/--kubeconfig (for `helm version`). */
  local?: boolean
  timeoutMs?: number
}

export class Helm {
  constructor(
    readonly binary: string,
    readonly target: HelmTarget = {},
  ) {}

  targetArgs(): string[] {
    const args: string[] = []
    if (this.target.context) args.push('--kube-context', this.target.context)
    if (this.target.kubeconfig) args.push('--kubeconfig', this.target.kubeconfig)
    return args
  }

  async run(args: string[], options: RunOptions = {}): Promise<string> {
    const fullArgs = options.local ? args : [...args, ...this.targetArgs()]
    // execa (~120 files) is loaded only when a process is really started (start-up time).
    const {execa} = await import('execa')
    const subprocess = execa(this.binary, fullArgs, {
      reject: false,
      stdin: 'ignore',
      timeout: options.timeoutMs,
    })
    if (options.onLine) {
      const onLine = options.onLine
      for (const stream of [subprocess.stdout, subprocess.stderr]) {
        let buffer = ''
        stream?.on('data', (chunk: Buffer) => {
          buffer += chunk.toString()
          const lines = buffer.split('\n')
          buffer = lines.pop() ?? ''
          for (const line of lines) if (line.trim()) onLine(line)
        })
      }
    }
    const result = await subprocess
    if (result.timedOut) {
      throw new UserError(`helm did not finish ${options.what ?? 'its work'} in time.`, {
        hint: 'Raise --timeout, or check the cluster: `consulk8s status` shows what is there.',
      })
    }
    if (result.exitCode === undefined) {
      const code = (result as {code?: string}).code
      throw helmNotFound(this.binary, code === 'ENOENT' ? undefined : String((result as {originalMessage?: string}).originalMessage ?? code))
    }
    if (result.exitCode !== 0) {
      throw new HelmError(`helm failed to ${options.what ?? args[0]}: ${helmErrorText(String(result.stderr))}`, String(result.stderr))
    }
    return String(result.stdout)
  }

  async version(): Promise<HelmVersion> {
    const output = await this.run(['version', '--template', '{{.Version}}'], {local: true, what: 'print its version'})
    const version = parseHelmVersion(output)
    if (!version) {
      throw new UserError(`Cannot read the version of ${this.binary} ("${output.trim().slice(0, 80)}").`, {
        hint: 'consulk8s needs helm 3.13 or newer; check that --helm-binary / CONSULK8S_HELM points at helm.',
      })
    }
    return version
  }

  /** Located, runnable and recent enough, or a UserError saying what to do. */
  async checkUsable(): Promise<HelmVersion> {
    const version = await this.version()
    checkHelmVersion(version, this.binary)
    return version
  }

  /** The release (in any state, failed ones included), or undefined. */
  async findRelease(release: string, namespace: string): Promise<ReleaseInfo | undefined> {
    const entries = await this.list(['--namespace', namespace, '--filter', `^${escapeRegex(release)}$`])
    return entries.find((entry) => entry.name === release)
  }

  /** Every release in the cluster (all namespaces, all states). */
  async listAll(): Promise<ReleaseInfo[]> {
    return this.list(['--all-namespaces'])
  }

  private async list(extra: string[]): Promise<ReleaseInfo[]> {
    const output = await this.run(['list', '--all', '--max', '0', '--output', 'json', ...extra], {what: 'list releases'})
    const parsed = JSON.parse(output || '[]') as HelmListEntry[] | null
    return (parsed ?? []).map((entry) => toReleaseInfo(entry))
  }

  /** The user-supplied values of the deployed release (`helm get values -o json`); with `all`, the computed ones (chart defaults included). */
  async getValues(release: string, namespace: string, options: {all?: boolean} = {}): Promise<Values> {
    const output = await this.run(['get', 'values', release, '--namespace', namespace, ...(options.all ? ['--all'] : []), '--output', 'json'], {
      what: `read the values of release ${release}`,
    })
    const parsed: unknown = JSON.parse(output || 'null')
    return isPlainObject(parsed) ? parsed : {}
  }

  /** `helm status -o json`: the release record (info, chart metadata, hooks with their last run). */
  async status(release: string, namespace: string): Promise<Record<string, unknown>> {
    const output = await this.run(['status', release, '--namespace', namespace, '--output', 'json'], {what: `read the status of release ${release}`})
    const parsed: unknown = JSON.parse(output || 'null')
    if (!isPlainObject(parsed)) return {}
    // The manifest and the user values ride along in helm's answer; nothing here needs them.
    const {manifest: _manifest, config: _config, ...rest} = parsed
    return rest
  }
}

export class HelmError extends UserError {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message, {hint: hintFor(stderr)})
  }
}

function hintFor(stderr: string): string | undefined {
  if (/cluster unreachable|connection refused|no such host|i\/o timeout/i.test(stderr)) {
    return 'helm could not reach the Kubernetes API; check --context/--kubeconfig and that the cluster is running.'
  }
  if (/another operation \(install\/upgrade\/rollback\) is in progress/i.test(stderr)) {
    return 'Another helm operation on this release is still running (or was interrupted); wait, or roll it back with helm rollback.'
  }
  if (/invalid ownership metadata|exists and cannot be imported/i.test(stderr)) {
    return 'Objects of the same names belong to another release or were made by hand; uninstall that release or install under another --release.'
  }
  if (/execution error at|values don't meet the specifications|render error/i.test(stderr)) {
    return 'The chart rejected these values; fix the value it names and run the command again.'
  }
  if (/could not find|failed to fetch|no chart version found|repo .* not found/i.test(stderr)) {
    return 'Check --chart-version (helm search repo hashicorp/consul --versions) or use a local chart with --chart DIR.'
  }
  return undefined
}

function helmNotFound(binary: string, detail?: string): UserError {
  return new UserError(`helm was not found: cannot run "${binary}"${detail ? ` (${detail})` : ''}.`, {
    hint: 'Install helm 3.13 or newer (https://helm.sh/docs/intro/install/), or point --helm-binary or CONSULK8S_HELM at it.',
  })
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
