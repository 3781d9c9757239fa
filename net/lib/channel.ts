/**
 * One object channel: a Protomux channel for one workspace on one connection.
 * Opens with a capability proof (net/lib/capability.ts); until the remote's
 * proof checks out nothing is served or accepted. Serves only objects the
 * workspace reaches and holds locally (trees asked for with a sketch as deltas
 * when that is smaller); hands what it receives to the downloader, which
 * verifies it.
 */
import Protomux, { type Channel } from 'protomux'
import { toHex } from '../../core/index.js'
import { PROTOCOL, PROTOCOL_VERSION, handshake, status as statusEncoding, hashList, objectBatch, treeRequests, treeDeltas, treeDeltaBytes, movedKeys, MAX_MOVED_KEYS, encodedBytes, MAX_BATCH_OBJECTS, MAX_TREE_REQUESTS, type Status, type ObjectItem, type TreeDelta, type TreeRequest } from '../messages.js'
import { makeDelta } from './tree-delta.js'
import { capability, verifyCapability } from './capability.js'
import { TREE, type Peer, type Want } from './downloader.js'
import type { Session } from './session.js'

/** Answer batches are cut at this many bytes (a 1 MiB chunk goes alone). */
const BATCH_BYTES = 1024 * 1024
/** How long an object we reach but lack is looked for among our other peers before we answer missing. */
const RELAY_TIMEOUT_MS = 8_000

export interface Connection {
  handshakeHash: Buffer
  isInitiator: boolean
  remotePublicKey: Buffer
  rawStream?: { remoteHost?: string, remotePort?: number }
  on (event: string, fn: (...args: any[]) => void): unknown
}

export class ObjectChannel implements Peer {
  readonly id: string
  readonly session: Session
  readonly conn: Connection
  readonly inflight = new Map<string, Want>()
  readonly expired = new Set<string>()
  inflightBytes = 0
  lastHeard = Date.now()
  readonly received = { objects: 0, bytes: 0 }
  readonly sent = { objects: 0, bytes: 0 }
  /** What we asked this peer for: objects, and the bytes the requests took (hashes, tree sketches). */
  readonly requested = { objects: 0, bytes: 0 }
  remoteStatus: Status | null = null
  verified = false
  closed = false
  private readonly channel: Channel
  private readonly messages: {
    status: { send (m: Status): boolean }
    request: { send (m: Buffer[]): boolean }
    objects: { send (m: ObjectItem[]): boolean }
    missing: { send (m: Buffer[]): boolean }
    trees: { send (m: TreeRequest[]): boolean }
    deltas: { send (m: TreeDelta[]): boolean }
    moved: { send (m: Buffer[]): boolean }
  }
  private serving: Promise<void> = Promise.resolve()
  private relayQueue: Array<{ h: Buffer, got: boolean }> = []
  private readonly openedAt = Date.now()

  constructor (session: Session, conn: Connection, mux: Protomux) {
    this.session = session
    this.conn = conn
    this.id = toHex(conn.remotePublicKey)
    const ch = mux.createChannel({
      protocol: PROTOCOL,
      id: session.discoveryKey,
      unique: true,
      handshake,
      onopen: (hs: { version: number, capability: Buffer | null }) => this.onOpen(hs),
      onclose: () => this.onClose()
    })
    if (ch === null) throw new Error('object channel already open on this connection')
    this.channel = ch
    this.messages = {
      status: ch.addMessage({ encoding: statusEncoding, onmessage: (m: Status) => { this.remoteStatus = m; this.lastHeard = Date.now() } }),
      request: ch.addMessage({ encoding: hashList, onmessage: (m: Buffer[]) => this.onRequest(m) }),
      objects: ch.addMessage({ encoding: objectBatch, onmessage: (m: ObjectItem[]) => this.onObjects(m) }),
      missing: ch.addMessage({ encoding: hashList, onmessage: (m: Buffer[]) => this.onMissing(m) }),
      trees: ch.addMessage({ encoding: treeRequests, onmessage: (m: TreeRequest[]) => this.onRequest(m) }),
      deltas: ch.addMessage({ encoding: treeDeltas, onmessage: (m: TreeDelta[]) => this.onDeltas(m) }),
      moved: ch.addMessage({ encoding: movedKeys, onmessage: (m: Buffer[]) => { if (this.verified) this.session.movedHeard(m, this) } })
    }
    ch.open({ version: PROTOCOL_VERSION, capability: capability(conn.handshakeHash, session.key, conn.isInitiator) })
  }

