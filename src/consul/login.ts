/**
 * Logging in to Consul through an ACL auth method, as the chart's pods do
 * (`-consul-login-auth-method`): a bearer token (a Kubernetes service-account token) is
 * exchanged at /v1/acl/login for a Consul token, which /v1/acl/logout destroys at the end.
 */
import {readFileSync} from 'node:fs'

import {UserError, errorMessage} from '../shared/errors.js'
import {ConsulApiError, describeConsulError, type ConsulClient} from './client.js'

/** Where Kubernetes mounts a pod's service-account token. */
export const POD_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token'

export interface LoginOptions {
  authMethod: string
  bearerTokenFile: string
  /** Datacenter of the auth method (?dc=); the agent's own when absent. */
  datacenter?: string
  /** Meta of the token Consul creates (Consul shows it with the token). */
  meta?: Record<string, string>
}

/** KEY=VALUE[,KEY=VALUE...] (consul's -meta / the chart's CONSUL_LOGIN_META). */
export function parseLoginMeta(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const meta: Record<string, string> = {}
  for (const pair of raw.split(',')) {
    const index = pair.indexOf('=')
    if (index <= 0) throw new UserError(`Login meta "${pair}" is not KEY=VALUE.`, {hint: 'Pass --consul-login-meta as KEY=VALUE[,KEY=VALUE...].'})
    meta[pair.slice(0, index).trim()] = pair.slice(index + 1).trim()
  }
  return meta
}

export interface LoginToken {
  accessorId: string
  secretId: string
}

function readBearerToken(file: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new UserError(`Cannot read the bearer token file ${file}: ${errorMessage(error)}`, {
      hint: 'Point --consul-login-bearer-token-file at a Kubernetes service-account token (in a pod: the mounted one, the default).',
    })
  }
  if (text === '') throw new UserError(`The bearer token file ${file} is empty.`)
  return text
}

/** /v1/acl/login with the bearer token; the client's own token, if any, is not sent. */
export async function login(client: ConsulClient, options: LoginOptions): Promise<LoginToken> {
  const bearerToken = readBearerToken(options.bearerTokenFile)
  try {
    const {data: token} = await client.request<{AccessorID: string; SecretID: string}>('POST', '/v1/acl/login', {
      body: {AuthMethod: options.authMethod, BearerToken: bearerToken, ...(options.meta ? {Meta: options.meta} : {})},
      token: '',
      query: {dc: options.datacenter},
    })
    return {accessorId: token.AccessorID, secretId: token.SecretID}
  } catch (error) {
    if (error instanceof ConsulApiError && (error.status === 403 || error.status === 401 || error.status === 400 || error.status === 500)) {
      throw new UserError(`Consul refused the login through auth method "${options.authMethod}": ${error.body.trim().slice(0, 300)}`, {
        hint:
          `Check that the auth method exists in this datacenter, that ${options.bearerTokenFile} holds a valid, unexpired service-account token ` +
          'of the cluster the auth method points at, and that a binding rule of the auth method matches it.',
      })
    }
    throw describeConsulError(error, `log in through auth method "${options.authMethod}"`)
  }
}

/** /v1/acl/logout: destroys the token login made. */
export async function logout(client: ConsulClient, token: LoginToken): Promise<void> {
  await client.request('POST', '/v1/acl/logout', {token: token.secretId})
}
