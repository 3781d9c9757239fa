import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Engine, TreeStore, walkTree, diffTrees, type Change } from '../../manifests/index.js'
import { toHex } from '../../core/index.js'
import { tmpDir, writeTree, type TreeSpec, setupEngine as setup } from '../helpers/index.js'
import type { Assert } from 'brittle'

const project = (changes: Change[]) =>
  changes.map(c => ({ path: c.path, change: c.change, type: c.type }))
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : a.change < b.change ? -1 : 1)

/** A big subtree nobody touches: 5 dirs x 40 files. */
function untouched (): TreeSpec {
  const spec: TreeSpec = {}
  for (let d = 0; d < 5; d++) {
    const files: TreeSpec = {}
    for (let f = 0; f < 40; f++) files[`f${f}.txt`] = `dir ${d} file ${f}\n`
    spec[`d${d}`] = { nested: files }
  }
  return spec
}

async function changedWorkspace (t: Assert) {
  const ctx = await setup(t)
  const src = path.join(ctx.dir, 'src')
  await writeTree(src, {
    keep: untouched(),
    'a.txt': 'unchanged\n',
    'b.txt': 'to be removed\n',
    'c.txt': 'to be modified\n',
    'd.sh': 'to be made executable\n',
    'f.txt': 'to be replaced by a symlink\n',
    olddir: { 'x.txt': 'x', y: { 'z.txt': 'z' } }
  })
  await ctx.e.create('w', { from: src })
  await fs.writeFile(path.join(src, 'new.txt'), 'added\n')
  await fs.rm(path.join(src, 'b.txt'))
  await fs.writeFile(path.join(src, 'c.txt'), 'modified, and longer now\n')
  await fs.chmod(path.join(src, 'd.sh'), 0o755)
  await writeTree(path.join(src, 'newdir'), { 'one.txt': '1', 'two.txt': '2' })
  await fs.rm(path.join(src, 'olddir'), { recursive: true })
  await fs.rm(path.join(src, 'f.txt'))
  await fs.symlink('a.txt', path.join(src, 'f.txt'))
  const imported = await ctx.e.importDir('w', src)
  t.is(imported.commit.seq, 1)
  return { ...ctx, src }
}

test('diff lists exactly the known changes', async t => {
  const { e } = await changedWorkspace(t)
  const { from, to, changes } = await e.diff('w')
  t.is(from, 0, 'defaults to head\'s parent…')
  t.is(to, 1, '…and head')
  t.alike(project(changes), [
    { path: 'b.txt', change: 'removed', type: 'file' },
    { path: 'c.txt', change: 'modified', type: 'file' },
    { path: 'd.sh', change: 'modified', type: 'file' },
    { path: 'f.txt', change: 'added', type: 'symlink' },
    { path: 'f.txt', change: 'removed', type: 'file' },
    { path: 'new.txt', change: 'added', type: 'file' },
    { path: 'newdir', change: 'added', type: 'dir' },
    { path: 'newdir/one.txt', change: 'added', type: 'file' },
    { path: 'newdir/two.txt', change: 'added', type: 'file' },
    { path: 'olddir', change: 'removed', type: 'dir' },
    { path: 'olddir/x.txt', change: 'removed', type: 'file' },
    { path: 'olddir/y', change: 'removed', type: 'dir' },
    { path: 'olddir/y/z.txt', change: 'removed', type: 'file' }
  ])
  const c = changes.find(x => x.path === 'c.txt')!
  t.is(c.oldSize, 'to be modified\n'.length)
  t.is(c.newSize, 'modified, and longer now\n'.length)
  const b = changes.find(x => x.path === 'b.txt')!
  t.is(b.oldSize, 'to be removed\n'.length)
  t.is(b.newSize, null)
  const reverse = await e.diff('w', '1', '0')
  t.alike(project(reverse.changes), project(changes.map(x => ({ ...x, change: x.change === 'added' ? 'removed' : x.change === 'removed' ? 'added' : 'modified' }))), 'the reverse diff swaps added and removed')
  t.alike((await e.diff('w', '1', '1')).changes, [], 'a commit against itself: no changes')
})

test('diff does not load identical subtrees', async t => {
  const { e } = await changedWorkspace(t)
  const ws = await e.workspace('w')
  const head = ws.head!
  const parent = (await ws.getCommit(head.parent))!
  const keep = (await e.trees.get(head.root)).entries.find(x => x.name === 'keep')!
  const keepTrees = new Set([toHex(keep.tree!)])
  await walkTree(e.trees, keep.tree!, { tree: hex => { keepTrees.add(hex); return true } })
  t.is(keepTrees.size, 11, 'keep/ holds 11 trees')

  // a TreeStore with a cold cache over the same store, so every tree it loads is a store read
  const cold = new TreeStore(e.store)
  const requested: string[] = []
  const loadTree = cold.get.bind(cold)
  cold.get = (h: Uint8Array | string) => { requested.push(typeof h === 'string' ? h : toHex(h)); return loadTree(h) }
  const read: string[] = []
  const readObject = e.store.get.bind(e.store)
  e.store.get = (hex: string) => { read.push(hex); return readObject(hex) }

  const changes = await diffTrees(cold, parent.root, head.root)
  t.is(changes.length, 13)
  t.absent(requested.some(hex => keepTrees.has(hex)), 'no tree under keep/ was loaded')
  t.absent(read.some(hex => keepTrees.has(hex)), 'nor read from the store')
  t.is(read.length, 5, 'only the two roots, olddir, olddir/y and newdir were read')
})

test('a chmod of a directory shows in the diff', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'a', sub: { 'b.txt': 'b' } })
  await e.create('w', { from: src })
  await fs.chmod(path.join(src, 'sub'), 0o700)
  const imported = await e.importDir('w', src)
  t.is(imported.changed, true, 'the import records a new commit')
  t.alike(project((await e.diff('w')).changes), [{ path: 'sub', change: 'modified', type: 'dir' }], 'and diff says what changed')
})
