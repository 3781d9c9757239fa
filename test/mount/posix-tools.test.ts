// Real programs in a mounted workspace (issue 13, "Real tools"): rsync -aHAX in
// and out, Python's tempfile, GNU make -j with its jobserver, Unix sockets,
// pnpm's hard-linking store, tar with hard links and FIFOs, non-UTF-8 names.
// Each checks what a user would: the result equals the same thing done on the
// local disk, byte for byte, with modes, owners, link groups, xattrs and mtimes.
// The mount is only ever touched from child processes (sh()).
import test, { configure, type Assert } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, mountedWorkspace, waitFor, ROOT, WXS_BIN, FUSE_LL } from '../helpers/index.js'

configure({ timeout: 300_000 })

const NOBODY = 65534

// One line per entry, sorted: path (non-UTF-8 bytes as \xNN), type, mode, uid, gid, and for
// non-directories nlink and its link group (the smallest name with the same inode); size and
// sha256 of files; symlink targets; user.* xattrs in hex; mtime in ns. Options drop fields
// that are filesystem details for a given comparison.
const LISTING_PY = `
import os, sys, stat, hashlib
root = os.fsencode(sys.argv[1])
opts = set(sys.argv[2:])
paths = []
for dirpath, dirnames, filenames in os.walk(root):
    for n in dirnames + filenames:
        paths.append(os.path.join(dirpath, n))
paths.sort()
first = {}
rows = []
def show(b):
    return b.decode('utf-8', 'backslashreplace')
for p in paths:
    rel = os.path.relpath(p, root)
    st = os.lstat(p)
    m = st.st_mode
    t = 'd' if stat.S_ISDIR(m) else 'f' if stat.S_ISREG(m) else 'l' if stat.S_ISLNK(m) else 'p' if stat.S_ISFIFO(m) else 's' if stat.S_ISSOCK(m) else 'c' if stat.S_ISCHR(m) else 'b'
    if t != 'd':
        first.setdefault((st.st_dev, st.st_ino), rel)
    rows.append((rel, t, st))
out = []
for rel, t, st in rows:
    f = [show(rel), t, oct(stat.S_IMODE(st.st_mode)) if t != 'l' else '-']
    if 'no-owner' not in opts:
        f += [str(st.st_uid), str(st.st_gid)]
    if t != 'd':
        f += ['nlink=%d' % st.st_nlink, 'group=' + show(first[(st.st_dev, st.st_ino)])]
    p = os.path.join(root, rel)
    if t == 'f':
        h = hashlib.sha256()
        with open(p, 'rb') as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b''):
                h.update(chunk)
        f += ['size=%d' % st.st_size, h.hexdigest()[:16]]
    if t == 'l':
        f += ['-> ' + show(os.readlink(p))]
    if 'no-xattr' not in opts:
        try:
            names = sorted(n for n in os.listxattr(p, follow_symlinks=False) if n.startswith('user.'))
        except OSError:
            names = []
        f += ['%s=%s' % (n, os.getxattr(p, n, follow_symlinks=False).hex()) for n in names]
    if not ((t == 'd' and 'no-dir-mtime' in opts) or (t == 'l' and 'no-link-mtime' in opts)):
        f += ['mtime=%d' % (st.st_mtime_ns // 1000 if 'usec' in opts else st.st_mtime_ns)]
    out.append('\\t'.join(f))
sys.stdout.write('\\n'.join(out) + '\\n')
`

/** A dir on the local disk with the listing script in it; returns a function listing a tree through a child process. */
async function lister (t: Assert) {
  const dir = await tmpDir(t, 'wxs-tools-')
  await fs.writeFile(path.join(dir, 'listing.py'), LISTING_PY)
  return async (tree: string, ...opts: string[]) => {
    const r = await sh(`python3 ${JSON.stringify(path.join(dir, 'listing.py'))} ${JSON.stringify(tree)} ${opts.join(' ')}`)
    if (r.code !== 0) throw new Error(`listing ${tree}: ${r.stderr}`)
    return r.stdout
  }
}

