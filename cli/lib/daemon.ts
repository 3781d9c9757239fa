/**
 * The daemon: owns the engine (Corestore + CAS) of one state directory and
 * serves the control protocol on `$WXS_HOME/daemon.sock` (mode 0600, in a
 * 0700 directory; no TCP listener). Opening the engine takes the Corestore's
 * storage lock first, so a second daemon for the same state dir fails before
 * touching the socket.
 */
import fs from 'node:fs/promises'
import net from 'node:net'
import { Monitor, type ProgressSnapshot, type ProgressStep } from '../../core/index.js'
import { Engine } from '../../manifests/index.js'
import { MountManager } from '../../mount/index.js'
import { Network } from '../../net/index.js'
import { encodeLine, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type Reply, type Request } from '../messages.js'
import { statePaths, type Paths } from './paths.js'
import { WatchHub } from './watch.js'
import { handlers, type HandlerContext } from './handlers.js'
import { Settings } from './settings.js'
import { AutoSnapshots } from './auto-snapshots.js'

export interface DaemonHandle { close (): Promise<void>, paths: Paths }

export async function runDaemon (env = process.env, opts: { onStopped?: () => void } = {}): Promise<DaemonHandle> {
  const paths = statePaths(env)
  await fs.mkdir(paths.home, { recursive: true, mode: 0o700 })
  await fs.chmod(paths.home, 0o700)
  const engine = new Engine({ home: paths.home })
  await engine.ready()
  const settings = new Settings(paths.home)
  await settings.ready()
  // WXS_AUDIT_MAX_BYTES: the bound of each workspace's audit trail (default 32 MiB)
  const mounts = new MountManager({ engine, log, audit: name => settings.of(name).audit, auditBytes: Number(env.WXS_AUDIT_MAX_BYTES) || undefined })
  settings.onChange(name => { mounts.setAudit(name, settings.of(name).audit).catch(err => log(`audit of ${name}: ${err.message}`)) })
  await mounts.ready()
  // a joined workspace that got new commits: a mount of it shows the new head
  const network = new Network({ engine, log, env, onHead: name => { mounts.reload(name).catch(err => log(`remounting ${name} at its new head failed: ${err.message}`)) } })
  await network.ready().catch(err => log(`network: ${err.message}`))
  await mounts.remount()
  const started = Date.now()
  const watch = new WatchHub({ engine, mounts, network, started }, log)
  const snapshots = new AutoSnapshots({ engine, mounts, settings, log })
  snapshots.start()
  let stopping: Promise<void> | null = null
  const server = net.createServer(socket => serve(socket, ctx))
  const stop = () => {
    if (stopping === null) { watch.close(); snapshots.close(); stopping = shutdown(server, engine, mounts, network, paths).finally(() => opts.onStopped?.()) }
    return stopping
  }
  const ctx: HandlerContext = { engine, mounts, network, paths, started, stop, watch, settings, snapshots }
  await listen(server, paths.socket)
  await fs.writeFile(paths.pid, String(process.pid) + '\n', { mode: 0o600 })
  log(`daemon ${process.pid} listening on ${paths.socket}`)
  return { close: stop, paths }
}

async function listen (server: net.Server, socket: string) {
  if (await isAlive(socket)) throw new Error(`another daemon is already serving ${socket}`)
  await fs.rm(socket, { force: true })
  const oldMask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(socket, () => { server.off('error', reject); resolve() })
    })
  } finally {
    process.umask(oldMask)
  }
  await fs.chmod(socket, 0o600)
}

function isAlive (socket: string): Promise<boolean> {
  return new Promise(resolve => {
    const conn = net.connect(socket)
    conn.once('connect', () => { conn.destroy(); resolve(true) })
    conn.once('error', () => resolve(false))
  })
}

