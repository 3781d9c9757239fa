/**
 * A/B driver, a measurement tool (not run by `npm run bench`): interleaves variants (env knobs given
 * to both daemons) in one run: join + sync of a small or large tree, with per-daemon
 * CPU (utime+stime from /proc) over the timed window. Local DHT only.
 * usage: node --import tsx bench/ab-net.ts small|large reps 'A=' 'B=WXS_X=1,WXS_Y=2'
 * AB_THREADS=1 prints per-thread CPU of both daemons, AB_SAMPLE=1 a 100 ms CPU timeline
 * (sharer main thread, sharer process, joiner main, joiner process, whole machine),
 * AB_LOG=1 keeps both daemon.logs in /tmp/perf, AB_NODE_ARGS gives node flags to the daemons.
 * AB_STRACE=1 counts both daemons' system calls over the timed window (strace -c; slows them).
 * AB_PREWARM=1 (or a variant's AB_PREWARM=1) first joins and syncs another 2k-file tree with the same daemons (a daemon that has run before).
 * Each rep also prints both daemons' peak RSS (VmHWM) since they started.
 */
import fs from 'node:fs/promises'
import { randomInt } from 'node:crypto'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBootstrap } from '../net/index.js'
import { Lab } from './lib/net-peer.js'
import { Scratch } from './lib/scratch.js'
import { readPid } from './lib/daemon.js'
import { generateLargeFiles, generateTree } from './lib/tree.js'
import { median } from './lib/stats.js'
import { tcpCopy } from './lib/net-tcp.js'

