/**
 * The content-addressed object store: objects named by BLAKE3-256, appended to
 * pack segments, located through an in-memory index.
 *
 * How it works
 * - put() hashes, dedupes against the index, and queues the record in a write
 *   buffer; the buffer goes to the active segment in one writev when it fills.
 *   Queued objects are readable at once (served from memory).
 * - flush() makes everything put so far durable (one fsync). Callers write
 *   their pointers (commits) only after flush(): blob first, pointer last.
 * - A segment is sealed at maxPackBytes: fsync, then its index file is written
 *   (tmp + rename). Sealed segments are never appended to again.
 * - On open, indexed segments load their index; a segment without one (the
 *   active segment after a crash) is scanned and every record re-hashed; the
 *   segment is cut at the first torn or wrong record. So an object is never
 *   visible under its name unless complete and correct.
 * - compact(live) copies live objects out of segments holding dead ones, then
 *   deletes those segments (gc).
 */
import fs from 'node:fs/promises'
import { readSync } from 'node:fs'
import path from 'node:path'
import c from 'compact-encoding'
import { Resource } from './resource.js'
import { CoreError } from './errors.js'
import { hash as blake3, toHex } from './hash.js'
import { fetchWithin, DEFAULT_FETCH_TIMEOUT_MS, type ObjectFetcher } from './fetcher.js'
import {
  PACK_MAGIC, PACK_VERSION, PACK_HEADER_BYTES, RECORD_HEADER_BYTES, INDEX_VERSION,
  packHeader, recordHeader, packIndex, type IndexEntry
} from '../messages.js'

export interface PackStoreOptions {
  /** A segment is sealed once it grows past this many bytes. */
  maxPackBytes?: number
  /** Queued records are written once they add up to this many bytes. */
  writeBufferBytes?: number
  /** How long a read waits for the fetcher to deliver a missing object. */
  fetchTimeoutMs?: number
}

interface Location { pack: number, offset: number, length: number }

interface Segment { id: number, handle: fs.FileHandle, size: number, entries: Array<[string, Location]>, dirSynced: boolean }

export interface StoreStats { objects: number, storedBytes: number, diskBytes: number, packs: number }

export interface VerifyResult { checked: number, corrupt: string[] }

export interface CompactResult { removedObjects: number, removedBytes: number, reclaimedBytes: number, rewrittenPacks: number }

const MAX_OBJECT_BYTES = 0xffffffff
const packName = (id: number) => `pack-${String(id).padStart(6, '0')}`

export class PackStore extends Resource {
  readonly dir: string
  /** Where missing objects come from (set by the network layer); null = fail at once. */
  fetcher: ObjectFetcher | null = null
  /**
   * When a program last used a mount over this store (performance.now()): the
   * network's background fetch yields to it (see net/lib/downloader.ts).
   */
  lastForeground = -Infinity
  fetchTimeoutMs: number
  private readonly maxPackBytes: number
  private readonly writeBufferBytes: number
  private readonly index = new Map<string, Location>()
  private readonly handles = new Map<number, fs.FileHandle>()
  private active: Segment | null = null
  private queue: Buffer[] = []
  private queuedHashes: string[] = []
  private releases: Array<() => void> = []
  private queuedBytes = 0
  /** Objects not yet on disk (queued or being written), served from memory. */
  private readonly inMemory = new Map<string, Buffer>()
  private writing: Promise<void> = Promise.resolve()
  private inflightBytes = 0
  private sealing: Promise<void> = Promise.resolve()
  private rotating: Promise<void> | null = null
  private failure: Error | null = null
  /** Objects found damaged while recovering an unindexed segment: not visible, reported by verify(). */
  private readonly corruptOnOpen = new Set<string>()

  constructor (dir: string, opts: PackStoreOptions = {}) {
    super()
    this.dir = dir
    this.maxPackBytes = opts.maxPackBytes ?? 64 * 1024 * 1024
    this.writeBufferBytes = opts.writeBufferBytes ?? 4 * 1024 * 1024
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
  }

