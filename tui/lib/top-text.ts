/**
 * The dashboard's content as plain lines: `wxs top --once` prints them, the Ink
 * view lays the same pieces out in panes. Pure: a state (and a width) in, lines
 * out; never wider than `width`, control characters in names and paths shown
 * as '?'. Values the daemon sends as null arrive absent after a merge patch
 * (cli/messages.ts): every check here treats the two alike (== null).
 */
import type { WatchBlocked, WatchFetch, WatchPeer, WatchState, WatchWorkspace } from '../../cli/messages.js'
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js'

/** Replaces control characters (a file name may hold any byte but NUL and '/') so they cannot move the cursor. */
export function clean (s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?') // eslint-disable-line no-control-regex
}

/** Cuts a line to `width` columns (one column a code point), marking the cut with '…'. */
export function fit (s: string, width: number): string {
  const chars = [...s]
  if (chars.length <= width) return s
  return width <= 1 ? chars.slice(0, width).join('') : chars.slice(0, width - 1).join('') + '…'
}

/** "1,204/5,000 objects 24%" or "complete" or "-". 100% only when every object is here. */
export function formatFetch (f: WatchFetch | null): string {
  if (f == null) return '-'
  if (f.totalObjects != null && f.objects >= f.totalObjects) return `complete, ${formatBytes(f.totalBytes ?? f.bytes)}`
  const total = f.totalObjects == null ? '?' : formatCount(f.totalObjects)
  const pct = f.totalObjects ? ` ${Math.floor(f.objects / f.totalObjects * 100)}%` : ''
  return `${formatCount(f.objects)}/${total} objects${pct}`
}

export function formatEta (f: WatchFetch | null): string {
  if (f == null) return '-'
  if (f.etaMs != null) return f.etaMs === 0 ? '-' : formatDuration(f.etaMs)
  return `unknown: ${f.etaWhy ?? '?'}`
}

/** "3,000 queued, 512 in flight, 2 no peer has, 0 failed verification" for a fetch not done. */
export function formatWhy (f: WatchFetch | null): string | null {
  if (f == null || (f.totalObjects != null && f.objects >= f.totalObjects)) return null
  const w = f.why
  return `why not done: ${formatCount(w.queued)} queued, ${formatCount(w.inflight)} in flight, ${formatCount(w.unavailable)} no connected peer has, ${formatCount(w.failed)} failed verification${f.paused ? '; background fetch paused (reads still fetch)' : ''}`
}

/** What a blocked read waits on: ", on 3fa2b1c0d9e8 from a1b2c3d4e5f6", "(queued)", "(no connected peer has it)". */
export function formatWaiting (b: WatchBlocked): string {
  if (b.object == null) return ''
  if (b.waiting === 'inflight') return `, on ${b.object} from ${(b.peer ?? '?').slice(0, 12)}`
  if (b.waiting === 'unavailable') return `, on ${b.object}: no connected peer has it`
  if (b.waiting === 'queued') return `, on ${b.object} (queued)`
  return `, on ${b.object}`
}

/** Uptime in whole minutes ("<1m", "5m", "2h 03m"): the header changes once a minute, not on every frame. */
export function formatUptime (ms: number): string {
  const m = Math.floor(ms / 60_000)
  if (m < 1) return '<1m'
  if (m < 60) return `${m}m`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

/** A peer's link in a few characters: "out 5m", "in <1m", "retrying ×3 (2m)", "connecting", "banned"; "dropped" when a workspace dropped it. */
export function formatLink (p: WatchPeer, now: number): string {
  const age = p.since == null ? '' : formatUptime(now - p.since)
  const state = p.state ?? 'connected'
  let out = state === 'connected' ? `${p.direction ?? '?'}${age ? ` ${age}` : ''}` : state === 'retrying' ? `retrying ×${p.attempts ?? 0}${age ? ` (${age})` : ''}` : state
  if ((p.droppedBy ?? []).length > 0) out += ' dropped'
  return out
}

/** The peers connected now (the list also holds peers being dialled or retried). */
export function connectedPeers (s: WatchState): WatchPeer[] {
  return Object.values(s.peers).filter(p => (p.state ?? 'connected') === 'connected')
}

/** Peers, connected first, then by id. */
export function sortedPeers (s: WatchState): WatchPeer[] {
  const rank = (p: WatchPeer) => ['connected', 'connecting', 'retrying', 'banned'].indexOf(p.state ?? 'connected')
  return Object.values(s.peers).sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : 1))
}

