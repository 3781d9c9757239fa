// The mount against a local disk (issue 13): the same scripted operations run
// in a directory on the local disk and in a mounted workspace, as root and as
// an unprivileged user (setpriv), and every result, errno, type, mode, owner
// and device number is compared. Then it all survives a commit, an unmount and
// a mount again, and a second daemon that joins it.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, mountedWorkspace } from '../helpers/index.js'

configure({ timeout: 300_000 })

const NOBODY = 65534

/** Runs `script` in `dir` (bash, from a file), as root or as nobody; every line of output is "<exit code> <what>: <errno text>" or a listing. */
async function inDir (dir: string, script: string, as: 'root' | 'nobody' = 'root') {
  const file = path.join(await scripts, `s${seq++}.sh`)
  await fs.writeFile(file, PRELUDE + script, { mode: 0o644 })
  const prefix = as === 'root' ? '' : `setpriv --reuid ${NOBODY} --regid ${NOBODY} --clear-groups `
  return sh(`cd ${JSON.stringify(dir)} && ${prefix}bash ${file}`)
}
let seq = 0
const scripts = fs.mkdtemp('/tmp/wxs-posix-scripts-').then(async d => { await fs.chmod(d, 0o755); return d })

// r runs a command and prints its exit code and, when it failed, the errno text (the part after the last ': ')
const PRELUDE = `r () { local out; out=$("$@" 2>&1); local rc=$?; if [ $rc -eq 0 ]; then echo "0 $*"; else echo "$rc $*: \${out##*: }"; fi; }
list () { find . -mindepth 1 -not -name lost+found -printf '%p %y %m %U %G\\n' | sort; for f in $(find . -mindepth 1 \\( -type c -o -type b \\) | sort); do stat -c '%n rdev %t:%T' "$f"; done; for f in $(find . -mindepth 1 -not -type d | sort); do stat -c '%n links %h' "$f"; done; }
`

const AS_ROOT = `
r mkdir open; r chmod 0777 open
r mkdir sticky; r chmod 1777 sticky
r mkdir shared; r chown root:${NOBODY} shared; r chmod 2775 shared
r mkdir private; r chmod 0700 private
r touch root-file; r chmod 0644 root-file
r touch sticky/roots; r chmod 0666 sticky/roots
r touch given; r chown ${NOBODY}:${NOBODY} given
r touch setid; r chmod 6755 setid
r chown 1000 setid
r mkfifo pipe; r chmod 0620 pipe
r mknod null c 1 3
r mknod loop b 7 0
r mknod plain-by-mknod p
r mkdir shared/sub
r touch shared/inherits
r mkfifo pipe
r mknod bad x 1 2
r chown 4242:4343 root-file
r chgrp 7 root-file
`

const AS_NOBODY = `
r touch open/mine
r mkdir open/mydir
r touch not-here
r touch private/no
r ls private
r touch sticky/mine
r rm -f sticky/roots
r mv sticky/roots sticky/moved
r rm -f sticky/mine
r chmod 0600 root-file
r chmod 0600 given
r chown 0 given
r chgrp 0 given
r chown ${NOBODY}:${NOBODY} open/mine
r touch given
r sh -c 'echo x >> root-file'
r sh -c 'echo x >> given'
r rm open/mine
r mkfifo open/fifo
r mknod open/dev c 1 3
r touch shared/nobody-was-here
`

test('ownership, permissions and special files: the same operations give the same results as on the local disk, as root and as another user', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'posix')
  const disk = await tmpDir(t, 'wxs-disk-')
  for (const d of [mnt, disk]) await fs.chmod(d, 0o755)
  await fs.chmod(path.dirname(mnt), 0o755).catch(() => {})

  for (const [who, script] of [['root', AS_ROOT], ['nobody', AS_NOBODY]] as const) {
    const onDisk = await inDir(disk, script, who)
    const onMount = await inDir(mnt, script, who)
    t.is(onDisk.stderr, '', `${who} on the disk ran`)
    t.alike(onMount.stdout.split('\n'), onDisk.stdout.split('\n'), `${who}: every result and errno as on the local disk`)
  }
  // the FIFO works as one (the kernel makes the pipe)
  const fifo = await sh('(echo through the pipe > pipe &) ; cat pipe', { cwd: mnt, timeoutMs: 10_000 })
  t.is(fifo.stdout, 'through the pipe\n', 'a FIFO in the mount is a pipe')
  // a Unix socket: bind creates the node, a client connects through it
  const sock = await sh(`node -e "
    const net = require('net')
    const srv = net.createServer(c => { c.end('hello over the socket') }).listen('s.sock', () => {
      net.connect('s.sock').on('data', d => { console.log(String(d)); process.exit(0) }) // exit: libuv would unlink the node on close
    })"`, { cwd: mnt, timeoutMs: 10_000 })
  t.is(sock.stdout.trim(), 'hello over the socket', sock.stderr)

  const listed = async (d: string) => (await inDir(d, 'list')).stdout
  const diskList = await listed(disk)
  t.ok(/\.\/null c 644 0 0/.test(diskList) && /\.\/shared\/sub d 2755 0 65534/.test(diskList), 'the listing compares what matters')
  const before = await listed(mnt)
  t.is(before.replace(/^\.\/s\.sock .*\n/m, '').replace(/^\.\/s\.sock links 1\n/m, ''), diskList, 'types, modes, owners, device numbers and link counts as on the local disk')
  t.ok(/^\.\/s\.sock s 755 0 0$/m.test(before), 'the socket\'s node is a socket')

  // committed, unmounted, mounted again: all of it is in the workspace
  t.is((await wxs(home, ['unmount', 'posix'])).code, 0)
  t.is((await wxs(home, ['mount', 'posix', mnt])).code, 0)
  t.is(await listed(mnt), before, 'the same after unmount and mount again')
  const fifo2 = await sh('(echo again > pipe &) ; cat pipe', { cwd: mnt, timeoutMs: 10_000 })
  t.is(fifo2.stdout, 'again\n', 'and the FIFO is still one')
})
