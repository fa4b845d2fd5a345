/**
 * VMO semantics (Zircon's `vm/vm_object*.cc` and `VmObjectDispatcher`): sizes and content
 * size, slices and snapshots, `op_range` bodies, attribution, the zero-children signal and the
 * object's lifetime. Syscalls (`syscalls/vmo.ts`) have checked handles, rights and arguments
 * before they call in here; every backend call is made through {@link backendCall}, naming the
 * syscall being served.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { VmoChildOptions, VmoOptions } from "../abi/options.ts";
import { Signals, VmoInfoFlags } from "../abi/signals.ts";
import { ZxStatus } from "../abi/status.ts";
import type { Backend, Memory } from "../backend/types.ts";
import { TWO_64 } from "./args.ts";
import { backendCall, backendFailure } from "./backend_call.ts";
import { KObject, ObjType } from "./handles.ts";
import type { MemoryPool } from "./memory_pool.ts";
import type { MappingRecord } from "./vm_mapping.ts";

const S = ZxStatus;

/** A pending `waitOne`. */
export interface Waiter {
  /** The kernel whose handle waits (objects sent through channels are shared by kernels). */
  readonly owner: object;
  /** The handle value waited on (closing it cancels the wait). */
  readonly handle: number;
  /** Signals that satisfy the wait. */
  readonly mask: number;
  /** Settle with the observed signals. */
  resolve(signals: number): void;
  /** Settle with an error. */
  reject(err: unknown): void;
}

/** What `zx_object_get_info(ZX_INFO_VMO)` reports, in zxvm's shape. */
export interface VmoInfo {
  /** The VMO's koid. */
  koid: number;
  /** Its name. */
  name: string;
  /** Its size in bytes. */
  size: number;
  /** The parent's koid, or 0. */
  parentKoid: number;
  /** Live children. */
  numChildren: number;
  /** Live mappings. */
  numMappings: number;
  /** Distinct address spaces it is mapped into (0 or 1: one per kernel). */
  shareCount: number;
  /** `VmoInfoFlags` bits. */
  flags: number;
  /** Bytes committed (attributed) to this VMO. */
  committedBytes: number;
  /** Rights of the queried handle. */
  handleRights: number;
}

/** How a VMO came to be. */
export type VmoKind = "root" | "slice" | "snapshot";

/** A virtual memory object. */
export class VmoObject extends KObject {
  /** The memory holding the pages (shared with the parent for slices). */
  readonly mem: Memory;
  /** Offset of this VMO's page 0 inside {@link VmoObject.mem}. */
  readonly memOffset: number;
  /** How it was made; slices share their parent's memory, the others own theirs. */
  readonly kind: VmoKind;
  /** The backend kind of its memory: only kernels of that kind can receive the VMO. */
  readonly memoryKind: "native" | "emulated";
  /** Size in bytes (a page multiple). */
  size: number;
  /** Content size (`ZX_PROP_VMO_CONTENT_SIZE`), unrounded. */
  contentSize: number;
  /** Created resizable (`ZX_VMO_RESIZABLE` / `ZX_VMO_CHILD_RESIZABLE`). */
  readonly resizable: boolean;
  /** Created discardable. */
  readonly discardable: boolean;
  /** Created as `SNAPSHOT | NO_WRITE`. */
  readonly immutable: boolean;
  /** The parent for children, else null. */
  readonly parent: VmoObject | null;
  /**
   * The offset of page 0 in the root of its hierarchy, summed along the chain of parents
   * (Zircon rejects a child whose accumulated offset would overflow u64).
   */
  readonly chainOffset: number;
  /** Live (not yet destroyed) direct children. */
  liveChildren = 0;
  /** Live direct children that are snapshots (non-slice children). */
  liveSnapshotChildren = 0;
  /**
   * Live mapping records of this VMO, in no particular order (each record knows its slot, so
   * adding and removing one is O(1) without a Set).
   */
  readonly records: MappingRecord[] = [];
  /** `ZX_PROP_NAME`. */
  name = "";
  /** Nesting count of `VmoOp.Lock` on a discardable VMO. */
  lockCount = 0;
  /** Pending waits. */
  readonly waiters: Set<Waiter> = new Set();
  /** False once destroyed (no handles, mappings or children left). */
  alive = true;
  /** Temporary references held by the kernel while it rearranges mapping records. */
  pins = 0;
  readonly #pool: MemoryPool;

