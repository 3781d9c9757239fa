// Staged content (copy-on-write per chunk, partial coverage, memory mode) against a plain Buffer model.
import test from 'brittle'
import path from 'node:path'
import { PackStore, putBytes, toHex, CHUNK_SIZE } from '../../core/index.js'
import { Staged, MemoryBudget } from '../../manifests/lib/staging.js'
import { tmpDir, randomBuffer } from '../helpers/index.js'

async function setup (t: any) {
  const dir = await tmpDir(t)
  const store = new PackStore(path.join(dir, 'objects'))
  await store.ready()
  t.teardown(() => store.close())
  return { dir, store }
}

async function readAll (staged: Staged) {
  const buf = Buffer.alloc(staged.size)
  if (staged.size > 0) await staged.read(buf, staged.size, 0)
  return buf
}

async function committed (store: PackStore, chunks: Buffer[]) {
  return Buffer.concat(await Promise.all(chunks.map(h => store.get(toHex(h)))))
}

const CASES = [
  ['large file, chunks in memory', 5 * CHUNK_SIZE + 12345, 64 * CHUNK_SIZE],
  ['large file, chunks in memory and on disk', 5 * CHUNK_SIZE + 12345, 3 * CHUNK_SIZE],
  ['large file, chunks on disk', 5 * CHUNK_SIZE + 12345, 0],
  ['small file in memory', 300_000, 64 * CHUNK_SIZE],
  ['empty file, no memory', 0, 0]
] as const

for (const [label, initialSize, budgetBytes] of CASES) {
  test(`random writes, truncates and reads match a Buffer model (${label})`, async t => {
    const { dir, store } = await setup(t)
    let model = randomBuffer(initialSize, 11)
    const base = await putBytes(store, model)
    const budget = new MemoryBudget(budgetBytes)
    const staged = await Staged.open(store, path.join(dir, 'staged'), budget, base.chunks, base.size)
    t.teardown(() => staged.close())
    let x = 7
    const rnd = (n: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % Math.max(1, n) }
    for (let op = 0; op < 300; op++) {
      const kind = rnd(10)
      if (kind < 6) {
        const len = 1 + rnd(kind < 2 ? CHUNK_SIZE * 2 : 200_000)
        const pos = rnd(7 * CHUNK_SIZE)
        const data = randomBuffer(len, op + 100)
        await staged.write(data, 0, len, pos)
        if (pos + len > model.length) model = Buffer.concat([model, Buffer.alloc(pos + len - model.length)])
        data.copy(model, pos)
      } else if (kind < 8) {
        const size = rnd(7 * CHUNK_SIZE)
        await staged.truncate(size)
        model = size <= model.length ? Buffer.from(model.subarray(0, size)) : Buffer.concat([model, Buffer.alloc(size - model.length)])
      } else {
        const pos = rnd(model.length)
        const len = Math.min(model.length - pos, 1 + rnd(300_000))
        const buf = Buffer.alloc(len)
        if (len > 0) await staged.read(buf, len, pos)
        if (!buf.equals(model.subarray(pos, pos + len))) { t.fail(`read mismatch at op ${op}`); return }
      }
      if (staged.size !== model.length) { t.fail(`size mismatch at op ${op}: ${staged.size} vs ${model.length}`); return }
    }
    t.ok((await readAll(staged)).equals(model), 'final content equals the model')
    const result = await staged.commit()
    t.is(result.size, model.length)
    t.ok((await committed(store, result.chunks)).equals(model), 'committed chunks equal the model')
    await staged.close()
    t.is(budget.used, 0, 'all memory returned to the budget')
  })
}

test('a full overwrite reads nothing from the store; untouched chunks are reused at commit', async t => {
  const { dir, store } = await setup(t)
  const original = randomBuffer(4 * CHUNK_SIZE, 3)
  const base = await putBytes(store, original)
  const staged = await Staged.open(store, path.join(dir, 'staged'), new MemoryBudget(0), base.chunks, base.size)
  t.teardown(() => staged.close())
  let reads = 0
  const readInto = store.readInto.bind(store)
  store.readInto = async (...args: Parameters<typeof readInto>) => { reads++; return readInto(...args) }
  const read = store.read.bind(store)
  store.read = async (...args: Parameters<typeof read>) => { reads++; return read(...args) }
  const fresh = randomBuffer(CHUNK_SIZE, 4)
  for (let off = 0; off < CHUNK_SIZE; off += 128 * 1024) await staged.write(fresh, off, 128 * 1024, CHUNK_SIZE + off)
  t.is(reads, 0, 'chunk 1 overwritten in 128 KiB writes without copying it in')
  const result = await staged.commit()
  t.ok(result.chunks[0].equals(base.chunks[0]) && result.chunks[2].equals(base.chunks[2]) && result.chunks[3].equals(base.chunks[3]), 'untouched chunks reused')
  t.is(reads, 0, 'commit read nothing from the store')
  t.ok((await committed(store, [result.chunks[1]])).equals(fresh))
})

test('holes (chunks never written) commit as the one zero chunk without being read or hashed; a 64 GiB sparse file commits at once', async t => {
  const { dir, store } = await setup(t)
  const size = 64 * 1024 * CHUNK_SIZE + 5
  for (const budget of [64 * CHUNK_SIZE, 0]) { // written chunks in memory, or in the sparse staging file
    const staged = await Staged.open(store, path.join(dir, `sparse-${budget}`), new MemoryBudget(budget), [], 0)
    t.teardown(() => staged.close())
    await staged.write(Buffer.from('data'), 0, 4, 3 * CHUNK_SIZE - 2)
    await staged.truncate(size)
    const started = Date.now()
    const result = await staged.commit()
    const ms = Date.now() - started
    const zero = await putBytes(store, Buffer.alloc(CHUNK_SIZE))
    t.is(result.chunks.length, 64 * 1024 + 1)
    t.ok(result.chunks[0].equals(zero.chunks[0]) && result.chunks[64 * 1024 - 1].equals(zero.chunks[0]), 'holes are the zero chunk')
    t.ok((await committed(store, result.chunks.slice(2, 4))).equals(Buffer.concat([Buffer.alloc(CHUNK_SIZE - 2), Buffer.from('data'), Buffer.alloc(CHUNK_SIZE - 2)])), 'written chunks as written')
    t.ok((await committed(store, result.chunks.slice(-1))).equals(Buffer.alloc(5)), 'the short last chunk')
    t.ok(ms < 2000, `64 GiB of holes committed in ${ms} ms`)
  }
})
