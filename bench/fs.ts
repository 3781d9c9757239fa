/**
 * `bench fs`: the wxs mount against tmpfs, journaled ext4 on a loop image and
 * a bare in-memory FUSE server (the floor for any Node FUSE server), in one
 * run (BENCH.md section 1).
 *
 * How it runs
 * - The four targets are mounted once under a scratch dir in /tmp and undone
 *   at the end, on failure and on SIGINT/SIGTERM (lib/fs-targets.ts).
 * - Each scenario runs warm-up + reps rounds; each round visits the targets
 *   in a shuffled order. A sample makes a fresh dir on the target, prepares
 *   (untimed), settles, then in one child bash warms (untimed, if the
 *   scenario says how) and times the work, checks the result, removes the
 *   dir and settles again (untimed).
 * - Settling: `sync` for everyone; for wxs also `wxs commit`, so the daemon's
 *   auto-commit (about 2 s after writes settle) never lands inside a timed
 *   window. The commit that the work caused is timed on its own right after
 *   the work (the "wxs commit" column).
 * - Settling takes longer on wxs (a CLI call) than elsewhere, and the FUSE
 *   caches expire after 1 s: cache state a scenario wants at the timer is made
 *   by its `warm` step in the timed child, never left over from `prep`
 *   (see lib/fs-scenarios.ts).
 * - This process never touches a mount: all file work is in child processes.
 * Results: a table on stdout, progress on stderr, JSON in bench/results/.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MOUNT_OPTIONS } from '../mount/lib/fuse-ops.js'
import { Cleanup, stopOnSignals } from './lib/cleanup.js'
import { assertMounted, floorServer, LostMountError, makeTarget, AUDIT_AB_TARGETS, TARGET_NAMES, type FsTarget, type TargetName } from './lib/fs-targets.js'
import { SCENARIOS, NPM_DEPENDENCIES, scenarioEnv, type FsSizes, type Scenario } from './lib/fs-scenarios.js'
import { renderResults, summarizeScenario, verdicts, type ScenarioResult } from './lib/fs-report.js'
import { mountsUnder } from './lib/mounts.js'
import { childEnv, killRunning, mustSpawn, spawnAsync } from './lib/proc.js'
import { environment, writeResults } from './lib/report.js'
import { Scratch } from './lib/scratch.js'
import { sideBySide, type RepeatOptions } from './lib/stats.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')

interface FsConfig extends RepeatOptions { sizes: FsSizes }

const FULL: FsConfig = {
  warmup: 1,
  reps: 7,
  sizes: { files: 1000, tree: { a: 10, b: 10, files: 10 }, mib: 64, gitFiles: 100, statusFiles: 1000, opsPerKind: 2500 }
}

/** `--quick`: one rep of every scenario on smaller inputs (a smoke run; ratios not comparable to the anchors). */
const QUICK: FsConfig = {
  warmup: 0,
  reps: 1,
  sizes: { files: 200, tree: { a: 5, b: 5, files: 4 }, mib: 16, gitFiles: 20, statusFiles: 200, opsPerKind: 500 }
}

/** The floor's server follows the binding wxs uses (WXS_FUSE=hl: libfuse 2). */
const FLOOR = floorServer()

const NOTES = [
  'Figures are medians; ratios are of medians measured side by side in one run (targets shuffled each round).',
  'Timed work is measured by the child bash itself ($EPOCHREALTIME), so process start-up is excluded; in-process ops is timed inside its Node child.',
  'wxs commits about 2 s after writes settle. The bench commits explicitly after preparation and after each sample (untimed) so that commit never lands in a timed window; "wxs commit" is the commit the work caused, timed right after it (wxs commit CLI minus a no-op wxs commit). Neither column includes ext4 writeback (sync is untimed for all).',
  'Files made in preparation (pure read/copy, overwrite) hold random bytes and, on wxs, are committed first (reads come from the object store); write/copy/read write zeros with dd, as the anchor did.',
  'git status (warm) runs a first status untimed right before the timed ones in the same shell, so the 1 s FUSE entry/attribute caches are fresh on every target, and times five in a row (the figure is per status: one ~7 ms run per sample left the median on either of two modes); (caches expired) sleeps past those timeouts first, on every target, so each lstat reaches the FUSE server.',
  'Reads are warm for every target: what the page cache keeps (tmpfs, ext4; FUSE with auto_cache) is part of the result.',
  `floor = ${FLOOR.script}: in-memory tree on the binding wxs mounts with in this run (${FLOOR.binding}) and the same mount options as wxs (MOUNT_OPTIONS).`,
  'The npm scenario installs a fixed dependency set offline from a cache warmed once (untimed) at the start; the anchor row is a full online install.'
]

function log (line: string) {
  process.stderr.write(line + '\n')
}

