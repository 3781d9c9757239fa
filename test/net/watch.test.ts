// The watch stream from real daemons on a private DHT on 127.0.0.1, through the
// real `wxs` command: `wxs top --json` during a join (state, patches, events,
// heartbeats, all NDJSON), `wxs sync --background off|on` as the dashboard's `p`
// does it, `wxs events` with --since and gaps, `wxs top --once` into a pipe.
import test, { configure } from 'brittle'
import path from 'node:path'
import { tmpDir, writeTree, randomBuffer, sh, waitFor, daemonPid, WXS_BIN, ROOT, type TreeSpec } from '../helpers/index.js'
import { localBootstrap, peer, ok, netEnv, mountDir } from '../helpers/net.js'
import { PROTOCOL_VERSION } from '../../cli/messages.js'
import netSocket from 'node:net'
import fs from 'node:fs/promises'

/** One request line on the daemon's socket; the first reply line, parsed. */
function rawRequest (sock: string, req: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = netSocket.createConnection(sock)
    let buf = ''
    c.on('data', d => { buf += d; const i = buf.indexOf('\n'); if (i !== -1) { c.destroy(); resolve(JSON.parse(buf.slice(0, i))) } })
    c.on('error', reject)
    c.write(JSON.stringify(req) + '\n')
  })
}

configure({ timeout: 300_000 })

const MiB = 1024 * 1024

function blobs (count: number, size: number, seed: number): TreeSpec {
  const spec: TreeSpec = {}
  for (let i = 0; i < count; i++) spec[`f${i}.bin`] = randomBuffer(size, seed + i)
  return spec
}

/** What `wxs top --json --once` says about one workspace now. */
async function fetchOf (p: any, name: string) {
  const r = await p.run(['top', '--json', '--once'])
  const first = JSON.parse(r.stdout.split('\n')[0])
  return first.state.workspaces[name]
}

