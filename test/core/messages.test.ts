import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import c from 'compact-encoding'
import { PackStore } from '../../core/index.js'
import { packHeader, recordHeader, packIndex, PACK_VERSION, PACK_HEADER_BYTES, RECORD_HEADER_BYTES } from '../../core/messages.js'
import { readFixture, packHeaderValue, recordHeaderValue, packIndexValue } from '../fixtures/values.js'
import { tmpDir, randomBuffer } from '../helpers/index.js'

test('pack header: fixture decodes to the known value and re-encodes byte for byte', async t => {
  const bytes = await readFixture('pack-header')
  t.is(bytes.byteLength, PACK_HEADER_BYTES)
  t.is(bytes.subarray(0, 4).toString('latin1'), 'wxsp', 'magic spells wxsp')
  t.alike(c.decode(packHeader, bytes), packHeaderValue)
  t.ok(Buffer.from(c.encode(packHeader, packHeaderValue)).equals(bytes))
})

test('pack header: an unknown version is decoded as such (never mistaken for the current one)', async t => {
  const bytes = Buffer.from(await readFixture('pack-header'))
  bytes[4] = PACK_VERSION + 1
  t.is(c.decode(packHeader, bytes).version, PACK_VERSION + 1)
})

test('record header: fixture decodes to the known value and re-encodes byte for byte', async t => {
  const bytes = await readFixture('record-header')
  t.is(bytes.byteLength, RECORD_HEADER_BYTES, 'fixed size, so a segment can be scanned without an index')
  t.alike(c.decode(recordHeader, bytes), recordHeaderValue)
  t.ok(Buffer.from(c.encode(recordHeader, recordHeaderValue)).equals(bytes))
})

test('pack index: fixture decodes to the known value and re-encodes byte for byte', async t => {
  const bytes = await readFixture('pack-index')
  t.is(bytes.subarray(0, 4).toString('latin1'), 'wxsi', 'magic spells wxsi')
  t.alike(c.decode(packIndex, bytes), packIndexValue)
  t.ok(Buffer.from(c.encode(packIndex, packIndexValue)).equals(bytes))
})

test('pack index: an unknown version or a bad magic throws', async t => {
  const future = Buffer.from(await readFixture('pack-index'))
  future[4] = 2 // the version follows the 4-byte magic
  t.exception(() => c.decode(packIndex, future), /unsupported index version 2/)
  const badMagic = Buffer.from(await readFixture('pack-index'))
  badMagic[0] ^= 0xff
  t.exception(() => c.decode(packIndex, badMagic), /bad index magic/)
})

test('the store writes these layouts: a new segment starts with the pack header, an index decodes', async t => {
  const dir = path.join(await tmpDir(t), 'objects')
  const store = new PackStore(dir, { maxPackBytes: 16 * 1024, writeBufferBytes: 4 * 1024 })
  await store.ready()
  t.teardown(() => store.close())
  const data = randomBuffer(5000, 1)
  const h = await store.put(data)
  for (let i = 2; i < 8; i++) await store.put(randomBuffer(5000, i))
  await store.flush()
  const first = await fs.readFile(path.join(dir, 'pack-000001.pack'))
  t.ok(first.subarray(0, PACK_HEADER_BYTES).equals(await readFixture('pack-header')))
  t.alike(c.decode(recordHeader, first.subarray(PACK_HEADER_BYTES, PACK_HEADER_BYTES + RECORD_HEADER_BYTES)), { hash: h, length: data.byteLength })
  t.ok(first.subarray(PACK_HEADER_BYTES + RECORD_HEADER_BYTES, PACK_HEADER_BYTES + RECORD_HEADER_BYTES + data.byteLength).equals(data), 'record data follows its header')
  const idx = await fs.readFile(path.join(dir, 'pack-000001.idx'))
  const index = c.decode(packIndex, idx.subarray(0, idx.byteLength - 32))
  t.is(index.packId, 1)
  t.is(index.packBytes, first.byteLength)
  t.alike(index.entries[0], { hash: h, offset: PACK_HEADER_BYTES + RECORD_HEADER_BYTES, length: data.byteLength })
})
