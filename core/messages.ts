/**
 * Every byte layout core/ writes to disk, in one place.
 *
 * Pack segment (`objects/pack-NNNNNN.pack`): an 8-byte header, then records
 * `{ hash: 32 bytes, length: u32 }` followed by `length` bytes of object data.
 * The fixed-size record header lets a segment be scanned (and every record
 * verified) without an index, which is how an unsealed segment is recovered.
 *
 * Pack index (`objects/pack-NNNNNN.idx`): written once when a segment is sealed,
 * after the segment is fsynced; ends with a BLAKE3 checksum of what precedes it.
 */
import c from 'compact-encoding'

export const PACK_MAGIC = 0x70737877 // 'wxsp' little-endian
export const INDEX_MAGIC = 0x69737877 // 'wxsi'
export const PACK_VERSION = 1
export const INDEX_VERSION = 1
export const PACK_HEADER_BYTES = 8
export const RECORD_HEADER_BYTES = 36

export interface PackHeader { magic: number, version: number }

export const packHeader = {
  preencode (state: c.State, m: PackHeader) { state.end += PACK_HEADER_BYTES },
  encode (state: c.State, m: PackHeader) {
    c.uint32.encode(state, m.magic)
    c.uint8.encode(state, m.version)
    c.uint24.encode(state, 0)
  },
  decode (state: c.State): PackHeader {
    const magic = c.uint32.decode(state)
    const version = c.uint8.decode(state)
    c.uint24.decode(state)
    return { magic, version }
  }
}

export interface RecordHeader { hash: Buffer, length: number }

export const recordHeader = {
  preencode (state: c.State, m: RecordHeader) { state.end += RECORD_HEADER_BYTES },
  encode (state: c.State, m: RecordHeader) {
    c.fixed32.encode(state, m.hash)
    c.uint32.encode(state, m.length)
  },
  decode (state: c.State): RecordHeader {
    return { hash: c.fixed32.decode(state) as Buffer, length: c.uint32.decode(state) }
  }
}

export interface IndexEntry { hash: Buffer, offset: number, length: number }

const indexEntry = {
  preencode (state: c.State, m: IndexEntry) {
    c.fixed32.preencode(state, m.hash)
    c.uint.preencode(state, m.offset)
    c.uint.preencode(state, m.length)
  },
  encode (state: c.State, m: IndexEntry) {
    c.fixed32.encode(state, m.hash)
    c.uint.encode(state, m.offset)
    c.uint.encode(state, m.length)
  },
  decode (state: c.State): IndexEntry {
    return { hash: c.fixed32.decode(state) as Buffer, offset: c.uint.decode(state), length: c.uint.decode(state) }
  }
}

export interface PackIndex { version: number, packId: number, packBytes: number, entries: IndexEntry[] }

const entryArray = c.array(indexEntry)

/** Body of an index file; the file is `body || blake3(body)`. */
export const packIndex = {
  preencode (state: c.State, m: PackIndex) {
    c.uint32.preencode(state, INDEX_MAGIC)
    c.uint.preencode(state, m.version)
    c.uint.preencode(state, m.packId)
    c.uint.preencode(state, m.packBytes)
    entryArray.preencode(state, m.entries)
  },
  encode (state: c.State, m: PackIndex) {
    c.uint32.encode(state, INDEX_MAGIC)
    c.uint.encode(state, m.version)
    c.uint.encode(state, m.packId)
    c.uint.encode(state, m.packBytes)
    entryArray.encode(state, m.entries)
  },
  decode (state: c.State): PackIndex {
    const magic = c.uint32.decode(state)
    if (magic !== INDEX_MAGIC) throw new Error('bad index magic')
    const version = c.uint.decode(state)
    if (version !== INDEX_VERSION) throw new Error(`unsupported index version ${version}`)
    return { version, packId: c.uint.decode(state), packBytes: c.uint.decode(state), entries: entryArray.decode(state) }
  }
}
