/**
 * `wxs top`: the dashboard. TopView is pure (a view of the watch stream, the
 * terminal's size and the UI state in, lines out): every line is cut to the
 * width and the whole never taller than the height minus one (Ink 6 clears the
 * screen on every frame once output reaches the terminal's height). The runner
 * owns the rest: the alternate screen (restored on exit, Ctrl-C and crash), the
 * watch connection (retried when the daemon goes away), keys, resize, and a
 * redraw at most every `interval` ms, only when something changed.
 */
import React, { useEffect, useRef, useState } from 'react'
import { Box, Text, render, useApp, useInput } from 'ink'
import type { WatchReply, WatchWorkspace } from '../../cli/messages.js'
import { initialView, isStale, reduce, type WatchView } from './watch-model.js'
import { clean, connectedPeers, fit, formatLink, formatWaiting, formatWhy, headerLine, sortedPeers, table, workspaceRow } from './top-text.js'
import { formatBytes, formatDuration, formatRate } from './format.js'

export const MIN_COLUMNS = 50
export const MIN_ROWS = 10
const PANES = ['Workspaces', 'Why not done', 'Peers', 'Reads waiting and transfers', 'Events'] as const

export interface UiState {
  focus: number
  selected: number
  filter: string
  /** Typing a filter (after '/'). */
  editing: boolean
  frozen: boolean
  help: boolean
  intervalMs: number
  /** Last message from an action (p), shown in the footer. */
  notice: string | null
  /** Enter: the focused pane takes the screen, with its whole list (Esc goes back). */
  detail: boolean
}

export function initialUi (): UiState {
  return { focus: 0, selected: 0, filter: '', editing: false, frozen: false, help: false, intervalMs: 1000, notice: null, detail: false }
}

interface Line { text: string, bold?: boolean, dim?: boolean, inverse?: boolean, color?: string }

/** The workspaces shown (filtered), in name order. */
export function visibleWorkspaces (view: WatchView, ui: UiState): WatchWorkspace[] {
  const all = Object.values(view.state?.workspaces ?? {}).sort((a, b) => a.name.localeCompare(b.name))
  return ui.filter === '' ? all : all.filter(w => w.name.includes(ui.filter))
}

