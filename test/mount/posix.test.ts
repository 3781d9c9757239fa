// The mount against a local disk (issue 13): the same scripted operations run
// in a directory on the local disk and in a mounted workspace, as root and as
// an unprivileged user (setpriv), and every result, errno, type, mode, owner
// and device number is compared. Then it all survives a commit, an unmount and
// a mount again, and a second daemon that joins it.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, mountedWorkspace, waitFor, daemonPid, FUSE_LL } from '../helpers/index.js'

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
py () { python3 -c "import os, errno
try:
  $1
except OSError as e:
  print('errno', errno.errorcode[e.errno])"; }
list () { find . -mindepth 1 -not -name lost+found -printf '%p %y %m %U %G\\n' | sort; for f in $(find . -mindepth 1 \\( -type c -o -type b \\) | sort); do stat -c '%n rdev %t:%T' "$f"; done; for f in $(find . -mindepth 1 -not -type d | sort); do stat -c '%n links %h' "$f"; done; for f in $(find . -mindepth 1 | sort); do getfattr -h -d -m - -e hex "$f" 2>/dev/null; done; }
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
  const mnt = await mountedWorkspace(t, home, 'posix', { access: 'all' })
  const disk = await tmpDir(t, 'wxs-disk-')
  for (const d of [mnt, disk]) await fs.chmod(d, 0o755)
  await fs.chmod(path.dirname(mnt), 0o755).catch(() => {})
  t.ok((await fs.readFile('/proc/self/mounts', 'utf8')).split('\n').some(l => l.split(' ')[1] === mnt && /\bdefault_permissions\b/.test(l) && /\ballow_other\b/.test(l) && /\bnosuid\b/.test(l) && /\bnodev\b/.test(l)), '--access all: default_permissions, allow_other; and nosuid, nodev')

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
  t.is((await wxs(home, ['mount', 'posix', mnt, '--access', 'all'])).code, 0)
  t.is(await listed(mnt), before, 'the same after unmount and mount again')
  const fifo2 = await sh('(echo again > pipe &) ; cat pipe', { cwd: mnt, timeoutMs: 10_000 })
  t.is(fifo2.stdout, 'again\n', 'and the FIFO is still one')
})

