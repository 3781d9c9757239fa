import { Box, Text } from 'ink'
import type { ProgressSnapshot, ProgressStep } from '../../core/index.js'
import {
  formatBar, formatBytesProgress, formatStep, formatDuration, formatFilesProgress, formatPercent, formatPeers, formatRate, formatSummary,
  progressRatio
} from './format.js'

export interface ProgressViewProps {
  title: string
  snapshot: ProgressSnapshot | null
  /** Lifecycle steps done so far (pause, resume), oldest first: they stay on screen. */
  steps?: readonly ProgressStep[]
}

/**
 * Live view of one long job: title and phase, a bar when totals are known,
 * counts, rate, elapsed and ETA. A done snapshot collapses to one summary line,
 * which is what stays on the terminal after unmount, under the steps done.
 * Pure: props -> view.
 */
export function ProgressView ({ title, snapshot, steps = [] }: ProgressViewProps) {
  const done = steps.map((s, i) => <StepLine key={i} step={s} />)
  if (snapshot?.done) return <Box flexDirection='column'>{done}<DoneLine title={title} snapshot={snapshot} /></Box>
  const ratio = snapshot ? progressRatio(snapshot) : null
  return (
    <Box flexDirection='column'>
      {done}
      <TitleLine title={title} phase={snapshot?.phase ?? 'starting'} />
      {ratio !== null && <ProgressBar ratio={ratio} />}
      {snapshot && <CountsLine snapshot={snapshot} />}
      {snapshot && <TimingLine snapshot={snapshot} />}
      {snapshot?.why && <Text dimColor wrap='truncate-end'>why not done: {snapshot.why}</Text>}
    </Box>
  )
}

function StepLine ({ step }: { step: ProgressStep }) {
  return <Text wrap='truncate-end'><Text color='green'>✔</Text> {formatStep(step)} <Text dimColor>{formatDuration(step.ms)}</Text></Text>
}

function TitleLine ({ title, phase }: { title: string, phase: string }) {
  return <Text><Text bold>{title}</Text> — <Text color='cyan'>{phase}</Text></Text>
}

function ProgressBar ({ ratio }: { ratio: number }) {
  return <Text><Text color='green'>{formatBar(ratio)}</Text> {formatPercent(ratio)}</Text>
}

function CountsLine ({ snapshot }: { snapshot: ProgressSnapshot }) {
  return <Text>{formatFilesProgress(snapshot)} · {formatBytesProgress(snapshot)}</Text>
}

function TimingLine ({ snapshot }: { snapshot: ProgressSnapshot }) {
  const parts = [`elapsed ${formatDuration(snapshot.elapsedMs)}`]
  // A zero rate (scanning, waiting for peers) is noise, not information.
  if (snapshot.bytesPerSecond > 0) parts.unshift(formatRate(snapshot.bytesPerSecond))
  if (snapshot.etaMs !== null) parts.push(`ETA ${formatDuration(snapshot.etaMs)}`)
  if (formatPeers(snapshot)) parts.push(formatPeers(snapshot))
  return <Text dimColor>{parts.join(' · ')}</Text>
}

function DoneLine ({ title, snapshot }: { title: string, snapshot: ProgressSnapshot }) {
  return <Text><Text color='green'>✔</Text> {title} — {formatSummary(snapshot)}</Text>
}
