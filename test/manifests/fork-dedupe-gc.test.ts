import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import c from 'compact-encoding'
import { Engine, messages } from '../../manifests/index.js'
import { hash, toHex } from '../../core/index.js'
import { tmpDir, writeTree, compareTrees, randomBuffer, run, setupEngine as setup, errorCode } from '../helpers/index.js'
import type { Assert } from 'brittle'

const MiB = 1024 * 1024

async function copyTree (from: string, to: string) {
  const r = await run('cp', ['-a', from, to])
  if (r.code !== 0) throw new Error(r.stderr)
}

test('a fork is isolated from its origin and records where it came from', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'original\n', lib: { 'b.ts': 'export {}\n' }, 'big.bin': randomBuffer(2 * MiB, 1) })
  const created = await e.create('orig', { from: src })
  const objects = e.store.size
  const forked = await e.fork('orig', 'feature')
  t.is(e.store.size, objects, 'a fork stores no objects')
  t.alike(forked.workspace.origin, { name: 'orig', key: created.workspace.key, commit: 0 }, 'origin recorded')
  t.is(forked.workspace.head.root, created.commit.root, 'the fork starts at the origin\'s root')
  const ws = await e.workspace('feature')
  t.is(ws.meta!.origin!.name, 'orig', 'origin kept in the workspace log')
  t.ok(ws.meta!.origin!.key.equals((await e.workspace('orig')).key))

  const forkSrc = path.join(dir, 'fork-src')
  await copyTree(src, forkSrc)
  await fs.writeFile(path.join(forkSrc, 'a.txt'), 'changed in the fork\n')
  await fs.writeFile(path.join(forkSrc, 'lib', 'c.ts'), 'export const c = 1\n')
  const imported = await e.importDir('feature', forkSrc)
  t.is(imported.commit.seq, 1)

  const origin = await e.info('orig')
  t.is(origin.head.root, created.commit.root, 'origin head root unchanged')
  t.is(origin.commits, 1, 'no commit added to the origin')
  const outOrig = path.join(dir, 'out-orig')
  await e.export('orig', outOrig)
  t.is(await compareTrees(src, outOrig), '', 'origin exports as before')
  const outFork = path.join(dir, 'out-fork')
  await e.export('feature', outFork)
  t.is(await compareTrees(forkSrc, outFork), '', 'fork exports its own changes')
})

test('fork at an older ref starts from that commit', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'v1\n' })
  const v1 = path.join(dir, 'v1')
  await copyTree(src, v1)
  const first = await e.create('orig', { from: src })
  await e.snapshot('orig', 'v1')
  await fs.writeFile(path.join(src, 'a.txt'), 'v2, later\n')
  await e.importDir('orig', src)
  const forked = await e.fork('orig', 'old', { at: 'v1' })
  t.is(forked.workspace.origin!.commit, 0)
  t.is(forked.workspace.head.root, first.commit.root)
  const out = path.join(dir, 'out')
  await e.export('old', out)
  t.is(await compareTrees(v1, out), '')
})

test('the same tree imported into 4 workspaces is stored once', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'big.bin': randomBuffer(3 * MiB + 123, 2), 'small.txt': 'hi\n', sub: { 'mid.bin': randomBuffer(200_000, 3) } })
  await e.create('w1', { from: src })
  const one = await e.stats()
  for (const name of ['w2', 'w3', 'w4']) await e.create(name, { from: src })
  const four = await e.stats()
  t.is(four.workspaces, 4)
  t.is(four.objects, one.objects, 'no new objects')
  t.is(four.storedBytes, one.storedBytes, 'no new stored bytes')
  t.is(four.logicalBytes, 4 * one.logicalBytes)
  t.ok(four.dedupeRatio > 3.99 && four.dedupeRatio <= 4, `dedupe ratio ~4 (${four.dedupeRatio.toFixed(4)})`)
})

