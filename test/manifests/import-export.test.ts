import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Engine, walkTree } from '../../manifests/index.js'
import { tmpDir, writeTree, compareTrees, randomBuffer, run, type TreeSpec, errorCode } from '../helpers/index.js'
import type { Assert } from 'brittle'

async function setup (t: Assert) {
  const dir = await tmpDir(t)
  const e = new Engine({ home: path.join(dir, 'home') })
  await e.ready()
  t.teardown(() => e.close())
  return { dir, e }
}

/** Every path (files, dirs, symlinks) in the head tree of a workspace, sorted. */
async function headPaths (e: Engine, name: string): Promise<string[]> {
  const ws = await e.workspace(name)
  const out: string[] = []
  await walkTree(e.trees, ws.head!.root, { entry: (_, p) => { out.push(p) } })
  return out.sort()
}

/** An exact copy (contents, modes, ns mtimes, links) made by cp -a, to compare exports against later. */
async function copyTree (from: string, to: string) {
  const r = await run('cp', ['-a', from, to])
  if (r.code !== 0) throw new Error(r.stderr)
}

const everyKind: TreeSpec = {
  'README.md': '# project\n',
  'empty.txt': '',
  'empty-dir': {},
  'big.bin': randomBuffer(3 * 1024 * 1024, 42),
  'readonly.txt': { mode: 0o444, content: 'do not edit\n' },
  bin: { 'run.sh': { mode: 0o755, content: '#!/bin/sh\necho hi\n' } },
  src: {
    'index.ts': 'export {}\n',
    lib: { a: { b: { c: { 'deep.ts': 'export const deep = 1\n' } } } }
  },
  'link-rel': { link: 'src/lib/a/b/c/deep.ts' },
  'link-abs': { link: '/etc/hostname' },
  'link-dangling': { link: 'does/not/exist' },
  '.git': {
    HEAD: 'ref: refs/heads/main\n',
    config: '[core]\n\tbare = false\n',
    objects: { ab: { cdef0123: randomBuffer(300, 7) } },
    refs: { heads: { main: '0123456789abcdef0123456789abcdef01234567\n' } }
  }
}

test('create from a directory and export it: byte-equal, same modes, mtimes and symlinks', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, everyKind)
  const created = await e.create('proj', { from: src })
  t.alike(created.problems, [], 'no problems')
  t.is(created.commit.seq, 0)
  t.is(created.commit.stats.files, 11)
  t.is(created.commit.stats.symlinks, 3)
  t.is(created.commit.stats.dirs, 12)
  const out = path.join(dir, 'out')
  const exported = await e.export('proj', out)
  t.alike(exported.problems, [])
  t.is(exported.files, 11)
  t.is(exported.symlinks, 3)
  t.is(await compareTrees(src, out), '', 'exported tree equals the source')
  t.is(await fs.readlink(path.join(out, 'link-abs')), '/etc/hostname', 'absolute link target kept verbatim')
  t.is(((await fs.stat(path.join(out, 'bin/run.sh'))).mode & 0o777), 0o755)
  t.is(((await fs.stat(path.join(out, 'readonly.txt'))).mode & 0o777), 0o444)
  t.ok((await fs.readFile(path.join(out, 'big.bin'))).equals(everyKind['big.bin'] as Buffer), '3 MiB file byte-equal')
  t.alike(await fs.readdir(path.join(out, 'empty-dir')), [], 'empty dir exported')
  t.ok((await fs.readdir(path.join(out, '.git'))).includes('HEAD'), '.git exported')
})

test('.wxsignore (gitignore syntax, nested files) excludes the right paths; .git is included', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, {
    '.wxsignore': '*.log\nbuild/\n!keep.log\n',
    'a.log': 'x',
    'keep.log': 'kept by negation',
    'secret.txt': 'only ignored in sub/',
    'local.txt': 'anchored in sub/ only',
    build: { 'out.js': 'x' },
    src: { 'main.ts': 'x', build: { 'x.js': 'x' } },
    sub: {
      '.wxsignore': 'secret.txt\n/local.txt\n',
      'secret.txt': 'x',
      'other.log': 'x',
      'local.txt': 'x',
      deeper: { 'secret.txt': 'x', 'local.txt': 'anchored rule does not reach here', 'keep.log': 'x' }
    },
    '.git': { HEAD: 'ref: refs/heads/main\n', objects: { pack: { 'p.pack': 'x' } } }
  })
  await e.create('ign', { from: src })
  t.alike(await headPaths(e, 'ign'), [
    '.git', '.git/HEAD', '.git/objects', '.git/objects/pack', '.git/objects/pack/p.pack',
    '.wxsignore', 'keep.log', 'local.txt', 'secret.txt',
    'src', 'src/main.ts',
    'sub', 'sub/.wxsignore', 'sub/deeper', 'sub/deeper/keep.log', 'sub/deeper/local.txt'
  ])
})

test('a nested .wxsignore can re-include what a parent ignores (as with .gitignore)', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, {
    '.wxsignore': '*.log\n',
    'a.log': 'x',
    sub: { '.wxsignore': '!important.log\n', 'important.log': 'x', 'other.log': 'x', deeper: { 'important.log': 'x' } }
  })
  await e.create('neg', { from: src })
  // `git add -A` with the same rules as .gitignore files tracks sub/important.log and sub/deeper/important.log
  t.alike(await headPaths(e, 'neg'), ['.wxsignore', 'sub', 'sub/.wxsignore', 'sub/deeper', 'sub/deeper/important.log', 'sub/important.log'])
})

