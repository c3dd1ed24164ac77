import {Args, Command, loadHelpClass} from '@oclif/core'

import {Terminal} from '../ui/terminal.js'
import {describeUnknownCommand} from '../shared/unknown-command.js'

export default class Help extends Command {
  static summary = 'Show help for consulk8s or one of its commands.'
  static description =
    'Like `kubectl help` and `helm help`: `consulk8s help` lists the commands, `consulk8s help federate primary` shows the help of that command (the same as `consulk8s federate primary --help` or `-h`).'
  static args = {
    command: Args.string({description: 'Command to show help for (several words for a topic command, e.g. federate primary).', required: false}),
  }
  static strict = false
  static examples = ['<%= config.bin %> help', '<%= config.bin %> help federate primary']

  async run(): Promise<void> {
    const {argv} = await this.parse(Help)
    const words = argv as string[]
    const id = words.join(':')
    if (words.length > 0 && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      const {message, hint} = describeUnknownCommand(this.config, id)
      new Terminal({stream: process.stderr}).fail(message, hint)
      this.exit(2)
    }
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config).showHelp(words)
  }
}
