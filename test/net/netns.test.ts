// Share and join between two "hosts": Linux network namespaces joined by a veth
// pair (10.231.X.1 <-> 10.231.X.2), a DHT bootstrap running inside host A, and
// one daemon per host, each started inside its namespace (the first `wxs`
// command, run through `ip netns exec`, autostarts it there) with its DHT bound
// to its own address. A third namespace with only loopback cannot join.
//
// Binding: a DHT left on 0.0.0.0 starts "firewalled"; with both peers like
// that, joins across the veth timed out (NO_PEERS after 30 s) in 4 of 5 manual
// trials, while binding either side made every join take under 1 s. So wxs binds
// the address that routes to a private-range bootstrap by itself: A passes
// --dht-host explicitly, B relies on that default (its peers report shows it).
//
// Nothing here can reach beyond the namespaces: they have no default route (the
// test checks), and every wxs process gets an explicit bootstrap plus
// WXS_NO_PUBLIC_BOOTSTRAP=1.
//
// Mounts: `ip netns exec` also unshares the mount namespace (it remounts /sys in
// a private copy of the caller's mounts), so a FUSE mount made by a daemon
// started that way lives in the daemon's mount namespace only: neither the host
// nor a later `ip netns exec` sees it. Reads through the mount therefore enter
// the daemon's mount namespace (`nsenter -t <daemon pid> -m`).
import test, { configure } from 'brittle'
import type { Assert } from 'brittle'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ROOT, WXS_BIN, tmpDir, writeTree, compareTrees, randomBuffer, run, wxs, daemonPid, isRunning, waitFor, type RunOptions, type RunResult } from '../helpers/index.js'
import { netEnv, ok, type NetPeer } from '../helpers/net.js'

configure({ timeout: 300_000 })

const MiB = 1024 * 1024

// -- namespaces ----------------------------------------------------------------------

interface Hosts {
  /** Namespace names by host letter. */
  ns: Record<string, string>
  /** The host's address on the link (null: loopback only). */
  addr: Record<string, string | null>
  subnet: string
}

function ip (args: string[]): Promise<RunResult> {
  return run('ip', args, { timeoutMs: 20_000 }).catch((err: Error) => ({ code: -1, signal: null, stdout: '', stderr: err.message, json: null }))
}

async function mustIp (args: string[]) {
  const r = await ip(args)
  if (r.code !== 0) {
    throw new Error(`\`ip ${args.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim()}\n` +
      'this test needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN) and iproute2 to create network namespaces; it does not skip')
  }
  return r
}

/**
 * Namespaces `wxs-<run>-<rand>-<letter>` (<run>: the first 8 characters of the
 * runner's WXS_TEST_RUN, so test/run.js deletes them after a crash): `linked` ones share a veth pair on
 * 10.231.X.0/24 (X random, first .1, second .2); `isolated` ones have only lo.
 * Deleted at teardown (after the daemons in them have stopped).
 */
async function hosts (t: Assert, linked: [string, string], isolated: string[] = []): Promise<Hosts> {
  const tag = randomBytes(4).toString('hex')
  const x = 1 + Math.floor(Math.random() * 254)
  const subnet = `10.231.${x}`
  const created: string[] = []
  t.teardown(async () => {
    for (const ns of created) await ip(['netns', 'del', ns])
  }, { order: 80 })
  const out: Hosts = { ns: {}, addr: {}, subnet }
  for (const h of [...linked, ...isolated]) {
    const ns = `wxs-${(process.env.WXS_TEST_RUN ?? 'manual').slice(0, 8)}-${tag}-${h}`
    await mustIp(['netns', 'add', ns])
    created.push(ns)
    await mustIp(['-n', ns, 'link', 'set', 'lo', 'up'])
    out.ns[h] = ns
    out.addr[h] = null
  }
  const [a, b] = linked
  const ifa = `wx${tag}${a}`.slice(0, 15)
  const ifb = `wx${tag}${b}`.slice(0, 15)
  // created directly inside the namespaces: the host's interfaces never change
  await mustIp(['link', 'add', ifa, 'netns', out.ns[a], 'type', 'veth', 'peer', 'name', ifb, 'netns', out.ns[b]])
  for (const [h, dev, n] of [[a, ifa, 1], [b, ifb, 2]] as const) {
    out.addr[h] = `${subnet}.${n}`
    await mustIp(['-n', out.ns[h], 'addr', 'add', `${subnet}.${n}/24`, 'dev', dev])
    await mustIp(['-n', out.ns[h], 'link', 'set', dev, 'up'])
  }
  return out
}

