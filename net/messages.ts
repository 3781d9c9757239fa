/**
 * Every byte layout net/ puts on the wire or on disk, in one place.
 *
 * Object protocol: one Protomux channel per (connection, workspace), protocol
 * `wxs/objects`, channel id = the workspace's discovery key (public: it is what
 * the DHT announces). The channel handshake carries a capability, a keyed hash
 * of the Noise handshake hash and the workspace key: only a peer that holds the
 * key can compute it, and it is bound to this one connection, so it cannot be
 * replayed (as Hypercore binds its replication to the same handshake).
 *
 * Messages, in channel order (Protomux numbers them by addMessage order):
 *   0 status   what the sender holds of this workspace
 *   1 request  object hashes wanted (batched, at most MAX_REQUEST_HASHES)
 *   2 objects  objects sent in answer (each verified by BLAKE3 on arrival)
 *   3 missing  requested hashes the sender cannot serve
 *   4 trees    trees wanted, each with a sketch of a tree the sender already
 *              holds at the same path (a fingerprint per entry)
 *   5 deltas   trees sent in answer to 4, as entries named by their index in
 *              that sketch plus the entries the sketch lacks; the receiver
 *              rebuilds the tree and checks its BLAKE3 like any object (a tree
 *              a delta does not shrink is sent whole, as 2)
 *   6 moved    keys of logs that continue this one (a resume elsewhere: see
 *              manifests/messages.ts, PauseRecord). Sent on open by whoever
 *              knows of one; the receiver verifies each key against the log
 *              (prologue and handoff signature) before trusting it. Peers of
 *              protocol 2 without it ignore the message (Protomux drops
 *              message types a channel does not define), so the version stays.
 * Every decoder bounds what it allocates: counts and sizes from peers are
 * checked before anything is read.
 *
 * Disk: `$WXS_HOME/net.json` (network settings and shared workspaces), JSON,
 * versioned, validated by parseNetState; `$WXS_HOME/peer.key`, the seed of
 * this machine's peer identity (parsePeerSeed).
 */
import c from 'compact-encoding'
import { hash as hashOf } from 'hypercore-crypto'

export const PROTOCOL = 'wxs/objects'
export const PROTOCOL_VERSION = 2
export const CAPABILITY_NAMESPACE = 'wxs/objects/capability/v1'

export const MAX_REQUEST_HASHES = 1024
export const MAX_BATCH_OBJECTS = 1024
/** Trees per tree request (4) and per delta batch (5). */
export const MAX_TREE_REQUESTS = 256
/** Bytes of one entry fingerprint in a sketch (a collision only costs a refetch: the rebuilt tree fails its hash). */
export const FINGERPRINT_BYTES = 4
/** Entries a sketch may name; bigger base trees are not offered. */
export const MAX_SKETCH_ENTRIES = 16_384
/** Sketch bytes in one tree request message (what a peer can make the sender index at once). */
export const MAX_SKETCH_BYTES_PER_MESSAGE = 1024 * 1024
/** Largest object a peer may send: a chunk is 1 MiB; trees of huge directories can be larger. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024

export interface Handshake { version: number, capability: Buffer | null }

/**
 * The channel handshake. An unknown version decodes (capability null) instead
 * of throwing: a throw inside Protomux would tear down the whole connection,
 * log replication of every other workspace included; the channel closes instead.
 */
export const handshake = {
  preencode (state: c.State, m: Handshake) { c.uint.preencode(state, m.version); c.fixed32.preencode(state, m.capability!) },
  encode (state: c.State, m: Handshake) { c.uint.encode(state, m.version); c.fixed32.encode(state, m.capability!) },
  decode (state: c.State): Handshake {
    const version = c.uint.decode(state)
    if (version !== PROTOCOL_VERSION) { state.start = state.end; return { version, capability: null } }
    return { version, capability: c.fixed32.decode(state) as Buffer }
  }
}

/** What a peer holds: its log length, how many objects of the workspace it has, whether it has all of the head. */
export interface Status { length: number, objects: number, complete: boolean }

