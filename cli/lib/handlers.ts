/**
 * Daemon-side handlers of the control protocol: validate params, call the
 * engine, return plain JSON. Paths arrive absolute (the client resolves them).
 */
import path from 'node:path'
import { crashPoint, toHex, type Monitor } from '../../core/index.js'
import { ManifestError, type Engine } from '../../manifests/index.js'
import { MOUNT_ACCESS, type MountAccess, type MountManager } from '../../mount/index.js'
import { checkPeerId, parseJoinTarget, parseResumeLink, type Network, type SwarmSettings } from '../../net/index.js'
import { CliError } from './errors.js'
import type { WatchHub } from './watch.js'
import type { Paths } from './paths.js'
import type { Settings } from './settings.js'
import type { AutoSnapshots } from './auto-snapshots.js'
import { agentHandlers } from './agent-handlers.js'

export interface HandlerContext { engine: Engine, mounts: MountManager, network: Network, paths: Paths, started: number, stop: () => Promise<void>, watch: WatchHub, settings: Settings, snapshots: AutoSnapshots }
interface CallContext extends HandlerContext { monitorFor (op: string): Monitor }
type Params = Record<string, unknown>
type Handler = (params: Params, ctx: CallContext) => Promise<unknown>

export const handlers: Record<string, Handler> = {
  async create (p, ctx) {
    const from = optionalPath(p, 'from')
    if (from) notFromMount(ctx, from)
    const monitor = from ? ctx.monitorFor('import') : undefined
    const result = finish(monitor, await ctx.engine.create(str(p, 'name'), { from, message: optionalStr(p, 'message'), monitor }))
    if (p.mount === undefined || p.mount === null) return result
    const mount = await ctx.mounts.mount(result.workspace.name, optionalPath(p, 'mount'), { access: access(p) })
    return { ...result, workspace: withMount(ctx, result.workspace), mount }
  },
  async import (p, ctx) {
    const name = str(p, 'name')
    const dir = requiredPath(p, 'dir')
    notFromMount(ctx, dir)
    await ctx.mounts.commit(name, 'before import')
    const monitor = ctx.monitorFor('import')
    const result = finish(monitor, await ctx.engine.importDir(name, dir, { message: optionalStr(p, 'message'), monitor }))
    if (result.changed) await ctx.mounts.reload(name)
    return result
  },
  async fork (p, ctx) {
    await ctx.mounts.commit(str(p, 'source'), 'before fork')
    return ctx.engine.fork(str(p, 'source'), str(p, 'name'), { at: optionalStr(p, 'at') })
  },
  list: async (_p, ctx) => (await ctx.engine.list()).map(w => withMount(ctx, w)),
  async info (p, ctx) {
    const name = str(p, 'name')
    const out = { ...withMount(ctx, await ctx.engine.info(name)), settings: ctx.settings.of(name) }
    if (out.network.conflict === null) return out
    // a pause resumed twice: both heads, so the user sees what each side has
    const heads = await ctx.network.conflictHeads(name)
    return { ...out, conflictHeads: (heads ?? []).map(h => ({ key: h.key, commit: h.seq, root: toHex(h.root), time: h.time, message: h.message, here: h.here })) }
  },
  // auto: "exec" (wxs exec) takes an automatic snapshot when the workspace's snapshot.before-exec
  // setting says so (else only commits: snapshot null), and prunes past snapshot.keep
  async snapshot (p, ctx) {
    const name = str(p, 'name')
    await ctx.mounts.commit(name, 'snapshot')
    if (p.auto === undefined) return ctx.engine.snapshot(name, optionalStr(p, 'label'))
    if (p.auto !== 'exec') throw CliError.USAGE(`snapshot: auto is "exec", not ${JSON.stringify(p.auto)}`)
    if (!ctx.settings.of(name)['snapshot.before-exec']) return { snapshot: null, commit: (await ctx.engine.info(name)).head }
    return ctx.snapshots.take(name, 'exec')
  },
  log: (p, { engine }) => engine.log(str(p, 'name'), { limit: optionalInt(p, 'limit') }),
  async diff (p, ctx) {
    const name = str(p, 'name')
    await ctx.mounts.commit(name, 'before diff')
    if (p.conflict !== true) return ctx.engine.diff(name, optionalStr(p, 'from'), optionalStr(p, 'to'))
    // the two heads of one pause resumed twice: from this machine's (or the first), to the other
    const heads = await ctx.network.conflictHeads(name)
    if (heads === null || heads.length < 2) throw CliError.USAGE(`${name} has no conflict to compare (wxs info ${name} shows one when a pause was resumed twice)`, 'diff')
    const [ours, theirs] = heads
    const changes = await ctx.engine.diffRoots(ours.root, theirs.root)
    const side = (h: typeof ours) => ({ key: h.key, commit: h.seq, root: toHex(h.root), time: h.time, here: h.here })
    return { from: ours.seq, to: theirs.seq, conflict: { from: side(ours), to: side(theirs) }, changes }
  },
  async restore (p, ctx) {
    const name = str(p, 'name')
    await ctx.mounts.commit(name, 'before restore')
    const result = await ctx.engine.restore(name, str(p, 'ref'))
    await ctx.mounts.reload(name)
    return result
  },
  async export (p, ctx) {
    await ctx.mounts.commit(str(p, 'name'), 'before export')
    const monitor = ctx.monitorFor('export')
    // content not here yet comes from peers as it is read: say what the export waits on
    const why = setInterval(() => {
      const w = ctx.network.downloader.breakdown(null)
      monitor.why = w.queued + w.inflight + w.unavailable === 0 ? null : `waiting on peers: ${w.queued} queued, ${w.inflight} in flight, ${w.unavailable} no connected peer has`
    }, 500)
    try {
      return finish(monitor, await ctx.engine.export(str(p, 'name'), requiredPath(p, 'dir'), { at: optionalStr(p, 'at'), monitor }))
    } finally {
      clearInterval(why)
    }
  },
  async rm (p, ctx) {
    const name = str(p, 'name')
    const mount = ctx.mounts.get(name)
    if (mount) throw CliError.BUSY(`${name} is mounted at ${mount.dir}; unmount it first (wxs unmount ${name})`)
    await ctx.engine.workspace(name)
    await ctx.network.forget(name)
    const removed = await ctx.engine.remove(name)
    await ctx.settings.remove(name)
    ctx.snapshots.schedule(name)
    await ctx.mounts.forget(name)
    return removed
  },
  async share (p, ctx) {
    const name = str(p, 'name')
    await ctx.mounts.commit(name, 'share')
    return ctx.network.share(name, swarmSettings(p))
  },
  unshare: (p, ctx) => ctx.network.unshare(str(p, 'name')),
  async peers (p, ctx) {
    const name = optionalStr(p, 'name')
    if (name !== undefined) await ctx.engine.workspace(name)
    return { network: ctx.network.info(), peers: ctx.network.peers(name) }
  },
  async join (p, ctx) {
    const target = parseJoinTarget(str(p, 'target'))
    const monitor = ctx.monitorFor('join')
    monitor.unit = 'object'
    const summary = await ctx.network.join(target, { name: optionalStr(p, 'name'), timeoutMs: optionalInt(p, 'timeoutMs'), monitor, settings: swarmSettings(p), lazy: p.lazy === true })
    finish(monitor, null)
    if (p.mount === undefined || p.mount === null) return { workspace: withMount(ctx, summary), mount: null }
    const mount = await ctx.mounts.mount(summary.name, optionalPath(p, 'mount'), { access: access(p) })
    return { workspace: withMount(ctx, summary), mount }
  },
  async pause (p, ctx) {
    const name = str(p, 'name')
    const monitor = ctx.monitorFor('pause')
    const info = await ctx.engine.info(name)
    if (info.remote) throw ManifestError.NOT_WRITER(name)
    const already = info.paused !== null
    // --wait alone waits for any peer; --wait <peer> for that one (checked before anything is changed)
    const wait = p.wait === undefined || p.wait === null || p.wait === false ? null : p.wait === true || p.wait === '' ? '' : checkPeerId(str(p, 'wait'))
    monitor.setPhase('quiescing')
    const quiesced = already ? null : await ctx.mounts.quiesce(name, { force: p.force === true })
    crashPoint('pause:quiesced')
    if (!already) {
      monitor.step('quiesced', { dir: quiesced?.dir ?? null })
      const head = (await ctx.engine.info(name)).head
      monitor.step('committed', { commit: head.seq, changed: quiesced?.committed === true, files: head.stats.files, bytes: head.stats.bytes })
    }
    if (!already && quiesced === null && p.force !== true && await ctx.engine.headHas(name, '/.git/index.lock')) throw ManifestError.GIT_BUSY(name, '.git/index.lock')
    let result
    try {
      monitor.setPhase('recording the pause')
      result = await ctx.network.pause(name, { workingSet: quiesced?.workingSet ?? await ctx.mounts.workingSet(name), mountDir: quiesced?.dir ?? null, note: optionalStr(p, 'note'), meta: metaPairs(p.meta), settings: swarmSettings(p) })
    } catch (err) {
      ctx.mounts.thaw(name)
      throw err
    }
    const paused = (await ctx.engine.info(name)).paused
    monitor.step('recorded', { created: result.created, hop: result.hop, commit: result.commit, workingSet: paused?.workingSet ?? 0 })
    let only = await ctx.network.onlyHere(name)
    monitor.step('sealed', { key: result.key, peers: result.peers, objects: only.objects, bytes: only.bytes, heldBy: only.heldBy })
    let heldBy: string | null = null
    if (wait !== null) {
      monitor.setPhase(wait === '' ? 'waiting for a peer to hold everything' : `waiting for ${wait} to hold everything`)
      heldBy = await ctx.network.waitHeld(name, { monitor, timeoutMs: optionalInt(p, 'timeoutMs'), peer: wait === '' ? undefined : wait })
      monitor.step('held', { peer: heldBy })
      only = await ctx.network.onlyHere(name)
    }
    finish(monitor, null)
    return { ...result, workspace: withMount(ctx, result.workspace), onlyHere: only, held: wait !== null, heldBy }
  },
  async resume (p, ctx) {
    const link = parseResumeLink(str(p, 'link'))
    if (p.fork === true) return resumeFork(p, ctx, link)
    const monitor = ctx.monitorFor('resume')
    const started = Date.now()
    const out = await ctx.network.resume(link, { name: optionalStr(p, 'name'), timeoutMs: optionalInt(p, 'timeoutMs'), monitor, settings: swarmSettings(p) })
    const name = out.workspace.name
    let mount = null
    let mountNote: string | null = null
    if (ctx.mounts.get(name)) {
      await ctx.mounts.reload(name)
      mount = ctx.mounts.get(name)!
    } else if (p.mount !== undefined && p.mount !== null) {
      monitor.setPhase('mounting')
      const asked = optionalPath(p, 'mount')
      const previous = out.pause.mountDir || null
      const dir = asked ?? (previous !== null && await ctx.mounts.isFree(previous) ? previous : undefined)
      if (asked === undefined) mountNote = dir !== undefined ? `where ${out.pause.holder} had it` : previous ? `${previous} is not free here: the default place` : 'the default place'
      await ctx.mounts.mount(name, dir, { access: access(p) })
    }
    const mountedMs = Date.now() - started
    crashPoint('resume:mounted')
    const m = ctx.mounts.get(name)
    if (m) monitor.step('mounted', { dir: m.dir, where: mountNote })
    // the working set first, in the background: the mount is usable now
    const workingSet = ctx.network.fetchWorkingSet(name, (done, total) => {
      if (p.wait !== true) return
      monitor.unit = 'object'
      monitor.totalFiles = total
      monitor.add(done - monitor.files, 0)
    })
    let complete = null
    if (p.wait === true) {
      // --wait: the command returns once everything is local (the mount is usable meanwhile)
      monitor.setPhase('fetching the working set')
      const got = await workingSet
      monitor.step('working set', { done: got.fetched, total: got.objects, paths: got.paths })
      monitor.setPhase('fetching the rest')
      monitor.files = 0
      complete = await ctx.network.sync(name, monitor, { stallMs: optionalInt(p, 'timeoutMs') })
      monitor.step('complete', { objects: complete.objects, bytes: complete.bytes })
    } else {
      workingSet.catch(() => {})
    }
    finish(monitor, null)
    return {
      workspace: withMount(ctx, await ctx.engine.info(name)),
      mount: m ? { dir: m.dir, mountedAt: m.mountedAt, where: mountNote } : mount,
      hop: out.hop,
      replaced: out.replaced,
      trees: out.trees,
      workingSet: out.pause.workingSet.length,
      complete,
      note: out.pause.note,
      meta: out.pause.meta,
      pausedBy: out.pause.holder,
      timings: { ...Object.fromEntries(Object.entries(out.phases).map(([k, v]) => [k, Math.round(v)])), prologueMs: Math.round(out.prologueMs), mountedMs }
    }
  },
  async sync (p, ctx) {
    if (p.background === 'off' || p.background === 'on') {
      const name = str(p, 'name')
      const out = await ctx.network.setFetchPaused(name, p.background === 'off')
      ctx.watch.note({ kind: out.paused ? 'fetch-paused' : 'fetch-resumed', workspace: name, text: `${name}: background fetch ${out.paused ? 'paused' : 'resumed'} (asked by a client)` })
      return out
    }
    const monitor = ctx.monitorFor('sync')
    monitor.unit = 'object'
    return finish(monitor, await ctx.network.sync(str(p, 'name'), monitor, { stallMs: optionalInt(p, 'stallMs') }))
  },
  async gc (_p, { engine, monitorFor }) {
    const monitor = monitorFor('gc')
    return finish(monitor, await engine.gc({ monitor }))
  },
  async fsck (_p, { engine, monitorFor }) {
    const monitor = monitorFor('fsck')
    return finish(monitor, await engine.fsck({ monitor }))
  },
  stats: (_p, { engine }) => engine.stats(),
  mount: async (p, ctx) => ctx.mounts.mount(str(p, 'name'), optionalPath(p, 'dir'), { access: access(p), readOnly: p.readOnly === true }),
  unmount: async (p, ctx) => ctx.mounts.unmount(str(p, 'target')),
  async commit (p, ctx) {
    const name = str(p, 'name')
    if (!ctx.mounts.get(name)) throw CliError.BUSY(`${name} is not mounted: nothing to commit (use wxs import to record a directory)`)
    const rec = await ctx.mounts.commit(name, optionalStr(p, 'message') ?? 'commit')
    const ws = await ctx.engine.info(name)
    return { name, committed: rec !== null, head: ws.head }
  },
  async 'daemon.status' (_p, { paths, started, mounts, network }) {
    return { running: true, pid: process.pid, socket: paths.socket, home: paths.home, startedAt: started, uptimeMs: Date.now() - started, mounts: mounts.list(), network: network.info() }
  },
  async 'daemon.stop' () {
    return { stopping: true, pid: process.pid }
  },
  ...agentHandlers
}

