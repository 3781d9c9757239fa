/**
 * The four `bench net` scenarios (BENCH.md section 3). Every wxs sample makes
 * fresh peers (fresh WXS_HOMEs, daemons started untimed), shares from a fresh
 * sharer, times the joiner through the real CLI, then tears everything down
 * (mounts, daemons, state dirs). The raw baseline (a TCP copy of the same
 * tree, lib/net-tcp.ts) runs in the same rounds, order shuffled each round.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes, randomInt } from 'node:crypto'
import type { Lab, WxsPeer } from './net-peer.js'
import { tcpCopy } from './net-tcp.js'
import { median, summarize } from './stats.js'
import { childEnv, mustSpawn, spawnAsync } from './proc.js'
import { above, atLeast, atMost, netRow, type NetRow } from './net-report.js'
import type { Scratch } from './scratch.js'
import { generateLargeFiles, generateTree, type GeneratedTree } from './tree.js'
import { makeHosts } from './net-hosts.js'
import { runBootstrap } from '../../net/index.js'

const MiB = 1024 * 1024

export interface NetSizes {
  /** Small-file tree: files of minBytes..maxBytes (random content), 100 per directory. */
  small: { files: number, minBytes: number, maxBytes: number }
  large: { files: number, fileBytes: number }
  seed: { files: number, fileBytes: number }
  /** Seeding over shaped uplinks (network namespaces): each seeder's egress capped at `mbit`. */
  uplink: { files: number, fileBytes: number, mbit: number }
  /** The 95% scenario: percent of the small tree's files rewritten, and added. */
  overlap: { changedPct: number, addedPct: number }
}

export interface Source { dir: string, files: number, bytes: number }

export interface NetContext {
  lab: Lab
  scratch: Scratch
  sizes: NetSizes
  warmup: number
  reps: number
  log: (line: string) => void
  /** The joiner supports `wxs join --lazy` (no background prefetch): seeding is then timed from a sync started once every seeder is connected. */
  lazy: boolean
  raw: Record<string, unknown>
  sources: { small?: GeneratedTree, large?: Source, seed?: Source, overlap?: OverlapSource }
}

interface OverlapSource { base: Source, changed: Source, changedFiles: number, addedFiles: number, deltaBytes: number }

export interface Scenario { key: string, title: string, run (ctx: NetContext): Promise<NetRow[]> }

// -- sources (generated once per run, untimed) -----------------------------------

