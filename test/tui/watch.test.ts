// The watch stream's pure parts: the client's reducer, the daemon's derived
// states, ETA and events, and the dashboard's screen at several sizes and keys.
import test from 'brittle'
import React from 'react'
import { render } from 'ink-testing-library'
import { initialView, reduce, isStale, screenLines, onKey, initialUi, TopView, fit, clean, formatFetch, formatLink, formatWaiting, MIN_COLUMNS, MIN_ROWS, type WatchView } from '../../tui/index.js'
import { deriveState, eta, eventsBetween, Rates, STALL_MS, type WorkspaceFacts } from '../../cli/lib/watch-state.js'
import type { WatchState, WatchWorkspace } from '../../cli/messages.js'

const MiB = 1024 * 1024

function ws (name: string, fields: Partial<WatchWorkspace> = {}): WatchWorkspace {
  return { name, state: 'fetching', reason: null, role: 'joined', mount: null, head: { seq: 1, files: 10_000, bytes: 100 * MiB }, peers: 2, fetch: { objects: 2500, totalObjects: 10_000, bytes: 25 * MiB, totalBytes: 100 * MiB, fetchedBytes: 25 * MiB, rate: 10 * MiB, etaMs: 7500, etaWhy: null, paused: false, why: { queued: 7000, inflight: 500, unavailable: 0, failed: 0 } }, ...fields }
}

function state (n = 3, fields: Partial<WatchState> = {}): WatchState {
  const workspaces: Record<string, WatchWorkspace> = {}
  for (let i = 0; i < n; i++) workspaces[`w${i}`] = ws(`w${i}`)
  return {
    v: 1,
    daemon: { pid: 42, run: 'r1', startedAt: 0, peer: 'ab'.repeat(32), online: true, bootstrap: '127.0.0.1:1', connections: 2, rateDown: 10 * MiB, rateUp: 0, received: 25 * MiB, sent: 0 },
    workspaces,
    peers: { ['cd'.repeat(32)]: { id: 'cd'.repeat(32), state: 'connected', direction: 'out', since: 0, attempts: 0, droppedBy: [], address: '127.0.0.1:5000', workspaces: ['w0'], holds: { w0: 'all' }, received: 25 * MiB, sent: 0, rateDown: 10 * MiB, rateUp: 0, inflight: 500 } },
    blocked: [{ workspace: 'w0', op: 'read', path: '/src/big.bin', ms: 1500, object: '0123456789ab', waiting: 'inflight', peer: 'cd'.repeat(32) }],
    transfers: [{ object: '0123456789ab', peer: 'cd'.repeat(32), workspace: 'w0', size: 1048576, ms: 1200, urgent: false }],
    problems: [{ kind: 'verification', workspace: 'w0', peer: 'cd'.repeat(32), text: `peer ${'cd'.repeat(6)} sent corrupt data for object 0123456789ab…`, time: 1000 }, { kind: 'io', workspace: 'w0', path: '/src/x', errno: 'EIO', text: 'reading /src/x failed: EIO', time: 2000 }],
    ...fields
  }
}

test('reduce: state, patch, event (once each), gap, heartbeat; stale after three missed beats', t => {
  let v: WatchView = initialView(0)
  v = reduce(v, { type: 'patch', patch: { x: 1 } }, 1)
  t.is(v.state, null, 'a patch before a state changes nothing')
  v = reduce(v, { type: 'state', state: state(1), event: 4 }, 2)
  t.is(v.lastEvent, 4)
  v = reduce(v, { type: 'patch', patch: { workspaces: { w0: { state: 'complete', fetch: null }, w9: ws('w9') } } }, 3)
  t.is(v.state!.workspaces.w0.state, 'complete')
  t.is(v.state!.workspaces.w0.fetch, undefined, 'null in a patch removes')
  t.ok(v.state!.workspaces.w9, 'a new workspace arrives in a patch')
  v = reduce(v, { type: 'patch', patch: { workspaces: { w9: null } } }, 4)
  t.absent(v.state!.workspaces.w9, 'and goes')
  const e = { id: 5, time: 5, kind: 'mounted', workspace: 'w0', text: 'w0: mounted at /m' }
  v = reduce(reduce(v, { type: 'event', event: e }, 5), { type: 'event', event: e }, 5)
  t.is(v.events.length, 1, 'an event replayed twice is kept once')
  t.is(v.lastEvent, 5)
  v = reduce(v, { type: 'gap', since: 1, oldest: 3 }, 6)
  t.is(v.state, null, 'a gap drops the view: a fresh state follows')
  t.is(v.gaps, 1)
  v = reduce(v, { type: 'heartbeat', time: 7, event: 5 }, 7000)
  t.absent(isStale(v, 12_000), 'heard within three heartbeats')
  t.ok(isStale(v, 13_001), 'silent for longer: stale')
})

