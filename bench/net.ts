/**
 * `bench net`: sharing and joining workspaces between real wxs daemons on
 * loopback, side by side with a raw baseline (BENCH.md section 3).
 *
 * How it runs
 * - The bench starts its own DHT bootstrap (runBootstrap, in this process) and
 *   gives it to every daemon (WXS_BOOTSTRAP) with WXS_NO_PUBLIC_BOOTSTRAP=1:
 *   nothing here can reach the public bootstrap nodes.
 * - Every wxs sample uses fresh peers: fresh WXS_HOMEs, daemons started
 *   untimed, a sharer that imports the source and shares it (its announcement
 *   checked on the DHT before the timer starts), a joiner timed through the
 *   real CLI; then mounts, daemons and state dirs are removed (also on failure
 *   or a signal).
 * - The baseline is a plain TCP copy of the same tree over loopback (two Node
 *   processes, lib/net-tcp.cjs), run in the same rounds; order shuffled each
 *   round, warm-up rounds discarded, medians reported.
 * - This process never touches a mount: `ls -R` runs in a child.
 * Results: a table on stdout, progress on stderr, JSON in bench/results/.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBootstrap, type BootstrapHandle } from '../net/index.js'
import { Cleanup, stopOnSignals } from './lib/cleanup.js'
import { Lab } from './lib/net-peer.js'
import { failedRow, renderNetTable, type NetRow } from './lib/net-report.js'
import { SCENARIOS, type NetContext, type NetSizes } from './lib/net-scenarios.js'
import { childEnv, killRunning, spawnAsync } from './lib/proc.js'
import { environment, writeResults } from './lib/report.js'
import { Scratch } from './lib/scratch.js'
import { ensureBuild, removeScratch } from './lib/build.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024

interface NetConfig { warmup: number, reps: number, sizes: NetSizes }

const FULL: NetConfig = {
  warmup: 1,
  reps: 3,
  sizes: {
    small: { files: 10_000, minBytes: 3072, maxBytes: 5120 },
    large: { files: 2, fileBytes: 256 * MiB },
    seed: { files: 2, fileBytes: 256 * MiB },
    uplink: { files: 2, fileBytes: 64 * MiB, mbit: 200 },
    overlap: { changedPct: 4, addedPct: 1 }
  }
}

/** `--quick`: one rep of everything on small inputs (a smoke run; figures not comparable to the targets). */
const QUICK: NetConfig = {
  warmup: 0,
  reps: 1,
  sizes: {
    small: { files: 2_000, minBytes: 3072, maxBytes: 5120 },
    large: { files: 2, fileBytes: 32 * MiB },
    seed: { files: 2, fileBytes: 32 * MiB },
    uplink: { files: 2, fileBytes: 16 * MiB, mbit: 200 },
    overlap: { changedPct: 4, addedPct: 1 }
  }
}

const NOTES = [
  'Every wxs sample: fresh state dirs and daemons (started untimed, as a user\'s daemon is already running), a fresh sharer (create + share, announcement seen on the local DHT before the timer), the joiner timed through the CLI (`node cli/wxs.js`, each command its own process); daemons stopped, mounts detached and state dirs removed after each sample.',
  'baseline = a plain TCP copy of the same files over loopback (node net, a sender and a receiver process: the sender reads each file and streams it with a small header, the receiver appends the bytes to one file, as wxs appends objects to a pack; no fsync). ratio = wxs time / baseline time (scenario 3: bytes received / bytes of the changed + added files).',
  'Rows "counted from the first peer connected" subtract the connection setup, read from the joiner\'s daemon.log (the first "peer … connected" line after the join started). A setup of ~13-15 s there is the hyperdht 6.33.0-6.34.0 LAN/loopback connect race (holepunchto/hyperdht#304: the client sees a connection the server never gets, it dies on the UDX timeout, the retry connects); net/lib/network.ts avoids it since 41a9dbd (a fresh share only announces; a DHT bound to a known address is not firewalled).',
  'Source trees and packs are in the page cache (generated once, imported by the sharer just before each sample). All peers share this machine\'s CPUs (see cpus below).',
  'Scenario 3: the joiner first creates workspace "base" from the original tree; the sharer shares a copy (mtimes kept) with the given percentages of files rewritten / added at random places; moved = object and tree-delta bytes received plus request bytes sent (hashes, tree sketches), from `wxs peers --json` (manifest-log replication and Protomux framing not included).',
  'Scenario 4: with `wxs join --lazy` available, the third peer joins lazily, waits (untimed) until every seeder is connected, and `wxs sync` is timed alone; else join + sync is timed.',
  'Scenario 4b: the seeders and the third peer are hosts in network namespaces on a bridge (bench/lib/net-hosts.ts), each seeder\'s egress shaped by `tc tbf` to the given rate, the third peer\'s not, with a private DHT bootstrap on the bridge; so a seeder\'s uplink is the bottleneck, as between machines, not the two CPUs all daemons share on loopback (scenario 4).',
]

function log (line: string) {
  process.stderr.write(line + '\n')
}