// A tree on the local disk with every kind of thing rsync -aHAX and tar carry: hard links
// (within and across directories, of a FIFO too), symlinks (relative, absolute, dangling),
// FIFOs, user.* xattrs on files and directories, odd modes (0, 0444, set-id, sticky,
// setgid directories, 0555 directories) and owners, and mtimes with nanoseconds.
const RICH_TREE = `
mkdir -p src/dir/sub src/empty src/shared src/sticky src/ro
printf 'hello\\n' > src/dir/a; chmod 0600 src/dir/a
ln src/dir/a src/dir/sub/a-again
ln src/dir/a src/a-top
head -c 3000000 /dev/urandom > src/big.bin
ln src/big.bin src/dir/big-again
: > src/empty-file
printf 'x%.0s' $(seq 5000) > src/dir/sub/text
ln -s dir/a src/rel-link
ln -s /nonexistent/target src/dangling
ln -s ../../big.bin src/dir/sub/up-link
mkfifo src/dir/fifo; chmod 0640 src/dir/fifo
mkfifo src/fifo2; ln src/fifo2 src/dir/fifo2-again
setfattr -n user.mime -v text/plain src/dir/a
setfattr -n user.empty src/empty-file
setfattr -n user.bin -v 0x00ff00 src/big.bin
setfattr -n user.dir -v yes src/dir
printf '#!/bin/sh\\necho set-id\\n' > src/setuid; chown 1000:1000 src/setuid; chmod 4755 src/setuid
printf 'g\\n' > src/setgid; chmod 2750 src/setgid
printf 'no\\n' > src/noperm; chmod 0 src/noperm
printf 'ro\\n' > src/ro/file; chmod 0444 src/ro/file; chmod 0555 src/ro
printf 'odd\\n' > src/dir/sub/odd-owner; chown 4242:4343 src/dir/sub/odd-owner
chown ${NOBODY}:${NOBODY} src/empty-file
chown -h ${NOBODY}:${NOBODY} src/rel-link
chmod 0751 src/dir/sub; chmod 1777 src/sticky; chown 0:${NOBODY} src/shared; chmod 2775 src/shared; chmod 0700 src/empty
n=0
for f in $(find src -mindepth 1 -depth); do
  n=$((n + 1)); touch -h -d "2001-02-03 04:05:$((n % 60)).$((100000000 + n * 1234567))" "$f"
done
`

test('rsync -aHAX into the mount and back out: types, modes, owners, hard links, FIFOs, xattrs and mtimes as in the source', async t => {
  const home = await stateDir(t)
  const list = await lister(t)
  const disk = await tmpDir(t, 'wxs-disk-')
  const made = await sh(RICH_TREE, { cwd: disk })
  t.is(made.code, 0, made.stderr)
  const src = path.join(disk, 'src')
  const out = path.join(disk, 'out')
  const want = await list(src)
  const shows = /^dir\/sub\/a-again\tf\t0o600\t0\t0\tnlink=3\tgroup=a-top\t/m.test(want) && /^dir\/fifo2-again\tp\t.*nlink=2\tgroup=dir\/fifo2-again/m.test(want) && /user\.bin=00ff00/.test(want)
  t.ok(shows, shows ? 'the listing shows link groups (of a FIFO too), modes, owners, xattrs' : want)

  const mnt = await mountedWorkspace(t, home, 'rsync')
  const copy = path.join(mnt, 'copy')
  const into = await sh(`rsync -aHAX "${src}/" "${copy}/"`)
  t.is(into.code, 0, `rsync into the mount: ${into.stderr}`)
  // libfuse 2 (README): the kernel caches attributes per name for up to 1 s, so within 1 s
  // of the rsync -H that made them, a name's nlink can still be 1 and an rsync -H (or tar -c)
  // out of the mount silently copies that name as a file of its own; the low-level API has one inode
  if (!FUSE_LL) await new Promise(resolve => setTimeout(resolve, 1100))
  t.is(await list(copy), want, 'in the mount: the same listing as the source')
  const again = await sh(`rsync -aHAXc --itemize-changes "${src}/" "${copy}/"`)
  t.is(again.code, 0, again.stderr)
  t.is(again.stdout, '', 'a second rsync into the mount (with checksums) finds nothing to do')

  const back = await sh(`rsync -aHAX "${copy}/" "${out}/"`)
  t.is(back.code, 0, `rsync out of the mount: ${back.stderr}`)
  t.is(await list(out), want, 'copied back out to the local disk: the same listing as the source')
  const dry = await sh(`rsync -aHAXnc --itemize-changes "${src}/" "${out}/"`)
  t.is(dry.code, 0, dry.stderr)
  t.is(dry.stdout, '', 'rsync -aHAXnc --itemize-changes between the source and the result prints nothing')

  // committed, unmounted, mounted again: the same tree
  t.is((await wxs(home, ['unmount', 'rsync'])).code, 0, 'unmounted (committed)')
  t.is((await wxs(home, ['mount', 'rsync', mnt])).code, 0, 'mounted again')
  t.is(await list(copy), want, 'after a commit, an unmount and a mount: the same listing')
  const third = await sh(`rsync -aHAXnc --itemize-changes "${src}/" "${copy}/"`)
  t.is(third.stdout, '', `and rsync still finds nothing to do: ${third.stderr}`)
})

