/**
 * `bench posix`: the randomized differential test of the mount against the
 * local disk (test/mount/random-ops.test.ts) over many seeds, where CI runs
 * one. Not a timing: it says how many seeds passed, and for each one that
 * failed the first operation where the mount differs (re-run one alone with
 * WXS_RANDOM_SEEDS=<seed>, node test/run.js random-ops).
 *
 * Usage: npm run bench -- posix [--seeds N | --seeds 1,2,3] [--ops N] [--no-build]
 * (default: 20 seeds from the test's default one, 400 operations per sequence).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBuild } from './lib/build.js'
import { childEnv, spawnAsync } from './lib/proc.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function option (args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}

export async function main (args: string[]): Promise<number> {
  const seeds = option(args, '--seeds') ?? '20'
  const ops = option(args, '--ops') ?? '400'
  if (!/^\d+$|^\d+(,\d+)*,?$/.test(seeds) || !/^\d+$/.test(ops)) {
    process.stderr.write('usage: npm run bench -- posix [--seeds N | --seeds 1,2,3] [--ops N] [--no-build]\n')
    return 2
  }
  const log = (line: string) => process.stderr.write(line + '\n')
  log(`[posix] ${await ensureBuild(!args.includes('--no-build'), log)}; seeds ${seeds}, ${ops} operations per sequence`)
  const count = seeds.includes(',') ? seeds.split(',').filter(Boolean).length : Number(seeds)
  const res = await spawnAsync(process.execPath, [path.join(ROOT, 'test', 'run.js'), 'random-ops'], {
    cwd: ROOT,
    env: childEnv({ WXS_RANDOM_SEEDS: seeds, WXS_RANDOM_OPS: ops, WXS_TEST_FILE_TIMEOUT_MS: String(count * 120_000 + 60_000) }),
    timeoutMs: count * 120_000 + 120_000
  })
  // one top-level TAP line per seed; the first divergence is the failing assertion's name
  const passed: number[] = []
  const failed: Array<{ seed: number, why: string }> = []
  let why: string[] = []
  for (const line of res.stdout.split('\n')) {
    const assertion = /^\s+not ok \d+ - (.*)$/.exec(line)
    if (assertion) why.push(assertion[1])
    const seed = /^(not )?ok \d+ - seed (\d+):/.exec(line)
    if (!seed) continue
    if (seed[1]) failed.push({ seed: Number(seed[2]), why: why.join('; ') || 'see the log' })
    else passed.push(Number(seed[2]))
    why = []
  }
  const lines = [`${passed.length} of ${passed.length + failed.length} seeds passed${failed.length > 0 ? `, ${failed.length} failed` : ''}`]
  for (const f of failed) lines.push(`  seed ${f.seed}: ${f.why}`)
  if (passed.length + failed.length < count) lines.push(`  ${count - passed.length - failed.length} seed(s) did not report (runner exit ${res.status}): ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  process.stdout.write(lines.join('\n') + '\n')
  return failed.length === 0 && passed.length === count ? 0 : 1
}
