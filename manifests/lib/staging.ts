/**
 * The uncommitted content of one file in a mounted workspace.
 *
 * - Small files (up to MEMORY_LIMIT) live in memory while a global budget
 *   allows: creating many small files costs no disk round trips.
 * - Larger ones live in a sparse staging file, copy-on-write per chunk: a
 *   chunk of the committed content is copied in only when a write touches it
 *   partially; untouched chunks keep being read from the CAS and are reused
 *   as-is by the next commit (no read, no hash).
 * Durability comes from commits (fsync commits), not from the staging file.
 */
import fs from 'node:fs/promises'
import fsSync from 'node:fs'
import { CHUNK_SIZE, chunkSpans, putBytes, toHex, hash as blake3, type PackStore, type StoredFile } from '../../core/index.js'

export const MEMORY_LIMIT = 1024 * 1024

/** Bytes of file content held in memory across all staged files of a process. */
export class MemoryBudget {
  used = 0
  constructor (readonly limit: number) {}
  take (n: number) { if (this.used + n > this.limit) return false; this.used += n; return true }
  give (n: number) { this.used -= n }
}

export class Staged {
  size: number
  private mem: Buffer | null = null
  private backing: Backing | null = null
  /** Committed chunks not yet copied into the staging file, by index. */
  private base: Buffer[]
  /** Bytes of `base` still valid (shrinks with truncation). */
  private baseSize: number
  private readonly present = new Set<number>()
  /** Byte ranges (within the chunk) written to chunks not yet present; the gaps are copied in only when needed. */
  private readonly covered = new Map<number, Array<[number, number]>>()
  private readonly store: PackStore
  private readonly file: string
  private readonly budget: MemoryBudget

  private constructor (store: PackStore, file: string, budget: MemoryBudget, base: Buffer[], size: number) {
    this.store = store
    this.file = file
    this.budget = budget
    this.base = base
    this.baseSize = size
    this.size = size
  }

  /** Stages a file whose committed content is `chunks` (`size` bytes), or an empty one. */
  static async open (store: PackStore, file: string, budget: MemoryBudget, chunks: Buffer[], size: number): Promise<Staged> {
    const staged = new Staged(store, file, budget, chunks, size)
    if (staged.place(size) && size > 0) (await store.get(toHex(chunks[0]))).copy(staged.mem!)
    return staged
  }

  /** Stages an empty file: synchronously (nothing to read). */
  static openEmpty (store: PackStore, file: string, budget: MemoryBudget): Staged {
    const staged = new Staged(store, file, budget, [], 0)
    staged.place(0)
    return staged
  }

  /** In memory while small and the budget allows (true: the committed content is to be copied in), else a staging file. */
  private place (size: number): boolean {
    const capacity = Math.max(size, 4096)
    if (size <= MEMORY_LIMIT && this.budget.take(capacity)) {
      this.mem = Buffer.alloc(capacity)
      this.base = []
      this.baseSize = 0
      return true
    }
    this.backing = new Backing(this.file, this.budget)
    return false
  }

  async read (buf: Buffer, n: number, offset: number): Promise<void> {
    if (this.mem) { this.mem.copy(buf, 0, offset, offset + n); return }
    for (let i = Math.floor(offset / CHUNK_SIZE); i <= Math.floor((offset + n - 1) / CHUNK_SIZE); i++) {
      if (this.covered.has(i)) await this.materialize(i)
    }
    for (const { index, within, done, length } of chunkSpans(offset, n)) await this.readPiece(buf, done, index, within, length)
  }

  /** write() of an in-memory file that stays within its limit: synchronous; false, and nothing done, otherwise. */
  writeSync (buf: Buffer, offset: number, length: number, position: number): boolean {
    const end = position + length
    if (this.mem === null || !this.growMemory(end)) return false
    buf.copy(this.mem!, position, offset, offset + length)
    if (end > this.size) this.size = end
    return true
  }