/**
 * resume --fork: a writable fork of the paused state, whoever holds the
 * workspace now. This machine follows the link's workspace (joined, as its
 * holder's name, or `<name>-origin` when that name is taken here) and forks it
 * at the link's pause: the fork gets its own key, no continuation, no claim on
 * the writer role; its content streams in from the follower's peers.
 */
async function resumeFork (p: Record<string, unknown>, ctx: CallContext, link: ReturnType<typeof parseResumeLink>) {
  const monitor = ctx.monitorFor('fork')
  const started = Date.now()
  const asked = optionalStr(p, 'name')
  if (asked !== undefined && ctx.engine.has(asked)) throw ManifestError.WORKSPACE_EXISTS(asked)
  let source = (await ctx.engine.byLineage(link.key))[0] ?? null
  let joined = false
  if (source === null) {
    const opts = { timeoutMs: optionalInt(p, 'timeoutMs'), monitor, settings: swarmSettings(p) }
    const summary = await ctx.network.join({ key: link.key, pin: null }, opts).catch(async err => {
      if (err?.code !== 'WORKSPACE_EXISTS') throw err
      return ctx.network.join({ key: link.key, pin: null }, { ...opts, name: `${asked ?? /"(.*)"/.exec(err.message)?.[1] ?? 'workspace'}-origin` })
    })
    source = summary.name
    joined = true
    monitor.step('joined', { name: source, key: toHex(link.key) })
  }
  const move = await ctx.engine.pauseOf(source, link.secret)
  const name = asked ?? `${source}-fork`
  const forked = await ctx.engine.fork(source, name, { at: String(move.pause.commit) })
  monitor.step('forked', { name, from: source, commit: move.pause.commit })
  let mount = null
  if (p.mount !== undefined && p.mount !== null) {
    monitor.setPhase('mounting')
    mount = await ctx.mounts.mount(name, optionalPath(p, 'mount'), { access: access(p) })
    monitor.step('mounted', { dir: mount.dir, where: null })
  }
  finish(monitor, null)
  return { workspace: withMount(ctx, await ctx.engine.info(name)), mount, fork: { from: source, joined, commit: move.pause.commit, hop: move.hop, pausedBy: move.pause.holder }, ms: Date.now() - started, note: move.pause.note, meta: move.pause.meta }
}