/** Every line of the screen for this size (pure; what TopView renders). */
export function screenLines (view: WatchView, ui: UiState, size: { columns: number, rows: number }, opts: { now: number, connected: boolean }): Line[] {
  const { columns, rows } = size
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    const long = `wxs top: need ${MIN_COLUMNS}x${MIN_ROWS} (have ${columns}x${rows})`
    return [{ text: fit(long.length <= columns ? long : `need ${MIN_COLUMNS}x${MIN_ROWS}, have ${columns}x${rows}`, columns) }]
  }
  const height = rows - 1
  const s = view.state
  const dim = !opts.connected || isStale(view, opts.now)
  const out: Line[] = []
  const push = (l: Line) => out.push({ ...l, text: fit(l.text, columns), dim: l.dim || dim })
  if (s === null) {
    push({ text: opts.connected ? 'wxs top: waiting for the daemon\'s state…' : 'wxs top: disconnected, retrying…' })
    return out
  }
  const status = !opts.connected ? '  [disconnected, retrying]' : isStale(view, opts.now) ? '  [no word from the daemon: stale]' : ui.frozen ? '  [frozen: f to go on]' : ''
  push({ text: headerLine(s, opts.now) + status, bold: true })
  if (ui.help) {
    for (const l of HELP) if (out.length < height) push({ text: l })
    return out
  }
  const ws = visibleWorkspaces(view, ui)
  const sel = ws[Math.min(ui.selected, ws.length - 1)] ?? null
  const peers = sortedPeers(s)
  const why = sel ? formatWhy(sel.fetch ?? null) : null
  const mine = (s.problems ?? []).filter(p => sel !== null && p.workspace === sel.name)
  const shownProblems = ui.detail && ui.focus === 1 ? mine : mine.slice(-3)
  const problems = [...shownProblems.map(p => clean(p.text)), ...(mine.length > shownProblems.length ? [`+${mine.length - shownProblems.length} more (Enter)`] : [])]
  const whyLines = [...(sel === null ? ['no workspace selected'] : why ? whySplit(why, sel) : [`${clean(sel.name)}: ${sel.state}${sel.reason ? ` (${sel.reason})` : ''}: nothing left to fetch`]), ...problems]
  const blocked = s.blocked ?? []
  const transfers = s.transfers ?? []
  const events = view.events
  // rows for each pane's content: titles and the footer always show; the rest is shared out
  let left = height - out.length - PANES.length - 1
  const want = [ws.length + 1, whyLines.length, peers.length === 0 ? 1 : peers.length + 1, Math.max(1, blocked.length + transfers.length), Math.max(1, events.length)]
  // Enter: the focused pane gets every row; the others keep their titles
  const minimum = ui.detail ? [0, 0, 0, 0, 0] : [Math.min(want[0], 2), 1, 1, 1, 1]
  const give = minimum.map(m => { const g = Math.min(m, Math.max(0, left)); left -= g; return g })
  for (const i of ui.detail ? [ui.focus] : [0, 1, 2, 3, 4]) {
    const more = Math.min(want[i] - give[i], Math.max(0, left), i === 4 || ui.detail ? Infinity : Math.ceil(height / 3))
    if (more > 0) { give[i] += more; left -= more }
  }
  const title = (i: number, extra = '') => push({ text: `${ui.focus === i ? '▸' : ' '}${i + 1} ${PANES[i]}${extra}`, bold: ui.focus === i, color: ui.focus === i ? 'cyan' : undefined })
  // 1 workspaces
  title(0, ui.filter || ui.editing ? `  filter: ${ui.filter}${ui.editing ? '▏' : ''}` : `  (${ws.length})`)
  if (give[0] > 0) {
    const rowsText = table([['WORKSPACE', 'STATE', 'PROGRESS', 'RATE', 'ETA', 'PEERS', 'MOUNT'], ...ws.map(workspaceRow)])
    const body = rowsText.slice(1)
    const cap = give[0] - 1
    const start = Math.max(0, Math.min(ui.selected - cap + 1, body.length - cap))
    push({ text: ' ' + rowsText[0], dim: true })
    body.slice(start, start + cap).forEach((t, i) => push({ text: ' ' + t, inverse: ws[start + i] === sel && ui.focus === 0, color: colorOf(ws[start + i]) }))
    if (cap <= 0 && ws.length > 0) out.pop()
  }
  // 2 why not done (selected workspace)
  title(1, sel ? `: ${clean(sel.name)}` : '')
  whyLines.slice(0, give[1]).forEach(t => push({ text: '   ' + t }))
  // 3 peers
  title(2, `  (${connectedPeers(s).length} connected${peers.length > connectedPeers(s).length ? `, ${peers.length - connectedPeers(s).length} not` : ''})`)
  if (give[2] > 0) {
    if (peers.length === 0) push({ text: '   no peer connected', dim: true })
    else {
      const holds = (p: typeof peers[number]) => sel && p.holds?.[sel.name] !== undefined ? (p.holds[sel.name] === 'all' ? 'all' : `${p.holds[sel.name]} obj`) : '-'
      const t = table([['PEER', 'LINK', 'ADDRESS', 'WORKSPACES', sel ? `HOLDS (${clean(sel.name)})` : 'HOLDS', 'DOWN', 'UP', 'IN FLIGHT'], ...peers.map(p => [p.id.slice(0, 12), formatLink(p, opts.now), p.address ?? '-', clean(p.workspaces.join(',')), holds(p), formatRate(p.rateDown), formatRate(p.rateUp), String(p.inflight)])])
      t.slice(0, give[2]).forEach((l, i) => push({ text: '   ' + l, dim: i === 0 }))
    }
  }
  // 4 reads waiting on the network ("why is my editor hanging")
  title(3, `  (${blocked.length} read(s) waiting, ${transfers.length === 10 ? '10+' : transfers.length} in flight)`)
  if (give[3] > 0) {
    const rowsOf = [
      ...blocked.map(b => ({ text: `   ${b.op ?? 'read'} ${clean(b.workspace)}: ${clean(b.path)} for ${formatDuration(b.ms)}${formatWaiting(b)}`, color: b.ms > 2000 ? 'yellow' : undefined })),
      ...transfers.map(x => ({ text: `   ${x.urgent ? 'read ' : ''}${x.object} ${formatBytes(x.size)} from ${x.peer.slice(0, 12)}${x.workspace ? ` for ${clean(x.workspace)}` : ''}, ${formatDuration(x.ms)}`, color: x.ms > 5000 ? 'yellow' : undefined }))
    ]
    if (rowsOf.length === 0) push({ text: '   none', dim: true })
    else rowsOf.slice(0, give[3]).forEach(l => push(l))
  }
  // 5 events, newest last
  title(4, view.gaps > 0 ? `  (${view.gaps} gap(s): some events were lost)` : '')
  if (give[4] > 0) {
    if (events.length === 0) push({ text: '   none yet', dim: true })
    else events.slice(-give[4]).forEach(e => push({ text: `   ${new Date(e.time).toISOString().slice(11, 19)} ${clean(e.text)}` }))
  }
  while (out.length < height - 1) push({ text: '' })
  push({ text: ui.notice ?? `q quit  ? help  Tab/1-5 pane  j/k select  / filter  p pause fetch  f freeze  +/- redraw ${(ui.intervalMs / 1000).toFixed(1)} s`, dim: ui.notice === null })
  return out.slice(0, height)
}