test('deriveState: the most urgent state wins, with its reason', t => {
  const base: WorkspaceFacts = { remote: true, shared: false, mounted: false, paused: false, movedTo: null, conflict: false, error: null, fetch: { complete: false, missing: 10, rate: 1000, quietMs: 0, peers: 1 } }
  t.is(deriveState(base).state, 'fetching')
  t.alike(deriveState({ ...base, fetch: { ...base.fetch!, peers: 0 } }), { state: 'stalled', reason: 'no connected peer' })
  t.is(deriveState({ ...base, fetch: { ...base.fetch!, rate: 0, quietMs: STALL_MS } }).state, 'stalled')
  t.is(deriveState({ ...base, fetch: { ...base.fetch!, rate: 0, quietMs: STALL_MS - 1 } }).state, 'fetching', 'a short lull is not a stall')
  t.is(deriveState({ ...base, fetch: { ...base.fetch!, complete: true } }).state, 'complete')
  t.is(deriveState({ ...base, fetch: { ...base.fetch!, rate: 0, quietMs: STALL_MS, paused: true } }).state, 'on-demand', 'a paused fetch is not a stall')
  t.is(deriveState({ ...base, error: 'EIO', conflict: true }).state, 'error')
  t.is(deriveState({ ...base, conflict: true }).state, 'conflict')
  t.is(deriveState({ ...base, remote: false, paused: true }).state, 'paused', 'paused here comes before a fetch')
  t.alike(deriveState({ ...base, fetch: { ...base.fetch!, complete: true }, movedTo: 'server' }), { state: 'moved', reason: 'held by server now' })
  t.is(deriveState({ ...base, remote: false, fetch: null, mounted: true, shared: true }).state, 'mounted')
  t.is(deriveState({ ...base, remote: false, fetch: null, shared: true }).state, 'sharing')
  t.is(deriveState({ ...base, remote: false, fetch: null }).state, 'idle')
})

test('eta: from the smoothed rate, or unknown with the reason', t => {
  t.alike(eta({ complete: false, missingBytes: 10 * MiB, rate: 5 * MiB, peers: 1, paused: false }), { etaMs: 2000, etaWhy: null })
  t.alike(eta({ complete: true, missingBytes: 0, rate: 0, peers: 0, paused: false }), { etaMs: 0, etaWhy: null })
  t.is(eta({ complete: false, missingBytes: null, rate: 5, peers: 1, paused: false }).etaWhy, 'size not known yet (trees arriving)')
  t.is(eta({ complete: false, missingBytes: 10, rate: 5, peers: 0, paused: false }).etaWhy, 'no connected peer has it')
  t.is(eta({ complete: false, missingBytes: 10, rate: 0, peers: 1, paused: false }).etaWhy, 'nothing arriving')
  t.is(eta({ complete: false, missingBytes: 10, rate: 5, peers: 1, paused: true }).etaWhy, 'background fetch paused')
})