  protected async _open () {
    await fs.mkdir(this.dir, { recursive: true })
    const names = await fs.readdir(this.dir)
    await Promise.all(names.filter(n => n.endsWith('.tmp')).map(n => fs.rm(path.join(this.dir, n), { force: true })))
    const ids = names.filter(n => /^pack-\d{6}\.pack$/.test(n)).map(n => Number(n.slice(5, 11))).sort((a, b) => a - b)
    const indexed = new Set(names.filter(n => n.endsWith('.idx')).map(n => Number(n.slice(5, 11))))
    for (const id of ids) {
      if (indexed.has(id) && await this.loadIndex(id)) continue
      const segment = await this.recover(id)
      if (id === ids[ids.length - 1]) this.active = segment
      else await this.seal(segment)
    }
    if (this.active === null) this.active = await this.createSegment((ids[ids.length - 1] ?? 0) + 1)
  }

  protected async _close () {
    if (this.active !== null && !this.failure) await this.flush().catch(() => {})
    for (const handle of this.handles.values()) await handle.close().catch(() => {})
    this.handles.clear()
  }

  get size () { return this.index.size }

  has (h: Uint8Array): boolean {
    return this.index.has(toHex(h))
  }

  hasHex (hex: string): boolean {
    return this.index.has(hex)
  }

  *hashes (): IterableIterator<string> {
    yield * this.index.keys()
  }

  /** Stores `data` (deduplicated) and returns its hash. Durable after flush(). */
  async put (data: Buffer): Promise<Buffer> {
    const h = blake3(data)
    await this.putHashed(toHex(h), h, data)
    return h
  }

  /**
   * Stores data whose hash the caller computed. The caller guarantees h = blake3(data).
   * With `release`, the store calls it once it no longer needs `data` (written or
   * deduplicated), so the caller can reuse the buffer; until then it must not touch it.
   */
  async putHashed (hex: string, h: Buffer, data: Buffer, release?: () => void): Promise<void> {
    this.assertWritable()
    if (this.index.has(hex)) { release?.(); return }
    if (data.byteLength > MAX_OBJECT_BYTES) throw CoreError.TOO_LARGE(`object of ${data.byteLength} bytes`)
    this.append(hex, h, data)
    if (release) this.releases.push(release)
    if (this.queuedBytes >= this.writeBufferBytes) await this.pushWrites()
  }

  /**
   * Hands a full write buffer to the writer without waiting for it (reading and
   * hashing overlap with writing); waits only when too much is in flight or the
   * segment must rotate.
   */
  private async pushWrites () {
    this.scheduleWrite()
    if (this.active!.size >= this.maxPackBytes) await this.rotate()
    else if (this.inflightBytes > this.writeBufferBytes * 4) await this.writing
    if (this.failure) throw this.failure
  }

  /** Reads an object and checks it against its name; throws OBJECT_NOT_FOUND or OBJECT_CORRUPT. */
  async get (hex: string): Promise<Buffer> {
    const data = await this.getUnverified(hex)
    if (toHex(blake3(data)) !== hex) throw CoreError.OBJECT_CORRUPT(hex, this.describe(hex))
    return data
  }

  /** Reads `length` bytes at `offset` inside an object, without verifying (for range reads). */
  async read (hex: string, offset: number, length: number): Promise<Buffer> {
    await this.ensure(hex)
    const queued = this.inMemory.get(hex)
    if (queued !== undefined) return Buffer.from(queued.subarray(offset, offset + length)) // the caller may reuse the original
    const loc = this.locate(hex)
    const n = Math.max(0, Math.min(length, loc.length - offset))
    return this.pread(loc.pack, loc.offset + offset, n)
  }

