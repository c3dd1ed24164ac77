/**
 * Names the Consul Helm chart derives. consulk8s writes `global.name: <release>` into the
 * values it generates, so the chart's resource prefix ("fullname") equals the release name
 * and every name below follows from --release, as in the seed (release and name "consul").
 */
import {UserError} from '../shared/errors.js'

/** The chart's consul.fullname: fullnameOverride, else global.name, else <release>-consul; cut to 63. */
export function chartFullname(release: string, values: {fullnameOverride?: string; globalName?: string} = {}): string {
  const raw = values.fullnameOverride || values.globalName || `${release}-consul`
  return raw.slice(0, 63).replace(/-+$/, '')
}

export interface ChartNames {
  prefix: string
  federationSecret: string
  caCertSecret: string
  caKeySecret: string
  gossipSecret: string
  replicationTokenSecret: string
  bootstrapTokenSecret: string
  serverStatefulSet: string
  meshGatewayService: string
}

export function chartNames(prefix: string): ChartNames {
  return {
    prefix,
    federationSecret: `${prefix}-federation`,
    caCertSecret: `${prefix}-ca-cert`,
    caKeySecret: `${prefix}-ca-key`,
    gossipSecret: `${prefix}-gossip-encryption-key`,
    replicationTokenSecret: `${prefix}-acl-replication-acl-token`,
    bootstrapTokenSecret: `${prefix}-bootstrap-acl-token`,
    serverStatefulSet: `${prefix}-server`,
    meshGatewayService: `${prefix}-mesh-gateway`,
  }
}

/** Names for the release consulk8s manages (global.name = release). */
export function releaseNames(release: string): ChartNames {
  validateReleaseName(release)
  return chartNames(chartFullname(release, {globalName: release}))
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export function validateReleaseName(release: string): void {
  if (!DNS_LABEL.test(release) || release.length > 53) {
    throw new UserError(`Invalid release name "${release}".`, {
      hint: 'A Helm release name is lowercase letters, digits and "-", starts and ends with a letter or digit, at most 53 characters.',
    })
  }
}

/**
 * Consul datacenter names: letters, digits, "-" and "_" (Consul rejects anything else),
 * and the chart uses the name in DNS names (server.<dc>.<domain>), so lowercase is required.
 */
export function validateDatacenterName(datacenter: string): void {
  if (!/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(datacenter)) {
    throw new UserError(`Invalid datacenter name "${datacenter}".`, {
      hint: 'Use lowercase letters, digits, "-" or "_" (starting and ending with a letter or digit, at most 63 characters), e.g. dc1.',
    })
  }
}

export function validateNamespaceName(namespace: string): void {
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) {
    throw new UserError(`Invalid namespace "${namespace}".`, {
      hint: 'A Kubernetes namespace is a DNS label: lowercase letters, digits and "-", at most 63 characters.',
    })
  }
}
