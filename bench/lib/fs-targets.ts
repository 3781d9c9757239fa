/**
 * The four filesystems `bench fs` compares, made fresh under the bench's
 * scratch dir, each undone through the Cleanup (also on failure or a signal):
 * - wxs: a new workspace mounted by a wxs daemon with its own WXS_HOME
 * - tmpfs, and ext4 with its journal on a loop image
 * - floor: a bare in-memory FUSE server in its own process, with wxs's FUSE
 *   options, on the binding wxs mounts with (floorServer): bench/lib/memfs-ll.cjs
 *   (libfuse 3 low-level, the default), or bench/lib/memfs.cjs with WXS_FUSE=hl
 * Nothing here touches a mount from this process; shell work on them runs
 * in child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { fuseBinding } from '../../mount/lib/fuse.js'
import type { Cleanup } from './cleanup.js'
import { stopDaemon } from './daemon.js'
import { mountOf, unmount, detachLoops } from './mounts.js'
import { childEnv, mustSpawn, spawnAsync } from './proc.js'

export type TargetName = 'ext4' | 'tmpfs' | 'floor' | 'wxs' | 'wxs-noaudit' | 'wxs-noaudit2'
export const TARGET_NAMES: TargetName[] = ['ext4', 'tmpfs', 'floor', 'wxs']
/**
 * With --audit-ab: wxs with its audit trail off too (wxs config bench audit
 * off), twice, side by side with the rest, each with its own daemon: the two
 * differ in nothing, so how far apart they come out (A/A) is the run's noise
 * for the on/off ratio.
 */
export const AUDIT_AB_TARGETS: TargetName[] = ['wxs-noaudit', 'wxs-noaudit2']

export interface CommitTiming { commitMs: number, noopMs: number }

export interface FsTarget {
  name: TargetName
  /** The mount point; every sample makes a fresh scratch dir inside it. */
  dir: string
  /** What /proc/self/mounts must show at `dir` ('fuse' for both FUSE targets). */
  fsType: string
  /** Untimed, after preparation and after cleanup: wxs commits now, so its auto-commit never lands in a timed window. */
  settle (): Promise<void>
  /** wxs only: `wxs commit` right after the timed work, then a no-op one (the CLI's own cost). */
  timeCommit? (): Promise<CommitTiming>
  /** How it is mounted (for the results' environment). */
  describe: Record<string, unknown>
}

export interface TargetContext {
  base: string
  root: string
  cleanup: Cleanup
  fuseOptions: Record<string, unknown>
  log: (line: string) => void
  /**
   * Node flags for the wxs daemon only (e.g. --cpu-prof), from $WXS_BENCH_DAEMON_NODE_ARGS: given to
   * the `wxs create` that starts it, which passes its execArgv on (NODE_OPTIONS refuses --cpu-prof).
   */
  daemonNodeArgs: string[]
}

/** Thrown when a target's mount disappeared: later samples would measure the disk underneath. */
export class LostMountError extends Error {}

/** Throws LostMountError unless `target.dir` is still mounted with its type. */
export async function assertMounted (target: FsTarget) {
  const entry = await mountOf(target.dir)
  if (entry !== null && entry.type.startsWith(target.fsType)) return
  throw new LostMountError(`${target.name}: ${target.dir} is no longer mounted (${entry === null ? 'nothing' : entry.type} there); did something else unmount it?`)
}

/**
 * The floor's server, on the binding wxs mounts with in this run (WXS_FUSE, mount/lib/fuse.ts):
 * wxs against the floor compares like with like.
 */
export function floorServer () {
  return fuseBinding() === 'hl'
    ? { script: 'bench/lib/memfs.cjs', binding: 'libfuse 2 high-level, the patched fuse-native; WXS_FUSE=hl' }
    : { script: 'bench/lib/memfs-ll.cjs', binding: 'libfuse 3 low-level, mount/native/fuse-ll.c' }
}

const BENCH_LIB = path.dirname(fileURLToPath(import.meta.url))
const NOTHING_TO_SETTLE = async () => {}

export async function makeTarget (name: TargetName, ctx: TargetContext): Promise<FsTarget> {
  const dir = path.join(ctx.base, name)
  if (!isWxs(name)) await fs.mkdir(dir) // `wxs create --mount` makes its own
  if (name === 'tmpfs') return tmpfs(dir, ctx)
  if (name === 'ext4') return ext4(dir, ctx)
  if (name === 'floor') return floor(dir, ctx)
  return wxs(dir, ctx, name as WxsName)
}

type WxsName = 'wxs' | 'wxs-noaudit' | 'wxs-noaudit2'
const isWxs = (name: TargetName): name is WxsName => name.startsWith('wxs')