  /** Reads `length` bytes at `offset` inside an object straight into `buf` at `at` (no copy); returns bytes read. */
  async readInto (hex: string, buf: Buffer, at: number, offset: number, length: number): Promise<number> {
    await this.ensure(hex)
    const queued = this.inMemory.get(hex)
    if (queued !== undefined) return queued.copy(buf, at, offset, Math.min(offset + length, queued.byteLength))
    const loc = this.locate(hex)
    const n = Math.max(0, Math.min(length, loc.length - offset))
    const handle = this.handles.get(loc.pack)
    if (handle === undefined) throw CoreError.IO('reading', packName(loc.pack), new Error('segment is not open'))
    // Synchronous pread: packs are local files (never a mount) and this is the
    // mount's hot read path, where a thread-pool hop per 128 KiB request costs
    // more than the copy out of the page cache.
    let done = 0
    while (done < n) {
      const bytesRead = readSync(handle.fd, buf, at + done, n - done, loc.offset + offset + done)
      if (bytesRead === 0) throw CoreError.IO('reading', packName(loc.pack), new Error(`short read at ${loc.offset + offset + done}`))
      done += bytesRead
    }
    return n
  }

  /**
   * Reads an object held locally, synchronously, and checks it against its name;
   * null when it is not local (the fetcher is never asked). Throws OBJECT_CORRUPT.
   * For serving peers: objects come from the page cache, where a thread-pool hop
   * per object (async pread) costs more than the read itself and, awaited one
   * object at a time, caps a peer at a few thousand small objects a second.
   */
  getLocalSync (hex: string): Buffer | null {
    let data: Buffer
    const queued = this.inMemory.get(hex)
    if (queued !== undefined) {
      data = Buffer.from(queued) // the caller may keep it; the writer may reuse the original
    } else {
      const loc = this.index.get(hex)
      if (loc === undefined) return null
      const handle = this.handles.get(loc.pack)
      if (handle === undefined) throw CoreError.IO('reading', packName(loc.pack), new Error('segment is not open'))
      data = Buffer.allocUnsafe(loc.length)
      let done = 0
      while (done < loc.length) {
        const n = readSync(handle.fd, data, done, loc.length - done, loc.offset + done)
        if (n === 0) throw CoreError.IO('reading', packName(loc.pack), new Error(`short read at ${loc.offset + done}`))
        done += n
      }
    }
    if (toHex(blake3(data)) !== hex) throw CoreError.OBJECT_CORRUPT(hex, this.describe(hex))
    return data
  }

  async getUnverified (hex: string): Promise<Buffer> {
    await this.ensure(hex)
    const queued = this.inMemory.get(hex)
    if (queued !== undefined) return Buffer.from(queued) // the caller may reuse the original
    const loc = this.locate(hex)
    return this.pread(loc.pack, loc.offset, loc.length)
  }

  /** Makes sure `hex` is local, asking the fetcher (bounded by fetchTimeoutMs) when it is not. */
  async ensure (hex: string): Promise<void> {
    if (this.index.has(hex) || this.fetcher === null || this.corruptOnOpen.has(hex)) return
    await fetchWithin(this.fetcher, hex, this.fetchTimeoutMs)
  }

  objectSize (hex: string): number | null {
    return this.index.get(hex)?.length ?? null
  }

  /** Writes queued records and fsyncs the active segment. */
  async flush (): Promise<void> {
    await this.writeQueued()
    if (this.rotating) await this.rotating
    await this.writing
    await this.sealing
    if (this.failure) throw this.failure
    const segment = this.active!
    await segment.handle.sync().catch(err => { throw CoreError.IO('syncing', packName(segment.id), err) })
    if (!segment.dirSynced) { await syncDir(this.dir); segment.dirSynced = true }
  }

  stats (): Promise<StoreStats> {
    return this.computeStats()
  }

  /** Re-hashes every object; reports the ones whose bytes do not match their name. */
  async verify (onObject?: (bytes: number) => void): Promise<VerifyResult> {
    await this.flush()
    const corrupt: string[] = [...this.corruptOnOpen].filter(hex => !this.index.has(hex))
    let checked = 0
    for (const [hex, loc] of this.sortedEntries()) {
      const data = await this.pread(loc.pack, loc.offset, loc.length).catch(() => null)
      if (data === null || toHex(blake3(data)) !== hex) corrupt.push(hex)
      checked++
      onObject?.(loc.length)
    }
    return { checked, corrupt }
  }

