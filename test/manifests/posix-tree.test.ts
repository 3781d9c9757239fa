// What a live tree writes for the POSIX fields (issue 13), in process: owners,
// special files and device numbers reach version-2 trees; a workspace made by
// the daemon's own user alone stays in version 1 (its trees keep the bytes and
// hashes they always had); trees read back give the same nodes.
import test from 'brittle'
import path from 'node:path'
import { LiveTree, messages } from '../../manifests/index.js'
import { toHex } from '../../core/index.js'
import { setupEngine } from '../helpers/index.js'

async function live (t: any) {
  const { e, dir } = await setupEngine(t)
  await e.create('w')
  const open = async () => {
    const l = new LiveTree({ trees: e.trees, workspace: await e.workspace('w'), stagingDir: path.join(dir, 'staging') })
    await l.ready()
    t.teardown(() => l.close())
    return l
  }
  return { e, open }
}

test('live tree: the daemon\'s own user alone writes version-1 trees; an owner, a FIFO or a device makes that directory version 2, and reads back', async t => {
  const { e, open } = await live(t)
  const l = await open()
  const me = l.defaultOwner
  await l.mkdir('/src', 0o755, me)
  await l.create('/src/a.txt', 0o644, { owner: me })
  await l.symlink('a.txt', '/src/link', me)
  const first = await l.commit('plain')
  const rootBytes = await e.store.get(toHex(first!.root))
  t.is(rootBytes[0], messages.TREE_VERSION, 'version 1 when nobody else owns anything')

  await l.mkdir('/tmp', 0o1777)
  const mine = await l.create('/tmp/nobodys', 0o600, { owner: { uid: 65534, gid: 65534 } })
  await l.mknod('/tmp/pipe', messages.FIFO, 0o620, 0)
  await l.mknod('/tmp/null', messages.CHAR_DEVICE, 0o666, 0x0103)
  await l.mkdir('/g', 0o2775, { uid: 0, gid: 100 })
  const sub = await l.mkdir('/g/sub', 0o755, { uid: 1000, gid: 1000 })
  t.is(sub.gid, 100, 'a setgid directory gives its group to what is made in it')
  t.is(sub.mode & 0o2000, 0o2000, 'and its setgid bit to directories')
  await l.chown(mine, 0xffffffff, 100)
  t.alike([mine.uid, mine.gid], [65534, 100], 'chown with -1 keeps that id')
  const second = await l.commit('owners')
  const tree = await e.trees.get(second!.root)
  t.is((await e.store.get(toHex(second!.root)))[0], messages.TREE_VERSION_2, 'the root lists /g (owned by group 100): version 2')
  const tmpEntry = tree.entries.find(x => x.name === 'tmp')!
  t.is((await e.store.get(toHex(tmpEntry.tree!)))[0], messages.TREE_VERSION_2)
  const srcEntry = tree.entries.find(x => x.name === 'src')!
  const firstSrc = (await e.trees.get(first!.root)).entries.find(x => x.name === 'src')!
  t.ok(srcEntry.tree!.equals(firstSrc.tree!), '/src is unchanged: the same version-1 tree')

  // a new live tree on the same head reads it all back
  const again = await open()
  const byPath = async (p: string) => again.lookup(p)
  const n = await byPath('/tmp/null')
  t.alike([n.type, n.rdev, n.mode], [messages.CHAR_DEVICE, 0x0103, 0o666])
  t.is((await byPath('/tmp/pipe')).type, messages.FIFO)
  t.alike([(await byPath('/tmp/nobodys')).uid, (await byPath('/tmp/nobodys')).gid], [65534, 100])
  t.is((await byPath('/tmp')).mode, 0o1777)
  t.is((await byPath('/src/a.txt')).uid, null, 'no owner stored: whoever serves the mount')
  t.is(again.stats.files, first!.stats.files + 3, 'special files count as files')
})