  get address (): string {
    const raw = this.conn.rawStream
    return raw?.remoteHost ? `${raw.remoteHost}:${raw.remotePort}` : ''
  }

  get connectedMs () { return Date.now() - this.openedAt }

  reaches (hex: string) { return this.session.reachable.has(hex) }

  request (hashes: Buffer[]) {
    if (!this.verified || this.closed) return
    this.requested.objects += hashes.length
    this.requested.bytes += encodedBytes(hashList, hashes)
    this.messages.request.send(hashes)
  }

  requestTrees (items: TreeRequest[]) {
    if (!this.verified || this.closed) return
    this.requested.objects += items.length
    this.requested.bytes += encodedBytes(treeRequests, items)
    this.messages.trees.send(items)
  }

  sendMoved (keys: Buffer[]) {
    if (this.verified && !this.closed && keys.length > 0) this.messages.moved.send(keys.slice(0, MAX_MOVED_KEYS))
  }

  sendStatus (s: Status) {
    if (this.verified && !this.closed) this.messages.status.send(s)
  }

  drop (reason: string) {
    if (this.closed) return
    this.session.log(`closing object channel to ${this.id.slice(0, 12)}: ${reason}`)
    this.session.ban(this.id)
    this.channel.close()
  }

  close () {
    if (!this.closed) this.channel.close()
  }

  private onOpen (hs: { version: number, capability: Buffer | null }) {
    if (hs.version !== PROTOCOL_VERSION) {
      this.session.log(`peer ${this.id.slice(0, 12)} speaks object protocol version ${hs.version}, not ${PROTOCOL_VERSION}: channel closed`)
      this.channel.close()
      return
    }
    if (!verifyCapability(hs.capability, this.conn.handshakeHash, this.session.key, !this.conn.isInitiator)) {
      this.session.log(`peer ${this.id.slice(0, 12)} opened ${this.session.name} without the key: refused`)
      this.channel.close()
      return
    }
    if (this.session.isBanned(this.id)) { this.channel.close(); return }
    this.verified = true
    this.session.peerOpened(this)
  }

  private onClose () {
    if (this.closed) return
    this.closed = true
    this.verified = false
    this.session.peerClosed(this)
  }

  private onRequest (wanted: Buffer[] | TreeRequest[]) {
    if (!this.verified) return
    this.lastHeard = Date.now()
    this.serving = this.serving.then(() => this.serve(wanted)).catch(err => this.session.log(`serving ${this.id.slice(0, 12)} failed: ${err?.message ?? err}`))
  }

