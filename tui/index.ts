export {
  formatBytes, formatRate, formatDuration, formatCount, formatPercent, formatBar, progressRatio,
  formatFilesProgress, formatBytesProgress, formatSummary, formatStep
} from './lib/format.js'
export { ProgressView, type ProgressViewProps } from './lib/progress-view.js'
export { formatProgressLine } from './lib/plain.js'
export { startInkProgress, type InkProgress } from './lib/ink-progress.js'
export { initialView, reduce, isStale, VIEW_EVENTS, type WatchView } from './lib/watch-model.js'
export { snapshotLines, headerLine, workspaceRow, formatFetch, formatEta, formatWhy, formatLink, formatWaiting, connectedPeers, clean, fit, table } from './lib/top-text.js'
export { runDashboard, TopView, screenLines, onKey, initialUi, visibleWorkspaces, MIN_COLUMNS, MIN_ROWS, type UiState, type TopViewProps, type DashboardDeps } from './lib/dashboard.js'
