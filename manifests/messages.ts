/**
 * Every encoding manifests/ writes: trees (CAS objects) and the Hyperbee values
 * of a workspace log and of the local registry. Each value starts with a
 * version; optional fields hang off a `flags` bitfield so they can be added
 * without a new version.
 *
 * File content is referenced as a list of chunk hashes; every chunk but the
 * last is exactly CHUNK_SIZE (core/lib/chunker.ts) bytes, so a byte offset maps
 * to a chunk by division.
 */
import c from 'compact-encoding'
import { isPlainName, nameFromBytes, nameToBytes } from '../core/index.js'

/**
 * Trees: version 1 (files, dirs, symlinks) or version 2 (any entry may carry
 * the fields a local disk has that version 1 lacks, each behind a bit of its
 * `extra` field; and special files). A tree is written as version 1 when every
 * entry fits it, so trees of plain workspaces keep their bytes and hashes, and
 * peers that know only version 1 keep reading them. See the README's
 * architecture section ("POSIX fields in trees").
 */
export const TREE_VERSION = 1
export const TREE_VERSION_2 = 2
export const VALUE_VERSION = 1

export const FILE = 1
export const DIR = 2
export const SYMLINK = 3
/** Special files (version 2 only): a named pipe, a Unix socket's node, character and block devices (with rdev). */
export const FIFO = 4
export const SOCKET = 5
export const CHAR_DEVICE = 6
export const BLOCK_DEVICE = 7
export type EntryType = typeof FILE | typeof DIR | typeof SYMLINK | typeof FIFO | typeof SOCKET | typeof CHAR_DEVICE | typeof BLOCK_DEVICE

/** Bits of a version-2 entry's `extra` field, in the order their fields follow. */
export const EXTRA_OWNER = 1
export const EXTRA_RDEV = 2
export const EXTRA_XATTRS = 4
export const EXTRA_LINK = 8
const EXTRA_KNOWN = EXTRA_OWNER | EXTRA_RDEV | EXTRA_XATTRS | EXTRA_LINK

export interface Xattr { name: string, value: Buffer }

export interface Entry {
  name: string
  type: EntryType
  /** Permission bits, with setuid, setgid and sticky (mode & 0o7777). */
  mode: number
  /** Bytes of content for files, bytes of target for symlinks, 0 for the rest. */
  size: number
  mtimeSec: number
  mtimeNsec: number
  /** Files: chunk hashes in order. */
  chunks: Buffer[]
  /** Dirs: hash of the child tree. */
  tree: Buffer | null
  /** Symlinks: the link target, verbatim. */
  target: string | null
  /** Owner (version 2); absent: the mount's owner, as version 1 has it. */
  uid?: number
  gid?: number
  /** Character and block devices: the device number (version 2). */
  rdev?: number
  /** Extended attributes, sorted by name, unique (version 2). */
  xattrs?: Xattr[]
  /**
   * Hard links (version 2): every name of one file carries the same `group`
   * (unique within the commit) and the file's content; `nlink` is how many
   * names it has in the whole commit, so a lazily read directory can say it.
   */
  link?: { group: number, nlink: number }
}

/**
 * Whether version 1 can hold the entry as it is. Version 1 names and targets
 * are UTF-8 text; one whose bytes are not valid UTF-8 makes a version-2 tree
 * (same layout, bytes kept: an old reader fails on the version instead of
 * reading a name it would mangle).
 */
export function fitsV1 (e: Entry): boolean {
  return e.type <= SYMLINK && isPlainName(e.name) && (e.target === null || isPlainName(e.target)) && e.uid === undefined && e.gid === undefined && e.rdev === undefined && e.xattrs === undefined && e.link === undefined
}

export interface Tree { entries: Entry[] }

