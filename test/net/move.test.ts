// Moving a workspace between machines with real daemons on a private DHT on
// 127.0.0.1, through the real `wxs` command: pause on A (mounted, git inside,
// uncommitted edits, untracked build output), a third peer holds everything,
// A goes offline, B resumes from the third peer alone and goes on writing.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeTree, randomBuffer, run, sh, stopDaemon, waitFor, daemonPid, type TreeSpec } from '../helpers/index.js'
import { localBootstrap, peer, ok, mountDir } from '../helpers/net.js'
import { formatResumeLink } from '../../net/messages.js'

configure({ timeout: 300_000 })

const MiB = 1024 * 1024
const GIT = 'git -c user.name=agent -c user.email=agent@example.com -c init.defaultBranch=main'

function project (): TreeSpec {
  const spec: TreeSpec = { src: {}, 'README.md': '# demo\n', 'data.bin': randomBuffer(3 * MiB + 17, 5) }
  for (let i = 0; i < 40; i++) (spec.src as TreeSpec)[`m${i}.ts`] = `export const v${i} = ${i}\n`.repeat(1 + i % 5)
  return spec
}

/** A's mount after an agent's work: two git commits, an uncommitted edit, an untracked build output. */
async function agentWork (t: any, dir: string) {
  const r = await sh(`set -e
    ${GIT} init -q && ${GIT} add -A && ${GIT} commit -qm first
    echo 'export const added = 1' > src/added.ts && ${GIT} add src/added.ts && ${GIT} commit -qm second
    echo 'edited, not committed' >> README.md
    mkdir -p build && head -c 200000 /dev/urandom > build/out.bin
    cat src/m1.ts src/m2.ts > /dev/null`, { cwd: dir })
  t.is(r.code, 0, `the agent's workload runs in A's mount ${r.stderr}`)
}

/** The lifecycle steps a command printed on stderr with --json (NDJSON), in order. */
function stepsOf (stderr: string): any[] {
  return stderr.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l)).filter(o => typeof o.step === 'string')
}

async function gitStatus (dir: string) {
  const r = await sh(`${GIT} status --porcelain`, { cwd: dir })
  return r.stdout.split('\n').filter(Boolean).sort().join('\n')
}

