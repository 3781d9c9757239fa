/**
 * The mount over libfuse 3's low-level, inode-based API (mount/native/fuse-ll.c).
 *
 * The kernel names files by nodeid, and a nodeid is the live tree's inode
 * number: every name of a hard-linked file is one kernel inode (one attribute
 * cache, one page cache), as on ext4. The kernel counts its references to a
 * nodeid (each lookup, create or readdirplus entry adds one, forget drops them):
 * `known` maps each nodeid it holds to the node. Requests then go to the same
 * handlers as the libfuse 2 binding (fuse-ops.ts), with the node itself (a
 * Target: so a file unlinked while open, or made with O_TMPFILE, takes fchmod,
 * fsetxattr or an open through /proc) or the path of parent + name, so both
 * share every rule (permissions, read-only, audit, atime, errors). A restore or a new head from the network
 * swaps ctx.live under the mount: a nodeid of the old tree resolves by its path
 * in the new one, and new trees number their inodes after the old one's, so a
 * nodeid the kernel holds never names another file.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import type { LiveNode, LiveTree } from '../../manifests/index.js'
import { ERRNO } from './errno.js'
import { MountError } from './errors.js'
import { nodeStat, type makeOps } from './fuse-ops.js'

/**
 * How long the low-level binding waits awake for the next request before it
 * sleeps (fuse-ll.c, on_readable), in microseconds, from WXS_FUSE_SPIN_US;
 * undefined: the binding's default (50 with more than one CPU online, else 0).
 * 0 turns it off.
 */
export function fuseSpinMicros (value = process.env.WXS_FUSE_SPIN_US): number | undefined {
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 10000) throw MountError.BAD_SETTING('WXS_FUSE_SPIN_US', value, 'not a number of microseconds from 0 to 10000')
  return n
}

type Ops = ReturnType<typeof makeOps>
type Req = number
interface Binding {
  mount (dir: string, options: string, dispatch: (op: number, req: Req, ...args: any[]) => void, spinMicros?: number): object
  caller (handle: object): [number, number, number]
  setCapabilities (handle: object, on: number): void
  replyErr (req: Req, errno: number): void
  replyEntry (req: Req, stat: Uint32Array | null, ttl: number): void
  replyCreate (req: Req, stat: Uint32Array, ttl: number, fh: number, flags: number): void
  replyAttr (req: Req, stat: Uint32Array, ttl: number): void
  replyReadlink (req: Req, target: string): void
  replyOpen (req: Req, fh: number, flags: number): void
  replyWrite (req: Req, n: number): void
  replyBuf (req: Req, buf: Buffer, n: number): void
  replyXattr (req: Req, size: number): void
  replyLseek (req: Req, offset: number): void
  replyStatfs (req: Req, statfs: Uint32Array): void
  replyDir (req: Req, size: number, plus: number, names: string[], stats: Uint32Array[], base: number, ttl: number, counted: Uint32Array): void
}

/** Opcodes, as mount/native/fuse-ll.c numbers them. */
const OP = {
  INIT: 0, LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, MKNOD: 6, MKDIR: 7, UNLINK: 8, RMDIR: 9,
  SYMLINK: 10, RENAME: 11, LINK: 12, OPEN: 13, READ: 14, WRITE: 15, FLUSH: 16, RELEASE: 17, FSYNC: 18, OPENDIR: 19,
  READDIR: 20, RELEASEDIR: 21, FSYNCDIR: 22, STATFS: 23, SETXATTR: 24, GETXATTR: 25, LISTXATTR: 26, REMOVEXATTR: 27,
  CREATE: 28, FALLOCATE: 29, EXIT: 30, TMPFILE: 31, LSEEK: 32
}
/** fuse_lowlevel.h FUSE_SET_ATTR_*. */
const SET = { MODE: 1, UID: 2, GID: 4, SIZE: 8, ATIME: 16, MTIME: 32, ATIME_NOW: 128, MTIME_NOW: 256 }
const TIMES = SET.ATIME | SET.MTIME | SET.ATIME_NOW | SET.MTIME_NOW
/** The handle bit fuse-ops.ts sets for direct I/O: not needed here (the page cache is per inode). */
const DIRECT_IO = 0x40000000
const KEEP_CACHE = 1
const DIR = 2

