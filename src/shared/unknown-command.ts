/**
 * What to say about a command line that names no command: a stray word after a real command
 * ("unexpected argument"), or a mistyped command with the nearest one ("did you mean", as
 * kubectl and helm do). Used by the command_not_found hook and by `consulk8s help <typo>`.
 */
import type {Interfaces} from '@oclif/core'

import {closest} from './suggest.js'

export function describeUnknownCommand(config: Interfaces.Config, id: string): {message: string; hint: string} {
  const bin = config.bin
  const words = id.split(/[: ]/).filter(Boolean)
  if (words[0]?.startsWith('-'))
    return {message: `Unknown flag ${words[0]} for ${bin}: a command comes first.`, hint: `See '${bin} help' for the commands.`}
  const commandIds = config.commands.filter((command) => !command.hidden).map((command) => command.id)
  const display = (commandId: string) => `${bin} ${commandId.replace(/:/g, ' ')}`
  // The longest leading words that name a command: the rest are stray arguments.
  const known = words.map((_, index) => words.slice(0, words.length - 1 - index).join(':')).find((prefix) => prefix && commandIds.includes(prefix))
  if (known) {
    const stray = words.slice(known.split(':').length)
    return {
      message: `Unexpected argument${stray.length === 1 ? '' : 's'} ${stray.map((word) => `"${word}"`).join(', ')} for ${display(known)}.`,
      hint: `Usage: ${display(known)} [flags]\nSee '${display(known)} --help' for the flags.`,
    }
  }
  const suggestion = closest(words.join(':'), commandIds)
  const topic = words.length > 1 && config.topics.some((candidate) => candidate.name === words[0]) ? words[0] : undefined
  return {
    message: `Unknown command "${words.join(' ')}" for ${bin}.${suggestion ? ` Did you mean "${display(suggestion)}"?` : ''}`,
    hint: topic ? `See '${bin} ${topic} --help' for its commands.` : `See '${bin} help' for the commands.`,
  }
}
