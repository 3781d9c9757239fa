// The mount against a local disk (issue 13, "times and the rest"): the same
// scripts run in a directory on the local disk (/tmp, ext4) and in a mounted
// workspace, and their output is compared: which of atime, mtime and ctime each
// operation changes; rename's edge cases; open flags; fallocate; files past
// 4 GiB and sparse files (which must cost no storage, nor long commits).
// Everything touching the mount runs in child processes.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, mountedWorkspace, FUSE_LL } from '../helpers/index.js'

configure({ timeout: 120_000 })

let seq = 0
let workDir: string | null = null
const work = fs.mkdtemp('/tmp/wxs-times-flags-').then(async d => {
  workDir = d
  // renameat2 with flags, utimensat with UTIME_NOW/UTIME_OMIT, fallocate modes: what python3 and coreutils cannot all pass
  await fs.writeFile(path.join(d, 'probe.c'), PROBE_C)
  const r = await sh(`gcc -O -o probe probe.c`, { cwd: d })
  if (r.code !== 0) throw new Error(`gcc: ${r.stderr}`)
  return d
})
process.on('exit', () => { if (workDir !== null) rmSync(workDir, { recursive: true, force: true }) })

/** Runs `script` (bash, after PRELUDE) in `dir`. */
async function inDir (dir: string, script: string, env: Record<string, string> = {}) {
  const d = await work
  const file = path.join(d, `s${seq++}.sh`)
  await fs.writeFile(file, PRELUDE.replaceAll('@PROBE@', path.join(d, 'probe')) + script)
  return sh(`cd ${JSON.stringify(dir)} && bash ${file}`, { env, timeoutMs: 60_000 })
}
const DISK = { SETTLE_TIME: '0' }

const PROBE_C = `
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/fs.h>
/* probe rename2 FROM TO noreplace|exchange | utime PATH ATIME MTIME (now, omit or seconds) | falloc PATH MODE OFFSET LENGTH */
static struct timespec ts (const char *s) {
  struct timespec t = { 0, 0 };
  if (!strcmp(s, "now")) t.tv_nsec = UTIME_NOW; else if (!strcmp(s, "omit")) t.tv_nsec = UTIME_OMIT; else t.tv_sec = atol(s);
  return t;
}
int main (int argc, char **argv) {
  int rc = -1;
  if (argc < 3) return 2;
  if (!strcmp(argv[1], "rename2") && argc == 5) {
    unsigned flags = !strcmp(argv[4], "noreplace") ? RENAME_NOREPLACE : !strcmp(argv[4], "exchange") ? RENAME_EXCHANGE : 0;
    rc = syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags);
  } else if (!strcmp(argv[1], "utime") && argc == 5) {
    struct timespec t[2] = { ts(argv[3]), ts(argv[4]) };
    rc = utimensat(AT_FDCWD, argv[2], t, 0);
  } else if (!strcmp(argv[1], "falloc") && argc == 6) {
    int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
    rc = fd < 0 ? -1 : fallocate(fd, atoi(argv[3]), atoll(argv[4]), atoll(argv[5]));
  } else return 2;
  if (rc != 0) { printf("%s\\n", strerrorname_np(errno)); return 1; }
  printf("ok\\n");
  return 0;
}
`

// py runs python statements and prints the errno name of an OSError;
// t LABEL PATH... -- CMD runs CMD and prints, per path, which of its times
// changed (a, m, c, or -); "old:new" stats old before and new after (a
// rename); SETTLE=1 waits out the kernel's 1 s attribute cache (settle) before
// the second stat: the kernel keeps attributes per name (other names of a hard
// link) and learns nothing of a read it answers from its page cache (atime).
// The local disk needs no waiting (SETTLE_TIME=0 there).
const PRELUDE = `P=@PROBE@
PY=$(python3 -c 'import sys; print(sys.executable)') # once: a pyenv shim costs ~0.6 s a start
py () { $PY -c "import os, errno
try:
  $1
except OSError as e:
  print('errno', errno.errorcode[e.errno])"; }
ns () { stat -c '%.9X %.9Y %.9Z' "$1" | tr -d .; }
old () { touch -d @1000000000 "$@"; }
settle () { sleep \${SETTLE_TIME:-1.1}; }
t () {
  local label=$1; shift; local paths=(); while [ "$1" != -- ]; do paths+=("$1"); shift; done; shift
  local before=() after=() p i out="$label:"
  for p in "\${paths[@]}"; do before+=("$(ns "\${p%:*}" 2>/dev/null || echo gone)"); done
  sleep 0.02
  "$@" >/dev/null 2>&1 || out="$out (failed)"
  [ -n "\${SETTLE:-}" ] && settle
  for p in "\${paths[@]}"; do after+=("$(ns "\${p#*:}" 2>/dev/null || echo gone)"); done
  for i in "\${!paths[@]}"; do
    local b=(\${before[$i]}) a=(\${after[$i]}) c=""
    [ "\${b[0]}" != "\${a[0]}" ] && c+=a || c+=-
    [ "\${b[1]}" != "\${a[1]}" ] && c+=m || c+=-
    [ "\${b[2]}" != "\${a[2]}" ] && c+=c || c+=-
    out="$out \${paths[$i]}=$c"
  done
  echo "$out"
}
`