export async function smallSource (ctx: NetContext): Promise<GeneratedTree> {
  if (!ctx.sources.small) {
    const { files, minBytes, maxBytes } = ctx.sizes.small
    const t = performance.now()
    ctx.sources.small = await generateTree(ctx.scratch.path('small'), { files, perDir: 100, minBytes, maxBytes })
    ctx.log(`  generated ${files} small files (${(ctx.sources.small.bytes / MiB).toFixed(1)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  }
  return ctx.sources.small
}

async function largeSource (ctx: NetContext, which: 'large' | 'seed'): Promise<Source> {
  const want = ctx.sizes[which]
  const other = ctx.sources[which === 'large' ? 'seed' : 'large']
  const otherSize = ctx.sizes[which === 'large' ? 'seed' : 'large']
  if (!ctx.sources[which] && other && otherSize.files === want.files && otherSize.fileBytes === want.fileBytes) ctx.sources[which] = other
  if (!ctx.sources[which]) {
    const dir = ctx.scratch.path(which)
    const t = performance.now()
    await generateLargeFiles(dir, { files: want.files, fileBytes: want.fileBytes })
    ctx.sources[which] = { dir, files: want.files, bytes: want.files * want.fileBytes }
    ctx.log(`  generated ${want.files} x ${want.fileBytes / MiB} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  }
  return ctx.sources[which]!
}

/** B = a copy of the small tree (mtimes kept) with changedPct% of files rewritten and addedPct% added, spread at random. */
async function overlapSource (ctx: NetContext): Promise<OverlapSource> {
  if (ctx.sources.overlap) return ctx.sources.overlap
  const base = await smallSource(ctx)
  const dir = ctx.scratch.path('overlap')
  await mustSpawn('cp', ['-a', base.dir, dir])
  const { changedPct, addedPct } = ctx.sizes.overlap
  const pick = shuffle(base.files).slice(0, Math.round(base.files.length * changedPct / 100))
  let deltaBytes = 0
  let bytes = base.bytes
  for (const rel of pick) {
    const { size } = await fs.stat(path.join(dir, rel))
    await fs.writeFile(path.join(dir, rel), randomBytes(size))
    deltaBytes += size
  }
  const dirs = [...new Set(base.files.map(f => path.dirname(f)))]
  const added = Math.round(base.files.length * addedPct / 100)
  for (let i = 0; i < added; i++) {
    const size = randomInt(ctx.sizes.small.minBytes, ctx.sizes.small.maxBytes + 1)
    await fs.writeFile(path.join(dir, dirs[randomInt(dirs.length)], `n${String(i).padStart(4, '0')}.bin`), randomBytes(size))
    deltaBytes += size
    bytes += size
  }
  ctx.sources.overlap = {
    base: { dir: base.dir, files: base.files.length, bytes: base.bytes },
    changed: { dir, files: base.files.length + added, bytes },
    changedFiles: pick.length,
    addedFiles: added,
    deltaBytes
  }
  return ctx.sources.overlap
}

// -- helpers ---------------------------------------------------------------------

/** Runs every case once per round, shuffled; warm-up rounds first (their results discarded by the cases). */
async function rounds (ctx: NetContext, cases: Record<string, (measured: boolean) => Promise<void>>) {
  for (let round = -ctx.warmup; round < ctx.reps; round++) {
    for (const name of shuffle(Object.keys(cases))) {
      ctx.log(`  ${round < 0 ? 'warm-up' : `rep ${round + 1}/${ctx.reps}`}: ${name}`)
      await cases[name](round >= 0)
    }
  }
}

interface Shared { peer: WxsPeer, key: string, discoveryKey: string, files: number, bytes: number }

/** A fresh sharer: daemon, `wxs create ws --from src`, `wxs share ws`, announcement visible on the DHT. Untimed. */
async function sharer (ctx: NetContext, src: string, role = 'sharer'): Promise<Shared> {
  const peer = ctx.lab.peer(role)
  await peer.start()
  const created = await peer.json(['create', 'ws', '--from', src])
  const shared = await peer.json(['share', 'ws'])
  await ctx.lab.waitForAnnounce(shared.out.discoveryKey)
  return { peer, key: shared.out.key, discoveryKey: shared.out.discoveryKey, files: created.out.commit.stats.files, bytes: created.out.commit.stats.bytes }
}

async function tcpSample (ctx: NetContext, src: Source): Promise<number> {
  const dest = ctx.scratch.path('tcp-stream')
  try {
    const r = await tcpCopy(src.dir, dest)
    if (r.files !== src.files || r.bytes !== src.bytes) throw new Error(`tcp copy moved ${r.files} files / ${r.bytes} bytes, expected ${src.files} / ${src.bytes}`)
    return r.ms
  } finally {
    await ctx.scratch.remove(dest)
  }
}

function checkSync (out: any, expectBytes: number) {
  if (out.complete !== true || out.local === true) throw new Error(`wxs sync did not sync: ${JSON.stringify(out)}`)
  if (out.bytes !== expectBytes) throw new Error(`wxs sync reports ${out.bytes} bytes, the source has ${expectBytes}`)
}

interface JoinSync { joinMs: number, totalMs: number, connectMs: number | null, sync: any }

/** Times `wxs join <key> ws` + `wxs sync ws` on a fresh joiner (daemon started untimed). */
async function joinAndSync (ctx: NetContext, shared: Shared, joiner: WxsPeer): Promise<JoinSync> {
  const wall = Date.now()
  const t0 = performance.now()
  await joiner.json(['join', shared.key, 'ws', '--timeout', '120'])
  const joinMs = performance.now() - t0
  const sync = await joiner.json(['sync', 'ws'])
  const totalMs = performance.now() - t0
  checkSync(sync.out, shared.bytes)
  return { joinMs, totalMs, connectMs: await joiner.firstPeerMs(wall), sync: sync.out }
}

/** `wxs join --lazy`, waits (untimed) until `seeders` peers are connected, then times `wxs sync` alone. */
async function lazyJoinTimedSync (joiner: WxsPeer, key: string, seeders: number, bytes: number): Promise<{ ms: number, joinMs: number, connectMs: number | null }> {
  const wall = Date.now()
  const j = await joiner.json(['join', key, 'ws', '--lazy', '--timeout', '120'])
  const connectMs = await joiner.firstPeerMs(wall)
  const deadline = Date.now() + 60_000
  while ((await joiner.received('ws')).peers < seeders) {
    if (Date.now() > deadline) throw new Error(`the joiner sees fewer than ${seeders} seeder(s) after 60 s`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const t0 = performance.now()
  checkSync((await joiner.json(['sync', 'ws'])).out, bytes)
  return { ms: performance.now() - t0, joinMs: j.ms, connectMs }
}

const perSec = (n: number, ms: number) => n / (ms / 1000)
const med = (xs: Array<number | null>) => { const v = xs.filter((x): x is number => x !== null); return v.length ? median(v) : null }
const sum = (xs: Array<number | null>) => summarize(xs.filter((x): x is number => x !== null))
const CONNECT_NOTE = 'from daemon.log; ~13-15 s would be the hyperdht#304 loopback race'

// -- 1. browsable ------------------------------------------------------------------

async function browsable (ctx: NetContext): Promise<NetRow[]> {
  const tree = await smallSource(ctx)
  const src: Source = { dir: tree.dir, files: tree.files.length, bytes: tree.bytes }
  const w: Array<{ joinMs: number, browsableMs: number, localMs: number, connectMs: number | null, lsMs: number, lsRuns: number }> = []
  const tcp: number[] = []
  await rounds(ctx, {
    wxs: async measured => {
      try {
        const shared = await sharer(ctx, src.dir)
        const joiner = ctx.lab.peer('joiner')
        await joiner.start()
        const mnt = await ctx.lab.mountPoint()
        const wall = Date.now()
        const t0 = performance.now()
        await joiner.json(['join', shared.key, 'ws', '--mount', mnt, '--timeout', '120'])
        const joinMs = performance.now() - t0
        let lsRuns = 0
        let lsMs = 0
        while (true) {
          const ls = await spawnAsync('ls', ['-R', mnt], { env: childEnv(), timeoutMs: 120_000 })
          lsRuns++
          lsMs = ls.ms
          const listed = ls.stdout.split('\n').filter(l => l.endsWith('.bin')).length
          if (ls.status === 0 && listed === src.files) break
          if (listed > src.files) throw new Error(`ls -R listed ${listed} files, the source has ${src.files}`)
          if (performance.now() - t0 > 120_000) throw new Error(`ls -R still lists ${listed} of ${src.files} files after 120 s (exit ${ls.status}: ${ls.stderr.trim().slice(0, 200)})`)
        }
        const browsableMs = performance.now() - t0
        const sync = await joiner.json(['sync', 'ws'])
        const localMs = performance.now() - t0
        checkSync(sync.out, shared.bytes)
        const connectMs = await joiner.firstPeerMs(wall)
        ctx.log(`    join ${joinMs.toFixed(0)} ms (peer after ${connectMs?.toFixed(0)} ms), browsable ${browsableMs.toFixed(0)} ms (${lsRuns} ls, last ${lsMs.toFixed(0)} ms), local ${localMs.toFixed(0)} ms`)
        if (measured) w.push({ joinMs, browsableMs, localMs, connectMs, lsMs, lsRuns })
      } finally {
        await ctx.lab.teardown()
      }
    },
    tcp: async measured => { const ms = await tcpSample(ctx, src); if (measured) tcp.push(ms) }
  })
  ctx.raw.browsable = { files: src.files, bytes: src.bytes, samples: w, tcpMs: summarize(tcp) }
  const b = median(w.map(s => s.browsableMs))
  const l = median(w.map(s => s.localMs))
  const c = med(w.map(s => s.connectMs))
  const afterConnect = med(w.map(s => s.connectMs === null ? null : s.browsableMs - s.connectMs))
  const t = median(tcp)
  const n = `${src.files} files`
  return [
    netRow(`1. browsable: join --mount until ls -R lists ${n}`, 's', b / 1000, { baseline: t / 1000, ratio: b / t, target: atMost(1), note: `baseline: TCP copy of the whole tree; median of ${w.length}` }),
    netRow('   of which: finding + connecting to the sharer', 's', c === null ? null : c / 1000, { note: CONNECT_NOTE }),
    netRow('   browsable, counted from the first peer connected', 's', afterConnect === null ? null : afterConnect / 1000, { baseline: t / 1000, ratio: afterConnect === null ? null : afterConnect / t, target: atMost(1), note: 'what wxs controls (join minus connection setup)' }),
    netRow('   the ls -R that listed everything', 's', median(w.map(s => s.lsMs)) / 1000, { note: `readdir hands the kernel each entry's type, so ls -R needs no stat per entry; ls runs per sample: ${w.map(s => s.lsRuns).join(', ')}` }),
    netRow(`1. fully local: join --mount, ls -R, sync (${n})`, 's', l / 1000, { baseline: t / 1000, ratio: l / t })
  ]
}

// -- 2. throughput -----------------------------------------------------------------

async function throughput (ctx: NetContext, src: Source, kind: 'small' | 'large'): Promise<NetRow[]> {
  const w: JoinSync[] = []
  const tcp: number[] = []
  await rounds(ctx, {
    wxs: async measured => {
      try {
        const shared = await sharer(ctx, src.dir)
        const joiner = ctx.lab.peer('joiner')
        await joiner.start()
        const r = await joinAndSync(ctx, shared, joiner)
        ctx.log(`    join ${r.joinMs.toFixed(0)} ms (peer after ${r.connectMs?.toFixed(0)} ms), join + sync ${r.totalMs.toFixed(0)} ms, fetched ${r.sync.fetchedObjects} objects`)
        if (measured) w.push(r)
      } finally {
        await ctx.lab.teardown()
      }
    },
    tcp: async measured => { const ms = await tcpSample(ctx, src); if (measured) tcp.push(ms) }
  })
  ctx.raw[`throughput-${kind}`] = { files: src.files, bytes: src.bytes, samples: w.map(s => ({ joinMs: s.joinMs, totalMs: s.totalMs, connectMs: s.connectMs, fetchedObjects: s.sync.fetchedObjects, fetchedBytes: s.sync.fetchedBytes })), tcpMs: summarize(tcp) }
  const total = median(w.map(s => s.totalMs))
  const after = med(w.map(s => s.connectMs === null ? null : s.totalMs - s.connectMs))
  const t = median(tcp)
  const note = `join + sync, median of ${w.length}; baseline: TCP copy of the same tree`
  if (kind === 'small') {
    const what = `2. small files: ${src.files} x ~${Math.round(src.bytes / src.files / 1024)} KiB`
    return [
      netRow(what, 'files/s', perSec(src.files, total), { baseline: perSec(src.files, t), ratio: total / t, target: atLeast(15_000), note }),
      netRow('   counted from the first peer connected', 'files/s', after === null ? null : perSec(src.files, after), { baseline: perSec(src.files, t), ratio: after === null ? null : after / t, target: atLeast(15_000), note: `connection setup median ${((med(w.map(s => s.connectMs)) ?? NaN) / 1000).toFixed(2)} s` })
    ]
  }
  const mib = src.bytes / MiB
  const what = `2. large files: ${src.files} x ${ctx.sizes.large.fileBytes / MiB} MiB`
  return [
    netRow(what, 'MiB/s', perSec(mib, total), { baseline: perSec(mib, t), ratio: total / t, target: atLeast(90), note }),
    netRow('   counted from the first peer connected', 'MiB/s', after === null ? null : perSec(mib, after), { baseline: perSec(mib, t), ratio: after === null ? null : after / t, target: atLeast(90), note: `connection setup median ${((med(w.map(s => s.connectMs)) ?? NaN) / 1000).toFixed(2)} s` })
  ]
}

// -- 3. 95% already local --------------------------------------------------------------

async function overlap (ctx: NetContext): Promise<NetRow[]> {
  const o = await overlapSource(ctx)
  const samples: Array<{ received: number, receivedObjects: number, requestBytes: number, fetchedBytes: number, syncReceived: number, fetchedObjects: number, logical: number, ms: number }> = []
  await rounds(ctx, {
    wxs: async measured => {
      try {
        const shared = await sharer(ctx, o.changed.dir)
        const joiner = ctx.lab.peer('joiner')
        await joiner.start()
        await joiner.json(['create', 'base', '--from', o.base.dir]) // the 95% the joiner already holds
        const r = await joinAndSync(ctx, shared, joiner)
        const got = await joiner.received('ws')
        ctx.log(`    received ${got.objects} objects, ${got.bytes} bytes of ${shared.bytes} logical (${(100 * got.bytes / shared.bytes).toFixed(2)}%), sent ${got.requestBytes} bytes of requests; sync says fetched ${r.sync.fetchedBytes}`)
        if (measured) samples.push({ received: got.bytes, receivedObjects: got.objects, requestBytes: got.requestBytes, fetchedBytes: r.sync.fetchedBytes, syncReceived: r.sync.receivedBytes, fetchedObjects: r.sync.fetchedObjects, logical: shared.bytes, ms: r.totalMs })
      } finally {
        await ctx.lab.teardown()
      }
    }
  })
  ctx.raw.overlap = { ...o, samples }
  const logical = o.changed.bytes
  const pct = (x: number) => 100 * x / logical
  const received = median(samples.map(s => s.received))
  const requests = median(samples.map(s => s.requestBytes))
  const moved = median(samples.map(s => s.received + s.requestBytes))
  const trees = received - o.deltaBytes // every changed or added file is new random content: its chunks are exactly deltaBytes
  const { changedPct, addedPct } = ctx.sizes.overlap
  return [
    netRow(`3. join with 95% local (${changedPct}% of files changed, ${addedPct}% added)`, '% of logical', pct(moved), { baseline: pct(o.deltaBytes), ratio: moved / o.deltaBytes, target: atMost(6), note: `object bytes received + request bytes sent (wxs peers); baseline: bytes of the changed + added files; logical ${(logical / MiB).toFixed(1)} MiB` }),
    netRow('   received: objects and tree deltas', '% of logical', pct(received), { note: `${median(samples.map(s => s.receivedObjects))} objects` }),
    netRow('   of which trees (directory listings)', '% of logical', pct(trees), { note: `${(trees / 1024).toFixed(0)} KiB; most as deltas against the joiner's own listings` }),
    netRow('   sent: requests (hashes, tree sketches)', '% of logical', pct(requests), { note: `${(requests / 1024).toFixed(0)} KiB` }),
    netRow('   wxs sync --json fetchedBytes', '% of logical', pct(median(samples.map(s => s.fetchedBytes))), { note: 'objects the sync stored, at their full size: trees that came as deltas count whole' }),
    netRow('   wxs sync --json receivedBytes', '% of logical', pct(median(samples.map(s => s.syncReceived))), { note: 'what those objects took on the wire (the root, fetched by join, is not counted)' })
  ]
}

// -- 4. seeding by two peers -------------------------------------------------------------

async function seeding (ctx: NetContext): Promise<NetRow[]> {
  const src = await largeSource(ctx, 'seed')
  const res: Record<'one' | 'two', Array<{ ms: number, joinMs: number, connectMs: number | null, perPeer: number[] }>> = { one: [], two: [] }
  const tcp: number[] = []
  const seeders = async (n: 1 | 2): Promise<Shared> => {
    const shared = await sharer(ctx, src.dir)
    if (n === 2) {
      const second = ctx.lab.peer('seeder-2')
      await second.start()
      await second.json(['join', shared.key, 'ws', '--timeout', '120'])
      checkSync((await second.json(['sync', 'ws'])).out, shared.bytes)
      await ctx.lab.waitForAnnounce(shared.discoveryKey, 2)
    }
    return shared
  }
  const third = async (n: 1 | 2, measured: boolean) => {
    try {
      const shared = await seeders(n)
      const joiner = ctx.lab.peer('third')
      await joiner.start()
      let r: { ms: number, joinMs: number, connectMs: number | null }
      if (ctx.lazy) {
        r = await lazyJoinTimedSync(joiner, shared.key, n, shared.bytes)
      } else {
        const js = await joinAndSync(ctx, shared, joiner)
        r = { ms: js.totalMs, joinMs: js.joinMs, connectMs: js.connectMs }
      }
      const { out } = await joiner.json(['peers', 'ws'])
      const perPeer = out.peers.map((p: any) => p.received.bytes)
      ctx.log(`    ${n} seeder(s): ${r.ms.toFixed(0)} ms; received per peer ${perPeer.map((b: number) => (b / MiB).toFixed(0) + ' MiB').join(' + ')}`)
      if (measured) res[n === 1 ? 'one' : 'two'].push({ ...r, perPeer })
    } finally {
      await ctx.lab.teardown()
    }
  }
  await rounds(ctx, {
    'one seeder': m => third(1, m),
    'two seeders': m => third(2, m),
    tcp: async measured => { const ms = await tcpSample(ctx, src); if (measured) tcp.push(ms) }
  })
  ctx.raw.seeding = { files: src.files, bytes: src.bytes, lazy: ctx.lazy, one: res.one, two: res.two, tcpMs: summarize(tcp), connectMs: { one: sum(res.one.map(s => s.connectMs)), two: sum(res.two.map(s => s.connectMs)) } }
  const mib = src.bytes / MiB
  const one = median(res.one.map(s => s.ms))
  const two = median(res.two.map(s => s.ms))
  const t = median(tcp)
  const timed = ctx.lazy ? 'wxs sync after join --lazy, every seeder connected first' : 'join + sync (connection setup included)'
  const split = res.two.length ? res.two[res.two.length - 1].perPeer.map(b => (b / MiB).toFixed(0)).join('/') : ''
  return [
    netRow(`4. third peer fetches ${mib.toFixed(0)} MiB from 1 seeder`, 'MiB/s', perSec(mib, one), { baseline: perSec(mib, t), ratio: one / t, note: `${timed}; median of ${res.one.length}` }),
    netRow(`4. third peer fetches ${mib.toFixed(0)} MiB from 2 seeders`, 'MiB/s', perSec(mib, two), { baseline: perSec(mib, t), ratio: two / t, note: `MiB from each seeder (last rep): ${split}` }),
    netRow('4. speed-up, 2 seeders vs 1', 'x', one / two, { target: above(1), note: 'time with 1 / time with 2' })
  ]
}

// -- 4b. seeding over capped uplinks ---------------------------------------------------------

/**
 * The same question as 4 where it matters: on a network each seeder's upload is
 * the bottleneck, not the two CPUs every daemon on one loopback shares. Three
 * hosts in network namespaces on a bridge, each seeder's egress shaped by tc to
 * `mbit`, the joiner's not; a private DHT bootstrap on the bridge. The third
 * peer joins lazily, waits (untimed) until every seeder is connected, and
 * `wxs sync` is timed.
 */
async function uplink (ctx: NetContext): Promise<NetRow[]> {
  const { files, fileBytes, mbit } = ctx.sizes.uplink
  const dir = ctx.scratch.path('uplink')
  await generateLargeFiles(dir, { files, fileBytes })
  const bytes = files * fileBytes
  const hosts = await makeHosts([mbit, mbit, null])
  const res: Record<'one' | 'two', number[]> = { one: [], two: [] }
  let split = ''
  try {
    const boot = await runBootstrap({ host: hosts.bridgeAddr })
    try {
      const place = (i: number) => ({ netns: hosts.hosts[i].ns, bootstrap: `${boot.host}:${boot.port}` })
      const sample = async (n: 1 | 2, measured: boolean) => {
        try {
          const first = ctx.lab.peer('seeder-1', place(0))
          await first.start()
          await first.json(['create', 'ws', '--from', dir])
          const key = (await first.json(['share', 'ws'])).out.key
          if (n === 2) {
            const second = ctx.lab.peer('seeder-2', place(1))
            await second.start()
            await second.json(['join', key, 'ws', '--timeout', '120'])
            checkSync((await second.json(['sync', 'ws'])).out, bytes)
          }
          const joiner = ctx.lab.peer('third', place(2))
          await joiner.start()
          const { ms } = await lazyJoinTimedSync(joiner, key, n, bytes)
          const perPeer = (await joiner.json(['peers', 'ws'])).out.peers.map((p: any) => (p.received.bytes / MiB).toFixed(0))
          ctx.log(`    ${n} seeder(s) at ${mbit} Mbit/s each: ${ms.toFixed(0)} ms; MiB per seeder ${perPeer.join(' + ')}`)
          if (measured) { res[n === 1 ? 'one' : 'two'].push(ms); if (n === 2) split = perPeer.join('/') }
        } finally {
          await ctx.lab.teardown()
        }
      }
      await rounds(ctx, { 'one seeder': m => sample(1, m), 'two seeders': m => sample(2, m) })
    } finally {
      await boot.close()
    }
  } finally {
    await hosts.close()
    await ctx.scratch.remove(dir)
  }
  ctx.raw.uplink = { files, bytes, mbit, one: res.one, two: res.two }
  const mib = bytes / MiB
  const one = median(res.one)
  const two = median(res.two)
  const cap = mbit * 1e6 / 8 / MiB
  return [
    netRow(`4b. ${mib.toFixed(0)} MiB from 1 seeder, uplink capped at ${mbit} Mbit/s`, 'MiB/s', perSec(mib, one), { baseline: cap, ratio: cap / perSec(mib, one), note: `network namespaces + tc; baseline: the cap (${cap.toFixed(1)} MiB/s); median of ${res.one.length}` }),
    netRow(`4b. ${mib.toFixed(0)} MiB from 2 seeders, each capped`, 'MiB/s', perSec(mib, two), { baseline: 2 * cap, ratio: 2 * cap / perSec(mib, two), note: `MiB from each seeder (last rep): ${split}` }),
    netRow('4b. speed-up, 2 capped seeders vs 1', 'x', one / two, { target: above(1), note: 'time with 1 / time with 2' })
  ]
}

export const SCENARIOS: Scenario[] = [
  { key: 'browse', title: '1. browsable and fully local', run: browsable },
  { key: 'small', title: '2. small-file throughput', run: async ctx => { const t = await smallSource(ctx); return throughput(ctx, { dir: t.dir, files: t.files.length, bytes: t.bytes }, 'small') } },
  { key: 'large', title: '2. large-file throughput', run: async ctx => throughput(ctx, await largeSource(ctx, 'large'), 'large') },
  { key: 'overlap', title: '3. join with 95% of the content local', run: overlap },
  { key: 'seed', title: '4. seeding by 2 peers vs 1', run: seeding },
  { key: 'uplink', title: '4b. seeding by 2 peers vs 1 over capped uplinks', run: uplink }
]

function shuffle<T> (items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
