import test from 'brittle'
import { Writable } from 'node:stream'
import React from 'react'
import { render } from 'ink-testing-library'
import type { ProgressSnapshot, ProgressStep } from '../../core/index.js'
import {
  ProgressView, formatBytes, formatRate, formatDuration, formatCount, formatBar, formatProgressLine, formatStep,
  startInkProgress
} from '../../tui/index.js'

const MiB = 1024 * 1024

function snap (fields: Partial<ProgressSnapshot> = {}): ProgressSnapshot {
  return {
    op: 'import',
    phase: 'hashing',
    files: 1234,
    totalFiles: null,
    bytes: Math.round(56.7 * MiB),
    totalBytes: null,
    elapsedMs: 1200,
    bytesPerSecond: 45 * MiB,
    etaMs: null,
    done: false,
    ...fields
  }
}

// Colors depend on the terminal running the tests; assert on the text only.
function stripAnsi (text: string): string {
  return text.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '')
}

function frameOf (title: string, snapshot: ProgressSnapshot | null): string {
  const { lastFrame, unmount } = render(React.createElement(ProgressView, { title, snapshot }))
  const frame = stripAnsi(lastFrame() ?? '')
  unmount()
  return frame
}

test('formatBytes: binary units, one decimal above bytes', t => {
  t.is(formatBytes(0), '0 B')
  t.is(formatBytes(512), '512 B')
  t.is(formatBytes(1023), '1023 B')
  t.is(formatBytes(1024), '1.0 KiB')
  t.is(formatBytes(1536), '1.5 KiB')
  t.is(formatBytes(Math.round(358.4 * MiB)), '358.4 MiB')
  t.is(formatBytes(Math.round(1.2 * 1024 * MiB)), '1.2 GiB')
  t.is(formatBytes(1024 * 1024 - 1), '1.0 MiB', 'rounds up into the next unit, never "1024.0 KiB"')
  t.is(formatBytes(-5), '0 B')
})

test('formatRate: bytes per second', t => {
  t.is(formatRate(Math.round(12.3 * MiB)), '12.3 MiB/s')
  t.is(formatRate(0), '0 B/s')
})

test('formatDuration: ms, seconds, minutes, hours', t => {
  t.is(formatDuration(0), '0 ms')
  t.is(formatDuration(850), '850 ms')
  t.is(formatDuration(999.7), '1.0 s')
  t.is(formatDuration(12_400), '12.4 s')
  t.is(formatDuration(59_960), '1m 00s')
  t.is(formatDuration(185_000), '3m 05s')
  t.is(formatDuration(3_720_000), '1h 02m')
  t.is(formatDuration(-10), '0 ms')
})

test('formatCount: thousands separators', t => {
  t.is(formatCount(0), '0')
  t.is(formatCount(999), '999')
  t.is(formatCount(12_345), '12,345')
  t.is(formatCount(1_234_567), '1,234,567')
  t.is(formatCount(-1234), '-1,234')
})

test('formatBar: 30 cells split by ratio, clamped', t => {
  t.is(formatBar(0), '░'.repeat(30))
  t.is(formatBar(0.5), '█'.repeat(15) + '░'.repeat(15))
  t.is(formatBar(2), '█'.repeat(30))
  t.is(formatBar(0.5, { width: 4 }), '██░░')
})

test('ProgressView: title, phase and counts without totals, no bar', t => {
  const frame = frameOf('import', snap())
  t.ok(frame.includes('import — hashing'), 'title line with phase')
  t.ok(frame.includes('1,234 files · 56.7 MiB'), 'counts formatted')
  t.ok(frame.includes('45.0 MiB/s · elapsed 1.2 s'), 'rate and elapsed')
  t.absent(frame.includes('█') || frame.includes('░'), 'no bar without totals')
  t.absent(frame.includes('ETA'), 'no ETA when unknown')
})

test('ProgressView: bar, totals and ETA when totals are known', t => {
  const frame = frameOf('import', snap({
    totalFiles: 5000,
    bytes: 60 * MiB,
    totalBytes: 120 * MiB,
    etaMs: 1400
  }))
  t.ok(frame.includes('█'.repeat(15) + '░'.repeat(15) + ' 50%'), 'half-filled bar with percent')
  t.ok(frame.includes('1,234/5,000 files · 60.0 MiB/120.0 MiB'), 'counts with totals')
  t.ok(frame.includes('ETA 1.4 s'), 'ETA shown')
})

test('ProgressView: null snapshot shows the title as starting', t => {
  const frame = frameOf('sync', null)
  t.is(frame.trim(), 'sync — starting')
})

test('ProgressView: done snapshot collapses to one summary line', t => {
  const frame = frameOf('import', snap({ done: true, phase: 'done', totalFiles: 1234, totalBytes: 1 }))
  t.is(frame.trim(), '✔ import — 1,234 files, 56.7 MiB in 1.2 s')
})

