// Hostile peers against the real network layer, in process: honest sharers and
// joiners are an Engine + Network; each hostile peer is a raw Hyperswarm +
// Protomux speaking the real wire protocol (net/messages.ts encodings,
// capability() from net/lib/capability.ts, hypercore's own replication
// messages), so what it tries is what a modified client could try.
// Everything runs on a private DHT on 127.0.0.1 (localBootstrap).
import test from 'brittle'
import path from 'node:path'
import fs from 'node:fs/promises'
import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import Protomux from 'protomux'
import Corestore from 'corestore'
import { discoveryKey } from 'hypercore-crypto'
// @ts-ignore -- hypercore's wire encodings and capability derivation (untyped internals)
import hypercoreMessages from 'hypercore/lib/messages.js'
// @ts-ignore
import hypercoreCaps from 'hypercore/lib/caps.js'
import { hash as blake3, toHex } from '../../core/index.js'
import { DIR, FILE, type Engine } from '../../manifests/index.js'
import { Network, parseJoinTarget, capability } from '../../net/index.js'
import * as n from '../../net/messages.js'
import { makeDelta } from '../../net/lib/tree-delta.js'
import { setupEngine, tmpDir, writeTree, compareTrees, randomBuffer, waitFor, sh, type TreeSpec } from '../helpers/index.js'
import { localBootstrap, type LocalBootstrap } from '../helpers/net.js'

const WAIT = 20_000
/** How long a peer that would be answered gets to see an answer (local answers take milliseconds). */
const QUIET_MS = 1000

// -- honest side -------------------------------------------------------------------

interface Node { e: Engine, dir: string, net: Network, logs: string[] }

async function honest (t: any): Promise<Node> {
  const { e, dir } = await setupEngine(t)
  const logs: string[] = []
  const net = new Network({ engine: e, log: line => logs.push(line), env: { WXS_NO_PUBLIC_BOOTSTRAP: '1' } })
  t.teardown(() => net.close(), { order: -1 })
  return { e, dir, net, logs }
}

/** A second Network on the same engine (the first one closed): the sharer coming back online. */
function reopen (t: any, node: Node): Node {
  const net = new Network({ engine: node.e, log: line => node.logs.push(line), env: { WXS_NO_PUBLIC_BOOTSTRAP: '1' } })
  t.teardown(() => net.close(), { order: -1 })
  return { ...node, net }
}

const SOURCE: TreeSpec = {
  'README.md': '# api\n',
  'run.sh': { mode: 0o755, content: '#!/bin/sh\necho run\n' },
  link: { link: 'README.md' },
  src: { 'index.ts': 'export const a = 1\n', lib: { 'util.ts': 'export const b = 2\n', 'big.bin': randomBuffer(2 * 1024 * 1024 + 12_345, 7) } },
  docs: { 'guide.md': 'guide\n'.repeat(1000) }
}

/** A sharer holding `api` (shared) and optionally `secret` (same store, never shared). */
async function sharer (t: any, bootstrap: LocalBootstrap, opts: { secret?: boolean } = {}) {
  const node = await honest(t)
  const src = path.join(node.dir, 'src-api')
  await writeTree(src, SOURCE)
  await node.e.create('api', { from: src })
  if (opts.secret) {
    const secretSrc = path.join(node.dir, 'src-secret')
    await writeTree(secretSrc, { 'credentials.txt': 'the secret workspace, never shared\n', keys: { 'id.key': randomBuffer(3000, 99) } })
    await node.e.create('secret', { from: secretSrc })
  }
  const shared = await node.net.share('api', { bootstrap: bootstrap.bootstrap })
  const key = Buffer.from(shared.key, 'hex')
  return { ...node, src, key, keyHex: shared.key, dk: discoveryKey(key) }
}

/** Every object a workspace's head reaches: its trees and its chunks. */
async function objectsOf (e: Engine, name: string): Promise<{ root: string, trees: string[], chunks: string[] }> {
  const ws = await e.workspace(name)
  const root = toHex(ws.head!.root)
  const trees: string[] = []
  const chunks: string[] = []
  const stack = [root]
  while (stack.length > 0) {
    const hex = stack.pop()!
    trees.push(hex)
    for (const entry of (await e.trees.get(hex)).entries) {
      if (entry.type === DIR) stack.push(toHex(entry.tree!))
      else if (entry.type === FILE) chunks.push(...entry.chunks.map(h => toHex(h)))
    }
  }
  return { root, trees, chunks }
}

