/**
 * Gets objects from peers: the ObjectFetcher the CAS calls for anything it
 * lacks, and the queue the background sync fills.
 *
 * - Two queues: urgent (a program waiting in the mount) before background
 *   (prefetch). A background want asked for urgently moves up.
 * - Each peer has a window (objects and estimated bytes in flight); requests go
 *   out batched, to the least-loaded peer whose workspace reaches the object.
 * - A peer that answers "missing" is not asked again for that object; one that
 *   goes quiet has its reads and listings asked of another answering peer after
 *   1 s (the rest after 3 s), gets nothing new until heard from, and is timed out
 *   after 10 s; one that closes gives its requests back. Nothing already stored
 *   is ever requested.
 * - Every object is verified by BLAKE3 before it is stored. An unsolicited or
 *   corrupt object gets the peer dropped for that workspace.
 * - A tree wanted with a base (a local tree at the same path) is asked for as a
 *   delta (net/lib/tree-delta.ts); the rebuilt tree is verified like any object.
 *   One that fails its hash (a fingerprint collision, or a lie) is asked for
 *   whole; a second failure is a corrupt object.
 */
import { hash as blake3, toHex, type ObjectFetcher, type PackStore, type RwLock } from '../../core/index.js'
import { MAX_REQUEST_HASHES, MAX_TREE_REQUESTS, MAX_SKETCH_BYTES_PER_MESSAGE, treeDeltaBytes, type ObjectItem, type TreeDelta, type TreeRequest } from '../messages.js'
import { applyDelta, sketchOf } from './tree-delta.js'

/** What the downloader needs of a connected peer (one object channel). */
export interface Peer {
  readonly id: string
  /** Sends one request message. */
  request (hashes: Buffer[]): void
  /** Sends one tree request (trees with the sketch of a base); peers without it get plain requests. */
  requestTrees? (items: TreeRequest[]): void
  /** Whether this peer's workspace reaches `hex`, as far as we know. */
  reaches (hex: string): boolean
  /** Closes the channel after a protocol violation. */
  drop (reason: string): void
  inflight: Map<string, Want>
  /** Requests this peer timed out on: a late answer is accepted, not taken for a push. */
  expired: Set<string>
  inflightBytes: number
  lastHeard: number
  received: { objects: number, bytes: number }
}

/** resolve() gets the bytes the object took on the wire (0: it was local already). */
interface Waiter { resolve: (wire: number) => void, reject: (err: Error) => void }

export interface Want {
  hex: string
  hash: Buffer
  /** Lower goes first: URGENT (a read in the mount), TREE (sync's trees), BACKGROUND (chunks). */
  priority: Priority
  size: number
  waiters: Waiter[]
  /** Peers that could not serve it (created on the first refusal: most wants never have one). */
  tried: Set<Peer> | null
  peer: Peer | null
  sentAt: number
  /** Bit i set: this want sits in queue i. */
  queued: number
  /** A tree: the entries of the local base it may come as a delta against, and their sketch. */
  base: Buffer[] | null
  sketch: Buffer | null
  /** The workspace that asked (a sync's session), for wxs top's per-workspace "why not done"; null: a read. */
  owner: string | null
}

/** An object a peer sent that failed verification (wxs top shows the last ones, with the peer). */
export interface Failure { peer: string, hex: string, reason: string, time: number, owner: string | null }
const MAX_FAILURES = 20

export interface DownloaderOptions {
  store: PackStore
  lock: RwLock
  log?: (line: string) => void
  /** Called after an object is stored, with its verified bytes (sessions expand trees they reach). */
  onStored?: (hex: string, data: Buffer, peer: Peer) => void
  windowObjects?: number
  windowBytes?: number
  /** A peer with requests in flight and silent this long is timed out. */
  peerTimeoutMs?: number
  /** A read waiting this long on a silent peer is asked of another peer that is answering. */
  hedgeMs?: number
}

const ESTIMATE_BYTES = 16 * 1024
/** How often timeouts and silent peers are checked. */
const CHECK_MS = 250
/** A mount used within this long counts as in use (its programs go first). */
const FOREGROUND_MS = 150
/** Background objects in flight per peer while a mount is in use. */
const FOREGROUND_WINDOW = 1

export const URGENT = 0
export const TREE = 1
export const BACKGROUND = 2
export type Priority = typeof URGENT | typeof TREE | typeof BACKGROUND

