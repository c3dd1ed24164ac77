import {Flags} from '@oclif/core'

import {readInput} from '../shared/stdin.js'
import {BaseCommand} from '../shared/base-command.js'
import {formatDuration} from '../shared/duration.js'
import {durationFlag, kubeFlags, outputFlag, timeoutFlag} from '../shared/flags.js'
import {formatData} from '../shared/output.js'
import {renderReport, waitingText} from '../ui/verify-report.js'
import {runVerify} from '../verify/run.js'
import type {VerifyReport} from '../verify/types.js'

export default class Verify extends BaseCommand {
  static summary = 'Check that Consul datacenters are federated, from every side, with the reason for every failure.'
  static description = `Runs what the federation guide ends with (\`consul members -wan\` in a server pod) as checks with a verdict, in every given context: every datacenter's servers alive in the WAN pool, /v1/catalog/datacenters listing them all, the other datacenters' servers passing, ACL replication enabled and running in secondaries, and the federation secret present, valid and identical everywhere, naming the right primary, its CA not (nearly) expired.

Consul is reached by exec into a server pod (<release>-server-N, container consul; token from the <release>-bootstrap-acl-token secret, passed on stdin), or over HTTPS with --consul-http-addr (per context as <context>=<address>), the CA verified (--consul-cacert, else caCert of the federation secret).

It also checks what the servers actually use: their TLS certificates chain to the secret's CA, the secret's gossip key is installed and primary in their keyrings, the secret's replication token is a replication token of the primary, and every datacenter has the proxy-defaults "global" with mesh gateway mode local (and, where the CRD exists, the ProxyDefaults resource synced).

With --pre, checks a secondary before it is installed in --context: its --datacenter name is unused, the federation secret in that context (or -f) holds the live CA, gossip key and replication token of --primary-context, the primary's mesh gateways answer TCP from here (a warning), the k8sAuthMethodHost presents a certificate for its host, and TLS, ACL and gossip settings agree.

Exit status 0 only when no check failed (warnings, e.g. a CA expiring within 30 days, do not fail).`

  static enableJsonFlag = true

  static examples = [
    {
      description: 'Verify both sides of a two-cluster federation by exec into the server pods',
      command: '<%= config.bin %> verify --context dc1 --context dc2',
    },
    {
      description: 'Wait up to 10 minutes for a new secondary to join, printing what is still missing',
      command: '<%= config.bin %> verify --context dc1 --context dc2 --wait --timeout 10m',
    },
    {
      description: 'Where exec is forbidden: reach each datacenter over HTTPS',
      command:
        '<%= config.bin %> verify --context dc1 --context dc2 --consul-http-addr dc1=https://consul.dc1.example:8501 --consul-http-addr dc2=https://consul.dc2.example:8501 --consul-token "$TOKEN"',
    },
    {description: 'Results as JSON for CI', command: '<%= config.bin %> verify --context dc1 --context dc2 -o json'},
    {
      description: 'Before installing dc3 in context dc3: check its name and federation secret against the primary',
      command: '<%= config.bin %> verify --pre --context dc3 --primary-context dc1 --datacenter dc3',
    },
  ]