function logged (logs: string[], re: RegExp, timeoutMs = WAIT) {
  return waitFor(() => logs.some(l => re.test(l)), timeoutMs, 20)
}

/** Exports the joiner's copy (`api-copy`) and compares it with the source: '' when byte-equal. */
async function exportDiff (j: Node, src: string): Promise<string> {
  const out = path.join(j.dir, 'export')
  await j.e.export('api-copy', out)
  return compareTrees(src, out)
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

// -- hostile side ------------------------------------------------------------------

/** A raw Hyperswarm on the private DHT: whatever runs on its connections is up to the test. */
class Hostile {
  readonly swarm: Hyperswarm
  readonly id: string
  readonly conns = new Set<any>()
  onConnection: (conn: any) => void = () => {}

  constructor (t: any, bootstrap: LocalBootstrap) {
    this.swarm = new Hyperswarm({ dht: new DHT({ bootstrap: [{ host: '127.0.0.1', port: bootstrap.port }], host: '127.0.0.1' }) })
    this.id = toHex(this.swarm.keyPair.publicKey)
    this.swarm.on('connection', (conn: any) => {
      this.conns.add(conn)
      conn.on('error', () => {})
      conn.on('close', () => this.conns.delete(conn))
      this.onConnection(conn)
    })
    t.teardown(() => this.swarm.destroy(), { order: -2 })
  }

  /** Announces and looks up `topic` (all a peer needs is the discovery key). */
  async join (topic: Buffer) {
    await this.swarm.join(topic, { server: true, client: true }).flushed()
  }
}

interface ObjectsRx {
  opened: boolean
  closed: boolean
  status: n.Status[]
  requests: Buffer[][]
  objects: n.ObjectItem[][]
  missing: Buffer[][]
  trees: n.TreeRequest[][]
}

interface RawObjects {
  rx: ObjectsRx
  status (m: n.Status): void
  request (hashes: Buffer[]): void
  objects (items: n.ObjectItem[]): void
  missing (hashes: Buffer[]): void
  deltas (items: n.TreeDelta[]): void
  moved (keys: Buffer[]): void
}

/**
 * Opens the `wxs/objects` channel for `dk` on a connection with the given
 * capability, exactly as net/lib/channel.ts does, but without any of its checks.
 */
function objectChannel (conn: any, dk: Buffer, cap: Buffer, on: { request?: (hashes: Buffer[], ch: RawObjects) => void, trees?: (items: n.TreeRequest[], ch: RawObjects) => void, open?: (ch: RawObjects) => void } = {}): RawObjects {
  const mux = Protomux.from(conn)
  const rx: ObjectsRx = { opened: false, closed: false, status: [], requests: [], objects: [], missing: [], trees: [] }
  const ch = mux.createChannel({
    protocol: n.PROTOCOL,
    id: dk,
    unique: false,
    handshake: n.handshake,
    onopen: () => { rx.opened = true; on.open?.(raw) },
    onclose: () => { rx.closed = true }
  })
  if (ch === null) throw new Error('cannot create the raw object channel')
  const status = ch.addMessage({ encoding: n.status, onmessage: (m: n.Status) => { rx.status.push(m) } })
  const request = ch.addMessage({ encoding: n.hashList, onmessage: (m: Buffer[]) => { rx.requests.push(m); on.request?.(m, raw) } })
  const objects = ch.addMessage({ encoding: n.objectBatch, onmessage: (m: n.ObjectItem[]) => { rx.objects.push(m) } })
  const missing = ch.addMessage({ encoding: n.hashList, onmessage: (m: Buffer[]) => { rx.missing.push(m) } })
  // a peer that does not handle tree requests answers them as plain requests
  ch.addMessage({ encoding: n.treeRequests, onmessage: (m: n.TreeRequest[]) => { rx.trees.push(m); if (on.trees) on.trees(m, raw); else { rx.requests.push(m.map(r => r.hash)); on.request?.(m.map(r => r.hash), raw) } } })
  const deltas = ch.addMessage({ encoding: n.treeDeltas })
  const moved = ch.addMessage({ encoding: n.movedKeys })
  const raw: RawObjects = {
    rx,
    status: m => { status.send(m) },
    request: m => { request.send(m) },
    objects: m => { objects.send(m) },
    missing: m => { missing.send(m) },
    deltas: m => { deltas.send(m) },
    moved: m => { moved.send(m) }
  }
  ch.open({ version: n.PROTOCOL_VERSION, capability: cap })
  return raw
}

/**
 * Opens hypercore's replication channel (`hypercore/alpha`) for a core by its
 * discovery key with the given capability, and asks for block 0 right away.
 */
function hypercoreChannel (conn: any, dk: Buffer, cap: Buffer) {
  const m = hypercoreMessages.wire
  const mux = Protomux.from(conn)
  const rx = { opened: false, closed: false, sync: 0, data: 0, noData: 0 }
  const ch = mux.createChannel({
    protocol: 'hypercore/alpha',
    id: dk,
    unique: false,
    handshake: m.handshake,
    onopen: () => { rx.opened = true },
    onclose: () => { rx.closed = true }
  })
  if (ch === null) throw new Error('cannot create the raw hypercore channel')
  ch.addMessage({ encoding: m.sync, onmessage: () => { rx.sync++ } })
  const request = ch.addMessage({ encoding: m.request })
  ch.addMessage({ encoding: m.cancel })
  ch.addMessage({ encoding: m.data, onmessage: () => { rx.data++ } })
  ch.addMessage({ encoding: m.noData, onmessage: () => { rx.noData++ } })
  ch.open({ seeks: true, capability: cap })
  request.send({ id: 1, fork: 0, block: { index: 0, nodes: 0 }, hash: null, seek: null, upgrade: { start: 0, length: 1 }, manifest: true, priority: 0 })
  return rx
}

/**
 * The object-channel proof an honest peer holding `key` sends on this connection. Passes the
 * sender's role too, so these tests keep working once capability() binds the proof to it.
 */
function proof (conn: any, key: Buffer): Buffer {
  return (capability as (handshakeHash: Buffer, key: Buffer, initiator?: boolean) => Buffer)(conn.handshakeHash, key, conn.isInitiator)
}

/** hypercore's own capability for a connection (what a peer holding `key` sends). */
function hypercoreCapability (conn: any, key: Buffer): Buffer {
  return hypercoreCaps.replicate(conn.isInitiator, key, conn.handshakeHash)
}

function connectionTo (h: Hostile, remoteId: string, timeoutMs = WAIT): Promise<any> {
  return new Promise((resolve, reject) => {
    const found = [...h.conns].find(c => toHex(c.remotePublicKey) === remoteId)
    if (found) { resolve(found); return }
    const timer = setTimeout(() => reject(new Error(`no connection to ${remoteId.slice(0, 12)} within ${timeoutMs} ms`)), timeoutMs)
    h.swarm.on('connection', function onconn (conn: any) {
      if (toHex(conn.remotePublicKey) !== remoteId) return
      clearTimeout(timer)
      h.swarm.off('connection', onconn)
      resolve(conn)
    })
  })
}

const swarmId = (net: Network) => toHex((net as any).swarm.keyPair.publicKey)
const peerIds = (net: Network, name?: string) => net.peers(name).map(p => p.peer)

// -- a. no key -----------------------------------------------------------------------

test('a peer that knows only the discovery key gets no objects and no log blocks', async t => {
  t.timeout(60_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  const { root, trees, chunks } = await objectsOf(s.e, 'api')
  const wsCore = (await s.e.workspace('api')).core

  const h = new Hostile(t, bootstrap)
  let objects: RawObjects | null = null
  let hypercore: ReturnType<typeof hypercoreChannel> | null = null
  let withKey: ReturnType<typeof hypercoreChannel> | null = null
  const sharerId = swarmId(s.net)
  let conn: any = null
  h.onConnection = c => {
    if (toHex(c.remotePublicKey) !== sharerId) return
    conn = c
    // the best it can do for a capability: derive one from what it knows (the discovery key)
    objects = objectChannel(c, s.dk, proof(c, s.dk), {
      open: ch => ch.request([Buffer.from(root, 'hex'), ...chunks.map(x => Buffer.from(x, 'hex'))])
    })
    // and ask before the channel is even open
    objects.request([Buffer.from(root, 'hex'), ...trees.map(x => Buffer.from(x, 'hex'))])
  }
  await h.join(s.dk)
  t.ok(await logged(s.logs, new RegExp(`peer ${h.id.slice(0, 12)} opened api without the key: refused`)), 'the sharer logs the refusal')
  t.ok(await waitFor(() => objects!.rx.closed, WAIT), 'the sharer closed the object channel')
  await sleep(QUIET_MS)
  const rx = objects!.rx
  t.is(rx.objects.length, 0, 'no objects sent')
  t.is(rx.missing.length, 0, 'its requests got no answer, not even "missing"')
  t.is(rx.status.length, 0, 'not even a status')
  t.absent(peerIds(s.net, 'api').includes(h.id), 'not listed as a peer of api')
  t.is(s.net.peers().reduce((sum, p) => sum + p.sent.objects, 0), 0, 'the sharer sent no object to anyone')

  // Corestore replication of a core it makes up: nothing to replicate with
  const store = new Corestore(path.join(await tmpDir(t), 'corestore'))
  t.teardown(() => store.close(), { order: -1 })
  await store.ready()
  store.replicate(conn)
  const invented = store.get({ key: Buffer.alloc(32, 0x42) })
  await invented.ready()
  await sleep(300)
  t.is(invented.peers.length, 0, 'a made-up core finds no replication peer')

  // hypercore's replication channel for the workspace log, by discovery key, with a forged capability
  hypercore = hypercoreChannel(conn, s.dk, hypercoreCapability(conn, s.dk))
  await waitFor(() => conn.destroyed || hypercore!.closed, 5000)
  await sleep(300)
  t.is(hypercore.sync + hypercore.data + hypercore.noData, 0, 'no log block, not even the log length')
  t.is(wsCore.peers.length, 0, 'the log has no replication peer')

  // control: the same raw replication code with the real key does get the log, so the refusal above is the capability's doing
  const h2 = new Hostile(t, bootstrap)
  h2.onConnection = c => { if (toHex(c.remotePublicKey) === sharerId) withKey = hypercoreChannel(c, s.dk, hypercoreCapability(c, s.key)) }
  await h2.join(s.dk)
  t.ok(await waitFor(() => withKey !== null && withKey.data > 0, WAIT), 'control: with the key, block 0 arrives over the same raw channel')
})

// Was a real bug (net/lib/capability.ts + net/lib/channel.ts): the object channel's capability was
// BLAKE2b(ns || handshake hash || key), the same value on both ends of a connection, and every
// peer sends its own proof first, on every connection. A peer that knows only the discovery key
// reads the sharer's proof out of the sharer's channel open and sends it back as its own: it was
// accepted and served the whole workspace. Hypercore avoids this with distinct initiator and
// responder proofs (caps.replicate(isInitiator, ...)); so does capability() now (before the fix:
// 4 batches served).

test('a peer without the key cannot reflect the sharer\'s own capability back', async t => {
  t.timeout(60_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  const { root, chunks } = await objectsOf(s.e, 'api')
  const h = new Hostile(t, bootstrap)
  let objects: RawObjects | null = null
  let stolen: Buffer | null = null
  h.onConnection = conn => {
    const mux: any = Protomux.from(conn)
    mux.pair({ protocol: n.PROTOCOL, id: s.dk }, () => {
      // the sharer's open is pending in the muxer: read its handshake before sending ours
      const info = mux._infos.get(`${n.PROTOCOL}##${toHex(s.dk)}`)
      const remote = mux._remote[info.incoming[0] - 1]
      stolen = n.handshake.decode({ ...remote.state }).capability
      objects = objectChannel(conn, s.dk, stolen!, {
        open: ch => ch.request([root, ...chunks].map(x => Buffer.from(x, 'hex')))
      })
    })
  }
  await h.join(s.dk)
  t.ok(await waitFor(() => objects !== null && (objects.rx.closed || objects.rx.objects.length > 0), WAIT), 'the sharer answered or closed')
  await sleep(QUIET_MS)
  t.ok(stolen !== null, 'the sharer\'s proof was readable')
  t.is(objects!.rx.objects.length, 0, 'no objects for a reflected proof')
  t.absent(peerIds(s.net, 'api').includes(h.id), 'not a peer of api')
})

// -- b. corrupt answers --------------------------------------------------------------

/**
 * A hostile peer that holds the key: it replicates the (signed) log honestly, so a joiner can get
 * the head from it, and answers object requests with `answer`. Once it has the whole log the
 * honest sharer goes offline, and a joiner starts joining: the hostile peer is the only one it
 * meets until the test brings the sharer back with `sharerBack`.
 */
async function joinViaHostile (t: any, bootstrap: LocalBootstrap, s: Awaited<ReturnType<typeof sharer>>, answer: (hashes: Buffer[], ch: RawObjects) => void, opts: { trees?: (items: n.TreeRequest[], ch: RawObjects) => void, prepare?: (j: Node) => Promise<void> } = {}) {
  const wsCore = (await s.e.workspace('api')).core
  const h = new Hostile(t, bootstrap)
  const store = new Corestore(path.join(await tmpDir(t), 'corestore'))
  t.teardown(() => store.close(), { order: -1 })
  await store.ready()
  const core = store.get({ key: s.key })
  await core.ready()
  const channels: RawObjects[] = []
  h.onConnection = conn => {
    store.replicate(conn)
    channels.push(objectChannel(conn, s.dk, proof(conn, s.key), {
      open: ch => ch.status({ length: 1000, objects: 100_000, complete: true }),
      request: answer,
      trees: opts.trees
    }))
  }
  await h.join(s.dk)
  core.download({ start: 0, end: -1 })
  t.ok(await waitFor(async () => { await core.update().catch(() => {}); return core.length === wsCore.length && core.contiguousLength === core.length }, WAIT), 'the hostile peer has the whole log')

  await s.net.close()
  const j = await honest(t)
  await opts.prepare?.(j)
  const joining = j.net.join(parseJoinTarget(s.keyHex), { name: 'api-copy', settings: { bootstrap: bootstrap.bootstrap }, timeoutMs: WAIT })
  joining.catch(() => {})
  const sharerBack = async () => {
    const s2 = reopen(t, s)
    await s2.net.share('api', { bootstrap: bootstrap.bootstrap })
    return s2
  }
  return { h, j, channels, joining, sharerBack }
}

/** Stand-in bytes for an object: the right length is not even attempted, the hash will not match. */
const corrupt = (hash: Buffer) => ({ hash, data: Buffer.concat([Buffer.from('not the object you asked for: '), hash]) })

test('a peer with the key that answers with corrupt bytes is dropped and banned; the joiner still ends byte-equal', async t => {
  t.timeout(90_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  const { root } = await objectsOf(s.e, 'api')
  const corrupted: string[] = []
  const { h, j, channels, joining, sharerBack } = await joinViaHostile(t, bootstrap, s, (hashes, ch) => {
    for (const hh of hashes) corrupted.push(toHex(hh))
    ch.objects(hashes.map(corrupt))
  })
  t.ok(await logged(j.logs, new RegExp(`dropping peer ${h.id.slice(0, 12)}: sent corrupt data`)), 'the joiner drops the peer for corrupt data')
  t.ok(corrupted.includes(root), 'the hostile peer was asked for the root tree and answered it corruptly')
  t.absent(j.e.store.hasHex(root), 'the corrupt root tree was not stored')
  t.ok(await waitFor(() => channels.every(ch => ch.rx.closed), WAIT), 'its object channel was closed')
  t.absent(peerIds(j.net).includes(h.id), 'not listed as a peer')
  t.ok(j.net.downloader.stats.rejected >= 1, 'counted as rejected')
  t.ok(j.net.downloader.failures.some(f => f.peer === h.id && /corrupt/.test(f.reason)), 'and kept with the peer that sent it (wxs top: failed verification, which peer)')

  // banned: a new connection from the same peer gets its channel closed at once
  const before = channels.length
  const joinerId = swarmId(j.net)
  for (const conn of [...h.conns]) conn.destroy()
  await waitFor(() => h.conns.size === 0, 5000)
  ;(h.swarm as any).joinPeer(Buffer.from(joinerId, 'hex'))
  t.ok(await waitFor(() => channels.length > before, WAIT), 'the hostile peer connected again')
  const again = channels[channels.length - 1]
  t.ok(await waitFor(() => again.rx.closed, WAIT), 'its new channel is closed')
  t.is(again.rx.status.length, 0, 'without a status: never accepted')
  t.is(j.logs.filter(l => l.includes(`peer ${h.id.slice(0, 12)} connected`)).length, 1, 'connected once, before the ban, never again')

  // the honest sharer comes back: the join completes from it
  await sharerBack()
  await joining
  const synced = await j.net.sync('api-copy')
  t.ok(synced.complete, 'sync complete')
  t.is(await exportDiff(j, s.src), '', 'the joined workspace exports byte-equal to the source')
  const fsck = await j.e.fsck()
  t.ok(fsck.ok, 'fsck: nothing corrupt or missing in the joiner\'s store')
  t.is(fsck.corrupt.length, 0, 'no corrupt object')
  t.absent(peerIds(j.net).includes(h.id), 'the hostile peer is still not a peer')
})

// Was a real bug (net/lib/downloader.ts, Downloader.onObjects): items of a batch were taken out of the
// peer's in-flight map as they verify; when a later item of the same batch is corrupt (or
// unsolicited) the function returns early: the good items are neither stored nor requeued, and
// their wants keep `peer` set to the dropped peer, so fill() skips them forever and everything
// awaiting them (join, sync, a read in the mount) hung. Now they are requeued (before the fix
// the sync never completed).
test('good objects in a batch that ends with a corrupt one are not stranded', async t => {
  t.timeout(90_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  // answers the first request (the root tree) genuinely; then gathers requests for a moment and
  // answers them in one batch: genuine objects, the last one corrupt
  let first = true
  let gathered: Buffer[] = []
  let timer: NodeJS.Timeout | null = null
  const stranded: string[] = []
  const genuine = (hashes: Buffer[]) => Promise.all(hashes.map(async hash => ({ hash, data: await s.e.store.get(toHex(hash)) })))
  const { h, j, joining, sharerBack } = await joinViaHostile(t, bootstrap, s, (hashes, ch) => {
    if (first) { first = false; genuine(hashes).then(items => ch.objects(items), () => {}); return }
    gathered.push(...hashes)
    timer ??= setTimeout(async () => {
      const batch = gathered
      gathered = []
      const good = await genuine(batch.slice(0, -1))
      stranded.push(...good.map(o => toHex(o.hash)))
      ch.objects([...good, corrupt(batch[batch.length - 1])])
    }, 300)
  })
  await joining
  t.ok(await logged(j.logs, new RegExp(`dropping peer ${h.id.slice(0, 12)}: sent corrupt data`)), 'the joiner drops the peer for the corrupt item')
  t.ok(stranded.length > 0, `the batch held ${stranded.length} genuine object(s) before the corrupt one`)
  await sharerBack()
  const outcome = await Promise.race([j.net.sync('api-copy').then(() => 'complete'), sleep(15_000).then(() => 'stuck')])
  t.is(outcome, 'complete', 'the sync completes from the honest sharer')
  if (outcome !== 'complete') return
  t.is(await exportDiff(j, s.src), '', 'byte-equal to the source')
})

// -- c. unsolicited objects ----------------------------------------------------------

test('a peer that pushes objects nobody asked for is dropped; nothing it pushed is stored', async t => {
  t.timeout(60_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  // well-formed objects (hash matches data) that the sharer does not hold
  const pushed = [0, 1, 2].map(i => { const data = randomBuffer(5000 + i, 1000 + i); return { hash: blake3(data), data } })
  for (const o of pushed) t.absent(s.e.store.hasHex(toHex(o.hash)), 'not held before')
  const h = new Hostile(t, bootstrap)
  let ch: RawObjects | null = null
  h.onConnection = conn => { ch = objectChannel(conn, s.dk, proof(conn, s.key)) }
  await h.join(s.dk)
  // accepted first (a status arrives only once the capability checked out)...
  t.ok(await waitFor(() => ch !== null && ch.rx.status.length > 0, WAIT), 'the peer was accepted (got a status)')
  t.ok(peerIds(s.net, 'api').includes(h.id), 'and is listed as a peer')
  // ...then pushes
  ch!.objects(pushed)
  t.ok(await logged(s.logs, new RegExp(`dropping peer ${h.id.slice(0, 12)}: sent object [0-9a-f]{12}… that was not asked of it`)), 'the sharer drops it')
  t.ok(await waitFor(() => ch!.rx.closed, WAIT), 'its channel is closed')
  t.absent(peerIds(s.net, 'api').includes(h.id), 'no longer a peer')
  await s.e.store.flush()
  for (const o of pushed) t.absent(s.e.store.hasHex(toHex(o.hash)), 'pushed object not stored')
  t.ok(s.net.downloader.stats.rejected >= 1, 'counted as rejected')
  t.is(s.net.downloader.stats.objects, 0, 'nothing was accepted')
})

// -- d. objects of other workspaces --------------------------------------------------

test('requests for objects the workspace does not reach are answered missing, never served', async t => {
  t.timeout(60_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap, { secret: true })
  const api = await objectsOf(s.e, 'api')
  const secret = await objectsOf(s.e, 'secret')
  const secretHashes = [...secret.trees, ...secret.chunks]
  for (const hex of secretHashes) t.ok(s.e.store.hasHex(hex), 'the secret object is in the sharer\'s store')
  for (const hex of secretHashes) t.absent(api.trees.includes(hex) || api.chunks.includes(hex), 'and not part of api')
  const unknown = toHex(blake3(Buffer.from('an object nobody has')))
  const asked = [api.root, ...secretHashes, api.chunks[0], unknown]

  const h = new Hostile(t, bootstrap)
  let ch: RawObjects | null = null
  h.onConnection = conn => {
    // it holds api's key, and asks api's channel for secret's objects
    ch = objectChannel(conn, s.dk, proof(conn, s.key), {
      open: raw => raw.request(asked.map(x => Buffer.from(x, 'hex')))
    })
  }
  await h.join(s.dk)
  t.ok(await waitFor(() => ch !== null && ch.rx.missing.length > 0, WAIT), 'an answer arrived')
  await sleep(200)
  const served = ch!.rx.objects.flat()
  t.alike(served.map(o => toHex(o.hash)).sort(), [api.root, api.chunks[0]].sort(), 'only api\'s objects were served')
  for (const o of served) t.ok(blake3(o.data).equals(o.hash), 'and they are genuine')
  t.alike(ch!.rx.missing.flat().map(x => toHex(x)).sort(), [...secretHashes, unknown].sort(), 'secret\'s objects (and an unknown one) answered missing')
  t.absent(ch!.rx.closed, 'asking is not a violation: the channel stays open')
  t.is(s.net.peers('api').find(p => p.peer === h.id)?.sent.objects, 2, 'the sharer counts 2 objects sent')
})

// -- e. tree deltas ------------------------------------------------------------------

/** The joiner holds `mine`: a copy of the sharer's source (mtimes kept) with two files edited, so src, src/lib and docs differ and are asked for as deltas. */
async function holdOlderCopy (j: Node, from: string) {
  const src = path.join(j.dir, 'src-mine')
  await sh(`cp -a '${from}' '${src}'`) // cp -a keeps nanosecond mtimes (fs.cp rounds them to ms)
  await fs.writeFile(path.join(src, 'docs', 'guide.md'), 'an older guide\n')
  await fs.writeFile(path.join(src, 'src', 'lib', 'util.ts'), 'export const b = 1\n')
  await j.e.create('mine', { from: src })
}

const genuineObjects = (s: Awaited<ReturnType<typeof sharer>>, hashes: Buffer[]) => Promise.all(hashes.map(async hash => ({ hash, data: await s.e.store.get(toHex(hash)) })))

test('a tree delta that does not rebuild to its hash is asked for whole (no ban); the join completes from that peer', async t => {
  t.timeout(90_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  let lied = 0
  const { h, j, joining } = await joinViaHostile(t, bootstrap, s, (hashes, ch) => {
    genuineObjects(s, hashes).then(items => ch.objects(items), () => {})
  }, {
    prepare: j => holdOlderCopy(j, s.src),
    trees: (items, ch) => {
      Promise.all(items.map(async r => makeDelta(r.hash, await s.e.store.get(toHex(r.hash)), r.sketch))).then(deltas => {
        const sent = deltas.filter((d): d is n.TreeDelta => d !== null)
        // the first delta lies: its first two parts swapped (the entries are real, the order is not)
        if (lied === 0 && sent.length > 0 && sent[0].parts.length > 1) { lied++; const p = sent[0].parts; [p[0], p[1]] = [p[1], p[0]] }
        ch.deltas(sent)
        const whole = items.filter((_r, i) => deltas[i] === null).map(r => r.hash)
        if (whole.length > 0) genuineObjects(s, whole).then(o => ch.objects(o), () => {})
      }, () => {})
    }
  })
  await joining
  const synced = await j.net.sync('api-copy')
  t.ok(synced.complete, 'sync complete, from the hostile peer alone (the sharer never came back)')
  t.is(lied, 1, 'one delta lied')
  t.ok(await logged(j.logs, new RegExp(`did not rebuild from its delta; asking for it whole`)), 'the joiner noticed and asked for the tree whole')
  t.is(j.net.downloader.stats.deltaFallbacks, 1, 'one fallback')
  t.ok(j.net.downloader.stats.deltas >= 1, `${j.net.downloader.stats.deltas} tree(s) did arrive as deltas`)
  t.ok(peerIds(j.net).includes(h.id), 'the peer was not dropped (a fingerprint collision looks the same)')
  t.is(await exportDiff(j, s.src), '', 'byte-equal to the source')
})

test('a malformed tree delta (an entry the sketch does not have) gets the peer dropped; the join completes from the sharer', async t => {
  t.timeout(90_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  const { h, j, joining, sharerBack } = await joinViaHostile(t, bootstrap, s, (hashes, ch) => {
    genuineObjects(s, hashes).then(items => ch.objects(items), () => {})
  }, {
    prepare: j => holdOlderCopy(j, s.src),
    trees: (items, ch) => { ch.deltas(items.map(r => ({ hash: r.hash, head: Buffer.from([1, 0]), parts: [r.sketch.byteLength / n.FINGERPRINT_BYTES] }))) }
  })
  t.ok(await logged(j.logs, new RegExp(`dropping peer ${h.id.slice(0, 12)}: sent a malformed delta for tree [0-9a-f]{12}…: tree delta names entry \\d+ of a \\d+-entry sketch`)), 'dropped for the malformed delta')
  t.absent(peerIds(j.net).includes(h.id), 'no longer a peer')
  await sharerBack()
  await joining
  const synced = await j.net.sync('api-copy')
  t.ok(synced.complete, 'sync complete from the honest sharer')
  t.is(await exportDiff(j, s.src), '', 'byte-equal to the source')
  t.ok((await j.e.fsck()).ok, 'fsck ok')
})

// -- moves ---------------------------------------------------------------------------

test('a peer with the key that names a forged continuation is ignored: the joiner keeps following the sharer', async t => {
  t.timeout(90_000)
  const bootstrap = await localBootstrap(t)
  const s = await sharer(t, bootstrap)
  const j = await honest(t)
  await j.net.join(parseJoinTarget(s.keyHex), { name: 'api-copy', settings: { bootstrap: bootstrap.bootstrap } })
  // the forger replicates the sharer's (unpaused) log, then writes a log whose prologue is
  // that log, with a pause of its own after it and a continuation signed with that pause's key
  const store = new Corestore(path.join(await tmpDir(t), 'corestore'))
  t.teardown(() => store.close(), { order: -1 })
  await store.ready()
  const h = new Hostile(t, bootstrap)
  const sharerId = swarmId(s.net)
  const joinerId = swarmId(j.net)
  let forgedKey: Buffer | null = null
  let channel: RawObjects | null = null
  h.onConnection = c => {
    store.replicate(c)
    if (toHex(c.remotePublicKey) === joinerId) channel = objectChannel(c, s.dk, proof(c, s.key), { open: ch => { if (forgedKey) ch.moved([forgedKey]) } })
  }
  await h.join(s.dk)
  await connectionTo(h, sharerId)
  const copy = store.get({ key: s.key })
  await copy.ready()
  await copy.update({ wait: true })
  await copy.download({ start: 0, end: copy.length }).done()
  const { Workspace } = await import('../../manifests/lib/workspace.js')
  const { continuationSignable } = await import('../../manifests/messages.js')
  const crypto = (await import('hypercore-crypto')).default
  const keyPair = crypto.keyPair()
  const forgedCore = store.get({ manifest: { version: 1, quorum: 1, signers: [{ signature: 'ed25519', publicKey: keyPair.publicKey }], prologue: { hash: await copy.treeHash(copy.length), length: copy.length } }, keyPair })
  await forgedCore.ready()
  await (forgedCore as any).core.copyPrologue((copy as any).state)
  const forged = new Workspace(forgedCore)
  await forged.ready()
  const handoff = crypto.keyPair()
  const pause = await forged.appendPause({ hop: 0, commit: 0, root: forged.head!.root, handoffKey: handoff.publicKey, time: Date.now(), holder: 'mallory', mountDir: '', workingSet: [], note: '', meta: [] })
  const body = { hop: 0, previousKey: s.key, previousLength: copy.length }
  await forged.appendContinuation({ ...body, time: Date.now(), holder: 'mallory', signature: crypto.sign(continuationSignable(forgedCore.key, body, pause.pauseBytes), handoff.secretKey) })
  t.teardown(() => forged.close(), { order: -2 })
  forgedKey = forgedCore.key
  await connectionTo(h, joinerId)
  t.ok(await waitFor(() => channel !== null && channel.rx.opened, WAIT), 'the joiner accepted the forger\'s channel (it holds the key)')
  channel!.moved([forgedKey])
  t.ok(await logged(j.logs, new RegExp(`named ${toHex(forgedKey).slice(0, 12)} as the continuation of this log: it does not verify`)), 'the joiner checked the claim and refused it')
  t.alike(j.e.entry('api-copy').key, s.key, 'it still follows the sharer\'s log')
  t.ok(await waitFor(() => !j.e.hasLog(forgedKey!), WAIT), 'and dropped the forged log (right after refusing it)')
  // the sharer's next commit still arrives
  await fs.writeFile(path.join(s.src, 'after.txt'), 'after the forgery\n')
  await s.e.importDir('api', s.src)
  t.ok(await waitFor(async () => (await j.e.workspace('api-copy')).head!.seq === 1, WAIT), 'the joiner follows the sharer\'s next commit')
})
