// Missing objects: fail at once without a fetcher, wait for it with one, never hang.
import test from 'brittle'
import path from 'node:path'
import { PackStore, hash, toHex, type ObjectFetcher } from '../../core/index.js'
import { tmpDir, errorCode } from '../helpers/index.js'

async function open (t: any, opts = {}) {
  const store = new PackStore(path.join(await tmpDir(t), 'objects'), opts)
  await store.ready()
  t.teardown(() => store.close())
  return store
}

const data = Buffer.from('an object some peer has')
const hex = toHex(hash(data))

test('without a fetcher a missing object fails at once', async t => {
  const store = await open(t)
  t.is(await errorCode(store.get(hex)), 'OBJECT_NOT_FOUND')
})

test('a fetcher that never delivers times out instead of hanging, and is told to stop', async t => {
  const store = await open(t, { fetchTimeoutMs: 150 })
  let aborted = false
  store.fetcher = { fetch: (_hex, { signal }) => new Promise(() => { signal.addEventListener('abort', () => { aborted = true }) }) }
  const started = Date.now()
  t.is(await errorCode(store.read(hex, 0, 10)), 'FETCH_TIMEOUT')
  const waited = Date.now() - started
  t.ok(waited >= 140 && waited < 5000, `waited ${waited} ms`)
  t.ok(aborted, 'the fetch was aborted')
})

test('a fetcher that stores the object lets the read complete; a failing one is reported', async t => {
  const store = await open(t)
  const asked: Array<{ hex: string, urgent: boolean }> = []
  const fetcher: ObjectFetcher = { async fetch (h, { urgent }) { asked.push({ hex: h, urgent }); await store.put(data) } }
  store.fetcher = fetcher
  t.alike(await store.get(hex), data)
  t.alike(asked, [{ hex, urgent: true }])
  t.alike(await store.get(hex), data, 'second read is local')
  t.is(asked.length, 1)

  const other = Buffer.from('nobody has this')
  store.fetcher = { fetch: async () => { throw new Error('all peers refused') } }
  t.is(await errorCode(store.get(toHex(hash(other)))), 'FETCH_FAILED')
})
