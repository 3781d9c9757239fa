/**
 * Automatic snapshots: on a timer per workspace (`snapshot.every`; one only
 * when something changed since the last automatic one), and the pruning that
 * keeps `snapshot.keep` of them (wxs exec's included; labels a user gave are
 * never pruned).
 */
import { AUTO_LABEL_PREFIX, type Engine } from '../../manifests/index.js'
import type { MountManager } from '../../mount/index.js'
import type { Settings } from './settings.js'

export class AutoSnapshots {
  private readonly engine: Engine
  private readonly mounts: MountManager
  private readonly settings: Settings
  private readonly log: (line: string) => void
  private readonly timers = new Map<string, NodeJS.Timeout>()

  constructor (opts: { engine: Engine, mounts: MountManager, settings: Settings, log: (line: string) => void }) {
    this.engine = opts.engine
    this.mounts = opts.mounts
    this.settings = opts.settings
    this.log = opts.log
  }

  start () {
    for (const name of this.engine.names()) this.schedule(name)
    this.settings.onChange(name => this.schedule(name))
  }

  /** (Re)arms the timer of one workspace from its settings. */
  schedule (name: string) {
    const old = this.timers.get(name)
    if (old !== undefined) { clearInterval(old); this.timers.delete(name) }
    const every = this.settings.of(name)['snapshot.every']
    if (every === null || !this.engine.names().includes(name)) return
    const timer = setInterval(() => { this.tick(name).catch(err => this.log(`automatic snapshot of ${name} failed: ${err.message}`)) }, every * 1000)
    timer.unref()
    this.timers.set(name, timer)
  }

  /** A timer's snapshot: what the mount holds is committed; none when the head is the last automatic snapshot's. */
  async tick (name: string): Promise<string | null> {
    const ws = await this.engine.workspace(name)
    if (ws.remote || ws.paused || ws.head === null) return null
    await this.mounts.commit(name, 'auto')
    const last = (await ws.snapshots()).filter(s => s.label.startsWith(AUTO_LABEL_PREFIX)).sort((a, b) => b.time - a.time)[0]
    if (last !== undefined && last.commit === ws.head.seq) return null
    return (await this.take(name, 'timer')).snapshot.label
  }

  /** Takes an automatic snapshot of the head (commit first) and prunes the oldest past the keep count. */
  async take (name: string, kind: 'exec' | 'timer') {
    const result = await this.engine.snapshot(name, undefined, { auto: kind })
    const gone = await this.engine.pruneSnapshots(name, this.settings.of(name)['snapshot.keep'])
    if (gone.length > 0) this.log(`pruned ${gone.length} automatic snapshot(s) of ${name}: ${gone.join(', ')}`)
    return { ...result, pruned: gone }
  }

  close () {
    for (const t of this.timers.values()) clearInterval(t)
    this.timers.clear()
  }
}
