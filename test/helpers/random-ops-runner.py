#!/usr/bin/env python3
"""
Runs a list of file system operations in one directory and prints one JSON
line per operation: its result (a value, or the errno name it failed with) and
a listing of the directory tree afterwards. test/mount/random-ops.test.ts runs
it once on the local disk and once in a mount, and compares the lines.

Usage: random-ops-runner.py <spec.json>
spec: {"dir": path, "ops": [[kind, ...args], ...], "mtimes": bool}
Output: first the listing before any operation ({"i": -1, ...}), then one
{"i", "r", "l"} per operation. "mtimes": entries also carry their mtime (the
final listings, compared across a remount).

The listing says, for every entry under dir (and dir itself as "."), what
POSIX defines: type, mode with set-id and sticky bits, owner, group, link
count (not of directories: see LINK_COUNT below), size (not of directories),
a hash of the content (regular files), the symlink target, the extended
attributes with their values, which names are one inode (link groups,
numbered in path order), and which of mtime and ctime changed since the
previous listing (so across exactly one operation).

Times are compared as relations, not values (the two sides run at different
moments). atime is not compared: both sides are mounted relatime, but FUSE
leaves atime to the filesystem (the kernel marks FUSE inodes S_NOATIME), and
the daemon sees only opens and the reads the kernel's page cache (auto_cache)
does not answer, while ext4 updates atime at the read itself; and the kernel
keeps a cached atime for up to 1 s after the daemon changed it at an open.
So whether one operation changed atime differs for reasons that are neither
wrong nor deterministic; atime is only checked where a program sets it
(utime reads both times back, to the nanosecond).
"""
import ctypes
import errno
import hashlib
import json
import os
import stat
import sys
import time

spec = json.load(open(sys.argv[1]))
os.chdir(spec['dir'])
os.umask(0)
WITH_MTIMES = spec.get('mtimes', False)
# every name of a file is one inode in the mount too (the low-level binding): nothing excluded
ONE_INODE = spec.get('oneInode', False)

libc = ctypes.CDLL(None, use_errno=True)
libc.statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_SYMLINK_FOLLOW = 0x400
AT_STATX_FORCE_SYNC = 0x2000
STATX_BASIC_STATS = 0x7ff
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
CLOCK_REALTIME_COARSE = 5
STATX_BUF = ctypes.create_string_buffer(256)


class Timespec(ctypes.Structure):
    _fields_ = [('tv_sec', ctypes.c_long), ('tv_nsec', ctypes.c_long)]


def refresh(p):
    """statx(AT_STATX_FORCE_SYNC): the kernel asks the filesystem for the attributes instead of answering from its cache."""
    libc.statx(AT_FDCWD, os.fsencode(p), AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, STATX_BUF)


