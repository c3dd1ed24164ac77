/**
 * The federate commands' questions (datacenter name, ACLs, gossip encryption, mesh gateway
 * Service type) on a terminal: the Asker that resolveChoices (src/federation/choices.ts) takes.
 */
import type {Asker} from '../federation/choices.js'
import {askConfirm, askSelect, askText, canPrompt} from './prompt.js'

/** The terminal asker, or undefined when nobody can answer (CI, no TTY, --yes, --json). */
export function promptAsker(options: {yes: boolean; json?: boolean}): Asker | undefined {
  if (options.json || !canPrompt({yes: options.yes})) return undefined
  return {text: askText, confirm: askConfirm, select: askSelect}
}
