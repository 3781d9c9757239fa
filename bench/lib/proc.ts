/** Child processes: baselines (cp), CLI timings and shell work on mounts (never the serving process). */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process'
import type { Readable } from 'node:stream'

export interface RunResult { ms: number, status: number | null, stdout: string, stderr: string }

/** Runs a command to completion and times it; throws nothing (check status). */
export function run (cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const started = performance.now()
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts })
  const ms = performance.now() - started
  return { ms, status: res.status, stdout: String(res.stdout ?? ''), stderr: String(res.stderr ?? res.error?.message ?? '') }
}

/** Like run(), but throws with stderr when the command fails. */
export function mustRun (cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const res = run(cmd, args, opts)
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr.trim()}`)
  return res
}

export interface SpawnOptions { cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number, input?: string }

/** What an async child printed; `extra` is what it wrote to fd 3 (a side channel for timings). */
export interface SpawnResult extends RunResult { extra: string }

const running = new Set<ChildProcess>()

/**
 * Runs a command without blocking the event loop (so SIGINT cleanup can run
 * meanwhile) and times it; throws nothing (check status). The child gets a
 * pipe on fd 3 whose text comes back as `extra`.
 */
export function spawnAsync (cmd: string, args: string[], opts: SpawnOptions = {}): Promise<SpawnResult> {
  const started = performance.now()
  // Its own process group, so a kill takes what it started (dd, git, npm) with it.
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'], detached: true })
  running.add(child)
  const out = { stdout: '', stderr: '', extra: '' }
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { out.stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { out.stderr += s })
  ;(child.stdio[3] as Readable).setEncoding('utf8').on('data', (s: string) => { out.extra += s })
  if (opts.input !== undefined) child.stdin!.on('error', () => {}).end(opts.input)
  const timer = setTimeout(() => { out.stderr += `\n[killed after ${opts.timeoutMs ?? 120_000} ms]`; killGroup(child) }, opts.timeoutMs ?? 120_000)
  return new Promise(resolve => {
    const done = (status: number | null, error?: Error) => {
      clearTimeout(timer)
      running.delete(child)
      if (error) out.stderr += error.message
      resolve({ ms: performance.now() - started, status, ...out })
    }
    child.once('error', err => done(null, err))
    child.once('close', status => done(status))
  })
}

/** Like spawnAsync(), but throws with stderr when the command fails. */
export async function mustSpawn (cmd: string, args: string[], opts: SpawnOptions = {}): Promise<SpawnResult> {
  const res = await spawnAsync(cmd, args, opts)
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ').slice(0, 200)} exited ${res.status}: ${res.stderr.trim().slice(-2000)}`)
  return res
}

/** SIGKILLs every child spawnAsync() started that is still running (signal cleanup). */
export function killRunning () {
  for (const child of running) killGroup(child)
}

function killGroup (child: ChildProcess) {
  try { process.kill(-child.pid!, 'SIGKILL') } catch { child.kill('SIGKILL') }
}

/**
 * process.env without what `npm run` and the bench's own loader put there
 * (npm_* settings, NODE_OPTIONS), in the C locale, plus `extra`.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') && k !== 'NODE_OPTIONS') env[k] = v
  return { ...env, LC_ALL: 'C', ...extra }
}