test('gc after removing a workspace keeps shared objects and removes unique ones', async t => {
  const { dir, e } = await setup(t)
  const shared = randomBuffer(1 * MiB + 5, 10)
  const uniqueA = randomBuffer(2 * MiB + 7, 11)
  const srcA = path.join(dir, 'a')
  const srcB = path.join(dir, 'b')
  await writeTree(srcA, { 'shared.bin': shared, 'only-a.bin': uniqueA, 'same.txt': 'same\n' })
  await writeTree(srcB, { 'shared.bin': shared, 'only-b.txt': 'b\n', 'same.txt': 'same\n' })
  await e.create('a', { from: srcA })
  await e.create('b', { from: srcB })
  const before = await e.stats()
  await e.remove('a')
  t.alike(e.names(), ['b'])
  const report = await e.gc()
  const after = await e.stats()
  // only-a.bin is 3 chunks; a's root tree is the 4th unique object
  t.is(report.removedObjects, 4, 'the unique chunks and tree are removed')
  t.is(after.objects, before.objects - 4)
  t.is(report.removedBytes, before.storedBytes - after.storedBytes)
  t.ok(report.removedBytes > uniqueA.byteLength, 'only-a.bin and a\'s root tree')
  // disk usage is counted in filesystem blocks
  t.ok(before.diskBytes - after.diskBytes >= 2 * MiB - 64 * 1024, `disk bytes drop by ~2 MiB (${before.diskBytes} -> ${after.diskBytes})`)
  t.ok(report.reclaimedBytes >= 2 * MiB - 64 * 1024, 'and gc says so')
  t.absent(e.store.hasHex(toHex(hash(uniqueA.subarray(0, MiB)))), 'a unique chunk is gone')
  t.ok(e.store.hasHex(toHex(hash(shared.subarray(0, MiB)))), 'a shared chunk is kept')
  const out = path.join(dir, 'out-b')
  await e.export('b', out)
  t.is(await compareTrees(srcB, out), '', 'the remaining workspace exports byte-equal')
  const fsck = await e.fsck()
  t.ok(fsck.ok, 'fsck is clean after gc')
  t.alike(fsck.problems, [])
  t.is((await e.gc()).removedObjects, 0, 'a second gc finds nothing')
})

test('gc after removing the origin keeps everything its fork refers to', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'big.bin': randomBuffer(MiB + 1, 50), sub: { 'a.txt': 'a\n' } })
  await e.create('orig', { from: src })
  await e.fork('orig', 'fork')
  const objects = e.store.size
  await e.remove('orig')
  t.is((await e.gc()).removedObjects, 0, 'every object is still reachable through the fork')
  t.is(e.store.size, objects)
  const out = path.join(dir, 'out')
  await e.export('fork', out)
  t.is(await compareTrees(src, out), '')
  t.ok((await e.fsck()).ok)
})

test('gc keeps objects only older commits refer to', async t => {
  const { dir, home, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'old.bin': randomBuffer(MiB / 2, 20), 'keep.txt': 'k\n' })
  const v0 = path.join(dir, 'v0')
  await copyTree(src, v0)
  await e.create('w', { from: src })
  await fs.rm(path.join(src, 'old.bin'))
  await e.importDir('w', src)
  t.is((await e.gc()).removedObjects, 0, 'nothing is garbage: commit 0 still refers to old.bin')
  await e.close()
  const again = new Engine({ home })
  await again.ready()
  t.teardown(() => again.close())
  const out = path.join(dir, 'out')
  await again.export('w', out, { at: '0' })
  t.is(await compareTrees(v0, out), '', 'the old commit still exports after gc and a restart')
})

test('gc refuses to run when a reachable tree is missing, and removes nothing', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'a' })
  await e.create('w', { from: src })
  await writeTree(path.join(dir, 'gone'), { 'gone.bin': randomBuffer(100_000, 30) })
  await e.create('gone', { from: path.join(dir, 'gone') })
  await e.remove('gone') // leaves garbage behind that a gc would sweep
  const missing = hash(Buffer.from('a tree that was never stored'))
  const root = await e.store.put(c.encode(messages.tree, {
    entries: [{ name: 'sub', type: messages.DIR, mode: 0o755, size: 0, mtimeSec: 1_700_000_000, mtimeNsec: 0, chunks: [], tree: missing, target: null }]
  }) as Buffer)
  await e.store.flush()
  const ws = await e.workspace('w')
  await ws.append({ root, time: Date.now(), message: 'points at a missing tree', stats: { files: 0, dirs: 1, symlinks: 0, bytes: 0 } })
  const objects = e.store.size
  t.is(await errorCode(e.gc()), 'MISSING_OBJECTS')
  t.is(e.store.size, objects, 'nothing was removed')
  const fsck = await e.fsck()
  t.absent(fsck.ok)
  t.alike(fsck.problems.map(p => [p.workspace, p.commit, p.path, p.object, p.problem]), [['w', 1, '/sub', toHex(missing), 'missing']], 'fsck names the missing tree')
})

