// POSIX behaviour real tools rely on, checked from a child process.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, run, mountedWorkspace } from '../helpers/index.js'

configure({ timeout: 300_000 })

const PROBE = `
const fs = require('fs'); const C = fs.constants; const out = {}
const code = fn => { try { fn(); return 'ok' } catch (e) { return e.code } }
process.chdir(process.argv[2])
fs.writeFileSync('a.txt', 'hello')
out.excl = code(() => fs.openSync('a.txt', C.O_CREAT | C.O_EXCL | C.O_WRONLY))
const fd = fs.openSync('a.txt', C.O_WRONLY | C.O_APPEND); fs.writeSync(fd, ' world'); fs.closeSync(fd)
out.append = fs.readFileSync('a.txt', 'utf8')
fs.writeFileSync('t.txt', 'long content'); fs.closeSync(fs.openSync('t.txt', C.O_WRONLY | C.O_TRUNC)); out.trunc = fs.statSync('t.txt').size
const h = fs.openSync('holes.bin', 'w'); fs.writeSync(h, Buffer.from('X'), 0, 1, 100000); fs.closeSync(h)
const holes = fs.readFileSync('holes.bin'); out.holes = [holes.length, holes.subarray(0, 100000).every(b => b === 0), holes[100000]]
fs.truncateSync('holes.bin', 10); out.truncate = fs.statSync('holes.bin').size
const f2 = fs.openSync('holes.bin', 'r+'); fs.ftruncateSync(f2, 20000); fs.closeSync(f2); out.ftruncate = [fs.statSync('holes.bin').size, fs.readFileSync('holes.bin').subarray(10).every(b => b === 0)]
fs.mkdirSync('d1/d2', { recursive: true }); fs.writeFileSync('d1/d2/f', 'f')
out.mkdirExists = code(() => fs.mkdirSync('d1'))
out.rmdirNotEmpty = code(() => fs.rmdirSync('d1'))
out.notDir = code(() => fs.readFileSync('a.txt/x'))
out.isDir = code(() => fs.writeFileSync('d1', 'x'))
out.noEnt = code(() => fs.statSync('missing'))
out.unlinkDir = code(() => fs.unlinkSync('d1'))
out.link = code(() => fs.linkSync('a.txt', 'hard'))
fs.writeFileSync('b.txt', 'bbb'); fs.renameSync('b.txt', 'a.txt'); out.renameOver = fs.readFileSync('a.txt', 'utf8')
fs.renameSync('a.txt', 'd1/d2/moved.txt'); out.renameAcross = [fs.existsSync('a.txt'), fs.readFileSync('d1/d2/moved.txt', 'utf8')]
fs.renameSync('d1', 'renamed'); out.renameDir = fs.readFileSync('renamed/d2/f', 'utf8')
fs.mkdirSync('empty'); fs.mkdirSync('other'); fs.writeFileSync('other/x', 'x')
out.renameOntoNonEmpty = code(() => fs.renameSync('empty', 'other'))
out.renameOntoEmpty = code(() => fs.renameSync('other', 'empty'))
const ino1 = fs.statSync('renamed/d2/f').ino; const ino2 = fs.statSync('renamed/d2/f').ino; out.stableIno = ino1 === ino2 && ino1 > 1
const before = fs.statSync('t.txt').mtimeMs; const wait = Date.now() + 20; while (Date.now() < wait); fs.appendFileSync('t.txt', 'x'); out.mtimeMoves = fs.statSync('t.txt').mtimeMs > before
fs.utimesSync('t.txt', 1000, 2000); const st = fs.statSync('t.txt'); out.utimes = [st.atimeMs, st.mtimeMs]
fs.chmodSync('t.txt', 0o751); out.chmod = (fs.statSync('t.txt').mode & 0o777).toString(8)
fs.symlinkSync('renamed/d2/f', 'sl'); out.symlink = [fs.readlinkSync('sl'), fs.readFileSync('sl', 'utf8'), fs.lstatSync('sl').isSymbolicLink()]
out.rmdirFile = code(() => fs.rmdirSync('t.txt'))
out.readdir = fs.readdirSync('.').sort()
console.log(JSON.stringify(out))
`

