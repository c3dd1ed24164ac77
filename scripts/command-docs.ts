/**
 * Renders docs/commands.md from oclif.manifest.json, so the command reference is generated
 * from the commands themselves (a test checks the committed file is in step).
 */
interface ManifestFlag {
  name: string
  char?: string
  description?: string
  type: 'boolean' | 'option'
  default?: unknown
  multiple?: boolean
  options?: string[]
  allowNo?: boolean
  helpGroup?: string
  hidden?: boolean
  env?: string
}

interface ManifestCommand {
  id: string
  description?: string
  summary?: string
  examples?: Array<string | {command: string; description?: string}>
  flags: Record<string, ManifestFlag>
  args?: Record<string, {name: string; description?: string; required?: boolean}>
  hidden?: boolean
}

export interface Manifest {
  commands: Record<string, ManifestCommand>
}

const BIN = 'consulk8s'

function flagLabel(flag: ManifestFlag): string {
  const long = flag.type === 'boolean' && flag.allowNo ? `--[no-]${flag.name}` : `--${flag.name}`
  const value = flag.type === 'option' ? (flag.options ? `=${flag.options.join('|')}` : '=<value>') : ''
  return `${flag.char ? `-${flag.char}, ` : ''}${long}${value}`
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ')
}

function renderExample(example: string | {command: string; description?: string}, id: string): string {
  const command = typeof example === 'string' ? example : example.command
  // The templates oclif renders in --help: the binary and the command as typed.
  const text = command.replace(/<%= config\.bin %>/g, BIN).replace(/<%= command\.id %>/g, id.replace(/:/g, ' '))
  const description = typeof example === 'string' ? '' : example.description ? `# ${example.description}\n` : ''
  return description + text
}

export function renderCommandDocs(manifest: Manifest): string {
  const commands = Object.values(manifest.commands)
    .filter((command) => !command.hidden)
    .sort((a, b) => a.id.localeCompare(b.id))
  const out: string[] = [
    '# Command reference',
    '',
    '<!-- Generated from the commands by `npm run docs` (scripts/gen-command-docs.ts). Do not edit by hand. -->',
    '',
    ...commands.map((command) => `- [\`${BIN} ${command.id.replace(/:/g, ' ')}\`](#${anchor(command.id)})`),
    '',
  ]
  for (const command of commands) {
    const name = `${BIN} ${command.id.replace(/:/g, ' ')}`
    out.push(`## ${name}`, '')
    if (command.summary) out.push(command.summary, '')
    if (command.description) out.push(command.description.trim(), '')
    const args = Object.values(command.args ?? {})
    const usageArgs = args.map((arg) => (arg.required ? arg.name.toUpperCase() : `[${arg.name.toUpperCase()}]`)).join(' ')
    out.push('```', `${name}${usageArgs ? ' ' + usageArgs : ''} [FLAGS]`, '```', '')
    if (args.length > 0) {
      out.push('| argument | description |', '| --- | --- |')
      for (const arg of args) out.push(`| \`${arg.name.toUpperCase()}\` | ${escapeCell(arg.description ?? '')} |`)
      out.push('')
    }
    const flags = Object.values(command.flags).filter((flag) => !flag.hidden)
    const own = flags.filter((flag) => flag.helpGroup !== 'GLOBAL')
    const global = flags.filter((flag) => flag.helpGroup === 'GLOBAL')
    for (const [title, group] of [
      ['Flags', own],
      ['Global flags', global],
    ] as const) {
      if (group.length === 0) continue
      out.push(`${title}:`, '', '| flag | description | default |', '| --- | --- | --- |')
      for (const flag of [...group].sort((a, b) => a.name.localeCompare(b.name))) {
        const defaultValue =
          flag.default === undefined || flag.default === false || (Array.isArray(flag.default) && flag.default.length === 0)
            ? ''
            : `\`${Array.isArray(flag.default) ? flag.default.join(',') : String(flag.default)}\``
        const env = flag.env ? ` (env \`${flag.env}\`)` : ''
        out.push(`| \`${flagLabel(flag)}\` | ${escapeCell((flag.description ?? '') + env)} | ${defaultValue} |`)
      }
      out.push('')
    }
    if (command.examples && command.examples.length > 0) {
      out.push('Examples:', '', '```sh', command.examples.map((example) => renderExample(example, command.id)).join('\n\n'), '```', '')
    }
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  )
}

function anchor(id: string): string {
  return `${BIN} ${id.replace(/:/g, ' ')}`
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-')
}
