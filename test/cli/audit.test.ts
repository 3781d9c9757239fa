// The audit trail, wxs config and automatic snapshots (issue 14), through the
// real command, daemon and mount.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, mountedWorkspace, waitFor } from '../helpers/index.js'

configure({ timeout: 300_000 })

const labels = async (home: string, name: string) => {
  const log = await wxs(home, ['log', name, '--json'])
  return (log.json as Array<{ snapshots: string[] }>).flatMap(c => c.snapshots)
}

test('audit: cat of a file is a read by cat with its pid; a rename and an unlink with their paths; a write with its bytes; --path, --pid, --since; off stops it', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'audited')
  const r = await sh('echo hello > f.txt; mkdir -p src; echo x > src/a.ts; cat f.txt > /dev/null & echo $!; wait; mv f.txt g.txt; rm g.txt', { cwd: dir })
  t.is(r.code, 0, r.stderr)
  const catPid = Number(r.stdout.trim())
  const all = await wxs(home, ['audit', 'audited', '--json'])
  t.is(all.code, 0, all.stderr)
  const recs = all.json.records as Array<{ op: string, pid: number, cmd: string, path: string, to?: string, bytes?: number }>
  t.ok(recs.some(x => x.op === 'read' && x.path === 'f.txt' && x.cmd === 'cat' && x.pid === catPid), `a read of f.txt by cat (${catPid})`)
  t.ok(recs.some(x => x.op === 'rename' && x.path === 'f.txt' && x.to === 'g.txt' && x.cmd === 'mv'), 'the rename, with both paths')
  t.ok(recs.some(x => x.op === 'unlink' && x.path === 'g.txt' && x.cmd === 'rm'), 'the unlink')
  t.ok(recs.some(x => x.op === 'create' && x.path === 'f.txt') && recs.some(x => x.op === 'write' && x.path === 'f.txt' && x.bytes === 6), 'the create and the write, with its 6 bytes')
  t.ok(recs.some(x => x.op === 'mkdir' && x.path === 'src'), 'the mkdir')

  const byPid = await wxs(home, ['audit', 'audited', '--json', '--pid', String(catPid)])
  t.alike(byPid.json.records.map((x: any) => [x.op, x.path]), [['read', 'f.txt']], '--pid: that process only')
  const byPath = await wxs(home, ['audit', 'audited', '--json', '--path', 'src/**'])
  t.ok(byPath.json.records.length > 0 && byPath.json.records.every((x: any) => x.path.startsWith('src/')), '--path: a glob')
  const future = await wxs(home, ['audit', 'audited', '--json', '--since', new Date(Date.now() + 60_000).toISOString()])
  t.is(future.json.records.length, 0, '--since a time to come: nothing')
  const human = await wxs(home, ['audit', 'audited', '--since', '1h'])
  t.ok(new RegExp(`cat\\(${catPid}\\)\\s+read\\s+f\\.txt`).test(human.stdout) && /rename\s+f\.txt -> g\.txt/.test(human.stdout), human.stdout)

  t.is((await wxs(home, ['config', 'audited', 'audit', 'off'])).code, 0)
  t.is((await sh('cat src/a.ts > /dev/null; touch after-off', { cwd: dir })).code, 0)
  const after = await wxs(home, ['audit', 'audited', '--json'])
  t.is(after.json.audit, false)
  t.absent(after.json.records.some((x: any) => x.path === 'after-off'), 'nothing recorded while off')
  const exec = await wxs(home, ['exec', 'audited', '--json', '--', 'cat', 'src/a.ts'])
  t.is(exec.json.read, null, 'exec says read/written are unknown when the trail is off')

  for (const args of [['audit', 'nope'], ['audit', 'audited', '--since', 'yesterday-ish'], ['audit', 'audited', '--pid', 'x'], ['config', 'audited', 'audit', 'maybe'], ['config', 'audited', 'colour', 'blue'], ['config', 'audited', 'snapshot.every', '1s']]) {
    const bad = await wxs(home, args)
    t.is(bad.code, 2, `${args.join(' ')}: exit 2 (${bad.stderr.trim()})`)
  }
})

test('audit: exec names what its command read and wrote; the trail stays within its bound over 100k operations', async t => {
  const home = await stateDir(t)
  const env = { WXS_AUDIT_MAX_BYTES: String(1024 * 1024) }
  const created = await wxs(home, ['create', 'busy', '--json'], { env })
  t.is(created.code, 0, created.stderr)
  const ex = await wxs(home, ['exec', 'busy', '--json', '--', 'sh', '-c', 'echo a > in.txt; cat in.txt > out.txt; mkdir d; mv out.txt d/moved.txt'], { env })
  t.is(ex.code, 0, ex.stderr)
  t.alike(ex.json.read, ['in.txt'], 'read: what it opened to read')
  t.alike(ex.json.written, ['d', 'd/moved.txt', 'in.txt', 'out.txt'], 'written: what it made, wrote and renamed to')

  const script = path.join(await tmpDir(t), 'ops.cjs')
  await fs.writeFile(script, `const fs = require('fs'); for (let i = 0; i < 50000; i++) { fs.writeFileSync('f' + (i % 100), 'x'); fs.unlinkSync('f' + (i % 100)) }; fs.writeFileSync('last-one', 'x')`)
  const many = await wxs(home, ['exec', 'busy', '--json', '--snapshot', 'none', '--', process.execPath, script], { env, timeoutMs: 280_000 })
  t.is(many.code, 0, many.stderr)
  const files = [path.join(home, 'audit', 'busy.ndjson'), path.join(home, 'audit', 'busy.ndjson.1')]
  const sizes = await Promise.all(files.map(f => fs.stat(f).then(s => s.size, () => 0)))
  t.ok(sizes[1] > 0, 'it rotated')
  t.ok(sizes[0] + sizes[1] <= 1024 * 1024 + 64 * 1024, `within the bound (1 MiB, plus one batch): ${sizes[0] + sizes[1]} bytes after 150k records`)
  const last = await wxs(home, ['audit', 'busy', '--json', '--path', 'last-one'])
  t.ok(last.json.records.some((x: any) => x.op === 'create'), 'and the newest records are the ones kept')
})

