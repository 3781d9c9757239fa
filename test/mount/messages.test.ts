// mounts.json (mount/messages.ts): version 2 records each mount's dir and
// access; version 1 files (name -> dir, before access existed) still read.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseMounts, formatMounts } from '../../mount/index.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

test('mounts.json: version 2 reads and writes byte for byte; version 1 reads with access owner; what is malformed is refused or left out', async t => {
  const v2 = await fs.readFile(path.join(fixtures, 'mounts-v2.json'), 'utf8')
  const mounts = parseMounts(v2)
  t.alike(mounts, { api: { dir: '/root/wxs/api', access: 'owner' }, web: { dir: '/srv/web', access: 'all' } })
  t.is(formatMounts(mounts), v2, 're-written byte for byte')
  const v1 = await fs.readFile(path.join(fixtures, 'mounts-v1.json'), 'utf8')
  t.alike(parseMounts(v1), { api: { dir: '/root/wxs/api', access: 'owner' }, web: { dir: '/srv/web', access: 'owner' } }, 'a version-1 file: every mount with the default access')
  t.exception(() => parseMounts('{"v": 3, "mounts": {}}'), /unsupported mounts file version 3/)
  t.exception(() => parseMounts('[]'), /not an object/)
  t.alike(parseMounts('{"v": 2, "mounts": {"a": {"dir": 7}, "b": {"dir": "/b", "access": "everyone"}, "c": null}}'), { b: { dir: '/b', access: 'owner' } }, 'a record without a dir is left out; an unknown access is the default')
})
