/**
 * The native backend: real Linux memory through the C shim (`ffi/zxshim.c`).
 *
 * - A {@link Memory} is a memfd. Its size is the file size; resize is `ftruncate`. Reads and
 *   writes go through a persistent shared read/write "physmap" window (an `mmap` of the memfd,
 *   created lazily, in 1 GiB chunks for large memories) and plain `TypedArray.set`, not a syscall
 *   per call. Because a read fault on a memfd page allocates it, the backend remembers which
 *   pages are known to be committed and asks the file (`SEEK_DATA`/`SEEK_HOLE`) about the others:
 *   holes read as zero without being committed, as in Zircon.
 * - An {@link AddressSpace} is one `PROT_NONE`, `MAP_NORESERVE` reservation. Mappings land in it
 *   with `MAP_FIXED | MAP_SHARED`; unmapping maps the reservation back (never a bare `munmap`
 *   inside it), so nothing else can ever land there, and nothing outside it is ever touched.
 *
 * The module is runtime-neutral: it talks to the shim through a {@link ShimCalls} table, which
 * `ffi_deno.ts` (Deno.dlopen) or `ffi_node.ts` (koffi) provides. Failures are reported as
 * {@link BackendError}s carrying Linux facts (what failed, the errno); the kernel names the
 * syscall it was serving. Only opening the backend (an incompatible shim) throws `ZxError`
 * (`ErrNotSupported`, op `"zx_kernel_open"`), as every loader does.
 *
 * @module
 */
import {
  atomicsLoad,
  atomicsStore,
  le32Get,
  le32Set,
  u8Copy,
  u8Fill,
  u8Length,
  u8Slice,
} from "../abi/intrinsics.ts";
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { BackendError } from "./error.ts";
import { SHIM_VERSION, ShimAdvice, type ShimFunctions, type ShimResult } from "./shim_symbols.ts";
import { type AddressSpace, type Backend, FutexOutcome, type Memory, type Prot } from "./types.ts";

export type { AddressSpace, Backend, Memory, Prot, ShimResult };

/** What a binding adds to the shim's functions: zero-copy views and unloading. */
export interface ShimHelpers {
  /**
   * A zero-copy, non-owning view of `len` bytes at address `addr` (its own `ArrayBuffer`, so
   * detaching it affects no other view).
   */
  viewAt(addr: number, len: number): Uint8Array;
  /** Detach `view`'s buffer: afterwards `view.length === 0`. */
  detach(view: Uint8Array): void;
  /**
   * `zxs_futex_wait` run on another thread (Deno's `nonblocking` FFI call, koffi's `async`):
   * the promise settles with its result; the calling thread does not block.
   */
  futexWaitAsync(addr: number, value: number, timeoutNs: number): Promise<ShimResult>;
  /** Unload the shim library. Called once, by {@link Backend.close}. */
  unload(): void;
}

/** What {@link deferredUnload} returns. */
export interface DeferredUnload {
  /** Count `p` as a call still inside the library until it settles; returns `p`. */
  track<T>(p: Promise<T>): Promise<T>;
  /** Unload now, or when the last tracked call settles. Idempotent. */
  unload(): void;
}

/**
 * Unloading for a binding whose calls may still run on other threads (the asynchronous
 * `zxs_futex_wait`): such a thread must return from the library before `close` unloads it.
 *
 * @param close unloads the library (called once)
 */
export function deferredUnload(close: () => void): DeferredUnload {
  let inFlight = 0;
  let wanted = false;
  const settled = (): void => {
    if (--inFlight === 0 && wanted) close();
  };
  return {
    track<T>(p: Promise<T>): Promise<T> {
      inFlight++;
      p.then(settled, settled);
      return p;
    },
    unload(): void {
      if (wanted) return;
      wanted = true;
      if (inFlight === 0) close();
    },
  };
}

/**
 * The table `native.ts` runs on: every function of the shim's symbols table
 * (`shim_symbols.ts`, typed from it) plus the binding's {@link ShimHelpers}.
 */
export type ShimCalls = ShimFunctions & ShimHelpers;

/**
 * Memory areas zxvm leaves unused below `vm.max_map_count` for the rest of the process (V8's
 * heap, Deno's allocator, threads) and for unmapping itself, which may need to split an area:
 * a map that would eat into them answers `ErrNoMemory` instead of bringing the process to the
 * hard limit, where even unmapping and allocation fail.
 */
export const VMA_HEADROOM = 2048;

/** The largest memory object of the native backend: 2^40 bytes (1 TiB). */
export const NATIVE_MAX_MEMORY_SIZE: number = 2 ** 40;

/** Size of one physmap window chunk: 1 GiB. Memories larger than this get several windows. */
export const WINDOW_CHUNK: number = 2 ** 30;