/** The namespace's IPv4 routes (besides the local table): only the link's subnet, if any. */
async function routes (ns: string): Promise<string[]> {
  return (await mustIp(['-n', ns, '-4', 'route', 'show'])).stdout.split('\n').map(l => l.trim()).filter(Boolean)
}

// -- processes inside a namespace ----------------------------------------------------

/** `wxs bootstrap --host <addr> --json` inside a namespace; resolves to host:port once it prints it. Killed at teardown. */
async function bootstrapIn (t: Assert, ns: string, host: string): Promise<{ bootstrap: string, host: string, port: number }> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, WXS_BIN, 'bootstrap', '--host', host, '--json'], {
    cwd: ROOT,
    env: { ...process.env, WXS_NO_PUBLIC_BOOTSTRAP: '1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<void>(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM') // `ip netns exec` execs node: this is the bootstrap itself
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }, { order: 50 })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', d => { stderr += d })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bootstrap in ${ns} printed nothing within 20 s: ${stderr}`)), 20_000)
    child.once('error', err => { clearTimeout(timer); reject(err) })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`bootstrap in ${ns} exited ${code}: ${stderr.trim()}`)) })
    child.stdout!.on('data', d => {
      stdout += d
      const nl = stdout.indexOf('\n')
      if (nl === -1) return
      clearTimeout(timer)
      try {
        const info = JSON.parse(stdout.slice(0, nl))
        resolve({ bootstrap: info.bootstrap, host: info.host, port: info.port })
      } catch (err) {
        reject(new Error(`bootstrap printed ${JSON.stringify(stdout)}: ${(err as Error).message}`))
      }
    })
  })
}

interface NsPeer extends NetPeer {
  ns: string
  /** Runs a shell script in the mount namespace of this peer's daemon (where its FUSE mounts are). */
  inMounts (script: string): Promise<RunResult>
  /** Mount dirs to detach at teardown if the daemon does not stop cleanly. */
  mounts: string[]
}

/**
 * One host's wxs: its own WXS_HOME, every command run with `ip netns exec <ns>`
 * (so the autostarted daemon lives there) on the given bootstrap. At teardown
 * the daemon is stopped (inside the namespace), and if it does not go, its
 * mounts are detached in its mount namespace and it is killed.
 */
async function nsPeer (t: Assert, ns: string, bootstrap: string): Promise<NsPeer> {
  const home = await tmpDir(t, 'wxs-home-')
  const env = netEnv(bootstrap)
  const wrap = ['ip', 'netns', 'exec', ns]
  const p: NsPeer = {
    ns,
    home,
    mounts: [],
    run: (args: string[], opts: RunOptions = {}) => wxs(home, args, { ...opts, wrap, env: { ...env, ...opts.env } }),
    async inMounts (script: string) {
      const pid = await daemonPid(home)
      if (pid === null || !isRunning(pid)) throw new Error(`no daemon running for ${ns}`)
      return run('nsenter', ['-t', String(pid), '-m', '--', 'bash', '-euo', 'pipefail', '-c', script], { timeoutMs: 60_000 })
    }
  }
  t.teardown(async () => {
    const pid = await daemonPid(home)
    if (pid !== null && isRunning(pid)) {
      await wxs(home, ['daemon', 'stop'], { wrap, env, timeoutMs: 20_000 }).catch(() => null)
      if (isRunning(pid)) {
        for (const dir of p.mounts) await run('nsenter', ['-t', String(pid), '-m', 'fusermount', '-uz', dir]).catch(() => null)
        try { process.kill(pid, 'SIGKILL') } catch {}
        await waitFor(() => !isRunning(pid), 5000)
      }
    }
    // in case a mount ever lands in the host's mount namespace
    for (const dir of p.mounts) await run('fusermount', ['-uz', dir]).catch(() => null)
  }, { order: 0 })
  return p
}

