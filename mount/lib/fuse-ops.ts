/**
 * FUSE handlers: each finds the node or handle, calls the live tree, maps
 * errors through the errno table. Nothing else happens here.
 */

import fs from 'node:fs/promises'
import { constants as C } from 'node:fs'
import { knownNamespace, type LiveNode, type LiveTree, type Owner } from '../../manifests/index.js'
import { ERRNO, toErrno } from './errno.js'
import { MAX_NAME_BYTES } from '../../manifests/messages.js'
import type { AuditOp, MountAccess } from '../messages.js'

const DIR = 2
const S_IFMT = 0o170000
/** The file type bits of st_mode, by entry type (manifests/messages.ts: FILE 1 ... BLOCK_DEVICE 7). */
const S_IF = [0, 0o100000, 0o040000, 0o120000, 0o010000, 0o140000, 0o020000, 0o060000]
/** Entry type by the file type bits mknod(2) gets. */
const TYPE_OF: Record<number, number> = { 0o010000: 4, 0o140000: 5, 0o020000: 6, 0o060000: 7, 0o100000: 1 }
const WRITE_FLAGS = C.O_WRONLY | C.O_RDWR
/** The bit of an open's handle that asks the binding for direct I/O (mount/native). */
const DIRECT_IO = 0x40000000

type Cb = (...args: any[]) => void

/** who: the process that opened it, when the audit trail is on; written: bytes written through it. */
interface Handle { node: LiveNode, write: boolean, append: boolean, who: Requester | null, path: string, written: number, created: boolean, recorded: number, noted: boolean }

/**
 * What an operation is on: a path (libfuse 2 names everything by path), or the
 * node itself (the low-level binding has it from the nodeid: a file unlinked
 * while open, or made with O_TMPFILE, has no path and still takes fchmod,
 * fsetxattr, futimens, or an open through /proc/<pid>/fd).
 */
export type Target = string | LiveNode

/** The process behind a request (its pid and user), for the audit trail. */
export interface Requester { pid: number, uid: number }

export interface OpsContext {
  live: LiveTree
  /** Called after any change (auto-commit scheduling). */
  changed (): void
  /** A change starts / ends (a pause waits until none is in flight). */
  begin (): void
  end (): void
  /** A request from a program arrived (cheap: called on every lookup, open, read and readdir). */
  active (): void
  /** A read of `path` (node, range) starts; the returned function ends it (reads waiting long are shown by wxs top, with what they wait on). */
  reading (path: string, node: LiveNode, offset: number, length: number): () => void
  /** A lookup or listing of `path` that is not in memory starts (it may wait on a directory listing from the network); the returned function ends it. */
  waiting (op: 'lookup' | 'list', path: string): () => void
  /** A read of `path` failed with this (negative) errno: wxs top shows it as a local I/O error. */
  failed (path: string, errno: number): void
  /** Makes everything written so far durable (commit). */
  sync (): Promise<void>
  /** The process whose request is served now: call synchronously at the start of an op. */
  caller (): Owner
  /**
   * The process whose request is served now, when the audit trail is on (null:
   * off, nothing recorded); call synchronously at the start of an op.
   */
  requester (): Requester | null
  /**
   * Records an operation that succeeded: in the audit trail when `who` is
   * known (mount/lib/audit.ts), and reads, writes and creates in the working
   * set a pause keeps (so both come from the same record).
   */
  record (op: AuditOp, who: Requester | null, path: string, extra?: { to?: string, bytes?: number }): void
  /** Where statfs numbers come from (the state dir's filesystem). */
  statfsPath: string
  log (line: string): void
}

/** What stat(2) shows for a node. */
export function nodeStat (live: LiveTree, n: LiveNode) {
  return {
    mode: S_IF[n.type] | n.mode,
    size: n.size,
    ino: n.ino,
    nlink: n.unlinked ? 0 : n.type === DIR ? 2 : n.nlink,
    uid: n.uid ?? live.defaultOwner.uid,
    gid: n.gid ?? live.defaultOwner.gid,
    rdev: n.rdev,
    blksize: 65536,
    blocks: n.type === 1 ? live.blocks(n) : Math.ceil(n.size / 512),
    mtime: n.mtime,
    atime: n.atime,
    ctime: n.ctime
  }
}

