/**
 * The watch state (cli/messages.ts, WatchState) and what it is made of.
 *
 * - collect() reads the daemon's parts (engine, mounts, network) into raw facts;
 * - Rates smooths byte counters into rates (EWMA) sampled at each tick;
 * - deriveState(), eta() and eventsBetween() are pure: the same facts give the
 *   same state, and the events are what changed between two states (one truth:
 *   the dashboard, `wxs top --once` and `wxs events` all read these).
 */
import type { Engine } from '../../manifests/index.js'
import type { MountManager } from '../../mount/index.js'
import type { Network } from '../../net/index.js'
import { WATCH_VERSION, type WatchEvent, type WatchFetch, type WatchPeer, type WatchState, type WatchWorkspace, type WorkspaceState } from '../messages.js'

/** Seconds of history a smoothed rate mostly reflects. */
const RATE_TAU_S = 3
/** A fetch with nothing arriving for this long, and something missing, is stalled. */
export const STALL_MS = 10_000

/** What deriveState() needs to know about one workspace. */
export interface WorkspaceFacts {
  remote: boolean
  shared: boolean
  mounted: boolean
  paused: boolean
  /** The workspace follows a log that continues one this machine held (it moved away from here). */
  movedTo: string | null
  conflict: boolean
  error: string | null
  fetch: { complete: boolean, missing: number, rate: number, quietMs: number, peers: number, paused?: boolean } | null
}

/** One word for what a workspace is doing, most urgent first, and why when that needs saying. */
export function deriveState (f: WorkspaceFacts): { state: WorkspaceState, reason: string | null } {
  if (f.error !== null) return { state: 'error', reason: f.error }
  if (f.conflict) return { state: 'conflict', reason: 'one pause was resumed twice: wxs diff --conflict' }
  if (f.paused && !f.remote) return { state: 'paused', reason: 'paused here: resume it elsewhere with its link' }
  if (f.fetch !== null && !f.fetch.complete) {
    if (f.fetch.paused) return { state: 'on-demand', reason: 'background fetch paused: only what is read is fetched' }
    if (f.fetch.peers === 0) return { state: 'stalled', reason: 'no connected peer' }
    if (f.fetch.quietMs >= STALL_MS && f.fetch.rate === 0) return { state: 'stalled', reason: `nothing arrived for ${Math.round(f.fetch.quietMs / 1000)} s` }
    return { state: 'fetching', reason: null }
  }
  if (f.paused) return { state: 'paused', reason: 'paused by its holder' }
  if (f.movedTo !== null) return { state: 'moved', reason: `held by ${f.movedTo} now` }
  if (f.fetch !== null) return { state: 'complete', reason: null }
  if (f.mounted) return { state: 'mounted', reason: null }
  if (f.shared) return { state: 'sharing', reason: null }
  return { state: 'idle', reason: null }
}

/** Time left at the smoothed rate, or why it cannot be said. */
export function eta (f: { complete: boolean, missingBytes: number | null, rate: number, peers: number, paused: boolean }): { etaMs: number | null, etaWhy: string | null } {
  if (f.complete) return { etaMs: 0, etaWhy: null }
  if (f.paused) return { etaMs: null, etaWhy: 'background fetch paused' }
  if (f.missingBytes === null) return { etaMs: null, etaWhy: 'size not known yet (trees arriving)' }
  if (f.peers === 0) return { etaMs: null, etaWhy: 'no connected peer has it' }
  if (f.rate <= 0) return { etaMs: null, etaWhy: 'nothing arriving' }
  return { etaMs: Math.round(f.missingBytes / f.rate * 1000), etaWhy: null }
}

/** Two significant digits: a rate shown moves in steps, and a state that only jitters sends no patch. */
export function roughly (n: number): number {
  if (n < 10) return Math.round(n)
  const p = 10 ** (Math.floor(Math.log10(n)) - 1)
  return Math.round(n / p) * p
}

/** Smoothed rates of growing counters, one per key. */
export class Rates {
  private readonly last = new Map<string, { value: number, at: number, rate: number, changedAt: number }>()

  /** Feeds the counter `key` its current `value` (at time `now`, ms); returns the smoothed rate per second. */
  sample (key: string, value: number, now: number): number {
    const prev = this.last.get(key)
    if (prev === undefined) { this.last.set(key, { value, at: now, rate: 0, changedAt: now }); return 0 }
    const dt = (now - prev.at) / 1000
    if (dt <= 0) return prev.rate
    const instant = Math.max(0, value - prev.value) / dt
    const alpha = 1 - Math.exp(-dt / RATE_TAU_S)
    let rate = prev.rate + alpha * (instant - prev.rate)
    // nothing for a time constant: nothing is arriving (not a long tail of bytes a second)
    if (instant === 0 && now - prev.changedAt >= RATE_TAU_S * 1000) rate = 0
    this.last.set(key, { value, at: now, rate, changedAt: value !== prev.value ? now : prev.changedAt })
    return rate
  }

