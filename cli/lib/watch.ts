/**
 * The daemon's side of `watch` (protocol in cli/messages.ts): while anyone
 * watches, the state is read every WATCH_PATCH_MS; what changed goes out as one
 * merge patch and as events (kept in a ring for `since`); a heartbeat goes to a
 * client that was sent nothing for WATCH_HEARTBEAT_MS. Nothing is read while
 * nobody watches, and nothing is sent while nothing changes.
 */
import type net from 'node:net'
import { randomBytes } from 'node:crypto'
import { mergePatch, type Json } from '../../core/index.js'
import { encodeLine, WATCH_HEARTBEAT_MS, WATCH_PATCH_MS, WATCH_RING, type WatchEvent, type WatchReply, type WatchState } from '../messages.js'
import { collect, eventsBetween, Rates, type WatchSources } from './watch-state.js'

interface Client { socket: net.Socket, lastSent: number }

export class WatchHub {
  /** This daemon run: event ids start at 1 again in the next one. */
  readonly run = randomBytes(6).toString('hex')
  private state: WatchState | null = null
  private readonly ring: WatchEvent[] = []
  private nextId = 1
  private readonly clients = new Set<Client>()
  private readonly rates = new Rates()
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private closed = false
  private readonly src: Omit<WatchSources, 'run'>
  private readonly log: (line: string) => void

  constructor (src: Omit<WatchSources, 'run'>, log: (line: string) => void) {
    this.src = src
    this.log = log
  }

  get lastEvent () { return this.nextId - 1 }

  /** Records an event the state does not show by itself (a daemon action, an error). */
  note (e: Omit<WatchEvent, 'id' | 'time'>) {
    const event: WatchEvent = { id: this.nextId++, time: Date.now(), ...e }
    this.ring.push(event)
    if (this.ring.length > WATCH_RING) this.ring.shift()
    for (const c of this.clients) this.send(c, { type: 'event', event })
  }

  /** Serves one watcher until it goes: events after `since` (or a gap), the state, then patches and events. */
  async attach (socket: net.Socket, opts: { since?: number, run?: string }) {
    const client: Client = { socket, lastSent: 0 }
    // nobody was watching: the state kept is from the last watcher's time (a
    // `wxs top --once` then would print it), so read it now
    if (this.state === null || this.timer === null) await this.tick()
    if (opts.since !== undefined) {
      const oldest = this.ring.length > 0 ? this.ring[0].id : this.nextId
      if ((opts.run !== undefined && opts.run !== this.run) || opts.since < oldest - 1 || opts.since > this.lastEvent) this.send(client, { type: 'gap', since: opts.since, oldest })
      else for (const event of this.ring) if (event.id > opts.since) this.send(client, { type: 'event', event })
    }
    this.send(client, { type: 'state', state: this.state!, event: this.lastEvent })
    this.clients.add(client)
    const gone = () => { this.clients.delete(client); if (this.clients.size === 0) this.stop() }
    socket.once('close', gone)
    socket.once('error', gone)
    this.start()
  }

  /** Ends every watcher (the daemon is stopping). */
  close () {
    this.closed = true
    this.stop()
    for (const c of this.clients) c.socket.end()
    this.clients.clear()
  }

  private start () {
    if (this.timer !== null || this.closed) return
    this.timer = setInterval(() => { this.tick().catch(err => this.log(`watch: ${err?.message ?? err}`)) }, WATCH_PATCH_MS)
  }

  private stop () {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Reads the state, sends what changed; one at a time (a slow read skips a beat instead of piling up). */
  private tick (): Promise<void> {
    if (this.ticking !== null) return this.ticking
    this.ticking = this.read().finally(() => { this.ticking = null })
    return this.ticking
  }

  private async read () {
    const next = await collect({ ...this.src, run: this.run }, this.rates)
    const prev = this.state
    this.state = next
    for (const e of eventsBetween(prev, next)) this.note(e)
    const patch = prev === null ? undefined : mergePatch.diff(prev as unknown as Json, next as unknown as Json)
    const now = Date.now()
    for (const c of this.clients) {
      if (patch !== undefined) this.send(c, { type: 'patch', patch: patch as Record<string, unknown> })
      else if (now - c.lastSent >= WATCH_HEARTBEAT_MS) this.send(c, { type: 'heartbeat', time: now, event: this.lastEvent })
    }
  }

  private send (c: Client, msg: WatchReply) {
    if (c.socket.destroyed) return
    c.lastSent = Date.now()
    c.socket.write(encodeLine(msg))
  }
}