export const MAX_NAME_BYTES = 255
export const MAX_TARGET_BYTES = 4096
export const MAX_TREE_ENTRIES = 1_000_000
/** As ext4: an attribute's name, one value, all of one entry's names and values. */
export const MAX_XATTR_NAME_BYTES = 255
export const MAX_XATTR_VALUE_BYTES = 65_536
export const MAX_XATTR_TOTAL_BYTES = 65_536 + 4096

function extraOf (e: Entry): number {
  return (e.uid !== undefined || e.gid !== undefined ? EXTRA_OWNER : 0) | (e.rdev !== undefined ? EXTRA_RDEV : 0) | (e.xattrs !== undefined ? EXTRA_XATTRS : 0) | (e.link !== undefined ? EXTRA_LINK : 0)
}

/**
 * A name or symlink target: its bytes, length first (as c.string lays out UTF-8
 * text), held as a string by core/lib/raw-names.ts's rule, so bytes that are
 * not UTF-8 survive byte for byte.
 */
const rawString = {
  preencode (state: c.State, s: string) {
    if (isPlainName(s)) c.string.preencode(state, s)
    else c.buffer.preencode(state, nameToBytes(s))
  },
  encode (state: c.State, s: string) {
    if (isPlainName(s)) c.string.encode(state, s)
    else c.buffer.encode(state, nameToBytes(s))
  },
  decode (state: c.State): string {
    const start = state.start
    const s = c.string.decode(state)
    if (!s.includes('\ufffd')) return s
    state.start = start
    const len = c.uint.decode(state)
    const bytes = state.buffer!.subarray(state.start, state.start + len)
    state.start += len
    return nameFromBytes(bytes)
  }
}

/** One entry of a version-`v` tree. Version 1 is version 2 without special types and without `extra`. */
function entryEncoding (v: number) {
  return {
    preencode (state: c.State, e: Entry) {
      rawString.preencode(state, e.name)
      state.end += 1 // type
      c.uint.preencode(state, e.mode)
      c.uint.preencode(state, e.size)
      c.int.preencode(state, e.mtimeSec)
      c.uint.preencode(state, e.mtimeNsec)
      if (e.type === FILE) c.array(c.fixed32).preencode(state, e.chunks)
      else if (e.type === DIR) c.fixed32.preencode(state, e.tree!)
      else if (e.type === SYMLINK) rawString.preencode(state, e.target!)
      if (v === 1) return
      const extra = extraOf(e)
      c.uint.preencode(state, extra)
      if (extra & EXTRA_OWNER) { c.uint.preencode(state, e.uid ?? 0); c.uint.preencode(state, e.gid ?? 0) }
      if (extra & EXTRA_RDEV) c.uint.preencode(state, e.rdev!)
      if (extra & EXTRA_XATTRS) {
        c.uint.preencode(state, e.xattrs!.length)
        for (const x of e.xattrs!) { c.string.preencode(state, x.name); c.buffer.preencode(state, x.value) }
      }
      if (extra & EXTRA_LINK) { c.uint.preencode(state, e.link!.group); c.uint.preencode(state, e.link!.nlink) }
    },
    encode (state: c.State, e: Entry) {
      rawString.encode(state, e.name)
      c.uint8.encode(state, e.type)
      c.uint.encode(state, e.mode)
      c.uint.encode(state, e.size)
      c.int.encode(state, e.mtimeSec)
      c.uint.encode(state, e.mtimeNsec)
      if (e.type === FILE) c.array(c.fixed32).encode(state, e.chunks)
      else if (e.type === DIR) c.fixed32.encode(state, e.tree!)
      else if (e.type === SYMLINK) rawString.encode(state, e.target!)
      if (v === 1) return
      const extra = extraOf(e)
      c.uint.encode(state, extra)
      if (extra & EXTRA_OWNER) { c.uint.encode(state, e.uid ?? 0); c.uint.encode(state, e.gid ?? 0) }
      if (extra & EXTRA_RDEV) c.uint.encode(state, e.rdev!)
      if (extra & EXTRA_XATTRS) {
        c.uint.encode(state, e.xattrs!.length)
        for (const x of e.xattrs!) { c.string.encode(state, x.name); c.buffer.encode(state, x.value) }
      }
      if (extra & EXTRA_LINK) { c.uint.encode(state, e.link!.group); c.uint.encode(state, e.link!.nlink) }
    },
    decode (state: c.State): Entry {
      const name = rawString.decode(state)
      const type = c.uint8.decode(state)
      const mode = c.uint.decode(state)
      const size = c.uint.decode(state)
      const mtimeSec = c.int.decode(state)
      const mtimeNsec = c.uint.decode(state)
      const e: Entry = { name, type: type as EntryType, mode, size, mtimeSec, mtimeNsec, chunks: [], tree: null, target: null }
      if (type === FILE) e.chunks = c.array(c.fixed32).decode(state) as Buffer[]
      else if (type === DIR) e.tree = c.fixed32.decode(state) as Buffer
      else if (type === SYMLINK) e.target = rawString.decode(state)
      else if (v === 1 || type > BLOCK_DEVICE || type === 0) throw new Error(`unknown entry type ${type}`)
      if (v === 1) return e
      const extra = c.uint.decode(state)
      if (extra & ~EXTRA_KNOWN) throw new Error(`unknown entry fields ${extra & ~EXTRA_KNOWN}`)
      if (extra & EXTRA_OWNER) { e.uid = c.uint.decode(state); e.gid = c.uint.decode(state) }
      if (extra & EXTRA_RDEV) e.rdev = c.uint.decode(state)
      if (extra & EXTRA_XATTRS) {
        const n = c.uint.decode(state)
        if (n > state.end - state.start) throw new Error(`${n} xattrs in ${state.end - state.start} bytes`)
        e.xattrs = []
        for (let i = 0; i < n; i++) e.xattrs.push({ name: c.string.decode(state), value: c.buffer.decode(state) as Buffer })
      }
      if (extra & EXTRA_LINK) e.link = { group: c.uint.decode(state), nlink: c.uint.decode(state) }
      return e
    }
  }
}

