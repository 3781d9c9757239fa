/**
 * One mounted workspace: a live tree served through FUSE, committed
 * automatically once writes settle, on fsync, and on unmount.
 */
import type { LiveNode, LiveTree } from '../../manifests/index.js'
import { Resource } from '../../core/index.js'
import { makeOps, mountOptions } from './fuse-ops.js'
import { DEFAULT_ACCESS, type MountAccess } from '../messages.js'
import { loadFuse, type FuseInstance } from './fuse.js'
import { MountError } from './errors.js'
import { ERRNO_NAMES } from './errno.js'
import type { AuditLog } from './audit.js'

/** Paths a mount remembers as its working set (the pause record keeps as many). */
export const WORKING_SET_PATHS = 1024

export interface MountOptions {
  name: string
  dir: string
  live: LiveTree
  /** Who may use it (mount/messages.ts); default owner. */
  access?: MountAccess
  /** Every change fails with EROFS. */
  readOnly?: boolean
  /** Where what programs do in the mount is recorded; null or absent: not recorded. */
  audit?: AuditLog | null
  statfsPath: string
  log: (line: string) => void
  /** Commit this long after the last write (ms). */
  settleMs?: number
  /** ...but at least this often while writes keep coming (ms). */
  maxDelayMs?: number
}

export class Mount extends Resource {
  readonly name: string
  readonly dir: string
  readonly access: MountAccess
  readonly readOnly: boolean
  /** The audit trail (null when off). */
  audit: AuditLog | null
  live: LiveTree
  readonly mountedAt = Date.now()
  private fuse: FuseInstance | null = null
  private timer: NodeJS.Timeout | null = null
  private firstChange = 0
  private lastChange = 0
  private readonly opts: MountOptions
  private inflight = 0
  private drained: Array<() => void> = []
  /** Reads that failed, the last 20 (path, errno name). */
  readonly errors: Array<{ path: string, errno: string, time: number }> = []
  /** Reads in progress (a read of content not here waits on the network). */
  private readonly reads = new Map<number, { op: 'read' | 'lookup' | 'list', path: string, start: number, node: LiveNode | null, offset: number, length: number }>()
  private nextRead = 0
  /** Paths read, written or created most recently (the audit records' paths), oldest first (a Map keeps insertion order; re-use moves a path last). */
  private readonly recent = new Map<string, true>()

  constructor (opts: MountOptions) {
    super()
    this.opts = opts
    this.name = opts.name
    this.dir = opts.dir
    this.access = opts.access ?? DEFAULT_ACCESS
    this.readOnly = opts.readOnly === true
    this.audit = opts.audit ?? null
    this.live = opts.live
  }

  protected async _open () {
    const Fuse = loadFuse()
    await this.live.ready()
    const self = this
    const ops = makeOps({
      get live () { return self.live },
      changed: () => this.changed(),
      begin: () => { this.inflight++ },
      end: () => { if (--this.inflight === 0) for (const fn of this.drained.splice(0)) fn() },
      active: () => { this.live.store.lastForeground = performance.now() },
      failed: (p, errno) => {
        this.errors.push({ path: p, errno: ERRNO_NAMES[-errno] ?? String(-errno), time: Date.now() })
        if (this.errors.length > 20) this.errors.shift()
      },
      reading: (p, node, offset, length) => {
        const id = this.nextRead++
        this.reads.set(id, { op: 'read', path: p, start: Date.now(), node, offset, length })
        return () => { this.reads.delete(id) }
      },
      waiting: (op, p) => {
        const id = this.nextRead++
        this.reads.set(id, { op, path: p, start: Date.now(), node: null, offset: 0, length: 0 })
        return () => { this.reads.delete(id) }
      },
      sync: async () => { await this.commit('sync') },
      caller: () => {
        const c = (this.fuse as unknown as { caller (): { uid: number, gid: number } } | null)?.caller()
        return c === undefined ? this.live.defaultOwner : { uid: c.uid, gid: c.gid }
      },
      requester: () => {
        if (this.audit === null) return null
        const c = (this.fuse as unknown as { caller (): { uid: number, pid: number } } | null)?.caller()
        return c === undefined ? null : { pid: c.pid, uid: c.uid }
      },
      record: (op, who, p, extra) => {
        if (op === 'read' || op === 'write' || op === 'create') this.used(p)
        if (who !== null) this.audit?.record(op, who, p, extra)
      },
      statfsPath: this.opts.statfsPath,
      log: line => this.opts.log(`[${this.name}] ${line}`)
    })
    const fuse = new Fuse(this.dir, ops, mountOptions(this.access))
    this.watchCapabilities(fuse, this.live)
    await new Promise<void>((resolve, reject) => fuse.mount(err => err ? reject(MountError.MOUNT_FAILED(this.dir, err)) : resolve()))
    this.fuse = fuse
  }

