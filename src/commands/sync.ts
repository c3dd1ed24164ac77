import {Flags} from '@oclif/core'
import {stringify} from 'yaml'

import {ConsulClient, consulConfigFrom} from '../consul/client.js'
import {BaseCommand} from '../shared/base-command.js'
import {UserError} from '../shared/errors.js'
import {consulFlags, dryRunFlag, kubeFlags, outputFlag} from '../shared/flags.js'
import {exitCodeOf, reconcile, type EngineContext, type SyncResult} from '../sync/engine.js'
import {connectKube} from '../kube/http.js'
import {DEFAULT_OPTIONS, NODE_PORT_SYNC_TYPES} from '../sync/model.js'
import {syncOptionsFrom} from '../sync/options.js'
import {renderPass, renderResult} from '../sync/render.js'
import {runContinuous} from '../sync/watch.js'

export default class Sync extends BaseCommand {
  static summary = 'Sync services between Kubernetes and the Consul catalog (once, or continuously).'
  static description = `Kubernetes -> Consul: NodePort, LoadBalancer, external-IP and ClusterIP services are registered in the Consul catalog on the engine's node (--consul-node-name, default k8s-sync), honouring the consul.hashicorp.com/service-sync, service-name, service-port, service-tags and service-meta-KEY annotations, with a kubernetes-readiness check for endpoint-backed instances.
Consul -> Kubernetes: every Consul service not tagged k8s becomes an ExternalName Service <name>.service.<domain> in --k8s-write-namespace, labelled consul=true.

The engine reads both sides completely, plans in memory, then applies the plan with batched Consul transactions (64 operations each) and bounded concurrency, retrying on 429/5xx and Kubernetes conflicts. It only ever updates or removes what it created itself (Consul meta k8s-sync-node / Kubernetes annotation consulk8s/sync-node equal to its node name), and removes nothing unless both reads were complete and every add/update succeeded.

With --once (and with --dry-run, which plans once and changes nothing) it reconciles once and exits: 0 when in sync, 2 when services were skipped (malformed annotations, conflicts), 1 when something failed, 130 when interrupted. Without --once it keeps watching (Kubernetes watches, Consul blocking queries) until Ctrl-C, which lets writes in flight finish.`
  static enableJsonFlag = true
  static examples = [
    {description: 'Reconcile once (CI)', command: '<%= config.bin %> <%= command.id %> --once --context dc1 --consul-http-addr https://consul.example:8501 --consul-cacert ca.pem'},
    {description: 'Show the plan, change nothing', command: '<%= config.bin %> <%= command.id %> --dry-run'},
    {description: 'Only Kubernetes -> Consul, from two namespaces, names suffixed with the namespace', command: '<%= config.bin %> <%= command.id %> --to-consul --k8s-allow-namespace web --k8s-allow-namespace api --add-k8s-namespace-suffix'},
    {description: 'Keep syncing until Ctrl-C', command: '<%= config.bin %> <%= command.id %> --context dc1'},
    {description: 'The result as JSON', command: '<%= config.bin %> <%= command.id %> --once --json'},
  ]

