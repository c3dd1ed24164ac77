import {Flags, type Interfaces} from '@oclif/core'
import {stringify} from 'yaml'

import {consulConfigFrom} from '../consul/client.js'
import {parseLoginMeta, POD_TOKEN_FILE} from '../consul/login.js'
import {helmBinaryFlag} from '../helm/flags.js'
import {BaseCommand} from '../shared/base-command.js'
import {consulFlags, dryRunFlag, kubeFlags, outputFlag} from '../shared/flags.js'
import {withInterrupt} from '../shared/interrupt.js'
import {exitCodeOf, type SyncResult} from '../sync/engine.js'
import {DEFAULT_OPTIONS, NODE_PORT_SYNC_TYPES} from '../sync/model.js'
import {SETTING_FLAGS, type SyncInput} from '../sync/options.js'
import {runSync, type SyncRunOptions} from '../sync/run.js'
import {renderPass, renderResult, renderSettings} from '../ui/sync-report.js'

/** `--from-release` alone (no value) means "the one Consul release in the cluster". */
export function bareFromRelease(argv: string[]): string[] {
  return argv.map((arg, index) =>
    arg === '--from-release' && (index === argv.length - 1 || argv[index + 1].startsWith('-')) ? '--from-release=' : arg,
  )
}

export default class Sync extends BaseCommand {
  static summary = 'Sync services between Kubernetes and the Consul catalog (once, or continuously).'
  static description = `Kubernetes -> Consul: NodePort, LoadBalancer, external-IP and ClusterIP services are registered in the Consul catalog on the engine's node (--consul-node-name, default k8s-sync), honouring the consul.hashicorp.com/service-sync, service-name, service-port, service-tags, service-meta-KEY and service-weight annotations, with a kubernetes-readiness check for endpoint-backed instances.
Consul -> Kubernetes: every Consul service not tagged k8s becomes an ExternalName Service <name>.service.<domain> in --k8s-write-namespace, labelled consul=true.

The engine reads both sides completely, plans in memory, then applies the plan with batched Consul transactions (64 operations each) and bounded concurrency, retrying on 429/5xx and Kubernetes conflicts. It only ever updates or removes what it created itself (Consul meta k8s-sync-node / Kubernetes annotation consulk8s/sync-node equal to its node name), and removes nothing unless both reads were complete and every add/update succeeded.

With --once (and with --dry-run, which plans once and changes nothing) it reconciles once and exits: 0 when in sync, 2 when services were skipped (malformed annotations, conflicts), 1 when something failed, 130 when interrupted. Without --once it keeps watching (Kubernetes watches, Consul blocking queries) until Ctrl-C, which lets writes in flight finish.`
  static enableJsonFlag = true
  static examples = [
    {
      description: 'Reconcile once (CI)',
      command: '<%= config.bin %> <%= command.id %> --once --context dc1 --consul-http-addr https://consul.example:8501 --consul-cacert ca.pem',
    },
    {description: 'Show the plan, change nothing', command: '<%= config.bin %> <%= command.id %> --dry-run'},
    {
      description: 'Only Kubernetes -> Consul, from two namespaces, names suffixed with the namespace',
      command: '<%= config.bin %> <%= command.id %> --to-consul --k8s-allow-namespace web --k8s-allow-namespace api --add-k8s-namespace-suffix',
    },
    {description: 'Keep syncing until Ctrl-C', command: '<%= config.bin %> <%= command.id %> --context dc1'},
    {description: 'The result as JSON', command: '<%= config.bin %> <%= command.id %> --once --json'},
    {
      description: "Take over from consul-k8s's sync-catalog (stopped first), same node name",
      command: '<%= config.bin %> <%= command.id %> --dry-run --adopt',
    },
    {
      description: "The settings of the Helm release's sync-catalog, and where each came from",
      command: '<%= config.bin %> <%= command.id %> --dry-run --from-release consul/consul',
    },
  ]

