import test from 'brittle'
import { Monitor } from '../../core/index.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

test('Monitor: the rate is smoothed, and a stall shows as a falling rate and a growing ETA', async t => {
  const m = new Monitor('sync')
  m.totalBytes = 100_000_000
  for (let i = 0; i < 15; i++) { m.add(1, 1_000_000); await sleep(100) } // ~10 MB/s for 1.5 s
  const busy = m.snapshot()
  t.ok(busy.bytesPerSecond > 5_000_000 && busy.bytesPerSecond < 15_000_000, `about 10 MB/s (${busy.bytesPerSecond})`)
  t.ok(busy.etaMs !== null && busy.etaMs > 5000, `ETA from it (${busy.etaMs} ms)`)
  for (let i = 0; i < 10; i++) { await sleep(100); m.snapshot() } // nothing for a second
  const stalled = m.snapshot()
  t.ok(stalled.bytesPerSecond < busy.bytesPerSecond * 0.8, `a stall lowers the rate at once (${stalled.bytesPerSecond}), where the average since the start would still say ${Math.round(m.bytes * 1000 / stalled.elapsedMs)}`)
  t.ok(stalled.etaMs! > busy.etaMs!, 'and the ETA grows')
})

test('Monitor: a job with nothing moving still sends a snapshot every second (a stall is seen, with why), none after finish or stop', async t => {
  const m = new Monitor('export')
  m.totalBytes = 10_000_000
  const seen: Array<{ bytesPerSecond: number, why?: string | null, done: boolean }> = []
  m.on('update', s => seen.push(s))
  for (let i = 0; i < 12; i++) { m.add(1, 100_000); await sleep(100) } // ~1 MB/s for 1.2 s
  seen.length = 0
  m.why = 'waiting on peers: 0 queued, 3 in flight, 0 no connected peer has'
  await sleep(2300) // nothing moves
  const idle = seen.filter(s => !s.done)
  t.ok(idle.length >= 2, `a snapshot a second while idle (${idle.length})`)
  t.is(idle[idle.length - 1].why, m.why, 'with why it is not done')
  t.ok(idle[idle.length - 1].bytesPerSecond < idle[0].bytesPerSecond, `and a falling rate (${idle.map(s => s.bytesPerSecond).join(' > ')})`)
  m.finish()
  const n = seen.length
  await sleep(1300)
  t.is(seen.length, n, 'nothing after finish')
  const failed = new Monitor('export')
  let after = 0
  failed.on('update', () => after++)
  failed.add(1, 1)
  failed.stop() // the job threw: whoever made the monitor stops it
  await sleep(1300)
  t.is(after, 1, 'nothing after stop')
})
