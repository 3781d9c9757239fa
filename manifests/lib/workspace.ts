/**
 * One workspace = one Hypercore with a Hyperbee on it:
 *   meta                 -> WorkspaceMeta
 *   commits/<seq>        -> Commit (seq zero-padded so keys sort numerically)
 *   snapshots/<label>    -> Snapshot
 * The log is only appended to: a restore is a new commit pointing at an old root.
 */
import c from 'compact-encoding'
import Hyperbee from 'hyperbee'
import type Hypercore from 'hypercore'
import { Resource, toHex } from '../../core/index.js'
import { commit as commitEncoding, snapshot as snapshotEncoding, workspaceMeta, pauseRecord, continuation as continuationEncoding, type Commit, type Snapshot, type WorkspaceMeta, type PauseRecord, type Continuation } from '../messages.js'
import { ManifestError } from './errors.js'

const COMMIT_PREFIX = 'commits/'
const SNAPSHOT_PREFIX = 'snapshots/'
const PAUSE_PREFIX = 'pauses/'
const CONTINUATION_PREFIX = 'continuations/'
const seqKey = (seq: number) => COMMIT_PREFIX + String(seq).padStart(12, '0')
const hopKey = (prefix: string, hop: number) => prefix + String(hop).padStart(6, '0')

export interface CommitRecord extends Commit { seq: number }

/** One move of the writer role: the pause, and the continuation that resumed it (null while paused). */
export interface Move { hop: number, pause: PauseRecord, pauseBytes: Buffer, continuation: Continuation | null }

export class Workspace extends Resource {
  readonly core: Hypercore
  readonly bee: Hyperbee<Buffer>
  meta: WorkspaceMeta | null = null
  head: CommitRecord | null = null
  snapshotCount = 0
  /** Local name (the registry's; a joined workspace's log carries its sharer's name). */
  localName = ''
  /** A joined workspace follows a log written elsewhere: no local commits. */
  remote = false
  /** A joined workspace pinned to a snapshot shows that commit instead of the head. */
  pin: string | null = null
  pinned: CommitRecord | null = null
  /** Every move of this workspace so far, oldest first (the log carries its whole lineage). */
  moves: Move[] = []
  private readonly headListeners = new Set<(ws: Workspace) => void>()
  private refreshing: Promise<void> | null = null
  private refreshAgain = false
  private readonly onAppend = () => { this.refresh().catch(() => {}) }

  constructor (core: Hypercore) {
    super()
    this.core = core
    this.bee = new Hyperbee<Buffer>(core, { keyEncoding: 'utf-8', valueEncoding: 'binary' })
  }

  protected async _open () {
    await this.bee.ready()
    await this.load()
    this.core.on('append', this.onAppend)
  }

  protected async _close () {
    this.core.off('append', this.onAppend)
    this.headListeners.clear()
    await this.bee.close()
  }

  private async load () {
    const meta = await this.bee.get('meta')
    if (meta) this.meta = c.decode(workspaceMeta, meta.value)
    let head: CommitRecord | null = null
    for await (const node of this.bee.createReadStream({ gte: COMMIT_PREFIX, lt: COMMIT_PREFIX + '~', reverse: true, limit: 1 })) {
      head = { seq: Number(node.key.slice(COMMIT_PREFIX.length)), ...c.decode(commitEncoding, node.value) }
    }
    if (head !== null && (this.head === null || head.seq > this.head.seq)) this.head = head
    let snapshots = 0
    for await (const _ of this.bee.createReadStream({ gte: SNAPSHOT_PREFIX, lt: SNAPSHOT_PREFIX + '~' })) snapshots++
    this.snapshotCount = snapshots
    this.moves = await this.readMoves()
    if (this.pin !== null && this.pinned === null) {
      const snap = await this.getSnapshot(this.pin)
      if (snap) this.pinned = await this.getCommit(snap.commit)
    }
  }

  private async readMoves (): Promise<Move[]> {
    const moves: Move[] = []
    for await (const node of this.bee.createReadStream({ gte: PAUSE_PREFIX, lt: PAUSE_PREFIX + '~' })) {
      const pause = c.decode(pauseRecord, node.value)
      moves.push({ hop: pause.hop, pause, pauseBytes: node.value, continuation: null })
    }
    for await (const node of this.bee.createReadStream({ gte: CONTINUATION_PREFIX, lt: CONTINUATION_PREFIX + '~' })) {
      const cont = c.decode(continuationEncoding, node.value)
      const move = moves.find(m => m.hop === cont.hop)
      if (move) move.continuation = cont
    }
    return moves
  }

  /** The latest move, when it has not been resumed in this log: the workspace is paused. */
  get pausedMove (): Move | null {
    const last = this.moves[this.moves.length - 1]
    return last !== undefined && last.continuation === null ? last : null
  }

  get paused () { return this.pausedMove !== null }

  /**
   * Appends a pause record (one Hyperbee put: one block, so a crash leaves
   * either no record or a whole one). After it, the log takes no commits.
   */
  async appendPause (record: PauseRecord): Promise<Move> {
    this.writableCheck()
    const bytes = c.encode(pauseRecord, record) as Buffer
    await this.bee.put(hopKey(PAUSE_PREFIX, record.hop), bytes)
    const move: Move = { hop: record.hop, pause: record, pauseBytes: bytes, continuation: null }
    this.moves = [...this.moves, move]
    return move
  }

  /** The first value a resumed log appends after its prologue. */
  async appendContinuation (record: Continuation): Promise<void> {
    if (this.remote) throw ManifestError.READ_ONLY(this.name)
    await this.bee.put(hopKey(CONTINUATION_PREFIX, record.hop), c.encode(continuationEncoding, record) as Buffer)
    this.moves = await this.readMoves()
  }