const TIMES = `
mkdir d e; echo content > d/f; old d/f d e
t chmod d/f d -- chmod 600 d/f
t chmod-same d/f d -- chmod 600 d/f
t chown d/f d -- chown 1:1 d/f
t chown-same d/f d -- chown 1:1 d/f
@CHOWN_NONE@SETTLE=1 t link d/f d e -- ln d/f e/l
SETTLE=1 t unlink-one-name d/f d e -- rm e/l
t write d/f d -- sh -c 'echo more >> d/f'
t write-nothing d/f d -- sh -c 'printf "" >> d/f'
t truncate d/f d -- truncate -s 3 d/f
t truncate-same d/f d -- truncate -s 3 d/f
t truncate-grow d/f d -- truncate -s 100 d/f
t o-trunc d/f d -- sh -c ': > d/f'
t o-trunc-empty d/f d -- sh -c ': > d/f'
t setxattr d/f d -- setfattr -n user.k -v v d/f
t removexattr d/f d -- setfattr -x user.k d/f
t setxattr-dir d -- setfattr -n user.k -v v d
t touch d/f d -- touch d/f
t touch-a d/f -- touch -a d/f
t touch-m d/f -- touch -m d/f
t touch-past d/f -- touch -d @1500000000 d/f
t utime-omit-omit d/f -- $P utime d/f omit omit
t utime-now-omit d/f -- $P utime d/f now omit
t utime-omit-now d/f -- $P utime d/f omit now
t utime-set-omit d/f -- $P utime d/f 1200000000 omit
t utime-omit-set d/f -- $P utime d/f omit 1300000000
stat -c 'utime values: %X %Y' d/f
t create d e -- touch d/g
t mkdir d -- mkdir d/sub
t symlink d -- ln -s f d/sl
t mknod d -- mkfifo d/p
t rename-in-dir d/g:d/h d -- mv d/g d/h
t rename-across d/h:e/h d e -- mv d/h e/h
t rename-dir-across d/sub:e/sub d e e/sub:e/sub -- mv d/sub e/sub
t rename-over e/h:d/f d e -- mv e/h d/f
echo x > d/x; ln d/x d/x2; echo y > d/y; old d/x d/y d e; settle
SETTLE=1 t rename-over-linked d/x2 d/y:d/x d -- mv d/y d/x
t unlink d -- rm d/sl
t rmdir e -- rmdir e/sub
t failed-rename d -- mv d/nothing d/else
t failed-unlink d -- rm d/nothing
t failed-mkdir d -- mkdir d/x
t failed-chmod d -- chmod 600 d/nothing
t read d/x -- cat d/x
t read-again d/x -- cat d/x
t readdir e -- ls e
t readdir-again e -- ls e
old d/x
SETTLE=1 t read-cached d/x -- cat d/x
echo n > d/n
t read-new d/n -- cat d/n
SETTLE=1 t write-then-read d/n -- sh -c 'echo more >> d/n; cat d/n'
: > d/empty; old d/empty
SETTLE=1 t read-empty d/empty -- cat d/empty
echo data > d/w; old d/w
t read-rdwr d/w -- $PY -c "f = open('d/w', 'r+'); f.read()"
t write-wronly d/w -- $PY -c "open('d/w', 'a').write('x')"
ln -s n d/link; touch -h -d @1000000000 d/link
t readlink d/link -- readlink d/link
# ctime is now after any utimens (it cannot be set): within the wall-clock
# interval of the call (10 ms of slack: ext4 takes the kernel's coarse clock)
b=$(date +%s%N); touch -d @1400000000 d/f; a=$(date +%s%N); c=$(ns d/f); c=\${c##* }
[ $c -ge $((b - 10000000)) ] && [ $c -le $a ] && echo 'utimens: ctime is now' || echo "utimens: ctime $c not in [$b, $a]"
b=$(date +%s%N); touch d/f; a=$(date +%s%N); set -- $(ns d/f)
[ $1 = $2 ] && [ $2 -le $3 ] && [ $2 -ge $((b - 10000000)) ] && [ $2 -le $a ] && echo 'touch: atime = mtime = now <= ctime' || echo "touch: $* not in [$b, $a]"
`

