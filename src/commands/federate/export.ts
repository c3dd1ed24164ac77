import {Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {stringify} from 'yaml'

import {BaseCommand} from '../../shared/base-command.js'
import {kubeFlags, outputFlag} from '../../shared/flags.js'
import {UserError} from '../../shared/errors.js'
import {checkOutputPaths, writeFileAtomic} from '../../shared/files.js'
import {outputTarget} from '../../shared/output.js'
import {federationClients} from '../../federation/clients.js'
import {displayPath} from '../../shared/files.js'
import {EXPORT_WARNING, exportFederationSecret} from '../../federation/transfer.js'
import {Terminal} from '../../ui/terminal.js'

export default class FederateExport extends BaseCommand {
  static summary = 'Write the federation secret as a clean manifest, for import into secondaries.'
  static description = `Reads <release>-federation from the primary's namespace, checks it is complete (caCert, caKey, serverConfigJSON and, as configured, replicationToken and gossipEncryptionKey), and writes it without cluster-specific metadata (resourceVersion, uid, creationTimestamp, managedFields, ownerReferences), keeping the label managed-by: consul-k8s.

The manifest goes to stdout, or with --output-file to a file (written atomically with mode 0600). -o picks yaml (default; json for an --output-file ending in .json) or json. The manifest grants full control of Consul: a warning saying so goes to stderr.`
  static enableJsonFlag = true
  static examples = [
    {
      description: 'To a file, then into the secondary',
      command: '<%= config.bin %> <%= command.id %> --context dc1 --output-file consul-federation.yaml',
    },
    {
      description: 'Straight into another cluster',
      command: '<%= config.bin %> <%= command.id %> --context dc1 | <%= config.bin %> federate import --context dc2 -f -',
    },
    {
      description: 'As JSON, for another namespace',
      command: '<%= config.bin %> <%= command.id %> --context dc1 -o json --target-namespace consul-dc2',
    },
  ]

  static flags = {
    ...kubeFlags,
    output: outputFlag(['yaml', 'json'], 'Manifest format: yaml (default; json for an --output-file ending in .json) or json.'),
    'output-file': Flags.string({description: 'Write the manifest to this file (mode 0600) instead of stdout; "-" is stdout.', helpValue: 'FILE'}),
    'target-namespace': Flags.string({description: 'Namespace written into the manifest (default: the namespace read from).'}),
  }

  async run(): Promise<{
    name: string
    namespace?: string
    file?: string
    keys: string[]
    primaryDatacenter: string
    primaryGateways: string[]
    caFingerprint256: string
  }> {
    const {flags} = await this.parse(FederateExport)
    const target = outputTarget(flags.output, flags['output-file'])
    const {format} = target
    const file = target.file ? resolve(target.file) : undefined
    if (!file && this.jsonEnabled()) {
      throw new UserError('--json prints a report, so the manifest needs a file: pass --output-file <file>.', {
        hint: 'Or drop --json to get the manifest on stdout.',
      })
    }
    if (file) await checkOutputPaths([{path: file, kind: 'file', flag: '--output-file'}])
    this.useStderr()
    const clients = await federationClients(flags, {cluster: true, consul: false})
    const {manifest, summary} = await exportFederationSecret(clients.store!, {release: flags.release, targetNamespace: flags['target-namespace']})
    const text = format === 'json' ? JSON.stringify(manifest, null, 2) + '\n' : stringify(manifest, {lineWidth: 0})
    if (file) await writeFileAtomic(file, text, 0o600)
    else process.stdout.write(text)
    const stderr = new Terminal({stream: process.stderr})
    stderr.warn(EXPORT_WARNING)
    if (file) {
      this.ui.success(
        `Wrote ${manifest.metadata.name} (keys ${summary.keys.join(', ')}; primary ${summary.primaryDatacenter}, gateways ${summary.primaryGateways.join(', ')}) to ${displayPath(file)} (mode 0600).`,
      )
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
