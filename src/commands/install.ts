import {BaseCommand} from '../shared/base-command.js'
import {dryRunFlag, kubeFlags, yesFlag} from '../shared/flags.js'
import {connectCluster} from '../kube/client.js'
import {
  chartFlags,
  forceFlag,
  helmBinaryFlag,
  installOptionsFromFlags,
  noHooksFlag,
  releaseWaitFlags,
  resultOutputFlag,
  valuesFlags,
} from '../helm/flags.js'
import {DEFAULT_CHART_VERSION} from '../helm/chart.js'
import {installRelease, type InstallResult} from '../helm/install.js'
import {printOutput} from '../helm/output.js'
import {confirmHook} from '../ui/prompt.js'

export default class Install extends BaseCommand {
  static description = `Install Consul into a cluster with the official Helm chart, through helm.

Runs a preflight first (context reachable, helm 3.13+ present, values files valid, no release of that name yet, no other Consul release in the cluster, no PersistentVolumeClaims or secrets left by an earlier install, and for a federation secondary the federation secret present and complete), shows a summary of what will be installed (chart, release, namespace, context, datacenter, TLS, ACLs, federation), asks for confirmation unless --yes, runs helm upgrade --install, then waits until the release's workloads are ready, saying which pods or jobs are not and why (--no-wait skips that). Nothing is changed when a check fails; --force goes on past leftovers, saying what may break. The chart is hashicorp/consul ${DEFAULT_CHART_VERSION} unless --chart-version or --chart says otherwise.`

  static enableJsonFlag = true

  static examples = [
    {
      description: 'Install the primary with the values `federate primary` wrote',
      command: '<%= config.bin %> install --context dc1 -f primary-values.yaml',
    },
    {
      description: 'Another chart version, waiting up to 15 minutes for the pods',
      command: '<%= config.bin %> install --context dc2 -f secondary-values.yaml --chart-version 1.9.2 --timeout 15m',
    },
    {
      description: 'Return once helm is done, without waiting for the pods',
      command: '<%= config.bin %> install --context dc1 -f primary-values.yaml --no-wait',
    },
    {
      description: 'From a local chart directory, without prompting',
      command: '<%= config.bin %> install --context dc1 -f primary-values.yaml --chart ./consul-chart --yes',
    },
    {
      description: 'Show what would be applied (rendered by helm against the cluster)',
      command: '<%= config.bin %> install --context dc1 -f primary-values.yaml --dry-run -o yaml > manifest.yaml',
    },
  ]

  static flags = {
    ...kubeFlags,
    ...yesFlag,
    ...valuesFlags,
    ...chartFlags,
    ...helmBinaryFlag,
    ...releaseWaitFlags,
    ...forceFlag,
    ...noHooksFlag,
    ...dryRunFlag,
    ...resultOutputFlag,
  }

  async run(): Promise<InstallResult> {
    const {flags} = await this.parse(Install)
    if (flags.output) this.useStderr()
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    const result = await installRelease(cluster, installOptionsFromFlags(flags), {progress: this.ui, confirm: confirmHook({yes: flags.yes})})
    printOutput(flags.output, result)
    return result
  }
}
