// Share and join between real daemons (one state dir each) on a private DHT on
// 127.0.0.1, through the real `wxs` command: join, browse, read on demand,
// sync, follow, several sources, dedupe against local content, resume.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeTree, compareTrees, randomBuffer, run, sh, waitFor, daemonPid, stateDir, wxs, type TreeSpec } from '../helpers/index.js'
import { localBootstrap, peer, ok, mountDir, waitForPeers, type NetPeer } from '../helpers/net.js'

configure({ timeout: 300_000 })

const MiB = 1024 * 1024

function smallFiles (n: number, seed: number): TreeSpec {
  const spec: TreeSpec = {}
  for (let i = 0; i < n; i++) spec[`f${String(i).padStart(4, '0')}.txt`] = `file ${i} of seed ${seed}\n`.repeat(1 + (i % 7))
  return spec
}

/** A private network with `n` peers and a source tree; `spec` may be a TreeSpec or (count, MiB, seed) of random blobs. */
async function setup (t: any, n: number, spec: TreeSpec) {
  const net = await localBootstrap(t)
  const peers: NetPeer[] = []
  for (let i = 0; i < n; i++) peers.push(await peer(t, net))
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, spec)
  return { net, peers, work, src }
}

function blobs (count: number, size: number, seed: number, prefix = 'f'): TreeSpec {
  const spec: TreeSpec = {}
  for (let i = 0; i < count; i++) spec[`${prefix}${i}.bin`] = randomBuffer(size, seed + i)
  return spec
}

async function shared (t: any, p: NetPeer, name: string, src: string): Promise<string> {
  await ok(p, ['create', name, '--from', src])
  const r = await ok(p, ['share', name])
  t.is(r.key.length, 64, 'share prints a 64-hex key')
  return r.key
}

test('join: browsable before content is local, a read fetches only that file, sync makes it byte-equal', async t => {
  const { peers: [a, b], work, src } = await setup(t, 2, {
    docs: smallFiles(30, 1),
    big: { 'one.bin': randomBuffer(3 * MiB + 5, 11), 'two.bin': randomBuffer(5 * MiB, 12) },
    'run.sh': { mode: 0o755, content: '#!/bin/sh\necho hello from the sharer\n' },
    'link': { link: 'docs/f0001.txt' }
  })
  const key = await shared(t, a, 'proj', src)
  const mnt = await mountDir(t, b, 'proj')

  const joined = await ok(b, ['join', key, '--lazy', '--mount', mnt])
  t.is(joined.workspace.name, 'proj', 'the name defaults to the sharer\'s')
  t.ok(joined.workspace.remote, 'marked as joined')
  t.is(joined.mount.dir, mnt)

  const ls = await sh(`ls -R ${mnt}`)
  t.is(ls.code, 0, ls.stderr)
  t.ok(ls.stdout.includes('f0029.txt') && ls.stdout.includes('two.bin'), 'the whole tree lists')
  let net0 = (await ok(b, ['peers'])).network.received
  t.ok(net0.bytes < 64 * 1024, `browsing moved only trees (${net0.bytes} bytes)`)

  const cmp = await sh(`cmp ${path.join(mnt, 'big/one.bin')} ${path.join(src, 'big/one.bin')}`)
  t.is(cmp.code, 0, 'a file read through the mount is byte-equal ' + cmp.stdout + cmp.stderr)
  const net1 = (await ok(b, ['peers'])).network.received
  const got = net1.bytes - net0.bytes
  t.ok(got >= 3 * MiB + 5 && got < 3 * MiB + 64 * 1024, `reading one.bin moved its 4 chunks and no more (${got} bytes)`)
  t.is(net1.objects - net0.objects, 4, 'exactly the chunks of that file')

  const fsck = await ok(b, ['fsck'])
  t.ok(fsck.ok, 'fsck: content of a joined workspace not fetched yet is not damage')
  const gc = await ok(b, ['gc'])
  t.ok(gc.liveObjects >= 5, `gc keeps what was fetched (${gc.liveObjects} live objects) and does not refuse`)
  t.is((await sh(`cmp ${path.join(mnt, 'big/one.bin')} ${path.join(src, 'big/one.bin')}`)).code, 0, 'still readable after gc')

  const runIt = await sh(path.join(mnt, 'run.sh'))
  t.is(runIt.stdout.trim(), 'hello from the sharer', 'the executable bit crossed the network')

  const synced = await ok(b, ['sync', 'proj'])
  t.ok(synced.complete)
  const out = path.join(work, 'export')
  await ok(b, ['export', 'proj', out])
  t.is(await compareTrees(src, out), '', 'after sync the joined workspace is byte-equal to the source (modes, links, mtimes)')
  net0 = (await ok(b, ['peers'])).network.received
  t.ok(net0.bytes <= 8 * MiB + 5 + 64 * 1024 + 20_000, `nothing crossed twice (${net0.bytes} bytes in total)`)
  // what each side says it holds (status messages): all of it, counted as objects arrive
  t.is(synced.objects, 3 + 30 + 4 + 5 + 1, 'sync counts 3 trees and 40 chunks')
  const holds = async (p: NetPeer) => (await ok(p, ['peers', 'proj'])).peers[0]?.holds
  const sharerHolds = await holds(b)
  t.ok(sharerHolds?.objects === 43 && sharerHolds?.complete === true, `the joiner sees the sharer hold all 43 (${JSON.stringify(sharerHolds)})`)
  t.ok(await waitFor(async () => (await holds(a))?.objects === 43 && (await holds(a))?.complete === true, 5000, 100), `the sharer sees the joiner hold all 43 once synced (${JSON.stringify(await holds(a))})`)

  const write = await sh(`echo x > ${path.join(mnt, 'new.txt')}`)
  t.not(write.code, 0, 'a joined mount is read-only')
  t.ok(/Read-only file system/.test(write.stderr), write.stderr)
  const imp = await b.run(['import', 'proj', src])
  t.is(imp.code, 2)
  t.ok(imp.stderr.includes('READ_ONLY') && imp.stderr.includes('wxs fork'), 'the error says how to get a writable copy')

  const fork = await ok(b, ['fork', 'proj', 'mine'])
  t.is(fork.workspace.origin.name, 'proj')
  const fmnt = await mountDir(t, b, 'mine')
  await ok(b, ['mount', 'mine', fmnt])
  const w = await sh(`echo mine > ${path.join(fmnt, 'new.txt')} && cat ${path.join(fmnt, 'docs/f0003.txt')} >/dev/null`)
  t.is(w.code, 0, 'a fork of a joined workspace is writable ' + w.stderr)
})

