// A flipped byte on disk is found by `wxs fsck` and named by workspace and path.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, writeTree, stopDaemon } from '../helpers/index.js'

configure({ timeout: 300_000 }) // real daemons, real disks: slow machines get time, hangs still end

test('fsck reports a corrupt object by workspace and path, exit 1', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  const marker = 'THIS-FILE-WILL-BE-CORRUPTED-' + 'x'.repeat(200)
  await writeTree(src, { docs: { 'victim.txt': marker }, 'fine.txt': 'fine\n' })
  t.is((await wxs(home, ['create', 'one', '--from', src])).code, 0)
  t.is((await wxs(home, ['fork', 'one', 'two'])).code, 0)
  t.is((await wxs(home, ['fsck', '--json'])).json.ok, true)
  await stopDaemon(home)

  const objects = path.join(home, 'objects')
  let hit = false
  for (const name of (await fs.readdir(objects)).filter(n => n.endsWith('.pack'))) {
    const file = path.join(objects, name)
    const bytes = await fs.readFile(file)
    const at = bytes.indexOf(marker)
    if (at === -1) continue
    bytes[at + 10] ^= 0xff
    await fs.writeFile(file, bytes)
    hit = true
  }
  t.ok(hit, 'found the object on disk')

  const r = await wxs(home, ['fsck', '--json'])
  t.is(r.code, 1, 'fsck exits 1 when something is wrong')
  t.is(r.json.ok, false)
  t.is(r.json.corrupt.length, 1)
  const where = r.json.problems.map((p: any) => `${p.problem} ${p.workspace} ${p.path}`).sort()
  t.alike(where, ['corrupt one /docs/victim.txt', 'corrupt two /docs/victim.txt'])

  const human = await wxs(home, ['fsck'])
  t.is(human.code, 1)
  t.ok(human.stdout.includes('corrupt one@0:/docs/victim.txt'), human.stdout)

  const exported = await wxs(home, ['export', 'one', path.join(work, 'out'), '--json'])
  t.is(exported.code, 3, 'export completes the rest and reports the corrupt file')
  t.is(exported.json.problems[0].path, 'docs/victim.txt')
  t.is(exported.json.problems[0].code, 'OBJECT_CORRUPT')
  t.is(await fs.readFile(path.join(work, 'out', 'fine.txt'), 'utf8'), 'fine\n')
})
