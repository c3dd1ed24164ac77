/** Helm values of a federation primary and secondary as the seed documents them (federation between Kubernetes clusters). */
export const PRIMARY = {
  global: {
    name: 'consul',
    datacenter: 'dc1',
    tls: {enabled: true},
    federation: {enabled: true, createFederationSecret: true},
    acls: {manageSystemACLs: true, createReplicationToken: true},
    gossipEncryption: {autoGenerate: true},
  },
  connectInject: {enabled: true},
  meshGateway: {enabled: true},
}

export const SECONDARY = {
  global: {
    name: 'consul',
    datacenter: 'dc2',
    tls: {
      enabled: true,
      caCert: {secretName: 'consul-federation', secretKey: 'caCert'},
      caKey: {secretName: 'consul-federation', secretKey: 'caKey'},
    },
    acls: {manageSystemACLs: true, replicationToken: {secretName: 'consul-federation', secretKey: 'replicationToken'}},
    federation: {enabled: true, k8sAuthMethodHost: 'https://10.1.2.3:6443', primaryDatacenter: 'dc1'},
    gossipEncryption: {secretName: 'consul-federation', secretKey: 'gossipEncryptionKey'},
  },
  connectInject: {enabled: true},
  meshGateway: {enabled: true},
  server: {extraVolumes: [{type: 'secret', name: 'consul-federation', items: [{key: 'serverConfigJSON', path: 'config.json'}], load: true}]},
}