test('follow: commits by the sharer appear in the joined workspace and its mount; a pinned snapshot stays', async t => {
  const { net, peers: [a, b, c], work, src } = await setup(t, 3, { 'a.txt': 'one\n', sub: { 'b.txt': 'two\n' } })
  const key = await shared(t, a, 'live', src)
  await ok(a, ['snapshot', 'live', 'v1'])
  const mnt = await mountDir(t, b, 'live')
  await ok(b, ['join', key, '--mount', mnt])
  const pinned = await ok(c, ['join', `${key}@v1`, 'live-v1'])
  t.is(pinned.workspace.pin, 'v1')
  const twice = await b.run(['join', key, 'again'])
  t.is(twice.code, 2, 'the same workspace cannot be joined twice')
  t.ok(twice.stderr.includes('already here as "live"'), twice.stderr.trim())

  await fs.writeFile(path.join(src, 'a.txt'), 'one, changed\n')
  await fs.writeFile(path.join(src, 'c.txt'), 'three\n')
  const imp = await ok(a, ['import', 'live', src])
  t.is(imp.commit.seq, 1)

  const seen = await waitFor(async () => (await sh(`cat ${path.join(mnt, 'c.txt')} 2>/dev/null || true`)).stdout === 'three\n', 15_000, 100)
  t.ok(seen, 'the new file shows up in the joined mount')
  t.is((await sh(`cat ${path.join(mnt, 'a.txt')}`)).stdout, 'one, changed\n', 'the changed file shows its new content')
  t.is((await ok(b, ['info', 'live'])).head.seq, 1, 'the joined head moved')
  const pin = await ok(c, ['info', 'live-v1'])
  t.is(pin.head.seq, 0, 'the pinned join stays at the snapshot')
  const pout = path.join(work, 'pinned')
  await ok(c, ['export', 'live-v1', pout])
  t.is(await fs.readFile(path.join(pout, 'a.txt'), 'utf8'), 'one\n', 'and shows the snapshot\'s content')

  const d = await peer(t, net)
  const badPin = await d.run(['join', `${key}@nope`, 'x', '--timeout', '10'])
  t.is(badPin.code, 2)
  t.ok(badPin.stderr.includes('SNAPSHOT_NOT_FOUND'), badPin.stderr)
  t.is((await ok(d, ['list'])).length, 0, 'a failed join leaves nothing behind')
})