  /** Construct; see the field docs. */
  private constructor(
    koid: number,
    pool: MemoryPool,
    init: {
      mem: Memory;
      memOffset: number;
      kind: VmoKind;
      size: number;
      contentSize: number;
      resizable: boolean;
      discardable: boolean;
      immutable: boolean;
      parent: VmoObject | null;
      chainOffset: number;
    },
  ) {
    super(koid);
    this.#pool = pool;
    this.memoryKind = pool.kind;
    this.mem = init.mem;
    this.memOffset = init.memOffset;
    this.kind = init.kind;
    this.size = init.size;
    this.contentSize = init.contentSize;
    this.resizable = init.resizable;
    this.discardable = init.discardable;
    this.immutable = init.immutable;
    this.parent = init.parent;
    this.chainOffset = init.chainOffset;
  }

  /** `zx_vmo_create`: `rounded` bytes of zero memory (`size` is the content size). */
  static create(
    koid: number,
    pool: MemoryPool,
    size: number,
    rounded: number,
    options: number,
    op: string,
  ): VmoObject {
    return new VmoObject(koid, pool, {
      mem: pool.create(rounded, op),
      memOffset: 0,
      kind: "root",
      size: rounded,
      contentSize: size,
      resizable: (options & VmoOptions.Resizable) !== 0,
      discardable: (options & VmoOptions.Discardable) !== 0,
      immutable: false,
      parent: null,
      chainOffset: 0,
    });
  }

  /**
   * A VMO that arrived from another realm (a Worker's kernel): `mem` (already hosted in `pool`)
   * is the same memory; the koid is the sender's. It arrives without a parent.
   */
  static received(
    koid: number,
    pool: MemoryPool,
    mem: Memory,
    init: { size: number; contentSize: number; immutable: boolean; name: string },
  ): VmoObject {
    const v = new VmoObject(koid, pool, {
      mem,
      memOffset: 0,
      kind: "root",
      size: init.size,
      contentSize: init.contentSize,
      resizable: false,
      discardable: false,
      immutable: init.immutable,
      parent: null,
      chainOffset: 0,
    });
    v.name = init.name;
    return v;
  }

  /** The backend of the pool hosting this VMO's memory now. */
  get memoryBackend(): Backend {
    return this.#pool.backend;
  }

  /** `"vmo"`. */
  get type(): "vmo" {
    return "vmo";
  }
  /** `ZX_OBJ_TYPE_VMO`. */
  get zxType(): number {
    return ObjType.Vmo;
  }
  /** A slice of its parent. */
  get isSlice(): boolean {
    return this.kind === "slice";
  }
  /** A snapshot (copy-on-write clone) of its parent. */
  get isCowClone(): boolean {
    return this.kind === "snapshot";
  }

  // ------------------------------------------------------------ children

  /**
   * Zircon's accumulated-offset rule (`vmo-clone2.cc` NoAccumulatedOverflow): a child's
   * offset plus size, added to every ancestor's offset, must stay inside u64.
   *
   * @throws {ZxError} `ErrInvalidArgs` when it would not
   */
  checkChainOffset(offset: number, size: number, op: string): void {
    if (this.chainOffset + offset + size >= TWO_64) {
      throw new ZxError(
        S.ErrInvalidArgs,
        op,
        "the child's offset, added to its ancestors' offsets, overflows u64",
      );
    }
  }