test('extended attributes as on the local disk: set, get, list, remove, flags, sizes, namespaces; ACLs refused cleanly; kept across a remount', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'xattr', { access: 'all' })
  const disk = await tmpDir(t, 'wxs-disk-')
  for (const d of [mnt, disk]) await fs.chmod(d, 0o755)
  const script = `
r touch f; r mkdir d; r ln -s f l; r mkfifo p
r setfattr -n user.mime -v text/plain f
r setfattr -n user.empty f
r setfattr -n user.dir -v 0x00ff d
r setfattr -n trusted.t -v secret f
r setfattr -n security.s -v label f
r setfattr -n security.capability -v 0x0100000200000000000000000000000000000000 f
r sh -c 'echo written after a capability >> f'
r setfattr -n user.mime -v again f
r setfattr -n user.on-link -v x -h l
r setfattr -n user.on-fifo -v x p
r setfattr -n bogus.ns -v x f
r setfattr -x user.absent f
r getfattr -n user.absent f
py "os.setxattr('f', 'user.mime', b'x', os.XATTR_CREATE)"
py "os.setxattr('f', 'user.new', b'x', os.XATTR_REPLACE)"
py "print(len(os.getxattr('f', 'user.mime')), sorted(os.listxattr('f')))"
py "os.setxattr('f', 'user.big', b'x' * 70000)"
py "os.setxattr('f', 'user.' + 'n' * 250, b'x'); print('250 ok')"
py "os.setxattr('f', 'user.' + 'n' * 251, b'x')"
py "print(len(os.getxattr('f', 'user.mime', follow_symlinks=False)))"
py "import ctypes; libc = ctypes.CDLL(None, use_errno=True); b = ctypes.create_string_buffer(2); n = libc.getxattr(b'f', b'user.mime', b, 2); print(n, os.strerror(ctypes.get_errno()))"
py "import ctypes; libc = ctypes.CDLL(None, use_errno=True); print(libc.getxattr(b'f', b'user.mime', None, 0))"
py "import ctypes; libc = ctypes.CDLL(None, use_errno=True); b = ctypes.create_string_buffer(4); n = libc.listxattr(b'f', b, 4); print(n, os.strerror(ctypes.get_errno()))"
r setfattr -x user.empty f
getfattr -d -m - -e hex f d
r setfacl -m u:65534:r f
r cp -a f copy
getfattr -d -m user -e hex copy
`
  const onDisk = await inDir(disk, script)
  const onMount = await inDir(mnt, script)
  t.ok(/user\.mime=0x616761696e/.test(onDisk.stdout) && /ERANGE|Numerical result/.test(onDisk.stdout), onDisk.stdout)
  const acl = (out: string) => out.split('\n').filter(l => !l.includes('setfacl'))
  t.alike(acl(onMount.stdout), acl(onDisk.stdout), 'every result and errno as on the local disk (but ACLs)')
  t.ok(/^\d+ setfacl .*: Operation not supported$/m.test(onMount.stdout), `setfacl fails cleanly: ${onMount.stdout.split('\n').find(l => l.includes('setfacl'))}`)
  const asNobody = await inDir(mnt, 'r getfattr -n user.mime f; r setfattr -n user.x -v 1 f; r getfattr -n trusted.t f', 'nobody')
  const asNobodyDisk = await inDir(disk, 'r getfattr -n user.mime f; r setfattr -n user.x -v 1 f; r getfattr -n trusted.t f', 'nobody')
  t.alike(asNobody.stdout, asNobodyDisk.stdout, 'another user: may read, may not write, does not see trusted.*')
  const before = (await inDir(mnt, "getfattr -R -d -m - -e hex . | grep -v '^#'")).stdout
  t.ok(before.includes('trusted.t=0x736563726574'), 'trusted.* kept')
  t.is((await wxs(home, ['unmount', 'xattr'])).code, 0)
  t.is((await wxs(home, ['mount', 'xattr', mnt, '--access', 'all'])).code, 0)
  t.is((await inDir(mnt, "getfattr -R -d -m - -e hex . | grep -v '^#'")).stdout, before, 'committed: the same after unmount and mount again')
})