  /**
   * Drops every object not in `live`: segments holding dead objects have their
   * live objects copied into the active segment (durably) before they are deleted.
   * The caller must keep writers out while this runs.
   */
  async compact (live: Set<string>, onObject?: (bytes: number) => void): Promise<CompactResult> {
    await this.flush()
    if (this.active!.entries.length > 0) await this.rotate()
    await this.sealing
    const before = await this.computeStats()
    const victims = this.victimPacks(live)
    let removedObjects = 0
    let removedBytes = 0
    for (const [hex, loc] of this.sortedEntries()) {
      if (!victims.has(loc.pack)) continue
      if (live.has(hex)) await this.relocate(hex, loc)
      else { this.index.delete(hex); removedObjects++; removedBytes += loc.length }
      onObject?.(loc.length)
    }
    await this.flush()
    for (const id of victims) await this.dropSegment(id)
    const after = await this.computeStats()
    return { removedObjects, removedBytes, reclaimedBytes: before.diskBytes - after.diskBytes, rewrittenPacks: victims.size }
  }

  // -- internals -----------------------------------------------------------

  private assertWritable () {
    if (this.closed || this.active === null) throw CoreError.STORE_CLOSED()
    if (this.failure) throw this.failure
  }

  private locate (hex: string): Location {
    const loc = this.index.get(hex)
    if (loc === undefined && this.corruptOnOpen.has(hex)) throw CoreError.OBJECT_CORRUPT(hex, 'damaged on disk, found while recovering its segment')
    if (loc === undefined) throw CoreError.OBJECT_NOT_FOUND(hex)
    return loc
  }

  private describe (hex: string) {
    const loc = this.index.get(hex)
    return loc ? `${packName(loc.pack)}.pack at ${loc.offset}` : 'not indexed'
  }

  private append (hex: string, h: Buffer, data: Buffer) {
    const header = c.encode(recordHeader, { hash: h, length: data.byteLength })
    const segment = this.active!
    const offset = segment.size + this.queuedBytes + RECORD_HEADER_BYTES
    const loc = { pack: segment.id, offset, length: data.byteLength }
    this.index.set(hex, loc)
    segment.entries.push([hex, loc])
    this.queue.push(header as Buffer, data)
    this.queuedHashes.push(hex)
    this.inMemory.set(hex, data)
    this.queuedBytes += RECORD_HEADER_BYTES + data.byteLength
  }

  private writeQueued (): Promise<void> {
    this.scheduleWrite()
    return this.writing.then(() => this.maybeRotate())
  }

  /** Hands the queued records to the write chain, bound to the segment they were laid out for. */
  private scheduleWrite () {
    if (this.queue.length === 0) return
    const buffers = this.queue
    const hashes = this.queuedHashes
    const releases = this.releases
    const segment = this.active!
    const position = segment.size
    const bytes = this.queuedBytes
    segment.size += bytes
    this.inflightBytes += bytes
    this.queue = []
    this.queuedHashes = []
    this.releases = []
    this.queuedBytes = 0
    this.writing = this.writing.then(() => this.writeOut(segment, buffers, position, hashes)).finally(() => {
      this.inflightBytes -= bytes
      for (const release of releases) release()
    })
  }

  private async writeOut (segment: Segment, buffers: Buffer[], position: number, hashes: string[]) {
    if (this.failure) return
    try {
      let at = position
      for (let i = 0; i < buffers.length; i += 512) {
        const slice = buffers.slice(i, i + 512)
        const { bytesWritten } = await segment.handle.writev(slice, at)
        const expected = slice.reduce((n, b) => n + b.byteLength, 0)
        if (bytesWritten !== expected) await this.writeRest(segment, slice, at, bytesWritten)
        at += expected
      }
    } catch (err) {
      // The in-memory index names objects that are not on disk: drop them and refuse further writes.
      this.failure = CoreError.IO('writing', packName(segment.id), err)
      for (const hex of hashes) this.index.delete(hex)
    } finally {
      for (const hex of hashes) this.inMemory.delete(hex)
    }
  }

