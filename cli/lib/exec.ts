/**
 * `wxs exec`: the execution boundary for agents. Mounts the workspace when it
 * is not mounted (a temporary mount point, unmounted afterwards unless asked
 * to keep it), commits what was pending and snapshots it, runs the command
 * with its cwd in the mount, commits after it, and answers with what it did
 * and what changed (a diff of the two commits' trees).
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { CliError } from './errors.js'
import { runCommand, exitStatusOf } from './run-command.js'
import type { Wxs } from './api.js'

export interface ExecOptions {
  /** Snapshot before the command (default 'auto'). */
  snapshot?: 'auto' | 'none'
  /** Relative to the workspace root (default: the root). */
  cwd?: string
  /** Added to the environment, as KEY=VALUE. */
  env?: string[]
  stdin?: 'pass' | 'close'
  /** Seconds; SIGTERM to the whole process group, then SIGKILL after `graceS` (default 5). */
  timeoutS?: number
  graceS?: number
  /** Bytes kept of each of stdout and stderr (default 1 MiB). */
  maxOutput?: number
  /** Mount read-only for the command (writes fail with EROFS). */
  readOnly?: boolean
  /** Leave it mounted after (when exec mounted it). */
  keepMounted?: boolean
  /** Stream the command's output live to this process's stdout and stderr. */
  stream?: boolean
}

export interface ChangedPath { path: string, type: string, size: number | null }

export interface ExecResult {
  exit_code: number
  signal: string | null
  timed_out: boolean
  duration_ms: number
  stdout: string
  stderr: string
  truncated: boolean
  stdout_bytes: number
  stderr_bytes: number
  /** The snapshot label taken before the command (restore to it to undo), or null with --snapshot none. */
  snapshot: string | null
  /** The commit before the command and the one after it (equal when nothing changed). */
  before: number
  commit: number
  /** Where the workspace was mounted while the command ran. */
  root: string
  mounted_by_exec: boolean
  /** The command ran against a read-only mount (--read-only, or a joined or paused workspace). */
  read_only: boolean
  changed: { added: ChangedPath[], modified: ChangedPath[], removed: ChangedPath[] }
  /** Paths the command's processes (its process group) opened to read, and wrote or made, from the audit trail; null when it is off. */
  read: string[] | null
  written: string[] | null
}

export const DEFAULT_MAX_OUTPUT = 1024 * 1024
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Checks the options a caller can get wrong; a USAGE error names the one. */
export function checkExecOptions (command: string[], opts: ExecOptions) {
  if (command.length === 0 || command[0] === '') throw CliError.USAGE('no command given: wxs exec <name> -- <command...>', 'exec')
  const positive = (v: number | undefined, what: string) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw CliError.USAGE(`${what} expects a positive number, got ${JSON.stringify(v)}`, 'exec')
  }
  positive(opts.timeoutS, '--timeout')
  positive(opts.graceS, '--grace')
  positive(opts.maxOutput, '--max-output')
  if (opts.snapshot !== undefined && opts.snapshot !== 'auto' && opts.snapshot !== 'none') throw CliError.USAGE(`--snapshot is auto or none, not ${JSON.stringify(opts.snapshot)}`, 'exec')
  if (opts.stdin !== undefined && opts.stdin !== 'pass' && opts.stdin !== 'close') throw CliError.USAGE(`--stdin is pass or close, not ${JSON.stringify(opts.stdin)}`, 'exec')
  for (const kv of opts.env ?? []) {
    const eq = kv.indexOf('=')
    if (eq <= 0 || !ENV_KEY.test(kv.slice(0, eq))) throw CliError.USAGE(`--env expects KEY=VALUE, got ${JSON.stringify(kv)}`, 'exec')
  }
  if (opts.cwd !== undefined && (path.isAbsolute(opts.cwd) || path.normalize(opts.cwd).split(path.sep)[0] === '..')) {
    throw CliError.USAGE(`--cwd must be a path inside the workspace, relative to its root: ${JSON.stringify(opts.cwd)}`, 'exec')
  }
}

export async function execWorkspace (api: Wxs, name: string, command: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  checkExecOptions(command, opts)
  const info = await api.info(name) // an unknown workspace fails here, before anything is mounted
  // a joined or paused workspace cannot change here: the command runs as with --read-only
  const fixed = info.remote === true || info.paused !== null
  opts = { ...opts, readOnly: opts.readOnly === true || fixed }
  let root: string = info.mount?.dir ?? ''
  let mountedHere = false
  if (info.mount && opts.readOnly === true && !fixed && info.mount.readOnly !== true) {
    throw CliError.BUSY(`${name} is mounted writable at ${info.mount.dir}: unmount it first for a --read-only exec (wxs unmount ${name})`)
  }
  if (!info.mount) {
    root = await fs.mkdtemp(path.join(os.tmpdir(), `wxs-exec-${name}-`))
    await api.mount(name, { dir: root, readOnly: opts.readOnly === true })
    mountedHere = true
  }
  try {
    return await runIn(api, name, root, mountedHere, command, opts)
  } finally {
    if (mountedHere && opts.keepMounted !== true) {
      await api.unmount(name)
      await fs.rmdir(root).catch(() => {})
    }
  }
}