  static flags = {
    ...kubeFlags,
    context: Flags.string({
      aliases: ['kube-context'],
      description:
        'Kube context of a datacenter to verify from; repeat for every cluster of the federation (default: the current context; alias --kube-context).',
      multiple: true,
      helpGroup: 'GLOBAL',
    }),
    'consul-http-addr': Flags.string({
      description:
        'Consul HTTPS API of a context as <context>=<address> (or just <address> with one context); without it verify execs into a server pod. Env CONSUL_HTTP_ADDR.',
      multiple: true,
    }),
    'consul-token': Flags.string({
      description: 'ACL token, for every context or as <context>=<token> (default: the <release>-bootstrap-acl-token secret). Env CONSUL_HTTP_TOKEN.',
      multiple: true,
    }),
    'consul-cacert': Flags.string({
      description:
        'PEM file of the CA of the Consul HTTPS API, for every context or as <context>=<file> (default: caCert of the federation secret). Env CONSUL_CACERT.',
      multiple: true,
    }),
    'expect-dc': Flags.string({
      description: 'A datacenter that must be in the federation even if no given context runs it (repeatable, or comma separated).',
      multiple: true,
      delimiter: ',',
    }),
    wait: Flags.boolean({description: 'Retry until every check passes or --timeout ends, printing what is still awaited.', default: false}),
    ...timeoutFlag('How long --wait retries (90s, 5m).'),
    interval: durationFlag({description: 'Pause between --wait rounds.', default: '3s'}),
    output: outputFlag(['table', 'json', 'yaml'], 'Output format: table (default), json or yaml.'),
    pre: Flags.boolean({
      description: 'Check a secondary before it is installed in --context (see the description), against --primary-context.',
      default: false,
    }),
    'primary-context': Flags.string({description: 'With --pre: kube context of the primary datacenter.'}),
    datacenter: Flags.string({description: 'With --pre: name of the new secondary datacenter (default: global.datacenter of --values-file).'}),
    file: Flags.string({
      char: 'f',
      description: 'With --pre: exported federation secret file to check instead of the secret in --context ("-" for stdin).',
    }),
    'k8s-auth-method-host': Flags.string({
      description:
        "With --pre: the secondary's Kubernetes API URL as the primary reaches it (default: from --values-file, else as federate secondary chooses it).",
    }),
    'values-file': Flags.string({
      description: 'With --pre: the Helm values the secondary will be installed with (TLS, ACL and gossip settings, datacenter, k8sAuthMethodHost).',
    }),
  }

  async run(): Promise<VerifyReport> {
    const {flags} = await this.parse(Verify)
    // -o json|yaml prints the report itself; --json lets oclif print what run() returns.
    const format = flags.output === undefined || flags.output === 'table' || this.jsonEnabled() ? undefined : flags.output
    if (format) this.useStderr()
    let lastText = ''
    let lastPrinted = 0
    const report = await runVerify(
      {
        kubeconfig: flags.kubeconfig,
        contexts: flags.context ?? [],
        namespace: flags.namespace,
        release: flags.release,
        consul: {addresses: flags['consul-http-addr'], tokens: flags['consul-token'], caFiles: flags['consul-cacert']},
        env: process.env,
        expectDatacenters: flags['expect-dc'],
        wait: flags.wait,
        timeoutMs: flags.timeout,
        intervalMs: flags.interval,
        pre: flags.pre,
        primaryContext: flags['primary-context'],
        datacenter: flags.datacenter,
        file: flags.file,
        k8sAuthMethodHost: flags['k8s-auth-method-host'],
        valuesFile: flags['values-file'],
      },
      {
        progress: (text) => this.ui.progress(text),
        done: () => this.ui.done(),
        onWaiting: (pending, remainingMs) => {
          // On a terminal the spinner counts down at every frame; in CI (plain lines) print when
          // what is awaited changes, or every 30s.
          const deadline = Date.now() + remainingMs
          const text = () => waitingText(pending, Math.max(0, deadline - Date.now()))
          const essence = pending.map((check) => `${check.id}|${check.detail}`).join('\n')
          if (this.ui.spinning || essence !== lastText || Date.now() - lastPrinted >= 30_000) {
            this.ui.progress(text)
            lastText = essence
            lastPrinted = Date.now()
          }
        },
        readInput,
      },
    )
    return this.finish(report, format, flags)
  }

  private finish(report: VerifyReport, format: 'json' | 'yaml' | undefined, flags: {wait: boolean; timeout: number}): VerifyReport {
    for (const side of report.sides) {
      this.ui.detail(`context ${side.context}: namespace ${side.namespace}, datacenter ${side.datacenter ?? 'unknown'}, via ${side.source}`)
    }
    if (format) process.stdout.write(formatData(format, report))
    else renderReport(report, this.ui)
    if (!report.ok && flags.wait) this.ui.fail(`Gave up after ${formatDuration(flags.timeout)} (${report.attempts} attempts).`)
    if (!report.ok) process.exitCode = 1
    return report
  }
}