test('watch: top --json streams state, patches, events and heartbeats during a join; the background fetch pauses and resumes; events replay with --since', async t => {
  const net = await localBootstrap(t)
  const [a, b] = [await peer(t, net), await peer(t, net)]
  const src = path.join(await tmpDir(t), 'src')
  await writeTree(src, { 'a.txt': 'hello\n', data: blobs(40, 256 * 1024, 7) })
  await ok(a, ['create', 'w', '--from', src])
  const { key } = await ok(a, ['share', 'w'])

  await ok(b, ['daemon', 'start'])
  // a watcher from before the join until after it is complete
  const streaming = b.run(['top', '--json'], { timeoutMs: 14_000 })
  await new Promise(resolve => setTimeout(resolve, 500))
  // joined lazily: the background fetch is off, as after `p` in the dashboard
  await ok(b, ['join', key, 'w', '--lazy'])
  await new Promise(resolve => setTimeout(resolve, 1500))
  const lazy = await fetchOf(b, 'w')
  t.is(lazy.role, 'joined')
  t.ok(lazy.fetch.paused, 'the fetch shows paused')
  t.not(lazy.state, 'complete', `nothing streams in while paused (${lazy.fetch.objects}/${lazy.fetch.totalObjects ?? '?'} objects)`)
  t.is(lazy.fetch.etaMs, null)
  t.is(lazy.fetch.etaWhy, 'background fetch paused', 'ETA unknown, and why')
  t.is((await fetchOf(b, 'w')).fetch.objects, lazy.fetch.objects, 'a second later, still nothing')
  const on = await ok(b, ['sync', 'w', '--background', 'on'])
  t.alike(on, { name: 'w', paused: false })
  t.ok(await waitFor(async () => (await fetchOf(b, 'w')).state === 'complete', 30_000, 200), 'resumed: the fetch runs to complete')
  const done = await fetchOf(b, 'w')
  t.is(done.fetch.objects, done.fetch.totalObjects, '100% means every object is here')
  t.alike(await ok(b, ['sync', 'w', '--background', 'off']), { name: 'w', paused: true })
  t.is((await b.run(['sync', 'w', '--background', 'sideways'])).code, 2, 'a bad --background value is a usage error')

  const streamed = await streaming
  const lines = streamed.stdout.split('\n').filter(Boolean)
  const replies = lines.map(l => JSON.parse(l)) // every line parses on its own
  t.is(replies[0].type, 'state', 'the stream starts with the whole state')
  t.ok(replies.some(r => r.type === 'patch' && r.patch.workspaces?.w), 'patches carry the joined workspace')
  t.ok(replies.some(r => r.type === 'heartbeat'), 'heartbeats while nothing changes')
  const events = replies.filter(r => r.type === 'event').map(r => r.event)
  t.ok(events.some(e => e.kind === 'joined' && e.workspace === 'w'), 'a joined event')
  t.ok(events.some(e => e.kind === 'peer-connected'), 'a peer-connected event')
  t.ok(events.some(e => e.kind === 'complete' && e.workspace === 'w'), 'a complete event')
  t.ok(events.every((e, i) => i === 0 || e.id === events[i - 1].id + 1), 'ids increase by one')
  t.absent(streamed.stdout.includes('\u001b'), 'no escape codes in the NDJSON')
  const patches = replies.filter(r => r.type === 'patch').length
  t.ok(patches <= 14 * 4 + 2, `at most ~4 patches a second (${patches} in 14 s)`)

  // events: replay from an id, and a gap for ids the daemon does not have
  const all = await b.run(['events', '--json'])
  t.is(all.code, 0, all.stderr)
  const kept = all.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l))
  t.ok(kept.some(e => e.kind === 'fetch-resumed') && kept.some(e => e.kind === 'fetch-paused'), 'the fetch actions are events too')
  const after = await b.run(['events', '--json', '--since', String(kept[1].id)])
  t.alike(after.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l).id), kept.slice(2).map(e => e.id), '--since replays only what came after')
  const plain = await b.run(['events'])
  t.ok(/^#1 \d\d:\d\d:\d\d /.test(plain.stdout), `plain lines: ${plain.stdout.split('\n')[0]}`)
  const gap = await b.run(['events', '--since', '999999'])
  t.is(gap.code, 0)
  t.ok(/no longer kept/.test(gap.stderr), gap.stderr.trim())
  t.is((await b.run(['events', '--since', 'x'])).code, 2, 'a bad --since is a usage error')

  // top --once into pipes: plain text, no escape codes; `| head -1` exits quietly; stdin from /dev/null
  const once = await b.run(['top', '--once'])
  t.is(once.code, 0, once.stderr)
  t.ok(/^wxs · daemon \d+ up /.test(once.stdout), once.stdout.split('\n')[0])
  t.ok(/^w\s+complete\s+complete, 10\.0 MiB/m.test(once.stdout), 'the workspace row')
  t.ok(/^PEER\s+LINK\s+ADDRESS/m.test(once.stdout), 'the peers table')
  t.absent(once.stdout.includes('\u001b'))
  const head = await sh(`${process.execPath} ${WXS_BIN} top --json < /dev/null | head -1`, { cwd: ROOT, env: { ...process.env, ...netEnv(net.bootstrap), WXS_HOME: b.home } })
  t.is(head.code, 0)
  t.is(JSON.parse(head.stdout).type, 'state', '| head -1 gets the state and the command ends quietly')
  t.is(head.stderr, '', 'no EPIPE noise')

  // the daemon going away ends a follower of events with a clear word
  const follow = b.run(['events', '--follow'], { timeoutMs: 20_000 })
  await new Promise(resolve => setTimeout(resolve, 700))
  process.kill((await daemonPid(b.home))!, 'SIGKILL')
  const ended = await follow
  t.is(ended.code, 1)
  t.ok(/the daemon went away/.test(ended.stderr), ended.stderr.trim())
})

