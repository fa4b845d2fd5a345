/*
 * bench/baseline.c: the C baseline of zxvm's benchmarks. Raw syscalls doing the same work as
 * each zxvm case (memfd_create + ftruncate, pread/pwrite, memcpy through a shared mapping,
 * mmap MAP_FIXED into a PROT_NONE reservation + re-reserve, mprotect, copy_file_range, dup).
 *
 * Built with -O2 and run by scripts/bench_report.ts, which pairs every zxvm case with one of
 * these. Output: one JSON object per line, {"case": NAME, "ns": MEDIAN_NS_PER_OP, ...}.
 *
 *   gcc -O2 -o build/bench_baseline bench/baseline.c && build/bench_baseline [--smoke]
 *
 * Each case runs BATCHES timed batches (each about TARGET_NS long, after one warm-up batch)
 * and reports the median per-operation time of the batches.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define KiB 1024UL
#define MiB (1024UL * 1024UL)

static int batches = 15;
static uint64_t target_ns = 20000000; /* 20 ms per batch */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
  exit(1);
}

#define BARRIER() __asm__ volatile("" ::: "memory")

typedef void (*op_fn)(void *ctx);

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Run op in timed batches; print the median ns/op of the batches. */
static void run(const char *name, op_fn op, void *ctx) {
  /* calibrate: double the count until one batch takes >= target_ns / 8 */
  uint64_t n = 1;
  for (;;) {
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) op(ctx);
    uint64_t dt = now_ns() - t0;
    if (dt >= target_ns / 8 || n >= (1ULL << 30)) {
      double per = (double)dt / (double)n;
      n = per > 0 ? (uint64_t)((double)target_ns / per) : n;
      if (n < 1) n = 1;
      break;
    }
    n *= 2;
  }
  double *s = calloc((size_t)batches, sizeof *s);
  for (int b = 0; b < batches; b++) {
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) op(ctx);
    s[b] = (double)(now_ns() - t0) / (double)n;
  }
  qsort(s, (size_t)batches, sizeof *s, cmp_double);
  double med = batches % 2 ? s[batches / 2] : (s[batches / 2 - 1] + s[batches / 2]) / 2;
  printf("{\"case\":\"%s\",\"ns\":%.3f,\"min\":%.3f,\"max\":%.3f,\"n\":%llu,\"batches\":%d}\n",
         name, med, s[0], s[batches - 1], (unsigned long long)n, batches);
  fflush(stdout);
  free(s);
}

/* ---- shared state ---- */

static long page;
static int fd;            /* a committed 64 MiB memfd */
static uint8_t *win;      /* a shared read/write window over fd (like zxvm's physmap) */
static uint8_t *buf;      /* a private 1 MiB buffer (the caller's Uint8Array) */
static uint8_t *resv;     /* a 64 MiB PROT_NONE reservation (like zxvm's root VMAR) */
static uint8_t *mapped;   /* a 1 MiB RW mapping of fd inside resv */
static int snap_src;      /* a committed memfd, source of snapshots */

static int new_memfd(uint64_t size) {
  int f = memfd_create("baseline", MFD_CLOEXEC);
  if (f < 0) die("memfd_create");
  if (ftruncate(f, (off_t)size) != 0) die("ftruncate");
  return f;
}

/* ---- cases ---- */

static void op_create_close(void *ctx) {
  int f = memfd_create("baseline", MFD_CLOEXEC);
  if (ftruncate(f, (off_t)(uintptr_t)ctx) != 0) die("ftruncate");
  close(f);
}

static size_t io_len;
static void op_pread(void *ctx) {
  (void)ctx;
  if (pread(fd, buf, io_len, 4 * MiB) != (ssize_t)io_len) die("pread");
}
static void op_pwrite(void *ctx) {
  (void)ctx;
  if (pwrite(fd, buf, io_len, 4 * MiB) != (ssize_t)io_len) die("pwrite");
}
static void op_memcpy_out(void *ctx) {
  (void)ctx;
  memcpy(buf, win + 4 * MiB, io_len);
  BARRIER();
}
static void op_memcpy_in(void *ctx) {
  (void)ctx;
  memcpy(win + 4 * MiB, buf, io_len);
  BARRIER();
}
static void op_mapped_store(void *ctx) {
  (void)ctx;
  memcpy(mapped, buf, io_len);
  BARRIER();
}