def data(n, b):
    """n deterministic bytes starting at byte value b."""
    block = bytes(range(b, 256)) + bytes(range(0, b))
    return (block * (n // 256 + 1))[:n]


def err(e):
    return errno.errorcode.get(e.errno, str(e.errno))


TYPES = {stat.S_IFREG: 'f', stat.S_IFDIR: 'd', stat.S_IFLNK: 'l', stat.S_IFIFO: 'p', stat.S_IFSOCK: 's', stat.S_IFCHR: 'c', stat.S_IFBLK: 'b'}


def describe(st):
    """A stat result in one line (the stat op: follows symlinks)."""
    t = TYPES[stat.S_IFMT(st.st_mode)]
    # LINK_COUNT: a directory's link count is not compared. ext4 counts 2 + its
    # subdirectories; the mount reports 2 (knowing the count would mean reading
    # every directory's tree to answer a getattr). POSIX leaves it open.
    links = '' if t == 'd' else ' n%d' % st.st_nlink
    size = '' if t == 'd' else ' s%d' % st.st_size
    return '%s %04o %d:%d%s%s' % (t, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, links, size)


def open_flags(spec_flags):
    f = os.O_NONBLOCK  # a FIFO must never block the run: opening one without a peer fails (ENXIO) or reads nothing
    for c in spec_flags:
        f |= {'c': os.O_CREAT, 'x': os.O_EXCL, 't': os.O_TRUNC, 'w': os.O_WRONLY, 'W': os.O_RDWR, 'a': os.O_APPEND, 'D': os.O_DIRECTORY, 'N': os.O_NOFOLLOW}[c]
    return f


def same_file(a, b):
    try:
        return os.lstat(a).st_ino == os.lstat(b).st_ino
    except OSError:
        return False


def run(op):
    k = op[0]
    if k == 'open':  # ['open', path, flags, mode]
        fd = os.open(op[1], open_flags(op[2]), op[3])
        os.close(fd)
        return 'ok'
    if k == 'write':  # ['write', path, offset, length, byte]
        fd = os.open(op[1], open_flags('w'))
        try:
            return os.pwrite(fd, data(op[3], op[4]), op[2])
        finally:
            os.close(fd)
    if k == 'append':  # ['append', path, length, byte]
        fd = os.open(op[1], open_flags('wa'))
        try:
            return os.write(fd, data(op[2], op[3]))
        finally:
            os.close(fd)
    if k == 'ftruncate':  # ['ftruncate', path, size]: through a descriptor opened for writing
        fd = os.open(op[1], open_flags('w'))
        try:
            os.ftruncate(fd, op[2])
        finally:
            os.close(fd)
        return 'ok'
    if k == 'truncate':
        os.truncate(op[1], op[2])
        return 'ok'
    if k == 'read':
        fd = os.open(op[1], open_flags(''))
        try:
            chunks = []
            while True:
                c = os.read(fd, 65536)
                if not c:
                    break
                chunks.append(c)
            content = b''.join(chunks)
            return '%d %s' % (len(content), hashlib.sha1(content).hexdigest()[:12])
        finally:
            os.close(fd)
    if k == 'stat':
        return describe(os.stat(op[1]))
    if k == 'listdir':
        return sorted(os.listdir(op[1]))
    if k == 'link':
        os.link(op[1], op[2], follow_symlinks=False)  # link(2): a symlink itself gets the name
        return 'ok'
    if k == 'symlink':
        os.symlink(op[1], op[2])
        return 'ok'
    if k == 'readlink':
        return os.readlink(op[1])
    if k == 'rename':
        if os.geteuid() != 0 and not ONE_INODE and same_file(op[1], op[2]):
            # Excluded under libfuse 2: two names of one file. Linux returns 0 at once,
            # before any permission check; through libfuse 2 every name is its own kernel
            # inode (README, "Hard links"), so the kernel checks the directories first
            # (EACCES from a directory the user may not write) before the mount is asked.
            return 'skipped: two names of one file'
        os.rename(op[1], op[2])
        return 'ok'
    if k == 'unlink':
        os.unlink(op[1])
        return 'ok'
    if k == 'mkdir':
        os.mkdir(op[1], op[2])
        return 'ok'
    if k == 'rmdir':
        os.rmdir(op[1])
        return 'ok'
    if k == 'chmod':
        os.chmod(op[1], op[2])
        return 'ok'
    if k == 'chown':  # ['chown', path, uid, gid, follow]
        os.chown(op[1], op[2], op[3], follow_symlinks=op[4])
        return 'ok'
    if k == 'mkfifo':
        os.mkfifo(op[1], op[2])
        return 'ok'
    if k == 'setxattr':  # ['setxattr', path, name, length, byte, flags, follow]
        os.setxattr(op[1], op[2], data(op[3], op[4]), op[5], follow_symlinks=op[6])
        return 'ok'
    if k == 'getxattr':
        return os.getxattr(op[1], op[2], follow_symlinks=op[3]).hex()
    if k == 'removexattr':  # ['removexattr', path, name, follow]
        os.removexattr(op[1], op[2], follow_symlinks=op[3])
        return 'ok'
    if k == 'utime':  # ['utime', path, atime, mtime, follow]: each time [sec, nsec], 'now' or 'omit'
        ts = (Timespec * 2)()
        for i, v in enumerate(op[2:4]):
            if v == 'now':
                ts[i].tv_sec, ts[i].tv_nsec = 0, UTIME_NOW
            elif v == 'omit':
                ts[i].tv_sec, ts[i].tv_nsec = 0, UTIME_OMIT
            else:
                ts[i].tv_sec, ts[i].tv_nsec = v
        if libc.utimensat(AT_FDCWD, os.fsencode(op[1]), ts, 0 if op[4] else AT_SYMLINK_NOFOLLOW) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        st = os.stat(op[1]) if op[4] else os.lstat(op[1])
        # the times set explicitly are read back (the others are relations in the listing)
        return [str(st.st_atime_ns) if isinstance(op[2], list) else op[2], str(st.st_mtime_ns) if isinstance(op[3], list) else op[3]]  # strings: JSON numbers lose ns in JS
    if k == 'tmpfile':  # ['tmpfile', dir, mode, name or None, length, byte]: O_TMPFILE, written, then named by linkat (or closed unnamed)
        fd = os.open(op[1], os.O_TMPFILE | os.O_RDWR, op[2])
        try:
            os.write(fd, data(op[4], op[5]))
            if op[3] is not None:
                # through /proc with AT_SYMLINK_FOLLOW: any user may (AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH)
                check(libc.linkat(AT_FDCWD, ('/proc/self/fd/%d' % fd).encode(), AT_FDCWD, os.fsencode(op[3]), AT_SYMLINK_FOLLOW))
            return describe(os.fstat(fd))
        finally:
            os.close(fd)
    if k == 'nameless':  # ['nameless', path, mode, xattr]: open, unlink, then fchmod, fsetxattr, a write through a reopen by /proc
        fd = os.open(op[1], open_flags('W'))
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                # a write into a FIFO sets its mtime on ext4; the kernel never tells a FUSE
                # filesystem of one (the pipe is the kernel's): README, "Times"
                return 'a FIFO: left alone'
            os.unlink(op[1])
            out = [describe(os.fstat(fd))]
            for step in (lambda: os.fchmod(fd, op[2]), lambda: os.setxattr(fd, op[3], b'v'), lambda: sorted(os.listxattr(fd))):  # listxattr order is not defined (ext4 groups by namespace)
                out.append(safe(step))
            again = os.open('/proc/self/fd/%d' % fd, os.O_WRONLY | os.O_APPEND)
            os.write(again, b'more')
            os.close(again)
            out.append(describe(os.fstat(fd)))
            return out
        finally:
            os.close(fd)
    raise ValueError('unknown op %r' % (k,))


def check(rc):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def safe(fn, *args):
    try:
        return fn(*args)
    except OSError as e:
        return err(e)


def op_paths(op):
    """The paths an operation names."""
    if op[0] in ('link', 'rename'):
        return [op[1], op[2]]
    if op[0] == 'symlink':
        return [op[2]]
    if op[0] == 'tmpfile' and op[3] is not None:
        return [op[1], op[3]]
    return [op[1]]


def involved(op):
    """The paths an operation names (for a symlink also what it points to), with their stats now."""
    out = {}
    for p in op_paths(op):
        for follow in (False, True):
            try:
                st = os.stat(p) if follow else os.lstat(p)
            except OSError:
                break
            out[(p, follow)] = st
            if not stat.S_ISLNK(st.st_mode):
                break
    return out


# -- listing --------------------------------------------------------------------

previous = {}  # path -> (ino, mtime_ns, ctime_ns) of the previous listing
linked = {}  # path -> inode: names of hard-linked files seen so far (by the listing or an operation)


def entry(p, st):
    t = TYPES[stat.S_IFMT(st.st_mode)]
    parts = [t, '%04o' % stat.S_IMODE(st.st_mode), '%d:%d' % (st.st_uid, st.st_gid)]
    if t != 'd':  # LINK_COUNT (see describe)
        parts.append('n%d' % st.st_nlink)
        parts.append('s%d' % st.st_size)
    if t == 'f':
        try:
            with open(p, 'rb', buffering=0) as f:
                parts.append('#' + hashlib.sha1(f.read()).hexdigest()[:12])
        except OSError as e:
            parts.append('#' + err(e))
    if t == 'l':
        parts.append('-> ' + os.readlink(p))
    try:
        names = sorted(os.listxattr(p, follow_symlinks=False))
        xs = []
        for n in names:
            try:
                xs.append('%s=%s' % (n, os.getxattr(p, n, follow_symlinks=False).hex()))
            except OSError as e:
                xs.append('%s:%s' % (n, err(e)))
        if xs:
            parts.append('x{' + ' '.join(xs) + '}')
    except OSError as e:
        parts.append('x:' + err(e))
    return parts


def listing(fresh_inodes):
    """
    The tree under '.', as {path: description}. fresh_inodes: the hard-linked
    inodes the operation just changed, whose every name is re-read from the
    filesystem (README, "Hard links": libfuse 2's path-based API makes the
    kernel cache attributes per name for up to 1 s, so right after `ln a b`
    or a chmod through b, a stat of a can show the old nlink or mode; this
    forces the fresh answer for exactly those names, on both sides).
    """
    global previous
    stats = {}
    errors = {}

    def walk(d):
        try:
            names = sorted(os.listdir(d))
        except OSError as e:
            errors[d] = err(e)
            return
        for n in names:
            p = n if d == '.' else d + '/' + n
            try:
                st = os.lstat(p)
            except OSError as e:
                errors[p] = err(e)
                continue
            stats[p] = st
            if stat.S_ISDIR(st.st_mode):
                walk(p)

    stats['.'] = os.lstat('.')
    walk('.')
    if WITH_MTIMES:  # a final listing, right after a sequence: every name of every hard-linked file
        fresh_inodes = fresh_inodes | {st.st_ino for st in stats.values() if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1}
    for p, st in list(stats.items()):
        if st.st_ino in fresh_inodes and not stat.S_ISDIR(st.st_mode):
            refresh(p)
            stats[p] = os.lstat(p)
    # names the listing cannot see (in a directory it may not read) but an operation used
    for p, ino in list(linked.items()):
        if ino in fresh_inodes and p not in stats and safe(lambda: os.lstat(p).st_ino) == ino:
            refresh(p)
    for p, st in stats.items():
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            linked[p] = st.st_ino
    groups = {}
    out = {}
    now = {}
    for p in sorted(stats):
        st = stats[p]
        parts = entry(p, st)
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            parts.append('g%d' % groups.setdefault(st.st_ino, len(groups) + 1))
        before = previous.get(p)
        if before is not None and before[0] == st.st_ino:
            changed = ('m' if before[1] != st.st_mtime_ns else '') + ('c' if before[2] != st.st_ctime_ns else '')
            parts.append('t:' + (changed or '-'))
        else:
            parts.append('t:new')
        if WITH_MTIMES and p != '.':
            # the workspace root has no entry of its own to keep its mtime in: its mtime is its commit's time
            parts.append('mtime:%d' % st.st_mtime_ns)
        now[p] = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        out[p] = ' '.join(parts)
    for p, e in errors.items():
        out[p] = (out.get(p, '') + ' listing:' + e).strip()
    previous = now
    return out


def tick():
    """Waits until the clock passed every time in the last listing by 1 ms, so any change is a new time on either side (ext4's coarse clock, the daemon's ms clock)."""
    real = time.time_ns()
    latest = max([t for _, m, c in previous.values() for t in (m, c) if t <= real + 1_000_000_000] or [0])
    while time.clock_gettime_ns(CLOCK_REALTIME_COARSE) < latest + 1_000_000:
        time.sleep(0.0005)


print(json.dumps({'i': -1, 'l': listing(set())}), flush=True)
for i, op in enumerate(spec['ops']):
    tick()
    before = involved(op)
    r = safe(run, op)
    after = involved(op)
    # the hard-linked inodes this op changed: named by its paths before or after it
    fresh = set()
    for (p, follow), st in before.items():
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            fresh.add(st.st_ino)
    for (p, follow), st in list(before.items()) + list(after.items()):
        if stat.S_ISDIR(st.st_mode):
            continue
        if st.st_ino in fresh or op[0] == 'link':
            fresh.add(st.st_ino)
            if not follow:
                linked[p] = st.st_ino
    print(json.dumps({'i': i, 'r': r, 'l': listing(fresh)}), flush=True)