test('a file unlinked or renamed over while open stays readable and writable through its descriptors, and costs nothing after the last close', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'unlinked')
  const disk = await tmpDir(t, 'wxs-disk-')
  const script = `
const fs = require('fs')
const out = []
fs.writeFileSync('a', 'committed content\\n')
const fd = fs.openSync('a', 'r+')
fs.unlinkSync('a')
out.push(fs.existsSync('a'), fs.fstatSync(fd).nlink)
fs.writeSync(fd, 'CHANGED', 0)
const buf = Buffer.alloc(64); const n = fs.readSync(fd, buf, 0, 64, 0)
out.push(buf.subarray(0, n).toString())
fs.writeFileSync('b', 'old b\\n')
const fb = fs.openSync('b', 'r')
fs.writeFileSync('c', 'new b\\n'); fs.renameSync('c', 'b')
const b2 = Buffer.alloc(64); out.push(b2.subarray(0, fs.readSync(fb, b2, 0, 64, 0)).toString(), fs.readFileSync('b', 'utf8'))
fs.mkdirSync('d'); fs.writeFileSync('d/x', 'x')
const fx = fs.openSync('d/x', 'r'); fs.unlinkSync('d/x')
out.push(fs.readdirSync('d').length)
fs.closeSync(fd); fs.closeSync(fb); fs.closeSync(fx)
fs.rmdirSync('d')
out.push(fs.readdirSync('.').sort().join(','))
console.log(JSON.stringify(out))
`
  const file = path.join(await tmpDir(t), 'unlinked.cjs')
  await fs.writeFile(file, script)
  const run = (dir: string) => sh(`node ${file}`, { cwd: dir })
  const onDisk = await run(disk)
  const onMount = await run(mnt)
  t.is(onDisk.stderr, '')
  t.is(onMount.stdout, onDisk.stdout, `as on the local disk: ${onDisk.stdout.trim()}`)
  // nothing of the unlinked files is left in staging once closed
  const staging = path.join(home, 'staging', 'unlinked')
  t.ok(await waitFor(async () => (await fs.readdir(staging)).length <= 1, 5000, 100), 'staging holds at most the live file b')
  t.is((await sh('ls', { cwd: mnt })).stdout, 'b\n')
  // the directory of a file unlinked while open goes at once, as on ext4 (libfuse 2 kept it until the close: README)
  if (FUSE_LL) {
    const rm = await sh(`mkdir g && echo x > g/x && exec 3<g/x && rm g/x && rmdir g && [ ! -e g ] && cat <&3 && exec 3<&- && ls`, { cwd: mnt })
    t.is(rm.stdout, 'x\nb\n', `rmdir of the directory while its unlinked file is open: ${rm.stderr}`)
    // and in a directory removed while it is the cwd, nothing can be made or found, as on ext4
    const inGone = 'mkdir h && cd h && rmdir ../h && { touch x; mkdir y; ln -s a z; ls -a; cat x; } 2>&1; true'
    const want = await sh(inGone, { cwd: disk })
    t.ok(/No such file or directory/.test(want.stdout), want.stdout)
    t.is((await sh(inGone, { cwd: mnt })).stdout, want.stdout, 'a removed cwd: as on the local disk')
  } else {
    const gap = await sh(`mkdir g && echo x > g/x && exec 3<g/x && rm g/x && { rmdir g 2>&1 || true; } && cat <&3 && exec 3<&- && rmdir g && echo gone`, { cwd: mnt })
    t.is(gap.stdout, "rmdir: failed to remove 'g': Directory not empty\nx\ngone\n", gap.stderr)
  }
})

