// wxs: the mount over libfuse 3's low-level, inode-based API.
//
// The session runs on Node's main thread: /dev/fuse is non-blocking and watched
// with uv_poll; each readable event reads and processes the requests waiting.
// Every low-level callback hands its request to one JavaScript function
// (dispatch(op, req, ...args)), which answers later, asynchronously, through the
// reply functions below (fuse_reply_*). No thread, no semaphore: a request the
// JavaScript side is still working on never blocks the next one.
//
// Nodeids are the live tree's inode numbers (mount/lib/fuse-ll-ops.ts): every
// name of a hard-linked file is one kernel inode, as on ext4.

#define FUSE_USE_VERSION 34
#define _GNU_SOURCE

#include <fuse_lowlevel.h>
#include <uv.h>
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sched.h>

#include "wxs-names.h"
#include "wxs-stat.h"

// Opcodes handed to dispatch (mount/lib/fuse-ll.ts has the same list).
enum {
  LL_INIT, LL_LOOKUP, LL_FORGET, LL_GETATTR, LL_SETATTR, LL_READLINK, LL_MKNOD, LL_MKDIR,
  LL_UNLINK, LL_RMDIR, LL_SYMLINK, LL_RENAME, LL_LINK, LL_OPEN, LL_READ, LL_WRITE, LL_FLUSH,
  LL_RELEASE, LL_FSYNC, LL_OPENDIR, LL_READDIR, LL_RELEASEDIR, LL_FSYNCDIR, LL_STATFS,
  LL_SETXATTR, LL_GETXATTR, LL_LISTXATTR, LL_REMOVEXATTR, LL_CREATE, LL_FALLOCATE, LL_EXIT,
  LL_TMPFILE, LL_LSEEK
};

// The kernel's FUSE_TMPFILE (open(2) with O_TMPFILE), which libfuse 3.14 does not
// know (it would answer ENOSYS, and the kernel then EOPNOTSUPP for good). Its
// request is a CREATE's (fuse_create_in, then the name, always "/"), and so is
// its reply (entry + open): on_readable hands it to libfuse as a CREATE, and
// ll_create tells it by its name, which no real entry can have.
#define WXS_FUSE_TMPFILE 51
#define WXS_FUSE_CREATE 35
#define TMPFILE_NAME "/"


typedef struct {
  napi_env env;
  napi_ref dispatch;
  napi_ref resource;
  napi_async_context actx;
  struct fuse_session *se;
  uv_poll_t poll;
  struct fuse_buf buf;
  // requests handed to JavaScript and not answered yet: the session is destroyed
  // only once the kernel is gone and this is 0 (a late reply would use it)
  int pending;
  long spin_ns;
  int exited;
  int finished;
  // whether any entry has security.capability (the kernel asks before every write;
  // while none has, it is answered here)
  int capabilities;
  // who sent the request dispatched last (fuse_req_ctx), read by ll_caller
  uid_t uid;
  gid_t gid;
  pid_t pid;
} ll_mount_t;

#define ARGS_MAX 10

static void ll_finish (ll_mount_t *m);

// -- calling JavaScript ---------------------------------------------------------

static napi_value num (napi_env env, double v) { napi_value out; napi_create_double(env, v, &out); return out; }
static napi_value name_value (napi_env env, const char *s) { napi_value out; wxs_create_name(env, s, &out); return out; }
static napi_value null_value (napi_env env) { napi_value out; napi_get_null(env, &out); return out; }
static napi_value ns_value (napi_env env, const struct timespec *ts) {
  napi_value out;
  napi_create_bigint_int64(env, (int64_t) ts->tv_sec * 1000000000LL + ts->tv_nsec, &out);
  return out;
}
static napi_value copy_value (napi_env env, const char *data, size_t len) {
  napi_value out;
  void *dst;
  napi_create_buffer_copy(env, len, data, &dst, &out);
  return out;
}

