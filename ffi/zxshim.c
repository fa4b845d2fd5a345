/*
 * zxshim: thin, stateless syscall wrappers for zxvm's native backend. See zxshim.h.
 *
 * Conventions: success returns >= 0, failure returns -errno. No global state, no Zircon logic.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include "zxshim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define ZXS_EXPORT __attribute__((visibility("default")))
#define ZXS_PROT_MASK (PROT_READ | PROT_WRITE | PROT_EXEC)
#define ZXS_OFF_MAX ((uint64_t)INT64_MAX)

/* True when off + len fits in off_t without overflow. */
static int range_ok(uint64_t off, uint64_t len) {
  return off <= ZXS_OFF_MAX && len <= ZXS_OFF_MAX - off;
}

#define ZXS_NUM_LIMIT 9007199254740992.0 /* 2^53 */

/* Decode a zxs_num argument: 1 and *out set when it is an exact integer in [0, 2^53). */
static int num(zxs_num d, uint64_t *out) {
  if (!(d >= 0 && d < ZXS_NUM_LIMIT)) return 0; /* also NaN */
  uint64_t v = (uint64_t)d;
  if ((double)v != d) return 0; /* fractional */
  *out = v;
  return 1;
}

/* Decode two zxs_num arguments or return -EINVAL from the calling function. */
#define NUM2(a, ua, b, ub)                  \
  uint64_t ua, ub;                          \
  if (!num(a, &ua) || !num(b, &ub)) return -EINVAL

/* A 64-bit result as a zxs_num (values here are far below 2^53). */
static zxs_num res(int64_t v) { return (zxs_num)v; }

ZXS_EXPORT int32_t zxs_version(void) { return ZXS_VERSION; }

ZXS_EXPORT zxs_num zxs_page_size(void) {
  long ps = sysconf(_SC_PAGESIZE);
  return ps > 0 ? res(ps) : -errno;
}

