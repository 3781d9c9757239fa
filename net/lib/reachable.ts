/**
 * What a workspace's log reaches: every tree and chunk of every commit, as far
 * as the trees held locally tell. A peer is served only objects in this set
 * (the object channel is bound to one workspace), and a joined workspace's set
 * grows as its trees arrive. `held` counts how many of them are local (what a
 * peer is told in a status), kept up to date as objects are added and stored
 * instead of walking the whole set for every status.
 */
import { toHex } from '../../core/index.js'
import { DIR, FILE, type TreeStore, type Workspace } from '../../manifests/index.js'

/** Longest stretch (ms) an expansion keeps the event loop. */
const SLICE_MS = 4

export class Reachable {
  /** Every object reached, and whether it was local when last seen. */
  private readonly objects = new Map<string, boolean>()
  /** Objects of the set held locally (see stored() and recount()). */
  held = 0
  private readonly expanded = new Set<string>()
  /** Trees known to be reachable whose content is not local yet. */
  private readonly pending = new Set<string>()
  /** Trees stored since the last expansion ran (see treeArrived). */
  private arrived: string[] = []
  private sliceStart = 0
  private seenCommits = 0
  private running: Promise<void> = Promise.resolve()

  constructor (private readonly trees: TreeStore, private readonly ws: Workspace, private readonly local: (hex: string) => boolean) {}

  has (hex: string) { return this.objects.has(hex) }

  /** Whether `hex` is a tree this set reaches but does not hold yet. */
  awaits (hex: string) { return this.pending.has(hex) }

  get size () { return this.objects.size }

  /** Every object reached is local, as far as the trees held tell (none is left to expand). */
  get complete () { return !this.deferred && this.pending.size === 0 && this.held === this.objects.size }

  /** Set by defer(): the commits are read on the first idle() (a request to serve, the end of a resume). */
  private deferred = false

  /** Postpones update() until someone needs the set (see idle()). */
  defer () { this.deferred = true }

  /** Resolves once the expansions queued so far have run (a tree that just arrived is in the set then). */
  idle (): Promise<void> {
    if (this.deferred) { this.deferred = false; return this.update() }
    return this.running
  }

  /** `hex` was just stored locally. */
  stored (hex: string) {
    if (this.objects.get(hex) !== false) return // not reached, or counted already
    this.objects.set(hex, true)
    this.held++
  }

  /** Counts again from the store (objects can also arrive by an import, or be collected). */
  recount () {
    let n = 0
    for (const hex of this.objects.keys()) {
      const here = this.local(hex)
      this.objects.set(hex, here)
      if (here) n++
    }
    this.held = n
  }

  private add (hex: string) {
    if (this.objects.has(hex)) return
    const here = this.local(hex)
    this.objects.set(hex, here)
    if (here) this.held++
  }

  /** Adds the commits appended since the last call (serialised). */
  update (): Promise<void> {
    if (this.deferred) return this.running
    this.running = this.running.then(() => this.addNewCommits())
    return this.running
  }

  /**
   * A tree object just became local: expand it if this workspace reaches it. Trees
   * arriving together are expanded together, a turn of the event loop later: a
   * sync walks the same trees to queue their chunks, and its requests go first.
   */
  treeArrived (hex: string) {
    if (!this.pending.has(hex)) return
    this.arrived.push(hex)
    if (this.arrived.length > 1) return
    this.running = this.running
      .then(() => new Promise(resolve => setImmediate(resolve)))
      .then(async () => {
        const list = this.arrived
        this.arrived = []
        this.sliceStart = performance.now()
        for (const h of list) await this.expand(h) // eslint-disable-line no-await-in-loop
      })
      .catch(() => {}) // expand() reports nothing: a tree it cannot read stays pending
  }

  private async addNewCommits () {
    const head = this.ws.head
    if (head === null) return
    this.sliceStart = performance.now()
    while (this.seenCommits <= head.seq) {
      const rec = await this.ws.getCommit(this.seenCommits)
      this.seenCommits++
      if (rec !== null) await this.expand(toHex(rec.root))
    }
  }

  private async expand (rootHex: string) {
    const stack = [rootHex]
    while (stack.length > 0) {
      // large trees, and many arriving at once, are expanded in slices, between which the event loop turns
      if (performance.now() - this.sliceStart >= SLICE_MS) {
        await new Promise(resolve => setImmediate(resolve))
        this.sliceStart = performance.now()
      }
      const hex = stack.pop()!
      this.add(hex)
      if (this.expanded.has(hex)) continue
      let t
      try {
        t = await this.trees.get(hex, { local: true })
      } catch {
        this.pending.add(hex)
        continue
      }
      this.pending.delete(hex)
      this.expanded.add(hex)
      for (const e of t.entries) {
        if (e.type === DIR) stack.push(toHex(e.tree!))
        else if (e.type === FILE) for (const h of e.chunks) this.add(toHex(h))
      }
    }
  }
}
