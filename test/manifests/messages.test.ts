import test from 'brittle'
import c from 'compact-encoding'
import { messages } from '../../manifests/index.js'
import * as v from '../fixtures/values.js'
import { fixtureRoundTrips, type FixtureCase } from '../fixtures/round-trip.js'

const cases: FixtureCase[] = [
  ['tree', messages.tree, v.treeValue],
  ['tree-empty', messages.tree, v.emptyTreeValue],
  ['tree-v2', messages.tree, v.treeV2Value],
  ['tree-bytes', messages.tree, v.treeBytesValue],
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
    t.is(bytes[0], name === 'tree-v2' || name === 'tree-bytes' ? 2 : 1, 'the version comes first')
    bytes[0] = 3
    t.exception(() => c.decode(codec, bytes), /unsupported (tree|value) version 3/)
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

test('tree version 2: written only when an entry needs it; version 1 trees keep their bytes; what version 1 cannot hold is refused there', async t => {
  const v1 = await v.readFixture('tree')
  t.is(v1[0], 1)
  t.ok(Buffer.from(c.encode(messages.tree, c.decode(messages.tree, v1))).equals(v1), 'a version-1 tree read today writes the same bytes (same hash)')
  const v2 = Buffer.from(await v.readFixture('tree-v2'))
  t.is(v2[0], 2, 'an owner, a special file, xattrs or a link make it version 2')
  const decoded = c.decode(messages.tree, v2)
  const byName = new Map(decoded.entries.map(e => [e.name, e]))
  t.is(byName.get('plain')!.uid, undefined, 'an entry without an owner has none (the mount\'s owner)')
  t.alike([byName.get('a.txt')!.uid, byName.get('a.txt')!.gid, byName.get('a.txt')!.mode], [1000, 100, 0o4755], 'owner and set-id bits')
  t.alike(byName.get('a.txt')!.link, byName.get('b.txt')!.link, 'two names of one file')
  t.is(byName.get('disk')!.rdev, 0x0801)
  t.is(byName.get('tmp')!.mode, 0o1777, 'the sticky bit')
  t.alike(byName.get('tmp')!.xattrs!.map(x => x.name), ['security.selinux', 'user.mime'])
  t.alike(messages.subtreeHashes(v2), [Buffer.alloc(32, 0x07)], 'subtreeHashes reads version 2 too')
  const parts = messages.splitTree(v2)
  t.ok(messages.joinTree(parts).equals(v2), 'split and joined (tree deltas) byte for byte')
  t.is(parts.entries.length, 8)
  // a special type in a version-1 tree is malformed
  const fifo = { entries: [{ ...v.treeValue.entries[1], name: 'p' }] }
  const bytes = Buffer.from(c.encode(messages.tree, fifo))
  bytes[5] = messages.FIFO
  t.exception(() => c.decode(messages.tree, bytes), /unknown entry type 4/, 'version 1 has no special files')
  // an extra bit version 2 does not define
  const one = Buffer.from(c.encode(messages.tree, { entries: [{ ...v.treeV2Value.entries[6] }] }))
  one[one.byteLength - 1] = 0x10
  t.exception(() => c.decode(messages.tree, one), /unknown entry fields 16/)
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
