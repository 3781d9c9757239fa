// Daemon crashes, stale mounts, and machines without FUSE.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, run, daemonPid, isRunning, waitFor, mountedWorkspace, WXS_BIN, ROOT } from '../helpers/index.js'

configure({ timeout: 300_000 })

async function isMounted (dir: string) {
  return (await fs.readFile('/proc/self/mounts', 'utf8')).split('\n').some(l => l.split(' ')[1] === dir)
}

test('kill -9 after an fsync: the next daemon cleans the stale mount and mounts again at the same place, data present', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'durable')
  const w = await sh(`node -e "
    const fs = require('fs')
    const fd = fs.openSync('kept.txt', 'w'); fs.writeSync(fd, 'acknowledged by fsync\\n'); fs.fsyncSync(fd); fs.closeSync(fd)
  "`, { cwd: dir })
  t.is(w.code, 0, w.stderr)
  const pid = await daemonPid(home)
  process.kill(pid!, 'SIGKILL')
  t.ok(await waitFor(() => !isRunning(pid!), 5000), 'daemon killed')
  t.ok(await isMounted(dir), 'the dead daemon left its mount behind')

  const list = await wxs(home, ['list', '--json'])
  t.is(list.code, 0, list.stderr)
  t.is(list.json[0].mount?.dir, dir, 'mounted again where it was')
  t.is(await run('cat', [path.join(dir, 'kept.txt')]).then(r => r.stdout), 'acknowledged by fsync\n')
  t.is((await sh('echo more > more.txt && cat more.txt', { cwd: dir })).stdout, 'more\n', 'and serving: the stale mount is gone')
  // a clean stop does not bring mounts back
  t.is((await wxs(home, ['daemon', 'stop'])).code, 0)
  t.is((await wxs(home, ['list', '--json'])).json[0].mount, null, 'after a clean stop the next daemon mounts nothing')
  t.ok(!(await isMounted(dir)))
})

test('unmount commits everything; daemon stop unmounts cleanly', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'clean')
  t.is((await sh('mkdir -p a/b && echo one > a/b/one.txt && ln -s a/b/one.txt link', { cwd: dir })).code, 0)
  const un = await wxs(home, ['unmount', dir, '--json'])
  t.is(un.code, 0, un.stderr)
  t.is(un.json.commit, 1, 'the changes became commit 1')
  t.ok(!(await isMounted(dir)))
  t.is((await wxs(home, ['mount', 'clean', dir])).code, 0)
  t.is((await sh('echo two > two.txt', { cwd: dir })).code, 0)
  const status = await wxs(home, ['daemon', 'status', '--json'])
  t.alike(status.json.mounts.map((m: any) => m.name), ['clean'])
  t.is((await wxs(home, ['daemon', 'stop'])).code, 0)
  t.ok(!(await isMounted(dir)), 'stop unmounts')
  const out = path.join(await tmpDir(t), 'out')
  t.is((await wxs(home, ['export', 'clean', out])).code, 0)
  t.is(await fs.readFile(path.join(out, 'two.txt'), 'utf8'), 'two\n', 'what was written before stop is committed')
  t.is(await fs.readlink(path.join(out, 'link')), 'a/b/one.txt')
})

test('bad mount requests get clear errors', async t => {
  const home = await stateDir(t)
  t.is((await wxs(home, ['create', 'ws'])).code, 0)
  const busy = await tmpDir(t)
  await fs.writeFile(path.join(busy, 'x'), 'x')
  const notEmpty = await wxs(home, ['mount', 'ws', busy, '--json'])
  t.is(notEmpty.code, 2)
  t.is(notEmpty.json.error.code, 'MOUNTPOINT_BUSY')
  const unknown = await wxs(home, ['mount', 'nope', '--json'])
  t.is(unknown.json.error.code, 'WORKSPACE_NOT_FOUND')
  const notMounted = await wxs(home, ['unmount', 'ws', '--json'])
  t.is(notMounted.json.error.code, 'NOT_MOUNTED')
  const dir = await tmpDir(t)
  t.is((await wxs(home, ['mount', 'ws', dir])).code, 0)
  t.teardown(() => wxs(home, ['unmount', 'ws']), { order: -1 })
  const twice = await wxs(home, ['mount', 'ws', '--json'])
  t.is(twice.json.error.code, 'ALREADY_MOUNTED')
  const rm = await wxs(home, ['rm', 'ws', '--json'])
  t.is(rm.json.error.code, 'BUSY', 'a mounted workspace is not deleted')
  const selfImport = await wxs(home, ['import', 'ws', dir, '--json'])
  t.is(selfImport.json.error.code, 'BUSY', 'importing from our own mount is refused')
})