// O_TMPFILE and the f-calls on a file with no name: the Python below, run on the
// local disk and in the mount, must print the same. linkat through ctypes:
// os.link(follow_symlinks=True) calls link(2), which does not follow /proc links.
const NAMELESS = `import os, errno, json, stat, ctypes
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
AT_SYMLINK_FOLLOW = 0x400
AT_EMPTY_PATH = 0x1000
def linkat(fd, name, how):
    if how == 'empty':
        r = libc.linkat(fd, b'', AT_FDCWD, name.encode(), AT_EMPTY_PATH)
    else:
        r = libc.linkat(AT_FDCWD, ('/proc/self/fd/%d' % fd).encode(), AT_FDCWD, name.encode(), AT_SYMLINK_FOLLOW)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
out = []
def step(name, fn):
    try:
        r = fn()
        out.append([name, r])
    except OSError as e:
        out.append([name, 'errno ' + errno.errorcode[e.errno]])
# O_TMPFILE: an unnamed file in a directory, written, then given a name with linkat
fd = None
def tmp():
    global fd
    fd = os.open('.', os.O_TMPFILE | os.O_RDWR, 0o640)
    return sorted(os.listdir('.'))
step('O_TMPFILE', tmp)
if fd is not None:
    step('write', lambda: os.write(fd, b'hello tmpfile\\n'))
    step('fstat', lambda: [oct(os.fstat(fd).st_mode), os.fstat(fd).st_nlink, os.fstat(fd).st_size])
    step('fchmod', lambda: (os.fchmod(fd, 0o600), oct(os.fstat(fd).st_mode))[1])
    step('fsetxattr', lambda: os.setxattr(fd, 'user.k', b'v'))
    step('fgetxattr', lambda: os.getxattr(fd, 'user.k').decode())
    step('linkat', lambda: (linkat(fd, 'named', 'proc'), sorted(os.listdir('.')))[1])
    step('named', lambda: [open('named').read(), oct(os.stat('named').st_mode), os.stat('named').st_nlink, os.stat('named').st_ino == os.fstat(fd).st_ino, os.getxattr('named', 'user.k').decode()])
    step('second name', lambda: (linkat(fd, 'named2', 'empty'), os.fstat(fd).st_nlink)[1])
    step('write after link', lambda: os.pwrite(fd, b'H', 0))
    step('named 2', lambda: open('named').read())
    os.close(fd)
# O_TMPFILE | O_EXCL: never linkable
def excl():
    f = os.open('.', os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
    try:
        os.write(f, b'x')
        linkat(f, 'never', 'proc')
        return 'linked'
    finally:
        os.close(f)
step('O_TMPFILE|O_EXCL link', excl)
# a tmpfile closed without a name: gone
def gone():
    f = os.open('.', os.O_TMPFILE | os.O_WRONLY, 0o600)
    os.write(f, b'y' * 100000)
    os.close(f)
    return sorted(os.listdir('.'))
step('closed unnamed', gone)
step('O_TMPFILE on a file', lambda: os.open('named', os.O_TMPFILE | os.O_RDWR, 0o600))
step('O_TMPFILE read-only', lambda: os.open('.', os.O_TMPFILE | os.O_RDONLY, 0o600))
# a file unlinked while open: f-calls and a reopen through /proc
with open('u', 'w') as f: f.write('unlinked content')
u = os.open('u', os.O_RDWR)
os.unlink('u')
step('fchmod unlinked', lambda: (os.fchmod(u, 0o604), oct(os.fstat(u).st_mode))[1])
step('fchown unlinked', lambda: (os.fchown(u, 1234, 5678), [os.fstat(u).st_uid, os.fstat(u).st_gid])[1])
step('futimens unlinked', lambda: (os.utime(u, ns=(10**18, 2 * 10**18)), [os.fstat(u).st_atime_ns, os.fstat(u).st_mtime_ns])[1])
step('ftruncate unlinked', lambda: (os.ftruncate(u, 8), os.fstat(u).st_size)[1])
step('fsetxattr unlinked', lambda: os.setxattr(u, 'user.a', b'1'))
step('fgetxattr unlinked', lambda: os.getxattr(u, 'user.a').decode())
step('flistxattr unlinked', lambda: os.listxattr(u))
step('fremovexattr unlinked', lambda: (os.removexattr(u, 'user.a'), os.listxattr(u))[1])
step('reopen via /proc', lambda: open('/proc/self/fd/%d' % u).read())
step('reopen rw via /proc', lambda: (os.write(os.open('/proc/self/fd/%d' % u, os.O_WRONLY | os.O_APPEND), b'+more'), os.pread(u, 100, 0).decode())[1])
step('link unlinked', lambda: linkat(u, 'back', 'proc'))
os.close(u)
step('end', lambda: [sorted(os.listdir('.')), open('named').read(), os.stat('named').st_nlink])
print(json.dumps(out))
`