function withMount<T extends { name: string }> (ctx: HandlerContext, w: T) {
  const m = ctx.mounts.get(w.name)
  return { ...w, mount: m ? { dir: m.dir, mountedAt: m.mountedAt, access: m.access, readOnly: m.readOnly } : null, network: ctx.network.describe(w.name) }
}

/** `--meta key=value` pairs (names of things, never secrets: the record is public to readers). */
function metaPairs (v: unknown): Array<{ key: string, value: string }> {
  if (v === undefined || v === null) return []
  const list = Array.isArray(v) ? v : [v]
  return list.map(item => {
    if (typeof item !== 'string' || !item.includes('=')) throw CliError.USAGE(`--meta expects key=value, got ${JSON.stringify(item)}`)
    const i = item.indexOf('=')
    return { key: item.slice(0, i), value: item.slice(i + 1) }
  })
}

function swarmSettings (p: Params): SwarmSettings {
  return { bootstrap: optionalStr(p, 'bootstrap'), host: optionalStr(p, 'host') }
}

/** The importer reads with synchronous calls: a source inside our own mount would deadlock the daemon. */
function notFromMount (ctx: HandlerContext, dir: string) {
  for (const m of ctx.mounts.list()) {
    if (dir === m.dir || dir.startsWith(m.dir + path.sep)) throw CliError.BUSY(`${dir} is inside the mounted workspace ${m.name}; use wxs fork ${m.name} <name> instead`)
  }
}