class FsBench {
  readonly targets: FsTarget[] = []
  readonly results: ScenarioResult[] = []
  aborted = false
  private seq = 0

  constructor (readonly config: FsConfig, readonly env: NodeJS.ProcessEnv) {}

  sampleDir (target: FsTarget) {
    return path.join(target.dir, `s${this.seq++}`)
  }
}

/** Per-sample side data; each target runs once per round, so warm-ups are the first `warmup` entries. */
interface SampleExtras { commits: number[], details: Partial<Record<TargetName, unknown[]>> }

/** Runs a bash snippet in `dir` (a child process); throws with its stderr when it fails. */
function bash (b: FsBench, snippet: string, dir: string) {
  return mustSpawn('bash', ['-c', `set -eo pipefail\ncd -- "$1"\n${snippet}`, 'bench-fs', dir], { env: b.env, timeoutMs: 300_000 })
}

/** One sample: fresh dir, prep, settle, timed work, commit timing (wxs), check, cleanup, settle. */
async function sample (b: FsBench, target: FsTarget, scenario: Scenario, extra: SampleExtras): Promise<number> {
  if (b.aborted) throw new Error('aborted')
  const dir = b.sampleDir(target)
  await mustSpawn('mkdir', ['--', dir])
  if (scenario.prep) await bash(b, scenario.prep, dir)
  await settle(target)
  const runs = scenario.runs ?? 1
  const work = runs === 1 ? scenario.work : `for ((__r = 0; __r < ${runs}; __r++)); do\n${scenario.work}\ndone`
  const timed = `${scenario.warm ?? ''}\n__t0=$EPOCHREALTIME\n${work}\n__t1=$EPOCHREALTIME\necho "$__t0 $__t1" >&3`
  await assertMounted(target)
  const res = await bash(b, timed, dir)
  await assertMounted(target) // unmounted during the work: the figure is of the disk underneath
  if (target.timeCommit) {
    const c = await target.timeCommit()
    extra.commits.push(c.commitMs - c.noopMs)
  }
  const problem = scenario.expect?.(res.stdout, b.config.sizes) ?? null
  if (problem !== null) throw new Error(`${target.name}: ${problem}`)
  if (scenario.check) await bash(b, scenario.check, dir).catch(err => { throw new Error(`${target.name}: check failed: ${err.message}`) })
  await mustSpawn('rm', ['-rf', '--', dir], { timeoutMs: 300_000 })
  await settle(target)
  if (scenario.details) (extra.details[target.name] ??= []).push(scenario.details(res.stdout))
  if (scenario.value) return scenario.value(res.stdout)
  const [t0, t1] = res.extra.trim().split(' ').map(Number)
  return (t1 - t0) * 1000 / runs
}

async function settle (target: FsTarget) {
  await target.settle()
  await mustSpawn('sync', [])
}