  static flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    'request-timeout': kubeFlags['request-timeout'],
    ...consulFlags,
    'consul-login-auth-method': Flags.string({
      description:
        "Log in to Consul through this ACL auth method (a Kubernetes one, as the chart's sync pod does) with the bearer token, instead of a token; logged out on exit.",
      helpValue: 'NAME',
      env: 'CONSUL_LOGIN_AUTH_METHOD',
    }),
    'consul-login-bearer-token-file': Flags.string({
      description: 'Bearer token for --consul-login-auth-method: a Kubernetes service-account token.',
      default: POD_TOKEN_FILE,
      env: 'CONSUL_LOGIN_BEARER_TOKEN_FILE',
    }),
    'consul-login-datacenter': Flags.string({
      description: "Datacenter of the auth method (default: the agent's).",
      env: 'CONSUL_LOGIN_DATACENTER',
    }),
    'consul-login-meta': Flags.string({
      description: 'Meta of the login token, KEY=VALUE[,KEY=VALUE...] (as the chart sets component=sync-catalog,pod=NS/POD).',
      env: 'CONSUL_LOGIN_META',
    }),
    ...dryRunFlag,
    once: Flags.boolean({description: 'Reconcile once and exit instead of watching.', default: false}),
    output: {...outputFlag(['json', 'yaml'], 'Print the plan/result as JSON or YAML on stdout (status lines go to stderr).'), exclusive: ['json']},
    'to-consul': Flags.boolean({
      allowNo: true,
      description: 'Sync Kubernetes services into Consul. Naming only some directions syncs only those; default both.',
      helpGroup: 'DIRECTION',
    }),
    'to-k8s': Flags.boolean({allowNo: true, description: 'Sync Consul services into Kubernetes as ExternalName services.', helpGroup: 'DIRECTION'}),
    'default-sync': Flags.boolean({
      aliases: ['k8s-default-sync'],
      allowNo: true,
      default: DEFAULT_OPTIONS.defaultSync,
      description: 'Sync services that have no consul.hashicorp.com/service-sync annotation.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'sync-clusterip-services': Flags.boolean({
      allowNo: true,
      default: DEFAULT_OPTIONS.syncClusterIPServices,
      description: 'Sync ClusterIP services (one instance per endpoint).',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'sync-lb-services-endpoints': Flags.boolean({
      allowNo: true,
      default: DEFAULT_OPTIONS.syncLoadBalancerEndpoints,
      description: 'Register LoadBalancer services with their endpoints (like ClusterIP services) instead of their load balancer addresses.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'k8s-allow-namespace': Flags.string({
      aliases: ['allow-k8s-namespace'],
      multiple: true,
      description: 'Namespace to sync services from (repeatable; "*" = all). Default: *.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'k8s-deny-namespace': Flags.string({
      aliases: ['deny-k8s-namespace'],
      multiple: true,
      description: 'Namespace never synced from; wins over the allow list (repeatable; "" = none). Default: kube-system, kube-public.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'consul-service-prefix': Flags.string({
      default: '',
      description: 'Prefix for Consul service names made from Kubernetes services (not applied to a service-name annotation).',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'add-k8s-namespace-suffix': Flags.boolean({
      allowNo: true,
      default: DEFAULT_OPTIONS.addK8sNamespaceSuffix,
      description: 'Append -<namespace> to Consul service names (not applied to a service-name annotation).',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'node-port-sync-type': Flags.string({
      options: [...NODE_PORT_SYNC_TYPES],
      default: DEFAULT_OPTIONS.nodePortSyncType,
      description: 'Which node address NodePort instances use.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'consul-node-name': Flags.string({
      default: DEFAULT_OPTIONS.consulNodeName,
      description: 'Consul node the registrations are made on; also the ownership marker of this engine.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'consul-k8s-tag': Flags.string({
      default: DEFAULT_OPTIONS.consulK8sTag,
      description: 'Tag on every registration from Kubernetes; Consul services with it are not synced back.',
      helpGroup: 'KUBERNETES -> CONSUL',
    }),
    'k8s-service-prefix': Flags.string({
      default: '',
      description: 'Prefix for Kubernetes service names made from Consul services.',
      helpGroup: 'CONSUL -> KUBERNETES',
    }),
    'k8s-write-namespace': Flags.string({
      default: DEFAULT_OPTIONS.k8sWriteNamespace,
      description: 'Namespace the ExternalName services are written to.',
      helpGroup: 'CONSUL -> KUBERNETES',
    }),
    'consul-domain': Flags.string({
      default: DEFAULT_OPTIONS.consulDomain,
      description: 'Consul DNS domain used in externalName (<service>.service.<domain>).',
      helpGroup: 'CONSUL -> KUBERNETES',
    }),
    'from-release': Flags.string({
      helpValue: '[NAMESPACE/]NAME',
      description:
        'Use the syncCatalog settings of the installed Consul Helm release (helm get values --all; the release namespace is the write namespace); flags given explicitly win. Without a value: the one Consul release in the cluster.',
    }),
    ...helmBinaryFlag,
    adopt: Flags.boolean({
      default: false,
      description:
        "Take over what consul-k8s's sync-catalog left: registrations on the sync node tagged with the k8s tag and external-source=kubernetes, and Services in the write namespace labelled consul=true, none carrying consulk8s's marker (updated in place and marked, or removed when nothing wants them). See docs/sync.md, Migrating from consul-k8s.",
    }),
    concurrency: Flags.integer({default: 8, min: 1, max: 64, description: 'Writes in flight at once (Consul transactions, Kubernetes requests).'}),
  }

  /** Plain JSON: oclif's colorizing tokenizer costs tens of MB on a plan of thousands of services. */
  logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  async run(): Promise<SyncResult | undefined> {
    this.argv = bareFromRelease(this.argv)
    const {flags, metadata} = await this.parse(Sync)
    const options = runOptions(flags, metadata)
    const listChanges = options.dryRun || flags.verbose
    if (flags.output) this.useStderr()
    const emit = (result: SyncResult, compact: boolean) => {
      if (flags.output === 'json' || (compact && this.jsonEnabled())) process.stdout.write(JSON.stringify(result, null, compact ? 0 : 2) + '\n')
      else if (flags.output === 'yaml') process.stdout.write((compact ? '---\n' : '') + stringify(result))
    }
    const reported = new Set<string>()
    const run = await runSync(options, {
      onSettings: (release, settings) => renderSettings(this.ui, release, settings, listChanges),
      onLogin: (method, accessorId) => this.ui.detail(`Logged in to Consul through auth method ${method} (token ${accessorId})`),
      onStart: ({kubeContext, consulAddress}) => {
        if (options.once || options.dryRun) this.ui.progress(options.dryRun ? 'Reading both sides to plan the sync' : 'Syncing')
        else this.ui.info(`Watching ${kubeContext} and ${consulAddress} (Ctrl-C to stop)`)
      },
      onPass: (result) => {
        emit(result, true)
        renderPass(this.ui, result, reported)
      },
      onProgress: (message) => this.ui.detail(message),
      onWarning: (message) => this.ui.warn(message),
      interruptible: (work) =>
        withInterrupt(work, () => {
          this.ui.done()
          this.ui.warn('Interrupted: finishing the writes in flight (Ctrl-C again to quit at once).')
        }),
    })
    if (run.once) {
      this.ui.done()
      renderResult(this.ui, run.result, {listChanges, ...run.target})
      emit(run.result, false)
    } else {
      this.ui.success(`Stopped after ${run.passes} pass${run.passes === 1 ? '' : 'es'}.`)
    }
    for (const warning of run.warnings) this.ui.warn(warning)
    if (!run.once) return undefined
    process.exitCode = exitCodeOf(run.result)
    return run.result
  }
}

type SyncFlags = Interfaces.InferredFlags<(typeof Sync)['flags']>

/** The flags as the options of one sync run; with --from-release only explicitly given flags win over the release. */
function runOptions(flags: SyncFlags, metadata: {flags: Record<string, {setFromDefault?: boolean} | undefined>}): SyncRunOptions {
  const input: SyncInput = {
    toConsul: flags['to-consul'],
    toK8s: flags['to-k8s'],
    defaultSync: flags['default-sync'],
    syncClusterIPServices: flags['sync-clusterip-services'],
    syncLoadBalancerEndpoints: flags['sync-lb-services-endpoints'],
    allowNamespaces: flags['k8s-allow-namespace'],
    denyNamespaces: flags['k8s-deny-namespace'],
    consulServicePrefix: flags['consul-service-prefix'],
    k8sServicePrefix: flags['k8s-service-prefix'],
    addK8sNamespaceSuffix: flags['add-k8s-namespace-suffix'],
    consulNodeName: flags['consul-node-name'],
    k8sWriteNamespace: flags['k8s-write-namespace'],
    nodePortSyncType: flags['node-port-sync-type'],
    consulDomain: flags['consul-domain'],
    consulK8sTag: flags['consul-k8s-tag'],
    adopt: flags.adopt,
  }
  const given = (key: keyof SyncInput) =>
    flags[SETTING_FLAGS[key] as keyof typeof flags] !== undefined && !metadata.flags[SETTING_FLAGS[key]]?.setFromDefault
  const authMethod = flags['consul-login-auth-method']
  return {
    input,
    explicit: Object.fromEntries(Object.entries(input).filter(([key]) => given(key as keyof SyncInput))) as SyncInput,
    fromRelease: flags['from-release'],
    helmBinary: flags['helm-binary'],
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    consul: consulConfigFrom(flags),
    login: authMethod
      ? {
          authMethod,
          bearerTokenFile: flags['consul-login-bearer-token-file'],
          datacenter: flags['consul-login-datacenter'],
          meta: parseLoginMeta(flags['consul-login-meta']),
        }
      : undefined,
    once: flags.once,
    dryRun: flags['dry-run'],
    concurrency: flags.concurrency,
  }
}