export function makeOps (ctx: OpsContext) {
  // ctx.live is read on every call: a restore swaps in a new live tree.
  const L = () => ctx.live
  const handles = new Map<number, Handle>()
  let nextFd = 1
  const fail = (cb: Cb, err: unknown) => cb(toErrno(err, ctx.log))
  const stat = (n: LiveNode) => nodeStat(L(), n)
  const nodeOf = (t: Target) => typeof t === 'string' ? L().lookup(t) : Promise.resolve(t)
  /** The path the audit trail and the working set name; '' for a file with none (not recorded). */
  const pathOf = (t: Target) => typeof t === 'string' ? t : t.unlinked ? '' : L().pathOf(t)
  const record: OpsContext['record'] = (op, who, p, extra) => { if (p !== '') ctx.record(op, who, p, extra) }

  const open = (node: LiveNode, flags: number, p: string, who: Requester | null, created = false) => {
    const write = (flags & WRITE_FLAGS) !== 0
    if (write) node.writers++
    node.opens++
    const fd = nextFd++
    handles.set(fd, { node, write, append: (flags & C.O_APPEND) !== 0, who, path: p, written: 0, created, recorded: 0, noted: false })
    if (!write && !created) record('read', who, p)
    if (nextFd >= DIRECT_IO) nextFd = 1
    // a file with several names: direct I/O (the kernel's page cache is per name)
    return node.nlink > 1 ? fd | DIRECT_IO : fd
  }

  /** Runs fn on the node at p: synchronously when the path is in memory (the common case). */
  const withNode = (p: Target, cb: Cb, fn: (n: LiveNode) => void) => {
    ctx.active()
    if (typeof p !== 'string') return fn(p)
    let node: LiveNode | undefined
    try {
      node = L().lookupSync(p)
    } catch (err) {
      return fail(cb, err)
    }
    if (node !== undefined) return fn(node)
    const done = ctx.waiting('lookup', p)
    L().lookup(p).then(n => { done(); fn(n) }, err => { done(); fail(cb, err) })
  }

  // Promise-returning helpers keep each handler to one line of intent.
  const run = (cb: Cb, fn: () => Promise<unknown>, changes = false) => {
    if (!changes) return fn().then(result => cb(0, result), err => fail(cb, err))
    ctx.begin()
    fn().then(result => { ctx.end(); ctx.changed(); cb(0, result) }, err => { ctx.end(); fail(cb, err) })
  }

  /** A write record per open that wrote (or opened an existing file to write), with the bytes written since the last one. */
  const noteWrite = (h: Handle) => {
    if (!h.write) return
    if (h.written === h.recorded && (h.noted || h.created)) return
    if (h.path === '' && !h.node.unlinked) h.path = L().pathOf(h.node) // made with O_TMPFILE, named since
    record('write', h.who, h.path, { bytes: h.written - h.recorded })
    h.recorded = h.written
    h.noted = true
  }

  /** A change by the requesting process, recorded in the audit trail when it succeeds (before its answer: no extra turn). */
  const change = (cb: Cb, op: AuditOp, p: string, fn: () => Promise<unknown>, extra?: { to?: string }) => {
    const who = ctx.requester()
    ctx.begin()
    fn().then(result => { ctx.end(); ctx.changed(); record(op, who, p, extra); cb(0, result) }, err => { ctx.end(); fail(cb, err) })
  }

  /**
   * Runs fn on the child `name` of dir, or answers ENOENT: from the directory's
   * map when it is loaded. The kernel looks up every name before it creates it,
   * so most lookups miss: by path, each built the path and threw a ManifestError
   * (its stack trace) for the errno. Anything else goes by path, as before: a
   * listing not loaded yet, a hidden name (LiveTree.rename) or a miss that may be
   * ENAMETOOLONG (over MAX_NAME_BYTES: 3 bytes a UTF-16 unit at most, as missing() in live.ts).
   */
  const withChild = (dir: LiveNode, name: string, p: () => string, cb: Cb, fn: (n: LiveNode) => void) => {
    if (dir.children === null || name.startsWith('.fuse_hidden')) return withNode(p(), cb, fn)
    const n = dir.children.get(name)
    if (n !== undefined) { ctx.active(); return fn(n) }
    if (name.length > MAX_NAME_BYTES / 3) return withNode(p(), cb, fn)
    ctx.active()
    cb(-ERRNO.ENOENT)
  }

  /**
   * A directory's names and nodes when its listing is in memory, at once, with
   * readdir's rules (atime); null: go by readdir. The low-level binding's
   * readdir, which has the directory's node.
   */
  const listIn = (dir: LiveNode): { names: string[], nodes: LiveNode[] } | null => {
    if (dir.type !== DIR || dir.children === null) return null
    ctx.active()
    L().accessed(dir)
    return { names: [...dir.children.keys()], nodes: [...dir.children.values()] }
  }

  // the low-level binding (fuse-ll.ts) finds nodes by path and by name, and lists, with these too
  const shared = { tree: L, find: withNode, findIn: withChild, listIn }

  // access, opendir and releasedir are left out on purpose: libfuse then answers
  // them itself (or the kernel stops asking) instead of a round trip into Node.
  return {
    ...shared,
    init: (cb: Cb) => cb(0),
    statfs: (_p: string, cb: Cb) => {
      fs.statfs(ctx.statfsPath).then(s => cb(0, {
        bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
        files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255
      }), err => fail(cb, err))
    },
    getattr: (p: string, cb: Cb) => withNode(p, cb, n => cb(0, stat(n))),
    fgetattr: (p: string, fd: number, cb: Cb) => {
      const h = handles.get(fd)
      if (h) cb(0, stat(h.node))
      else withNode(p, cb, n => cb(0, stat(n)))
    },
    // Names with their stats: the kernel learns each entry's type (d_type) from
    // readdir, so `ls -R`, find and git need no getattr round trip per entry to
    // tell directories from files (measured on the bare floor: ls -R of 10k
    // files 0.8-1.0 s -> 0.06 s).
    readdir: (p: string, cb: Cb) => {
      ctx.active()
      const done = ctx.waiting('list', p)
      L().entries(p).then(children => {
        done()
        try { const dir = L().lookupSync(p); if (dir !== undefined) L().accessed(dir) } catch {} // atime, as ext4 with relatime (gone meanwhile: nothing to update)
        const names: string[] = []
        const stats: ReturnType<typeof stat>[] = []
        const nodes: LiveNode[] = []
        for (const [name, node] of children) { names.push(name); stats.push(stat(node)); nodes.push(node) }
        cb(0, names, stats, nodes)
      }, err => { done(); fail(cb, err) })
    },
    readlink: (p: string, cb: Cb) => withNode(p, cb, n => { if (n.target === null) return cb(-ERRNO.EINVAL); L().accessed(n); cb(0, n.target) }),
    open: (t: Target, flags: number, cb: Cb) => {
      ctx.active()
      const who = ctx.requester()
      const writing = (flags & WRITE_FLAGS) !== 0
      const p = pathOf(t)
      if (writing) ctx.begin()
      nodeOf(t).then(async node => {
        if (node.type === DIR && writing) throw Object.assign(new Error('EISDIR'), { code: 'IS_DIRECTORY' })
        if (writing) L().checkWritable()
        if ((flags & C.O_TRUNC) && writing) { await L().truncate(node, 0); ctx.changed() }
        // atime at an open for reading only too: the kernel answers reads from its page cache
        // (auto_cache) without asking, so a read of a cached file would never reach read below
        // (not O_RDWR: writers such as fallocate(1) or databases open so without reading)
        if ((flags & 3) === C.O_RDONLY) L().accessed(node)
        if (writing) ctx.end()
        cb(0, open(node, flags, p, who))
      }).catch(err => { if (writing) ctx.end(); fail(cb, err) })
    },
    // at: the directory's node and the name (the low-level binding): with its
    // listing in memory, made and answered at once (LiveTree.createIn)
    create: (p: string, mode: number, cb: Cb, at?: { dir: LiveNode, name: string }) => {
      const owner = ctx.caller()
      const who = ctx.requester()
      const created = (node: LiveNode) => {
        ctx.changed()
        record('create', who, p)
        cb(0, open(node, C.O_RDWR, p, who, true))
      }
      if (at !== undefined && at.dir.children !== null) {
        let node: LiveNode
        try { node = L().createIn(at.dir, at.name, mode, { owner }) } catch (err) { return fail(cb, err) }
        return created(node)
      }
      ctx.begin()
      L().create(p, mode, { owner }).then(node => { ctx.end(); created(node) }, err => { ctx.end(); fail(cb, err) })
    },
    // open(2) with O_TMPFILE (the low-level binding): a file with no name, open to
    // write; linkat(2) may name it (link). Answers the handle and the node.
    tmpfile: (dir: LiveNode, mode: number, flags: number, cb: Cb) => {
      const owner = ctx.caller()
      const who = ctx.requester()
      ctx.begin()
      L().tmpfile(dir, mode, owner).then(node => {
        ctx.end()
        cb(0, open(node, flags, '', who, true), node)
      }, err => { ctx.end(); fail(cb, err) })
    },
    read: (_p: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
      const h = handles.get(fd)
      if (!h) return cb(-ERRNO.EBADF)
      ctx.active()
      const done = ctx.reading(_p, h.node, pos, len)
      L().read(h.node, buf, len, pos).then(n => { done(); L().accessed(h.node); cb(n) }, err => { done(); const code = toErrno(err, ctx.log); ctx.failed(_p, code); cb(code) })
    },
    write: (_p: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
      const h = handles.get(fd)
      if (!h || !h.write) return cb(-ERRNO.EBADF)
      const setId = (h.node.mode & 0o6000) !== 0 && ctx.caller().uid !== 0 // the writer may keep set-id bits only as root (LiveTree.dropSetId)
      const at = h.append ? h.node.size : pos
      const wrote = (n: number) => { if (setId) L().dropSetId(h.node); ctx.changed(); h.written += n; cb(n) }
      // in memory: written and answered at once (LiveTree.writeSync)
      let n: number | null
      try { n = L().writeSync(h.node, buf, len, at) } catch (err) { return cb(toErrno(err, ctx.log)) }
      if (n !== null) return wrote(n)
      ctx.begin()
      L().write(h.node, buf, len, at).then(n => { ctx.end(); wrote(n) }, err => { ctx.end(); cb(toErrno(err, ctx.log)) })
    },
    truncate: (t: Target, size: number, cb: Cb) => change(cb, 'truncate', pathOf(t), async () => L().truncate(await nodeOf(t), size)),
    ftruncate: (t: Target, fd: number, size: number, cb: Cb) => {
      const h = handles.get(fd)
      change(cb, 'truncate', pathOf(t), async () => L().truncate(h ? h.node : await nodeOf(t), size))
    },
    // fallocate(2): fallocate(1) works and posix_fallocate needs no byte-per-block emulation (LiveTree.allocate)
    fallocate: (p: string, fd: number, mode: number, offset: number, length: number, cb: Cb) => {
      const h = handles.get(fd)
      change(cb, 'truncate', p, async () => L().allocate(h ? h.node : await L().lookup(p), mode, offset, length))
    },
    // SEEK_DATA / SEEK_HOLE (the low-level binding): where data and holes are, by whole chunks (LiveTree.seek)
    lseek: (_p: string, fd: number, offset: number, whence: number, cb: Cb) => {
      const h = handles.get(fd)
      if (!h) return cb(-ERRNO.EBADF)
      try { cb(0, L().seek(h.node, offset, whence)) } catch (err) { fail(cb, err) }
    },
    // close(2) waits for flush (release comes later, on its own): the write record is made here,
    // so it is in the trail when the program has ended (wxs exec reads it then)
    flush: (_p: string, fd: number, cb: Cb) => { const h = handles.get(fd); if (h !== undefined) noteWrite(h); cb(0) },
    fsync: (_p: string, fd: number, _datasync: boolean, cb: Cb) => {
      const h = handles.get(fd)
      run(cb, async () => { if (h) await L().fsync(h.node); await ctx.sync() })
    },
    fsyncdir: (_p: string, _fd: number, _datasync: boolean, cb: Cb) => run(cb, () => ctx.sync()),
    release: (_p: string, fd: number, cb: Cb) => {
      const h = handles.get(fd)
      handles.delete(fd)
      if (h?.write) h.node.writers--
      if (h !== undefined) noteWrite(h)
      if (h) { h.node.opens--; L().released(h.node) }
      cb(0)
    },
    // at: as create's (LiveTree.mkdirIn)
    mkdir: (p: string, mode: number, cb: Cb, at?: { dir: LiveNode, name: string }) => {
      const owner = ctx.caller()
      if (at === undefined || at.dir.children === null) return change(cb, 'mkdir', p, () => L().mkdir(p, mode, owner))
      const who = ctx.requester()
      let node: LiveNode
      try { node = L().mkdirIn(at.dir, at.name, mode, owner) } catch (err) { return fail(cb, err) }
      ctx.changed()
      record('mkdir', who, p)
      cb(0, node)
    },
    // FIFOs, sockets' nodes, devices (and plain files, as mknod(2) allows); the
    // kernel opens FIFOs and devices itself: their reads and writes never come here
    mknod: (p: string, mode: number, dev: number, cb: Cb) => {
      const owner = ctx.caller()
      const type = TYPE_OF[mode & S_IFMT]
      if (type === undefined) return cb(-ERRNO.EINVAL)
      if (type === 1) return change(cb, 'create', p, () => L().create(p, mode & 0o7777, { exclusive: true, owner }))
      change(cb, 'mknod', p, () => L().mknod(p, type as any, mode & 0o7777, dev, owner))
    },
    rmdir: (p: string, cb: Cb) => change(cb, 'rmdir', p, () => L().rmdir(p)),
    // at: as create's; a hard-linked file goes the async way (LiveTree.unlinkIn)
    unlink: (p: string, cb: Cb, at?: { dir: LiveNode, name: string }) => {
      if (at !== undefined) {
        const who = ctx.requester()
        let done: boolean
        try { done = L().unlinkIn(at.dir, at.name) } catch (err) { return fail(cb, err) }
        if (done) { record('unlink', who, p); ctx.changed(); return cb(0) }
      }
      change(cb, 'unlink', p, () => L().unlink(p))
    },
    // flags: renameat2's (the low-level binding passes them; libfuse 2 never does)
    rename: (from: string, to: string, cb: Cb, flags = 0) => change(cb, 'rename', from, () => L().rename(from, to, flags), { to }),
    symlink: (target: string, p: string, cb: Cb) => { const owner = ctx.caller(); change(cb, 'symlink', p, () => L().symlink(target, p, owner)) },
    // a file made with O_TMPFILE is recorded as created when it gets its name
    link: (from: Target, to: string, cb: Cb) => {
      const p = pathOf(from)
      if (p === '') return change(cb, 'create', to, () => L().link(from, to))
      change(cb, 'link', p, () => L().link(from, to), { to })
    },
    chmod: (t: Target, mode: number, cb: Cb) => change(cb, 'chmod', pathOf(t), async () => L().chmod(await nodeOf(t), mode)),
    chown: (t: Target, uid: number, gid: number, cb: Cb) => change(cb, 'chown', pathOf(t), async () => L().chown(await nodeOf(t), uid, gid)),
    // extended attributes: answers from memory; security.capability is asked on
    // every write (the kernel checks for privileges to drop), so it is answered at once
    getxattr: (p: Target, name: string, _position: number, cb: Cb) => withNode(p, cb, n => {
      const v = n.xattrs?.get(name)
      if (v === undefined && !knownNamespace(name)) return cb(-ERRNO.EOPNOTSUPP)
      if (v === undefined) return cb(-ERRNO.ENODATA)
      cb(0, v)
    }),
    listxattr: (p: Target, cb: Cb) => withNode(p, cb, n => cb(0, L().listxattr(n))),
    setxattr: (t: Target, name: string, value: Buffer, _position: number, flags: number, cb: Cb) => {
      const copy = Buffer.from(value) // the binding's buffer is reused once this returns
      change(cb, 'setxattr', pathOf(t), async () => L().setxattr(await nodeOf(t), name, copy, flags))
    },
    removexattr: (t: Target, name: string, cb: Cb) => change(cb, 'removexattr', pathOf(t), async () => L().removexattr(await nodeOf(t), name)),
    utimens: (t: Target, atime: bigint | null | 'now', mtime: bigint | null | 'now', cb: Cb) => run(cb, async () => L().utimens(await nodeOf(t), atime, mtime), true)
  }
}