  /** ms since the counter last grew. */
  quietMs (key: string, now: number): number {
    const s = this.last.get(key)
    return s === undefined ? 0 : now - s.changedAt
  }

  /** Forgets keys not sampled in this round. */
  keep (keys: Set<string>) { for (const k of this.last.keys()) if (!keys.has(k)) this.last.delete(k) }
}

export interface WatchSources { engine: Engine, mounts: MountManager, network: Network, started: number, run: string }

/** Reads the whole state now. */
export async function collect (src: WatchSources, rates: Rates, now = Date.now()): Promise<WatchState> {
  const { engine, mounts, network } = src
  const info = network.info()
  const mounted = new Map(mounts.list().map(m => [m.name, m.dir]))
  const peerRows = network.peers()
  const used = new Set<string>()
  const workspaces: Record<string, WatchWorkspace> = {}
  for (const w of await engine.list()) {
    const d = network.describe(w.name)
    const sync = d.sync
    let fetch: WatchFetch | null = null
    if (sync !== null) {
      const key = `ws:${w.name}`
      used.add(key)
      const rate = rates.sample(key, sync.fetchedBytes, now)
      const missingBytes = sync.totalBytes === null ? null : Math.max(0, sync.totalBytes - sync.bytes)
      const paused = d.lazy
      fetch = {
        objects: sync.objects,
        totalObjects: sync.totalObjects,
        bytes: sync.bytes,
        totalBytes: sync.totalBytes,
        fetchedBytes: sync.fetchedBytes,
        rate: roughly(rate),
        ...eta({ complete: sync.complete, missingBytes, rate, peers: d.peers, paused }),
        paused,
        // the downloader's queue is shared by every workspace: with one fetching, it is that one's
        why: sync.complete ? { queued: 0, inflight: 0, unavailable: 0, failed: 0 } : network.downloader.breakdown(w.name)
      }
    }
    const last = w.lineage.length > 0 ? w.lineage[w.lineage.length - 1] : null
    const facts: WorkspaceFacts = {
      remote: w.remote,
      shared: d.shared,
      mounted: mounted.has(w.name),
      paused: w.paused !== null,
      movedTo: w.remote && last !== null && last.resumedKey === w.key ? last.resumedBy : null,
      conflict: d.conflict !== null,
      error: null,
      fetch: fetch === null ? null : { complete: sync!.complete, missing: (sync!.totalObjects ?? Infinity) - sync!.objects, rate: fetch.rate, quietMs: rates.quietMs(`ws:${w.name}`, now), peers: d.peers, paused: fetch.paused }
    }
    workspaces[w.name] = {
      name: w.name,
      ...deriveState(facts),
      role: w.remote ? 'joined' : d.shared ? 'shared' : 'local',
      mount: mounted.get(w.name) ?? null,
      head: { seq: w.head.seq, files: w.head.stats.files, bytes: w.head.stats.bytes },
      fetch,
      peers: d.peers
    }
  }
  const peers: Record<string, WatchPeer> = {}
  const blank = (id: string): WatchPeer => ({ id, state: 'connected', direction: null, since: null, attempts: 0, droppedBy: [], address: null, workspaces: [], holds: {}, received: 0, sent: 0, rateDown: 0, rateUp: 0, inflight: 0 })
  for (const l of network.links()) {
    const p = peers[l.peer] = blank(l.peer)
    p.state = l.state
    p.direction = l.direction
    p.since = l.since
    p.attempts = l.attempts
    p.droppedBy = l.droppedBy
    p.address = l.address
  }
  for (const r of peerRows) {
    const p = peers[r.peer] ??= blank(r.peer)
    if (p.address === null && r.address) p.address = r.address
    if (r.holds) p.holds[r.workspace] = r.holds.complete ? 'all' : r.holds.objects
    if (!p.workspaces.includes(r.workspace)) p.workspaces.push(r.workspace)
    p.received += r.received.bytes
    p.sent += r.sent.bytes
    p.inflight += r.inflight
  }
  let received = 0
  let sent = 0
  for (const p of Object.values(peers)) {
    used.add(`down:${p.id}`)
    used.add(`up:${p.id}`)
    p.rateDown = roughly(rates.sample(`down:${p.id}`, p.received, now))
    p.rateUp = roughly(rates.sample(`up:${p.id}`, p.sent, now))
    received += p.received
    sent += p.sent
  }
  rates.keep(used)
  return {
    v: WATCH_VERSION,
    daemon: {
      pid: process.pid,
      run: src.run,
      startedAt: src.started,
      peer: info.peer,
      online: info.online,
      bootstrap: info.bootstrap,
      connections: info.connections,
      rateDown: Object.values(peers).reduce((a, p) => a + p.rateDown, 0),
      rateUp: Object.values(peers).reduce((a, p) => a + p.rateUp, 0),
      received,
      sent
    },
    workspaces,
    peers,
    blocked: mounts.blockedReads(now).slice(0, 20).map(b => {
      const hex = b.waiting[0] ?? null
      const where = hex === null ? null : network.downloader.whereIs(hex)
      return { workspace: b.workspace, op: b.op, path: b.path, ms: Math.floor(b.ms / 100) * 100, object: hex === null ? null : hex.slice(0, 12), waiting: where?.state ?? null, peer: where?.peer ?? null }
    }),
    // in 100 ms steps: a transfer that only ages sends no patch every tick
    transfers: network.downloader.inflight(now).map(x => ({ object: x.hex.slice(0, 12), peer: x.peer, workspace: x.owner, size: x.size, ms: Math.floor(x.ms / 100) * 100, urgent: x.urgent })),
    problems: [
      ...network.downloader.failures.map(f => ({ kind: 'verification' as const, workspace: f.owner, peer: f.peer, text: `peer ${f.peer.slice(0, 12)} ${f.reason}`, time: f.time })),
      ...mounts.readErrors().map(e => ({ kind: 'io' as const, workspace: e.workspace, path: e.path, errno: e.errno, text: `reading ${e.path} failed: ${e.errno}`, time: e.time }))
    ].sort((a, b) => a.time - b.time).slice(-20)
  }
}

