import { readFileSync } from 'node:fs'

/**
 * Whether process `pid` still runs. A zombie (exited, not yet reaped) does not:
 * the daemon is detached, so its parent is init, and some inits (this VM's)
 * reap only every second or two.
 */
export function isAlive (pid: number): boolean {
  try { process.kill(pid, 0) } catch { return false }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}
