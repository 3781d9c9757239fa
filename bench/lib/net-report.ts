/** `bench net` result rows (wxs beside the raw TCP baseline) and the printed table. */
import { formatNumber, renderColumns } from './table.js'

export interface NetTarget { op: '>=' | '<=' | '>', value: number }

export type NetVerdict = 'pass' | 'fail' | '-'

export interface NetRow {
  scenario: string
  unit: string
  wxs: number | null
  baseline: number | null
  /** wxs time / baseline time (or wxs bytes / ideal bytes): 1 = as fast as a plain TCP copy. */
  ratio: number | null
  target: NetTarget | null
  verdict: NetVerdict
  note?: string
}

export const atLeast = (value: number): NetTarget => ({ op: '>=', value })
export const atMost = (value: number): NetTarget => ({ op: '<=', value })
export const above = (value: number): NetTarget => ({ op: '>', value })

export function netRow (scenario: string, unit: string, wxs: number | null, opts: { baseline?: number | null, ratio?: number | null, target?: NetTarget | null, note?: string } = {}): NetRow {
  const target = opts.target ?? null
  const verdict: NetVerdict = target === null ? '-' : wxs !== null && Number.isFinite(wxs) && meets(wxs, target) ? 'pass' : 'fail'
  return { scenario, unit, wxs, baseline: opts.baseline ?? null, ratio: opts.ratio ?? null, target, verdict, note: opts.note }
}

/** A scenario that could not produce its figures. */
export function failedRow (scenario: string, note: string): NetRow {
  return { scenario, unit: '', wxs: null, baseline: null, ratio: null, target: null, verdict: 'fail', note }
}

function meets (v: number, t: NetTarget) {
  return t.op === '>=' ? v >= t.value : t.op === '<=' ? v <= t.value : v > t.value
}

const HEADERS = ['scenario', 'unit', 'wxs', 'baseline', 'ratio', 'target', 'result', 'note']

export function renderNetTable (rows: NetRow[]): string {
  const cells = rows.map(r => [
    r.scenario,
    r.unit,
    r.wxs === null ? '' : formatNumber(r.wxs),
    r.baseline === null ? '' : formatNumber(r.baseline),
    r.ratio === null ? '' : `${formatNumber(r.ratio)}x`,
    r.target ? `${r.target.op} ${formatNumber(r.target.value)}` : '',
    r.verdict,
    r.note ?? ''
  ])
  return renderColumns(HEADERS, cells, { rightAligned: col => col >= 2 && col <= 4 })
}
