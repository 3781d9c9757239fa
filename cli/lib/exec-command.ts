/** The `wxs exec` command: options to ExecOptions, the result as JSON or a summary line. */
import { CliError } from './errors.js'
import { Wxs } from './api.js'
import { execWorkspace, type ExecOptions } from './exec.js'
import * as show from './render.js'
import type { Invocation } from './commands.js'

export async function execCommand ({ args, opts, json }: Invocation): Promise<number> {
  const [name, ...command] = args
  const number = (key: string) => {
    const v = opts[key]
    if (v === undefined) return undefined
    if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw CliError.USAGE(`--${key} expects a positive number, got ${JSON.stringify(v)}`, 'exec')
    return Number(v)
  }
  const options: ExecOptions = {
    snapshot: opts.snapshot as ExecOptions['snapshot'],
    cwd: opts.cwd as string | undefined,
    env: opts.env as unknown as string[] | undefined,
    stdin: opts.stdin as ExecOptions['stdin'],
    timeoutS: number('timeout'),
    graceS: number('grace'),
    maxOutput: number('max-output'),
    readOnly: opts['read-only'] === true,
    keepMounted: opts['keep-mounted'] === true,
    stream: !json
  }
  const r = await execWorkspace(new Wxs(), name, command, options)
  if (json) {
    show.line(JSON.stringify(r, null, 2))
  } else {
    const c = r.changed
    const how = r.timed_out ? `timed out after ${(r.duration_ms / 1000).toFixed(1)} s` : r.signal ? `killed by ${r.signal}` : `exit ${r.exit_code}`
    const what = r.commit === r.before ? 'nothing changed' : `commit ${r.commit}: ${c.added.length} added, ${c.modified.length} modified, ${c.removed.length} removed`
    process.stderr.write(`wxs exec: ${how} in ${(r.duration_ms / 1000).toFixed(1)} s; ${what}${r.snapshot ? ` (undo: wxs restore ${name} ${r.snapshot})` : ''}\n`)
  }
  return r.exit_code
}