export const MOUNT_OPTIONS = {
  // Measured on this machine (BENCH.md): big writes, kernel page cache with
  // auto invalidation, 1 s attribute/entry/negative caches, no per-op timeout.
  // The low-level binding (fuse-ll.ts) takes the timeouts and the access
  // options; the rest is libfuse 2's (WXS_FUSE=hl).
  bigWrites: true,
  autoCache: true,
  attrTimeout: 1,
  entryTimeout: 1,
  negativeTimeout: 1,
  timeout: 0,
  force: true,
  mkdir: true,
  // the inode numbers the live tree gives: every name of a hard-linked file has
  // the same one (tar, git and find -samefile go by them)
  useIno: true
  // not hard_remove: libfuse 2 then answers fstat of a file unlinked while open
  // with ENOENT itself (no path); it renames such a file to .fuse_hidden*, which
  // the live tree takes for an unlink (LiveTree.rename)
}

/**
 * The options of a mount with this access (mount/messages.ts): with "all",
 * other users' processes may use the mount (allow_other; a daemon not run as
 * root needs user_allow_other in /etc/fuse.conf) and the kernel checks every
 * access against the owners and modes the mount reports, as on a local disk
 * (default_permissions). "owner" lets only the daemon's user in, and needs no
 * checks: measured, default_permissions made metadata calls ~1.6x slower
 * (bench fs, in-process ops: 150 -> 237 us/op). README: Ownership and permissions.
 */
export function mountOptions (access: MountAccess) {
  return access === 'all' ? { ...MOUNT_OPTIONS, defaultPermissions: true, allowOther: true } : { ...MOUNT_OPTIONS }
}