const entryV1 = entryEncoding(1)
const entryV2 = entryEncoding(2)
const entriesV1 = c.array(entryV1)
const entriesV2 = c.array(entryV2)

function treeVersionOf (t: Tree): number {
  for (const e of t.entries) if (!fitsV1(e)) return TREE_VERSION_2
  return TREE_VERSION
}

function entriesOf (version: number) {
  if (version === TREE_VERSION) return entriesV1
  if (version === TREE_VERSION_2) return entriesV2
  throw new Error(`unsupported tree version ${version}`)
}

/**
 * A directory listing. Entries are sorted by name (UTF-16 code unit order) and
 * unique. Written as version 1 when every entry fits it, else version 2.
 */
export const tree = {
  preencode (state: c.State, t: Tree) {
    const v = treeVersionOf(t)
    c.uint.preencode(state, v)
    c.uint.preencode(state, 0)
    entriesOf(v).preencode(state, t.entries)
  },
  encode (state: c.State, t: Tree) {
    const v = treeVersionOf(t)
    c.uint.encode(state, v)
    c.uint.encode(state, 0)
    entriesOf(v).encode(state, t.entries)
  },
  decode (state: c.State): Tree {
    const version = c.uint.decode(state)
    const list = entriesOf(version)
    c.uint.decode(state) // flags, none defined yet
    return { entries: list.decode(state) }
  }
}

/**
 * A tree's bytes cut into its header (version, flags) and the bytes of each
 * entry, as encoded: the network sends a tree as a delta against a tree the
 * receiver holds (net/lib/tree-delta.ts) by naming entries both have. joinTree
 * puts the parts back together byte for byte. Throws on anything that is not a
 * well-formed tree encoding.
 */
export interface TreeParts { head: Buffer, entries: Buffer[] }

