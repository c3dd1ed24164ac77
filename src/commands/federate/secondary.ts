import {Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {BaseCommand} from '../../shared/base-command.js'
import {consulFlags, dryRunFlag, kubeFlags, yesFlag} from '../../shared/flags.js'
import {UserError} from '../../shared/errors.js'
import {checkOutputPaths} from '../../shared/files.js'
import {SECONDARY_DEFAULTS, resolveChoices} from '../../federation/choices.js'
import {federationClients} from '../../federation/clients.js'
import {FEDERATION_SECRET_INPUT, readInput} from '../../shared/stdin.js'
import {promptAsker} from '../../ui/choices-prompt.js'
import {MESH_GATEWAY_SERVICE_TYPES, type MeshGatewayServiceType} from '../../federation/gateways.js'
import {renderSecondary, renderSteps} from '../../ui/federation-report.js'
import {checkSecondaryDatacenter, loadFederationSource, runSecondary, type SecondaryResult} from '../../federation/secondary.js'
import {chainInstallFinishing, type ChainInstallResult} from '../../federation/install-chain.js'
import {chainInstallOptions, chartFlags, helmBinaryFlag, noHooksFlag, waitFlags} from '../../helm/flags.js'
import {confirmHook} from '../../ui/prompt.js'

export default class FederateSecondary extends BaseCommand {
  static summary = 'Prepare a secondary datacenter: import the federation secret and write its Helm values.'
  static description = `Copies <release>-federation from the primary context (--primary-context, same kubeconfig) or from an exported file (-f) into the secondary's namespace, then writes the secondary's Helm values: CA, replication token and gossip key from that secret, server.extraVolumes loading serverConfigJSON, federation with primaryDatacenter and k8sAuthMethodHost.

k8sAuthMethodHost is the secondary's Kubernetes API URL as the primary's Consul servers reach it: --k8s-auth-method-host, else the server of the secondary's context in the kubeconfig. When that server is localhost/127.x (kind and other local clusters), the address of the secondary's default/kubernetes endpoints is used instead, with a warning.

It also makes sure of the ProxyDefaults "global" with meshGateway.mode local in the secondary (the custom resource when the CRD exists, which --install brings, else the Consul config entry through --consul-http-addr), keeping other settings.

The datacenter name must differ from the primary's. An existing federation secret with other data is not replaced without --force.`
  static enableJsonFlag = true
  static examples = [
    {
      description: 'Straight from the primary context',
      command: '<%= config.bin %> <%= command.id %> --context dc2 --primary-context dc1 --datacenter dc2',
    },
    {description: 'From an exported file', command: '<%= config.bin %> <%= command.id %> --context dc2 -f consul-federation.yaml --datacenter dc2'},
    {
      description: 'A kind cluster whose API the primary reaches at another address',
      command: '<%= config.bin %> <%= command.id %> --context kind-dc2 --primary-context kind-dc1 --k8s-auth-method-host https://172.18.0.3:6443',
    },
  ]

  static flags = {
    ...kubeFlags,
    ...yesFlag,
    ...consulFlags,
    ...dryRunFlag,
    'primary-context': Flags.string({
      description: 'Kube context of the primary (same kubeconfig) to copy the federation secret from.',
      exclusive: ['file'],
    }),
    'primary-namespace': Flags.string({description: 'Namespace of Consul in the primary (default: -n).'}),
    file: Flags.string({char: 'f', description: 'Exported federation secret manifest, or "-" for stdin.', exclusive: ['primary-context']}),
    datacenter: Flags.string({description: "Name of this secondary datacenter (asked on a terminal; default dc2); must differ from the primary's."}),
    'k8s-auth-method-host': Flags.string({
      description: "URL of this cluster's Kubernetes API as the primary reaches it (default: from the kubeconfig).",
    }),
    'mesh-gateway-service-type': Flags.string({
      options: [...MESH_GATEWAY_SERVICE_TYPES],
      description: 'Service type of the mesh gateway (asked on a terminal; default LoadBalancer).',
    }),
    'values-file': Flags.string({description: 'Where to write the Helm values.', default: 'secondary-values.yaml'}),
    force: Flags.boolean({description: 'Replace an existing federation secret that holds other data (asks for confirmation).', default: false}),
    install: Flags.boolean({description: 'Then install Consul with the written values through helm (like `consulk8s install`).', default: false}),
    ...chartFlags,
    ...helmBinaryFlag,
    ...noHooksFlag,
    ...waitFlags,
  }

  async run(): Promise<SecondaryResult & {install?: ChainInstallResult}> {
    const {flags} = await this.parse(FederateSecondary)
    if (!flags['primary-context'] && !flags.file) {
      throw new UserError('Where is the federation secret? Pass --primary-context <primary context> or -f <exported file>.', {
        hint: 'e.g. consulk8s federate secondary --context dc2 --primary-context dc1',
      })
    }
    const valuesFile = resolve(flags['values-file'])
    if (!flags['dry-run']) await checkOutputPaths([{path: valuesFile, kind: 'file', flag: '--values-file'}])
    // An exported file is read and checked before any cluster is contacted.
    let source = flags.file
      ? await loadFederationSource({
          text: await readInput(flags.file, {...FEDERATION_SECRET_INPUT, command: 'consulk8s federate secondary -f -'}),
          path: flags.file,
        })
      : undefined
    const target = await federationClients(flags, {cluster: true, consul: true})
    try {
      if (!source) {
        if (flags['primary-context'] === target.cluster!.name) {
          throw new UserError(`--primary-context and --context are both "${flags['primary-context']}".`, {
            hint: 'The secondary must be another cluster than the primary.',
          })
        }
        const primary = await federationClients(
          {kubeconfig: flags.kubeconfig, context: flags['primary-context'], namespace: flags['primary-namespace'] ?? flags.namespace},
          {cluster: true, consul: false},
        )
        source = await loadFederationSource({store: primary.store!, release: flags.release})
      }
      const primaryDatacenter = source.summary.primaryDatacenter
      if (flags.datacenter) checkSecondaryDatacenter(flags.datacenter, primaryDatacenter)
      const confirm = confirmHook({yes: flags.yes})
      const choices = await resolveChoices({
        flags: {datacenter: flags.datacenter, meshGatewayServiceType: flags['mesh-gateway-service-type'] as MeshGatewayServiceType | undefined},
        defaults: SECONDARY_DEFAULTS,
        asker: promptAsker({yes: flags.yes, json: this.jsonEnabled()}),
        ask: ['datacenter', 'meshGatewayServiceType'],
        forbiddenDatacenter: primaryDatacenter,
      })
      const result = await runSecondary(
        {
          release: flags.release,
          namespace: flags.namespace,
          context: target.cluster!.name,
          primaryContext: flags['primary-context'],
          datacenter: choices.datacenter,
          meshGatewayServiceType: choices.meshGatewayServiceType,
          k8sAuthMethodHost: flags['k8s-auth-method-host'],
          valuesFile,
          force: flags.force,
          dryRun: flags['dry-run'],
        },
        {
          target: target.store!,
          cluster: target.cluster!,
          consul: target.consul,
          source,
          confirm,
        },
      )
      renderSecondary(this.ui, result)
      if (!flags.install) return result
      const install = await chainInstallFinishing(
        {cluster: target.cluster, consul: target.consul, namespace: flags.namespace},
        result.steps,
        chainInstallOptions(flags, result.valuesFile, flags.timeout),
        {progress: this.ui, confirm, finished: (step) => renderSteps(this.ui, [step], false)},
      )
      return {...result, install}
    } finally {
      target.close()
    }
  }
}
