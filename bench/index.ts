/**
 * Benchmark entry: `npm run bench -- <name> [options]` (see /work/shared/BENCH.md).
 * Each bench module exports main(args) and resolves to the process exit code.
 */
interface BenchModule { main (args: string[]): Promise<number> }

const BENCHES: Record<string, { about: string, load: () => Promise<BenchModule> }> = {
  fs: { about: 'filesystem: the wxs mount vs tmpfs, journaled ext4 and a bare FUSE floor (root, /dev/fuse; --audit-ab: also wxs with its audit trail off)', load: () => import('./fs.js') },
  ws: { about: 'workspaces: import, fork, dedupe, snapshot/diff/restore, CLI latency', load: () => import('./ws.js') },
  migrate: { about: 'moving a workspace: pause on A, resume on B (first write, working set) vs a TCP copy of the tree (--quick, --only 10000|100000, --reps N)', load: () => import('./migrate.js') },
  net: { about: 'network: join/sync between daemons on a private loopback DHT vs a raw TCP copy (--reps N, --no-build)', load: () => import('./net.js') },
  posix: { about: 'the mount against the local disk: the randomized differential test over many seeds, passed/failed per seed (--seeds N|1,2,3, --ops N)', load: () => import('./posix.js') }
}

const PLANNED: Record<string, string> = {}

function usage (): string {
  const lines = ['usage: npm run bench -- <name> [--quick] [--only <scenario substring>] [--reps N]', '', 'benchmarks:']
  for (const [name, b] of Object.entries(BENCHES)) lines.push(`  ${name.padEnd(4)} ${b.about}`)
  for (const [name, about] of Object.entries(PLANNED)) lines.push(`  ${name.padEnd(4)} ${about} (not written yet)`)
  return lines.join('\n')
}

const [name, ...args] = process.argv.slice(2)
const bench = name !== undefined && Object.hasOwn(BENCHES, name) ? BENCHES[name] : undefined
if (bench === undefined) {
  process.stderr.write(usage() + '\n')
  process.exit(2)
}
process.exitCode = await bench.load().then(m => m.main(args))
