/** Stopping a wxs daemon the bench started, by the pid it recorded in $WXS_HOME. */
import fs from 'node:fs/promises'
import path from 'node:path'
import { isAlive } from '../../cli/lib/proc.js'
import type { RunResult } from './proc.js'

/**
 * Runs `stop` (`wxs daemon stop`); if that fails or the daemon outlives it,
 * SIGTERM (then SIGKILL) the pid in $WXS_HOME/daemon.pid. Never throws.
 */
export async function stopDaemon (home: string, stop: () => RunResult | Promise<RunResult>, log: (line: string) => void) {
  const pid = await readPid(home)
  const res = await Promise.resolve().then(stop).catch(err => ({ status: null, stderr: String(err?.message ?? err) }))
  if (pid === null) return
  if (res.status === 0 && await exited(pid, 3000)) return
  log(`  wxs daemon stop exited ${res.status}; sending SIGTERM to daemon pid ${pid}`)
  try { process.kill(pid, 'SIGTERM') } catch {}
  if (!await exited(pid, 3000)) try { process.kill(pid, 'SIGKILL') } catch {}
}

export async function readPid (home: string): Promise<number | null> {
  const text = await fs.readFile(path.join(home, 'daemon.pid'), 'utf8').catch(() => '')
  const pid = Number.parseInt(text.trim(), 10)
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

/** Polls until `pid` is gone or `timeoutMs` passes; true when it is gone. */
export async function exited (pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!alive(pid)) return true
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return !alive(pid)
}

/** Whether `pid` still runs (a zombie does not: see cli/lib/proc.ts). */
export const alive = isAlive
