// Byte layouts of net/messages.ts (and the registry entry of a joined workspace):
// fixtures pin every encoding; decoders refuse oversized counts and sizes
// before reading or allocating, and reject truncated input.
import test from 'brittle'
import c from 'compact-encoding'
import { messages as manifestMessages } from '../../manifests/index.js'
import * as n from '../../net/messages.js'
import * as v from '../fixtures/values.js'
import { fixtureRoundTrips, type FixtureCase } from '../fixtures/round-trip.js'

const cases: FixtureCase[] = [
  ['net-handshake', n.handshake, v.netHandshakeValue],
  ['net-status', n.status, v.netStatusValue],
  ['net-status-empty', n.status, v.netStatusEmptyValue],
  ['net-hash-list', n.hashList, v.netHashListValue],
  ['net-hash-list-empty', n.hashList, v.netHashListEmptyValue],
  ['net-object-batch', n.objectBatch, v.netObjectBatchValue],
  ['net-tree-requests', n.treeRequests, v.netTreeRequestsValue],
  ['net-tree-deltas', n.treeDeltas, v.netTreeDeltasValue],
  ['registry-entry-remote', manifestMessages.registryEntry, v.registryEntryRemoteValue],
  ['registry-entry-remote-unpinned', manifestMessages.registryEntry, v.registryEntryRemoteUnpinnedValue],
  ['registry-entry-continued', manifestMessages.registryEntry, v.registryEntryContinuedValue],
  ['registry-entry-floor', manifestMessages.registryEntry, v.registryEntryFloorValue]
]

fixtureRoundTrips(cases)

// Every strict prefix of a wire message must throw (registry entries end in optional flags,
// so only the net encodings are truncated here; the registry case is below).
for (const [name, codec] of cases.filter(([name]) => name.startsWith('net-'))) {
  test(`${name}: every truncation throws`, async t => {
    const bytes = await v.readFixture(name)
    let threw = 0
    for (let len = 0; len < bytes.byteLength; len++) {
      try { c.decode(codec, bytes.subarray(0, len)) } catch { threw++ }
    }
    t.is(threw, bytes.byteLength, `all ${bytes.byteLength} prefixes rejected`)
  })
}

// -- handshake ----------------------------------------------------------------

test('handshake: the version comes first; an unknown one decodes without a capability (the channel closes, not the connection)', async t => {
  const bytes = Buffer.from(await v.readFixture('net-handshake'))
  t.is(bytes[0], n.PROTOCOL_VERSION)
  for (const version of [0, 1, 3, 127]) {
    bytes[0] = version
    t.alike(c.decode(n.handshake, bytes), { version, capability: null }, `version ${version}`)
  }
  // a multi-byte version (uint 0xfd prefix) is read as a number, not misparsed
  const big = Buffer.concat([Buffer.from([0xfd, 0x00, 0x01]), Buffer.alloc(32)])
  t.alike(c.decode(n.handshake, big), { version: 256, capability: null })
})

test('handshake: version 1 (before tree deltas) decodes as an unknown version', async t => {
  t.alike(c.decode(n.handshake, await v.readFixture('net-handshake-v1')), v.netHandshakeV1Value)
})

test('handshake: a short capability throws', t => {
  const bytes = Buffer.concat([Buffer.from([n.PROTOCOL_VERSION]), Buffer.alloc(31, 7)])
  t.exception(() => c.decode(n.handshake, bytes), /out of bounds/i)
})

// -- status -------------------------------------------------------------------

test('status: only 1 means complete', async t => {
  const bytes = Buffer.from(await v.readFixture('net-status'))
  t.is(bytes[bytes.byteLength - 1], 1)
  bytes[bytes.byteLength - 1] = 2
  t.is(c.decode(n.status, bytes).complete, false, 'any other byte is "not complete"')
})

// -- hash lists -------------------------------------------------------------

const hashes = (count: number) => Array.from({ length: count }, (_, i) => Buffer.alloc(32, i & 0xff))

test('hash list: 1024 hashes decode, 1025 are refused', t => {
  t.is(n.MAX_REQUEST_HASHES, 1024)
  const max = c.decode(n.hashList, c.encode(n.hashList, hashes(1024)))
  t.is(max.length, 1024, 'the limit itself is allowed')
  t.exception(() => c.decode(n.hashList, c.encode(n.hashList, hashes(1025))), /hash list: 1025 items, at most 1024 allowed/)
})

test('hash list: a huge claimed count is refused by the count check, before any item is read', t => {
  for (const count of [1025, 0xffffffff, Number.MAX_SAFE_INTEGER]) {
    const bytes = Buffer.from(c.encode(c.uint, count))
    // only the count is there: reading a single item would fail with "Out of bounds" instead
    t.exception(() => c.decode(n.hashList, bytes), new RegExp(`hash list: ${count} items, at most 1024 allowed`), `count ${count}`)
  }
})

// -- object batches -----------------------------------------------------------

