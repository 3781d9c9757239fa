import test from 'brittle'
import c from 'compact-encoding'
import { messages } from '../../manifests/index.js'
import * as v from '../fixtures/values.js'
import { fixtureRoundTrips, type FixtureCase } from '../fixtures/round-trip.js'

const cases: FixtureCase[] = [
  ['tree', messages.tree, v.treeValue],
  ['tree-empty', messages.tree, v.emptyTreeValue],
  ['commit', messages.commit, v.commitValue],
  ['commit-first', messages.commit, v.firstCommitValue],
  ['snapshot', messages.snapshot, v.snapshotValue],
  ['workspace-meta', messages.workspaceMeta, v.workspaceMetaValue],
  ['workspace-meta-origin', messages.workspaceMeta, v.forkMetaValue],
  ['registry-entry', messages.registryEntry, v.registryEntryValue],
  ['pause-record', messages.pauseRecord, v.pauseRecordValue],
  ['continuation', messages.continuation, v.continuationValue]
]

fixtureRoundTrips(cases)

for (const [name, codec] of cases) {
  test(`${name}: an unknown version throws`, async t => {
    const bytes = Buffer.from(await v.readFixture(name))
    t.is(bytes[0], 1, 'the version comes first')
    bytes[0] = 2
    t.exception(() => c.decode(codec, bytes), /unsupported (tree|value) version 2/)
  })
}

test('tree: an unknown entry type throws', async t => {
  const one = { entries: [{ ...v.treeValue.entries[3], name: 'a' }] }
  const bytes = Buffer.from(c.encode(messages.tree, one))
  // version, flags, entry count, name length, 'a', then the type byte
  t.is(bytes[5], messages.FILE)
  bytes[5] = 9
  t.exception(() => c.decode(messages.tree, bytes), /unknown entry type 9/)
})

test('tree: entry kinds keep exactly their own payload', async t => {
  const decoded = c.decode(messages.tree, await v.readFixture('tree'))
  const byName = new Map(decoded.entries.map(e => [e.name, e]))
  t.is(byName.get('README.md')!.chunks.length, 2, 'a file lists its chunks')
  t.is(byName.get('src')!.tree!.byteLength, 32, 'a dir names its tree')
  t.is(byName.get('link')!.target, '../README.md~', 'a symlink keeps its target verbatim')
  t.is(byName.get('ünï')!.target, '/abs/path')
  t.is(byName.get('empty')!.mtimeSec, -1, 'mtimes before 1970 survive')
  t.is(byName.get('README.md')!.mtimeNsec, 123_456_789, 'nanoseconds survive')
})

test('workspace meta: origin present only with its flag', async t => {
  const plain = await v.readFixture('workspace-meta')
  const fork = await v.readFixture('workspace-meta-origin')
  t.is(plain[1], 0, 'no flags without an origin')
  t.is(fork[1], 1, 'origin flag set')
  t.is(c.decode(messages.workspaceMeta, plain).origin, null)
  t.is(c.decode(messages.workspaceMeta, fork).origin!.commit, 7)
})

test('subtreeHashes: the dir entries\' tree hashes, as a full decode gives them; malformed bytes throw', async t => {
  const bytes = Buffer.from(await v.readFixture('tree'))
  const full = c.decode(messages.tree, bytes).entries.filter(e => e.type === messages.DIR).map(e => e.tree!)
  t.ok(full.length > 0, 'the fixture tree has a directory')
  t.alike(messages.subtreeHashes(bytes), full)
  const mixed = { entries: [
    { name: 'a', type: messages.FILE, mode: 0o644, size: 3, mtimeSec: 1, mtimeNsec: 2, chunks: [Buffer.alloc(32, 1), Buffer.alloc(32, 2)], tree: null, target: null },
    { name: 'b', type: messages.DIR, mode: 0o755, size: 0, mtimeSec: -5, mtimeNsec: 0, chunks: [], tree: Buffer.alloc(32, 3), target: null },
    { name: 'c', type: messages.SYMLINK, mode: 0o777, size: 1, mtimeSec: 1, mtimeNsec: 0, chunks: [], tree: null, target: 'a' },
    { name: 'd', type: messages.DIR, mode: 0o755, size: 0, mtimeSec: 0, mtimeNsec: 999_999_999, chunks: [], tree: Buffer.alloc(32, 4), target: null }
  ] } as any
  const enc = c.encode(messages.tree, mixed) as Buffer
  t.alike(messages.subtreeHashes(enc), [Buffer.alloc(32, 3), Buffer.alloc(32, 4)])
  t.alike(messages.subtreeHashes(c.encode(messages.tree, { entries: [] }) as Buffer), [])
  t.exception(() => messages.subtreeHashes(enc.subarray(0, enc.byteLength - 1)), /past the end|trailing/, 'cut short')
  t.exception(() => messages.subtreeHashes(Buffer.concat([enc, Buffer.from([0])])), /trailing/, 'trailing bytes')
})