export const status = {
  preencode (state: c.State, m: Status) { c.uint.preencode(state, m.length); c.uint.preencode(state, m.objects); state.end += 1 },
  encode (state: c.State, m: Status) { c.uint.encode(state, m.length); c.uint.encode(state, m.objects); c.uint8.encode(state, m.complete ? 1 : 0) },
  decode (state: c.State): Status {
    return { length: c.uint.decode(state), objects: c.uint.decode(state), complete: c.uint8.decode(state) === 1 }
  }
}

/** An array whose decoder refuses more than `max` items before allocating anything. */
function bounded<T> (item: { preencode (s: c.State, v: T): void, encode (s: c.State, v: T): void, decode (s: c.State): T }, max: number, what: string) {
  return {
    preencode (state: c.State, list: T[]) { c.uint.preencode(state, list.length); for (const v of list) item.preencode(state, v) },
    encode (state: c.State, list: T[]) { c.uint.encode(state, list.length); for (const v of list) item.encode(state, v) },
    decode (state: c.State): T[] {
      const n = c.uint.decode(state)
      if (n > max) throw new Error(`${what}: ${n} items, at most ${max} allowed`)
      const out: T[] = new Array(n)
      for (let i = 0; i < n; i++) out[i] = item.decode(state)
      return out
    }
  }
}

/**
 * A length-prefixed byte string whose length is checked before anything is
 * sliced: at most `max` bytes, a whole number of `unit`-byte items. Zero length
 * decodes as an empty buffer.
 */
function boundedBytes (state: c.State, max: number, what: string, unit = 1): Buffer {
  const start = state.start
  const len = c.uint.decode(state)
  if (len > max || len % unit !== 0) throw new Error(`${what} of ${len} bytes, at most ${max}${unit > 1 ? ` in ${unit}-byte items` : ''} allowed`)
  state.start = start
  return (c.buffer.decode(state) as Buffer | null) ?? Buffer.alloc(0)
}

/** Logs named in one `moved` message: two means a conflict; more only costs the receiver checks. */
export const MAX_MOVED_KEYS = 8

/** The keys of logs continuing this one (6). */
export const movedKeys = bounded<Buffer>(c.fixed32 as any, MAX_MOVED_KEYS, 'moved keys')

/** A list of object hashes (request, missing). */
export const hashList = bounded<Buffer>(c.fixed32 as any, MAX_REQUEST_HASHES, 'hash list')

export interface ObjectItem { hash: Buffer, data: Buffer }

/**
 * A hash followed by bounded bytes under `field` (an object, a sketch): the one
 * item shape both the object batch and the tree request use.
 */
function hashAnd<K extends string> (field: K, max: number, what: string, opts: { unit?: number, nonEmpty?: boolean } = {}) {
  type Item = { hash: Buffer } & Record<K, Buffer>
  return {
    preencode (state: c.State, m: Item) { c.fixed32.preencode(state, m.hash); c.buffer.preencode(state, m[field]) },
    encode (state: c.State, m: Item) { c.fixed32.encode(state, m.hash); c.buffer.encode(state, m[field]) },
    decode (state: c.State): Item {
      const hash = c.fixed32.decode(state) as Buffer
      const bytes = boundedBytes(state, max, what, opts.unit)
      if (opts.nonEmpty && bytes.byteLength === 0) throw new Error(`${what} without data`)
      return { hash, [field]: bytes } as Item
    }
  }
}

const objectItem = hashAnd('data', MAX_OBJECT_BYTES, 'object', { nonEmpty: true })

export const objectBatch = bounded<ObjectItem>(objectItem, MAX_BATCH_OBJECTS, 'object batch')

/** A tree wanted (4): its hash, and the fingerprints of the entries of a tree the requester holds. */
export interface TreeRequest { hash: Buffer, sketch: Buffer }

const treeRequestItem = hashAnd('sketch', MAX_SKETCH_ENTRIES * FINGERPRINT_BYTES, 'sketch', { unit: FINGERPRINT_BYTES })

const treeRequestList = bounded<TreeRequest>(treeRequestItem, MAX_TREE_REQUESTS, 'tree request')