/** FIFO with O(1) shift (the queues hold up to one entry per wanted object). */
class Queue<T> {
  private items: T[] = []
  private head = 0
  get length () { return this.items.length - this.head }
  push (v: T) { this.items.push(v) }
  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const v = this.items[this.head++]
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0 }
    return v
  }
}

/** One object as received: whole (data) or as a tree delta; `wire` = bytes it took. */
interface Arrival { hash: Buffer, data: Buffer | null, delta: TreeDelta | null, wire: number }

export class Downloader implements ObjectFetcher {
  readonly peers = new Set<Peer>()
  readonly wants = new Map<string, Want>()
  readonly stats = { objects: 0, bytes: 0, rejected: 0, deltas: 0, deltaFallbacks: 0, hedged: 0 }
  /** One FIFO per priority. */
  private readonly queues: Array<Queue<Want>> = [new Queue<Want>(), new Queue<Want>(), new Queue<Want>()]
  private readonly background = new Queue<Want>()
  /** Wants no connected peer could serve: retried when a peer arrives. */
  private parked: Want[] = []
  private readonly store: PackStore
  private readonly lock: RwLock
  private readonly log: (line: string) => void
  private readonly onStored: DownloaderOptions['onStored']
  private readonly windowObjects: number
  private readonly windowBytes: number
  private foregroundTimer: NodeJS.Timeout | null = null
  private readonly peerTimeoutMs: number
  private readonly hedgeMs: number
  /** When reads were last taken back from a peer for its silence; it is asked last until it is heard from again. */
  private readonly silentAt = new WeakMap<Peer, number>()
  private readonly pumpEvery: number
  private pumping = false
  private pumpAgain = false
  private pumpScheduled = false
  private wantsSincePump = 0
  private flushTimer: NodeJS.Timeout | null = null
  private readonly ticker: NodeJS.Timeout
  private closed = false

  constructor (opts: DownloaderOptions) {
    this.store = opts.store
    this.lock = opts.lock
    this.log = opts.log ?? (() => {})
    this.onStored = opts.onStored
    this.windowObjects = opts.windowObjects ?? 512
    this.windowBytes = opts.windowBytes ?? 16 * 1024 * 1024
    this.peerTimeoutMs = opts.peerTimeoutMs ?? 10_000
    this.hedgeMs = opts.hedgeMs ?? 1000
    this.pumpEvery = Math.max(1, Math.min(MAX_REQUEST_HASHES, this.windowObjects >> 1))
    this.ticker = setInterval(() => this.checkTimeouts(), CHECK_MS)
    this.ticker.unref()
  }

  /** ObjectFetcher: a read in the mount (or anything in the store) needs `hex` now. */
  async fetch (hex: string, opts: { urgent: boolean, signal: AbortSignal }): Promise<void> {
    await this.want(hex, { urgent: opts.urgent, signal: opts.signal })
  }

  /**
   * Resolves once `hex` is stored locally, with the bytes it took on the wire (0 if it
   * was local already; a tree that came as a delta, the delta's). `size` is an
   * estimate used for windows.
   */
  want (hex: string, opts: { urgent?: boolean, priority?: Priority, size?: number, signal?: AbortSignal, base?: Buffer[] | null, hash?: Buffer, exclude?: Peer, owner?: string } = {}): Promise<number> {
    if (this.store.hasHex(hex)) return Promise.resolve(0)
    if (this.closed) return Promise.reject(new Error('the network is closed'))
    let w = this.wants.get(hex)
    if (w === undefined) {
      w = { hex, hash: opts.hash ?? Buffer.from(hex, 'hex'), priority: BACKGROUND, size: opts.size ?? ESTIMATE_BYTES, waiters: [], tried: null, peer: null, sentAt: 0, queued: 0, base: null, sketch: null, owner: opts.owner ?? null }
      this.wants.set(hex, w)
    }
    // not from this peer (it asked us for the object: see ObjectChannel's relaying)
    if (opts.exclude !== undefined && w.peer === null) (w.tried ??= new Set()).add(opts.exclude)
    if (opts.base && w.base === null && w.peer === null) {
      w.sketch = sketchOf(opts.base)
      if (w.sketch !== null) w.base = opts.base
    }
    const want = w
    // asked again more urgently (a read of something the sync queued): it moves up
    const priority = opts.urgent ? URGENT : opts.priority ?? BACKGROUND
    if (priority < want.priority) want.priority = priority
    if (want.peer === null) this.enqueue(want)
    const p = new Promise<number>((resolve, reject) => {
      const waiter = { resolve, reject }
      want.waiters.push(waiter)
      opts.signal?.addEventListener('abort', () => {
        const i = want.waiters.indexOf(waiter)
        if (i !== -1) want.waiters.splice(i, 1)
        reject(opts.signal!.reason ?? new Error('aborted'))
        if (want.waiters.length === 0 && want.peer === null) this.wants.delete(hex)
      }, { once: true })
    })
    // a long run of wants (a sync's chunk list) starts moving after half a window
    // instead of after the whole list has been queued
    if (++this.wantsSincePump >= this.pumpEvery) this.pump()
    else this.schedulePump()
    return p
  }

