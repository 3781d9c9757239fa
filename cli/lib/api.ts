/**
 * The library API: `import { Wxs } from 'wxs'`. Each method sends one request
 * to the daemon of a state dir (over its socket, starting it when nobody
 * answers) and resolves to the same JSON `wxs <command> --json` prints; a
 * failure rejects with an error whose `code` is the one the CLI reports.
 * `exec` and `events` run partly here, as their CLI commands do. The CLI is
 * a client of this class too (cli/main.ts): one client, one set of answers.
 */
import path from 'node:path'
import { call, watch, type CallOptions } from './client.js'
import type { WatchReply } from '../messages.js'
import { execWorkspace, type ExecOptions, type ExecResult } from './exec.js'

export interface WxsOptions {
  /** The state dir (default: $WXS_HOME, else ~/.wxs). */
  home?: string
  /** DHT bootstrap nodes for share, join, pause and resume (default: $WXS_BOOTSTRAP, else the public ones). */
  bootstrap?: string
}

type Access = 'owner' | 'all'

export class Wxs {
  private readonly home: string | undefined
  private readonly bootstrap: string | undefined

  constructor (opts: WxsOptions = {}) {
    this.home = opts.home === undefined ? undefined : path.resolve(opts.home)
    this.bootstrap = opts.bootstrap
  }

  /** One daemon request, with this instance's state dir (the CLI sends every command through here, with progress callbacks). */
  request<T = any> (method: string, params: Record<string, unknown> = {}, opts: Omit<CallOptions, 'home'> = {}): Promise<T> {
    return call(method, params, { ...opts, home: this.home }) as Promise<T>
  }

  /** The watch stream with a callback (return false to stop): what `events` iterates, and what the CLI's events and top read. */
  watch (params: { since?: number }, onReply: (r: WatchReply) => boolean | void, opts: { autostart?: boolean } = {}) {
    return watch(params, onReply, { ...opts, home: this.home })
  }

  create (name: string, opts: { from?: string, message?: string, mount?: string | true, access?: Access } = {}) {
    return this.request('create', { name, from: opts.from && path.resolve(opts.from), message: opts.message, mount: mountParam(opts.mount), access: opts.access })
  }

  fork (source: string, name: string, opts: { at?: string } = {}) { return this.request('fork', { source, name, at: opts.at }) }
  info (name: string) { return this.request('info', { name }) }
  list () { return this.request('list') }
  mount (name: string, opts: { dir?: string, access?: Access, readOnly?: boolean } = {}) {
    return this.request('mount', { name, dir: opts.dir && path.resolve(opts.dir), access: opts.access, readOnly: opts.readOnly === true })
  }

  unmount (nameOrDir: string) { return this.request('unmount', { target: nameOrDir.includes('/') ? path.resolve(nameOrDir) : nameOrDir }) }
  commit (name: string, opts: { message?: string } = {}) { return this.request('commit', { name, message: opts.message }) }
  snapshot (name: string, label?: string) { return this.request('snapshot', { name, label }) }
  restore (name: string, ref: string) { return this.request('restore', { name, ref }) }
  diff (name: string, from?: string, to?: string) { return this.request('diff', { name, from, to }) }
  log (name: string, opts: { limit?: number } = {}) { return this.request('log', { name, limit: opts.limit }) }
  share (name: string) { return this.request('share', { name, bootstrap: this.bootstrap }) }
  join (key: string, opts: { name?: string, mount?: string | true, access?: Access, lazy?: boolean, timeoutMs?: number } = {}) {
    return this.request('join', { target: key, name: opts.name, mount: mountParam(opts.mount), access: opts.access, lazy: opts.lazy === true, timeoutMs: opts.timeoutMs, bootstrap: this.bootstrap })
  }

  pause (name: string, opts: { note?: string, meta?: string[], force?: boolean } = {}) {
    return this.request('pause', { name, note: opts.note, meta: opts.meta, force: opts.force === true, bootstrap: this.bootstrap })
  }

  resume (link: string, opts: { name?: string, mount?: string | true, access?: Access, wait?: boolean, fork?: boolean, timeoutMs?: number } = {}) {
    return this.request('resume', { link, name: opts.name, mount: mountParam(opts.mount), access: opts.access, wait: opts.wait === true, fork: opts.fork === true, timeoutMs: opts.timeoutMs, bootstrap: this.bootstrap })
  }

  /** Runs a command in the workspace (`wxs exec`): snapshot, run, commit, and what changed. */
  exec (name: string, command: string[], opts: Omit<ExecOptions, 'stream'> = {}): Promise<ExecResult> {
    return execWorkspace(this, name, command, { ...opts, stream: false })
  }

  /**
   * The daemon's watch stream (`wxs events --json` and `wxs top` read it): the
   * state, then patches, events and heartbeats, until the caller stops
   * iterating or the daemon goes away. `since` replays kept events after that id.
   */
  async * events (opts: { since?: number } = {}): AsyncGenerator<WatchReply> {
    const queue: WatchReply[] = []
    let wake: (() => void) | null = null
    let ended = false
    let stopped = false
    let failure: unknown = null
    const done = this.watch({ since: opts.since }, r => {
      queue.push(r)
      wake?.()
      return !stopped
    }).catch(err => { failure = err }).finally(() => { ended = true; wake?.() })
    try {
      while (true) {
        if (queue.length > 0) { yield queue.shift()!; continue }
        if (ended) break
        await new Promise<void>(resolve => { wake = resolve })
        wake = null
      }
      if (failure !== null) throw failure
    } finally {
      stopped = true
      void done
    }
  }
}

function mountParam (mount: string | true | undefined) {
  return mount === undefined ? undefined : mount === true ? '' : path.resolve(mount)
}
