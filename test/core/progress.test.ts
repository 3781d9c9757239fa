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