test('atime, mtime and ctime change with exactly the operations that change them on ext4', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'times')
  const disk = await tmpDir(t, 'wxs-disk-')
  t.ok((await fs.readFile('/proc/self/mounts', 'utf8')).split('\n').some(l => l.split(' ')[1] === mnt && /\brelatime\b/.test(l)), 'the mount is relatime, as the disk (the kernel\'s default)')
  // chown(f, -1, -1) changes f's ctime: libfuse 2 never hears of it (README); the low-level binding does
  const script = TIMES.replace('@CHOWN_NONE@', FUSE_LL ? 't chown-none d/f d -- $PY -c "import os; os.chown(\'d/f\', -1, -1)"\n' : '')
  const onDisk = await inDir(disk, script, DISK)
  const onMount = await inDir(mnt, script)
  t.is(onDisk.stderr, '', 'the script ran on the disk')
  // the script sees what it must (or it would compare nothing)
  for (const line of ['chmod: d/f=--c d=---', 'write: d/f=-mc d=---', 'truncate-same: d/f=-mc d=---', 'link: d/f=--c d=--- e=-mc', 'rename-across: d/h:e/h=--c d=-mc e=-mc',
    'utime-now-omit: d/f=a-c', ...(FUSE_LL ? ['chown-none: d/f=--c d=---'] : []), 'utime-omit-now: d/f=-mc', 'read: d/x=a--', 'read-again: d/x=---', 'readdir: e=a--', 'utimens: ctime is now', 'touch: atime = mtime = now <= ctime']) {
    t.ok(onDisk.stdout.split('\n').includes(line), `on the disk: ${line}`)
  }
  t.alike(onMount.stdout.split('\n'), onDisk.stdout.split('\n'), 'every operation changes the same times in the mount')
})

const RENAMES = `
mkdir empty full full/sub; echo x > full/x; echo f > file; echo g > file2; mkdir d2 empty2
py "os.rename('full', 'empty'); print('non-empty dir over an empty one: ok', sorted(os.listdir('empty')))"
py "os.rename('d2', 'empty')"
py "os.rename('empty2', 'empty/sub/inner'); print('dir into another dir: ok')"
py "os.rename('empty', 'empty/sub/deeper')"
py "os.rename('empty', 'empty/x2')"
py "os.rename('empty/sub', 'empty/sub/inner/x')"
py "os.rename('file', 'empty')"
py "os.rename('empty', 'file')"
py "os.rename('file', 'file/x')"
py "os.rename('file/x', 'y')"
py "os.rename('missing', 'x')"
py "os.rename('file', 'missing/x')"
py "os.rename('file', 'file'); print('onto itself: ok')"
ln file hard
py "os.rename('file', 'hard'); print('onto another name of itself: ok', sorted(os.listdir('.')))"
py "os.rename('.', 'x')"
py "os.rename('empty/.', 'y')"
py "os.rename('empty/sub', 'empty/sub/..')"
ln -s file sl; ln -s nowhere dangling
py "os.rename('sl', 'sl2'); print('symlink renamed:', os.readlink('sl2'))"
py "os.rename('dangling', 'empty/dangling'); print('dangling symlink moved:', os.readlink('empty/dangling'))"
py "os.rename('sl2', 'empty')"
py "os.rename('empty', 'sl2')"
find . | sort
`

