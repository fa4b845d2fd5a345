/**
 * The memory a kernel runs on: one small interface, several implementations (`emulated.ts`;
 * `native.ts` over `ffi_deno.ts` or `ffi_node.ts`). Backends hold no Zircon logic: the kernel
 * layer has already validated every argument (alignment, bounds, rights) before it calls in
 * here, so a backend may assume its preconditions and only report resource failures.
 *
 * Conventions:
 * - All sizes, offsets and addresses are `number`s: integers in `[0, 2^53)`; memory sizes and
 *   offsets are multiples of {@link Backend.pageSize} unless stated otherwise.
 * - Failures that Zircon would report (out of memory, address space exhausted) throw a
 *   `BackendError` (`error.ts`): the Zircon status it maps to (`ErrNoMemory`, `ErrNoResources`,
 *   ...) and Linux facts (what failed, the errno), never a Zircon syscall name. The kernel calls
 *   every backend operation through `backendCall(op, fn)`, which turns it into the `ZxError` of
 *   the syscall being served. Anything else thrown is a bug. Only opening a backend (loading the
 *   shim: `ffi_deno.ts`, `ffi_node.ts`) throws `ZxError(ErrNotSupported, "zx_kernel_open")`.
 *
 * @module
 */

/** Protection bits of a mapping; the same bits as `ZX_VM_PERM_{READ,WRITE,EXECUTE}`. */
export const Prot = {
  /** No access (a reserved, inaccessible range). */
  None: 0,
  /** Readable. */
  Read: 1,
  /** Writable. */
  Write: 2,
  /** Executable. */
  Execute: 4,
} as const;

/** A protection bit set made of {@link Prot} values. */
export type Prot = number;

/**
 * A memory object: the pages behind one VMO (slices share their parent's memory object).
 * Zero-filled at creation; sparse (untouched pages cost no resident memory).
 */
export interface Memory {
  /** Current size in bytes (a page multiple). */
  readonly size: number;
  /**
   * Resize to `size` bytes (a page multiple, at most {@link Backend.maxMemorySize}).
   * Growing exposes zero pages; shrinking discards the tail (a later grow reads zeros there).
   * Views over the discarded tail must not be used afterwards: the kernel detaches them
   * before calling this.
   */
  resize(size: number): void;
  /** Copy `dst.length` bytes starting at `offset` into `dst`. `offset + dst.length <= size`. */
  read(offset: number, dst: Uint8Array): void;
  /** Copy `src` into the memory at `offset`. `offset + src.length <= size`. */
  write(offset: number, src: Uint8Array): void;
  /**
   * Copy `len` bytes from `src` at `srcOffset` into this memory at `dstOffset` (eager
   * snapshot). Bytes of `src` beyond `src.size` read as zero. All three values are page
   * multiples and `dstOffset + len <= size`. Implementations should skip holes so a sparse
   * source stays sparse in the copy.
   */
  copyFrom(src: Memory, srcOffset: number, dstOffset: number, len: number): void;
  /**
   * Make `[offset, offset+len)` read as zero. Any alignment; `offset + len <= size`.
   * Whole pages inside the range should be released (decommitted) where the backend can.
   */
  zero(offset: number, len: number): void;
  /** Release the pages of `[offset, offset+len)` (page aligned); they read back as zero. */
  decommit(offset: number, len: number): void;
  /** Commit (allocate) the pages of `[offset, offset+len)` (page aligned) without changing them. */
  commit(offset: number, len: number): void;
  /** Bytes of memory currently committed (allocated) to this object. */
  committedBytes(): number;
  /**
   * A zero-copy view of `[offset, offset+len)` of the memory itself, independent of any
   * mapping (the emulated backend's mappings use it; native backends may return `null` when
   * they only offer views through mapped addresses).
   */
  view(offset: number, len: number): Uint8Array | null;
  /** Release the memory. Called once, when no VMO and no mapping uses it any more. */
  close(): void;
}

/**
 * An address space: one contiguous reservation that the kernel's root VMAR describes.
 * Everything zxvm maps lands inside it; nothing outside it is ever touched.
 */