test('pause --wait on A, A offline, resume on B from a third peer: byte-equal, same git status, B writes on, history reads through', async t => {
  const net = await localBootstrap(t)
  const [a, b, c] = [await peer(t, net), await peer(t, net), await peer(t, net)]
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, project())
  const dirA = await mountDir(t, a, 'task')
  await ok(a, ['create', 'task', '--from', src, '--mount', dirA])
  await agentWork(t, dirA)
  const statusA = await gitStatus(dirA)
  t.ok(statusA.includes(' M README.md') && statusA.includes('?? build/'), `A has a modified and an untracked path:\n${statusA}`)
  const key = (await ok(a, ['share', 'task'])).key

  // a third peer follows A: it will hold everything
  await ok(c, ['join', key, 'task'])

  // a peer that is not there: the pause stands, the wait gives up saying so
  const absent = await a.run(['pause', 'task', '--note', 'run the tests next', '--meta', 'cwd=/src', '--wait', 'abcdef0123456789', '--timeout', '2', '--json'])
  t.is(absent.code, 1, 'waiting for a peer that never connects times out')
  t.ok(/STALLED: peer abcdef0123456789 did not connect/.test(absent.stderr), absent.stderr.trim().split('\n').pop())
  t.is((await a.run(['pause', 'task', '--wait', 'not-hex'])).code, 2, 'a malformed peer id is a usage error')
  // --wait <peer>: C by its id (stable across restarts: peer.key)
  const peerC = (await ok(c, ['daemon', 'status'])).network.peer
  t.ok(/^[0-9a-f]{64}$/.test(peerC), 'a daemon says its peer id')
  const r = await a.run(['pause', 'task', '--wait', peerC.slice(0, 16), '--timeout', '60', '--json'])
  t.is(r.code, 0, r.stderr.slice(-300))
  const paused = r.json
  t.ok(paused.link.startsWith('wxsr1-'), 'pause prints a resume link')
  t.absent(paused.created, 'the record the timed-out wait left stands')
  t.ok(paused.held, '--wait returned: a peer holds everything')
  t.is(paused.heldBy, peerC, 'the peer named')
  const steps = stepsOf(r.stderr)
  t.alike(steps.map(s => s.step), ['recorded', 'sealed', 'held'], 'lifecycle steps on stderr as NDJSON (already paused: no quiesce)')
  t.ok(steps.every(s => s.op === 'pause' && typeof s.ms === 'number'))
  const firstSteps = stepsOf(absent.stderr)
  t.alike(firstSteps.map(s => s.step), ['quiesced', 'committed', 'recorded', 'sealed'], 'the first pause quiesced, committed, recorded and sealed')
  t.is(firstSteps[0].dir, dirA)
  t.is(firstSteps[1].commit, firstSteps[2].commit, 'the pause records the commit the quiesce left')
  t.is(firstSteps[2].created, true)
  t.ok(firstSteps[2].workingSet > 0, 'with a working set')
  // the working set comes from the audit trail's records: its reads, writes and creates, newest first
  const trail = (await ok(a, ['audit', 'task'])).records as Array<{ op: string, path: string }>
  const newest: string[] = []
  for (const rec of trail.reverse()) if (['read', 'write', 'create'].includes(rec.op) && !newest.includes('/' + rec.path)) newest.push('/' + rec.path)
  const pausedInfo = (await ok(a, ['info', 'task'])).paused
  t.ok(newest.length >= 10, `the trail holds ${newest.length} paths read or written`)
  t.alike(pausedInfo.recent, newest.slice(0, 10), `the pause's last-used paths are the trail's newest: ${pausedInfo.recent.join(' ')}`)
  t.is(firstSteps[3].key, key)
  t.is(paused.onlyHere.objects, 0, 'nothing exists only on A any more')
  const write = await sh('echo more >> README.md', { cwd: dirA })
  t.not(write.code, 0, 'A\'s mount refuses writes after the pause')
  t.ok(/read-only/i.test(write.stderr), `EROFS: ${write.stderr.trim()}`)
  const again = await ok(a, ['pause', 'task'])
  t.is(again.link, paused.link, 'pausing again prints the same link')
  t.absent(again.created)
  const snapA = path.join(work, 'at-pause')
  await ok(a, ['export', 'task', snapA])
  const logA = await ok(a, ['log', 'task'])

  await stopDaemon(a.home)

  const dirB = await mountDir(t, b, 'task')
  const resumed = await ok(b, ['resume', paused.link, '--mount', dirB, '--timeout', '30'])
  t.is(resumed.workspace.name, 'task', 'the workspace keeps its name')
  t.is(resumed.workspace.identity, key, 'and its identity: A\'s key')
  t.not(resumed.workspace.key, key, 'B writes its own log')
  t.is(resumed.mount.dir, dirB)
  t.is(resumed.note, 'run the tests next')
  t.alike(resumed.meta, [{ key: 'cwd', value: '/src' }])
  t.ok(resumed.workingSet > 0, `the pause carried a working set (${resumed.workingSet} paths)`)

  // B is writable at once
  const first = await sh('echo "from B" > resumed.txt && cat resumed.txt', { cwd: dirB })
  t.is(first.code, 0, 'the first write on B succeeds')
  await ok(b, ['sync', 'task', '--timeout', '30'])
  const cmp = await run('diff', ['-r', '--exclude=resumed.txt', snapA, dirB])
  t.is(cmp.code, 0, `B's tree is byte-equal to A's at the pause ${cmp.stdout.slice(0, 500)}`)
  const statusB = (await gitStatus(dirB)).split('\n').filter(l => !l.includes('resumed.txt')).join('\n')
  t.is(statusB, statusA, 'git status on B shows the same modified and untracked files')
  const commit = await sh(`${GIT} add -A && ${GIT} commit -qm "on B" && ${GIT} log --oneline | wc -l`, { cwd: dirB })
  t.is(commit.stdout.trim(), '3', 'B commits on top of A\'s git history')
  await ok(b, ['commit', 'task'])
  const logB = await ok(b, ['log', 'task'])
  t.ok(logB.length > logA.length, `wxs log on B: ${logB.length} commits after A's ${logA.length}`)
  t.alike(logB.slice(logB.length - logA.length).map((x: any) => x.root), logA.map((x: any) => x.root), 'A\'s history, then B\'s')
  const info = await ok(b, ['info', 'task'])
  t.is(info.lineage.length, 1, 'info shows the move')
  t.is(info.lineage[0].pausedKey, key)
  t.is(info.lineage[0].resumedKey, info.key)
  t.is(info.paused, null)

  // C followed A's key: it hears from B where the workspace went, checks it, and follows B now
  await ok(b, ['share', 'task'])
  const followed = await waitFor(async () => (await ok(c, ['info', 'task'])).key === info.key, 30_000, 200)
  t.ok(followed, 'the follower of the original key follows the new holder')
  const infoC = await ok(c, ['info', 'task'])
  t.is(infoC.remote, true, 'read-only there')
  t.is(infoC.identity, key, 'same identity')
  t.ok(await waitFor(async () => (await ok(c, ['info', 'task'])).head.seq === info.head.seq, 30_000, 200), 'and sees B\'s commits')

  // A starts again: it hears that its workspace moved, and follows B read-only
  await ok(a, ['list'])
  t.ok(await waitFor(async () => (await ok(a, ['info', 'task'])).key === info.key, 30_000, 200), 'A follows B after the move')
  t.is((await ok(a, ['info', 'task'])).remote, true, 'A is read-only now')

  // the same link again, on B: already resumed here
  const twice = await b.run(['resume', paused.link, 'task-2', '--json'])
  t.is(twice.code, 1, 'a used link fails')
  t.ok(/ALREADY_RESUMED/.test(twice.stderr), twice.stderr.trim())

  // hand it back: B pauses, A (started again) resumes B's link; only B's new content crosses
  await sh(`head -c 300000 /dev/urandom > new-on-b.bin`, { cwd: dirB })
  const back = await ok(b, ['pause', 'task'])
  t.ok(back.link !== paused.link, 'a new link for the second move')
  const snapB = path.join(work, 'at-second-pause')
  await ok(b, ['export', 'task', snapB])
  const back2 = await a.run(['resume', back.link, '--mount', dirA, '--timeout', '30', '--wait', '--json'])
  t.is(back2.code, 0, back2.stderr.slice(-300))
  const returned = back2.json
  t.alike(stepsOf(back2.stderr).map(s => s.step), ['replicated', 'verified', 'mounted', 'working set', 'complete'], 'resume --wait: every step, until everything is local')
  t.ok(returned.complete, 'and says so')
  t.ok(returned.replaced, 'A takes its own workspace back (same name)')
  t.is(returned.workspace.identity, key, 'still the same identity')
  const synced = await ok(a, ['sync', 'task', '--timeout', '30'])
  const total = synced.bytes
  t.ok(synced.fetchedBytes > 300_000 && synced.fetchedBytes < 0.5 * total, `A fetched ${synced.fetchedBytes} bytes of ${total}: B's new content, not A's own`)
  const cmpBack = await run('diff', ['-r', snapB, dirA])
  t.is(cmpBack.code, 0, 'A\'s mount has B\'s changes, byte-equal')
  t.is((await sh('echo back on A > back.txt && cat back.txt', { cwd: dirA })).code, 0, 'A is writable again')
  const infoA = await ok(a, ['info', 'task'])
  t.is(infoA.lineage.length, 2, 'two moves in the lineage')
})