static void call_js (ll_mount_t *m, int op, fuse_req_t req, int argc, napi_value *args) {
  napi_env env = m->env;
  napi_value argv[ARGS_MAX + 2];
  napi_value fn, global, result;
  argv[0] = num(env, op);
  argv[1] = num(env, (double) (uintptr_t) req);
  for (int i = 0; i < argc; i++) argv[i + 2] = args[i];
  napi_get_reference_value(env, m->dispatch, &fn);
  napi_get_global(env, &global);
  if (napi_call_function(env, global, fn, argc + 2, argv, &result) != napi_ok) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
}

// Hands a request to JavaScript; it answers later through a reply function.
static void request (fuse_req_t req, int op, int argc, napi_value *args) {
  ll_mount_t *m = fuse_req_userdata(req);
  const struct fuse_ctx *c = fuse_req_ctx(req);
  m->uid = c->uid;
  m->gid = c->gid;
  m->pid = c->pid;
  m->pending++;
  call_js(m, op, req, argc, args);
}

#define ENV(req) napi_env env = ((ll_mount_t *) fuse_req_userdata(req))->env; napi_handle_scope hs; napi_open_handle_scope(env, &hs);
#define SEND(req, op, ...) { napi_value a[] = { __VA_ARGS__ }; request(req, op, sizeof(a) / sizeof(a[0]), a); napi_close_handle_scope(env, hs); }
#define FH(fi) num(env, (fi) != NULL ? (double) (fi)->fh : 0)

// -- low-level operations ---------------------------------------------------------

static void ll_init (void *data, struct fuse_conn_info *conn) {
  ll_mount_t *m = data;
  // the kernel clears set-id bits itself on write, chown and truncate (by a
  // SETATTR), as with libfuse 2; the live tree does not need to
  conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
  // O_TRUNC comes as a SETATTR of the size before the open, as with libfuse 2
  // (so O_RDONLY|O_TRUNC truncates, as on ext4, and the audit trail records it)
  conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
  // like the libfuse 2 binding, a mount does not keep the process alive by
  // itself; until it is up (here) it does: whoever awaits the mount waits on it
  uv_unref((uv_handle_t *) &m->poll);
  napi_handle_scope hs;
  napi_open_handle_scope(m->env, &hs);
  call_js(m, LL_INIT, NULL, 0, NULL);
  napi_close_handle_scope(m->env, hs);
}

static void ll_lookup (fuse_req_t req, fuse_ino_t parent, const char *name) {
  ENV(req) SEND(req, LL_LOOKUP, num(env, parent), name_value(env, name))
}

static void forget_one (fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  ll_mount_t *m = fuse_req_userdata(req);
  napi_env env = m->env;
  napi_value a[] = { num(env, ino), num(env, nlookup) };
  call_js(m, LL_FORGET, NULL, 2, a);
}

static void ll_forget (fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  ENV(req)
  forget_one(req, ino, nlookup);
  napi_close_handle_scope(env, hs);
  fuse_reply_none(req);
}

static void ll_forget_multi (fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  ENV(req)
  for (size_t i = 0; i < count; i++) forget_one(req, forgets[i].ino, forgets[i].nlookup);
  napi_close_handle_scope(env, hs);
  fuse_reply_none(req);
}

static void ll_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_GETATTR, num(env, ino), FH(fi))
}

// Times cross as nanoseconds (BigInt), null (not set) or 'now' (UTIME_NOW: the
// live tree's clock, one reading for both, and the ctime it sets is not before it).
static void ll_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  ENV(req)
  napi_value now;
  napi_create_string_utf8(env, "now", 3, &now);
  napi_value atime = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now : (to_set & FUSE_SET_ATTR_ATIME) ? ns_value(env, &attr->st_atim) : null_value(env);
  napi_value mtime = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now : (to_set & FUSE_SET_ATTR_MTIME) ? ns_value(env, &attr->st_mtim) : null_value(env);
  SEND(req, LL_SETATTR, num(env, ino), num(env, to_set), num(env, attr->st_mode), num(env, attr->st_uid), num(env, attr->st_gid), num(env, attr->st_size), atime, mtime, FH(fi))
}

