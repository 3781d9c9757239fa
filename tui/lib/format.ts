import type { ProgressSnapshot, ProgressStep } from '../../core/index.js'

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
const BAR_FILLED = '█'
const BAR_EMPTY = '░'

/** Binary-prefixed size with one decimal: "0 B", "512 B", "1.5 KiB", "358.4 MiB". */
export function formatBytes (n: number): string {
  let value = Math.max(0, n)
  let unit = 0
  // Promote when rounding would print "1024.0 KiB" instead of "1.0 MiB".
  while (unit < BYTE_UNITS.length - 1 && value >= 1023.95) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${Math.round(value)} B`
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`
}

/** Transfer rate: "12.3 MiB/s". */
export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

/** Human duration: "850 ms", "12.4 s", "3m 05s", "1h 02m". Negative counts as 0. */
export function formatDuration (ms: number): string {
  const clamped = Math.max(0, ms)
  if (clamped < 999.5) return `${Math.round(clamped)} ms`
  const tenths = Math.round(clamped / 100)
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`
  const seconds = Math.round(clamped / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad2(seconds % 60)}s`
  const minutes = Math.round(clamped / 60000)
  return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`
}

/** Integer with thousands separators, locale-independent: "12,345". */
export function formatCount (n: number): string {
  const rounded = Math.round(n)
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return rounded < 0 ? `-${digits}` : digits
}

/** Whole percent of a 0..1 ratio: "42%". */
export function formatPercent (ratio: number): string {
  return `${Math.floor(clampRatio(ratio) * 100)}%`
}

/** Text bar of `width` cells, filled in proportion to a 0..1 ratio. */
export function formatBar (ratio: number, opts: { width?: number } = {}): string {
  const width = opts.width ?? 30
  const filled = Math.round(clampRatio(ratio) * width)
  return BAR_FILLED.repeat(filled) + BAR_EMPTY.repeat(width - filled)
}

/**
 * Fraction done (0..1), or null when no total is known. Bytes are preferred
 * because they track time better than file counts; a zero total means done.
 */
export function progressRatio (snapshot: ProgressSnapshot): number | null {
  const { bytes, totalBytes, files, totalFiles } = snapshot
  if (totalBytes !== null && totalBytes > 0) return clampRatio(bytes / totalBytes)
  if (totalFiles !== null && totalFiles > 0) return clampRatio(files / totalFiles)
  if (totalBytes === 0 || totalFiles === 0) return 1
  return null
}

/** Files done, with the total when known: "1,234/5,000 files", "1 file". */
export function formatFilesProgress ({ files, totalFiles, unit }: ProgressSnapshot): string {
  const noun = (totalFiles ?? files) === 1 ? (unit ?? 'file') : (unit ?? 'file') + 's'
  if (totalFiles === null) return `${formatCount(files)} ${noun}`
  return `${formatCount(files)}/${formatCount(totalFiles)} ${noun}`
}

/** Bytes done, with the total when known: "56.7 MiB/120.0 MiB". */
export function formatBytesProgress ({ bytes, totalBytes }: ProgressSnapshot): string {
  if (totalBytes === null) return formatBytes(bytes)
  return `${formatBytes(bytes)}/${formatBytes(totalBytes)}`
}

/** Totals of a finished job: "1,234 files, 56.7 MiB in 1.2 s". */
export function formatSummary (snapshot: ProgressSnapshot): string {
  // a job that moved no files or bytes (pause, resume) says how long it took, not "0 files"
  if (snapshot.files === 0 && snapshot.bytes === 0) return `in ${formatDuration(snapshot.elapsedMs)}`
  const unit = snapshot.unit ?? 'file'
  const files = `${formatCount(snapshot.files)} ${snapshot.files === 1 ? unit : unit + 's'}`
  // objects a peer was waited for (pause --wait) moved no bytes here: no "0 B"
  if (snapshot.bytes === 0 && unit !== 'file') return `${files} in ${formatDuration(snapshot.elapsedMs)}`
  return `${files}, ${formatBytes(snapshot.bytes)} in ${formatDuration(snapshot.elapsedMs)}`
}

function clampRatio (ratio: number): number {
  if (!Number.isFinite(ratio)) return 0
  return Math.min(1, Math.max(0, ratio))
}

function pad2 (n: number): string {
  return String(n).padStart(2, '0')
}

/** "3 peers", or '' when the job has no peers (local work). */
export function formatPeers ({ peers }: ProgressSnapshot): string {
  if (peers === undefined || peers === null) return ''
  return `${peers} ${peers === 1 ? 'peer' : 'peers'}`
}

/** What a finished lifecycle step says, in words: "committed #3: 1,204 files, 58.0 MiB". Unknown steps list their details. */
export function formatStep (s: ProgressStep): string {
  const d = s as Record<string, any>
  const key = (k: unknown) => typeof k === 'string' ? k.slice(0, 12) : '?'
  switch (s.step) {
    case 'quiesced': return d.dir ? `quiesced the mount at ${d.dir}` : 'not mounted: nothing to quiesce'
    case 'committed': return d.changed ? `committed #${d.commit} (the tree: ${formatCount(d.files)} files, ${formatBytes(d.bytes)})` : `nothing new to commit (head #${d.commit})`
    case 'recorded': return d.created ? `recorded the pause at commit #${d.commit} (working set ${formatCount(d.workingSet)} paths)` : `already paused at commit #${d.commit}: the same record`
    case 'sealed': return `shared as ${key(d.key)}; ` + (d.heldBy ? `peer ${key(d.heldBy)} holds everything` : `only here: ${formatCount(d.objects)} objects, ${formatBytes(d.bytes)}`)
    case 'held': return `peer ${key(d.peer)} holds everything: this machine may go offline`
    case 'replicated': return `log replicated through the pause (${formatCount(d.length)} entries)`
    case 'verified': return `handoff verified: ${formatCount(d.trees)} trees, continuing ${key(d.previous)} as ${key(d.key)}`
    case 'mounted': return `mounted writable at ${d.dir}`
    case 'working set': return `working set local: ${formatCount(d.paths ?? 0)} files, ${formatCount(d.done)}/${formatCount(d.total)} objects fetched`
    case 'complete': return `complete: ${formatCount(d.objects)} objects local`
    default: {
      const rest = Object.entries(d).filter(([k]) => k !== 'op' && k !== 'step' && k !== 'ms').map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      return [s.step, ...rest].join(' ')
    }
  }
}