test('peers already connected: a workspace shared later joins over the same connection, in both directions', async t => {
  const { peers: [a, b], work, src } = await setup(t, 2, { 'one.txt': 'first workspace\n' })
  const key1 = await shared(t, a, 'one', src)
  await ok(b, ['join', key1])
  await ok(b, ['sync', 'one'])
  t.is((await ok(b, ['peers'])).network.connections, 1, 'one connection between the two daemons')

  // shared after the connection exists: b has no session for it when a opens its channel
  const second = path.join(work, 'second')
  await writeTree(second, smallFiles(40, 7))
  const key2 = await shared(t, a, 'two', second)
  const joined = await b.run(['join', key2, '--timeout', '20', '--json'])
  t.is(joined.code, 0, 'the second join succeeds' + (joined.code === 0 ? '' : ': ' + joined.stderr.trim().slice(-300)))
  await ok(b, ['sync', 'two'])
  // unshared and shared again: the follower gets its channel back on the same connection
  await ok(a, ['unshare', 'two'])
  t.ok(await waitFor(async () => (await ok(b, ['peers', 'two'])).peers.length === 0, 15_000, 100), 'the follower sees the sharer stop')
  await ok(a, ['share', 'two'])
  t.ok(await waitFor(async () => (await ok(b, ['peers', 'two'])).peers.length === 1, 15_000, 100), 'and come back')
  const out2 = path.join(work, 'out2')
  await ok(b, ['export', 'two', out2])
  t.is(await compareTrees(second, out2), '', 'byte-equal')

  // removed and joined again while still connected
  await ok(b, ['rm', 'two'])
  const again = await b.run(['join', key2, '--timeout', '20', '--json'])
  t.is(again.code, 0, 'joined again after rm' + (again.code === 0 ? '' : ': ' + again.stderr.trim().slice(-300)))
  await ok(b, ['sync', 'two'])

  // and the other way: b shares, a joins, over the same connection
  const third = path.join(work, 'third')
  await writeTree(third, { 'back.txt': 'from the joiner\n' })
  const key3 = await shared(t, b, 'three', third)
  await ok(a, ['join', key3, '--timeout', '20'])
  await ok(a, ['sync', 'three'])
  const out3 = path.join(work, 'out3')
  await ok(a, ['export', 'three', out3])
  t.is(await compareTrees(third, out3), '', 'byte-equal the other way')
  t.is((await ok(a, ['peers'])).network.connections, 1, 'still one connection')
})

test('a fork of a lazily joined workspace, shared on: a third peer gets all of it, fetched through the forker', async t => {
  const { peers: [a, b, c], work, src } = await setup(t, 3, { docs: smallFiles(30, 3), data: blobs(3, MiB, 70, 'd') })
  const key = await shared(t, a, 'origin', src)
  await ok(b, ['join', key, '--lazy'])
  await ok(b, ['fork', 'origin', 'mine'])
  const held = (await ok(b, ['peers'])).network.received.bytes
  t.ok(held < 64 * 1024, `the forker holds little of it (${held} bytes fetched)`)
  const forkKey = (await ok(b, ['share', 'mine'])).key
  await ok(c, ['join', forkKey, 'theirs', '--timeout', '20', '--lazy'])
  const forkerHolds = (await ok(c, ['peers', 'theirs'])).peers[0]?.holds
  t.is(forkerHolds?.complete, false, `the forker does not claim to hold all of it (${JSON.stringify(forkerHolds)})`)
  const synced = await c.run(['sync', 'theirs', '--timeout', '20', '--json'])
  t.is(synced.code, 0, 'the third peer syncs all of it' + (synced.code === 0 ? '' : ': ' + synced.stderr.trim().slice(-300)))
  const out = path.join(work, 'out')
  await ok(c, ['export', 'theirs', out])
  t.is(await compareTrees(src, out), '', 'byte-equal')
  const cPeers = (await ok(c, ['peers', 'theirs'])).peers
  t.is(cPeers.length, 1, 'the third peer only knows the forker')
  const fromOrigin = (await ok(b, ['peers', 'origin'])).peers[0].received.bytes
  t.ok(fromOrigin >= 3 * MiB, `the forker fetched the content from the origin on the way (${fromOrigin} bytes)`)
})

