/**
 * One workspace on the network: announced (shared) or followed (joined).
 * Holds its object channels, what its log reaches, the peers it banned, and,
 * for a joined workspace, the background sync of its current commit: all
 * trees first (small, and what makes the tree browsable), then the chunks.
 * Each tree is asked for as a delta against the tree at the same path of a
 * base held locally: the previous commit when following, else the local
 * workspace whose root looks most like the one joined.
 */
import { discoveryKey } from 'hypercore-crypto'
import type Protomux from 'protomux'
import { CHUNK_SIZE, toHex, type PackStore } from '../../core/index.js'
import { DIR, FILE, type Engine, type Workspace } from '../../manifests/index.js'
import type { Entry, Tree } from '../../manifests/messages.js'
import type { Status } from '../messages.js'
import { ObjectChannel, type Connection } from './channel.js'
import { TREE, BACKGROUND, type Downloader, type Priority } from './downloader.js'
import { Reachable } from './reachable.js'
import { baseEntries } from './tree-delta.js'

/** Workspaces looked at when choosing a base for a join's trees. */
const MAX_BASE_CANDIDATES = 64
/** The sync walk gives the event loop a turn at least this often (ms), so requests go out while it expands trees. */
const YIELD_MS = 4

export interface SyncProgress {
  seq: number
  phase: 'idle' | 'trees' | 'chunks' | 'complete'
  objects: number
  totalObjects: number | null
  bytes: number
  totalBytes: number | null
  /** Objects that came over the network in this sync, and their size. */
  fetchedObjects: number
  fetchedBytes: number
  /** What they took on the wire (less than fetchedBytes when trees came as deltas). */
  receivedBytes: number
  complete: boolean
}

export interface SessionOptions {
  ws: Workspace
  engine: Engine
  downloader: Downloader
  role: 'share' | 'join'
  log: (line: string) => void
  /** The current commit moved (a joined workspace got new commits). */
  onHead?: (session: Session) => void
  /**
   * An earlier log of a moved workspace, kept on the network under the name of
   * the workspace that continues it: peers that know only the old key still
   * find this daemon, and the content the pause reached streams in through it.
   */
  aliasOf?: string
  /** A peer named logs that continue this one (unverified: the network checks them). */
  onMoved?: (session: Session, keys: Buffer[]) => void
}

export class Session {
  readonly ws: Workspace
  readonly key: Buffer
  readonly discoveryKey: Buffer
  readonly reachable: Reachable
  readonly channels = new Set<ObjectChannel>()
  readonly downloader: Downloader
  readonly engine: Engine
  role: 'share' | 'join'
  /** Set for an earlier log of a moved workspace: the name of the workspace that continues it. */
  aliasOf: string | null
  /** Logs verified to continue this one (hex); two are a conflict: reported, never resolved silently. */
  readonly continuations = new Map<string, Buffer>()
  private readonly onMovedCb: SessionOptions['onMoved']
  /** The swarm's discovery of this workspace's topic. */
  discovery: { refresh (opts: { client: boolean, server: boolean }): Promise<void> } | null = null
  /** Resolves once the DHT holds this workspace's announcement. */
  announced: Promise<unknown> = Promise.resolve()
  /** Fetch everything in the background (else only on demand, and on wxs sync). */
  prefetch = true
  progress: SyncProgress = { seq: -1, phase: 'idle', objects: 0, totalObjects: null, bytes: 0, totalBytes: null, fetchedObjects: 0, fetchedBytes: 0, receivedBytes: 0, complete: false }
  private readonly banned = new Set<string>()
  private readonly logLine: (line: string) => void
  private readonly onHeadCb: SessionOptions['onHead']
  private offHead: (() => void) | null = null
  private syncGen = 0
  /** What the running sync asked for (stopSync cancels what is still queued). */
  private syncWanted: { trees: Set<string>, chunks: Set<string> } | null = null
  private syncing = false
  private completeWaiters: Array<() => void> = []
  private statusTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor (opts: SessionOptions) {
    this.ws = opts.ws
    this.key = opts.ws.key
    this.discoveryKey = discoveryKey(opts.ws.key)
    this.engine = opts.engine
    this.downloader = opts.downloader
    this.role = opts.role
    this.aliasOf = opts.aliasOf ?? null
    this.onMovedCb = opts.onMoved
    this.logLine = opts.log
    this.onHeadCb = opts.onHead
    this.reachable = new Reachable(opts.engine.trees, opts.ws, hex => this.store.hasHex(hex))
  }

