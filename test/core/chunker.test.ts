import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { PackStore, CHUNK_SIZE, putFile, putBytes, hash, toHex } from '../../core/index.js'
import { tmpDir, randomBuffer } from '../helpers/index.js'
import type { Assert } from 'brittle'

async function setup (t: Assert) {
  const dir = await tmpDir(t)
  const store = new PackStore(path.join(dir, 'objects'))
  await store.ready()
  t.teardown(() => store.close())
  return { dir, store }
}

/** Writes `data` to a file, stores it with putFile, and reads the chunks back. */
async function roundTrip (t: Assert, size: number, seed: number) {
  const { dir, store } = await setup(t)
  const data = randomBuffer(size, seed)
  const file = path.join(dir, 'file.bin')
  await fs.writeFile(file, data)
  const stored = await putFile(store, file, size)
  await store.flush()
  const chunks = await Promise.all(stored.chunks.map(h => store.get(toHex(h))))
  return { data, stored, chunks, joined: Buffer.concat(chunks) }
}

test('empty file: no chunks', async t => {
  const { stored, joined } = await roundTrip(t, 0, 1)
  t.is(stored.size, 0)
  t.is(stored.chunks.length, 0)
  t.is(joined.byteLength, 0)
})

test('file smaller than one chunk: one chunk equal to the file', async t => {
  const { data, stored, chunks } = await roundTrip(t, 12_345, 2)
  t.is(stored.size, 12_345)
  t.is(stored.chunks.length, 1)
  t.ok(chunks[0].equals(data))
  t.ok(stored.chunks[0].equals(hash(data)), 'the chunk is named by the hash of the file bytes')
})

test('file of exactly CHUNK_SIZE: one chunk', async t => {
  const { data, stored, joined } = await roundTrip(t, CHUNK_SIZE, 3)
  t.is(stored.size, CHUNK_SIZE)
  t.is(stored.chunks.length, 1)
  t.ok(joined.equals(data))
})

test('file of CHUNK_SIZE + 1: two chunks, the second one byte', async t => {
  const { data, stored, chunks, joined } = await roundTrip(t, CHUNK_SIZE + 1, 4)
  t.is(stored.size, CHUNK_SIZE + 1)
  t.is(stored.chunks.length, 2)
  t.is(chunks[0].byteLength, CHUNK_SIZE)
  t.is(chunks[1].byteLength, 1)
  t.ok(joined.equals(data))
})

test('multi-MiB file: every chunk but the last is CHUNK_SIZE, concatenation equals the file', async t => {
  const size = 5 * CHUNK_SIZE + 4321
  const { data, stored, chunks, joined } = await roundTrip(t, size, 5)
  t.is(stored.size, size)
  t.is(stored.chunks.length, 6)
  t.ok(chunks.slice(0, -1).every(ch => ch.byteLength === CHUNK_SIZE))
  t.is(chunks[5].byteLength, 4321)
  t.ok(joined.equals(data))
})

test('a wrong size hint does not change what is stored', async t => {
  const { dir, store } = await setup(t)
  const data = randomBuffer(CHUNK_SIZE + 100, 6)
  const file = path.join(dir, 'grown.bin')
  await fs.writeFile(file, data)
  const stored = await putFile(store, file, 10) // the file grew after it was stat'ed
  t.is(stored.size, data.byteLength)
  t.is(stored.chunks.length, 2)
  const joined = Buffer.concat(await Promise.all(stored.chunks.map(h => store.get(toHex(h)))))
  t.ok(joined.equals(data))
})

test('putBytes and putFile name the same content the same way', async t => {
  const { dir, store } = await setup(t)
  const data = randomBuffer(2 * CHUNK_SIZE + 7, 7)
  const file = path.join(dir, 'same.bin')
  await fs.writeFile(file, data)
  const fromFile = await putFile(store, file, data.byteLength)
  const sizeBefore = store.size
  const fromBytes = await putBytes(store, data)
  t.alike(fromBytes.chunks.map(toHex), fromFile.chunks.map(toHex))
  t.is(store.size, sizeBefore, 'no new objects for the same content')
})
