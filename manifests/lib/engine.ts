/**
 * The local workspace engine: one Corestore (a Hypercore per workspace plus a
 * local name registry) and one CAS shared by every workspace in a state dir.
 *
 * Concurrency: operations that add objects hold the store lock shared; gc
 * holds it exclusively, so it never sweeps objects an import is about to
 * point at. Ordering is always blob first (flush the CAS), pointer last
 * (append the commit), name last of all (registry).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import c from 'compact-encoding'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { crashPoint, Monitor, PackStore, Resource, RwLock, toHex, CoreError, type PackStoreOptions } from '../../core/index.js'
import { registryEntry, DIR, FILE, type CommitStats, type Entry, type RegistryEntry, type Snapshot } from '../messages.js'
import { ManifestError } from './errors.js'
import { AUTO_LABEL_PREFIX, validateLabel, validateName } from './names.js'
import { TreeStore, EMPTY_TREE } from './trees.js'
import { importDirectory, type ImportProblem } from './importer.js'
import { exportTree, type ExportResult } from './exporter.js'
import { diffTrees, type Change } from './diff.js'
import { walkTree } from './walk.js'
import { Workspace, type CommitRecord, type Move } from './workspace.js'
import { Handoffs, continueLog, pauseWorkspace, secretMatches, type PauseOptions, type PauseOutcome } from './moves.js'

const REGISTRY_PREFIX = 'ws/'
const EMPTY_STATS: CommitStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 }

export interface EngineOptions { home: string, packs?: PackStoreOptions }

export interface CommitInfo { seq: number, root: string, parent: number, time: number, message: string, stats: CommitStats, snapshots: string[] }

export interface WorkspaceSummary {
  name: string
  key: string
  created: number
  origin: { name: string, key: string, commit: number } | null
  /** Follows a workspace shared by another peer (read-only here). */
  remote: boolean
  pin: string | null
  head: CommitInfo
  commits: number
  snapshots: number
  /** The key the workspace was first shared under: it stays its identity across moves. */
  identity: string
  /** The open pause, when it is paused (here or by the holder it follows). */
  paused: { hop: number, commit: number, time: number, holder: string, note: string, meta: Array<{ key: string, value: string }>, workingSet: number, recent: string[], mountDir: string } | null
  /** Every move so far, oldest first: which log was paused, by whom, and which log resumed it. */
  lineage: LineageStep[]
}

export interface LineageStep {
  hop: number
  pausedKey: string
  pausedBy: string
  pausedAt: number
  commit: number
  resumedKey: string | null
  resumedBy: string | null
  resumedAt: number | null
}

export interface ImportOutcome { workspace: WorkspaceSummary, commit: CommitInfo, problems: ImportProblem[], reused: number, hashed: number, changed: boolean }

export interface FsckProblem { workspace: string, commit: number, path: string, object: string, problem: 'missing' | 'corrupt' }

export interface FsckReport { objects: number, corrupt: string[], problems: FsckProblem[], ok: boolean }

export interface GcReport { removedObjects: number, removedBytes: number, reclaimedBytes: number, liveObjects: number, rewrittenPacks: number }

export interface StoreReport { workspaces: number, logicalBytes: number, storedBytes: number, diskBytes: number, objects: number, packs: number, dedupeRatio: number }

export class Engine extends Resource {
  readonly home: string
  readonly store: PackStore
  readonly trees: TreeStore
  readonly corestore: Corestore
  readonly lock = new RwLock()
  readonly handoffs: Handoffs
  private registry: Hyperbee<Buffer> | null = null
  private readonly entries = new Map<string, RegistryEntry>()
  private readonly open = new Map<string, Workspace>()
  private readonly reserved = new Set<string>()
  private readonly logs = new Map<string, Workspace>()

  constructor (opts: EngineOptions) {
    super()
    this.home = path.resolve(opts.home)
    this.store = new PackStore(path.join(this.home, 'objects'), opts.packs)
    this.trees = new TreeStore(this.store)
    this.corestore = new Corestore(path.join(this.home, 'corestore'))
    this.handoffs = new Handoffs(this.home)
  }