const FLAGS = `
echo hello > f; mkdir d; ln -s f sl; ln -s nothere dangling; ln -s d sld; ln -s sub/deeper dangling2
py "os.open('f', os.O_CREAT | os.O_EXCL | os.O_WRONLY); print('excl ok')"
py "os.open('sl', os.O_CREAT | os.O_EXCL | os.O_WRONLY); print('excl on symlink ok')"
py "os.open('dangling', os.O_CREAT | os.O_EXCL | os.O_WRONLY); print('excl on dangling ok')"
py "os.open('d', os.O_CREAT | os.O_EXCL | os.O_RDONLY); print('excl on dir ok')"
py "os.open('sl', os.O_RDONLY | os.O_NOFOLLOW); print('nofollow ok')"
py "os.open('sld', os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY); print('nofollow dir ok')"
py "os.open('f', os.O_RDONLY | os.O_NOFOLLOW); print('nofollow on a file ok')"
py "os.open('sl', os.O_PATH | os.O_NOFOLLOW); print('O_PATH nofollow ok')"
py "os.open('f', os.O_RDONLY | os.O_DIRECTORY); print('O_DIRECTORY on a file ok')"
py "os.open('sld', os.O_RDONLY | os.O_DIRECTORY); print('O_DIRECTORY through a symlink ok')"
py "os.open('d', os.O_WRONLY); print('dir for writing ok')"
py "os.open('d', os.O_RDWR); print('dir rdwr ok')"
py "os.open('d', os.O_RDONLY | os.O_TRUNC); print('dir trunc ok')"
py "os.open('d', os.O_WRONLY | os.O_CREAT); print('dir creat ok')"
py "os.open('d/', os.O_WRONLY | os.O_CREAT); print('dir/ creat ok')"
py "os.open('f/', os.O_RDONLY); print('file/ ok')"
py "os.open('new/', os.O_WRONLY | os.O_CREAT); print('new/ creat ok')"
py "fd = os.open('f', os.O_WRONLY | os.O_TRUNC); print('O_TRUNC:', os.fstat(fd).st_size, open('f','rb').read())"
echo hello > f
py "fd = os.open('f', os.O_RDONLY | os.O_TRUNC); print('O_RDONLY|O_TRUNC:', os.fstat(fd).st_size)"
echo hello > f
py "fd = os.open('f', os.O_WRONLY | os.O_APPEND); os.lseek(fd, 0, 0); os.write(fd, b'more'); os.pwrite(fd, b'P', 0); print('O_APPEND:', open('f','rb').read())"
py "fd = os.open('f', os.O_RDWR | os.O_APPEND); os.write(fd, b'x'); print(os.lseek(fd, 0, 1)); os.lseek(fd, 0, 0); print(os.read(fd, 3))"
py "fd = os.open('dangling', os.O_CREAT | os.O_WRONLY, 0o600); os.write(fd, b'made'); os.close(fd); print('O_CREAT through a dangling symlink:', open('nothere').read(), oct(os.stat('nothere').st_mode), os.readlink('dangling'))"
py "os.open('dangling2', os.O_CREAT | os.O_WRONLY); print('dangling into a missing dir ok')"
py "os.open('dangling', os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW); print('creat nofollow on a symlink ok')"
py "os.open('missing', os.O_RDONLY)"
py "os.open('missing', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640); print(oct(os.stat('missing').st_mode))"
py "fd = os.open('f', os.O_RDONLY); os.write(fd, b'x')"
py "fd = os.open('f', os.O_WRONLY); os.read(fd, 1)"
py "fd = os.open('d', os.O_RDONLY); os.read(fd, 1)"
py "fd = os.open('sl/', os.O_RDONLY)"
find . | sort
`