static void ll_readlink (fuse_req_t req, fuse_ino_t ino) {
  ENV(req) SEND(req, LL_READLINK, num(env, ino))
}

static void ll_mknod (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  ENV(req) SEND(req, LL_MKNOD, num(env, parent), name_value(env, name), num(env, mode), num(env, rdev))
}

static void ll_mkdir (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  ENV(req) SEND(req, LL_MKDIR, num(env, parent), name_value(env, name), num(env, mode))
}

static void ll_unlink (fuse_req_t req, fuse_ino_t parent, const char *name) {
  ENV(req) SEND(req, LL_UNLINK, num(env, parent), name_value(env, name))
}

static void ll_rmdir (fuse_req_t req, fuse_ino_t parent, const char *name) {
  ENV(req) SEND(req, LL_RMDIR, num(env, parent), name_value(env, name))
}

static void ll_symlink (fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  ENV(req) SEND(req, LL_SYMLINK, name_value(env, link), num(env, parent), name_value(env, name))
}

static void ll_rename (fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags) {
  ENV(req) SEND(req, LL_RENAME, num(env, parent), name_value(env, name), num(env, newparent), name_value(env, newname), num(env, flags))
}

static void ll_link (fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  ENV(req) SEND(req, LL_LINK, num(env, ino), num(env, newparent), name_value(env, newname))
}

static void ll_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_OPEN, num(env, ino), num(env, fi->flags))
}

static void ll_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_READ, num(env, ino), num(env, size), num(env, off), FH(fi))
}

// The data is copied: libfuse reuses its buffer for the next request, and this one is answered later.
static void ll_write (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_WRITE, num(env, ino), copy_value(env, buf, size), num(env, off), FH(fi))
}

static void ll_flush (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_FLUSH, num(env, ino), FH(fi))
}

static void ll_release (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_RELEASE, num(env, ino), FH(fi))
}

static void ll_fsync (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_FSYNC, num(env, ino), num(env, datasync), FH(fi))
}

static void ll_opendir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_OPENDIR, num(env, ino))
}

static void ll_readdir_any (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, int plus) {
  ENV(req) SEND(req, LL_READDIR, num(env, ino), num(env, size), num(env, off), FH(fi), num(env, plus))
}

static void ll_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  ll_readdir_any(req, ino, size, off, fi, 0);
}

static void ll_readdirplus (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  ll_readdir_any(req, ino, size, off, fi, 1);
}

static void ll_releasedir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_RELEASEDIR, num(env, ino), FH(fi))
}

static void ll_fsyncdir (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_FSYNCDIR, num(env, ino), num(env, datasync), FH(fi))
}

static void ll_statfs (fuse_req_t req, fuse_ino_t ino) {
  ENV(req) SEND(req, LL_STATFS, num(env, ino))
}

static void ll_setxattr (fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) {
  ENV(req)
  napi_value n;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &n);
  SEND(req, LL_SETXATTR, num(env, ino), n, copy_value(env, value, size), num(env, flags))
}

static void ll_getxattr (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  ll_mount_t *m = fuse_req_userdata(req);
  if (!m->capabilities && strcmp(name, "security.capability") == 0) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  ENV(req)
  napi_value n;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &n);
  SEND(req, LL_GETXATTR, num(env, ino), n, num(env, size))
}

static void ll_listxattr (fuse_req_t req, fuse_ino_t ino, size_t size) {
  ENV(req) SEND(req, LL_LISTXATTR, num(env, ino), num(env, size))
}

static void ll_removexattr (fuse_req_t req, fuse_ino_t ino, const char *name) {
  ENV(req)
  napi_value n;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &n);
  SEND(req, LL_REMOVEXATTR, num(env, ino), n)
}

