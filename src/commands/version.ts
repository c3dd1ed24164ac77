import {BaseCommand} from '../shared/base-command.js'

export default class Version extends BaseCommand {
  static description = 'Print the consulk8s version and the Node.js it runs on.'
  static enableJsonFlag = true
  static examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  async run(): Promise<{version: string; node: string; platform: string}> {
    await this.parse(Version)
    const result = {version: this.config.version, node: process.version, platform: `${process.platform}-${process.arch}`}
    this.ui.line(`consulk8s ${result.version} (node ${result.node}, ${result.platform})`)
    return result
  }
}