/** What says whether a file's content may have changed since the kernel last saw it. */
const stamp = (n: LiveNode) => `${n.mtime}:${n.size}`

/** A nodeid the kernel holds: its node, the tree it came from, how many lookups, the mtime and size it last saw. */
interface Known { node: LiveNode, live: LiveTree, lookups: number, seen: string }
/** SETATTR's arguments after the nodeid: what to set (FUSE_SET_ATTR_*), the values, the handle (0: none). */
type SetattrArgs = [set: number, mode: number, uid: number, gid: number, size: number, atime: bigint | null | 'now', mtime: bigint | null | 'now', fh: number]
/** live: the tree the node was found in (a restore swaps it: the listing then goes by path). */
interface DirHandle { node: LiveNode, live: LiveTree, names: string[] | null, nodes: LiveNode[] }

export interface FuseLLOptions { allowOther?: boolean, defaultPermissions?: boolean, attrTimeout?: number, entryTimeout?: number, negativeTimeout?: number }

export class FuseLL {
  private readonly binding: Binding
  private readonly Fuse: { getStatArray (s: object): Uint32Array, getStatfsArray (s: object): Uint32Array }
  private handle: object | null = null
  private capabilities = false
  /** Who asked, for a request continued after an await (see caller). */
  private who: { uid: number, gid: number, pid: number } | null = null
  private mounted: ((err: Error | null) => void) | null = null
  private readonly known = new Map<number, Known>()
  private readonly dirs = new Map<number, DirHandle>()
  private nextDir = 1
  private readonly counted = new Uint32Array(1)
  private readonly readBuffers = new BufferPool()
  private readonly ttl: number
  private readonly negativeTtl: number
  private readonly handlers: Record<number, (req: Req, ...args: any[]) => void>

  constructor (readonly mnt: string, private readonly ops: Ops, private readonly opts: FuseLLOptions, nativeDir: string) {
    const require = createRequire(import.meta.url)
    this.binding = require(path.join(nativeDir, 'build/Release/fuse_ll.node'))
    this.Fuse = require(path.join(nativeDir, 'index.cjs'))
    this.ttl = opts.attrTimeout ?? 1
    this.negativeTtl = opts.negativeTimeout ?? this.ttl
    this.handlers = this.makeHandlers()
  }

  mount (cb: (err: Error | null) => void) {
    this.open().then(() => { this.mounted = cb }, cb)
  }

  unmount (cb: (err: Error | null) => void) {
    // lazily, by another process: the kernel may still wait on this one for requests in flight
    execFile('fusermount', ['-uz', this.mnt], err => cb(err))
  }