test('rename edge cases and open flags as on the local disk; renameat2 flags as on ext4 (libfuse 2: fail cleanly) and mv -n works', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'flags')
  const disk = await tmpDir(t, 'wxs-disk-')
  for (const [what, script] of [['rename', RENAMES], ['open flags', FLAGS]]) {
    const onDisk = await inDir(disk, `mkdir ${what[0]} && cd ${what[0]}\n${script}`)
    const onMount = await inDir(mnt, `mkdir ${what[0]} && cd ${what[0]}\n${script}`)
    t.ok(/errno E/.test(onDisk.stdout), `${what} on the disk ran`)
    t.alike(onMount.stdout.split('\n'), onDisk.stdout.split('\n'), `${what}: every result and errno as on the local disk`)
  }

  // renameat2 flags: the kernel sends them only to FUSE protocol 7.23+, libfuse 2 speaks 7.19: it answers EINVAL itself (README)
  const flags = `echo a > a; echo b > b
$P rename2 a b noreplace; $P rename2 a b exchange; cat a b; $P rename2 a c noreplace; ls
echo m > m; echo n > n; mv -n m n; cat m n; mv -n m o; cat o; ls`
  const disk2 = await inDir(disk, `mkdir f2 && cd f2\n${flags}`)
  const mount2 = await inDir(mnt, `mkdir f2 && cd f2\n${flags}`)
  t.is(disk2.stdout, 'EEXIST\nok\nb\na\nok\nb\nc\nm\nn\nm\nb\nc\nn\no\n', 'on the disk: NOREPLACE refuses an existing target, else renames; EXCHANGE swaps; mv -n')
  if (!FUSE_LL) {
    t.is(mount2.stdout, 'EEXIST\nEINVAL\na\nb\nEINVAL\na\nb\nm\nn\nm\na\nb\nn\no\n', 'libfuse 2: an existing target is refused (the kernel checks), else EINVAL and nothing changes; mv -n falls back and works')
    return
  }
  t.is(mount2.stdout, disk2.stdout, 'in the mount as on the disk')
  // RENAME_EXCHANGE of a file and a directory in two directories, times included; NOREPLACE onto a name another process just made
  const exchange = `mkdir -p x/d y; echo f > y/f; echo in > x/d/in; old x/d y/f x y; settle
SETTLE=1 t exchange x/d:y/f y/f:x/d x y -- $P rename2 x/d y/f exchange
cat x/d; cat y/f/in; $P rename2 x/d x/d exchange; $P rename2 x/d x/nothing exchange; $P rename2 y/f y/f/in/z exchange
$P rename2 x/d y/g noreplace; ls x y; $P rename2 y/g y/f noreplace`
  const disk3 = await inDir(disk, `mkdir f3 && cd f3\n${exchange}`, DISK)
  const mount3 = await inDir(mnt, `mkdir f3 && cd f3\n${exchange}`)
  t.ok(/^exchange: /m.test(disk3.stdout) && /ENOENT/.test(disk3.stdout), disk3.stdout)
  t.alike(mount3.stdout.split('\n'), disk3.stdout.split('\n'), 'RENAME_EXCHANGE and RENAME_NOREPLACE: every result, errno and time as on ext4')
})

const FALLOCATE = `
echo hello > f
py "fd = os.open('f', os.O_RDWR); os.posix_fallocate(fd, 0, 3 * 2**20 + 5); s = os.fstat(fd).st_size; d = open('f', 'rb').read(); print('posix_fallocate:', s, d[:6], d[6:].count(0) == len(d) - 6)"
py "fd = os.open('f', os.O_RDWR); os.posix_fallocate(fd, 0, 100); print('inside the file:', os.fstat(fd).st_size)"
py "fd = os.open('f', os.O_RDONLY); os.posix_fallocate(fd, 0, 100)"
fallocate -l 2M g; echo "-l 2M: $? $(stat -c %s g)"
fallocate -l 1M g; echo "-l 1M: $? $(stat -c %s g)"
fallocate -o 5G -l 1M g; echo "-o 5G -l 1M: $? $(stat -c %s g)"
cmp -s <(head -c 3145728 g) <(head -c 3145728 /dev/zero) && echo 'zeros'
fallocate -n -o 8G -l 1M g; echo "-n -o 8G: $? $(stat -c %s g)"
$P falloc g 0 0 0
echo data > h; old h
t fallocate-grow h -- fallocate -l 1M h
t fallocate-keep-size h -- fallocate -n -l 2M h
t fallocate-inside h -- fallocate -l 4096 h
`

