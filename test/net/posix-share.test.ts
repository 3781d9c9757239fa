// POSIX fields across machines (issue 13): owners, set-id bits, special files,
// device numbers and extended attributes made in one daemon's mount survive a
// commit, a fork, an export, and a share to a second daemon (private DHT on
// 127.0.0.1), whose mount and export show exactly the same; so do names
// that are not UTF-8.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, sh } from '../helpers/index.js'
import { localBootstrap, peer, ok, mountDir } from '../helpers/net.js'

configure({ timeout: 300_000 })

const LIST = `find . -mindepth 1 -printf '%p %y %m %U %G\\n' | sort; find . -mindepth 1 -not -type d -printf '%p links %n\\n' | sort; for f in $(find . -mindepth 1 \\( -type c -o -type b \\) | sort); do stat -c '%n rdev %t:%T' "$f"; done; for f in $(find . -mindepth 1 | sort); do getfattr -h -d -m - -e hex "$f" 2>/dev/null; done | grep .; echo names; find . -mindepth 1 -printf '%p -> %l\\n' | LC_ALL=C sort | od -An -tx1 -v | tr -d ' \\n'`

test('owners, special files and xattrs made in a mount cross to a second daemon (join, sync, mount, export) and through a fork', async t => {
  const net = await localBootstrap(t)
  const [a, b] = [await peer(t, net), await peer(t, net)]
  await ok(a, ['create', 'sys'])
  const mA = await mountDir(t, a, 'sys')
  await ok(a, ['mount', 'sys', mA])
  const made = await sh(`set -e
mkdir -p srv/data tmp; chmod 1777 tmp; chown 65534:65534 srv/data; chmod 2770 srv/data
echo conf > srv/app.conf; chown 1000:100 srv/app.conf; chmod 4750 srv/app.conf
setfattr -n user.origin -v laptop srv/app.conf; setfattr -n trusted.level -v 3 srv
mkfifo srv/jobs; mknod srv/null c 1 3; mknod srv/loop0 b 7 0
touch srv/data/inherits; ln srv/app.conf srv/data/app.conf
mkdir $'caf\\xe9'; echo bytes > $'caf\\xe9/\\xff\\xfe'; ln -s $'t\\xe9\\xff' $'caf\\xe9/l\\xe9' # names that are not UTF-8
sleep 1.1 # attributes of the first name are cached for up to 1 s after the link (README)`, { cwd: mA })
  t.is(made.code, 0, made.stderr)
  const want = (await sh(LIST, { cwd: mA })).stdout
  t.ok(/\.\/srv\/data\/inherits f 644 0 65534/.test(want), `a setgid directory gave its group (${want.split('\n').find(l => l.includes('inherits'))})`)
  t.ok(/trusted\.level=0x33/.test(want) && /\.\/srv\/loop0 rdev 7:0/.test(want) && /\.\/srv\/data\/app\.conf links 2/.test(want), want)
  t.ok(want.includes(Buffer.from('./caf\xe9/\xff\xfe -> \n', 'latin1').toString('hex')) && want.includes(Buffer.from('./caf\xe9/l\xe9 -> t\xe9\xff\n', 'latin1').toString('hex')), 'names and a symlink target that are not UTF-8, byte for byte')
  await ok(a, ['commit', 'sys'])

  const { key } = await ok(a, ['share', 'sys'])
  const mB = await mountDir(t, b, 'sys')
  const joined = await ok(b, ['join', key, 'sys', '--mount', mB, '--access', 'all'])
  t.is(joined.mount.access, 'all', 'join --mount --access all')
  await ok(b, ['sync', 'sys'])
  await fs.chmod(path.dirname(mB), 0o755).catch(() => {})
  const asNobody = await sh(`setpriv --reuid 65534 --regid 65534 --clear-groups ls ${JSON.stringify(path.join(mB, 'srv', 'data'))}`)
  t.is(asNobody.stdout, 'app.conf\ninherits\n', `another user lists the directory it owns (mode 2770): ${asNobody.stderr}`)
  const denied = await sh(`setpriv --reuid 65534 --regid 65534 --clear-groups cat ${JSON.stringify(path.join(mB, 'srv', 'app.conf'))}`)
  t.ok(/Permission denied/.test(denied.stderr), `and cannot read a file of mode 4750 owned by 1000:100: ${denied.stderr.trim()}`)
  t.is((await sh(LIST, { cwd: mB })).stdout, want, 'the joined mount shows the same types, modes, owners, devices and xattrs')
  const fifo = await sh('(echo over there > srv/jobs &) ; cat srv/jobs', { cwd: mB, timeoutMs: 10_000 })
  t.is(fifo.stdout, 'over there\n', 'its FIFO is a pipe there too (the kernel makes it; the workspace stays read-only)')
  const out = path.join(await tmpDir(t), 'out')
  await ok(b, ['export', 'sys', out])
  t.is((await sh(LIST, { cwd: out })).stdout, want, 'and its export')

  await ok(b, ['fork', 'sys', 'mine'])
  const mF = await mountDir(t, b, 'mine')
  await ok(b, ['mount', 'mine', mF])
  t.is((await sh(LIST, { cwd: mF })).stdout, want, 'a fork too')
  await fs.rm(out, { recursive: true })
})
