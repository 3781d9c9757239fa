/**
 * `bench migrate`: moving a workspace between machines (BENCH.md section 5).
 *
 * One sample, for a tree of N files (random content, ~10 KiB each):
 * - A creates the workspace, mounts it, overwrites `dirtyFiles` files with
 *   `dirtyBytes` in all (uncommitted), then reads `readFiles` other files (its
 *   working set); C follows A and holds everything committed (all untimed).
 * - timed on A: `wxs pause` until the link is printed (it commits the dirty
 *   bytes), then `wxs pause --wait` until C holds everything;
 * - A's daemon stops (A goes offline); timed on B: from `wxs resume --mount`
 *   starting until a first write in its mount succeeds, and until the files A
 *   read last are read back in B's mount (cat in a child process);
 * - baseline, same sample: a plain TCP copy of A's tree at the pause
 *   (lib/net-tcp.ts), i.e. when B could start working without wxs.
 * Every process that touches a mount is a child; daemons are real, on a
 * private DHT on 127.0.0.1 that the bench starts (never the public one).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBootstrap, type BootstrapHandle } from '../net/index.js'
import { ensureBuild, removeScratch } from './lib/build.js'
import { Cleanup, stopOnSignals } from './lib/cleanup.js'
import { Lab } from './lib/net-peer.js'
import { atLeast, atMost, failedRow, netRow, renderNetTable, type NetRow } from './lib/net-report.js'
import { childEnv, killRunning, mustSpawn } from './lib/proc.js'
import { environment, writeResults } from './lib/report.js'
import { Scratch } from './lib/scratch.js'
import { median } from './lib/stats.js'
import { tcpCopy } from './lib/net-tcp.js'
import { generateTree } from './lib/tree.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024

interface Size { files: number, dirtyFiles: number, dirtyBytes: number, readFiles: number, reps: number, firstWriteTargetMs: number, soonerTarget: number | null }

const FULL: Size[] = [
  { files: 10_000, dirtyFiles: 500, dirtyBytes: 50 * MiB, readFiles: 1000, reps: 3, firstWriteTargetMs: 1000, soonerTarget: null },
  { files: 100_000, dirtyFiles: 500, dirtyBytes: 50 * MiB, readFiles: 1000, reps: 1, firstWriteTargetMs: 2000, soonerTarget: 10 }
]
const QUICK: Size[] = [{ files: 2_000, dirtyFiles: 50, dirtyBytes: 5 * MiB, readFiles: 200, reps: 1, firstWriteTargetMs: 1000, soonerTarget: null }]

const NOTES = [
  'Files of 2-18 KiB random content, 100 per directory (~10 KiB average: 100k files ~ 1 GiB). A\'s dirty files are overwritten in its mount (not committed) before the pause; then A reads the working set (cat, in a child).',
  'pause = `wxs pause` until the link is printed (quiesce, commit of the dirty bytes, pause record, share); + wait = `wxs pause --wait` until the follower C reports it holds everything at the paused length.',
  'resume -> first write: from spawning `wxs resume <link> --mount` on B (A\'s daemon stopped; C the only source) until `echo > file` in B\'s mount returned. working set local: the time B\'s daemon logs for fetching every object of the working set, from when it is asked (right after the mount). read in B\'s mount: a child reading the files A read last, right after the first write, while the rest of the workspace streams in; baseline = the same read in A\'s mount before the pause.',
  'baseline = a plain TCP copy of A\'s tree at the pause over loopback (lib/net-tcp.ts), the time B would wait for the whole tree without wxs; sooner = baseline / (resume -> first write).'
]

function log (line: string) { process.stderr.write(line + '\n') }

interface Sample { pauseMs: number, pauseCommitMs: number, waitMs: number, resumeMs: number, firstWriteMs: number, workingSetMs: number, wsLocalMs: number, readOnAMs: number, readAfterSyncMs: number, baselineMs: number, trees: number, workingSet: number, daemon: Record<string, number> }

/** Writes `files` (relative) under `dir` with random bytes, `bytes` in all, from a child process. */
async function overwrite (dir: string, files: string[], bytes: number) {
  const each = Math.floor(bytes / files.length)
  const script = `const fs=require('fs'),c=require('crypto');for(const f of JSON.parse(process.argv[1]))fs.writeFileSync(require('path').join(${JSON.stringify(dir)},f),c.randomBytes(${each}))`
  await mustSpawn(process.execPath, ['-e', script, JSON.stringify(files)], { env: childEnv(), timeoutMs: 300_000 })
}