ZXS_EXPORT int32_t zxs_memfd_create(void) {
  int fd = memfd_create("zxvm", MFD_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

ZXS_EXPORT int32_t zxs_close(int32_t fd) { return close(fd) == 0 ? 0 : -errno; }

ZXS_EXPORT int32_t zxs_dup(int32_t fd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return r >= 0 ? r : -errno;
}

ZXS_EXPORT int32_t zxs_ftruncate(int32_t fd, zxs_num size_) {
  uint64_t size;
  if (!num(size_, &size)) return -EINVAL;
  return ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
}

ZXS_EXPORT zxs_num zxs_fstat_blocks(int32_t fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  return res((int64_t)st.st_blocks * 512);
}

ZXS_EXPORT zxs_num zxs_fstat_size(int32_t fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  return res((int64_t)st.st_size);
}

static int64_t do_pread(int32_t fd, uint8_t *buf, uint64_t len, uint64_t off) {
  if (!range_ok(off, len)) return -EINVAL;
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, buf + done, (size_t)(len - done), (off_t)(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break; /* end of file */
    done += (uint64_t)n;
  }
  return (int64_t)done;
}

static int64_t do_pwrite(int32_t fd, const uint8_t *buf, uint64_t len, uint64_t off) {
  if (!range_ok(off, len)) return -EINVAL;
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(fd, buf + done, (size_t)(len - done), (off_t)(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;
    done += (uint64_t)n;
  }
  return (int64_t)done;
}

ZXS_EXPORT zxs_num zxs_pread(int32_t fd, uint8_t *buf, zxs_num len_, zxs_num off_) {
  NUM2(len_, len, off_, off);
  return res(do_pread(fd, buf, len, off));
}

ZXS_EXPORT zxs_num zxs_pwrite(int32_t fd, const uint8_t *buf, zxs_num len_, zxs_num off_) {
  NUM2(len_, len, off_, off);
  return res(do_pwrite(fd, buf, len, off));
}

static int32_t punch(int32_t fd, uint64_t off, uint64_t len) {
  if (len == 0) return 0;
  if (!range_ok(off, len)) return -EINVAL;
  int r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
  return r == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_punch_hole(int32_t fd, zxs_num off_, zxs_num len_) {
  NUM2(off_, off, len_, len);
  return punch(fd, off, len);
}

ZXS_EXPORT int32_t zxs_allocate(int32_t fd, zxs_num off_, zxs_num len_) {
  NUM2(off_, off, len_, len);
  if (len == 0) return 0;
  if (!range_ok(off, len)) return -EINVAL;
  int r = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
  return r == 0 ? 0 : -errno;
}

ZXS_EXPORT zxs_num zxs_seek_data(int32_t fd, zxs_num off_) {
  uint64_t off;
  if (!num(off_, &off)) return -EINVAL;
  off_t r = lseek(fd, (off_t)off, SEEK_DATA);
  return r >= 0 ? res(r) : -errno;
}

ZXS_EXPORT zxs_num zxs_seek_hole(int32_t fd, zxs_num off_) {
  uint64_t off;
  if (!num(off_, &off)) return -EINVAL;
  off_t r = lseek(fd, (off_t)off, SEEK_HOLE);
  return r >= 0 ? res(r) : -errno;
}

/* Copy one data extent with pread/pwrite (fallback when copy_file_range cannot be used). */
static int64_t copy_extent_rw(int src, off_t so, int dst, off_t dof, uint64_t len) {
  uint8_t buf[64 * 1024];
  uint64_t done = 0;
  while (done < len) {
    size_t want = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
    int64_t n = do_pread(src, buf, want, (uint64_t)so + done);
    if (n < 0) return n;
    if (n == 0) break; /* the source shrank: the rest stays a hole */
    int64_t w = do_pwrite(dst, buf, (uint64_t)n, (uint64_t)dof + done);
    if (w < 0) return w;
    done += (uint64_t)n;
  }
  return 0;
}

/* Copy one data extent, preferring copy_file_range (in-kernel, no user-space bounce). */
static int64_t copy_extent(int src, off_t so, int dst, off_t dof, uint64_t len) {
  uint64_t done = 0;
  while (done < len) {
    off_t in = so + (off_t)done, out = dof + (off_t)done;
    ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)(len - done), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
          errno == EBADF) {
        return copy_extent_rw(src, so + (off_t)done, dst, dof + (off_t)done, len - done);
      }
      return -errno;
    }
    if (n == 0) break; /* end of the source file */
    done += (uint64_t)n;
  }
  return 0;
}

ZXS_EXPORT zxs_num zxs_copy_range(int32_t src_fd, zxs_num src_off_, int32_t dst_fd,
                                  zxs_num dst_off_, zxs_num len_) {
  uint64_t src_off, dst_off, len;
  if (!num(src_off_, &src_off) || !num(dst_off_, &dst_off) || !num(len_, &len)) return -EINVAL;
  if (len == 0) return 0;
  if (!range_ok(src_off, len) || !range_ok(dst_off, len)) return -EINVAL;
  struct stat ss, ds;
  if (fstat(src_fd, &ss) != 0 || fstat(dst_fd, &ds) != 0) return -errno;
  if (ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino && src_off < dst_off + len &&
      dst_off < src_off + len) {
    return -EINVAL; /* overlapping ranges of one file */
  }
  int r = punch(dst_fd, dst_off, len);
  if (r < 0) return r;
  uint64_t end = src_off + len;
  if ((uint64_t)ss.st_size < end) end = (uint64_t)ss.st_size;
  uint64_t pos = src_off, copied = 0;
  while (pos < end) {
    off_t d = lseek(src_fd, (off_t)pos, SEEK_DATA);
    if (d < 0) {
      if (errno == ENXIO) break; /* no data past pos */
      return -errno;
    }
    if ((uint64_t)d >= end) break;
    off_t h = lseek(src_fd, d, SEEK_HOLE);
    if (h < 0) return -errno;
    uint64_t stop = (uint64_t)h < end ? (uint64_t)h : end;
    if (stop <= (uint64_t)d) break;
    int64_t c = copy_extent(src_fd, d, dst_fd, (off_t)(dst_off + ((uint64_t)d - src_off)),
                            stop - (uint64_t)d);
    if (c < 0) return c;
    copied += stop - (uint64_t)d;
    pos = stop;
  }
  return res((int64_t)copied);
}

ZXS_EXPORT zxs_num zxs_reserve(zxs_num len_) {
  uint64_t len;
  if (!num(len_, &len) || len == 0) return -EINVAL;
  void *p = mmap(NULL, (size_t)len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? -errno : res((int64_t)(uintptr_t)p);
}

ZXS_EXPORT int32_t zxs_reserve_fixed(zxs_num addr_, zxs_num len_) {
  NUM2(addr_, addr, len_, len);
  if (addr == 0 || len == 0) return -EINVAL;
  void *p = mmap((void *)(uintptr_t)addr, (size_t)len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return p == MAP_FAILED ? -errno : 0;
}

ZXS_EXPORT int32_t zxs_reserve_noreplace(zxs_num addr_, zxs_num len_) {
  NUM2(addr_, addr, len_, len);
  if (addr == 0 || len == 0) return -EINVAL;
  void *want = (void *)(uintptr_t)addr;
  void *p = mmap(want, (size_t)len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return -errno;
  if (p != want) { /* a kernel before 4.17 took the flag as a mere hint */
    munmap(p, (size_t)len);
    return -EEXIST;
  }
  return 0;
}

/* Count '\n' in a whole file (a /proc file: read until EOF). */
static int64_t count_lines(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[65536];
  int64_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return -e;
    }
    if (r == 0) break;
    for (ssize_t i = 0; i < r; i++) n += buf[i] == '\n';
  }
  close(fd);
  return n;
}

ZXS_EXPORT zxs_num zxs_vma_count(void) { return res(count_lines("/proc/self/maps")); }

static int64_t max_map_count(void) {
  int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[32];
  ssize_t r = read(fd, buf, sizeof buf - 1);
  int e = errno;
  close(fd);
  if (r <= 0) return r < 0 ? -e : -EIO;
  buf[r] = 0;
  int64_t v = 0;
  for (ssize_t i = 0; i < r && buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (buf[i] - '0');
  return v > 0 ? v : -EIO;
}

ZXS_EXPORT zxs_num zxs_max_map_count(void) { return res(max_map_count()); }

ZXS_EXPORT int32_t zxs_anon_fixed(zxs_num addr_, zxs_num len_) {
  NUM2(addr_, addr, len_, len);
  if (addr == 0 || len == 0) return -EINVAL;
  void *p = mmap((void *)(uintptr_t)addr, (size_t)len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return p == MAP_FAILED ? -errno : 0;
}

ZXS_EXPORT zxs_num zxs_map_window(int32_t fd, zxs_num off_, zxs_num len_) {
  NUM2(off_, off, len_, len);
  if (len == 0 || !range_ok(off, len)) return -EINVAL;
  void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
  return p == MAP_FAILED ? -errno : res((int64_t)(uintptr_t)p);
}

ZXS_EXPORT int32_t zxs_map_fixed(zxs_num addr_, zxs_num len_, int32_t prot, int32_t fd,
                                 zxs_num off_) {
  uint64_t addr, len, off;
  if (!num(addr_, &addr) || !num(len_, &len) || !num(off_, &off)) return -EINVAL;
  if (addr == 0 || len == 0 || (prot & ~ZXS_PROT_MASK) != 0 || !range_ok(off, len)) {
    return -EINVAL;
  }
  void *p = mmap((void *)(uintptr_t)addr, (size_t)len, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
  return p == MAP_FAILED ? -errno : 0;
}

ZXS_EXPORT int32_t zxs_mprotect(zxs_num addr_, zxs_num len_, int32_t prot) {
  NUM2(addr_, addr, len_, len);
  if ((prot & ~ZXS_PROT_MASK) != 0) return -EINVAL;
  return mprotect((void *)(uintptr_t)addr, (size_t)len, prot) == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_munmap(zxs_num addr_, zxs_num len_) {
  NUM2(addr_, addr, len_, len);
  return munmap((void *)(uintptr_t)addr, (size_t)len) == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_madvise(zxs_num addr_, zxs_num len_, int32_t advice) {
  NUM2(addr_, addr, len_, len);
  int a;
  switch (advice) {
    case ZXS_ADV_NORMAL: a = MADV_NORMAL; break;
    case ZXS_ADV_WILLNEED: a = MADV_WILLNEED; break;
    case ZXS_ADV_DONTNEED: a = MADV_DONTNEED; break;
    default: return -EINVAL;
  }
  return madvise((void *)(uintptr_t)addr, (size_t)len, a) == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_futex_wait(zxs_num addr_, int32_t value, zxs_num timeout_ns) {
  uint64_t addr;
  if (!num(addr_, &addr) || addr == 0 || (addr & 3) != 0) return -EINVAL;
  if (timeout_ns != timeout_ns) return -EINVAL; /* NaN */
  struct timespec deadline, *dp = NULL;
  if (timeout_ns >= 0 && timeout_ns < ZXS_NUM_LIMIT) {
    uint64_t t = (uint64_t)timeout_ns;
    if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0) return -errno;
    uint64_t ns = (uint64_t)deadline.tv_nsec + t % 1000000000u;
    deadline.tv_sec += (time_t)(t / 1000000000u + ns / 1000000000u);
    deadline.tv_nsec = (long)(ns % 1000000000u);
    dp = &deadline;
  }
  for (;;) {
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline: a restart keeps it. */
    long r = syscall(SYS_futex, (uint32_t *)(uintptr_t)addr, FUTEX_WAIT_BITSET, (uint32_t)value,
                     dp, NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

ZXS_EXPORT int32_t zxs_futex_wake(zxs_num addr_, int32_t count) {
  uint64_t addr;
  if (!num(addr_, &addr) || addr == 0 || (addr & 3) != 0 || count < 0) return -EINVAL;
  long r = syscall(SYS_futex, (uint32_t *)(uintptr_t)addr, FUTEX_WAKE, count, NULL, NULL, 0);
  return r < 0 ? -errno : (int32_t)r;
}