  protected async _close () {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.fuse) {
      const fuse = this.fuse
      await new Promise<void>((resolve, reject) => fuse.unmount(err => err ? reject(MountError.UNMOUNT_FAILED(this.dir, err)) : resolve()))
      this.fuse = null
    }
    await this.commit('unmount')
    await this.audit?.close()
    await this.live.close()
  }

  /** Serves a new live tree (after a restore); the old one is committed and dropped first. */
  async replace (live: LiveTree) {
    await this.commit('before restore')
    live.continueInos(this.live)
    await live.ready()
    const old = this.live
    this.live = live
    if (this.fuse) this.watchCapabilities(this.fuse, live)
    await old.close()
  }

  /**
   * The binding answers the kernel's getxattr(security.capability), asked before
   * every write, by itself while no entry has one (measured: one round trip into
   * Node per 128 KiB written otherwise); once one appears, the live tree answers.
   */
  private watchCapabilities (fuse: FuseInstance, live: LiveTree) {
    const f = fuse as unknown as { setCapabilities? (on: boolean): void }
    f.setCapabilities?.(live.hasCapability)
    live.onCapability = () => f.setCapabilities?.(true)
  }

  /** Records from now on into `audit`, or nothing (null); the trail before is written out. */
  async setAudit (audit: AuditLog | null) {
    const before = this.audit
    this.audit = audit
    await before?.close()
  }

  /** Commits the live state now (no-op when nothing changed). */
  async commit (message = 'commit') {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    this.firstChange = 0
    return this.live.commit(message)
  }

  /**
   * Quiesces the mount for a pause: from now on every change fails (EROFS),
   * the changes already in flight finish, then everything is committed.
   * Returns the commit (null when nothing had changed).
   */
  async quiesce (message = 'pause') {
    this.live.frozen = true
    if (this.inflight > 0) await new Promise<void>(resolve => this.drained.push(resolve))
    return this.commit(message)
  }

  /** Lets changes through again (a pause that failed after quiescing). */
  thaw () { this.live.frozen = false }

  /** Reads, lookups and listings that have taken `minMs` or more so far, longest first, with the objects they still wait for. */
  slowReads (now = Date.now(), minMs = 100): Array<{ op: 'read' | 'lookup' | 'list', path: string, ms: number, waiting: string[] }> {
    const out: Array<{ op: 'read' | 'lookup' | 'list', path: string, ms: number, waiting: string[] }> = []
    for (const r of this.reads.values()) {
      if (now - r.start < minMs) continue
      out.push({ op: r.op, path: r.path, ms: now - r.start, waiting: r.node !== null ? this.live.missingIn(r.node, r.offset, r.length) : this.live.missingOnPath(r.path) })
    }
    return out.sort((a, b) => b.ms - a.ms)
  }

  /** The paths opened most recently, newest first, at most `max`. */
  workingSet (max = WORKING_SET_PATHS): string[] {
    return [...this.recent.keys()].reverse().slice(0, max)
  }

  private used (p: string) {
    if (this.recent.has(p)) this.recent.delete(p)
    this.recent.set(p, true)
    if (this.recent.size > WORKING_SET_PATHS) this.recent.delete(this.recent.keys().next().value!)
  }

  /** Notes a change; one timer checks the last-change time instead of being re-armed per write. */
  private changed () {
    this.lastChange = Date.now()
    if (this.firstChange === 0) this.firstChange = this.lastChange
    if (this.timer === null) this.arm(this.opts.settleMs ?? 2000)
  }

  private arm (ms: number) {
    this.timer = setTimeout(() => {
      this.timer = null
      const settle = this.opts.settleMs ?? 2000
      const now = Date.now()
      const due = Math.min(this.lastChange + settle, this.firstChange + (this.opts.maxDelayMs ?? 30_000))
      if (now < due) return this.arm(due - now)
      this.commit('auto').catch(err => this.opts.log(`[${this.name}] auto-commit failed: ${err?.message ?? err}`))
    }, ms)
    this.timer.unref()
  }
}
