'use strict'
/**
 * The floor for `bench fs`: the bare in-memory filesystem of memfs.cjs (the
 * tree of memfs-tree.cjs, no I/O), served like wxs's default mount, on libfuse
 * 3's low-level binding (mount/native/fuse-ll.c, fuse_ll.node) the way
 * mount/lib/fuse-ll.ts drives it: nodeids are inode numbers, counted per lookup
 * (lookup, create, readdirplus entries) and dropped at forget; attributes and
 * entries (negative ones too) cached for the timeouts of the options JSON;
 * readdirplus; keep_cache at an open when the file's mtime and size are as the
 * kernel last saw them; the mount options wxs's FuseLL passes.
 *
 * Usage: node memfs-ll.cjs <mountpoint> '<mount options JSON>'
 * Prints "ready" on stdout once mounted; unmounts and exits on SIGTERM,
 * SIGINT or when stdin closes (the bench died). With MEMFS_COUNT=1 it prints
 * a count of the FUSE requests it served to stderr on exit (and on SIGUSR2).
 * MEMFS_DEBUG=1 (or "debug": true in the options) mounts with libfuse's debug
 * option: every request and reply on stderr.
 * Runs in its own process: nothing here ever touches the mountpoint.
 */
const path = require('node:path')
const { execFile } = require('node:child_process')
const { S_IFREG, S_IFDIR, O_ACCMODE, O_TRUNC, E, STATFS, Node, newSymlink, addChild, removeChild, moveChild, count, countSize, serve } = require('./memfs-tree.cjs')

const NATIVE = path.join(__dirname, '..', '..', 'mount', 'native')
const binding = require(path.join(NATIVE, 'build', 'Release', 'fuse_ll.node'))
const { getStatArray, getStatfsArray } = require(path.join(NATIVE, 'index.cjs'))

/** Opcodes, as mount/native/fuse-ll.c numbers them (mount/lib/fuse-ll.ts has the same list). */
const OP = {
  INIT: 0, LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, MKNOD: 6, MKDIR: 7, UNLINK: 8, RMDIR: 9,
  SYMLINK: 10, RENAME: 11, LINK: 12, OPEN: 13, READ: 14, WRITE: 15, FLUSH: 16, RELEASE: 17, FSYNC: 18, OPENDIR: 19,
  READDIR: 20, RELEASEDIR: 21, FSYNCDIR: 22, STATFS: 23, SETXATTR: 24, GETXATTR: 25, LISTXATTR: 26, REMOVEXATTR: 27,
  CREATE: 28, FALLOCATE: 29, EXIT: 30, TMPFILE: 31, LSEEK: 32
}
const OP_NAME = Object.fromEntries(Object.entries(OP).map(([name, op]) => [op, name.toLowerCase()]))
/** fuse_lowlevel.h FUSE_SET_ATTR_*. */
const SET = { MODE: 1, UID: 2, GID: 4, SIZE: 8, ATIME: 16, MTIME: 32, ATIME_NOW: 128, MTIME_NOW: 256 }
const KEEP_CACHE = 1
/** renameat2(2) flags. */
const RENAME_NOREPLACE = 1
const RENAME_EXCHANGE = 2
const EMPTY = Buffer.alloc(0)

const root = new Node(S_IFDIR, 0o755) // inode 1: FUSE_ROOT_ID, never forgotten
root.lookups = 1
/** The nodeids the kernel holds (ino -> node; node.lookups, node.seen), the root aside. */
const known = new Map()
const handles = new Map()
const dirs = new Map()
let nextFd = 1
let nextDir = 1
const counted = new Uint32Array(1)

/** What says whether a file's content may have changed since the kernel last saw it. */
const stamp = node => `${node.mtime}:${node.size}`

const nodeOf = id => id === 1 ? root : known.get(id)

/** The kernel holds one more reference to the node's nodeid (and has seen its attributes). */
function ref (node) {
  if (node !== root && !known.has(node.ino)) { known.set(node.ino, node); node.lookups = 0 }
  node.lookups++
  node.seen = stamp(node)
}

function forget (id, lookups) {
  const node = known.get(id)
  if (node === undefined) return
  node.lookups -= lookups
  if (node.lookups <= 0) known.delete(id)
}

/** Whether the kernel may keep its cached pages at an open: mtime and size as it last saw them. */
function keepCache (node) {
  const now = stamp(node)
  const keep = node.seen === now
  node.seen = now
  return keep
}

function openNode (node) {
  const fd = nextFd++
  handles.set(fd, node)
  return fd
}

