/**
 * The daemon's presence on the network: one Hyperswarm (created on the first
 * share or join, never before), Corestore replication of manifest logs and the
 * object protocol on every connection, and a Session per shared or joined
 * workspace. Settings and shared names persist in `$WXS_HOME/net.json`, so a
 * restarted daemon keeps sharing and following.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import Protomux from 'protomux'
import { Monitor, toHex, writeFileDurable } from '../../core/index.js'
import { ManifestError, type Engine, type Workspace, type WorkspaceSummary } from '../../manifests/index.js'
import { MAX_MOVED_KEYS, PROTOCOL, PEER_SEED_BYTES, formatResumeLink, emptyNetState, type ResumeLink, formatNetState, parseNetState, parsePeerSeed, type NetState } from '../messages.js'
import { Downloader } from './downloader.js'
import { NetError } from './errors.js'
import { checkPeerId, formatBootstrap, isLoopback, parseBootstrap, type HostPort, type JoinTarget } from './keys.js'
import { Session } from './session.js'
import { discoveryKey as discoveryKeyOf } from 'hypercore-crypto'
import { randomBytes } from 'node:crypto'
import { freeUdpPort, localAddressTowards, isPrivateAddress } from './ports.js'

export interface SwarmSettings {
  /** host:port list; undefined = saved setting, else WXS_BOOTSTRAP, else public nodes. */
  bootstrap?: string
  /** Address the DHT binds to. */
  host?: string
}

export interface NetworkOptions {
  engine: Engine
  log: (line: string) => void
  env?: NodeJS.ProcessEnv
  /** The current commit of a joined workspace moved (remount it). */
  onHead?: (name: string) => void
}

export interface PeerReport {
  workspace: string
  peer: string
  address: string
  connectedMs: number
  /** What the peer said it holds. */
  holds: { length: number, objects: number, complete: boolean } | null
  received: { objects: number, bytes: number }
  sent: { objects: number, bytes: number }
  requested: { objects: number, bytes: number }
  inflight: number
}

/** One peer as the swarm sees it, whatever workspaces it shares with us. */
export interface LinkReport {
  peer: string
  /** connected; connecting (found, being dialled); retrying (a connection failed or closed, another comes); banned (by the swarm, or by every workspace it served us for a protocol violation). */
  state: 'connected' | 'connecting' | 'retrying' | 'banned'
  /** Who dialled: out (we did), in (it did); null while not connected. */
  direction: 'in' | 'out' | null
  address: string | null
  /** When it connected, or when its last connection closed (epoch ms; null: never connected). */
  since: number | null
  attempts: number
  /** Workspaces that dropped it for a protocol violation. */
  droppedBy: string[]
}

/** How long a peer's claim that a log moved may take to replicate and check. */
const MOVED_CHECK_MS = 15_000
const MAX_REJECTED = 1024
/** How long a resume waits for connected peers to say whether the pause was resumed elsewhere. */
const MOVED_SETTLE_MS = 5_000

/** Kernel buffer asked for each UDP socket a connection runs on (see tuneSocket). */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024

export class Network {
  readonly downloader: Downloader
  private readonly engine: Engine
  private readonly log: (line: string) => void
  private readonly env: NodeJS.ProcessEnv
  private readonly onHead: NetworkOptions['onHead']
  private readonly stateFile: string
  private state: NetState = emptyNetState()
  private swarm: Hyperswarm | null = null
  private bootstrapInUse: string | null = null
  private readonly sessions = new Map<string, Session>()
  private readonly conns = new Set<any>()
  private readonly connectedAt = new WeakMap<object, number>()
  private closed = false
  private readonly tunedSockets = new WeakSet<object>()
  private refresher: NodeJS.Timeout | null = null
  private hostInUse: string | null = null
  private readonly checking = new Set<string>()
  private readonly checkingFor = new Map<string, Session>()
  /** Keys claimed as continuations that did not verify (bounded, oldest dropped). */
  private readonly rejected = new Set<string>()
  /** Claims that wait while another claim about the same log is checked. */
  private readonly queuedClaims = new Map<Session, Map<string, Buffer>>()
  /** This machine's identity on the swarm (peer.key): the same across restarts. */
  private keyPair: { publicKey: Buffer, secretKey: Buffer } | null = null

  constructor (opts: NetworkOptions) {
    this.engine = opts.engine
    this.log = opts.log
    this.env = opts.env ?? process.env
    this.onHead = opts.onHead
    this.stateFile = path.join(opts.engine.home, 'net.json')
    this.downloader = new Downloader({
      store: opts.engine.store,
      lock: opts.engine.lock,
      log: line => this.log(line),
      onStored: (hex, data) => { for (const s of this.sessions.values()) s.objectStored(hex, data) }
    })
    opts.engine.store.fetcher = this.downloader
  }