// Python's tempfile as programs use it; run on the local disk and in the mount, every result compared.
const TEMPFILE_PY = `
import os, sys, json, tempfile, subprocess
tempfile.tempdir = os.getcwd()
out = []
with open('config.json', 'w') as f:
    f.write('{"v": 1}\\n')
data = bytes(range(256)) * 1200
# TemporaryFile: unlinked at once (O_TMPFILE, or mkstemp + unlink where that is refused), used through its descriptor
with tempfile.TemporaryFile() as f:
    out.append(['TemporaryFile: not listed', sorted(os.listdir('.'))])
    f.write(data); f.seek(0)
    out.append(['read back', f.read() == data])
    f.seek(1000); f.write(b'X' * 10); f.seek(0); back = f.read()
    out.append(['patched', back[995:1015].hex(), len(back), os.fstat(f.fileno()).st_nlink, os.fstat(f.fileno()).st_size])
    out.append(['no name', os.readlink('/proc/self/fd/%d' % f.fileno()).endswith(' (deleted)')])
    if os.environ.get('WXS_EXPORT'):
        r = subprocess.run(os.environ['WXS_EXPORT'], shell=True, capture_output=True)
        out.append(['committed while open', r.returncode])
    f.truncate(10); f.seek(0)
    out.append(['truncated', f.read()])
# NamedTemporaryFile(delete=True): a name while open, gone at close
with tempfile.NamedTemporaryFile(prefix='ntf-', suffix='.txt') as f:
    f.write(b'named'); f.flush()
    name = f.name
    with open(name, 'rb') as g:
        out.append(['NamedTemporaryFile', os.path.basename(name).startswith('ntf-'), g.read(), oct(os.stat(name).st_mode & 0o777)])
out.append(['deleted at close', os.path.exists(name)])
# SpooledTemporaryFile rolls over to a real (unlinked) file
with tempfile.SpooledTemporaryFile(max_size=1000) as f:
    f.write(b'y' * 5000); f.seek(4990)
    out.append(['spooled', f._rolled, f.read()])
# mkstemp + os.replace over an existing file (an atomic save), a reader of the old file still reads it
old = open('config.json', 'rb')
fd, tmp = tempfile.mkstemp(dir='.', prefix='.config.', suffix='.tmp')
out.append(['mkstemp mode', oct(os.stat(tmp).st_mode & 0o777)])
os.write(fd, b'{"v": 2}\\n'); os.fsync(fd); os.close(fd)
os.chmod(tmp, 0o644)
os.replace(tmp, 'config.json')
out.append(['replaced', open('config.json').read(), oct(os.stat('config.json').st_mode & 0o777), os.path.exists(tmp)])
out.append(['the old one through its descriptor', old.read()])
old.close()
# TemporaryDirectory: a tree with a read-only directory, a symlink and a FIFO, removed at cleanup
with tempfile.TemporaryDirectory(prefix='td-') as d:
    os.makedirs(os.path.join(d, 'a', 'b', 'c'))
    for i in range(20):
        with open(os.path.join(d, 'a', 'b', 'f%d' % i), 'w') as f:
            f.write(str(i))
    with open(os.path.join(d, 'a', 'b', 'c', 'deep'), 'w') as f:
        f.write('deep')
    os.chmod(os.path.join(d, 'a', 'b', 'c'), 0o500)
    os.symlink('a', os.path.join(d, 'link'))
    os.mkfifo(os.path.join(d, 'fifo'))
    with tempfile.NamedTemporaryFile(dir=d, delete=False) as f:
        f.write(b'kept until the directory goes')
    out.append(['TemporaryDirectory', os.path.basename(d).startswith('td-'), len(os.listdir(os.path.join(d, 'a', 'b')))])
out.append(['removed', os.path.exists(d)])
out.append(['left', sorted(os.listdir('.'))])
print(json.dumps(out, default=lambda b: b.decode()))
`

