// wxs exec (issue 14): the execution boundary for agents, through the real
// command and daemon: a mount made for the command, a snapshot before it, a
// commit after it, and what changed, as one JSON object.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, writeTree, compareTrees, isRunning, waitFor } from '../helpers/index.js'

configure({ timeout: 300_000 })

async function workspace (t: any, tree: Parameters<typeof writeTree>[1]) {
  const home = await stateDir(t)
  const src = path.join(await tmpDir(t), 'src')
  await writeTree(src, tree)
  const r = await wxs(home, ['create', 'task', '--from', src, '--json'])
  t.is(r.code, 0, r.stderr)
  return { home, src }
}

test('a failing command: its exit status, stdout and stderr kept; changed is what a diff of the two commits says; restore to the snapshot gives the tree before, byte for byte', async t => {
  const { home, src } = await workspace(t, { 'a.txt': 'one\n', 'b.txt': 'two\n', lib: { 'c.js': 'x\n' } })
  const r = await wxs(home, ['exec', 'task', '--json', '--env', 'GREETING=hi there', '--', 'sh', '-c', 'echo "$GREETING from $WXS_WORKSPACE in $(pwd)"; echo changed > a.txt; rm b.txt; mkdir -p out && head -c 5000 /dev/zero > out/blob; echo oops >&2; exit 7'])
  t.is(r.code, 7, 'wxs exec exits with the command\'s status')
  const j = r.json
  t.is(j.exit_code, 7)
  t.is(j.signal, null)
  t.is(j.timed_out, false)
  t.is(j.stdout, `hi there from task in ${j.root}\n`, 'the env, WXS_WORKSPACE and the cwd at the root of the mount')
  t.is(j.stderr, 'oops\n')
  t.is(j.truncated, false)
  t.ok(j.mounted_by_exec && /^auto:exec-/.test(j.snapshot), `mounted for the command, snapshot ${j.snapshot}`)
  t.is(j.commit, j.before + 1, 'one commit after the command')
  t.alike(j.changed.added.map((c: any) => [c.path, c.size]), [['out', null], ['out/blob', 5000]])
  t.alike(j.changed.modified.map((c: any) => [c.path, c.size]), [['a.txt', 8]])
  t.alike(j.changed.removed.map((c: any) => [c.path, c.size]), [['b.txt', 4]])
  const diff = await wxs(home, ['diff', 'task', String(j.before), String(j.commit), '--json'])
  const byKind = (kind: string) => diff.json.changes.filter((c: any) => c.change === kind).map((c: any) => c.path)
  t.alike([j.changed.added, j.changed.modified, j.changed.removed].map(l => l.map((c: any) => c.path)), [byKind('added'), byKind('modified'), byKind('removed')], 'changed equals wxs diff of the two commits')
  t.is((await wxs(home, ['info', 'task', '--json'])).json.mount, null, 'unmounted after')
  await fs.rm(j.root, { recursive: true, force: true }).catch(() => {})

  t.is((await wxs(home, ['restore', 'task', j.snapshot])).code, 0)
  const back = path.join(await tmpDir(t), 'back')
  t.is((await wxs(home, ['export', 'task', back])).code, 0)
  t.is(await compareTrees(src, back), '', 'restored to the automatic snapshot: the tree before the command')
})

test('a timeout ends the whole process tree (a shell and its background child), exit 124; output past --max-output is cut and said', async t => {
  const { home } = await workspace(t, { 'f.txt': 'f\n' })
  const pids = path.join(await tmpDir(t), 'pids')
  const r = await wxs(home, ['exec', 'task', '--json', '--timeout', '1', '--grace', '1', '--', 'sh', '-c', `sleep 300 & echo $! > ${pids}; echo $$ >> ${pids}; sleep 300`])
  t.is(r.code, 124, 'exit status 124, as timeout(1)')
  t.is(r.json.timed_out, true)
  t.is(r.json.exit_code, 124)
  const [child, shell] = (await fs.readFile(pids, 'utf8')).trim().split('\n').map(Number)
  t.ok(await waitFor(() => !isRunning(child) && !isRunning(shell), 5000), 'neither the shell nor its background child is left')

  const big = await wxs(home, ['exec', 'task', '--json', '--max-output', '1000', '--', 'sh', '-c', 'yes abcdefghi | head -c 100000; yes e | head -c 3000 >&2'])
  t.is(big.code, 0, big.stderr)
  t.is(big.json.stdout.length, 1000, 'stdout kept to the bound')
  t.is(big.json.stderr.length, 1000, 'stderr too')
  t.is(big.json.truncated, true, 'and the cut is said')
  t.is(big.json.stdout_bytes, 100000, 'with how much there was')
  t.alike(big.json.changed, { added: [], modified: [], removed: [] }, 'nothing changed')
  t.is(big.json.commit, big.json.before)
})

