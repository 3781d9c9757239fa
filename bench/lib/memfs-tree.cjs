'use strict'
/**
 * What both floors for `bench fs` share (memfs.cjs on the libfuse 2 binding,
 * memfs-ll.cjs on the libfuse 3 low-level one): the in-memory tree (a node
 * per file, file content in one growable Buffer, no I/O), its changes by
 * directory + name, the op counts of MEMFS_COUNT=1 and the process's life
 * (mount, print "ready", unmount on SIGTERM, SIGINT or when stdin closes).
 * Errors are negative errnos, as fuse-native's callbacks take them.
 */
const { errno } = require('node:os').constants

const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const O_ACCMODE = 3
const O_TRUNC = 0o1000
const UID = process.getuid()
const GID = process.getgid()
const E = {
  ENOENT: -errno.ENOENT,
  EEXIST: -errno.EEXIST,
  ENOTDIR: -errno.ENOTDIR,
  EISDIR: -errno.EISDIR,
  ENOTEMPTY: -errno.ENOTEMPTY,
  EINVAL: -errno.EINVAL,
  EBADF: -errno.EBADF,
  ENOSYS: -errno.ENOSYS,
  ESTALE: -errno.ESTALE,
  EIO: -errno.EIO
}
const STATFS = { bsize: 4096, frsize: 4096, blocks: 1 << 24, bfree: 1 << 23, bavail: 1 << 23, files: 1 << 20, ffree: 1 << 19, favail: 1 << 19, fsid: 0, flag: 0, namemax: 255 }

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
    // no name left (the low-level floor still reaches it by nodeid while the kernel holds it)
    this.unlinked = false
    this.atime = this.mtime = this.ctime = Date.now()
  }

  stat () {
    return {
      mode: this.kind | this.mode,
      size: this.size,
      ino: this.ino,
      nlink: this.unlinked ? 0 : this.kind === S_IFDIR ? 2 : 1,
      uid: UID,
      gid: GID,
      blksize: 65536, // as wxs reports (mount/lib/fuse-ops.ts nodeStat): tools size their I/O by it
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

  /** utimens: each time is nanoseconds (BigInt), null (left alone) or 'now'. */
  setTimes (atime, mtime) {
    const now = Date.now()
    if (atime !== null) this.atime = atime === 'now' ? now : Number(atime / 1000000n)
    if (mtime !== null) this.mtime = mtime === 'now' ? now : Number(mtime / 1000000n)
    this.ctime = now
  }
}

function newSymlink (target) {
  const node = new Node(S_IFLNK, 0o777)
  node.target = target
  node.size = Buffer.byteLength(target)
  return node
}

function touchDir (dir) {
  dir.mtime = dir.ctime = Date.now()
}

/** Puts `node` in `dir` as `name`: 0 or a negative errno. */
function addChild (dir, name, node) {
  if (dir.children.has(name)) return E.EEXIST
  dir.children.set(name, node)
  touchDir(dir)
  return 0
}

/** unlink (wantDir false) or rmdir (true) of `name` in `dir`: 0 or a negative errno. */
function removeChild (dir, name, wantDir) {
  const node = dir.children.get(name)
  if (!node) return E.ENOENT
  if (wantDir && node.kind !== S_IFDIR) return E.ENOTDIR
  if (!wantDir && node.kind === S_IFDIR) return E.EISDIR
  if (wantDir && node.children.size > 0) return E.ENOTEMPTY
  dir.children.delete(name)
  node.unlinked = true
  touchDir(dir)
  return 0
}

/** rename(2) without flags: 0 or a negative errno. */
function moveChild (srcDir, srcName, dstDir, dstName) {
  const node = srcDir.children.get(srcName)
  if (!node) return E.ENOENT
  const existing = dstDir.children.get(dstName)
  if (existing === node) return 0
  if (existing && existing.kind === S_IFDIR && existing.children.size > 0) return E.ENOTEMPTY
  srcDir.children.delete(srcName)
  dstDir.children.set(dstName, node)
  if (existing) existing.unlinked = true
  node.ctime = Date.now()
  touchDir(srcDir)
  touchDir(dstDir)
  return 0
}

/** MEMFS_COUNT=1: requests served by name, and the sizes reads and writes asked for. */
const counts = {}
const sizes = { read: {}, write: {} }

function count (name) {
  counts[name] = (counts[name] || 0) + 1
}

function countSize (kind, len) {
  sizes[kind][len] = (sizes[kind][len] || 0) + 1
}

function printCounts () {
  process.stderr.write('memfs ops ' + JSON.stringify(counts) + '\n')
  process.stderr.write('memfs sizes ' + JSON.stringify(sizes) + '\n')
}

/**
 * The process: `node <script> <mountpoint> '<options JSON>'`. start(dir, options,
 * counting) mounts and returns { mount (cb), unmount (cb) }; "ready" goes to
 * stdout once mount's callback says so. SIGUSR2 prints the counts so far.
 */
function serve (label, start) {
  const [dir, optionsJson] = process.argv.slice(2)
  const counting = process.env.MEMFS_COUNT === '1'
  const fuse = start(dir, JSON.parse(optionsJson || '{}'), counting)
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    if (counting) printCounts()
    fuse.unmount(err => {
      if (err) process.stderr.write(`${label}: unmount failed: ${err.message}\n`)
      process.exit(err ? 1 : 0)
    })
  }
  fuse.mount(err => {
    if (err) {
      process.stderr.write(`${label}: mount failed: ${err.message}\n`)
      process.exit(1)
    }
    process.stdout.write('ready\n')
  })
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('SIGUSR2', printCounts)
  process.stdin.on('end', stop).resume()
}

module.exports = { S_IFREG, S_IFDIR, S_IFLNK, O_ACCMODE, O_TRUNC, E, STATFS, Node, newSymlink, addChild, removeChild, moveChild, count, countSize, serve }
