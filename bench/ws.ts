/**
 * `bench ws`: the local workspace engine, in process (BENCH.md section 2).
 *
 * How it runs
 * - Source trees are generated once into a scratch dir under the OS temp dir
 *   and reused; every timed import goes into a fresh state dir (engine open
 *   and close are not timed; the engine's own flush/fsync is).
 * - Measurements that are compared run side by side (shuffled order each
 *   round, warm-ups discarded) and are reported as medians.
 * - The last state dir of each small-tree import is kept open and reused for
 *   the fork and snapshot/diff/restore scenarios, so 100k files are imported
 *   only as often as the import scenario needs.
 * Results: a table on stdout, progress on stderr, JSON in bench/results/.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Engine } from '../manifests/index.js'
import { hash } from '../core/index.js'
import { Scratch, diskUsage } from './lib/scratch.js'
import { generateTree, generateLargeFiles, rewriteFiles, type GeneratedTree } from './lib/tree.js'
import { median, repeat, sideBySide, summarize, timeMs, type RepeatOptions } from './lib/stats.js'
import { atLeast, atMost, renderTable, row, type Row } from './lib/table.js'
import { environment, writeResults } from './lib/report.js'
import { mustRun } from './lib/proc.js'
import { cliScenario } from './ws-cli.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const MB = 1e6

interface SmallSize extends RepeatOptions { files: number, label: string, copyBaseline: boolean }

interface Config {
  small: SmallSize[]
  large: RepeatOptions & { files: number, fileBytes: number }
  real: RepeatOptions & { source: string }
  fork: RepeatOptions
  copies: number
  change: { files: number, sizes: Array<RepeatOptions & { files: number }> }
  cli: { reps: number }
}

const FULL: Config = {
  small: [
    { files: 1_000, label: '1k', warmup: 1, reps: 5, copyBaseline: true },
    { files: 10_000, label: '10k', warmup: 1, reps: 5, copyBaseline: true },
    // cp -r of 100k files takes 5-35 s on this disk: left out to keep the run short
    { files: 100_000, label: '100k', warmup: 0, reps: 2, copyBaseline: false }
  ],
  large: { files: 4, fileBytes: 256 * MiB, warmup: 1, reps: 3 },
  real: { source: path.join(ROOT, 'node_modules'), warmup: 1, reps: 3 },
  fork: { warmup: 3, reps: 20 },
  copies: 4,
  change: { files: 10, sizes: [{ files: 10_000, warmup: 1, reps: 5 }, { files: 100_000, warmup: 1, reps: 3 }] },
  cli: { reps: 10 }
}

/** `--quick`: a smoke run of every scenario on small inputs (numbers not comparable). */
const QUICK: Config = {
  ...FULL,
  small: [{ files: 1_000, label: '1k', warmup: 0, reps: 2, copyBaseline: true }, { files: 10_000, label: '10k', warmup: 0, reps: 2, copyBaseline: true }],
  large: { files: 2, fileBytes: 64 * MiB, warmup: 0, reps: 2 },
  real: { ...FULL.real, warmup: 0, reps: 1 },
  fork: { warmup: 1, reps: 5 },
  change: { files: 10, sizes: [{ files: 10_000, warmup: 0, reps: 2 }] },
  cli: { reps: 3 }
}

const NOTES = [
  'Import sources are in the page cache (generated or copied just before, reused across reps): imports measure hashing + storing, not cold reads.',
  'Import times cover engine.create() including its flush (fsync of the active pack); engine open/close are not timed. cp -r does not fsync; "cp -r + fsync" does.',
  'Every import rep writes into a fresh state dir on the same disk as the source (/tmp).',
  'Fork ms is the figure returned by engine.fork() (measured inside the engine).',
  'Snapshot/diff/restore run on a kept engine whose tree cache is warm, as in a long-running daemon.',
  'MB = 10^6 bytes.'
]

interface Kept { engine: Engine, home: string, tree: GeneratedTree, importMs: number }

interface Imported { engine: Engine, home: string, ms: number, files: number, bytes: number }

class WsBench {
  readonly rows: Row[] = []
  readonly raw: Record<string, unknown> = {}
  readonly kept = new Map<number, Kept>()
  readonly trees = new Map<number, GeneratedTree>()

  constructor (readonly scratch: Scratch, readonly config: Config) {}

  add (...rows: Row[]) {
    for (const r of rows) {
      this.rows.push(r)
      log(`  ${r.scenario}: ${r.value === null ? r.note : r.value.toFixed(2) + ' ' + r.unit} ${r.verdict === '-' ? '' : r.verdict}`)
    }
  }

  async close () {
    for (const k of this.kept.values()) await k.engine.close().catch(() => {})
    this.kept.clear()
  }
}