  async write (buf: Buffer, offset: number, length: number, position: number): Promise<void> {
    const end = position + length
    if (this.mem && !this.growMemory(end)) await this.spill()
    if (this.mem) {
      buf.copy(this.mem, position, offset, offset + length)
    } else {
      await this.prepareRange(position, end)
      await this.backing!.write(buf, offset, length, position)
    }
    if (end > this.size) this.size = end
  }

  async truncate (size: number): Promise<void> {
    if (this.mem && !this.growMemory(size)) await this.spill()
    if (this.mem) {
      if (size < this.size) this.mem.fill(0, size, this.size)
    } else {
      await this.materialize(Math.floor(Math.min(size, this.size) / CHUNK_SIZE))
      if (size < this.baseSize) {
        this.baseSize = size
        this.base = this.base.slice(0, Math.ceil(size / CHUNK_SIZE))
        for (const i of [...this.covered.keys()]) if (i >= this.base.length) this.covered.delete(i)
      }
      await this.backing!.truncate(size)
    }
    this.size = size
  }

  async sync (): Promise<void> {
    if (this.backing) await this.backing.sync()
  }

  /** Stores the content as chunks; unchanged committed chunks are reused without reading them. */
  async commit (): Promise<StoredFile> {
    if (this.mem) return putBytes(this.store, Buffer.from(this.mem.subarray(0, this.size)))
    for (const i of [...this.covered.keys()]) await this.materialize(i)
    const chunks: Buffer[] = []
    const count = Math.ceil(this.size / CHUNK_SIZE)
    for (let i = 0; i < count; i++) {
      const length = Math.min(CHUNK_SIZE, this.size - i * CHUNK_SIZE)
      if (!this.present.has(i) && i < this.base.length && length === this.baseLength(i)) { chunks.push(this.base[i]); continue }
      // a hole (past the committed content, never written): zeros, hashed once per process, not
      // read and hashed per chunk (measured: a 5 GiB sparse file took 2.2 s to commit, most of it
      // hashing zeros; every chunk ends up one object anyway)
      if (i >= this.base.length && !this.backing!.holds(i)) { chunks.push(await zeroChunk(this.store, length)); continue }
      const piece = Buffer.allocUnsafe(length)
      await this.read(piece, length, i * CHUNK_SIZE)
      const h = blake3(piece)
      await this.store.putHashed(toHex(h), h, piece)
      chunks.push(h)
    }
    return { size: this.size, chunks }
  }

  /**
   * Whether chunk `index` holds no data (SEEK_HOLE): never written here, and
   * committed as zeros or not at all. By whole chunks: a chunk written in part,
   * or copied in, is data (which is always a valid answer).
   */
  isHole (index: number): boolean {
    if (this.mem !== null || this.present.has(index) || this.covered.has(index) || this.backing!.holds(index)) return false
    return index >= this.base.length || this.baseLength(index) === 0 || isZeroChunk(this.base[index], this.baseLength(index))
  }

  async close (): Promise<void> {
    if (this.mem) { this.budget.give(this.mem.byteLength); this.mem = null }
    if (this.backing) {
      const backing = this.backing
      this.backing = null
      await backing.close()
    }
  }

  // -- internals -------------------------------------------------------------

  private baseLength (index: number) {
    return Math.max(0, Math.min(CHUNK_SIZE, this.baseSize - index * CHUNK_SIZE))
  }

  /** Reads part of chunk `index`: from the staging file, or from the committed chunk (zeros past it). */
  private async readPiece (buf: Buffer, at: number, index: number, within: number, want: number) {
    if (this.present.has(index) || index >= this.base.length) {
      this.backing!.read(buf, at, want, index * CHUNK_SIZE + within)
      return
    }
    const valid = Math.max(0, Math.min(want, this.baseLength(index) - within))
    if (valid > 0) await this.store.readInto(toHex(this.base[index]), buf, at, within, valid)
    if (valid < want) buf.fill(0, at + valid, at + want)
  }

