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
