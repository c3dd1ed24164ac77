import {Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'

import {applyClusterPlan, injectedObject, planCluster, presentable} from '../inject/cluster.js'
import {workloadDiff} from '../inject/diff.js'
import {applyManifestPlan, manifestsHoldSecrets, planManifests, readManifestSources, renderManifests, renderObjects} from '../inject/manifests.js'
import {readStdinManifests, writeOutputFile} from '../inject/output.js'
import {outputTarget, type OutputTarget} from '../shared/output.js'
import {countPlan, type InjectPlan} from '../inject/plan.js'
import {planJson, renderApplyResults, renderPlan, type InjectResultJson} from '../inject/render.js'
import {DEFAULT_AUTH_METHOD, DEFAULT_CONSUL_ADDRESS, DEFAULT_IMAGES, buildSettings, type InjectSettings} from '../inject/settings.js'
import {BaseCommand} from '../shared/base-command.js'
import {UserError, errorMessage} from '../shared/errors.js'
import {dryRunFlag, kubeFlags, outputFlag, yesFlag} from '../shared/flags.js'
import {checkOutputPaths} from '../shared/files.js'
import {confirmOrAbort} from '../ui/prompt.js'

export default class Inject extends BaseCommand {
  static summary = 'Add the Consul Connect sidecar to workloads, without the webhook: in manifests or once in a cluster.'
  static description = `Applies the mutation of consul-k8s's connect-inject webhook to pod templates, following the consul.hashicorp.com/* annotations: the connect-init init container, the consul-dataplane sidecar (one of each per service for multi-port pods), the shared in-memory volume, <NAME>_CONNECT_SERVICE_HOST/PORT variables for every upstream, and the connect-inject-status annotation. Injecting twice equals injecting once.

With -f, reads manifests (multi-document YAML or JSON; files, directories or - for stdin) and writes them back mutated, comments and order kept, to stdout or the file given with --output-file. Works offline.

Without -f, works once on a live cluster: lists the Deployments, StatefulSets, DaemonSets, ReplicaSets and CronJobs of a namespace (-n, default the context's namespace, else "default"; or --all-namespaces), patches the pod templates that need the sidecar, and reports what changed. Jobs and bare Pods are reported, not changed (Kubernetes forbids it).

The decision follows the webhook: never kube-system or kube-public; --deny-namespace wins over --allow-namespace ('*' = all); never a pod template already injected; then the pod template's consul.hashicorp.com/connect-inject annotation; else --default-inject. A workload with a malformed annotation is reported with the annotation named, the others are still processed, and the exit code is 1 (in manifest mode nothing is written then).`

  static enableJsonFlag = true

  static examples = [
    {description: 'Inject manifests in CI, like istioctl kube-inject:', command: '<%= config.bin %> inject -f k8s/ --output-file k8s-injected.yaml'},
    {description: 'From stdin to kubectl:', command: 'cat app.yaml | <%= config.bin %> inject -f - | kubectl apply -f -'},
    {description: 'See what the injection changes:', command: '<%= config.bin %> inject -f app.yaml --diff'},
    {description: 'Plan the injection of a live namespace:', command: '<%= config.bin %> inject --context dc1 -n shop --dry-run'},
    {
      description: 'Inject every opted-in workload of a cluster, Consul with ACLs:',
      command: '<%= config.bin %> inject --context dc1 --all-namespaces --acls --yes',
    },
  ]

  static flags = {
    filename: Flags.string({
      char: 'f',
      description: 'Manifest file, directory (its .yaml/.yml/.json files) or - for stdin; repeatable. Without -f, the live cluster is injected.',
      multiple: true,
    }),
    output: outputFlag(
      ['yaml', 'json'],
      'Format of the manifests: yaml (default; json for an --output-file ending in .json) or json. In cluster mode, prints the injected workloads.',
    ),
    'output-file': Flags.string({
      description: 'Write the manifests to this file instead of stdout (atomically; mode 0600 when they hold a Secret).',
      helpValue: 'FILE',
    }),
    diff: Flags.boolean({
      description: 'Print a unified diff of each changed pod template (instead of the manifests, unless --output-file is given).',
      default: false,
    }),
    ...dryRunFlag,
    ...yesFlag,
    kubeconfig: Flags.string({description: 'Kubeconfig of the cluster to inject (default: $KUBECONFIG, else ~/.kube/config).', helpGroup: 'CLUSTER'}),
    context: Flags.string({
      aliases: ['kube-context'],
      description: 'Kube context of the cluster to inject (default: the current context; alias --kube-context).',
      helpGroup: 'CLUSTER',
    }),
    'request-timeout': kubeFlags['request-timeout'],
    namespace: Flags.string({
      char: 'n',
      description:
        'Namespace of the workloads. Cluster mode: the namespace to inject (default: the context\'s namespace, else "default"). Manifest mode: the namespace of objects that name none (default "default").',
    }),
    'all-namespaces': Flags.boolean({
      char: 'A',
      description: 'Cluster mode: inject the workloads of every namespace.',
      default: false,
      helpGroup: 'CLUSTER',
    }),
    'default-inject': Flags.boolean({
      description: 'Inject pods that have no consul.hashicorp.com/connect-inject annotation (connectInject.default).',
      default: false,
      helpGroup: 'INJECTOR',
    }),
    'allow-namespace': Flags.string({
      description: "Only inject in this namespace; repeatable, '*' = all (connectInject.k8sAllowNamespaces, default '*').",
      multiple: true,
      helpGroup: 'INJECTOR',
    }),
    'deny-namespace': Flags.string({
      description: 'Never inject in this namespace; repeatable, wins over --allow-namespace (connectInject.k8sDenyNamespaces).',
      multiple: true,
      helpGroup: 'INJECTOR',
    }),
    'consul-k8s-image': Flags.string({
      aliases: ['consul-image'],
      description: `Image of the connect-init init container, which runs consul-k8s-control-plane (global.imageK8S; alias --consul-image).`,
      default: DEFAULT_IMAGES.consulK8s,
      helpGroup: 'INJECTOR',
    }),
    'dataplane-image': Flags.string({
      description: 'Image of the consul-dataplane sidecar (global.imageConsulDataplane).',
      default: DEFAULT_IMAGES.dataplane,
      helpGroup: 'INJECTOR',
    }),
    'consul-address': Flags.string({
      description: 'Host name of the Consul servers the pods connect to (release "consul" in namespace "consul" by default).',
      default: DEFAULT_CONSUL_ADDRESS,
      helpGroup: 'INJECTOR',
    }),
    'consul-grpc-port': Flags.integer({description: "Consul servers' gRPC port.", default: 8502, helpGroup: 'INJECTOR'}),
    'consul-http-port': Flags.integer({description: "Consul servers' HTTP(S) port (default 8500, 8501 with --tls).", helpGroup: 'INJECTOR'}),
    'transparent-proxy': Flags.boolean({
      description:
        'Transparent proxy for pods that do not set consul.hashicorp.com/transparent-proxy (connectInject.transparentProxy.defaultEnabled).',
      default: true,
      allowNo: true,
      helpGroup: 'INJECTOR',
    }),
    acls: Flags.boolean({
      description: 'Consul runs with ACLs: pods log in with their service account (which must be named like the service; checked).',
      default: false,
      helpGroup: 'INJECTOR',
    }),
    'auth-method': Flags.string({
      description: `Consul auth method the pods log in with (with --acls; default ${DEFAULT_AUTH_METHOD}).`,
      helpGroup: 'INJECTOR',
    }),
    tls: Flags.boolean({description: 'Consul servers serve TLS (global.tls.enabled).', default: false, helpGroup: 'INJECTOR'}),
    'ca-file': Flags.string({description: "PEM file of the CA of the Consul servers' certificates (with --tls).", helpGroup: 'INJECTOR'}),
    'tls-server-name': Flags.string({
      description: "Server name to verify the Consul servers' certificates against (with --tls).",
      helpGroup: 'INJECTOR',
    }),
    'log-level': Flags.string({description: 'Log level of connect-init and consul-dataplane.', default: 'info', helpGroup: 'INJECTOR'}),
  }

  async run(): Promise<InjectResultJson> {
    const {flags} = await this.parse(Inject)
    const settings = buildSettings({
      defaultInject: flags['default-inject'],
      allowNamespaces: flags['allow-namespace'],
      denyNamespaces: flags['deny-namespace'],
      consulK8sImage: flags['consul-k8s-image'],
      dataplaneImage: flags['dataplane-image'],
      consulAddress: flags['consul-address'],
      grpcPort: flags['consul-grpc-port'],
      httpPort: flags['consul-http-port'],
      transparentProxy: flags['transparent-proxy'],
      acls: flags.acls,
      authMethod: flags['auth-method'],
      tls: flags.tls,
      caCertPem: flags['ca-file'] ? await readCaFile(flags['ca-file']) : undefined,
      tlsServerName: flags['tls-server-name'],
      logLevel: flags['log-level'],
    })
    const output = outputTarget(flags.output, flags['output-file'])
    if (output.file && !flags['dry-run']) await checkOutputPaths([{path: output.file, kind: 'file', flag: '--output-file'}])
    if (flags.filename?.length) {
      for (const [flag, given] of [
        ['--context', flags.context],
        ['--kubeconfig', flags.kubeconfig],
        ['--all-namespaces', flags['all-namespaces'] || undefined],
      ] as const) {
        if (given !== undefined) {
          throw new UserError(`${flag} selects a live cluster, but -f injects manifests offline.`, {
            hint: `Drop ${flag} to inject the manifests, or drop -f to inject the cluster.`,
          })
        }
      }
      return this.injectManifests(flags.filename, flags.namespace ?? 'default', settings, output, flags)
    }
    if (flags['all-namespaces'] && flags.namespace) {
      throw new UserError('-n and --all-namespaces cannot be combined.', {hint: 'Pick one namespace with -n, or all with --all-namespaces.'})
    }
    return this.injectCluster(settings, output, flags)
  }

  private async injectManifests(
    paths: string[],
    namespace: string,
    settings: InjectSettings,
    output: OutputTarget,
    flags: {diff: boolean; 'dry-run': boolean; verbose: boolean},
  ): Promise<InjectResultJson> {
    const writesStdout = !flags['dry-run'] && !this.jsonEnabled() && (flags.diff || !output.file)
    if (writesStdout) this.useStderr()
    const sources = await readManifestSources(paths, () => readStdinManifests())
    const manifests = planManifests(sources, settings, namespace)
    const {plan} = manifests
    renderPlan(this.ui, plan, {verb: flags['dry-run'] ? 'would inject' : 'injected', showSkipped: flags.verbose || flags['dry-run']})
    if (flags.diff) this.printDiffs(plan)
    const errors = countPlan(plan).error
    if (errors > 0)
      return this.finish(plan, {dryRun: flags['dry-run']}, `${errors} workload(s) have invalid Connect annotations; no manifests were written.`)
    if (flags['dry-run']) return this.finish(plan, {dryRun: true})

    applyManifestPlan(manifests)
    const text = renderManifests(manifests, output.format)
    if (output.file) {
      await writeOutputFile(output.file, text, manifestsHoldSecrets(manifests))
      this.ui.success(`Wrote ${output.file}`)
    } else if (!flags.diff && !this.jsonEnabled()) process.stdout.write(text)
    return this.finish(plan, {dryRun: false, output: output.file})
  }

  private async injectCluster(
    settings: InjectSettings,
    output: OutputTarget,
    flags: {
      kubeconfig?: string
      context?: string
      namespace?: string
      'all-namespaces': boolean
      diff: boolean
      'dry-run': boolean
      verbose: boolean
      yes: boolean
      output?: string
      'output-file'?: string
    },
  ): Promise<InjectResultJson> {
    const writesObjects = flags.output !== undefined || output.file !== undefined
    const printsObjects = writesObjects && !output.file
    if (printsObjects && !this.jsonEnabled()) this.useStderr()
    const clusterPlan = await planCluster(
      {kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace, allNamespaces: flags['all-namespaces']},
      settings,
      (text) => this.ui.progress(text),
    )
    this.ui.done()
    const {plan} = clusterPlan
    const where = plan.namespaces === 'all' ? 'all namespaces' : `namespace ${plan.namespaces?.join(', ')}`
    this.ui.header(`Connect injection in context ${plan.context}, ${where}${flags['dry-run'] ? ' (dry run)' : ''}`)
    renderPlan(this.ui, plan, {verb: flags['dry-run'] ? 'would inject' : 'to inject', showSkipped: flags.verbose || flags['dry-run']})
    if (flags.diff) this.printDiffs(plan)

    const changed = plan.workloads.filter((workload) => workload.action === 'inject')
    if (writesObjects) {
      const objects = changed.map((workload) => presentable(injectedObject(clusterPlan, workload)!))
      const text = renderObjects(objects, output.format)
      if (output.file) await writeOutputFile(output.file, text, false)
      else if (!this.jsonEnabled()) process.stdout.write(text)
    }
    const annotationErrors = countPlan(plan).error
    const failureText = (count: number) => `${count} workload(s) could not be injected.`
    if (flags['dry-run'] || changed.length === 0) {
      if (changed.length === 0 && annotationErrors === 0) this.ui.success('Nothing to change.')
      return this.finish(plan, {dryRun: flags['dry-run']}, annotationErrors > 0 ? failureText(annotationErrors) : undefined)
    }

    await confirmOrAbort(
      `Patch the pod templates of ${changed.length} workload(s) in context "${plan.context}"? Their pods will be replaced with injected ones.`,
      {yes: flags.yes},
    )
    this.ui.progress(`Patching ${changed.length} workload(s)`)
    const results = await applyClusterPlan(clusterPlan)
    this.ui.done()
    renderApplyResults(this.ui, results)
    const failed = annotationErrors + results.filter((result) => !result.ok).length
    return this.finish(plan, {dryRun: false, results}, failed > 0 ? failureText(failed) : undefined)
  }

  private printDiffs(plan: InjectPlan): void {
    if (this.jsonEnabled()) return
    for (const workload of plan.workloads) {
      const diff = workloadDiff(workload)
      if (diff) process.stdout.write(diff)
    }
  }

  /** Returns the result; with a failure, sets exit code 1 (--json) or ends with one ✗ line. */
  private finish(plan: InjectPlan, extras: Parameters<typeof planJson>[1], failure?: string): InjectResultJson {
    const result = planJson(plan, extras)
    if (failure) {
      if (this.jsonEnabled()) process.exitCode = 1
      else throw new UserError(failure, {hint: 'Fix what is named above and run again; workloads without problems were processed.'})
    }
    return result
  }
}

async function readCaFile(path: string): Promise<string> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read --ca-file ${path}: ${errorMessage(error)}`)
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UserError(`--ca-file ${path} holds no PEM certificate.`)
  return pem
}