process.env.WXS_NO_PUBLIC_BOOTSTRAP = '1'
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const [kind, repsArg, ...variantArgs] = process.argv.slice(2)
const reps = Number(repsArg)
const variants = variantArgs.map(a => { const [name, rest] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]; const env: Record<string, string> = {}; for (const kv of rest.split(',').filter(Boolean)) { const i = kv.indexOf('='); env[kv.slice(0, i)] = kv.slice(i + 1) } return { name, env } })
const TICK = 100 // USER_HZ
async function cpu (pid: number | null): Promise<number> {
  if (pid === null) return NaN
  const s = (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return (Number(s[11]) + Number(s[12])) * 1000 / TICK
}
async function threads (pid: number | null): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {}
  if (pid === null) return out
  for (const t of await fs.readdir(`/proc/${pid}/task`)) {
    const raw = await fs.readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').catch(() => '')
    if (!raw) continue
    const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'))
    const s = raw.split(') ')[1].split(' ')
    const k = name + (t === String(pid) ? '(main)' : '#' + t)
    const prev = out[k] ?? [0, 0]
    out[k] = [prev[0] + Number(s[11]) * 10, prev[1] + Number(s[12]) * 10]
  }
  return out
}
function diffThreads (a: Record<string, number[]>, b: Record<string, number[]>) {
  return Object.entries(b).map(([k, v]) => [k, v[0] - (a[k]?.[0] ?? 0), v[1] - (a[k]?.[1] ?? 0)] as const).filter(x => x[1] + x[2] > 0).map(x => `${x[0]}:u${x[1]}/s${x[2]}`).join(' ')
}
async function sysCpu (): Promise<{ busy: number, total: number }> {
  const f = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0].split(/\s+/).slice(1).map(Number)
  const idle = f[3] + f[4]
  const total = f.reduce((a, b) => a + b, 0)
  return { busy: (total - idle) * 10, total: total * 10 }
}
const scratch = await Scratch.create('bench-ab-')
const boot = await runBootstrap({ host: '127.0.0.1' })
const lab = new Lab({ root: ROOT, scratch, bootstrap: `${boot.host}:${boot.port}`, log: l => console.error(l), daemonNodeArgs: (process.env.AB_NODE_ARGS ?? '').split(' ').filter(Boolean) })
const src = scratch.path(kind)
let bytes: number, files: number
if (kind === 'small') { const t = await generateTree(src, { files: 10_000, perDir: 100, minBytes: 3072, maxBytes: 5120 }); bytes = t.bytes; files = t.files.length } else { await generateLargeFiles(src, { files: 2, fileBytes: 256 * 1024 * 1024 }); bytes = 512 * 1024 * 1024; files = 2 }
const preSrc = scratch.path('pre')
if (process.env.AB_PREWARM || variants.some(v => v.env.AB_PREWARM)) await generateTree(preSrc, { files: 2_000, perDir: 100, minBytes: 3072, maxBytes: 5120 })
const res: Record<string, Array<{ ms: number, joinMs: number, shareCpu: number, joinCpu: number, sysBusy: number, shareMiB: number, joinMiB: number }>> = {}
const tcp: number[] = []
try {
  for (let round = -1; round < reps; round++) {
    const order = [...variants, { name: 'tcp', env: {} }].sort(() => randomInt(3) - 1)
    for (const v of order) {
      if (v.name === 'tcp') { const dest = scratch.path('tcp'); const r = await tcpCopy(src, dest); await scratch.remove(dest); if (round >= 0) tcp.push(r.ms); continue }
      try {
        const sharer = lab.peer('sharer'); Object.assign(sharer.env, v.env)
        await sharer.start()
        await sharer.json(['create', 'ws', '--from', src])
        const shared = await sharer.json(['share', 'ws'])
        await lab.waitForAnnounce(shared.out.discoveryKey)
        const joiner = lab.peer('joiner'); Object.assign(joiner.env, v.env)
        await joiner.start()
        if (process.env.AB_PREWARM || v.env.AB_PREWARM) {
          const pre = await sharer.json(['create', 'pre', '--from', preSrc])
          void pre
          const preShared = await sharer.json(['share', 'pre'])
          await lab.waitForAnnounce(preShared.out.discoveryKey)
          await joiner.json(['join', preShared.out.key, 'pre', '--timeout', '120'])
          await joiner.json(['sync', 'pre'])
        }
        const sp = await readPid(sharer.home); const jp = await readPid(joiner.home)
        const tracers = process.env.AB_STRACE ? [sp, jp].map(pid => spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })) : []
        const traced = tracers.map(p => { let err = ''; p.stderr!.on('data', d => { err += d }); return new Promise<string>(resolve => p.on('close', () => resolve(err))) })
        if (tracers.length > 0) await new Promise(resolve => setTimeout(resolve, 500))
        const c0 = [await cpu(sp), await cpu(jp)]; const s0 = await sysCpu(); const th0 = [await threads(sp), await threads(jp)]
        const t0 = performance.now()
        const samples: string[] = []
        let sampling = !!process.env.AB_SAMPLE
        const readMain = async (pid: number | null) => { const raw = await fs.readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8'); const f = raw.split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10 }
        const sampler = (async () => {
          let prev = [await readMain(sp), await readMain(jp), await cpu(sp), await cpu(jp), (await sysCpu()).busy]
          while (sampling) {
            await new Promise(resolve => setTimeout(resolve, 100))
            const cur = [await readMain(sp), await readMain(jp), await cpu(sp), await cpu(jp), (await sysCpu()).busy]
            samples.push(`${(performance.now() - t0).toFixed(0)}: sm${cur[0] - prev[0]} sp${cur[2] - prev[2]} jm${cur[1] - prev[1]} jp${cur[3] - prev[3]} all${cur[4] - prev[4]}`)
            prev = cur
          }
        })()
        await joiner.json(['join', shared.out.key, 'ws', '--timeout', '120'])
        const joinMs = performance.now() - t0
        const sync = await joiner.json(['sync', 'ws'])
        const ms = performance.now() - t0
        sampling = false; await sampler
        if (process.env.AB_SAMPLE) console.error(samples.join('\n'))
        for (const p of tracers) p.kill('SIGINT')
        const counts = await Promise.all(traced)
        if (tracers.length > 0) console.error(`  sharer syscalls:\n${counts[0]}\n  joiner syscalls:\n${counts[1]}`)
        const c1 = [await cpu(sp), await cpu(jp)]; const s1 = await sysCpu(); const th1 = [await threads(sp), await threads(jp)]
        if (process.env.AB_THREADS) console.error(`  sharer ${diffThreads(th0[0], th1[0])}\n  joiner ${diffThreads(th0[1], th1[1])}`)
        if (sync.out.bytes !== bytes) throw new Error('bad sync ' + JSON.stringify(sync.out))
        const hwm = async (pid: number | null) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024)
        const r = { ms, joinMs, shareCpu: c1[0] - c0[0], joinCpu: c1[1] - c0[1], sysBusy: s1.busy - s0.busy, shareMiB: await hwm(sp), joinMiB: await hwm(jp) }
        console.error(`${round < 0 ? 'warm' : 'rep ' + round} ${v.name}: ${ms.toFixed(0)} ms (join ${joinMs.toFixed(0)}), cpu sharer ${r.shareCpu} joiner ${r.joinCpu} machine ${r.sysBusy} ms, peak RSS sharer ${r.shareMiB} joiner ${r.joinMiB} MiB`)
        if (process.env.AB_LOG) { await fs.copyFile(path.join(joiner.home, 'daemon.log'), `/tmp/perf/joiner-${v.name}-${round}.log`); await fs.copyFile(path.join(sharer.home, 'daemon.log'), `/tmp/perf/sharer-${v.name}-${round}.log`); console.error('t0 wall', Date.now() - Math.round(performance.now() - t0)) }
        if (round >= 0) (res[v.name] ??= []).push(r)
      } finally { await lab.teardown() }
    }
  }
} finally { await lab.close(); await boot.close(); await scratch.close() }
const t = median(tcp)
for (const [name, rs] of Object.entries(res)) {
  const ms = median(rs.map(r => r.ms))
  const rate = kind === 'small' ? `${(files / ms * 1000).toFixed(0)} files/s` : `${(bytes / 1048576 / ms * 1000).toFixed(1)} MiB/s`
  console.log(`${name.padEnd(10)} median ${ms.toFixed(0)} ms  ${rate}  ratio-to-tcp ${(ms / t).toFixed(2)}x  join ${median(rs.map(r => r.joinMs)).toFixed(0)} ms  cpu sharer ${median(rs.map(r => r.shareCpu))} joiner ${median(rs.map(r => r.joinCpu))} machine ${median(rs.map(r => r.sysBusy))} ms  all: ${rs.map(r => r.ms.toFixed(0)).join(',')}`)
}
console.log(`tcp median ${t.toFixed(0)} ms`)
