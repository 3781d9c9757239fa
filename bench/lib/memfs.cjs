'use strict'
/**
 * The floor for `bench fs`: a bare in-memory FUSE filesystem on the same
 * patched fuse-native binding wxs uses, doing as little as a Node FUSE server
 * can (a node tree, file content in one growable Buffer, no I/O).
 *
 * Usage: node memfs.cjs <mountpoint> '<mount options JSON>'
 * Prints "ready" on stdout once mounted; unmounts and exits on SIGTERM,
 * SIGINT or when stdin closes (the bench died). With MEMFS_COUNT=1 it prints
 * a count of the FUSE ops it served to stderr on exit.
 * Runs in its own process: nothing here ever touches the mountpoint.
 */
const path = require('node:path')
const Fuse = require(path.join(__dirname, '..', '..', 'mount', 'native', 'index.cjs'))

const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const O_ACCMODE = 3
const O_TRUNC = 0o1000
const UID = process.getuid()
const GID = process.getgid()

let nextIno = 1

class Node {
  constructor (kind, mode) {
    this.ino = nextIno++
    this.kind = kind
    this.mode = mode & 0o7777
    this.size = 0
    this.data = kind === S_IFREG ? Buffer.alloc(0) : null
    this.children = kind === S_IFDIR ? new Map() : null
    this.target = null
    this.atime = this.mtime = this.ctime = Date.now()
  }

  stat () {
    return {
      mode: this.kind | this.mode,
      size: this.size,
      ino: this.ino,
      nlink: this.kind === S_IFDIR ? 2 : 1,
      uid: UID,
      gid: GID,
      blksize: 4096,
      blocks: Math.ceil(this.size / 512),
      atime: this.atime,
      mtime: this.mtime,
      ctime: this.ctime
    }
  }

  resize (size) {
    if (size > this.data.length) {
      const grown = Buffer.alloc(Math.max(size, Math.min(this.data.length * 2, this.data.length + 64 * 1024 * 1024)))
      this.data.copy(grown, 0, 0, this.size)
      this.data = grown
    } else if (size < this.size) {
      this.data.fill(0, size, this.size)
    }
    this.size = size
    this.mtime = this.ctime = Date.now()
  }
}

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

function touchDir (dir) {
  dir.mtime = dir.ctime = Date.now()
}

function add (p, node, cb) {
  const at = parentOf(p)
  if (!at) return cb(Fuse.ENOENT)
  if (at.dir.children.has(at.name)) return cb(Fuse.EEXIST)
  at.dir.children.set(at.name, node)
  touchDir(at.dir)
  cb(0)
}

function remove (p, wantDir, cb) {
  const at = parentOf(p)
  const node = at && at.dir.children.get(at.name)
  if (!node) return cb(Fuse.ENOENT)
  if (wantDir && node.kind !== S_IFDIR) return cb(Fuse.ENOTDIR)
  if (!wantDir && node.kind === S_IFDIR) return cb(Fuse.EISDIR)
  if (wantDir && node.children.size > 0) return cb(Fuse.ENOTEMPTY)
  at.dir.children.delete(at.name)
  touchDir(at.dir)
  cb(0)
}

function rename (from, to, cb) {
  const src = parentOf(from)
  const dst = parentOf(to)
  const node = src && src.dir.children.get(src.name)
  if (!node || !dst) return cb(Fuse.ENOENT)
  const existing = dst.dir.children.get(dst.name)
  if (existing === node) return cb(0)
  if (existing && existing.kind === S_IFDIR && existing.children.size > 0) return cb(Fuse.ENOTEMPTY)
  src.dir.children.delete(src.name)
  dst.dir.children.set(dst.name, node)
  node.ctime = Date.now()
  touchDir(src.dir)
  touchDir(dst.dir)
  cb(0)
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

const counts = {}

const ops = {
  init: cb => cb(0),
  statfs: (p, cb) => cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 24, bfree: 1 << 23, bavail: 1 << 23, files: 1 << 20, ffree: 1 << 19, favail: 1 << 19, fsid: 0, flag: 0, namemax: 255 }),
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
  symlink: (target, p, cb) => {
    const node = new Node(S_IFLNK, 0o777)
    node.target = target
    node.size = Buffer.byteLength(target)
    add(p, node, cb)
  },
  readlink: (p, cb) => withNode(p, cb, node => node.target === null ? cb(Fuse.EINVAL) : cb(0, node.target)),
  chmod: (p, mode, cb) => withNode(p, cb, node => { node.mode = mode & 0o7777; node.ctime = Date.now(); cb(0) }),
  chown: (p, uid, gid, cb) => withNode(p, cb, () => cb(0)),
  utimens: (p, atime, mtime, cb) => withNode(p, cb, node => {
    if (atime !== null) node.atime = Number(atime / 1000000n)
    if (mtime !== null) node.mtime = Number(mtime / 1000000n)
    node.ctime = Date.now()
    cb(0)
  })
}

function counted (table) {
  const out = {}
  for (const [name, fn] of Object.entries(table)) {
    out[name] = (...args) => { counts[name] = (counts[name] || 0) + 1; return fn(...args) }
  }
  return out
}

function main () {
  const [dir, optionsJson] = process.argv.slice(2)
  const counting = process.env.MEMFS_COUNT === '1'
  const fuse = new Fuse(dir, counting ? counted(ops) : ops, JSON.parse(optionsJson || '{}'))
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    if (counting) process.stderr.write('memfs ops ' + JSON.stringify(counts) + '\n')
    fuse.unmount(err => {
      if (err) process.stderr.write(`memfs: unmount failed: ${err.message}\n`)
      process.exit(err ? 1 : 0)
    })
  }
  fuse.mount(err => {
    if (err) {
      process.stderr.write(`memfs: mount failed: ${err.message}\n`)
      process.exit(1)
    }
    process.stdout.write('ready\n')
  })
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('SIGUSR2', () => process.stderr.write('memfs ops ' + JSON.stringify(counts) + '\n'))
  process.stdin.on('end', stop).resume()
}

main()