test('resume: bad links, a read key, a wrong secret, nobody online: clear errors, nothing left behind', async t => {
  const net = await localBootstrap(t)
  const [a, b] = [await peer(t, net), await peer(t, net)]
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'a.txt': 'one\n' })
  await ok(a, ['create', 'w', '--from', src])
  const key = (await ok(a, ['share', 'w'])).key
  const readKey = await b.run(['resume', key])
  t.is(readKey.code, 2, 'a read key cannot resume')
  t.ok(/NOT_RESUMABLE/.test(readKey.stderr), readKey.stderr.trim())
  const bad = await b.run(['resume', 'wxsr1-zz'])
  t.is(bad.code, 2)
  t.ok(/BAD_LINK/.test(bad.stderr), bad.stderr.trim())
  const paused = await ok(a, ['pause', 'w'])
  const parts = paused.link.split('-')
  const flipped = [parts[0], parts[1], parts[2].replace(/^./, (ch: string) => ch === '0' ? '1' : '0'), parts[3]].join('-')
  const typo = await b.run(['resume', flipped])
  t.is(typo.code, 2, 'a changed character is a malformed link (checksum)')
  t.ok(/checksum/.test(typo.stderr), typo.stderr.trim())
  const wrong = await b.run(['resume', formatResumeLink({ key: Buffer.from(key, 'hex'), secret: Buffer.alloc(32, 1) }), '--timeout', '20'])
  t.is(wrong.code, 2, 'a well-formed link with another secret cannot resume')
  t.ok(/HANDOFF_MISMATCH/.test(wrong.stderr), wrong.stderr.trim())
  t.alike((await ok(b, ['list'])), [], 'and leaves nothing behind')
  // not paused: a joined copy cannot be paused
  await ok(b, ['join', key, 'w-follow'])
  const notWriter = await b.run(['pause', 'w-follow'])
  t.is(notWriter.code, 2)
  t.ok(/NOT_WRITER/.test(notWriter.stderr), notWriter.stderr.trim())
  await stopDaemon(a.home)
  await ok(b, ['rm', 'w-follow'])
  // nobody online: the log cannot be fetched within the timeout
  const c = await peer(t, net)
  const offline = await c.run(['resume', paused.link, '--timeout', '3'])
  t.is(offline.code, 1)
  t.ok(/NO_PEERS/.test(offline.stderr), offline.stderr.trim())
  t.alike((await ok(c, ['list'])), [], 'nothing is left behind')
})

