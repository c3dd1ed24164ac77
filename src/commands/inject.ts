import {Flags} from '@oclif/core'

import {workloadDiff} from '../inject/diff.js'
import type {InjectPlan} from '../inject/plan.js'
import type {InjectResultJson} from '../inject/result.js'
import {runInject, stdoutCarriesData, type InjectOptions} from '../inject/run.js'
import {DEFAULT_AUTH_METHOD, DEFAULT_CONSUL_ADDRESS, DEFAULT_IMAGES} from '../inject/settings.js'
import {BaseCommand} from '../shared/base-command.js'
import {UserError} from '../shared/errors.js'
import {dryRunFlag, kubeFlags, outputFlag, yesFlag} from '../shared/flags.js'
import {outputTarget} from '../shared/output.js'
import {renderApplyResults, renderInjectPlan} from '../ui/inject-report.js'
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
    const output = outputTarget(flags.output, flags['output-file'])
    const options: InjectOptions = {
      settings: {
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
        caFile: flags['ca-file'],
        tlsServerName: flags['tls-server-name'],
        logLevel: flags['log-level'],
      },
      filenames: flags.filename,
      namespace: flags.namespace,
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      allNamespaces: flags['all-namespaces'],
      output,
      writeObjects: flags.output !== undefined || output.file !== undefined,
      diff: flags.diff,
      dryRun: flags['dry-run'],
    }
    if (stdoutCarriesData(options) && !this.jsonEnabled()) this.useStderr()
    const outcome = await runInject(options, {
      progress: (text) => this.ui.progress(text),
      done: () => this.ui.done(),
      planned: (plan) => {
        renderInjectPlan(this.ui, plan, {dryRun: flags['dry-run'], verbose: flags.verbose})
        if (flags.diff) this.printDiffs(plan)
      },
      print: (text) => {
        if (!this.jsonEnabled()) process.stdout.write(text)
      },
      confirm: (message) => confirmOrAbort(message, {yes: flags.yes}),
    })
    if (outcome.wrote) this.ui.success(`Wrote ${outcome.wrote}`)
    if (outcome.nothingToChange) this.ui.success('Nothing to change.')
    if (outcome.applied) renderApplyResults(this.ui, outcome.applied)
    if (outcome.failure) {
      if (this.jsonEnabled()) process.exitCode = 1
      else throw new UserError(outcome.failure, {hint: 'Fix what is named above and run again; workloads without problems were processed.'})
    }
    return outcome.result
  }

  private printDiffs(plan: InjectPlan): void {
    if (this.jsonEnabled()) return
    for (const workload of plan.workloads) {
      const diff = workloadDiff(workload)
      if (diff) process.stdout.write(diff)
    }
  }
}