test('Python tempfile in the mount: TemporaryFile, NamedTemporaryFile, SpooledTemporaryFile, mkstemp + os.replace, TemporaryDirectory; nothing left over, in the directory or in a commit', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t, 'wxs-tools-')
  const script = path.join(work, 'tempfiles.py')
  await fs.writeFile(script, TEMPFILE_PY)
  const disk = await tmpDir(t, 'wxs-disk-')
  const mnt = await mountedWorkspace(t, home, 'tmpf')
  const exported = path.join(work, 'while-open')
  const onDisk = await sh(`python3 "${script}"`, { cwd: disk })
  t.is(onDisk.code, 0, onDisk.stderr)
  // export commits the mount first: run while the TemporaryFile is open (libfuse 2 keeps it as .fuse_hidden*; the low-level binding just unlinks it)
  const exportNow = `WXS_HOME="${home}" node "${WXS_BIN}" export tmpf "${exported}" >/dev/null`
  const onMount = await sh(`python3 "${script}"`, { cwd: mnt, env: { WXS_EXPORT: exportNow } })
  t.is(onMount.code, 0, onMount.stderr)
  const results = JSON.parse(onMount.stdout)
  const committed = results.find((r: any[]) => r[0] === 'committed while open')
  t.alike(committed, ['committed while open', 0], 'a commit (export) while a TemporaryFile is open works')
  t.alike(results.filter((r: any[]) => r !== committed), JSON.parse(onDisk.stdout), 'every result as on the local disk')
  const whileOpen = await sh(`find . -mindepth 1 | sort`, { cwd: exported })
  t.is(whileOpen.stdout, './config.json\n', 'the commit made while the TemporaryFile was open holds no trace of it')

  t.is((await sh('ls -A', { cwd: mnt })).stdout, 'config.json\n', 'the directory holds only config.json')
  t.is((await wxs(home, ['commit', 'tmpf'])).code, 0)
  const final = path.join(work, 'final')
  t.is((await wxs(home, ['export', 'tmpf', final])).code, 0)
  t.is((await sh('find . -mindepth 1 -printf "%p %m\\n" | sort && cat config.json', { cwd: final })).stdout, './config.json 644\n{"v": 2}\n', 'committed: config.json as replaced, and nothing else (no .fuse_hidden*, no temp names)')
  const staging = path.join(home, 'staging', 'tmpf')
  t.ok(await waitFor(async () => Number((await sh(`ls -A "${staging}" 2>/dev/null | wc -l`)).stdout.trim()) <= 1, 5000, 100), 'staging holds at most config.json\'s file')
})

const SUB_MAKEFILE = `
SRCS := $(sort $(wildcard src/*.in))
OBJS := $(SRCS:src/%.in=obj/%.o)
all.txt: $(OBJS)
\tcat $^ > $@.tmp && mv $@.tmp $@
\techo $(CURDIR)/$@ >> $(LOG)
\techo '$(MAKEFLAGS)' > makeflags.txt
obj/%.o: src/%.in common.h | obj
\t{ cat common.h; sed 's/^/compiled: /' $<; } > $@
\techo $(CURDIR)/$@ >> $(LOG)
obj:
\tmkdir -p $@
`

const TOP_MAKEFILE = `
SUBDIRS := lib app doc tools
GEN := $(patsubst %.in,%.out,$(sort $(wildcard gen/*.in)))
all: dist/manifest.txt
dist/manifest.txt: $(SUBDIRS:%=%/all.txt) $(GEN)
\t@mkdir -p dist
\tcat $^ > $@
\techo $(CURDIR)/$@ >> $(LOG)
$(SUBDIRS:%=%/all.txt): FORCE
\t$(MAKE) -C $(@D) all.txt
gen/%.out: gen/%.in
\ttr a-z A-Z < $< > $@
\techo $(CURDIR)/$@ >> $(LOG)
FORCE:
.PHONY: all FORCE
`

