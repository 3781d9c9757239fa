/**
 * One mounted workspace: a live tree served through FUSE, committed
 * automatically once writes settle, on fsync, and on unmount.
 */
import type { LiveTree } from '../../manifests/index.js'
import { Resource } from '../../core/index.js'
import { makeOps, MOUNT_OPTIONS } from './fuse-ops.js'
import { loadFuse, type FuseInstance } from './fuse.js'
import { MountError } from './errors.js'

export interface MountOptions {
  name: string
  dir: string
  live: LiveTree
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
  live: LiveTree
  readonly mountedAt = Date.now()
  private fuse: FuseInstance | null = null
  private timer: NodeJS.Timeout | null = null
  private firstChange = 0
  private lastChange = 0
  private readonly opts: MountOptions

  constructor (opts: MountOptions) {
    super()
    this.opts = opts
    this.name = opts.name
    this.dir = opts.dir
    this.live = opts.live
  }

  protected async _open () {
    const Fuse = loadFuse()
    await this.live.ready()
    const self = this
    const ops = makeOps({
      get live () { return self.live },
      changed: () => this.changed(),
      sync: async () => { await this.commit('sync') },
      statfsPath: this.opts.statfsPath,
      log: line => this.opts.log(`[${this.name}] ${line}`)
    })
    const fuse = new Fuse(this.dir, ops, MOUNT_OPTIONS)
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
    await this.live.close()
  }

  /** Serves a new live tree (after a restore); the old one is committed and dropped first. */
  async replace (live: LiveTree) {
    await this.commit('before restore')
    await live.ready()
    const old = this.live
    this.live = live
    await old.close()
  }

  /** Commits the live state now (no-op when nothing changed). */
  async commit (message = 'commit') {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    this.firstChange = 0
    return this.live.commit(message)
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
