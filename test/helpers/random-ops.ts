/**
 * The operations of test/mount/random-ops.test.ts: a seeded generator (the
 * same sequence on every machine) over a few names on three levels, so that
 * operations keep meeting what earlier ones made or removed. Each operation
 * is [kind, ...args] as test/helpers/random-ops-runner.py runs it.
 */

export type Op = [string, ...unknown[]]

export const NOBODY = 65534
/** The seed CI runs (issue 13). */
export const DEFAULT_SEED = 13

/** WXS_RANDOM_SEEDS: "1,2,3" (those seeds; "7," for seed 7 alone) or "N" (N seeds from the default one). */
export function seedsFrom (value: string | undefined): number[] {
  const v = (value ?? '').trim()
  if (v === '') return [DEFAULT_SEED]
  if (/^\d+$/.test(v)) return Array.from({ length: Number(v) }, (_, i) => DEFAULT_SEED + i)
  const seeds = v.split(',').map(s => s.trim()).filter(Boolean).map(Number)
  if (seeds.length === 0 || seeds.some(s => !Number.isSafeInteger(s))) throw new Error(`WXS_RANDOM_SEEDS: not a list of seeds nor a count: ${v}`)
  return seeds
}

/** mulberry32: a small seeded PRNG. */
export class Rng {
  private s: number
  constructor (seed: number) { this.s = seed >>> 0 }
  next (): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int (n: number): number { return Math.floor(this.next() * n) }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)] }
  weighted<T> (xs: ReadonlyArray<readonly [T, number]>): T {
    let x = this.next() * xs.reduce((s, [, w]) => s + w, 0)
    for (const [v, w] of xs) { x -= w; if (x < 0) return v }
    return xs[xs.length - 1][0]
  }
}

const TOP = ['a', 'b', 'c', 'd']
const MIDDLE = ['a/b', 'a/c', 'b/a', 'b/d', 'c/a', 'd/b']
const DEEP = ['a/b/c', 'b/a/d', 'a/b/c/d']
const by = (top: number, middle: number, deep: number): ReadonlyArray<readonly [string, number]> =>
  [...TOP.map(p => [p, top] as const), ...MIDDLE.map(p => [p, middle] as const), ...DEEP.map(p => [p, deep] as const)]
/** Directories are made mostly near the top and files mostly below, so the tree keeps some depth. */
const FOR_DIRS = by(6, 2, 1)
const FOR_FILES = by(1, 3, 1)
const ANY = by(3, 2, 1)

// never out of the sequence's directory: a chmod through a link to .. would change the other sequence's ground
const TARGETS = ['a', 'b', 'c', 'a/b', 'b/a', 'x', '.', 'a/..', 'a/', 'b/../c', 'l', 'd/b']
const FILE_MODES = [0o644, 0o600, 0o755, 0o666, 0o000, 0o4755, 0o2750, 0o6711]
const MODES = [0o644, 0o600, 0o755, 0o4755, 0o2755, 0o6711, 0o1777, 0o000, 0o666, 0o440, 0o2775, 0o777, 0o555, 0o3755]
const DIR_MODES = [0o755, 0o755, 0o700, 0o777, 0o2775, 0o1777, 0o555, 0o300]
// -1: leave it. Both -1 only with oneInode (the low-level binding): chown(p, -1, -1)
// changes only p's ctime; the kernel sends a SETATTR with nothing to set, which
// libfuse 2 merely answers with a getattr (the daemon cannot tell it from a stat).
const IDS = [0, NOBODY, 1000, -1]
const XATTRS = ['user.a', 'user.b', 'user.' + 'long'.repeat(20), 'trusted.t']
const TIMES = ['now', 'omit', [0, 0], [1_000_000_000, 123_456_789], [1_600_000_000, 1], [2_000_000_000, 999_999_999], [1_700_000_000, 0]]

/** An entry of the shadow tree: its type ('f', 'd', 'l', 'p'), mode, and whether the sequence's user owns it. */
export interface Shadowed { type: string, mode: number, mine: boolean }

/**
 * A rough picture of the tree, only to aim operations: at names that exist,
 * or at free names in directories the user may write. It assumes an operation
 * did what it would do where it could; the disk and the mount decide what
 * really happens (where it is wrong, there are more collisions for a while).
 */
class Shadow {
  readonly m = new Map<string, Shadowed>()
  constructor (readonly asRoot: boolean, tree: Record<string, Shadowed>) {
    this.m.set('.', { type: 'd', mode: 0o777, mine: asRoot })
    for (const [k, v] of Object.entries(tree)) this.m.set(k, { ...v })
  }

  parent (p: string) { const i = p.lastIndexOf('/'); return i === -1 ? '.' : p.slice(0, i) }
  isDir (p: string) { return this.m.get(p)?.type === 'd' }
  /** A directory the user may add names to. */
  writable (dir: string) {
    const e = this.m.get(dir)
    if (e === undefined || e.type !== 'd') return false
    return this.asRoot || (e.mine ? (e.mode & 0o300) === 0o300 : (e.mode & 0o003) === 0o003)
  }