test('GNU make -j4 with its jobserver passed to recursive makes: outputs as on the local disk, then up to date (make -q), then only what depends on a touched source rebuilds', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t, 'wxs-tools-')
  const disk = await tmpDir(t, 'wxs-disk-')
  const mnt = await mountedWorkspace(t, home, 'make')
  // the tree is written on the local disk and copied (cp -a) to the disk dir and into the mount
  const tree = path.join(work, 'tree')
  await fs.mkdir(path.join(tree, 'gen'), { recursive: true })
  await fs.writeFile(path.join(tree, 'Makefile'), TOP_MAKEFILE)
  for (let i = 1; i <= 6; i++) await fs.writeFile(path.join(tree, 'gen', `g${i}.in`), `generated ${i}\n`)
  for (const d of ['lib', 'app', 'doc', 'tools']) {
    await fs.mkdir(path.join(tree, d, 'src'), { recursive: true })
    await fs.writeFile(path.join(tree, d, 'Makefile'), SUB_MAKEFILE)
    await fs.writeFile(path.join(tree, d, 'common.h'), `// common header of ${d}\n`)
    for (let i = 1; i <= 8; i++) await fs.writeFile(path.join(tree, d, 'src', `s${i}.in`), `source ${i} of ${d}\n`)
  }
  const copied = await sh(`cp -a "${tree}/." "${disk}/" && cp -a "${tree}/." "${mnt}/"`)
  t.is(copied.code, 0, copied.stderr)
  let n = 0
  const make = async (dir: string, args = '-j4') => {
    const log = path.join(work, `log${n++}`)
    const r = await sh(`: > "${log}" && make ${args} LOG="${log}" 2>&1; echo "exit $?"`, { cwd: dir })
    const built = (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean).map(l => path.relative(dir, l)).sort()
    return { out: r.stdout, built }
  }
  const first = await make(mnt)
  t.ok(/exit 0\n$/.test(first.out), /exit 0\n$/.test(first.out) ? 'make -j4 ran' : first.out)
  t.absent(/jobserver unavailable|warning/i.test(first.out), 'no jobserver warnings')
  t.is(first.built.length, 4 * 8 + 4 + 6 + 1, '43 targets built')
  const ref = await make(disk)
  t.alike(first.built, ref.built, 'the same targets as on the local disk')
  const same = await sh(`diff -r --exclude=makeflags.txt "${disk}" "${mnt}"`)
  t.is(same.code, 0, `every output as on the local disk: ${same.stdout}`)
  const flags = await sh('cat lib/makeflags.txt', { cwd: mnt })
  t.ok(/--jobserver-(auth|fds)=/.test(flags.stdout), `the recursive make got the jobserver: ${flags.stdout.trim()}`)

  // up to date: make -q in every directory, and a second make builds nothing
  const q = await sh('for d in lib app doc tools; do make -q -C $d all.txt LOG=/dev/null; echo "$d $?"; done; make -q gen/g1.out gen/g6.out LOG=/dev/null; echo "gen $?"', { cwd: mnt })
  t.is(q.stdout, 'lib 0\napp 0\ndoc 0\ntools 0\ngen 0\n', 'make -q: everything up to date')
  const second = await make(mnt)
  t.alike(second.built, [], 'a second make -j4 builds nothing')

  // touch one source: only it and what depends on it
  t.is((await sh('touch app/src/s3.in', { cwd: mnt })).code, 0)
  const third = await make(mnt)
  t.alike(third.built, ['app/all.txt', 'app/obj/s3.o', 'dist/manifest.txt'], 'after touching app/src/s3.in: its object, app/all.txt and the manifest')
  t.is((await sh('touch doc/common.h', { cwd: mnt })).code, 0)
  const fourth = await make(mnt)
  t.alike(fourth.built, ['dist/manifest.txt', 'doc/all.txt', ...[1, 2, 3, 4, 5, 6, 7, 8].map(i => `doc/obj/s${i}.o`)], 'after touching doc/common.h: doc\'s objects, doc/all.txt and the manifest')
  t.alike((await make(mnt)).built, [], 'and then nothing')
})

const SOCK_SERVER_PY = `
import os, sys, socket, hashlib
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
print('listening', flush=True)
for _ in range(int(sys.argv[2])):
    c, _ = s.accept()
    data = b''
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.sendall(('%d %s' % (len(data), hashlib.sha256(data).hexdigest())).encode())
    c.close()
s.close()
if sys.argv[3] == 'unlink':
    os.unlink(path)
`

const SOCK_CLIENT_PY = `
import sys, socket, hashlib
data = bytes(range(256)) * (4096 * int(sys.argv[2]))
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    c.connect(sys.argv[1])
except OSError as e:
    print(type(e).__name__); sys.exit(0)
c.sendall(data)
c.shutdown(socket.SHUT_WR)
reply = b''
while True:
    chunk = c.recv(4096)
    if not chunk:
        break
    reply += chunk
print('ok' if reply.decode() == '%d %s' % (len(data), hashlib.sha256(data).hexdigest()) else 'bad reply ' + reply.decode())
`

const DGRAM_PY = `
import os, socket
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind('dg/a.sock')
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); b.bind('dg/b.sock')
a.sendto(b'ping', 'dg/b.sock')
msg, frm = b.recvfrom(100)
b.sendto(msg + b' pong', frm)
print(a.recv(100).decode(), frm)
a.close(); b.close()
os.unlink('dg/a.sock'); os.unlink('dg/b.sock')
`