function whySplit (why: string, w: WatchWorkspace): string[] {
  const f = w.fetch!
  const lines = [why.replace(/^why not done: /, '')]
  if (f.etaMs == null && f.etaWhy) lines.push(`ETA unknown: ${f.etaWhy}`)
  if (w.reason) lines.push(`${w.state}: ${w.reason}`)
  return lines
}

function colorOf (w: WatchWorkspace | undefined): string | undefined {
  if (!w) return undefined
  if (w.state === 'error' || w.state === 'conflict') return 'red'
  if (w.state === 'stalled') return 'yellow'
  if (w.state === 'fetching') return 'cyan'
  return undefined
}

const HELP = [
  '',
  'Keys',
  '  q, Ctrl-C      quit (the terminal is restored)',
  '  ?, Esc         this help / back',
  '  Tab, Shift-Tab next / previous pane; 1-5 a pane',
  '  j, k, arrows   select a workspace',
  '  Enter, Esc      the focused pane, whole (every problem, transfer, event) / back',
  '  /              filter workspaces by name (Enter keeps it, Esc clears it)',
  '  p              pause / resume the selected workspace\'s background fetch (a daemon action)',
  '  f              freeze the display (the daemon goes on)',
  '  +, -           redraw less / more often',
  '',
  'Nothing here changes a workspace\'s content.'
]

export interface TopViewProps { view: WatchView, ui: UiState, size: { columns: number, rows: number }, now: number, connected: boolean, color?: boolean }

export function TopView ({ view, ui, size, now, connected, color = true }: TopViewProps) {
  const lines = screenLines(view, ui, size, { now, connected })
  return (
    <Box flexDirection='column'>
      {lines.map((l, i) => <Text key={i} wrap='truncate' bold={l.bold} dimColor={l.dim} inverse={l.inverse} color={color ? l.color : undefined}>{l.text === '' ? ' ' : l.text}</Text>)}
    </Box>
  )
}

/** Applies a key to the UI state; returns the new state and an action for the runner, if any. */
export function onKey (ui: UiState, input: string, key: { tab?: boolean, shift?: boolean, upArrow?: boolean, downArrow?: boolean, escape?: boolean, return?: boolean, backspace?: boolean, delete?: boolean, ctrl?: boolean }, count: number): { ui: UiState, action?: 'quit' | 'toggle-fetch' } {
  if (ui.editing) {
    if (key.escape) return { ui: { ...ui, editing: false, filter: '', selected: 0 } }
    if (key.return) return { ui: { ...ui, editing: false } }
    if (key.backspace || key.delete) return { ui: { ...ui, filter: ui.filter.slice(0, -1), selected: 0 } }
    if (input && !key.ctrl && !/[\u0000-\u001f]/.test(input)) return { ui: { ...ui, filter: ui.filter + input, selected: 0 } } // eslint-disable-line no-control-regex
    return { ui }
  }
  if (input === 'q' || (key.ctrl && input === 'c')) return { ui, action: 'quit' }
  if (input === '?') return { ui: { ...ui, help: !ui.help } }
  if (key.escape) return { ui: { ...ui, help: false, notice: null, detail: false } }
  if (ui.help) return { ui }
  if (key.return) return { ui: { ...ui, detail: !ui.detail } }
  if (key.tab) return { ui: { ...ui, focus: (ui.focus + (key.shift ? PANES.length - 1 : 1)) % PANES.length } }
  if (/^[1-5]$/.test(input)) return { ui: { ...ui, focus: Number(input) - 1 } }
  if (input === 'j' || key.downArrow) return { ui: { ...ui, selected: Math.min(Math.max(0, count - 1), ui.selected + 1) } }
  if (input === 'k' || key.upArrow) return { ui: { ...ui, selected: Math.max(0, ui.selected - 1) } }
  if (input === '/') return { ui: { ...ui, editing: true } }
  if (input === 'f') return { ui: { ...ui, frozen: !ui.frozen } }
  if (input === '+') return { ui: { ...ui, intervalMs: Math.min(5000, ui.intervalMs * 2) } }
  if (input === '-') return { ui: { ...ui, intervalMs: Math.max(250, ui.intervalMs / 2) } }
  if (input === 'p') return { ui, action: 'toggle-fetch' }
  return { ui }
}