  get name () { return this.aliasOf ?? (this.ws.name || toHex(this.key).slice(0, 12)) }
  get store (): PackStore { return this.engine.store }
  get following () { return this.ws.remote }
  /**
   * Whether objects this workspace reaches but lacks are fetched from other peers
   * for a peer that asks (see ObjectChannel.relay). A shared workspace: its content
   * may have come from a workspace joined lazily (a fork) and the asker has no other
   * way to it. A followed one answers missing: its askers also reach the sharer.
   */
  get relays () { return !this.ws.remote }

  log (line: string) { this.logLine(`[${this.name}] ${line}`) }

  /** An earlier log now serves the workspace resumed as `name`. */
  relabel (name: string) { this.aliasOf = name }

  /**
   * Starts following the log and serving it. `expandLater`: the set of what the
   * log reaches is built when first needed (the first request a peer makes, or
   * the end of a resume's working set: Network.fetchWorkingSet) instead of before
   * returning. Measured on a resume of 100k files: ~150 ms of CPU plus its garbage
   * right before the mount, and run in slices beside the mount it slowed that by
   * as much. A request waits for the set (ObjectChannel: reachable.idle()).
   */
  async start (opts: { expandLater?: boolean } = {}) {
    if (opts.expandLater) this.reachable.defer()
    else await this.reachable.update()
    const offHead = this.ws.onHead(() => { this.headMoved().catch(err => this.log(`following the new head failed: ${err?.message ?? err}`)) })
    // a pause record moves no head but peers waiting for "holds everything at this length" need to hear it
    const onAppend = () => this.announceStatus()
    this.ws.core.on('append', onAppend)
    this.offHead = () => { offHead(); this.ws.core.off('append', onAppend) }
    if (this.following && this.prefetch && this.ws.current !== null) this.startSync()
  }

  /** Makes sure a sync of the current commit runs (wxs sync on a lazy workspace). */
  ensureSync () {
    const current = this.ws.current
    if (current === null) return
    if (this.progress.seq !== current.seq || (!this.progress.complete && !this.syncing)) this.startSync()
  }

  /** Opens this workspace's object channel on a connection (once per connection). */
  attach (conn: Connection, mux: Protomux) {
    if (this.closed) return
    for (const ch of this.channels) if (ch.conn === conn) return
    try {
      // the channel registers itself when the remote proves it holds the key
      new ObjectChannel(this, conn, mux) // eslint-disable-line no-new
    } catch (err) {
      this.log(`cannot open object channel: ${(err as Error).message}`)
    }
  }

  peerOpened (ch: ObjectChannel) {
    this.channels.add(ch)
    this.downloader.addPeer(ch)
    // before the status: a peer that has our status has heard where the workspace went
    ch.sendMoved([...this.continuations.values()])
    ch.sendStatus(this.status())
    this.log(`peer ${ch.id.slice(0, 12)} connected${ch.address ? ' from ' + ch.address : ''}`)
  }

  peerClosed (ch: ObjectChannel) {
    if (!this.channels.delete(ch)) return
    this.downloader.removePeer(ch)
    this.log(`peer ${ch.id.slice(0, 12)} disconnected`)
  }

  /** A peer says these logs continue this one. */
  movedHeard (keys: Buffer[], _from: ObjectChannel) {
    const unknown = keys.filter(k => !this.continuations.has(toHex(k)) && !k.equals(this.key))
    if (unknown.length > 0) this.onMovedCb?.(this, unknown)
  }

  /** Records a verified continuation and tells every peer. True when it was new. */
  addContinuation (key: Buffer): boolean {
    if (this.continuations.has(toHex(key))) return false
    this.continuations.set(toHex(key), key)
    for (const ch of this.channels) ch.sendMoved([key])
    return true
  }