test('files with no name as on the local disk: O_TMPFILE then linkat, fchmod/fchown/futimens/fsetxattr on an unlinked file, a reopen through /proc/self/fd; committed and exported as hard links, recorded as created', { skip: !FUSE_LL }, async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'nameless')
  const disk = await tmpDir(t, 'wxs-disk-')
  const file = path.join(await tmpDir(t), 'nameless.py')
  await fs.writeFile(file, NAMELESS)
  const onDisk = await sh(`python3 ${file}`, { cwd: disk })
  const onMount = await sh(`python3 ${file}`, { cwd: mnt })
  t.is(onDisk.stderr, '')
  const want = JSON.parse(onDisk.stdout) as Array<[string, unknown]>
  t.alike(want.find(x => x[0] === 'named')?.[1], ['hello tmpfile\n', '0o100600', 1, true, 'v'], 'the disk itself: O_TMPFILE + linkat named the file')
  t.alike(JSON.parse(onMount.stdout), want, `as on the local disk: ${onMount.stderr}`)
  // the file made with O_TMPFILE is in the commit, as two names of one file
  t.is((await wxs(home, ['commit', 'nameless', '-m', 'named'])).code, 0)
  const out = path.join(await tmpDir(t), 'out')
  t.is((await wxs(home, ['export', 'nameless', out])).code, 0)
  const [a, b] = await Promise.all([fs.stat(path.join(out, 'named')), fs.stat(path.join(out, 'named2'))])
  t.is(a.ino, b.ino, 'exported as hard links')
  t.is(a.nlink, 2)
  t.is(await fs.readFile(path.join(out, 'named'), 'utf8'), 'Hello tmpfile\n')
  t.is((await sh('ls -A', { cwd: out })).stdout, 'named\nnamed2\n', 'nothing of the files closed with no name')
  // the audit trail: created when it got its name, with every byte written through it
  const audit = (await wxs(home, ['audit', 'nameless', '--json'])).json.records as Array<{ op: string, path: string, bytes?: number }>
  const ops = audit.filter(r => r.path === 'named').map(r => r.op + (r.bytes !== undefined ? ` ${r.bytes}` : ''))
  t.ok(ops.includes('create'), `named is recorded as created: ${ops.join(', ')}`)
  t.ok(ops.includes('write 15'), 'its 15 bytes written (14 before the name, 1 after)')
  t.absent(audit.some(r => r.path === ''), 'no record without a path')
  // nothing left in staging: the unnamed files went at their last close
  t.ok(await waitFor(async () => (await fs.readdir(path.join(home, 'staging', 'nameless'))).length === 0, 5000, 100), 'staging is empty')
})

test('import keeps owners, set-id bits and special files; export gives them back (as root); the mount shows them', async t => {
  const home = await stateDir(t)
  const src = await tmpDir(t, 'wxs-src-')
  const setup = await inDir(src, `
r mkdir -p app/bin home/nobody
r sh -c 'echo hi > app/bin/tool'; r chmod 4755 app/bin/tool; r chown 1000:1000 app/bin/tool; r chmod 4755 app/bin/tool
r chown -R ${NOBODY}:${NOBODY} home/nobody; r sh -c 'echo mine > home/nobody/notes'; r chown ${NOBODY}:${NOBODY} home/nobody/notes
r mkfifo app/queue; r chmod 0620 app/queue
r mknod app/null c 1 3
r node -e "require('net').createServer().listen('app/control.sock', () => process.exit(0))"
r ln -s bin/tool app/tool-link; r chown -h ${NOBODY}:${NOBODY} app/tool-link
r setfattr -n user.mime -v application/x-sh app/bin/tool; r setfattr -n trusted.owner -v ops app; r setfattr -n user.empty home
`)
  t.absent(/^[1-9]/m.test(setup.stdout), setup.stdout)
  const created = await wxs(home, ['create', 'sys', '--from', src, '--json'])
  t.is(created.code, 0, created.stderr)
  t.alike(created.json.problems ?? [], [], 'nothing skipped')
  const out = path.join(await tmpDir(t), 'out')
  const exported = await wxs(home, ['export', 'sys', out, '--json'])
  t.is(exported.code, 0, exported.stderr)
  const listing = async (d: string) => (await inDir(d, 'list')).stdout
  const want = await listing(src)
  t.ok(/\.\/app\/bin\/tool f 4755 1000 1000/.test(want) && /\.\/app\/null c 644 0 0/.test(want) && /\.\/app\/control\.sock s/.test(want) && /trusted\.owner=0x6f7073/.test(want), want)
  t.is(await listing(out), want, 'exported: types, modes, owners and device numbers as imported')
  const mnt = await tmpDir(t, 'wxs-mnt-sys-')
  t.is((await wxs(home, ['mount', 'sys', mnt])).code, 0)
  t.teardown(() => wxs(home, ['unmount', 'sys']), { order: -1 })
  t.is(await listing(mnt), want, 'and the mount shows them so')
})

