import {BaseCommand} from '../shared/base-command.js'
import {kubeFlags, outputFlag} from '../shared/flags.js'
import {formatData} from '../shared/output.js'
import {SYMBOLS} from '../ui/terminal.js'
import {connectCluster} from '../kube/client.js'
import {helmBinaryFlag, locateOptionsFromFlags, releaseLocatorFlags} from '../helm/flags.js'
import {releaseStatus, statusRows, type StatusReport} from '../helm/status.js'

export default class Status extends BaseCommand {
  static description = `Show the Consul release of a cluster: chart and app version, revision and status as helm records them, the hook jobs' last runs, the values that matter for federation (datacenter, TLS, ACLs, gossip encryption, mesh gateway, federation role), every workload of the release with ready/desired and images, the federation secret (every key present and well formed; values never printed) and the ProxyDefaults "global" with its Synced condition.

Without -n the release is looked for in every namespace (the one release of the consul chart, or the one named --release). Exits 1 when there is no such release; otherwise 0, with ! and ✗ marks on parts that are not ready.`

  static enableJsonFlag = true

  static examples = [
    {description: 'Find the Consul release in any namespace', command: '<%= config.bin %> status --context dc1'},
    '<%= config.bin %> status --context dc2 -n consul --release consul -o json',
  ]

  static flags = {
    ...kubeFlags,
    ...releaseLocatorFlags,
    ...helmBinaryFlag,
    output: outputFlag(['table', 'json', 'yaml'], 'Output format: table (default), json or yaml.'),
  }

  async run(): Promise<StatusReport> {
    const {flags} = await this.parse(Status)
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    const report = await releaseStatus(cluster, locateOptionsFromFlags(flags))
    const format = flags.output ?? 'table'
    if (format !== 'table') {
      if (!this.jsonEnabled()) process.stdout.write(formatData(format, report))
      return report
    }
    this.ui.header(`Consul in context "${report.context}" (${report.server}), namespace ${report.namespace}`)
    const rows = statusRows(report)
    this.ui.table(
      ['', 'COMPONENT', 'STATE', 'DETAIL'],
      rows.map((row) => [SYMBOLS[row.mark], row.component, row.state, row.detail]),
    )
    if (!report.healthy)
      this.ui.warn(`Not every part is ready; \`kubectl get pods -n ${report.namespace} -l release=${report.release}\` shows the pods.`)
    return report
  }
}
