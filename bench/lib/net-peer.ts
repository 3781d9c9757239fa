/**
 * Peers for `bench net`: each a wxs daemon with its own fresh WXS_HOME, driven
 * through the real CLI (`node cli/wxs.js …` as child processes), all on one
 * private DHT started by the bench (never the public bootstrap nodes: every
 * child gets WXS_BOOTSTRAP=<local> and WXS_NO_PUBLIC_BOOTSTRAP=1).
 * A Lab tears a sample's peers down completely (mounts, daemons, state dirs),
 * also on failure and on a signal.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import DHT from 'hyperdht'
import { stopDaemon } from './daemon.js'
import { unmount } from './mounts.js'
import { childEnv, spawnAsync, type SpawnResult } from './proc.js'
import type { Scratch } from './scratch.js'

export interface LabOptions {
  root: string
  scratch: Scratch
  /** host:port of the bench's own DHT bootstrap. */
  bootstrap: string
  log: (line: string) => void
  /** Node flags for every daemon (e.g. --cpu-prof), given to the `wxs daemon start` that spawns it. */
  daemonNodeArgs: string[]
}

/** Where a peer runs: another network namespace (`ip netns exec <ns>`), on another private DHT. */
export interface PeerPlace { netns?: string, bootstrap?: string }

export class WxsPeer {
  readonly env: NodeJS.ProcessEnv
  private readonly cli: string
  private readonly wrap: string[]

  constructor (readonly lab: Lab, readonly name: string, readonly home: string, place: PeerPlace = {}) {
    const bootstrap = place.bootstrap ?? lab.opts.bootstrap
    if (!bootstrap) throw new Error('bench net: no local bootstrap; refusing to start a peer')
    this.env = childEnv({ WXS_HOME: home, WXS_BOOTSTRAP: bootstrap, WXS_NO_PUBLIC_BOOTSTRAP: '1' })
    this.cli = path.join(lab.opts.root, 'cli', 'wxs.js')
    this.wrap = place.netns ? ['ip', 'netns', 'exec', place.netns] : []
  }

  /** Runs `wxs <args>` as a child process (in the peer's namespace); throws nothing (check status). */
  run (args: string[], opts: { nodeArgs?: string[], timeoutMs?: number } = {}): Promise<SpawnResult> {
    const argv = [process.execPath, ...(opts.nodeArgs ?? []), this.cli, ...args]
    const [cmd, ...rest] = [...this.wrap, ...argv]
    return spawnAsync(cmd, rest, { cwd: this.lab.opts.root, env: this.env, timeoutMs: opts.timeoutMs ?? 300_000 })
  }

  /** Runs `wxs <args> --json`, which must succeed; returns the parsed result and the timing. */
  /** Runs `wxs … --json`: its result, its wall time, and the lifecycle steps it printed on stderr (pause, resume). */
  async json (args: string[], opts: { timeoutMs?: number } = {}): Promise<{ out: any, ms: number, steps: Array<{ step: string, ms: number, [k: string]: unknown }> }> {
    const res = await this.run([...args, '--json'], opts)
    if (res.status !== 0) throw new Error(`[${this.name}] wxs ${args.join(' ').slice(0, 160)} exited ${res.status}: ${res.stderr.trim().split('\n').filter(l => !l.startsWith('{"progress"')).join(' ').slice(-600)}`)
    const steps = res.stderr.split('\n').filter(l => l.startsWith('{"step"')).map(l => JSON.parse(l))
    return { out: JSON.parse(res.stdout), ms: res.ms, steps }
  }

  /** Starts the daemon (untimed preparation; a real user's daemon is already up). */
  async start () {
    const res = await this.run(['daemon', 'start'], { nodeArgs: this.lab.opts.daemonNodeArgs })
    if (res.status !== 0) throw new Error(`[${this.name}] wxs daemon start exited ${res.status}: ${res.stderr.trim()}`)
  }

  async stop () {
    await stopDaemon(this.home, () => this.run(['daemon', 'stop'], { timeoutMs: 30_000 }), this.lab.opts.log)
  }

