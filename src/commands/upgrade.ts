import {Flags} from '@oclif/core'

import {BaseCommand} from '../shared/base-command.js'
import {dryRunFlag, kubeFlags, yesFlag} from '../shared/flags.js'
import {connectCluster} from '../kube/client.js'
import {chartFlags, helmBinaryFlag, installOptionsFromFlags, noHooksFlag, releaseWaitFlags, resultOutputFlag, valuesFlags} from '../helm/flags.js'
import {upgradeRelease, type InstallResult} from '../helm/install.js'
import {printOutput} from '../helm/output.js'
import {confirmHook} from '../ui/prompt.js'

export default class Upgrade extends BaseCommand {
  static description = `Upgrade the Consul release of a cluster with new values or a new chart version, through helm.

Shows the diff of the release's current user values against the new ones (one line per changed key; secret values hidden) before it asks, then runs helm upgrade. The values given replace the release's values (as helm --reset-values); --reuse-values applies them on top of the current ones instead. Changes that would replace the CA, the gossip key, ACL tokens or the datacenter name are refused without --allow-rotation. Without --chart or --chart-version the release keeps its chart version. Like install, it then waits until the release's workloads are ready, saying which pods or jobs are not and why (--no-wait skips that).`

  static enableJsonFlag = true

  static examples = [
    {description: 'Apply an edited values file (the diff is shown first)', command: '<%= config.bin %> upgrade --context dc1 -f primary-values.yaml'},
    {description: 'Change one value, keeping the others', command: '<%= config.bin %> upgrade --context dc1 --reuse-values --set server.replicas=5'},
    {
      description: 'Move to another chart version',
      command: '<%= config.bin %> upgrade --context dc1 -f primary-values.yaml --chart-version 1.9.3 --timeout 15m',
    },
    {description: 'Only show the diff', command: '<%= config.bin %> upgrade --context dc1 -f primary-values.yaml --dry-run'},
  ]

  static flags = {
    ...kubeFlags,
    ...yesFlag,
    ...valuesFlags,
    'reuse-values': Flags.boolean({
      description: "Start from the release's current values and apply -f/--set on top (default: the given values replace them).",
      default: false,
    }),
    'allow-rotation': Flags.boolean({
      description: 'Allow changes to the CA, gossip key, ACL tokens, datacenter or primary datacenter of a running release.',
      default: false,
    }),
    ...chartFlags,
    ...helmBinaryFlag,
    ...releaseWaitFlags,
    ...noHooksFlag,
    ...dryRunFlag,
    ...resultOutputFlag,
  }

  async run(): Promise<InstallResult> {
    const {flags} = await this.parse(Upgrade)
    if (flags.output) this.useStderr()
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    const result = await upgradeRelease(
      cluster,
      {...installOptionsFromFlags(flags), reuseValues: flags['reuse-values'], allowRotation: flags['allow-rotation']},
      {progress: this.ui, confirm: confirmHook({yes: flags.yes})},
    )
    printOutput(flags.output, result)
    return result
  }
}