  /**
   * Answers one request: objects this workspace reaches and we hold, batched; the
   * rest as missing. Objects are read synchronously from the local packs (page
   * cache: an awaited thread-pool read per object made serving the bottleneck of
   * a sync); the loop yields between batches so a request of large objects never
   * holds the event loop for more than one batch.
   */
  private async serve (wanted: Buffer[] | TreeRequest[]) {
    const store = this.session.store
    let batch: ObjectItem[] = []
    let deltas: TreeDelta[] = []
    let batchBytes = 0
    const missing: Buffer[] = []
    const relay: Buffer[] = []
    let settled = false
    const send = async () => {
      if (batch.length > 0) this.messages.objects.send(batch)
      if (deltas.length > 0) this.messages.deltas.send(deltas)
      batch = []
      deltas = []
      batchBytes = 0
      await new Promise(resolve => setImmediate(resolve))
    }
    for (const w of wanted) {
      if (this.closed) return
      const h = Buffer.isBuffer(w) ? w : w.hash
      const hex = toHex(h)
      let data: Buffer | null = null
      let reached = this.session.reachable.has(hex)
      if (!reached && !settled) {
        // a tree we just sent may not be expanded yet: its entries are asked for next
        settled = true
        await this.session.reachable.idle()
        if (this.closed) return
        reached = this.session.reachable.has(hex)
      }
      if (reached) {
        try {
          data = store.getLocalSync(hex) // verified: never pass on a damaged object
        } catch {
          data = null
        }
      }
      if (data === null) { (reached && this.session.relays ? relay : missing).push(h); continue }
      const delta = Buffer.isBuffer(w) || w.sketch.byteLength === 0 ? null : makeDelta(h, data, w.sketch)
      const bytes = delta === null ? data.byteLength : treeDeltaBytes(delta)
      if (batchBytes > 0 && (batchBytes + bytes > BATCH_BYTES || batch.length >= MAX_BATCH_OBJECTS || deltas.length >= MAX_TREE_REQUESTS)) {
        await send()
        if (this.closed) return
      }
      if (delta === null) batch.push({ hash: h, data })
      else deltas.push(delta)
      batchBytes += bytes
      this.sent.objects++
      this.sent.bytes += bytes
    }
    if (batch.length > 0) this.messages.objects.send(batch)
    if (deltas.length > 0) this.messages.deltas.send(deltas)
    if (missing.length > 0) this.messages.missing.send(missing)
    if (relay.length > 0) this.relay(relay)
  }

  /**
   * Objects this workspace reaches that are not here (a fork of a workspace joined
   * lazily, say): fetched from our other peers, then passed on as they arrive
   * (verified on the way in, like any object); missing if none has them within
   * RELAY_TIMEOUT_MS. Not from the peer that asked, which lacks them.
   */
  private relay (hashes: Buffer[]) {
    const downloader = this.session.downloader
    if (!downloader.hasSourceOtherThan(this)) { this.messages.missing.send(hashes); return }
    for (const h of hashes) {
      downloader.want(toHex(h), { hash: h, priority: TREE, exclude: this, signal: AbortSignal.timeout(RELAY_TIMEOUT_MS) })
        .then(() => this.relayed(h, true), () => this.relayed(h, false))
    }
  }

  private relayed (h: Buffer, got: boolean) {
    if (this.closed) return
    this.relayQueue.push({ h, got })
    if (this.relayQueue.length > 1) return
    setImmediate(() => {
      const done = this.relayQueue
      this.relayQueue = []
      let batch: ObjectItem[] = []
      let bytes = 0
      const missing: Buffer[] = []
      for (const { h, got } of done) {
        let data: Buffer | null = null
        try { data = got ? this.session.store.getLocalSync(toHex(h)) : null } catch { data = null }
        if (data === null) { missing.push(h); continue }
        if (batch.length > 0 && (bytes + data.byteLength > BATCH_BYTES || batch.length >= MAX_BATCH_OBJECTS)) { this.messages.objects.send(batch); batch = []; bytes = 0 }
        batch.push({ hash: h, data })
        bytes += data.byteLength
        this.sent.objects++
        this.sent.bytes += data.byteLength
      }
      if (this.closed) return
      if (batch.length > 0) this.messages.objects.send(batch)
      if (missing.length > 0) this.messages.missing.send(missing)
    })
  }

  private onObjects (items: ObjectItem[]) {
    if (!this.verified) return
    this.session.downloader.onObjects(this, items).catch(err => this.session.log(`storing objects from ${this.id.slice(0, 12)} failed: ${err?.message ?? err}`))
  }

  private onDeltas (deltas: TreeDelta[]) {
    if (!this.verified) return
    this.session.downloader.onTreeDeltas(this, deltas).catch(err => this.session.log(`storing trees from ${this.id.slice(0, 12)} failed: ${err?.message ?? err}`))
  }

  private onMissing (hashes: Buffer[]) {
    if (!this.verified) return
    this.session.downloader.onMissing(this, hashes)
  }
}