test('re-import after changing 1 of N files hashes 1 and reuses N-1; no change -> no commit', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  const spec: TreeSpec = {}
  for (let i = 0; i < 4; i++) spec[`top${i}.txt`] = `top ${i}\n`
  spec.a = { 'one.txt': '1', 'two.txt': '2', nested: { 'three.txt': '3', 'four.txt': randomBuffer(100_000, 4) } }
  spec.b = { 'five.txt': '5', 'six.txt': '6' }
  await writeTree(src, spec)
  const N = 10
  const first = await e.create('re', { from: src })
  t.is(first.commit.stats.files, N)
  const ws = await e.workspace('re')
  const lengthBefore = ws.core.length

  await fs.appendFile(path.join(src, 'a/nested/three.txt'), ' changed')
  const second = await e.importDir('re', src)
  t.is(second.hashed, 1, 'one file read and hashed')
  t.is(second.reused, N - 1, 'the others reused from the previous commit')
  t.is(second.changed, true)
  t.is(second.commit.seq, 1, 'a new commit')
  t.is(second.commit.parent, 0)
  t.not(second.commit.root, first.commit.root)
  t.alike((await e.diff('re')).changes.map(c => [c.path, c.change]), [['a/nested/three.txt', 'modified']])

  const third = await e.importDir('re', src)
  t.is(third.changed, false, 'nothing changed')
  t.is(third.hashed, 0)
  t.is(third.reused, N)
  t.is(third.commit.seq, 1, 'head stays at the previous commit')
  t.is((await e.log('re')).length, 2, 'no new commit in the log')
  t.ok(ws.core.length > lengthBefore)
  const out = path.join(dir, 'out')
  await e.export('re', out)
  t.is(await compareTrees(src, out), '', 'head exports as the current source')
})

test('export into a non-empty directory fails with TARGET_NOT_EMPTY and writes nothing', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'a', sub: { 'b.txt': 'b' } })
  await e.create('ne', { from: src })
  const target = path.join(dir, 'target')
  await writeTree(target, { 'mine.txt': 'precious' })
  t.is(await errorCode(e.export('ne', target)), 'TARGET_NOT_EMPTY')
  t.alike(await fs.readdir(target), ['mine.txt'], 'nothing written')
  t.is(await fs.readFile(path.join(target, 'mine.txt'), 'utf8'), 'precious')
  const file = path.join(dir, 'a-file')
  await fs.writeFile(file, 'x')
  t.is(await errorCode(e.export('ne', file)), 'TARGET_NOT_EMPTY', 'a file as target is refused too')
  t.is(await fs.readFile(file, 'utf8'), 'x')
  const empty = path.join(dir, 'empty-target')
  await fs.mkdir(empty)
  await e.export('ne', empty)
  t.is(await compareTrees(src, empty), '', 'an existing empty directory is fine')
})

test('export --at an old commit gives the old content', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'version 1\n', 'gone.txt': 'removed later\n', sub: { 'b.txt': 'b' } })
  const v1 = path.join(dir, 'v1')
  await copyTree(src, v1)
  await e.create('old', { from: src })
  await fs.writeFile(path.join(src, 'a.txt'), 'version 2, longer\n')
  await fs.rm(path.join(src, 'gone.txt'))
  await fs.writeFile(path.join(src, 'new.txt'), 'new\n')
  const next = await e.importDir('old', src)
  t.is(next.commit.seq, 1)
  const atZero = path.join(dir, 'at0')
  const r = await e.export('old', atZero, { at: '0' })
  t.is(r.commit, 0)
  t.is(await compareTrees(v1, atZero), '', 'commit 0 exports as the original tree')
  const atHead = path.join(dir, 'head')
  t.is((await e.export('old', atHead)).commit, 1)
  t.is(await compareTrees(src, atHead), '', 'head exports as the current tree')
})

test('a missing or non-directory source is refused and creates nothing', async t => {
  const { dir, e } = await setup(t)
  t.is(await errorCode(e.create('w', { from: path.join(dir, 'missing') })), 'SOURCE_NOT_FOUND')
  await fs.writeFile(path.join(dir, 'file'), 'x')
  t.is(await errorCode(e.create('w', { from: path.join(dir, 'file') })), 'SOURCE_NOT_DIRECTORY')
  t.alike(e.names(), [], 'no workspace was created')
  await writeTree(path.join(dir, 'src'), { 'a.txt': 'a' })
  t.is(await errorCode(e.create('w', { from: path.join(dir, 'src') })), null, 'the name is still free')
})

test('a FIFO in the source is imported as a FIFO (version-2 tree), not skipped; export makes it again', async t => {
  const { dir, e } = await setup(t)
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'a', sub: { 'b.txt': 'b' } })
  const fifo = await run('mkfifo', [path.join(src, 'sub', 'pipe')])
  t.is(fifo.code, 0, 'made a FIFO')
  const created = await e.create('w', { from: src })
  t.alike(created.problems, [], 'nothing skipped')
  t.alike(await headPaths(e, 'w'), ['a.txt', 'sub', 'sub/b.txt', 'sub/pipe'])
  const out = path.join(dir, 'out')
  await e.export('w', out)
  t.ok((await fs.lstat(path.join(out, 'sub', 'pipe'))).isFIFO(), 'exported as a FIFO')
})
