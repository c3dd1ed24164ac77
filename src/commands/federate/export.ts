import {Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {stringify} from 'yaml'

import {BaseCommand} from '../../shared/base-command.js'
import {kubeFlags} from '../../shared/flags.js'
import {UserError} from '../../shared/errors.js'
import {writeFileAtomic} from '../../shared/files.js'
import {displayPath, federationClients} from '../../federation/command-support.js'
import {EXPORT_WARNING, exportFederationSecret} from '../../federation/transfer.js'
import {Terminal} from '../../ui/terminal.js'

export default class FederateExport extends BaseCommand {
  static summary = 'Write the federation secret as a clean manifest, for import into secondaries.'
  static description = `Reads <release>-federation from the primary's namespace, checks it is complete (caCert, caKey, serverConfigJSON and, as configured, replicationToken and gossipEncryptionKey), and writes it without cluster-specific metadata (resourceVersion, uid, creationTimestamp, managedFields, ownerReferences), keeping the label managed-by: consul-k8s.

-o takes a file (written atomically with mode 0600; .json files get JSON), "-" for stdout, or the format names yaml/json for stdout. The file grants full control of Consul: a warning saying so goes to stderr.`
  static enableJsonFlag = true
  static examples = [
    {description: 'To a file, then into the secondary', command: '<%= config.bin %> <%= command.id %> --context dc1 -o consul-federation.yaml'},
    {description: 'Straight into another cluster', command: '<%= config.bin %> <%= command.id %> --context dc1 | <%= config.bin %> federate import --context dc2 -f -'},
    {description: 'As JSON, for another namespace', command: '<%= config.bin %> <%= command.id %> --context dc1 -o json --target-namespace consul-dc2'},
  ]

  static flags = {
    ...kubeFlags,
    output: Flags.string({char: 'o', description: 'File to write, "-" for stdout, or yaml|json for stdout in that format.', default: '-'}),
    format: Flags.string({options: ['yaml', 'json'], description: 'Manifest format (default: yaml, or json for a .json file).'}),
    'target-namespace': Flags.string({description: 'Namespace written into the manifest (default: the namespace read from).'}),
  }

  async run(): Promise<{name: string; namespace?: string; file?: string; keys: string[]; primaryDatacenter: string; primaryGateways: string[]; caFingerprint256: string}> {
    const {flags} = await this.parse(FederateExport)
    const toStdout = ['-', 'yaml', 'json'].includes(flags.output)
    if (toStdout && this.jsonEnabled()) {
      throw new UserError('--json prints a report, so the manifest needs a file: pass -o <file>.', {hint: 'Or drop --json to get the manifest on stdout.'})
    }
    this.useStderr()
    const format = flags.format ?? (flags.output === 'json' || flags.output.endsWith('.json') ? 'json' : 'yaml')
    const clients = await federationClients(flags, {cluster: true, consul: false})
    const {manifest, summary} = await exportFederationSecret(clients.store!, {release: flags.release, targetNamespace: flags['target-namespace']})
    const text = format === 'json' ? JSON.stringify(manifest, null, 2) + '\n' : stringify(manifest, {lineWidth: 0})
    const file = toStdout ? undefined : resolve(flags.output)
    if (file) await writeFileAtomic(file, text, 0o600)
    else process.stdout.write(text)
    const stderr = new Terminal({stream: process.stderr})
    stderr.warn(EXPORT_WARNING)
    if (file) {
      this.ui.success(`Wrote ${manifest.metadata.name} (keys ${summary.keys.join(', ')}; primary ${summary.primaryDatacenter}, gateways ${summary.primaryGateways.join(', ')}) to ${displayPath(file)} (mode 0600).`)
    }
    return {
      name: manifest.metadata.name,
      namespace: manifest.metadata.namespace,
      file,
      keys: summary.keys,
      primaryDatacenter: summary.primaryDatacenter,
      primaryGateways: summary.primaryGateways,
      caFingerprint256: summary.caFingerprint256,
    }
  }
}