static void ll_create (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  if (strcmp(name, TMPFILE_NAME) == 0) {
    ENV(req) SEND(req, LL_TMPFILE, num(env, parent), num(env, mode), num(env, fi->flags))
    return;
  }
  ENV(req) SEND(req, LL_CREATE, num(env, parent), name_value(env, name), num(env, mode), num(env, fi->flags))
}

static void ll_fallocate (fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_FALLOCATE, num(env, ino), num(env, mode), num(env, offset), num(env, length), FH(fi))
}

// Only SEEK_DATA and SEEK_HOLE come here (the kernel answers the others itself).
static void ll_lseek (fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi) {
  ENV(req) SEND(req, LL_LSEEK, num(env, ino), num(env, off), num(env, whence), FH(fi))
}

static const struct fuse_lowlevel_ops ll_ops = {
  .init = ll_init,
  .lookup = ll_lookup,
  .forget = ll_forget,
  .forget_multi = ll_forget_multi,
  .getattr = ll_getattr,
  .setattr = ll_setattr,
  .readlink = ll_readlink,
  .mknod = ll_mknod,
  .mkdir = ll_mkdir,
  .unlink = ll_unlink,
  .rmdir = ll_rmdir,
  .symlink = ll_symlink,
  .rename = ll_rename,
  .link = ll_link,
  .open = ll_open,
  .read = ll_read,
  .write = ll_write,
  .flush = ll_flush,
  .release = ll_release,
  .fsync = ll_fsync,
  .opendir = ll_opendir,
  .readdir = ll_readdir,
  .readdirplus = ll_readdirplus,
  .releasedir = ll_releasedir,
  .fsyncdir = ll_fsyncdir,
  .statfs = ll_statfs,
  .setxattr = ll_setxattr,
  .getxattr = ll_getxattr,
  .listxattr = ll_listxattr,
  .removexattr = ll_removexattr,
  .create = ll_create,
  .fallocate = ll_fallocate,
  .lseek = ll_lseek
};

// -- the session on the event loop ------------------------------------------------

static void on_closed (uv_handle_t *h) {
  ll_mount_t *m = h->data;
  napi_delete_reference(m->env, m->dispatch);
  napi_delete_reference(m->env, m->resource);
  napi_async_destroy(m->env, m->actx);
  free(m);
}

// The kernel is gone and every request was answered: tell JavaScript, free it all.
static void ll_finish (ll_mount_t *m) {
  if (m->finished || !m->exited || m->pending > 0) return;
  m->finished = 1;
  napi_handle_scope hs;
  napi_open_handle_scope(m->env, &hs);
  call_js(m, LL_EXIT, NULL, 0, NULL);
  napi_close_handle_scope(m->env, hs);
  fuse_session_destroy(m->se);
  free(m->buf.mem);
  uv_close((uv_handle_t *) &m->poll, on_closed);
}

// After a request JavaScript did not answer at once: closing the callback scope
// runs the microtasks, so an answer from a promise already settled (the live
// tree's async ops with everything in memory) goes out now, not after the next
// read of the device (EAGAIN) and the rest of the batch; the process waiting on
// it runs meanwhile. Requests answered at once (all of the floor's) share one scope.
static void next_scope (ll_mount_t *m, napi_value resource, napi_callback_scope *cs) {
  napi_close_callback_scope(m->env, *cs);
  napi_open_callback_scope(m->env, resource, m->actx, cs);
}

