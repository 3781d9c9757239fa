/** Human-readable result printing (stdout). --json bypasses all of this. */
import { formatBytes, formatCount } from '../../tui/lib/format.js' // not tui/index.js: keeps Ink out of fast commands
import { isPlainName } from '../../core/lib/raw-names.js' // not core/index.js: keeps the store out of fast commands

const out = (s: string): void => { process.stdout.write(s + '\n') }
const err = (s: string) => process.stderr.write(s + '\n')

export const line = (s: string): void => { out(s) }
export const ms = (n: number) => `${n.toFixed(1)} ms`
const when = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
const short = (hex: string) => hex.slice(0, 12)

/**
 * A path for people: as it is when its bytes are UTF-8, else quoted with the
 * other bytes in octal, as git shows such names ("caf\351"). --json keeps each
 * such byte as the escape U+DC80+byte (Python's os.fsencode gives the bytes back).
 */
export function shownPath (p: string): string {
  if (isPlainName(p)) return p
  let s = ''
  for (const ch of p) {
    const u = ch.charCodeAt(0)
    s += u >= 0xdc80 && u <= 0xdcff ? '\\' + (u - 0xdc00).toString(8) : ch === '"' || ch === '\\' ? '\\' + ch : ch
  }
  return `"${s}"`
}

export function table (rows: string[][]) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  for (const r of rows) out(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
}

export function imported (verb: string, r: any): 'partial' | void {
  const s = r.commit.stats
  const what = r.changed ? `commit ${r.commit.seq} (${short(r.commit.root)})` : `no changes since commit ${r.commit.seq}`
  out(`${verb} ${r.workspace.name}: ${what}, ${formatCount(s.files)} files, ${formatBytes(s.bytes)}`)
  if (r.reused > 0) out(`  ${formatCount(r.hashed)} files read, ${formatCount(r.reused)} unchanged`)
  return problems(r.problems)
}

function problems (list: Array<{ path: string, code: string, message: string }>): 'partial' | void {
  if (!list || list.length === 0) return
  for (const p of list.slice(0, 50)) err(`warning: ${shownPath(p.path)}: ${p.code}: ${p.message}`)
  if (list.length > 50) err(`warning: … and ${list.length - 50} more`)
  err(`${list.length} path(s) could not be read and were left out`)
  return 'partial'
}

export function list (rows: any[]) {
  if (rows.length === 0) { out('no workspaces (create one: wxs create <name> --from <dir>)'); return }
  table([
    ['NAME', 'STATUS', 'FILES', 'SIZE', 'COMMITS', 'SNAPSHOTS', 'HEAD', 'ORIGIN', 'PATH'],
    ...rows.map(w => [w.name, status(w), formatCount(w.head.stats.files), formatBytes(w.head.stats.bytes), String(w.commits), String(w.snapshots), short(w.head.root), w.origin ? `${w.origin.name}@${w.origin.commit}` : '-', w.mount?.dir ?? '-'])
  ])
}

function status (w: any) {
  const parts = []
  if (w.mount) parts.push('mounted')
  if (w.network?.shared) parts.push('shared')
  if (w.remote) parts.push(w.network?.sync?.complete ? 'joined' : 'joined, syncing')
  return parts.join(',') || '-'
}

export function info (w: any) {
  out(w.name)
  out(`  Key:       ${w.key}`)
  out(`  Mount:     ${w.mount ? `${w.mount.dir} (mounted)` : 'not mounted'}`)
  if (w.remote) out(`  Joined:    follows a shared workspace${w.pin ? ` (pinned at snapshot ${w.pin})` : ''}; ${w.network?.peers ?? 0} peer(s)${w.network?.sync ? `, ${w.network.sync.complete ? 'complete' : `${w.network.sync.objects}/${w.network.sync.totalObjects ?? '?'} objects local`}` : ''}`)
  else if (w.network?.shared) out(`  Shared:    yes, ${w.network.peers} peer(s)`)
  out(`  Created:   ${when(w.created)}`)
  if (w.origin) out(`  Origin:    fork of ${w.origin.name}@${w.origin.commit} (${short(w.origin.key)})`)
  out(`  Head:      commit ${w.head.seq} (${short(w.head.root)}) ${when(w.head.time)} ${w.head.message}`)
  out(`  Files:     ${formatCount(w.head.stats.files)} (${formatBytes(w.head.stats.bytes)}), ${formatCount(w.head.stats.dirs)} dirs, ${formatCount(w.head.stats.symlinks)} symlinks`)
  out(`  History:   ${w.commits} commit(s), ${w.snapshots} snapshot(s)`)
  if (w.identity && w.identity !== w.key) out(`  Identity:  ${w.identity} (the key it was first shared as; still works)`)
  if (w.paused) out(`  Paused:    by ${w.paused.holder} ${when(w.paused.time)} at commit ${w.paused.commit} (move ${w.paused.hop}); resumes only with its link${w.paused.note ? `; note: ${w.paused.note}` : ''}`)
  if (w.paused?.recent?.length > 0) out(`  Last used: ${w.paused.recent.map((p: string) => shownPath(p.replace(/^\//, ''))).join(', ')}${w.paused.workingSet > w.paused.recent.length ? ` (and ${formatCount(w.paused.workingSet - w.paused.recent.length)} more in the working set)` : ''}`)
  if (w.network?.conflict) out(`  CONFLICT:  one pause was resumed twice, as ${w.network.conflict.map(short).join(' and ')}; nothing was picked: compare them with wxs diff ${w.name} --conflict`)
  for (const h of w.conflictHeads ?? []) out(`             ${short(h.key)}${h.here ? ' (this machine)' : ''}: commit ${h.commit} (${short(h.root)}) ${when(h.time)} ${h.message}`)
  for (const step of w.lineage ?? []) {
    const resumed = step.resumedKey ? `resumed by ${step.resumedBy} ${when(step.resumedAt)} as ${short(step.resumedKey)}` : 'not resumed yet'
    out(`  Move ${step.hop}:    ${short(step.pausedKey)} paused by ${step.pausedBy} ${when(step.pausedAt)} at commit ${step.commit}; ${resumed}`)
  }
}