// -- tests -------------------------------------------------------------------------

test('two hosts in network namespaces: share, join with a mount, sync byte-equal, follow a change; peers shows the other host\'s address', async t => {
  const h = await hosts(t, ['a', 'b'])
  const [addrA, addrB] = [h.addr.a!, h.addr.b!]
  for (const ns of [h.ns.a, h.ns.b]) {
    const r = await routes(ns)
    t.alike(r.filter(l => !l.startsWith(`${h.subnet}.0/24 `)), [], `${ns}: no route beyond the link (${r.join('; ')})`)
  }

  const boot = await bootstrapIn(t, h.ns.a, addrA)
  t.is(boot.host, addrA, `the bootstrap listens on host A's address (${boot.bootstrap})`)
  const a = await nsPeer(t, h.ns.a, boot.bootstrap)
  const b = await nsPeer(t, h.ns.b, boot.bootstrap)

  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, {
    'README.md': '# shared across namespaces\n',
    docs: { 'one.txt': 'one\n', 'two.txt': 'two\n'.repeat(100), deeper: { 'three.txt': 'three\n' } },
    'run.sh': { mode: 0o755, content: '#!/bin/sh\necho hi\n' },
    'link': { link: 'docs/one.txt' },
    'big.bin': randomBuffer(6 * MiB, 77)
  })
  await ok(a, ['create', 'proj', '--from', src])
  const shared = await ok(a, ['share', 'proj', '--dht-host', addrA])
  t.is(shared.key.length, 64, 'A shares: a 64-hex key')
  t.is(shared.bootstrap, boot.bootstrap, 'on the private bootstrap')

  const mnt = await tmpDir(t, 'wxs-mnt-proj-')
  b.mounts.push(mnt)
  const started = Date.now()
  const joined = await ok(b, ['join', shared.key, '--mount', mnt]) // no --dht-host: derived from the route to the bootstrap
  const joinMs = Date.now() - started
  t.ok(joined.workspace.remote, `B joined across the link in ${joinMs} ms`)
  t.ok(joinMs < 10_000, 'no first-connection stall (~13 s when a node thinks it is firewalled)')
  t.is(joined.mount.dir, mnt, 'and mounted it')

  const pidB = await daemonPid(b.home)
  t.ok(pidB !== null && (await fs.readFile(`/proc/${pidB}/mounts`, 'utf8')).includes(` ${mnt} fuse`), 'the mount exists in B\'s daemon\'s mount namespace')
  const hostSees = (await fs.readFile('/proc/self/mounts', 'utf8')).includes(` ${mnt} fuse`)
  t.comment(`the host's mount namespace ${hostSees ? 'sees' : 'does not see'} B's mount (ip netns exec unshares the mount namespace)`)

  const ls = await b.inMounts(`ls -R ${mnt}`)
  t.is(ls.code, 0, `ls -R through B's mount exits 0 ${ls.stderr}`)
  t.ok(['README.md', 'three.txt', 'big.bin', 'run.sh'].every(f => ls.stdout.includes(f)), 'ls through B\'s mount lists the tree')
  const cmp = await b.inMounts(`cmp ${mnt}/big.bin ${src}/big.bin && cat ${mnt}/link`)
  t.is(cmp.code, 0, `the 6 MiB file reads byte-equal through the mount ${cmp.stderr}`)
  t.is(cmp.stdout, 'one\n', 'the symlink resolves inside the mount')

  const synced = await ok(b, ['sync', 'proj'])
  t.ok(synced.complete, `sync: ${synced.objects} objects, ${synced.fetchedBytes} bytes fetched`)
  const out = path.join(work, 'export')
  await ok(b, ['export', 'proj', out])
  t.is(await compareTrees(src, out), '', 'B\'s export is byte-equal to A\'s source (contents, modes, links, mtimes)')

  const peersB = await ok(b, ['peers'])
  t.is(peersB.network.host, addrB, 'B bound its DHT to its own address on the link by itself')
  t.is(peersB.network.host, addrB, 'B\'s DHT is bound to B\'s address')
  t.is(peersB.peers.length, 1, 'B has one peer')
  t.ok(String(peersB.peers[0]?.address).startsWith(`${addrA}:`), `B sees A at ${peersB.peers[0]?.address} (A is ${addrA})`)
  t.ok(peersB.network.received.bytes >= 6 * MiB, `B received the content over the link (${peersB.network.received.bytes} bytes)`)
  const peersA = await ok(a, ['peers', 'proj'])
  t.ok(peersA.peers.length === 1 && String(peersA.peers[0].address).startsWith(`${addrB}:`), `A sees B at ${peersA.peers[0]?.address} (B is ${addrB})`)

  await fs.writeFile(path.join(src, 'README.md'), '# changed on host A\n')
  await fs.writeFile(path.join(src, 'docs', 'new.txt'), 'new on A\n')
  const imp = await ok(a, ['import', 'proj', src])
  t.is(imp.commit.seq, 1, 'A imports a change: commit 1')
  const seen = await waitFor(async () => (await b.inMounts(`cat ${mnt}/docs/new.txt 2>/dev/null || true`)).stdout === 'new on A\n', 20_000, 200)
  t.ok(seen, 'the new file appears in B\'s mount')
  t.is((await b.inMounts(`cat ${mnt}/README.md`)).stdout, '# changed on host A\n', 'the changed file shows its new content in B\'s mount')
  t.is((await ok(b, ['info', 'proj'])).head.seq, 1, 'B\'s head moved to commit 1')
})