  /** Whether a peer other than `peer` is connected (for any workspace). */
  hasSourceOtherThan (peer: Peer): boolean {
    for (const p of this.peers) if (p !== peer) return true
    return false
  }

  addPeer (peer: Peer) {
    this.peers.add(peer)
    // a new source: everything parked gets another chance
    const parked = this.parked
    this.parked = []
    for (const w of parked) this.requeue(w, false)
    this.pump()
  }

  removePeer (peer: Peer) {
    if (!this.peers.delete(peer)) return
    for (const w of peer.inflight.values()) { w.peer = null; this.requeue(w, false) }
    peer.inflight.clear()
    peer.inflightBytes = 0
    for (const w of this.wants.values()) w.tried?.delete(peer)
    this.pump()
  }

  /** Objects a peer sent: check each was asked of it and matches its hash, then store. */
  onObjects (peer: Peer, items: ObjectItem[]) {
    return this.receive(peer, items.map(i => ({ hash: i.hash, data: i.data, delta: null, wire: i.data.byteLength })))
  }

  /** Trees a peer sent as deltas against the sketches we sent: rebuilt, then as onObjects. */
  onTreeDeltas (peer: Peer, deltas: TreeDelta[]) {
    return this.receive(peer, deltas.map(d => ({ hash: d.hash, data: null, delta: d, wire: treeDeltaBytes(d) })))
  }

  private async receive (peer: Peer, items: Arrival[]) {
    peer.lastHeard = Date.now()
    const good: Array<{ want: Want | null, hex: string, hash: Buffer, data: Buffer, wire: number }> = []
    // On a violation the whole peer goes; what it already sent right in this batch is
    // given back to the queue (never stranded as "in flight" to a dropped peer).
    const violation = (reason: string, hex: string) => {
      this.stats.rejected++
      this.failures.push({ peer: peer.id, hex, reason, time: Date.now(), owner: this.wants.get(hex)?.owner ?? null })
      if (this.failures.length > MAX_FAILURES) this.failures.shift()
      for (const g of good) if (g.want !== null) { g.want.peer = null; this.requeue(g.want, false) }
      this.reject(peer, reason)
    }
    let retry = false
    for (const item of items) {
      const hex = toHex(item.hash)
      let want: Want | null = peer.inflight.get(hex) ?? null
      const late = want === null && peer.expired.has(hex)
      if (want === null && !late) return violation(`sent object ${hex.slice(0, 12)}… that was not asked of it`, hex)
      let data = item.data
      if (item.delta !== null) {
        const asked = want ?? this.wants.get(hex) ?? null
        if (asked === null || asked.base === null) return violation(`sent tree ${hex.slice(0, 12)}… as a delta it was not asked for`, hex)
        try {
          data = applyDelta(item.delta, asked.base)
        } catch (err) {
          return violation(`sent a malformed delta for tree ${hex.slice(0, 12)}…: ${(err as Error).message}`, hex)
        }
        if (!blake3(data).equals(item.hash)) {
          if (late) { peer.expired.delete(hex); continue }
          // a fingerprint collision or a lie: ask for the tree whole, once
          this.stats.deltaFallbacks++
          this.log(`tree ${hex.slice(0, 12)}… from ${peer.id.slice(0, 12)} did not rebuild from its delta; asking for it whole`)
          peer.inflight.delete(hex)
          peer.inflightBytes -= want!.size
          want!.peer = null
          want!.base = null
          want!.sketch = null
          this.requeue(want!, false)
          retry = true
          continue
        }
        this.stats.deltas++
      }
      const h = blake3(data!)
      if (!h.equals(item.hash)) return violation(`sent corrupt data for object ${hex.slice(0, 12)}…`, hex)
      if (late) {
        peer.expired.delete(hex)
        want = this.wants.get(hex) ?? null // still wanted (asked of someone else since)? this answer settles it
        if (want !== null && want.peer !== null && want.peer !== peer) { want.peer.inflight.delete(hex); want.peer.inflightBytes -= want.size; want.peer = null }
      } else {
        peer.inflight.delete(hex)
        peer.inflightBytes -= want!.size
      }
      peer.received.objects++
      peer.received.bytes += item.wire
      good.push({ want, hex, hash: h, data: data!, wire: item.wire })
    }
    if (retry) this.schedulePump()
    await this.lock.shared(async () => {
      for (const { hex, hash, data } of good) await this.store.putHashed(hex, hash, data)
    })
    for (const { want, hex, data, wire } of good) {
      this.stats.objects++
      this.stats.bytes += data.byteLength
      if (want !== null) {
        this.wants.delete(hex)
        want.peer = null
        for (const w of want.waiters) w.resolve(wire)
      }
      this.onStored?.(hex, data, peer)
    }
    this.scheduleFlush()
    this.schedulePump()
  }

