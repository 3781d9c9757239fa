/**
 * The thin client: connect to the daemon's socket (starting the daemon when
 * nobody answers), send one request, stream progress, return the result.
 * Imports nothing heavy so `wxs list` stays fast.
 */
import fs from 'node:fs'
import net from 'node:net'
import { availableParallelism } from 'node:os'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProgressSnapshot, ProgressStep } from '../../core/index.js'
import { encodeLine, PROTOCOL_VERSION, type Reply, type WatchReply } from '../messages.js'
import { CliError } from './errors.js'
import { statePaths, type Paths } from './paths.js'

const START_TIMEOUT_MS = 15_000

export interface CallOptions { onProgress?: (p: ProgressSnapshot) => void, onStep?: (s: ProgressStep) => void, autostart?: boolean, /** State dir (default: $WXS_HOME, else ~/.wxs). */ home?: string }

export class RemoteError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

export async function call (method: string, params: Record<string, unknown>, opts: CallOptions = {}): Promise<unknown> {
  const paths = statePaths(opts.home === undefined ? process.env : { WXS_HOME: opts.home })
  const socket = await connect(paths, opts.autostart !== false)
  return exchange(socket, paths, method, params, opts)
}

/**
 * Watches the daemon (cli/messages.ts, watch): `onReply` gets each state, patch,
 * event, gap and heartbeat; return false from it to stop. Resolves when the
 * watch ends: stopped, or the daemon went away ('closed').
 */
export async function watch (params: { since?: number, run?: string }, onReply: (r: WatchReply) => boolean | void, opts: { autostart?: boolean, home?: string } = {}): Promise<'stopped' | 'closed'> {
  const paths = statePaths(opts.home === undefined ? process.env : { WXS_HOME: opts.home })
  const socket = await connect(paths, opts.autostart !== false)
  return new Promise((resolve, reject) => {
    let buffered = ''
    let done = false
    const end = (how: 'stopped' | 'closed') => { if (!done) { done = true; socket.destroy(); resolve(how) } }
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffered += chunk
      let nl: number
      while (!done && (nl = buffered.indexOf('\n')) !== -1) {
        const msg = parseReply(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
        if (msg === null) continue
        if (msg.type === 'error') { done = true; socket.destroy(); reject(new RemoteError(msg.error.code, msg.error.message)); return }
        if (onReply(msg as WatchReply) === false) end('stopped')
      }
    })
    socket.on('error', () => end('closed'))
    socket.on('close', () => end('closed'))
    socket.write(encodeLine({ v: PROTOCOL_VERSION, method: 'watch', params }))
  })
}

/** Connects, starting the daemon on demand. Returns null only when autostart is off and none runs. */
export async function connect (paths: Paths, autostart: boolean): Promise<net.Socket> {
  const first = await tryConnect(paths.socket)
  if (first) return first
  if (!autostart) throw new CliError('NOT_RUNNING', `no daemon is running for ${paths.home}`)
  startDaemon(paths)
  const deadline = Date.now() + START_TIMEOUT_MS
  for (let wait = 10; Date.now() < deadline; wait = Math.min(wait * 2, 200)) {
    await new Promise(resolve => setTimeout(resolve, wait))
    const socket = await tryConnect(paths.socket)
    if (socket) return socket
  }
  throw CliError.DAEMON_UNAVAILABLE(`the daemon did not start within ${START_TIMEOUT_MS / 1000}s; see ${paths.log}`)
}

function tryConnect (file: string): Promise<net.Socket | null> {
  return new Promise(resolve => {
    const socket = net.connect(file)
    socket.once('connect', () => { socket.removeAllListeners('error'); resolve(socket) })
    socket.once('error', () => resolve(null))
  })
}

/** Spawns `wxs daemon run` detached, logging to $WXS_HOME/daemon.log. */
export function startDaemon (paths: Paths) {
  fs.mkdirSync(paths.home, { recursive: true, mode: 0o700 })
  const out = fs.openSync(paths.log, 'a', 0o600)
  const bin = fileURLToPath(new URL('../wxs.js', import.meta.url).href.replace('/dist/cli/', '/cli/'))
  const child = spawn(process.execPath, [...process.execArgv, ...daemonFlags(process.execArgv), bin, 'daemon', 'run'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, WXS_HOME: paths.home }
  })
  child.unref()
  fs.closeSync(out)
}

function exchange (socket: net.Socket, paths: Paths, method: string, params: Record<string, unknown>, opts: CallOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    let settled = false
    const settle = (fn: () => void) => { if (!settled) { settled = true; fn() } }
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffered += chunk
      let nl: number
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        const msg = parseReply(line)
        if (msg === null) { settle(() => reject(CliError.PROTOCOL(`unreadable reply from daemon: ${line.slice(0, 80)}`))); continue }
        if (msg.type === 'progress') opts.onProgress?.(msg.progress)
        else if (msg.type === 'step') opts.onStep?.(msg.step)
        else if (msg.type === 'result') settle(() => resolve(msg.result))
        else if (msg.type === 'error') settle(() => reject(new RemoteError(msg.error.code, msg.error.message)))
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => settle(() => reject(CliError.DAEMON_DIED(paths.log))))
    socket.write(encodeLine({ v: PROTOCOL_VERSION, method, params }))
  })
}

function parseReply (line: string): Reply | null {
  try {
    const msg = JSON.parse(line)
    return msg && typeof msg.type === 'string' ? msg : null
  } catch {
    return null
  }
}

const DAEMON_OLD_SPACE_MB = 64

/**
 * V8 flags for the daemon.
 * - On a machine with two CPUs or fewer, --single-threaded-gc: V8's parallel and
 *   concurrent GC threads compete with the daemons (and the peers and the kernel's
 *   network work) for the same cores: measured here on 2 vCPUs, alternating runs of
 *   `bench/ab-net.ts` (two pairs) with it used 5-40% less CPU and moved small files
 *   24% and large files 5-18% faster. WXS_DAEMON_SINGLE_GC=0 keeps V8's default.
 * - An initial old generation of DAEMON_OLD_SPACE_MB: the daemon's live heap is
 *   ~12 MB, so V8's old-generation limit sits just above it, and streaming objects
 *   (each a Buffer promoted while in flight) reached it every ~170 ms: a full
 *   mark-compact each time, 31 in the joiner and 38 in the sharer per 512 MiB
 *   (--trace-gc). With 64 MiB: 0 and 9. Interleaved `bench/ab-net.ts large`, two
 *   runs of 3 rounds, every round faster: 77.9 -> 84.0 and 85.7 -> 94.6 MiB/s
 *   median, 9-11% less machine CPU; peak RSS +35 MiB in the sharer, -15 MiB in the
 *   joiner; small files unchanged within noise. WXS_DAEMON_OLD_SPACE_MB sets it
 *   (0 keeps V8's default).
 */
export function daemonFlags (inherited: string[]): string[] {
  const flags: string[] = []
  if (process.env.WXS_DAEMON_SINGLE_GC !== '0' && !inherited.includes('--single-threaded-gc') && availableParallelism() <= 2) flags.push('--single-threaded-gc')
  const oldSpace = Number(process.env.WXS_DAEMON_OLD_SPACE_MB ?? DAEMON_OLD_SPACE_MB)
  if (oldSpace > 0 && !inherited.some(f => f.startsWith('--initial-old-space-size'))) flags.push(`--initial-old-space-size=${Math.round(oldSpace)}`)
  return flags
}
