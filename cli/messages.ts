/**
 * The local control protocol between the `wxs` command and the daemon:
 * newline-delimited JSON over a Unix socket (owner-only). One request per
 * connection; the daemon answers with zero or more progress and step records
 * and then exactly one result or error.
 * - progress: throttled counters of the job (at most ~10 a second);
 * - step: a lifecycle step that finished (pause: quiesced, committed, recorded,
 *   sealed, held; resume: replicated, verified, mounted, working set, complete),
 *   each once, as they happen. Added within version 1: a client that does not
 *   know `step` ignores it (clients ignore unknown types before result/error).
 */
import type { ProgressSnapshot, ProgressStep } from '../core/index.js'

export const PROTOCOL_VERSION = 1

export interface Request { v: number, method: string, params: Record<string, unknown> }

export type Reply =
  | { type: 'progress', progress: ProgressSnapshot }
  | { type: 'step', step: ProgressStep }
  | { type: 'result', result: unknown }
  | { type: 'error', error: { code: string, message: string } }
  | WatchReply

// -- watch ---------------------------------------------------------------------
//
// `{ method: 'watch', params: { since?: number } }` keeps its connection open and
// answers, never with a result (an error only for a bad request):
//   state      the whole state, once, then again after a gap; `event` is the id of
//              the last event the state already reflects
//   patch      a JSON merge patch (RFC 7386) of the state: coalesced, at most one
//              per WATCH_PATCH_MS, sent at once after a quiet spell
//   event      something that happened, ids increasing by one per daemon run
//   gap        `since` named events the daemon no longer keeps (a ring of
//              WATCH_RING events) or a daemon that restarted: the client drops its
//              view; a fresh state follows
//   heartbeat  every WATCH_HEARTBEAT_MS when nothing else was sent: a client that
//              hears nothing for 3 of them shows its view as stale
// Workspaces and peers are objects keyed by name and by peer id, so a patch
// names only what changed; a removed one is `null` in the patch.

export const WATCH_VERSION = 1
export const WATCH_PATCH_MS = 250
export const WATCH_HEARTBEAT_MS = 2000
export const WATCH_RING = 1000

export type WatchReply =
  | { type: 'state', state: WatchState, event: number }
  | { type: 'patch', patch: Record<string, unknown> }
  | { type: 'event', event: WatchEvent }
  | { type: 'gap', since: number, oldest: number }
  | { type: 'heartbeat', time: number, event: number }

/** What a workspace is doing, one word (derived by the daemon: cli/lib/watch-state.ts). */
export type WorkspaceState = 'error' | 'paused' | 'moved' | 'conflict' | 'stalled' | 'fetching' | 'on-demand' | 'complete' | 'mounted' | 'sharing' | 'idle'

export interface WatchState {
  v: number
  /** The daemon: its run (a new one after a restart: ids start again), its peer id and the network. */
  daemon: { pid: number, run: string, startedAt: number, peer: string | null, online: boolean, bootstrap: string | null, connections: number, rateDown: number, rateUp: number, received: number, sent: number }
  workspaces: Record<string, WatchWorkspace>
  peers: Record<string, WatchPeer>
  /** Reads, lookups and listings in a mount that have waited longest (on the network, mostly), at most 20. */
  blocked: WatchBlocked[]
  /** Objects in flight longest (at most 10): which, from which peer, for which workspace (none: a read), for how long. */
  transfers: Array<{ object: string, peer: string, workspace: string | null, size: number, ms: number, urgent: boolean }>
  /** The last things that went wrong, oldest first, at most 20: objects that failed verification (which peer), reads in a mount that failed (path, errno). */
  problems: WatchProblem[]
}

export interface WatchBlocked {
  workspace: string
  /** read (file content), lookup (a path's directories), list (a directory's entries). */
  op: 'read' | 'lookup' | 'list'
  path: string
  ms: number
  /** The first object the read still lacks (12 hex digits), and where it is: asked of `peer`, queued, or no connected peer has it. Null: nothing missing (the read is slow locally). */
  object: string | null
  waiting: 'inflight' | 'queued' | 'unavailable' | null
  peer: string | null
}

export interface WatchProblem {
  kind: 'verification' | 'io'
  workspace: string | null
  peer?: string
  path?: string
  errno?: string
  text: string
  time: number
}

export interface WatchWorkspace {
  name: string
  state: WorkspaceState
  /** Why, in a few words, when the state is not plain (the error, what stalls, where it moved). */
  reason: string | null
  role: 'local' | 'shared' | 'joined'
  mount: string | null
  head: { seq: number, files: number, bytes: number }
  /** The head's content here: objects and bytes present of the total, what came over the network, smoothed rate, ETA. */
  fetch: WatchFetch | null
  peers: number
}