test('three peers: content comes from two sources at once', async t => {
  const { peers: [a, b, c], work, src } = await setup(t, 3, blobs(12, 4 * MiB, 100, 'blob'))
  const key = await shared(t, a, 'data', src)
  await ok(b, ['join', key])
  await ok(b, ['sync', 'data'])
  await waitForPeers(b, 'data', 1)

  await ok(c, ['join', key, '--lazy'])
  await waitForPeers(c, 'data', 2)
  const synced = await ok(c, ['sync', 'data'])
  t.ok(synced.complete)
  const peers = (await ok(c, ['peers', 'data'])).peers
  t.is(peers.length, 2, 'connected to both seeders')
  for (const p of peers) t.ok(p.received.bytes >= 4 * MiB, `received ${p.received.bytes} bytes from ${p.peer.slice(0, 8)}`)
  const total = peers.reduce((n: number, p: any) => n + p.received.bytes, 0)
  t.ok(total < 48 * MiB + 64 * 1024, `no chunk fetched twice (${total} bytes)`)
  const out = path.join(work, 'out')
  await ok(c, ['export', 'data', out])
  t.is(await compareTrees(src, out), '')
})

test('a peer that goes silent: reads waiting on it are asked of the other peer, long before it times out', async t => {
  const spec: TreeSpec = {}
  for (let d = 0; d < 12; d++) spec[`d${d}`] = { 'a.bin': randomBuffer(64 * 1024, 300 + d), 'b.txt': `dir ${d}\n` }
  const { peers: [a, b, c], src } = await setup(t, 3, spec)
  const key = await shared(t, a, 'data', src)
  await ok(b, ['join', key])
  await ok(b, ['sync', 'data'])
  await ok(c, ['join', key, '--lazy'])
  await waitForPeers(c, 'data', 2)
  const dir = await mountDir(t, c, 'data')
  await ok(c, ['mount', 'data', dir])
  // a stops answering without closing anything (a stopped process, a laptop lid)
  const pidA = (await daemonPid(a.home))!
  process.kill(pidA, 'SIGSTOP')
  t.teardown(() => { try { process.kill(pidA, 'SIGCONT') } catch {} }, { order: -2 })
  // twelve directories not listed here yet, read at once: the least-loaded choice asks both peers
  const files = Object.keys(spec).flatMap(d => [path.join(dir, d, 'a.bin'), path.join(dir, d, 'b.txt')])
  const started = Date.now()
  const read = await sh(`for f in ${files.map(f => JSON.stringify(f)).join(' ')}; do cat "$f" > /dev/null & done; wait`, { timeoutMs: 60_000 })
  const ms = Date.now() - started
  t.is(read.code, 0, read.stderr)
  const status = await ok(c, ['daemon', 'status'])
  t.ok(status.network.received.hedged > 0, `reads that waited on the silent peer were asked of the other (${status.network.received.hedged})`)
  t.ok(ms < 8000, `every read done while a is still stopped, before its 10 s timeout (${ms} ms)`)
  process.kill(pidA, 'SIGCONT')
  const out = path.join(await tmpDir(t), 'out')
  await ok(c, ['export', 'data', out])
  t.is(await compareTrees(src, out), '', 'and what arrived is the tree')
})

test('a join that shares 95% of its content with a local workspace moves only the rest', async t => {
  const { peers: [a, b], work, src } = await setup(t, 2, blobs(20, MiB, 500, 'part'))
  await ok(b, ['create', 'mine', '--from', src]) // the joiner already holds this content
  await fs.writeFile(path.join(src, 'part7.bin'), randomBuffer(MiB, 9999)) // 1 of 20 files changed: 5%
  const key = await shared(t, a, 'theirs', src)
  await ok(b, ['join', key])
  const synced = await ok(b, ['sync', 'theirs'])
  const logical = 20 * MiB
  const received = (await ok(b, ['peers'])).network.received.bytes
  t.ok(received <= logical * 0.06, `received ${received} bytes = ${(100 * received / logical).toFixed(2)}% of ${logical}`)
  t.ok(received >= MiB, 'the changed file did cross')
  t.ok(synced.fetchedBytes >= MiB && synced.fetchedBytes <= logical * 0.06, `sync reports what it fetched (${synced.fetchedBytes})`)
  const out = path.join(work, 'out')
  await ok(b, ['export', 'theirs', out])
  t.is(await compareTrees(src, out), '')
})