  /** A peer cannot serve these: ask someone else. */
  onMissing (peer: Peer, hashes: Buffer[]) {
    peer.lastHeard = Date.now()
    for (const h of hashes) {
      const hex = toHex(h)
      const want = peer.inflight.get(hex)
      if (want === undefined) continue
      peer.inflight.delete(hex)
      peer.inflightBytes -= want.size
      want.peer = null
      want.tried ??= new Set()
      want.tried.add(peer)
      this.requeue(want, false)
    }
    this.schedulePump()
  }

  close () {
    this.closed = true
    clearInterval(this.ticker)
    if (this.flushTimer) clearTimeout(this.flushTimer)
    if (this.foregroundTimer) clearTimeout(this.foregroundTimer)
    const err = new Error('the network is closed')
    for (const w of this.wants.values()) for (const waiter of w.waiters) waiter.reject(err)
    this.wants.clear()
  }

  get queued () { return this.wants.size }

  /**
   * Drops wants not sent yet and not urgent (a read in a mount made them urgent):
   * their waiters get `reason`. What is in flight arrives and is stored as usual.
   */
  cancel (hexes: Iterable<string>, reason: Error) {
    for (const hex of hexes) {
      const w = this.wants.get(hex)
      if (w === undefined || w.peer !== null || w.priority === URGENT) continue
      this.wants.delete(hex)
      for (const waiter of w.waiters) waiter.reject(reason)
    }
  }

  /** Objects in flight longest, at most `max`: which, from which peer, for whom, since when. */
  inflight (now = Date.now(), max = 10): Array<{ hex: string, peer: string, owner: string | null, size: number, ms: number, urgent: boolean }> {
    const out: Array<{ hex: string, peer: string, owner: string | null, size: number, ms: number, urgent: boolean }> = []
    for (const p of this.peers) for (const w of p.inflight.values()) out.push({ hex: w.hex, peer: p.id, owner: w.owner, size: w.size, ms: now - w.sentAt, urgent: w.priority === URGENT })
    return out.sort((a, b) => b.ms - a.ms).slice(0, max)
  }

  /** Where a wanted object is: asked of a peer (which), queued, or parked because no connected peer has it; null: not wanted. */
  whereIs (hex: string): { state: 'inflight', peer: string } | { state: 'queued' | 'unavailable', peer: null } | null {
    const w = this.wants.get(hex)
    if (w === undefined) return null
    if (w.peer !== null) return { state: 'inflight', peer: w.peer.id }
    return { state: this.parked.includes(w) ? 'unavailable' : 'queued', peer: null }
  }

  /** The last objects that failed verification, oldest first. */
  readonly failures: Failure[] = []

  /**
   * Why what is wanted is not here yet: queued, in flight, that no connected peer
   * has; and objects that failed verification. With `owner`, only what that
   * workspace's sync asked for; with null, what reads asked for (a mount, an export).
   */
  breakdown (owner?: string | null): { queued: number, inflight: number, unavailable: number, failed: number } {
    const parked = new Set<Want>()
    for (const w of this.parked) if (w.peer === null) parked.add(w)
    let queued = 0
    let inflight = 0
    let unavailable = 0
    for (const w of this.wants.values()) {
      if (owner !== undefined && w.owner !== owner) continue
      if (w.peer !== null) inflight++
      else if (parked.has(w)) unavailable++
      else queued++
    }
    const failed = owner === undefined ? this.stats.rejected : this.failures.filter(f => f.owner === owner).length
    return { queued, inflight, unavailable, failed }
  }