function log (line: string) {
  process.stderr.write(line + '\n')
}

// -- helpers -------------------------------------------------------------------

/** Imports `dir` into a fresh state dir; the caller discards or keeps the engine. */
async function importFresh (b: WsBench, dir: string): Promise<Imported> {
  const home = b.scratch.path('state')
  const engine = new Engine({ home })
  await engine.ready()
  const started = performance.now()
  const out = await engine.create('w', { from: dir })
  const ms = performance.now() - started
  if (out.problems.length > 0) throw new Error(`import of ${dir} reported ${out.problems.length} problems, e.g. ${JSON.stringify(out.problems[0])}`)
  return { engine, home, ms, files: out.commit.stats.files, bytes: out.commit.stats.bytes }
}

async function discard (b: WsBench, imp: Imported) {
  await imp.engine.close()
  await b.scratch.remove(imp.home)
}

/** Times `cp -r src <scratch>` (optionally fsyncing every copied file), then removes the copy. */
async function copyTree (b: WsBench, src: string, opts: { fsync: boolean }): Promise<number> {
  const dst = b.scratch.path('cp')
  const script = opts.fsync ? 'cp -r "$1" "$2" && find "$2" -type f -exec sync {} +' : 'cp -r "$1" "$2"'
  const { ms } = mustRun('sh', ['-c', script, 'sh', src, dst])
  await b.scratch.remove(dst)
  // Untimed: write back what cp left dirty so it does not slow the next sample (often wxs's fsync).
  mustRun('sync', [])
  return ms
}

/** wxs import of one tree, side by side with cp -r if asked; keeps the last imported engine if asked. */
async function importVsCopy (b: WsBench, dir: string, opts: RepeatOptions & { keep: boolean, copyBaseline: boolean }) {
  let latest: Imported | null = null
  const cases: Record<string, () => Promise<number>> = {
    wxs: async () => {
      if (latest !== null) await discard(b, latest)
      latest = await importFresh(b, dir)
      return latest.ms
    }
  }
  if (opts.copyBaseline) cases.cp = () => copyTree(b, dir, { fsync: false })
  const samples = await sideBySide(opts, cases)
  const last = latest as Imported | null
  if (last === null) throw new Error('no import ran')
  if (!opts.keep) await discard(b, last)
  return { wxsMs: median(samples.wxs), cpMs: opts.copyBaseline ? median(samples.cp) : null, samples, last }
}

function copyRatio (scenario: string, wxsMs: number, cpMs: number | null): Row[] {
  return cpMs === null ? [] : [row(scenario, wxsMs / cpMs, 'x time', null, `cp -r ${cpMs.toFixed(0)} ms`)]
}

const perSecond = (count: number, ms: number) => count / (ms / 1000)

// -- scenarios -----------------------------------------------------------------

