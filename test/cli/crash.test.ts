// kill -9 of the daemon in the middle of a large import: the store stays
// consistent, acknowledged workspaces are intact, and everything keeps working.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import crypto from 'node:crypto'
import { spawn } from 'node:child_process'
import { stateDir, tmpDir, wxs, writeTree, compareTrees, daemonPid, isRunning, waitFor, WXS_BIN, ROOT } from '../helpers/index.js'

configure({ timeout: 300_000 }) // real daemons, real disks: slow machines get time, hangs still end

async function bigTree (dir: string) {
  for (let d = 0; d < 40; d++) {
    const sub = path.join(dir, `d${d}`)
    await fs.mkdir(sub, { recursive: true })
    await Promise.all(Array.from({ length: 500 }, (_, i) => fs.writeFile(path.join(sub, `f${i}.txt`), crypto.randomBytes(64 + (i % 512)))))
  }
  await fs.mkdir(path.join(dir, 'blobs'))
  for (let i = 0; i < 6; i++) await fs.writeFile(path.join(dir, 'blobs', `b${i}.bin`), crypto.randomBytes(32 * 1024 * 1024))
}

/** Starts `wxs <args> --json` and resolves once its progress reports at least `files` files. */
function startAndWaitForProgress (home: string, args: string[], files: number) {
  const child = spawn(process.execPath, [WXS_BIN, ...args, '--json'], { cwd: ROOT, env: { ...process.env, WXS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
  const progressed = new Promise<boolean>(resolve => {
    child.stderr.on('data', d => {
      stderr += d
      for (const line of stderr.split('\n')) {
        try { if (JSON.parse(line).files >= files) resolve(true) } catch {}
      }
    })
    child.on('close', () => resolve(false))
  })
  return { child, exited, progressed, stderr: () => stderr }
}

test('kill -9 during a large import leaves a consistent store and a usable workspace list', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const small = path.join(work, 'small')
  await writeTree(small, { 'a.txt': 'acknowledged before the crash\n', sub: { 'b.txt': 'b\n' } })
  t.is((await wxs(home, ['create', 'before', '--from', small])).code, 0)
  t.is((await wxs(home, ['snapshot', 'before', 'safe'])).code, 0)

  const big = path.join(work, 'big')
  await bigTree(big)
  const job = startAndWaitForProgress(home, ['create', 'big', '--from', big], 2000)
  t.ok(await job.progressed, 'the import was under way')
  const pid = await daemonPid(home)
  t.ok(pid !== null)
  process.kill(pid!, 'SIGKILL')
  t.ok(await waitFor(() => !isRunning(pid!), 5000), 'daemon killed')
  const code = await job.exited
  t.is(code, 1, 'the interrupted command fails')
  t.ok(job.stderr().includes('DAEMON_DIED'), 'and says the daemon died')

  const list = await wxs(home, ['list', '--json'])
  t.is(list.code, 0, `a new daemon starts after the crash: ${list.stderr}`)
  const names = list.json.map((w: any) => w.name)
  t.ok(names.includes('before'), 'acknowledged workspace survives')
  t.absent(names.includes('big') && list.json.find((w: any) => w.name === 'big').head.stats.files < 20006, 'no half-imported workspace is listed')
  t.not(await daemonPid(home), pid, 'a new daemon process')

  const fsck = await wxs(home, ['fsck', '--json'])
  t.is(fsck.code, 0, 'fsck is clean after the crash')
  t.is(fsck.json.ok, true)

  const out = path.join(work, 'out-before')
  t.is((await wxs(home, ['export', 'before', out, '--at', 'safe'])).code, 0)
  t.is(await compareTrees(small, out), '', 'acknowledged content is byte-equal')

  if (!names.includes('big')) {
    const again = await wxs(home, ['create', 'big', '--from', big, '--json'], { timeoutMs: 300_000 })
    t.is(again.code, 0, `re-running the import works: ${again.stderr.slice(-300)}`)
  }
  const outBig = path.join(work, 'out-big')
  t.is((await wxs(home, ['export', 'big', outBig], { timeoutMs: 300_000 })).code, 0)
  t.is(await compareTrees(big, outBig), '', 'the re-imported tree is byte-equal')
  const gc = await wxs(home, ['gc', '--json'])
  t.is(gc.code, 0)
  t.is((await wxs(home, ['fsck', '--json'])).json.ok, true, 'fsck clean after gc')
})

test('kill -9 during a re-import keeps the previous head', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const big = path.join(work, 'big')
  await writeTree(big, { 'first.txt': 'v1\n' })
  const created = await wxs(home, ['create', 'ws', '--from', big, '--json'])
  t.is(created.code, 0)
  await bigTree(path.join(big, 'more'))
  const job = startAndWaitForProgress(home, ['import', 'ws', big], 2000)
  t.ok(await job.progressed)
  process.kill((await daemonPid(home))!, 'SIGKILL')
  await job.exited
  const info = await wxs(home, ['info', 'ws', '--json'])
  t.is(info.code, 0)
  t.is(info.json.head.seq, 0, 'no commit from the killed import')
  t.is(info.json.head.root, created.json.commit.root)
  t.is((await wxs(home, ['fsck', '--json'])).json.ok, true)
})