  private async writeRest (segment: Segment, slice: Buffer[], at: number, done: number) {
    const all = Buffer.concat(slice)
    let off = done
    while (off < all.byteLength) {
      const { bytesWritten } = await segment.handle.write(all, off, all.byteLength - off, at + off)
      if (bytesWritten === 0) throw new Error('short write')
      off += bytesWritten
    }
  }

  private async maybeRotate () {
    if (this.failure) throw this.failure
    if (this.active!.size >= this.maxPackBytes) await this.rotate()
  }

  /** Seals the active segment and starts a new one (one rotation at a time). */
  private rotate (): Promise<void> {
    if (this.rotating === null) this.rotating = this.runRotate().finally(() => { this.rotating = null })
    return this.rotating
  }

  /** Switches to a new segment; the full one is sealed in the background (flush() waits for it). */
  private async runRotate () {
    const full = this.active!
    const next = await this.createSegment(full.id + 1)
    this.scheduleWrite() // records queued meanwhile were laid out for `full`
    this.active = next
    const written = this.writing
    this.sealing = this.sealing.then(() => written).then(() => this.failure ? undefined : this.seal(full)).catch(err => {
      this.failure = CoreError.IO('sealing', packName(full.id), err)
    })
  }

  private async pread (pack: number, offset: number, length: number): Promise<Buffer> {
    const handle = this.handles.get(pack)
    if (handle === undefined) throw CoreError.IO('reading', packName(pack), new Error('segment is not open'))
    const buf = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, offset + done)
      if (bytesRead === 0) throw CoreError.IO('reading', packName(pack), new Error(`short read at ${offset + done}`))
      done += bytesRead
    }
    return buf
  }

  private sortedEntries (): Array<[string, Location]> {
    return [...this.index].sort((a, b) => a[1].pack - b[1].pack || a[1].offset - b[1].offset)
  }

  private victimPacks (live: Set<string>) {
    const victims = new Set<number>()
    for (const [hex, loc] of this.index) if (!live.has(hex) && loc.pack !== this.active!.id) victims.add(loc.pack)
    return victims
  }

  private async relocate (hex: string, loc: Location) {
    const data = await this.pread(loc.pack, loc.offset, loc.length)
    const h = blake3(data)
    if (toHex(h) !== hex) return // corrupt: leave it to fsck; it disappears with its segment
    this.index.delete(hex)
    this.append(hex, h, data)
    if (this.queuedBytes >= this.writeBufferBytes) await this.pushWrites()
  }

  private async createSegment (id: number): Promise<Segment> {
    const file = path.join(this.dir, packName(id) + '.pack')
    try {
      // No fsync here: rotation must not stall writers. flush() syncs the file and,
      // once, its directory entry; seal() makes a full segment durable.
      const handle = await fs.open(file, 'wx+')
      await handle.write(c.encode(packHeader, { magic: PACK_MAGIC, version: PACK_VERSION }), 0, PACK_HEADER_BYTES, 0)
      this.handles.set(id, handle)
      return { id, handle, size: PACK_HEADER_BYTES, entries: [], dirSynced: false }
    } catch (err) {
      throw CoreError.IO('creating', file, err)
    }
  }

  private async seal (segment: Segment) {
    await segment.handle.sync()
    const entries: IndexEntry[] = segment.entries
      .filter(([hex, loc]) => this.index.get(hex) === loc)
      .map(([hex, loc]) => ({ hash: Buffer.from(hex, 'hex'), offset: loc.offset, length: loc.length }))
    const body = c.encode(packIndex, { version: INDEX_VERSION, packId: segment.id, packBytes: segment.size, entries })
    const file = path.join(this.dir, packName(segment.id) + '.idx')
    await writeFileDurable(file, Buffer.concat([body, blake3(body)]))
    segment.entries = []
  }

  private async loadIndex (id: number): Promise<boolean> {
    const base = path.join(this.dir, packName(id))
    try {
      const raw = await fs.readFile(base + '.idx')
      const body = raw.subarray(0, raw.byteLength - 32)
      if (!blake3(body).equals(raw.subarray(raw.byteLength - 32))) return false
      const idx = c.decode(packIndex, body)
      const handle = await fs.open(base + '.pack', 'r')
      const { size } = await handle.stat()
      if (size < idx.packBytes) { await handle.close(); return false }
      this.handles.set(id, handle)
      for (const e of idx.entries) this.index.set(toHex(e.hash), { pack: id, offset: e.offset, length: e.length })
      return true
    } catch {
      return false
    }
  }

  /**
   * Scans a segment without a (valid) index. A damaged record followed by good
   * ones is skipped (and remembered as corrupt for fsck); damaged or partial
   * records with nothing good after them are a torn tail and are cut off.
   */
  private async recover (id: number): Promise<Segment> {
    const file = path.join(this.dir, packName(id) + '.pack')
    const handle = await fs.open(file, 'r+')
    this.handles.set(id, handle)
    let { size } = await handle.stat()
    const segment: Segment = { id, handle, size: PACK_HEADER_BYTES, entries: [], dirSynced: true }
    if (size < PACK_HEADER_BYTES) { await handle.truncate(0); size = PACK_HEADER_BYTES }
    await this.repairHeader(id, handle)
    let at = PACK_HEADER_BYTES
    let goodEnd = at
    let damaged: string[] = []
    while (at + RECORD_HEADER_BYTES <= size) {
      const head = c.decode(recordHeader, await this.pread(id, at, RECORD_HEADER_BYTES))
      const start = at + RECORD_HEADER_BYTES
      if (head.length === 0 || start + head.length > size) break
      const data = await this.pread(id, start, head.length)
      const hex = toHex(head.hash)
      at = start + head.length
      if (!blake3(data).equals(head.hash)) { damaged.push(hex); continue }
      for (const bad of damaged) this.corruptOnOpen.add(bad)
      damaged = []
      goodEnd = at
      if (this.index.has(hex)) continue
      const loc = { pack: id, offset: start, length: head.length }
      this.index.set(hex, loc)
      segment.entries.push([hex, loc])
    }
    if (goodEnd < size) await handle.truncate(goodEnd)
    segment.size = goodEnd
    await handle.sync()
    return segment
  }

  /** Rewrites a damaged segment header in place; refuses segments from a newer wxs. */
  private async repairHeader (id: number, handle: fs.FileHandle) {
    const head = c.decode(packHeader, await this.pread(id, 0, PACK_HEADER_BYTES).catch(() => Buffer.alloc(PACK_HEADER_BYTES)))
    if (head.magic === PACK_MAGIC && head.version === PACK_VERSION) return
    if (head.magic === PACK_MAGIC && head.version > PACK_VERSION) throw CoreError.BAD_FORMAT(`${packName(id)}.pack has format version ${head.version}; this wxs reads ${PACK_VERSION}`)
    await handle.write(c.encode(packHeader, { magic: PACK_MAGIC, version: PACK_VERSION }), 0, PACK_HEADER_BYTES, 0)
  }

  private async dropSegment (id: number) {
    const handle = this.handles.get(id)
    this.handles.delete(id)
    await handle?.close()
    const base = path.join(this.dir, packName(id))
    await fs.rm(base + '.idx', { force: true })
    await fs.rm(base + '.pack', { force: true })
    await syncDir(this.dir)
  }

  private async computeStats (): Promise<StoreStats> {
    let storedBytes = 0
    for (const loc of this.index.values()) storedBytes += loc.length
    let diskBytes = 0
    for (const name of await fs.readdir(this.dir)) {
      const st = await fs.stat(path.join(this.dir, name)).catch(() => null)
      if (st) diskBytes += st.blocks * 512
    }
    return { objects: this.index.size, storedBytes, diskBytes, packs: this.handles.size }
  }
}

async function syncDir (dir: string) {
  const handle = await fs.open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

/** Writes a file atomically and durably: tmp file, fsync, rename, fsync dir. */
export async function writeFileDurable (file: string, data: Uint8Array) {
  const tmp = file + '.tmp'
  const handle = await fs.open(tmp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(tmp, file)
  await syncDir(path.dirname(file))
}