function finish<T> (monitor: Monitor | undefined, result: T): T {
  monitor?.finish()
  return result
}

function str (p: Params, key: string): string {
  const v = p[key]
  if (typeof v !== 'string' || v.length === 0) throw CliError.USAGE(`missing ${key}`)
  return v
}

/** --access: who may use the mount (mount/messages.ts). */
function access (p: Params): MountAccess | undefined {
  const v = optionalStr(p, 'access')
  if (v === undefined) return undefined
  if (!(MOUNT_ACCESS as readonly string[]).includes(v)) throw CliError.USAGE(`--access is owner (only this daemon's user; the default) or all (every user, checked by the kernel as on a local disk), got ${JSON.stringify(v)}`)
  return v as MountAccess
}

function optionalStr (p: Params, key: string): string | undefined {
  const v = p[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw CliError.USAGE(`${key} must be a string`)
  return v
}

function optionalInt (p: Params, key: string): number | undefined {
  const v = p[key]
  if (v === undefined || v === null) return undefined
  if (!Number.isInteger(v) || (v as number) < 0) throw CliError.USAGE(`${key} must be a non-negative integer`)
  return v as number
}

function requiredPath (p: Params, key: string): string {
  const v = str(p, key)
  if (!path.isAbsolute(v)) throw CliError.USAGE(`${key} must be an absolute path`)
  return v
}

function optionalPath (p: Params, key: string): string | undefined {
  return p[key] === undefined || p[key] === null || p[key] === '' ? undefined : requiredPath(p, key)
}