  /**
   * Records that [start, end) is about to be written. A committed chunk the
   * writes have fully covered needs no copy at all (an overwrite reads nothing
   * from the store); a partly covered one is completed on its next read,
   * truncate or commit.
   */
  private async prepareRange (start: number, end: number) {
    const first = Math.floor(start / CHUNK_SIZE)
    const last = Math.floor((end - 1) / CHUNK_SIZE)
    for (let i = first; i <= last; i++) {
      if (this.present.has(i) || i >= this.base.length) continue
      const from = Math.max(0, start - i * CHUNK_SIZE)
      const to = Math.min(CHUNK_SIZE, end - i * CHUNK_SIZE)
      const ranges = addRange(this.covered.get(i) ?? [], from, to)
      if (ranges.length === 1 && ranges[0][0] === 0 && ranges[0][1] >= this.baseLength(i)) {
        this.covered.delete(i)
        this.present.add(i)
      } else {
        this.covered.set(i, ranges)
      }
    }
  }

  /** Copies the parts of committed chunk `index` that writes have not covered into the staging file. */
  private async materialize (index: number) {
    if (this.present.has(index) || index >= this.base.length) return
    const length = this.baseLength(index)
    const written = this.covered.get(index) ?? []
    this.covered.delete(index)
    this.present.add(index)
    if (length === 0) return
    const data = await this.store.read(toHex(this.base[index]), 0, length)
    let at = 0
    for (const [from, to] of [...written, [length, length] as [number, number]]) {
      const gapEnd = Math.min(from, length)
      if (gapEnd > at) await this.backing!.write(data, at, gapEnd - at, index * CHUNK_SIZE + at)
      at = Math.max(at, to)
    }
  }

  /** Moves an in-memory file to a staging file (it outgrew MEMORY_LIMIT). */
  private async spill () {
    const mem = this.mem!
    this.backing = new Backing(this.file, this.budget)
    await this.backing.write(mem, 0, this.size, 0)
    this.mem = null
    this.budget.give(mem.byteLength)
  }

  /** Makes room for `end` bytes in memory; false when the file must move to disk instead. */
  private growMemory (end: number): boolean {
    const mem = this.mem!
    if (end <= mem.byteLength) return true
    if (end > MEMORY_LIMIT) return false
    const capacity = Math.min(MEMORY_LIMIT, Math.max(end, mem.byteLength * 2))
    if (!this.budget.take(capacity - mem.byteLength)) return false
    const bigger = Buffer.alloc(capacity)
    mem.copy(bigger, 0, 0, this.size)
    this.mem = bigger
    return true
  }
}

/** The hash of a chunk of `length` zeros, stored once: a staged file's holes (the full-size one is computed once). */
let fullZero: Buffer | null = null
async function zeroChunk (store: PackStore, length: number): Promise<Buffer> {
  const h = length === CHUNK_SIZE && fullZero !== null ? fullZero : blake3(Buffer.alloc(length))
  if (length === CHUNK_SIZE) fullZero = h
  const hex = toHex(h)
  if (!store.hasHex(hex)) await store.putHashed(hex, h, Buffer.alloc(length))
  return h
}

/** Hashes of chunks of zeros, by length (a file's last chunk is shorter). */
const zeroHashes = new Map<number, Buffer>()

/** Whether a stored chunk of `length` bytes is all zeros, by its hash (a hole a commit stored). */
export function isZeroChunk (hash: Buffer, length: number): boolean {
  let zero = zeroHashes.get(length)
  if (zero === undefined) {
    zero = length === CHUNK_SIZE && fullZero !== null ? fullZero : blake3(Buffer.alloc(length))
    if (zeroHashes.size < 64) zeroHashes.set(length, zero)
  }
  return zero.equals(hash)
}

/** Reused chunk buffers: fresh memory is slow to touch the first time on these VMs. */
const freeChunks: Buffer[] = []
function takeChunk (): Buffer {
  const chunk = freeChunks.pop()
  return chunk ? chunk.fill(0) : Buffer.alloc(CHUNK_SIZE)
}
function giveChunk (chunk: Buffer) {
  if (freeChunks.length < 128) freeChunks.push(chunk)
}

