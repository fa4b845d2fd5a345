/**
 * The emulated backend: memory objects made of garbage-collected `ArrayBuffer`s and a
 * simulated address space. Pure TypeScript, deterministic, no permissions needed — the
 * backend zxvm falls back to, and a faithful fake kernel for tests.
 *
 * Memory is sparse: a memory object is a row of 1 GiB segments, each created only when first
 * written (or viewed) and otherwise read as zeros, so a 1 TiB VMO costs nothing until touched.
 * Committed bytes are tracked page by page (written, committed, or handed out in a view).
 *
 * @module
 */
import {
  atomicsLoad,
  atomicsNotify,
  atomicsStore,
  atomicsWait,
  atomicsWaitAsync,
  hasAtomicsWaitAsync,
  le32Get,
  le32Set,
  u8Copy,
  u8Fill,
  u8Length,
  u8Slice,
} from "../abi/intrinsics.ts";
import { ZxStatus } from "../abi/status.ts";
import { BackendError } from "./error.ts";
import { type AddressSpace, type Backend, FutexOutcome, type Memory, type Prot } from "./types.ts";

const PAGE = 4096;
/** Segment size: the largest contiguous view the emulated backend can give. */
export const SEGMENT_SIZE = 2 ** 30;
/** Largest emulated memory object. */
export const EMULATED_MAX_MEMORY = 2 ** 40;
const COPY_CHUNK = 2 ** 24;

/** Buffers zxvm detached itself (so a detached buffer not in here was transferred away). */
const detachedByUs = new WeakSet<ArrayBuffer>();

/**
 * Whether `ab` is detached: `ArrayBuffer.prototype.detached`, or (Node 20 lacks it) a length
 * of 0, which no live segment has.
 */
function isDetached(ab: ArrayBuffer): boolean {
  return (ab as { detached?: boolean }).detached ?? ab.byteLength === 0;
}

/** Detach an ArrayBuffer so every view over it has length 0 (works on Node 20 and Deno). */
export function detachBuffer(ab: ArrayBuffer): void {
  if (isDetached(ab)) return;
  detachedByUs.add(ab);
  const t = (ab as { transfer?: (n: number) => ArrayBuffer }).transfer;
  if (typeof t === "function") t.call(ab, 0);
  else structuredClone(ab, { transfer: [ab] });
}

function lost(): BackendError {
  return new BackendError(
    ZxStatus.ErrBadState,
    "this VMO's emulated storage was transferred away through a Mapping.bytes() view " +
      "(ArrayBuffer transfer, structuredClone or postMessage with a transfer list); its " +
      "contents moved with it",
  );
}

/** A set of disjoint half-open integer ranges, kept sorted and merged. */
export class RangeSet {
  #s: number[] = [];
  #e: number[] = [];
  #total = 0;

  /** Sum of the lengths of all ranges. */
  get total(): number {
    return this.#total;
  }