test('Unix sockets in the mount (Python): a stream server bound in the mount serves two clients, a datagram pair talks through two nodes; a dead server\'s node refuses connections and is committed as a socket', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t, 'wxs-tools-')
  await fs.writeFile(path.join(work, 'server.py'), SOCK_SERVER_PY)
  await fs.writeFile(path.join(work, 'client.py'), SOCK_CLIENT_PY)
  await fs.writeFile(path.join(work, 'dgram.py'), DGRAM_PY)
  const disk = await tmpDir(t, 'wxs-disk-')
  const mnt = await mountedWorkspace(t, home, 'sockets')
  const script = `
mkdir -p run dg
python3 "${work}/server.py" run/srv.sock 2 unlink > server.out &
for i in $(seq 100); do [ -S run/srv.sock ] && break; sleep 0.05; done
stat -c '%F %a' run/srv.sock
python3 "${work}/client.py" run/srv.sock 1
python3 "${work}/client.py" run/srv.sock 8
wait
cat server.out
[ -e run/srv.sock ] && echo 'still there' || echo 'unlinked'
python3 "${work}/dgram.py"
ls -A dg | wc -l
python3 "${work}/server.py" run/left.sock 0 keep
python3 "${work}/client.py" run/left.sock 1
stat -c '%F' run/left.sock
`
  const onDisk = await sh(script, { cwd: disk, timeoutMs: 30_000 })
  t.is(onDisk.code, 0, onDisk.stderr)
  t.is(onDisk.stdout, 'socket 755\nok\nok\nlistening\nunlinked\nping pong dg/a.sock\n0\nlistening\nConnectionRefusedError\nsocket\n', 'on the local disk')
  const onMount = await sh(script, { cwd: mnt, timeoutMs: 30_000 })
  t.is(onMount.code, 0, onMount.stderr)
  t.is(onMount.stdout, onDisk.stdout, 'in the mount: the same')
  t.is((await wxs(home, ['unmount', 'sockets'])).code, 0, 'unmounted (committed)')
  t.is((await wxs(home, ['mount', 'sockets', mnt])).code, 0, 'mounted again')
  const after = await sh(`stat -c '%F' run/left.sock; ls run | tr '\\n' ' '; python3 "${work}/client.py" run/left.sock 1`, { cwd: mnt })
  t.is(after.stdout, 'socket\nleft.sock ConnectionRefusedError\n', 'committed: the node is a socket after a remount')
})

test('pnpm install with its store in the mount: node_modules files are hard links to the store, the packages run, offline', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t, 'wxs-tools-')
  const PNPM = path.join(ROOT, 'node_modules', '.bin', 'pnpm')
  const pkgs = `
for p in alpha beta gamma; do
  mkdir -p pkgs/$p && cd pkgs/$p
  printf '{"name":"%s","version":"1.0.%s","main":"index.js","bin":{"%s":"cli.js"}}' $p \${#p} $p > package.json
  printf 'module.exports = () => "%s says hi"\\n' $p > index.js
  printf '#!/usr/bin/env node\\nconsole.log(require("./index.js")() + " from its bin")\\n' > cli.js; chmod 755 cli.js
  head -c 200000 /dev/urandom | base64 > data.txt
  npm pack --silent > /dev/null && cd ../..
done
ls pkgs/*/*.tgz`
  const packed = await sh(pkgs, { cwd: work })
  t.is(packed.code, 0, packed.stderr)
  t.is(packed.stdout.trim().split('\n').length, 3)
  const mnt = await mountedWorkspace(t, home, 'pnpm')
  // never the network: a closed port as the registry, offline
  const env = { npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true', PNPM_HOME: path.join(work, 'pnpm-home'), XDG_CACHE_HOME: path.join(work, 'cache'), XDG_DATA_HOME: path.join(work, 'data'), XDG_STATE_HOME: path.join(work, 'state'), CI: 'true' }
  const install = await sh(`
mkdir app && cd app
printf '{"name":"app","version":"1.0.0","private":true,"dependencies":{"alpha":"file:${work}/pkgs/alpha/alpha-1.0.5.tgz","beta":"file:${work}/pkgs/beta/beta-1.0.4.tgz","gamma":"file:${work}/pkgs/gamma/gamma-1.0.5.tgz"}}' > package.json
"${PNPM}" install --offline --store-dir "${mnt}/.pnpm-store" --config.package-import-method=hardlink --reporter=silent
node -e 'for (const p of ["alpha", "beta", "gamma"]) console.log(require(p)())'
"${PNPM}" exec gamma
`, { cwd: mnt, env, timeoutMs: 120_000 })
  t.is(install.code, 0, install.code === 0 ? 'pnpm install --offline' : `pnpm install: ${install.stderr}${install.stdout}`)
  t.alike(install.stdout.trim().split('\n'), ['alpha says hi', 'beta says hi', 'gamma says hi', 'gamma says hi from its bin'], 'the installed packages run')
  const links = await sh(`
for f in $(find app/node_modules/.pnpm -path '*/node_modules/*' -type f \\( -name index.js -o -name data.txt -o -name cli.js \\) | sort); do
  ino=$(stat -c %i "$f"); n=$(stat -c %h "$f")
  in_store=$(find .pnpm-store -inum $ino | head -1)
  echo "$(basename "$f") nlink>1:$([ "$n" -gt 1 ] && echo yes || echo no) store:$([ -n "$in_store" ] && [ "$f" -ef "$in_store" ] && cmp -s "$f" "$in_store" && echo yes || echo no)"
done | sort | uniq -c | awk '{print $1, $2, $3, $4}'
`, { cwd: mnt })
  t.is(links.code, 0, links.stderr)
  t.is(links.stdout, '3 cli.js nlink>1:yes store:yes\n3 data.txt nlink>1:yes store:yes\n3 index.js nlink>1:yes store:yes\n', 'every installed file is a hard link to the store')
  // again from the store alone, after node_modules is gone (frozen lockfile)
  const again = await sh(`cd app && rm -rf node_modules && "${PNPM}" install --offline --frozen-lockfile --store-dir "${mnt}/.pnpm-store" --config.package-import-method=hardlink --reporter=silent && node -e 'console.log(require("beta")())' && stat -c %h node_modules/.pnpm/beta*/node_modules/beta/data.txt`, { cwd: mnt, env, timeoutMs: 120_000 })
  t.is(again.code, 0, again.stderr)
  t.is(again.stdout, 'beta says hi\n2\n', 'reinstalled from the store: linked again')
})

