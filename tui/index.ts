export {
  formatBytes, formatRate, formatDuration, formatCount, formatPercent, formatBar, progressRatio,
  formatFilesProgress, formatBytesProgress, formatSummary, formatStep
} from './lib/format.js'
export { ProgressView, type ProgressViewProps } from './lib/progress-view.js'
export { formatProgressLine } from './lib/plain.js'
export { startInkProgress, type InkProgress } from './lib/ink-progress.js'
