/**
 * Fault injection for the testing kit: a {@link Backend} decorator that makes chosen backend
 * operations fail with a chosen Zircon status, the way real memory can fail (out of memory,
 * address space exhausted), so users can test their error paths deterministically.
 *
 * Faults fire at the backend boundary, after the kernel has checked every argument: a call that
 * would fail its argument checks anyway does not consume a fault, and the kernel turns the
 * failure into the `ZxError` of the syscall that was running (a failed call changes nothing).
 *
 * @module
 */
import { ZxStatus } from "../abi/status.ts";
import { BackendError } from "../backend/error.ts";
import type { AddressSpace, Backend, FutexOutcome, Memory, Prot } from "../backend/types.ts";

/**
 * The backend operations a fault can be injected into, and the calls that reach them:
 *
 * - `"createMemory"`: `Vmo.create`, `kernel.createVmo`, snapshot children (`createChild`), and
 *   the scratch copies `Vmar.opRange(Commit | Decommit | Zero)` makes over several mappings
 * - `"resize"`: `Vmo.setSize`
 * - `"copy"`: the copy of a snapshot child (`createChild` with a `Snapshot*` option), and the
 *   scratch copies of a multi-mapping `Vmar.opRange` (saved first, so a failure can be undone)
 * - `"read"` / `"write"`: `Vmo.read` / `Vmo.write`, `Mapping.read` / `Mapping.write` (a write
 *   across several pieces also reads their old bytes first), `Vmo.setSize` (a partial last page)
 * - `"commit"` / `"decommit"` / `"zero"`: `opRange` with `Commit` / `Decommit` / `Zero`
 *   (and the zeroing of a partial last page by `setSize`, and of the tail by `setContentSize`)
 * - `"map"`: `Vmar.map` (and putting mappings back when an unmap or overwrite is undone)
 * - `"protect"`: `Vmar.protect` (one call per mapping piece; also when one is undone)
 * - `"unmap"`: `Vmar.unmap`, `Mapping.unmap`, `Vmar.destroy` (one call per mapping piece)
 * - `"view"`: `Mapping.bytes`
 */
export type FaultOp =
  | "createMemory"
  | "resize"
  | "copy"
  | "read"
  | "write"
  | "commit"
  | "decommit"
  | "zero"
  | "map"
  | "protect"
  | "unmap"
  | "view";

/** Every {@link FaultOp}, in a stable order. */
export const FAULT_OPS: readonly FaultOp[] = [
  "createMemory",
  "resize",
  "copy",
  "read",
  "write",
  "commit",
  "decommit",
  "zero",
  "map",
  "protect",
  "unmap",
  "view",
];
Object.freeze(FAULT_OPS);

/** Zircon's error statuses (every `ZxStatus` value but `Ok`). */
const ERROR_STATUSES: ReadonlySet<number> = new Set(
  Object.values(ZxStatus).filter((v) => v !== ZxStatus.Ok),
);

/** One injected fault, as recorded in {@link FaultInjector.log}. */
export interface FaultRecord {
  /** The backend operation that failed. */
  op: FaultOp;
  /** The status it failed with. */
  status: ZxStatus;
}

/**
 * Decides which backend calls fail. Schedule faults with {@link FaultInjector.failNext} (the
 * next N calls) or {@link FaultInjector.failAt} (exactly the Nth call from now); a call that
 * hits a fault throws, and the kernel reports it as the `ZxError` of the syscall being served.
 *
 * @example
 * ```ts
 * import { ZxStatus } from "../../mod.ts";
 * import { testKernel } from "../../testing.ts";
 * using k = testKernel({ seed: 1 });
 * k.faults.failNext("createMemory", 1, ZxStatus.ErrNoMemory);
 * try {
 *   k.createVmo(4096);
 * } catch (e) {
 *   console.log((e as { status: number }).status === ZxStatus.ErrNoMemory); // true
 * }
 * ```
 */
export class FaultInjector {
  // Per operation, runs of pending faults: [status, how many], oldest first.
  readonly #pending = new Map<FaultOp, Array<[ZxStatus, number]>>();
  // Per operation, single faults at a given call number (calls of that op counted from 1).
  readonly #at = new Map<FaultOp, Map<number, ZxStatus>>();
  readonly #calls = new Map<FaultOp, number>();
  readonly #log: FaultRecord[] = [];

