/**
 * Materializes a tree into a real directory: contents, permission bits,
 * symlinks, special files (FIFOs and sockets' nodes; devices as root), owners
 * (as root; others keep their own) and mtimes. The target must be absent or empty; every name is
 * checked to be a single safe component and files are created with O_EXCL, so
 * nothing is written outside the target, even through a symlink in the tree.
 */
import fs from 'node:fs/promises'
import { constants as C } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import path from 'node:path'
import { CoreError, Limiter, fsPath, nameToBytes, toHex, type Monitor, type PackStore } from '../../core/index.js'
import { DIR, FILE, SYMLINK, FIFO, SOCKET, CHAR_DEVICE, type Entry } from '../messages.js'
import { ManifestError } from './errors.js'
import { isSafeComponent } from './names.js'
import type { TreeStore } from './trees.js'
import type { ImportProblem } from './importer.js'
import { writeXattrs } from './xattrs.js'

const run = promisify(execFile)
/** Owners are given back only by root (chown(2) refuses anyone else). */
const IS_ROOT = process.getuid?.() === 0

export interface ExportResult { files: number, dirs: number, symlinks: number, bytes: number, problems: ImportProblem[] }

export async function exportTree (trees: TreeStore, root: Buffer, target: string, opts: { monitor?: Monitor } = {}): Promise<ExportResult> {
  const dir = path.resolve(target)
  await prepareTarget(dir)
  opts.monitor?.setPhase('writing')
  const exporter = new Exporter(trees, dir, opts.monitor)
  await exporter.directory(root, '')
  await writeXattrs(exporter.xattrs, exporter.result.problems)
  return exporter.result
}

async function prepareTarget (dir: string) {
  const names = await fs.readdir(dir).catch(err => {
    if (err.code === 'ENOENT') return null
    if (err.code === 'ENOTDIR') throw ManifestError.TARGET_NOT_EMPTY(dir)
    throw CoreError.IO('reading', dir, err)
  })
  if (names === null) await fs.mkdir(dir, { recursive: true }).catch(err => { throw CoreError.IO('creating', dir, err) })
  else if (names.length > 0) throw ManifestError.TARGET_NOT_EMPTY(dir)
}