  /** Two different logs continue this one: two resumes of one pause while the peers could not see each other. */
  get conflict (): string[] | null {
    return this.continuations.size > 1 ? [...this.continuations.keys()] : null
  }

  ban (peerId: string) { this.banned.add(peerId) }
  isBanned (peerId: string) { return this.banned.has(peerId) }

  status (): Status {
    const objects = this.reachable.held
    // a shared workspace may reach objects it does not hold (a fork of a lazy join: it relays them)
    const complete = this.following ? this.progress.complete : this.reachable.complete
    return { length: this.ws.core.length, objects, complete }
  }

  /** Sends our status to every peer, at most once a second. */
  announceStatus () {
    if (this.statusTimer !== null || this.closed) return
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null
      const s = this.status()
      for (const ch of this.channels) ch.sendStatus(s)
    }, 1000)
    this.statusTimer.unref()
  }

  /**
   * A fetched tree may extend what this workspace reaches. A tree this workspace
   * waits for is decoded from the bytes just verified, so the walks that expand it
   * next find it cached instead of reading it back from the packs.
   */
  objectStored (hex: string, data: Buffer) {
    if (this.reachable.awaits(hex)) this.engine.trees.admit(hex, data)
    this.reachable.stored(hex)
    this.reachable.treeArrived(hex)
  }

  /**
   * Fetches every tree `root` reaches (not their content), at tree priority,
   * as deltas against nothing: what a resume needs before it mounts.
   */
  async fetchTrees (root: Buffer, signal: AbortSignal): Promise<number> {
    let count = 0
    const asked = new Set<string>()
    const visit = async (hex: string): Promise<void> => {
      if (!this.store.hasHex(hex)) { asked.add(hex); await this.downloader.want(hex, { size: 4096, priority: TREE, owner: this.name }) }
      count++
      const children = await this.engine.trees.subtrees(hex, { local: true })
      await Promise.all(children.map(h => visit(toHex(h))))
    }
    // one abort listener for the walk, not one per tree (each addEventListener on a signal scans its listeners)
    const walk = visit(toHex(root))
    walk.catch(() => {})
    const aborted = new Promise<never>((_resolve, reject) => {
      if (signal.aborted) reject(signal.reason)
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
    aborted.catch(() => {})
    try {
      await Promise.race([walk, aborted])
    } catch (err) {
      this.downloader.cancel(asked, err as Error)
      throw err
    }
    return count
  }

  /**
   * Asks for the content of `paths` under `root` ahead of the background sync
   * (a resume's working set). Resolves with how many objects were wanted and
   * fetched; paths that no longer exist or are not files are skipped.
   */
  async fetchPaths (root: Buffer, paths: string[], onProgress?: (done: number, total: number) => void): Promise<{ paths: number, objects: number, fetched: number }> {
    const wanted = new Map<string, number>()
    let files = 0
    for (const p of paths) {
      const e = await this.engine.entryAt(root, p)
      if (e === null || e.type !== FILE) continue
      files++
      e.chunks.forEach((h, i) => { const hex = toHex(h); if (!this.store.hasHex(hex)) wanted.set(hex, Math.min(CHUNK_SIZE, e.size - i * CHUNK_SIZE)) })
    }
    let done = 0
    onProgress?.(0, wanted.size)
    const results = await Promise.allSettled([...wanted].map(([hex, size]) => this.downloader.want(hex, { size, urgent: true, owner: this.name }).then(() => { onProgress?.(++done, wanted.size) })))
    return { paths: files, objects: wanted.size, fetched: results.filter(r => r.status === 'fulfilled').length }
  }

  /** Resolves when everything the current commit reaches is local. */
  whenComplete (): Promise<void> {
    if (this.progress.complete && this.progress.seq === (this.ws.current?.seq ?? -1)) return Promise.resolve()
    return new Promise(resolve => this.completeWaiters.push(resolve))
  }

  async close () {
    this.closed = true
    this.syncGen++
    this.offHead?.()
    if (this.statusTimer) clearTimeout(this.statusTimer)
    for (const ch of [...this.channels]) ch.close()
    this.channels.clear()
  }

  private async headMoved () {
    await this.reachable.update()
    this.announceStatus()
    if (this.following && this.prefetch) this.startSync()
    this.onHeadCb?.(this)
  }

  /** The entries of local tree `hex`, to offer as a delta base. */
  private baseOf (hex: string | null): Buffer[] | null {
    if (hex === null || !this.store.hasHex(hex)) return null
    try {
      return baseEntries(this.store.getLocalSync(hex))
    } catch {
      return null
    }
  }

  private async localTree (hex: string): Promise<Tree | null> {
    try {
      return await this.engine.trees.get(hex, { local: true })
    } catch {
      return null
    }
  }

  /** The root of the latest earlier commit of this workspace that is local (following: most of a new commit is the old one). */
  private async previousRoot (seq: number): Promise<string | null> {
    for (let s = seq - 1; s >= 0 && s >= seq - 8; s--) {
      const rec = await this.ws.getCommit(s)
      if (rec !== null && this.store.hasHex(toHex(rec.root))) return toHex(rec.root)
    }
    return null
  }

  /**
   * A first join has no earlier commit: the base is the root of the local
   * workspace that shares the most top-level names with the joined root (a fork
   * or an older copy of the same project), or null.
   */
  private async similarRoot (root: Tree, rootHex: string): Promise<string | null> {
    const names = new Set(root.entries.map(e => e.name))
    let best: string | null = null
    let bestScore = 0
    for (const name of this.engine.names().slice(0, MAX_BASE_CANDIDATES)) {
      let ws: Workspace
      try {
        ws = await this.engine.workspace(name)
      } catch {
        continue
      }
      const cur = ws.key.equals(this.key) ? null : ws.current
      if (cur === null) continue
      const hex = toHex(cur.root)
      if (hex === rootHex) continue
      const t = await this.localTree(hex)
      if (t === null) continue
      let score = 0
      for (const e of t.entries) if (names.has(e.name)) score++
      if (score > bestScore) { best = hex; bestScore = score }
    }
    return best
  }

  /** (Re)starts the background sync of the current commit; a newer head supersedes a running one. */
  startSync () {
    const gen = ++this.syncGen
    this.syncing = true
    this.runSync(gen)
      .catch(err => { if (gen === this.syncGen) this.log(`sync stopped: ${err?.message ?? err}`) })
      .finally(() => { if (gen === this.syncGen) this.syncing = false })
  }

  /** Stops the background fetch (wxs top's `p`): what it queued and nobody else wants is dropped; reads in the mount still fetch. */
  stopSync () {
    this.syncGen++
    this.syncing = false
    // what the sync queued and nobody reads: no abort listener per want (100k of them on one
    // signal made every want O(n): reading a mount during a 100k-file fetch took 73 s, measured)
    const wanted = this.syncWanted
    this.syncWanted = null
    if (wanted !== null) this.downloader.cancel([...wanted.trees, ...wanted.chunks], new Error('background fetch paused'))
  }

  private async runSync (gen: number) {
    const rec = this.ws.current
    if (rec === null) return
    const p: SyncProgress = { seq: rec.seq, phase: 'trees', objects: 0, totalObjects: null, bytes: 0, totalBytes: rec.stats.bytes, fetchedObjects: 0, fetchedBytes: 0, receivedBytes: 0, complete: false }
    this.progress = p
    const stale = () => gen !== this.syncGen || this.closed
    const fetched = (hex: string, size: number, priority: Priority, baseHex: string | null = null) => {
      if (this.store.hasHex(hex)) return Promise.resolve(false)
      return this.downloader.want(hex, { size, priority, base: this.baseOf(baseHex), owner: this.name }).then(wire => { p.fetchedObjects++; p.fetchedBytes += this.store.objectSize(hex) ?? size; p.receivedBytes += wire; return true })
    }
    // Trees and chunks in one walk: each tree is asked for at TREE priority, and
    // as soon as it is here its files' chunks are queued at BACKGROUND priority.
    // The downloader serves every queued tree before any chunk (and a read in the
    // mount before both), so trees still come first, without a barrier between
    // the two (which cost a round trip per tree level before the first chunk).
    const seen = new Set<string>()
    const counted = new Set<string>()
    this.syncWanted = { trees: seen, chunks: counted }
    const trees: Array<Promise<void>> = []
    // chunks are counted, not collected: one promise per chunk (the want's) and no 10k-long await loop
    let chunksLeft = 0
    let treesDone = false
    let chunkError: unknown = null
    let chunksDone: () => void = () => {}
    const allChunks = new Promise<void>(resolve => { chunksDone = resolve })
    const chunkSettled = () => { if (--chunksLeft === 0 && treesDone) chunksDone() }
    let treeCount = 0
    let chunkCount = 0
    let chunkBytes = 0
    const rootHex = toHex(rec.root)
    // Expanding trees is synchronous work (every entry's chunks are wanted); without
    // a turn of the event loop now and then, the chunk requests it queues would sit
    // unsent until the last tree is expanded (measured: 10k files in 100 directories
    // held back the first chunk request ~110 ms, with the sharer idle).
    let lastYield = performance.now()
    let turn: Promise<void> | null = null
    // every visit in progress waits on the same turn (a yield in one visit alone
    // would leave the others running in the microtask queue)
    const breathe = (): Promise<void> | null => {
      if (turn === null && performance.now() - lastYield >= YIELD_MS) {
        turn = new Promise<void>(resolve => setImmediate(() => { turn = null; lastYield = performance.now(); resolve() }))
      }
      return turn
    }
    const visit = async (hex: string, baseHex: string | null): Promise<void> => {
      await fetched(hex, 4096, TREE, baseHex)
      if (stale()) return
      treeCount++
      p.objects++
      const t = await this.engine.trees.get(hex, { local: true })
      for (let wait = breathe(); wait !== null; wait = breathe()) await wait
      if (stale()) return
      // a base matters only for subtrees still to fetch (a sync of a local tree opens no workspace)
      const fetching = t.entries.some(e => e.type === DIR && !this.store.hasHex(toHex(e.tree!)))
      if (fetching && hex === rootHex && baseHex === null) baseHex = await this.similarRoot(t, hex)
      const base = !fetching || baseHex === null ? null : await this.localTree(baseHex)
      const byName = base === null ? null : new Map<string, Entry>(base.entries.map(e => [e.name, e]))
      for (const e of t.entries) {
        if (e.type === DIR) {
          const sub = toHex(e.tree!)
          const b = byName?.get(e.name)
          if (!seen.has(sub)) { seen.add(sub); trees.push(visit(sub, b?.type === DIR ? toHex(b.tree!) : null)) }
        } else if (e.type === FILE) {
          for (let i = 0; i < e.chunks.length; i++) {
            const size = Math.min(CHUNK_SIZE, e.size - i * CHUNK_SIZE)
            const chunk = toHex(e.chunks[i])
            chunkCount++
            chunkBytes += size
            if (this.store.hasHex(chunk) || counted.has(chunk)) { p.objects++; p.bytes += size; continue } // local already (any workspace), or a duplicate
            counted.add(chunk)
            chunksLeft++
            this.downloader.want(chunk, { size, priority: BACKGROUND, hash: e.chunks[i], owner: this.name }).then(wire => {
              p.fetchedObjects++
              p.fetchedBytes += size
              p.receivedBytes += wire
              p.objects++
              p.bytes += size
              chunkSettled()
            }, err => { chunkError ??= err; chunkSettled() })
          }
        }
      }
    }
    trees.push(visit(rootHex, this.store.hasHex(rootHex) ? null : await this.previousRoot(rec.seq)))
    for (let i = 0; i < trees.length; i++) await trees[i]
    if (stale()) return
    await this.reachable.update()
    p.phase = 'chunks'
    p.totalObjects = treeCount + chunkCount
    p.totalBytes = chunkBytes
    treesDone = true
    if (chunksLeft === 0) chunksDone()
    await allChunks
    if (chunkError !== null) throw chunkError
    if (stale()) return
    p.objects = p.totalObjects
    p.bytes = p.totalBytes
    p.phase = 'complete'
    p.complete = true
    this.reachable.recount()
    this.log(`sync of commit ${rec.seq} complete: ${p.fetchedObjects} objects (${p.fetchedBytes} bytes) fetched`)
    this.announceStatus()
    const waiters = this.completeWaiters
    this.completeWaiters = []
    for (const w of waiters) w()
  }
}