const QUIET_STATES = new Set(['mounted', 'sharing', 'idle', 'on-demand'])

/** What happened between two states, as events (ids are given by the caller). */
export function eventsBetween (prev: WatchState | null, next: WatchState): Array<Omit<WatchEvent, 'id' | 'time'>> {
  const out: Array<Omit<WatchEvent, 'id' | 'time'>> = []
  if (prev === null) return out
  for (const [name, w] of Object.entries(next.workspaces)) {
    const was = prev.workspaces[name]
    if (was === undefined) { out.push({ kind: w.role === 'joined' ? 'joined' : 'added', workspace: name, text: `${name}: ${w.role === 'joined' ? 'joined' : 'new workspace'}` }); continue }
    if ((was.mount ?? null) !== (w.mount ?? null)) out.push(w.mount ? { kind: 'mounted', workspace: name, text: `${name}: mounted at ${w.mount}` } : { kind: 'unmounted', workspace: name, text: `${name}: unmounted` })
    if (was.head.seq !== w.head.seq) out.push({ kind: 'committed', workspace: name, text: `${name}: commit ${w.head.seq} (${w.head.files} files)` })
    if (was.role !== w.role) out.push({ kind: w.role === 'shared' ? 'shared' : w.role === 'joined' ? 'following' : 'unshared', workspace: name, text: `${name}: ${w.role === 'shared' ? 'shared' : w.role === 'joined' ? 'follows its holder now' : 'not shared any more'}` })
    // mounted, sharing and idle are told by the events above
    if (was.state !== w.state && !QUIET_STATES.has(w.state)) out.push({ kind: w.state, workspace: name, text: `${name}: ${w.state}${w.reason ? ` (${w.reason})` : ''}` })
  }
  for (const name of Object.keys(prev.workspaces)) if (!(name in next.workspaces)) out.push({ kind: 'removed', workspace: name, text: `${name}: removed` })
  const seen = new Set((prev.problems ?? []).map(p => `${p.time} ${p.text}`))
  for (const p of next.problems ?? []) if (!seen.has(`${p.time} ${p.text}`)) out.push({ kind: p.kind === 'io' ? 'io-error' : 'rejected', ...(p.workspace ? { workspace: p.workspace } : {}), ...(p.peer ? { peer: p.peer } : {}), text: `${p.workspace ? `${p.workspace}: ` : ''}${p.text}` })
  const on = (p: WatchPeer | undefined) => p !== undefined && (p.state ?? 'connected') === 'connected'
  for (const [id, p] of Object.entries(next.peers)) {
    const was = prev.peers[id]
    if (on(p) && !on(was)) out.push({ kind: 'peer-connected', peer: id, text: `peer ${id.slice(0, 12)} connected${p.direction === 'in' ? ' to us' : ''}${p.address ? ` from ${p.address}` : ''}${p.workspaces.length > 0 ? ` (${p.workspaces.join(', ')})` : ''}` })
    for (const ws of p.droppedBy ?? []) if (!(was?.droppedBy ?? []).includes(ws)) out.push({ kind: 'peer-dropped', peer: id, workspace: ws, text: `${ws}: peer ${id.slice(0, 12)} dropped (protocol violation)` })
  }
  for (const [id, p] of Object.entries(prev.peers)) {
    const now = next.peers[id]
    if (on(p) && !on(now)) out.push({ kind: 'peer-gone', peer: id, text: `peer ${id.slice(0, 12)} gone${now?.state === 'retrying' ? ' (retrying)' : now?.state === 'banned' ? ' (banned)' : ''}` })
  }
  return out
}