  free (p: string) { return !this.m.has(p) && this.writable(this.parent(p)) }
  removable (p: string) {
    const e = this.m.get(p)
    const dir = this.m.get(this.parent(p))
    if (e === undefined || dir === undefined || p === '.' || !this.writable(this.parent(p))) return false
    return this.asRoot || (dir.mode & 0o1000) === 0 || e.mine || dir.mine // a sticky directory: only the owners
  }
  empty (p: string) { for (const k of this.m.keys()) if (k.startsWith(p + '/')) return false; return true }
  apply (op: Op) {
    const [k, p, q] = op as [string, string, unknown]
    const add = (x: string, type: string, mode: number) => this.m.set(x, { type, mode, mine: true })
    if (k === 'open' && (op[2] as string).includes('c') && this.free(p)) add(p, 'f', op[3] as number)
    else if (k === 'mkdir' && this.free(p)) add(p, 'd', op[2] as number)
    else if (k === 'mkfifo' && this.free(p)) add(p, 'p', op[2] as number)
    else if (k === 'symlink' && this.free(q as string)) add(q as string, 'l', 0o777)
    else if (k === 'link' && this.m.has(p) && !this.isDir(p) && this.free(q as string)) this.m.set(q as string, this.m.get(p)!)
    else if (k === 'tmpfile' && typeof op[3] === 'string' && this.m.get(p)?.type === 'd' && this.writable(p) && this.free(op[3])) add(op[3], 'f', op[2] as number)
    else if ((k === 'unlink' || k === 'nameless') && this.removable(p) && !this.isDir(p)) this.m.delete(p)
    else if (k === 'rmdir' && this.isDir(p) && this.removable(p) && this.empty(p)) this.m.delete(p)
    else if (k === 'chmod' && this.m.has(p) && (this.asRoot || this.m.get(p)!.mine)) this.m.set(p, { ...this.m.get(p)!, mode: op[2] as number })
    else if (k === 'rename' && this.removable(p) && typeof q === 'string' && p !== q && !q.startsWith(p + '/') && this.writable(this.parent(q))) {
      const to = this.m.get(q)
      if (to !== undefined && (to.type === 'd') !== this.isDir(p)) return
      if (to?.type === 'd' && !this.empty(q)) return
      for (const key of [...this.m.keys()]) if (key === q || key.startsWith(q + '/')) this.m.delete(key)
      for (const key of [...this.m.keys()]) {
        if (key === p || key.startsWith(p + '/')) { const v = this.m.get(key)!; this.m.delete(key); this.m.set(q + key.slice(p.length), v) }
      }
    }
  }
}

/**
 * `count` operations of every kind, weighted so that the tree grows and
 * shrinks and operations collide; `tree`: what is there at the start (and
 * whether the user owns it), `asRoot`: whether the user is root.
 */
