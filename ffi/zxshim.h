/*
 * zxshim: thin, stateless wrappers over the Linux syscalls zxvm's native backend needs.
 *
 * No Zircon logic lives here. Every function takes only numbers and pointers (fast-call
 * friendly for Deno FFI and koffi) and returns a non-negative value on success or -errno on
 * failure.
 *
 * Sizes, offsets and addresses (64-bit quantities) cross as zxs_num: a double holding an exact
 * integer in [0, 2^53). JavaScript passes its numbers as they are (a 64-bit integer parameter
 * would need a BigInt allocated per call, which costs more than the call) and every value zxvm
 * uses fits (VMOs up to 2^40 bytes, 47-bit addresses). A zxs_num argument that is negative,
 * fractional, NaN or >= 2^53 is -EINVAL. 64-bit results are zxs_num too.
 */
#ifndef ZXSHIM_H
#define ZXSHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this interface; bumped on every incompatible change. */
#define ZXS_VERSION 6

/* A 64-bit quantity: an exact integer in [0, 2^53) (results: or -errno) carried as a double. */
typedef double zxs_num;

/* Advice values for zxs_madvise (mapped to MADV_* inside the shim). */
#define ZXS_ADV_NORMAL 0
#define ZXS_ADV_WILLNEED 1
#define ZXS_ADV_DONTNEED 2

/* The interface version (ZXS_VERSION). */
int32_t zxs_version(void);
/* The system page size (sysconf(_SC_PAGESIZE)). */
zxs_num zxs_page_size(void);

/* memfd_create("zxvm", MFD_CLOEXEC): a new, empty memory file; returns its fd. */
int32_t zxs_memfd_create(void);
/* close(fd). */
int32_t zxs_close(int32_t fd);
/* fcntl(fd, F_DUPFD_CLOEXEC, 0): a new fd for the same open file (another Worker's kernel adopts
 * it; fds are process-wide). */
int32_t zxs_dup(int32_t fd);
/* ftruncate(fd, size). */
int32_t zxs_ftruncate(int32_t fd, zxs_num size);
/* Bytes allocated to fd (st_blocks * 512). */
zxs_num zxs_fstat_blocks(int32_t fd);
/* st_size of fd. */
zxs_num zxs_fstat_size(int32_t fd);

/* pread until len bytes are read or EOF; returns the number of bytes read. */
zxs_num zxs_pread(int32_t fd, uint8_t *buf, zxs_num len, zxs_num off);
/* pwrite all len bytes; returns len. */
zxs_num zxs_pwrite(int32_t fd, const uint8_t *buf, zxs_num len, zxs_num off);

/* fallocate(PUNCH_HOLE | KEEP_SIZE): release [off, off+len); it reads back as zero. */
int32_t zxs_punch_hole(int32_t fd, zxs_num off, zxs_num len);
/* fallocate(KEEP_SIZE): allocate [off, off+len) without changing contents or size. */
int32_t zxs_allocate(int32_t fd, zxs_num off, zxs_num len);
/* lseek(fd, off, SEEK_DATA): the first data offset >= off, or -ENXIO when there is none. */
zxs_num zxs_seek_data(int32_t fd, zxs_num off);
/* lseek(fd, off, SEEK_HOLE): the first hole offset >= off (the file size counts as a hole). */
zxs_num zxs_seek_hole(int32_t fd, zxs_num off);
/*
 * Copy len bytes from src_fd at src_off to dst_fd at dst_off, preserving holes: the destination
 * range is punched first, then only the data extents of the source are copied (source bytes at or
 * past its size read as zero, so they stay holes). The two ranges must not overlap when src_fd and
 * dst_fd are the same file (-EINVAL). Returns the number of data bytes copied.
 */
zxs_num zxs_copy_range(int32_t src_fd, zxs_num src_off, int32_t dst_fd, zxs_num dst_off,
                       zxs_num len);

/* mmap(NULL, len, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE): returns the address. */
zxs_num zxs_reserve(zxs_num len);
/* Same as zxs_reserve but MAP_FIXED at addr: returns [addr, addr+len) to the reservation. */
int32_t zxs_reserve_fixed(zxs_num addr, zxs_num len);
/*
 * Same as zxs_reserve_fixed but MAP_FIXED_NOREPLACE: fails with -EEXIST instead of replacing
 * anything already mapped in [addr, addr+len).
 */
int32_t zxs_reserve_noreplace(zxs_num addr, zxs_num len);
/* The number of memory areas of this process (lines of /proc/self/maps). */
zxs_num zxs_vma_count(void);
/* vm.max_map_count (/proc/sys/vm/max_map_count). */
zxs_num zxs_max_map_count(void);
/*
 * mmap(addr, len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_FIXED):
 * replaces whatever is at [addr, addr+len) with private zero pages in one step (no moment
 * where the range faults).
 */
int32_t zxs_anon_fixed(zxs_num addr, zxs_num len);
/* mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, off): a window; returns the address. */
zxs_num zxs_map_window(int32_t fd, zxs_num off, zxs_num len);
/* mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, fd, off). prot uses PROT_* bits (1 r, 2 w, 4 x). */
int32_t zxs_map_fixed(zxs_num addr, zxs_num len, int32_t prot, int32_t fd, zxs_num off);
/* mprotect(addr, len, prot). */
int32_t zxs_mprotect(zxs_num addr, zxs_num len, int32_t prot);
/* munmap(addr, len). */
int32_t zxs_munmap(zxs_num addr, zxs_num len);
/* madvise(addr, len, advice) with advice one of ZXS_ADV_*. */
int32_t zxs_madvise(zxs_num addr, zxs_num len, int32_t advice);
/*
 * Wait on the 32-bit word at addr (4-aligned) while it holds value: a shared futex
 * (FUTEX_WAIT_BITSET without FUTEX_PRIVATE_FLAG), keyed by the memory and not the address, so
 * waiters in any mapping of the same memfd, in any thread or process, meet. timeout_ns counts
 * from the call; negative or >= 2^53 waits forever. Signals restart the wait with the time left.
 * Returns 0 when woken (or spuriously), -EAGAIN when the word does not hold value, -ETIMEDOUT,
 * -EFAULT when addr is not mapped readable, -EINVAL for a misaligned addr or a NaN timeout.
 * Blocks the calling thread: bindings call it on a worker thread for the asynchronous form.
 */
int32_t zxs_futex_wait(zxs_num addr, int32_t value, zxs_num timeout_ns);
/* FUTEX_WAKE (shared) of up to count (0..INT32_MAX) waiters on the word at addr: how many woke. */
int32_t zxs_futex_wake(zxs_num addr, int32_t count);

#ifdef __cplusplus
}
#endif

#endif /* ZXSHIM_H */