test('a peer that cannot reach the network gets nothing: a namespace with only loopback cannot join', async t => {
  const h = await hosts(t, ['a', 'b'], ['c'])
  t.alike(await routes(h.ns.c), [], `${h.ns.c} has no IPv4 route at all (only lo)`)
  const boot = await bootstrapIn(t, h.ns.a, h.addr.a!)
  const a = await nsPeer(t, h.ns.a, boot.bootstrap)
  const b = await nsPeer(t, h.ns.b, boot.bootstrap)
  const c = await nsPeer(t, h.ns.c, boot.bootstrap)

  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'a.txt': 'secret to the isolated host\n', 'b.bin': randomBuffer(MiB, 5) })
  await ok(a, ['create', 'proj', '--from', src])
  const { key } = await ok(a, ['share', 'proj', '--dht-host', h.addr.a!])

  // C's only address is 127.0.0.1: nothing to bind to but the default
  const started = Date.now()
  const r = await c.run(['join', key, '--timeout', '5', '--json'], { timeoutMs: 60_000 })
  const ms = Date.now() - started
  t.is(r.code, 1, `join from the isolated namespace fails (exit ${r.code}, ${ms} ms)`)
  t.is(r.json?.error?.code, 'NO_PEERS', r.json?.error?.message ?? r.stderr.trim())
  t.ok(ms < 30_000, 'within about its --timeout')
  t.is((await ok(c, ['list'])).length, 0, 'the failed join left no workspace behind')
  const peersC = await ok(c, ['peers'])
  t.is(peersC.network.connections, 0, 'C has no connection')
  t.is(peersC.network.received.bytes, 0, 'and received nothing')

  // control: the same share is reachable from a host on the link
  const joined = await ok(b, ['join', key, '--dht-host', h.addr.b!])
  t.is(joined.workspace.name, 'proj', 'B, on the link, joins the same key')
})