const LINKS = `
r sh -c 'echo one > a'
r ln a b
r mkdir d
r ln a d/c
[ a -ef b ] && [ b -ef d/c ] && echo 'one inode'
r sh -c 'echo two >> b'
cat a d/c
r rm a
r mv d/c d/e
[ b -ef d/e ] && echo 'still one'
r ln d nope
r ln b b
r ln b d/e
r chmod 600 b
r mkfifo p; r ln p p2
r ln -s b s; r ln s s2
r sh -c 'exec 3<b; rm b; cat <&3'
`

test('hard links as on the local disk: one inode and content for every name, nlink counts, unlink and rename of one name; kept across a remount, an export and an import', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'links')
  const disk = await tmpDir(t, 'wxs-disk-')
  const onDisk = await inDir(disk, LINKS)
  const onMount = await inDir(mnt, LINKS)
  t.ok(/one inode/.test(onDisk.stdout) && /still one/.test(onDisk.stdout), onDisk.stdout)
  t.alike(onMount.stdout.split('\n'), onDisk.stdout.split('\n'), 'every result and errno as on the local disk')
  const want = (await inDir(disk, 'list')).stdout
  t.ok(/\.\/d\/e links 1/.test(want) && /\.\/p links 2/.test(want), want)
  // libfuse 2 (README): the kernel caches attributes per name for up to 1 s; one inode under libfuse 3's low-level API
  if (!FUSE_LL) await new Promise(resolve => setTimeout(resolve, 1100))
  t.is((await inDir(mnt, 'list')).stdout, want, 'link counts, modes and types as on the local disk')

  // names in directories not read yet: the remount loads them lazily; a write through one name first
  t.is((await inDir(mnt, 'ln d/e top; echo three >> d/e')).code, 0)
  t.is((await wxs(home, ['unmount', 'links'])).code, 0)
  t.is((await wxs(home, ['mount', 'links', mnt])).code, 0)
  const lazy = await inDir(mnt, 'echo four >> top; cat d/e; stat -c %h top d/e; [ top -ef d/e ] && echo same')
  t.is(lazy.stdout, 'one\ntwo\nthree\nfour\n2\n2\nsame\n', 'after a remount: both names one file again, the write through one seen through the other')

  // export makes real hard links; an import keeps them
  const out = path.join(await tmpDir(t), 'out')
  t.is((await wxs(home, ['export', 'links', out])).code, 0)
  t.is((await inDir(out, '[ top -ef d/e ] && echo linked; stat -c %h top p')).stdout, 'linked\n2\n2\n')
  t.is((await wxs(home, ['create', 'again', '--from', out])).code, 0)
  const m2 = await tmpDir(t, 'wxs-mnt-again-')
  t.is((await wxs(home, ['mount', 'again', m2])).code, 0)
  t.teardown(() => wxs(home, ['unmount', 'again']), { order: -1 })
  t.is((await inDir(m2, '[ top -ef d/e ] && echo linked; stat -c %h top d/e p p2; echo five >> top; cat d/e')).stdout, 'linked\n2\n2\n2\n2\none\ntwo\nthree\nfour\nfive\n', 'imported: still one file under both names')
})

// every name's nlink and mode right after a link, chmod or unlink through another name: one kernel inode for all
const LINK_ATTRS = `
echo one > a; stat -c '%n %h %a' a
ln a b; stat -c '%n %h' a b
chmod 600 b; stat -c '%n %a' a
ln b c; stat -c '%n %h' a
rm c; stat -c '%n %h' a b
chmod 640 a; stat -c '%n %a %h' b
echo two >> b; cat a
mkdir -p cp/src; echo s > cp/src/f; cp -al cp/src cp/copy && tar -cf /dev/null -C cp . && echo 'tar: no file changed'
`

test('hard links: right after ln, chmod or rm through one name, stat of the others shows it (one kernel inode, as on ext4)', { skip: !FUSE_LL }, async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'linkattrs')
  const disk = await tmpDir(t, 'wxs-disk-')
  const onDisk = await inDir(disk, LINK_ATTRS)
  const onMount = await inDir(mnt, LINK_ATTRS)
  t.ok(/b 2\n/.test(onDisk.stdout) && /tar: no file changed/.test(onDisk.stdout), onDisk.stdout)
  t.is(onMount.stdout, onDisk.stdout, 'every nlink and mode at once, as on the local disk')
  t.is(onMount.stderr, '', 'tar said nothing changed as it read')
})