async function shutdown (server: net.Server, engine: Engine, mounts: MountManager, network: Network, paths: Paths) {
  log('daemon stopping')
  await new Promise<void>(resolve => server.close(() => resolve()))
  await network.close().catch(err => log(`closing the network: ${err.message}`))
  await mounts.closeAll()
  await engine.close()
  await fs.rm(paths.socket, { force: true })
  await fs.rm(paths.pid, { force: true })
  log('daemon stopped')
}

/** Reads one request line, runs it, streams replies, closes. */
function serve (socket: net.Socket, ctx: HandlerContext) {
  let buffered = ''
  let handled = false
  socket.setEncoding('utf8')
  socket.on('error', () => {})
  socket.on('data', (chunk: string) => {
    if (handled) return
    buffered += chunk
    if (buffered.length > MAX_REQUEST_BYTES) { reply(socket, { type: 'error', error: { code: 'PROTOCOL', message: 'PROTOCOL: request too large' } }); socket.end(); handled = true; return }
    const nl = buffered.indexOf('\n')
    if (nl === -1) return
    handled = true
    dispatch(socket, buffered.slice(0, nl), ctx).catch(err => log(`request failed: ${err?.stack ?? err}`))
  })
}

async function dispatch (socket: net.Socket, line: string, ctx: HandlerContext) {
  let request: Request
  try {
    request = JSON.parse(line)
    if (request.v !== PROTOCOL_VERSION || typeof request.method !== 'string') throw new Error('bad request')
  } catch {
    reply(socket, { type: 'error', error: { code: 'PROTOCOL', message: `PROTOCOL: malformed request (protocol version ${PROTOCOL_VERSION} expected)` } })
    socket.end()
    return
  }
  if (request.method === 'watch') {
    // stays open: state, then patches and events, until the client goes (see WatchHub)
    const p = request.params ?? {}
    const bad = (p.since !== undefined && !(typeof p.since === 'number' && Number.isInteger(p.since) && p.since >= 0)) ? `since must be an event id (an integer from 0), got ${JSON.stringify(p.since)}`
      : (p.run !== undefined && typeof p.run !== 'string') ? `run must be a daemon run id (a string), got ${JSON.stringify(p.run)}` : null
    if (bad !== null) {
      reply(socket, { type: 'error', error: { code: 'USAGE', message: `USAGE: watch: ${bad}` } })
      socket.end()
      return
    }
    await ctx.watch.attach(socket, { since: p.since as number | undefined, run: p.run as string | undefined })
    return
  }
  const handler = handlers[request.method]
  if (!handler) {
    reply(socket, { type: 'error', error: { code: 'USAGE', message: `USAGE: unknown method ${request.method}` } })
    socket.end()
    return
  }
  const monitors: Monitor[] = []
  const monitorFor = (op: string) => {
    const monitor = new Monitor(op)
    monitors.push(monitor)
    monitor.on('update', (progress: ProgressSnapshot) => reply(socket, { type: 'progress', progress }))
    monitor.on('step', (step: ProgressStep) => reply(socket, { type: 'step', step }))
    return monitor
  }
  try {
    const result = await handler(request.params ?? {}, { ...ctx, monitorFor })
    reply(socket, { type: 'result', result })
  } catch (err) {
    const e = err as Error & { code?: string }
    if (!e.code) log(`${request.method} failed: ${e.stack ?? e}`)
    reply(socket, { type: 'error', error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } })
  } finally {
    for (const m of monitors) m.stop()
  }
  socket.end()
  if (request.method === 'daemon.stop') await ctx.stop()
}

function reply (socket: net.Socket, msg: Reply) {
  if (!socket.destroyed) socket.write(encodeLine(msg))
}

export function log (line: string) {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`)
}

/** Entry for `wxs daemon run`: serve until stopped or signalled. */
export async function daemonMain () {
  const handle = await runDaemon(process.env, { onStopped: () => process.exit(0) }).catch(err => {
    log(`daemon failed to start: ${err?.message ?? err}`)
    process.exit(1)
  })
  const onSignal = () => { handle.close().catch(() => process.exit(1)) }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
