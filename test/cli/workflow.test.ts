// End to end through the real `wxs` command and daemon (child processes, temp WXS_HOME).
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, writeTree, compareTrees, randomBuffer, daemonPid, isRunning } from '../helpers/index.js'

configure({ timeout: 300_000 }) // real daemons, real disks: slow machines get time, hangs still end

test('create, fork, snapshot, import, diff, log, restore, export round trip', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, {
    'README.md': '# demo\n',
    bin: { 'run.sh': { mode: 0o755, content: '#!/bin/sh\necho ran\n' } },
    lib: { 'a.js': 'export const a = 1\n', 'big.bin': randomBuffer(3 * 1024 * 1024 + 17, 7) },
    'link-to-readme': { link: 'README.md' },
    empty: {}
  })

  const created = await wxs(home, ['create', 'api', '--from', src, '--json'])
  t.is(created.code, 0, created.stderr)
  t.is(created.json.workspace.name, 'api')
  t.is(created.json.commit.stats.files, 4)
  t.is(created.json.commit.stats.symlinks, 1)

  const pid = await daemonPid(home)
  t.ok(pid !== null && isRunning(pid), 'the daemon outlives the command that started it')
  const mode = (await fs.stat(path.join(home, 'daemon.sock'))).mode & 0o777
  t.is(mode, 0o600, 'socket is owner-only')
  t.is((await fs.stat(home)).mode & 0o777, 0o700, 'state dir is owner-only')

  t.is((await wxs(home, ['snapshot', 'api', 'v1', '--json'])).json.snapshot.label, 'v1')
  const fork = await wxs(home, ['fork', 'api', 'api-task', '--json'])
  t.is(fork.code, 0, fork.stderr)
  t.is(fork.json.workspace.origin.name, 'api')

  await fs.writeFile(path.join(src, 'lib', 'a.js'), 'export const a = 2\n')
  await fs.writeFile(path.join(src, 'NEW.txt'), 'new\n')
  await fs.rm(path.join(src, 'README.md'))
  const imported = await wxs(home, ['import', 'api', src, '-m', 'second', '--json'])
  t.is(imported.code, 0, imported.stderr)
  t.is(imported.json.commit.seq, 1)
  t.is(imported.json.hashed, 2, 'only the changed and new files are read')

  const diff = await wxs(home, ['diff', 'api', 'v1', 'head', '--json'])
  t.alike(diff.json.changes.map((c: any) => `${c.change} ${c.path}`), ['added NEW.txt', 'removed README.md', 'modified lib/a.js'])

  const log = await wxs(home, ['log', 'api', '--json'])
  t.alike(log.json.map((c: any) => c.seq), [1, 0])
  t.alike(log.json[1].snapshots, ['v1'])

  const forkInfo = await wxs(home, ['info', 'api-task', '--json'])
  t.is(forkInfo.json.head.root, created.json.commit.root, 'the fork is untouched by the import into its source')

  const restored = await wxs(home, ['restore', 'api', 'v1', '--json'])
  t.is(restored.json.seq, 2)
  t.is(restored.json.root, created.json.commit.root)

  const out = path.join(work, 'out')
  const exported = await wxs(home, ['export', 'api', out, '--at', '1', '--json'])
  t.is(exported.code, 0, exported.stderr)
  t.is(await compareTrees(src, out), '', 'export of commit 1 equals the source tree')

  const list = await wxs(home, ['list', '--json'])
  t.alike(list.json.map((w: any) => w.name), ['api', 'api-task'])
  t.is(list.json[0].commits, 3)
})

test('help, version, daemon status and stop', async t => {
  const home = await stateDir(t)
  const help = await wxs(home, ['--help'])
  t.is(help.code, 0)
  for (const name of ['create', 'import', 'fork', 'list', 'info', 'snapshot', 'log', 'diff', 'restore', 'export', 'rm', 'gc', 'fsck', 'stats', 'daemon']) {
    t.ok(help.stdout.includes(`  ${name}`), `--help lists ${name}`)
  }
  const sub = await wxs(home, ['export', '--help'])
  t.is(sub.code, 0)
  t.ok(sub.stdout.includes('usage: wxs export <name> <dir>'))
  t.ok(sub.stdout.includes('--at <ref>'))

  const before = await wxs(home, ['daemon', 'status', '--json'])
  t.is(before.code, 1, 'status exits 1 when no daemon runs')
  t.is(before.json.running, false)

  const started = await wxs(home, ['daemon', 'start', '--json'])
  t.is(started.code, 0, started.stderr)
  t.is(started.json.running, true)
  t.is(started.json.socket, path.join(home, 'daemon.sock'))
  t.alike(started.json.mounts, [])
  t.ok(started.json.uptimeMs >= 0)
  // the daemon runs with the V8 flags cli/lib/client.ts gives it (a larger initial old generation: see daemonFlags)
  const argv = (await fs.readFile(`/proc/${started.json.pid}/cmdline`, 'utf8')).split('\0')
  t.ok(argv.includes('--initial-old-space-size=64'), `daemon flags: ${argv.filter(a => a.startsWith('--')).join(' ')}`)

  const stopped = await wxs(home, ['daemon', 'stop', '--json'])
  t.is(stopped.code, 0)
  t.ok(!isRunning(started.json.pid), 'the daemon process is gone after stop')
  await t.exception(fs.access(path.join(home, 'daemon.sock')), 'socket removed')

  const again = await wxs(home, ['list', '--json'])
  t.is(again.code, 0, 'the next command starts a new daemon')
  t.alike(again.json, [])
})

test('stats, rm and gc reclaim disk; dedupe across workspaces', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const shared = path.join(work, 'shared')
  const unique = path.join(work, 'unique')
  await writeTree(shared, { 'a.bin': randomBuffer(2 * 1024 * 1024, 1), 'b.txt': 'hello\n' })
  await writeTree(unique, { 'c.bin': randomBuffer(2 * 1024 * 1024, 2) })

  for (const name of ['one', 'two', 'three', 'four']) t.is((await wxs(home, ['create', name, '--from', shared])).code, 0)
  const stats = await wxs(home, ['stats', '--json'])
  t.is(stats.json.workspaces, 4)
  t.ok(stats.json.dedupeRatio > 3.9, `4 identical imports dedupe (ratio ${stats.json.dedupeRatio})`)
  t.ok(stats.json.storedBytes < 2 * 1024 * 1024 + 64 * 1024, 'content stored once')

  t.is((await wxs(home, ['create', 'solo', '--from', unique])).code, 0)
  const withUnique = await wxs(home, ['stats', '--json'])
  t.is((await wxs(home, ['rm', 'solo'])).code, 0)
  const gc = await wxs(home, ['gc', '--json'])
  t.is(gc.code, 0, gc.stderr)
  t.ok(gc.json.removedObjects >= 3, 'the removed workspace\'s chunks and trees are collected')
  const after = await wxs(home, ['stats', '--json'])
  t.ok(withUnique.json.diskBytes - after.json.diskBytes >= 2 * 1024 * 1024, `disk reclaimed (${withUnique.json.diskBytes} -> ${after.json.diskBytes})`)

  const out = path.join(work, 'out')
  t.is((await wxs(home, ['export', 'four', out])).code, 0)
  t.is(await compareTrees(shared, out), '', 'shared content survives gc')
  const fsck = await wxs(home, ['fsck', '--json'])
  t.is(fsck.code, 0)
  t.is(fsck.json.ok, true)
})