test('tools that hard-link: git clone --local, cp -al, tar of hard links', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'tools')
  const r = await sh(`set -e
git init -q origin && cd origin && git config user.email t@t && git config user.name t
for i in 1 2 3; do echo $i > f$i; done; git add . && git commit -qm one && cd ..
git clone -q --local origin clone
test "$(find clone/.git/objects -type f -links +1 | wc -l)" -gt 0 && echo 'git linked its objects'
git -C clone log --oneline | wc -l
cp -al origin copy && [ origin/f1 -ef copy/f1 ] && echo 'cp -al linked'
${FUSE_LL ? '' : 'sleep 1.1 # libfuse 2 (README): attributes of the other names are cached for up to 1 s'}
tar -cf /tmp/wxs-links-$$.tar origin copy && mkdir x && tar -xf /tmp/wxs-links-$$.tar -C x && rm /tmp/wxs-links-$$.tar
[ x/origin/f1 -ef x/copy/f1 ] && echo 'tar made the link'
sleep 1.1; stat -c %h origin/f1 x/origin/f1
git -C clone fsck --no-progress 2>&1 && echo fsck ok`, { cwd: mnt })
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout, 'git linked its objects\n1\ncp -al linked\ntar made the link\n2\n2\nfsck ok\n')
})

test('names: 255 bytes is the most, as on ext4 (ENAMETOOLONG past it, for creating and for looking up); long paths work', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'names')
  const disk = await tmpDir(t, 'wxs-disk-')
  const script = `
n255=$(printf 'n%.0s' $(seq 255)); n256=$(printf 'n%.0s' $(seq 256)); u=$(printf 'é%.0s' $(seq 128))
r touch $n255
r touch $n256
r stat -c %s $n256
r touch $u
r mkdir -p $(printf 'deep/%.0s' $(seq 400))end
r sh -c "cd $(printf 'deep/%.0s' $(seq 400)) && pwd | wc -c && echo ok > f && cat f"
ls | wc -l
`
  const onDisk = await inDir(disk, script)
  const onMount = await inDir(mnt, script)
  t.ok(/File name too long/.test(onDisk.stdout), onDisk.stdout)
  t.alike(onMount.stdout.replace(/^\d+$/m, 'N').split('\n'), onDisk.stdout.replace(/^\d+$/m, 'N').split('\n'), 'as on the local disk')
})