/** Smallest physmap window mapping (windows grow in powers of two up to {@link WINDOW_CHUNK}). */
const MIN_WINDOW = 64 * 1024;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  4: "EINTR",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  19: "ENODEV",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  27: "EFBIG",
  28: "ENOSPC",
  38: "ENOSYS",
  75: "EOVERFLOW",
  95: "EOPNOTSUPP",
};

const ENXIO = 6;
const ENOMEM = 12;

/** The Zircon status for a failed syscall's errno. */
function statusForErrno(errno: number): ZxStatus {
  switch (errno) {
    case 12: // ENOMEM
    case 11: // EAGAIN (e.g. locked-memory limits)
    case 27: // EFBIG
    case 28: // ENOSPC
    case 75: // EOVERFLOW
      return ZxStatus.ErrNoMemory;
    case 23: // ENFILE
    case 24: // EMFILE
      return ZxStatus.ErrNoResources;
    default:
      return ZxStatus.ErrInternal;
  }
}

/** Why the backend cannot be opened: not a syscall failure, so it names `zx_kernel_open`. */
function cannotOpen(reason: string): ZxError {
  return new ZxError(ZxStatus.ErrNotSupported, "zx_kernel_open", reason);
}

/** Throw the {@link BackendError} for a failed syscall: what failed and its errno. */
function fail(what: string, errno: number): never {
  const name = ERRNO_NAMES[errno];
  const reason = `${what} failed: errno ${errno}${name === undefined ? "" : ` (${name})`}`;
  throw new BackendError(statusForErrno(errno), reason, errno);
}

/** A shim result, or the matching `BackendError` thrown when it is `-errno`. */
function check(r: ShimResult, what: string): number {
  if (r < 0) fail(what, -r);
  return r;
}

const EAGAIN = 11;
const ETIMEDOUT = 110;
const EFAULT = 14;

/** A timeout in ms as `zxs_futex_wait` takes it: ns, negative for none. */
function timeoutNs(ms: number): number {
  return ms === Infinity ? -1 : Math.max(0, Math.round(ms * 1e6));
}

/** What a `zxs_futex_wait` result means. */
function futexOutcome(r: ShimResult): FutexOutcome {
  if (r === 0) return FutexOutcome.Woken;
  if (r === -EAGAIN) return FutexOutcome.Mismatch;
  if (r === -ETIMEDOUT) return FutexOutcome.TimedOut;
  if (r === -EFAULT) {
    throw new BackendError(
      ZxStatus.ErrInvalidArgs,
      "futex: the word is not readable memory",
      EFAULT,
    );
  }
  return fail("futex(WAIT)", -r);
}

/** A lazily created physmap window over one chunk of a memory. */
interface Window {
  /** Address of the mapping. */
  addr: number;
  /** Mapped length (may extend past the file's end; those bytes are never touched). */
  len: number;
  /** Zero-copy view of the whole mapping. */
  view: Uint8Array;
  /** One byte per page: 1 when the page is known to be committed (safe to read via the view). */
  known: Uint8Array;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A native memory object: one memfd plus its physmap windows. */
export class NativeMemory implements Memory {
  /** The memfd (readable by other processes through `/proc/<pid>/fd/<fd>`). */
  readonly fd: number;
  #size: number;
  #closed = false;
  #calls: ShimCalls;
  readonly #ps: number;
  /** Called once just before the memfd closes (memory received from another realm). */
  onClose: (() => void) | null = null;
  #owner: NativeBackend;
  #wins: (Window | undefined)[] = [];
  // Fast path (chunk 0): the window view, its known-page map, and how far it may be used.
  #v0: Uint8Array | null = null;
  #w0: Int32Array | null = null; // the same window as words, for single atomic word accesses
  #k0: Uint8Array | null = null;
  #fastEnd = 0;

  /**
   * Wrap an open memfd of `size` bytes. Use {@link NativeBackend.createMemory} instead.
   *
   * @param owner the backend that tracks this memory
   * @param fd the memfd, owned from now on
   * @param size its current size in bytes
   */
  constructor(owner: NativeBackend, fd: number, size: number) {
    this.#owner = owner;
    this.#calls = owner.calls;
    this.#ps = owner.pageSize;
    this.fd = fd;
    this.#size = size;
  }

  /** Current size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Whether {@link NativeMemory.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The backend that owns this memory now. */
  get owner(): NativeBackend {
    return this.#owner;
  }

  /**
   * Move to `owner` (see {@link NativeBackend.adopt}): from now on this memory calls the shim
   * through `owner`'s table. The memfd and the windows stay as they are (both belong to the
   * process, not to a loaded library).
   *
   * @internal
   */
  rehome(owner: NativeBackend): void {
    const old = this.#owner;
    this.#owner = owner;
    this.#calls = owner.calls;
    old.forget(this);
  }

