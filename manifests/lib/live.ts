/**
 * The live state of a mounted workspace: the head commit's trees, decoded
 * lazily into an in-memory inode table, plus a copy-on-write overlay.
 *
 * - Lookups, getattr and readdir are answered from memory (trees are loaded
 *   one directory at a time, on first use).
 * - A file written to gets a staging file (its current content copied on the
 *   first write); reads of a dirty file come from the staging file, reads of a
 *   clean one from its chunks in the CAS, by offset.
 * - commit() stores dirty files (dedupe makes unchanged content free), builds
 *   new trees for dirty directories only, flushes the CAS, then appends the
 *   commit (blob first, pointer last). Nodes changed while a commit runs stay
 *   dirty (generation counters).
 * - Stats (files, dirs, symlinks, bytes) are kept as running counters so a
 *   commit never walks the whole tree.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { CHUNK_SIZE, chunkSpans, nameByteLength, toHex, type PackStore } from '../../core/index.js'
import { Staged, MemoryBudget, isZeroChunk } from './staging.js'
import { DIR, FILE, SYMLINK, FIFO, SOCKET, CHAR_DEVICE, BLOCK_DEVICE, MAX_NAME_BYTES, MAX_XATTR_NAME_BYTES, MAX_XATTR_VALUE_BYTES, MAX_XATTR_TOTAL_BYTES, type CommitStats, type Entry, type EntryType } from '../messages.js'
import { ManifestError } from './errors.js'
import type { TreeStore } from './trees.js'
import type { CommitRecord, Workspace } from './workspace.js'

export interface LiveNode {
  ino: number
  type: EntryType
  mode: number
  size: number
  mtime: bigint
  ctime: bigint
  atime: bigint
  parent: LiveNode | null
  name: string
  /** Clean file content. */
  chunks: Buffer[]
  /** Dirty file content lives here. */
  staged: Staged | null
  /** Directory: loaded children (null until first use) and the tree they came from. */
  children: Map<string, LiveNode> | null
  tree: Buffer | null
  target: string | null
  /** Changed (itself or below) since the last commit. */
  dirty: boolean
  gen: number
  writers: number
  /** Open file handles (a file unlinked while open lives on until the last one closes). */
  opens: number
  /** Removed from the tree (unlinked, renamed over) while open: nlink 0, dropped at the last close. */
  unlinked: boolean
  /** Owner; null: whoever serves the mount (the daemon's uid/gid), as version-1 trees have it. */
  uid: number | null
  gid: number | null
  /** Character and block devices: the device number. */
  rdev: number
  /** Extended attributes (null: none). */
  xattrs: Map<string, Buffer> | null
  /** Hard links: the names besides (parent, name), in loaded directories. */
  aliases: Array<{ parent: LiveNode, name: string }> | null
  /** Hard links: the group id its entries share (stable across commits), and how many names it has in the whole workspace. */
  group: number | null
  nlink: number
}

/** The namespaces kept, as ext4 (the kernel checks who may use which; system.* is ACLs, not kept). */
export function knownNamespace (name: string): boolean {
  return name.startsWith('user.') || name.startsWith('trusted.') || name.startsWith('security.')
}

/** What a lookup of a name that is not there fails with: ENAMETOOLONG for a name no disk could hold, as ext4. */
function missing (p: string, name: string) {
  return name.length > MAX_NAME_BYTES / 3 && nameByteLength(name) > MAX_NAME_BYTES ? ManifestError.NAME_TOO_LONG(p) : ManifestError.NO_ENTRY(p)
}

/** A name a new entry may have: EINVAL for '', '.' and '..', ENAMETOOLONG past 255 bytes, as ext4. */
function checkName (name: string, p: () => string) {
  if (name === '' || name === '.' || name === '..') throw ManifestError.INVALID_ARGUMENT(`bad name in ${p()}`)
  if (name.length > MAX_NAME_BYTES / 3 && nameByteLength(name) > MAX_NAME_BYTES) throw ManifestError.NAME_TOO_LONG(p())
}

/** A new hard-link group id: random, 48 bits (unique in a workspace without knowing every group in it). */
function newGroup (): number {
  const b = randomBytes(6)
  return b.readUIntBE(0, 6) || 1
}

/** The name libfuse gives a file unlinked while open (".fuse_hidden%08x%08x"). */
const HIDDEN = /^\.fuse_hidden[0-9a-f]{16}$/

/** The attribute the kernel reads before every write (file capabilities). */
const CAPABILITY = 'security.capability'

/** setxattr(2) flags. */
const XATTR_CREATE = 1
const XATTR_REPLACE = 2

/** Who makes a new entry (the calling process, in a mount). */
export interface Owner { uid: number, gid: number }

/** fallocate(2)'s "do not change the size". */
const FALLOC_FL_KEEP_SIZE = 1
const FALLOC_FL_PUNCH_HOLE = 2
const FALLOC_FL_ZERO_RANGE = 16
/** lseek(2) whences the kernel asks a FUSE filesystem about (SEEK_SET, SEEK_CUR and SEEK_END it answers itself). */
const SEEK_DATA = 3
const SEEK_HOLE = 4
/** Punched or zeroed ranges are written as zeros this much at a time. */
const ZERO_PIECE = 1024 * 1024

/** setuid and setgid bits. */
const S_ISUID = 0o4000
const S_ISGID = 0o2000
/** chown(2)'s "leave this one as it is". */
const UNCHANGED = 0xffffffff
/** renameat2(2) flags. */
const RENAME_NOREPLACE = 1
const RENAME_EXCHANGE = 2

export interface LiveStats extends CommitStats {}

/**
 * The wall clock in ns. Date.now() has milliseconds only; the digits below come
 * from the monotonic clock, kept within the current millisecond of Date.now()
 * (re-anchored when they leave it: clock steps, drift). Never goes backwards,
 * so a change's ctime is never before the previous change's (adding the
 * hrtime's own sub-millisecond digits to Date.now(), as before, could go back
 * by up to 1 ms).
 */
let clockAnchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
let lastNow = 0n
const nowNs = () => {
  const wall = BigInt(Date.now()) * 1_000_000n
  const mono = process.hrtime.bigint()
  let t = mono + clockAnchor
  if (t < wall || t >= wall + 1_000_000n) { t = t < wall ? wall : wall + 999_999n; clockAnchor = t - mono }
  if (t <= lastNow) t = lastNow + 1n
  lastNow = t
  return t
}