test('kill -9 at each step of a pause: not paused with everything committed, or paused with a valid record; never half', async t => {
  const net = await localBootstrap(t)
  const [a, b] = [await peer(t, net), await peer(t, net)]
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'a.txt': 'one\n', sub: { 'b.txt': randomBuffer(200_000, 3) } })
  await ok(a, ['create', 'w', '--from', src])
  const dir = await mountDir(t, a, 'w')
  await ok(a, ['mount', 'w', dir])
  let n = 0
  // before the record: the daemon dies with the mount frozen and committed, or with the secret written
  for (const point of ['pause:quiesced', 'pause:secret']) {
    n++
    // a daemon that will die at `point` (it mounts w again on start), then a write it never synced: the quiesce commits it
    await stopDaemonKeepingMount(a)
    await ok(a, ['info', 'w'], { env: { WXS_CRASH_AT: point } })
    t.is((await sh(`echo ${n} > step.txt`, { cwd: dir })).code, 0)
    const died = await a.run(['pause', 'w', '--json'], { env: { WXS_CRASH_AT: point } })
    t.not(died.code, 0, `the daemon died at ${point}`)
    const info = await ok(a, ['info', 'w'])
    t.is(info.paused, null, `${point}: not paused`)
    t.is(info.mount?.dir, dir, `${point}: mounted again where it was`)
    const r = await sh('cat step.txt && echo more >> a.txt && echo ok', { cwd: dir })
    t.is(r.stdout, `${n}\nok\n`, `${point}: what was written before is there, and the mount is writable again ${r.stderr}`)
  }
  // after the record: the next daemon finds a complete pause and gives its link
  await stopDaemonKeepingMount(a)
  t.not((await a.run(['pause', 'w', '--json'], { env: { WXS_CRASH_AT: 'pause:recorded' } })).code, 0, 'the daemon died at pause:recorded')
  const info = await ok(a, ['info', 'w'])
  t.ok(info.paused !== null, 'pause:recorded: paused')
  t.is((await sh('echo x > refused.txt', { cwd: dir })).code !== 0, true, 'the mount that came back refuses writes (paused)')
  const paused = await ok(a, ['pause', 'w'])
  t.absent(paused.created, 'pausing again returns the record the dead daemon wrote')
  t.is(paused.commit, info.paused.commit)
  process.kill((await daemonPid(a.home))!, 'SIGKILL')
  t.is((await ok(a, ['pause', 'w'])).link, paused.link, 'the same link after another kill -9 (the secret was on disk before the record)')

  // a resume killed after the continuation, before it was registered: nothing half-made is shown, and the link still resumes
  const bdir = await mountDir(t, b, 'w')
  t.not((await b.run(['resume', paused.link, '--mount', bdir, '--timeout', '30', '--json'], { env: { WXS_CRASH_AT: 'resume:continued' } })).code, 0, 'the daemon died at resume:continued')
  t.alike((await ok(b, ['list'])), [], 'no workspace is left half-resumed')
  await stopDaemon(b.home)
  // killed just after mounting: the next daemon comes back writable with the continuation and its mount
  t.not((await b.run(['resume', paused.link, '--mount', bdir, '--timeout', '30', '--json'], { env: { WXS_CRASH_AT: 'resume:mounted' } })).code, 0, 'the daemon died at resume:mounted')
  const binfo = await ok(b, ['info', 'w'])
  t.is(binfo.identity, paused.link.split('-')[1], 'B comes back with the continuation of A\'s log')
  t.is(binfo.paused, null)
  t.is(binfo.mount?.dir, bdir, 'and with its mount')
  t.is((await sh('echo two > a.txt && cat step.txt && cat sub/b.txt | wc -c', { cwd: bdir })).stdout, '2\n200000\n', 'writable, content fetched on demand')
  await ok(b, ['sync', 'w', '--timeout', '30'])
})

