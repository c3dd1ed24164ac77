/**
 * `consulk8s sync` as one call: the settings (the flags, merged over an installed Helm
 * release's with --from-release), the connections to both sides (logging in to Consul through
 * an auth method when asked, and out again at the end), then one reconcile pass (--once,
 * --dry-run) or the continuous mode until the signal aborts. It returns data and tells its
 * progress through hooks; the command renders both.
 */
import {ConsulClient, type ConsulConfig} from '../consul/client.js'
import {login, logout, type LoginOptions, type LoginToken} from '../consul/login.js'
import {Helm, helmBinary} from '../helm/helm.js'
import {connectKube, type KubeApi} from '../kube/http.js'
import {UserError, errorMessage} from '../shared/errors.js'
import {reconcile, type EngineContext, type SyncResult} from './engine.js'
import type {SyncOptions} from './model.js'
import {syncOptionsFrom, type SyncInput} from './options.js'
import {mergeSyncInput, readReleaseSettings, settingsTable, type ReleaseSettings, type Setting} from './release.js'
import {runContinuous} from './watch.js'

/** Everything `sync` needs, as the command builds it from its flags. */
export interface SyncRunOptions {
  /** Every sync setting, defaults included (used as is without --from-release). */
  input: SyncInput
  /** Only the settings the user gave explicitly: with --from-release they win over the release's. */
  explicit: SyncInput
  /** --from-release: `[NAMESPACE/]NAME` of the Consul Helm release, '' for the only one in the cluster. */
  fromRelease?: string
  /** --helm-binary, for --from-release. */
  helmBinary?: string
  kubeconfig?: string
  context?: string
  /** How to reach Consul; undefined when no address was given (an error). */
  consul?: ConsulConfig
  /** Log in through this ACL auth method instead of using a token; logged out at the end. */
  login?: LoginOptions
  /** Reconcile once and return instead of watching. */
  once: boolean
  /** Plan once, change nothing (implies once). */
  dryRun: boolean
  /** Writes in flight at once. */
  concurrency: number
}

/** Which Kubernetes context and Consul agent a run talks to. */
export interface SyncTarget {
  kubeContext: string
  consulAddress: string
}

/** What a run tells while it goes; all optional. */
export interface SyncRunHooks {
  /** --from-release: the release read, and every setting with where it came from. */
  onSettings?: (release: ReleaseSettings, settings: Setting[]) => void
  /** Logged in to Consul through the auth method. */
  onLogin?: (authMethod: string, accessorId: string) => void
  /** Both sides connected; the pass (once) or the watching (continuous) starts. */
  onStart?: (target: SyncTarget) => void
  /** Each pass of the continuous mode. */
  onPass?: (result: SyncResult) => void
  /** Progress and retries. */
  onProgress?: (message: string) => void
  /** Trouble the continuous mode works through (watches failing, a pass failing). */
  onWarning?: (message: string) => void
  /**
   * Runs the work with the signal that stops it: no new write starts once it aborts, the
   * writes in flight finish. The command passes withInterrupt() (Ctrl-C); without it the work
   * runs to its end.
   */
  interruptible?: <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>
}

/** What a run did: the result of the one pass, or the number of passes of the continuous mode. */
export type SyncRun = ({once: true; result: SyncResult} | {once: false; passes: number}) & {
  target: SyncTarget
  /** Trouble at the end (a logout that failed), for the command to show after the result. */
  warnings: string[]
}

/** The settings to sync with: the flags, or with --from-release the flags over the release's. */
async function resolveSettings(options: SyncRunOptions): Promise<{sync: SyncOptions; release?: ReleaseSettings; settings?: Setting[]}> {
  if (options.fromRelease === undefined) return {sync: syncOptionsFrom(options.input)}
  const helm = new Helm(helmBinary(options.helmBinary), {kubeconfig: options.kubeconfig, context: options.context})
  const release = await readReleaseSettings(helm, options.fromRelease)
  const merged = mergeSyncInput(options.explicit, release.input)
  const sync = syncOptionsFrom(merged.input)
  return {sync, release, settings: settingsTable(sync, (key) => merged.sources[key] ?? 'default')}
}

/** Log in through the auth method with a client that carries no token. */
async function loginToConsul(config: ConsulConfig, options: LoginOptions): Promise<LoginToken> {
  const anonymous = new ConsulClient({...config, token: undefined})
  try {
    return await login(anonymous, options)
  } finally {
    anonymous.close()
  }
}

/** Read the settings, connect, sync (once or continuously), log out and close. */
export async function runSync(options: SyncRunOptions, hooks: SyncRunHooks = {}): Promise<SyncRun> {
  const {sync, release, settings} = await resolveSettings(options)
  const consulConfig = options.consul
  if (!consulConfig) {
    throw new UserError('No Consul address given.', {
      hint: 'Pass --consul-http-addr (or set CONSUL_HTTP_ADDR), e.g. https://127.0.0.1:8501, with --consul-cacert and --consul-token as needed.',
    })
  }
  if (release && settings) hooks.onSettings?.(release, settings)
  const kube = await connectKube({kubeconfig: options.kubeconfig, context: options.context})
  let loginToken: LoginToken | undefined
  if (options.login) {
    loginToken = await loginToConsul(consulConfig, options.login).catch((error: unknown) => {
      kube.close()
      throw error
    })
    hooks.onLogin?.(options.login.authMethod, loginToken.accessorId)
  }
  const consul = new ConsulClient(loginToken ? {...consulConfig, token: loginToken.secretId} : consulConfig)
  const target: SyncTarget = {kubeContext: kube.name, consulAddress: consul.address}
  const interruptible = hooks.interruptible ?? ((work) => work(new AbortController().signal))
  let run: SyncRun
  try {
    run = await interruptible(async (signal): Promise<SyncRun> => {
      const ctx: EngineContext = {kube, consul, options: sync, concurrency: options.concurrency, signal, onProgress: hooks.onProgress}
      hooks.onStart?.(target)
      if (options.once || options.dryRun) {
        const result = await reconcile(ctx, {dryRun: options.dryRun})
        if (settings) result.settings = settings
        return {once: true, result, target, warnings: []}
      }
      const {passes} = await runContinuous(ctx, {
        onPass: (result) => hooks.onPass?.(result),
        onWarning: (message) => hooks.onWarning?.(message),
        onStatus: hooks.onProgress,
      })
      return {once: false, passes, target, warnings: []}
    })
  } catch (error) {
    for (const warning of await disconnect(kube, consul, loginToken)) hooks.onWarning?.(warning)
    throw error
  }
  run.warnings.push(...(await disconnect(kube, consul, loginToken)))
  return run
}

/** Log out (when logged in) and close both connections; what went wrong, as warnings. */
async function disconnect(kube: KubeApi, consul: ConsulClient, loginToken: LoginToken | undefined): Promise<string[]> {
  const warnings: string[] = []
  if (loginToken) {
    await logout(consul, loginToken).catch((error) =>
      warnings.push(`Could not log out of Consul (token ${loginToken.accessorId}): ${errorMessage(error)}`),
    )
  }
  consul.close()
  kube.close()
  return warnings
}
