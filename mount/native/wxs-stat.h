// wxs: stat and statfs as they cross from JavaScript (index.cjs getStatArray, getStatfsArray), shared by both bindings.
#ifndef WXS_STAT_H
#define WXS_STAT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

static inline uint64_t uint32s_to_uint64 (uint32_t **ints) {
  uint64_t low = *((*ints)++);
  uint64_t high = *((*ints)++);
  return high * 4294967296 + low;
}

// wxs: times cross as { seconds (2 x u32), nanoseconds (u32) }, not milliseconds.
static inline void uint32s_to_timespec (struct timespec* ts, uint32_t** ints) {
  uint64_t sec = uint32s_to_uint64(ints);
  ts->tv_sec = sec;
  ts->tv_nsec = *((*ints)++);
}

// wxs: resolves UTIME_NOW to `now` (one reading for both times: touch gives atime == mtime, as ext4);
// UTIME_OMIT becomes nsec 0xffffffff.
static inline void resolve_utime (const struct timespec* in, const struct timespec* now, uint64_t* sec, uint32_t* nsec) {
  if (in->tv_nsec == UTIME_OMIT) { *sec = 0; *nsec = 0xffffffff; return; }
  if (in->tv_nsec == UTIME_NOW) { *sec = now->tv_sec; *nsec = now->tv_nsec; return; }
  *sec = in->tv_sec; *nsec = in->tv_nsec;
}


static inline void populate_stat (uint32_t *ints, struct stat* stat) {
  stat->st_mode = *ints++;
  stat->st_uid = *ints++;
  stat->st_gid = *ints++;
  stat->st_size = uint32s_to_uint64(&ints);
  stat->st_dev = *ints++;
  stat->st_nlink = *ints++;
  stat->st_ino = *ints++;
  stat->st_rdev = *ints++;
  stat->st_blksize = *ints++;
  stat->st_blocks = uint32s_to_uint64(&ints);
#ifdef __APPLE__
  uint32s_to_timespec(&stat->st_atimespec, &ints);
  uint32s_to_timespec(&stat->st_mtimespec, &ints);
  uint32s_to_timespec(&stat->st_ctimespec, &ints);
#else
  uint32s_to_timespec(&stat->st_atim, &ints);
  uint32s_to_timespec(&stat->st_mtim, &ints);
  uint32s_to_timespec(&stat->st_ctim, &ints);
#endif
}

// wxs: block and inode counts cross as 64 bits (2 x u32): a disk past 2^32 blocks (16 TiB of 4 KiB) was cut
static inline void populate_statvfs (uint32_t *ints, struct statvfs* statvfs) {
  statvfs->f_bsize = *ints++;
  statvfs->f_frsize = *ints++;
  statvfs->f_blocks = uint32s_to_uint64(&ints);
  statvfs->f_bfree = uint32s_to_uint64(&ints);
  statvfs->f_bavail = uint32s_to_uint64(&ints);
  statvfs->f_files = uint32s_to_uint64(&ints);
  statvfs->f_ffree = uint32s_to_uint64(&ints);
  statvfs->f_favail = uint32s_to_uint64(&ints);
  statvfs->f_fsid = *ints++;
  statvfs->f_flag = *ints++;
  statvfs->f_namemax = *ints++;
}

#endif
