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
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

ZXS_EXPORT int32_t zxs_version(void) { return ZXS_VERSION; }

ZXS_EXPORT int64_t zxs_page_size(void) {
  long ps = sysconf(_SC_PAGESIZE);
  return ps > 0 ? (int64_t)ps : -(int64_t)errno;
}

ZXS_EXPORT int32_t zxs_memfd_create(void) {
  int fd = memfd_create("zxvm", MFD_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

ZXS_EXPORT int32_t zxs_close(int32_t fd) { return close(fd) == 0 ? 0 : -errno; }

ZXS_EXPORT int32_t zxs_ftruncate(int32_t fd, uint64_t size) {
  if (size > ZXS_OFF_MAX) return -EINVAL;
  return ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
}

ZXS_EXPORT int64_t zxs_fstat_blocks(int32_t fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  return (int64_t)st.st_blocks * 512;
}

ZXS_EXPORT int64_t zxs_fstat_size(int32_t fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  return (int64_t)st.st_size;
}

ZXS_EXPORT int64_t zxs_pread(int32_t fd, uint8_t *buf, uint64_t len, uint64_t off) {
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

ZXS_EXPORT int64_t zxs_pwrite(int32_t fd, const uint8_t *buf, uint64_t len, uint64_t off) {
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

ZXS_EXPORT int32_t zxs_punch_hole(int32_t fd, uint64_t off, uint64_t len) {
  if (len == 0) return 0;
  if (!range_ok(off, len)) return -EINVAL;
  int r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
  return r == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_allocate(int32_t fd, uint64_t off, uint64_t len) {
  if (len == 0) return 0;
  if (!range_ok(off, len)) return -EINVAL;
  int r = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
  return r == 0 ? 0 : -errno;
}

ZXS_EXPORT int64_t zxs_seek_data(int32_t fd, uint64_t off) {
  if (off > ZXS_OFF_MAX) return -EINVAL;
  off_t r = lseek(fd, (off_t)off, SEEK_DATA);
  return r >= 0 ? (int64_t)r : -errno;
}

ZXS_EXPORT int64_t zxs_seek_hole(int32_t fd, uint64_t off) {
  if (off > ZXS_OFF_MAX) return -EINVAL;
  off_t r = lseek(fd, (off_t)off, SEEK_HOLE);
  return r >= 0 ? (int64_t)r : -errno;
}

/* Copy one data extent with pread/pwrite (fallback when copy_file_range cannot be used). */
static int64_t copy_extent_rw(int src, off_t so, int dst, off_t dof, uint64_t len) {
  uint8_t buf[64 * 1024];
  uint64_t done = 0;
  while (done < len) {
    size_t want = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
    int64_t n = zxs_pread(src, buf, want, (uint64_t)so + done);
    if (n < 0) return n;
    if (n == 0) break; /* the source shrank: the rest stays a hole */
    int64_t w = zxs_pwrite(dst, buf, (uint64_t)n, (uint64_t)dof + done);
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

ZXS_EXPORT int64_t zxs_copy_range(int32_t src_fd, uint64_t src_off, int32_t dst_fd,
                                  uint64_t dst_off, uint64_t len) {
  if (len == 0) return 0;
  if (!range_ok(src_off, len) || !range_ok(dst_off, len)) return -EINVAL;
  struct stat ss, ds;
  if (fstat(src_fd, &ss) != 0 || fstat(dst_fd, &ds) != 0) return -errno;
  if (ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino && src_off < dst_off + len &&
      dst_off < src_off + len) {
    return -EINVAL; /* overlapping ranges of one file */
  }
  int r = zxs_punch_hole(dst_fd, dst_off, len);
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
  return (int64_t)copied;
}

ZXS_EXPORT int64_t zxs_reserve(uint64_t len) {
  if (len == 0 || len > ZXS_OFF_MAX) return -EINVAL;
  void *p = mmap(NULL, (size_t)len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p;
}

ZXS_EXPORT int32_t zxs_reserve_fixed(uint64_t addr, uint64_t len) {
  if (addr == 0 || len == 0) return -EINVAL;
  void *p = mmap((void *)(uintptr_t)addr, (size_t)len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return p == MAP_FAILED ? -errno : 0;
}

ZXS_EXPORT int32_t zxs_reserve_noreplace(uint64_t addr, uint64_t len) {
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

ZXS_EXPORT int64_t zxs_vma_count(void) { return count_lines("/proc/self/maps"); }

ZXS_EXPORT int64_t zxs_max_map_count(void) {
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

ZXS_EXPORT int32_t zxs_anon_fixed(uint64_t addr, uint64_t len) {
  if (addr == 0 || len == 0) return -EINVAL;
  void *p = mmap((void *)(uintptr_t)addr, (size_t)len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return p == MAP_FAILED ? -errno : 0;
}

ZXS_EXPORT int64_t zxs_map_window(int32_t fd, uint64_t off, uint64_t len) {
  if (len == 0 || !range_ok(off, len)) return -EINVAL;
  void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
  return p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p;
}

ZXS_EXPORT int32_t zxs_map_fixed(uint64_t addr, uint64_t len, int32_t prot, int32_t fd,
                                 uint64_t off) {
  if (addr == 0 || len == 0 || (prot & ~ZXS_PROT_MASK) != 0 || !range_ok(off, len)) {
    return -EINVAL;
  }
  void *p = mmap((void *)(uintptr_t)addr, (size_t)len, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
  return p == MAP_FAILED ? -errno : 0;
}

ZXS_EXPORT int32_t zxs_mprotect(uint64_t addr, uint64_t len, int32_t prot) {
  if ((prot & ~ZXS_PROT_MASK) != 0) return -EINVAL;
  return mprotect((void *)(uintptr_t)addr, (size_t)len, prot) == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_munmap(uint64_t addr, uint64_t len) {
  return munmap((void *)(uintptr_t)addr, (size_t)len) == 0 ? 0 : -errno;
}

ZXS_EXPORT int32_t zxs_madvise(uint64_t addr, uint64_t len, int32_t advice) {
  int a;
  switch (advice) {
    case ZXS_ADV_NORMAL: a = MADV_NORMAL; break;
    case ZXS_ADV_WILLNEED: a = MADV_WILLNEED; break;
    case ZXS_ADV_DONTNEED: a = MADV_DONTNEED; break;
    default: return -EINVAL;
  }
  return madvise((void *)(uintptr_t)addr, (size_t)len, a) == 0 ? 0 : -errno;
}