export function headerLine (s: WatchState, now: number): string {
  const d = s.daemon
  const net = d.online ? `${connectedPeers(s).length} peer(s) · down ${formatRate(d.rateDown)} · up ${formatRate(d.rateUp)}` : 'offline (nothing shared or joined)'
  return `wxs · daemon ${d.pid} up ${formatUptime(now - d.startedAt)}${d.peer ? ` · peer ${d.peer.slice(0, 12)}` : ''} · ${net}`
}

export function workspaceRow (w: WatchWorkspace): string[] {
  return [clean(w.name), w.state, formatFetch(w.fetch ?? null), w.fetch ? formatRate(w.fetch.rate) : '-', formatEta(w.fetch ?? null), String(w.peers), clean(w.mount ?? '-')]
}

/** Columns padded to their widest cell. */
export function table (rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => [...(r[i] ?? '')].length)))
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c + ' '.repeat(widths[i] - [...c].length)).join('  ').trimEnd())
}

/** The whole snapshot, as `wxs top --once` prints it. */
export function snapshotLines (s: WatchState, opts: { width: number, now?: number }): string[] {
  const now = opts.now ?? Date.now()
  const out: string[] = [headerLine(s, now), '']
  const ws = Object.values(s.workspaces).sort((a, b) => a.name.localeCompare(b.name))
  if (ws.length === 0) out.push('no workspaces')
  else {
    out.push(...table([['WORKSPACE', 'STATE', 'PROGRESS', 'RATE', 'ETA', 'PEERS', 'MOUNT'], ...ws.map(workspaceRow)]))
    for (const w of ws) {
      if (w.reason) out.push(`  ${clean(w.name)}: ${w.state}: ${w.reason}`)
      const why = formatWhy(w.fetch ?? null)
      if (why) out.push(`  ${clean(w.name)}: ${why}`)
    }
  }
  const peers = sortedPeers(s)
  out.push('')
  if (peers.length === 0) out.push('no peers connected')
  else out.push(...table([['PEER', 'LINK', 'ADDRESS', 'WORKSPACES', 'DOWN', 'UP', 'IN FLIGHT'], ...peers.map(p => [p.id.slice(0, 12), formatLink(p, now), p.address ?? '-', clean(p.workspaces.join(',')), formatRate(p.rateDown), formatRate(p.rateUp), String(p.inflight)])]))
  if ((s.transfers ?? []).length > 0) {
    out.push('', 'IN FLIGHT (longest first)')
    for (const x of s.transfers) out.push(`  ${x.urgent ? 'read ' : ''}${x.object} ${formatBytes(x.size)} from ${x.peer.slice(0, 12)}${x.workspace ? ` for ${clean(x.workspace)}` : ''}, ${formatDuration(x.ms)}`)
  }
  if ((s.problems ?? []).length > 0) {
    out.push('', 'PROBLEMS (the last ones)')
    for (const p of s.problems) out.push(`  ${new Date(p.time).toISOString().slice(11, 19)} ${p.workspace ? `${clean(p.workspace)}: ` : ''}${clean(p.text)}`)
  }
  if ((s.blocked ?? []).length > 0) {
    out.push('', 'READS WAITING')
    for (const b of s.blocked) out.push(`  ${b.op ?? 'read'} ${clean(b.workspace)}: ${clean(b.path)} for ${formatDuration(b.ms)}${formatWaiting(b)}`)
  }
  return out.map(l => fit(l, opts.width))
}