/** Stops a daemon with kill -9 (so its mounts come back with the next one), and waits for it to be gone. */
async function stopDaemonKeepingMount (p: { home: string }) {
  const pid = await daemonPid(p.home)
  if (pid === null) return
  process.kill(pid, 'SIGKILL')
  await waitFor(() => { try { process.kill(pid, 0); return false } catch { return true } }, 5000)
}

test('two resumes of one pause while partitioned: each side goes on, both report the conflict once they see each other, nothing is lost', async t => {
  const [net1, net2] = [await localBootstrap(t), await localBootstrap(t)]
  const [a, b, d] = [await peer(t, net1), await peer(t, net1), await peer(t, net1)]
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'a.txt': 'one\n', data: { 'x.bin': randomBuffer(100_000, 9) } })
  await ok(a, ['create', 'w', '--from', src])
  const key = (await ok(a, ['share', 'w'])).key
  for (const p of [b, d]) { await ok(p, ['join', key, 'w']); await ok(p, ['sync', 'w', '--timeout', '30']) }
  const paused = await ok(a, ['pause', 'w'])
  for (const p of [b, d]) t.ok(await waitFor(async () => (await ok(p, ['info', 'w'])).paused !== null, 20_000, 100), 'the follower has the pause record')
  await stopDaemon(a.home)
  // d goes to another network: it cannot see b any more
  const moveTo = async (p: typeof d, net: typeof net1) => {
    await stopDaemon(p.home)
    const file = path.join(p.home, 'net.json')
    const state = JSON.parse(await fs.readFile(file, 'utf8'))
    await fs.writeFile(file, JSON.stringify({ ...state, bootstrap: [net.bootstrap] }))
  }
  await moveTo(d, net2)
  const env2 = { env: { WXS_BOOTSTRAP: net2.bootstrap } }
  const onB = await ok(b, ['resume', paused.link, '--timeout', '20'])
  const onD = await ok(d, ['resume', paused.link, '--timeout', '20'], env2)
  t.not(onB.workspace.key, onD.workspace.key, 'two continuations of one pause')
  for (const [p, file, opts] of [[b, 'from-b.txt', {}], [d, 'from-d.txt', env2]] as const) {
    const dir = path.join(work, file)
    await writeTree(dir, { 'a.txt': 'one\n', data: { 'x.bin': randomBuffer(100_000, 9) }, [file]: `written on ${file}\n` })
    await ok(p, ['import', 'w', dir], opts)
  }
  // the partition heals
  await moveTo(d, net1)
  await ok(d, ['list'])
  const conflicted = async (p: typeof d) => (await ok(p, ['info', 'w'])).network.conflict?.length === 2
  t.ok(await waitFor(() => conflicted(b), 40_000, 250), 'b reports the conflict')
  t.ok(await waitFor(() => conflicted(d), 40_000, 250), 'd reports the conflict')
  const [infoB, infoD] = [await ok(b, ['info', 'w']), await ok(d, ['info', 'w'])]
  t.alike([...infoB.network.conflict].sort(), [onB.workspace.key, onD.workspace.key].sort(), 'both heads are named')
  t.is(infoB.key, onB.workspace.key, 'b keeps its own log: no winner picked')
  t.is(infoD.key, onD.workspace.key, 'd keeps its own log')
  t.alike(infoB.conflictHeads.map((h: any) => [h.key, h.here]), [[onB.workspace.key, true], [onD.workspace.key, false]], 'info shows both heads, this machine\'s first')
  // wxs diff --conflict compares them: each side sees the other's file added and its own removed
  for (const [p, mine, theirs] of [[b, 'from-b.txt', 'from-d.txt'], [d, 'from-d.txt', 'from-b.txt']] as const) {
    const r = await p.run(['diff', 'w', '--conflict', '--json'])
    t.is(r.code, 0, r.stderr)
    t.alike(r.json.changes.map((ch: any) => [ch.path, ch.change]).sort(), [[mine, 'removed'], [theirs, 'added']].sort(), `diff --conflict on the side of ${mine}`)
  }
  await ok(b, ['create', 'plain'])
  const none = await b.run(['diff', 'plain', '--conflict'])
  t.is(none.code, 2, 'no conflict where there is none: a usage error')
  for (const [p, file] of [[b, 'from-b.txt'], [d, 'from-d.txt']] as const) {
    const out = path.join(work, `export-${file}`)
    await ok(p, ['export', 'w', out])
    t.is(await fs.readFile(path.join(out, file), 'utf8'), `written on ${file}\n`, `${file}: nothing lost`)
  }
  // a third machine with the same link: the peers it reaches say the pause was resumed
  const e = await peer(t, net1)
  const late = await e.run(['resume', paused.link, '--timeout', '20', '--json'])
  if (late.code !== 1) console.log(late.stdout, late.stderr, await fs.readFile(path.join(e.home, 'daemon.log'), 'utf8').catch(() => ''))
  t.is(late.code, 1, 'a link resumed elsewhere fails')
  t.ok(/ALREADY_RESUMED: .*by another machine/.test(late.stderr), late.stderr.split('\n').filter(l => !l.startsWith('{')).join(' ').trim())
  t.alike(await ok(e, ['list']), [], 'and leaves nothing behind')
  t.ok(/wxs resume <link> <copy> --fork/.test(late.stderr), 'and says how to get a writable copy')
  // --fork: a writable copy of the paused state, its own key, while the holders keep theirs
  const forked = await ok(e, ['resume', paused.link, 'w-e', '--fork', '--timeout', '20'])
  t.is(forked.workspace.name, 'w-e')
  t.is(forked.fork.commit, paused.commit, 'at the pause')
  t.ok(forked.fork.joined, 'the workspace is followed here to fetch it')
  t.ok(![key, onB.workspace.key, onD.workspace.key].includes(forked.workspace.key), 'a key of its own')
  const edir = await mountDir(t, e, 'w-e')
  await ok(e, ['mount', 'w-e', edir])
  const read = await sh('wc -c < data/x.bin && echo mine > mine.txt && ls', { cwd: edir })
  t.is(read.stdout, '100000\na.txt\ndata\nmine.txt\n', 'its content arrives on demand and it is writable')
  t.is((await ok(e, ['info', 'w'])).remote, true, 'the followed workspace stays read-only')
  // where the history is local (b resumed it), the fork needs no network
  const local = await ok(b, ['resume', paused.link, 'w-b', '--fork'])
  t.absent(local.fork.joined, 'b forks its own history')
  t.is(local.fork.from, 'w')
})