/** An object batch header: count, then one item's hash and claimed length, without its data. */
function claimedItem (count: number, length: number): Buffer {
  return Buffer.concat([c.encode(c.uint, count), Buffer.alloc(32, 1), c.encode(c.uint, length)])
}

test('object batch: an item claiming more than MAX_OBJECT_BYTES is refused from its length alone', t => {
  t.is(n.MAX_OBJECT_BYTES, 64 * 1024 * 1024)
  for (const len of [n.MAX_OBJECT_BYTES + 1, 0xffffffff, Number.MAX_SAFE_INTEGER]) {
    t.exception(() => c.decode(n.objectBatch, claimedItem(1, len)), new RegExp(`object of ${len} bytes, at most ${n.MAX_OBJECT_BYTES} allowed`), `claimed ${len} bytes`)
  }
  // a claim within the limit but past the end is a plain truncation
  t.exception(() => c.decode(n.objectBatch, claimedItem(1, 100)), /out of bounds/i)
})

test('object batch: an object of exactly MAX_OBJECT_BYTES decodes, one byte more does not', t => {
  const data = Buffer.alloc(n.MAX_OBJECT_BYTES + 1, 0x5a)
  const ok = c.decode(n.objectBatch, c.encode(n.objectBatch, [{ hash: Buffer.alloc(32), data: data.subarray(0, n.MAX_OBJECT_BYTES) }]))
  t.is(ok[0].data.byteLength, n.MAX_OBJECT_BYTES)
  t.exception(() => c.decode(n.objectBatch, c.encode(n.objectBatch, [{ hash: Buffer.alloc(32), data }])), /at most 67108864 allowed/)
})

test('object batch: 1024 objects decode, 1025 are refused, a huge claimed count too', t => {
  t.is(n.MAX_BATCH_OBJECTS, 1024)
  const items = (count: number) => Array.from({ length: count }, (_, i) => ({ hash: Buffer.alloc(32, i & 0xff), data: Buffer.from([i & 0xff]) }))
  t.is(c.decode(n.objectBatch, c.encode(n.objectBatch, items(1024))).length, 1024)
  t.exception(() => c.decode(n.objectBatch, c.encode(n.objectBatch, items(1025))), /object batch: 1025 items, at most 1024 allowed/)
  t.exception(() => c.decode(n.objectBatch, claimedItem(0xffffffff, 1)), /object batch: 4294967295 items, at most 1024 allowed/)
})

test('object batch: decoded data is exactly the bytes sent', async t => {
  const batch = c.decode(n.objectBatch, await v.readFixture('net-object-batch'))
  t.alike(batch.map(o => o.data.toString()), ['hello, wxs', 'a second object, a little longer than the first one'])
})

// -- net.json -------------------------------------------------------------------

const known = (s: n.NetState) => ({ version: s.version, bootstrap: s.bootstrap, host: s.host, shared: s.shared })

test('net.json: the fixture parses to the known value and formats byte for byte', async t => {
  const bytes = await v.readFixture('net-state')
  t.alike(known(n.parseNetState(bytes.toString('utf8'))), v.netStateValue)
  t.is(n.formatNetState(v.netStateValue as n.NetState), bytes.toString('utf8'))
  t.alike(n.parseNetState(n.formatNetState(n.emptyNetState())), n.emptyNetState(), 'the empty state round-trips')
})

test('net.json: malformed shapes are rejected', t => {
  const good = { version: 1, bootstrap: null, host: null, shared: [] }
  const bad: Array<[string, string]> = [
    ['not JSON', '{"version": 1,'],
    ['null', 'null'],
    ['an array', '[]'],
    ['a number', '1'],
    ['a string', '"net"'],
    ['no version', JSON.stringify({ ...good, version: undefined })],
    ['version 2', JSON.stringify({ ...good, version: 2 })],
    ['version as a string', JSON.stringify({ ...good, version: '1' })],
    ['bootstrap as a string', JSON.stringify({ ...good, bootstrap: '127.0.0.1:49737' })],
    ['bootstrap with a number', JSON.stringify({ ...good, bootstrap: ['127.0.0.1:1', 2] })],
    ['bootstrap missing', JSON.stringify({ ...good, bootstrap: undefined })],
    ['host as a number', JSON.stringify({ ...good, host: 127 })],
    ['host missing', JSON.stringify({ ...good, host: undefined })],
    ['shared missing', JSON.stringify({ ...good, shared: undefined })],
    ['shared null', JSON.stringify({ ...good, shared: null })],
    ['shared as a string', JSON.stringify({ ...good, shared: 'api' })],
    ['shared with an object', JSON.stringify({ ...good, shared: ['api', { name: 'x' }] })]
  ]
  // (not t.exception: brittle rethrows native errors such as JSON.parse's SyntaxError)
  const throws = (text: string) => { try { n.parseNetState(text); return false } catch { return true } }
  for (const [what, text] of bad) t.ok(throws(text), what)
  t.alike(known(n.parseNetState(JSON.stringify(good))), good, 'the minimal good state parses')
  t.absent('extra' in n.parseNetState(JSON.stringify({ ...good, extra: 'ignored' })), 'unknown keys are dropped')
})