// Reads and processes what the kernel sent, a bounded batch at a time (the loop stays fair).
static void on_readable (uv_poll_t *h, int status, int events) {
  ll_mount_t *m = h->data;
  napi_env env = m->env;
  napi_handle_scope hs;
  napi_open_handle_scope(env, &hs);
  napi_value resource;
  napi_get_reference_value(env, m->resource, &resource);
  napi_callback_scope cs;
  napi_open_callback_scope(env, resource, m->actx, &cs);
  for (int i = 0; i < 64 && !m->exited; i++) {
    int res = fuse_session_receive_buf(m->se, &m->buf);
    // Nothing more yet: wait for the next request awake for spin_ns before going
    // back to the event loop (the microtasks first, so answers they hold go out).
    // The program that asked usually asks again within microseconds; asleep, that
    // costs a wake-up of this CPU from idle, which in a VM is an exit to the host
    // (measured here: 1000 creates by a program on the other CPU 250 ms, 105 ms
    // with 50 us; on the same CPU 56 ms either way, as sched_yield lets it run).
    if (res == -EAGAIN && m->spin_ns > 0) {
      next_scope(m, resource, &cs);
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      long long until = ts.tv_sec * 1000000000LL + ts.tv_nsec + m->spin_ns;
      while (res == -EAGAIN) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ts.tv_sec * 1000000000LL + ts.tv_nsec > until) break;
        sched_yield(); // a program waiting on this CPU runs first
        res = fuse_session_receive_buf(m->se, &m->buf);
      }
    }
    if (res == -EAGAIN || res == -EINTR) break;
    if (res <= 0 || fuse_session_exited(m->se)) {
      m->exited = 1;
      uv_poll_stop(&m->poll);
      break;
    }
    // the header: len, opcode (u32 each), ... (struct fuse_in_header)
    if (!(m->buf.flags & FUSE_BUF_IS_FD) && res >= 8) {
      uint32_t *opcode = (uint32_t *) ((char *) m->buf.mem + 4);
      if (*opcode == WXS_FUSE_TMPFILE) *opcode = WXS_FUSE_CREATE;
    }
    int pending = m->pending;
    fuse_session_process_buf(m->se, &m->buf);
    if (m->pending > pending && !m->exited) next_scope(m, resource, &cs);
  }
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
  if (m->exited) ll_finish(m);
}

#define DEFAULT_SPIN_US 50

// mount(dir, options, dispatch, spin?) -> handle. options: "-o..." as libfuse 3
// takes them; spin: microseconds (see on_readable), absent or negative: the default.
static napi_value ll_mount (napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char mnt[4096], opts[1024];
  wxs_get_name(env, argv[0], mnt, sizeof(mnt));
  napi_get_value_string_utf8(env, argv[1], opts, sizeof(opts), NULL);

  ll_mount_t *m = calloc(1, sizeof(ll_mount_t));
  m->env = env;
  napi_create_reference(env, argv[2], 1, &m->dispatch);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &m->resource);
  napi_create_string_utf8(env, "wxs-fuse-ll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &m->actx);

  char *args_v[] = { "wxs", opts };
  struct fuse_args args = FUSE_ARGS_INIT(opts[0] ? 2 : 1, args_v);
  m->se = fuse_session_new(&args, &ll_ops, sizeof(ll_ops), m);
  fuse_opt_free_args(&args);
  if (m->se == NULL || fuse_session_mount(m->se, mnt) != 0) {
    if (m->se != NULL) fuse_session_destroy(m->se);
    napi_delete_reference(env, m->dispatch);
    napi_delete_reference(env, m->resource);
    napi_async_destroy(env, m->actx);
    free(m);
    napi_throw_error(env, NULL, "fuse_session_mount failed (see stderr)");
    return NULL;
  }
  // spin: microseconds to wait awake for the next request (see on_readable);
  // absent: DEFAULT_SPIN_US with more than one CPU online, else none
  double spin_us = -1;
  if (argc > 3) napi_get_value_double(env, argv[3], &spin_us);
  if (spin_us < 0) spin_us = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? DEFAULT_SPIN_US : 0;
  m->spin_ns = (long) (spin_us * 1000);
  int fd = fuse_session_fd(m->se);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &m->poll, fd);
  m->poll.data = m;
  uv_poll_start(&m->poll, UV_READABLE, on_readable);
  napi_value out;
  napi_create_external(env, m, NULL, NULL, &out);
  return out;
}