test('automatic snapshots: snapshot.keep prunes the oldest automatic ones, never a label the user gave; snapshot.every takes one only when something changed; wxs info shows the settings', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'snaps')
  t.is((await wxs(home, ['config', 'snaps', 'snapshot.keep', '2'])).code, 0)
  t.is((await wxs(home, ['snapshot', 'snaps', 'mine'])).code, 0)
  const taken: string[] = []
  for (let i = 0; i < 3; i++) {
    const r = await wxs(home, ['exec', 'snaps', '--json', '--', 'sh', '-c', `echo ${i} > n${i}`])
    t.is(r.code, 0, r.stderr)
    taken.push(r.json.snapshot)
  }
  const now = await labels(home, 'snaps')
  t.ok(now.includes('mine'), 'the user\'s label stays')
  t.alike(now.filter(l => l.startsWith('auto:')).sort(), taken.slice(1).sort(), 'the two newest automatic snapshots are kept')
  t.is((await wxs(home, ['restore', 'snaps', taken[0]])).code, 2, 'a pruned label no longer resolves')

  t.is((await wxs(home, ['config', 'snaps', 'snapshot.before-exec', 'off'])).code, 0)
  const plain = await wxs(home, ['exec', 'snaps', '--json', '--', 'true'])
  t.is(plain.json.snapshot, null, 'snapshot.before-exec off: exec takes none')

  t.is((await wxs(home, ['config', 'snaps', 'snapshot.every', '10s'])).code, 0)
  const info = await wxs(home, ['info', 'snaps', '--json'])
  t.alike(info.json.settings, { audit: true, 'snapshot.every': 10, 'snapshot.before-exec': false, 'snapshot.keep': 2 }, 'wxs info shows the settings')
  t.is((await sh('echo changed > timer.txt', { cwd: dir })).code, 0)
  const timerLabels = async () => (await labels(home, 'snaps')).filter(l => l.startsWith('auto:timer-'))
  t.ok(await waitFor(async () => (await timerLabels()).length === 1, 25_000, 500), 'a timer snapshot after a change')
  const first = await timerLabels()
  await new Promise(resolve => setTimeout(resolve, 11_000)) // one more tick, with nothing changed
  t.alike(await timerLabels(), first, 'none at a tick with nothing changed')
})

test('retention: past snapshot.keep, history before the oldest kept automatic snapshot keeps no content; gc reclaims it; labelled commits and the head stay', async t => {
  const home = await stateDir(t)
  t.is((await wxs(home, ['create', 'ret', '--json'])).code, 0)
  t.is((await wxs(home, ['config', 'ret', 'snapshot.keep', '2'])).code, 0)
  const step = async (script: string) => {
    const r = await wxs(home, ['exec', 'ret', '--json', '--', 'sh', '-c', script])
    t.is(r.code, 0, r.stderr)
    return r.json
  }
  await step('head -c 3000000 /dev/urandom > big.bin; echo keep > small.txt')
  t.is((await wxs(home, ['snapshot', 'ret', 'mine'])).code, 0, 'a label the user gives')
  const withBig = await step('head -c 2000000 /dev/urandom > only-in-history.bin')
  await step('rm only-in-history.bin')
  await step('echo 3 > n3')
  const last = await step('echo 4 > n4') // four automatic snapshots taken; keep 2: the oldest two go
  const gcBefore = await wxs(home, ['gc', '--json'])
  t.is(gcBefore.code, 0, gcBefore.stderr)
  const pruned = withBig.commit // the commit holding only-in-history.bin, unlabelled, before the floor
  const refused = await wxs(home, ['restore', 'ret', String(pruned)])
  t.is(refused.code, 2, 'a commit retention let go is refused, exit 2')
  t.ok(/COLLECTED/.test(refused.stderr), refused.stderr.trim())
  const removed = gcBefore.json.removedBytes
  t.ok(removed >= 2_000_000 && removed < 3_000_000, `gc removed the 2 MB only pruned history held, not the 3 MB the kept commits hold (${removed} bytes)`)
  const out = path.join(await tmpDir(t), 'mine')
  t.is((await wxs(home, ['export', 'ret', out, '--at', 'mine'])).code, 0, 'the user\'s label still exports after gc')
  t.is((await fs.stat(path.join(out, 'big.bin'))).size, 3_000_000)
  t.is((await wxs(home, ['diff', 'ret', String(last.before), 'head', '--json'])).code, 0, 'kept commits diff')
  const fsck = await wxs(home, ['fsck', '--json'])
  t.is(fsck.code, 0, `fsck is clean: retention's gaps are not problems (${JSON.stringify(fsck.json?.problems?.slice(0, 2))})`)
})
