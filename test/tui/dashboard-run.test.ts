// The dashboard's runner on a fake terminal whose size the test sets: the render
// budget (a bounded number of writes for 200 updates in a second, none while
// idle, never a full-screen clear), resize, too small, keys, quit.
import test from 'brittle'
import { EventEmitter } from 'node:events'
import type { WatchReply, WatchState } from '../../cli/messages.js'

class FakeTerminal extends EventEmitter {
  columns: number
  rows: number
  isTTY = true
  writes: string[] = []
  constructor (columns: number, rows: number) { super(); this.columns = columns; this.rows = rows }
  write = (s: string) => { this.writes.push(s); return true }
  resize (columns: number, rows: number) { this.columns = columns; this.rows = rows; this.emit('resize') }
  /** The text of the last frame, escape sequences removed. */
  last () { return (this.writes.filter(w => w.length > 20).pop() ?? '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '') }
}

class FakeStdin extends EventEmitter {
  isTTY = true
  data: string | null = null
  setEncoding () {}
  setRawMode () {}
  resume () {}
  pause () {}
  ref () {}
  unref () {}
  read = () => { const d = this.data; this.data = null; return d }
  press (s: string) { this.data = s; this.emit('readable'); this.emit('data', s) }
}

function state (objects: number): WatchState {
  return {
    v: 1,
    daemon: { pid: 1, run: 'r', startedAt: Date.now(), peer: null, online: true, bootstrap: null, connections: 1, rateDown: 0, rateUp: 0, received: 0, sent: 0 },
    workspaces: { w: { name: 'w', state: 'fetching', reason: null, role: 'joined', mount: null, head: { seq: 0, files: 10, bytes: 100 }, peers: 1, fetch: { objects, totalObjects: 1000, bytes: objects, totalBytes: 1000, fetchedBytes: objects, rate: 100, etaMs: 1000, etaWhy: null, paused: false, why: { queued: 1000 - objects, inflight: 0, unavailable: 0, failed: 0 } } } },
    peers: {},
    blocked: [],
    transfers: [],
    problems: []
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

test('dashboard runner: bounded writes for 200 updates, none while idle, no full clear; resize, too small, q', async t => {
  // Ink renders only the last frame when it thinks it runs in CI (is-in-ci, read once at import):
  // this test is about frames on a terminal, as `wxs top` does (cli/lib/commands.ts, runTop)
  delete process.env.CI
  delete process.env.CONTINUOUS_INTEGRATION
  const { runDashboard } = await import('../../tui/index.js')
  const term = new FakeTerminal(100, 30)
  const stdin = new FakeStdin()
  let push: (r: WatchReply) => void = () => {}
  let endWatch: () => void = () => {}
  const paused: Array<[string, boolean]> = []
  const running = runDashboard({
    watch: (_p, onReply) => new Promise(resolve => {
      push = r => { onReply(r) }
      endWatch = () => resolve('stopped')
    }),
    setFetch: async (name, p) => { paused.push([name, p]) }
  }, { stdout: term as any, stdin: stdin as any })
  await sleep(300)
  push({ type: 'state', state: state(0), event: 0 })
  await sleep(1300)
  t.ok(term.last().includes('0/1,000 objects 0%'), 'the state is drawn')
  const before = term.writes.length
  for (let i = 1; i <= 200; i++) { push({ type: 'patch', patch: { workspaces: { w: { fetch: { objects: i * 5 } } } } }); await sleep(5) }
  await sleep(1200)
  const burst = term.writes.length - before
  t.ok(burst >= 1 && burst <= 10, `200 updates in ~1 s: ${burst} write(s) (a redraw a second at most)`)
  t.ok(term.last().includes('1,000/1,000') || term.last().includes('complete'), 'the last update is shown')
  const idle = term.writes.length
  for (let i = 0; i < 3; i++) { push({ type: 'heartbeat', time: Date.now(), event: 0 }); await sleep(800) }
  t.is(term.writes.length - idle, 0, 'nothing written while idle (heartbeats only)')
  t.absent(term.writes.some(w => w.includes('\u001b[2J')), 'never a full-screen clear')
  term.resize(60, 12)
  await sleep(1300)
  const lines = term.last().split('\n').filter(l => l.length > 0)
  t.ok(lines.length <= 11, `60x12: ${lines.length} lines`)
  t.ok(lines.every(l => [...l].length <= 60), 'and no line wider than 60')
  term.resize(30, 6)
  await sleep(1300)
  t.ok(term.last().includes('need 50x10, have 30x6'), `too small says so, in the width there is: ${term.last()}`)
  term.resize(100, 30)
  await sleep(1300)
  stdin.press('p')
  await sleep(200)
  t.alike(paused, [['w', true]], 'p asks the daemon to pause the selected workspace\'s fetch')
  stdin.press('q')
  const code = await Promise.race([running, sleep(3000).then(() => 'timeout')])
  endWatch()
  t.is(code, 0, 'q quits with 0')
  t.ok(term.writes.some(w => w.includes('\u001b[?1049h')) && term.writes[term.writes.length - 1].includes('\u001b[?1049l'), 'the alternate screen is entered and left')
})