  private reject (peer: Peer, reason: string) {
    this.log(`dropping peer ${peer.id.slice(0, 12)}: ${reason}`)
    peer.drop(reason)
    this.removePeer(peer)
  }

  private requeue (want: Want, front: boolean) {
    if (this.closed || !this.wants.has(want.hex)) return
    this.enqueue(want)
    void front
  }

  /**
   * Pumps once the current tick's work is done (a microtask: no added latency), so
   * every want made in one go (a sync's level of trees, its list of chunks) and every
   * slot freed by a burst of answers goes out as one batched request. Pumping on each
   * want sent one hash per request: the peer then answered one object per message,
   * and the sync ran at one message round per object.
   */
  private schedulePump () {
    if (this.pumpScheduled || this.closed) return
    this.pumpScheduled = true
    queueMicrotask(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  /** Fills every peer's window from the urgent queue, then the background queue. */
  private pump () {
    this.wantsSincePump = 0
    if (this.pumping) { this.pumpAgain = true; return }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        this.fill()
      } while (this.pumpAgain)
    } finally {
      this.pumping = false
    }
  }

  private fill () {
    if (this.peers.size === 0) return
    const batches = new Map<Peer, Buffer[]>()
    const treeBatches = new Map<Peer, { items: TreeRequest[], bytes: number }>()
    const take = (q: Queue<Want>, bit: number, objects: number): boolean => {
      while (q.length > 0) {
        const want = q.shift()!
        want.queued &= ~bit
        if (want.peer !== null || !this.wants.has(want.hex)) continue
        if (this.store.hasHex(want.hex)) { this.settle(want); continue }
        const peer = this.choose(want, objects)
        if (peer === 'none') { this.parked.push(want); continue }
        if (peer === 'full') {
          // the peers that could serve it are busy: put it back and stop for now
          want.queued |= bit
          q.push(want)
          return false
        }
        want.peer = peer
        want.sentAt = Date.now()
        peer.inflight.set(want.hex, want)
        peer.inflightBytes += want.size
        if (want.sketch !== null && peer.requestTrees !== undefined) {
          let trees = treeBatches.get(peer)
          if (trees === undefined) { trees = { items: [], bytes: 0 }; treeBatches.set(peer, trees) }
          if (trees.bytes + want.sketch.byteLength > MAX_SKETCH_BYTES_PER_MESSAGE) { peer.requestTrees(trees.items); trees.items = []; trees.bytes = 0 }
          trees.items.push({ hash: want.hash, sketch: want.sketch })
          trees.bytes += want.sketch.byteLength
          if (trees.items.length >= MAX_TREE_REQUESTS) { peer.requestTrees(trees.items); trees.items = []; trees.bytes = 0 }
          continue
        }
        let batch = batches.get(peer)
        if (batch === undefined) { batch = []; batches.set(peer, batch) }
        batch.push(want.hash)
        if (batch.length >= MAX_REQUEST_HASHES) { peer.request(batch); batches.set(peer, []) }
      }
      return true
    }
    for (let i = 0; i < this.queues.length; i++) if (!take(this.queues[i], 1 << i, i === BACKGROUND ? this.backgroundWindow() : this.windowObjects)) break
    for (const [peer, trees] of treeBatches) if (trees.items.length > 0) peer.requestTrees!(trees.items)
    for (const [peer, batch] of batches) if (batch.length > 0) peer.request(batch)
  }

  /** Puts a want in the queue of its priority, once. */
  private enqueue (want: Want) {
    const bit = 1 << want.priority
    if (want.queued & bit) return
    want.queued |= bit
    this.queues[want.priority].push(want)
  }

  private roomFor (p: Peer, size: number, objects = this.windowObjects) {
    return p.inflight.size < objects && (p.inflightBytes + size <= this.windowBytes || p.inflight.size === 0)
  }

