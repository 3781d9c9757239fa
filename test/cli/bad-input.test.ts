// Bad input through the real command: clear errors, right exit codes, nothing lost.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, writeTree, run, randomBuffer } from '../helpers/index.js'

configure({ timeout: 300_000 }) // real daemons, real disks: slow machines get time, hangs still end

test('unknown workspace, bad names, unknown commands and options', async t => {
  const home = await stateDir(t)
  const missing = await wxs(home, ['info', 'nope', '--json'])
  t.is(missing.code, 2)
  t.is(missing.json.error.code, 'WORKSPACE_NOT_FOUND')
  t.ok(missing.stderr.includes('no workspace named "nope"'))

  for (const bad of ['bad name', '../x', '-x', '', 'a/b', 'x'.repeat(65)]) {
    const r = await wxs(home, ['create', bad, '--json'])
    t.is(r.code, 2, `create ${JSON.stringify(bad)} exits 2`)
    t.ok(['BAD_NAME', 'USAGE'].includes(r.json?.error?.code), `create ${JSON.stringify(bad)}: ${r.stderr.trim()}`)
  }

  t.is((await wxs(home, ['create', 'ok'])).code, 0)
  const dup = await wxs(home, ['create', 'ok', '--json'])
  t.is(dup.json.error.code, 'WORKSPACE_EXISTS')
  const badLabel = await wxs(home, ['snapshot', 'ok', '123', '--json'])
  t.is(badLabel.json.error.code, 'BAD_LABEL')
  const badRef = await wxs(home, ['restore', 'ok', 'no-such-snapshot', '--json'])
  t.is(badRef.json.error.code, 'BAD_REF')

  const unknown = await wxs(home, ['frobnicate'])
  t.is(unknown.code, 2)
  t.ok(unknown.stderr.includes('unknown command "frobnicate"'))
  const badOpt = await wxs(home, ['list', '--bogus'])
  t.is(badOpt.code, 2)
  t.ok(badOpt.stderr.includes('--bogus'))
  const extra = await wxs(home, ['info', 'a', 'b'])
  t.is(extra.code, 2)

  const noSource = await wxs(home, ['create', 'x', '--from', '/nonexistent/dir', '--json'])
  t.is(noSource.json.error.code, 'SOURCE_NOT_FOUND')
  const list = await wxs(home, ['list', '--json'])
  t.alike(list.json.map((w: any) => w.name), ['ok'], 'failed creates leave nothing behind')
})

test('unreadable source files are reported by path, the rest is imported (exit 3)', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'ok.txt': 'fine\n', secret: { 'key.pem': 'private\n' }, 'locked.txt': 'nope\n' })
  await fs.chmod(path.join(src, 'locked.txt'), 0o000)
  await fs.chmod(path.join(src, 'secret'), 0o000)
  t.teardown(() => fs.chmod(path.join(src, 'secret'), 0o755))
  // We run as root: drop the capabilities that bypass file permissions, as a normal user would be.
  const wrap = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search']
  const r = await wxs(home, ['create', 'partial', '--from', src, '--json'], { wrap })
  t.is(r.code, 3, 'exit 3: done, with problems')
  const paths = r.json.problems.map((p: any) => `${p.path} ${p.code}`).sort()
  t.alike(paths, ['locked.txt EACCES', 'secret EACCES'])
  t.is(r.json.commit.stats.files, 1, 'the readable file is in the commit')
  const human = await wxs(home, ['import', 'partial', src], { wrap })
  t.is(human.code, 3)
  t.ok(human.stderr.includes('warning: locked.txt: EACCES'), human.stderr)
})

test('export to a full disk fails clearly; export into a non-empty dir is refused', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'big.bin': randomBuffer(4 * 1024 * 1024, 3), 'small.txt': 'x\n' })
  t.is((await wxs(home, ['create', 'big', '--from', src])).code, 0)

  const full = path.join(work, 'full')
  await fs.mkdir(full)
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full])
  t.is(mounted.code, 0, `mount a 1 MiB tmpfs: ${mounted.stderr}`)
  t.teardown(() => run('umount', [full]), { order: 50 })
  const r = await wxs(home, ['export', 'big', path.join(full, 'out'), '--json'])
  t.is(r.code, 1)
  t.is(r.json.error.code, 'NO_SPACE')
  t.ok(r.stderr.includes('no space left on device'), r.stderr)

  const busy = path.join(work, 'busy')
  await writeTree(busy, { 'keep.txt': 'mine\n' })
  const refused = await wxs(home, ['export', 'big', busy, '--json'])
  t.is(refused.code, 2)
  t.is(refused.json.error.code, 'TARGET_NOT_EMPTY')
  t.alike(await fs.readdir(busy), ['keep.txt'], 'nothing written into the non-empty target')
  t.is(await fs.readFile(path.join(busy, 'keep.txt'), 'utf8'), 'mine\n')

  const info = await wxs(home, ['info', 'big', '--json'])
  t.is(info.json.head.stats.files, 2, 'the workspace is intact after the failed exports')
})