/** Reads every file of `files` under `dir` in a child process; ms. */
async function readAll (dir: string, files: string[]): Promise<number> {
  const script = `const fs=require('fs');for(const f of JSON.parse(process.argv[1]))fs.readFileSync(require('path').join(${JSON.stringify(dir)},f))`
  const res = await mustSpawn(process.execPath, ['-e', script, JSON.stringify(files)], { env: childEnv(), timeoutMs: 300_000 })
  return res.ms
}

async function sample (lab: Lab, scratch: Scratch, src: { dir: string, files: string[] }, size: Size): Promise<Sample> {
  const [a, b, c] = [lab.peer('a'), lab.peer('b'), lab.peer('c')]
  await Promise.all([a.start(), b.start(), c.start()])
  const mA = await lab.mountPoint()
  await a.json(['create', 'w', '--from', src.dir, '--mount', mA], { timeoutMs: 600_000 })
  const key = (await a.json(['share', 'w'])).out.key
  await c.json(['join', key, 'w'])
  await c.json(['sync', 'w', '--timeout', '120'], { timeoutMs: 900_000 })
  const dirty = src.files.slice(0, size.dirtyFiles)
  const read = src.files.slice(size.dirtyFiles, size.dirtyFiles + size.readFiles)
  await overwrite(mA, dirty, size.dirtyBytes)
  const readOnAMs = await readAll(mA, read)

  const paused = await a.json(['pause', 'w'], { timeoutMs: 600_000 })
  const held = await a.json(['pause', 'w', '--wait', '--timeout', '600'], { timeoutMs: 900_000 })
  if (held.out.link !== paused.out.link) throw new Error('pause --wait printed another link')
  const atPause = scratch.path('at-pause')
  await a.json(['export', 'w', atPause], { timeoutMs: 600_000 })
  await a.stop()

  const mB = await lab.mountPoint()
  const started = performance.now()
  const resumed = await b.json(['resume', paused.out.link, '--mount', mB, '--timeout', '120'], { timeoutMs: 300_000 })
  const resumeMs = performance.now() - started
  await mustSpawn('sh', ['-c', 'echo first > first-write.txt'], { cwd: mB, env: childEnv(), timeoutMs: 60_000 })
  const firstWriteMs = performance.now() - started
  await readAll(mB, read)
  const workingSetMs = performance.now() - started
  await b.json(['sync', 'w', '--timeout', '120'], { timeoutMs: 900_000 })
  const readAfterSyncMs = await readAll(mB, read)
  // the daemon logs when the working set is local: "working set: N files, k/m objects fetched in T ms"
  const wsLine = (await fs.readFile(path.join(b.home, 'daemon.log'), 'utf8').catch(() => '')).split('\n').find(l => l.includes('working set:')) ?? ''
  const wsLocalMs = Number(/ in (\d+) ms/.exec(wsLine)?.[1] ?? NaN)
  const copy = await tcpCopy(atPause, scratch.path('tcp-copy'))
  await scratch.remove(atPause)
  const commitStep = paused.steps.find(s => s.step === 'committed')
  return { pauseMs: paused.ms, pauseCommitMs: commitStep?.ms ?? NaN, waitMs: held.ms, resumeMs, firstWriteMs, workingSetMs, wsLocalMs, readOnAMs, readAfterSyncMs, baselineMs: copy.ms, trees: resumed.out.trees, workingSet: resumed.out.workingSet, daemon: resumed.out.timings }
}

function rows (size: Size, samples: Sample[]): NetRow[] {
  const m = (k: Exclude<keyof Sample, 'daemon'>) => median(samples.map(s => s[k]))
  const label = `${(size.files / 1000).toFixed(0)}k files`
  const base = m('baselineMs')
  const first = m('firstWriteMs')
  const out = [
    netRow(`${label}: pause until the link (commits ${(size.dirtyBytes / MiB).toFixed(0)} MiB)`, 'ms', m('pauseMs')),
    netRow(`${label}: pause until the link, less the commit (daemon's 'committed' step)`, 'ms', m('pauseMs') - m('pauseCommitMs'), { target: atMost(300) }),
    netRow(`${label}: pause until a peer holds everything`, 'ms', m('pauseMs') + m('waitMs')),
    netRow(`${label}: resume -> mounted (${m('trees')} trees)`, 'ms', m('resumeMs')),
    netRow(`${label}: resume -> first write`, 'ms', first, { baseline: base, ratio: first / base, target: atMost(size.firstWriteTargetMs) }),
    netRow(`${label}: working set (${m('workingSet')} paths) local after the mount`, 'ms', m('wsLocalMs'), { target: atMost(1500) }),
    netRow(`${label}: ${size.readFiles} working-set files read in B's mount (vs on A)`, 'ms', m('workingSetMs') - m('firstWriteMs'), { baseline: m('readOnAMs'), ratio: (m('workingSetMs') - m('firstWriteMs')) / m('readOnAMs') }),
    netRow(`${label}: the same read in B's mount once everything is local`, 'ms', m('readAfterSyncMs'), { baseline: m('readOnAMs'), ratio: m('readAfterSyncMs') / m('readOnAMs') }),
  ]
  out.push(netRow(`${label}: working on B sooner than a TCP copy`, 'x', base / first, size.soonerTarget !== null ? { target: atLeast(size.soonerTarget) } : {}))
  return out
}