async function prepareTrees (b: WsBench) {
  for (const size of b.config.small) {
    const started = performance.now()
    b.trees.set(size.files, await generateTree(b.scratch.path(`tree-${size.label}`), { files: size.files }))
    log(`  generated ${size.label} files in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
}

async function smallImports (b: WsBench) {
  for (const size of b.config.small) {
    const tree = b.trees.get(size.files)!
    log(`  import ${size.label} files: ${size.warmup} warm-up + ${size.reps} reps${size.copyBaseline ? ', side by side with cp -r' : ''}`)
    const r = await importVsCopy(b, tree.dir, { ...size, keep: true })
    if (r.last.files !== tree.files.length) throw new Error(`imported ${r.last.files} files of ${tree.files.length}`)
    b.kept.set(size.files, { engine: r.last.engine, home: r.last.home, tree, importMs: r.wxsMs })
    b.raw[`import-${size.label}`] = { files: tree.files.length, bytes: tree.bytes, wxsMs: summarize(r.samples.wxs), cpMs: r.samples.cp ? summarize(r.samples.cp) : null }
    b.add(
      row(`import ${size.label} small files`, perSecond(tree.files.length, r.wxsMs), 'files/s', atLeast(10_000), `median of ${size.reps}`),
      row(`import ${size.label} small files`, perSecond(tree.bytes / MB, r.wxsMs), 'MB/s'),
      ...copyRatio(`import ${size.label} small files: wxs / cp -r`, r.wxsMs, r.cpMs)
    )
  }
}

async function largeFiles (b: WsBench) {
  const { files, fileBytes } = b.config.large
  const dir = b.scratch.path('large')
  log(`  generating ${files} x ${fileBytes / MiB} MiB of random data`)
  let pieces: Buffer[] | null = await generateLargeFiles(dir, { files, fileBytes })
  const total = files * fileBytes
  const samples = await sideBySide(b.config.large, {
    wxs: async () => { const imp = await importFresh(b, dir); await discard(b, imp); return imp.ms },
    blake3: () => timeMs(async () => hashInMemory(pieces!)),
    cp: () => copyTree(b, dir, { fsync: false }),
    cpSync: () => copyTree(b, dir, { fsync: true })
  })
  pieces = null
  await b.scratch.remove(dir)
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
  b.raw.large = { files, fileBytes, ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) }
  const mbs = (t: number) => perSecond(total / MB, t)
  b.add(
    row(`large files ${files}x${fileBytes / MiB} MiB: wxs import`, mbs(ms.wxs), 'MB/s', atLeast(500), `median of ${b.config.large.reps}`),
    row('large files: BLAKE3 in memory, 1 MiB chunks', mbs(ms.blake3), 'MB/s'),
    row('large files: cp -r', mbs(ms.cp), 'MB/s'),
    row('large files: cp -r + fsync', mbs(ms.cpSync), 'MB/s'),
    row('large files: wxs / BLAKE3 in memory', ms.wxs / ms.blake3, 'x time'),
    row('large files: wxs / cp -r', ms.wxs / ms.cp, 'x time'),
    row('large files: wxs / cp -r + fsync', ms.wxs / ms.cpSync, 'x time')
  )
}

function hashInMemory (pieces: Buffer[]) {
  for (const piece of pieces) {
    for (let at = 0; at < piece.byteLength; at += MiB) hash(piece.subarray(at, at + MiB))
  }
}

async function realTree (b: WsBench): Promise<string> {
  const dir = b.scratch.path('real')
  const { ms } = mustRun('cp', ['-a', b.config.real.source, dir])
  log(`  copied ${b.config.real.source} in ${(ms / 1000).toFixed(1)} s`)
  const r = await importVsCopy(b, dir, { ...b.config.real, keep: false, copyBaseline: true })
  const { files, bytes } = r.last
  b.raw.real = { source: b.config.real.source, files, bytes, wxsMs: summarize(r.samples.wxs), cpMs: summarize(r.samples.cp) }
  const what = `import real tree (${path.basename(b.config.real.source)}, ${files} files, ${(bytes / MB).toFixed(0)} MB)`
  b.add(
    row(what, perSecond(files, r.wxsMs), 'files/s', null, `median of ${b.config.real.reps}`),
    row(what, perSecond(bytes / MB, r.wxsMs), 'MB/s'),
    ...copyRatio('import real tree: wxs / cp -r', r.wxsMs, r.cpMs)
  )
  return dir
}

async function forks (b: WsBench) {
  const medians: number[] = []
  let n = 0
  for (const size of b.config.small) {
    const { engine } = b.kept.get(size.files)!
    const samples = await repeat(b.config.fork, async () => (await engine.fork('w', `fork-${n++}`)).ms)
    medians.push(median(samples))
    b.raw[`fork-${size.label}`] = summarize(samples)
    b.add(row(`fork ${size.label}-file workspace`, median(samples), 'ms', atMost(20), `median of ${b.config.fork.reps}, max ${Math.max(...samples).toFixed(1)}`))
  }
  const labels = b.config.small.map(s => s.label)
  b.add(row(`fork ${labels[labels.length - 1]} / fork ${labels[0]}`, medians[medians.length - 1] / medians[0], 'x', atMost(2), 'flat in file count (threshold chosen here)'))
}

async function copies (b: WsBench, dir: string) {
  const home = b.scratch.path('copies')
  const engine = new Engine({ home })
  await engine.ready()
  try {
    await engine.create('copy-0', { from: dir })
    const one = { store: await engine.stats(), state: await diskUsage(home) }
    for (let i = 1; i < b.config.copies; i++) await engine.create(`copy-${i}`, { from: dir })
    const all = { store: await engine.stats(), state: await diskUsage(home), corestore: await diskUsage(path.join(home, 'corestore')) }
    b.raw.copies = { copies: b.config.copies, one, all }
    const k = b.config.copies
    b.add(
      row(`${k} imports of real tree: objects on disk, ${k} / 1`, all.store.diskBytes / one.store.diskBytes, 'x', atMost(1.05), `${(one.store.diskBytes / MB).toFixed(0)} -> ${(all.store.diskBytes / MB).toFixed(0)} MB`),
      row(`${k} imports of real tree: whole state dir, ${k} / 1`, all.state / one.state, 'x', null, `engine open; corestore/ ${(all.corestore / MB).toFixed(1)} MB of it`),
      row(`${k} imports of real tree: objects on disk / logical`, all.store.diskBytes / all.store.logicalBytes, 'x', null, `logical ${(all.store.logicalBytes / MB).toFixed(0)} MB`)
    )
  } finally {
    await engine.close()
    await b.scratch.remove(home)
  }
}

/** Snapshot, change k files, re-import, diff, restore to the snapshot: one round. */
async function changeRound (engine: Engine, tree: GeneratedTree, changed: string[], label: string) {
  const snapshot = await timeMs(() => engine.snapshot('w', label))
  await rewriteFiles(tree.dir, changed)
  let started = performance.now()
  const out = await engine.importDir('w', tree.dir)
  const reimport = performance.now() - started
  if (out.hashed !== changed.length) throw new Error(`re-import hashed ${out.hashed} files, expected ${changed.length}`)
  started = performance.now()
  const d = await engine.diff('w', 'head~1', 'head')
  const diff = performance.now() - started
  if (d.changes.length !== changed.length) throw new Error(`diff found ${d.changes.length} changes, expected ${changed.length}`)
  const restore = await timeMs(() => engine.restore('w', label))
  return { snapshot, reimport, diff, restore }
}

async function changes (b: WsBench) {
  for (const size of b.config.change.sizes) {
    const kept = b.kept.get(size.files)
    if (!kept) continue
    const label = b.config.small.find(s => s.files === size.files)!.label
    const step = Math.floor(kept.tree.files.length / b.config.change.files)
    const changed = kept.tree.files.filter((_, i) => i % step === 0).slice(0, b.config.change.files)
    const rounds: Array<Awaited<ReturnType<typeof changeRound>>> = []
    let n = 0
    await repeat(size, async i => { const r = await changeRound(kept.engine, kept.tree, changed, `bench-${n++}`); if (i >= 0) rounds.push(r); return 0 })
    const med = (k: keyof typeof rounds[0]) => median(rounds.map(r => r[k]))
    b.raw[`change-${label}`] = Object.fromEntries((['snapshot', 'reimport', 'diff', 'restore'] as const).map(k => [k, summarize(rounds.map(r => r[k]))]))
    const reps = `median of ${size.reps}`
    b.add(
      row(`snapshot (${label})`, med('snapshot'), 'ms', null, reps),
      row(`re-import, ${changed.length} changed (${label})`, med('reimport'), 'ms', null, reps),
      row(`re-import ${changed.length} changed / full import (${label})`, med('reimport') / kept.importMs, 'x time', null, `full ${kept.importMs.toFixed(0)} ms`),
      row(`diff, ${changed.length} changes (${label})`, med('diff'), 'ms', null, reps),
      row(`restore (${label})`, med('restore'), 'ms', null, reps)
    )
  }
}

// -- main ----------------------------------------------------------------------

const SCENARIOS: Array<[string, (b: WsBench, ctx: { realDir: string }) => Promise<void>]> = [
  ['generate trees', b => prepareTrees(b)],
  ['1. import small files', b => smallImports(b)],
  ['2. large files', b => largeFiles(b)],
  ['3. real tree', async (b, ctx) => { ctx.realDir = await realTree(b) }],
  ['4. fork', b => forks(b)],
  ['5. repeated imports', (b, ctx) => copies(b, ctx.realDir)],
  ['6. snapshot, diff, restore', b => changes(b)],
  ['7. wxs list --json', async b => b.add(...await cliScenario({ root: ROOT, scratch: b.scratch, tree: b.trees.get(b.config.small[0].files)!.dir, reps: b.config.cli.reps, log }))]
]

export async function main (args: string[]): Promise<number> {
  const quick = args.includes('--quick')
  const config = quick ? QUICK : FULL
  const scratch = await Scratch.create('wxs-bench-ws-')
  const b = new WsBench(scratch, config)
  const cleanup = () => { void b.close().finally(() => scratch.close()).finally(() => process.exit(130)) }
  process.once('SIGINT', cleanup)
  const started = performance.now()
  try {
    const ctx = { realDir: '' }
    const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null
    for (const [name, fn] of SCENARIOS) {
      if (only !== null && name !== 'generate trees' && !name.includes(only)) continue
      log(`[ws] ${name}`)
      await fn(b, ctx)
    }
  } finally {
    process.off('SIGINT', cleanup)
    await b.close()
    await scratch.close()
  }
  const env = { ...await environment(['@napi-rs/blake-hash', 'hypercore', 'corestore', 'hyperbee']), reps: config, quick }
  const file = await writeResults('ws', { bench: 'ws', environment: env, notes: NOTES, rows: b.rows, raw: b.raw, totalMs: performance.now() - started })
  process.stdout.write(renderTable(b.rows) + '\n\nNotes:\n' + NOTES.map(n => '- ' + n).join('\n') + '\n')
  process.stdout.write(`\n${env.cpu}, ${env.cpus} CPUs, ${env.kernel}, node ${env.node}; ${((performance.now() - started) / 1000).toFixed(0)} s total\nResults: ${path.relative(process.cwd(), file)}\n`)
  return 0
}
