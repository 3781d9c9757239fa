import type { ProgressSnapshot } from '../../core/index.js'
import {
  formatBytesProgress, formatDuration, formatFilesProgress, formatPercent, formatPeers, formatRate, formatSummary, progressRatio
} from './format.js'

/**
 * One plain-text line for non-TTY stderr, e.g.
 * "import: hashing 1,234 files, 56.7 MiB, 45.0 MiB/s, 1.2 s".
 * Totals, percent, rate and ETA appear only when known (rate when non-zero);
 * a done snapshot gives "import: done 1,234 files, 56.7 MiB in 1.2 s".
 */
export function formatProgressLine (title: string, snapshot: ProgressSnapshot): string {
  if (snapshot.done) return `${title}: done ${formatSummary(snapshot)}`
  const parts = [formatFilesProgress(snapshot), formatBytesProgress(snapshot)]
  const ratio = progressRatio(snapshot)
  if (ratio !== null) parts.push(formatPercent(ratio))
  if (snapshot.bytesPerSecond > 0) parts.push(formatRate(snapshot.bytesPerSecond))
  parts.push(formatDuration(snapshot.elapsedMs))
  if (snapshot.etaMs !== null) parts.push(`ETA ${formatDuration(snapshot.etaMs)}`)
  if (formatPeers(snapshot)) parts.push(formatPeers(snapshot))
  return `${title}: ${snapshot.phase} ${parts.join(', ')}${snapshot.why ? `; not done: ${snapshot.why}` : ''}`
}
