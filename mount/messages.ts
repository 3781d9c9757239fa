/**
 * What mount/ writes to disk: `mounts.json` in the state dir, the mounts a
 * daemon has up (a clean stop empties it; after a crash the next daemon mounts
 * them again, at the same places, with the same access).
 *
 * - version 1 (before mount access existed): `{ "<name>": "<dir>" }`, read as
 *   access "owner";
 * - version 2: `{ "v": 2, "mounts": { "<name>": { "dir": "<dir>", "access": "owner" | "all" } } }`.
 */

/**
 * Who may use a mount. owner: only the daemon's user (the kernel lets no one
 * else in; no permission checks needed); all: every user, each checked by the
 * kernel against the owners and modes the mount reports, as on a local disk
 * (allow_other + default_permissions: measured, metadata calls ~1.6x slower).
 */
export type MountAccess = 'owner' | 'all'
export const MOUNT_ACCESS: readonly MountAccess[] = ['owner', 'all']
export const DEFAULT_ACCESS: MountAccess = 'owner'

export interface MountRecord { dir: string, access: MountAccess }

export const MOUNTS_VERSION = 2

export function formatMounts (mounts: Record<string, MountRecord>): string {
  return JSON.stringify({ v: MOUNTS_VERSION, mounts }, null, 2) + '\n'
}

/** Reads either version; what is malformed is left out (the file only says what to mount again). */
export function parseMounts (text: string): Record<string, MountRecord> {
  const raw = JSON.parse(text) as unknown
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('mounts file is not an object')
  const obj = raw as Record<string, unknown>
  const out: Record<string, MountRecord> = {}
  if (obj.v === undefined) {
    for (const [name, dir] of Object.entries(obj)) if (typeof dir === 'string') out[name] = { dir, access: DEFAULT_ACCESS }
    return out
  }
  if (obj.v !== MOUNTS_VERSION) throw new Error(`unsupported mounts file version ${String(obj.v)}`)
  for (const [name, r] of Object.entries((obj.mounts ?? {}) as Record<string, unknown>)) {
    const rec = r as Partial<MountRecord> | null
    if (rec === null || typeof rec.dir !== 'string') continue
    out[name] = { dir: rec.dir, access: MOUNT_ACCESS.includes(rec.access as MountAccess) ? rec.access as MountAccess : DEFAULT_ACCESS }
  }
  return out
}

/**
 * The audit trail: `audit/<name>.ndjson` in the state dir, what programs did
 * in a workspace's mount, one JSON object a line, appended, never shared with
 * peers. When the file passes half the bound it becomes `<name>.ndjson.1`
 * (replacing the one before), so the two stay within the bound. A last line
 * cut short by a crash is skipped when read.
 *
 * Version 1: `{ "v": 1, "t": <ms since the epoch>, "op": <AuditOp>, "pid": <n>,
 * "cmd": "<the process's comm>", "pgid": <its process group>, "uid": <n>,
 * "path": "<relative to the root>", "to"?: "<second path: rename, link>",
 * "bytes"?: <written through one open, for "write"> }`. Paths keep bytes that
 * are not UTF-8 as U+DC80+byte (core/lib/raw-names.ts).
 */
export const AUDIT_VERSION = 1

/** "read" and "write" are opens (a write record comes at the close, with the bytes written through it). */
export type AuditOp = 'read' | 'write' | 'create' | 'unlink' | 'rename' | 'mkdir' | 'rmdir' | 'chmod' | 'chown' | 'truncate' | 'link' | 'symlink' | 'mknod' | 'setxattr' | 'removexattr'
export const AUDIT_OPS: readonly AuditOp[] = ['read', 'write', 'create', 'unlink', 'rename', 'mkdir', 'rmdir', 'chmod', 'chown', 'truncate', 'link', 'symlink', 'mknod', 'setxattr', 'removexattr']

export interface AuditRecord {
  t: number
  op: AuditOp
  pid: number
  cmd: string
  pgid: number
  uid: number
  path: string
  to?: string
  bytes?: number
}

/** One line, fields in the order above (built by hand: it runs on every operation of a mount). */
export function formatAuditRecord (r: AuditRecord): string {
  let line = `{"v":${AUDIT_VERSION},"t":${r.t},"op":"${r.op}","pid":${r.pid},"cmd":${JSON.stringify(r.cmd)},"pgid":${r.pgid},"uid":${r.uid},"path":${JSON.stringify(r.path)}`
  if (r.to !== undefined) line += `,"to":${JSON.stringify(r.to)}`
  if (r.bytes !== undefined) line += `,"bytes":${r.bytes}`
  return line + '}\n'
}

/** One line of an audit file, or null when it is not a whole record of a known version. */
export function parseAuditRecord (line: string): AuditRecord | null {
  let raw: any
  try { raw = JSON.parse(line) } catch { return null }
  if (raw === null || typeof raw !== 'object' || raw.v !== AUDIT_VERSION) return null
  if (typeof raw.t !== 'number' || !AUDIT_OPS.includes(raw.op) || typeof raw.pid !== 'number' || typeof raw.path !== 'string') return null
  const r: AuditRecord = { t: raw.t, op: raw.op, pid: raw.pid, cmd: String(raw.cmd ?? ''), pgid: Number(raw.pgid ?? 0), uid: Number(raw.uid ?? 0), path: raw.path }
  if (typeof raw.to === 'string') r.to = raw.to
  if (typeof raw.bytes === 'number') r.bytes = raw.bytes
  return r
}