  /** Wall-clock times of daemon.log lines matching `re` (the daemon stamps each line in ISO UTC). */
  async logTimes (re: RegExp): Promise<number[]> {
    const text = await fs.readFile(path.join(this.home, 'daemon.log'), 'utf8').catch(() => '')
    const out: number[] = []
    for (const line of text.split('\n')) {
      if (!re.test(line)) continue
      const t = Date.parse(line.slice(0, 24))
      if (Number.isFinite(t)) out.push(t)
    }
    return out
  }

  /** ms from `sinceWall` (Date.now()) to the first peer this daemon logged as connected after it; null if none. */
  async firstPeerMs (sinceWall: number): Promise<number | null> {
    // the log has ms resolution; allow for the truncation
    const t = (await this.logTimes(/ peer [0-9a-f]+ connected/)).find(x => x >= sinceWall - 1)
    return t === undefined ? null : Math.max(0, t - sinceWall)
  }

  /** Bytes of objects this daemon received from peers, and of the requests it sent them, per `wxs peers --json`. */
  async received (name?: string): Promise<{ objects: number, bytes: number, requestBytes: number, peers: number }> {
    const { out } = await this.json(name ? ['peers', name] : ['peers'])
    let objects = 0
    let bytes = 0
    let requestBytes = 0
    for (const p of out.peers) { objects += p.received.objects; bytes += p.received.bytes; requestBytes += p.requested?.bytes ?? 0 }
    return { objects, bytes, requestBytes, peers: out.peers.length }
  }
}

/** The peers and mounts of the sample under way, all torn down by teardown(). */
export class Lab {
  private readonly peers = new Set<WxsPeer>()
  private readonly mounts = new Set<string>()
  private counter = 0
  private dht: DHT | null = null

  constructor (readonly opts: LabOptions) {}

  /** A peer with a fresh state dir (its daemon is not started yet). */
  peer (name: string, place: PeerPlace = {}): WxsPeer {
    const p = new WxsPeer(this, name, this.opts.scratch.path(`home-${name}-${this.counter++}`), place)
    this.peers.add(p)
    return p
  }

  /** A fresh, empty mount point, unmounted at teardown. */
  async mountPoint (): Promise<string> {
    const dir = this.opts.scratch.path('mnt')
    await fs.mkdir(dir, { recursive: true })
    this.mounts.add(dir)
    return dir
  }

  /**
   * Waits until `count` peers announce `discoveryKeyHex` on the private DHT (untimed
   * preparation: `wxs share` returns before its announcement is stored).
   */
  async waitForAnnounce (discoveryKeyHex: string, count = 1, timeoutMs = 30_000) {
    const [host, port] = splitHostPort(this.opts.bootstrap)
    this.dht ??= new DHT({ bootstrap: [{ host, port }], host: '127.0.0.1', ephemeral: true })
    const topic = Buffer.from(discoveryKeyHex, 'hex')
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const seen = new Set<string>()
      try {
        for await (const res of (this.dht as any).lookup(topic) as AsyncIterable<{ peers: Array<{ publicKey: Uint8Array }> }>) for (const p of res.peers) seen.add(Buffer.from(p.publicKey).toString('hex'))
      } catch {}
      if (seen.size >= count) return
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    throw new Error(`fewer than ${count} announcement(s) of ${discoveryKeyHex.slice(0, 12)} on the local DHT after ${timeoutMs} ms`)
  }

  /** Unmounts, stops every daemon and removes every state dir of the sample. Never throws. */
  async teardown () {
    for (const dir of this.mounts) {
      await unmount(dir).catch(err => this.opts.log(`  cleanup: unmount ${dir}: ${err.message}`))
    }
    await Promise.all([...this.peers].map(p => p.stop().catch(err => this.opts.log(`  cleanup: stop ${p.name}: ${err.message}`))))
    for (const dir of this.mounts) {
      await unmount(dir).catch(() => {})
      await fs.rmdir(dir).catch(() => {})
    }
    for (const p of this.peers) await this.opts.scratch.remove(p.home).catch(() => {})
    this.mounts.clear()
    this.peers.clear()
  }

  async close () {
    await this.teardown()
    await this.dht?.destroy().catch(() => {})
    this.dht = null
  }
}

function splitHostPort (s: string): [string, number] {
  const i = s.lastIndexOf(':')
  return [s.slice(0, i), Number(s.slice(i + 1))]
}