  /** A slice `[offset, offset+rounded)` of this VMO (checked by the caller). */
  createSlice(koid: number, offset: number, rounded: number, size: number): VmoObject {
    const child = new VmoObject(koid, this.#pool, {
      mem: this.mem,
      memOffset: this.memOffset + offset,
      kind: "slice",
      size: rounded,
      contentSize: size,
      resizable: false,
      discardable: false,
      immutable: false,
      parent: this,
      chainOffset: this.chainOffset + offset,
    });
    this.#adopt(child);
    return child;
  }

  /**
   * A snapshot of `[offset, offset+rounded)` (an eager copy; checked by the caller), whose
   * memory comes from `pool` (the kernel making the call; by default this VMO's).
   */
  createSnapshot(
    koid: number,
    offset: number,
    rounded: number,
    size: number,
    options: number,
    op: string,
    pool: MemoryPool = this.#pool,
  ): VmoObject {
    const C = VmoChildOptions;
    const mem = pool.create(rounded, op);
    const copyLen = Math.min(rounded, Math.max(0, this.size - offset));
    try {
      if (copyLen > 0) mem.copyFrom(this.mem, this.memOffset + offset, 0, copyLen);
    } catch (x) {
      pool.release(mem);
      throw backendFailure(op, x);
    }
    const child = new VmoObject(koid, pool, {
      mem,
      memOffset: 0,
      kind: "snapshot",
      size: rounded,
      contentSize: size,
      resizable: (options & C.Resizable) !== 0,
      discardable: false,
      // ZX_INFO_VMO_IMMUTABLE: only SNAPSHOT | NO_WRITE (not the AT_LEAST_ON_WRITE kinds).
      immutable: (options & C.NoWrite) !== 0 && (options & C.Snapshot) !== 0,
      parent: this,
      chainOffset: this.chainOffset + offset,
    });
    this.#adopt(child);
    return child;
  }

  #adopt(child: VmoObject): void {
    this.liveChildren++;
    if (child.isCowClone) this.liveSnapshotChildren++;
    this.notify();
  }

  // ------------------------------------------------------------ lifetime and signals

  /**
   * Destroy this VMO if nothing references it any more (handles, mappings, children, pins),
   * then its ancestors in turn (a loop, not recursion: chains may be deep).
   */
  maybeDestroy(): void {
    VmoObject.#destroyChain(this);
  }

  /** The nearest ancestor-or-self that is not a slice. */
  static #sliceRoot(v: VmoObject): VmoObject {
    while (v.isSlice && v.parent !== null) v = v.parent;
    return v;
  }

  static #destroyChain(first: VmoObject): void {
    let v: VmoObject | null = first;
    while (v !== null) {
      if (
        !v.alive || v.handleCount > 0 || v.records.length > 0 || v.liveChildren > 0 || v.pins > 0
      ) return;
      v.alive = false;
      if (v.kind !== "slice") v.#pool.release(v.mem);
      const p: VmoObject | null = v.parent;
      if (p !== null) {
        p.liveChildren--;
        if (v.isCowClone) p.liveSnapshotChildren--;
        p.notify();
      }
      v = p;
    }
  }

  /** The signals asserted now. */
  signals(): number {
    return this.liveChildren === 0 ? Signals.VmoZeroChildren : 0;
  }

  /** Settle the waits the current signals satisfy. */
  notify(): void {
    if (this.waiters.size === 0) return;
    const s = this.signals();
    for (const w of [...this.waiters]) if ((s & w.mask) !== 0) w.resolve(s);
  }

  // ------------------------------------------------------------ contents

  // read and write are the hot paths: the conversion backendCall does, without its closure.

  /** Copy all of `dst` from `offset` (in range) into `dst`. */
  read(offset: number, dst: Uint8Array, op: string): void {
    try {
      this.mem.read(this.memOffset + offset, dst);
    } catch (x) {
      throw backendFailure(op, x);
    }
  }

  /** Copy `src` into the VMO at `offset` (in range). */
  write(offset: number, src: Uint8Array, op: string): void {
    try {
      this.mem.write(this.memOffset + offset, src);
    } catch (x) {
      throw backendFailure(op, x);
    }
  }

  /** Commit the pages of `[offset, offset+len)` (page aligned, in range). */
  commit(offset: number, len: number, op: string): void {
    backendCall(op, () => this.mem.commit(this.memOffset + offset, len));
  }

  /** Decommit the pages of `[offset, offset+len)` (page aligned, in range). */
  decommit(offset: number, len: number, op: string): void {
    backendCall(op, () => this.mem.decommit(this.memOffset + offset, len));
  }

  /** Make `[offset, offset+len)` (in range, any alignment) read as zero. */
  zero(offset: number, len: number, op: string): void {
    backendCall(op, () => this.mem.zero(this.memOffset + offset, len));
  }

  /**
   * Zircon decommits only VMOs made by `zx_vmo_create` that have no non-slice (snapshot)
   * children, and slices of such VMOs: anything in a copy-on-write hierarchy is NOT_SUPPORTED
   * (`zx_vmo_op_range` docs; the kernel answers before it looks at alignment or range).
   *
   * @throws {ZxError} `ErrNotSupported`
   */
  checkDecommit(op: string): void {
    const root = VmoObject.#sliceRoot(this);
    if (root.isCowClone) {
      throw new ZxError(S.ErrNotSupported, op, "decommit is not supported on snapshot children");
    }
    if (root.liveSnapshotChildren > 0) {
      throw new ZxError(
        S.ErrNotSupported,
        op,
        "decommit is not supported on a VMO with snapshot children",
      );
    }
  }

  /**
   * Resize the memory to `rounded` bytes with content size `size` (`zx_vmo_set_size`, all
   * checks done). Bytes between `size` and the page end read as zero afterwards, as in Zircon.
   * Either everything happens or nothing does.
   */
  resize(rounded: number, size: number, op: string): void {
    const tailFrom = size < rounded && rounded <= this.size ? size : rounded;
    let saved: Uint8Array | null = null;
    if (tailFrom < rounded) {
      // Zero the tail of the last page first, keeping its bytes in case the resize fails.
      saved = new Uint8Array(rounded - tailFrom);
      this.read(tailFrom, saved, op);
      this.zero(tailFrom, saved.length, op);
    }
    try {
      if (rounded !== this.size) backendCall(op, () => this.mem.resize(rounded));
    } catch (x) {
      if (saved !== null) this.write(tailFrom, saved, op);
      throw x;
    }
    this.size = rounded;
    this.contentSize = size;
  }

  /**
   * `ZX_PROP_VMO_CONTENT_SIZE`: set it, zeroing the VMO from the new content size to its end
   * (`VmObjectDispatcher::SetContentSize`). A content size beyond the size is kept as given.
   */
  setContentSize(size: number, op: string): void {
    if (size < this.size) this.zero(size, this.size - size, op);
    this.contentSize = size;
  }

  /** `ZX_INFO_VMO` as seen through a handle with `rights`. */
  info(rights: number, op: string): VmoInfo {
    const F = VmoInfoFlags;
    const flags = F.TypePaged | F.ViaHandle | (this.resizable ? F.Resizable : 0) |
      (this.discardable ? F.Discardable : 0) | (this.isCowClone ? F.IsCowClone : 0) |
      (this.immutable ? F.Immutable : 0);
    return {
      koid: this.koid,
      name: this.name,
      size: this.size,
      parentKoid: this.parent?.koid ?? 0,
      numChildren: this.liveChildren,
      numMappings: this.records.length,
      shareCount: this.records.length > 0 ? 1 : 0,
      flags,
      committedBytes: this.isSlice ? 0 : backendCall(op, () => this.mem.committedBytes()),
      handleRights: rights,
    };
  }
}