export function generate (seed: number, count: number, opts: { asRoot?: boolean, tree?: Record<string, Shadowed>, oneInode?: boolean } = {}): Op[] {
  const r = new Rng(seed)
  // often a name a recent operation used: a write follows a create, a rename a write...
  const recent: string[] = []
  const use = (x: string) => { recent.unshift(x); recent.length = Math.min(recent.length, 6); return x }
  const from = (table: ReadonlyArray<readonly [string, number]>) => use(recent.length > 0 && r.next() < 0.5 ? r.pick(recent) : r.weighted(table))
  const shadow = new Shadow(opts.asRoot ?? true, opts.tree ?? {})
  const names = ['a', 'b', 'c', 'd']
  /** Mostly a name that exists (of a kind `want` accepts), else one from `table`. */
  const existing = (table: ReadonlyArray<readonly [string, number]>, want: (t: string) => boolean) => {
    const have = [...shadow.m].filter(([k, e]) => k !== '.' && want(e.type)).map(([k]) => k)
    return have.length > 0 && r.next() < 0.65 ? use(r.pick(have)) : from(table)
  }
  /**
   * Mostly a free name in a directory that exists, else one from `table`; new
   * files mostly below the top and new directories mostly at it (were the top
   * names all files, nearly every path would fail with ENOTDIR).
   */
  const fresh = (table: ReadonlyArray<readonly [string, number]>, top: boolean) => {
    const dirs = [...shadow.m].filter(([k, e]) => e.type === 'd' && k.split('/').length < 4).map(([k]) => k)
    const free = dirs.flatMap(dir => names.map(n => dir === '.' ? n : `${dir}/${n}`)).filter(x => shadow.free(x))
    const preferred = free.filter(x => x.includes('/') !== top)
    if (free.length === 0 || r.next() >= 0.65) return from(table)
    return use(r.pick(preferred.length > 0 && r.next() < 0.8 ? preferred : free))
  }
  const p = () => existing(ANY, () => true)
  const f = () => existing(FOR_FILES, t => t !== 'd')
  const d = () => existing(FOR_DIRS, t => t === 'd')
  const nf = () => fresh(FOR_FILES, false)
  const nd = () => fresh(FOR_DIRS, true)
  const kinds: ReadonlyArray<readonly [() => Op, number]> = [
    [() => ['open', r.next() < 0.8 ? nf() : f(), r.pick(['wcx', 'wcx', 'wc', 'wct', 'Wc', 'wcxN', 'cx']), r.pick(FILE_MODES)], 10],
    [() => ['open', p(), r.pick(['', 'w', 'W', 'wt', 'D', 'N', 'wa', 'WD']), 0], 3],
    [() => ['write', f(), r.pick([0, 0, r.int(6000), 9000]), r.pick([0, 1 + r.int(3000), 4096]), r.int(256)], 7],
    [() => ['append', f(), 1 + r.int(2000), r.int(256)], 3],
    [() => ['truncate', f(), r.pick([0, r.int(8000), 70_000])], 3],
    [() => ['ftruncate', f(), r.pick([0, r.int(8000)])], 2],
    [() => ['read', p()], 4],
    [() => ['stat', p()], 2],
    [() => ['listdir', d()], 2],
    [() => ['readlink', p()], 1],
    [() => ['link', r.next() < 0.7 ? f() : d(), r.next() < 0.8 ? nf() : p()], 6],
    [() => ['symlink', r.pick(TARGETS), r.next() < 0.8 ? nf() : p()], 3],
    [() => ['rename', p(), r.next() < 0.5 ? nf() : p()], 10],
    [() => ['unlink', p()], 8],
    [() => ['mkdir', r.next() < 0.8 ? nd() : p(), r.pick(DIR_MODES)], 9],
    [() => ['rmdir', d()], 5],
    [() => ['chmod', p(), r.pick(MODES)], 5],
    [() => { const uid = r.pick(IDS); return ['chown', p(), uid, r.pick(uid === -1 && !opts.oneInode ? IDS.slice(0, -1) : IDS), r.next() < 0.7] }, 4],
    [() => ['mkfifo', r.next() < 0.8 ? nf() : p(), r.pick([0o644, 0o600, 0o666])], 2],
    [() => ['setxattr', p(), r.pick(XATTRS), r.pick([0, 1 + r.int(300)]), r.int(256), r.pick([0, 0, 1, 2]), r.next() < 0.7], 5],
    [() => ['getxattr', p(), r.pick(XATTRS), r.next() < 0.7], 1],
    [() => ['removexattr', p(), r.pick(XATTRS), r.next() < 0.7], 3],
    [() => ['utime', p(), r.pick(TIMES), r.pick(TIMES), r.next() < 0.7], 3],
    // files with no name: O_TMPFILE, and a file unlinked while open (the low-level binding only: libfuse 2 knows neither)
    ...(opts.oneInode ? [
      [() => ['tmpfile', d(), r.pick(FILE_MODES), r.next() < 0.7 ? nf() : null, r.int(3000), r.int(256)], 3],
      [() => ['nameless', f(), r.pick(MODES), r.pick(XATTRS)], 2]
    ] as const : [])
  ]
  return Array.from({ length: count }, () => { const op = r.weighted(kinds)(); shadow.apply(op); return op })
}

/**
 * What root puts in the unprivileged user's directory first (n, mode 0777):
 * its own file (with an xattr), a directory the user may not write, a sticky
 * directory with root's file in it and a setgid directory of group 0 with a
 * set-uid file; the user's sequence then runs over the same names.
 */
export const NOBODY_SETUP: Op[] = [
  ['mkdir', 'n', 0o777],
  ['open', 'n/a', 'wcx', 0o644], ['write', 'n/a', 0, 100, 7], ['setxattr', 'n/a', 'user.a', 3, 1, 0, false],
  ['mkdir', 'n/b', 0o755], ['open', 'n/b/a', 'wcx', 0o666],
  ['mkdir', 'n/c', 0o777], ['chmod', 'n/c', 0o1777], ['open', 'n/c/a', 'wcx', 0o666], ['mkdir', 'n/c/d', 0o777],
  ['mkdir', 'n/d', 0o777], ['chmod', 'n/d', 0o2777], ['open', 'n/d/b', 'wcx', 0o4755]
]
const ROOTS = (type: string, mode: number): Shadowed => ({ type, mode, mine: false })
const NOBODY_TREE: Record<string, Shadowed> = {
  a: ROOTS('f', 0o644), b: ROOTS('d', 0o755), 'b/a': ROOTS('f', 0o666), c: ROOTS('d', 0o1777), 'c/a': ROOTS('f', 0o666), 'c/d': ROOTS('d', 0o777), d: ROOTS('d', 0o2777), 'd/b': ROOTS('f', 0o4755)
}

/**
 * A seed's two sequences: root's (in r, empty at first) and the unprivileged user's (in n, after NOBODY_SETUP).
 * oneInode: the mount shows every name of a file as one inode (the low-level binding), so what libfuse 2
 * cannot pass on is in too (chown(p, -1, -1)).
 */
export function sequences (seed: number, count: number, opts: { oneInode?: boolean } = {}): { asRoot: Op[], asNobody: Op[] } {
  return { asRoot: generate(seed, count, opts), asNobody: generate((seed + 0x9e3779b9) >>> 0, count, { ...opts, asRoot: false, tree: NOBODY_TREE }) }
}
