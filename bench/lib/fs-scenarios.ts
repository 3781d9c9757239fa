/**
 * `bench fs` scenarios (BENCH.md section 1): bash snippets run in a child
 * process inside a fresh scratch dir on the target. `prep` and `check` are
 * untimed; `work` is timed by the shell itself ($EPOCHREALTIME around it),
 * so process start is not in the figure. Sizes come in as environment
 * variables (see scenarioEnv), so the snippets stay fixed text.
 *
 * Kernel caches: both FUSE targets run with 1 s attribute/entry caches
 * (MOUNT_OPTIONS), and the untimed settle step between `prep` and `work`
 * takes a different time per target (wxs: a `wxs commit` CLI call, 130-300 ms
 * here; floor/tmpfs: a few ms). A cache state made in `prep` therefore
 * reaches the timer more expired on wxs than on the floor, and the figure
 * measures the harness's latency, not the filesystem (measured: the first
 * git status after prep took ~10 ms on either FUSE target right away and
 * 50-70 ms on either after a 1 s gap; in the old harness wxs's 130-280 ms
 * settle alone put its "warm" figure at 1.6-1.9x the floor). So a
 * scenario that needs a cache state at the timer's start makes it in `warm`:
 * run untimed in the timed child itself, right before the timer, after
 * settling, the same for every target.
 */

export interface FsSizes {
  /** create/stat/rm: files */
  files: number
  /** mkdir/find tree: a x b directories, `files` in each */
  tree: { a: number, b: number, files: number }
  /** large-file scenarios: MiB */
  mib: number
  gitFiles: number
  statusFiles: number
  /** in-process ops: calls of each kind (4 kinds) */
  opsPerKind: number
}

export interface Scenario {
  key: string
  name: (s: FsSizes) => string
  unit: 'ms' | 'µs/op'
  prep?: string
  /** Untimed, in the timed child right before the timer starts (after settling): brings caches to the state the scenario names. */
  warm?: string
  work: string
  /**
   * Runs `work` this many times in a row in the timed window; the figure is
   * per run (a short row's median is then steadier than from one run each).
   */
  runs?: number
  /** Untimed, after the work; fails the sample when it fails. */
  check?: string
  /** Checks the work's stdout; returns a problem or null. */
  expect?: (stdout: string, s: FsSizes) => string | null
  /** The child measured itself: the value comes from its stdout, not the shell's clock. */
  value?: (stdout: string) => number
  /** What else the child reported, kept per sample in the JSON. */
  details?: (stdout: string) => unknown
}

const CREATE = 'for ((i = 0; i < N; i++)); do echo $i > f$i; done'
const TREE = `for ((a = 0; a < TREE_A; a++)); do
  for ((b = 0; b < TREE_B; b++)); do
    mkdir -p d$a/d$b
    names=(); for ((f = 0; f < TREE_FILES; f++)); do names+=(d$a/d$b/f$f); done
    touch "\${names[@]}"
  done
done`
const WRITE = 'dd if=/dev/zero of=f bs=1M count=$MIB status=none'
const RANDOM_FILE = 'head -c "$MIB"M /dev/urandom > f'
const SIZE_IS = (file: string) => `test "$(stat -c %s ${file})" -eq $((MIB * 1048576))`
const GIT_FILES = 'git init -q .\nfor ((i = 0; i < GIT_N; i++)); do echo $i > f$i; done\ngit add -A\ngit commit -q -m bench'
// Files dated in the past so git never sees them as "racily clean" and status stays warm.
const GIT_REPO = `git init -q .
for ((d = 0; d < 10; d++)); do
  mkdir d$d
  for ((i = 0; i < STATUS_N / 10; i++)); do echo "$d $i" > d$d/f$i; done
done
touch -d @1600000000 d*/f*
git add -A
git commit -q -m base`
// Warm: a first status right before the timed one, so the kernel's dentry and
// attribute caches are fresh on every target (and the index is refreshed).
const GIT_WARM = 'git status --porcelain > /dev/null'
const NPM_INSTALL = 'npm install --offline --cache "$NPM_CACHE" --no-audit --no-fund --no-update-notifier --loglevel=error'

const lines = (stdout: string) => stdout.trim()