async function tmpfs (dir: string, ctx: TargetContext): Promise<FsTarget> {
  ctx.cleanup.defer('unmount tmpfs', () => unmount(dir))
  await mustSpawn('mount', ['-t', 'tmpfs', '-o', 'size=2g', 'tmpfs', dir])
  return { name: 'tmpfs', dir, fsType: 'tmpfs', settle: NOTHING_TO_SETTLE, describe: { mount: (await mountOf(dir))?.options } }
}

async function ext4 (dir: string, ctx: TargetContext): Promise<FsTarget> {
  const image = path.join(ctx.base, 'ext4.img')
  ctx.cleanup.defer('remove the ext4 image', () => fs.rm(image, { force: true }))
  ctx.cleanup.defer('detach loop devices', () => detachLoops(image))
  ctx.cleanup.defer('unmount ext4', () => unmount(dir))
  await mustSpawn('truncate', ['-s', '3G', image])
  await mustSpawn('mkfs.ext4', ['-q', '-F', image])
  await mustSpawn('mount', ['-o', 'loop', image, dir])
  const header = await spawnAsync('dumpe2fs', ['-h', image])
  const features = header.stdout.match(/^Filesystem features:\s*(.*)$/m)?.[1] ?? 'unknown'
  if (!features.includes('has_journal')) throw new Error(`ext4 image has no journal (features: ${features})`)
  const entry = await mountOf(dir)
  return { name: 'ext4', dir, fsType: 'ext4', settle: NOTHING_TO_SETTLE, describe: { mount: entry?.options, device: entry?.source, image: '3G sparse file on the root disk', features } }
}

async function floor (dir: string, ctx: TargetContext): Promise<FsTarget> {
  const server = floorServer()
  const child = spawn(process.execPath, [path.join(BENCH_LIB, path.basename(server.script)), dir, JSON.stringify(ctx.fuseOptions)], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() })
  ctx.cleanup.defer('stop the floor FUSE server', () => stopChild(child, dir))
  await ready(child)
  return { name: 'floor', dir, fsType: 'fuse', settle: NOTHING_TO_SETTLE, describe: { mount: (await mountOf(dir))?.options, server: server.script, binding: server.binding, fuseOptions: ctx.fuseOptions } }
}

/** Resolves once memfs prints "ready"; rejects with its stderr if it exits first. */
function ready (child: ChildProcess): Promise<void> {
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`memfs did not mount in 15 s: ${stderr.trim()}`)), 15_000)
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { if (s.includes('ready')) { clearTimeout(timer); resolve() } })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`memfs exited ${code}: ${stderr.trim()}`)) })
  })
}

async function stopChild (child: ChildProcess, dir: string) {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await gone
    clearTimeout(timer)
  }
  await unmount(dir)
}

async function wxs (dir: string, ctx: TargetContext, name: WxsName = 'wxs'): Promise<FsTarget> {
  const home = path.join(ctx.base, `${name}-home`)
  await fs.mkdir(home)
  const cli = path.join(ctx.root, 'cli', 'wxs.js')
  const run = (args: string[], nodeArgs: string[] = []) => spawnAsync(process.execPath, [...nodeArgs, cli, ...args], { env: childEnv({ WXS_HOME: home }), timeoutMs: 180_000 })
  const must = async (args: string[], nodeArgs: string[] = []) => {
    const res = await run(args, nodeArgs)
    if (res.status !== 0) throw new Error(`wxs ${args.join(' ')} exited ${res.status}: ${res.stderr.trim()}`)
    return res
  }
  ctx.cleanup.defer('unmount wxs and stop its daemon', async () => {
    if (await mountOf(dir) !== null) await run(['unmount', 'bench'])
    await stopDaemon(home, () => run(['daemon', 'stop']), ctx.log)
    await unmount(dir)
  })
  if (name === 'wxs') {
    await must(['create', 'bench', '--mount', dir], ctx.daemonNodeArgs)
  } else {
    await must(['create', 'bench'], ctx.daemonNodeArgs)
    await must(['config', 'bench', 'audit', 'off'])
    await must(['mount', 'bench', dir])
  }
  return {
    name,
    dir,
    fsType: 'fuse',
    settle: async () => { await must(['commit', 'bench']) },
    timeCommit: async () => ({ commitMs: (await must(['commit', 'bench'])).ms, noopMs: (await must(['commit', 'bench'])).ms }),
    describe: { mount: (await mountOf(dir))?.options, binding: fuseBinding() === 'hl' ? 'libfuse 2 high-level (WXS_FUSE=hl)' : 'libfuse 3 low-level', fuseOptions: ctx.fuseOptions, autoCommit: 'about 2 s after writes settle (mount/lib/mount.ts)', audit: name === 'wxs' ? 'on (the default)' : 'off', daemonNodeArgs: ctx.daemonNodeArgs }
  }
}