test('Rates: smoothed, not bytes over time since start; decays to 0 when nothing arrives', t => {
  const r = new Rates()
  t.is(r.sample('x', 0, 0), 0)
  let rate = 0
  for (let i = 1; i <= 40; i++) rate = r.sample('x', i * 250_000, i * 250) // 1 MB a second for 10 s
  t.ok(Math.abs(rate - 1_000_000) < 50_000, `converges to the rate (${Math.round(rate)})`)
  const jump = r.sample('x', 40 * 250_000 + 10_000_000, 41 * 250) // a burst of 10 MB in 250 ms
  t.ok(jump < 10_000_000, `one burst does not jump to 40 MB/s (${Math.round(jump)})`)
  let last = jump
  for (let i = 42; i < 200; i++) last = r.sample('x', 40 * 250_000 + 10_000_000, i * 250)
  t.is(last, 0, 'and nothing arriving decays to 0')
  t.ok(r.quietMs('x', 200 * 250) >= 150 * 250, 'quiet since the burst')
})

test('Rates: against a known throughput sampled with jitter, and a step in it', t => {
  const r = new Rates()
  // 2 MB/s, sampled every 250 ms ± 60 ms (a busy daemon's timer), bytes arriving in 64 KiB objects
  let now = 0
  let bytes = 0
  let seed = 7
  const jitter = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed / 2147483648 - 0.5) * 120 }
  const run = (bytesPerSecond: number, seconds: number) => {
    let rate = 0
    const end = now + seconds * 1000
    while (now < end) {
      const dt = 250 + jitter()
      now += dt
      bytes += Math.floor(bytesPerSecond * dt / 1000 / 65536) * 65536 + (Math.random() < 0.5 ? 65536 : 0)
      rate = r.sample('x', bytes, now)
    }
    return rate
  }
  r.sample('x', 0, 0)
  const steady = run(2_000_000, 12)
  t.ok(Math.abs(steady - 2_000_000) / 2_000_000 < 0.1, `within 10% of 2 MB/s after 12 s (${Math.round(steady)})`)
  const early = run(8_000_000, 1)
  t.ok(early > 2_500_000 && early < 8_000_000, `a step to 8 MB/s shows within a second, smoothed (${Math.round(early)})`)
  const later = run(8_000_000, 11)
  t.ok(Math.abs(later - 8_000_000) / 8_000_000 < 0.1, `and within 10% of it after 12 s (${Math.round(later)})`)
  const e = eta({ complete: false, missingBytes: 80_000_000, rate: later, peers: 1, paused: false })
  t.ok(Math.abs(e.etaMs! - 10_000) < 1000, `ETA of 80 MB at 8 MB/s is 10 s (${e.etaMs} ms)`)
})

test('eventsBetween: peers connecting, retrying, dropped', t => {
  const a = state(1)
  const id = 'cd'.repeat(32)
  const b = structuredClone(a)
  b.peers[id].state = 'retrying'
  b.peers[id].attempts = 2
  t.alike(eventsBetween(a, b).map(e => [e.kind, e.text]), [['peer-gone', `peer ${'cd'.repeat(6)} gone (retrying)`]], 'a connected peer that retries is gone, and says so')
  t.alike(eventsBetween(b, a).map(e => e.kind), ['peer-connected'], 'and connected again')
  const c = structuredClone(a)
  c.peers[id].droppedBy = ['w0']
  t.alike(eventsBetween(a, c).map(e => [e.kind, e.workspace]), [['peer-dropped', 'w0']], 'a workspace dropping it is an event')
  const d = structuredClone(a)
  d.peers.ef = { ...structuredClone(a.peers[id]), id: 'ef', state: 'connecting', direction: null, since: null }
  t.alike(eventsBetween(a, d), [], 'a peer being dialled is no event yet')
  t.is(formatLink(a.peers[id], 5 * 60_000), 'out 5m')
  t.is(formatLink(b.peers[id], 0), 'retrying ×2 (<1m)')
  t.is(formatLink(c.peers[id], 0), 'out <1m dropped')
  t.is(formatLink(d.peers.ef, 0), 'connecting')
  t.is(formatWaiting(a.blocked[0]), `, on 0123456789ab from ${'cd'.repeat(6)}`)
  t.is(formatWaiting({ ...a.blocked[0], waiting: 'unavailable', peer: null }), ', on 0123456789ab: no connected peer has it')
  t.is(formatWaiting({ ...a.blocked[0], object: null, waiting: null, peer: null }), '', 'a read slow on its own waits on nothing named')
})

