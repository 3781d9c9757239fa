/** `bench fs` results: per-scenario medians and ratios, the targets' verdicts, the printed table. */
import type { TargetName } from './fs-targets.js'
import { ANCHOR_WXS_EXT4, DOC_FLOOR_EXT4, type Scenario } from './fs-scenarios.js'
import { median, summarize, type Summary } from './stats.js'
import { formatNumber, renderColumns } from './table.js'

/** wxs must stay within this factor of the floor on every scenario. */
export const FLOOR_LIMIT = 1.3
/** ...and offline npm install within this factor of ext4. */
export const NPM_EXT4_LIMIT = 1.5

/**
 * With --audit-ab: audit, wxs with its audit trail on (the default) over wxs
 * with it off (the median of both audit-off targets' samples); auditAA, one
 * audit-off target over the other (A/A: the noise of that ratio in this run).
 */
export interface Ratios { wxsExt4: number, wxsFloor: number, floorExt4: number, wxsTmpfs: number, audit?: number, auditAA?: number }

/** The audit trail may cost at most this factor (wxs with it on over wxs with it off). */
export const AUDIT_LIMIT = 1.1

export interface ScenarioResult {
  key: string
  name: string
  unit: string
  medians: Partial<Record<TargetName, number>>
  samples: Partial<Record<TargetName, Summary>>
  /** wxs: the commit the work caused, ms (commit CLI minus a no-op commit CLI). */
  commit: Summary | null
  ratios?: Ratios
  /** What the child reported beside its value (in-process ops: µs per call kind), per target and sample. */
  details?: Partial<Record<TargetName, unknown[]>>
  error?: string
}

export function summarizeScenario (scenario: Scenario, name: string, samples: Record<TargetName, number[]>, commits: number[]): ScenarioResult {
  const medians = Object.fromEntries(Object.entries(samples).map(([t, v]) => [t, median(v)])) as Record<TargetName, number>
  return {
    key: scenario.key,
    name,
    unit: scenario.unit,
    medians,
    samples: Object.fromEntries(Object.entries(samples).map(([t, v]) => [t, summarize(v)])),
    commit: commits.length > 0 ? summarize(commits) : null,
    ratios: {
      wxsExt4: medians.wxs / medians.ext4,
      wxsFloor: medians.wxs / medians.floor,
      floorExt4: medians.floor / medians.ext4,
      wxsTmpfs: medians.wxs / medians.tmpfs,
      ...auditRatios(samples, medians)
    }
  }
}

/** On/off against both audit-off targets' samples together; and the two against each other (A/A). */
function auditRatios (samples: Record<TargetName, number[]>, medians: Record<TargetName, number>): Pick<Ratios, 'audit' | 'auditAA'> {
  const [a, b] = [samples['wxs-noaudit'], samples['wxs-noaudit2']]
  if (a === undefined) return {}
  if (b === undefined) return { audit: medians.wxs / medians['wxs-noaudit'] }
  return { audit: medians.wxs / median([...a, ...b]), auditAA: medians['wxs-noaudit2'] / medians['wxs-noaudit'] }
}

/** The audit-off median the on/off ratio is taken against. */
function offMedian (r: ScenarioResult) {
  return r.ratios?.audit === undefined ? undefined : r.medians.wxs! / r.ratios.audit
}

export interface Verdict { check: string, scenario: string, value: number | null, limit: number, pass: boolean }

/** The bench's pass/fail lines: wxs within 1.3x of the floor everywhere, offline npm <= 1.5x ext4, and the anchors. */
export function verdicts (results: ScenarioResult[], quick: boolean): Verdict[] {
  const out: Verdict[] = []
  for (const r of results) {
    const wxsFloor = r.ratios?.wxsFloor ?? null
    out.push({ check: `wxs/floor <= ${FLOOR_LIMIT}`, scenario: r.name, value: wxsFloor, limit: FLOOR_LIMIT, pass: wxsFloor !== null && wxsFloor <= FLOOR_LIMIT })
    if (r.key === 'npm') {
      const v = r.ratios?.wxsExt4 ?? null
      out.push({ check: `wxs/ext4 <= ${NPM_EXT4_LIMIT}`, scenario: r.name, value: v, limit: NPM_EXT4_LIMIT, pass: v !== null && v <= NPM_EXT4_LIMIT })
    }
    if (r.ratios?.audit !== undefined) out.push({ check: `audit on/off <= ${AUDIT_LIMIT}`, scenario: r.name, value: r.ratios.audit, limit: AUDIT_LIMIT, pass: r.ratios.audit <= AUDIT_LIMIT })
    const anchor = ANCHOR_WXS_EXT4[r.key]
    if (anchor && !quick) {
      const v = r.ratios?.wxsExt4 ?? null
      out.push({ check: `beats anchor wxs/ext4 ${anchor.ratio}x`, scenario: r.name, value: v, limit: anchor.ratio, pass: v !== null && v < anchor.ratio })
    }
  }
  return out
}