test('directory listings cross as deltas against the joiner\'s own: a join with scattered edits, then a followed commit', async t => {
  const spec: TreeSpec = {}
  for (let d = 0; d < 8; d++) {
    const files: TreeSpec = {}
    for (let i = 0; i < 80; i++) files[`file-${String(i).padStart(3, '0')}.txt`] = `dir ${d} file ${i}\n`.repeat(40)
    spec[`dir${d}`] = files
  }
  const { peers: [a, b], work, src } = await setup(t, 2, spec)
  await ok(b, ['create', 'mine', '--from', src]) // the joiner holds every listing as it was
  let changed = 0
  for (let d = 0; d < 8; d++) {
    for (const i of [3, 41, 77]) { // three scattered edits and one new file per directory
      const data = `edited ${d}/${i}\n`.repeat(50)
      await fs.writeFile(path.join(src, `dir${d}`, `file-${String(i).padStart(3, '0')}.txt`), data)
      changed += data.length
    }
    const data = `new in ${d}\n`.repeat(60)
    await fs.writeFile(path.join(src, `dir${d}`, 'new.txt'), data)
    changed += data.length
  }
  const key = await shared(t, a, 'theirs', src)
  await ok(b, ['join', key])
  const synced = await ok(b, ['sync', 'theirs'])
  const listings = synced.fetchedBytes - changed // the trees fetched, at their full size
  const wire = (await ok(b, ['peers', 'theirs'])).peers.reduce((n: number, p: any) => n + p.received.bytes, 0) - changed
  const stats = (await ok(b, ['peers'])).network.received
  t.ok(listings > 8 * 80 * 40, `the 9 listings fetched are ${listings} bytes in all`)
  t.ok(wire < listings / 4, `they crossed as ${wire} bytes (${(100 * wire / listings).toFixed(1)}%)`)
  // the sync counts what crossed for the objects it fetched (all but the root, which join fetched)
  t.ok(synced.receivedBytes - changed < listings / 4 && synced.receivedBytes - changed <= wire, `sync says ${synced.receivedBytes - changed} bytes of listings crossed the network`)
  t.ok(synced.receivedBytes > changed, 'and counts the changed content too')
  t.is(stats.deltas, 8, 'every changed directory came as a delta (the root came whole: nothing to compare it with yet)')
  t.is(stats.deltaFallbacks, 0, 'and every one rebuilt to its hash')
  const out = path.join(work, 'out')
  await ok(b, ['export', 'theirs', out])
  t.is(await compareTrees(src, out), '', 'byte-equal to the source')

  // the sharer edits one file: the new root and dir5 come as deltas against the previous commit's
  await fs.writeFile(path.join(src, 'dir5', 'file-010.txt'), 'edited again\n')
  await ok(a, ['import', 'theirs', src])
  t.ok(await waitFor(async () => (await ok(b, ['info', 'theirs'])).head.seq === 1, 15_000, 100), 'the joiner follows the new commit')
  await ok(b, ['sync', 'theirs'])
  const after = (await ok(b, ['peers'])).network.received
  t.is(after.deltas - stats.deltas, 2, 'root and dir5 as deltas')
  t.is(after.objects - stats.objects, 3, 'and one new chunk: nothing else crossed')
  await ok(b, ['export', 'theirs', path.join(work, 'out2')])
  t.is(await compareTrees(src, path.join(work, 'out2')), '', 'byte-equal again')
})

