/**
 * Imports a directory into the CAS as trees, bottom-up (blob first, pointer last).
 *
 * - `.wxsignore` files (gitignore syntax) apply to their directory and below;
 *   `.git` is included unless ignored.
 * - With a previous root, a file whose size, mtime and mode match its previous
 *   entry (and whose chunks are all stored) is reused without being read, like
 *   git's stat cache; unchanged directories produce identical tree hashes.
 * - A path that cannot be read is reported as data ({ path, code }) and left
 *   out (or kept as it was in the previous commit); it never aborts the import.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { CoreError, Limiter, putFile, toHex, type Monitor, type PackStore } from '../../core/index.js'
import { DIR, FILE, SYMLINK, type CommitStats, type Entry, type Tree } from '../messages.js'
import { ManifestError } from './errors.js'
import { compareNames, EMPTY_TREE, type TreeStore } from './trees.js'

export const IGNORE_FILE = '.wxsignore'

export interface ImportProblem { path: string, code: string, message: string }

export interface ImportResult {
  root: Buffer
  stats: CommitStats
  problems: ImportProblem[]
  /** Files reused from the previous commit without reading them. */
  reused: number
  /** Files read and hashed. */
  hashed: number
}

export interface ImportOptions {
  previousRoot?: Buffer | null
  monitor?: Monitor
  concurrency?: number
}

interface IgnoreFrame { base: string, rules: Ignore }

/** Walks `dir` and stores it; returns the root tree hash and what was seen. */
export async function importDirectory (trees: TreeStore, dir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const root = path.resolve(dir)
  const st = await fs.stat(root).catch(err => {
    if (err.code === 'ENOENT') throw ManifestError.SOURCE_NOT_FOUND(root)
    throw CoreError.IO('reading', root, err)
  })
  if (!st.isDirectory()) throw ManifestError.SOURCE_NOT_DIRECTORY(root)
  opts.monitor?.setPhase('importing')
  const importer = new Importer(trees, root, opts)
  const previous = opts.previousRoot ? await trees.get(opts.previousRoot).catch(() => null) : null
  const rootHash = await importer.directory('', previous, [])
  return { root: rootHash, stats: importer.stats, problems: importer.problems, reused: importer.reused, hashed: importer.hashed }
}

