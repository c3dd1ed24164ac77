/**
 * Interactive questions, asked only when a person is there to answer: stdin and stdout
 * are TTYs, CI is unset and --yes was not given. Otherwise the flag or documented default
 * decides, so scripts and CI never hang on a prompt.
 */
import {UserError, abortedError} from '../shared/errors.js'
import type {Confirm} from '../shared/hooks.js'

export interface PromptContext {
  yes?: boolean
  /** For tests: force interactivity on or off. */
  interactive?: boolean
}

export function canPrompt(context: PromptContext = {}): boolean {
  if (context.yes) return false
  if (context.interactive !== undefined) return context.interactive
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI
}

// inquirer is only loaded when a question is really asked (start-up time).
async function ask(question: Record<string, unknown>): Promise<unknown> {
  const {default: inquirer} = await import('inquirer')
  try {
    const {answer} = await inquirer.prompt([{...question, name: 'answer'}] as never)
    return answer
  } catch (error) {
    // Ctrl-C (or a closed terminal) at a prompt is the user leaving, not a bug.
    if ((error as Error)?.name === 'ExitPromptError') throw abortedError()
    throw error
  }
}

export async function askText(message: string, defaultValue: string, validate?: (value: string) => true | string): Promise<string> {
  return String(await ask({type: 'input', message, default: defaultValue, validate: validate ?? (() => true)}))
}

export async function askConfirm(message: string, defaultValue: boolean): Promise<boolean> {
  return Boolean(await ask({type: 'confirm', message, default: defaultValue}))
}

export async function askSelect<T extends string>(message: string, choices: readonly T[], defaultValue: T): Promise<T> {
  return (await ask({type: 'select', message, choices: [...choices], default: defaultValue})) as T
}

/**
 * Ask for confirmation of a destructive or sensitive step. With --yes it proceeds; without
 * a TTY (CI, pipes) it refuses rather than guessing, telling the user to pass --yes.
 */
export async function confirmOrAbort(message: string, context: PromptContext & {defaultYes?: boolean} = {}): Promise<void> {
  if (context.yes) return
  if (!canPrompt(context)) {
    throw new UserError(`${message} Refusing to continue without confirmation.`, {
      hint: 'Re-run with --yes to confirm (no terminal is attached to ask).',
    })
  }
  const confirmed = await askConfirm(message, context.defaultYes ?? true)
  if (!confirmed) throw new UserError('Aborted: nothing was changed.')
}

/** The `confirm` hook domain flows take: confirmOrAbort with the command's --yes. */
export function confirmHook(context: PromptContext = {}): Confirm {
  return (message, defaultYes = true) => confirmOrAbort(message, {...context, defaultYes})
}