test('names that are not UTF-8: made, listed, renamed, linked and looked up byte for byte as on the local disk; kept by a commit, a remount, an export, an import and in diff', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'bytes')
  const disk = await tmpDir(t, 'wxs-disk-')
  const script = `
r touch $'caf\\xe9'
r mkdir $'\\xff\\xfe'
r cp /etc/hostname $'\\xff\\xfe/\\xc3'
r ln -s $'t\\xe9\\xff' $'l\\xe9'
r touch $(printf '\\xff%.0s' $(seq 255))
r touch $(printf '\\xff%.0s' $(seq 256))
r touch $'real\\xef\\xbf\\xbd' $'surrogate\\xed\\xa0\\x80' $'overlong\\xc0\\xaf'
r mv $'caf\\xe9' $'caf\\xc3\\xa9'
r touch $'caf\\xe9'
r ln $'caf\\xe9' $'hard\\x80'
r stat -c %h $'hard\\x80'
r cat $'caf\\xe9' $'\\xff\\xfe/\\xc3'
`
  const LIST = `python3 -c "import os
for root, dirs, files in sorted(os.walk(b'.')):
  for n in sorted(dirs + files):
    p = os.path.join(root, n)
    print(repr(p), os.readlink(p) if os.path.islink(p) else 'dir' if os.path.isdir(p) else os.lstat(p).st_size, os.lstat(p).st_nlink)"`
  const onDisk = await inDir(disk, script + LIST)
  const onMount = await inDir(mnt, script + LIST)
  t.ok(/File name too long/.test(onDisk.stdout) && /b'.\/caf\\xe9' 0 2/.test(onDisk.stdout), onDisk.stdout)
  t.alike(onMount.stdout.split('\n'), onDisk.stdout.split('\n'), 'every result and the listing (bytes as Python shows them) as on the local disk')
  const want = (await sh(LIST, { cwd: disk })).stdout

  await wxs(home, ['commit', 'bytes'])
  t.is((await wxs(home, ['unmount', 'bytes'])).code, 0)
  t.is((await wxs(home, ['mount', 'bytes', mnt])).code, 0)
  t.is((await sh(LIST, { cwd: mnt })).stdout, want, 'the same after a commit, an unmount and a mount')
  const out = path.join(await tmpDir(t), 'out')
  t.is((await wxs(home, ['export', 'bytes', out])).code, 0)
  t.is((await sh(LIST, { cwd: out })).stdout, want, 'its export has the same bytes')
  const imported = await wxs(home, ['create', 'from-disk', '--from', disk, '--json'])
  t.is(imported.code, 0, imported.stderr)
  const out2 = path.join(await tmpDir(t), 'out2')
  t.is((await wxs(home, ['export', 'from-disk', out2])).code, 0)
  t.is((await sh(LIST, { cwd: out2 })).stdout, want, 'an import of the local disk\'s directory exports the same bytes')

  const diff = await wxs(home, ['diff', 'bytes', '0', 'head', '--json'])
  t.ok(diff.json.changes.some((c: { path: string }) => c.path === 'caf\udce9') && diff.json.changes.some((c: { path: string }) => c.path === '\udcff\udcfe/\udcc3'), '--json keeps each byte that is not UTF-8 as U+DC80+byte (Python: os.fsencode)')
  const human = await wxs(home, ['diff', 'bytes', '0', 'head'])
  t.ok(human.stdout.includes('A "caf\\351"  (0 B)') && human.stdout.includes('A café  (0 B)'), `people see such names quoted, with octal bytes, as git shows them:\n${human.stdout}`)
})

test('--access owner (the default): only the daemon\'s user gets in, without the kernel\'s permission checks; a bad --access is a usage error; the access survives a crash', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'mine')
  await fs.chmod(mnt, 0o777)
  t.is((await sh('echo x > f && cat f', { cwd: mnt })).stdout, 'x\n', 'root uses it')
  const other = await inDir('/', `r ls ${mnt}`, 'nobody')
  t.ok(/Permission denied/.test(other.stdout), `another user does not get in: ${other.stdout.trim()}`)
  const line = (await fs.readFile('/proc/self/mounts', 'utf8')).split('\n').find(l => l.split(' ')[1] === mnt) ?? ''
  t.absent(/default_permissions|allow_other/.test(line), line)
  t.is((await wxs(home, ['unmount', 'mine'])).code, 0)
  t.is((await wxs(home, ['mount', 'mine', mnt, '--access', 'everyone'])).code, 2, 'a bad --access is a usage error')
  t.is((await wxs(home, ['mount', 'mine', mnt, '--access', 'all'])).code, 0)
  const list = await wxs(home, ['list', '--json'])
  t.is(list.json[0].mount?.access, 'all', 'wxs list says the access')
  const records = JSON.parse(await fs.readFile(path.join(home, 'mounts.json'), 'utf8'))
  t.alike(records, { v: 2, mounts: { mine: { dir: mnt, access: 'all' } } }, 'mounts.json records it (version 2)')
  process.kill((await daemonPid(home))!, 'SIGKILL')
  t.ok(await waitFor(async () => (await wxs(home, ['list', '--json'])).json?.[0]?.mount?.access === 'all', 20_000, 200), 'the next daemon mounts it again with the same access')
  t.is((await inDir('/', `r ls ${mnt}`, 'nobody')).stdout.trim(), `0 ls ${mnt}`, 'and another user gets in again')
})
