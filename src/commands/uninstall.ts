import {Flags} from '@oclif/core'

import {BaseCommand} from '../shared/base-command.js'
import {dryRunFlag, kubeFlags, timeoutFlag, yesFlag} from '../shared/flags.js'
import {connectCluster} from '../kube/client.js'
import {helmBinaryFlag, noHooksFlag} from '../helm/flags.js'
import {uninstallRelease, type UninstallResult} from '../helm/uninstall.js'
import {confirmHook} from '../ui/prompt.js'

export default class Uninstall extends BaseCommand {
  static description = `Remove the Consul release of a cluster, through helm.

Shows the plan and asks first (default: no; without a terminal, --yes is required). Before helm runs, the release's Consul custom resources (ProxyDefaults, ServiceDefaults, ServiceIntentions, Mesh, ...) are deleted while the controller still runs; any still there after a grace period are freed by clearing their finalizers.consul.hashicorp.com finalizer. By default the servers' PersistentVolumeClaims and every secret stay. --wipe-data also deletes the PVCs of the release (label release=<name>) and every secret of the install: those consulk8s created (label app.kubernetes.io/managed-by=consulk8s), those the chart's jobs made (label managed-by=consul-k8s) and the release's ACL token secrets, so that a new install starts clean; the federation secret, the CA and the gossip key stay unless --delete-federation-secret is given as well.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> uninstall --context dc2',
    {
      description: 'Remove the release and its data, keeping the federation secret',
      command: '<%= config.bin %> uninstall --context dc2 --wipe-data --yes',
    },
    {
      description: 'Remove everything, the federation secret included',
      command: '<%= config.bin %> uninstall --context dc2 --wipe-data --delete-federation-secret',
    },
    {description: 'Show what would be removed', command: '<%= config.bin %> uninstall --context dc2 --wipe-data --dry-run'},
  ]

  static flags = {
    ...kubeFlags,
    'wipe-data': Flags.boolean({
      description:
        "Also delete the servers' PersistentVolumeClaims and every secret of the install: consulk8s's, the chart jobs' (managed-by=consul-k8s) and the ACL token secrets (not the federation secret, CA or gossip key).",
      default: false,
    }),
    'delete-federation-secret': Flags.boolean({
      description:
        'With --wipe-data: delete the federation secret and the CA and gossip-key secrets consulk8s made too (secondaries can no longer be installed from them).',
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
        noHooks: flags['no-hooks'],
      },
      {progress: this.ui, confirm: confirmHook({yes: flags.yes})},
    )
  }
}