// -- registry entries with flags -----------------------------------------------------

test('registry entry: entries written before the flags existed still decode, as local', async t => {
  const old = c.decode(manifestMessages.registryEntry, await v.readFixture('registry-entry'))
  t.alike(old, v.registryEntryValue)
  t.is(old.remote === true, false, 'not remote')
  t.is(old.pin ?? null, null, 'no pin')
})

test('registry entry: the flags follow the old layout; a pin flag without its label throws', async t => {
  const remote = await v.readFixture('registry-entry-remote')
  const plain = Buffer.from(c.encode(manifestMessages.registryEntry, { ...v.registryEntryRemoteValue, remote: false, pin: null }))
  t.ok(remote.subarray(0, plain.byteLength).equals(plain), 'the old bytes are a prefix of the flagged entry')
  t.is(remote[plain.byteLength], 3, 'flags: remote | pin')
  t.is(remote.subarray(plain.byteLength + 2).toString(), 'v1.0', 'then the pin label')
  const unpinned = await v.readFixture('registry-entry-remote-unpinned')
  t.is(unpinned[unpinned.byteLength - 1], 1, 'flags: remote only')
  t.exception(() => c.decode(manifestMessages.registryEntry, remote.subarray(0, plain.byteLength + 1)), /out of bounds/i, 'pin flag without a label')
})

// -- tree requests and deltas ---------------------------------------------------------

test('tree requests: a sketch is whole fingerprints, at most MAX_SKETCH_ENTRIES; at most 256 trees a message', t => {
  const one = (sketch: Buffer) => c.encode(n.treeRequests, [{ hash: Buffer.alloc(32, 1), sketch }])
  t.is(c.decode(n.treeRequests, one(Buffer.alloc(n.MAX_SKETCH_ENTRIES * 4, 9)))[0].sketch.byteLength, n.MAX_SKETCH_ENTRIES * 4, 'the limit itself is allowed')
  t.exception(() => c.decode(n.treeRequests, one(Buffer.alloc(n.MAX_SKETCH_ENTRIES * 4 + 4))), /sketch of/, 'one entry more')
  t.exception(() => c.decode(n.treeRequests, one(Buffer.alloc(7))), /sketch of 7 bytes, at most 65536 in 4-byte items allowed/, 'not whole fingerprints')
  const many = Array.from({ length: 257 }, () => ({ hash: Buffer.alloc(32), sketch: Buffer.alloc(0) }))
  t.exception(() => c.decode(n.treeRequests, c.encode(n.treeRequests, many)), /tree request: 257 items, at most 256 allowed/)
  const big = (count: number) => Array.from({ length: count }, () => ({ hash: Buffer.alloc(32), sketch: Buffer.alloc(n.MAX_SKETCH_ENTRIES * 4) }))
  t.is(c.decode(n.treeRequests, c.encode(n.treeRequests, big(16))).length, 16, '1 MiB of sketches in one message is allowed')
  t.exception(() => c.decode(n.treeRequests, c.encode(n.treeRequests, big(17))), /tree request with 1114112 bytes of sketches, at most 1048576 allowed/, 'more is refused')
})

test('tree deltas: counts and sizes are checked before allocating', t => {
  const prefix = Buffer.concat([Buffer.from([1]), Buffer.alloc(32, 5), Buffer.from([2, 1, 0])]) // one delta: hash, head [1, 0]
  // a part count the rest of the message cannot hold is refused at once
  for (const count of [2, 1000, 0xffffffff]) {
    const bytes = Buffer.concat([prefix, Buffer.from(c.encode(c.uint, count)), Buffer.from([1])])
    t.exception(() => c.decode(n.treeDeltas, bytes), /tree delta of \d+ parts in \d+ bytes/, `count ${count}`)
  }
  const enc = (parts: Array<number | Buffer>, head = Buffer.from([1, 0])) => c.encode(n.treeDeltas, [{ hash: Buffer.alloc(32, 5), head, parts }])
  t.exception(() => c.decode(n.treeDeltas, enc([Buffer.alloc(0)])), /empty literal entry/, 'an empty literal')
  t.exception(() => c.decode(n.treeDeltas, enc([0], Buffer.alloc(33))), /tree delta head of 33 bytes, at most 32 allowed/, 'a head longer than any tree header')
  t.exception(() => c.decode(n.treeDeltas, enc([0], Buffer.alloc(0))), /tree delta without a head/, 'no head')
  t.alike(c.decode(n.treeDeltas, enc([0, 1, 70000]))[0].parts, [0, 1, 70000], 'indexes of any size')
  t.is(n.treeDeltaBytes({ hash: Buffer.alloc(32), head: Buffer.from([1, 0]), parts: [0, 300, Buffer.alloc(10)] }), 32 + 3 + 1 + 1 + 3 + 1 + 11, 'wire size as encoded')
})