export function paused (r: any) {
  out(r.link)
  const only = r.heldBy ? `peer ${short(r.heldBy)} holds everything: this machine may go offline` : r.onlyHere.objects > 0 ? `${formatCount(r.onlyHere.objects)} objects (${formatBytes(r.onlyHere.bytes)}) may exist only here: keep this machine online until a peer has them (wxs pause ${r.workspace.name} --wait)` : `a connected peer holds everything (${short(r.onlyHere.heldBy ?? '')})`
  err(`${r.created ? 'paused' : 'already paused'} ${r.workspace.name} at commit ${r.commit} (move ${r.hop}); the mount, if any, is read-only now`)
  err(only)
  err(`resume it on another machine with: wxs resume <the link above> --mount   (the link is a password: whoever has it can take the workspace over)`)
}

export function forkedPause (r: any) {
  const w = r.workspace
  out(`forked the pause of ${r.fork.from} (commit ${r.fork.commit}, paused by ${r.fork.pausedBy}) as ${w.name}: writable here, its own key ${short(w.key)}`)
  if (r.mount) out(`mounted at ${r.mount.dir}`)
  if (r.note) out(`note: ${r.note}`)
  err(`${r.fork.joined ? `${r.fork.from} is followed here (read-only, it shows whoever holds it now); ` : ''}content arrives on demand and in the background`)
}

export function resumed (r: any) {
  const w = r.workspace
  out(`resumed ${w.name} at commit ${w.head.seq} (${short(w.head.root)}), paused by ${r.pausedBy}; writable here now`)
  if (r.mount) out(`mounted at ${r.mount.dir}${r.mount.where ? ` (${r.mount.where})` : ''}`)
  if (r.note) out(`note: ${r.note}`)
  for (const m of r.meta ?? []) out(`${m.key}: ${m.value}`)
  if (r.complete) err(`${formatCount(r.trees)} trees verified; everything is local: ${formatCount(r.complete.objects)} objects (${formatBytes(r.complete.bytes)})`)
  else err(`${formatCount(r.trees)} trees verified; the working set (${formatCount(r.workingSet)} paths) arrives first, then the rest (wxs sync ${w.name} waits for all of it)`)
}

export function log (commits: any[]) {
  for (const c of commits) {
    const labels = c.snapshots.length ? `  [${c.snapshots.join(', ')}]` : ''
    out(`commit ${c.seq}  ${short(c.root)}  ${when(c.time)}  ${formatCount(c.stats.files)} files ${formatBytes(c.stats.bytes)}${labels}`)
    out(`    ${c.message}`)
  }
}

export function diff (r: any) {
  const mark = { added: 'A', removed: 'D', modified: 'M' } as Record<string, string>
  for (const c of r.changes) {
    const size = c.change === 'modified' ? `${formatBytes(c.oldSize)} -> ${formatBytes(c.newSize)}` : c.type === 'dir' ? 'dir' : formatBytes(c.newSize ?? c.oldSize ?? 0)
    out(`${mark[c.change]} ${shownPath(c.path)}${c.type === 'dir' ? '/' : ''}  (${size})`)
  }
  if (r.conflict) err(`${r.changes.length} change(s) from ${r.conflict.from.here ? 'this machine\'s head' : 'head'} ${short(r.conflict.from.key)}@${r.from} to the other head ${short(r.conflict.to.key)}@${r.to}`)
  else err(`${r.changes.length} change(s) from commit ${r.from} to commit ${r.to}`)
}