export interface DashboardDeps {
  watch: (params: { since?: number }, onReply: (r: WatchReply) => boolean | void) => Promise<'stopped' | 'closed'>
  /** Pauses or resumes a workspace's background fetch (the `p` key). */
  setFetch: (name: string, paused: boolean) => Promise<unknown>
}

const ENTER_ALT = '\u001b[?1049h\u001b[H'
const LEAVE_ALT = '\u001b[?1049l'

export interface Terminal {
  /** Where frames go; its columns/rows and 'resize' events give the size (a test passes a fake one). */
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
}

/** Runs the dashboard on this terminal (or `io`'s) until q; returns the exit code. */
export async function runDashboard (deps: DashboardDeps, io: Terminal = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout
  const stdin = io.stdin ?? process.stdin
  let view = initialView()
  let connected = false
  let quitting = false
  const listeners = new Set<() => void>()
  const changed = () => { for (const l of listeners) l() }
  const leave = () => { stdout.write(LEAVE_ALT) }
  stdout.write(ENTER_ALT)
  process.once('exit', leave)
  const crash = (err: unknown) => { leave(); process.stderr.write(`wxs top: ${(err as Error)?.stack ?? err}\n`); process.exit(1) }
  process.once('uncaughtException', crash)
  // the watch, again and again while the daemon comes and goes
  const loop = async () => {
    while (!quitting) {
      await deps.watch({}, r => { connected = true; view = reduce(view, r); changed(); return !quitting }).catch(() => 'closed')
      connected = false
      changed()
      if (!quitting) await new Promise(resolve => setTimeout(resolve, 1000))
    }
  }
  const interactive = stdin.isTTY === true
  const App = () => {
    const { exit } = useApp()
    const [, setTick] = useState(0)
    const [ui, setUi] = useState(initialUi)
    const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
    const dirty = useRef(true)
    const shown = useRef({ view, connected })
    useEffect(() => {
      const onChange = () => { dirty.current = true }
      listeners.add(onChange)
      const onResize = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
      stdout.on('resize', onResize)
      return () => { listeners.delete(onChange); stdout.off('resize', onResize) }
    }, [])
    useEffect(() => {
      // redraw at most every intervalMs, and only when the view changed (or the clock in the header moved a second)
      const timer = setInterval(() => {
        if (ui.frozen || !dirty.current) return
        dirty.current = false
        shown.current = { view, connected }
        setTick(t => t + 1)
      }, ui.intervalMs)
      return () => clearInterval(timer)
    }, [ui.intervalMs, ui.frozen])
    useInput((input, key) => {
      const count = visibleWorkspaces(shown.current.view, ui).length
      const next = onKey(ui, input, key, count)
      if (next.action === 'quit') { quitting = true; exit(); return }
      if (next.action === 'toggle-fetch') {
        const w = visibleWorkspaces(shown.current.view, ui)[ui.selected]
        if (w === undefined || !w.fetch) { setUi({ ...next.ui, notice: w ? `${w.name} fetches nothing from peers` : 'no workspace selected' }); return }
        const pause = !w.fetch.paused
        deps.setFetch(w.name, pause).then(
          () => setUi(u => ({ ...u, notice: `${w.name}: background fetch ${pause ? 'paused' : 'resumed'}` })),
          err => setUi(u => ({ ...u, notice: `${w.name}: ${(err as Error).message}` }))
        )
      }
      setUi(next.ui)
    }, { isActive: interactive })
    return <TopView view={shown.current.view} ui={ui} size={size} now={Date.now()} connected={shown.current.connected} color={!process.env.NO_COLOR} />
  }
  const instance = render(<App />, { stdout, stdin, exitOnCtrlC: false, patchConsole: false, maxFps: 4 })
  const watching = loop()
  await instance.waitUntilExit()
  quitting = true
  leave()
  process.off('exit', leave)
  process.off('uncaughtException', crash)
  await Promise.race([watching, new Promise(resolve => setTimeout(resolve, 200))])
  return 0
}