  static flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    ...consulFlags,
    ...dryRunFlag,
    once: Flags.boolean({description: 'Reconcile once and exit instead of watching.', default: false}),
    output: {...outputFlag(['json', 'yaml'], 'Print the plan/result as JSON or YAML on stdout (status lines go to stderr).'), exclusive: ['json']},
    'to-consul': Flags.boolean({allowNo: true, description: 'Sync Kubernetes services into Consul. Naming only some directions syncs only those; default both.', helpGroup: 'DIRECTION'}),
    'to-k8s': Flags.boolean({allowNo: true, description: 'Sync Consul services into Kubernetes as ExternalName services.', helpGroup: 'DIRECTION'}),
    'default-sync': Flags.boolean({aliases: ['k8s-default-sync'], allowNo: true, default: DEFAULT_OPTIONS.defaultSync, description: 'Sync services that have no consul.hashicorp.com/service-sync annotation.', helpGroup: 'KUBERNETES -> CONSUL'}),
    'sync-clusterip-services': Flags.boolean({allowNo: true, default: DEFAULT_OPTIONS.syncClusterIPServices, description: 'Sync ClusterIP services (one instance per endpoint).', helpGroup: 'KUBERNETES -> CONSUL'}),
    'k8s-allow-namespace': Flags.string({aliases: ['allow-k8s-namespace'], multiple: true, description: 'Namespace to sync services from (repeatable; "*" = all). Default: *.', helpGroup: 'KUBERNETES -> CONSUL'}),
    'k8s-deny-namespace': Flags.string({aliases: ['deny-k8s-namespace'], multiple: true, description: 'Namespace never synced from; wins over the allow list (repeatable; "" = none). Default: kube-system, kube-public.', helpGroup: 'KUBERNETES -> CONSUL'}),
    'consul-service-prefix': Flags.string({default: '', description: 'Prefix for Consul service names made from Kubernetes services (not applied to a service-name annotation).', helpGroup: 'KUBERNETES -> CONSUL'}),
    'add-k8s-namespace-suffix': Flags.boolean({allowNo: true, default: DEFAULT_OPTIONS.addK8sNamespaceSuffix, description: 'Append -<namespace> to Consul service names (not applied to a service-name annotation).', helpGroup: 'KUBERNETES -> CONSUL'}),
    'node-port-sync-type': Flags.string({options: [...NODE_PORT_SYNC_TYPES], default: DEFAULT_OPTIONS.nodePortSyncType, description: 'Which node address NodePort instances use.', helpGroup: 'KUBERNETES -> CONSUL'}),
    'consul-node-name': Flags.string({default: DEFAULT_OPTIONS.consulNodeName, description: 'Consul node the registrations are made on; also the ownership marker of this engine.', helpGroup: 'KUBERNETES -> CONSUL'}),
    'consul-k8s-tag': Flags.string({default: DEFAULT_OPTIONS.consulK8sTag, description: 'Tag on every registration from Kubernetes; Consul services with it are not synced back.', helpGroup: 'KUBERNETES -> CONSUL'}),
    'k8s-service-prefix': Flags.string({default: '', description: 'Prefix for Kubernetes service names made from Consul services.', helpGroup: 'CONSUL -> KUBERNETES'}),
    'k8s-write-namespace': Flags.string({default: DEFAULT_OPTIONS.k8sWriteNamespace, description: 'Namespace the ExternalName services are written to.', helpGroup: 'CONSUL -> KUBERNETES'}),
    'consul-domain': Flags.string({default: DEFAULT_OPTIONS.consulDomain, description: 'Consul DNS domain used in externalName (<service>.service.<domain>).', helpGroup: 'CONSUL -> KUBERNETES'}),
    concurrency: Flags.integer({default: 8, min: 1, max: 64, description: 'Writes in flight at once (Consul transactions, Kubernetes requests).'}),
  }

  /** Plain JSON: oclif's colorizing tokenizer costs tens of MB on a plan of thousands of services. */
  logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  async run(): Promise<SyncResult | undefined> {
    const {flags} = await this.parse(Sync)
    const options = syncOptionsFrom({
      toConsul: flags['to-consul'],
      toK8s: flags['to-k8s'],
      defaultSync: flags['default-sync'],
      syncClusterIPServices: flags['sync-clusterip-services'],
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
    })
    const consulConfig = consulConfigFrom(flags)
    if (!consulConfig) {
      throw new UserError('No Consul address given.', {hint: 'Pass --consul-http-addr (or set CONSUL_HTTP_ADDR), e.g. https://127.0.0.1:8501, with --consul-cacert and --consul-token as needed.'})
    }
    if (flags.output) this.useStderr()
    const kube = await connectKube({kubeconfig: flags.kubeconfig, context: flags.context})
    const consul = new ConsulClient(consulConfig)
    const controller = new AbortController()
    const interrupt = () => {
      if (controller.signal.aborted) process.exit(130)
      this.ui.done()
      this.ui.warn('Interrupted: finishing the writes in flight (Ctrl-C again to quit at once).')
      controller.abort()
    }
    this.handlesInterrupt = true
    process.on('SIGINT', interrupt)
    process.on('SIGTERM', interrupt)
    const ctx: EngineContext = {
      kube,
      consul,
      options,
      concurrency: flags.concurrency,
      signal: controller.signal,
      onProgress: (message) => this.ui.detail(message),
    }
    const render = {listChanges: flags['dry-run'] || flags.verbose, consulAddress: consul.address, kubeContext: kube.name}
    const emit = (result: SyncResult, compact: boolean) => {
      if (flags.output === 'json' || (compact && this.jsonEnabled())) process.stdout.write(JSON.stringify(result, null, compact ? 0 : 2) + '\n')
      else if (flags.output === 'yaml') process.stdout.write((compact ? '---\n' : '') + stringify(result))
    }
    try {
      if (flags.once || flags['dry-run']) {
        this.ui.progress(flags['dry-run'] ? 'Reading both sides to plan the sync' : 'Syncing')
        const result = await reconcile(ctx, {dryRun: flags['dry-run']})
        this.ui.done()
        renderResult(this.ui, result, render)
        emit(result, false)
        process.exitCode = exitCodeOf(result)
        return result
      }
      this.ui.info(`Watching ${kube.name} and ${consul.address} (Ctrl-C to stop)`)
      const reported = new Set<string>()
      const {passes} = await runContinuous(ctx, {
        onPass: (result) => {
          emit(result, true)
          renderPass(this.ui, result, reported)
        },
        onWarning: (message) => this.ui.warn(message),
        onStatus: (message) => this.ui.detail(message),
      })
      this.ui.success(`Stopped after ${passes} pass${passes === 1 ? '' : 'es'}.`)
      return undefined
    } finally {
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
      this.handlesInterrupt = false
      consul.close()
      kube.close()
    }
  }
}