export const SCENARIOS: Scenario[] = [
  { key: 'create', name: s => `create ${s.files} files`, unit: 'ms', work: CREATE, check: 'test -f f$((N - 1))' },
  { key: 'stat', name: s => `stat ${s.files} files`, unit: 'ms', work: CREATE + '\nstat -- f* > /dev/null' },
  { key: 'rm', name: s => `rm ${s.files} files`, unit: 'ms', work: CREATE + '\nrm -- f*', check: 'test -z "$(ls)"' },
  { key: 'mkdir-tree', name: s => `mkdir tree ${s.tree.a}x${s.tree.b}x${s.tree.files}`, unit: 'ms', work: TREE },
  {
    key: 'find',
    name: () => 'find tree',
    unit: 'ms',
    work: TREE + '\nfind . -type f | wc -l',
    expect: (out, s) => Number(lines(out)) === s.tree.a * s.tree.b * s.tree.files ? null : `find counted ${lines(out)} files`
  },
  { key: 'write', name: s => `write ${s.mib} MiB`, unit: 'ms', work: WRITE, check: SIZE_IS('f') },
  { key: 'copy', name: s => `copy ${s.mib} MiB`, unit: 'ms', work: WRITE + '\ncp f g', check: SIZE_IS('g') },
  { key: 'read', name: s => `read ${s.mib} MiB`, unit: 'ms', work: WRITE + '\ncat f > /dev/null' },
  { key: 'pure-read', name: s => `pure read ${s.mib} MiB`, unit: 'ms', prep: RANDOM_FILE, work: 'cat f > /dev/null' },
  { key: 'pure-copy', name: s => `pure copy ${s.mib} MiB`, unit: 'ms', prep: RANDOM_FILE, work: 'cp f g', check: 'cmp f g' },
  { key: 'overwrite', name: s => `overwrite ${s.mib} MiB`, unit: 'ms', prep: RANDOM_FILE, work: WRITE.replace('status=none', 'conv=notrunc status=none'), check: SIZE_IS('f') + ' && cmp -s -n 1048576 f /dev/zero' },
  { key: 'git-commit', name: s => `git init + commit ${s.gitFiles} files`, unit: 'ms', work: GIT_FILES, check: 'test "$(git ls-files | wc -l)" -eq $GIT_N' },
  {
    key: 'git-status',
    name: s => `git status, ${s.statusFiles}-file repo (warm)`,
    unit: 'ms',
    prep: GIT_REPO,
    warm: GIT_WARM,
    // ~7 ms, with one run in three or four 5-10 ms slower on every FUSE target alike
    // (audit on or off, the floor too): one run per sample left the median on either mode
    runs: 5,
    work: 'git status --porcelain',
    expect: out => lines(out) === '' ? null : `git status not clean: ${lines(out).slice(0, 200)}`
  },
  {
    // The same status once the FUSE entry/attribute caches have run out (sleep past
    // their timeout, every target alike): each lstat goes to the FUSE server.
    // (The warm-up's index.lock arms wxs's 2 s auto-commit; sleep + work end before it,
    // and settling commits before the warm-up anyway.)
    key: 'git-status-expired',
    name: s => `git status, ${s.statusFiles}-file repo (caches expired)`,
    unit: 'ms',
    prep: GIT_REPO,
    warm: GIT_WARM + '\nsleep "$CACHE_EXPIRY"',
    work: 'git status --porcelain',
    expect: out => lines(out) === '' ? null : `git status not clean: ${lines(out).slice(0, 200)}`
  },
  { key: 'npm', name: () => 'npm install (offline)', unit: 'ms', prep: 'cp "$NPM_PROJECT"/package.json "$NPM_PROJECT"/package-lock.json .', work: NPM_INSTALL, check: 'test -f node_modules/debug/package.json && test -f node_modules/chalk/package.json' },
  {
    key: 'ops',
    name: s => `in-process ops (${4 * s.opsPerKind} calls)`,
    unit: 'µs/op',
    work: '"$NODE" "$BENCH_LIB"/fs-ops.cjs $OPS',
    value: out => JSON.parse(lines(out)).usPerOp,
    details: out => JSON.parse(lines(out)).phases
  }
]

/** The environment the snippets read their sizes and shared paths from. */
export function scenarioEnv (s: FsSizes, shared: { npmProject: string, npmCache: string, benchLib: string, cacheExpirySec: number }): Record<string, string> {
  return {
    CACHE_EXPIRY: String(shared.cacheExpirySec),
    N: String(s.files),
    TREE_A: String(s.tree.a),
    TREE_B: String(s.tree.b),
    TREE_FILES: String(s.tree.files),
    MIB: String(s.mib),
    GIT_N: String(s.gitFiles),
    STATUS_N: String(s.statusFiles),
    OPS: String(s.opsPerKind),
    NODE: process.execPath,
    BENCH_LIB: shared.benchLib,
    NPM_PROJECT: shared.npmProject,
    NPM_CACHE: shared.npmCache,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_PARAMETERS: "'init.defaultBranch=main'"
  }
}

/** The fixed dependency set of the npm scenario: small, pure JS, a few transitive deps. */
export const NPM_DEPENDENCIES: Record<string, string> = {
  chalk: '4.1.2',
  debug: '4.3.7',
  'is-number': '7.0.0',
  kleur: '4.1.5',
  ms: '2.1.3',
  semver: '7.6.3'
}

/** Anchors and references from BENCH.md section 1 (ratios to journaled ext4). */
export const ANCHOR_WXS_EXT4: Record<string, { ratio: number, note?: string }> = {
  create: { ratio: 1.85 },
  write: { ratio: 16.9 },
  copy: { ratio: 40 },
  'pure-read': { ratio: 30 },
  overwrite: { ratio: 43 },
  npm: { ratio: 2.0, note: 'anchor is a full (online) install; ours is offline' }
}

export const DOC_FLOOR_EXT4: Record<string, number> = {
  write: 0.7,
  'pure-read': 2.4,
  copy: 6.2,
  create: 10,
  'git-status': 3.3,
  npm: 1.4
}