test('eventsBetween: workspaces and peers coming and going, mounts, commits, state changes', t => {
  const a = state(1)
  t.alike(eventsBetween(null, a), [], 'the first state is no event')
  const b = structuredClone(a)
  b.workspaces.w0.mount = '/m'
  b.workspaces.w0.head.seq = 2
  b.workspaces.w0.state = 'complete'
  b.workspaces.w1 = ws('w1')
  b.peers = {}
  const kinds = eventsBetween(a, b).map(e => e.kind)
  t.alike(kinds, ['mounted', 'committed', 'complete', 'joined', 'peer-gone'])
  t.alike(eventsBetween(b, a).map(e => e.kind), ['unmounted', 'committed', 'fetching', 'removed', 'peer-connected'])
  const c = structuredClone(a)
  c.problems = [...a.problems, { kind: 'io', workspace: 'w0', path: '/y', errno: 'EIO', text: 'reading /y failed: EIO', time: 3000 }]
  t.alike(eventsBetween(a, c).map(e => [e.kind, e.text]), [['io-error', 'w0: reading /y failed: EIO']], 'a new problem is an event, once')
})

test('screen: 120x40, 80x24, 60x12 fit (never wider, never taller than rows-1); too small says the size needed', t => {
  const view = reduce(initialView(0), { type: 'state', state: state(30), event: 0 }, 0)
  for (const [columns, rows] of [[120, 40], [80, 24], [60, 12], [MIN_COLUMNS, MIN_ROWS]]) {
    const lines = screenLines(view, initialUi(), { columns, rows }, { now: 1000, connected: true })
    t.ok(lines.length <= rows - 1, `${columns}x${rows}: ${lines.length} lines`)
    t.ok(lines.every(l => [...l.text].length <= columns), `${columns}x${rows}: no line wider`)
    t.ok(lines.some(l => l.text.includes('1 Workspaces')) && lines.some(l => l.text.includes('5 Events')), `${columns}x${rows}: every pane has its title`)
  }
  const big = screenLines(view, initialUi(), { columns: 120, rows: 40 }, { now: 1000, connected: true }).map(l => l.text).join('\n')
  t.ok(big.includes('2,500/10,000 objects 25%'), 'progress with counts')
  t.ok(big.includes('7,000 queued, 500 in flight, 0 no connected peer has, 0 failed verification'), 'why not done for the selected workspace')
  t.ok(/HOLDS \(w0\)/.test(big) && /127\.0\.0\.1:5000\s+w0\s+all/.test(big), 'what each peer can serve of the selected workspace')
  t.ok(big.includes('/src/big.bin for 1.5 s'), 'a read waiting on the network')
  t.ok(big.includes(`0123456789ab 1.0 MiB from ${'cd'.repeat(6)} for w0, 1.2 s`), 'a transfer in flight: what, from whom, for whom, how long')
  t.ok(big.includes(`peer ${'cd'.repeat(6)} sent corrupt data`), 'which peer failed verification, for the selected workspace')
  t.ok(big.includes('reading /src/x failed: EIO'), 'a local I/O error with its path and errno')
  const small = screenLines(view, initialUi(), { columns: 40, rows: 8 }, { now: 0, connected: true })
  t.is(small.length, 1)
  t.is(small[0].text, `wxs top: need ${MIN_COLUMNS}x${MIN_ROWS} (have 40x8)`)
})