export function exported (r: any): 'partial' | void {
  out(`exported commit ${r.commit}: ${formatCount(r.files)} files, ${formatCount(r.dirs)} dirs, ${formatCount(r.symlinks)} symlinks, ${formatBytes(r.bytes)}`)
  return problems(r.problems)
}

export function gc (r: any) {
  out(`removed ${formatCount(r.removedObjects)} objects (${formatBytes(r.removedBytes)}), reclaimed ${formatBytes(Math.max(0, r.reclaimedBytes))} on disk; ${formatCount(r.liveObjects)} objects live`)
}

export function fsck (r: any): 'failed' | void {
  out(`checked ${formatCount(r.objects)} objects: ${r.corrupt.length} corrupt, ${r.problems.length} broken reference(s)`)
  for (const p of r.problems) out(`${p.problem} ${p.workspace}@${p.commit}:${shownPath(p.path)} (object ${short(p.object)})`)
  for (const h of r.corrupt) if (!r.problems.some((p: any) => p.object === h)) out(`corrupt unreferenced object ${h}`)
  return r.ok ? undefined : 'failed'
}

export function stats (r: any) {
  out(`workspaces:    ${r.workspaces}`)
  out(`logical bytes: ${formatBytes(r.logicalBytes)}`)
  out(`stored bytes:  ${formatBytes(r.storedBytes)}`)
  out(`on disk:       ${formatBytes(r.diskBytes)}`)
  out(`objects:       ${formatCount(r.objects)} in ${r.packs} pack(s)`)
  out(`dedupe ratio:  ${r.dedupeRatio.toFixed(2)}x`)
}

export function synced (r: any) {
  if (r.local) { out(`${r.name} is local: nothing to fetch`); return }
  out(`${r.name} is complete at commit ${r.seq}: ${formatCount(r.objects)} objects, ${formatBytes(r.bytes)}; fetched ${formatCount(r.fetchedObjects)} (${formatBytes(r.fetchedBytes)}${r.receivedBytes < r.fetchedBytes ? `, ${formatBytes(r.receivedBytes)} over the network` : ''}) from ${r.peers} peer(s)`)
}

export function peers (r: any) {
  const net = r.network
  if (!net.online) { out('not on the network (nothing shared or joined)'); return }
  out(`this peer ${short(net.peer ?? '')}, bootstrap ${net.bootstrap}, ${net.connections} connection(s); ${net.sessions.map((s: any) => `${s.name} (${s.role === 'join' ? 'joined' : 'shared'}, ${s.peers} peer(s))`).join(', ') || 'no workspaces'}`)
  if (r.peers.length === 0) return
  const holds = (h: any) => h === null ? '?' : h.complete ? `all (log ${h.length})` : `${formatCount(h.objects)} objects (log ${h.length})`
  table([
    ['WORKSPACE', 'PEER', 'ADDRESS', 'HOLDS', 'RECEIVED', 'SENT', 'IN FLIGHT'],
    ...r.peers.map((p: any) => [p.workspace, short(p.peer), p.address || '-', holds(p.holds), formatBytes(p.received.bytes), formatBytes(p.sent.bytes), String(p.inflight)])
  ])
}

export function daemonStatus (r: any) {
  if (!r.running) { out(`not running (${r.home})`); return }
  out(`running, pid ${r.pid}`)
  out(`  socket:  ${r.socket}`)
  out(`  uptime:  ${Math.round(r.uptimeMs / 1000)} s`)
  if (r.network?.peer) out(`  peer:    ${r.network.peer}`)
  out(`  mounts:  ${r.mounts.length === 0 ? 'none' : r.mounts.map((m: any) => `${m.name} at ${m.dir}`).join(', ')}`)
}

/** Audit records, oldest first: time, process, operation, path. */
export function audit (r: { name: string, audit: boolean, records: Array<{ t: number, op: string, pid: number, cmd: string, path: string, to?: string, bytes?: number }> }) {
  for (const x of r.records) {
    const what = x.op === 'rename' || x.op === 'link' ? `${shownPath(x.path)} -> ${shownPath(x.to ?? '')}` : x.op === 'write' ? `${shownPath(x.path)} (${formatBytes(x.bytes ?? 0)})` : shownPath(x.path)
    out(`${new Date(x.t).toISOString().replace('T', ' ').replace('Z', '')}  ${`${x.cmd}(${x.pid})`.padEnd(22)} ${x.op.padEnd(11)} ${what}`)
  }
  if (!r.audit) err(`the audit trail of ${r.name} is off (wxs config ${r.name} audit on)`)
  else if (r.records.length === 0) err('no records')
}