  protected async _open () {
    await fs.mkdir(this.home, { recursive: true, mode: 0o700 })
    await this.store.ready()
    await this.corestore.ready()
    this.registry = new Hyperbee<Buffer>(this.corestore.get({ name: 'wxs/registry' }), { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    await this.registry.ready()
    for await (const node of this.registry.createReadStream({ gte: REGISTRY_PREFIX, lt: REGISTRY_PREFIX + '~' })) {
      const entry = c.decode(registryEntry, node.value)
      this.entries.set(entry.name, entry)
    }
  }

  protected async _close () {
    for (const ws of this.open.values()) await ws.close().catch(() => {})
    for (const ws of this.logs.values()) await ws.close().catch(() => {})
    await this.registry?.close().catch(() => {})
    await this.corestore.close().catch(() => {})
    await this.store.close()
  }

  names (): string[] {
    return [...this.entries.keys()].sort()
  }

  has (name: string) { return this.entries.has(name) }

  /** Opens (once) and returns the workspace called `name`. */
  async workspace (name: string): Promise<Workspace> {
    const cached = this.open.get(name)
    if (cached) return cached
    const entry = this.entries.get(validateName(name))
    if (!entry) throw ManifestError.WORKSPACE_NOT_FOUND(name)
    const ws = new Workspace(await this.coreOf(entry))
    ws.localName = name
    ws.remote = entry.remote === true
    ws.pin = entry.pin ?? null
    await ws.ready()
    const raced = this.open.get(name)
    if (raced) { await ws.close(); return raced }
    this.open.set(name, ws)
    return ws
  }

  private async coreOf (entry: RegistryEntry) {
    if (entry.remote) return this.corestore.get({ key: entry.key })
    if (entry.continued) return this.corestore.get({ key: entry.key, keyPair: await this.corestore.createKeyPair(entry.coreName) })
    return this.corestore.get({ name: entry.coreName })
  }

  /**
   * A log by key, opened (once) without a name: an earlier log of a moved
   * workspace, which the network keeps serving and following so that whoever
   * knows only the old key finds the new holder.
   */
  async openLog (key: Buffer): Promise<Workspace> {
    const hex = toHex(key)
    for (const name of this.byKey(key)) return this.workspace(name)
    const cached = this.logs.get(hex)
    if (cached) return cached
    const ws = new Workspace(this.corestore.get({ key }))
    ws.remote = true
    await ws.ready()
    const raced = this.logs.get(hex)
    if (raced) { await ws.close(); return raced }
    this.logs.set(hex, ws)
    return ws
  }

  /** Whether a log with this key is open here (registered or not). */
  hasLog (key: Buffer) { return this.byKey(key).length > 0 || this.logs.has(toHex(key)) }

  /** Drops an unregistered log opened by openLog (a resume that failed). */
  async discardLog (key: Buffer) {
    const ws = this.logs.get(toHex(key))
    if (!ws) return
    this.logs.delete(toHex(key))
    await this.discardRemote(ws)
  }

  /**
   * Pauses a workspace at its head (mounts are quiesced and committed by the
   * caller first). Pausing a paused workspace returns the same record and secret.
   */
  async pause (name: string, opts: PauseOptions = {}): Promise<PauseOutcome & { workspace: WorkspaceSummary }> {
    const ws = await this.workspace(name)
    const outcome = await pauseWorkspace(ws, this.handoffs, opts)
    return { ...outcome, workspace: await this.summary(ws) }
  }

  /**
   * Resumes a paused log here as `name`: a new log of this machine's continues
   * `source` (verified: the secret must match the pause). A name already here
   * is taken over only when it is an earlier log of the same workspace (this
   * machine held it before, or follows it).
   */
  async resume (name: string, source: Workspace, secret: Buffer): Promise<{ workspace: WorkspaceSummary, prologueMs: number, replaced: boolean }> {
    validateName(name)
    const lineage = new Set([toHex(source.key), ...source.moves.flatMap(m => m.continuation ? [toHex(m.continuation.previousKey)] : [])])
    const existing = this.entries.get(name)
    if (existing && !lineage.has(toHex(existing.key))) throw ManifestError.WORKSPACE_EXISTS(name)
    if (this.reserved.has(name)) throw ManifestError.WORKSPACE_EXISTS(name)
    this.reserved.add(name)
    try {
      const coreName = 'wxs/workspace/' + randomBytes(16).toString('hex')
      const keyPair = await this.corestore.createKeyPair(coreName)
      const signers = [{ signature: 'ed25519', publicKey: keyPair.publicKey }]
      const { core, continuation, prologueMs } = await continueLog({
        source,
        secret,
        open: extra => this.corestore.get({ manifest: { version: 1, quorum: 1, signers, ...extra }, keyPair })
      })
      const ws = new Workspace(core)
      await ws.ready()
      ws.localName = name
      await ws.appendContinuation(continuation)
      crashPoint('resume:continued')
      const entry: RegistryEntry = { name, coreName, key: ws.key, created: Date.now(), continued: true }
      await this.registry!.put(REGISTRY_PREFIX + name, c.encode(registryEntry, entry) as Buffer)
      this.entries.set(name, entry)
      // the earlier log stays open (and is closed with the engine): the network still serves it
      const old = this.open.get(name)
      if (old) this.logs.set(toHex(old.key), old)
      this.open.set(name, ws)
      return { workspace: await this.summary(ws), prologueMs, replaced: existing !== undefined }
    } finally {
      this.reserved.delete(name)
    }
  }

  /** Whether `p` ("/.git/index.lock") exists in the head of `name` (trees read locally only). */
  async headHas (name: string, p: string): Promise<boolean> {
    return (await this.entryAt((await this.workspace(name)).head!.root, p)) !== null
  }

  /** The entry at path `p` under tree `root`, from local trees only; null when absent (or not local). */
  async entryAt (root: Buffer, p: string): Promise<Entry | null> {
    const parts = p.split('/').filter(Boolean)
    let tree = root
    for (let i = 0; i < parts.length; i++) {
      const t = await this.trees.get(toHex(tree), { local: true }).catch(() => null)
      const e = t?.entries.find(x => x.name === parts[i])
      if (!e) return null
      if (i === parts.length - 1) return e
      if (e.type !== DIR) return null
      tree = e.tree!
    }
    return null
  }

  /**
   * The workspace `name` moved: from now on it follows `next` (a verified
   * continuation of its log), read-only here, under the same name.
   */
  async follow (name: string, next: Workspace): Promise<void> {
    const entry = this.entry(name)
    const moved: RegistryEntry = { name, coreName: '', key: next.key, created: entry.created, remote: true, pin: null }
    await this.registry!.put(REGISTRY_PREFIX + name, c.encode(registryEntry, moved) as Buffer)
    this.entries.set(name, moved)
    const old = this.open.get(name)
    if (old) this.logs.set(toHex(old.key), old)
    this.logs.delete(toHex(next.key))
    next.localName = name
    next.remote = true
    this.open.set(name, next)
  }

  /** The name of a workspace here that already continues `key`'s pause `hop`, if any. */
  async continuedHere (key: Buffer, hop: number): Promise<string | null> {
    for (const name of this.names()) {
      const ws = await this.workspace(name)
      if (ws.moves.some(m => m.hop === hop && m.continuation !== null && m.continuation.previousKey.equals(key))) return name
    }
    return null
  }

  /** The registry entry of `name` (throws WORKSPACE_NOT_FOUND). */
  entry (name: string): RegistryEntry {
    const entry = this.entries.get(name)
    if (!entry) throw ManifestError.WORKSPACE_NOT_FOUND(name)
    return entry
  }

  /** Names of workspaces whose key is `key` (a workspace joined twice, or a shared one). */
  byKey (key: Buffer): string[] {
    return [...this.entries.values()].filter(e => e.key.equals(key)).map(e => e.name)
  }

  /** The workspaces whose history runs through the log `key`: its own, or one it continues (after a move). */
  async byLineage (key: Buffer): Promise<string[]> {
    const out = this.byKey(key)
    for (const name of this.names()) {
      if (out.includes(name)) continue
      const ws = await this.workspace(name)
      if (ws.moves.some(m => m.continuation?.previousKey.equals(key))) out.push(name)
    }
    return out
  }

  /**
   * Opens someone else's log by its key, without registering it: the network
   * layer replicates it until a head arrives, then calls registerRemote (or
   * discardRemote), so a join that finds nobody leaves nothing behind.
   */
  async openRemote (key: Buffer, opts: { pin?: string | null } = {}): Promise<Workspace> {
    for (const e of this.entries.values()) {
      if (e.key.equals(key)) throw ManifestError.KEY_EXISTS(e.name)
    }
    const ws = new Workspace(this.corestore.get({ key }))
    ws.remote = true
    ws.pin = opts.pin ?? null
    await ws.ready()
    return ws
  }

  /** Records a replicated remote workspace under a local name. */
  async registerRemote (name: string, ws: Workspace): Promise<WorkspaceSummary> {
    this.reserve(name)
    try {
      if (ws.head === null || ws.meta === null) throw ManifestError.MISSING_OBJECTS(`${name}: the shared log has no commit yet`)
      ws.localName = name
      const entry: RegistryEntry = { name, coreName: '', key: ws.key, created: Date.now(), remote: true, pin: ws.pin }
      await this.registry!.put(REGISTRY_PREFIX + name, c.encode(registryEntry, entry) as Buffer)
      this.entries.set(name, entry)
      this.open.set(name, ws)
      return this.summary(ws)
    } finally {
      this.reserved.delete(name)
    }
  }

  /** Drops a remote log that was opened but never registered. */
  async discardRemote (ws: Workspace) {
    await ws.core.clear(0, ws.core.length).catch(() => {})
    await ws.close()
  }

  /** Creates a workspace, empty or from a directory. */
  async create (name: string, opts: { from?: string, message?: string, monitor?: Monitor } = {}): Promise<ImportOutcome> {
    this.reserve(name)
    try {
      return await this.lock.shared(async () => {
        const imported = opts.from ? await importDirectory(this.trees, opts.from, { monitor: opts.monitor }) : null
        const root = imported?.root ?? await this.trees.put(EMPTY_TREE)
        await this.store.flush()
        const message = opts.message ?? (opts.from ? `import ${path.resolve(opts.from)}` : 'create')
        const ws = await this.newWorkspace(name, null, { root, time: Date.now(), message, stats: imported?.stats ?? EMPTY_STATS })
        return { workspace: await this.summary(ws), commit: await this.commitInfo(ws, ws.head!), problems: imported?.problems ?? [], reused: 0, hashed: imported?.hashed ?? 0, changed: true }
      })
    } finally {
      this.reserved.delete(name)
    }
  }

  /** Re-imports a directory as a new commit; files unchanged since the head are not re-read. */
  async importDir (name: string, dir: string, opts: { message?: string, monitor?: Monitor } = {}): Promise<ImportOutcome> {
    const ws = await this.workspace(name)
    if (ws.remote) throw ManifestError.READ_ONLY(name)
    return this.lock.shared(async () => {
      const head = ws.head!
      const imported = await importDirectory(this.trees, dir, { previousRoot: head.root, monitor: opts.monitor })
      await this.store.flush()
      const changed = !imported.root.equals(head.root)
      const rec = changed
        ? await ws.append({ root: imported.root, time: Date.now(), message: opts.message ?? `import ${path.resolve(dir)}`, stats: imported.stats })
        : head
      return { workspace: await this.summary(ws), commit: await this.commitInfo(ws, rec), problems: imported.problems, reused: imported.reused, hashed: imported.hashed, changed }
    })
  }

  /** O(1) fork: a new log whose first commit points at the source's head root. */
  async fork (source: string, name: string, opts: { at?: string } = {}): Promise<{ workspace: WorkspaceSummary, ms: number }> {
    const started = performance.now()
    const src = await this.workspace(source)
    const at = await this.resolveKept(source, src, opts.at)
    this.reserve(name)
    try {
      const origin = { key: src.key, name: source, commit: at.seq }
      const ws = await this.newWorkspace(name, origin, { root: at.root, time: Date.now(), message: `fork of ${source}@${at.seq}`, stats: at.stats })
      const ms = performance.now() - started
      return { workspace: await this.summary(ws), ms }
    } finally {
      this.reserved.delete(name)
    }
  }

  async list (): Promise<WorkspaceSummary[]> {
    const out: WorkspaceSummary[] = []
    for (const name of this.names()) out.push(await this.summary(await this.workspace(name)))
    return out
  }

  async info (name: string): Promise<WorkspaceSummary> {
    return this.summary(await this.workspace(name))
  }

  /**
   * Labels the head. `auto` names an automatic snapshot's kind ("exec",
   * "timer"): its label is `auto:<kind>-<time>` and only automatic ones are
   * ever pruned (pruneSnapshots).
   */
  async snapshot (name: string, label?: string, opts: { auto?: string } = {}): Promise<{ snapshot: Snapshot, commit: CommitInfo }> {
    const ws = await this.workspace(name)
    if (ws.remote) throw ManifestError.READ_ONLY(name)
    const chosen = opts.auto !== undefined
      ? validateLabel(`${AUTO_LABEL_PREFIX}${opts.auto}-${new Date().toISOString().replace(/[-:]/g, '')}-${randomBytes(2).toString('hex')}`, { auto: true })
      : label !== undefined ? validateLabel(label) : await freeLabel(ws)
    const snap = await ws.snapshot(chosen)
    return { snapshot: snap, commit: await this.commitInfo(ws, ws.head!) }
  }

  /** Removes the oldest automatic snapshots past `keep`; labels a user gave are never touched. Returns the labels removed. */
  async pruneSnapshots (name: string, keep: number): Promise<string[]> {
    const ws = await this.workspace(name)
    if (ws.remote) return []
    const auto = (await ws.snapshots()).filter(s => s.label.startsWith(AUTO_LABEL_PREFIX)).sort((a, b) => a.time - b.time || a.commit - b.commit)
    const gone = auto.slice(0, Math.max(0, auto.length - keep)).map(s => s.label)
    for (const label of gone) await ws.unsnapshot(label)
    const oldestKept = auto[gone.length]
    if (gone.length > 0 && oldestKept !== undefined) await this.raiseFloor(name, oldestKept.commit)
    return gone
  }

  /**
   * History retention: from now on, commits before `floor` that no snapshot
   * labels (and that are not the head) keep no content; gc collects it. Only
   * raised, never lowered (what went may be gone).
   */
  private async raiseFloor (name: string, floor: number) {
    const entry = this.entry(name)
    if (entry.floor !== undefined && entry.floor >= floor) return
    const next: RegistryEntry = { ...entry, floor }
    await this.registry!.put(REGISTRY_PREFIX + name, c.encode(registryEntry, next) as Buffer)
    this.entries.set(name, next)
  }

  /** Which commits of a workspace keep their content: all, or those at or after its floor, labelled, or the head. */
  private async keeps (name: string, ws: Workspace): Promise<(seq: number) => boolean> {
    const floor = this.entries.get(name)?.floor
    if (floor === undefined) return () => true
    const labelled = await this.labelsByCommit(ws)
    const head = ws.head?.seq ?? -1
    return seq => seq >= floor || seq === head || labelled.has(seq)
  }

  /** ws.resolve, refusing a commit whose content retention let go (COLLECTED) instead of failing later on a missing object. */
  private async resolveKept (name: string, ws: Workspace, ref: string | undefined | null) {
    const rec = await ws.resolve(ref)
    if (!(await this.keeps(name, ws))(rec.seq)) throw ManifestError.COLLECTED(name, rec.seq, this.entries.get(name)!.floor!)
    return rec
  }

  /** The snapshots of a workspace, oldest commit first. */
  async snapshots (name: string): Promise<Snapshot[]> {
    return (await this.workspace(name)).snapshots()
  }

  async log (name: string, opts: { limit?: number } = {}): Promise<CommitInfo[]> {
    const ws = await this.workspace(name)
    const labels = await this.labelsByCommit(ws)
    const commits = await ws.commits({ reverse: true, limit: opts.limit })
    return commits.map(rec => toCommitInfo(rec, labels.get(rec.seq) ?? []))
  }

  /** Changes from `from` to `to` (defaults: the head's parent and the head). */
  async diff (name: string, from?: string, to?: string): Promise<{ from: number, to: number, changes: Change[] }> {
    const ws = await this.workspace(name)
    const b = await this.resolveKept(name, ws, to)
    const a = from !== undefined ? await this.resolveKept(name, ws, from) : b.parent >= 0 ? (await ws.getCommit(b.parent))! : b
    const changes = await diffTrees(this.trees, a.root, b.root)
    return { from: a.seq, to: b.seq, changes }
  }

  /** The pause of `name`'s history a resume link's secret opens (HANDOFF_MISMATCH when none: a fork needs the link's own pause). */
  async pauseOf (name: string, secret: Buffer): Promise<Move> {
    const ws = await this.workspace(name)
    const move = ws.moves.find(m => secretMatches(m, secret))
    if (move === undefined) throw ManifestError.HANDOFF_MISMATCH(name)
    return move
  }

  /** Changes from one root tree to another (of any two logs: a conflict's two heads). */
  async diffRoots (from: Buffer, to: Buffer): Promise<Change[]> {
    return diffTrees(this.trees, from, to)
  }

  /** Appends a commit pointing at an old root; history is never rewritten. */
  async restore (name: string, ref: string): Promise<CommitInfo> {
    const ws = await this.workspace(name)
    if (ws.remote) throw ManifestError.READ_ONLY(name)
    const target = await this.resolveKept(name, ws, ref)
    const rec = await ws.append({ root: target.root, time: Date.now(), message: `restore ${ref} (commit ${target.seq})`, stats: target.stats })
    return this.commitInfo(ws, rec)
  }

  async export (name: string, dir: string, opts: { at?: string, monitor?: Monitor } = {}): Promise<ExportResult & { commit: number }> {
    const ws = await this.workspace(name)
    const rec = await this.resolveKept(name, ws, opts.at)
    if (opts.monitor) { opts.monitor.totalFiles = rec.stats.files; opts.monitor.totalBytes = rec.stats.bytes }
    const result = await this.lock.shared(() => exportTree(this.trees, rec.root, dir, { monitor: opts.monitor }))
    return { ...result, commit: rec.seq }
  }

  /** Deletes a workspace's log and name; its objects go at the next gc. */
  async remove (name: string): Promise<{ name: string, key: string }> {
    const ws = await this.workspace(name)
    const entry = this.entries.get(name)!
    await this.registry!.del(REGISTRY_PREFIX + name)
    this.entries.delete(name)
    this.open.delete(name)
    // hypercore 11.37's purge() is broken (calls a missing _closeAllSessions): clear the blocks instead.
    await ws.core.clear(0, ws.core.length).catch(() => {})
    await ws.close()
    return { name, key: toHex(entry.key) }
  }

  /** Removes every object not reachable from any commit of any workspace. */
  async gc (opts: { monitor?: Monitor } = {}): Promise<GcReport> {
    return this.lock.exclusive(async () => {
      opts.monitor?.setPhase('marking')
      const live = await this.reachable()
      opts.monitor?.setPhase('sweeping')
      const result = await this.store.compact(live, bytes => opts.monitor?.add(1, bytes))
      return { ...result, liveObjects: live.size }
    })
  }

  /** Verifies every stored object, then every reference from every commit. */
  async fsck (opts: { monitor?: Monitor } = {}): Promise<FsckReport> {
    return this.lock.shared(async () => {
      opts.monitor?.setPhase('verifying objects')
      const verified = await this.store.verify(bytes => opts.monitor?.add(1, bytes))
      const corrupt = new Set(verified.corrupt)
      opts.monitor?.setPhase('checking references')
      const problems: FsckProblem[] = []
      for (const name of this.names()) problems.push(...await this.checkWorkspace(name, corrupt))
      return { objects: verified.checked, corrupt: verified.corrupt, problems, ok: problems.length === 0 && corrupt.size === 0 }
    })
  }

  async stats (): Promise<StoreReport> {
    const st = await this.store.stats()
    let logicalBytes = 0
    for (const name of this.names()) logicalBytes += (await this.workspace(name)).head?.stats.bytes ?? 0
    const dedupeRatio = st.storedBytes > 0 ? logicalBytes / st.storedBytes : 1
    return { workspaces: this.entries.size, logicalBytes, storedBytes: st.storedBytes, diskBytes: st.diskBytes, objects: st.objects, packs: st.packs, dedupeRatio }
  }

  // -- internals -----------------------------------------------------------

  private reserve (name: string) {
    validateName(name)
    if (this.entries.has(name) || this.reserved.has(name)) throw ManifestError.WORKSPACE_EXISTS(name)
    this.reserved.add(name)
  }

  private async newWorkspace (name: string, origin: RegistryOrigin, first: { root: Buffer, time: number, message: string, stats: CommitStats }) {
    const coreName = 'wxs/workspace/' + randomBytes(16).toString('hex')
    const ws = new Workspace(this.corestore.get({ name: coreName }))
    await ws.ready()
    await ws.init({ name, created: first.time, origin }, first)
    const entry: RegistryEntry = { name, coreName, key: ws.key, created: first.time }
    await this.registry!.put(REGISTRY_PREFIX + name, c.encode(registryEntry, entry) as Buffer)
    this.entries.set(name, entry)
    this.open.set(name, ws)
    return ws
  }

  /**
   * Joined workspaces, and forks of them, are fetched on demand: trees they
   * lack locally are expected, not damage.
   */
  private networkBacked (ws: Workspace): boolean {
    if (ws.remote) return true
    // resumed here: the paused holder's content streams in after the mount
    if (ws.moves.some(m => m.continuation !== null)) return true
    const origin = ws.meta?.origin
    return origin !== null && origin !== undefined && [...this.entries.values()].some(e => e.remote && e.key.equals(origin.key))
  }

  private async reachable (): Promise<Set<string>> {
    const live = new Set<string>()
    const missing: string[] = []
    for (const name of this.names()) {
      const ws = await this.workspace(name)
      const lazy = this.networkBacked(ws)
      const keeps = await this.keeps(name, ws)
      for (const rec of await ws.commits()) {
        if (!keeps(rec.seq)) continue // history retention: its content goes
        await walkTree(this.trees, rec.root, {
          local: true,
          tree: hex => { if (live.has(hex)) return false; live.add(hex); return true },
          entry: e => { if (e.type === FILE) for (const h of e.chunks) live.add(toHex(h)) },
          missing: (hex, p) => { if (!lazy) missing.push(`${name}@${rec.seq}:/${p} (${hex})`) }
        })
      }
    }
    if (missing.length > 0) throw ManifestError.MISSING_OBJECTS(`gc stopped: ${missing.length} tree(s) cannot be read, e.g. ${missing[0]}; run wxs fsck`)
    return live
  }

  private async checkWorkspace (name: string, corrupt: Set<string>): Promise<FsckProblem[]> {
    const ws = await this.workspace(name)
    const lazy = this.networkBacked(ws)
    const problems: FsckProblem[] = []
    const seen = new Set<string>()
    const keeps = await this.keeps(name, ws)
    for (const rec of await ws.commits({ reverse: true })) {
      if (!keeps(rec.seq)) continue // retention let its content go: not a problem
      // content of a joined workspace not fetched yet is not a problem; damaged content is
      const report = (p: string, hex: string) => {
        if (lazy && !corrupt.has(hex)) return
        problems.push({ workspace: name, commit: rec.seq, path: '/' + p, object: hex, problem: corrupt.has(hex) ? 'corrupt' : 'missing' })
      }
      await walkTree(this.trees, rec.root, {
        local: true,
        tree: hex => { if (seen.has(hex)) return false; seen.add(hex); return true },
        entry: (e, p) => {
          if (e.type !== FILE) return
          for (const h of e.chunks) {
            const hex = toHex(h)
            if (corrupt.has(hex) || !this.store.hasHex(hex)) report(p, hex)
          }
        },
        missing: (hex, p) => report(p, hex)
      })
    }
    return problems
  }

  private async labelsByCommit (ws: Workspace) {
    const labels = new Map<number, string[]>()
    for (const s of await ws.snapshots()) labels.set(s.commit, [...(labels.get(s.commit) ?? []), s.label])
    return labels
  }

  private async commitInfo (ws: Workspace, rec: CommitRecord): Promise<CommitInfo> {
    const labels = await this.labelsByCommit(ws)
    return toCommitInfo(rec, labels.get(rec.seq) ?? [])
  }

  private async summary (ws: Workspace): Promise<WorkspaceSummary> {
    const meta = ws.meta!
    const origin = meta.origin ? { name: meta.origin.name, key: toHex(meta.origin.key), commit: meta.origin.commit } : null
    return {
      name: ws.name,
      key: toHex(ws.key),
      created: meta.created,
      origin,
      remote: ws.remote,
      pin: ws.pin,
      head: toCommitInfo(ws.current ?? ws.head!, []),
      commits: ws.head!.seq + 1,
      snapshots: ws.snapshotCount,
      identity: toHex(identityOf(ws)),
      paused: pausedSummary(ws),
      lineage: lineageOf(ws)
    }
  }
}

/** The first log of the lineage: what the workspace was first shared as. */
function identityOf (ws: Workspace): Buffer {
  const first = ws.moves.find(m => m.continuation !== null)
  return first ? first.continuation!.previousKey : ws.key
}

/** How many of a pause's working-set paths (newest first) a summary names. */
const RECENT_SHOWN = 10

function pausedSummary (ws: Workspace): WorkspaceSummary['paused'] {
  const m = ws.pausedMove
  if (m === null) return null
  const p = m.pause
  return { hop: m.hop, commit: p.commit, time: p.time, holder: p.holder, note: p.note, meta: p.meta, workingSet: p.workingSet.length, recent: p.workingSet.slice(0, RECENT_SHOWN), mountDir: p.mountDir }
}

function lineageOf (ws: Workspace): LineageStep[] {
  return ws.moves.map((m, i) => {
    const next = ws.moves[i + 1]
    const pausedKey = m.continuation ? m.continuation.previousKey : ws.key
    const resumedKey = m.continuation === null ? null : next?.continuation ? next.continuation.previousKey : ws.key
    return {
      hop: m.hop,
      pausedKey: toHex(pausedKey),
      pausedBy: m.pause.holder,
      pausedAt: m.pause.time,
      commit: m.pause.commit,
      resumedKey: resumedKey ? toHex(resumedKey) : null,
      resumedBy: m.continuation?.holder ?? null,
      resumedAt: m.continuation?.time ?? null
    }
  })
}

type RegistryOrigin = { key: Buffer, name: string, commit: number } | null

function toCommitInfo (rec: CommitRecord, snapshots: string[]): CommitInfo {
  return { seq: rec.seq, root: toHex(rec.root), parent: rec.parent, time: rec.time, message: rec.message, stats: rec.stats, snapshots }
}

/** snap-YYYYMMDDTHHMMSS, with -2, -3… if taken. */
async function freeLabel (ws: Workspace) {
  const base = 'snap-' + new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  let label = base
  for (let i = 2; await ws.getSnapshot(label); i++) label = `${base}-${i}`
  return label
}

export { DIR, FILE, CoreError }
