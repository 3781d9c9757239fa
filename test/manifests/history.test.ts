import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Engine } from '../../manifests/index.js'
import { toHex } from '../../core/index.js'
import { tmpDir, writeTree, compareTrees, run, setupEngine as setup, errorCode } from '../helpers/index.js'
import type { Assert } from 'brittle'

/** A workspace with three commits: 0 = original (snapshot v1), 1 = edited, 2 = edited again. */
async function withHistory (t: Assert) {
  const ctx = await setup(t)
  const src = path.join(ctx.dir, 'src')
  await writeTree(src, { 'a.txt': 'one\n', 'b.txt': 'bee\n', sub: { 'c.txt': 'sea\n' } })
  const original = path.join(ctx.dir, 'original')
  const cp = await run('cp', ['-a', src, original])
  if (cp.code !== 0) throw new Error(cp.stderr)
  await ctx.e.create('api', { from: src })
  await ctx.e.snapshot('api', 'v1')
  await fs.writeFile(path.join(src, 'a.txt'), 'two, longer\n')
  await ctx.e.importDir('api', src)
  await fs.rm(path.join(src, 'sub'), { recursive: true })
  await ctx.e.importDir('api', src)
  return { ...ctx, src, original }
}

test('snapshot, change, restore: a new commit pointing at the old root; export equals the original', async t => {
  const { dir, e, original } = await withHistory(t)
  const before = await e.log('api')
  t.is(before.length, 3)
  const restored = await e.restore('api', 'v1')
  t.is(restored.seq, 3, 'restore appends a commit')
  t.is(restored.parent, 2)
  t.is(restored.root, before[2].root, 'its root is commit 0\'s root')
  t.alike(restored.stats, before[2].stats)
  const out = path.join(dir, 'out')
  await e.export('api', out)
  t.is(await compareTrees(original, out), '', 'export equals the original tree')
  t.alike((await e.diff('api', '0', 'head')).changes, [], 'no difference to commit 0')
})

test('history is append-only: restore keeps every earlier commit unchanged', async t => {
  const { e } = await withHistory(t)
  const ws = await e.workspace('api')
  const lengths = [ws.core.length]
  const before = await e.log('api')
  await e.restore('api', 'v1')
  lengths.push(ws.core.length)
  await e.restore('api', 'head~2')
  lengths.push(ws.core.length)
  await e.snapshot('api', 'after-restores')
  lengths.push(ws.core.length)
  const after = await e.log('api')
  t.is(after.length, before.length + 2)
  t.alike(after.slice(2), before, 'earlier commits unchanged (log is newest first)')
  const seqs = after.map(c => c.seq).reverse()
  t.alike(seqs, [0, 1, 2, 3, 4], 'seq increases by one per commit')
  t.ok(after.every(c => c.parent === c.seq - 1), 'each commit\'s parent is the previous one')
  t.ok(lengths.every((n, i) => i === 0 || n > lengths[i - 1]), `the log only grows (${lengths.join(' < ')})`)
  t.alike(after[0].snapshots, ['after-restores'])
  t.alike(after[after.length - 1].snapshots, ['v1'], 'the label stays on the commit it named')
})

test('history survives a restart', async t => {
  const { home, e } = await withHistory(t)
  await e.restore('api', '0')
  const log = await e.log('api')
  const info = await e.info('api')
  await e.close()
  const again = new Engine({ home })
  await again.ready()
  t.teardown(() => again.close())
  t.alike(await again.log('api'), log)
  t.alike(await again.info('api'), info)
  t.alike(again.names(), ['api'])
})

test('a duplicate snapshot label is refused with SNAPSHOT_EXISTS and the label does not move', async t => {
  const { e } = await withHistory(t)
  t.is(await errorCode(e.snapshot('api', 'v1')), 'SNAPSHOT_EXISTS')
  const ws = await e.workspace('api')
  t.is((await ws.resolve('v1')).seq, 0)
  const auto1 = await e.snapshot('api')
  const auto2 = await e.snapshot('api')
  t.not(auto1.snapshot.label, auto2.snapshot.label, 'generated labels never collide')
})

test('bad labels are refused with BAD_LABEL', async t => {
  const { e } = await withHistory(t)
  for (const label of ['', ' ', '-dash', '.dot', 'has space', 'a/b', '123', 'head', 'HEAD', 'x'.repeat(129), 'nul\0', 'ünicode']) {
    t.is(await errorCode(e.snapshot('api', label)), 'BAD_LABEL', JSON.stringify(label))
  }
  t.alike((await (await e.workspace('api')).snapshots()).map(s => s.label), ['v1'], 'nothing was labelled')
  for (const label of ['release-1.2.3', 'build:42', 'me@host', 'a+b', 'x'.repeat(128), 'v2']) {
    t.is(await errorCode(e.snapshot('api', label)), null, `${label.slice(0, 20)} accepted`)
  }
})

