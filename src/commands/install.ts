import {BaseCommand} from '../shared/base-command.js'
import {dryRunFlag, kubeFlags, yesFlag} from '../shared/flags.js'
import {connectCluster} from '../kube/client.js'
import {chartFlags, helmBinaryFlag, installOptionsFromFlags, noHooksFlag, resultOutputFlag, valuesFlags, waitFlags} from '../helm/flags.js'
import {installRelease, type InstallResult} from '../helm/install.js'
import {printOutput} from '../helm/output.js'

export default class Install extends BaseCommand {
  static description = `Install Consul into a cluster with the official Helm chart, through helm.

Runs a preflight first (context reachable, helm 3.13+ present, values files valid, no release of that name yet, and for a federation secondary the federation secret present and complete), shows a summary of what will be installed (chart, release, namespace, context, datacenter, TLS, ACLs, federation), asks for confirmation unless --yes, then runs helm upgrade --install. Nothing is changed when a check fails.`

  static enableJsonFlag = true

  static examples = [
    {description: 'Install the primary with the values `federate primary` wrote', command: '<%= config.bin %> install --context dc1 -f primary-values.yaml'},
    {description: 'A secondary with the values `federate secondary` wrote, a given chart version, waiting for the servers', command: '<%= config.bin %> install --context dc2 -f secondary-values.yaml --chart-version 1.9.2 --wait --timeout 15m'},
    {description: 'From a local chart directory, without prompting', command: '<%= config.bin %> install --context dc1 -f primary-values.yaml --chart ./consul-chart --yes'},
    {description: 'Show what would be applied (rendered by helm against the cluster)', command: '<%= config.bin %> install --context dc1 -f primary-values.yaml --dry-run -o yaml > manifest.yaml'},
  ]

  static flags = {
    ...kubeFlags,
    ...yesFlag,
    ...valuesFlags,
    ...chartFlags,
    ...helmBinaryFlag,
    ...waitFlags,
    ...noHooksFlag,
    ...dryRunFlag,
    ...resultOutputFlag,
  }

  async run(): Promise<InstallResult> {
    const {flags} = await this.parse(Install)
    if (flags.output) this.useStderr()
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    const result = await installRelease(cluster, installOptionsFromFlags(flags), this.ui)
    printOutput(flags.output, result)
    return result
  }
}

