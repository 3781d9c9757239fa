/**
 * Trees as CAS objects: encode/store, and load/decode/validate with an LRU of
 * decoded trees (lookups must not hit storage on hot paths).
 */
import c from 'compact-encoding'
import { hash as blake3, nameByteLength, toHex, CHUNK_SIZE, CoreError, type PackStore } from '../../core/index.js'
import { tree as treeEncoding, subtreeHashes, DIR, FILE, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, MAX_TARGET_BYTES, MAX_XATTR_NAME_BYTES, MAX_XATTR_VALUE_BYTES, MAX_XATTR_TOTAL_BYTES, type Entry, type Tree } from '../messages.js'
import { ManifestError } from './errors.js'
import { isSafeComponent } from './names.js'

export const EMPTY_TREE: Tree = { entries: [] }

export function encodeTree (t: Tree): Buffer {
  return c.encode(treeEncoding, t) as Buffer
}

export function compareNames (a: Entry, b: Entry) {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/** Checks a decoded tree is well formed: sorted unique safe names, sane fields. */
export function validateTree (t: Tree): boolean {
  for (let i = 0; i < t.entries.length; i++) {
    const e = t.entries[i]
    if (!isSafeComponent(e.name)) return false
    if (i > 0 && compareNames(t.entries[i - 1], e) >= 0) return false
    if (e.type === DIR && e.tree === null) return false
    if (e.type === SYMLINK && (e.target === null || nameByteLength(e.target) > MAX_TARGET_BYTES || e.target.includes('\0'))) return false
    if (e.type === FILE && e.chunks.length !== Math.ceil(e.size / CHUNK_SIZE)) return false
    if (e.type > SYMLINK && e.size !== 0) return false
    if ((e.rdev !== undefined) !== (e.type === CHAR_DEVICE || e.type === BLOCK_DEVICE)) return false
    if (e.mode > 0o7777) return false
    if (e.link !== undefined && (e.type !== FILE || e.link.nlink < 1)) return false
    if (e.xattrs !== undefined && !validXattrs(e.xattrs)) return false
  }
  return true
}

/** Sorted unique names within ext4's limits. */
function validXattrs (xs: NonNullable<Entry['xattrs']>): boolean {
  let total = 0
  for (let i = 0; i < xs.length; i++) {
    const n = Buffer.byteLength(xs[i].name)
    if (n === 0 || n > MAX_XATTR_NAME_BYTES || xs[i].name.includes('\0') || xs[i].value.byteLength > MAX_XATTR_VALUE_BYTES) return false
    if (i > 0 && xs[i - 1].name >= xs[i].name) return false
    total += n + xs[i].value.byteLength
  }
  return total <= MAX_XATTR_TOTAL_BYTES
}

export class TreeStore {
  readonly store: PackStore
  private readonly cache = new Map<string, Tree>()
  private readonly maxCached: number

  constructor (store: PackStore, opts: { maxCached?: number } = {}) {
    this.store = store
    this.maxCached = opts.maxCached ?? 50_000
  }

  async put (t: Tree): Promise<Buffer> {
    const bytes = encodeTree(t)
    const h = blake3(bytes)
    const hex = toHex(h)
    await this.store.putHashed(hex, h, bytes)
    this.remember(hex, t)
    return h
  }

  /**
   * Loads a tree; verifies its hash and structure. Throws CoreError if missing/corrupt, ManifestError.BAD_TREE if malformed.
   * With `local`, a tree that is not in the local store is not asked of the network (gc, fsck, serving peers).
   */
  async get (h: Uint8Array | string, opts: { local?: boolean } = {}): Promise<Tree> {
    const hex = typeof h === 'string' ? h : toHex(h)
    const hit = this.cache.get(hex)
    if (hit !== undefined) {
      this.cache.delete(hex)
      this.cache.set(hex, hit)
      return hit
    }
    if (opts.local && !this.store.hasHex(hex)) throw CoreError.OBJECT_NOT_FOUND(hex)
    const bytes = await this.store.get(hex)
    let t: Tree
    try {
      t = c.decode(treeEncoding, bytes)
    } catch (err) {
      throw ManifestError.BAD_TREE(hex, err)
    }
    if (!validateTree(t)) throw ManifestError.BAD_TREE(hex)
    this.remember(hex, t)
    return t
  }

  /** The hashes of a tree's subdirectories' trees (see subtreeHashes); from the cache when it is decoded there. */
  async subtrees (h: Uint8Array | string, opts: { local?: boolean } = {}): Promise<Buffer[]> {
    const hex = typeof h === 'string' ? h : toHex(h)
    const hit = this.cache.get(hex)
    if (hit !== undefined) return hit.entries.filter(e => e.type === DIR).map(e => e.tree!)
    if (opts.local && !this.store.hasHex(hex)) throw CoreError.OBJECT_NOT_FOUND(hex)
    const bytes = await this.store.get(hex)
    try {
      return subtreeHashes(bytes)
    } catch (err) {
      throw ManifestError.BAD_TREE(hex, err)
    }
  }

  /**
   * Caches tree `hex` from bytes the caller has already verified against the hash
   * (a fetched object), sparing a read back from the packs. Bytes that do not
   * decode to a valid tree are ignored: get() reports them as BAD_TREE.
   */
  admit (hex: string, bytes: Buffer) {
    if (this.cache.has(hex)) return
    let t: Tree
    try {
      t = c.decode(treeEncoding, bytes)
    } catch {
      return
    }
    if (validateTree(t)) this.remember(hex, t)
  }

  private remember (hex: string, t: Tree) {
    this.cache.set(hex, t)
    if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!)
  }
}