test('posix_fallocate and fallocate(1) extend a file with zeros as on the local disk; punched holes and zeroed ranges read as zeros', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'falloc')
  const disk = await tmpDir(t, 'wxs-disk-')
  const onDisk = await inDir(disk, FALLOCATE, DISK)
  const onMount = await inDir(mnt, FALLOCATE)
  t.ok(/posix_fallocate: 3145733 b'hello\\n' True/.test(onDisk.stdout) && /-o 5G -l 1M: 0 5369757696/.test(onDisk.stdout), onDisk.stdout)
  t.alike(onMount.stdout.split('\n'), onDisk.stdout.split('\n'), 'the same results, sizes, content and times')
  // FALLOC_FL_PUNCH_HOLE | KEEP_SIZE (3), FALLOC_FL_ZERO_RANGE (16, 17 with KEEP_SIZE), PUNCH_HOLE without KEEP_SIZE (2: refused)
  const PUNCH = `printf abcdefghijklmnop > p; yes abcdefgh | head -c 3000000 > q; cp q q.orig
    $P falloc p 3 2 3; od -An -c p; stat -c %s p
    $P falloc p 16 12 8; od -An -c p; stat -c %s p
    $P falloc p 17 18 10; stat -c %s p
    $P falloc p 2 0 1; od -An -c p | head -1
    $P falloc q 3 1000 2000000; cmp -l q q.orig 2>/dev/null | wc -l; od -An -tx1 -j 999 -N 3 q; stat -c %s q
    $P falloc p 3 100 10; stat -c %s p`
  const punchDisk = await inDir(disk, PUNCH, DISK)
  const punchMount = await inDir(mnt, PUNCH)
  t.ok(/a\s+b\s+\\0\s+\\0\s+\\0\s+f/.test(punchDisk.stdout), `the local disk punched bytes 2-4: ${punchDisk.stdout}`)
  t.alike(punchMount.stdout.split('\n'), punchDisk.stdout.split('\n'), `punched and zeroed ranges read as on the local disk:\n${punchMount.stdout}`)
  t.is(punchMount.stderr, punchDisk.stderr)
})

const BIG = `$PY - <<'EOF'
import os
fd = os.open('big', os.O_CREAT | os.O_RDWR, 0o644)
os.pwrite(fd, b'HIGH', 5 * 2**30); os.pwrite(fd, b'EDGE', 4 * 2**30 - 1); os.pwrite(fd, b'low', 10)
os.close(fd)
EOF
`
const READ_BIG = `$PY - <<'EOF'
import os
fd = os.open('big', os.O_RDONLY); st = os.fstat(fd)
print('size', st.st_size)
print('at 5 GiB', os.pread(fd, 8, 5 * 2**30))
print('across 4 GiB', os.pread(fd, 8, 4 * 2**30 - 3))
print('start', os.pread(fd, 16, 0))
print('holes', os.pread(fd, 2**20, 2**32 + 2**20).count(0), os.pread(fd, 2**20, 3 * 2**30).count(0), os.pread(fd, 2**20, 2**31 - 2**19).count(0))
EOF
`

test('files past 4 GiB and sparse files: offsets and sizes keep 64 bits, holes read as zeros, cost no storage nor a long commit; the same after a remount', async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'big')
  const disk = await tmpDir(t, 'wxs-disk-')
  const du = async () => Number((await sh(`du -sk ${JSON.stringify(home)} | cut -f1`)).stdout.trim()) * 1024
  const before = await du()
  const onDisk = await inDir(disk, BIG + READ_BIG)
  t.ok(/size 5368709124/.test(onDisk.stdout) && /across 4 GiB b'\\x00\\x00EDGE\\x00\\x00'/.test(onDisk.stdout), `on the disk: ${onDisk.stdout}`)
  const onMount = await inDir(mnt, BIG + READ_BIG)
  t.is(onMount.stdout, onDisk.stdout, 'written and read back past 4 GiB as on the disk')
  const staged = await du()
  t.ok(staged - before < 64 * 2 ** 20, `staged: the state dir grew by ${((staged - before) / 2 ** 20).toFixed(1)} MiB (the file is 5 GiB)`)

  const started = Date.now()
  const committed = await wxs(home, ['commit', 'big', '--json'])
  const ms = Date.now() - started
  t.is(committed.code, 0, `committed ${committed.stderr}`)
  t.comment(`commit of a 5 GiB sparse file: ${ms} ms (wxs commit, the command's start included)`)
  t.ok(ms < 5000, `the commit does not read or hash the holes (${ms} ms)`)
  const after = await du()
  t.ok(after - before < 128 * 2 ** 20, `committed: the state dir grew by ${((after - before) / 2 ** 20).toFixed(1)} MiB`)
  const objects = Number((await sh(`du -sk ${JSON.stringify(path.join(home, 'objects'))} | cut -f1`)).stdout.trim()) * 1024
  t.ok(objects < 16 * 2 ** 20, `the content store holds ${(objects / 2 ** 20).toFixed(1)} MiB`)

  t.is((await wxs(home, ['unmount', 'big'])).code, 0)
  t.is((await wxs(home, ['mount', 'big', mnt])).code, 0)
  const again = await inDir(mnt, READ_BIG)
  t.is(again.stdout, (await inDir(disk, READ_BIG)).stdout, 'the same after unmount and mount again')
  // a write into a committed file past 4 GiB, a truncate to an odd size past it
  const edit = `$PY -c "import os; fd = os.open('big', os.O_RDWR); os.pwrite(fd, b'NEW', 2**32 + 1); os.ftruncate(fd, 5 * 2**30 + 2); print(os.pread(fd, 8, 2**32 - 2), os.pread(fd, 8, 5 * 2**30 - 2), os.fstat(fd).st_size)"`
  // statfs: block and inode counts cross the binding in 64 bits (as the state dir's disk has them)
  const statfs = await sh(`stat -f -c '%b %S %c %l' ${JSON.stringify(mnt)} ${JSON.stringify(home)}`)
  const [ofMount, ofDisk] = statfs.stdout.trim().split('\n')
  t.is(ofMount, ofDisk, `statfs through the mount as of the state dir's disk: ${ofDisk}`)
  const editMount = await inDir(mnt, edit)
  t.is(editMount.stdout, (await inDir(disk, edit)).stdout, `edited past 4 GiB as on the disk: ${editMount.stdout.trim()}`)
})