test('two hosts: pause on A, resume on B across the link (writable at once), hand it back: A receives only what B wrote', async t => {
  const h = await hosts(t, ['a', 'b'])
  const [addrA, addrB] = [h.addr.a!, h.addr.b!]
  const boot = await bootstrapIn(t, h.ns.a, addrA)
  const a = await nsPeer(t, h.ns.a, boot.bootstrap)
  const b = await nsPeer(t, h.ns.b, boot.bootstrap)
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { 'README.md': '# task\n', docs: { 'one.txt': 'one\n' }, 'big.bin': randomBuffer(4 * MiB, 21) })
  await ok(a, ['create', 'task', '--from', src])
  const mntA = await tmpDir(t, 'wxs-mnt-a-')
  a.mounts.push(mntA)
  await ok(a, ['mount', 'task', mntA])
  const work1 = await a.inMounts(`cd ${mntA} && echo 'edited on A' >> README.md && head -c 1000000 /dev/urandom > build.bin && cat docs/one.txt > /dev/null`)
  t.is(work1.code, 0, `A works in its mount ${work1.stderr}`)
  const paused = await ok(a, ['pause', 'task', '--dht-host', addrA])
  t.ok(paused.link.startsWith('wxsr1-'))
  // what A receives from here on (following B once it moved, then resuming): only B's writes
  const before = (await ok(a, ['peers'])).network.received.bytes
  const atPause = path.join(work, 'at-pause')
  await ok(a, ['export', 'task', atPause])

  const mntB = await tmpDir(t, 'wxs-mnt-b-')
  b.mounts.push(mntB)
  const resumed = await ok(b, ['resume', paused.link, '--mount', mntB, '--timeout', '30'])
  t.is(resumed.workspace.identity, paused.key, 'B holds the same workspace')
  const first = await b.inMounts(`echo 'from B' > ${mntB}/b.txt && cat ${mntB}/README.md`)
  t.is(first.stdout, '# task\nedited on A\n', 'B writes at once and reads A\'s uncommitted edit')
  await ok(b, ['sync', 'task', '--timeout', '30'])
  const atB = path.join(work, 'on-b')
  await ok(b, ['export', 'task', atB])
  t.is((await run('diff', ['-r', '--exclude=b.txt', atPause, atB])).code, 0, 'B\'s tree is A\'s at the pause, byte for byte')
  const peersB = await ok(b, ['peers'])
  t.ok(peersB.peers.some((p: any) => String(p.address).startsWith(`${addrA}:`)), 'B fetched from A across the link')
  t.ok(peersB.network.received.bytes >= 4 * MiB + 1_000_000, `B received the content (${peersB.network.received.bytes} bytes)`)
  t.is(peersB.network.host, addrB)

  // hand it back: only B's new content crosses the link
  t.is((await b.inMounts(`head -c 300000 /dev/urandom > ${mntB}/new-on-b.bin`)).code, 0)
  const back = await ok(b, ['pause', 'task'])
  const returned = await ok(a, ['resume', back.link, '--mount', mntA, '--timeout', '30', '--wait'])
  t.ok(returned.complete, 'A has everything again')
  const got = (await ok(a, ['peers'])).network.received.bytes - before
  t.ok(got >= 300_000 && got < 2 * MiB, `A received ${got} bytes: B's new content, not the 5 MiB it had (as a follower of B, then resuming)`)
  const again = await a.inMounts(`cat ${mntA}/b.txt && echo back > ${mntA}/back.txt && cat ${mntA}/back.txt`)
  t.is(again.stdout, 'from B\nback\n', 'A\'s mount has B\'s changes and is writable again')
})
