/**
 * oclif's command_not_found hook: a mistyped command gets one line with the nearest command
 * and exit 2; a command followed by a stray word (`status extra`, which oclif reads as the
 * command "status extra") says "unexpected argument". Chosen over @oclif/plugin-not-found:
 * it never prompts (scripts and CI see one line, like kubectl), needs no dependency, and is
 * only loaded when no command matched, so start-up stays as it is.
 */
import type {Hook} from '@oclif/core'

import {Terminal} from '../ui/terminal.js'
import {describeUnknownCommand} from '../shared/unknown-command.js'

const hook: Hook.CommandNotFound = async function (options) {
  const {message, hint} = describeUnknownCommand(options.config, options.id)
  if (options.argv?.includes('--json')) process.stdout.write(JSON.stringify({error: {message, hint}}, null, 2) + '\n')
  else new Terminal({stream: process.stderr}).fail(message, hint)
  process.exitCode = 2
}

export default hook