// Data and holes by whole chunks (1 MiB): written so here, the map is the same on ext4.
const SPARSE = `truncate -s 20M f && head -c 1M /dev/urandom > one && dd if=one of=f bs=1M seek=5 conv=notrunc status=none && dd if=one of=f bs=1M seek=15 conv=notrunc status=none
$PY -c "
import os
fd = os.open('f', os.O_RDONLY); size = os.fstat(fd).st_size; off = 0; out = []
while off < size:
    try: d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError as e: out.append('no data after %d: %s' % (off, os.strerror(e.errno))); break
    h = os.lseek(fd, d, os.SEEK_HOLE); out.append('data %d-%d' % (d, h)); off = h
try: os.lseek(fd, size, os.SEEK_HOLE)
except OSError as e: out.append('at the end: ' + os.strerror(e.errno))
print(', '.join(out))
"
`

test('sparse files stay sparse: SEEK_DATA/SEEK_HOLE and st_blocks as on ext4 (by whole chunks), so cp and tar out of the mount keep the holes; staged and committed', { skip: !FUSE_LL }, async t => {
  const home = await stateDir(t)
  const mnt = await mountedWorkspace(t, home, 'sparse')
  const disk = await tmpDir(t, 'wxs-disk-')
  const onDisk = await inDir(disk, SPARSE)
  t.is(onDisk.stdout.trim(), 'data 5242880-6291456, data 15728640-16777216, no data after 16777216: No such device or address, at the end: No such device or address', onDisk.stderr)
  const out = await tmpDir(t, 'wxs-out-')
  const check = async (when: string) => {
    const map = await inDir(mnt, SPARSE.split('\n').slice(1).join('\n'))
    t.is(map.stdout, onDisk.stdout, `${when}: data and holes as on ext4`)
    const kib = async (f: string) => Number((await sh(`du -k ${JSON.stringify(f)} | cut -f1`)).stdout.trim())
    t.is(await kib(path.join(mnt, 'f')), 2048, `${when}: du of the 20 MiB file with 2 MiB written`)
    const copy = path.join(out, `copy-${when}`)
    const cp = await sh(`cp --sparse=auto f ${JSON.stringify(copy)} && cmp f ${JSON.stringify(copy)} && tar -cSf ${JSON.stringify(copy + '.tar')} f`, { cwd: mnt })
    t.is(cp.code, 0, cp.stderr)
    t.ok(await kib(copy) <= 2048 + 64, `${when}: cp out of the mount keeps the holes (${await kib(copy)} KiB on the disk)`)
    t.ok((await fs.stat(copy + '.tar')).size < 3 * 2 ** 20, `${when}: tar -S stores the data only`)
  }
  await inDir(mnt, SPARSE.split('\n')[0].replace('head -c 1M /dev/urandom > one', `cp ${JSON.stringify(path.join(disk, 'one'))} one`))
  await check('staged')
  t.is((await wxs(home, ['commit', 'sparse'])).code, 0)
  t.is((await wxs(home, ['unmount', 'sparse'])).code, 0)
  t.is((await wxs(home, ['mount', 'sparse', mnt])).code, 0)
  await check('committed')
})