// -- replies (each answers one request exactly once) ------------------------------

static fuse_req_t req_arg (napi_env env, napi_value v) {
  double d;
  napi_get_value_double(env, v, &d);
  return (fuse_req_t) (uintptr_t) d;
}

static double double_arg (napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static void *buffer_arg (napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  *len = 0;
  napi_get_buffer_info(env, v, &data, len);
  return data;
}

#define REPLY(fn, n, ...) static napi_value fn (napi_env env, napi_callback_info info) {\
  size_t argc = n; napi_value argv[n == 0 ? 1 : n];\
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);\
  fuse_req_t req = req_arg(env, argv[0]);\
  ll_mount_t *m = fuse_req_userdata(req);\
  __VA_ARGS__\
  m->pending--; /* the session may go once the kernel has gone too */\
  ll_finish(m);\
  return NULL;\
}

static void fill_entry (napi_env env, napi_value stat, double ttl, struct fuse_entry_param *e) {
  size_t len;
  memset(e, 0, sizeof(*e));
  populate_stat(buffer_arg(env, stat, &len), &e->attr);
  e->ino = e->attr.st_ino;
  e->attr_timeout = ttl;
  e->entry_timeout = ttl;
}

static void fill_file (napi_env env, napi_value *argv, struct fuse_file_info *fi) {
  memset(fi, 0, sizeof(*fi));
  fi->fh = (uint64_t) double_arg(env, argv[0]);
  int flags = (int) double_arg(env, argv[1]);
  fi->keep_cache = (flags & 1) != 0;
  fi->direct_io = (flags & 2) != 0;
}

REPLY(reply_err, 2, { fuse_reply_err(req, (int) double_arg(env, argv[1])); })

// (req, stat, ttl); a stat of null: not found, cached ttl seconds
REPLY(reply_entry, 3, {
  struct fuse_entry_param e;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t == napi_null) {
    memset(&e, 0, sizeof(e));
    e.entry_timeout = double_arg(env, argv[2]);
  } else {
    fill_entry(env, argv[1], double_arg(env, argv[2]), &e);
  }
  fuse_reply_entry(req, &e);
})

// (req, stat, ttl, fh, flags: 1 keep_cache, 2 direct_io)
REPLY(reply_create, 5, {
  struct fuse_entry_param e;
  struct fuse_file_info fi;
  fill_entry(env, argv[1], double_arg(env, argv[2]), &e);
  fill_file(env, argv + 3, &fi);
  fuse_reply_create(req, &e, &fi);
})

REPLY(reply_attr, 3, {
  size_t len;
  struct stat st;
  memset(&st, 0, sizeof(st));
  populate_stat(buffer_arg(env, argv[1], &len), &st);
  fuse_reply_attr(req, &st, double_arg(env, argv[2]));
})

REPLY(reply_readlink, 2, {
  char target[4096];
  wxs_get_name(env, argv[1], target, sizeof(target));
  fuse_reply_readlink(req, target);
})

// (req, fh, flags)
REPLY(reply_open, 3, {
  struct fuse_file_info fi;
  fill_file(env, argv + 1, &fi);
  fuse_reply_open(req, &fi);
})

REPLY(reply_write, 2, { fuse_reply_write(req, (size_t) double_arg(env, argv[1])); })

// (req, buffer, length)
REPLY(reply_buf, 3, {
  size_t len;
  void *data = buffer_arg(env, argv[1], &len);
  size_t n = (size_t) double_arg(env, argv[2]);
  fuse_reply_buf(req, data, n < len ? n : len);
})

REPLY(reply_lseek, 2, { fuse_reply_lseek(req, (off_t) double_arg(env, argv[1])); })

REPLY(reply_xattr, 2, { fuse_reply_xattr(req, (size_t) double_arg(env, argv[1])); })

