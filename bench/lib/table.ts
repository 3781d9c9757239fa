/** Result rows and a plain padded-column table printer. */

export type Verdict = 'pass' | 'fail' | '-' | 'skipped'

export interface Target { op: '>=' | '<=', value: number }

export interface Row { scenario: string, value: number | null, unit: string, target: Target | null, verdict: Verdict, note?: string }

export function row (scenario: string, value: number, unit: string, target: Target | null = null, note?: string): Row {
  const verdict: Verdict = target === null ? '-' : meets(value, target) ? 'pass' : 'fail'
  return { scenario, value, unit, target, verdict, note }
}

export function skipped (scenario: string, note: string): Row {
  return { scenario, value: null, unit: '', target: null, verdict: 'skipped', note }
}

export const atLeast = (value: number): Target => ({ op: '>=', value })
export const atMost = (value: number): Target => ({ op: '<=', value })

function meets (value: number, target: Target) {
  return target.op === '>=' ? value >= target.value : value <= target.value
}

export function formatNumber (n: number | null): string {
  if (n === null || !Number.isFinite(n)) return n === null ? '' : String(n)
  const abs = Math.abs(n)
  if (abs >= 1000) return Math.round(n).toString()
  if (abs >= 100) return n.toFixed(1)
  if (abs >= 1) return n.toFixed(2)
  return n.toFixed(3)
}

const HEADERS = ['scenario', 'value', 'unit', 'target', 'result', 'note']

function cells (r: Row): string[] {
  const target = r.target ? `${r.target.op} ${formatNumber(r.target.value)}` : ''
  return [r.scenario, formatNumber(r.value), r.unit, target, r.verdict, r.note ?? '']
}

/** Renders rows as left-aligned padded columns (numbers right-aligned). */
export function renderTable (rows: Row[]): string {
  return renderColumns(HEADERS, rows.map(cells), { rightAligned: col => col === 1 })
}

/** Renders a header and cell rows as padded columns under a rule; `rightAligned` picks numeric columns. */
export function renderColumns (headers: string[], rows: string[][], opts: { rightAligned: (col: number) => boolean }): string {
  const lines = [headers, ...rows]
  const widths = headers.map((_, col) => Math.max(...lines.map(l => (l[col] ?? '').length)))
  const render = (l: string[]) => widths.map((w, col) => opts.rightAligned(col) ? (l[col] ?? '').padStart(w) : (l[col] ?? '').padEnd(w)).join('  ').trimEnd()
  const rule = widths.map(w => '-'.repeat(w)).join('  ')
  return [render(lines[0]), rule, ...lines.slice(1).map(render)].join('\n')
}

/** A scenario that could not produce its value. */
export function failed (scenario: string, note: string): Row {
  return { scenario, value: null, unit: '', target: null, verdict: 'fail', note }
}