test('a pause after wxs exec (nothing mounted) keeps what the command used; after a daemon restart, from the audit trail', async t => {
  const net = await localBootstrap(t)
  const a = await peer(t, net)
  const src = path.join(await tmpDir(t), 'src')
  await writeTree(src, project())
  const script = 'cat src/m1.ts src/m2.ts > /dev/null && echo out > built.txt && cat README.md > /dev/null'
  const used = ['/README.md', '/built.txt', '/src/m2.ts', '/src/m1.ts'] // newest first
  for (const name of ['one', 'two']) {
    await ok(a, ['create', name, '--from', src])
    const r = await a.run(['exec', name, '--json', '--', 'sh', '-c', script])
    t.is(r.code, 0, `exec in ${name} ${r.stderr.slice(-200)}`)
    t.is(r.json.mounted_by_exec, true, 'exec mounted it and unmounted it after')
  }
  const one = await ok(a, ['pause', 'one'])
  t.ok(one.link.startsWith('wxsr1-'))
  const info = (await ok(a, ['info', 'one'])).paused
  t.is(info.workingSet, used.length, 'the working set holds what the exec read and wrote, though nothing was mounted at the pause')
  t.alike(info.recent, used, `newest first: ${info.recent.join(' ')}`)

  await stopDaemon(a.home) // the daemon's memory of the last mount is gone: the audit trail remains
  await ok(a, ['pause', 'two'])
  const two = (await ok(a, ['info', 'two'])).paused
  t.alike(two.recent, used, `after a restart, from the audit trail: ${two.recent.join(' ')}`)
})
