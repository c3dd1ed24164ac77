/**
 * What a domain flow may call back into its command for, without knowing any screen: tell the
 * operator how it goes (Progress: the Terminal of src/ui/ satisfies it as it is, a test passes
 * a recorder) and ask before a change (Confirm: the command's confirmOrAbort with its --yes).
 */
export type ProgressStatus = 'ok' | 'warn' | 'fail' | 'info'

/** The lines a long flow (install, upgrade, uninstall, --wait) reports while it runs. */
export interface Progress {
  header(text: string): void
  line(text?: string): void
  success(text: string, hint?: string): void
  warn(text: string, hint?: string): void
  info(text: string, hint?: string): void
  /** Shown with --verbose only. */
  detail(text: string): void
  table(headers: string[], rows: string[][]): void
  /** Start or update the progress indicator. */
  progress(text: string): void
  /** Stop it, optionally with a final status line. */
  done(status?: ProgressStatus, text?: string): void
}

/**
 * Ask before a change; resolves to go on, throws (a UserError) to abort. `defaultYes` is the
 * answer a person gets by pressing Enter (default true; false for what destroys data).
 */
export type Confirm = (message: string, defaultYes?: boolean) => Promise<void>