test('fsck reports a corrupted chunk by workspace and path', async t => {
  const { dir, e } = await setup(t)
  const content = randomBuffer(100_000, 40)
  const src = path.join(dir, 'src')
  await writeTree(src, { the: { file: content }, 'other.txt': 'fine\n' })
  await e.create('w', { from: src })
  t.ok((await e.fsck()).ok, 'clean before')
  const packs = (await fs.readdir(e.store.dir)).filter(n => n.endsWith('.pack'))
  let flipped = false
  for (const name of packs) {
    const file = path.join(e.store.dir, name)
    const at = (await fs.readFile(file)).indexOf(content)
    if (at === -1) continue
    const handle = await fs.open(file, 'r+')
    const byte = Buffer.alloc(1)
    await handle.read(byte, 0, 1, at + 5000)
    byte[0] ^= 0xff
    await handle.write(byte, 0, 1, at + 5000)
    await handle.close()
    flipped = true
  }
  t.ok(flipped, 'found the file content in a pack')
  const chunk = toHex(hash(content))
  const fsck = await e.fsck()
  t.absent(fsck.ok)
  t.alike(fsck.corrupt, [chunk])
  t.alike(fsck.problems, [{ workspace: 'w', commit: 0, path: '/the/file', object: chunk, problem: 'corrupt' }])
  const exported = await e.export('w', path.join(dir, 'out'))
  t.alike(exported.problems.map(p => [p.path, p.code]), [['the/file', 'OBJECT_CORRUPT']], 'export reports the corrupt file')
})

for (const bad of ['..', '../escaped.txt', 'a/b']) {
  test(`export refuses a tree with the unsafe name ${JSON.stringify(bad)}`, async t => {
    const { dir, e } = await setup(t)
    const src = path.join(dir, 'src')
    await writeTree(src, { 'ok.txt': 'ok\n' })
    await e.create('w', { from: src })
    const chunk = await e.store.put(Buffer.from('escaped!\n'))
    const file = (name: string): messages.Entry => ({ name, type: messages.FILE, mode: 0o644, size: 9, mtimeSec: 1_700_000_000, mtimeNsec: 0, chunks: [chunk], tree: null, target: null })
    const inner = await e.store.put(c.encode(messages.tree, { entries: [file('escaped.txt')] }) as Buffer)
    const entry: messages.Entry = bad === '..'
      ? { name: '..', type: messages.DIR, mode: 0o755, size: 0, mtimeSec: 1_700_000_000, mtimeNsec: 0, chunks: [], tree: inner, target: null }
      : file(bad)
    const root = await e.store.put(c.encode(messages.tree, { entries: [entry, file('ok.txt')] }) as Buffer)
    await e.store.flush()
    await (await e.workspace('w')).append({ root, time: Date.now(), message: 'hostile tree', stats: { files: 2, dirs: 0, symlinks: 0, bytes: 18 } })
    const before = (await fs.readdir(dir)).sort()
    const target = path.join(dir, 'target')
    const code = await errorCode(e.export('w', target))
    t.ok(code === 'BAD_TREE' || code === 'UNSAFE_PATH', `export throws (${code})`)
    t.alike((await fs.readdir(dir)).filter(n => n !== 'target').sort(), before, 'nothing written next to the target')
    t.absent(await fs.stat(path.join(dir, 'escaped.txt')).catch(() => null), 'no escaped file')
    const inside: string[] = await fs.readdir(target).catch(() => [])
    t.absent(inside.includes('escaped.txt'), 'nothing from the hostile entry inside the target either')
  })
}

test('export of a valid tree whose subtree holds an unsafe name writes nothing outside the target', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'ok.txt': 'ok\n' })
  await e.create('w', { from: src })
  const chunk = await e.store.put(Buffer.from('escaped!\n'))
  const hostile = await e.store.put(c.encode(messages.tree, {
    entries: [{ name: '../../escaped.txt', type: messages.FILE, mode: 0o644, size: 9, mtimeSec: 1_700_000_000, mtimeNsec: 0, chunks: [chunk], tree: null, target: null }]
  }) as Buffer)
  const root = await e.store.put(c.encode(messages.tree, {
    entries: [{ name: 'sub', type: messages.DIR, mode: 0o755, size: 0, mtimeSec: 1_700_000_000, mtimeNsec: 0, chunks: [], tree: hostile, target: null }]
  }) as Buffer)
  await e.store.flush()
  await (await e.workspace('w')).append({ root, time: Date.now(), message: 'hostile subtree', stats: { files: 1, dirs: 1, symlinks: 0, bytes: 9 } })
  const before = (await fs.readdir(dir)).sort()
  const target = path.join(dir, 'target')
  const result = await e.export('w', target).catch(err => err as Error)
  if (result instanceof Error) t.ok(['BAD_TREE', 'UNSAFE_PATH'].includes((result as { code?: string }).code ?? ''), `export throws (${result.message})`)
  else t.alike(result.problems.map(p => [p.path, p.code]), [['sub', 'BAD_TREE']], 'or reports the hostile subtree as a problem')
  t.alike((await fs.readdir(dir)).filter(n => n !== 'target').sort(), before, 'nothing written next to the target')
  t.absent(await fs.stat(path.join(dir, 'escaped.txt')).catch(() => null))
})
