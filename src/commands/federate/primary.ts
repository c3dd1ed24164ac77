import {Flags, type Interfaces} from '@oclif/core'
import {readFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {BaseCommand} from '../../shared/base-command.js'
import type {KubeCluster} from '../../kube/client.js'
import {UserError} from '../../shared/errors.js'
import {checkOutputPaths} from '../../shared/files.js'
import {consulFlags, dryRunFlag, kubeFlags, timeoutFlag, yesFlag} from '../../shared/flags.js'
import {federationClients} from '../../federation/clients.js'
import {promptAsker} from '../../ui/choices-prompt.js'
import {PRIMARY_DEFAULTS, choicesFromValues, resolveChoices, type Asker, type Choices} from '../../federation/choices.js'
import {MESH_GATEWAY_SERVICE_TYPES, type MeshGatewayServiceType} from '../../federation/gateways.js'
import {ROTATE_TARGETS, runPrimary, type PrimaryResult, type RotateTarget} from '../../federation/primary.js'
import {renderPrimary, renderSteps} from '../../ui/federation-report.js'
import {DirSecretStore} from '../../federation/store.js'
import {choicesFromRelease, readExistingRelease, releaseFacts, type ExistingRelease} from '../../federation/existing.js'
import {federatePrimaryThenInstall, type ChainInstallResult} from '../../federation/install-chain.js'
import {chainInstallOptions, chartFlags, helmBinaryFlag, noHooksFlag} from '../../helm/flags.js'
import {confirmHook} from '../../ui/prompt.js'

type PrimaryFlags = Interfaces.InferredFlags<typeof FederatePrimary.flags>

/** Where the values (and with --output-dir the Secret manifests) go: every output path checked before anything is asked, read or written. */
async function outputPaths(flags: PrimaryFlags): Promise<{outputDir?: string; valuesFile: string}> {
  const outputDir = flags['output-dir'] ? resolve(flags['output-dir']) : undefined
  if (flags.install && outputDir) {
    throw new UserError('--install needs a cluster; it cannot be combined with --output-dir.', {
      hint: 'Drop --install to write files only, or drop --output-dir to work against the cluster of --context.',
    })
  }
  const valuesFile = resolve(flags['values-file'] ?? (outputDir ? join(outputDir, 'values.yaml') : 'primary-values.yaml'))
  if (!flags['dry-run']) {
    await checkOutputPaths([
      {path: valuesFile, kind: 'file', flag: flags['values-file'] ? '--values-file' : outputDir ? '--output-dir' : undefined},
      ...(outputDir ? [{path: join(outputDir, 'secrets'), kind: 'dir' as const, flag: '--output-dir'}] : []),
    ])
  }
  return {outputDir, valuesFile}
}

/**
 * The choices of the primary: a release already installed decides datacenter, names, CA and
 * ACLs (nothing is asked then); else flags, answers on a terminal, the previous values file, defaults.
 */
async function primaryChoices(
  flags: PrimaryFlags,
  cluster: KubeCluster | undefined,
  previousValues: string | undefined,
  asker: Asker | undefined,
): Promise<{existing?: ExistingRelease; choices: Choices}> {
  const choiceFlags = {
    datacenter: flags.datacenter,
    acls: flags.acls,
    gossip: flags.gossip,
    meshGatewayServiceType: flags['mesh-gateway-service-type'] as MeshGatewayServiceType | undefined,
  }
  const existing = cluster
    ? await readExistingRelease({
        cluster,
        kubeconfig: flags.kubeconfig,
        helmBinary: flags['helm-binary'],
        release: flags.release,
        namespace: flags.namespace,
      })
    : undefined
  if (existing && flags.install) {
    throw new UserError(`Release ${flags.release} already exists in namespace ${flags.namespace}; --install only installs new releases.`, {
      hint: "Drop --install: federate primary writes the release's values plus the federation changes, then apply them with `consulk8s upgrade -f <values file>` (it shows the diff).",
    })
  }
  const choices = existing
    ? choicesFromRelease(existing, releaseFacts(existing), choiceFlags, PRIMARY_DEFAULTS)
    : await resolveChoices({flags: choiceFlags, previous: choicesFromValues(previousValues), defaults: PRIMARY_DEFAULTS, asker})
  return {existing, choices}
}

export default class FederatePrimary extends BaseCommand {
  static summary = 'Prepare the primary datacenter: CA, gossip key, federation secret and Helm values.'
  static description = `Creates the server CA (EC P-256) and the gossip encryption key as secrets in the primary's namespace, writes the primary's Helm values (TLS, federation, mesh gateway, connect inject, ACLs with a replication token), and creates or refreshes the federation secret <release>-federation (caCert, caKey, serverConfigJSON, replicationToken, gossipEncryptionKey) that secondaries import.

With ACLs, consulk8s chooses the replication token's secret ID (a random UUID v4) and keeps it in the secret <release>-acl-replication-acl-token (key token); the values wire it through global.acls.replicationToken with createReplicationToken, so the chart's server-acl-init creates the token in Consul with exactly that ID. With --consul-http-addr and a management --consul-token (cluster mode only) the token is created right away.

The federation secret also needs the primary mesh gateway address (--primary-gateway, or the <release>-mesh-gateway Service once Consul runs; sorted). Without it the command writes everything else and says what it waits for; run it again (or with --wait) after the install.

A release already installed under --release is read with helm (datacenter, chart fullname, CA, gossip key, ACL settings) and never renamed or given a second CA; flags that contradict it are refused, and the values written are its values plus the federation changes.

In the cluster it also makes sure of the ProxyDefaults "global" with meshGateway.mode local (the custom resource when the CRD exists, else the Consul config entry through --consul-http-addr), keeping other settings.

Re-running is safe: existing CA, gossip key and token are reused and reported unchanged; replacing them needs --rotate. With --output-dir nothing talks to a cluster or to Consul (CONSUL_HTTP_ADDR is ignored): values.yaml and the Secret manifests (mode 0600) are written into the directory for GitOps.`
  static enableJsonFlag = true
  static examples = [
    {
      description: 'Offline, for GitOps: values.yaml and Secret manifests in ./federation',
      command: '<%= config.bin %> <%= command.id %> --output-dir ./federation --yes',
    },
    {
      description: 'Offline, the complete bundle (federation secret included) for a known gateway address',
      command: '<%= config.bin %> <%= command.id %> --output-dir ./federation --context dc1 --primary-gateway 203.0.113.10:443 --yes',
    },
    {
      description: 'Against the primary cluster (before and again after helm install)',
      command: '<%= config.bin %> <%= command.id %> --context dc1 --datacenter dc1',
    },
    {
      description: 'After the install: wait for the mesh gateway address, then write the federation secret',
      command: '<%= config.bin %> <%= command.id %> --context dc1 --wait --timeout 10m',
    },
    {
      description: 'NodePort gateways, no ACLs, fixed gateway address',
      command:
        '<%= config.bin %> <%= command.id %> --context dc1 --no-acls --mesh-gateway-service-type NodePort --primary-gateway 203.0.113.10:30443',
    },
    {description: 'Show what would change', command: '<%= config.bin %> <%= command.id %> --context dc1 --dry-run'},
  ]

  static flags = {
    ...kubeFlags,
    ...yesFlag,
    ...consulFlags,
    ...dryRunFlag,
    wait: Flags.boolean({description: 'Keep looking for the mesh gateway address until the federation secret can be written.', default: false}),
    ...timeoutFlag('How long --wait (and --install) may take (90s, 10m).'),
    datacenter: Flags.string({description: "Name of the primary datacenter (asked on a terminal; default dc1, or the previous run's)."}),
    acls: Flags.boolean({allowNo: true, description: 'Enable ACLs with a replication token for secondaries (asked on a terminal; default on).'}),
    gossip: Flags.boolean({allowNo: true, description: 'Enable gossip encryption (asked on a terminal; default on).'}),
    'mesh-gateway-service-type': Flags.string({
      options: [...MESH_GATEWAY_SERVICE_TYPES],
      description: 'Service type of the mesh gateway (asked on a terminal; default LoadBalancer).',
    }),
    'primary-gateway': Flags.string({
      multiple: true,
      description: 'Address host:port of a primary mesh gateway, instead of reading the mesh gateway Service (repeatable).',
    }),
    'values-file': Flags.string({description: 'Where to write the Helm values (default primary-values.yaml, or <output-dir>/values.yaml).'}),
    'output-dir': Flags.string({description: 'Write values.yaml and Secret manifests into this directory instead of talking to a cluster.'}),
    rotate: Flags.string({
      multiple: true,
      options: [...ROTATE_TARGETS],
      description: 'Replace existing material on purpose: ca, gossip-key or replication-token (repeatable; asks for confirmation).',
    }),
    force: Flags.boolean({description: "Overwrite a federation secret that holds other key material than the primary's secrets.", default: false}),
    install: Flags.boolean({
      description:
        'Then install Consul with the written values through helm (like `consulk8s install`); with --wait, wait for the servers and write the federation secret once the gateway address and token exist.',
      default: false,
    }),
    ...chartFlags,
    ...helmBinaryFlag,
    ...noHooksFlag,
  }

  async run(): Promise<PrimaryResult & {install?: ChainInstallResult}> {
    const {flags} = await this.parse(FederatePrimary)
    const {outputDir, valuesFile} = await outputPaths(flags)
    const previousValues = await readFile(valuesFile, 'utf8').catch(() => undefined)
    const asker = promptAsker({yes: flags.yes, json: this.jsonEnabled()})
    const confirm = confirmHook({yes: flags.yes})
    // Offline means offline: no Kubernetes and no Consul, whatever CONSUL_HTTP_ADDR says.
    const clients = await federationClients(flags, {cluster: !outputDir, consul: !outputDir})
    try {
      const {existing, choices} = await primaryChoices(flags, clients.cluster, previousValues, asker)
      const store = outputDir ? new DirSecretStore(join(outputDir, 'secrets'), flags.namespace) : clients.store!
      if (!flags['dry-run'] && !outputDir) this.ui.progress(`Preparing the primary in ${store.where}`)
      const pass = (waitMs: number | undefined) =>
        runPrimary(
          {
            ...choices,
            release: flags.release,
            namespace: flags.namespace,
            context: clients.cluster?.name ?? flags.context,
            primaryGateways: flags['primary-gateway'] ?? [],
            rotate: (flags.rotate ?? []) as RotateTarget[],
            force: flags.force,
            valuesFile,
          },
          {store, cluster: clients.cluster, consul: clients.consul, existing},
          {
            dryRun: flags['dry-run'],
            confirm,
            notice: (message) => this.ui.warn(message),
            waitMs,
            onWaiting: (waitingFor) => this.ui.progress(`Waiting for ${waitingFor.join('; ')}`),
          },
        )
      if (!flags.install) {
        const result = await pass(flags.wait ? flags.timeout : undefined)
        this.ui.done()
        renderPrimary(this.ui, result)
        return result
      }
      const {result, install, rerun} = await federatePrimaryThenInstall(
        pass,
        {cluster: clients.cluster, consul: clients.consul, namespace: flags.namespace},
        chainInstallOptions(flags, valuesFile, flags.timeout),
        flags.wait ? flags.timeout : undefined,
        {
          progress: this.ui,
          confirm,
          // The next steps of the first pass (helm install, re-run with --wait) are what --install does now.
          written: (first) => renderPrimary(this.ui, first, {next: false}),
          finished: (step) => renderSteps(this.ui, [step], false),
        },
      )
      if (rerun) renderPrimary(this.ui, result)
      else if (install.result && result.federationSecret.waitingFor.length > 0) {
        this.ui.warn(
          `Federation secret ${result.federationSecret.name} still waits for: ${result.federationSecret.waitingFor.join('; ')}`,
          'Re-run with --wait (or run `consulk8s federate primary --context ... --wait` later) to write it once Consul is up.',
        )
      }
      return {...result, install}
    } finally {
      this.ui.done()
      clients.close()
    }
  }
}