test('errno, open flags, holes, truncate, rename, links, times, modes', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'posix')
  const work = await tmpDir(t)
  const probe = path.join(work, 'probe.cjs')
  await fs.writeFile(probe, PROBE)
  const r = await run(process.execPath, [probe, dir])
  t.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.is(out.excl, 'EEXIST')
  t.is(out.append, 'hello world')
  t.is(out.trunc, 0)
  t.alike(out.holes, [100001, true, 88])
  t.is(out.truncate, 10)
  t.alike(out.ftruncate, [20000, true])
  t.is(out.mkdirExists, 'EEXIST')
  t.is(out.rmdirNotEmpty, 'ENOTEMPTY')
  t.is(out.notDir, 'ENOTDIR')
  t.is(out.isDir, 'EISDIR')
  t.is(out.noEnt, 'ENOENT')
  t.is(out.unlinkDir, 'EISDIR')
  t.is(out.link, 'ok', 'hard links work (test/mount/posix.test.ts has the rest)')
  t.is(out.renameOver, 'bbb')
  t.alike(out.renameAcross, [false, 'bbb'])
  t.is(out.renameDir, 'f')
  t.is(out.renameOntoNonEmpty, 'ENOTEMPTY')
  t.is(out.renameOntoEmpty, 'ok')
  t.is(out.stableIno, true)
  t.is(out.mtimeMoves, true)
  t.alike(out.utimes, [1000 * 1000, 2000 * 1000], 'utimes in seconds, stat in ms')
  t.is(out.chmod, '751')
  t.alike(out.symlink, ['renamed/d2/f', 'f', true])
  t.is(out.rmdirFile, 'ENOTDIR')
  t.alike(out.readdir, ['empty', 'hard', 'holes.bin', 'renamed', 'sl', 't.txt'])

  const times = await sh(`
    touch -d '2021-03-04 05:06:07.123456789' f && stat -c '%y' f
    touch -m -d '2022-01-01 00:00:00.5' f && stat -c '%y|%x' f
    cp -p f g && stat -c '%y' g
    df -P . | tail -1 | awk '{print ($2 > 0)}'
    setfattr -n user.x -v 1 f 2>&1 | grep -c 'Operation not supported' || true
  `, { cwd: dir })
  t.is(times.code, 0, times.stderr)
  const lines = times.stdout.trim().split('\n')
  t.is(lines[0], '2021-03-04 05:06:07.123456789 +0000', 'nanosecond mtimes')
  t.is(lines[1], '2022-01-01 00:00:00.500000000 +0000|2021-03-04 05:06:07.123456789 +0000', 'touch -m changes only the mtime')
  t.is(lines[2], '2022-01-01 00:00:00.500000000 +0000', 'cp -p keeps the mtime')
  t.is(lines[3], '1', 'statfs answers')

  const committed = await wxs(home, ['commit', 'posix', '--json'])
  t.is(committed.code, 0)
  const exported = path.join(work, 'out')
  t.is((await wxs(home, ['export', 'posix', exported])).code, 0)
  t.is((await sh(`stat -c '%y' "${exported}/g"`)).stdout.trim(), '2022-01-01 00:00:00.500000000 +0000', 'mtime survives commit and export')
})

test('two forks mounted at once are isolated; identical content costs no new storage', async t => {
  const home = await stateDir(t)
  const a = await mountedWorkspace(t, home, 'base')
  t.is((await sh('mkdir src && seq 1 1000 > src/data.txt', { cwd: a })).code, 0)
  t.is((await wxs(home, ['commit', 'base'])).code, 0)
  const b = await tmpDir(t, 'wxs-mnt-fork-')
  t.is((await wxs(home, ['fork', 'base', 'fork1'])).code, 0)
  t.is((await wxs(home, ['mount', 'fork1', b])).code, 0)
  t.teardown(() => wxs(home, ['unmount', 'fork1']), { order: -1 })
  t.is((await sh('echo fork-only > src/data.txt && echo extra > new.txt', { cwd: b })).code, 0)
  t.is((await sh('echo base-only >> src/data.txt', { cwd: a })).code, 0)
  t.is((await fs.readFile(path.join(a, 'src/data.txt'), 'utf8')).split('\n').slice(-2)[0], 'base-only')
  t.is(await fs.readFile(path.join(b, 'src/data.txt'), 'utf8'), 'fork-only\n')
  await t.exception(fs.access(path.join(a, 'new.txt')), 'the fork\'s new file is not in the base')

  t.is((await wxs(home, ['commit', 'base'])).code, 0)
  const before = (await wxs(home, ['stats', '--json'])).json
  t.is((await sh('cp src/data.txt copy1.txt && cp src/data.txt copy2.txt', { cwd: a })).code, 0)
  t.is((await wxs(home, ['commit', 'base'])).code, 0)
  const after = (await wxs(home, ['stats', '--json'])).json
  t.ok(after.storedBytes - before.storedBytes < 2048, `copies of existing content add only tree bytes (${after.storedBytes - before.storedBytes})`)
})

test('snapshot while mounted, keep writing, restore', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'snap')
  t.is((await sh('echo v1 > file.txt && mkdir keep && echo k > keep/k', { cwd: dir })).code, 0)
  const snap = await wxs(home, ['snapshot', 'snap', 'good', '--json'])
  t.is(snap.code, 0, snap.stderr)
  t.is((await sh('echo v2 > file.txt && rm -r keep && echo junk > junk.txt', { cwd: dir })).code, 0)
  t.is((await wxs(home, ['commit', 'snap'])).code, 0)
  const restored = await wxs(home, ['restore', 'snap', 'good', '--json'])
  t.is(restored.code, 0, restored.stderr)
  const r = await sh('sleep 1.2; cat file.txt; cat keep/k; test ! -e junk.txt && echo gone', { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.alike(r.stdout.trim().split('\n'), ['v1', 'k', 'gone'])
  const log = (await wxs(home, ['log', 'snap', '--json'])).json
  t.ok(log.length >= 3, 'history kept: the restore is a new commit')
})

test('restore under a shell sitting in a directory of the mount: its directory and names resolve in the restored tree', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'cwd')
  t.is((await sh('mkdir -p d/e && echo one > d/e/f', { cwd: dir })).code, 0)
  t.is((await wxs(home, ['snapshot', 'cwd', 'one'])).code, 0)
  t.is((await sh('echo two > d/e/f && echo new > d/e/g', { cwd: dir })).code, 0)
  t.is((await wxs(home, ['commit', 'cwd'])).code, 0)
  // the shell's cwd (and the kernel's entries) are nodeids of the tree the restore replaces
  const inside = sh('cat f; sleep 2.5; cat f; ls; cd .. && ls', { cwd: path.join(dir, 'd', 'e') })
  await new Promise(resolve => setTimeout(resolve, 300))
  const restored = await wxs(home, ['restore', 'cwd', 'one'])
  t.is(restored.code, 0, restored.stderr)
  const r = await inside
  t.is(r.stdout, 'two\none\nf\ne\n', `before and after the restore, from the same cwd: ${r.stderr}`)
})