  /**
   * Make the next `count` calls of `op` fail with `status` (queued after faults already
   * pending for `op`).
   *
   * @param op the backend operation (see {@link FaultOp})
   * @param count how many calls fail (a non-negative integer; default 1)
   * @param status the status they fail with (default `ZxStatus.ErrNoMemory`)
   * @throws {TypeError} for an unknown `op`, a bad `count` or a `status` that is not one of
   *   Zircon's error statuses (a negative {@link ZxStatus} value other than `Ok`)
   */
  failNext(op: FaultOp, count = 1, status: ZxStatus = ZxStatus.ErrNoMemory): void {
    checkOpAndStatus("failNext", op, status);
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
      throw new TypeError("failNext: count must be a non-negative integer");
    }
    if (count === 0) return;
    const q = this.#pending.get(op) ?? [];
    const last = q[q.length - 1];
    if (last !== undefined && last[0] === status) last[1] += count;
    else q.push([status, count]);
    this.#pending.set(op, q);
  }

  /**
   * Make exactly the `n`th call of `op` from now fail with `status` (`n` = 1 is the next call);
   * the calls before and after it succeed (unless other faults are pending). This reaches the
   * middle of a syscall that makes several backend calls: e.g. `failAt("unmap", 2)` fails the
   * second of the unmaps a `Vmar.unmap` over three mappings makes.
   *
   * @param op the backend operation (see {@link FaultOp})
   * @param n which call fails, counting from 1 (a positive integer)
   * @param status the status it fails with (default `ZxStatus.ErrNoMemory`)
   * @throws {TypeError} for an unknown `op`, a bad `n` or a `status` that is not one of
   *   Zircon's error statuses
   * @example
   * ```ts
   * import { ZxStatus, ZxVmOption as O } from "../../mod.ts";
   * import { testKernel } from "../../testing.ts";
   * using k = testKernel({ seed: 1 });
   * using vmo = k.createVmo(3 * 4096);
   * const ms = [0, 1, 2].map((i) => k.rootVmar.map(O.VmPermRead, 0, vmo, i * 4096, 4096));
   * k.faults.failAt("protect", 2, ZxStatus.ErrNoMemory);
   * // ... a protect spanning the three mappings fails at its second backend call and
   * // changes nothing.
   * for (const m of ms) m.unmap();
   * ```
   */
  failAt(op: FaultOp, n: number, status: ZxStatus = ZxStatus.ErrNoMemory): void {
    checkOpAndStatus("failAt", op, status);
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
      throw new TypeError("failAt: n must be a positive integer");
    }
    const at = this.#at.get(op) ?? new Map<number, ZxStatus>();
    at.set((this.#calls.get(op) ?? 0) + n, status);
    this.#at.set(op, at);
  }

  /** Faults still pending for `op`, or for all operations when `op` is omitted. */
  pending(op?: FaultOp): number {
    const count = (o: FaultOp): number =>
      (this.#pending.get(o) ?? []).reduce((n, [, c]) => n + c, 0) + (this.#at.get(o)?.size ?? 0);
    if (op !== undefined) return count(op);
    let n = 0;
    for (const o of FAULT_OPS) n += count(o);
    return n;
  }

  /** Drop the pending faults of `op`, or of every operation when `op` is omitted. */
  clear(op?: FaultOp): void {
    if (op === undefined) {
      this.#pending.clear();
      this.#at.clear();
    } else {
      this.#pending.delete(op);
      this.#at.delete(op);
    }
  }

  /** Faults injected so far, oldest first. */
  get log(): readonly FaultRecord[] {
    return this.#log;
  }

  /**
   * Called by the decorated backend before each operation: throws the scheduled fault when
   * one is due for this call of `op`.
   *
   * @throws {BackendError} the injected fault (the kernel names the syscall it was serving)
   */
  check(op: FaultOp): void {
    const call = (this.#calls.get(op) ?? 0) + 1;
    this.#calls.set(op, call);
    const at = this.#at.get(op);
    let status = at?.get(call);
    if (status !== undefined) at?.delete(call);
    else {
      const q = this.#pending.get(op);
      if (q === undefined || q.length === 0) return;
      const run = q[0];
      status = run[0];
      if (--run[1] === 0) q.shift();
    }
    this.#log.push({ op, status });
    throw new BackendError(status, `injected fault in backend operation "${op}"`);
  }
}

// Arguments are primitives or a TypeError: nothing here converts an object (no user code runs).
function checkOpAndStatus(fn: string, op: FaultOp, status: ZxStatus): void {
  if (typeof op !== "string" || !FAULT_OPS.includes(op)) {
    throw new TypeError(`${fn}: unknown fault op ${show(op)}`);
  }
  if (typeof status !== "number" || status >= 0 || !ERROR_STATUSES.has(status)) {
    throw new TypeError(
      `${fn}: status must be one of Zircon's error statuses (ZxStatus.Err*), got ${show(status)}`,
    );
  }
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v == null) return String(v);
  if (typeof v === "bigint") return `${v}n`;
  return `a ${typeof v}`;
}

class FaultMemory implements Memory {
  constructor(
    readonly inner: Memory,
    readonly faults: FaultInjector,
    readonly onClose: (m: FaultMemory) => void,
  ) {}
  get size(): number {
    return this.inner.size;
  }
  resize(size: number): void {
    this.faults.check("resize");
    this.inner.resize(size);
  }
  read(offset: number, dst: Uint8Array): void {
    this.faults.check("read");
    this.inner.read(offset, dst);
  }
  write(offset: number, src: Uint8Array): void {
    this.faults.check("write");
    this.inner.write(offset, src);
  }
  copyFrom(src: Memory, srcOffset: number, dstOffset: number, len: number): void {
    this.faults.check("copy");
    this.inner.copyFrom(unwrap(src), srcOffset, dstOffset, len);
  }
  zero(offset: number, len: number): void {
    this.faults.check("zero");
    this.inner.zero(offset, len);
  }
  decommit(offset: number, len: number): void {
    this.faults.check("decommit");
    this.inner.decommit(offset, len);
  }
  commit(offset: number, len: number): void {
    this.faults.check("commit");
    this.inner.commit(offset, len);
  }
  committedBytes(): number {
    return this.inner.committedBytes();
  }
  view(offset: number, len: number): Uint8Array | null {
    return this.inner.view(offset, len);
  }
  close(): void {
    this.inner.close();
    this.onClose(this);
  }
}

function unwrap(m: Memory): Memory {
  return m instanceof FaultMemory ? m.inner : m;
}

class FaultAddressSpace implements AddressSpace {
  constructor(readonly inner: AddressSpace, readonly faults: FaultInjector) {}
  get base(): number {
    return this.inner.base;
  }
  get size(): number {
    return this.inner.size;
  }
  map(
    addr: number,
    mem: Memory,
    memOffset: number,
    len: number,
    prot: Prot,
    populate: boolean,
  ): void {
    this.faults.check("map");
    this.inner.map(addr, unwrap(mem), memOffset, len, prot, populate);
  }
  protect(addr: number, len: number, prot: Prot): void {
    this.faults.check("protect");
    this.inner.protect(addr, len, prot);
  }
  unmap(addr: number, len: number): void {
    this.faults.check("unmap");
    this.inner.unmap(addr, len);
  }
  view(addr: number, len: number, mem: Memory, memOffset: number): Uint8Array {
    this.faults.check("view");
    return this.inner.view(addr, len, unwrap(mem), memOffset);
  }
  retire(addr: number, len: number): void {
    this.inner.retire(addr, len); // never faulted: it replaces an unmap that must succeed
  }
  // Futexes are never faulted: they change no state a rollback would have to restore.
  futexWait(
    addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): FutexOutcome {
    return this.inner.futexWait(addr, unwrap(mem), memOffset, value, timeoutMs);
  }
  futexWaitAsync(
    addr: number,
    mem: Memory,
    memOffset: number,
    value: number,
    timeoutMs: number,
  ): Promise<FutexOutcome> {
    return this.inner.futexWaitAsync(addr, unwrap(mem), memOffset, value, timeoutMs);
  }
  futexWake(addr: number, mem: Memory, memOffset: number, count: number): number {
    return this.inner.futexWake(addr, unwrap(mem), memOffset, count);
  }
  close(): void {
    this.inner.close();
  }
}

/**
 * A {@link Backend} that forwards to `inner`, failing the operations `faults` schedules, and
 * counting the memory objects that are still open (for leak checks).
 */
export class FaultInjectingBackend implements Backend {
  readonly #inner: Backend;
  readonly #faults: FaultInjector;
  readonly #live = new Set<FaultMemory>();

  /**
   * @param inner the backend to decorate (it is owned: closing this closes it)
   * @param faults the fault schedule
   */
  constructor(inner: Backend, faults: FaultInjector) {
    this.#inner = inner;
    this.#faults = faults;
  }
  /** The inner backend's kind. */
  get kind(): "native" | "emulated" {
    return this.#inner.kind;
  }
  /** The inner backend's reason, marked as fault-injecting. */
  get reason(): string {
    return `${this.#inner.reason} (zxvm/testing: fault injection)`;
  }
  /** The inner backend's page size. */
  get pageSize(): number {
    return this.#inner.pageSize;
  }
  /** The inner backend's largest memory object. */
  get maxMemorySize(): number {
    return this.#inner.maxMemorySize;
  }
  /** Memory objects created and not yet closed. */
  get liveMemories(): number {
    return this.#live.size;
  }
  /** Create memory unless a `"createMemory"` fault is pending. */
  createMemory(size: number): Memory {
    this.#faults.check("createMemory");
    const m = new FaultMemory(
      this.#inner.createMemory(size),
      this.#faults,
      (x) => this.#live.delete(x),
    );
    this.#live.add(m);
    return m;
  }
  /** Reserve the address space (never faulted: it happens when the kernel opens). */
  createAddressSpace(size: number, hint?: number): AddressSpace {
    return new FaultAddressSpace(this.#inner.createAddressSpace(size, hint), this.#faults);
  }
  /** Forwarded (the memory keeps the fault schedule of the kernel that created it). */
  adopt(mem: Memory): boolean {
    return this.#inner.adopt(unwrap(mem));
  }
  /** Forwarded. */
  detach(view: Uint8Array): void {
    this.#inner.detach(view);
  }
  /** Forwarded. */
  escaped(view: Uint8Array): boolean {
    return this.#inner.escaped(view);
  }
  /** Forwarded. */
  close(): void {
    this.#inner.close();
  }
}
