/**
 * Runs the built CLI in a real pseudo-terminal (python3's pty module), as a person at a
 * terminal would: each step waits until its text appears on the screen, then types its keys
 * ('\r' is Enter, '\u0003' is Ctrl-C). Returns the whole transcript and the exit code.
 */
import {execa} from 'execa'

import {BIN} from './cli.js'

const DRIVER = `
import json, os, pty, select, sys, time
script = json.loads(sys.argv[1]); cmd = sys.argv[2:]
env = {k: v for k, v in os.environ.items() if k != 'CI'}
env['TERM'] = 'xterm'
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(cmd[0], cmd, env)
buf = b''
out = b''
def more(deadline):
    global buf
    r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
    if not r: return False
    try: chunk = os.read(fd, 4096)
    except OSError: chunk = b''
    buf += chunk
    return bool(chunk)
for expect, send in script:
    deadline = time.time() + 60
    while expect.encode() not in buf:
        if not more(deadline): sys.stdout.write(buf.decode(errors='replace')); sys.exit(97)
    i = buf.index(expect.encode()) + len(expect)
    out += buf[:i]; buf = buf[i:]
    time.sleep(0.2)
    os.write(fd, send.encode())
while more(time.time() + 60): pass
out += buf
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`

/** [text to wait for, keys to type] steps; the transcript is stdout. Exit 97: a text never appeared. */
export async function runCliInPty(
  args: string[],
  script: Array<[string, string]>,
  options: {cwd?: string} = {},
): Promise<{screen: string; exitCode: number}> {
  const result = await execa('python3', ['-c', DRIVER, JSON.stringify(script), process.execPath, BIN, ...args], {
    cwd: options.cwd,
    reject: false,
    env: {CI: undefined, NO_COLOR: '1'},
  })
  return {screen: result.stdout + result.stderr, exitCode: result.exitCode ?? 1}
}
