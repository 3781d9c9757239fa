/**
 * All mounts of one daemon: mount/unmount/commit by name, a record of mount
 * points on disk, and cleanup of mounts left behind by a killed daemon.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { writeFileDurable } from '../../core/index.js'
import { LiveTree, ManifestError, type Engine } from '../../manifests/index.js'
import { Mount, WORKING_SET_PATHS } from './mount.js'
import { AuditLog, recentPaths } from './audit.js'
import { MountError } from './errors.js'
import { loadFuse } from './fuse.js'
import { DEFAULT_ACCESS, formatMounts, parseMounts, type MountAccess, type MountRecord } from '../messages.js'

const run = promisify(execFile)

export interface MountInfo { name: string, dir: string, mountedAt: number, access: MountAccess, readOnly: boolean }

export class MountManager {
  private readonly engine: Engine
  private readonly log: (line: string) => void
  private readonly mounts = new Map<string, Mount>()
  /** The working set of each workspace's last mount in this daemon, kept after it unmounts (a pause after `wxs exec`). */
  private readonly lastUsed = new Map<string, string[]>()
  private readonly recordFile: string
  private crashed: Record<string, MountRecord> = {}

  private readonly auditOn: (name: string) => boolean

  private readonly auditBytes: number | undefined

  /** `audit`: whether a workspace's mount records what programs do in it (default: yes); `auditBytes`: its bound. */
  constructor (opts: { engine: Engine, log: (line: string) => void, audit?: (name: string) => boolean, auditBytes?: number }) {
    this.auditBytes = opts.auditBytes
    this.engine = opts.engine
    this.log = opts.log
    this.auditOn = opts.audit ?? (() => true)
    this.recordFile = path.join(opts.engine.home, 'mounts.json')
  }

  /**
   * Unmounts whatever a previous daemon of this state dir left mounted. Those
   * records say the daemon died with the mounts up (a clean stop empties them):
   * `remount()` brings them back once the network is there to fetch through.
   */
  async ready () {
    const stale = await this.readRecords()
    const mounted = await fuseMountPoints()
    for (const [name, { dir }] of Object.entries(stale)) {
      if (!mounted.has(dir)) continue
      this.log(`cleaning stale mount of ${name} at ${dir}`)
      await lazyUnmount(dir).catch(err => this.log(`could not clean ${dir}: ${err.message}`))
    }
    this.crashed = stale
    await this.writeRecords()
  }

  /** Mounts again, at the same places, what a killed daemon had mounted; what cannot be is logged and dropped. */
  async remount (): Promise<MountInfo[]> {
    const out: MountInfo[] = []
    const crashed = this.crashed
    this.crashed = {}
    for (const [name, { dir, access }] of Object.entries(crashed)) {
      if (!this.engine.has(name)) continue
      try {
        out.push(await this.mount(name, dir, { access }))
      } catch (err) {
        this.log(`could not mount ${name} again at ${dir} after a crash: ${(err as Error).message}`)
      }
    }
    return out
  }

  /** Reads, lookups and listings in any mount waiting 100 ms or more (on the network, mostly), longest first. */
  blockedReads (now = Date.now()): Array<{ workspace: string, op: 'read' | 'lookup' | 'list', path: string, ms: number, waiting: string[] }> {
    return [...this.mounts.values()].flatMap(m => m.slowReads(now).map(r => ({ workspace: m.name, ...r }))).sort((a, b) => b.ms - a.ms)
  }

  /** Reads that failed in any mount, oldest first. */
  readErrors (): Array<{ workspace: string, path: string, errno: string, time: number }> {
    return [...this.mounts.values()].flatMap(m => m.errors.map(e => ({ workspace: m.name, ...e }))).sort((a, b) => a.time - b.time)
  }

  list (): MountInfo[] {
    return [...this.mounts.values()].map(m => ({ name: m.name, dir: m.dir, mountedAt: m.mountedAt, access: m.access, readOnly: m.readOnly }))
  }

  get (name: string): Mount | undefined {
    return this.mounts.get(name)
  }

  /**
   * Mounts a workspace. `readOnly`: every change fails with EROFS (wxs exec
   * --read-only); such a mount lives as long as the exec that asked for it, so
   * it is not recorded for a crashed daemon's successor to mount again.
   */
  async mount (name: string, dir?: string, opts: { access?: MountAccess, readOnly?: boolean } = {}): Promise<MountInfo> {
    loadFuse()
    const ws = await this.engine.workspace(name)
    const existing = this.mounts.get(name)
    if (existing) throw MountError.ALREADY_MOUNTED(name, existing.dir)
    const target = path.resolve(dir ?? path.join(os.homedir(), 'wxs', name))
    await this.checkMountpoint(target)
    const readOnly = opts.readOnly === true
    const live = this.liveTree(name, ws, readOnly)
    const access = opts.access ?? DEFAULT_ACCESS
    const audit = this.auditOn(name) ? new AuditLog({ file: this.auditFile(name), maxBytes: this.auditBytes }) : null
    const mount = new Mount({ name, dir: target, live, access, readOnly, audit, statfsPath: this.engine.home, log: this.log })
    this.mounts.set(name, mount)
    try {
      await mount.ready()
    } catch (err) {
      this.mounts.delete(name)
      await live.close().catch(() => {})
      throw err
    }
    await this.writeRecords()
    this.log(`mounted ${name} at ${target} (access: ${access}${readOnly ? ', read-only' : ''})`)
    return { name, dir: target, mountedAt: mount.mountedAt, access, readOnly }
  }

  async unmount (nameOrDir: string): Promise<MountInfo & { commit: number | null }> {
    const mount = this.find(nameOrDir)
    await mount.commit('unmount')
    await mount.close()
    this.mounts.delete(mount.name)
    this.lastUsed.set(mount.name, mount.workingSet())
    await this.writeRecords()
    this.log(`unmounted ${mount.name} from ${mount.dir}`)
    const ws = await this.engine.workspace(mount.name)
    return { name: mount.name, dir: mount.dir, mountedAt: mount.mountedAt, access: mount.access, readOnly: mount.readOnly, commit: ws.head?.seq ?? null }
  }

  /**
   * The paths used most recently in a workspace, newest first: a mounted one's
   * from its mount; otherwise what its last mount in this daemon used, or,
   * after a restart, what its audit trail recorded last (the same records).
   */
  async workingSet (name: string): Promise<string[]> {
    const mount = this.mounts.get(name)
    if (mount !== undefined) return mount.workingSet()
    const last = this.lastUsed.get(name)
    if (last !== undefined && last.length > 0) return last
    return recentPaths(this.auditFile(name), WORKING_SET_PATHS)
  }

  /** A workspace was removed: its audit trail and working set go with it. */
  async forget (name: string) {
    this.lastUsed.delete(name)
    for (const f of [this.auditFile(name), this.auditFile(name) + '.1']) await fs.rm(f, { force: true })
  }

  /** Where a workspace's audit trail is (mount/messages.ts). */
  auditFile (name: string) {
    return path.join(this.engine.home, 'audit', `${name}.ndjson`)
  }

  /** Turns a mounted workspace's audit trail on or off now (a setting changed). */
  async setAudit (name: string, on: boolean) {
    const mount = this.mounts.get(name)
    if (mount === undefined || (mount.audit !== null) === on) return
    await mount.setAudit(on ? new AuditLog({ file: this.auditFile(name), maxBytes: this.auditBytes }) : null)
  }

  /** Writes a mount's pending audit records (before they are read). */
  async flushAudit (name: string) {
    await this.mounts.get(name)?.audit?.flush()
  }

  /** Commits a mounted workspace now; null when nothing changed. */
  async commit (name: string, message?: string) {
    const mount = this.mounts.get(name)
    if (!mount) return null
    return mount.commit(message ?? 'commit')
  }

  /**
   * For a pause: make a mounted workspace refuse changes, let those in flight
   * finish, commit, and say what was used last. Null when it is not mounted.
   * Throws GIT_BUSY (and lets changes through again) when a git operation holds
   * .git/index.lock, unless `force`.
   */
  async quiesce (name: string, opts: { force?: boolean } = {}): Promise<{ dir: string, workingSet: string[], committed: boolean } | null> {
    const mount = this.mounts.get(name)
    if (!mount) return null
    let committed
    try {
      committed = await mount.quiesce('pause') !== null
      if (!opts.force && await mount.live.lookup('/.git/index.lock').then(() => true, () => false)) throw ManifestError.GIT_BUSY(name, '.git/index.lock')
    } catch (err) {
      mount.thaw()
      throw err
    }
    return { dir: mount.dir, workingSet: mount.workingSet(), committed }
  }

  /** Whether `dir` could be a mount point now (nothing mounted there, empty or absent). */
  async isFree (dir: string): Promise<boolean> {
    return this.checkMountpoint(path.resolve(dir), { create: false }).then(() => true, () => false)
  }

  /** After a failed pause: the mount takes changes again. */
  thaw (name: string) { this.mounts.get(name)?.thaw() }

  /** After the engine moved a mounted workspace's head (restore), serve the new head. */
  async reload (name: string) {
    const mount = this.mounts.get(name)
    if (!mount) return
    await mount.replace(this.liveTree(name, await this.engine.workspace(name), mount.readOnly))
  }

  async closeAll () {
    for (const mount of [...this.mounts.values()]) {
      await this.unmount(mount.name).catch(async err => {
        this.log(`unmount of ${mount.name} failed (${err.message}); detaching lazily`)
        await mount.commit('shutdown').catch(() => {})
        await lazyUnmount(mount.dir).catch(() => {})
        this.mounts.delete(mount.name)
      })
    }
    await this.writeRecords()
  }

  private liveTree (name: string, ws: Awaited<ReturnType<Engine['workspace']>>, readOnly = false) {
    return new LiveTree({ trees: this.engine.trees, workspace: ws, stagingDir: path.join(this.engine.home, 'staging', name), readOnly: ws.remote || readOnly })
  }

  private find (nameOrDir: string): Mount {
    const byName = this.mounts.get(nameOrDir)
    if (byName) return byName
    const dir = path.resolve(nameOrDir)
    for (const m of this.mounts.values()) if (m.dir === dir) return m
    throw MountError.NOT_MOUNTED(nameOrDir)
  }

  private async checkMountpoint (dir: string, opts: { create?: boolean } = {}) {
    for (const m of this.mounts.values()) if (m.dir === dir) throw MountError.MOUNTPOINT_BUSY(dir, `${m.name} is mounted there`)
    if ((await fuseMountPoints()).has(dir)) throw MountError.MOUNTPOINT_BUSY(dir, 'something else is mounted there')
    const names = await fs.readdir(dir).catch(err => {
      if (err.code === 'ENOENT') return null
      if (err.code === 'ENOTDIR') throw MountError.MOUNTPOINT_BUSY(dir, 'it is a file')
      throw err
    })
    if (names === null && opts.create !== false) await fs.mkdir(dir, { recursive: true })
    else if (names !== null && names.length > 0) throw MountError.MOUNTPOINT_BUSY(dir, 'the directory is not empty')
  }

  private async readRecords (): Promise<Record<string, MountRecord>> {
    try { return parseMounts(await fs.readFile(this.recordFile, 'utf8')) } catch { return {} }
  }

  private async writeRecords () {
    const records = Object.fromEntries([...this.mounts.values()].filter(m => !m.readOnly).map(m => [m.name, { dir: m.dir, access: m.access }]))
    await writeFileDurable(this.recordFile, Buffer.from(formatMounts(records)))
  }
}

/** Mount points of FUSE filesystems, from /proc/self/mounts. */
async function fuseMountPoints (): Promise<Set<string>> {
  const text = await fs.readFile('/proc/self/mounts', 'utf8').catch(() => '')
  const out = new Set<string>()
  for (const line of text.split('\n')) {
    const [, dir, type] = line.split(' ')
    if (type && type.startsWith('fuse')) out.add(dir.replace(/\\040/g, ' '))
  }
  return out
}

async function lazyUnmount (dir: string) {
  try {
    await run('fusermount', ['-uz', dir])
  } catch {
    await run('umount', ['-l', dir])
  }
}
