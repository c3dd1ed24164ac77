/**
 * Consul's transaction endpoint (/v1/txn): catalog writes applied atomically, all or none.
 * A rolled-back transaction (HTTP 409) says which operations failed; that answer is
 * returned as data so the caller can drop those and resubmit the rest.
 */
import {ConsulApiError, type ConsulClient} from './client.js'

/** Operations per transaction that every supported Consul release accepts. */
export const TXN_MAX_OPS = 64

export type ServiceVerb = 'set' | 'cas' | 'delete' | 'delete-cas'
export type CheckVerb = 'set' | 'cas' | 'delete' | 'delete-cas'

export interface TxnServiceOp {
  Service: {
    Verb: ServiceVerb
    Node: string
    Service: {
      ID: string
      Service?: string
      Tags?: string[] | null
      Address?: string
      Port?: number
      Meta?: Record<string, string> | null
      Weights?: {Passing: number; Warning: number}
      ModifyIndex?: number
    }
  }
}

export interface TxnCheckOp {
  Check: {
    Verb: CheckVerb
    Check: {
      Node: string
      CheckID: string
      Name?: string
      Status?: string
      Output?: string
      ServiceID?: string
      ServiceName?: string
      Type?: string
      ModifyIndex?: number
    }
  }
}

export interface TxnNodeOp {
  Node: {
    Verb: 'set' | 'cas' | 'delete' | 'delete-cas'
    Node: {Node: string; Address?: string; Meta?: Record<string, string>; ModifyIndex?: number}
  }
}

export type TxnOp = TxnServiceOp | TxnCheckOp

export interface TxnError {
  OpIndex: number
  What: string
}

export type TxnOutcome = {ok: true} | {ok: false; errors: TxnError[]}

/**
 * Apply one transaction. Resolves {ok: false, errors} when Consul rolled it back (409);
 * throws ConsulApiError/ConsulUnreachableError for everything else.
 */
export async function applyTxn(client: ConsulClient, ops: Array<TxnOp | TxnNodeOp>): Promise<TxnOutcome> {
  if (ops.length === 0) return {ok: true}
  try {
    // The answer repeats every object written: at thousands of writes that is only garbage.
    await client.request('PUT', '/v1/txn', {body: ops, discardBody: true})
    return {ok: true}
  } catch (error) {
    if (error instanceof ConsulApiError && error.status === 409) {
      try {
        const parsed = JSON.parse(error.body) as {Errors?: TxnError[] | null}
        if (parsed.Errors && parsed.Errors.length > 0) return {ok: false, errors: parsed.Errors}
      } catch {
        // Not the transaction error document; report the HTTP error itself.
      }
    }
    throw error
  }
}