  /**
   * Objects a peer may have in flight for the background queue: the whole window,
   * or a sliver of it while a program is using a mount (what arrives is verified and
   * stored on the one thread that also answers the mount: measured, reading 1,000
   * local files in a mount took 2.9 s while 100 MiB streamed in behind, 0.55 s after).
   * A pump is due when the mount goes quiet, to open the window again.
   */
  private backgroundWindow (): number {
    const since = performance.now() - this.store.lastForeground
    if (since >= FOREGROUND_MS) return this.windowObjects
    if (this.foregroundTimer === null) {
      this.foregroundTimer = setTimeout(() => { this.foregroundTimer = null; this.pump() }, FOREGROUND_MS - since + 1)
      this.foregroundTimer.unref()
    }
    return Math.min(this.windowObjects, FOREGROUND_WINDOW)
  }

  /**
   * The least-loaded peer with room that has not refused this object, preferring
   * peers whose workspace reaches it. 'none': every peer refused it; 'full': no room now.
   */
  private choose (want: Want, objects = this.windowObjects): Peer | 'none' | 'full' {
    let best: Peer | null = null
    let bestScore = Infinity
    let anyUntried = false
    let answering = false
    let quiet: Peer | null = null
    for (const p of this.peers) {
      if (want.tried?.has(p)) continue
      anyUntried = true
      // a peer whose requests were taken back for its silence gets nothing new
      // while another could take it, even later: it is the last resort
      const silent = (this.silentAt.get(p) ?? -1) >= p.lastHeard
      if (!silent) answering = true
      if (!this.roomFor(p, want.size, objects)) continue
      if (silent) { quiet ??= p; continue }
      const score = p.inflightBytes + (p.reaches(want.hex) ? 0 : this.windowBytes * 2)
      if (score < bestScore) { best = p; bestScore = score }
    }
    if (!anyUntried) return 'none'
    return best ?? (answering ? 'full' : quiet ?? 'full')
  }

  private settle (want: Want) {
    this.wants.delete(want.hex)
    for (const w of want.waiters) w.resolve(0)
  }

  /**
   * A peer silent for peerTimeoutMs with requests in flight is timed out: they go
   * to others. Sooner, when another peer is answering (or idle), they are asked of
   * it: reads in a mount and directory listings after hedgeMs, content after three
   * times that. A peer that went away silently (a laptop lid closed, a stopped
   * process) would otherwise hang an editor, or a whole sync waiting on its
   * listings, for the whole timeout. A late answer from it is still accepted.
   */
  private checkTimeouts () {
    const now = Date.now()
    // a peer not known to be silent: idle, or heard from lately
    let answering = 0
    for (const p of this.peers) if (p.inflight.size === 0 || now - p.lastHeard < this.hedgeMs) answering++
    for (const peer of [...this.peers]) {
      if (peer.inflight.size === 0) continue
      if (now - peer.lastHeard < this.hedgeMs) continue
      let oldest = Infinity
      for (const w of peer.inflight.values()) oldest = Math.min(oldest, w.sentAt)
      if (now - peer.lastHeard >= this.peerTimeoutMs && now - oldest >= this.peerTimeoutMs) {
        this.log(`peer ${peer.id.slice(0, 12)} did not answer ${peer.inflight.size} request(s) in ${this.peerTimeoutMs} ms; asking others`)
        for (const w of [...peer.inflight.values()]) this.expire(peer, w)
        continue
      }
      if (answering === 0) continue
      let moved = 0
      // reads and directory listings (everything else waits on them) after hedgeMs,
      // the rest after three times that (a slow link is not taken for a dead one)
      const silence = now - peer.lastHeard
      for (const w of [...peer.inflight.values()]) {
        const after = w.priority === BACKGROUND ? 3 * this.hedgeMs : this.hedgeMs
        if (silence < after || now - w.sentAt < after) continue
        this.expire(peer, w)
        moved++
      }
      if (moved > 0) {
        this.silentAt.set(peer, now)
        this.stats.hedged += moved
        this.log(`peer ${peer.id.slice(0, 12)} silent for ${silence} ms: ${moved} request(s) waiting on it asked of others`)
      }
    }
    this.pump()
  }

  /** Takes back a request from a peer that does not answer: asked of others, a late answer still taken. */
  private expire (peer: Peer, w: Want) {
    peer.inflight.delete(w.hex)
    peer.inflightBytes -= w.size
    w.peer = null
    ;(w.tried ??= new Set()).add(peer)
    peer.expired.add(w.hex)
    this.requeue(w, false)
  }

  private scheduleFlush () {
    if (this.flushTimer !== null) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      this.store.flush().catch(err => this.log(`flushing fetched objects failed: ${err?.message ?? err}`))
    }, 500)
    this.flushTimer.unref()
  }
}