export async function main (args: string[]): Promise<number> {
  const quick = args.includes('--quick')
  const sizes = structuredClone(quick ? QUICK : FULL)
  const repsArg = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : null
  if (repsArg !== null && !(Number.isInteger(repsArg) && repsArg > 0)) { log('--reps expects a positive integer'); return 2 }
  const only = args.includes('--only') ? Number(args[args.indexOf('--only') + 1]) : null
  const started = performance.now()
  const buildInfo = await ensureBuild(!args.includes('--no-build'), log)
  const scratch = await Scratch.create('bench-migrate-')
  const cleanup = new Cleanup()
  cleanup.defer('remove the scratch dir', () => removeScratch(scratch, log))
  let bootstrap: BootstrapHandle | null = null
  const unhook = stopOnSignals('migrate', cleanup, log, () => killRunning())
  const out: NetRow[] = []
  const raw: Record<string, Sample[]> = {}
  const errors: Record<string, string> = {}
  try {
    bootstrap = await runBootstrap({ host: '127.0.0.1' })
    const boot = bootstrap
    cleanup.defer('close the DHT bootstrap', () => boot.close())
    const lab = new Lab({ root: ROOT, scratch, bootstrap: `${bootstrap.host}:${bootstrap.port}`, log, daemonNodeArgs: [] })
    cleanup.defer('stop daemons, unmount, remove state dirs', () => lab.close())
    for (const size of sizes) {
      if (only !== null && size.files !== only) continue
      const reps = repsArg ?? size.reps
      const t = performance.now()
      const src = await generateTree(scratch.path(`src-${size.files}`), { files: size.files, perDir: 100, minBytes: 2048, maxBytes: 18 * 1024 })
      log(`[migrate] ${size.files} files (${(src.bytes / MiB).toFixed(0)} MiB) generated in ${((performance.now() - t) / 1000).toFixed(1)} s; ${reps} rep(s)`)
      const samples: Sample[] = []
      try {
        for (let i = 0; i < reps; i++) {
          samples.push(await sample(lab, scratch, src, size))
          log(`  rep ${i + 1}: ${JSON.stringify(samples[samples.length - 1], (_k, v) => typeof v === 'number' ? Math.round(v) : v)}`)
          await lab.teardown()
        }
        out.push(...rows(size, samples))
      } catch (err) {
        const msg = (err as Error)?.message ?? String(err)
        log(`  ${size.files} files failed: ${(err as Error)?.stack ?? msg}`)
        errors[String(size.files)] = msg
        out.push(failedRow(`${size.files} files`, msg.slice(0, 200)))
        await lab.teardown()
      }
      raw[String(size.files)] = samples
      await fs.rm(src.dir, { recursive: true, force: true })
    }
  } finally {
    unhook()
    await cleanup.run(log)
  }
  const env = { ...await environment(['hyperswarm', 'hyperdht', 'hypercore', 'corestore']), build: buildInfo, sizes, quick }
  const totalMs = performance.now() - started
  const file = await writeResults('migrate', { bench: 'migrate', environment: env, notes: NOTES, rows: out, raw, errors, totalMs })
  process.stdout.write(renderNetTable(out) + '\n\nNotes:\n' + NOTES.map(n => '- ' + n).join('\n') + '\n')
  process.stdout.write(`\n${env.cpu}, ${env.cpus} CPUs, ${env.kernel}, node ${env.node}; ${(totalMs / 1000).toFixed(0)} s total\nResults: ${path.relative(process.cwd(), file)}\n`)
  return Object.keys(errors).length > 0 ? 1 : 0
}