/** relatime (the mount's option, as ext4's default): a read or listing updates atime only when it is not after mtime or ctime, or is a day old. */
const RELATIME_NS = 24n * 3600n * 1_000_000_000n

/** Moves the name (dir, name) of a node (its first name or an alias) to (toDir, toName). */
function renamed (node: LiveNode, dir: LiveNode, name: string, toDir: LiveNode, toName: string) {
  if (node.parent === dir && node.name === name) { node.parent = toDir; node.name = toName; return }
  const a = node.aliases?.find(x => x.parent === dir && x.name === name)
  if (a !== undefined) { a.parent = toDir; a.name = toName }
}

export class LiveTree {
  readonly root: LiveNode
  readonly stats: LiveStats
  private readonly trees: TreeStore
  readonly store: PackStore
  private readonly ws: Workspace
  private readonly stagingDir: string
  /** The next inode number; shared with the tree this one replaced under a mount (continueInos). */
  private inos = { next: 2 }
  private stagingSeq = 0
  private committing: Promise<CommitRecord | null> | null = null
  private readonly inodes = new Map<number, LiveNode>()
  /** st_blocks of files over one chunk, with the mtime and size they were counted at (blocks). */
  private readonly allocated = new WeakMap<LiveNode, { mtime: bigint, size: number, blocks: number }>()
  /** Files unlinked while open, by the hidden path libfuse gave them (see rename). */
  private readonly hidden = new Map<string, { node: LiveNode, dir: LiveNode }>()
  /** Hard-link groups loaded so far: every name of one group is one node. */
  private readonly groups = new Map<number, LiveNode>()
  private readonly budget: MemoryBudget