test('tar -x of hard links and FIFOs into the mount, tar -c back out: the same archive, the same tree', async t => {
  const home = await stateDir(t)
  const list = await lister(t)
  const disk = await tmpDir(t, 'wxs-disk-')
  const made = await sh(RICH_TREE, { cwd: disk })
  t.is(made.code, 0, made.stderr)
  const mnt = await mountedWorkspace(t, home, 'tar')
  const a = path.join(disk, 'a.tar')
  const b = path.join(disk, 'b.tar')
  const ax = path.join(disk, 'a.pax')
  const bx = path.join(disk, 'b.pax')
  const TAR = 'tar --sort=name --numeric-owner'
  const r = await sh(`
${TAR} --format=gnu -C src -cf "${a}" .
${TAR} --format=posix --xattrs --xattrs-include='user.*' -C src -cf "${ax}" .
mkdir "${mnt}/x" "${mnt}/px"
tar -C "${mnt}/x" -xpf "${a}"
tar --xattrs --xattrs-include='user.*' -C "${mnt}/px" -xpf "${ax}"
${FUSE_LL ? '' : 'sleep 1.1 # libfuse 2 (README): attributes per name cached for up to 1 s (nlink after link())'}
${TAR} --format=gnu -C "${mnt}/x" -cf "${b}" .
${TAR} --format=posix --xattrs --xattrs-include='user.*' -C "${mnt}/px" -cf "${bx}" .
`, { cwd: disk })
  t.is(r.code, 0, r.stderr)
  const tv = await sh(`diff <(tar --numeric-owner --full-time -tvf "${a}") <(tar --numeric-owner --full-time -tvf "${b}")`)
  t.is(tv.stdout, '', 'tar -tvf of the two archives: the same')
  t.ok(/^hrw-------.* \.\/dir\/sub\/a-again link to \.\/a-top$/m.test((await sh(`tar --numeric-owner -tvf "${b}"`)).stdout), 'the archive from the mount keeps the hard links')
  t.is((await sh(`cmp "${a}" "${b}"`)).code, 0, 'the archive made from the mount is byte-equal to the original')
  const r2 = await sh(`mkdir ea eb pa pb && tar -C ea -xpf "${a}" && tar -C eb -xpf "${b}" && tar --xattrs --xattrs-include='user.*' -C pa -xpf "${ax}" && tar --xattrs --xattrs-include='user.*' -C pb -xpf "${bx}"`, { cwd: disk })
  t.is(r2.code, 0, r2.stderr)
  t.is(await list(path.join(disk, 'eb'), 'no-xattr', 'no-link-mtime'), await list(path.join(disk, 'ea'), 'no-xattr', 'no-link-mtime'), 'both archives extracted on the local disk: the same tree (types, modes, owners, link groups, contents, mtimes)')
  // (GNU tar archives a FIFO's second name as a second FIFO, not a hard link: compared with the original archive's extraction, not the source)
  const pa = await list(path.join(disk, 'pa'), 'no-dir-mtime', 'no-link-mtime')
  t.ok(/^a-top\tf\t.*nlink=3\tgroup=a-top\t.*user\.mime=/m.test(pa), 'the original pax archive carries the links and xattrs')
  t.is(await list(path.join(disk, 'pb'), 'no-dir-mtime', 'no-link-mtime'), pa, 'with --xattrs (pax): the extraction of the mount\'s archive equals the original\'s, xattrs and ns mtimes too')
  t.is(await list(path.join(mnt, 'px'), 'no-dir-mtime', 'no-link-mtime'), pa, 'and so does the extraction in the mount')
})