  private writableCheck () {
    if (this.remote) throw ManifestError.READ_ONLY(this.name)
    const paused = this.pausedMove
    if (paused !== null) throw ManifestError.PAUSED(this.name, paused.hop)
  }

  /** The commit a mount and a sync show: the pinned snapshot's, else the head. */
  get current (): CommitRecord | null {
    return this.pin !== null ? this.pinned : this.head
  }

  /** Calls `fn` whenever the current commit moves (new commits replicated from a peer). */
  onHead (fn: (ws: Workspace) => void): () => void {
    this.headListeners.add(fn)
    return () => this.headListeners.delete(fn)
  }

  /** Re-reads meta, head and snapshots after the log grew (replication). */
  async refresh (): Promise<void> {
    if (this.refreshing !== null) { this.refreshAgain = true; return this.refreshing }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false
        const before = this.current
        await this.load()
        const after = this.current
        if (after !== null && (before === null || before.seq !== after.seq)) for (const fn of this.headListeners) fn(this)
      } while (this.refreshAgain && !this.closed)
    })().finally(() => { this.refreshing = null })
    return this.refreshing
  }

  get key () { return this.core.key }
  get name () { return this.localName || (this.meta?.name ?? '') }

  /** Writes the metadata and the first commit in one atomic append. */
  async init (meta: WorkspaceMeta, first: Omit<Commit, 'parent'>): Promise<CommitRecord> {
    const batch = this.bee.batch()
    await batch.put('meta', c.encode(workspaceMeta, meta) as Buffer)
    const record: CommitRecord = { ...first, parent: -1, seq: 0 }
    await batch.put(seqKey(0), c.encode(commitEncoding, record) as Buffer)
    await batch.flush()
    this.meta = meta
    this.head = record
    return record
  }

  /** Appends a commit whose parent is the current head. */
  async append (next: Omit<Commit, 'parent'>): Promise<CommitRecord> {
    this.writableCheck()
    const seq = this.head === null ? 0 : this.head.seq + 1
    const record: CommitRecord = { ...next, parent: this.head?.seq ?? -1, seq }
    await this.bee.put(seqKey(seq), c.encode(commitEncoding, record) as Buffer)
    this.head = record
    return record
  }

  async getCommit (seq: number): Promise<CommitRecord | null> {
    const node = await this.bee.get(seqKey(seq))
    return node ? { seq, ...c.decode(commitEncoding, node.value) } : null
  }

  async commits (opts: { reverse?: boolean, limit?: number } = {}): Promise<CommitRecord[]> {
    const out: CommitRecord[] = []
    const range = { gte: COMMIT_PREFIX, lt: COMMIT_PREFIX + '~', reverse: opts.reverse ?? true, limit: opts.limit ?? -1 }
    for await (const node of this.bee.createReadStream(range)) {
      out.push({ seq: Number(node.key.slice(COMMIT_PREFIX.length)), ...c.decode(commitEncoding, node.value) })
    }
    return out
  }

  async getSnapshot (label: string): Promise<Snapshot | null> {
    const node = await this.bee.get(SNAPSHOT_PREFIX + label)
    return node ? c.decode(snapshotEncoding, node.value) : null
  }

  async snapshots (): Promise<Snapshot[]> {
    const out: Snapshot[] = []
    for await (const node of this.bee.createReadStream({ gte: SNAPSHOT_PREFIX, lt: SNAPSHOT_PREFIX + '~' })) {
      out.push(c.decode(snapshotEncoding, node.value))
    }
    return out.sort((a, b) => a.commit - b.commit || a.time - b.time)
  }

  /** Labels the head commit. Labels are unique and never moved. */
  async snapshot (label: string): Promise<Snapshot> {
    this.writableCheck()
    if (this.head === null) throw ManifestError.BAD_REF(this.name, 'head')
    if (await this.getSnapshot(label)) throw ManifestError.SNAPSHOT_EXISTS(label)
    const snap: Snapshot = { label, commit: this.head.seq, time: Date.now() }
    await this.bee.put(SNAPSHOT_PREFIX + label, c.encode(snapshotEncoding, snap) as Buffer)
    this.snapshotCount++
    return snap
  }

  /** Removes a label (an automatic snapshot past its keep count): the commit stays in the history. */
  async unsnapshot (label: string): Promise<boolean> {
    this.writableCheck()
    if (!(await this.getSnapshot(label))) return false
    await this.bee.del(SNAPSHOT_PREFIX + label)
    this.snapshotCount--
    return true
  }

  /**
   * Resolves a reference to a commit: `head`, `head~N`, a commit number, a
   * snapshot label, or a prefix (>= 6 hex chars) of a commit's root hash.
   */
  async resolve (ref: string | undefined | null): Promise<CommitRecord> {
    if (this.head === null) throw ManifestError.BAD_REF(this.name, String(ref))
    // no ref = what this workspace shows: the pinned snapshot of a pinned join, else the head
    if ((ref === undefined || ref === null) && this.current !== null) return this.current
    const r = ref ?? 'head'
    const back = /^head(?:~(\d+))?$/i.exec(r)
    const found = back
      ? await this.getCommit(this.head.seq - Number(back[1] ?? 0))
      : /^\d+$/.test(r)
        ? await this.getCommit(Number(r))
        : await this.resolveLabelOrRoot(r)
    if (found === null) throw ManifestError.BAD_REF(this.name, r)
    return found
  }

  private async resolveLabelOrRoot (r: string): Promise<CommitRecord | null> {
    const snap = await this.getSnapshot(r)
    if (snap) return this.getCommit(snap.commit)
    if (!/^[0-9a-f]{6,64}$/.test(r)) return null
    for (const rec of await this.commits()) if (toHex(rec.root).startsWith(r)) return rec
    return null
  }
}
