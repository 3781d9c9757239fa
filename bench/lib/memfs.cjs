'use strict'
/**
 * The floor for `bench fs` with WXS_FUSE=hl: a bare in-memory FUSE filesystem
 * on the same patched fuse-native binding (libfuse 2, high-level, by path)
 * wxs then uses, doing as little as a Node FUSE server can (the tree of
 * memfs-tree.cjs, no I/O). memfs-ll.cjs is the same on libfuse 3's low-level
 * binding, wxs's default.
 *
 * Usage: node memfs.cjs <mountpoint> '<mount options JSON>'
 * Prints "ready" on stdout once mounted; unmounts and exits on SIGTERM,
 * SIGINT or when stdin closes (the bench died). With MEMFS_COUNT=1 it prints
 * a count of the FUSE ops it served to stderr on exit.
 * Runs in its own process: nothing here ever touches the mountpoint.
 */
const path = require('node:path')
const Fuse = require(path.join(__dirname, '..', '..', 'mount', 'native', 'index.cjs'))
const { S_IFREG, S_IFDIR, O_ACCMODE, O_TRUNC, STATFS, Node, newSymlink, addChild, removeChild, moveChild, count, countSize, serve } = require('./memfs-tree.cjs')

const root = new Node(S_IFDIR, 0o755)
const handles = new Map()
let nextFd = 1

function lookup (p) {
  let node = root
  let at = 1
  while (at < p.length) {
    const slash = p.indexOf('/', at)
    const end = slash === -1 ? p.length : slash
    if (node.children === null) return null
    node = node.children.get(p.slice(at, end))
    if (node === undefined) return null
    at = end + 1
  }
  return node
}

/** { dir, name } of a path's parent directory, or null. */
function parentOf (p) {
  const i = p.lastIndexOf('/')
  const dir = lookup(i === 0 ? '/' : p.slice(0, i))
  return dir && dir.children ? { dir, name: p.slice(i + 1) } : null
}

function add (p, node, cb) {
  const at = parentOf(p)
  if (!at) return cb(Fuse.ENOENT)
  cb(addChild(at.dir, at.name, node))
}

function remove (p, wantDir, cb) {
  const at = parentOf(p)
  if (!at) return cb(Fuse.ENOENT)
  cb(removeChild(at.dir, at.name, wantDir))
}

function rename (from, to, cb) {
  const src = parentOf(from)
  const dst = parentOf(to)
  if (!src || !dst) return cb(Fuse.ENOENT)
  cb(moveChild(src.dir, src.name, dst.dir, dst.name))
}

function openNode (node) {
  const fd = nextFd++
  handles.set(fd, node)
  return fd
}

const withNode = (p, cb, fn) => {
  const node = lookup(p)
  if (!node) return cb(Fuse.ENOENT)
  fn(node)
}

const ops = {
  init: cb => cb(0),
  statfs: (p, cb) => cb(0, STATFS),
  getattr: (p, cb) => withNode(p, cb, node => cb(0, node.stat())),
  readdir: (p, cb) => withNode(p, cb, node => node.children ? cb(0, [...node.children.keys()]) : cb(Fuse.ENOTDIR)),
  open: (p, flags, cb) => withNode(p, cb, node => {
    if ((flags & O_TRUNC) && (flags & O_ACCMODE) !== 0 && node.data) node.resize(0)
    cb(0, openNode(node))
  }),
  create: (p, mode, cb) => {
    const node = new Node(S_IFREG, mode)
    add(p, node, err => err ? cb(err) : cb(0, openNode(node)))
  },
  read: (p, fd, buf, len, pos, cb) => {
    const node = handles.get(fd) || lookup(p)
    if (!node || !node.data) return cb(Fuse.EBADF)
    const end = Math.min(node.size, pos + len)
    cb(end > pos ? node.data.copy(buf, 0, pos, end) : 0)
  },
  write: (p, fd, buf, len, pos, cb) => {
    const node = handles.get(fd) || lookup(p)
    if (!node || !node.data) return cb(Fuse.EBADF)
    if (pos + len > node.size) node.resize(pos + len)
    buf.copy(node.data, pos, 0, len)
    node.mtime = node.ctime = Date.now()
    cb(len)
  },
  truncate: (p, size, cb) => withNode(p, cb, node => { node.resize(size); cb(0) }),
  ftruncate: (p, fd, size, cb) => withNode(p, cb, node => { (handles.get(fd) || node).resize(size); cb(0) }),
  release: (p, fd, cb) => { handles.delete(fd); cb(0) },
  flush: (p, fd, cb) => cb(0),
  fsync: (p, fd, datasync, cb) => cb(0),
  unlink: (p, cb) => remove(p, false, cb),
  rmdir: (p, cb) => remove(p, true, cb),
  mkdir: (p, mode, cb) => add(p, new Node(S_IFDIR, mode), cb),
  rename,
  symlink: (target, p, cb) => add(p, newSymlink(target), cb),
  readlink: (p, cb) => withNode(p, cb, node => node.target === null ? cb(Fuse.EINVAL) : cb(0, node.target)),
  chmod: (p, mode, cb) => withNode(p, cb, node => { node.mode = mode & 0o7777; node.ctime = Date.now(); cb(0) }),
  chown: (p, uid, gid, cb) => withNode(p, cb, () => cb(0)),
  utimens: (p, atime, mtime, cb) => withNode(p, cb, node => { node.setTimes(atime, mtime); cb(0) })
}

function counted (table) {
  const out = {}
  for (const [name, fn] of Object.entries(table)) {
    out[name] = (...args) => { count(name); return fn(...args) }
  }
  // the sizes the kernel asks for: (p, fd, buf, len, pos, cb)
  for (const kind of ['read', 'write']) {
    const fn = out[kind]
    out[kind] = (p, fd, buf, len, ...rest) => { countSize(kind, len); return fn(p, fd, buf, len, ...rest) }
  }
  return out
}

serve('memfs', (dir, options, counting) => new Fuse(dir, counting ? counted(ops) : ops, options))