class Importer {
  readonly stats: CommitStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 }
  readonly problems: ImportProblem[] = []
  reused = 0
  hashed = 0
  private readonly trees: TreeStore
  private readonly store: PackStore
  private readonly root: string
  private readonly limit: Limiter
  private readonly monitor: Monitor | undefined

  constructor (trees: TreeStore, root: string, opts: ImportOptions) {
    this.trees = trees
    this.store = trees.store
    this.root = root
    this.limit = new Limiter(opts.concurrency ?? 64)
    this.monitor = opts.monitor
  }

  async directory (rel: string, previous: Tree | null, ignores: IgnoreFrame[]): Promise<Buffer> {
    const abs = path.join(this.root, rel)
    const dirents = await this.limit.run(() => fs.readdir(abs, { withFileTypes: true })).catch(err => {
      this.problem(rel || '.', err)
      return null
    })
    if (dirents === null) return previous ? this.trees.put(previous) : this.trees.put(EMPTY_TREE)
    const frames = dirents.some(d => d.name === IGNORE_FILE) ? [...ignores, await this.loadIgnore(rel)] : ignores
    const before = new Map((previous?.entries ?? []).map(e => [e.name, e]))
    const kept = dirents.filter(d => !isIgnored(frames, join(rel, d.name), d.isDirectory()))
    const entries = await Promise.all(kept.map(d => this.entry(join(rel, d.name), d.name, before.get(d.name) ?? null, frames)))
    const listing = entries.filter((e): e is Entry => e !== null).sort(compareNames)
    return this.trees.put({ entries: listing })
  }

  private async entry (rel: string, name: string, previous: Entry | null, ignores: IgnoreFrame[]): Promise<Entry | null> {
    const abs = path.join(this.root, rel)
    const st = await this.limit.run(() => fs.lstat(abs, { bigint: true })).catch(err => { this.problem(rel, err); return null })
    if (st === null) return null
    const base = {
      name,
      mode: Number(st.mode & 0o7777n),
      mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
      chunks: [] as Buffer[],
      tree: null as Buffer | null,
      target: null as string | null
    }
    if (st.isDirectory()) return this.dirEntry(rel, base, previous, ignores)
    if (st.isSymbolicLink()) return this.linkEntry(rel, base)
    if (st.isFile()) return this.fileEntry(rel, base, Number(st.size), previous)
    this.problems.push({ path: rel, code: 'UNSUPPORTED_TYPE', message: 'not a regular file, directory or symlink: skipped' })
    return null
  }

  private async dirEntry (rel: string, base: Omit<Entry, 'type' | 'size'>, previous: Entry | null, ignores: IgnoreFrame[]): Promise<Entry> {
    const before = previous?.type === DIR ? await this.trees.get(previous.tree!).catch(() => null) : null
    const tree = await this.directory(rel, before, ignores)
    this.stats.dirs++
    return { ...base, type: DIR, size: 0, tree }
  }

  private async linkEntry (rel: string, base: Omit<Entry, 'type' | 'size'>): Promise<Entry | null> {
    const target = await this.limit.run(() => fs.readlink(path.join(this.root, rel))).catch(err => { this.problem(rel, err); return null })
    if (target === null) return null
    this.stats.symlinks++
    return { ...base, type: SYMLINK, size: Buffer.byteLength(target), target }
  }

  private async fileEntry (rel: string, base: Omit<Entry, 'type' | 'size'>, size: number, previous: Entry | null): Promise<Entry | null> {
    if (previous !== null && this.unchanged(previous, base, size)) {
      this.reused++
      this.count(previous.size)
      return { ...base, type: FILE, size: previous.size, chunks: previous.chunks }
    }
    const stored = await this.limit.run(() => putFile(this.store, path.join(this.root, rel), size)).catch(err => {
      if (err instanceof CoreError && err.code !== 'IO_ERROR') throw err // store failures (full disk) abort the import
      this.problem(rel, err)
      return null
    })
    if (stored === null) return null
    this.hashed++
    this.count(stored.size)
    return { ...base, type: FILE, size: stored.size, chunks: stored.chunks }
  }

  private unchanged (previous: Entry, now: Omit<Entry, 'type' | 'size'>, size: number) {
    return previous.type === FILE && previous.size === size && previous.mode === now.mode &&
      previous.mtimeSec === now.mtimeSec && previous.mtimeNsec === now.mtimeNsec &&
      previous.chunks.every(h => this.store.hasHex(toHex(h)))
  }

  private count (bytes: number) {
    this.stats.files++
    this.stats.bytes += bytes
    this.monitor?.add(1, bytes)
  }

  private async loadIgnore (rel: string): Promise<IgnoreFrame> {
    const text = await fs.readFile(path.join(this.root, rel, IGNORE_FILE), 'utf8').catch(err => { this.problem(join(rel, IGNORE_FILE), err); return '' })
    return { base: rel, rules: ignore().add(text) }
  }

  private problem (rel: string, err: NodeJS.ErrnoException) {
    this.problems.push({ path: rel, code: err.code ?? 'EIO', message: err.message })
  }
}

function join (rel: string, name: string) {
  return rel === '' ? name : rel + '/' + name
}

/** As git: the deepest .wxsignore with a rule matching the path decides (so `!x` below can re-include). */
function isIgnored (frames: IgnoreFrame[], rel: string, isDir: boolean) {
  for (let i = frames.length - 1; i >= 0; i--) {
    const { base, rules } = frames[i]
    const sub = base === '' ? rel : rel.slice(base.length + 1)
    const verdict = rules.test(isDir ? sub + '/' : sub)
    if (verdict.ignored) return true
    if (verdict.unignored) return false
  }
  return false
}