// Names that are not UTF-8 (Latin-1 bytes, 0xff 0xfe) must round trip byte for byte.
test('tar with non-UTF-8 names: extracted into the mount, listed, archived back out byte for byte; kept across a commit, an unmount and a mount', async t => {
  const home = await stateDir(t)
  const list = await lister(t)
  const disk = await tmpDir(t, 'wxs-disk-')
  const made = await sh(`
mkdir -p src/$'d\\xe9j\\xe0' && cd src
printf 'latin-1\\n' > $'caf\\xe9'
printf 'bom\\n' > $'\\xff\\xfe'
printf 'inside\\n' > $'d\\xe9j\\xe0/fi\\xe8le'
ln $'caf\\xe9' $'hard\\xa0link'
ln -s $'caf\\xe9' $'sym\\xb5'
mkfifo $'pipe\\xfe'
printf 'mixed\\n' > $'utf8-\\xc3\\xa9-and-\\xe9'
touch -h -d '2020-01-01 00:00:00' * $'d\\xe9j\\xe0'/*
cd .. && tar --sort=name --numeric-owner --format=gnu -C src -cf a.tar .
`, { cwd: disk })
  t.is(made.code, 0, made.stderr)
  const want = await list(path.join(disk, 'src'), 'no-dir-mtime')
  t.ok(want.includes('caf\\xe9\t') && want.includes('\\xff\\xfe\t'), 'the source has the names')
  const bytes = (dir: string) => sh(`find . -mindepth 1 -print0 | sort -z | od -An -tx1 | tr -s ' \\n' ' '`, { cwd: dir })
  const wantBytes = (await bytes(path.join(disk, 'src'))).stdout
  const mnt = await mountedWorkspace(t, home, 'names8')
  const x = await sh(`mkdir x && tar -C x -xpf "${disk}/a.tar"`, { cwd: mnt })
  t.is(x.code, 0, `tar -x into the mount: ${x.stderr}`)
  t.is((await bytes(path.join(mnt, 'x'))).stdout, wantBytes, 'the names in the mount, byte for byte')
  const ls = await sh(`ls --quoting-style=escape x | tr '\\n' ' '`, { cwd: mnt })
  t.is(ls.stdout, (await sh(`ls --quoting-style=escape src | tr '\\n' ' '`, { cwd: disk })).stdout, `ls: ${ls.stdout}`)
  await new Promise(resolve => setTimeout(resolve, 1100)) // attributes per name cached for up to 1 s (README)
  t.is(await list(path.join(mnt, 'x'), 'no-dir-mtime'), want, 'listing (types, links, contents) as the source')
  const c = await sh(`tar --sort=name --numeric-owner --format=gnu -C "${mnt}/x" -cf b.tar . && cmp a.tar b.tar`, { cwd: disk })
  t.is(c.code, 0, `tar -c out of the mount: byte-equal archive: ${c.stderr}${c.stdout}`)

  t.is((await wxs(home, ['commit', 'names8'])).code, 0, 'committed')
  t.is((await wxs(home, ['unmount', 'names8'])).code, 0, 'unmounted (committed)')
  t.is((await wxs(home, ['mount', 'names8', mnt])).code, 0, 'mounted again')
  t.is((await bytes(path.join(mnt, 'x'))).stdout, wantBytes, 'after an unmount and a mount: the same names')
  t.is(await list(path.join(mnt, 'x'), 'no-dir-mtime'), want, 'and the same listing')
  const c2 = await sh(`tar --sort=name --numeric-owner --format=gnu -C "${mnt}/x" -cf c.tar . && cmp a.tar c.tar`, { cwd: disk })
  t.is(c2.code, 0, `and the same archive: ${c2.stderr}${c2.stdout}`)
})