export function splitTree (bytes: Buffer): TreeParts {
  const state = { start: 0, end: bytes.byteLength, buffer: bytes }
  const version = c.uint.decode(state)
  entriesOf(version) // throws on an unknown one
  const entry = version === TREE_VERSION ? entryV1 : entryV2
  c.uint.decode(state) // flags
  const head = bytes.subarray(0, state.start)
  const n = c.uint.decode(state)
  if (n > MAX_TREE_ENTRIES || n > state.end - state.start) throw new Error(`tree of ${n} entries in ${state.end - state.start} bytes`)
  const out: Buffer[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const s = state.start
    entry.decode(state)
    out[i] = bytes.subarray(s, state.start)
  }
  if (state.start !== state.end) throw new Error(`${state.end - state.start} trailing bytes after a tree`)
  return { head, entries: out }
}

/**
 * The child-tree hashes of a tree's directory entries, read straight from its
 * bytes: no entry objects, names or chunk lists are made. A resume walks every
 * tree of a head to know all of it is here before it mounts; decoding them whole
 * there (100k files: 1,033 trees) cost ~170 ms and as much again in garbage
 * collection, profiled. Throws on a malformed encoding (names and the rest are
 * checked when the tree is read: TreeStore.get).
 */
export function subtreeHashes (bytes: Buffer): Buffer[] {
  const state = { start: 0, end: bytes.byteLength, buffer: bytes }
  const version = c.uint.decode(state)
  // version 2 (trees with owners, special files...) is decoded whole: rarer, and its entries vary more
  if (version === TREE_VERSION_2) return (c.decode(tree, bytes) as Tree).entries.filter(e => e.type === DIR).map(e => e.tree!)
  if (version !== TREE_VERSION) throw new Error(`unsupported tree version ${version}`)
  c.uint.decode(state) // flags
  const n = c.uint.decode(state)
  if (n > MAX_TREE_ENTRIES || n > state.end - state.start) throw new Error(`tree of ${n} entries in ${state.end - state.start} bytes`)
  const out: Buffer[] = []
  const skip = (len: number) => {
    state.start += len
    if (state.start > state.end) throw new Error('tree entry runs past the end')
  }
  for (let i = 0; i < n; i++) {
    skip(c.uint.decode(state)) // name
    if (state.start >= state.end) throw new Error('tree entry runs past the end')
    const type = bytes[state.start++]
    c.uint.decode(state) // mode
    c.uint.decode(state) // size
    c.int.decode(state) // mtimeSec
    c.uint.decode(state) // mtimeNsec
    if (type === FILE) skip(32 * c.uint.decode(state))
    else if (type === DIR) { skip(32); out.push(bytes.subarray(state.start - 32, state.start)) }
    else if (type === SYMLINK) skip(c.uint.decode(state))
    else throw new Error(`unknown entry type ${type}`)
  }
  if (state.start !== state.end) throw new Error(`${state.end - state.start} trailing bytes after a tree`)
  return out
}

export function joinTree (parts: TreeParts): Buffer {
  return Buffer.concat([parts.head, c.encode(c.uint, parts.entries.length) as Buffer, ...parts.entries])
}

export interface CommitStats { files: number, dirs: number, symlinks: number, bytes: number }

export interface Commit {
  root: Buffer
  /** Sequence number of the parent commit, or -1 for the first commit. */
  parent: number
  /** Milliseconds since the epoch. */
  time: number
  message: string
  stats: CommitStats
}

const commitStats = {
  preencode (state: c.State, s: CommitStats) {
    c.uint.preencode(state, s.files); c.uint.preencode(state, s.dirs); c.uint.preencode(state, s.symlinks); c.uint.preencode(state, s.bytes)
  },
  encode (state: c.State, s: CommitStats) {
    c.uint.encode(state, s.files); c.uint.encode(state, s.dirs); c.uint.encode(state, s.symlinks); c.uint.encode(state, s.bytes)
  },
  decode (state: c.State): CommitStats {
    return { files: c.uint.decode(state), dirs: c.uint.decode(state), symlinks: c.uint.decode(state), bytes: c.uint.decode(state) }
  }
}