test('the sharer stops after part was read and returns: what was fetched stays readable offline, nothing is fetched twice', async t => {
  const { peers: [a, b], work, src } = await setup(t, 2, blobs(8, 2 * MiB, 40, 'f'))
  const key = await shared(t, a, 'resume', src)
  const mnt = await mountDir(t, b, 'resume')
  await ok(b, ['join', key, '--lazy', '--mount', mnt])
  t.is((await sh(`cat ${mnt}/f0.bin ${mnt}/f1.bin | wc -c`)).stdout.trim(), String(4 * MiB), 'part of it read')
  const before = (await ok(b, ['peers'])).network.received

  await ok(a, ['daemon', 'stop'])
  const gone = await waitFor(async () => (await ok(b, ['peers', 'resume'])).peers.length === 0, 30_000, 200)
  t.ok(gone, 'the joiner noticed the sharer left')
  const offline = await sh(`timeout 60 cat ${mnt}/f0.bin | wc -c`)
  t.is(offline.stdout.trim(), String(2 * MiB), 'what was fetched stays readable with no peer')
  const stalled = await b.run(['sync', 'resume', '--timeout', '2', '--json'])
  t.is(stalled.code, 1, 'sync --timeout gives up with no peer')
  t.is(stalled.json?.error?.code, 'STALLED', 'as STALLED')
  t.ok(/nothing arrived for 2 s from 0 peer\(s\); 5 of 17 objects are local/.test(stalled.json?.error?.message ?? ''), stalled.json?.error?.message)

  await ok(a, ['daemon', 'start']) // the restarted daemon shares again (net.json)
  await waitForPeers(b, 'resume', 1, 30_000)
  await ok(b, ['sync', 'resume'])
  const after = (await ok(b, ['peers'])).network.received
  t.is(after.objects - before.objects, 12, 'only the 12 chunks not yet local were fetched after the return')
  t.ok(after.bytes <= 16 * MiB + 64 * 1024, `total received ${after.bytes} bytes for 16 MiB`)
  const out = path.join(work, 'out')
  await ok(b, ['export', 'resume', out])
  t.is(await compareTrees(src, out), '')
})

test('join with a malformed or unknown key fails clearly and leaves nothing behind', async t => {
  const net = await localBootstrap(t)
  const b = await peer(t, net)
  for (const bad of ['nope', 'abc123', 'z'.repeat(64), 'f'.repeat(63), 'f'.repeat(64) + '@bad/label']) {
    const r = await b.run(['join', bad])
    t.is(r.code, 2, `exit 2 for ${bad}`)
    t.ok(r.stderr.includes('BAD_KEY'), r.stderr.trim())
  }
  const unknown = await b.run(['join', 'ab'.repeat(32), '--timeout', '3', '--json'])
  t.is(unknown.code, 1)
  t.is(unknown.json.error.code, 'NO_PEERS', unknown.stderr)
  t.ok(unknown.stderr.includes('--bootstrap'), 'the error says what to check')
  t.is((await ok(b, ['list'])).length, 0, 'no workspace was created')
  await ok(b, ['create', 'x'])
  const badBoot = await b.run(['share', 'x', '--bootstrap', 'localhost'])
  t.is(badBoot.code, 2)
  t.ok(badBoot.stderr.includes('BAD_BOOTSTRAP'), badBoot.stderr.trim())
  // no bootstrap at all where the public nodes are refused: a usage error that says what to pass
  const home = await stateDir(t)
  const env = { WXS_BOOTSTRAP: '', WXS_NO_PUBLIC_BOOTSTRAP: '1' }
  t.is((await wxs(home, ['create', 'y'], { env })).code, 0)
  const noBoot = await wxs(home, ['share', 'y', '--json'], { env })
  t.is(noBoot.code, 2, 'exit 2')
  t.is(noBoot.json?.error?.code, 'NO_BOOTSTRAP', noBoot.stderr.trim())
  t.ok(noBoot.stderr.includes('--bootstrap'), 'and names the flag')
  t.is((await wxs(home, ['daemon', 'stop'], { env })).code, 0)
})

test('the sharer is killed (-9) in the middle of a background transfer and comes back: every object crosses exactly once', async t => {
  const { peers: [a, b], work, src } = await setup(t, 2, blobs(24, 4 * MiB, 300, 'f'))
  const key = await shared(t, a, 'big', src)
  await ok(b, ['join', key]) // background prefetch starts at once
  let seen = 0
  const moving = await waitFor(async () => { seen = (await ok(b, ['peers'])).network.received.objects; return seen > 0 }, 20_000, 20)
  t.ok(moving, 'the transfer started')
  const pid = await daemonPid(a.home)
  process.kill(pid!, 'SIGKILL')
  const partial = (await ok(b, ['info', 'big'])).network.sync
  t.ok(partial.objects < partial.totalObjects || partial.totalObjects === null, `killed mid-transfer (${partial.objects}/${partial.totalObjects} objects local)`)

  await ok(a, ['daemon', 'start']) // the new daemon cleans up, shares again, looks up its followers
  const synced = await ok(b, ['sync', 'big'], { timeoutMs: 120_000 })
  t.ok(synced.complete)
  const received = (await ok(b, ['peers'])).network.received
  t.is(received.objects, 24 * 4 + 1, 'each chunk and the root tree arrived exactly once across both connections')
  const out = path.join(work, 'out')
  await ok(b, ['export', 'big', out])
  t.is(await compareTrees(src, out), '')
})