test('without /dev/fuse, mount fails saying what is missing and export still works', async t => {
  const home = await stateDir(t)
  const src = await tmpDir(t)
  await fs.writeFile(path.join(src, 'f.txt'), 'content\n')
  const out = path.join(await tmpDir(t), 'out')
  // A private mount namespace whose /dev has no fuse device; the daemon started in it inherits that.
  const script = `mount -t tmpfs none /dev && "${process.execPath}" "${WXS_BIN}" create nofuse --from "${src}" >/dev/null && "${process.execPath}" "${WXS_BIN}" mount nofuse --json; echo "exit=$?"; "${process.execPath}" "${WXS_BIN}" export nofuse "${out}" >/dev/null && echo exported`
  const r = await run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { cwd: ROOT, env: { ...process.env, WXS_HOME: home, CI: 'true' } })
  t.ok(r.stdout.includes('"code": "FUSE_UNAVAILABLE"'), r.stdout + r.stderr)
  t.ok(r.stdout.includes('/dev/fuse does not exist'), 'names the missing device')
  t.ok(r.stdout.includes('exit=1'))
  t.ok(r.stdout.includes('exported'), 'export works without FUSE')
  t.is(await fs.readFile(path.join(out, 'f.txt'), 'utf8'), 'content\n')
})

test('content missing locally reads as EIO (no hang) and the daemon log says why', async t => {
  const home = await stateDir(t)
  const src = await tmpDir(t)
  await fs.writeFile(path.join(src, 'present.txt'), 'here\n')
  await fs.writeFile(path.join(src, 'zz-lost.bin'), Buffer.alloc(200_000, 9))
  t.is((await wxs(home, ['create', 'gap', '--from', src])).code, 0)
  t.is((await wxs(home, ['daemon', 'stop'])).code, 0)
  // Damage the chunk on disk: the next daemon's recovery hides it (reported by fsck), so it is missing.
  const objects = path.join(home, 'objects')
  const pack = path.join(objects, (await fs.readdir(objects)).filter(n => n.endsWith('.pack')).sort().pop()!)
  const bytes = await fs.readFile(pack)
  const at = bytes.indexOf(Buffer.alloc(1000, 9))
  t.ok(at > 0, 'found the chunk')
  bytes.fill(1, at + 10, at + 20)
  await fs.writeFile(pack, bytes)
  const dir = await tmpDir(t)
  const m = await wxs(home, ['mount', 'gap', dir])
  t.is(m.code, 0, m.stderr)
  t.teardown(() => wxs(home, ['unmount', 'gap']), { order: -1 })
  const r = await sh('cat present.txt; cat zz-lost.bin > /dev/null || echo "exit=$?"', { cwd: dir, timeoutMs: 60_000 })
  t.ok(r.stdout.startsWith('here\n'), 'other files still read')
  t.ok(r.stderr.includes('Input/output error'), r.stderr)
  t.ok(r.stdout.includes('exit=1'))
  const log = await fs.readFile(path.join(home, 'daemon.log'), 'utf8')
  t.ok(/EIO: OBJECT_(NOT_FOUND|CORRUPT)/.test(log), 'the daemon log names the missing object')
  // and wxs top says so: a local I/O error, with the path and the errno
  const top = await wxs(home, ['top', '--json', '--once'])
  const problems = JSON.parse(top.stdout.split('\n')[0]).state.problems
  t.ok(problems.some((p: any) => p.kind === 'io' && p.workspace === 'gap' && p.path === '/zz-lost.bin' && p.errno === 'EIO'), `wxs top shows the failed read: ${JSON.stringify(problems)}`)
})

test('WXS_FUSE_SPIN_US: 0 turns the wait for the next request off and the mount serves as before; a bad value fails the mount, saying so', async t => {
  const { fuseBinding } = await import('../../mount/lib/fuse.js')
  if (fuseBinding() === 'hl') { t.comment('WXS_FUSE=hl: the libfuse 2 binding has no such wait'); t.pass('not the low-level binding'); return }
  const bad = await stateDir(t)
  const dirBad = path.join(await tmpDir(t), 'm')
  const r = await wxs(bad, ['create', 'spin', '--mount', dirBad], { env: { WXS_FUSE_SPIN_US: 'fast' } })
  t.not(r.code, 0, 'the mount fails')
  t.ok(/BAD_SETTING: WXS_FUSE_SPIN_US=fast: not a number of microseconds from 0 to 10000/.test(r.stderr), r.stderr.trim())
  t.ok(!(await isMounted(dirBad)), 'nothing left mounted')

  const home = await stateDir(t)
  const dir = path.join(await tmpDir(t), 'm')
  const c = await wxs(home, ['create', 'spin', '--mount', dir], { env: { WXS_FUSE_SPIN_US: '0' } })
  t.is(c.code, 0, c.stderr)
  const w = await sh('for i in $(seq 200); do echo $i > f$i; done; cat f1 f200; ls | wc -l', { cwd: dir })
  t.is(w.stdout, '1\n200\n200\n', 'created, written and read back through the mount')
})
