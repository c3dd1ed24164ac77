import {Flags} from '@oclif/core'
import {stringify} from 'yaml'

import {BaseCommand} from '../../shared/base-command.js'
import {kubeFlags} from '../../shared/flags.js'
import {connectCluster} from '../../kube/client.js'
import {helmBinaryFlag, locateOptionsFromFlags, releaseLocatorFlags} from '../../helm/flags.js'
import {readReleaseConfig, type ConfigReadResult} from '../../helm/config.js'

export default class ConfigRead extends BaseCommand {
  static description = `Print the effective Helm values of the Consul release (helm get values --all: the chart's defaults with the release's values on top), like consul-k8s config read.

Secret material is hidden: values under keys that name a token, password or licence, and such keys inside JSON agent configuration (server.extraConfig: encrypt, tokens). Without -n the release is looked for in every namespace. YAML on stdout (pipe it to a file to reuse it with -f); the release line goes to stderr.`

  static enableJsonFlag = true

  static examples = [
    '<%= config.bin %> config read --context dc1',
    {description: 'As JSON, from a given namespace', command: '<%= config.bin %> config read --context dc2 -n consul -o json'},
  ]

  static flags = {
    ...kubeFlags,
    ...releaseLocatorFlags,
    ...helmBinaryFlag,
    output: Flags.string({char: 'o', description: 'Output format.', options: ['yaml', 'json'], default: 'yaml'}),
  }

  async run(): Promise<ConfigReadResult> {
    const {flags} = await this.parse(ConfigRead)
    this.useStderr()
    const cluster = await connectCluster({kubeconfig: flags.kubeconfig, context: flags.context})
    const result = await readReleaseConfig(cluster, locateOptionsFromFlags(flags))
    this.ui.success(
      `Release ${result.release} in namespace ${result.namespace} of context "${result.context}": ${result.status}, revision ${result.revision}, chart ${result.chart}${result.hidden.length > 0 ? `; ${result.hidden.length} secret value(s) hidden` : ''}`,
    )
    if (!this.jsonEnabled()) process.stdout.write(flags.output === 'json' ? `${JSON.stringify(result.values, null, 2)}\n` : stringify(result.values))
    return result
  }
}