async function runScenario (b: FsBench, scenario: Scenario): Promise<ScenarioResult> {
  const name = scenario.name(b.config.sizes)
  const extra: SampleExtras = { commits: [], details: {} }
  const started = performance.now()
  try {
    const cases = Object.fromEntries(b.targets.map(t => [t.name, () => sample(b, t, scenario, extra)]))
    const samples = await sideBySide(b.config, cases) as Record<TargetName, number[]>
    const result = summarizeScenario(scenario, name, samples, extra.commits.slice(b.config.warmup))
    if (scenario.details) result.details = Object.fromEntries(Object.entries(extra.details).map(([t, list]) => [t, list.slice(b.config.warmup)]))
    log(`  ${name}: ${b.targets.map(t => `${t.name} ${result.medians[t.name]?.toFixed(1)}`).join(', ')} ${scenario.unit} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    return result
  } catch (err) {
    const message = (err as Error)?.message ?? String(err)
    log(`  ${name}: FAILED: ${message}`)
    if (err instanceof LostMountError) b.aborted = true
    return { key: scenario.key, name, unit: scenario.unit, medians: {}, samples: {}, commit: null, error: message }
  }
}

/** Warms a private npm cache with the fixed dependency set (network, untimed) and keeps the lockfile. */
async function warmNpm (scratch: Scratch) {
  const project = scratch.path('npm-project')
  const cache = scratch.path('npm-cache')
  await fs.mkdir(project)
  const pkg = { name: 'bench-fs-npm', version: '1.0.0', private: true, dependencies: NPM_DEPENDENCIES }
  await fs.writeFile(path.join(project, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const started = performance.now()
  // Resolved URLs in the lockfile let the offline install take tarballs from the cache by integrity.
  const flags = ['--cache', cache, '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error', '--omit-lockfile-registry-resolved=false']
  await mustSpawn('npm', ['install', ...flags], { cwd: project, env: childEnv(), timeoutMs: 300_000 })
  await fs.rm(path.join(project, 'node_modules'), { recursive: true, force: true })
  log(`  warmed the npm cache in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return { npmProject: project, npmCache: cache }
}

async function fsEnvironment (b: FsBench, config: FsConfig, quick: boolean) {
  const libfuse = await spawnAsync('dpkg-query', ['-W', '-f=${Version}', 'libfuse2'])
  const libfuse3 = await spawnAsync('dpkg-query', ['-W', '-f=${Version}', 'libfuse3-3'])
  const fusermount = await spawnAsync('fusermount', ['-V'])
  return {
    ...await environment(),
    libfuse2: libfuse.status === 0 ? libfuse.stdout.trim() : 'unknown',
    libfuse3: libfuse3.status === 0 ? libfuse3.stdout.trim() : 'unknown',
    floor: FLOOR,
    fusermount: (fusermount.stdout || fusermount.stderr).trim(),
    targets: Object.fromEntries(b.targets.map(t => [t.name, t.describe])),
    reps: { warmup: config.warmup, reps: config.reps },
    sizes: config.sizes,
    quick
  }
}

function parseArgs (args: string[]) {
  const value = (flag: string) => args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined
  const quick = args.includes('--quick')
  const config = { ...(quick ? QUICK : FULL) }
  const reps = value('--reps')
  if (reps !== undefined) config.reps = Number(reps)
  const only = value('--only') ?? null
  const scenarios = SCENARIOS.filter(s => only === null || s.key.includes(only) || s.name(config.sizes).includes(only))
  return { quick, config, only, scenarios, auditAb: args.includes('--audit-ab') }
}

async function removeScratch (scratch: Scratch) {
  const left = await mountsUnder(scratch.root)
  if (left.length > 0) log(`  left ${scratch.root} in place: still mounted: ${left.map(m => m.dir).join(', ')}`)
  else await scratch.close()
}

export async function main (args: string[]): Promise<number> {
  const { quick, config, only, scenarios, auditAb } = parseArgs(args)
  if (scenarios.length === 0) {
    log(`no scenario matches --only ${only}; scenarios: ${SCENARIOS.map(s => s.key).join(', ')}`)
    return 2
  }
  const started = performance.now()
  // Not /tmp/wxs-*: test/run.js detaches every FUSE mount there after each test file.
  const scratch = await Scratch.create('bench-fs-')
  const cleanup = new Cleanup()
  cleanup.defer('remove the scratch dir', () => removeScratch(scratch))
  let b: FsBench | null = null
  const unhook = stopOnSignals('fs', cleanup, log, () => {
    if (b) b.aborted = true
    killRunning()
  })
  let env: Awaited<ReturnType<typeof fsEnvironment>>
  try {
    const shared = scenarios.some(s => s.key === 'npm') ? await warmNpm(scratch) : { npmProject: '', npmCache: '' }
    // Past the longest FUSE cache timeout, for the "caches expired" scenario.
    const cacheExpirySec = Math.max(MOUNT_OPTIONS.attrTimeout, MOUNT_OPTIONS.entryTimeout, MOUNT_OPTIONS.negativeTimeout) + 0.2
    b = new FsBench(config, childEnv(scenarioEnv(config.sizes, { ...shared, benchLib: path.join(HERE, 'lib'), cacheExpirySec })))
    const ctx = { base: scratch.root, root: ROOT, cleanup, fuseOptions: { ...MOUNT_OPTIONS }, log, daemonNodeArgs: (process.env.WXS_BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean) }
    for (const name of auditAb ? [...TARGET_NAMES, ...AUDIT_AB_TARGETS] : TARGET_NAMES) b.targets.push(await makeTarget(name, ctx))
    log(`[fs] mounted ${b.targets.map(t => t.name).join(', ')} under ${scratch.root}; ${config.warmup} warm-up + ${config.reps} reps per scenario`)
    for (const scenario of scenarios) {
      if (b.aborted) break
      b.results.push(await runScenario(b, scenario))
    }
    env = await fsEnvironment(b, config, quick)
  } finally {
    unhook()
    await cleanup.run(log)
  }
  const totalMs = performance.now() - started
  const checks = verdicts(b.results, quick)
  const file = await writeResults('fs', { bench: 'fs', environment: env, notes: NOTES, scenarios: b.results, verdicts: checks, totalMs })
  process.stdout.write(renderResults(b.results, checks, quick) + '\n\nNotes:\n' + NOTES.map(n => '- ' + n).join('\n') + '\n')
  process.stdout.write(`\n${env.cpu}, ${env.cpus} CPUs, ${env.kernel}, node ${env.node}, libfuse2 ${env.libfuse2}; ${(totalMs / 1000).toFixed(0)} s total\nResults: ${path.relative(process.cwd(), file)}\n`)
  return b.results.some(r => r.error !== undefined) ? 1 : 0
}
