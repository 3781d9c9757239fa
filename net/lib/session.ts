/**
 * One workspace on the network: announced (shared) or followed (joined).
 * Holds its object channels, what its log reaches, the peers it banned, and,
 * for a joined workspace, the background sync of its current commit: all
 * trees first (small, and what makes the tree browsable), then the chunks.
 */
import { discoveryKey } from 'hypercore-crypto'
import type Protomux from 'protomux'
import { CHUNK_SIZE, toHex, type PackStore } from '../../core/index.js'
import { DIR, FILE, type Engine, type Workspace } from '../../manifests/index.js'
import type { Status } from '../messages.js'
import { ObjectChannel, type Connection } from './channel.js'
import type { Downloader } from './downloader.js'
import { Reachable } from './reachable.js'

export interface SyncProgress {
  seq: number
  phase: 'idle' | 'trees' | 'chunks' | 'complete'
  objects: number
  totalObjects: number | null
  bytes: number
  totalBytes: number | null
  /** Objects and bytes that came over the network in this sync. */
  fetchedObjects: number
  fetchedBytes: number
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
  /** The swarm's discovery of this workspace's topic. */
  discovery: { refresh (opts: { client: boolean, server: boolean }): Promise<void> } | null = null
  /** Resolves once the DHT holds this workspace's announcement. */
  announced: Promise<unknown> = Promise.resolve()
  /** Fetch everything in the background (else only on demand, and on wxs sync). */
  prefetch = true
  progress: SyncProgress = { seq: -1, phase: 'idle', objects: 0, totalObjects: null, bytes: 0, totalBytes: null, fetchedObjects: 0, fetchedBytes: 0, complete: false }
  private readonly banned = new Set<string>()
  private readonly logLine: (line: string) => void
  private readonly onHeadCb: SessionOptions['onHead']
  private offHead: (() => void) | null = null
  private syncGen = 0
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
    this.logLine = opts.log
    this.onHeadCb = opts.onHead
    this.reachable = new Reachable(opts.engine.trees, opts.ws)
  }

  get name () { return this.ws.name || toHex(this.key).slice(0, 12) }
  get store (): PackStore { return this.engine.store }
  get following () { return this.ws.remote }

  log (line: string) { this.logLine(`[${this.name}] ${line}`) }

  async start () {
    await this.reachable.update()
    this.offHead = this.ws.onHead(() => { this.headMoved().catch(err => this.log(`following the new head failed: ${err?.message ?? err}`)) })
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
    ch.sendStatus(this.status())
    this.log(`peer ${ch.id.slice(0, 12)} connected${ch.address ? ' from ' + ch.address : ''}`)
  }

  peerClosed (ch: ObjectChannel) {
    if (!this.channels.delete(ch)) return
    this.downloader.removePeer(ch)
    this.log(`peer ${ch.id.slice(0, 12)} disconnected`)
  }

  ban (peerId: string) { this.banned.add(peerId) }
  isBanned (peerId: string) { return this.banned.has(peerId) }

  status (): Status {
    let objects = 0
    for (const hex of this.reachable.objects) if (this.store.hasHex(hex)) objects++
    const complete = this.following ? this.progress.complete : true
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

  /** A fetched tree may extend what this workspace reaches. */
  objectStored (hex: string) {
    this.reachable.treeArrived(hex).catch(() => {})
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

  /** (Re)starts the background sync of the current commit; a newer head supersedes a running one. */
  startSync () {
    const gen = ++this.syncGen
    this.syncing = true
    this.runSync(gen)
      .catch(err => { if (gen === this.syncGen) this.log(`sync stopped: ${err?.message ?? err}`) })
      .finally(() => { if (gen === this.syncGen) this.syncing = false })
  }

  private async runSync (gen: number) {
    const rec = this.ws.current
    if (rec === null) return
    const p: SyncProgress = { seq: rec.seq, phase: 'trees', objects: 0, totalObjects: null, bytes: 0, totalBytes: rec.stats.bytes, fetchedObjects: 0, fetchedBytes: 0, complete: false }
    this.progress = p
    const stale = () => gen !== this.syncGen || this.closed
    const fetched = (hex: string, size: number) => {
      if (this.store.hasHex(hex)) return Promise.resolve(false)
      return this.downloader.want(hex, { size }).then(() => { p.fetchedObjects++; p.fetchedBytes += size; return true })
    }
    // trees, level by level
    const chunks: Array<{ hex: string, size: number }> = []
    const seen = new Set<string>()
    let level = [toHex(rec.root)]
    let treeCount = 0
    let chunkBytes = 0
    while (level.length > 0) {
      await Promise.all(level.map(hex => fetched(hex, 4096)))
      if (stale()) return
      const next: string[] = []
      for (const hex of level) {
        treeCount++
        p.objects++
        const t = await this.engine.trees.get(hex, { local: true })
        for (const e of t.entries) {
          if (e.type === DIR) {
            const sub = toHex(e.tree!)
            if (!seen.has(sub)) { seen.add(sub); next.push(sub) }
          } else if (e.type === FILE) {
            for (let i = 0; i < e.chunks.length; i++) {
              const size = Math.min(CHUNK_SIZE, e.size - i * CHUNK_SIZE)
              chunks.push({ hex: toHex(e.chunks[i]), size })
              chunkBytes += size
            }
          }
        }
      }
      level = next
    }
    await this.reachable.update()
    // chunks: those already local (from any workspace) count as done
    p.phase = 'chunks'
    p.totalObjects = treeCount + chunks.length
    p.totalBytes = chunkBytes
    const missing: Array<{ hex: string, size: number }> = []
    const counted = new Set<string>()
    for (const ch of chunks) {
      if (this.store.hasHex(ch.hex)) { p.objects++; p.bytes += ch.size } else if (!counted.has(ch.hex)) { counted.add(ch.hex); missing.push(ch) } else { p.objects++; p.bytes += ch.size }
    }
    await Promise.all(missing.map(ch => fetched(ch.hex, ch.size).then(() => { p.objects++; p.bytes += ch.size })))
    if (stale()) return
    p.objects = p.totalObjects
    p.bytes = p.totalBytes
    p.phase = 'complete'
    p.complete = true
    this.log(`sync of commit ${rec.seq} complete: ${p.fetchedObjects} objects (${p.fetchedBytes} bytes) fetched`)
    this.announceStatus()
    const waiters = this.completeWaiters
    this.completeWaiters = []
    for (const w of waiters) w()
  }
}