export const commit = versioned<Commit>({
  preencode (state, m) {
    c.fixed32.preencode(state, m.root); c.int.preencode(state, m.parent); c.uint.preencode(state, m.time)
    c.string.preencode(state, m.message); commitStats.preencode(state, m.stats)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.root); c.int.encode(state, m.parent); c.uint.encode(state, m.time)
    c.string.encode(state, m.message); commitStats.encode(state, m.stats)
  },
  decode (state) {
    return {
      root: c.fixed32.decode(state) as Buffer,
      parent: c.int.decode(state),
      time: c.uint.decode(state),
      message: c.string.decode(state),
      stats: commitStats.decode(state)
    }
  }
})

export interface Snapshot { label: string, commit: number, time: number }

export const snapshot = versioned<Snapshot>({
  preencode (state, m) { c.string.preencode(state, m.label); c.uint.preencode(state, m.commit); c.uint.preencode(state, m.time) },
  encode (state, m) { c.string.encode(state, m.label); c.uint.encode(state, m.commit); c.uint.encode(state, m.time) },
  decode (state) { return { label: c.string.decode(state), commit: c.uint.decode(state), time: c.uint.decode(state) } }
})

export interface Origin { key: Buffer, name: string, commit: number }

export interface WorkspaceMeta { name: string, created: number, origin: Origin | null }

const ORIGIN_FLAG = 1

export const workspaceMeta = versioned<WorkspaceMeta>({
  preencode (state, m) {
    c.uint.preencode(state, m.origin ? ORIGIN_FLAG : 0)
    c.string.preencode(state, m.name); c.uint.preencode(state, m.created)
    if (m.origin) { c.fixed32.preencode(state, m.origin.key); c.string.preencode(state, m.origin.name); c.uint.preencode(state, m.origin.commit) }
  },
  encode (state, m) {
    c.uint.encode(state, m.origin ? ORIGIN_FLAG : 0)
    c.string.encode(state, m.name); c.uint.encode(state, m.created)
    if (m.origin) { c.fixed32.encode(state, m.origin.key); c.string.encode(state, m.origin.name); c.uint.encode(state, m.origin.commit) }
  },
  decode (state) {
    const flags = c.uint.decode(state)
    const name = c.string.decode(state)
    const created = c.uint.decode(state)
    const origin = flags & ORIGIN_FLAG
      ? { key: c.fixed32.decode(state) as Buffer, name: c.string.decode(state), commit: c.uint.decode(state) }
      : null
    return { name, created, origin }
  }
})

/**
 * Local registry value: which Corestore core holds the workspace named `name`.
 * A joined workspace (`remote`) follows a log someone else writes; `pin` keeps it
 * at a snapshot label. Both are optional trailing fields: entries written before
 * they existed decode as local and unpinned.
 */
export interface RegistryEntry {
  name: string, coreName: string, key: Buffer, created: number, remote?: boolean, pin?: string | null, continued?: boolean
  /**
   * History retention (FLOOR_FLAG): commits before this one that no snapshot
   * labels and that are not the head keep no content (gc collects it). Set
   * when automatic snapshots are pruned: the oldest kept one's commit.
   */
  floor?: number
}

const REMOTE_FLAG = 1
const PIN_FLAG = 2
/**
 * A log this machine writes that continues another holder's (a resume): its key
 * comes from a manifest with a prologue, so it is opened by `key` and made
 * writable with the key pair Corestore derives from `coreName`.
 */
const CONTINUED_FLAG = 4
const FLOOR_FLAG = 8

