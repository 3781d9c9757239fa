/**
 * Runs one command for `wxs exec`: in its own process group (so a timeout
 * reaches everything it started), with its output captured up to a bound and,
 * when asked, streamed live as well. On a timeout the group gets SIGTERM, then
 * SIGKILL after a grace period; when the command ends, whatever it left running
 * in its group is ended the same way (a background child would otherwise keep
 * the mount busy and outlive the exec).
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { constants as os } from 'node:os'

export interface RunSpec {
  command: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /** Pass this process's stdin through, or give the command none. */
  stdin: 'pass' | 'close'
  /** Seconds before the group gets SIGTERM; null: no limit. */
  timeoutS: number | null
  /** Seconds between SIGTERM and SIGKILL. */
  graceS: number
  /** Bytes kept of each of stdout and stderr. */
  maxOutput: number
  /** Also write the output to this process's stdout and stderr as it comes. */
  stream: boolean
}

export interface RunOutcome {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  durationMs: number
  stdout: string
  stderr: string
  /** Whether either stream was longer than maxOutput (what was kept is its start). */
  truncated: boolean
  stdoutBytes: number
  stderrBytes: number
  /** The command could not be started (not found, not executable): what spawn said. */
  spawnError: string | null
  /** Its pid, which is also its process group's id (null: it did not start). */
  pid: number | null
}

class Capture {
  private readonly parts: Buffer[] = []
  kept = 0
  total = 0
  constructor (private readonly max: number) {}
  add (chunk: Buffer) {
    this.total += chunk.byteLength
    if (this.kept >= this.max) return
    const part = chunk.subarray(0, this.max - this.kept)
    this.parts.push(part)
    this.kept += part.byteLength
  }

  text () { return Buffer.concat(this.parts).toString('utf8') }
}

export function runCommand (spec: RunSpec): Promise<RunOutcome> {
  const started = performance.now()
  const out = new Capture(spec.maxOutput)
  const err = new Capture(spec.maxOutput)
  return new Promise(resolve => {
    const child = spawn(spec.command[0], spec.command.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      detached: true, // its own process group: the timeout and the clean-up reach its children
      stdio: [spec.stdin === 'pass' ? 'inherit' : 'ignore', 'pipe', 'pipe']
    })
    let timedOut = false
    let spawnError: string | null = null
    let timer: NodeJS.Timeout | null = null
    const group = (signal: NodeJS.Signals) => { try { if (child.pid !== undefined) process.kill(-child.pid, signal) } catch {} }
    if (spec.timeoutS !== null) {
      timer = setTimeout(() => {
        timedOut = true
        group('SIGTERM')
        timer = setTimeout(() => group('SIGKILL'), spec.graceS * 1000)
      }, spec.timeoutS * 1000)
    }
    child.stdout!.on('data', (d: Buffer) => { out.add(d); if (spec.stream) process.stdout.write(d) })
    child.stderr!.on('data', (d: Buffer) => { err.add(d); if (spec.stream) process.stderr.write(d) })
    child.on('error', e => { spawnError = e.message })
    child.on('close', async (code, signal) => {
      if (timer) clearTimeout(timer)
      if (child.pid !== undefined) await endGroup(child.pid, spec.graceS)
      resolve({
        exitCode: spawnError !== null ? 127 : code,
        signal: signal ?? null,
        timedOut,
        durationMs: Math.round(performance.now() - started),
        stdout: out.text(),
        stderr: spawnError !== null ? `wxs exec: ${spawnError}\n` : err.text(),
        truncated: out.total > out.kept || err.total > err.kept,
        stdoutBytes: out.total,
        stderrBytes: err.total,
        spawnError,
        pid: child.pid ?? null
      })
    })
  })
}

/** Ends what is left in a process group: SIGTERM, then SIGKILL after the grace period. */
async function endGroup (pgid: number, graceS: number) {
  const alive = () => groupRuns(pgid)
  if (!alive()) return
  try { process.kill(-pgid, 'SIGTERM') } catch {}
  const deadline = Date.now() + graceS * 1000
  while (alive() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  if (alive()) try { process.kill(-pgid, 'SIGKILL') } catch {}
}

/**
 * Whether a process of group `pgid` still runs. Zombies do not count: an orphan
 * is reaped by init, which on some machines (this VM's) happens a second or two
 * later, and kill(-pgid, 0) would still find it.
 */
export function groupRuns (pgid: number): boolean {
  try { process.kill(-pgid, 0) } catch { return false }
  for (const pid of readdirSync('/proc')) {
    if (pid.charCodeAt(0) > 57) continue
    let stat: string
    try { stat = readFileSync(`/proc/${pid}/stat`, 'latin1') } catch { continue }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // state ppid pgrp ...
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true
  }
  return false
}

/** The exit status `wxs exec` gives: the command's, 124 on a timeout (as timeout(1)), 128+N for a signal. */
export function exitStatusOf (o: RunOutcome): number {
  if (o.timedOut) return 124
  if (o.exitCode !== null) return o.exitCode
  const n = o.signal !== null ? (os.signals as Record<string, number>)[o.signal] : undefined
  return n !== undefined ? 128 + n : 1
}