export interface WatchFetch {
  objects: number
  totalObjects: number | null
  bytes: number
  totalBytes: number | null
  fetchedBytes: number
  /** Bytes a second, smoothed (EWMA over WATCH_PATCH_MS samples, ~5 s). */
  rate: number
  /** ms until complete at that rate, or null with etaWhy saying why not. */
  etaMs: number | null
  etaWhy: string | null
  /** The background fetch is paused by the user (`p` in wxs top): only reads in the mount fetch. */
  paused: boolean
  /** Why not done: objects still queued, in flight, that no connected peer has, that failed verification. */
  why: { queued: number, inflight: number, unavailable: number, failed: number }
}

export interface WatchPeer {
  id: string
  /** connected; connecting (found on the DHT, being dialled); retrying (its connection failed or closed); banned (by the swarm). */
  state: 'connected' | 'connecting' | 'retrying' | 'banned'
  /** out: this daemon dialled; in: the peer did; null while not connected. wxs sets no blind relay, so a connection is direct (holepunched or on the LAN). */
  direction: 'in' | 'out' | null
  /** When it connected, or when its last connection closed (epoch ms). */
  since: number | null
  /** Connection attempts since it last stayed connected (Hyperswarm's count). */
  attempts: number
  /** Workspaces that dropped it for a protocol violation (they no longer take its objects). */
  droppedBy: string[]
  address: string | null
  workspaces: string[]
  /** What it says it holds, per workspace: 'all' of the head, or how many of its objects. */
  holds: Record<string, 'all' | number>
  received: number
  sent: number
  rateDown: number
  rateUp: number
  inflight: number
}

export interface WatchEvent {
  id: number
  time: number
  /** joined, shared, mounted, unmounted, committed, paused, resumed, moved, complete, stalled, peer-connected, peer-gone, fetch-paused, fetch-resumed, error */
  kind: string
  workspace?: string
  peer?: string
  text: string
}

/** Largest request line the daemon accepts. */
export const MAX_REQUEST_BYTES = 1024 * 1024

export function encodeLine (msg: Request | Reply): string {
  return JSON.stringify(msg) + '\n'
}

// -- settings ------------------------------------------------------------------
//
// `settings.json` in the state dir: per-workspace settings of this machine
// (never shared: a peer's settings are its own), set with `wxs config`. Only
// what differs from the default is stored.
// Version 1: `{ "v": 1, "workspaces": { "<name>": { "<key>": <value> } } }`.

export const SETTINGS_VERSION = 1

export interface WorkspaceSettings {
  /** Record what programs do in the mount (mount/messages.ts: the audit trail). */
  audit: boolean
  /** Seconds between automatic snapshots (taken only when something changed); null: none. */
  'snapshot.every': number | null
  /** wxs exec snapshots before the command (--snapshot none skips it). */
  'snapshot.before-exec': boolean
  /** How many automatic snapshots to keep (the oldest go first; labels a user gave are never pruned). */
  'snapshot.keep': number
}

export const DEFAULT_SETTINGS: WorkspaceSettings = { audit: true, 'snapshot.every': null, 'snapshot.before-exec': true, 'snapshot.keep': 50 }
export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof WorkspaceSettings>

export function formatSettings (byName: Record<string, Partial<WorkspaceSettings>>): string {
  return JSON.stringify({ v: SETTINGS_VERSION, workspaces: byName }, null, 2) + '\n'
}

/** Reads settings.json; values of the wrong type are left out (the default applies), an unknown version throws. */
export function parseSettings (text: string): Record<string, Partial<WorkspaceSettings>> {
  const raw = JSON.parse(text) as { v?: unknown, workspaces?: unknown }
  if (raw === null || typeof raw !== 'object') throw new Error('settings file is not an object')
  if (raw.v !== SETTINGS_VERSION) throw new Error(`unsupported settings file version ${String(raw.v)}`)
  const out: Record<string, Partial<WorkspaceSettings>> = {}
  for (const [name, value] of Object.entries((raw.workspaces ?? {}) as Record<string, Record<string, unknown>>)) {
    if (value === null || typeof value !== 'object') continue
    const s: Partial<WorkspaceSettings> = {}
    if (typeof value.audit === 'boolean') s.audit = value.audit
    if (value['snapshot.every'] === null || (typeof value['snapshot.every'] === 'number' && value['snapshot.every'] > 0)) s['snapshot.every'] = value['snapshot.every'] as number | null
    if (typeof value['snapshot.before-exec'] === 'boolean') s['snapshot.before-exec'] = value['snapshot.before-exec']
    if (Number.isInteger(value['snapshot.keep']) && (value['snapshot.keep'] as number) >= 1) s['snapshot.keep'] = value['snapshot.keep'] as number
    out[name] = s
  }
  return out
}
