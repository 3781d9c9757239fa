/**
 * Daemon handlers for agents (issue 14): per-workspace settings (`wxs config`)
 * and the audit trail (`wxs audit`; wxs exec reads it for what its command
 * read and wrote).
 */
import { readAudit, type AuditRecord } from '../../mount/index.js'
import { SETTING_KEYS, type WorkspaceSettings } from '../messages.js'
import { CliError } from './errors.js'
import { settingKey, showValue } from './settings.js'
import type { HandlerContext } from './handlers.js'

type Params = Record<string, unknown>

/** The most records one audit request answers with (the newest); --limit asks for fewer. */
const MAX_AUDIT_RECORDS = 100_000

export const agentHandlers: Record<string, (p: Params, ctx: HandlerContext) => Promise<unknown>> = {
  /** Shows every setting, one, or sets one (`value`; "default" drops it). */
  async config (p, ctx) {
    const name = String(p.name ?? '')
    await ctx.engine.workspace(name) // unknown workspace: WORKSPACE_NOT_FOUND
    if (typeof p.key === 'string' && typeof p.value === 'string') await ctx.settings.set(name, p.key, p.value)
    const all = ctx.settings.of(name)
    const changed = new Set(ctx.settings.changed(name))
    const keys = typeof p.key === 'string' ? [settingKey(p.key)] : SETTING_KEYS
    return {
      name,
      settings: Object.fromEntries(keys.map(k => [k, all[k]])) as Partial<WorkspaceSettings>,
      shown: Object.fromEntries(keys.map(k => [k, showValue(k, all[k])])),
      defaults: keys.filter(k => !changed.has(k))
    }
  },

  /** Records of a workspace's audit trail, oldest first: since/until (ms), a path glob, a pid or a process group. */
  async audit (p, ctx) {
    const name = String(p.name ?? '')
    await ctx.engine.workspace(name)
    const num = (k: string) => {
      if (p[k] === undefined || p[k] === null) return undefined
      if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) throw CliError.USAGE(`audit: ${k} must be a number`, 'audit')
      return p[k] as number
    }
    await ctx.mounts.flushAudit(name)
    const limit = Math.min(num('limit') ?? MAX_AUDIT_RECORDS, MAX_AUDIT_RECORDS)
    const records: AuditRecord[] = await readAudit(ctx.mounts.auditFile(name), {
      since: num('since'), until: num('until'), pid: num('pid'), pgid: num('pgid'), limit,
      glob: typeof p.path === 'string' ? p.path : undefined
    })
    return { name, audit: ctx.settings.of(name).audit, records }
  }
}