/* zxvm's map + unmap: mmap(MAP_FIXED | MAP_SHARED) of the memfd into the reservation, then
 * mmap(PROT_NONE, MAP_FIXED | MAP_NORESERVE) of the reservation back over it. */
static size_t map_len;
static int map_slot;
static void op_map_unmap(void *ctx) {
  (void)ctx;
  uint8_t *a = resv + 8 * MiB + (size_t)(map_slot++ % 16) * 2 * MiB;
  if (mmap(a, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
    die("mmap(MAP_FIXED)");
  }
  if (mmap(a, map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
           0) == MAP_FAILED) {
    die("mmap(reserve)");
  }
}

static void op_protect_toggle(void *ctx) {
  (void)ctx;
  if (mprotect(mapped, (size_t)page, PROT_READ) != 0) die("mprotect");
  if (mprotect(mapped, (size_t)page, PROT_READ | PROT_WRITE) != 0) die("mprotect");
}

/* A snapshot: a new memfd holding a copy of the source (copy_file_range, in-kernel). */
static void op_snapshot(void *ctx) {
  uint64_t len = (uint64_t)(uintptr_t)ctx;
  int f = new_memfd(len);
  off_t in = 0, out = 0;
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = copy_file_range(snap_src, &in, f, &out, (size_t)(len - done), 0);
    if (n <= 0) die("copy_file_range");
    done += (uint64_t)n;
  }
  close(f);
}

static void op_dup_close(void *ctx) {
  (void)ctx;
  int f = dup(fd);
  if (f < 0) die("dup");
  close(f);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--smoke") == 0) {
    batches = 1;
    target_ns = 1000000;
  }
  page = sysconf(_SC_PAGESIZE);
  fd = new_memfd(64 * MiB);
  win = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (win == MAP_FAILED) die("mmap(window)");
  memset(win, 1, 64 * MiB); /* commit */
  buf = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* page aligned: see RESULTS.md */
  if (buf == MAP_FAILED) die("mmap(buf)");
  for (size_t i = 0; i < MiB; i++) buf[i] = (uint8_t)(i * 2654435761u >> 13);
  resv = mmap(NULL, 64 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (resv == MAP_FAILED) die("mmap(reserve)");
  mapped = resv + 60 * MiB;
  if (mmap(mapped, MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
    die("mmap(mapped)");
  }

  run("create_close.4k", op_create_close, (void *)(uintptr_t)(4 * KiB));
  run("create_close.1m", op_create_close, (void *)(uintptr_t)MiB);

  static const struct { const char *tag; size_t len; } sizes[] = {
      {"64", 64}, {"4k", 4 * KiB}, {"1m", MiB}};
  char name[64];
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    io_len = sizes[i].len;
    snprintf(name, sizeof name, "pread.%s", sizes[i].tag);
    run(name, op_pread, NULL);
    snprintf(name, sizeof name, "pwrite.%s", sizes[i].tag);
    run(name, op_pwrite, NULL);
    snprintf(name, sizeof name, "memcpy_out.%s", sizes[i].tag);
    run(name, op_memcpy_out, NULL);
    snprintf(name, sizeof name, "memcpy_in.%s", sizes[i].tag);
    run(name, op_memcpy_in, NULL);
    snprintf(name, sizeof name, "mapped_store.%s", sizes[i].tag);
    run(name, op_mapped_store, NULL);
  }

  map_len = 4 * KiB;
  run("map_unmap.4k", op_map_unmap, NULL);
  map_len = MiB;
  run("map_unmap.1m", op_map_unmap, NULL);

  run("protect_toggle", op_protect_toggle, NULL);

  snap_src = fd;
  run("snapshot.64k", op_snapshot, (void *)(uintptr_t)(64 * KiB));
  run("snapshot.64m", op_snapshot, (void *)(uintptr_t)(64 * MiB));

  run("dup_close", op_dup_close, NULL);
  return 0;
}
