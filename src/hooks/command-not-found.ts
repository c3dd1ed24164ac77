/**
 * oclif's command_not_found hook: a mistyped command gets one line with the nearest command
 * ("Did you mean …?", as kubectl and helm do) and exit 2; a command followed by a stray word
 * (`status extra`, which oclif reads as the command "status extra") says "unexpected
 * argument". Never prompts and loads nothing beyond this file, so start-up stays as it is.
 */
import type {Hook} from '@oclif/core'

import {Terminal} from '../ui/terminal.js'
import {closest} from '../shared/suggest.js'

const hook: Hook.CommandNotFound = async function (options) {
  const {config, id} = options
  const argv = options.argv ?? []
  const bin = config.bin
  const words = id.split(':')
  const commandIds = config.commands.filter((command) => !command.hidden).map((command) => command.id)
  const display = (commandId: string) => `${bin} ${commandId.replace(/:/g, ' ')}`

  let message: string
  let hint: string
  // The longest leading words that name a command: the rest are stray arguments.
  const known = words.map((_, index) => words.slice(0, words.length - 1 - index).join(':')).find((prefix) => prefix && commandIds.includes(prefix))
  if (known) {
    const stray = words.slice(known.split(':').length)
    message = `Unexpected argument${stray.length === 1 ? '' : 's'} ${stray.map((word) => `"${word}"`).join(', ')} for ${display(known)}.`
    hint = `Usage: ${display(known)} [flags]\nSee '${display(known)} --help' for the flags.`
  } else {
    const suggestion = closest(words.join(':'), commandIds)
    message = `Unknown command "${words.join(' ')}" for ${bin}.${suggestion ? ` Did you mean "${display(suggestion)}"?` : ''}`
    const topic = words.length > 1 && config.topics.some((candidate) => candidate.name === words[0]) ? words[0] : undefined
    hint = topic ? `See '${bin} ${topic} --help' for its commands.` : `See '${bin} help' for the commands.`
  }
  if (argv.includes('--json')) process.stdout.write(JSON.stringify({error: {message, hint}}, null, 2) + '\n')
  else new Terminal({stream: process.stderr}).fail(message, hint)
  process.exitCode = 2
}

export default hook