export const registryEntry = versioned<RegistryEntry>({
  preencode (state, m) {
    c.string.preencode(state, m.name); c.string.preencode(state, m.coreName); c.fixed32.preencode(state, m.key); c.uint.preencode(state, m.created)
    if (m.remote || m.pin || m.continued || m.floor !== undefined) { c.uint.preencode(state, 0); if (m.pin) c.string.preencode(state, m.pin); if (m.floor !== undefined) c.uint.preencode(state, m.floor) }
  },
  encode (state, m) {
    c.string.encode(state, m.name); c.string.encode(state, m.coreName); c.fixed32.encode(state, m.key); c.uint.encode(state, m.created)
    if (m.remote || m.pin || m.continued || m.floor !== undefined) {
      c.uint.encode(state, (m.remote ? REMOTE_FLAG : 0) | (m.pin ? PIN_FLAG : 0) | (m.continued ? CONTINUED_FLAG : 0) | (m.floor !== undefined ? FLOOR_FLAG : 0))
      if (m.pin) c.string.encode(state, m.pin)
      if (m.floor !== undefined) c.uint.encode(state, m.floor)
    }
  },
  decode (state) {
    const entry: RegistryEntry = { name: c.string.decode(state), coreName: c.string.decode(state), key: c.fixed32.decode(state) as Buffer, created: c.uint.decode(state) }
    if (state.start < state.end) {
      const flags = c.uint.decode(state)
      entry.remote = (flags & REMOTE_FLAG) !== 0
      entry.pin = flags & PIN_FLAG ? c.string.decode(state) : null
      if (flags & CONTINUED_FLAG) entry.continued = true
      if (flags & FLOOR_FLAG) entry.floor = c.uint.decode(state)
    }
    return entry
  }
})

/**
 * A move of the writer role (pause here, resume elsewhere), recorded in the
 * workspace's log as two values:
 *
 *   pauses/<hop>         -> PauseRecord, appended by the holder that pauses
 *   continuations/<hop>  -> Continuation, the first value the next holder's own
 *                           log appends after the previous log's blocks
 *
 * The next holder's log is a new Hypercore whose manifest has a prologue: its
 * first `previousLength` blocks are the previous log's, byte for byte (the
 * manifest pins their Merkle root, so any reader verifies them), so the whole
 * history, every earlier pause and continuation included, reads through one
 * Hyperbee. `hop` counts moves from 0. A continuation is valid only if the
 * handoff key of the pause it continues signed it (continuationSignable): the
 * resume link carries that key's secret, the read key alone cannot make one.
 * The working set is workspace paths ("/src/a.ts"), most recently used first.
 */
export interface PauseRecord {
  hop: number
  /** The head commit captured (seq and root). */
  commit: number
  root: Buffer
  /** Public half of the one-time handoff key (ed25519). */
  handoffKey: Buffer
  time: number
  /** Who paused (host name; shown, never trusted). */
  holder: string
  /** Where it was mounted, or '' when it was not. */
  mountDir: string
  workingSet: string[]
  note: string
  meta: Array<{ key: string, value: string }>
}

export interface Continuation {
  hop: number
  /** The log this one continues, and its length through the pause record (the prologue). */
  previousKey: Buffer
  previousLength: number
  time: number
  holder: string
  /** ed25519 by the pause's handoff key over continuationSignable(). */
  signature: Buffer
}

export const MAX_WORKING_SET = 1024
export const MAX_WORKING_SET_BYTES = 256 * 1024
export const MAX_NOTE_BYTES = 4096
export const MAX_META_ENTRIES = 64
const CONTINUATION_NAMESPACE = Buffer.from('wxs/continuation/v1')

const stringList = c.array(c.string)
const metaList = c.array({
  preencode (state: c.State, m: { key: string, value: string }) { c.string.preencode(state, m.key); c.string.preencode(state, m.value) },
  encode (state: c.State, m: { key: string, value: string }) { c.string.encode(state, m.key); c.string.encode(state, m.value) },
  decode (state: c.State) { return { key: c.string.decode(state), value: c.string.decode(state) } }
})