test('screen: Enter gives the focused pane the screen with its whole list', t => {
  const s = state(5)
  for (let i = 0; i < 8; i++) s.problems.push({ kind: 'io', workspace: 'w0', path: `/p${i}`, errno: 'EIO', text: `reading /p${i} failed: EIO`, time: 3000 + i })
  const view = reduce(initialView(0), { type: 'state', state: s, event: 0 }, 0)
  const normal = screenLines(view, { ...initialUi(), focus: 1 }, { columns: 120, rows: 40 }, { now: 1000, connected: true }).map(l => l.text).join('\n')
  t.ok(normal.includes('+7 more (Enter)'), 'the why pane shows the last problems, then how many more')
  const whole = screenLines(view, { ...initialUi(), focus: 1, detail: true }, { columns: 120, rows: 40 }, { now: 1000, connected: true }).map(l => l.text).join('\n')
  t.ok(whole.includes('reading /p0 failed: EIO') && whole.includes('reading /p7 failed: EIO') && !whole.includes('more (Enter)'), 'Enter: all of them')
  t.absent(whole.includes('WORKSPACE  STATE'), 'the other panes keep only their titles')
})

test('screen: disconnected or stale shows it over the last state, dimmed; control characters neutralised', t => {
  const s = state(1)
  s.workspaces.w0.mount = '/tmp/evil\u001b[2Jname'
  const view = reduce(initialView(0), { type: 'state', state: s, event: 0 }, 0)
  const lines = screenLines(view, initialUi(), { columns: 120, rows: 30 }, { now: 1000, connected: false })
  t.ok(lines[0].text.includes('[disconnected, retrying]'))
  t.ok(lines.every(l => l.dim), 'every line dimmed')
  t.ok(lines.every(l => !l.text.includes('\u001b')), 'no escape sequence from a path reaches the terminal')
  t.ok(screenLines(view, initialUi(), { columns: 120, rows: 30 }, { now: 100_000, connected: true })[0].text.includes('stale'))
  t.is(clean('a\u0007b\nc'), 'a?b?c')
  t.is(fit('abcdef', 4), 'abc…')
  t.is(formatFetch({ ...ws('x').fetch!, objects: 9999 }), '9,999/10,000 objects 99%', 'no rounding up to 100% before the last object')
})

test('keys: panes, selection, filter, freeze, interval, help, quit, p', t => {
  let ui = initialUi()
  const k = (input: string, key = {}) => { const r = onKey(ui, input, key, 3); ui = r.ui; return r.action }
  k('', { tab: true }); t.is(ui.focus, 1)
  k('', { tab: true, shift: true }); t.is(ui.focus, 0)
  k('4'); t.is(ui.focus, 3)
  k('j'); k('j'); k('j'); t.is(ui.selected, 2, 'selection stops at the last workspace')
  k('k'); t.is(ui.selected, 1)
  k('/'); k('w'); k('1'); t.is(ui.filter, 'w1'); t.ok(ui.editing)
  k('q'); t.is(ui.filter, 'w1q', 'q while typing a filter is text')
  k('', { backspace: true }); k('', { return: true }); t.is(ui.filter, 'w1'); t.absent(ui.editing)
  k('f'); t.ok(ui.frozen)
  k('+'); t.is(ui.intervalMs, 2000)
  k('-'); k('-'); k('-'); t.is(ui.intervalMs, 250)
  k('-'); t.is(ui.intervalMs, 250, 'at most 4 redraws a second')
  k('', { return: true }); t.ok(ui.detail, 'Enter: the focused pane, whole')
  k('', { escape: true }); t.absent(ui.detail, 'Esc: back')
  k('?'); t.ok(ui.help)
  k('', { escape: true }); t.absent(ui.help)
  t.is(k('p'), 'toggle-fetch')
  t.is(k('q'), 'quit')
  t.is(onKey(initialUi(), 'c', { ctrl: true }, 0).action, 'quit')
})

test('TopView: renders the screen lines through Ink (no full-screen clear in the frame)', t => {
  const view = reduce(initialView(0), { type: 'state', state: state(2), event: 0 }, 0)
  const r = render(React.createElement(TopView, { view, ui: initialUi(), size: { columns: 80, rows: 24 }, now: 1000, connected: true, color: false }))
  const frame = r.lastFrame() ?? ''
  r.unmount()
  t.ok(frame.includes('1 Workspaces'))
  t.ok(frame.split('\n').length <= 23, `${frame.split('\n').length} lines`)
  t.absent(frame.includes('\u001b[2J'), 'no clear-screen sequence')
})