  /**
   * The physmap window of chunk `ci`, mapped or grown so that it covers the current size; `null`
   * when the address space refuses another mapping (ENOMEM, e.g. `vm.max_map_count`): callers
   * then fall back to `pread`/`pwrite`, which are slower but need no mapping.
   */
  #window(ci: number): Window | null {
    if (!this.#owner.physmap) return null;
    const base = ci * WINDOW_CHUNK;
    const want = Math.min(WINDOW_CHUNK, this.#size - base);
    const old = this.#wins[ci];
    if (old !== undefined && old.len >= want) return old;
    const len = Math.min(WINDOW_CHUNK, Math.max(MIN_WINDOW, this.#ps, nextPow2(want)));
    const c = this.#calls;
    const addr = Number(c.zxs_map_window(this.fd, base, len));
    if (addr > 0) this.#owner.addedVmas(1);
    if (addr < 0) {
      if (-addr === ENOMEM) return null;
      fail("mmap(window)", -addr);
    }
    let view: Uint8Array;
    try {
      view = c.viewAt(addr, len);
    } catch (e) {
      c.zxs_munmap(addr, len);
      throw e;
    }
    const known = new Uint8Array(len / this.#ps);
    if (old !== undefined) {
      known.set(old.known);
      this.#dropWindow(old);
    }
    const w: Window = { addr, len, view, known };
    this.#wins[ci] = w;
    if (ci === 0) this.#setFast(w);
    return w;
  }

  #setFast(w: Window | undefined): void {
    this.#v0 = w?.view ?? null;
    this.#w0 = w === undefined
      ? null
      : new Int32Array(w.view.buffer, w.view.byteOffset, w.len >>> 2);
    this.#k0 = w?.known ?? null;
    this.#fastEnd = w === undefined ? 0 : Math.min(w.len, this.#size);
  }

  #dropWindow(w: Window): void {
    this.#calls.detach(w.view);
    this.#calls.zxs_munmap(w.addr, w.len);
  }

  /** Mark the pages of `[start, end)` (absolute offsets) as known-committed or not. */
  #mark(start: number, end: number, value: 0 | 1): void {
    if (end <= start) return;
    const ps = this.#ps;
    for (let ci = Math.floor(start / WINDOW_CHUNK); ci * WINDOW_CHUNK < end; ci++) {
      const w = this.#wins[ci];
      if (w === undefined) continue;
      const base = ci * WINDOW_CHUNK;
      const a = Math.max(start, base) - base;
      const b = Math.min(end, base + w.len) - base;
      if (b <= a) continue;
      // Marking covers every touched page; clearing covers whole pages only (a partly
      // released page is still committed).
      const p0 = value === 1 ? Math.floor(a / ps) : Math.ceil(a / ps);
      const p1 = value === 1 ? Math.ceil(b / ps) : Math.floor(b / ps);
      if (p1 > p0) w.known.fill(value, p0, p1);
    }
  }

  /** Resize to `size` bytes (ftruncate); windows are remapped lazily on the next access. */
  resize(size: number): void {
    check(this.#calls.zxs_ftruncate(this.fd, size), "ftruncate");
    const old = this.#size;
    this.#size = size;
    if (size < old) {
      // Truncation released the tail: forget it, and drop windows lying wholly past the end.
      this.#mark(size, old, 0);
      for (let ci = this.#wins.length - 1; ci >= 0 && ci * WINDOW_CHUNK >= size; ci--) {
        const w = this.#wins[ci];
        if (w !== undefined) this.#dropWindow(w);
        this.#wins.length = ci;
      }
    }
    this.#setFast(this.#wins[0]);
  }

  /** Copy `u8Length(dst)` bytes at `offset` into `dst`. */
  read(offset: number, dst: Uint8Array): void {
    const n = u8Length(dst);
    if (n === 0) return;
    const end = offset + n;
    if (end <= this.#fastEnd) {
      const k = this.#k0!;
      const shift = this.#owner.pageShift;
      const p1 = (end - 1) >>> shift;
      let p = offset >>> shift;
      while (p <= p1 && k[p] === 1) p++;
      if (p > p1) {
        if (n === 4 && (offset & 3) === 0) {
          // One aligned word: a single atomic load (another thread or process may write it).
          le32Set(dst, atomicsLoad(this.#w0!, offset >>> 2));
          return;
        }
        const v = this.#v0!;
        // Small reads: a byte loop beats allocating a subarray (measured in bench/ffi_calls).
        if (n <= 128) {
          for (let i = 0; i < n; i++) dst[i] = v[offset + i];
        } else {
          u8Copy(dst, u8Slice(v, offset, end), 0);
        }
        return;
      }
    }
    this.#readSlow(offset, dst);
  }

  #readSlow(offset: number, dst: Uint8Array): void {
    const c = this.#calls;
    const ps = this.#ps;
    const end = offset + u8Length(dst);
    let pos = offset;
    while (pos < end) {
      const ci = Math.floor(pos / WINDOW_CHUNK);
      const base = ci * WINDOW_CHUNK;
      const cEnd = Math.min(end, base + WINDOW_CHUNK);
      const w = this.#window(ci);
      if (w === null) {
        const part = u8Slice(dst, pos - offset, cEnd - offset);
        const r = check(c.zxs_pread(this.fd, part, cEnd - pos, pos), "pread");
        if (r < cEnd - pos) u8Fill(part, 0, r, cEnd - pos);
        pos = cEnd;
        continue;
      }
      while (pos < cEnd) {
        let p = Math.floor((pos - base) / ps);
        if (w.known[p] === 1) {
          // A run of known-committed pages: copy straight from the window.
          while (base + p * ps < cEnd && w.known[p] === 1) p++;
          const runEnd = Math.min(cEnd, base + p * ps);
          u8Copy(dst, u8Slice(w.view, pos - base, runEnd - base), pos - offset);
          pos = runEnd;
          continue;
        }
        // Unknown: ask the file where its data is. Holes read as zero and stay holes.
        const d = Number(c.zxs_seek_data(this.fd, pos));
        if (d < 0 && d !== -ENXIO) fail("lseek(SEEK_DATA)", -d);
        if (d < 0 || d > pos) {
          const zEnd = d < 0 ? cEnd : Math.min(cEnd, d);
          u8Fill(dst, 0, pos - offset, zEnd - offset);
          pos = zEnd;
          continue;
        }
        const h = check(c.zxs_seek_hole(this.fd, pos), "lseek(SEEK_HOLE)");
        const dEnd = Math.min(cEnd, Math.max(h, pos + 1));
        this.#mark(pos, dEnd, 1);
        u8Copy(dst, u8Slice(w.view, pos - base, dEnd - base), pos - offset);
        pos = dEnd;
      }
    }
  }

  /** Copy `src` into the memory at `offset`. */
  write(offset: number, src: Uint8Array): void {
    const n = u8Length(src);
    if (n === 0) return;
    const end = offset + n;
    if (end <= this.#fastEnd) {
      const v = this.#v0!;
      if (n === 4 && (offset & 3) === 0) {
        atomicsStore(this.#w0!, offset >>> 2, le32Get(src));
      } else if (n <= 32) {
        for (let i = 0; i < n; i++) v[offset + i] = src[i];
      } else {
        u8Copy(v, src, offset);
      }
      const k = this.#k0!;
      const shift = this.#owner.pageShift;
      const p1 = (end - 1) >>> shift;
      for (let p = offset >>> shift; p <= p1; p++) k[p] = 1;
      return;
    }
    this.#writeSlow(offset, src);
  }

  #writeSlow(offset: number, src: Uint8Array): void {
    const end = offset + u8Length(src);
    let pos = offset;
    while (pos < end) {
      const ci = Math.floor(pos / WINDOW_CHUNK);
      const base = ci * WINDOW_CHUNK;
      const cEnd = Math.min(end, base + WINDOW_CHUNK);
      const w = this.#window(ci);
      const part = u8Slice(src, pos - offset, cEnd - offset);
      if (w === null) {
        const r = this.#calls.zxs_pwrite(this.fd, part, cEnd - pos, pos);
        check(r, "pwrite");
      } else {
        u8Copy(w.view, part, pos - base);
        this.#mark(pos, cEnd, 1);
      }
      pos = cEnd;
    }
  }

  /** Copy `len` bytes of `src` at `srcOffset` to `dstOffset`, keeping holes sparse. */
  copyFrom(src: Memory, srcOffset: number, dstOffset: number, len: number): void {
    if (len === 0) return;
    if (!(src instanceof NativeMemory) || src.#closed) {
      throw new BackendError(
        ZxStatus.ErrInternal,
        "copyFrom: the source is not a live native memory",
      );
    }
    const r = this.#calls.zxs_copy_range(
      src.fd,
      srcOffset,
      this.fd,
      dstOffset,
      len,
    );
    // The destination range was punched first; whatever was copied is rediscovered on read.
    this.#mark(dstOffset, dstOffset + len, 0);
    check(r, "copy_range");
  }

  /** Make `[offset, offset+len)` read as zero, releasing the whole pages inside it. */
  zero(offset: number, len: number): void {
    if (len === 0) return;
    const ps = this.#ps;
    const end = offset + len;
    const a = Math.ceil(offset / ps) * ps;
    const b = Math.floor(end / ps) * ps;
    if (a < b) {
      this.decommit(a, b - a);
      if (offset < a) this.#zeroPartial(offset, a);
      if (b < end) this.#zeroPartial(b, end);
    } else {
      // No whole page inside: one or two partial pages.
      const mid = Math.min(end, a);
      this.#zeroPartial(offset, mid);
      if (mid < end) this.#zeroPartial(mid, end);
    }
  }

  /** Zero `[start, end)`, which lies inside one page, unless that page is a hole already. */
  #zeroPartial(start: number, end: number): void {
    const ps = this.#ps;
    const page = Math.floor(start / ps) * ps;
    const ci = Math.floor(page / WINDOW_CHUNK);
    const base = ci * WINDOW_CHUNK;
    const w = this.#window(ci);
    const p = (page - base) / ps;
    if (w === null || w.known[p] !== 1) {
      const d = Number(this.#calls.zxs_seek_data(this.fd, page));
      if (d < 0 && d !== -ENXIO) fail("lseek(SEEK_DATA)", -d);
      if (d !== page) return; // a hole: it already reads as zero
      if (w === null) {
        const zeros = new Uint8Array(end - start);
        const r = this.#calls.zxs_pwrite(this.fd, zeros, zeros.length, start);
        check(r, "pwrite");
        return;
      }
      w.known[p] = 1;
    }
    w.view.fill(0, start - base, end - base);
  }

  /** Release the pages of `[offset, offset+len)`; they read back as zero. */
  decommit(offset: number, len: number): void {
    if (len === 0) return;
    const r = this.#calls.zxs_punch_hole(this.fd, offset, len);
    check(r, "fallocate(PUNCH_HOLE)");
    this.#mark(offset, offset + len, 0);
  }

  /** Allocate the pages of `[offset, offset+len)` (clipped to the size) without changing them. */
  commit(offset: number, len: number): void {
    const end = Math.min(offset + len, this.#size);
    if (end <= offset) return;
    const r = this.#calls.zxs_allocate(this.fd, offset, end - offset);
    check(r, "fallocate");
    this.#mark(offset, end, 1);
  }

  /** Bytes currently allocated to the memfd. */
  committedBytes(): number {
    return check(this.#calls.zxs_fstat_blocks(this.fd), "fstat");
  }

  /** Native memory offers views only through mapped addresses: always `null`. */
  view(_offset: number, _len: number): Uint8Array | null {
    return null;
  }

  /** Unmap the windows and close the memfd. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#wins) if (w !== undefined) this.#dropWindow(w);
    this.#wins = [];
    this.#setFast(undefined);
    const f = this.onClose;
    this.onClose = null;
    if (f !== null) f();
    this.#calls.zxs_close(this.fd);
    this.#owner.forget(this);
  }
}

/** A native address space: one `PROT_NONE`, `MAP_NORESERVE` reservation. */
export class NativeAddressSpace implements AddressSpace {
  /** First address of the reservation. */
  readonly base: number;
  /** Length of the reservation in bytes. */
  readonly size: number;
  readonly #calls: ShimCalls;
  readonly #owner: NativeBackend;
  #closed = false;
  /** Retired ranges (`[start, end)`, sorted, disjoint): left mapped forever, even by close. */
  readonly #retired: Array<[number, number]> = [];
  /** Ranges of the reservation another part of the process took (see `#backToReservation`). */
  readonly #lost: Array<[number, number]> = [];

  /**
   * Wrap a reservation. Use {@link NativeBackend.createAddressSpace} instead.
   *
   * @param owner the backend that tracks this address space
   * @param base the reservation's address
   * @param size its length
   */
  constructor(owner: NativeBackend, base: number, size: number) {
    this.#owner = owner;
    this.#calls = owner.calls;
    this.base = base;
    this.size = size;
  }

  /** Whether {@link NativeAddressSpace.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  #inside(addr: number, len: number): void {
    if (this.#closed || addr < this.base || len < 0 || addr + len > this.base + this.size) {
      throw new BackendError(
        ZxStatus.ErrInternal,
        `range [0x${addr.toString(16)}, +0x${len.toString(16)}) is outside the reservation` +
          (this.#closed ? " (closed)" : ""),
      );
    }
  }

  /** Map `len` bytes of `mem` at `memOffset` to `addr` (`MAP_FIXED | MAP_SHARED`). */
  map(
    addr: number,
    mem: Memory,
    memOffset: number,
    len: number,
    prot: Prot,
    populate: boolean,
  ): void {
    this.#inside(addr, len);
    if (len === 0) return;
    if (!(mem instanceof NativeMemory) || mem.closed) {
      throw new BackendError(ZxStatus.ErrInternal, "map: not a live native memory");
    }
    for (const [s, e] of this.#lost) {
      if (s < addr + len && addr < e) {
        throw new BackendError(
          ZxStatus.ErrNoMemory,
          "part of this range left zxvm's reservation when the process hit vm.max_map_count",
        );
      }
    }
    this.#owner.roomForMap();
    const c = this.#calls;
    const fileLen = memOffset >= NATIVE_MAX_MEMORY_SIZE
      ? 0
      : Math.min(len, NATIVE_MAX_MEMORY_SIZE - memOffset);
    if (fileLen > 0) {
      const r = Number(
        c.zxs_map_fixed(addr, fileLen, prot, mem.fd, memOffset),
      );
      if (r < 0) {
        // A failed MAP_FIXED may have unmapped the range: make sure the reservation is back.
        this.#backToReservation(addr, len);
        fail("mmap(MAP_FIXED)", -r);
      }
      this.#owner.addedVmas(2);
      if (populate && prot !== 0) c.zxs_madvise(addr, fileLen, ShimAdvice.WillNeed);
    }
    if (fileLen < len) {
      // Past the largest memory: keep (or put back) the inaccessible reservation.
      this.#backToReservation(addr + fileLen, len - fileLen);
    }
  }

  /**
   * Put `[addr, addr+len)` back into the inaccessible reservation, replacing what is there. At
   * `vm.max_map_count` Linux refuses every new mapping, even one that only replaces: then the
   * range is `munmap`ped (which frees whole areas) and the reservation put back without
   * replacing anything (`MAP_FIXED_NOREPLACE`); should another thread have taken the hole in
   * between, it keeps it, and zxvm never maps there or unmaps it again.
   */
  #backToReservation(addr: number, len: number): void {
    const c = this.#calls;
    const r = Number(c.zxs_reserve_fixed(addr, len));
    if (r >= 0) return;
    if (r !== -ENOMEM) fail("mmap(reserve)", -r);
    check(c.zxs_munmap(addr, len), "munmap");
    if (Number(c.zxs_reserve_noreplace(addr, len)) < 0) {
      this.#lost.push([addr, addr + len]);
    }
  }

  /** `mprotect` the mapped range `[addr, addr+len)`. */
  protect(addr: number, len: number, prot: Prot): void {
    this.#inside(addr, len);
    if (len === 0) return;
    check(this.#calls.zxs_mprotect(addr, len, prot), "mprotect");
  }

  /** Return `[addr, addr+len)` to the inaccessible reservation. */
  unmap(addr: number, len: number): void {
    this.#inside(addr, len);
    if (len === 0) return;
    this.#backToReservation(addr, len);
  }

  /** A zero-copy view of the mapped range `[addr, addr+len)`. */
  view(addr: number, len: number, _mem: Memory, _memOffset: number): Uint8Array {
    this.#inside(addr, len);
    if (len === 0) return new Uint8Array(0);
    return this.#calls.viewAt(addr, len);
  }

  /**
   * Replace `[addr, addr+len)` with private zero pages that stay mapped for the life of the
   * process (a transferred view may still reach them); see {@link AddressSpace.retire}.
   */
  retire(addr: number, len: number): void {
    this.#inside(addr, len);
    if (len === 0) return;
    check(this.#calls.zxs_anon_fixed(addr, len), "mmap(anonymous)");
    const end = addr + len;
    let i = 0;
    while (i < this.#retired.length && this.#retired[i][1] < addr) i++;
    let s = addr;
    let e = end;
    let j = i;
    while (j < this.#retired.length && this.#retired[j][0] <= end) {
      s = Math.min(s, this.#retired[j][0]);
      e = Math.max(e, this.#retired[j][1]);
      j++;
    }
    this.#retired.splice(i, j - i, [s, e]);
  }

  /** Futex wait on the word at `addr`; see {@link AddressSpace.futexWait}. */
  futexWait(
    addr: number,
    _mem: Memory,
    _memOffset: number,
    value: number,
    timeoutMs: number,
  ): FutexOutcome {
    this.#inside(addr, 4);
    return futexOutcome(this.#calls.zxs_futex_wait(addr, value, timeoutNs(timeoutMs)));
  }

  /** {@link NativeAddressSpace.futexWait} on another thread; see {@link AddressSpace.futexWaitAsync}. */
  futexWaitAsync(
    addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): Promise<FutexOutcome> {
    this.#inside(addr, 4);
    // The wait itself starts on another thread a moment from now: the value is checked here
    // first, so the caller learns of a mismatch as Zircon answers it, at the call. When the
    // thread then finds the word changed, it changed after this call: that ends the wait as a
    // wake would (no wake following a change is lost; a wake without one, made before the
    // thread waits, can be: see Kernel.futexWaitAsync).
    const b = new Uint8Array(4);
    mem.read(memOffset, b);
    if (le32Get(b) !== value) {
      return Promise.resolve(FutexOutcome.Mismatch);
    }
    return this.#calls.futexWaitAsync(addr, value, timeoutNs(timeoutMs)).then((r) =>
      r === -EAGAIN ? FutexOutcome.Woken : futexOutcome(r)
    );
  }

  /** Wake waiters on the word at `addr`; see {@link AddressSpace.futexWake}. */
  futexWake(addr: number, _mem: Memory, _memOffset: number, count: number): number {
    this.#inside(addr, 4);
    return check(this.#calls.zxs_futex_wake(addr, Math.min(count, 0x7fffffff)), "futex(WAKE)");
  }

  /** Retired ranges, as `[start, end)` pairs (see {@link NativeAddressSpace.retire}). */
  get retired(): ReadonlyArray<readonly [number, number]> {
    return this.#retired;
  }

  /** Unmap the whole reservation except retired (and lost) ranges. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let at = this.base;
    const keep = [...this.#retired, ...this.#lost].sort((a, b) => a[0] - b[0]);
    for (const [s, e] of keep) {
      if (s > at) this.#calls.zxs_munmap(at, s - at);
      at = Math.max(at, e);
    }
    const end = this.base + this.size;
    if (end > at) this.#calls.zxs_munmap(at, end - at);
    this.#owner.forget(this);
  }
}

/** Options of {@link createNativeBackend}. */
export interface NativeBackendOptions {
  /** Why this backend was chosen (shown as `Kernel.backendReason`). */
  reason?: string;
  /**
   * Use physmap windows for `Memory.read`/`write` (default `true`). With `false` every access
   * is a `pread`/`pwrite` syscall: slower, but it needs no extra mappings.
   */
  physmap?: boolean;
}

/** The native {@link Backend} over a {@link ShimCalls} table. */
export class NativeBackend implements Backend {
  /** Always `"native"`. */
  readonly kind: "native" = "native";
  /** Why this backend was chosen. */
  readonly reason: string;
  /** The system page size. */
  readonly pageSize: number;
  /** `log2(pageSize)`. */
  readonly pageShift: number;
  /** 2^40 bytes. */
  readonly maxMemorySize: number = NATIVE_MAX_MEMORY_SIZE;
  /** The shim table this backend calls. */
  readonly calls: ShimCalls;
  /** Whether memories use physmap windows (see {@link NativeBackendOptions.physmap}). */
  readonly physmap: boolean;
  readonly #live = new Set<NativeMemory | NativeAddressSpace>();
  #closed = false;
  /** `vm.max_map_count` (Infinity when unknown). */
  readonly #maxMaps: number;
  /** Memory areas of the process: counted at the last resync, plus 2 per map since (never less). */
  #vmas = 0;
  /** {@link NativeBackend.#vmas} at the last count of `/proc/self/maps`. */
  #vmasCounted = 0;

  /**
   * Create the backend. Prefer {@link createNativeBackend}.
   *
   * @param calls the shim table
   * @param opts see {@link NativeBackendOptions}
   * @throws {ZxError} `ErrNotSupported` (op `"zx_kernel_open"`: opening, not a syscall) when the
   *   shim's interface version is not {@link SHIM_VERSION} or the page size is unusable
   */
  constructor(calls: ShimCalls, opts: NativeBackendOptions = {}) {
    this.calls = calls;
    const ver = Number(calls.zxs_version());
    if (ver !== SHIM_VERSION) {
      throw cannotOpen(`shim interface version ${ver}, expected ${SHIM_VERSION}: rebuild the shim`);
    }
    const ps = Number(calls.zxs_page_size());
    if (ps <= 0) throw cannotOpen(`sysconf(_SC_PAGESIZE) failed: errno ${-ps}`);
    this.pageSize = ps;
    this.pageShift = Math.log2(ps);
    if (!Number.isInteger(this.pageShift) || WINDOW_CHUNK % ps !== 0) {
      throw cannotOpen(`unsupported page size ${ps}`);
    }
    this.reason = opts.reason ?? "native: memfd + mmap through the zxshim library";
    this.physmap = opts.physmap ?? true;
    const max = Number(calls.zxs_max_map_count());
    this.#maxMaps = max > 0 ? max : Infinity;
    this.#recountVmas();
  }

  #recountVmas(): void {
    const n = Number(this.calls.zxs_vma_count());
    if (n >= 0) this.#vmas = this.#vmasCounted = n;
  }

  /**
   * Before a map: make sure the process stays {@link VMA_HEADROOM} memory areas below
   * `vm.max_map_count`. The estimate only grows between counts of `/proc/self/maps`, which get
   * more frequent as the room left shrinks.
   *
   * @throws {BackendError} `ErrNoMemory` when the map would eat into the headroom
   */
  roomForMap(): void {
    const max = this.#maxMaps;
    if (max === Infinity) return;
    // Recount once zxvm's own additions could have used half the room left at the last count
    // (so a process filling up recounts about log2(room) times, not once per map).
    const every = Math.max(64, (max - VMA_HEADROOM - this.#vmasCounted) / 2);
    if (this.#vmas + 2 + VMA_HEADROOM <= max && this.#vmas - this.#vmasCounted < every) return;
    this.#recountVmas();
    if (this.#vmas + 2 + VMA_HEADROOM > max) {
      throw new BackendError(
        ZxStatus.ErrNoMemory,
        `the process has ${this.#vmas} memory areas and vm.max_map_count is ${max}: zxvm ` +
          `keeps ${VMA_HEADROOM} free for the rest of the process (unmap some mappings, or ` +
          `raise vm.max_map_count)`,
      );
    }
  }

  /** Count `n` memory areas a successful map (or window) may have added. */
  addedVmas(n: number): void {
    this.#vmas += n;
  }

  /** Number of memories and address spaces not yet closed. */
  get liveObjects(): number {
    return this.#live.size;
  }

  /** Create a zero-filled memfd of `size` bytes. */
  createMemory(size: number): NativeMemory {
    const c = this.calls;
    const fd = check(c.zxs_memfd_create(), "memfd_create");
    const r = Number(c.zxs_ftruncate(fd, size));
    if (r < 0) {
      c.zxs_close(fd);
      fail("ftruncate", -r);
    }
    const m = new NativeMemory(this, fd, size);
    this.#live.add(m);
    return m;
  }

  /** Reserve `size` bytes of address space (the hint is ignored). */
  createAddressSpace(size: number, _hint?: number): NativeAddressSpace {
    const base = check(this.calls.zxs_reserve(size), "mmap(reserve)");
    const as = new NativeAddressSpace(this, base, size);
    this.#live.add(as);
    return as;
  }

  /**
   * Take over a native memory of another native backend of this realm that is closing while
   * the memory is still in use (see {@link Backend.adopt}); false for anything else.
   */
  adopt(mem: Memory): boolean {
    if (this.#closed || !(mem instanceof NativeMemory) || mem.closed) return false;
    if (mem.owner !== this) {
      if (this.pageSize !== mem.owner.pageSize) return false;
      mem.rehome(this);
      this.#live.add(mem);
    }
    return true;
  }

  /** A duplicate of `mem`'s memfd for a kernel in another Worker (see {@link Backend.share}). */
  share(mem: Memory): number | string {
    if (!(mem instanceof NativeMemory) || mem.closed) return "not a live native memory object";
    return check(mem.owner.calls.zxs_dup(mem.fd), "fcntl(F_DUPFD_CLOEXEC)");
  }

  /** Any live native memory can be shared. */
  shareable(mem: Memory): string | null {
    return mem instanceof NativeMemory && !mem.closed ? null : "not a live native memory object";
  }

  /** Wrap a memfd another realm shared (see {@link Backend.receive}). */
  receive(fd: number | SharedArrayBuffer, onClose: () => void): NativeMemory {
    if (typeof fd !== "number") {
      throw new BackendError(ZxStatus.ErrNotSupported, "emulated memory cannot become native");
    }
    if (this.#closed) {
      throw new BackendError(ZxStatus.ErrBadState, "the native backend was closed");
    }
    const size = Number(this.calls.zxs_fstat_size(fd));
    if (size < 0 || size % this.pageSize !== 0) {
      throw new BackendError(
        ZxStatus.ErrBadHandle,
        `fd ${fd} is not a memory file of whole pages (fstat: ${
          size < 0 ? `errno ${-size}` : size
        })`,
      );
    }
    const m = new NativeMemory(this, fd, size);
    m.onClose = onClose;
    this.#live.add(m);
    return m;
  }

  /** Detach `view` (its length becomes 0). */
  detach(view: Uint8Array): void {
    if (view.byteLength === 0 && view.buffer.byteLength === 0) return;
    this.calls.detach(view);
  }

  /**
   * Whether someone else detached `view`: native views are never empty and only zxvm's own
   * detach (after which the kernel forgets the view) or a transfer empties their buffer.
   */
  escaped(view: Uint8Array): boolean {
    return view.buffer.byteLength === 0;
  }

  /** @internal Called by a memory or address space when it closes. */
  forget(obj: NativeMemory | NativeAddressSpace): void {
    this.#live.delete(obj);
  }

  /** Close every memory and address space still open, then unload the shim. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const o of [...this.#live]) o.close();
    this.calls.unload();
  }
}

/**
 * Create the native backend over a shim table.
 *
 * @param calls the shim functions and view helpers (from `ffi_deno.ts` or `ffi_node.ts`)
 * @param opts see {@link NativeBackendOptions}
 * @returns the backend
 */
export function createNativeBackend(
  calls: ShimCalls,
  opts: NativeBackendOptions = {},
): NativeBackend {
  return new NativeBackend(calls, opts);
}