test('bad workspace names are refused with BAD_NAME', async t => {
  const { e } = await setup(t)
  for (const name of ['', '-x', '.hidden', 'a b', 'a/b', '../etc', 'x'.repeat(65), 'ünï', 'a\0b']) {
    t.is(await errorCode(e.create(name)), 'BAD_NAME', JSON.stringify(name))
  }
  t.is(await errorCode(e.workspace('a/b')), 'BAD_NAME', 'also when looking one up')
  t.alike(e.names(), [], 'nothing was created')
  for (const name of ['a', 'api', 'my-ws_1.0', 'x'.repeat(64)]) t.is(await errorCode(e.create(name)), null, `${name.slice(0, 20)} accepted`)
})

test('resolve refs: number, head, head~N, label, root-hash prefix', async t => {
  const { dir, e } = await withHistory(t)
  await e.snapshot('api', 'edited')
  const ws = await e.workspace('api')
  const log = await e.log('api')
  const root = (seq: number) => log[log.length - 1 - seq].root
  t.is((await ws.resolve('0')).seq, 0)
  t.is((await ws.resolve('2')).seq, 2)
  t.is((await ws.resolve('head')).seq, 2)
  t.is((await ws.resolve('HEAD')).seq, 2)
  t.is((await ws.resolve(undefined)).seq, 2, 'no ref means head')
  t.is((await ws.resolve('head~1')).seq, 1)
  t.is((await ws.resolve('head~2')).seq, 0)
  t.is((await ws.resolve('v1')).seq, 0)
  t.is((await ws.resolve('edited')).seq, 2)
  // an all-digit prefix would name a commit number: take at least 8 chars, through the first letter
  const prefix = root(1).slice(0, Math.max(8, root(1).search(/[a-f]/) + 1))
  t.is(toHex((await ws.resolve(prefix)).root), root(1), 'a root prefix')
  t.is((await ws.resolve(root(1))).seq, 1, 'a full root hash')
  t.is((await e.export('api', path.join(dir, 'x'), { at: 'head~1' })).commit, 1, 'refs work through the engine')
})

test('unknown refs are refused with BAD_REF', async t => {
  const { e } = await withHistory(t)
  const ws = await e.workspace('api')
  for (const ref of ['nope', '3', '99', 'head~3', 'head~99', 'head~', '-1', 'fffff', '']) {
    t.is(await errorCode(ws.resolve(ref)), 'BAD_REF', JSON.stringify(ref))
  }
  const unused = (await e.log('api')).map(c => c.root)
  const hex = 'abcdef'.split('').find(ch => !unused.some(r => r.startsWith(ch.repeat(6))))!
  t.is(await errorCode(ws.resolve(hex.repeat(6))), 'BAD_REF', 'a root prefix that matches nothing')
  t.is(await errorCode(e.restore('api', 'nope')), 'BAD_REF')
  t.is((await e.log('api')).length, 3, 'a failed restore appends nothing')
})

test('an unknown workspace is WORKSPACE_NOT_FOUND; a taken name is WORKSPACE_EXISTS', async t => {
  const { dir, e } = await withHistory(t)
  t.is(await errorCode(e.workspace('nope')), 'WORKSPACE_NOT_FOUND')
  t.is(await errorCode(e.info('nope')), 'WORKSPACE_NOT_FOUND')
  t.is(await errorCode(e.export('nope', path.join(dir, 'x'))), 'WORKSPACE_NOT_FOUND')
  t.is(await errorCode(e.snapshot('nope', 'l')), 'WORKSPACE_NOT_FOUND')
  t.is(await errorCode(e.fork('nope', 'other')), 'WORKSPACE_NOT_FOUND')
  t.is(await errorCode(e.create('api')), 'WORKSPACE_EXISTS')
  t.is(await errorCode(e.fork('api', 'api')), 'WORKSPACE_EXISTS')
  t.is((await e.log('api')).length, 3, 'the existing workspace is untouched')
  const results = await Promise.all([e.create('twin'), e.create('twin')].map(errorCode))
  t.alike(results.sort(), ['WORKSPACE_EXISTS', null].sort(), 'two concurrent creates: one wins')
  t.alike(e.names(), ['api', 'twin'])
})