  /** Resumes what the previous daemon shared and followed. Creates no swarm when there is nothing. */
  async ready () {
    this.keyPair = DHT.keyPair(await this.peerSeed())
    try {
      this.state = parseNetState(await fs.readFile(this.stateFile, 'utf8'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`ignoring unreadable net.json: ${(err as Error).message}`)
    }
    const names = new Set(this.engine.names())
    const shared = this.state.shared.filter(n => names.has(n))
    const followed = this.engine.names().filter(n => this.engine.entry(n).remote)
    if (shared.length === 0 && followed.length === 0) return
    for (const name of followed) await this.startSession(name, 'join').catch(err => this.log(`cannot follow ${name}: ${err.message}`))
    for (const name of shared) await this.startSession(name, 'share', { lookup: true }).catch(err => this.log(`cannot share ${name}: ${err.message}`))
    for (const name of new Set([...shared, ...followed])) await this.followLineage(name).catch(err => this.log(`cannot serve the earlier logs of ${name}: ${err.message}`))
  }

  /**
   * Pauses a workspace (the caller quiesced its mount), shares it if it was not
   * shared, and returns the record, the resume link and what exists only here.
   */
  async pause (name: string, opts: Parameters<Engine['pause']>[1] & { settings?: SwarmSettings } = {}) {
    const outcome = await this.engine.pause(name, opts)
    const ws = await this.engine.workspace(name)
    const shared = await this.share(name, opts.settings ?? {})
    const link = formatResumeLink({ key: ws.key, secret: outcome.secret })
    return { workspace: outcome.workspace, created: outcome.created, hop: outcome.move.hop, commit: outcome.move.pause.commit, link, key: shared.key, peers: shared.peers }
  }

  /**
   * Resumes a paused workspace here: replicates its log through the pause
   * (from peers, or locally when this machine paused or follows it), checks
   * the link's secret against the pause, fetches every tree of the paused head
   * (all or error: on failure nothing is left behind), then makes this
   * machine's continuation log, shares it, and keeps the earlier log on the
   * network so its content streams in (working set first: see fetchWorkingSet).
   */
  async resume (link: ResumeLink, opts: { name?: string, timeoutMs?: number, monitor?: Monitor, settings?: SwarmSettings } = {}) {
    const timeoutMs = opts.timeoutMs ?? 30_000
    const deadline = Date.now() + timeoutMs
    const keyHex = toHex(link.key)
    const local = this.engine.byKey(link.key).length > 0
    const opened = !local && !this.engine.hasLog(link.key)
    const source = await this.engine.openLog(link.key)
    let session: Session | null = null
    let created = false
    let done = false
    const started = performance.now()
    const phases: Record<string, number> = {}
    try {
      if (!local || source.remote) {
        await this.ensureSwarm(opts.settings ?? {})
        session = this.sessionByKey(link.key)
        if (session === null) {
          session = this.newSession(source, 'join', { aliasOf: opts.name ?? source.meta?.name ?? keyHex.slice(0, 12) })
          // the background fetch waits for the working set (fetchWorkingSet): started
          // first, its thousands of chunk requests would fill every peer's window ahead of it
          session.prefetch = false
          created = true
        }
        opts.monitor?.setPhase('finding peers')
        await this.waitForHead(session, { key: link.key, pin: null }, timeoutMs)
        phases.headMs = performance.now() - started
        opts.monitor?.setPhase('replicating the log')
        await this.wholeLog(source, deadline, keyHex, timeoutMs)
        phases.logMs = performance.now() - started
        opts.monitor?.step('replicated', { key: keyHex, length: source.core.length, peers: session.channels.size })
      }
      const move = source.pausedMove
      if (move === null) throw ManifestError.NOT_PAUSED(source.meta?.name ?? keyHex)
      const here = await this.engine.continuedHere(link.key, move.hop)
      if (here !== null) throw ManifestError.ALREADY_RESUMED(source.meta!.name, `on this machine, as ${here}`)
      if (session !== null) {
        // a peer that knows where it went has said so when its channel opened (before its status)
        await this.settleMoved(session, Math.min(MOVED_SETTLE_MS, Math.max(0, deadline - Date.now())))
        // a claim still being checked (a slow peer, a loaded machine): wait for it rather than fork the workspace
        while (this.claimsPending(session) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
        if (this.claimsPending(session)) throw ManifestError.ALREADY_RESUMED(source.meta!.name, `by another machine, a peer says (as ${this.claimsOf(session).map(k => k.slice(0, 12)).join(', ')}), and that could not be checked within ${Math.round(timeoutMs / 1000)} s; try again with a longer --timeout`)
        const elsewhere = [...session.continuations.keys()].filter(k => !this.engine.byKey(Buffer.from(k, 'hex')).length)
        if (elsewhere.length > 0) throw ManifestError.ALREADY_RESUMED(source.meta!.name, `by another machine, as ${elsewhere.map(k => k.slice(0, 12)).join(', ')}; join that key to follow it`)
      }
      const name = opts.name ?? source.meta!.name
      opts.monitor?.setPhase('fetching the trees')
      const trees = session === null ? 0 : await session.fetchTrees(move.pause.root, AbortSignal.timeout(Math.max(1, deadline - Date.now()))).catch(err => {
        if ((err as Error)?.name === 'TimeoutError') throw NetError.NO_ROOT(keyHex, Math.round(timeoutMs / 1000))
        throw err
      })
      const verifiedMs = performance.now() - started
      phases.treesMs = verifiedMs
      const resumed = await this.engine.resume(name, source, link.secret)
      phases.continuedMs = performance.now() - started
      done = true
      if (session !== null) {
        session.relabel(name)
        if (created) await session.start({ expandLater: true })
      }
      const newKey = (await this.engine.workspace(name)).key
      opts.monitor?.step('verified', { hop: move.hop, commit: move.pause.commit, trees, previous: keyHex, key: toHex(newKey) })
      // an earlier log of this name shared or followed here now serves the new one as an alias
      for (const s of this.sessions.values()) if (s.aliasOf === null && s.ws.name === name && !s.ws.key.equals(newKey)) { s.relabel(name); s.addContinuation(newKey) }
      ;(session ?? this.sessionByKey(link.key))?.addContinuation(newKey)
      // Sharing the new log expands everything it reaches (~0.4 s of CPU for 100k files,
      // measured): it starts after the working set is local (fetchWorkingSet), not ahead
      // of the mount and the first writes. Followers reach us through the old key meanwhile.
      // Recorded as shared now, so a restarted daemon shares it and keeps fetching.
      await this.markShared(name)
      return { workspace: resumed.workspace, replaced: resumed.replaced, hop: move.hop, trees, verifiedMs, prologueMs: resumed.prologueMs, pause: move.pause, phases }
    } finally {
      if (!done && session !== null && created) await this.stopSession(session)
      if (!done && opened) await this.engine.discardLog(link.key)
    }
  }

  /**
   * What this machine may be the only one to hold: every object the head
   * reaches, unless a connected peer says it holds all of it at our log's length.
   */
  async onlyHere (name: string) {
    const ws = await this.engine.workspace(name)
    const session = this.sessionOf(name)
    const held = session !== null && this.heldBy(session) !== null
    return { objects: held ? 0 : (session?.reachable.held ?? 0), bytes: held ? 0 : ws.head!.stats.bytes, heldBy: session ? this.heldBy(session) : null }
  }

  /**
   * Waits until a connected peer (or the one whose id starts with `peer`) holds
   * everything the head reaches at our log's length (pause --wait).
   */
  async waitHeld (name: string, opts: { monitor?: Monitor, timeoutMs?: number, peer?: string } = {}) {
    const session = this.sessionOf(name)
    if (session === null) throw NetError.NOT_SHARED(name)
    const peer = opts.peer === undefined ? null : checkPeerId(opts.peer)
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity
    while (this.heldBy(session, peer) === null) {
      if (Date.now() > deadline) throw NetError.NOT_HELD(name, Math.round(opts.timeoutMs! / 1000), session.channels.size, peer)
      if (opts.monitor) {
        let best = 0
        for (const ch of session.channels) best = Math.max(best, ch.remoteStatus?.objects ?? 0)
        opts.monitor.unit = 'object'
        opts.monitor.peers = session.channels.size
        opts.monitor.totalFiles = session.reachable.held
        opts.monitor.add(best - opts.monitor.files, 0)
      }
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    return this.heldBy(session, peer)!
  }

  /** The first connected peer (whose id starts with `peer`, when given) that says it holds everything at this log's length, or null. */
  private heldBy (session: Session, peer: string | null = null): string | null {
    for (const ch of session.channels) {
      if (peer !== null && !ch.id.startsWith(peer)) continue
      const st = ch.remoteStatus
      if (st !== null && st.complete && st.length >= session.ws.core.length) return ch.id
    }
    return null
  }

  /** Waits (at most `ms`) until every connected peer has sent its status and every moved claim it made is checked. */
  private async settleMoved (session: Session, ms: number) {
    const deadline = Date.now() + ms
    const busy = () => [...session.channels].some(ch => ch.remoteStatus === null) || [...this.checkingFor.values()].includes(session)
    while (busy() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  }

  private async markShared (name: string) {
    if (this.state.shared.includes(name)) return
    this.state.shared.push(name)
    await this.saveState()
  }

  /**
   * Fetches a resumed workspace's working set ahead of everything else (after
   * the mount), then starts the background fetch of the rest and shares the new log.
   */
  async fetchWorkingSet (name: string, onProgress?: (done: number, total: number) => void) {
    try {
      return await this.workingSetFirst(name, onProgress)
    } finally {
      if (this.sessionOf(name) === null && this.state.shared.includes(name)) this.share(name).catch(err => this.log(`sharing ${name} after its resume failed: ${err?.message ?? err}`))
    }
  }

  private async workingSetFirst (name: string, onProgress?: (done: number, total: number) => void) {
    const none = { paths: 0, objects: 0, fetched: 0 }
    const ws = await this.engine.workspace(name)
    const last = [...ws.moves].reverse().find(m => m.continuation !== null)
    const session = last ? this.sessionByKey(last.continuation!.previousKey) : null
    if (!last || session === null) return none
    const started = performance.now()
    try {
      const got = await session.fetchPaths(last.pause.root, last.pause.workingSet, onProgress)
      session.log(`working set: ${got.paths} files, ${got.fetched}/${got.objects} objects fetched in ${Math.round(performance.now() - started)} ms`)
      return got
    } finally {
      // what this log reaches, for serving it (deferred by the resume: see Session.start)
      session.reachable.idle().catch(() => {})
      // then everything else, unless the user asked for on-demand only
      if (!session.prefetch && !this.state.lazy.includes(name) && session.following) {
        session.prefetch = true
        session.ensureSync()
      }
    }
  }

  /**
   * A peer says `key` continues the log of `session`. Replicate that log, check
   * it (prologue = our log through its pause, signed by the pause's handoff
   * key); a forgery is logged and dropped. A real one is told on to our peers;
   * a workspace that follows (or paused) this log then follows the new holder,
   * unless two continuations exist: that conflict is reported, no winner picked.
   */
  private checkMoved (session: Session, key: Buffer) {
    const hex = toHex(key)
    // a peer cannot make us open logs without end: one claim checked at a time per
    // log (the others wait, at most MAX_MOVED_KEYS), and a claim that failed to
    // verify is not checked again
    if (this.checking.has(hex) || this.rejected.has(hex) || this.closed || session.continuations.has(hex)) return
    if ([...this.checking.values()].some(k => this.checkingFor.get(k) === session)) {
      const queue = this.queuedClaims.get(session) ?? new Map<string, Buffer>()
      if (queue.size < MAX_MOVED_KEYS) queue.set(hex, key)
      this.queuedClaims.set(session, queue)
      return
    }
    this.checking.add(hex)
    this.checkingFor.set(hex, session)
    this.verifyMove(session, key)
      .catch(err => session.log(`cannot check the continuation ${hex.slice(0, 12)}: ${err?.message ?? err}`))
      .finally(() => {
        this.checking.delete(hex)
        this.checkingFor.delete(hex)
        const queue = this.queuedClaims.get(session)
        const next = queue?.entries().next().value
        if (!queue || !next) return
        queue.delete(next[0])
        if (queue.size === 0) this.queuedClaims.delete(session)
        this.checkMoved(session, next[1])
      })
  }

  /** Whether a peer's claim that this log was continued is still being checked (or waits to be). */
  private claimsPending (session: Session): boolean {
    return this.claimsOf(session).length > 0
  }

  private claimsOf (session: Session): string[] {
    return [...[...this.checking].filter(k => this.checkingFor.get(k) === session), ...(this.queuedClaims.get(session)?.keys() ?? [])]
  }

  private async verifyMove (session: Session, key: Buffer) {
    const { verifyContinuation } = await import('../../manifests/lib/moves.js')
    const hex = toHex(key)
    const fresh = !this.engine.hasLog(key)
    const next = await this.engine.openLog(key)
    let nextSession = this.sessionByKey(key)
    const created = nextSession === null && next.remote
    if (created) nextSession = this.newSession(next, 'join', { aliasOf: session.name })
    const prologue = () => next.core.manifest?.prologue?.length ?? 0
    const deadline = Date.now() + MOVED_CHECK_MS
    while ((next.core.length <= prologue() || next.moves.length === 0) && Date.now() < deadline) {
      await next.core.update({ wait: true }).catch(() => false)
      if (next.core.length > 0) await next.core.download({ start: 0, end: next.core.length }).done().catch(() => {})
      await next.refresh()
      if (next.core.length === 0) await new Promise(resolve => setTimeout(resolve, 250))
    }
    if (next.core.length <= prologue() || next.moves.length === 0) {
      // not a forgery, as far as we know: its log did not arrive in time. Not rejected,
      // so the next peer that names it (or the same one, on its next channel) gets it checked.
      session.log(`a peer named ${hex.slice(0, 12)} as the continuation of this log: it did not arrive within ${MOVED_CHECK_MS / 1000} s (not checked)`)
      if (created && nextSession) await this.stopSession(nextSession)
      if (fresh) await this.engine.discardLog(key)
      return
    }
    const cont = await verifyContinuation(session.ws, next)
    if (cont === null) {
      session.log(`a peer named ${hex.slice(0, 12)} as the continuation of this log: it does not verify (ignored)`)
      if (this.rejected.size >= MAX_REJECTED) this.rejected.delete(this.rejected.values().next().value!)
      this.rejected.add(hex)
      if (created && nextSession) await this.stopSession(nextSession)
      if (fresh) await this.engine.discardLog(key)
      return
    }
    if (!session.addContinuation(key)) return
    session.log(`moved: continued by ${hex.slice(0, 12)} (${cont.holder}, move ${cont.hop})`)
    if (session.conflict) {
      session.log(`CONFLICT: this pause was resumed twice (${session.conflict.map(k => k.slice(0, 12)).join(', ')}); nothing is picked: compare them with wxs diff <name> --conflict`)
      // the other head stays reachable (its trees and content on demand: wxs diff --conflict, a join)
      if (created && nextSession) { nextSession.prefetch = false; await nextSession.start() }
      return
    }
    const name = session.aliasOf === null ? session.ws.name : null
    if (name === null || nextSession === null || !next.remote || !this.engine.has(name)) return
    const ws = await this.engine.workspace(name)
    if (!ws.key.equals(session.ws.key) || !(ws.remote || ws.paused)) return
    // the workspace follows the new holder now; this log stays on the network for whoever knows only it
    await this.engine.follow(name, next)
    session.relabel(name)
    nextSession.aliasOf = null
    if (!created) return
    await nextSession.start()
    this.onHead?.(name)
  }

  /** The session of the log a resumed workspace continues (its content streams in there), if any. */
  private lineageSession (ws: Workspace): Session | null {
    const last = [...ws.moves].reverse().find(m => m.continuation !== null)
    return last ? this.sessionByKey(last.continuation!.previousKey) : null
  }

  /** Keeps the earlier logs of a moved workspace on the network (see SessionOptions.aliasOf). */
  private async followLineage (name: string) {
    const ws = await this.engine.workspace(name)
    const keys = [...ws.moves.flatMap(m => m.continuation ? [m.continuation.previousKey] : []), ws.key]
    for (let i = 0; i < keys.length - 1; i++) {
      const existing = this.sessionByKey(keys[i])
      if (existing) { existing.addContinuation(keys[i + 1]); continue }
      const old = await this.engine.openLog(keys[i])
      if (!old.remote) continue // still a workspace of its own here
      const session = this.newSession(old, 'join', { aliasOf: name })
      session.addContinuation(keys[i + 1])
      await session.start()
    }
  }

  /** Downloads every block of a log up to its latest length (a resume needs the pause and everything before it). */
  private async wholeLog (ws: Workspace, deadline: number, keyHex: string, timeoutMs: number) {
    const left = () => Math.max(1, deadline - Date.now())
    const timeout = new Promise<never>((_resolve, reject) => setTimeout(() => reject(NetError.NO_PEERS(keyHex, Math.round(timeoutMs / 1000))), left()).unref())
    // a paused log never grows: a whole local copy (this machine followed it) needs no peer
    if (ws.paused && ws.core.contiguousLength === ws.core.length) return
    await Promise.race([(async () => {
      await ws.core.update({ wait: true }).catch(() => false)
      await ws.core.download({ start: 0, end: ws.core.length }).done()
      await ws.refresh()
    })(), timeout])
  }

  get online () { return this.swarm !== null }

  /** Reads peer.key, or makes it (durably, owner-only) on first use. */
  private async peerSeed (): Promise<Buffer> {
    const file = path.join(this.engine.home, 'peer.key')
    try {
      return parsePeerSeed(await fs.readFile(file))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw NetError.BAD_STATE(file, (err as Error).message)
    }
    const seed = randomBytes(PEER_SEED_BYTES)
    await writeFileDurable(file, seed)
    await fs.chmod(file, 0o600)
    return seed
  }

  /** This machine's peer id (hex), as other peers see it. */
  get peerId (): string { return toHex(this.keyPair!.publicKey) }

  info () {
    return { online: this.swarm !== null, peer: this.keyPair ? this.peerId : null, bootstrap: this.bootstrapInUse, host: this.hostInUse, connections: this.conns.size, received: { ...this.downloader.stats }, sessions: [...this.sessions.values()].map(s => ({ name: s.name, role: s.role, peers: s.channels.size })) }
  }

  async share (name: string, settings: SwarmSettings = {}): Promise<{ name: string, key: string, discoveryKey: string, peers: number, bootstrap: string | null }> {
    const ws = await this.engine.workspace(name)
    await this.ensureSwarm(settings)
    const session = this.sessionOf(name) ?? await this.startSession(name, ws.remote ? 'join' : 'share')
    // return once the DHT holds the announcement: a peer looking it up before that
    // finds a half-made record and its first connection attempt times out (~13 s)
    await session.announced
    if (!this.state.shared.includes(name)) {
      this.state.shared.push(name)
      await this.saveState()
    }
    return { name, key: toHex(ws.key), discoveryKey: toHex(session.discoveryKey), peers: session.channels.size, bootstrap: this.bootstrapInUse }
  }

  async unshare (name: string) {
    await this.engine.workspace(name)
    const session = this.sessionOf(name)
    if (!this.state.shared.includes(name) && (session === null || session.following)) throw NetError.NOT_SHARED(name)
    this.state.shared = this.state.shared.filter(n => n !== name)
    await this.saveState()
    if (session !== null && !session.following) await this.stopSession(session)
    return { name, shared: false }
  }

  /** Stops following (before rm): leaves the topic and closes its channels. */
  async forget (name: string) {
    const session = this.sessionOf(name)
    if (session) await this.stopSession(session)
    if (this.state.shared.includes(name) || this.state.lazy.includes(name)) {
      this.state.shared = this.state.shared.filter(n => n !== name)
      this.state.lazy = this.state.lazy.filter(n => n !== name)
      await this.saveState()
    }
  }

  /**
   * Joins a shared workspace: replicates its log until a head arrives (or
   * fails with NO_PEERS after timeoutMs, leaving nothing behind), registers it
   * under `name` (default: the sharer's name), fetches its root tree, and
   * starts the background sync.
   */
  async join (target: JoinTarget, opts: { name?: string, timeoutMs?: number, monitor?: Monitor, settings?: SwarmSettings, lazy?: boolean } = {}): Promise<WorkspaceSummary> {
    if (opts.name !== undefined && this.engine.has(opts.name)) throw ManifestError.WORKSPACE_EXISTS(opts.name)
    const ws = await this.engine.openRemote(target.key, { pin: target.pin })
    let registered = false
    let session: Session | null = null
    try {
      await this.ensureSwarm(opts.settings ?? {})
      session = this.newSession(ws, 'join')
      opts.monitor?.setPhase('finding peers')
      const timeoutMs = opts.timeoutMs ?? 30_000
      const deadline = Date.now() + timeoutMs
      await this.waitForHead(session, target, timeoutMs)
      if (opts.monitor) opts.monitor.peers = session.channels.size
      const name = opts.name ?? ws.meta!.name
      opts.monitor?.setPhase('fetching the root tree')
      const summary = await this.engine.registerRemote(name, ws)
      registered = true
      ws.core.download({ start: 0, end: -1 }) // the whole log: small, and then readable offline
      if (opts.lazy) {
        session.prefetch = false
        this.state.lazy = [...this.state.lazy.filter(n => n !== name), name]
        await this.saveState()
      }
      // the log came from a peer; its root tree must too, within what is left of the timeout
      const left = Math.max(1, deadline - Date.now())
      await this.downloader.want(toHex(ws.current!.root), { urgent: true, signal: AbortSignal.timeout(left) }).catch(err => {
        if ((err as Error)?.name === 'TimeoutError') throw NetError.NO_ROOT(toHex(target.key), Math.round(timeoutMs / 1000))
        throw err
      })
      await session.start()
      return summary
    } finally {
      if (!registered) {
        if (session) await this.stopSession(session)
        await this.engine.discardRemote(ws)
      }
    }
  }

  /** Waits until a joined workspace is complete locally, reporting progress. */
  async sync (name: string, monitor?: Monitor, opts: { stallMs?: number } = {}) {
    const ws = await this.engine.workspace(name)
    // a resumed workspace's content comes through the log it continues
    const session = ws.remote ? this.sessionOf(name) : this.lineageSession(ws)
    if (session === null || !session.following) {
      return { name, complete: true, objects: 0, bytes: 0, fetchedObjects: 0, fetchedBytes: 0, receivedBytes: 0, peers: 0, local: true }
    }
    session.ensureSync()
    const timer = monitor ? setInterval(() => report(monitor, session), 200) : null
    let watchdog: NodeJS.Timeout | null = null
    try {
      const done = session.whenComplete()
      if (opts.stallMs === undefined) await done
      else {
        // like rsync --timeout: give up when nothing arrives for stallMs (what did arrive stays)
        const stallMs = opts.stallMs
        let seen = session.progress.objects
        let since = Date.now()
        await Promise.race([done, new Promise<never>((_resolve, reject) => {
          watchdog = setInterval(() => {
            const p = session.progress
            if (p.objects !== seen) { seen = p.objects; since = Date.now(); return }
            if (Date.now() - since < stallMs) return
            reject(NetError.STALLED(name, Math.round(stallMs / 1000), session.channels.size, p.objects, p.totalObjects))
          }, Math.min(250, stallMs))
        })])
      }
    } finally {
      if (timer) clearInterval(timer)
      if (watchdog) clearInterval(watchdog)
    }
    if (monitor) report(monitor, session)
    const p = session.progress
    return { name, complete: true, seq: p.seq, objects: p.totalObjects, bytes: p.totalBytes, fetchedObjects: p.fetchedObjects, fetchedBytes: p.fetchedBytes, receivedBytes: p.receivedBytes, peers: session.channels.size, local: false }
  }

  peers (name?: string): PeerReport[] {
    const out: PeerReport[] = []
    for (const s of this.sessions.values()) {
      if (name !== undefined && s.name !== name) continue
      for (const ch of s.channels) {
        out.push({ workspace: s.name, peer: ch.id, address: ch.address, connectedMs: ch.connectedMs, holds: ch.remoteStatus, received: { ...ch.received }, sent: { ...ch.sent }, requested: { ...ch.requested }, inflight: ch.inflight.size })
      }
    }
    return out
  }

  /** Every peer the swarm knows: connected (with direction and address), being dialled, retrying, banned. */
  links (): LinkReport[] {
    const out = new Map<string, LinkReport>()
    for (const conn of this.conns) {
      const id = toHex(conn.remotePublicKey)
      const raw = conn.rawStream
      out.set(id, { peer: id, state: 'connected', direction: conn.isInitiator ? 'out' : 'in', address: raw?.remoteHost ? `${raw.remoteHost}:${raw.remotePort}` : null, since: this.connectedAt.get(conn) ?? null, attempts: 0, droppedBy: [] })
    }
    for (const [id, info] of (this.swarm as any)?.peers ?? new Map()) {
      if (out.has(id)) continue
      const closed = info.disconnectedTime > 0
      out.set(id, { peer: id, state: info.banned ? 'banned' : closed ? 'retrying' : 'connecting', direction: null, address: null, since: closed ? info.disconnectedTime : null, attempts: info.attempts, droppedBy: [] })
    }
    for (const s of this.sessions.values()) {
      for (const l of out.values()) if (s.isBanned(l.peer)) l.droppedBy.push(s.name)
    }
    return [...out.values()]
  }

  /**
   * Pauses (or resumes) the background fetch of a joined or resumed workspace:
   * paused, only what is read is fetched (as --lazy, and kept across restarts).
   */
  async setFetchPaused (name: string, paused: boolean): Promise<{ name: string, paused: boolean }> {
    const ws = await this.engine.workspace(name)
    const session = ws.remote ? this.sessionOf(name) : this.lineageSession(ws)
    if (session === null || !session.following) throw NetError.NOT_FETCHING(name)
    this.state.lazy = this.state.lazy.filter(n => n !== name)
    if (paused) this.state.lazy.push(name)
    await this.saveState()
    session.prefetch = !paused
    if (paused) session.stopSync()
    else session.ensureSync()
    return { name, paused }
  }

  /** Sharing state of one workspace, for list/info. */
  describe (name: string) {
    const s = this.sessionOf(name)
    const ws = s?.ws
    const fetching = ws && !ws.remote ? this.lineageSession(ws) : null
    return {
      shared: this.state.shared.includes(name),
      following: s?.following ?? false,
      peers: (s?.channels.size ?? 0) + (fetching?.channels.size ?? 0),
      lazy: s ? !s.prefetch : false,
      sync: s?.following ? { ...s.progress } : fetching ? { ...fetching.progress } : null,
      conflict: this.conflictOf(s?.ws ?? null)
    }
  }

  /**
   * The heads of the two logs that continue one pause (a conflict), this
   * machine's own first when it is one of them; null when there is no conflict.
   */
  async conflictHeads (name: string): Promise<Array<{ key: string, here: boolean, seq: number, root: Buffer, time: number, message: string }> | null> {
    const ws = await this.engine.workspace(name)
    const keys = this.conflictOf(ws)
    if (keys === null) return null
    const heads = []
    for (const hex of keys) {
      const log = await this.engine.openLog(Buffer.from(hex, 'hex'))
      if (log.remote) await log.refresh()
      const head = log.head
      if (head === null) continue
      heads.push({ key: hex, here: log.key.equals(ws.key), seq: head.seq, root: head.root, time: head.time, message: head.message })
    }
    return heads.sort((x, y) => Number(y.here) - Number(x.here))
  }

  /** Two continuations of one of this workspace's logs (two resumes of one pause): their keys. */
  private conflictOf (ws: Workspace | null): string[] | null {
    if (ws === null) return null
    const keys = [...ws.moves.flatMap(m => m.continuation ? [m.continuation.previousKey] : []), ws.key]
    for (const k of keys) {
      const c = this.sessionByKey(k)?.conflict
      if (c) return c
    }
    return null
  }

  async close () {
    if (this.closed) return
    this.closed = true
    if (this.refresher) clearInterval(this.refresher)
    for (const s of [...this.sessions.values()]) await s.close()
    this.sessions.clear()
    this.downloader.close()
    if (this.engine.store.fetcher === this.downloader) this.engine.store.fetcher = null
    if (this.swarm) await this.swarm.destroy().catch(() => {})
    this.swarm = null
  }

  // -- internals -------------------------------------------------------------

  private sessionOf (name: string): Session | null {
    for (const s of this.sessions.values()) if (s.aliasOf === null && s.ws.name === name) return s
    return null
  }

  private sessionByKey (key: Buffer): Session | null {
    return this.sessions.get(toHex(discoveryKeyOf(key))) ?? null
  }

  private async startSession (name: string, role: 'share' | 'join', opts: { lookup?: boolean } = {}): Promise<Session> {
    const ws = await this.engine.workspace(name)
    await this.ensureSwarm({})
    const session = this.newSession(ws, role, opts)
    session.prefetch = !this.state.lazy.includes(name)
    await session.start()
    return session
  }

  /** Registers a session, opens its channel on every connection and joins its topic. */
  private newSession (ws: Awaited<ReturnType<Engine['workspace']>>, role: 'share' | 'join', opts: { lookup?: boolean, aliasOf?: string } = {}): Session {
    const session = new Session({
      aliasOf: opts.aliasOf,
      onMoved: (s, keys) => { for (const k of keys) this.checkMoved(s, k) },
      ws,
      engine: this.engine,
      downloader: this.downloader,
      role,
      log: line => this.log(line),
      onHead: s => this.onHead?.(s.ws.name)
    })
    const id = toHex(session.discoveryKey)
    const existing = this.sessions.get(id)
    if (existing) return existing
    this.sessions.set(id, session)
    for (const conn of this.conns) session.attach(conn, Protomux.from(conn))
    // A fresh share only announces: if it also looked peers up, a joiner connecting
    // at that moment races the sharer's own connection and hyperswarm's
    // deduplication can leave one side with a dead stream (a ~13 s stall, seen
    // here). Joiners look up; a restarted daemon (resume) looks up its followers.
    const discovery = this.swarm!.join(session.discoveryKey, { server: true, client: role === 'join' || opts.lookup === true })
    session.discovery = discovery
    session.announced = discovery.flushed().catch(err => this.log(`announcing ${session.name} failed: ${err?.message ?? err}`))
    return session
  }

  private async stopSession (session: Session) {
    this.sessions.delete(toHex(session.discoveryKey))
    await session.close()
    await this.swarm?.leave(session.discoveryKey).catch(() => {})
  }

  private async waitForHead (session: Session, target: JoinTarget, timeoutMs: number) {
    const ws = session.ws
    const key = toHex(target.key)
    const done = ws.core.findingPeers()
    this.swarm!.flush().then(done, done)
    const deadline = Date.now() + timeoutMs
    while (true) {
      if (ws.head !== null && ws.meta !== null) {
        if (target.pin === null || ws.pinned !== null) return
        // the head is here: the snapshot must be in the log by now, or soon
        await ws.core.update({ wait: true }).catch(() => false)
        await ws.refresh()
        if (ws.pinned !== null) return
        throw NetError.SNAPSHOT_NOT_FOUND(target.pin, key)
      }
      const left = deadline - Date.now()
      if (left <= 0) throw NetError.NO_PEERS(key, Math.round(timeoutMs / 1000))
      await new Promise<void>(resolve => {
        const timer = setTimeout(finish, Math.min(left, 250))
        const off = ws.onHead(finish)
        function finish () { clearTimeout(timer); off(); resolve() }
      })
      if (ws.core.length > 0 && ws.head === null) ws.refresh().catch(() => {})
    }
  }

  /** Creates the swarm on first use, with the bootstrap list from the call, net.json, WXS_BOOTSTRAP or the public default. */
  private async ensureSwarm (settings: SwarmSettings) {
    const wanted = settings.bootstrap ?? this.state.bootstrap?.join(',') ?? (this.env.WXS_BOOTSTRAP || null)
    // an empty list is an error, never "the public nodes"
    const list: HostPort[] | null = wanted !== null ? parseBootstrap(wanted) : null
    const wantedText = list ? formatBootstrap(list) : 'public'
    if (this.swarm !== null) {
      if (settings.bootstrap !== undefined && wantedText !== this.bootstrapInUse) throw NetError.SWARM_CONFLICT(`bootstrap ${this.bootstrapInUse}`, `bootstrap ${wantedText}`)
      if (settings.host !== undefined && settings.host !== this.hostInUse) throw NetError.SWARM_CONFLICT(`DHT host ${this.hostInUse ?? 'any'}`, `DHT host ${settings.host}`)
      return
    }
    if (list === null && this.env.WXS_NO_PUBLIC_BOOTSTRAP) throw NetError.NO_BOOTSTRAP()
    const host = settings.host ?? this.state.host ?? (this.env.WXS_DHT_HOST || undefined) ?? await privateHost(list)
    // a private network gets an OS-chosen port (see ports.ts); the public one keeps HyperDHT's default
    const port = list !== null ? await freeUdpPort(host ?? '0.0.0.0') : undefined
    // Bound to a known address (loopback, --dht-host, or the interface that routes
    // to a private-range bootstrap), the node is reachable there: say so. Left
    // "firewalled" (HyperDHT's default until it has probed), peers in separate
    // processes try to holepunch each other first and the first connection often
    // stalls until a 13 s timeout (measured here with raw Hyperswarm in four
    // processes: 5 of 9 first connections timed out; none with firewalled: false;
    // across two network namespaces without a bound address 4 of 5 joins failed).
    const dht = new DHT({ bootstrap: list ?? undefined, host, port, ...(host !== undefined ? { firewalled: false } : {}) })
    this.hostInUse = host ?? null
    const swarm = new Hyperswarm({ dht, keyPair: this.keyPair ?? undefined })
    swarm.on('connection', (conn: any) => this.onConnection(conn))
    this.swarm = swarm
    this.refresher = setInterval(() => this.lookAgain(), 3000)
    this.refresher.unref()
    this.bootstrapInUse = wantedText
    this.log(`swarm started (bootstrap ${wantedText}${host ? ', DHT bound to ' + host : ''})`)
    const next = { ...this.state, bootstrap: list ? formatBootstrap(list).split(',') : null, host: settings.host ?? this.state.host }
    if (JSON.stringify(next) !== JSON.stringify(this.state)) {
      this.state = next
      await this.saveState()
    }
  }

  /**
   * Larger kernel buffers for the UDP sockets connections run on. HyperDHT leaves
   * the OS default (208 KiB on Linux): a burst of 1 MiB objects overflowed it and
   * the kernel dropped datagrams (RcvbufErrors), which UDX's congestion control
   * reads as loss. The kernel caps the request at net.core.rmem_max/wmem_max.
   * WXS_UDP_BUFFER_BYTES=0 leaves the default (for measuring).
   */
  private tuneSocket (socket: any) {
    if (!socket || this.tunedSockets.has(socket)) return
    this.tunedSockets.add(socket)
    const bytes = this.env.WXS_UDP_BUFFER_BYTES !== undefined ? Number(this.env.WXS_UDP_BUFFER_BYTES) : UDP_BUFFER_BYTES
    if (!(bytes > 0)) return
    try {
      if (socket.getRecvBufferSize() < bytes) socket.setRecvBufferSize(bytes)
      if (socket.getSendBufferSize() < bytes) socket.setSendBufferSize(bytes)
    } catch (err) {
      this.log(`cannot enlarge UDP socket buffers: ${(err as Error).message}`)
    }
  }

  /** A follower without peers looks again every few seconds (the sharer may be back). */
  private lookAgain () {
    for (const s of this.sessions.values()) {
      if (s.following && s.channels.size === 0 && s.discovery) s.discovery.refresh({ client: true, server: true }).catch(() => {})
    }
  }

  private onConnection (conn: any) {
    if (this.closed) { conn.destroy(); return }
    this.tuneSocket(conn.rawStream?.socket)
    this.conns.add(conn)
    this.connectedAt.set(conn, Date.now())
    conn.on('error', (err: Error) => this.log(`connection error: ${err.message}`))
    conn.on('close', () => this.conns.delete(conn))
    this.engine.corestore.replicate(conn)
    const mux = Protomux.from(conn)
    // A workspace shared or joined after this connection was made opens its
    // channel on it then, and the remote may have no session for it yet (it
    // rejects) or get one later (its open arrives here): answer such opens for
    // any session we have, or a second workspace between two connected peers
    // would never get a channel.
    mux.pair({ protocol: PROTOCOL }, (id: Buffer) => {
      const session = this.sessions.get(toHex(id))
      if (session && !session.isBanned(toHex(conn.remotePublicKey))) session.attach(conn, mux)
    })
    for (const s of this.sessions.values()) s.attach(conn, mux)
  }

  private async saveState () {
    await writeFileDurable(this.stateFile, Buffer.from(formatNetState(this.state)))
  }
}

/**
 * With a bootstrap on loopback, 127.0.0.1; on a private-range address (a LAN, a
 * lab, network namespaces), the local address that routes to it (a connected UDP
 * socket sends nothing); otherwise (public addresses, NAT) HyperDHT's own choice.
 */
async function privateHost (list: HostPort[] | null): Promise<string | undefined> {
  if (list === null) return undefined
  if (list.every(b => isLoopback(b.host))) return '127.0.0.1'
  const first = list[0]
  if (!isPrivateAddress(first.host)) return undefined
  return localAddressTowards(first).catch(() => undefined)
}

function report (monitor: Monitor, session: Session) {
  const p = session.progress
  monitor.unit = 'object'
  monitor.peers = session.channels.size
  monitor.phase = p.phase === 'complete' ? 'complete' : p.phase === 'trees' ? 'fetching trees' : p.phase === 'chunks' ? 'fetching content' : 'waiting'
  monitor.totalFiles = p.totalObjects
  monitor.totalBytes = p.totalBytes
  // why it is not done yet, as wxs top says it
  const why = session.downloader.breakdown()
  monitor.why = p.complete ? null : `${why.queued} queued, ${why.inflight} in flight, ${why.unavailable} no connected peer has${why.failed > 0 ? `, ${why.failed} failed verification` : ''}`
  monitor.add(p.objects - monitor.files, p.bytes - monitor.bytes)
}