function start (dir, options, counting) {
  // one timeout for an entry and its attributes, as wxs's FuseLL gives (the binding takes one)
  const ttl = options.attrTimeout ?? 1
  const negativeTtl = options.negativeTimeout ?? ttl
  const b = binding
  const fail = (req, err) => b.replyErr(req, -err)
  const done = (req, err) => b.replyErr(req, -err || 0)
  const stat = node => getStatArray(node.stat())
  const entry = (req, node) => { ref(node); b.replyEntry(req, stat(node), ttl) }
  const attr = (req, node) => { node.seen = stamp(node); b.replyAttr(req, stat(node), ttl) }

  /** fn(node) for a nodeid the kernel holds; ESTALE for one it forgot. */
  const on = (req, id, fn) => {
    const node = nodeOf(id)
    if (node === undefined) return fail(req, E.ESTALE)
    fn(node)
  }
  /** on() for a directory a name is looked up, made or removed in: ENOENT once it is removed. */
  const onDir = (req, id, fn) => on(req, id, dir => {
    if (dir.children === null) return fail(req, E.ENOTDIR)
    if (dir.unlinked) return fail(req, E.ENOENT)
    fn(dir)
  })
  const make = (req, dir, name, node) => {
    const err = addChild(dir, name, node)
    err ? fail(req, err) : entry(req, node)
  }

  const handlers = {
    [OP.LOOKUP]: (req, parent, name) => onDir(req, parent, dir => {
      const node = dir.children.get(name)
      node === undefined ? b.replyEntry(req, null, negativeTtl) : entry(req, node)
    }),
    [OP.FORGET]: (_req, id, lookups) => forget(id, lookups),
    [OP.GETATTR]: (req, id) => on(req, id, node => attr(req, node)),
    [OP.SETATTR]: (req, id, set, mode, _uid, _gid, size, atime, mtime, fh) => on(req, id, node => {
      if (set & SET.MODE) { node.mode = mode & 0o7777; node.ctime = Date.now() }
      // (uid and gid: memfs.cjs's chown changes nothing either)
      if (set & SET.SIZE) {
        const file = handles.get(fh) || node
        if (file.data === null) return fail(req, E.EINVAL)
        file.resize(size)
      }
      if (set & (SET.ATIME | SET.MTIME | SET.ATIME_NOW | SET.MTIME_NOW)) node.setTimes(atime, mtime)
      attr(req, node)
    }),
    [OP.READLINK]: (req, id) => on(req, id, node => node.target === null ? fail(req, E.EINVAL) : b.replyReadlink(req, node.target)),
    [OP.MKDIR]: (req, parent, name, mode) => onDir(req, parent, dir => make(req, dir, name, new Node(S_IFDIR, mode))),
    [OP.SYMLINK]: (req, target, parent, name) => onDir(req, parent, dir => make(req, dir, name, newSymlink(target))),
    [OP.UNLINK]: (req, parent, name) => onDir(req, parent, dir => done(req, removeChild(dir, name, false))),
    [OP.RMDIR]: (req, parent, name) => onDir(req, parent, dir => done(req, removeChild(dir, name, true))),
    [OP.RENAME]: (req, parent, name, to, toName, flags) => onDir(req, parent, src => onDir(req, to, dst => done(req, rename(src, name, dst, toName, flags)))),
    [OP.OPEN]: (req, id, flags) => on(req, id, node => {
      // (the binding turns O_TRUNC into a SETATTR of the size before the open, as libfuse 2 does)
      if ((flags & O_TRUNC) && (flags & O_ACCMODE) !== 0 && node.data) node.resize(0)
      b.replyOpen(req, openNode(node), keepCache(node) ? KEEP_CACHE : 0)
    }),
    [OP.CREATE]: (req, parent, name, mode) => onDir(req, parent, dir => {
      const node = new Node(S_IFREG, mode)
      const err = addChild(dir, name, node)
      if (err) return fail(req, err)
      ref(node)
      b.replyCreate(req, stat(node), ttl, openNode(node), 0)
    }),
    [OP.READ]: (req, id, size, offset, fh) => {
      if (counting) countSize('read', size)
      const node = handles.get(fh) || nodeOf(id)
      if (!node || !node.data) return fail(req, E.EBADF)
      const end = Math.min(node.size, offset + size)
      // the reply is sent before this returns: the node's own bytes, no copy
      end > offset ? b.replyBuf(req, node.data.subarray(offset, end), end - offset) : b.replyBuf(req, EMPTY, 0)
    },
    [OP.WRITE]: (req, id, buf, offset, fh) => {
      if (counting) countSize('write', buf.length)
      const node = handles.get(fh) || nodeOf(id)
      if (!node || !node.data) return fail(req, E.EBADF)
      if (offset + buf.length > node.size) node.resize(offset + buf.length)
      buf.copy(node.data, offset)
      node.mtime = node.ctime = Date.now()
      b.replyWrite(req, buf.length)
    },
    [OP.FLUSH]: req => done(req, 0),
    [OP.RELEASE]: (req, _id, fh) => { handles.delete(fh); done(req, 0) },
    [OP.FSYNC]: req => done(req, 0),
    [OP.OPENDIR]: (req, id) => on(req, id, node => {
      if (node.children === null) return fail(req, E.ENOTDIR)
      const fh = nextDir++
      dirs.set(fh, { node, names: null, nodes: null })
      b.replyOpen(req, fh, 0)
    }),
    [OP.READDIR]: (req, _id, size, offset, fh, plus) => {
      const d = dirs.get(fh)
      if (d === undefined) return fail(req, E.EBADF)
      // the listing is taken at offset 0 and kept: offsets stay valid while entries change
      if (offset === 0 || d.names === null) { d.names = [...d.node.children.keys()]; d.nodes = [...d.node.children.values()] }
      const names = d.names.slice(offset, offset + Math.ceil(size / 32) + 1)
      const nodes = d.nodes.slice(offset, offset + names.length)
      b.replyDir(req, size, plus, names, nodes.map(stat), offset, ttl, counted)
      if (plus) for (let i = 0; i < counted[0]; i++) ref(nodes[i]) // each entry sent is a lookup
    },
    [OP.RELEASEDIR]: (req, _id, fh) => { dirs.delete(fh); done(req, 0) },
    [OP.FSYNCDIR]: req => done(req, 0),
    [OP.STATFS]: req => b.replyStatfs(req, getStatfsArray(STATFS))
    // mknod, link, xattrs, fallocate, O_TMPFILE, lseek (and anything newer): ENOSYS, as memfs.cjs leaves them out
  }

  let handle = null
  let mounted = null
  const dispatch = (op, req, ...args) => {
    if (counting) count(OP_NAME[op] ?? `op${op}`)
    if (op === OP.INIT) { const cb = mounted; mounted = null; if (cb) process.nextTick(cb, null); return }
    if (op === OP.EXIT) { handle = null; return }
    const fn = handlers[op]
    if (fn === undefined) return req ? fail(req, E.ENOSYS) : undefined
    try {
      fn(req, ...args)
    } catch (err) {
      fail(req, E.EIO)
      process.stderr.write(`memfs-ll: ${OP_NAME[op]}: ${err.stack}\n`)
    }
  }

  // the options string of wxs's FuseLL (mount/lib/fuse-ll.ts), with this server's name
  const flags = ['fsname=memfs', 'subtype=memfs']
  if (options.allowOther) flags.push('allow_other')
  if (options.defaultPermissions) flags.push('default_permissions')
  if (options.debug || process.env.MEMFS_DEBUG === '1') flags.push('debug')
  return {
    mount (cb) {
      mounted = cb
      try {
        // WXS_FUSE_SPIN_US as wxs takes it (mount/lib/fuse-ll.ts): unset, the binding's default
        const spin = process.env.WXS_FUSE_SPIN_US
        handle = binding.mount(dir, '-o' + flags.join(','), dispatch, spin === undefined || spin === '' ? undefined : Number(spin))
      } catch (err) {
        mounted = null
        cb(err)
      }
    },
    unmount (cb) {
      if (handle === null) return cb(null)
      // lazily, by another process (as wxs does): the kernel may still wait on this one
      execFile('fusermount', ['-uz', dir], err => cb(err))
    }
  }
}

/** rename(2) and renameat2(2)'s RENAME_NOREPLACE and RENAME_EXCHANGE (the kernel checks the rest). */
function rename (src, name, dst, toName, flags) {
  if (flags === 0) return moveChild(src, name, dst, toName)
  const node = src.children.get(name)
  const existing = dst.children.get(toName)
  if (!node) return E.ENOENT
  if (flags === RENAME_NOREPLACE) return existing ? E.EEXIST : moveChild(src, name, dst, toName)
  if (flags !== RENAME_EXCHANGE) return E.EINVAL
  if (!existing) return E.ENOENT
  src.children.set(name, existing)
  dst.children.set(toName, node)
  node.ctime = existing.ctime = src.mtime = src.ctime = dst.mtime = dst.ctime = Date.now()
  return 0
}

serve('memfs-ll', start)