REPLY(reply_statfs, 2, {
  size_t len;
  struct statvfs st;
  memset(&st, 0, sizeof(st));
  populate_statvfs(buffer_arg(env, argv[1], &len), &st);
  fuse_reply_statfs(req, &st);
})

// (req, size, plus, names, stats (one Buffer each, index.cjs layout), base, ttl, counted)
// As many entries as fit in `size` bytes; entry i has offset base + i + 1.
// counted[0] says how many went (with readdirplus each one is a lookup).
REPLY(reply_dir, 8, {
  size_t size = (size_t) double_arg(env, argv[1]);
  int plus = double_arg(env, argv[2]) != 0;
  uint32_t count;
  off_t base = (off_t) double_arg(env, argv[5]);
  double ttl = double_arg(env, argv[6]);
  size_t clen;
  uint32_t *counted = buffer_arg(env, argv[7], &clen);
  napi_get_array_length(env, argv[3], &count);
  char *buf = malloc(size);
  size_t used = 0;
  uint32_t i;
  for (i = 0; i < count; i++) {
    napi_value name_v, stat_v;
    char name[1024];
    napi_get_element(env, argv[3], i, &name_v);
    napi_get_element(env, argv[4], i, &stat_v);
    wxs_get_name(env, name_v, name, sizeof(name));
    struct fuse_entry_param e;
    fill_entry(env, stat_v, ttl, &e);
    size_t n = plus
      ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e, base + i + 1)
      : fuse_add_direntry(req, buf + used, size - used, name, &e.attr, base + i + 1);
    if (n > size - used) break;
    used += n;
  }
  counted[0] = i;
  fuse_reply_buf(req, buf, used);
  free(buf);
})

// -- the rest ----------------------------------------------------------------------

static ll_mount_t *mount_arg (napi_env env, napi_value v) {
  void *m = NULL;
  napi_get_value_external(env, v, &m);
  return m;
}

// caller(handle) -> [uid, gid, pid] of the request dispatched last
static napi_value ll_caller (napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  ll_mount_t *m = mount_arg(env, argv[0]);
  napi_create_array_with_length(env, 3, &out);
  if (m == NULL) return out; // the session has ended
  napi_set_element(env, out, 0, num(env, m->uid));
  napi_set_element(env, out, 1, num(env, m->gid));
  napi_set_element(env, out, 2, num(env, m->pid));
  return out;
}

static napi_value ll_set_capabilities (napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  ll_mount_t *m = mount_arg(env, argv[0]);
  if (m != NULL) m->capabilities = double_arg(env, argv[1]) != 0;
  return NULL;
}

// getpgid(pid) -> its process group, or -1 when it is gone (the audit trail's
// pgid: a syscall, where /proc/<pid>/stat costs ~4 us to read)
static napi_value ll_getpgid (napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return num(env, getpgid((pid_t) double_arg(env, argv[0])));
}

#define EXPORT(name, fn) { napi_value f; napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f); napi_set_named_property(env, exports, name, f); }

NAPI_MODULE_INIT () {
  EXPORT("mount", ll_mount)
  EXPORT("caller", ll_caller)
  EXPORT("setCapabilities", ll_set_capabilities)
  EXPORT("getpgid", ll_getpgid)
  EXPORT("replyErr", reply_err)
  EXPORT("replyEntry", reply_entry)
  EXPORT("replyCreate", reply_create)
  EXPORT("replyAttr", reply_attr)
  EXPORT("replyReadlink", reply_readlink)
  EXPORT("replyOpen", reply_open)
  EXPORT("replyWrite", reply_write)
  EXPORT("replyBuf", reply_buf)
  EXPORT("replyXattr", reply_xattr)
  EXPORT("replyLseek", reply_lseek)
  EXPORT("replyStatfs", reply_statfs)
  EXPORT("replyDir", reply_dir)
  return exports;
}
