import {Flags} from '@oclif/core'

import {BaseCommand} from '../../shared/base-command.js'
import {dryRunFlag, kubeFlags, yesFlag} from '../../shared/flags.js'
import {federationClients} from '../../federation/clients.js'
import {FEDERATION_SECRET_INPUT, readInput} from '../../shared/stdin.js'
import {renderSteps, renderWarnings} from '../../ui/federation-report.js'
import type {Step} from '../../federation/primary.js'
import {parseSecretManifest} from '../../federation/secret.js'
import {importFederationSecret, validateImportSource} from '../../federation/transfer.js'
import {confirmHook} from '../../ui/prompt.js'

export default class FederateImport extends BaseCommand {
  static summary = 'Create the federation secret in a secondary context from an exported manifest.'
  static description = `Reads a federation secret manifest (from "federate export" or "kubectl get secret -o yaml"), checks that it is complete, and creates <release>-federation in the target context and namespace with the label managed-by: consul-k8s (the consul-k8s CLI needs it, consul-k8s#1067). The manifest's own namespace is replaced by -n.

Importing the same data again changes nothing. If a secret of that name exists with other data, the command refuses and names the keys that differ (never their values); --force replaces it after confirmation.`
  static enableJsonFlag = true
  static examples = [
    {description: 'From a file', command: '<%= config.bin %> <%= command.id %> --context dc2 -f consul-federation.yaml'},
    {description: 'From a pipe', command: '<%= config.bin %> federate export --context dc1 | <%= config.bin %> <%= command.id %> --context dc2 -f -'},
  ]

  static flags = {
    ...kubeFlags,
    ...yesFlag,
    ...dryRunFlag,
    file: Flags.string({char: 'f', description: 'Manifest of the federation secret, or "-" for stdin.', required: true}),
    force: Flags.boolean({description: 'Replace an existing federation secret that holds other data (asks for confirmation).', default: false}),
  }

  async run(): Promise<{
    name: string
    namespace: string
    context: string
    action: string
    keys: string[]
    primaryDatacenter: string
    dryRun: boolean
    steps: Step[]
    warnings: string[]
  }> {
    const {flags} = await this.parse(FederateImport)
    const sourceName = flags.file === '-' ? 'the manifest on stdin' : flags.file
    const source = parseSecretManifest(
      await readInput(flags.file, {...FEDERATION_SECRET_INPUT, command: 'consulk8s federate import -f -'}),
      sourceName,
    )
    // The file is checked completely before any cluster is contacted.
    validateImportSource(source, {namespace: flags.namespace, sourceName})
    const clients = await federationClients(flags, {cluster: true, consul: false})
    const plan = await importFederationSecret(
      source,
      {store: clients.store!, cluster: clients.cluster},
      {
        release: flags.release,
        namespace: flags.namespace,
        force: flags.force,
        dryRun: flags['dry-run'],
        sourceName,
        confirm: confirmHook({yes: flags.yes}),
      },
    )
    const warnings = plan.renamedFrom
      ? [`The manifest names the secret ${plan.renamedFrom}; it was imported as ${plan.name}, the name release "${flags.release}" uses.`]
      : []
    this.ui.header(`Federation secret into ${clients.store!.where}${flags['dry-run'] ? ' — dry run, nothing written' : ''}`)
    renderSteps(this.ui, plan.steps, flags['dry-run'])
    renderWarnings(this.ui, warnings)
    return {
      name: plan.name,
      namespace: plan.namespace,
      context: clients.cluster!.name,
      action: plan.action,
      keys: plan.summary.keys,
      primaryDatacenter: plan.summary.primaryDatacenter,
      dryRun: flags['dry-run'],
      steps: plan.steps,
      warnings,
    }
  }
}