  /** The owner of entries that store none: the daemon's own. */
  readonly defaultOwner: Owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }

  /** A joined workspace is served read-only (EROFS): it follows its sharer's log. */
  private readonly followsRemote: boolean
  /** Whether an entry with security.capability was loaded or set (the mount then asks the live tree on every write). */
  hasCapability = false
  onCapability: (() => void) | null = null
  /** Set by a pause: from then on every change fails (EROFS) while it is captured. */
  frozen = false

  constructor (opts: { trees: TreeStore, workspace: Workspace, stagingDir: string, memoryBudget?: MemoryBudget, readOnly?: boolean }) {
    this.followsRemote = opts.readOnly ?? false
    this.budget = opts.memoryBudget ?? new MemoryBudget(256 * 1024 * 1024)
    this.trees = opts.trees
    this.store = opts.trees.store
    this.ws = opts.workspace
    this.stagingDir = opts.stagingDir
    const head = this.ws.current ?? this.ws.head!
    const t = BigInt(head.time) * 1_000_000n
    this.root = this.node({ type: DIR, mode: 0o755, size: 0, mtime: t, name: '', parent: null, tree: head.root })
    this.root.ino = 1
    this.inodes.set(1, this.root)
    this.stats = { ...head.stats }
  }

  get workspace () { return this.ws }

  /** Read-only now: a followed workspace, or a paused (or pausing) one. */
  get readOnly () { return this.followsRemote || this.frozen || this.ws.paused }

  /** Throws READ_ONLY or PAUSED (both EROFS in the mount) when no change may be made. */
  checkWritable () { this.writable() }

  private writable () {
    if (this.followsRemote) throw ManifestError.READ_ONLY(this.ws.name)
    if (this.frozen || this.ws.paused) throw ManifestError.PAUSED(this.ws.name, this.ws.pausedMove?.hop ?? this.ws.moves.length)
  }
  get dirty () { return this.root.dirty }

  async ready () {
    await fs.rm(this.stagingDir, { recursive: true, force: true })
    await fs.mkdir(this.stagingDir, { recursive: true, mode: 0o700 })
  }

  async close () {
    for (const node of this.inodes.values()) await this.dropStaging(node)
    await fs.rm(this.stagingDir, { recursive: true, force: true })
  }

  // -- lookups ---------------------------------------------------------------

  /**
   * Resolves a path from memory alone: the node, or undefined when a directory
   * on the way is not loaded yet (then use lookup()). Throws NO_ENTRY/NOT_DIRECTORY.
   */
  lookupSync (p: string): LiveNode | undefined {
    // '' is the path of a file unlinked while open (FUSE's hard_remove): by name it is gone
    if (p === '') throw ManifestError.NO_ENTRY('(unlinked)')
    if (this.hidden.size !== 0) { const h = this.hidden.get(p); if (h !== undefined) return h.node }
    let node = this.root
    let start = 1
    while (start < p.length) {
      let end = p.indexOf('/', start)
      if (end === -1) end = p.length
      if (end > start) {
        if (node.type !== DIR) throw ManifestError.NOT_DIRECTORY(p)
        if (node.children === null) return undefined
        const child = node.children.get(p.slice(start, end))
        if (!child) throw missing(p, p.slice(start, end))
        node = child
      }
      start = end + 1
    }
    return node
  }

  /** Resolves an absolute, '/'-separated path, loading directories as needed. */
  async lookup (p: string): Promise<LiveNode> {
    const fast = this.lookupSync(p)
    if (fast !== undefined) return fast
    let node = this.root
    if (p === '/') return node
    for (const name of p.split('/')) {
      if (name === '') continue
      if (node.type !== DIR) throw ManifestError.NOT_DIRECTORY(p)
      const child = (await this.childrenOf(node)).get(name)
      if (!child) throw missing(p, name)
      node = child
    }
    return node
  }

  async childrenOf (dir: LiveNode): Promise<Map<string, LiveNode>> {
    if (dir.children !== null) return dir.children
    const t = await this.trees.get(dir.tree!)
    if (dir.children !== null) return dir.children // loaded concurrently
    const children = new Map<string, LiveNode>()
    for (const e of t.entries) children.set(e.name, this.fromEntry(e, dir))
    dir.children = children
    return children
  }

  async readdir (p: string): Promise<string[]> {
    return [...(await this.entries(p)).keys()]
  }

  /** A directory's children by name, as nodes (readdir hands their types and stats to the kernel). */
  async entries (p: string): Promise<Map<string, LiveNode>> {
    const dir = await this.lookup(p)
    if (dir.type !== DIR) throw ManifestError.NOT_DIRECTORY(p)
    return this.childrenOf(dir)
  }

  async readlink (p: string): Promise<string> {
    const node = await this.lookup(p)
    if (node.type !== SYMLINK) throw ManifestError.INVALID_ARGUMENT(`not a symlink: ${p}`)
    return node.target!
  }

  // -- namespace changes -------------------------------------------------------

  async create (p: string, mode: number, opts: { exclusive?: boolean, owner?: Owner } = {}): Promise<LiveNode> {
    this.writable()
    const { dir, name } = await this.parentOf(p)
    await this.childrenOf(dir)
    return this.createIn(dir, name, mode, opts)
  }

  /**
   * create() of `name` in a directory whose listing is in memory: synchronous
   * (the mount's hot path, which has the directory's node; no path is built
   * or walked, no promise made).
   */
  createIn (dir: LiveNode, name: string, mode: number, opts: { exclusive?: boolean, owner?: Owner } = {}): LiveNode {
    this.writable()
    if (dir.type !== DIR || dir.children === null) throw ManifestError.NOT_DIRECTORY(this.at(dir, name))
    checkName(name, () => this.at(dir, name))
    const existing = dir.children.get(name)
    if (existing) {
      if (opts.exclusive) throw ManifestError.ENTRY_EXISTS(this.at(dir, name))
      if (existing.type === DIR) throw ManifestError.IS_DIRECTORY(this.at(dir, name))
      return existing
    }
    const node = this.node({ type: FILE, mode: mode & 0o7777, size: 0, mtime: nowNs(), name, parent: dir })
    this.own(node, dir, opts.owner)
    // not staged until its first write or truncate (stage): an empty file reads,
    // commits and counts its blocks the same from its (no) chunks, and files
    // created empty (touch, lock files) cost no staging buffer or budget
    this.attach(dir, node)
    this.stats.files++
    return node
  }

  async mkdir (p: string, mode: number, owner?: Owner): Promise<LiveNode> {
    this.writable()
    const { dir, name } = await this.parentOf(p)
    await this.childrenOf(dir)
    return this.mkdirIn(dir, name, mode, owner)
  }

  /** mkdir() of `name` in a directory whose listing is in memory: synchronous (as createIn). */
  mkdirIn (dir: LiveNode, name: string, mode: number, owner?: Owner): LiveNode {
    this.writable()
    if (dir.type !== DIR || dir.children === null) throw ManifestError.NOT_DIRECTORY(this.at(dir, name))
    checkName(name, () => this.at(dir, name))
    if (dir.children.has(name)) throw ManifestError.ENTRY_EXISTS(this.at(dir, name))
    const node = this.node({ type: DIR, mode: mode & 0o7777, size: 0, mtime: nowNs(), name, parent: dir })
    this.own(node, dir, owner)
    node.children = new Map()
    this.attach(dir, node)
    this.stats.dirs++
    return node
  }

  async symlink (target: string, p: string, owner?: Owner): Promise<LiveNode> {
    this.writable()
    const { dir, name } = await this.parentOf(p)
    if ((await this.childrenOf(dir)).has(name)) throw ManifestError.ENTRY_EXISTS(p)
    const node = this.node({ type: SYMLINK, mode: 0o777, size: nameByteLength(target), mtime: nowNs(), name, parent: dir })
    this.own(node, dir, owner)
    node.target = target
    this.attach(dir, node)
    this.stats.symlinks++
    return node
  }

  /** mknod(2) of a FIFO, a socket's node, or a character or block device (`type`, with `rdev`). */
  async mknod (p: string, type: EntryType, mode: number, rdev: number, owner?: Owner): Promise<LiveNode> {
    this.writable()
    if (type !== FIFO && type !== SOCKET && type !== CHAR_DEVICE && type !== BLOCK_DEVICE) throw ManifestError.INVALID_ARGUMENT(`mknod of type ${type}`)
    const { dir, name } = await this.parentOf(p)
    if ((await this.childrenOf(dir)).has(name)) throw ManifestError.ENTRY_EXISTS(p)
    const node = this.node({ type, mode: mode & 0o7777, size: 0, mtime: nowNs(), name, parent: dir })
    this.own(node, dir, owner)
    if (type === CHAR_DEVICE || type === BLOCK_DEVICE) node.rdev = rdev
    this.attach(dir, node)
    this.stats.files++
    return node
  }

  /**
   * unlink() of `name` in a directory whose listing is in memory, synchronously
   * (the mount's hot path); false when it takes the async way (a hard-linked
   * file: its other names may need loading), and then nothing was done.
   */
  unlinkIn (dir: LiveNode, name: string): boolean {
    if (dir.children === null || this.hidden.size !== 0) return false
    this.writable()
    const node = dir.children.get(name)
    if (node === undefined) throw ManifestError.NO_ENTRY(this.at(dir, name))
    if (node.type === DIR) throw ManifestError.IS_DIRECTORY(this.at(dir, name))
    if (node.group !== null) return false
    this.detach(node)
    this.forget(node)
    return true
  }

  async unlink (p: string) {
    const hidden = this.hidden.get(p)
    if (hidden !== undefined) { this.hidden.delete(p); this.released(hidden.node); return } // its last close
    this.writable()
    const node = await this.lookup(p)
    if (node.type === DIR) throw ManifestError.IS_DIRECTORY(p)
    const { dir, name } = await this.parentOf(p)
    await this.unlinkName(node, dir, name)
  }

  /**
   * link(2): one more name for a file (or a FIFO, socket, device or symlink):
   * the same node, inode number and content under both; nlink counts the names.
   */
  async link (from: string | LiveNode, to: string): Promise<LiveNode> {
    this.writable()
    const node = typeof from === 'string' ? await this.lookup(from) : from
    if (node.type === DIR) throw ManifestError.NOT_PERMITTED(`cannot hard-link a directory: ${typeof from === 'string' ? from : this.pathOf(node)}`)
    const { dir, name } = await this.parentOf(to)
    if ((await this.childrenOf(dir)).has(name)) throw ManifestError.ENTRY_EXISTS(to)
    if (node.unlinked) return this.relink(node, dir, name)
    await this.loadGroup(node)
    if (node.group === null) { node.group = newGroup(); this.groups.set(node.group, node) }
    ;(node.aliases ??= []).push({ parent: dir, name })
    dir.children!.set(name, node)
    dir.mtime = dir.ctime = nowNs()
    node.nlink++
    node.ctime = nowNs()
    if (node.type === FILE) { this.stats.files++; this.stats.bytes += node.size } else if (node.type === SYMLINK) this.stats.symlinks++; else this.stats.files++
    this.touch(node)
    return node
  }

  /**
   * open(2) with O_TMPFILE: a file with no name, in no directory (`dir` only
   * gives its owner), counted nowhere, dropped at its last close unless
   * linkat(2) names it first (link, relink).
   */
  async tmpfile (dir: LiveNode, mode: number, owner?: Owner): Promise<LiveNode> {
    this.writable()
    if (dir.type !== DIR) throw ManifestError.NOT_DIRECTORY(this.pathOf(dir))
    const node = this.node({ type: FILE, mode: mode & 0o7777, size: 0, mtime: nowNs(), name: '', parent: null })
    this.own(node, dir, owner)
    await this.stage(node, false)
    this.inodes.delete(node.ino) // as a file unlinked while open (forget)
    node.unlinked = true
    node.nlink = 0
    return node
  }

  /** The first name of a file made with O_TMPFILE (the kernel lets no other unlinked file be linked). */
  private relink (node: LiveNode, dir: LiveNode, name: string) {
    node.unlinked = false
    node.name = name
    node.nlink = 1
    node.ctime = nowNs()
    this.inodes.set(node.ino, node)
    this.attach(dir, node)
    this.stats.files++
    this.stats.bytes += node.size
    return node
  }

  /** Removes one name of a node: the node goes with its last name. */
  private async unlinkName (node: LiveNode, dir: LiveNode, name: string) {
    if (node.group === null || node.nlink <= 1) { this.detach(node); this.forget(node); return }
    await this.loadGroup(node)
    if (node.aliases === null || node.aliases.length === 0) { this.detach(node); this.forget(node); return }
    dir.children!.delete(name)
    dir.mtime = dir.ctime = nowNs()
    this.touch(dir)
    if (node.parent === dir && node.name === name) {
      const next = node.aliases.shift()!
      node.parent = next.parent
      node.name = next.name
    } else {
      const i = node.aliases.findIndex(a => a.parent === dir && a.name === name)
      if (i !== -1) node.aliases.splice(i, 1)
    }
    if (node.aliases.length === 0) node.aliases = null
    node.nlink--
    node.ctime = nowNs()
    if (node.type === FILE) { this.stats.files--; this.stats.bytes -= node.size } else if (node.type === SYMLINK) this.stats.symlinks--; else this.stats.files--
    this.touch(node)
  }

  /**
   * Every name of a hard-linked node must be loaded before it changes (each
   * directory's tree holds the content, and every entry of the group its nlink):
   * when some are in directories not read yet, the whole tree is read once.
   * nlink is then what was found (an import may have counted names outside its tree).
   */
  private async loadGroup (node: LiveNode) {
    if (node.group === null || 1 + (node.aliases?.length ?? 0) >= node.nlink) return
    const walk = async (dir: LiveNode) => {
      for (const child of (await this.childrenOf(dir)).values()) if (child.type === DIR) await walk(child)
    }
    await walk(this.root)
    node.nlink = node.unlinked ? 0 : 1 + (node.aliases?.length ?? 0)
  }

  async rmdir (p: string) {
    this.writable()
    const node = await this.lookup(p)
    if (node.type !== DIR) throw ManifestError.NOT_DIRECTORY(p)
    if (node === this.root) throw ManifestError.NOT_PERMITTED('cannot remove the workspace root')
    if ((await this.childrenOf(node)).size > 0) throw ManifestError.DIRECTORY_NOT_EMPTY(p)
    // libfuse 2 finds an open file by its (hidden) path: with its directory gone
    // its reads would fail, so the directory stays until the file is closed
    for (const h of this.hidden.values()) if (h.dir === node) throw ManifestError.DIRECTORY_NOT_EMPTY(`${p} (a file unlinked in it is still open)`)
    this.detach(node)
    this.forget(node)
  }

  /**
   * rename(2): replaces a file or an empty directory at the destination.
   * libfuse renames a file unlinked while open to `.fuse_hidden<16 hex>` (and
   * unlinks that at the last close): that is an unlink here, so no listing,
   * commit or rmdir sees it, and its handles keep it. flags: renameat2's
   * RENAME_NOREPLACE (EEXIST when `to` exists) and RENAME_EXCHANGE (swap).
   */
  async rename (from: string, to: string, flags = 0) {
    this.writable()
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE)) throw ManifestError.INVALID_ARGUMENT(`rename flags ${flags}`)
    if (flags & RENAME_EXCHANGE) return this.exchange(from, to)
    const node = await this.lookup(from)
    if (HIDDEN.test(to.slice(to.lastIndexOf('/') + 1)) && node.type !== DIR && node.opens > 0) {
      const { dir, name } = await this.parentOf(from)
      await this.unlinkName(node, dir, name)
      this.hidden.set(to, { node, dir })
      return
    }
    if (node === this.root) throw ManifestError.NOT_PERMITTED('cannot rename the workspace root')
    const { dir, name } = await this.parentOf(to)
    for (let up: LiveNode | null = dir; up; up = up.parent) if (up === node) throw ManifestError.INVALID_ARGUMENT(`cannot move ${from} into itself`)
    const existing = (await this.childrenOf(dir)).get(name)
    if (existing !== undefined && (flags & RENAME_NOREPLACE)) throw ManifestError.ENTRY_EXISTS(to)
    if (existing === node) return
    if (existing) {
      if (existing.type === DIR && node.type !== DIR) throw ManifestError.IS_DIRECTORY(to)
      if (existing.type !== DIR && node.type === DIR) throw ManifestError.NOT_DIRECTORY(to)
      if (existing.type === DIR && (await this.childrenOf(existing)).size > 0) throw ManifestError.DIRECTORY_NOT_EMPTY(to)
      await this.unlinkName(existing, dir, name)
    }
    if (node.aliases !== null && node.aliases.length > 0) {
      // one name of several moves: the others stay
      const src = await this.parentOf(from)
      await this.loadGroup(node)
      src.dir.children!.delete(src.name)
      src.dir.mtime = src.dir.ctime = nowNs()
      this.touch(src.dir)
      if (node.parent === src.dir && node.name === src.name) { node.parent = dir; node.name = name } else {
        const a = node.aliases.find(x => x.parent === src.dir && x.name === src.name)
        if (a !== undefined) { a.parent = dir; a.name = name }
      }
      dir.children!.set(name, node)
      dir.mtime = dir.ctime = nowNs()
      node.ctime = nowNs()
      this.touch(node)
      return
    }
    this.detach(node)
    node.name = name
    node.ctime = nowNs()
    this.attach(dir, node)
  }

  /** renameat2(RENAME_EXCHANGE): the two names swap their entries, atomically. */
  private async exchange (from: string, to: string) {
    const a = await this.lookup(from)
    const b = await this.lookup(to)
    const src = await this.parentOf(from)
    const dst = await this.parentOf(to)
    for (let up: LiveNode | null = dst.dir; up; up = up.parent) if (up === a) throw ManifestError.INVALID_ARGUMENT(`cannot move ${from} into itself`)
    for (let up: LiveNode | null = src.dir; up; up = up.parent) if (up === b) throw ManifestError.INVALID_ARGUMENT(`cannot move ${to} into itself`)
    if (a === b) return
    await this.loadGroup(a)
    await this.loadGroup(b)
    renamed(a, src.dir, src.name, dst.dir, dst.name)
    renamed(b, dst.dir, dst.name, src.dir, src.name)
    src.dir.children!.set(src.name, b)
    dst.dir.children!.set(dst.name, a)
    const now = nowNs()
    for (const n of [src.dir, dst.dir, a, b]) { n.ctime = now; this.touch(n) }
    src.dir.mtime = dst.dir.mtime = now
  }

  /**
   * Numbers this tree's inodes in one sequence with `from`'s (a restore or a
   * new head swapped in under a mount), even what `from` still loads: an
   * inode number the kernel holds never names another file. Call before
   * anything is looked up.
   */
  continueInos (from: LiveTree) {
    this.inos = from.inos
  }

  // -- attributes --------------------------------------------------------------

  async chmod (node: LiveNode, mode: number) {
    await this.loadGroup(node)
    this.writable()
    node.mode = mode & 0o7777
    node.ctime = nowNs()
    this.touch(node)
  }

  /**
   * chown(2), once the kernel allowed it (default_permissions: only root gives
   * a file away; an owner may pick one of its groups). 0xffffffff leaves that id.
   * Who may is the kernel's check; the set-id bits it clears it then clears with
   * a chmod of its own.
   */
  async chown (node: LiveNode, uid: number, gid: number) {
    await this.loadGroup(node)
    this.writable()
    const cur = this.ownerOf(node)
    this.setOwner(node, { uid: uid === UNCHANGED || uid === -1 ? cur.uid : uid, gid: gid === UNCHANGED || gid === -1 ? cur.gid : gid })
    node.ctime = nowNs()
    this.touch(node)
  }

  /** The node's owner, the default resolved. */
  ownerOf (node: LiveNode): Owner {
    return { uid: node.uid ?? this.defaultOwner.uid, gid: node.gid ?? this.defaultOwner.gid }
  }

  /** Stores an owner; the daemon's own is stored as none (the tree stays version 1 for a root-only workspace). */
  private setOwner (node: LiveNode, o: Owner) {
    const plain = o.uid === this.defaultOwner.uid && o.gid === this.defaultOwner.gid
    node.uid = plain ? null : o.uid
    node.gid = plain ? null : o.gid
  }

  /** A new entry's owner: the caller, with the group of a setgid directory (which new directories inherit). */
  private own (node: LiveNode, dir: LiveNode, owner: Owner | undefined) {
    const who = owner ?? this.defaultOwner
    const setgid = (dir.mode & S_ISGID) !== 0
    this.setOwner(node, { uid: who.uid, gid: setgid ? this.ownerOf(dir).gid : who.gid })
    if (setgid && node.type === DIR) node.mode |= S_ISGID
  }

  // -- extended attributes ------------------------------------------------------
  // Who may read or write which namespace (trusted.* root only, user.* on files
  // and directories, the caller's read or write permission) is the kernel's
  // check, before the request reaches the mount; these are answers from memory.

  getxattr (node: LiveNode, name: string): Buffer {
    const v = node.xattrs?.get(name)
    if (v === undefined) throw ManifestError.NO_ATTRIBUTE(this.pathOf(node), name)
    return v
  }

  listxattr (node: LiveNode): string[] {
    return node.xattrs === null ? [] : [...node.xattrs.keys()].sort()
  }

  async setxattr (node: LiveNode, name: string, value: Buffer, flags: number) {
    await this.loadGroup(node)
    this.writable()
    // POSIX ACLs are not kept: refused cleanly (setfacl says the operation is not supported)
    if (!knownNamespace(name)) throw ManifestError.NOT_SUPPORTED(`${name}: extended attributes are user.*, trusted.* or security.*; POSIX ACLs (system.*) are not supported`)
    if (Buffer.byteLength(name) > MAX_XATTR_NAME_BYTES) throw ManifestError.NAME_TOO_LONG(name)
    if (value.byteLength > MAX_XATTR_VALUE_BYTES) throw ManifestError.ATTRIBUTE_SPACE(this.pathOf(node))
    const has = node.xattrs?.has(name) ?? false
    if ((flags & XATTR_CREATE) && has) throw ManifestError.ATTRIBUTE_EXISTS(this.pathOf(node), name)
    if ((flags & XATTR_REPLACE) && !has) throw ManifestError.NO_ATTRIBUTE(this.pathOf(node), name)
    let total = Buffer.byteLength(name) + value.byteLength
    for (const [k, v] of node.xattrs ?? []) if (k !== name) total += Buffer.byteLength(k) + v.byteLength
    if (total > MAX_XATTR_TOTAL_BYTES) throw ManifestError.ATTRIBUTE_SPACE(this.pathOf(node))
    // the value it already has: nothing changes, not even ctime (as ext4: ext4_xattr_value_same)
    if (has && node.xattrs!.get(name)!.equals(value)) return
    ;(node.xattrs ??= new Map()).set(name, Buffer.from(value))
    if (name === CAPABILITY) this.capability()
    node.ctime = nowNs()
    this.touch(node)
  }

  async removexattr (node: LiveNode, name: string) {
    await this.loadGroup(node)
    this.writable()
    if (!knownNamespace(name)) throw ManifestError.NOT_SUPPORTED(`${name}: not a namespace the mount keeps`)
    if (!node.xattrs?.delete(name)) throw ManifestError.NO_ATTRIBUTE(this.pathOf(node), name)
    if (node.xattrs.size === 0) node.xattrs = null
    node.ctime = nowNs()
    this.touch(node)
  }

  /** null leaves a time unchanged (UTIME_OMIT); 'now' is this clock's now (UTIME_NOW: one reading for both, ctime not before it). */
  async utimens (node: LiveNode, atime: bigint | null | 'now', mtime: bigint | null | 'now') {
    await this.loadGroup(node)
    this.writable()
    const now = atime === 'now' || mtime === 'now' ? nowNs() : 0n
    if (atime !== null) node.atime = atime === 'now' ? now : atime
    if (mtime !== null) node.mtime = mtime === 'now' ? now : mtime
    node.ctime = nowNs()
    this.touch(node)
  }

  // -- content -------------------------------------------------------------------

  /**
   * A read or a listing through the mount: atime as ext4 with relatime (the
   * mount's option) keeps it. The kernel never updates a FUSE file's atime
   * itself (its inodes are S_NOATIME); it asks again after each read. Reads it
   * answers from its page cache do not come here. atime is not stored in
   * trees: after a remount it is the mtime again.
   */
  accessed (node: LiveNode) {
    const a = node.atime
    if (a > node.mtime && a > node.ctime && BigInt(Date.now()) * 1_000_000n - a < RELATIME_NS) return
    if (this.readOnly) return
    node.atime = nowNs()
  }

  async read (node: LiveNode, buf: Buffer, length: number, offset: number): Promise<number> {
    if (node.type === DIR) throw ManifestError.IS_DIRECTORY(this.pathOf(node))
    const n = Math.max(0, Math.min(length, node.size - offset))
    if (n === 0) return 0
    if (node.staged) {
      await node.staged.read(buf, n, offset)
      return n
    }
    for (const { index, within, done, length: want } of chunkSpans(offset, n)) {
      const got = await this.store.readInto(toHex(node.chunks[index]), buf, done, within, want)
      if (got < want) buf.fill(0, done + got, done + want)
    }
    return n
  }

  /** The objects a read of this range still lacks locally (what it waits on the network for). */
  missingIn (node: LiveNode, offset: number, length: number): string[] {
    if (node.type === DIR || node.staged) return []
    const n = Math.max(0, Math.min(length, node.size - offset))
    const out: string[] = []
    if (n > 0) for (const { index } of chunkSpans(offset, n)) { const hex = toHex(node.chunks[index]); if (!this.store.hasHex(hex)) out.push(hex) }
    return out
  }

  /** The directory listing a lookup or listing of `p` waits for: the first tree on the path that is not local. */
  missingOnPath (p: string): string[] {
    let node = this.root
    const names = p.split('/').filter(Boolean)
    for (let i = 0; ; i++) {
      if (node.type !== DIR) return []
      if (node.children === null) return node.tree !== null && !this.store.hasHex(toHex(node.tree)) ? [toHex(node.tree)] : []
      if (i === names.length) return []
      const child = node.children.get(names[i])
      if (child === undefined) return []
      node = child
    }
  }

  async write (node: LiveNode, buf: Buffer, length: number, offset: number): Promise<number> {
    this.writable()
    if (node.group !== null) await this.loadGroup(node)
    if (node.type !== FILE) throw ManifestError.IS_DIRECTORY(this.pathOf(node))
    const staged = await this.stage(node, true)
    await staged.write(buf, 0, length, offset)
    this.wrote(node, offset + length)
    return length
  }

  /**
   * write() when it needs nothing but memory (a file staged in memory, or an
   * empty one, that stays within the in-memory limit; no hard-link names to
   * load): synchronous, the mount's hot path. null, and nothing done, otherwise.
   */
  writeSync (node: LiveNode, buf: Buffer, length: number, offset: number): number | null {
    this.writable()
    if (node.group !== null && 1 + (node.aliases?.length ?? 0) < node.nlink) return null // loadGroup would read
    if (node.type !== FILE) throw ManifestError.IS_DIRECTORY(this.pathOf(node))
    let staged = node.staged
    if (staged === null) {
      if (node.size !== 0) return null
      staged = node.staged = Staged.openEmpty(this.store, this.stagingFile(node), this.budget)
    }
    if (!staged.writeSync(buf, 0, length, offset)) return null
    this.wrote(node, offset + length)
    return length
  }

  /** A write ending at `end` went into node's staging: size, stats, times, dirty. */
  private wrote (node: LiveNode, end: number) {
    if (end > node.size) { if (!node.unlinked) this.stats.bytes += (end - node.size) * (1 + (node.aliases?.length ?? 0)); node.size = end }
    node.mtime = node.ctime = nowNs()
    this.touch(node)
  }

  /**
   * A write by a process without CAP_FSETID (in a mount: not root) clears the
   * set-uid bit, and the set-gid bit of a group-executable file, as the kernel
   * does (should_remove_suid). Before a write through its page cache the kernel
   * does it itself (a chmod of its own); a direct-I/O write (a file with several
   * names) only carries FUSE_WRITE_KILL_SUIDGID, which libfuse 2 does not pass on.
   */
  dropSetId (node: LiveNode) {
    const mode = node.mode & ~S_ISUID & ~((node.mode & 0o010) !== 0 ? S_ISGID : 0)
    if (mode === node.mode) return
    node.mode = mode
    node.ctime = nowNs()
    this.touch(node)
  }

  async truncate (node: LiveNode, size: number) {
    this.writable()
    if (node.group !== null) await this.loadGroup(node)
    if (node.type === DIR) throw ManifestError.IS_DIRECTORY(this.pathOf(node))
    if (node.type !== FILE) throw ManifestError.INVALID_ARGUMENT('truncate of a symlink')
    // the same size still changes mtime and ctime, as on ext4 (truncate(1), an O_TRUNC open of an empty file)
    if (size === node.size && node.staged) { node.mtime = node.ctime = nowNs(); this.touch(node); return }
    const staged = await this.stage(node, size > 0)
    await staged.truncate(size)
    if (!node.unlinked) this.stats.bytes += (size - node.size) * (1 + (node.aliases?.length ?? 0))
    node.size = size
    node.mtime = node.ctime = nowNs()
    this.touch(node)
  }

  /**
   * fallocate(2). Modes 0 and FALLOC_FL_KEEP_SIZE: nothing is reserved (staging
   * files are sparse, the store keeps one zero chunk), only the size grows, to
   * what ext4 would give. FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE, as Linux
   * requires) and FALLOC_FL_ZERO_RANGE: the range reads as zeros from then on
   * (written as zeros into the staging file; a commit stores them as the one
   * zero chunk); ZERO_RANGE without KEEP_SIZE may grow the file. mtime and
   * ctime change even when nothing else does, as on ext4. Collapsing and
   * inserting ranges are refused (EOPNOTSUPP).
   */
  async allocate (node: LiveNode, mode: number, offset: number, length: number) {
    const zeroing = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) !== 0 || zeroing === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE) ||
      ((mode & FALLOC_FL_PUNCH_HOLE) !== 0 && (mode & FALLOC_FL_KEEP_SIZE) === 0)) {
      throw ManifestError.NOT_SUPPORTED(`fallocate mode ${mode}: allocation, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE and ZERO_RANGE are supported`)
    }
    const end = offset + length
    if (zeroing === 0 && (mode & FALLOC_FL_KEEP_SIZE) === 0 && end > node.size) return this.truncate(node, end)
    this.writable()
    if (node.group !== null) await this.loadGroup(node)
    if (node.type !== FILE) throw ManifestError.INVALID_ARGUMENT('fallocate of a non-file')
    if (zeroing !== 0) {
      const stop = (mode & FALLOC_FL_KEEP_SIZE) !== 0 ? Math.min(end, node.size) : end
      const zeros = Buffer.alloc(Math.min(ZERO_PIECE, Math.max(0, stop - offset)))
      for (let at = offset; at < stop; at += zeros.length) await this.write(node, zeros, Math.min(zeros.length, stop - at), at)
    }
    node.mtime = node.ctime = nowNs()
    this.touch(node)
  }

  /**
   * lseek(2)'s SEEK_DATA (3) and SEEK_HOLE (4) from `offset`, by whole chunks:
   * a chunk never written, or stored as zeros, is a hole (so `cp` out of the
   * mount keeps a sparse file sparse); the end of the file is a hole. ENXIO at
   * or past the end, as ext4.
   */
  seek (node: LiveNode, offset: number, whence: number): number {
    if (whence !== SEEK_DATA && whence !== SEEK_HOLE) throw ManifestError.INVALID_ARGUMENT(`lseek whence ${whence}`)
    const size = node.size
    if (offset < 0 || offset >= size) throw ManifestError.PAST_END(`offset ${offset} of a file of ${size} bytes`)
    const count = Math.ceil(size / CHUNK_SIZE)
    for (let i = Math.floor(offset / CHUNK_SIZE); i < count; i++) {
      if (this.isHole(node, i) === (whence === SEEK_HOLE)) return Math.max(offset, i * CHUNK_SIZE)
    }
    if (whence === SEEK_HOLE) return size
    throw ManifestError.PAST_END(`no data after offset ${offset}`)
  }

  /**
   * st_blocks (512 bytes each): what holds data. A file of more than one chunk
   * counts its chunks that are not holes (seek), so du, and cp, tar and rsync
   * out of the mount (they look for holes only in a file whose blocks are
   * fewer than its size), see a sparse file as sparse. Kept per node until its
   * mtime or size changes: a stat stays an answer from memory.
   */
  blocks (node: LiveNode): number {
    if (node.size <= CHUNK_SIZE) return Math.ceil(node.size / 512)
    const known = this.allocated.get(node)
    if (known !== undefined && known.mtime === node.mtime && known.size === node.size) return known.blocks
    let bytes = 0
    const count = Math.ceil(node.size / CHUNK_SIZE)
    for (let i = 0; i < count; i++) if (!this.isHole(node, i)) bytes += Math.min(CHUNK_SIZE, node.size - i * CHUNK_SIZE)
    const blocks = Math.ceil(bytes / 512)
    this.allocated.set(node, { mtime: node.mtime, size: node.size, blocks })
    return blocks
  }

  private isHole (node: LiveNode, i: number) {
    if (node.staged !== null) return node.staged.isHole(i)
    return i >= node.chunks.length || isZeroChunk(node.chunks[i], Math.min(CHUNK_SIZE, node.size - i * CHUNK_SIZE))
  }

  async fsync (node: LiveNode) {
    if (node.staged) await node.staged.sync()
  }

  // -- commit ----------------------------------------------------------------------

  /** Records the live state as a commit; returns null when nothing changed. One at a time. */
  commit (message: string): Promise<CommitRecord | null> {
    const run = async (): Promise<CommitRecord | null> => {
      if (!this.root.dirty) return null
      const root = await this.snapshotDir(this.root)
      await this.store.flush()
      if (root.equals(this.ws.head!.root)) return null
      return this.ws.append({ root, time: Date.now(), message, stats: { ...this.stats } })
    }
    const next = (this.committing ?? Promise.resolve(null)).catch(() => null).then(run)
    this.committing = next.finally(() => { if (this.committing === next) this.committing = null }) as Promise<CommitRecord | null>
    return next
  }

  private async snapshotDir (dir: LiveNode): Promise<Buffer> {
    if (!dir.dirty && dir.tree) return dir.tree
    const gen = dir.gen
    const children = await this.childrenOf(dir)
    const entries: Entry[] = []
    for (const [name, child] of children) entries.push(await this.toEntry(child, name))
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    const hash = await this.trees.put({ entries })
    if (dir.gen === gen) { dir.tree = hash; dir.dirty = false }
    return hash
  }

  private async toEntry (node: LiveNode, name: string): Promise<Entry> {
    const base: Omit<Entry, 'type' | 'size'> = { name, mode: node.mode, mtimeSec: Number(node.mtime / 1_000_000_000n), mtimeNsec: Number(node.mtime % 1_000_000_000n), chunks: [] as Buffer[], tree: null as Buffer | null, target: null as string | null }
    if (node.uid !== null || node.gid !== null) { const o = this.ownerOf(node); base.uid = o.uid; base.gid = o.gid }
    if (node.xattrs !== null) base.xattrs = [...node.xattrs.keys()].sort().map(k => ({ name: k, value: node.xattrs!.get(k)! }))
    if (node.group !== null && node.nlink > 1) base.link = { group: node.group, nlink: node.nlink }
    if (node.type === DIR) return { ...base, type: DIR, size: 0, tree: await this.snapshotDir(node) }
    if (node.type === CHAR_DEVICE || node.type === BLOCK_DEVICE) { node.dirty = false; return { ...base, type: node.type, size: 0, rdev: node.rdev } }
    if (node.type === FIFO || node.type === SOCKET) { node.dirty = false; return { ...base, type: node.type, size: 0 } }
    if (node.type === SYMLINK) { node.dirty = false; return { ...base, type: SYMLINK, size: node.size, target: node.target } }
    if (node.staged && node.dirty) {
      const gen = node.gen
      const stored = await node.staged.commit()
      const size = stored.size
      if (node.gen === gen) {
        node.chunks = stored.chunks
        node.dirty = false
        if (node.writers === 0 && size === node.size) await this.dropStaging(node)
      }
      return { ...base, type: FILE, size, chunks: stored.chunks }
    }
    node.dirty = false
    return { ...base, type: FILE, size: node.size, chunks: node.chunks }
  }

  // -- internals ---------------------------------------------------------------------

  node (init: { type: EntryType, mode: number, size: number, mtime: bigint, name: string, parent: LiveNode | null, tree?: Buffer | null }): LiveNode {
    const node: LiveNode = {
      ino: this.inos.next++,
      type: init.type,
      mode: init.mode,
      size: init.size,
      mtime: init.mtime,
      ctime: init.mtime,
      atime: init.mtime,
      parent: init.parent,
      name: init.name,
      chunks: [],
      staged: null,
      children: null,
      tree: init.tree ?? null,
      target: null,
      dirty: false,
      gen: 0,
      writers: 0,
      opens: 0,
      unlinked: false,
      uid: null,
      gid: null,
      rdev: 0,
      xattrs: null,
      aliases: null,
      group: null,
      nlink: 1
    }
    this.inodes.set(node.ino, node)
    return node
  }

  private fromEntry (e: Entry, parent: LiveNode): LiveNode {
    if (e.link !== undefined) {
      const known = this.groups.get(e.link.group)
      if (known !== undefined && !known.unlinked && known.type === e.type) {
        (known.aliases ??= []).push({ parent, name: e.name })
        return known
      }
    }
    const mtime = BigInt(e.mtimeSec) * 1_000_000_000n + BigInt(e.mtimeNsec)
    const node = this.node({ type: e.type, mode: e.mode, size: e.size, mtime, name: e.name, parent, tree: e.tree })
    node.chunks = e.chunks
    node.target = e.target
    if (e.uid !== undefined) this.setOwner(node, { uid: e.uid, gid: e.gid ?? 0 })
    if (e.rdev !== undefined) node.rdev = e.rdev
    if (e.xattrs !== undefined && e.xattrs.length > 0) {
      node.xattrs = new Map(e.xattrs.map(x => [x.name, x.value]))
      if (node.xattrs.has(CAPABILITY)) this.capability()
    }
    if (e.link !== undefined) { node.group = e.link.group; node.nlink = Math.max(1, e.link.nlink); this.groups.set(e.link.group, node) }
    return node
  }

  private async parentOf (p: string): Promise<{ dir: LiveNode, name: string }> {
    const i = p.lastIndexOf('/')
    const name = p.slice(i + 1)
    checkName(name, () => p)
    const dir = await this.lookup(p.slice(0, i) || '/')
    if (dir.type !== DIR) throw ManifestError.NOT_DIRECTORY(p)
    return { dir, name }
  }

  /** Gives a file staged content: its committed content when `keep` is set, else empty. */
  private async stage (node: LiveNode, keep: boolean): Promise<Staged> {
    if (node.staged) return node.staged
    const staged = await Staged.open(this.store, this.stagingFile(node), this.budget, keep ? node.chunks : [], keep ? node.size : 0)
    if (node.staged) { await staged.close(); return node.staged } // raced
    node.staged = staged
    return staged
  }

  private stagingFile (node: LiveNode) {
    return path.join(this.stagingDir, `${node.ino}-${this.stagingSeq++}`)
  }

  private async dropStaging (node: LiveNode) {
    const staged = node.staged
    if (!staged) return
    node.staged = null
    await staged.close()
  }

  private attach (dir: LiveNode, node: LiveNode) {
    node.parent = dir
    dir.children!.set(node.name, node)
    dir.mtime = dir.ctime = nowNs()
    this.touch(node)
  }

  private detach (node: LiveNode) {
    const dir = node.parent!
    dir.children!.delete(node.name)
    dir.mtime = dir.ctime = nowNs()
    this.touch(dir)
  }

  /** Removes a node (and what is under it) from the stats and drops its staging file. */
  private forget (node: LiveNode) {
    if (node.type === FILE) { this.stats.files--; this.stats.bytes -= node.size }
    else if (node.type === SYMLINK) this.stats.symlinks--
    else if (node.type === DIR) this.stats.dirs--
    else this.stats.files--
    this.inodes.delete(node.ino)
    if (node.group !== null && this.groups.get(node.group) === node) this.groups.delete(node.group)
    node.unlinked = true
    node.parent = null // writes through an open handle change no directory
    if (node.opens === 0) void this.dropStaging(node)
  }

  private capability () {
    if (this.hasCapability) return
    this.hasCapability = true
    this.onCapability?.()
  }

  /** The last handle of a node closed: an unlinked one costs nothing from now on. */
  released (node: LiveNode) {
    if (node.unlinked && node.opens === 0) void this.dropStaging(node)
  }

  /** Marks a node and its ancestors dirty. */
  touch (node: LiveNode) {
    for (let n: LiveNode | null = node; n; n = n.parent) {
      n.dirty = true
      n.gen++
    }
    if (node.aliases !== null) {
      for (const a of node.aliases) {
        for (let n: LiveNode | null = a.parent; n; n = n.parent) {
          n.dirty = true
          n.gen++
        }
      }
    }
  }

  /** The path of `name` in dir, for messages. */
  private at (dir: LiveNode, name: string) {
    return dir.parent === null ? '/' + name : this.pathOf(dir) + '/' + name
  }

  pathOf (node: LiveNode): string {
    const parts: string[] = []
    for (let n: LiveNode | null = node; n && n.parent; n = n.parent) parts.unshift(n.name)
    return '/' + parts.join('/')
  }
}