class Exporter {
  readonly result: ExportResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, problems: [] }
  private readonly trees: TreeStore
  private readonly store: PackStore
  private readonly base: string
  private readonly limit = new Limiter(32)
  private readonly monitor: Monitor | undefined
  /** Entries with extended attributes, set in one go at the end (xattrs.ts). */
  readonly xattrs: Array<{ abs: string, rel: string, xattrs: NonNullable<Entry['xattrs']> }> = []
  /** Hard links: the path the first name of each group was written at, once it is there. */
  private readonly links = new Map<number, Promise<string>>()

  constructor (trees: TreeStore, base: string, monitor?: Monitor) {
    this.trees = trees
    this.store = trees.store
    this.base = base
    this.monitor = monitor
  }

  async directory (treeHash: Buffer, rel: string): Promise<void> {
    const t = await this.trees.get(treeHash)
    await Promise.all(t.entries.map(e => this.entry(e, rel === '' ? e.name : rel + '/' + e.name)))
  }

  private async entry (e: Entry, rel: string) {
    if (!isSafeComponent(e.name)) throw ManifestError.UNSAFE_PATH(rel)
    const abs = path.join(this.base, rel)
    if (e.xattrs !== undefined && e.xattrs.length > 0) this.xattrs.push({ abs, rel, xattrs: e.xattrs })
    if (e.link !== undefined && e.type !== DIR) {
      const prior = this.links.get(e.link.group)
      if (prior !== undefined) {
        // another name of a file written already: a real hard link
        try {
          await fs.link(fsPath(await prior), fsPath(abs))
          if (e.type === FILE) { this.result.files++; this.monitor?.add(1, 0) } else if (e.type === SYMLINK) this.result.symlinks++; else this.result.files++
        } catch (err) {
          this.result.problems.push({ path: rel, code: (err as NodeJS.ErrnoException).code ?? 'EIO', message: (err as Error).message })
        }
        return
      }
      let written!: (p: string) => void
      let failed!: (err: unknown) => void
      const first = new Promise<string>((resolve, reject) => { written = resolve; failed = reject })
      first.catch(() => {}) // the other names report it when they await it
      this.links.set(e.link.group, first)
      try {
        await this.write(e, rel, abs)
        written(abs)
      } catch (err) {
        failed(err)
        this.fail(err, rel, abs)
      }
      return
    }
    try {
      await this.write(e, rel, abs)
    } catch (err) {
      this.fail(err, rel, abs)
    }
  }

  /** A full disk ends the export; anything else is a problem of that path. */
  private fail (err: unknown, rel: string, abs: string) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOSPC' || code === 'EDQUOT') throw CoreError.IO('writing', abs, err)
    if (err instanceof CoreError && err.code === 'NO_SPACE') throw err
    this.result.problems.push({ path: rel, code: code ?? 'EIO', message: (err as Error).message })
  }

  private async write (e: Entry, rel: string, abs: string) {
    if (e.type === DIR) await this.dir(e, rel, abs)
    else if (e.type === FILE) await this.limit.run(() => this.file(e, abs))
    else if (e.type === SYMLINK) await this.limit.run(() => this.link(e, abs))
    else await this.limit.run(() => this.special(e, abs))
  }

  private async dir (e: Entry, rel: string, abs: string) {
    const at = fsPath(abs)
    await fs.mkdir(at, { mode: 0o700 })
    this.result.dirs++
    await this.directory(e.tree!, rel)
    await owner(e, at)
    await fs.chmod(at, e.mode)
    await fs.utimes(at, ...times(e))
  }

  private async file (e: Entry, abs: string) {
    const handle = await fs.open(fsPath(abs), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600)
    try {
      let at = 0
      for (const h of e.chunks) {
        const data = await this.store.get(toHex(h))
        await handle.write(data, 0, data.byteLength, at)
        at += data.byteLength
      }
      if (IS_ROOT && e.uid !== undefined) await handle.chown(e.uid, e.gid ?? 0)
      await handle.chmod(e.mode) // after chown, which clears set-id bits
      await handle.utimes(...times(e))
    } finally {
      await handle.close()
    }
    this.result.files++
    this.result.bytes += e.size
    this.monitor?.add(1, e.size)
  }

  private async link (e: Entry, abs: string) {
    const at = fsPath(abs)
    await fs.symlink(nameToBytes(e.target!), at)
    await owner(e, at)
    await fs.lutimes(at, ...times(e))
    this.result.symlinks++
  }

  /**
   * A FIFO or a device by mknod(1) (Node has no mknod), a socket's node by binding
   * one in a child that exits without closing it (closing would unlink it).
   */
  private async special (e: Entry, abs: string) {
    // made under a plain temporary name at the top, then renamed into place (its path may not be UTF-8: argv is text)
    const at = fsPath(abs)
    const tmp = path.join(this.base, `.wxs-special-${process.pid}-${++specials}`)
    if (e.type === FIFO) await run('mknod', ['-m', '0600', tmp, 'p'])
    else if (e.type === SOCKET) await run(process.execPath, ['-e', 'require("net").createServer().listen(process.argv[1], () => process.exit(0))', tmp])
    else await run('mknod', ['-m', '0600', tmp, e.type === CHAR_DEVICE ? 'c' : 'b', String(major(e.rdev ?? 0)), String(minor(e.rdev ?? 0))])
    await fs.rename(tmp, at)
    await owner(e, at)
    await fs.chmod(at, e.mode)
    await fs.utimes(at, ...times(e))
    this.result.files++
    this.monitor?.add(1, 0)
  }
}

/** Gives an entry its stored owner, as root (lchown: a symlink itself). */
async function owner (e: Entry, abs: string | Buffer) {
  if (IS_ROOT && e.uid !== undefined) await fs.lchown(abs, e.uid, e.gid ?? 0)
}

let specials = 0

/** Linux's dev_t split (glibc's gnu_dev_major/minor). */
function major (dev: number) { return Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn)) }
function minor (dev: number) { return Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn)) }

/**
 * utimes() takes seconds as a double, which cannot carry nanoseconds at today's
 * epoch: aim at the middle of the stored microsecond so it survives rounding.
 */
function times (e: Entry): [number, number] {
  const t = e.mtimeSec + (Math.floor(e.mtimeNsec / 1000) * 1000 + 500) / 1e9
  return [t, t]
}