test('watch: a read waiting in a mount names the object and the peer it waits on; peers show their link; a malformed since is refused', async t => {
  const net = await localBootstrap(t)
  const [a, b] = [await peer(t, net), await peer(t, net)]
  const src = path.join(await tmpDir(t), 'src')
  await writeTree(src, { 'small.txt': 'hi\n', 'big.bin': randomBuffer(3 * MiB, 11), sub: { 'x.txt': 'x\n' } })
  await ok(a, ['create', 'w', '--from', src])
  const { key } = await ok(a, ['share', 'w'])
  const peerA = (await ok(a, ['daemon', 'status'])).network.peer
  await ok(b, ['join', key, 'w', '--lazy'])
  const dir = await mountDir(t, b, 'w')
  await ok(b, ['mount', 'w', dir])

  const state = async () => JSON.parse((await b.run(['top', '--json', '--once'])).stdout.split('\n')[0]).state
  const linked = (await state()).peers[peerA]
  t.is(linked?.state, 'connected', 'the sharer is a connected peer')
  t.ok(linked.direction === 'in' || linked.direction === 'out', `with a direction (${linked.direction})`)
  t.ok(typeof linked.since === 'number' && linked.since <= Date.now(), 'and since when')
  t.ok(/^\d+\.\d+\.\d+\.\d+:\d+$/.test(linked.address), `and its address (${linked.address})`)

  // the sharer stops answering (SIGSTOP): a read of a file not here yet waits on it
  const pidA = (await daemonPid(a.home))!
  process.kill(pidA, 'SIGSTOP')
  t.teardown(() => { try { process.kill(pidA, 'SIGCONT') } catch {} }, { order: -2 })
  const reading = sh(`cat ${JSON.stringify(path.join(dir, 'big.bin'))} | wc -c`, { timeoutMs: 60_000 })
  const looking = sh(`stat -c %s ${JSON.stringify(path.join(dir, 'sub', 'x.txt'))}`, { timeoutMs: 60_000 })
  let blocked: any = null
  let seen: any = null
  t.ok(await waitFor(async () => { seen = await state(); blocked = seen.blocked.find((x: any) => x.path === '/big.bin'); return blocked?.waiting === 'inflight' && seen.blocked.some((x: any) => x.path === '/sub/x.txt' && x.waiting === 'inflight') }, 10_000, 200), `the read shows as waiting: ${JSON.stringify({ blocked: seen?.blocked, transfers: seen?.transfers, cat: await Promise.race([reading, new Promise(resolve => setTimeout(resolve, 100, 'still reading'))]), log: (await fs.readFile(path.join(b.home, 'daemon.log'), 'utf8')).split('\n').slice(-15) })}`)
  t.is(blocked.workspace, 'w')
  t.is(blocked.peer, peerA, 'on the stopped sharer')
  t.ok(/^[0-9a-f]{12}$/.test(blocked.object), 'for one named object')
  t.ok(blocked.ms >= 100)
  t.is(blocked.op, 'read')
  const lookup = seen.blocked.find((x: any) => x.path === '/sub/x.txt')
  t.ok(lookup?.op === 'lookup' && lookup.waiting === 'inflight' && lookup.peer === peerA, `a lookup under a directory not listed here yet waits on its listing, from the sharer: ${JSON.stringify(lookup)}`)
  const once = await b.run(['top', '--once'])
  t.ok(new RegExp(`w: /big\\.bin for .*, on ${blocked.object} from ${peerA.slice(0, 12)}`).test(once.stdout), once.stdout.split('\n').filter(l => l.includes('big.bin')).join(' | '))
  t.ok(/^PEER\s+LINK\s+ADDRESS/m.test(once.stdout), 'the peers table has the link column')
  process.kill(pidA, 'SIGCONT')
  const read = await reading
  t.is(read.code, 0, read.stderr)
  t.is(read.stdout.trim(), String(3 * MiB), 'the sharer back, the read completes')
  t.is((await looking).stdout.trim(), '2', 'and the lookup')
  t.ok(await waitFor(async () => (await state()).blocked.length === 0, 10_000, 200), 'and nothing waits any more')

  // a malformed since or run is refused with a usage error, not read as "none"
  for (const params of [{ since: 'x' }, { since: -1 }, { since: 1.5 }, { run: 7 }]) {
    const reply = await rawRequest(path.join(b.home, 'daemon.sock'), { v: PROTOCOL_VERSION, method: 'watch', params })
    t.is(reply.type, 'error', `${JSON.stringify(params)}: ${reply.error?.message}`)
    t.is(reply.error.code, 'USAGE')
  }
})