async function runIn (api: Wxs, name: string, root: string, mountedHere: boolean, command: string[], opts: ExecOptions): Promise<ExecResult> {
  const cwd = path.join(root, opts.cwd ?? '.')
  const cwdStat = await fs.stat(cwd).catch(() => null)
  if (cwdStat === null || !cwdStat.isDirectory()) throw CliError.USAGE(`--cwd ${opts.cwd}: no such directory in ${name}`, 'exec')
  let snapshot: string | null = null
  let before: number
  if (opts.readOnly === true || opts.snapshot === 'none') {
    before = await headOf(api, name, opts.readOnly === true)
  } else {
    // an automatic snapshot (auto:exec-<time>) when the workspace's snapshot.before-exec says so
    const snap = await api.request('snapshot', { name, auto: 'exec' })
    snapshot = snap.snapshot?.label ?? null
    before = snap.snapshot?.commit ?? snap.commit.seq
  }
  const startedAt = Date.now()
  const env: NodeJS.ProcessEnv = { ...process.env, WXS_WORKSPACE: name, WXS_ROOT: root }
  for (const kv of opts.env ?? []) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1)
  const outcome = await runCommand({
    command,
    cwd,
    env,
    stdin: opts.stdin ?? 'pass',
    timeoutS: opts.timeoutS ?? null,
    graceS: opts.graceS ?? 5,
    maxOutput: opts.maxOutput ?? DEFAULT_MAX_OUTPUT,
    stream: opts.stream === true
  })
  const after = opts.readOnly === true ? before : (await api.commit(name, { message: `exec: ${command.join(' ').slice(0, 200)}` })).head.seq as number
  const changed = after === before ? { added: [], modified: [], removed: [] } : changesOf(await api.diff(name, String(before), String(after)))
  const used = outcome.pid === null ? { read: [], written: [] } : await usedPaths(api, name, startedAt, outcome.pid)
  return {
    exit_code: exitStatusOf(outcome),
    signal: outcome.signal,
    timed_out: outcome.timedOut,
    duration_ms: outcome.durationMs,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    truncated: outcome.truncated,
    stdout_bytes: outcome.stdoutBytes,
    stderr_bytes: outcome.stderrBytes,
    snapshot,
    before,
    commit: after,
    root,
    mounted_by_exec: mountedHere,
    read_only: opts.readOnly === true,
    changed,
    read: used?.read ?? null,
    written: used?.written ?? null
  }
}

/** The head commit, with what was pending in the mount committed first (a read-only mount has nothing pending). */
async function headOf (api: Wxs, name: string, readOnly: boolean): Promise<number> {
  if (!readOnly) return (await api.commit(name, { message: 'before exec' })).head.seq
  return (await api.info(name)).head.seq
}

function changesOf (diff: { changes: Array<{ path: string, change: string, type: string, oldSize: number | null, newSize: number | null }> }) {
  const out: ExecResult['changed'] = { added: [], modified: [], removed: [] }
  for (const c of diff.changes) {
    if (c.change === 'added') out.added.push({ path: c.path, type: c.type, size: c.newSize })
    else if (c.change === 'removed') out.removed.push({ path: c.path, type: c.type, size: c.oldSize })
    else out.modified.push({ path: c.path, type: c.type, size: c.newSize })
  }
  return out
}

const WRITES = new Set(['write', 'create', 'truncate', 'mkdir', 'symlink', 'mknod', 'setxattr', 'removexattr', 'chmod', 'chown'])

/** What the command's process group read and wrote, from the mount's audit trail (null when it is off). */
async function usedPaths (api: Wxs, name: string, since: number, pgid: number): Promise<{ read: string[], written: string[] } | null> {
  const r = await api.request('audit', { name, since, pgid })
  if (!r.audit) return null
  const read = new Set<string>()
  const written = new Set<string>()
  for (const x of r.records as Array<{ op: string, path: string, to?: string }>) {
    if (x.op === 'read') read.add(x.path)
    else if (WRITES.has(x.op)) written.add(x.path)
    else if ((x.op === 'rename' || x.op === 'link') && x.to !== undefined) written.add(x.to)
  }
  return { read: [...read].sort(), written: [...written].sort() }
}