export const pauseRecord = versioned<PauseRecord>({
  preencode (state, m) {
    c.uint.preencode(state, 0) // flags, none defined yet
    c.uint.preencode(state, m.hop); c.uint.preencode(state, m.commit); c.fixed32.preencode(state, m.root); c.fixed32.preencode(state, m.handoffKey)
    c.uint.preencode(state, m.time); c.string.preencode(state, m.holder); c.string.preencode(state, m.mountDir)
    stringList.preencode(state, m.workingSet); c.string.preencode(state, m.note); metaList.preencode(state, m.meta)
  },
  encode (state, m) {
    c.uint.encode(state, 0)
    c.uint.encode(state, m.hop); c.uint.encode(state, m.commit); c.fixed32.encode(state, m.root); c.fixed32.encode(state, m.handoffKey)
    c.uint.encode(state, m.time); c.string.encode(state, m.holder); c.string.encode(state, m.mountDir)
    stringList.encode(state, m.workingSet); c.string.encode(state, m.note); metaList.encode(state, m.meta)
  },
  decode (state) {
    c.uint.decode(state)
    return {
      hop: c.uint.decode(state),
      commit: c.uint.decode(state),
      root: c.fixed32.decode(state) as Buffer,
      handoffKey: c.fixed32.decode(state) as Buffer,
      time: c.uint.decode(state),
      holder: c.string.decode(state),
      mountDir: c.string.decode(state),
      workingSet: stringList.decode(state),
      note: c.string.decode(state),
      meta: metaList.decode(state)
    }
  }
})

export const continuation = versioned<Continuation>({
  preencode (state, m) {
    c.uint.preencode(state, 0)
    c.uint.preencode(state, m.hop); c.fixed32.preencode(state, m.previousKey); c.uint.preencode(state, m.previousLength)
    c.uint.preencode(state, m.time); c.string.preencode(state, m.holder); c.fixed64.preencode(state, m.signature)
  },
  encode (state, m) {
    c.uint.encode(state, 0)
    c.uint.encode(state, m.hop); c.fixed32.encode(state, m.previousKey); c.uint.encode(state, m.previousLength)
    c.uint.encode(state, m.time); c.string.encode(state, m.holder); c.fixed64.encode(state, m.signature)
  },
  decode (state) {
    c.uint.decode(state)
    return {
      hop: c.uint.decode(state),
      previousKey: c.fixed32.decode(state) as Buffer,
      previousLength: c.uint.decode(state),
      time: c.uint.decode(state),
      holder: c.string.decode(state),
      signature: c.fixed64.decode(state) as Buffer
    }
  }
})

/**
 * What a handoff key signs: the namespace, the new log's key, the log it
 * continues, that log's length through the pause, the hop, and the encoded
 * pause record itself (so a signature for one pause is useless for another).
 */
export function continuationSignable (newKey: Buffer, m: Pick<Continuation, 'hop' | 'previousKey' | 'previousLength'>, pauseBytes: Buffer): Buffer {
  const numbers = Buffer.alloc(16)
  numbers.writeBigUInt64BE(BigInt(m.previousLength), 0)
  numbers.writeBigUInt64BE(BigInt(m.hop), 8)
  return Buffer.concat([CONTINUATION_NAMESPACE, newKey, m.previousKey, numbers, pauseBytes])
}

interface Body<T> {
  preencode (state: c.State, m: T): void
  encode (state: c.State, m: T): void
  decode (state: c.State): T
}

/** Prefixes a value encoding with VALUE_VERSION and rejects other versions. */
function versioned<T> (body: Body<T>): Body<T> {
  return {
    preencode (state, m) { c.uint.preencode(state, VALUE_VERSION); body.preencode(state, m) },
    encode (state, m) { c.uint.encode(state, VALUE_VERSION); body.encode(state, m) },
    decode (state) {
      const version = c.uint.decode(state)
      if (version !== VALUE_VERSION) throw new Error(`unsupported value version ${version}`)
      return body.decode(state)
    }
  }
}