const HEADERS = ['scenario', 'unit', 'ext4', 'tmpfs', 'floor', 'wxs', 'wxs commit', 'wxs/ext4', 'wxs/floor', 'floor/ext4', 'wxs/tmpfs', `<=${FLOOR_LIMIT}x floor`, 'anchor wxs/ext4', 'beats', 'doc floor/ext4', 'no-audit', 'audit on/off', 'A/A off/off']

const x = (n: number | undefined) => n === undefined || !Number.isFinite(n) ? '' : n.toFixed(2) + 'x'
const num = (n: number | undefined) => n === undefined ? '' : formatNumber(n)

function cells (r: ScenarioResult, quick: boolean): string[] {
  if (r.error !== undefined) return [r.name, r.unit, 'FAILED']
  const ratios = r.ratios!
  const anchor = ANCHOR_WXS_EXT4[r.key]
  const doc = DOC_FLOOR_EXT4[r.key]
  return [
    r.name, r.unit,
    num(r.medians.ext4), num(r.medians.tmpfs), num(r.medians.floor), num(r.medians.wxs),
    r.commit ? formatNumber(r.commit.median) : '',
    x(ratios.wxsExt4), x(ratios.wxsFloor), x(ratios.floorExt4), x(ratios.wxsTmpfs),
    ratios.wxsFloor <= FLOOR_LIMIT ? 'pass' : 'fail',
    anchor ? x(anchor.ratio) : '',
    anchor ? (quick ? '(quick)' : ratios.wxsExt4 < anchor.ratio ? 'yes' : 'no') : '',
    doc !== undefined ? x(doc) : '',
    num(offMedian(r)),
    x(ratios.audit),
    x(ratios.auditAA)
  ]
}

export function renderResults (results: ScenarioResult[], checks: Verdict[], quick: boolean): string {
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 16, 17])
  const table = renderColumns(HEADERS, results.map(r => cells(r, quick)), { rightAligned: col => numeric.has(col) })
  const failed = checks.filter(c => !c.pass)
  const lines = [
    table,
    '',
    `Targets: ${checks.length - failed.length}/${checks.length} checks pass${quick ? ' (quick run: sizes differ from BENCH.md, anchors not judged)' : ''}`,
    ...groupChecks(checks),
    ...auditNoise(results),
    ...results.filter(r => r.error !== undefined).map(r => `FAILED ${r.name}: ${r.error!.split('\n').slice(0, 3).join(' | ').slice(0, 400)}`)
  ]
  return lines.join('\n')
}

/** How far apart the two audit-off targets came out: an on/off ratio inside that is noise. */
function auditNoise (results: ScenarioResult[]): string[] {
  const aa = results.map(r => r.ratios?.auditAA).filter((v): v is number => v !== undefined && Number.isFinite(v))
  if (aa.length === 0) return []
  const off = aa.map(v => Math.abs(Math.log(v)))
  const worst = Math.exp(Math.max(...off))
  return [`- A/A control (two audit-off daemons, nothing differs): they differ by ${((Math.exp(median(off)) - 1) * 100).toFixed(0)}% per row in the median, ${((worst - 1) * 100).toFixed(0)}% at most; audit on/off ratios within that are this run's noise`]
}

const ANCHOR_CHECK = 'beats the anchor (wxs/ext4 below the published ratio)'

function groupChecks (checks: Verdict[]): string[] {
  const label = (c: Verdict) => c.check.startsWith('beats anchor') ? ANCHOR_CHECK : c.check
  const byCheck = new Map<string, Verdict[]>()
  for (const c of checks) byCheck.set(label(c), [...(byCheck.get(label(c)) ?? []), c])
  return [...byCheck].map(([check, list]) => {
    const fails = list.filter(c => !c.pass)
    const detail = fails.map(c => `${c.scenario} ${c.value === null ? 'n/a' : c.value.toFixed(2) + 'x'}`).join('; ')
    return `- ${check}: ${list.length - fails.length}/${list.length} pass${fails.length > 0 ? ` — fail: ${detail}` : ''}`
  })
}