/** At most MAX_TREE_REQUESTS trees and MAX_SKETCH_BYTES_PER_MESSAGE of sketches a message. */
export const treeRequests = {
  preencode: treeRequestList.preencode,
  encode: treeRequestList.encode,
  decode (state: c.State): TreeRequest[] {
    const list = treeRequestList.decode(state)
    let bytes = 0
    for (const r of list) bytes += r.sketch.byteLength
    if (bytes > MAX_SKETCH_BYTES_PER_MESSAGE) throw new Error(`tree request with ${bytes} bytes of sketches, at most ${MAX_SKETCH_BYTES_PER_MESSAGE} allowed`)
    return list
  }
}

/**
 * A tree sent as a delta (5). `parts` rebuild its entries in order: a number k
 * is the entry at index k of the requester's sketch, a buffer is an entry's
 * bytes. On the wire a part is a uint: 0 then a literal entry, or k + 1.
 */
export interface TreeDelta { hash: Buffer, head: Buffer, parts: Array<number | Buffer> }

const MAX_TREE_HEAD_BYTES = 32

const treeDeltaItem = {
  preencode (state: c.State, m: TreeDelta) {
    c.fixed32.preencode(state, m.hash); c.buffer.preencode(state, m.head); c.uint.preencode(state, m.parts.length)
    for (const p of m.parts) {
      if (typeof p === 'number') c.uint.preencode(state, p + 1)
      else { state.end += 1; c.buffer.preencode(state, p) }
    }
  },
  encode (state: c.State, m: TreeDelta) {
    c.fixed32.encode(state, m.hash); c.buffer.encode(state, m.head); c.uint.encode(state, m.parts.length)
    for (const p of m.parts) {
      if (typeof p === 'number') c.uint.encode(state, p + 1)
      else { c.uint.encode(state, 0); c.buffer.encode(state, p) }
    }
  },
  decode (state: c.State): TreeDelta {
    const hash = c.fixed32.decode(state) as Buffer
    const head = boundedBytes(state, MAX_TREE_HEAD_BYTES, 'tree delta head')
    if (head.byteLength === 0) throw new Error('tree delta without a head')
    const n = c.uint.decode(state)
    // every part takes at least one byte: a count the message cannot hold is refused before allocating
    if (n > state.end - state.start) throw new Error(`tree delta of ${n} parts in ${state.end - state.start} bytes`)
    const parts: Array<number | Buffer> = new Array(n)
    let literalBytes = 0
    for (let i = 0; i < n; i++) {
      const k = c.uint.decode(state)
      if (k > 0) { parts[i] = k - 1; continue }
      const entry = boundedBytes(state, MAX_OBJECT_BYTES - literalBytes, 'tree delta entry')
      if (entry.byteLength === 0) throw new Error('empty literal entry in a tree delta')
      literalBytes += entry.byteLength
      parts[i] = entry
    }
    return { hash, head, parts }
  }
}

export const treeDeltas = bounded<TreeDelta>(treeDeltaItem, MAX_TREE_REQUESTS, 'tree delta batch')

/** Bytes `value` takes in `encoding` (message payload, without Protomux framing). */
export function encodedBytes<T> (encoding: { preencode (s: c.State, v: T): void }, value: T): number {
  const state = { start: 0, end: 0, buffer: null }
  encoding.preencode(state as unknown as c.State, value)
  return state.end
}

/** Bytes a delta takes on the wire (what `wxs peers` counts as received for it). */
export function treeDeltaBytes (m: TreeDelta): number {
  return encodedBytes(treeDeltaItem, m)
}

// -- resume links ----------------------------------------------------------------

/**
 * The string `wxs pause` prints: `wxsr1-<log key>-<handoff secret>-<check>`, the
 * key of the paused log and the 32-byte seed of the pause's one-time handoff
 * key, in hex, then 4 bytes of BLAKE2b over both (a mistyped or cut link is
 * refused as malformed instead of looking like a wrong secret). Whoever holds
 * it can resume the workspace once: treat it as a password.
 */