test('--read-only: writes fail with EROFS, nothing is committed; --cwd; a workspace already mounted is used where it is', async t => {
  const { home } = await workspace(t, { sub: { 'in.txt': 'inside\n' } })
  const ro = await wxs(home, ['exec', 'task', '--json', '--read-only', '--cwd', 'sub', '--', 'sh', '-c', 'cat in.txt; echo no > new.txt'])
  t.is(ro.code, 2, 'the shell\'s status for a failed redirection')
  t.is(ro.json.stdout, 'inside\n', '--cwd is relative to the workspace root')
  t.ok(/Read-only file system/.test(ro.json.stderr), ro.json.stderr)
  t.is(ro.json.commit, ro.json.before, 'no commit')
  t.is(ro.json.snapshot, null, 'no snapshot of a read-only run')

  const dir = path.join(await tmpDir(t), 'm')
  t.is((await wxs(home, ['mount', 'task', dir])).code, 0)
  const rw = await wxs(home, ['exec', 'task', '--json', '--', 'sh', '-c', 'pwd; echo yes > made.txt'])
  t.is(rw.code, 0, rw.stderr)
  t.is(rw.json.root, dir, 'the existing mount')
  t.is(rw.json.mounted_by_exec, false)
  t.alike(rw.json.changed.added.map((c: any) => c.path), ['made.txt'])
  t.is((await wxs(home, ['info', 'task', '--json'])).json.mount.dir, dir, 'still mounted after')
  const busy = await wxs(home, ['exec', 'task', '--read-only', '--', 'true'])
  t.is(busy.code, 2, 'a read-only exec of a workspace mounted writable is refused')
  t.ok(/unmount it first/.test(busy.stderr), busy.stderr)
  t.is((await wxs(home, ['unmount', 'task'])).code, 0)
})

test('bad input: unknown workspace, no command, bad timeout, bad --cwd, bad --env: exit 2 and a clear message; a command that does not exist: 127', async t => {
  const { home } = await workspace(t, { 'f.txt': 'f\n' })
  const cases: Array<[string[], RegExp]> = [
    [['exec', 'nope', '--', 'true'], /no workspace named "nope"/],
    [['exec', 'task'], /no command given/],
    [['exec', 'task', '--timeout', 'soon', '--', 'true'], /--timeout expects a positive number/],
    [['exec', 'task', '--timeout', '0', '--', 'true'], /--timeout expects a positive number/],
    [['exec', 'task', '--cwd', '../..', '--', 'true'], /--cwd must be a path inside the workspace/],
    [['exec', 'task', '--cwd', 'missing', '--', 'true'], /no such directory in task/],
    [['exec', 'task', '--env', 'NOEQUALS', '--', 'true'], /--env expects KEY=VALUE/],
    [['exec', 'task', '--snapshot', 'sometimes', '--', 'true'], /--snapshot is auto or none/]
  ]
  for (const [args, message] of cases) {
    const r = await wxs(home, args)
    t.is(r.code, 2, `${args.join(' ')}: exit 2`)
    t.ok(message.test(r.stderr), r.stderr.trim())
  }
  const missing = await wxs(home, ['exec', 'task', '--json', '--', 'no-such-program-here'])
  t.is(missing.code, 127, 'as a shell says for a command not found')
  t.ok(/ENOENT/.test(missing.json.stderr), missing.json.stderr)
  t.is((await wxs(home, ['info', 'task', '--json'])).json.mount, null, 'nothing left mounted by the failures')
})

test('a paused workspace: exec runs the command against a read-only mount, takes no snapshot and makes no commit', async t => {
  const { localBootstrap, peer, ok } = await import('../helpers/net.js')
  const net = await localBootstrap(t)
  const a = await peer(t, net)
  await ok(a, ['create', 'held'])
  await ok(a, ['exec', 'held', '--', 'sh', '-c', 'echo before > f.txt'])
  await ok(a, ['pause', 'held'])
  const r = await a.run(['exec', 'held', '--json', '--', 'sh', '-c', 'cat f.txt; echo no > g.txt'])
  t.is(r.code, 2, r.stderr)
  t.is(r.json.read_only, true, 'read_only: the workspace is paused')
  t.is(r.json.stdout, 'before\n')
  t.ok(/Read-only file system/.test(r.json.stderr), r.json.stderr)
  t.is(r.json.snapshot, null)
  t.is(r.json.commit, r.json.before)
})
