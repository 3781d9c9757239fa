/**
 * Trees as deltas. A joiner that already holds a tree at the same path (an
 * earlier commit of the workspace it follows, or another local workspace)
 * sends, with its request, a sketch of that tree: 4 bytes of BLAKE3 per entry.
 * The sender answers with the wanted tree's entries, each either the index of
 * an identical entry in the sketch or the entry's bytes. With scattered edits
 * most entries of a directory are unchanged, so a 100-entry listing with five
 * changed files crosses as ~100 index bytes and five entries instead of ~6 KiB.
 *
 * The requester learns nothing it may not read anyway (the whole tree), and
 * trusts nothing: the rebuilt tree is checked against its hash like any object.
 * A fingerprint collision only makes that check fail, and the tree is then
 * asked for whole. The sender learns, as from git's "have" lines, 4 bytes per
 * entry of the requester's base: enough to test for an entry it already knows
 * exactly, nothing about the others.
 */
import { hash as blake3 } from '../../core/index.js'
import { messages as manifestMessages } from '../../manifests/index.js'
import { FINGERPRINT_BYTES, MAX_OBJECT_BYTES, MAX_SKETCH_ENTRIES, type TreeDelta } from '../messages.js'

const { splitTree, joinTree } = manifestMessages

/** Trees with more entries than this are always sent whole. */
export const MAX_DELTA_ENTRIES = 4 * MAX_SKETCH_ENTRIES

function fingerprint (entry: Buffer): number {
  return blake3(entry).readUInt32LE(0)
}

/** The sketch of a tree's entries (null: too many entries to offer as a base). */
export function sketchOf (entries: Buffer[]): Buffer | null {
  if (entries.length === 0 || entries.length > MAX_SKETCH_ENTRIES) return null
  const out = Buffer.allocUnsafe(entries.length * FINGERPRINT_BYTES)
  for (let i = 0; i < entries.length; i++) out.writeUInt32LE(fingerprint(entries[i]), i * FINGERPRINT_BYTES)
  return out
}

/**
 * `tree` (a tree object's bytes) as a delta against `sketch`; null when the
 * object is not a tree or the delta would not be smaller than the tree.
 */
export function makeDelta (hash: Buffer, tree: Buffer, sketch: Buffer): TreeDelta | null {
  let parts
  try {
    parts = splitTree(tree)
  } catch {
    return null
  }
  // fingerprinting costs a hash per entry: huge listings go whole (bounds what one request costs the sender)
  if (parts.entries.length > MAX_DELTA_ENTRIES) return null
  const index = new Map<number, number>()
  for (let i = sketch.byteLength / FINGERPRINT_BYTES - 1; i >= 0; i--) index.set(sketch.readUInt32LE(i * FINGERPRINT_BYTES), i)
  const out: Array<number | Buffer> = new Array(parts.entries.length)
  let bytes = parts.head.byteLength + 40
  for (let i = 0; i < parts.entries.length; i++) {
    const e = parts.entries[i]
    const k = index.get(fingerprint(e))
    if (k !== undefined) { out[i] = k; bytes += k + 1 <= 0xfc ? 1 : 3 } else { out[i] = e; bytes += e.byteLength + 4 }
  }
  if (bytes >= tree.byteLength) return null
  return { hash, head: parts.head, parts: out }
}

/**
 * Rebuilds the tree a delta describes from the base entries its sketch was made
 * of. Throws when the delta names an entry the sketch did not have or grows past
 * the object size bound (a protocol violation); the caller checks the hash.
 */
export function applyDelta (delta: TreeDelta, base: Buffer[]): Buffer {
  const entries: Buffer[] = new Array(delta.parts.length)
  let bytes = delta.head.byteLength
  for (let i = 0; i < delta.parts.length; i++) {
    const p = delta.parts[i]
    const e = typeof p === 'number' ? base[p] : p
    if (e === undefined) throw new Error(`tree delta names entry ${p as number} of a ${base.length}-entry sketch`)
    bytes += e.byteLength
    if (bytes > MAX_OBJECT_BYTES) throw new Error(`tree delta rebuilds more than ${MAX_OBJECT_BYTES} bytes`)
    entries[i] = e
  }
  return joinTree({ head: delta.head, entries })
}

/** A local tree's entries, to offer as a base (null if it is not a readable tree). */
export function baseEntries (tree: Buffer | null): Buffer[] | null {
  if (tree === null) return null
  try {
    const { entries } = splitTree(tree)
    return entries.length > 0 && entries.length <= MAX_SKETCH_ENTRIES ? entries : null
  } catch {
    return null
  }
}