function parseArgs (args: string[]) {
  const value = (flag: string) => args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined
  const quick = args.includes('--quick')
  const config: NetConfig = structuredClone(quick ? QUICK : FULL)
  const reps = value('--reps')
  if (reps !== undefined) {
    config.reps = Number(reps)
    if (!Number.isInteger(config.reps) || config.reps < 1) throw new Error(`--reps expects a positive integer, got ${reps}`)
  }
  const warmup = value('--warmup')
  if (warmup !== undefined) config.warmup = Number(warmup)
  const only = value('--only') ?? null
  const scenarios = SCENARIOS.filter(s => only === null || s.key.includes(only) || s.title.includes(only))
  return { quick, config, only, scenarios, build: !args.includes('--no-build') }
}

async function supportsLazy (env: NodeJS.ProcessEnv): Promise<boolean> {
  const res = await spawnAsync(process.execPath, [path.join(ROOT, 'cli', 'wxs.js'), 'join', '--help'], { cwd: ROOT, env, timeoutMs: 30_000 })
  return (res.stdout + res.stderr).includes('--lazy')
}

export async function main (args: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs(args)
  } catch (err) {
    log((err as Error).message)
    return 2
  }
  const { quick, config, only, scenarios, build } = parsed
  if (scenarios.length === 0) {
    log(`no scenario matches --only ${only}; scenarios: ${SCENARIOS.map(s => s.key).join(', ')}`)
    return 2
  }
  const started = performance.now()
  const buildInfo = await ensureBuild(build, log)
  // Not /tmp/wxs-*: test/run.js detaches every FUSE mount there after each test file.
  const scratch = await Scratch.create('bench-net-')
  const cleanup = new Cleanup()
  cleanup.defer('remove the scratch dir', () => removeScratch(scratch, log))
  let bootstrap: BootstrapHandle | null = null
  let lab: Lab | null = null
  let stopping = false
  const unhook = stopOnSignals('net', cleanup, log, () => {
    stopping = true
    killRunning()
  })
  const rows: NetRow[] = []
  const raw: Record<string, unknown> = {}
  const errors: Record<string, string> = {}
  let lazy = false
  try {
    bootstrap = await runBootstrap({ host: '127.0.0.1' })
    const boot = bootstrap
    cleanup.defer('close the DHT bootstrap', () => boot.close())
    const address = `${bootstrap.host}:${bootstrap.port}`
    log(`[net] private DHT bootstrap on ${address} (${bootstrap.nodes} nodes); scratch ${scratch.root}; ${config.warmup} warm-up + ${config.reps} reps; ${buildInfo}`)
    const daemonNodeArgs = (process.env.WXS_BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean)
    const theLab = new Lab({ root: ROOT, scratch, bootstrap: address, log, daemonNodeArgs })
    lab = theLab
    cleanup.defer('stop daemons, unmount, remove state dirs', () => theLab.close())
    lazy = await supportsLazy(childEnv({ WXS_HOME: scratch.path('help'), WXS_BOOTSTRAP: address, WXS_NO_PUBLIC_BOOTSTRAP: '1' }))
    const ctx: NetContext = { lab: theLab, scratch, sizes: config.sizes, warmup: config.warmup, reps: config.reps, log, lazy, raw, sources: {} }
    for (const s of scenarios) {
      if (stopping) break
      log(`[net] ${s.title}`)
      try {
        const got = await s.run(ctx)
        rows.push(...got)
        for (const r of got) log(`  ${r.scenario.trim()}: ${r.wxs === null ? '-' : r.wxs.toFixed(3)} ${r.unit}${r.ratio !== null ? ` (${r.ratio.toFixed(2)}x baseline)` : ''} ${r.verdict === '-' ? '' : r.verdict}`)
      } catch (err) {
        const msg = (err as Error)?.message ?? String(err)
        log(`  ${s.key} failed: ${(err as Error)?.stack ?? msg}`)
        errors[s.key] = msg
        rows.push(failedRow(s.title, msg.slice(0, 200)))
        await theLab.teardown()
      }
    }
  } finally {
    unhook()
    await cleanup.run(log)
  }
  void lab
  const env = {
    ...await environment(['hyperswarm', 'hyperdht', 'hypercore', 'corestore', 'protomux', '@napi-rs/blake-hash']),
    build: buildInfo,
    lazyJoin: lazy,
    daemonNodeArgs: process.env.WXS_BENCH_DAEMON_NODE_ARGS ?? '',
    warmup: config.warmup,
    reps: config.reps,
    sizes: config.sizes,
    quick
  }
  const totalMs = performance.now() - started
  const file = await writeResults('net', { bench: 'net', environment: env, notes: NOTES, rows, raw, errors, totalMs })
  process.stdout.write(renderNetTable(rows) + '\n\nNotes:\n' + NOTES.map(n => '- ' + n).join('\n') + '\n')
  process.stdout.write(`\n${env.cpu}, ${env.cpus} CPUs, ${env.kernel}, node ${env.node}, hyperdht ${env.versions.hyperdht}; ${(totalMs / 1000).toFixed(0)} s total\nResults: ${path.relative(process.cwd(), file)}\n`)
  return Object.keys(errors).length > 0 ? 1 : 0
}
