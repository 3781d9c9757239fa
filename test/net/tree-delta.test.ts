// Trees as deltas (net/lib/tree-delta.ts): a tree rebuilt from a delta against
// a sketch of the receiver's tree is byte-equal to the original; a delta only
// names entries the sketch has; nothing but a tree, and nothing a delta cannot
// shrink, is sent as one.
import test from 'brittle'
import c from 'compact-encoding'
import { hash as blake3 } from '../../core/index.js'
import { messages as m, encodeTree } from '../../manifests/index.js'
import { sketchOf, makeDelta, applyDelta, baseEntries, MAX_DELTA_ENTRIES } from '../../net/lib/tree-delta.js'
import { treeDeltaBytes, treeDeltas, MAX_SKETCH_ENTRIES } from '../../net/messages.js'

function file (name: string, seed: number): m.Entry {
  return { name, type: m.FILE, mode: 0o644, size: 4000 + seed, mtimeSec: 1_700_000_000 + seed, mtimeNsec: seed * 1000, chunks: [blake3(Buffer.from(`${name}:${seed}`))], tree: null, target: null }
}

function dir (n: number, changed: Set<number> = new Set(), added: string[] = []): Buffer {
  const entries: m.Entry[] = []
  for (let i = 0; i < n; i++) entries.push(file(`f${String(i).padStart(4, '0')}.bin`, changed.has(i) ? i + 100_000 : i))
  for (const name of added) entries.push(file(name, 7))
  entries.push({ name: 'sub', type: m.DIR, mode: 0o755, size: 0, mtimeSec: 1, mtimeNsec: 0, chunks: [], tree: Buffer.alloc(32, 3), target: null })
  entries.push({ name: 'link', type: m.SYMLINK, mode: 0o777, size: 3, mtimeSec: 1, mtimeNsec: 0, chunks: [], tree: null, target: 'sub' })
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return encodeTree({ entries })
}

test('split and join a tree: byte for byte, every entry its own slice', t => {
  const bytes = dir(50)
  const parts = m.splitTree(bytes)
  t.is(parts.entries.length, 52)
  t.ok(m.joinTree(parts).equals(bytes), 'rejoined')
  t.exception(() => m.splitTree(Buffer.concat([bytes, Buffer.from([0])])), /trailing/, 'trailing bytes')
  t.exception(() => m.splitTree(bytes.subarray(0, bytes.byteLength - 1)), 'truncated')
  t.exception(() => m.splitTree(Buffer.from([9, 0, 0])), /unsupported tree version 9/)
})

test('a 100-entry listing with 5 scattered changes crosses as a small delta and rebuilds byte-equal', t => {
  const old = dir(100)
  const now = dir(100, new Set([3, 17, 40, 66, 98]), ['new-a.bin'])
  const base = baseEntries(old)!
  const sketch = sketchOf(base)!
  t.is(sketch.byteLength, base.length * 4, '4 bytes per base entry')
  const h = blake3(now)
  const delta = makeDelta(h, now, sketch)!
  t.ok(delta !== null, 'a delta')
  const literals = delta.parts.filter(p => typeof p !== 'number').length
  t.is(literals, 6, 'the 5 changed entries and the added one travel whole, nothing else')
  const wire = treeDeltaBytes(delta)
  t.ok(wire < now.byteLength / 5, `delta ${wire} bytes for a ${now.byteLength}-byte tree`)
  const decoded = c.decode(treeDeltas, c.encode(treeDeltas, [delta]))[0]
  const rebuilt = applyDelta(decoded, base)
  t.ok(rebuilt.equals(now), 'rebuilt byte for byte')
  t.ok(blake3(rebuilt).equals(h), 'and so its hash checks')
})

test('a delta against an unrelated base is not sent; nor is one for something that is not a tree', t => {
  const unrelated = sketchOf(baseEntries(dir(100, new Set(Array.from({ length: 100 }, (_, i) => i))))!)!
  const now = dir(100)
  t.is(makeDelta(blake3(now), now, unrelated), null, 'no entry in common: the tree goes whole')
  const chunk = Buffer.alloc(4096, 1)
  t.is(makeDelta(blake3(chunk), chunk, unrelated), null, 'a chunk is no tree')
  t.is(baseEntries(chunk), null, 'nor a base')
})

test('applying a delta: an index past the sketch throws; a wrong base rebuilds a tree whose hash fails', t => {
  const old = dir(20)
  const now = dir(20, new Set([1]))
  const base = baseEntries(old)!
  const delta = makeDelta(blake3(now), now, sketchOf(base)!)!
  t.exception(() => applyDelta({ ...delta, parts: [...delta.parts, base.length] }, base), /names entry 22 of a 22-entry sketch/)
  const other = baseEntries(dir(20, new Set([5])))!
  t.absent(blake3(applyDelta(delta, other)).equals(blake3(now)), 'rebuilt from the wrong entries: the hash check catches it')
})

test('a listing of more than MAX_DELTA_ENTRIES entries goes whole', t => {
  const entries: m.Entry[] = Array.from({ length: MAX_DELTA_ENTRIES + 1 }, (_, i) => ({ name: `f${String(i).padStart(6, '0')}`, type: m.SYMLINK, mode: 0o777, size: 1, mtimeSec: 1, mtimeNsec: 0, chunks: [], tree: null, target: 'x' }))
  const bytes = encodeTree({ entries })
  const sketch = sketchOf(m.splitTree(bytes).entries.slice(0, MAX_SKETCH_ENTRIES))!
  t.is(makeDelta(blake3(bytes), bytes, sketch), null, 'a quarter of its entries in the sketch, yet sent whole')
  const fewer = encodeTree({ entries: entries.slice(0, 1000) })
  t.ok(makeDelta(blake3(fewer), fewer, sketch) !== null, 'a smaller one against the same sketch is a delta')
})

test('bases too big to sketch are not offered', t => {
  const entries = Array.from({ length: MAX_SKETCH_ENTRIES + 1 }, () => Buffer.from([1]))
  t.is(sketchOf(entries), null)
  t.is(sketchOf([]), null, 'nor empty ones')
})

test('the downloader cuts tree requests at 1 MiB of sketches (what a sender accepts in one message)', async t => {
  const { Downloader, TREE } = await import('../../net/lib/downloader.js')
  const { RwLock } = await import('../../core/index.js')
  const store = { hasHex: () => false, putHashed: async () => {}, flush: async () => {} }
  const d = new Downloader({ store: store as any, lock: new RwLock(), windowObjects: 1000, windowBytes: 1 << 30 })
  t.teardown(() => d.close())
  const sent: number[][] = []
  const peer = {
    id: 'p', inflight: new Map(), expired: new Set<string>(), inflightBytes: 0, lastHeard: Date.now(), received: { objects: 0, bytes: 0 },
    request () { t.fail('no plain request expected') },
    requestTrees (items: Array<{ sketch: Buffer }>) { sent.push(items.map(i => i.sketch.byteLength)) },
    reaches: () => true,
    drop () {}
  }
  d.addPeer(peer as any)
  const base = Array.from({ length: MAX_SKETCH_ENTRIES }, (_, i) => Buffer.from(String(i)))
  for (let i = 0; i < 20; i++) d.want(blake3(Buffer.from(`tree ${i}`)).toString('hex'), { priority: TREE, base }).catch(() => {})
  await new Promise(resolve => setTimeout(resolve, 10))
  t.alike(sent.map(m => m.length), [16, 4], '16 full sketches (1 MiB), then the other 4')
  t.ok(sent.every(m => m.reduce((a, b) => a + b, 0) <= 1024 * 1024), 'no message over 1 MiB of sketches')
})