test('ProgressView: the lifecycle steps done stay listed above the live lines and the done line', t => {
  const steps: ProgressStep[] = [
    { step: 'quiesced', op: 'pause', ms: 12, dir: '/w/task' },
    { step: 'committed', op: 'pause', ms: 40, commit: 3, changed: true, files: 1204, bytes: 58 * MiB }
  ]
  const live = render(React.createElement(ProgressView, { title: 'pause', snapshot: snap({ op: 'pause', phase: 'recording the pause', files: 0, bytes: 0, bytesPerSecond: 0 }), steps }))
  const lines = stripAnsi(live.lastFrame() ?? '').split('\n')
  live.unmount()
  t.is(lines[0], '✔ quiesced the mount at /w/task 12 ms')
  t.is(lines[1], '✔ committed #3 (the tree: 1,204 files, 58.0 MiB) 40 ms')
  t.is(lines[2], 'pause — recording the pause')
  const done = render(React.createElement(ProgressView, { title: 'pause', snapshot: snap({ op: 'pause', done: true, files: 0, bytes: 0 }), steps }))
  t.alike(stripAnsi(done.lastFrame() ?? '').split('\n').slice(1), ['✔ committed #3 (the tree: 1,204 files, 58.0 MiB) 40 ms', '✔ pause — in 1.2 s'], 'a job that moved nothing says how long it took, not "0 files"')
  done.unmount()
})

test('formatStep: each step in words; unknown steps list their details', t => {
  const s = (step: string, detail: Record<string, unknown>): ProgressStep => ({ step, op: 'x', ms: 1, ...detail })
  t.is(formatStep(s('quiesced', { dir: null })), 'not mounted: nothing to quiesce')
  t.is(formatStep(s('committed', { commit: 2, changed: false })), 'nothing new to commit (head #2)')
  t.is(formatStep(s('recorded', { created: true, commit: 2, workingSet: 1024 })), 'recorded the pause at commit #2 (working set 1,024 paths)')
  t.is(formatStep(s('recorded', { created: false, commit: 2 })), 'already paused at commit #2: the same record')
  t.is(formatStep(s('sealed', { key: 'ab'.repeat(32), objects: 3, bytes: 2048, heldBy: null })), 'shared as abababababab; only here: 3 objects, 2.0 KiB')
  t.is(formatStep(s('sealed', { key: 'ab'.repeat(32), heldBy: 'cd'.repeat(32) })), 'shared as abababababab; peer cdcdcdcdcdcd holds everything')
  t.is(formatStep(s('verified', { trees: 1500, previous: 'ab'.repeat(32), key: 'ef'.repeat(32) })), 'handoff verified: 1,500 trees, continuing abababababab as efefefefefef')
  t.is(formatStep(s('working set', { done: 10, total: 12, paths: 40 })), 'working set local: 40 files, 10/12 objects fetched')
  t.is(formatStep(s('later', { n: 1, what: 'x' })), 'later n=1 what=x')
})

test('formatProgressLine: one plain line with the same info', t => {
  t.is(formatProgressLine('import', snap()), 'import: hashing 1,234 files, 56.7 MiB, 45.0 MiB/s, 1.2 s')
  t.is(
    formatProgressLine('import', snap({ totalFiles: 5000, bytes: 60 * MiB, totalBytes: 120 * MiB, etaMs: 1400 })),
    'import: hashing 1,234/5,000 files, 60.0 MiB/120.0 MiB, 50%, 45.0 MiB/s, 1.2 s, ETA 1.4 s'
  )
  t.is(
    formatProgressLine('gc', snap({ phase: 'scanning', files: 1, bytes: 0, bytesPerSecond: 0, elapsedMs: 850 })),
    'gc: scanning 1 file, 0 B, 850 ms',
    'zero rate omitted, singular file'
  )
  t.is(formatProgressLine('import', snap({ done: true })), 'import: done 1,234 files, 56.7 MiB in 1.2 s')
})

test('startInkProgress: renders updates to the given stream and leaves the done line', async t => {
  let written = ''
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      written += String(chunk)
      callback()
    }
  })
  const stdout = Object.assign(stream, { columns: 80, rows: 24 }) as unknown as NodeJS.WriteStream
  const progress = startInkProgress('import', { stdout })
  progress.update(snap({ files: 3, bytes: 3 * MiB }))
  progress.update(snap({ files: 3, bytes: 3 * MiB, done: true }))
  await progress.finish()
  await progress.finish()
  progress.update(snap({ phase: 'late' }))
  const output = stripAnsi(written)
  t.ok(output.includes('✔ import — 3 files, 3.0 MiB in 1.2 s'), 'final summary written')
  t.absent(output.includes('late'), 'updates after finish are ignored')
})

test('progress: why a network job is not done, on its own line (Ink) and at the end of the plain line', t => {
  const s = snap({ op: 'sync', phase: 'fetching content', unit: 'object', why: '300 queued, 12 in flight, 0 no connected peer has' })
  t.ok(formatProgressLine('sync', s).endsWith('; not done: 300 queued, 12 in flight, 0 no connected peer has'))
  t.ok(frameOf('sync', s).includes('why not done: 300 queued, 12 in flight, 0 no connected peer has'))
})
