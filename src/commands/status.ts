import {BaseCommand} from '../shared/base-command.js'
import {UserError} from '../shared/errors.js'
import {kubeFlags, outputFlag} from '../shared/flags.js'
import {formatData} from '../shared/output.js'
import {SYMBOLS} from '../ui/terminal.js'
import {connectCluster} from '../kube/client.js'
import {helmBinaryFlag} from '../helm/flags.js'
import {releaseStatus, statusRows, type StatusReport} from '../helm/status.js'

export default class Status extends BaseCommand {
  static description = `Show the Consul release of a cluster: chart version, app version, revision and status as helm records them, the readiness of the Consul servers and the mesh gateway, and whether the federation secret is present and complete.

Exits 1 when there is no such release; otherwise 0, with ! marks on parts that are not ready.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> status --context dc1',
    '<%= config.bin %> status --context dc2 -n consul --release consul -o json',
  ]

  static flags = {
    ...kubeFlags,
    ...helmBinaryFlag,
    output: outputFlag(['table', 'json', 'yaml'], 'Output format: table (default), json or yaml.'),
  }

  async run(): Promise<StatusReport> {
    const {flags} = await this.parse(Status)
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    const report = await releaseStatus(cluster, {
      kubeconfig: flags.kubeconfig,
      namespace: flags.namespace,
      release: flags.release,
      helmBinary: flags['helm-binary'],
    })
    const format = flags.output ?? 'table'
    const json = format !== 'table'
    if (format !== 'table' && !this.jsonEnabled()) process.stdout.write(formatData(format, report))
    if (!report.found) {
      if (json || this.jsonEnabled()) process.exitCode = 1
      else {
        throw new UserError(`There is no release ${report.release} in namespace ${report.namespace} of context "${report.context}".`, {
          hint: `Install Consul with \`consulk8s install --context ${report.context} -n ${report.namespace} -f values.yaml\`, or pass the --release/-n of the existing one.`,
        })
      }
      return report
    }
    if (!json) {
      this.ui.header(`Consul in context "${report.context}" (${report.server}), namespace ${report.namespace}`)
      const rows = statusRows(report)
      this.ui.table(['', 'COMPONENT', 'STATE', 'DETAIL'], rows.map((row) => [SYMBOLS[row.mark], row.component, row.state, row.detail]))
      if (!report.healthy) this.ui.warn('Not every part is ready yet; pods need nodes to run (kubectl get pods -n ' + report.namespace + ').')
    }
    return report
  }
}
