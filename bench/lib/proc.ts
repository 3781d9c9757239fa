/** Child processes for baselines (cp) and CLI timings; never used on a FUSE mount. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process'

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
