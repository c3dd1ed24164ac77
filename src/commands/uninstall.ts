import {Flags} from '@oclif/core'

import {BaseCommand} from '../shared/base-command.js'
import {dryRunFlag, kubeFlags, timeoutFlag, yesFlag} from '../shared/flags.js'
import {connectCluster} from '../kube/client.js'
import {helmBinaryFlag, noHooksFlag} from '../helm/flags.js'
import {uninstallRelease, type UninstallResult} from '../helm/uninstall.js'

export default class Uninstall extends BaseCommand {
  static description = `Remove the Consul release of a cluster, through helm.

Asks first (default: no; without a terminal, --yes is required). By default only the release goes; the servers' PersistentVolumeClaims and every secret stay. --wipe-data also deletes the PVCs of the release (label release=<name>) and the secrets consulk8s created (label app.kubernetes.io/managed-by=consulk8s), but never the federation secret, the CA or the gossip key unless --delete-federation-secret is given as well. Secrets the chart's own jobs made are listed, not deleted.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> uninstall --context dc2',
    {description: 'Remove the release and its data, keeping the federation secret', command: '<%= config.bin %> uninstall --context dc2 --wipe-data --yes'},
    {description: 'Remove everything, the federation secret included', command: '<%= config.bin %> uninstall --context dc2 --wipe-data --delete-federation-secret'},
    {description: 'Show what would be removed', command: '<%= config.bin %> uninstall --context dc2 --wipe-data --dry-run'},
  ]

  static flags = {
    ...kubeFlags,
    'wipe-data': Flags.boolean({
      description: 'Also delete the servers\' PersistentVolumeClaims and the secrets consulk8s created (not the federation secret, CA or gossip key).',
      default: false,
    }),
    'delete-federation-secret': Flags.boolean({
      description: 'With --wipe-data: delete the federation secret and the CA and gossip-key secrets consulk8s made too (secondaries can no longer be installed from them).',
      default: false,
    }),
    ...timeoutFlag('How long helm may take (90s, 10m).'),
    ...yesFlag,
    ...helmBinaryFlag,
    ...noHooksFlag,
    ...dryRunFlag,
  }

  async run(): Promise<UninstallResult> {
    const {flags} = await this.parse(Uninstall)
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    return uninstallRelease(
      cluster,
      {
        kubeconfig: flags.kubeconfig,
        namespace: flags.namespace,
        release: flags.release,
        helmBinary: flags['helm-binary'],
        wipeData: flags['wipe-data'],
        deleteFederationSecret: flags['delete-federation-secret'],
        timeoutMs: flags.timeout,
        dryRun: flags['dry-run'],
        yes: flags.yes,
        noHooks: flags['no-hooks'],
      },
      this.ui,
    )
  }
}