export interface AddressSpace {
  /** First address of the reservation (page aligned, non-zero). */
  readonly base: number;
  /** Length of the reservation in bytes. */
  readonly size: number;
  /**
   * Map `len` bytes of `mem` starting at `memOffset` at the fixed address `addr` with `prot`,
   * replacing whatever was there (inside the reservation). The range may extend beyond
   * `mem.size` (pages there are not accessible until the memory grows; the kernel never lets
   * the SDK touch them). `memOffset` may be larger than any memory can be: such pages simply
   * stay inaccessible. When `populate` is true, pages already committed in `mem` are mapped
   * immediately (`ZX_VM_MAP_RANGE`); it is a hint.
   */
  map(
    addr: number,
    mem: Memory,
    memOffset: number,
    len: number,
    prot: Prot,
    populate: boolean,
  ): void;
  /** Change the protection of `[addr, addr+len)`, which the kernel knows is fully mapped. */
  protect(addr: number, len: number, prot: Prot): void;
  /** Unmap `[addr, addr+len)`, returning it to the inaccessible reservation. */
  unmap(addr: number, len: number): void;
  /**
   * A zero-copy view of the mapped range `[addr, addr+len)`, which the kernel knows is mapped
   * readable and writable and backed by memory for its whole length. Writes through the view
   * are writes to `mem` at `memOffset…`. The kernel detaches the view (see
   * {@link Backend.detach}) before the range is unmapped, protected or shrunk away.
   */
  view(addr: number, len: number, mem: Memory, memOffset: number): Uint8Array;
  /**
   * Keep `[addr, addr+len)` readable and writable for the rest of the process, backed by
   * private zero pages instead of what is mapped there. The kernel calls this instead of
   * {@link AddressSpace.unmap} for a range under a zero-copy view that escaped its control (its
   * `ArrayBuffer` was transferred away, so it cannot be detached): touching that view must
   * never fault, nor reach memory mapped later. The kernel never maps the range again, and
   * {@link AddressSpace.close} leaves it in place.
   */
  retire(addr: number, len: number): void;
  /**
   * Futex wait on the 32-bit word at `addr`, which is mapped readable from `mem` at
   * `memOffset` (4-aligned; the kernel checked both): block the calling thread while the word
   * holds `value`, until a {@link AddressSpace.futexWake} of the same word (from any kernel
   * mapping the same memory) or `timeoutMs` (`Infinity`: none) passes.
   *
   * @returns {@link FutexOutcome.Woken} (possibly spuriously), `Mismatch` when the word does
   *   not hold `value`, or `TimedOut`
   * @throws {BackendError} when the wait cannot happen (e.g. it could never end)
   */
  futexWait(
    addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): FutexOutcome;
  /**
   * {@link AddressSpace.futexWait} without blocking the thread: the outcome arrives as a
   * promise (a `Mismatch` may be answered at once).
   *
   * @throws {BackendError} synchronously when the wait cannot start, or as a rejection when
   *   the platform's wait fails
   */
  futexWaitAsync(
    addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): Promise<FutexOutcome>;
  /**
   * Wake up to `count` (`Infinity`: all) waiters on the 32-bit word at `addr` (mapped from
   * `mem` at `memOffset`), in whatever kernel or thread they wait.
   *
   * @returns how many were woken, as far as the platform tells
   */
  futexWake(addr: number, mem: Memory, memOffset: number, count: number): number;
  /** Release the whole reservation (everything inside is unmapped). Called once. */
  close(): void;
}

/** What a futex wait ended with (see {@link AddressSpace.futexWait}). */
export const FutexOutcome = {
  /** Woken by a wake of the same word (or spuriously). */
  Woken: 0,
  /** The word did not hold the expected value: no wait happened. */
  Mismatch: 1,
  /** The timeout passed. */
  TimedOut: 2,
} as const;

/** One of {@link FutexOutcome}'s values. */
export type FutexOutcome = (typeof FutexOutcome)[keyof typeof FutexOutcome];

/** A memory backend: the platform layer under one kernel. */
export interface Backend {
  /** Which kind of memory this is. */
  readonly kind: "native" | "emulated";
  /** Why this backend was chosen, in words (shown as `Kernel.backendReason`). */
  readonly reason: string;
  /** The page size in bytes (4096 on x86-64 Linux). */
  readonly pageSize: number;
  /** The largest memory object this backend can create, in bytes (a page multiple). */
  readonly maxMemorySize: number;
  /** Create a zero-filled memory object of `size` bytes (a page multiple, may be 0). */
  createMemory(size: number): Memory;
  /**
   * Reserve an address space of `size` bytes (a page multiple). `hint` is the preferred base
   * (the emulated backend honours it; native backends may ignore it).
   */
  createAddressSpace(size: number, hint?: number): AddressSpace;
  /**
   * Take over `mem`, a memory object that another backend of the same kind in this JS realm
   * created: that backend is closing while memory it made is still in use elsewhere (a VMO sent
   * to another kernel outlives the kernel that created it). Afterwards this backend owns `mem`
   * (its {@link Backend.close} closes it, and `mem` no longer depends on the closing backend).
   * Returns false when it cannot; the memory is then released.
   */
  adopt(mem: Memory): boolean;
  /**
   * Share `mem` with a kernel in another JS realm (Worker) of this OS process: the number of a
   * new file descriptor for the same memory (native: the receiver owns it from then on; fds are
   * process-wide), the `SharedArrayBuffer` now holding it (emulated), or a string saying why
   * this memory cannot be shared. Optional: a backend
   * without it shares nothing.
   *
   * @throws {BackendError} when duplicating the descriptor fails (`ErrNoResources` for EMFILE)
   */
  share?(mem: Memory): number | SharedArrayBuffer | string;
  /**
   * Why `mem` cannot be shared ({@link Backend.share}) right now, or null; changes nothing.
   */
  shareable?(mem: Memory): string | null;
  /**
   * Take over what another realm's {@link Backend.share} made: a memory object of its current
   * size (native: it closes `fd` when it is closed, and calls `onClose` just before).
   *
   * @throws {BackendError} `ErrBadHandle` when `fd` is not a memory file descriptor
   */
  receive?(fd: number | SharedArrayBuffer, onClose: () => void): Memory;
  /**
   * Make `view` unusable: afterwards it has length 0 and touching it cannot reach the memory.
   * Views from native memory must be detached before that memory goes away (a stale native
   * view is a use-after-unmap: SIGSEGV/SIGBUS). Backends whose views alias garbage-collected
   * memory may do nothing.
   */
  detach(view: Uint8Array): void;
  /**
   * Whether `view` (one this backend handed out and zxvm has not detached yet) was detached by
   * someone else: its `ArrayBuffer` was transferred (`ArrayBuffer.prototype.transfer`,
   * `structuredClone`/`postMessage` with a transfer list), so another buffer may now reach the
   * same memory and zxvm can no longer revoke it.
   */
  escaped(view: Uint8Array): boolean;
  /** Release backend-wide resources (the loaded library, caches). Called once, last. */
  close(): void;
}