  // index of the first range whose end > x
  #firstEndAfter(x: number): number {
    let lo = 0;
    let hi = this.#e.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.#e[m] > x) hi = m;
      else lo = m + 1;
    }
    return lo;
  }

  /** Add `[s, e)`. */
  add(s: number, e: number): void {
    if (e <= s) return;
    let i = this.#firstEndAfter(s - 1); // first range with end >= s (touching merges)
    let ns = s;
    let ne = e;
    let j = i;
    while (j < this.#s.length && this.#s[j] <= e) {
      ns = Math.min(ns, this.#s[j]);
      ne = Math.max(ne, this.#e[j]);
      this.#total -= this.#e[j] - this.#s[j];
      j++;
    }
    if (i > j) i = j;
    this.#s.splice(i, j - i, ns);
    this.#e.splice(i, j - i, ne);
    this.#total += ne - ns;
  }

  /** Remove `[s, e)`. */
  remove(s: number, e: number): void {
    if (e <= s) return;
    const i = this.#firstEndAfter(s);
    let j = i;
    const keepS: number[] = [];
    const keepE: number[] = [];
    while (j < this.#s.length && this.#s[j] < e) {
      const rs = this.#s[j];
      const re = this.#e[j];
      this.#total -= re - rs;
      if (rs < s) {
        keepS.push(rs);
        keepE.push(s);
        this.#total += s - rs;
      }
      if (re > e) {
        keepS.push(e);
        keepE.push(re);
        this.#total += re - e;
      }
      j++;
    }
    this.#s.splice(i, j - i, ...keepS);
    this.#e.splice(i, j - i, ...keepE);
  }

  /** The parts of the set inside `[s, e)`, as `[start, end]` pairs. */
  within(s: number, e: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.#firstEndAfter(s); i < this.#s.length && this.#s[i] < e; i++) {
      out.push([Math.max(s, this.#s[i]), Math.min(e, this.#e[i])]);
    }
    return out;
  }
}

function pageDown(x: number): number {
  return x - (x % PAGE);
}
function pageUp(x: number): number {
  const r = x % PAGE;
  return r === 0 ? x : x - r + PAGE;
}

function noMemory(what: string, cause: unknown): BackendError {
  return new BackendError(ZxStatus.ErrNoMemory, `${what}: ${cause}`);
}

// Which memory owns a segment buffer, so a view can be revoked through the backend.
const owners = new WeakMap<ArrayBuffer, EmulatedMemory>();

/** An emulated memory object. */
export class EmulatedMemory implements Memory {
  #size: number;
  readonly #segs = new Map<number, ArrayBuffer>();
  readonly #committed = new RangeSet();
  /**
   * Ranges under views that may still be attached: writes through a view cannot be observed,
   * so these pages stay committed (a decommit or zero keeps them; snapshots and revocations
   * copy them) until the segment's views are revoked.
   */
  readonly #viewed = new RangeSet();
  #closed = false;
  /**
   * Set once the memory is shared with another realm (a Worker's kernel): its one segment is
   * this `SharedArrayBuffer`, every page counts as committed (the other side's writes cannot be
   * observed), and it offers no zero-copy views (they could not be revoked).
   */
  #shared: SharedArrayBuffer | null = null;
  /** Words of {@link EmulatedMemory.#shared}, for `Atomics` (futexes, word accesses). */
  #words: Int32Array | null = null;
  /**
   * Futex waiters while the memory is not shared (only this thread can wake them): word
   * offset -> settle functions, in arrival order.
   */
  readonly #waiters = new Map<number, Set<(o: FutexOutcome) => void>>();

  /** @param size initial size in bytes (a page multiple) */
  constructor(size: number) {
    this.#size = size;
  }

  /** Memory over `sab`, which another realm shared (see {@link EmulatedMemory.share}). */
  static fromShared(sab: SharedArrayBuffer): EmulatedMemory {
    const m = new EmulatedMemory(sab.byteLength);
    m.#adoptShared(sab);
    return m;
  }

  #adoptShared(sab: SharedArrayBuffer): void {
    this.#shared = sab;
    this.#words = new Int32Array(sab, 0, sab.byteLength >>> 2);
    // Waiters of the unshared memory now wait on the SharedArrayBuffer's words, which this
    // queue cannot reach: wake them (a spurious wake, which futex users must expect anyway).
    for (const set of this.#waiters.values()) for (const settle of set) settle(FutexOutcome.Woken);
    this.#waiters.clear();
    if (sab.byteLength > 0) this.#segs.set(0, sab as unknown as ArrayBuffer);
    this.#committed.add(0, this.#size);
  }

  /** Why this memory cannot be shared now, or null (see {@link EmulatedMemory.share}). */
  shareable(): string | null {
    if (this.#shared !== null) return null;
    if (this.#closed) return "the memory was released";
    if (this.#size > SEGMENT_SIZE) {
      return `an emulated VMO larger than ${SEGMENT_SIZE} bytes (one segment) cannot be shared`;
    }
    if (this.#viewed.total > 0) {
      return "the emulated VMO has live Mapping.bytes() views, which shared storage could not " +
        "revoke (unmap those mappings first)";
    }
    if (this.#anyLost()) return "the emulated VMO's storage was transferred away";
    return null;
  }

  /**
   * Move the contents to one `SharedArrayBuffer` (once) and return it: another realm's kernel
   * then sees the same bytes. Afterwards the memory offers no zero-copy views.
   */
  share(): SharedArrayBuffer | string {
    if (this.#shared !== null) return this.#shared;
    const why = this.shareable();
    if (why !== null) return why;
    let sab: SharedArrayBuffer;
    try {
      sab = new SharedArrayBuffer(this.#size);
    } catch (e) {
      return `cannot allocate shared memory: ${e}`;
    }
    const old = this.#segs.get(0);
    if (old !== undefined) {
      const dst = new Uint8Array(sab);
      const src = new Uint8Array(old);
      for (const [s, e] of this.#committed.within(0, this.#size)) dst.set(src.subarray(s, e), s);
      this.#segs.delete(0);
      detachBuffer(old);
    }
    this.#adoptShared(sab);
    return sab;
  }

  /** Current size. */
  get size(): number {
    return this.#size;
  }

  #segLen(i: number): number {
    return Math.min(SEGMENT_SIZE, this.#size - i * SEGMENT_SIZE);
  }

  /** Segment `i` if it exists; throws when it was transferred away. */
  #existing(i: number): ArrayBuffer | undefined {
    const ab = this.#segs.get(i);
    if (ab !== undefined && isDetached(ab)) throw lost();
    return ab;
  }

  /** Whether any segment was transferred away (the memory's contents are then unreliable). */
  #anyLost(): boolean {
    for (const ab of this.#segs.values()) if (isDetached(ab)) return true;
    return false;
  }

  #seg(i: number): ArrayBuffer {
    let ab = this.#existing(i);
    if (ab === undefined) {
      const len = this.#segLen(i);
      try {
        ab = new ArrayBuffer(len, { maxByteLength: len });
      } catch (e) {
        throw noMemory("cannot allocate emulated memory", e);
      }
      this.#segs.set(i, ab);
      owners.set(ab, this);
    }
    return ab;
  }

  /** Resize; see {@link Memory.resize}. */
  resize(size: number): void {
    const old = this.#size;
    if (size === old) return;
    if (this.#shared !== null) {
      throw new BackendError(ZxStatus.ErrNotSupported, "shared emulated memory cannot resize");
    }
    if (this.#anyLost()) throw lost();
    if (size < old) {
      this.#committed.remove(size, old);
      this.#viewed.remove(size, old);
      for (const [i, ab] of [...this.#segs]) {
        const start = i * SEGMENT_SIZE;
        if (start >= size) {
          this.#segs.delete(i);
          detachBuffer(ab);
        } else if (start + ab.byteLength > size) {
          ab.resize(size - start); // views past the new end go out of bounds
        }
      }
      this.#size = size;
      return;
    }
    // Grow: the last existing segment may need more room.
    this.#size = size;
    const last = Math.floor((old - 1) / SEGMENT_SIZE);
    const ab = old > 0 ? this.#segs.get(last) : undefined;
    if (ab !== undefined) {
      const want = this.#segLen(last);
      if (want <= ab.maxByteLength) ab.resize(want);
      else {
        let nab: ArrayBuffer;
        const cap = Math.min(SEGMENT_SIZE, Math.max(want, ab.byteLength * 2));
        try {
          nab = new ArrayBuffer(want, { maxByteLength: cap });
        } catch (e) {
          this.#size = old;
          throw noMemory("cannot grow emulated memory", e);
        }
        const base = last * SEGMENT_SIZE;
        const dst = new Uint8Array(nab);
        const src = new Uint8Array(ab);
        for (const [s, e] of this.#committed.within(base, base + ab.byteLength)) {
          dst.set(src.subarray(s - base, e - base), s - base);
        }
        this.#segs.set(last, nab);
        owners.set(nab, this);
        this.#viewed.remove(base, base + ab.byteLength); // (before the detach makes it 0)
        detachBuffer(ab); // old views are detached; Mapping.bytes() hands out fresh ones
      }
    }
  }

  /** Read; see {@link Memory.read}. */
  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    const n = u8Length(dst);
    if (n === 4 && (offset & 3) === 0 && this.#words !== null) {
      // One aligned word of shared memory: a single atomic load (another Worker may write it).
      le32Set(dst, atomicsLoad(this.#words, offset >>> 2));
      return;
    }
    while (done < n) {
      const off = offset + done;
      const i = Math.floor(off / SEGMENT_SIZE);
      const inSeg = off - i * SEGMENT_SIZE;
      const len = Math.min(n - done, SEGMENT_SIZE - inSeg);
      const ab = this.#existing(i);
      if (ab === undefined) u8Fill(dst, 0, done, done + len);
      else u8Copy(dst, new Uint8Array(ab, inSeg, len), done);
      done += len;
    }
  }

  /** Write; see {@link Memory.write}. */
  write(offset: number, src: Uint8Array): void {
    let done = 0;
    const n = u8Length(src);
    if (n === 4 && (offset & 3) === 0 && this.#words !== null) {
      atomicsStore(this.#words, offset >>> 2, le32Get(src));
      return;
    }
    while (done < n) {
      const off = offset + done;
      const i = Math.floor(off / SEGMENT_SIZE);
      const inSeg = off - i * SEGMENT_SIZE;
      const len = Math.min(n - done, SEGMENT_SIZE - inSeg);
      u8Copy(
        new Uint8Array(this.#seg(i), inSeg, len),
        len === n ? src : u8Slice(src, done, done + len),
        0,
      );
      done += len;
    }
    this.#committed.add(pageDown(offset), pageUp(offset + n));
  }

  #fillZero(s: number, e: number): void {
    let off = s;
    while (off < e) {
      const i = Math.floor(off / SEGMENT_SIZE);
      const inSeg = off - i * SEGMENT_SIZE;
      const len = Math.min(e - off, SEGMENT_SIZE - inSeg);
      const ab = this.#existing(i);
      if (ab !== undefined) new Uint8Array(ab, inSeg, len).fill(0);
      off += len;
    }
  }

  /** Snapshot copy; see {@link Memory.copyFrom}. Only committed source pages are copied. */
  copyFrom(src: Memory, srcOffset: number, dstOffset: number, len: number): void {
    const end = Math.min(srcOffset + len, src.size);
    const ranges = src instanceof EmulatedMemory
      ? src.#committed.within(srcOffset, end)
      : [[srcOffset, end] as [number, number]];
    for (const [s, e] of ranges) {
      for (let o = s; o < e; o += COPY_CHUNK) {
        const n = Math.min(COPY_CHUNK, e - o);
        const tmp = new Uint8Array(n);
        src.read(o, tmp);
        this.write(dstOffset + (o - srcOffset), tmp);
      }
    }
  }

  /** Zero; see {@link Memory.zero}. Whole pages inside the range are decommitted. */
  zero(offset: number, len: number): void {
    const end = offset + len;
    if (this.#shared !== null) return this.#fillZero(offset, end);
    for (const [s, e] of this.#committed.within(offset, end)) this.#fillZero(s, e);
    this.#uncommit(pageUp(offset), pageDown(end));
  }

  /** Decommit; see {@link Memory.decommit}. */
  decommit(offset: number, len: number): void {
    if (this.#shared !== null) return this.#fillZero(offset, offset + len);
    for (const [s, e] of this.#committed.within(offset, offset + len)) this.#fillZero(s, e);
    this.#uncommit(offset, offset + len);
  }

  /** Drop `[s, e)` from the committed pages, except pages a live view may still write. */
  #uncommit(s: number, e: number): void {
    this.#committed.remove(s, e);
    for (const [a, b] of this.#viewed.within(s, e)) this.#committed.add(a, b);
  }

  /** Commit; see {@link Memory.commit}. */
  commit(offset: number, len: number): void {
    this.#committed.add(offset, offset + len);
  }

  /** Committed bytes; see {@link Memory.committedBytes}. */
  committedBytes(): number {
    return this.#committed.total;
  }

  /**
   * A view of `[offset, offset+len)`; the range must lie within one 1 GiB segment. The pages
   * count as committed from then on (writes through the view cannot be observed).
   *
   * @throws {BackendError} `ErrNotSupported` when the range crosses a 1 GiB boundary
   */
  view(offset: number, len: number): Uint8Array {
    if (this.#shared !== null) {
      throw new BackendError(
        ZxStatus.ErrNotSupported,
        "this emulated VMO is shared with another Worker: its storage is a SharedArrayBuffer, " +
          "whose views could not be revoked; use Mapping.read/write or the native backend",
      );
    }
    const i = Math.floor(offset / SEGMENT_SIZE);
    const inSeg = offset - i * SEGMENT_SIZE;
    if (inSeg + len > SEGMENT_SIZE) {
      throw new BackendError(
        ZxStatus.ErrNotSupported,
        "the emulated backend cannot give one contiguous view across a 1 GiB VMO boundary; " +
          "use Mapping.read/write or the native backend",
      );
    }
    const v = new Uint8Array(this.#seg(i), inSeg, len);
    this.#committed.add(pageDown(offset), pageUp(offset + len));
    this.#viewed.add(pageDown(offset), pageUp(offset + len));
    return v;
  }

  /**
   * Revoke every view over segment buffer `ab`: move the segment's bytes to a fresh buffer
   * and detach the old one. Views of other mappings over the same segment are detached too
   * (their `Mapping.bytes()` hands out fresh ones).
   */
  revoke(ab: ArrayBuffer): void {
    for (const [i, seg] of this.#segs) {
      if (seg !== ab || isDetached(seg)) continue;
      let nab: ArrayBuffer;
      try {
        nab = new ArrayBuffer(seg.byteLength, { maxByteLength: seg.maxByteLength });
      } catch (e) {
        throw noMemory("cannot revoke an emulated view", e);
      }
      const base = i * SEGMENT_SIZE;
      const dst = new Uint8Array(nab);
      const src = new Uint8Array(seg);
      for (const [s, e] of this.#committed.within(base, base + seg.byteLength)) {
        dst.set(src.subarray(s - base, e - base), s - base);
      }
      this.#segs.set(i, nab);
      owners.set(nab, this);
      const len = seg.byteLength; // before the detach, which makes it 0
      detachBuffer(seg);
      this.#viewed.remove(base, base + len); // no view of this segment is left
      return;
    }
  }

  /** The 32-bit word at `offset` (4-aligned, inside the memory), in host byte order. */
  #word(offset: number): number {
    if (this.#words !== null) return atomicsLoad(this.#words, offset >>> 2);
    const b = new Uint8Array(4);
    this.read(offset, b);
    return le32Get(b);
  }

  /**
   * Futex wait on the word at `offset`; see {@link AddressSpace.futexWait}. Shared memory waits
   * with `Atomics.wait`; memory no other thread can reach can only time out.
   *
   * @throws {BackendError} `ErrNotSupported` when the wait could never end (unshared memory, no
   *   timeout) or the runtime refuses to block this thread
   */
  futexWait(offset: number, value: number, timeoutMs: number): FutexOutcome {
    const words = this.#words;
    if (words === null) {
      if (this.#word(offset) !== value) return FutexOutcome.Mismatch;
      if (timeoutMs === Infinity) {
        throw new BackendError(
          ZxStatus.ErrNotSupported,
          "this emulated VMO is reachable from this thread only, so nothing could wake a " +
            "blocking wait on it and it would never return: give a deadline, use " +
            "futexWaitAsync, or share the VMO with a Worker first",
        );
      }
      sleep(timeoutMs);
      return FutexOutcome.TimedOut;
    }
    let r: string;
    try {
      r = atomicsWait(words, offset >>> 2, value, timeoutMs);
    } catch (e) {
      throw new BackendError(ZxStatus.ErrNotSupported, `this thread cannot block: ${e}`);
    }
    return r === "ok"
      ? FutexOutcome.Woken
      : r === "not-equal"
      ? FutexOutcome.Mismatch
      : FutexOutcome.TimedOut;
  }

  /** {@link EmulatedMemory.futexWait} as a promise; see {@link AddressSpace.futexWaitAsync}. */
  futexWaitAsync(offset: number, value: number, timeoutMs: number): Promise<FutexOutcome> {
    const words = this.#words;
    if (words !== null) {
      if (!hasAtomicsWaitAsync) {
        throw new BackendError(
          ZxStatus.ErrNotSupported,
          "this runtime has no Atomics.waitAsync (needed to wait on shared emulated memory " +
            "without blocking)",
        );
      }
      const r = atomicsWaitAsync(words, offset >>> 2, value, timeoutMs);
      if (!r.async) {
        return Promise.resolve(
          r.value === "not-equal" ? FutexOutcome.Mismatch : FutexOutcome.TimedOut,
        );
      }
      return r.value.then((v) => v === "ok" ? FutexOutcome.Woken : FutexOutcome.TimedOut);
    }
    if (this.#word(offset) !== value) return Promise.resolve(FutexOutcome.Mismatch);
    if (timeoutMs <= 0) return Promise.resolve(FutexOutcome.TimedOut);
    return new Promise((resolve) => {
      let set = this.#waiters.get(offset);
      if (set === undefined) this.#waiters.set(offset, set = new Set());
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (o: FutexOutcome): void => {
        if (timer !== undefined) clearTimeout(timer);
        const s = this.#waiters.get(offset);
        if (s !== undefined && s.delete(settle) && s.size === 0) this.#waiters.delete(offset);
        resolve(o);
      };
      set.add(settle);
      if (timeoutMs !== Infinity) {
        // setTimeout's delay is a 32-bit count of ms: longer waits re-arm.
        const due = Date.now() + timeoutMs;
        const arm = (): void => {
          const left = due - Date.now();
          if (left <= 0) return settle(FutexOutcome.TimedOut);
          timer = setTimeout(arm, Math.min(left, 0x7fffffff));
        };
        arm();
      }
    });
  }

  /** Wake up to `count` waiters on the word at `offset`; see {@link AddressSpace.futexWake}. */
  futexWake(offset: number, count: number): number {
    if (this.#words !== null) return atomicsNotify(this.#words, offset >>> 2, count);
    const set = this.#waiters.get(offset);
    if (set === undefined) return 0;
    let n = 0;
    for (const settle of [...set]) {
      if (n >= count) break;
      settle(FutexOutcome.Woken);
      n++;
    }
    return n;
  }

  /** Release; see {@link Memory.close}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#shared === null) { for (const ab of this.#segs.values()) detachBuffer(ab); }
    this.#segs.clear();
  }
}

class EmulatedAddressSpace implements AddressSpace {
  constructor(readonly base: number, readonly size: number) {}
  map(
    _addr: number,
    _mem: Memory,
    _memOffset: number,
    _len: number,
    _prot: Prot,
    _populate: boolean,
  ): void {}
  protect(_addr: number, _len: number, _prot: Prot): void {}
  unmap(_addr: number, _len: number): void {}
  retire(_addr: number, _len: number): void {}
  view(_addr: number, len: number, mem: Memory, memOffset: number): Uint8Array {
    const v = mem.view(memOffset, len);
    if (v === null) throw new Error("emulated memory always has views");
    return v;
  }
  futexWait(
    _addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): FutexOutcome {
    return emulated(mem).futexWait(memOffset, value, timeoutMs);
  }
  futexWaitAsync(
    _addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): Promise<FutexOutcome> {
    return emulated(mem).futexWaitAsync(memOffset, value, timeoutMs);
  }
  futexWake(_addr: number, mem: Memory, memOffset: number, count: number): number {
    return emulated(mem).futexWake(memOffset, count);
  }
  close(): void {}
}

function emulated(mem: Memory): EmulatedMemory {
  if (!(mem instanceof EmulatedMemory)) {
    throw new BackendError(ZxStatus.ErrInternal, "futex: not an emulated memory");
  }
  return mem;
}

// A private word nobody notifies: Atomics.wait on it is a sleep.
let sleeper: Int32Array | null = null;

/** Block the thread for `ms` milliseconds. */
function sleep(ms: number): void {
  if (sleeper === null) sleeper = new Int32Array(new SharedArrayBuffer(4));
  try {
    atomicsWait(sleeper, 0, 0, ms);
  } catch (e) {
    throw new BackendError(ZxStatus.ErrNotSupported, `this thread cannot block: ${e}`);
  }
}

/** The emulated backend. */
export class EmulatedBackend implements Backend {
  /** Always `"emulated"`. */
  readonly kind = "emulated" as const;
  /** Page size: 4096. */
  readonly pageSize = PAGE;
  /** Largest memory object: 2^40 bytes. */
  readonly maxMemorySize = EMULATED_MAX_MEMORY;
  /** @param reason why this backend was chosen */
  constructor(readonly reason: string) {}
  /** Create a sparse, zero-filled memory object. */
  createMemory(size: number): Memory {
    return new EmulatedMemory(size);
  }
  /** A simulated address space at `hint` (default 2^32). */
  createAddressSpace(size: number, hint?: number): AddressSpace {
    return new EmulatedAddressSpace(hint ?? 2 ** 32, size);
  }
  /**
   * Emulated memory is plain garbage-collected storage that depends on no backend: any memory
   * object of this kind can simply be kept.
   */
  adopt(_mem: Memory): boolean {
    return true;
  }
  /** Share with another realm: the memory moves to a `SharedArrayBuffer` (see `EmulatedMemory`). */
  share(mem: Memory): SharedArrayBuffer | string {
    return mem instanceof EmulatedMemory ? mem.share() : "not emulated memory";
  }
  /** Why `mem` cannot be shared now, or null. */
  shareable(mem: Memory): string | null {
    return mem instanceof EmulatedMemory ? mem.shareable() : "not emulated memory";
  }
  /** Memory over a `SharedArrayBuffer` another realm shared. */
  receive(h: number | SharedArrayBuffer, _onClose: () => void): Memory {
    if (typeof h === "number") {
      throw new BackendError(ZxStatus.ErrNotSupported, "a memfd cannot become emulated memory");
    }
    return EmulatedMemory.fromShared(h);
  }
  /**
   * Revoke a view: the memory moves the segment's bytes to a fresh buffer and detaches the
   * old one, so the view (and any other view over that segment) has length 0 afterwards.
   */
  detach(view: Uint8Array): void {
    const ab = view.buffer as ArrayBuffer;
    if (isDetached(ab)) return;
    const owner = owners.get(ab);
    if (owner !== undefined) owner.revoke(ab);
    else detachBuffer(ab);
  }
  /** Whether `view`'s buffer was detached by someone other than zxvm (transferred away). */
  escaped(view: Uint8Array): boolean {
    const ab = view.buffer as ArrayBuffer;
    return isDetached(ab) && !detachedByUs.has(ab);
  }
  /** Nothing to release. */
  close(): void {}
}
