/**
 * `bench ws` scenario 7: latency of `wxs list --json` with the daemon up,
 * timed as whole child processes (the CLI is its own process in real use),
 * side by side with a bare `node -e ""` start. Skipped until cli/wxs.js exists.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Scratch } from './lib/scratch.js'
import { run, type RunResult } from './lib/proc.js'
import { stopDaemon } from './lib/daemon.js'
import { median, sideBySide } from './lib/stats.js'
import { atMost, failed, row, skipped, type Row } from './lib/table.js'

export interface CliOptions { root: string, scratch: Scratch, tree: string, reps: number, log: (line: string) => void }

const SCENARIO = 'wxs list --json, daemon up'

export async function cliScenario (opts: CliOptions): Promise<Row[]> {
  const entry = path.join(opts.root, 'cli', 'wxs.js')
  if (!existsSync(entry)) return [skipped(SCENARIO, 'skipped: cli not built yet')]
  const home = opts.scratch.path('cli-home')
  const wxs = (args: string[]) => run(process.execPath, [entry, ...args], { cwd: opts.root, env: { ...process.env, WXS_HOME: home } })
  try {
    return await measure(opts, wxs)
  } finally {
    await stopDaemon(home, () => wxs(['daemon', 'stop']), opts.log)
  }
}

async function measure (opts: CliOptions, wxs: (args: string[]) => RunResult): Promise<Row[]> {
  const created = wxs(['create', 'bench', '--from', opts.tree, '--json'])
  if (created.status !== 0) return [failed(SCENARIO, `wxs create exited ${created.status}: ${firstLine(created.stderr)}`)]
  const first = wxs(['list', '--json']) // starts the daemon
  if (first.status !== 0 || !first.stdout.includes('bench')) return [failed(SCENARIO, `first wxs list exited ${first.status}: ${firstLine(first.stderr || first.stdout)}`)]
  opts.log(`  daemon started by the first list (${first.ms.toFixed(0)} ms)`)
  const problems: string[] = []
  const samples = await sideBySide({ warmup: 1, reps: opts.reps }, {
    list: async () => {
      const res = wxs(['list', '--json'])
      if (res.status !== 0) problems.push(`exit ${res.status}: ${firstLine(res.stderr)}`)
      return res.ms
    },
    node: async () => run(process.execPath, ['-e', '']).ms
  })
  if (problems.length > 0) return [failed(SCENARIO, `${problems.length} runs failed, e.g. ${problems[0]}`)]
  return [
    row(SCENARIO, median(samples.list), 'ms', atMost(150), `median of ${opts.reps} child processes; ${build(opts.root)}`),
    row('node -e "" (process start baseline)', median(samples.node), 'ms', null, 'side by side')
  ]
}

/** cli/wxs.js runs dist/ when built, else the sources through tsx (much slower to start). */
function build (root: string) {
  return existsSync(path.join(root, 'dist', 'cli', 'main.js')) ? 'dist build' : 'TS sources via tsx'
}

function firstLine (text: string) {
  return text.trim().split('\n')[0]?.slice(0, 120) ?? ''
}