  /** uid, gid and pid of the process whose request is served: call synchronously at the start of an op. */
  caller () {
    if (this.who !== null) return this.who
    if (this.handle === null) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, pid: 0 } // the session has ended
    const [uid, gid, pid] = this.binding.caller(this.handle)
    return { uid, gid, pid }
  }

  setCapabilities (on: boolean) {
    this.capabilities = on
    if (this.handle !== null) this.binding.setCapabilities(this.handle, on ? 1 : 0)
  }

  private async open () {
    await fs.stat(this.mnt).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTCONN') return new Promise(resolve => execFile('fusermount', ['-uz', this.mnt], resolve)) // a dead mount
      if (err.code === 'ENOENT') return fs.mkdir(this.mnt, { recursive: true })
      throw err
    })
    const options = ['fsname=wxs', 'subtype=wxs']
    if (this.opts.allowOther) options.push('allow_other')
    if (this.opts.defaultPermissions) options.push('default_permissions')
    if (process.env.WXS_FUSE_DEBUG) options.push('debug') // libfuse prints every request and reply to stderr
    this.handle = this.binding.mount(this.mnt, '-o' + options.join(','), (op, req, ...args) => this.dispatch(op, req, args), fuseSpinMicros())
    if (this.capabilities) this.binding.setCapabilities(this.handle, 1)
  }

  private dispatch (op: number, req: Req, args: any[]) {
    if (op === OP.INIT) { const cb = this.mounted; this.mounted = null; if (cb) process.nextTick(cb, null); return }
    if (op === OP.EXIT) { this.handle = null; return }
    try {
      this.handlers[op](req, ...args)
    } catch (err) {
      this.binding.replyErr(req, ERRNO.EIO)
      console.error(err)
    }
  }

  // -- nodeids -----------------------------------------------------------------

  private get live () { return this.ops.tree() }

  private stat (n: LiveNode) {
    return this.Fuse.getStatArray(nodeStat(this.live, n))
  }

  /** The path of a node now; '' for one unlinked (the handlers answer ENOENT for it). */
  private pathOf (n: LiveNode) {
    return n.unlinked ? '' : this.live.pathOf(n)
  }

  private join (dir: LiveNode, name: string) {
    return dir.parent === null ? '/' + name : this.live.pathOf(dir) + '/' + name
  }

  /** on() for a directory a name is looked up, made or removed in: ENOENT once it is removed, as on ext4. */
  private onDir (req: Req, id: number, fn: (dir: LiveNode) => void) {
    this.on(req, id, dir => dir.unlinked ? this.binding.replyErr(req, ERRNO.ENOENT) : fn(dir))
  }

  /** Runs fn with the node of a nodeid; a node of a tree swapped out resolves by its path in the current one. */
  private on (req: Req, id: number, fn: (n: LiveNode) => void) {
    const live = this.live
    if (id === 1) return fn(live.root)
    const k = this.known.get(id)
    if (k === undefined) return this.binding.replyErr(req, ERRNO.ESTALE)
    if (k.live === live || k.node.unlinked) return fn(k.node)
    const p = k.live.pathOf(k.node)
    const found = (n: LiveNode) => { k.node = n; k.live = live }
    let n: LiveNode | undefined
    try { n = live.lookupSync(p) } catch { return this.binding.replyErr(req, ERRNO.ENOENT) }
    if (n !== undefined) { found(n); return fn(n) }
    const who = this.caller()
    live.lookup(p).then(n => {
      found(n)
      this.who = who
      try { fn(n) } finally { this.who = null }
    }, () => this.binding.replyErr(req, ERRNO.ENOENT))
  }

  /** The kernel holds one more reference to the node's nodeid (and has seen its attributes). */
  private ref (n: LiveNode) {
    const k = this.known.get(n.ino)
    if (k === undefined) this.known.set(n.ino, { node: n, live: this.live, lookups: 1, seen: stamp(n) })
    else { k.node = n; k.live = this.live; k.lookups++; k.seen = stamp(n) }
  }

  private forget (id: number, lookups: number) {
    const k = this.known.get(id)
    if (k === undefined) return
    k.lookups -= lookups
    if (k.lookups <= 0) this.known.delete(id)
  }

  /**
   * Whether the kernel may keep its cached pages of this node at an open: its
   * mtime and size are as the kernel last saw them (libfuse 2's auto_cache; the
   * kernel drops pages itself when attributes it receives show a change).
   */
  private keepCache (n: LiveNode) {
    const k = this.known.get(n.ino)
    if (k === undefined) return false
    const now = stamp(n)
    const keep = k.seen === now
    k.seen = now
    return keep
  }

  private entry (req: Req, n: LiveNode) {
    this.ref(n)
    this.binding.replyEntry(req, this.stat(n), this.ttl)
  }

  private attr (req: Req, n: LiveNode) {
    const k = this.known.get(n.ino)
    if (k !== undefined) k.seen = stamp(n)
    this.binding.replyAttr(req, this.stat(n), this.ttl)
  }

  // -- requests ----------------------------------------------------------------

  private makeHandlers (): Record<number, (req: Req, ...args: any[]) => void> {
    const b = this.binding
    const ops = this.ops
    /** A callback that answers with the errno (0: success). */
    const done = (req: Req) => (err: number) => b.replyErr(req, -err || 0)
    /** A callback that answers with the new node's entry. */
    const made = (req: Req) => (err: number, n?: LiveNode) => err ? b.replyErr(req, -err) : this.entry(req, n!)
    const pathOfId = (id: number) => { const k = this.known.get(id); return id === 1 ? '/' : k === undefined ? '' : this.pathOf(k.node) }
    /** The path for handlers that go by the handle alone (write, flush, release, fsync, lseek, fsyncdir): not built (4 times per file written: a walk to the root and a join each). */
    const byHandle = ''
    return {
      [OP.LOOKUP]: (req, parent: number, name: string) => this.onDir(req, parent, dir => {
        ops.findIn(dir, name, () => this.join(dir, name), (err: number) => err === -ERRNO.ENOENT ? b.replyEntry(req, null, this.negativeTtl) : b.replyErr(req, -err), n => this.entry(req, n))
      }),
      [OP.FORGET]: (_req, id: number, lookups: number) => this.forget(id, lookups),
      [OP.GETATTR]: (req, id: number) => this.on(req, id, n => this.attr(req, n)),
      [OP.SETATTR]: (req, id: number, ...args: SetattrArgs) => this.on(req, id, n => this.setattr(req, n, ...args)),
      [OP.READLINK]: (req, id: number) => this.on(req, id, n => ops.readlink(this.pathOf(n), (err: number, target: string) => err ? b.replyErr(req, -err) : b.replyReadlink(req, target))),
      [OP.MKNOD]: (req, parent: number, name: string, mode: number, rdev: number) => this.onDir(req, parent, dir => ops.mknod(this.join(dir, name), mode, rdev, made(req))),
      [OP.MKDIR]: (req, parent: number, name: string, mode: number) => this.onDir(req, parent, dir => ops.mkdir(this.join(dir, name), mode, made(req), { dir, name })),
      [OP.UNLINK]: (req, parent: number, name: string) => this.onDir(req, parent, dir => ops.unlink(this.join(dir, name), done(req), { dir, name })),
      [OP.RMDIR]: (req, parent: number, name: string) => this.onDir(req, parent, dir => ops.rmdir(this.join(dir, name), done(req))),
      [OP.SYMLINK]: (req, target: string, parent: number, name: string) => this.onDir(req, parent, dir => ops.symlink(target, this.join(dir, name), made(req))),
      [OP.RENAME]: (req, parent: number, name: string, to: number, toName: string, flags: number) => this.onDir(req, parent, dir => this.onDir(req, to, toDir => {
        ops.rename(this.join(dir, name), this.join(toDir, toName), done(req), flags)
      })),
      [OP.LINK]: (req, id: number, parent: number, name: string) => this.on(req, id, n => this.onDir(req, parent, dir => ops.link(n, this.join(dir, name), made(req)))),
      [OP.OPEN]: (req, id: number, flags: number) => this.on(req, id, n => ops.open(n, flags, (err: number, fd: number) => {
        if (err) return b.replyErr(req, -err)
        const flags = this.keepCache(n) ? KEEP_CACHE : 0
        b.replyOpen(req, fd & ~DIRECT_IO, flags)
      })),
      [OP.CREATE]: (req, parent: number, name: string, mode: number) => this.onDir(req, parent, dir => this.create(req, dir, name, mode)),
      [OP.TMPFILE]: (req, parent: number, mode: number, flags: number) => this.onDir(req, parent, dir => ops.tmpfile(dir, mode, flags, (err: number, fd: number, n: LiveNode) => {
        if (err) return b.replyErr(req, -err)
        this.ref(n)
        b.replyCreate(req, this.stat(n), this.ttl, fd & ~DIRECT_IO, 0)
      })),
      [OP.READ]: (req, id: number, size: number, offset: number, fh: number) => {
        const buf = this.readBuffers.take(size)
        ops.read(pathOfId(id), fh, buf, size, offset, (n: number) => {
          if (n < 0) b.replyErr(req, -n)
          else b.replyBuf(req, buf, n) // written to /dev/fuse before it returns: the buffer is free again
          this.readBuffers.give(buf)
        })
      },
      [OP.WRITE]: (req, id: number, buf: Buffer, offset: number, fh: number) => {
        ops.write(byHandle, fh, buf, buf.length, offset, (n: number) => n < 0 ? b.replyErr(req, -n) : b.replyWrite(req, n))
      },
      [OP.FLUSH]: (req, id: number, fh: number) => ops.flush(byHandle, fh, done(req)),
      [OP.RELEASE]: (req, id: number, fh: number) => ops.release(byHandle, fh, done(req)),
      [OP.FSYNC]: (req, id: number, datasync: number, fh: number) => ops.fsync(byHandle, fh, datasync !== 0, done(req)),
      [OP.LSEEK]: (req, id: number, offset: number, whence: number, fh: number) => ops.lseek(byHandle, fh, offset, whence, (err: number, at: number) => err ? b.replyErr(req, -err) : b.replyLseek(req, at)),
      [OP.FALLOCATE]: (req, id: number, mode: number, offset: number, length: number, fh: number) => ops.fallocate(pathOfId(id), fh, mode, offset, length, done(req)),
      [OP.OPENDIR]: (req, id: number) => this.on(req, id, n => this.opendir(req, n)),
      [OP.READDIR]: (req, _id: number, size: number, offset: number, fh: number, plus: number) => this.readdir(req, size, offset, fh, plus),
      [OP.RELEASEDIR]: (req, _id: number, fh: number) => { this.dirs.delete(fh); b.replyErr(req, 0) },
      [OP.FSYNCDIR]: (req, id: number, datasync: number, fh: number) => ops.fsyncdir(byHandle, fh, datasync !== 0, done(req)),
      [OP.STATFS]: (req) => ops.statfs('/', (err: number, s: object) => err ? b.replyErr(req, -err) : b.replyStatfs(req, this.Fuse.getStatfsArray(s))),
      [OP.SETXATTR]: (req, id: number, name: string, value: Buffer, flags: number) => this.on(req, id, n => ops.setxattr(n, name, value, 0, flags, done(req))),
      [OP.GETXATTR]: (req, id: number, name: string, size: number) => this.on(req, id, n => ops.getxattr(n, name, 0, (err: number, value: Buffer) => {
        if (err) return b.replyErr(req, -err)
        this.sized(req, value, size)
      })),
      [OP.LISTXATTR]: (req, id: number, size: number) => this.on(req, id, n => ops.listxattr(n, (err: number, names: string[]) => {
        if (err) return b.replyErr(req, -err)
        this.sized(req, Buffer.from(names.map(x => x + '\0').join('')), size)
      })),
      [OP.REMOVEXATTR]: (req, id: number, name: string) => this.on(req, id, n => ops.removexattr(n, name, done(req)))
    }
  }

  /**
   * chmod, chown, truncate and utimens in one request, each through its
   * handler in turn; with nothing to set it is chown(f, -1, -1): the ctime
   * changes, as on ext4.
   */
  private setattr (req: Req, n: LiveNode, ...[set, mode, uid, gid, size, atime, mtime, fh]: SetattrArgs) {
    const ops = this.ops
    const steps: Array<(cb: (err: number) => void) => void> = []
    if (set & SET.MODE) steps.push(cb => ops.chmod(n, mode, cb))
    if (set & (SET.UID | SET.GID)) steps.push(cb => ops.chown(n, set & SET.UID ? uid : -1, set & SET.GID ? gid : -1, cb))
    if (set & SET.SIZE) steps.push(cb => fh !== 0 ? ops.ftruncate(n, fh & ~DIRECT_IO, size, cb) : ops.truncate(n, size, cb))
    if (set & TIMES) steps.push(cb => ops.utimens(n, atime, mtime, cb))
    if (steps.length === 0) steps.push(cb => ops.chown(n, -1, -1, cb))
    const who = this.caller()
    const next = (i: number) => (err: number) => {
      if (err) return this.binding.replyErr(req, -err)
      if (i === steps.length) return this.attr(req, n)
      this.who = who
      try { steps[i](next(i + 1)) } finally { this.who = null }
    }
    next(0)(0)
  }

  private create (req: Req, dir: LiveNode, name: string, mode: number) {
    const p = this.join(dir, name)
    this.ops.create(p, mode, (err: number, fd: number) => {
      if (err) return this.binding.replyErr(req, -err)
      const n = dir.children?.get(name)
      if (n === undefined) { this.ops.release(p, fd & ~DIRECT_IO, () => {}); return this.binding.replyErr(req, ERRNO.ENOENT) }
      this.ref(n)
      const stat = this.stat(n)
      this.binding.replyCreate(req, stat, this.ttl, fd & ~DIRECT_IO, 0)
    }, { dir, name })
  }

  private opendir (req: Req, n: LiveNode) {
    if (n.type !== DIR) return this.binding.replyErr(req, ERRNO.ENOTDIR)
    const fh = this.nextDir++
    this.dirs.set(fh, { node: n, live: this.live, names: null, nodes: [] })
    this.binding.replyOpen(req, fh, 0)
  }

  /** The listing is read at the first call and kept: offsets stay valid while entries change. */
  private readdir (req: Req, size: number, offset: number, fh: number, plus: number) {
    const d = this.dirs.get(fh)
    if (d === undefined) return this.binding.replyErr(req, ERRNO.EBADF)
    if (offset !== 0 && d.names !== null) return this.listing(req, d, size, offset, plus)
    // in memory: listed at once (no path built and walked, no promise)
    const list = d.live === this.live && !d.node.unlinked ? this.ops.listIn(d.node) : null
    if (list !== null) {
      d.names = list.names
      d.nodes = list.nodes
      return this.listing(req, d, size, offset, plus)
    }
    this.ops.readdir(this.pathOf(d.node), (err: number, names: string[], _stats: unknown, nodes: LiveNode[]) => {
      if (err) return this.binding.replyErr(req, -err)
      d.names = names
      d.nodes = nodes
      this.listing(req, d, size, offset, plus)
    })
  }

  /** An xattr value or list: its size when asked with size 0, ERANGE when it does not fit. */
  private sized (req: Req, value: Buffer, size: number) {
    if (size === 0) return this.binding.replyXattr(req, value.length)
    if (value.length > size) return this.binding.replyErr(req, ERRNO.ERANGE)
    this.binding.replyBuf(req, value, value.length)
  }

  /** Entries from `offset` on, as many as fit; with readdirplus each one sent is a lookup. */
  private listing (req: Req, d: DirHandle, size: number, offset: number, plus: number) {
    const names = d.names!.slice(offset, offset + Math.ceil(size / 32) + 1)
    const nodes = d.nodes.slice(offset, offset + names.length)
    this.binding.replyDir(req, size, plus, names, nodes.map(n => this.stat(n)), offset, this.ttl, this.counted)
    if (plus) for (let i = 0; i < this.counted[0]; i++) this.ref(nodes[i])
  }
}

/**
 * Buffers for READ replies, reused: a new one per request (256 KiB each for a
 * large file) made V8 mark-compact about every 64 MiB read, 18-26 ms in the
 * middle of the reads (measured by --trace-gc and a CPU profile in bench fs,
 * pure read). Small reads come from Node's own slab.
 */
class BufferPool {
  private readonly free = new Map<number, Buffer[]>()

  take (size: number): Buffer {
    if (size < POOLED_MIN) return Buffer.allocUnsafe(size)
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafe(size)
  }

  give (buf: Buffer) {
    if (buf.length < POOLED_MIN) return
    let list = this.free.get(buf.length)
    if (list === undefined) { if (this.free.size >= POOLED_SIZES) return; this.free.set(buf.length, list = []) }
    if (list.length < POOLED_PER_SIZE) list.push(buf)
  }
}
const POOLED_MIN = 64 * 1024
/** Requests in flight at once (the kernel sends a few reads ahead) and the sizes they come in. */
const POOLED_PER_SIZE = 16
const POOLED_SIZES = 4