/**
 * Where written chunks of a large staged file live: whole-chunk buffers in
 * memory while the budget allows (fast, and reused), else a sparse file on the
 * state dir's disk. A chunk stays where its first write put it.
 */
class Backing {
  private readonly chunks = new Map<number, Buffer>()
  private handle: fs.FileHandle | null = null

  constructor (private readonly file: string, private readonly budget: MemoryBudget) {}

  async write (buf: Buffer, offset: number, length: number, position: number) {
    for (const { index, within, done, length: n } of chunkSpans(position, length)) {
      const chunk = this.chunkFor(index)
      if (chunk) buf.copy(chunk, within, offset + done, offset + done + n)
      else await writeAll(await this.open(), buf, offset + done, n, position + done)
    }
  }

  /** Reads [position, position + length) into buf at `at`; never-written bytes read as zeros. */
  read (buf: Buffer, at: number, length: number, position: number) {
    for (const { index, within, done, length: n } of chunkSpans(position, length)) {
      const chunk = this.chunks.get(index)
      if (chunk) chunk.copy(buf, at + done, within, within + n)
      else {
        const got = this.handle ? fsSync.readSync(this.handle.fd, buf, at + done, n, position + done) : 0
        if (got < n) buf.fill(0, at + done + got, at + done + n)
      }
    }
  }

  async truncate (size: number) {
    const keep = Math.ceil(size / CHUNK_SIZE)
    for (const [index, chunk] of this.chunks) {
      if (index >= keep) { this.chunks.delete(index); this.budget.give(chunk.byteLength); giveChunk(chunk) }
    }
    const boundary = this.chunks.get(Math.floor(size / CHUNK_SIZE))
    if (boundary) boundary.fill(0, size % CHUNK_SIZE)
    if (this.handle) await this.handle.truncate(size)
  }

  async sync () {
    if (this.handle) await this.handle.sync()
  }

  async close () {
    for (const chunk of this.chunks.values()) { this.budget.give(chunk.byteLength); giveChunk(chunk) }
    this.chunks.clear()
    if (this.handle) {
      const handle = this.handle
      this.handle = null
      await handle.close().catch(() => {})
      await fs.rm(this.file, { force: true })
    }
  }

  /** Whether chunk `index` was ever written (else it reads as zeros: a hole). */
  holds (index: number): boolean {
    return this.chunks.has(index) || this.writtenToFile.has(index)
  }

  private chunkFor (index: number): Buffer | null {
    const existing = this.chunks.get(index)
    if (existing) return existing
    if (this.writtenToFile.has(index)) return null
    if (!this.budget.take(CHUNK_SIZE)) { this.writtenToFile.add(index); return null }
    const chunk = takeChunk()
    this.chunks.set(index, chunk)
    return chunk
  }

  private readonly writtenToFile = new Set<number>()

  private async open () {
    if (!this.handle) this.handle = await fs.open(this.file, 'w+', 0o600)
    return this.handle
  }
}

/** Adds [from, to) to sorted, non-overlapping ranges, merging neighbours. */
function addRange (ranges: Array<[number, number]>, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let next: [number, number] = [from, to]
  for (const r of ranges) {
    if (r[1] < next[0]) out.push(r)
    else if (r[0] > next[1]) { out.push(next); next = r }
    else next = [Math.min(r[0], next[0]), Math.max(r[1], next[1])]
  }
  out.push(next)
  return out.sort((a, b) => a[0] - b[0])
}

/**
 * Staging files are on the state dir's local disk (never on a mount), so a
 * synchronous pwrite into the page cache is safe and skips a thread-pool round
 * trip per FUSE write (measured: the hop dominated 64 MiB overwrites).
 */
async function writeAll (handle: fs.FileHandle, buf: Buffer, offset: number, length: number, position: number) {
  let done = 0
  while (done < length) done += fsSync.writeSync(handle.fd, buf, offset + done, length - done, position + done)
}