export const RESUME_LINK_PREFIX = 'wxsr1'

export interface ResumeLink { key: Buffer, secret: Buffer }

export function formatResumeLink (link: ResumeLink): string {
  return [RESUME_LINK_PREFIX, link.key.toString('hex'), link.secret.toString('hex'), resumeLinkCheck(link)].join('-')
}

/** Parses a link; throws an Error saying what is wrong with it (the caller names the error). */
export function decodeResumeLink (input: string): ResumeLink {
  const parts = input.trim().split('-')
  if (parts[0] !== RESUME_LINK_PREFIX) throw new Error(`it does not start with "${RESUME_LINK_PREFIX}-"`)
  if (parts.length !== 4) throw new Error(`${parts.length} parts, 4 expected`)
  const [, keyHex, secretHex, check] = parts
  if (!/^[0-9a-f]{64}$/i.test(keyHex) || !/^[0-9a-f]{64}$/i.test(secretHex) || !/^[0-9a-f]{8}$/i.test(check)) throw new Error('a part is not the right length of hex')
  const link = { key: Buffer.from(keyHex, 'hex'), secret: Buffer.from(secretHex, 'hex') }
  if (resumeLinkCheck(link) !== check.toLowerCase()) throw new Error('its checksum does not match (a character was changed or lost)')
  return link
}

function resumeLinkCheck (link: ResumeLink): string {
  return hashOf([Buffer.from(RESUME_LINK_PREFIX), link.key, link.secret]).subarray(0, 4).toString('hex')
}

// -- disk --------------------------------------------------------------------

export const NET_STATE_VERSION = 1

/** `$WXS_HOME/net.json`: the swarm settings a daemon restarts with, and what it shares. */
export interface NetState {
  version: number
  /** Bootstrap nodes as host:port; null = the public Hyperswarm bootstrap nodes. */
  bootstrap: string[] | null
  /** Address the DHT binds to; null = chosen from the bootstrap list. */
  host: string | null
  /** Names of workspaces this daemon announces. Joined workspaces always follow. */
  shared: string[]
  /** Joined workspaces fetched on demand only (no background prefetch; wxs sync fetches all). */
  lazy: string[]
}

export function emptyNetState (): NetState {
  return { version: NET_STATE_VERSION, bootstrap: null, host: null, shared: [], lazy: [] }
}

export function parseNetState (text: string): NetState {
  let v
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new Error(`net.json: not JSON (${(err as Error).message})`)
  }
  if (v === null || typeof v !== 'object' || v.version !== NET_STATE_VERSION) throw new Error(`net.json: unsupported version ${v?.version}`)
  const strings = (x: unknown) => Array.isArray(x) && x.every(s => typeof s === 'string')
  if (v.bootstrap !== null && (!strings(v.bootstrap) || v.bootstrap.length === 0)) throw new Error('net.json: bootstrap must be a non-empty list of host:port, or null')
  if (v.host !== null && typeof v.host !== 'string') throw new Error('net.json: host must be a string or null')
  if (!strings(v.shared)) throw new Error('net.json: shared must be a list of names')
  if (v.lazy !== undefined && !strings(v.lazy)) throw new Error('net.json: lazy must be a list of names')
  return { version: v.version, bootstrap: v.bootstrap, host: v.host, shared: v.shared, lazy: v.lazy ?? [] }
}

export function formatNetState (s: NetState): string {
  return JSON.stringify(s, null, 2) + '\n'
}

/**
 * `$WXS_HOME/peer.key`: 32 raw bytes, owner-only, the seed of this machine's
 * key pair on the swarm (its Noise static key, what other peers see as its id).
 * Kept across restarts so a peer can be named the next day (`wxs pause --wait
 * <peer>`, `wxs peers`); made on first use. Any other length is refused (a new
 * seed would silently change this machine's identity).
 */
export const PEER_SEED_BYTES = 32

export function parsePeerSeed (data: Buffer): Buffer {
  if (data.length !== PEER_SEED_BYTES) throw new Error(`peer.key: ${data.length} bytes, expected ${PEER_SEED_BYTES}`)
  return data
}
