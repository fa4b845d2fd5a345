/**
 * Zircon's VM syscalls, written once over a {@link Backend}. Every check happens in Zircon's
 * order with Zircon's status, and every check happens before any state changes, so a call
 * that throws has changed nothing.
 *
 * Arguments arrive normalised (see `args.ts`): handle values and flag words as u32 numbers,
 * sizes/offsets/addresses as exact u64 numbers.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { VmoChildOptions, VmoOp, VmoOptions, ZxVmOption } from "../abi/options.ts";
import { Rights } from "../abi/rights.ts";
import { Signals, VmoInfoFlags } from "../abi/signals.ts";
import { ZxStatus } from "../abi/status.ts";
import type { AddressSpace, Backend, Memory } from "../backend/types.ts";
import { isAligned, roundUp, TWO_64 } from "./args.ts";
import { type HandleEntry, HandleTable, type KObject } from "./handles.ts";
import {
  dropPiece,
  MappingOrigin,
  MappingRecord,
  RetiredRange,
  VmarObject,
  VmoObject,
  type Waiter,
} from "./objects.ts";
import { Prng } from "./ordered.ts";

const S = ZxStatus;
const O = ZxVmOption;
const PERM_RWX = O.VmPermRead | O.VmPermWrite | O.VmPermExecute;
const CAN_MAP_RWX = O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapExecute;
const ALIGN_MASK = 0xFF000000;
/** Flags `zx_vmar_map` accepts (besides the alignment field). */
const MAP_FLAGS = PERM_RWX | O.VmSpecific | O.VmSpecificOverwrite | O.VmMapRange |
  O.VmRequireNonResizable | O.VmAllowFaults | O.VmOffsetIsUpperLimit |
  O.VmPermReadIfXomUnsupported;
/** Flags `zx_vmar_allocate` accepts (besides the alignment field). */
const ALLOCATE_FLAGS = O.VmCompact | O.VmSpecific | O.VmOffsetIsUpperLimit |
  O.VmCanMapSpecific | CAN_MAP_RWX;
/** Every flag bit Zircon knows below the alignment field. */
const KNOWN_FLAGS = 0x7FFF;

/** Options for {@link KernelCore}. */
export interface KernelCoreOptions {
  /** Seed for placement randomisation and handle values (deterministic when given). */
  seed?: number;
  /** Size of the root VMAR in bytes (page multiple). */
  rootVmarSize?: number;
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

/** One mapping as `Vmar.mappings()` reports it. */
export interface MappingInfo {
  /** Absolute start address. */
  addr: number;
  /** Length in bytes. */
  len: number;
  /** Current protection (`ZX_VM_PERM_*` bits). */
  options: number;
  /** Koid of the mapped VMO. */
  vmoKoid: number;
  /** VMO offset of `addr`. */
  vmoOffset: number;
}

/** `zx_info_handle_basic_t` in zxvm's shape. */
export interface BasicInfo {
  /** The object's koid. */
  koid: number;
  /** The handle's rights. */
  rights: number;
  /** `ZX_OBJ_TYPE_*` number (3 for VMO, 18 for VMAR). */
  type: number;
  /** Related object's koid (0 for VMOs and VMARs). */
  relatedKoid: number;
}

function err(status: ZxStatus, op: string, reason: string): ZxError {
  return new ZxError(status, op, reason);
}

function permName(p: number): string {
  return (p & 1 ? "r" : "-") + (p & 2 ? "w" : "-") + (p & 4 ? "x" : "-");
}

/** One Zircon kernel: a handle table and a root VMAR over a backend. */
export class KernelCore {
  /** The memory backend. */
  readonly backend: Backend;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Largest VMO size in bytes. */
  readonly maxVmoSize: number;
  /** The address space all mappings live in. */
  readonly aspace: AddressSpace;
  /** The root VMAR. */
  readonly root: VmarObject;
  /** The value of the kernel's own (borrowed) root VMAR handle. */
  readonly rootHandle: number;
  readonly #handles: HandleTable;
  readonly #prng: Prng;
  #nextKoid = 1024;
  #closed = false;
  readonly #memories = new Set<Memory>();

  /** Open a kernel over `backend` (which it then owns). */
  constructor(backend: Backend, opts: KernelCoreOptions = {}) {
    this.backend = backend;
    this.pageSize = backend.pageSize;
    this.maxVmoSize = backend.maxMemorySize;
    const seed = opts.seed ?? ((Math.random() * 2 ** 32) >>> 0);
    this.#prng = new Prng(seed);
    this.#handles = new HandleTable(this.#prng.nextU32());
    const size = opts.rootVmarSize ?? 2 ** 36;
    // Hint for emulated placement: a page-aligned base in the lower half of a 47-bit space,
    // aligned to 4 GiB so alignment tests see realistic addresses.
    const hint = (1 + this.#prng.below(2 ** 14)) * 2 ** 32;
    this.aspace = backend.createAddressSpace(size, hint);
    this.root = new VmarObject(
      this.#koid(),
      this.aspace.base,
      this.aspace.size,
      CAN_MAP_RWX | O.VmCanMapSpecific,
      null,
    );
    this.rootHandle = this.#handles.add(
      this.root,
      Rights.DefaultVmar | Rights.Read | Rights.Write | Rights.Execute,
    ).value;
  }

  /** Live handles, not counting the kernel's own root VMAR handle. */
  get handleCount(): number {
    return this.#handles.size - (this.#handles.get(this.rootHandle) ? 1 : 0);
  }

  /** Whether {@link KernelCore.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  #koid(): number {
    return this.#nextKoid++;
  }

  // ---------------------------------------------------------------- handles

  #lookup(value: number, op: string): HandleEntry {
    const e = this.#closed ? undefined : this.#handles.get(value);
    if (e === undefined) throw err(S.ErrBadHandle, op, `handle ${value} is not valid`);
    return e;
  }

  #vmo(value: number, op: string): [HandleEntry, VmoObject] {
    const e = this.#lookup(value, op);
    if (e.obj.type !== "vmo") throw err(S.ErrWrongType, op, `handle ${value} is not a VMO`);
    return [e, e.obj as VmoObject];
  }

  #vmar(value: number, op: string): [HandleEntry, VmarObject] {
    const e = this.#lookup(value, op);
    if (e.obj.type !== "vmar") throw err(S.ErrWrongType, op, `handle ${value} is not a VMAR`);
    return [e, e.obj as VmarObject];
  }

  #need(e: HandleEntry, rights: number, op: string, what: string): void {
    if ((e.rights & rights) !== rights) {
      throw err(S.ErrAccessDenied, op, `handle lacks the right to ${what}`);
    }
  }

  /** The entry for a live handle, or throws `ErrBadHandle`. */
  entry(value: number, op: string): HandleEntry {
    return this.#lookup(value, op);
  }

  /** Whether `value` is a live handle. */
  isValid(value: number): boolean {
    return !this.#closed && this.#handles.get(value) !== undefined;
  }

  /** `zx_handle_close`. */
  handleClose(value: number): void {
    const op = "zx_handle_close";
    const e = this.#lookup(value, op);
    this.#dropHandle(e);
  }

  #dropHandle(e: HandleEntry): void {
    this.#handles.delete(e);
    const obj = e.obj;
    if (obj instanceof VmoObject) {
      for (const w of obj.waiters) {
        if (w.handle === e.value) {
          obj.waiters.delete(w);
          w.reject(err(S.ErrCanceled, "zx_object_wait_one", "the handle was closed"));
        }
      }
      this.#maybeDestroyVmo(obj);
    }
    obj.onHandleClosed();
  }

  /** `zx_handle_duplicate`. */
  handleDuplicate(value: number, rights: number): number {
    const op = "zx_handle_duplicate";
    const e = this.#lookup(value, op);
    this.#need(e, Rights.Duplicate, op, "duplicate (ZX_RIGHT_DUPLICATE)");
    const r = this.#newRights(e, rights, op);
    return this.#handles.add(e.obj, r).value;
  }

  #newRights(e: HandleEntry, rights: number, op: string): number {
    if (rights === Rights.SameRights) return e.rights;
    if ((e.rights & rights) !== rights || rights > 0x7FFFFFFF) {
      throw err(
        S.ErrInvalidArgs,
        op,
        `rights 0x${rights.toString(16)} are not a subset of the handle's 0x${
          e.rights.toString(16)
        }`,
      );
    }
    return rights;
  }

  /** `zx_handle_replace`: the old handle is invalid afterwards, also on failure. */
  handleReplace(value: number, rights: number): number {
    const op = "zx_handle_replace";
    const e = this.#lookup(value, op);
    if (value === this.rootHandle) {
      throw err(
        S.ErrNotSupported,
        op,
        "the root VMAR handle is borrowed from the kernel; duplicate it instead",
      );
    }
    let r: number;
    try {
      r = this.#newRights(e, rights, op);
    } catch (x) {
      this.#dropHandle(e);
      throw x;
    }
    // Issue the new handle before dropping the old so the object stays alive.
    const n = this.#handles.add(e.obj, r).value;
    this.#dropHandle(e);
    return n;
  }

  /** `zx_object_get_info(ZX_INFO_HANDLE_BASIC)`. */
  basicInfo(value: number): BasicInfo {
    const e = this.#lookup(value, "zx_object_get_info");
    return { koid: e.obj.koid, rights: e.rights, type: e.obj.zxType, relatedKoid: 0 };
  }

  /** `zx_object_get_property(ZX_PROP_NAME)`. */
  getName(value: number): string {
    const op = "zx_object_get_property";
    const e = this.#lookup(value, op);
    this.#need(e, Rights.GetProperty, op, "get properties (ZX_RIGHT_GET_PROPERTY)");
    return e.obj instanceof VmoObject ? e.obj.name : "";
  }

  /** `zx_object_set_property(ZX_PROP_NAME)`: names longer than 31 bytes are truncated. */
  setName(value: number, name: string): void {
    const op = "zx_object_set_property";
    const e = this.#lookup(value, op);
    this.#need(e, Rights.SetProperty, op, "set properties (ZX_RIGHT_SET_PROPERTY)");
    if (!(e.obj instanceof VmoObject)) {
      throw err(S.ErrNotSupported, op, "only VMOs have a ZX_PROP_NAME in zxvm");
    }
    e.obj.name = truncateName(name);
  }

  /** Current signals of the handle's object (needs `Rights.Wait`). */
  signals(value: number, op = "zx_object_wait_one"): number {
    const e = this.#lookup(value, op);
    this.#need(e, Rights.Wait, op, "observe signals (ZX_RIGHT_WAIT)");
    return this.#signalsOf(e.obj);
  }

  #signalsOf(obj: KObject): number {
    if (obj instanceof VmoObject) return obj.liveChildren === 0 ? Signals.VmoZeroChildren : 0;
    return 0;
  }

  /**
   * `zx_object_wait_one`: resolves with the observed signals once any of `mask` is asserted;
   * rejects with `ErrTimedOut` at `deadline` (ms, `Date.now()` clock), `ErrCanceled` on abort
   * or when the handle is closed.
   */
  waitOne(value: number, mask: number, deadline: number, signal?: AbortSignal): Promise<number> {
    const op = "zx_object_wait_one";
    const e = this.#lookup(value, op);
    this.#need(e, Rights.Wait, op, "wait (ZX_RIGHT_WAIT)");
    const now = this.#signalsOf(e.obj);
    if ((now & mask) !== 0) return Promise.resolve(now);
    if (signal?.aborted) {
      return Promise.reject(err(S.ErrCanceled, op, "the wait was aborted"));
    }
    if (deadline <= Date.now()) {
      return Promise.reject(err(S.ErrTimedOut, op, "the deadline passed"));
    }
    const obj = e.obj;
    if (!(obj instanceof VmoObject)) {
      // VMARs never assert a signal in zxvm: only the deadline or an abort can end the wait.
      return new Promise((resolve, reject) => {
        this.#armWait({ handle: value, mask, resolve, reject }, deadline, signal, null);
      });
    }
    return new Promise((resolve, reject) => {
      this.#armWait({ handle: value, mask, resolve, reject }, deadline, signal, obj);
    });
  }

  #armWait(
    w: Waiter,
    deadline: number,
    signal: AbortSignal | undefined,
    obj: VmoObject | null,
  ): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      obj?.waiters.delete(waiter);
    };
    const waiter: Waiter = {
      handle: w.handle,
      mask: w.mask,
      resolve: (s) => {
        cleanup();
        w.resolve(s);
      },
      reject: (x) => {
        cleanup();
        w.reject(x);
      },
    };
    const onAbort = (): void =>
      waiter.reject(err(S.ErrCanceled, "zx_object_wait_one", "the wait was aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (Number.isFinite(deadline)) {
      // Timers hold at most 2^31 - 1 ms (about 24.8 days): re-arm until the deadline is real.
      const arm = (): void => {
        const left = deadline - Date.now();
        if (left <= 0) {
          waiter.reject(err(S.ErrTimedOut, "zx_object_wait_one", "the deadline passed"));
          return;
        }
        timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
      };
      arm();
    }
    obj?.waiters.add(waiter);
  }

  #notify(vmo: VmoObject): void {
    if (vmo.waiters.size === 0) return;
    const s = this.#signalsOf(vmo);
    for (const w of [...vmo.waiters]) if ((s & w.mask) !== 0) w.resolve(s);
  }

  // ---------------------------------------------------------------- VMOs

  /** `zx_vmo_create`. */
  vmoCreate(size: number, options: number): number {
    const op = "zx_vmo_create";
    if ((options & ~(VmoOptions.Resizable | VmoOptions.Discardable)) !== 0) {
      throw err(S.ErrInvalidArgs, op, `unknown options 0x${options.toString(16)}`);
    }
    const vmo = this.#newVmo(size, options, op);
    return this.#handles.add(vmo, this.#vmoRights(vmo)).value;
  }

  #vmoRights(vmo: VmoObject): number {
    return Rights.DefaultVmo | (vmo.resizable ? Rights.Resize : 0);
  }

  #checkSize(size: number, op: string): number {
    const rounded = roundUp(size, this.pageSize);
    if (rounded >= TWO_64) throw err(S.ErrOutOfRange, op, "size overflows when page rounded");
    if (rounded > this.maxVmoSize) {
      throw err(
        S.ErrOutOfRange,
        op,
        `size ${size} exceeds zxvm's largest VMO (${this.maxVmoSize} bytes)`,
      );
    }
    return rounded;
  }

  #newVmo(size: number, options: number, op: string): VmoObject {
    const rounded = this.#checkSize(size, op);
    const mem = this.#createMemory(rounded, op);
    return new VmoObject(this.#koid(), {
      mem,
      memOffset: 0,
      ownsMem: true,
      size: rounded,
      contentSize: size,
      resizable: (options & VmoOptions.Resizable) !== 0,
      discardable: (options & VmoOptions.Discardable) !== 0,
      isSlice: false,
      isCowClone: false,
      immutable: false,
      parent: null,
    });
  }

  #createMemory(size: number, op: string): Memory {
    let mem: Memory;
    try {
      mem = this.backend.createMemory(size);
    } catch (x) {
      if (x instanceof ZxError) throw new ZxError(x.status, op, x.reason);
      throw err(S.ErrNoMemory, op, `the backend could not create memory: ${x}`);
    }
    this.#memories.add(mem);
    return mem;
  }

  #maybeDestroyVmo(vmo: VmoObject): void {
    if (
      !vmo.alive || vmo.handleCount > 0 || vmo.records.size > 0 || vmo.liveChildren > 0 ||
      vmo.pins > 0
    ) return;
    vmo.alive = false;
    if (vmo.ownsMem) {
      this.#memories.delete(vmo.mem);
      vmo.mem.close();
    }
    const p = vmo.parent;
    if (p !== null) {
      p.liveChildren--;
      if (vmo.isCowClone) p.liveSnapshotChildren--;
      this.#notify(p);
      this.#maybeDestroyVmo(p);
    }
  }

  /** `zx_vmo_read` into `dst`. */
  vmoRead(value: number, dst: Uint8Array, offset: number): void {
    const op = "zx_vmo_read";
    const [e, vmo] = this.#vmo(value, op);
    if ((e.rights & Rights.Read) === 0) {
      throw err(S.ErrAccessDenied, op, "handle lacks ZX_RIGHT_READ");
    }
    const n = dst.length;
    if (offset + n > vmo.size) {
      throw err(S.ErrOutOfRange, op, `range [${offset}, +${n}) exceeds the VMO size ${vmo.size}`);
    }
    if (n !== 0) vmo.mem.read(vmo.memOffset + offset, dst);
  }

  /** `zx_vmo_read` of `length` bytes into a new array (checked before allocating). */
  vmoReadNew(value: number, length: number, offset: number): Uint8Array {
    const op = "zx_vmo_read";
    const [e, vmo] = this.#vmo(value, op);
    if ((e.rights & Rights.Read) === 0) {
      throw err(S.ErrAccessDenied, op, "handle lacks ZX_RIGHT_READ");
    }
    if (offset + length > vmo.size) {
      throw err(
        S.ErrOutOfRange,
        op,
        `range [${offset}, +${length}) exceeds the VMO size ${vmo.size}`,
      );
    }
    let out: Uint8Array;
    try {
      out = new Uint8Array(length);
    } catch (x) {
      throw err(S.ErrNoMemory, op, `cannot allocate ${length} bytes: ${x}`);
    }
    if (length !== 0) vmo.mem.read(vmo.memOffset + offset, out);
    return out;
  }

  /** `zx_vmo_write` from `src`. */
  vmoWrite(value: number, src: Uint8Array, offset: number): void {
    const op = "zx_vmo_write";
    const [e, vmo] = this.#vmo(value, op);
    if ((e.rights & Rights.Write) === 0) {
      throw err(S.ErrAccessDenied, op, "handle lacks ZX_RIGHT_WRITE");
    }
    const n = src.length;
    if (offset + n > vmo.size) {
      throw err(S.ErrOutOfRange, op, `range [${offset}, +${n}) exceeds the VMO size ${vmo.size}`);
    }
    if (n !== 0) vmo.mem.write(vmo.memOffset + offset, src);
  }

  /** `zx_vmo_get_size` (no right needed). */
  vmoGetSize(value: number): number {
    return this.#vmo(value, "zx_vmo_get_size")[1].size;
  }

  /** `zx_vmo_set_size`. */
  vmoSetSize(value: number, size: number): void {
    const op = "zx_vmo_set_size";
    const [e, vmo] = this.#vmo(value, op);
    this.#need(e, Rights.Write, op, "write (ZX_RIGHT_WRITE)");
    if (vmo.resizable) this.#need(e, Rights.Resize, op, "resize (ZX_RIGHT_RESIZE)");
    else throw err(S.ErrUnavailable, op, "the VMO is not resizable");
    const rounded = this.#checkSize(size, op);
    if (rounded < vmo.size) {
      // Memory an escaped view may reach must not be cut off under it (SIGBUS).
      for (const r of vmo.records) {
        const part = this.#escapedPart(r, r.start, r.end);
        if (part !== null && r.vmoOffset + (part[1] - r.start) > rounded) {
          throw err(S.ErrBadState, op, escapedWhy("cut off by shrinking the VMO"));
        }
      }
      // Views over memory that is about to go away are detached first (native safety).
      for (const r of vmo.records) this.#dropView(r.origin);
    }
    try {
      if (rounded !== vmo.size) vmo.mem.resize(rounded);
    } catch (x) {
      if (x instanceof ZxError) throw new ZxError(x.status, op, x.reason);
      throw err(S.ErrNoMemory, op, `the backend could not resize: ${x}`);
    }
    // Bytes between the new size and its page end read as zero (Zircon zeroes them).
    if (size < rounded && rounded <= vmo.size) {
      vmo.mem.zero(vmo.memOffset + size, rounded - size);
    }
    vmo.size = rounded;
    vmo.contentSize = size;
  }

  /** `zx_object_get_property(ZX_PROP_VMO_CONTENT_SIZE)`. */
  vmoGetContentSize(value: number): number {
    const op = "zx_object_get_property";
    const [e, vmo] = this.#vmo(value, op);
    this.#need(e, Rights.GetProperty, op, "get properties (ZX_RIGHT_GET_PROPERTY)");
    return vmo.contentSize;
  }

  /** `zx_object_set_property(ZX_PROP_VMO_CONTENT_SIZE)`. */
  vmoSetContentSize(value: number, size: number): void {
    const op = "zx_object_set_property";
    const [e, vmo] = this.#vmo(value, op);
    this.#need(e, Rights.SetProperty, op, "set properties (ZX_RIGHT_SET_PROPERTY)");
    vmo.contentSize = size;
  }

  /**
   * Zircon decommits only VMOs made by `zx_vmo_create` that have no non-slice (snapshot)
   * children, and slices of such VMOs: anything in a copy-on-write hierarchy is NOT_SUPPORTED
   * (`zx_vmo_op_range` docs; the kernel answers before it looks at alignment or range).
   */
  #checkDecommit(vmo: VmoObject, op: string): void {
    let root = vmo;
    while (root.isSlice && root.parent !== null) root = root.parent;
    if (root.isCowClone) {
      throw err(S.ErrNotSupported, op, "decommit is not supported on snapshot children");
    }
    if (root.liveSnapshotChildren > 0) {
      throw err(S.ErrNotSupported, op, "decommit is not supported on a VMO with snapshot children");
    }
  }

  /** `zx_vmo_op_range`. */
  vmoOpRange(value: number, opcode: number, offset: number, size: number): void {
    const op = "zx_vmo_op_range";
    const [e, vmo] = this.#vmo(value, op);
    const end = offset + size;
    const outOfRange = (): ZxError =>
      err(S.ErrOutOfRange, op, `range [${offset}, +${size}) exceeds the VMO size ${vmo.size}`);
    const P = this.pageSize;
    switch (opcode) {
      case VmoOp.Commit: {
        this.#need(e, Rights.Write, op, "commit (ZX_RIGHT_WRITE)");
        if (end > vmo.size || end >= TWO_64) throw outOfRange();
        const s = offset - (offset % P);
        const l = roundUp(end, P) - s;
        if (l > 0) vmo.mem.commit(vmo.memOffset + s, l);
        return;
      }
      case VmoOp.Decommit: {
        this.#need(e, Rights.Write, op, "decommit (ZX_RIGHT_WRITE)");
        this.#checkDecommit(vmo, op);
        if (!isAligned(offset, P) || !isAligned(size, P)) {
          throw err(S.ErrInvalidArgs, op, "decommit needs a page-aligned offset and size");
        }
        if (end > vmo.size || end >= TWO_64) throw outOfRange();
        if (size > 0) vmo.mem.decommit(vmo.memOffset + offset, size);
        return;
      }
      case VmoOp.Zero: {
        this.#need(e, Rights.Write, op, "zero (ZX_RIGHT_WRITE)");
        if (end > vmo.size || end >= TWO_64) throw outOfRange();
        if (size > 0) vmo.mem.zero(vmo.memOffset + offset, size);
        return;
      }
      case VmoOp.Lock:
      case VmoOp.TryLock:
      case VmoOp.Unlock: {
        if ((e.rights & (Rights.Read | Rights.Write)) === 0) {
          throw err(S.ErrAccessDenied, op, "lock ops need ZX_RIGHT_READ or ZX_RIGHT_WRITE");
        }
        if (!vmo.discardable) {
          throw err(S.ErrNotSupported, op, "lock ops need a discardable VMO");
        }
        if (offset !== 0 || size !== vmo.size) {
          throw err(S.ErrOutOfRange, op, "lock ops must cover the whole VMO");
        }
        if (opcode === VmoOp.Unlock) {
          if (vmo.lockCount === 0) throw err(S.ErrBadState, op, "the VMO is not locked");
          vmo.lockCount--;
        } else {
          vmo.lockCount++; // zxvm never discards pages, so TRY_LOCK always succeeds
        }
        return;
      }
      case VmoOp.CacheSync:
      case VmoOp.CacheClean:
      case VmoOp.CacheCleanInvalidate: {
        this.#need(e, Rights.Read, op, "cache ops (ZX_RIGHT_READ)");
        if (size === 0) throw err(S.ErrInvalidArgs, op, "cache ops need a non-empty range");
        if (end > vmo.size || end >= TWO_64) throw outOfRange();
        return; // coherent memory: nothing to do
      }
      case VmoOp.CacheInvalidate:
        throw err(
          S.ErrNotSupported,
          op,
          "CACHE_INVALIDATE needs kernel debugging syscalls, which zxvm does not enable",
        );
      case VmoOp.Prefetch:
        this.#need(e, Rights.Read, op, "prefetch (ZX_RIGHT_READ)");
        if (end > vmo.size || end >= TWO_64) throw outOfRange();
        return; // nothing to fetch: zxvm's VMOs have no pager
      case VmoOp.DontNeed:
      case VmoOp.AlwaysNeed: {
        if (end > vmo.size || end >= TWO_64) throw outOfRange();
        return; // hints (no right needed)
      }
      default:
        throw err(S.ErrInvalidArgs, op, `unknown operation ${opcode}`);
    }
  }

  /** `zx_vmo_create_child`. */
  vmoCreateChild(value: number, options: number, offset: number, size: number): number {
    const op = "zx_vmo_create_child";
    const C = VmoChildOptions;
    if ((options & C.NoWrite) !== 0 && (options & C.Resizable) !== 0) {
      throw err(S.ErrInvalidArgs, op, "NO_WRITE and RESIZABLE cannot be combined");
    }
    const [e, parent] = this.#vmo(value, op);
    this.#need(e, Rights.Duplicate | Rights.Read, op, "create children (DUPLICATE and READ)");
    if (parent.discardable) {
      throw err(S.ErrNotSupported, op, "discardable VMOs cannot have children");
    }
    let rest = options & ~C.NoWrite;
    let kind: "slice" | "snapshot" | "reference";
    if (rest & C.Slice) {
      kind = "slice";
      rest &= ~C.Slice;
    } else if (rest & C.Reference) {
      kind = "reference";
      rest &= ~(C.Reference | C.Resizable);
    } else if (rest & C.Snapshot) {
      kind = "snapshot";
      rest &= ~C.Snapshot;
    } else if (rest & C.SnapshotAtLeastOnWrite) {
      kind = "snapshot";
      rest &= ~C.SnapshotAtLeastOnWrite;
    } else if (rest & C.SnapshotModified) {
      kind = "snapshot";
      rest &= ~C.SnapshotModified;
    } else {
      throw err(S.ErrInvalidArgs, op, "exactly one child type (SNAPSHOT*, SLICE) is needed");
    }
    if (kind === "snapshot") rest &= ~C.Resizable;
    if (rest !== 0) {
      throw err(S.ErrInvalidArgs, op, `options 0x${options.toString(16)} do not combine`);
    }
    if (kind === "reference") {
      throw err(
        S.ErrNotSupported,
        op,
        "ZX_VMO_CHILD_REFERENCE is not implemented by zxvm (see README)",
      );
    }
    // Zircon checks the offset's alignment before it rounds the size (CreateChildSlice,
    // CreateClone).
    if (!isAligned(offset, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "offset must be page aligned");
    }
    const rounded = this.#checkSize(size, op);
    const resizable = (options & C.Resizable) !== 0;
    let child: VmoObject;
    if (kind === "slice") {
      if (offset > parent.size || rounded > parent.size - offset) {
        throw err(S.ErrInvalidArgs, op, "a slice must lie within its parent");
      }
      if (parent.resizable) {
        throw err(S.ErrNotSupported, op, "slices of resizable VMOs are not supported");
      }
      child = new VmoObject(this.#koid(), {
        mem: parent.mem,
        memOffset: parent.memOffset + offset,
        ownsMem: false,
        size: rounded,
        contentSize: size,
        resizable: false,
        discardable: false,
        isSlice: true,
        isCowClone: false,
        immutable: false,
        parent,
      });
    } else {
      if (offset + rounded >= TWO_64) {
        throw err(S.ErrOutOfRange, op, "offset + size overflows");
      }
      const mem = this.#createMemory(rounded, op);
      const copyLen = Math.min(rounded, Math.max(0, parent.size - offset));
      try {
        if (copyLen > 0) mem.copyFrom(parent.mem, parent.memOffset + offset, 0, copyLen);
      } catch (x) {
        this.#memories.delete(mem);
        mem.close();
        if (x instanceof ZxError) throw new ZxError(x.status, op, x.reason);
        throw err(S.ErrNoMemory, op, `snapshot copy failed: ${x}`);
      }
      child = new VmoObject(this.#koid(), {
        mem,
        memOffset: 0,
        ownsMem: true,
        size: rounded,
        contentSize: size,
        resizable,
        discardable: false,
        isSlice: false,
        isCowClone: true,
        // ZX_INFO_VMO_IMMUTABLE: only SNAPSHOT | NO_WRITE (not the AT_LEAST_ON_WRITE kinds).
        immutable: (options & C.NoWrite) !== 0 && (options & C.Snapshot) !== 0,
        parent,
      });
    }
    let rights = (e.rights & ~Rights.Resize) | (resizable ? Rights.Resize : 0) |
      Rights.GetProperty | Rights.SetProperty;
    if (options & C.NoWrite) rights &= ~Rights.Write;
    else if (kind === "snapshot") rights = (rights & ~Rights.Execute) | Rights.Write;
    parent.liveChildren++;
    if (kind === "snapshot") parent.liveSnapshotChildren++;
    this.#notify(parent);
    return this.#handles.add(child, rights).value;
  }

  /** `zx_object_get_info(ZX_INFO_VMO)`. */
  vmoInfo(value: number): VmoInfo {
    const [e, vmo] = this.#vmo(value, "zx_object_get_info");
    const F = VmoInfoFlags;
    const flags = F.TypePaged | F.ViaHandle | (vmo.resizable ? F.Resizable : 0) |
      (vmo.discardable ? F.Discardable : 0) | (vmo.isCowClone ? F.IsCowClone : 0) |
      (vmo.immutable ? F.Immutable : 0);
    return {
      koid: vmo.koid,
      name: vmo.name,
      size: vmo.size,
      parentKoid: vmo.parent?.koid ?? 0,
      numChildren: vmo.liveChildren,
      numMappings: vmo.records.size,
      shareCount: vmo.records.size > 0 ? 1 : 0,
      flags,
      committedBytes: vmo.isSlice ? 0 : vmo.mem.committedBytes(),
      handleRights: e.rights,
    };
  }

  // ---------------------------------------------------------------- VMARs

  /** `zx_object_get_info(ZX_INFO_VMAR)`: base and length (no destroyed check, as Zircon). */
  vmarInfo(value: number): { base: number; len: number } {
    const op = "zx_object_get_info";
    const [e, vmar] = this.#vmar(value, op);
    this.#need(e, Rights.Inspect, op, "read ZX_INFO_VMAR (ZX_RIGHT_INSPECT)");
    return { base: vmar.base, len: vmar.len };
  }

  /** Whether the VMAR behind `value` has been destroyed. */
  vmarDestroyed(value: number): boolean {
    return this.#vmar(value, "zx_object_get_info")[1].destroyed;
  }

  #alignOf(options: number, op: string): number {
    const a = (options & ALIGN_MASK) >>> 24;
    if (a === 0) return this.pageSize;
    if (a < 10 || a > 32) throw err(S.ErrInvalidArgs, op, `invalid alignment field ${a}`);
    return Math.max(2 ** a, this.pageSize);
  }

  /**
   * Find or check the place of a new child of `vmar` (Zircon's CreateSubVmarInternal checks,
   * from "destroyed" on). Returns the absolute start address.
   */
  #place(
    vmar: VmarObject,
    options: number,
    offset: number,
    size: number,
    align: number,
    childCanMap: number,
    op: string,
    overwrite: boolean,
  ): number {
    const specific = (options & (O.VmSpecific | O.VmSpecificOverwrite)) !== 0;
    const upper = (options & O.VmOffsetIsUpperLimit) !== 0;
    if (vmar.destroyed) throw err(S.ErrBadState, op, "the VMAR was destroyed");
    if (size === 0) throw err(S.ErrInvalidArgs, op, "size must not be 0");
    if ((childCanMap & ~vmar.flags & CAN_MAP_RWX) !== 0) {
      throw err(
        S.ErrAccessDenied,
        op,
        `the VMAR does not allow ${permName(childCanMap >>> 7)} (its CAN_MAP flags are ${
          permName((vmar.flags & CAN_MAP_RWX) >>> 7)
        })`,
      );
    }
    if (specific && upper) {
      throw err(S.ErrInvalidArgs, op, "SPECIFIC and OFFSET_IS_UPPER_LIMIT cannot be combined");
    }
    if (offset !== 0 && !specific && !upper) {
      throw err(
        S.ErrInvalidArgs,
        op,
        "vmar_offset must be 0 unless SPECIFIC, SPECIFIC_OVERWRITE or OFFSET_IS_UPPER_LIMIT is given",
      );
    }
    if (!isAligned(offset, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "vmar_offset must be page aligned");
    }
    if ((specific || upper) && (vmar.flags & O.VmCanMapSpecific) === 0) {
      throw err(S.ErrAccessDenied, op, "the VMAR was not created with CAN_MAP_SPECIFIC");
    }
    if (upper) {
      if (offset > vmar.len || size > vmar.len || size > offset) {
        throw err(S.ErrInvalidArgs, op, "the range does not fit below the upper limit");
      }
    } else if (offset >= vmar.len || size > vmar.len - offset) {
      throw err(S.ErrInvalidArgs, op, "the range does not fit in the VMAR");
    }
    if (specific) {
      const addr = vmar.base + offset;
      if (!isAligned(addr, align)) {
        throw err(S.ErrInvalidArgs, op, `address 0x${addr.toString(16)} is not aligned`);
      }
      if (!vmar.free.isFree(addr, addr + size)) {
        if (!overwrite) {
          throw err(S.ErrAlreadyExists, op, "the range overlaps an existing mapping or VMAR");
        }
        for (const c of vmar.children.overlapping(addr, addr + size)) {
          if (c instanceof RetiredRange) {
            throw err(S.ErrBadState, op, RETIRED_WHY);
          }
          if (c instanceof VmarObject) {
            throw err(S.ErrInvalidArgs, op, "SPECIFIC_OVERWRITE may not overlap a sub-VMAR");
          }
        }
      }
      return addr;
    }
    const limit = upper ? vmar.base + offset : vmar.end;
    const lo = vmar.base;
    let p = -1;
    if ((vmar.flags & O.VmCompact) !== 0) {
      p = vmar.free.firstFit(lo, size, align, this.pageSize, limit);
    } else {
      const span = limit - lo - size;
      const from = lo + Math.floor(this.#prng.below(span / this.pageSize + 1)) * this.pageSize;
      p = vmar.free.firstFit(from, size, align, this.pageSize, limit);
      if (p < 0) p = vmar.free.firstFit(lo, size, align, this.pageSize, limit);
    }
    if (p < 0) throw err(S.ErrNoResources, op, "no free range of that size in the VMAR");
    return p;
  }

  /** `zx_vmar_allocate`: returns the new VMAR's handle and base. */
  vmarAllocate(
    value: number,
    options: number,
    offset: number,
    size: number,
  ): { handle: number; base: number } {
    const op = "zx_vmar_allocate";
    const [e, parent] = this.#vmar(value, op);
    const wantR = (options & O.VmCanMapRead) !== 0;
    const wantW = (options & O.VmCanMapWrite) !== 0;
    const wantX = (options & O.VmCanMapExecute) !== 0;
    if (
      (wantR && !(e.rights & Rights.Read)) || (wantW && !(e.rights & Rights.Write)) ||
      (wantX && !(e.rights & Rights.Execute))
    ) {
      throw err(S.ErrAccessDenied, op, "the VMAR handle lacks the rights for the CAN_MAP flags");
    }
    if ((options & ~ALIGN_MASK & ~KNOWN_FLAGS) !== 0) {
      throw err(S.ErrInvalidArgs, op, `unknown options 0x${options.toString(16)}`);
    }
    const align = this.#alignOf(options, op);
    if ((options & PERM_RWX) !== 0) {
      throw err(S.ErrInvalidArgs, op, "PERM_* flags are not valid for allocate");
    }
    if (!isAligned(size, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "size must be page aligned");
    }
    if ((options & ~ALIGN_MASK & ~ALLOCATE_FLAGS) !== 0) {
      throw err(S.ErrInvalidArgs, op, `options 0x${options.toString(16)} are not valid here`);
    }
    const canMap = options & CAN_MAP_RWX;
    const addr = this.#place(parent, options, offset, size, align, canMap, op, false);
    const child = new VmarObject(
      this.#koid(),
      addr,
      size,
      options & (CAN_MAP_RWX | O.VmCanMapSpecific | O.VmCompact),
      parent,
    );
    parent.children.insert(child);
    parent.free.take(addr, addr + size);
    const rights = Rights.DefaultVmar | (wantR ? Rights.Read : 0) | (wantW ? Rights.Write : 0) |
      (wantX ? Rights.Execute : 0);
    return { handle: this.#handles.add(child, rights).value, base: addr };
  }

  /** `zx_vmar_map`: returns the new mapping's origin (its `addr` is the mapped address). */
  vmarMap(
    value: number,
    options: number,
    vmarOffset: number,
    vmoValue: number,
    vmoOffset: number,
    len: number,
  ): MappingOrigin {
    const op = "zx_vmar_map";
    const [ve, vmar] = this.#vmar(value, op);
    const [me, vmo] = this.#vmo(vmoValue, op);
    if ((me.rights & Rights.Map) === 0) {
      throw err(S.ErrAccessDenied, op, "the VMO handle lacks ZX_RIGHT_MAP");
    }
    let opts = options;
    if (opts & O.VmPermReadIfXomUnsupported) opts |= O.VmPermRead; // no execute-only here
    if ((opts & (O.VmPermWrite | O.VmPermExecute)) !== 0 && (opts & O.VmPermRead) === 0) {
      throw err(S.ErrInvalidArgs, op, "PERM_WRITE and PERM_EXECUTE need PERM_READ");
    }
    if ((opts & O.VmMapRange) && (opts & O.VmSpecificOverwrite)) {
      throw err(S.ErrInvalidArgs, op, "MAP_RANGE cannot be combined with SPECIFIC_OVERWRITE");
    }
    if ((opts & (CAN_MAP_RWX | O.VmCanMapSpecific)) !== 0) {
      throw err(S.ErrInvalidArgs, op, "CAN_MAP_* flags are not valid for map");
    }
    const canR = (me.rights & Rights.Read) !== 0 && (ve.rights & Rights.Read) !== 0;
    const canW = (me.rights & Rights.Write) !== 0 && (ve.rights & Rights.Write) !== 0;
    const canX = (me.rights & Rights.Execute) !== 0 && (ve.rights & Rights.Execute) !== 0;
    if (
      ((opts & O.VmPermRead) && !canR) || ((opts & O.VmPermWrite) && !canW) ||
      ((opts & O.VmPermExecute) && !canX)
    ) {
      throw err(
        S.ErrAccessDenied,
        op,
        `the VMO and VMAR handles do not both allow ${permName(opts & PERM_RWX)}`,
      );
    }
    if ((opts & ~ALIGN_MASK & ~KNOWN_FLAGS) !== 0 || (opts & ~ALIGN_MASK & ~MAP_FLAGS) !== 0) {
      throw err(S.ErrInvalidArgs, op, `invalid options 0x${options.toString(16)}`);
    }
    const align = this.#alignOf(opts, op);
    if ((opts & O.VmRequireNonResizable) && vmo.resizable) {
      throw err(S.ErrNotSupported, op, "the VMO is resizable and REQUIRE_NON_RESIZABLE was given");
    }
    if (!(opts & O.VmAllowFaults) && vmo.discardable) {
      throw err(S.ErrNotSupported, op, "discardable VMOs need ALLOW_FAULTS to be mapped");
    }
    if (!isAligned(vmoOffset, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "vmo_offset must be page aligned");
    }
    const size = roundUp(len, this.pageSize);
    if (size >= TWO_64 || vmoOffset + size >= TWO_64) {
      throw err(S.ErrOutOfRange, op, "vmo_offset + ROUNDUP(len) overflows");
    }
    const maxPerms = (canR ? O.VmPermRead : 0) | (canW ? O.VmPermWrite : 0) |
      (canX ? O.VmPermExecute : 0);
    const overwrite = (opts & O.VmSpecificOverwrite) !== 0;
    const addr = this.#place(
      vmar,
      opts,
      vmarOffset,
      size,
      align,
      maxPerms << 7,
      op,
      overwrite,
    );
    // All checks passed: from here on only resource failures can happen.
    const perms = opts & PERM_RWX;
    const end = addr + size;
    // SPECIFIC_OVERWRITE: the mappings being replaced stay in the books until the new one is
    // in place, so a backend failure can put them back (a failed call changes nothing). Their
    // views go first: the memory under them is about to change.
    const replaced: MappingRecord[] = [];
    if (overwrite) {
      for (const c of vmar.children.overlapping(addr, end)) {
        if (c instanceof MappingRecord) {
          if (this.#escapedPart(c, addr, end) !== null) {
            throw err(S.ErrBadState, op, escapedWhy("replaced"));
          }
          replaced.push(c);
        }
      }
      for (const c of replaced) this.#dropView(c.origin);
    }
    try {
      this.aspace.map(
        addr,
        vmo.mem,
        vmo.memOffset + vmoOffset,
        size,
        perms,
        (opts & O.VmMapRange) !== 0,
      );
    } catch (x) {
      if (replaced.length > 0) this.#restoreReplaced(vmar, replaced, addr, end);
      if (x instanceof ZxError) throw new ZxError(x.status, op, x.reason);
      throw err(S.ErrNoMemory, op, `the backend could not map: ${x}`);
    }
    // The new mapping replaced the old ones in memory: retire their records (no backend unmap).
    if (replaced.length > 0) this.#unmapRange(vmar, addr, end, false);
    const origin = new MappingOrigin(addr, size, options, vmo, vmoOffset, vmar);
    const rec = new MappingRecord(
      addr,
      addr + size,
      vmo,
      vmoOffset,
      perms,
      maxPerms,
      vmar,
      origin,
    );
    this.#addRecord(rec);
    return origin;
  }

  #addRecord(rec: MappingRecord): void {
    rec.parent.children.insert(rec);
    rec.parent.free.take(rec.start, rec.end);
    rec.vmo.records.add(rec);
    rec.origin.pieces.push(rec);
  }

  #removeRecord(rec: MappingRecord): void {
    rec.parent.children.remove(rec);
    rec.parent.free.give(rec.start, rec.end);
    rec.vmo.records.delete(rec);
    dropPiece(rec.origin.pieces, rec);
    this.#maybeDestroyVmo(rec.vmo);
  }

  #dropView(origin: MappingOrigin): void {
    this.#refreshEscape(origin);
    if (origin.view !== null) {
      this.backend.detach(origin.view);
      origin.view = null;
    }
  }

  /** Notice a view that someone else detached (transferred away): its range escaped. */
  #refreshEscape(origin: MappingOrigin): void {
    const v = origin.view;
    if (v !== null && this.backend.escaped(v)) {
      origin.escapedEnd = Math.max(origin.escapedEnd, origin.addr + origin.viewLen);
      origin.view = null;
    }
  }

  /** The part of `[s, e)` (inside record `rec`) that an escaped view may reach, or null. */
  #escapedPart(rec: MappingRecord, s: number, e: number): [number, number] | null {
    const o = rec.origin;
    this.#refreshEscape(o);
    const lo = Math.max(s, rec.start, o.addr);
    const hi = Math.min(e, rec.end, o.escapedEnd);
    return lo < hi ? [lo, hi] : null;
  }

  /**
   * Take `[s, e)` of record `rec` out of memory: unmapped, except the part an escaped view may
   * reach, which is retired (kept as private zero pages for good) and noted in `retired` so the
   * caller can occupy it in the VMAR tree once the record is gone.
   */
  #release(
    rec: MappingRecord,
    s: number,
    e: number,
    retired: Array<[VmarObject, number, number]>,
  ): void {
    const part = this.#escapedPart(rec, s, e);
    if (part === null) {
      this.aspace.unmap(s, e - s);
      return;
    }
    const [lo, hi] = part;
    if (s < lo) this.aspace.unmap(s, lo - s);
    if (hi < e) this.aspace.unmap(hi, e - hi);
    this.aspace.retire(lo, hi - lo);
    retired.push([rec.parent, lo, hi]);
  }

  /** Occupy retired ranges in their VMARs (after the records that held them are gone). */
  #occupyRetired(retired: Array<[VmarObject, number, number]>): void {
    for (const [v, lo, hi] of retired) {
      v.children.insert(new RetiredRange(lo, hi, v));
      v.free.take(lo, hi);
    }
  }

  /**
   * Unmap every mapping of `vmar`'s direct children intersecting `[lo, hi)` (splitting partial
   * ones) and destroy sub-VMARs inside it. Callers have checked that sub-VMARs are fully
   * covered and allowed to go.
   */
  #unmapRange(vmar: VmarObject, lo: number, hi: number, backend = true): void {
    const retired: Array<[VmarObject, number, number]> = [];
    for (const c of vmar.children.overlapping(lo, hi)) {
      if (c instanceof RetiredRange) continue; // out of use for good
      if (c instanceof VmarObject) {
        this.#destroyVmar(c);
        continue;
      }
      this.#dropView(c.origin);
      const s = Math.max(c.start, lo);
      const e = Math.min(c.end, hi);
      if (backend) this.#release(c, s, e, retired);
      const { start, end, vmoOffset, vmo } = c;
      vmo.pins++; // keep the VMO alive while the surviving parts are re-added
      try {
        this.#removeRecord(c);
        if (start < s) this.#readdPiece(c, start, s, vmoOffset);
        if (e < end) this.#readdPiece(c, e, end, vmoOffset + (e - start));
      } finally {
        vmo.pins--;
      }
      this.#maybeDestroyVmo(vmo);
    }
    this.#occupyRetired(retired);
  }

  /**
   * After a failed SPECIFIC_OVERWRITE map: the backend may have taken the old mappings down
   * (a failed `MAP_FIXED` does), so map their parts inside `[lo, hi)` again. If even that
   * fails, the books follow the memory: those mappings are unmapped.
   */
  #restoreReplaced(vmar: VmarObject, replaced: MappingRecord[], lo: number, hi: number): void {
    try {
      for (const r of replaced) {
        const s = Math.max(r.start, lo);
        const e = Math.min(r.end, hi);
        const off = r.vmo.memOffset + r.vmoOffset + (s - r.start);
        this.aspace.map(s, r.vmo.mem, off, e - s, r.perms, false);
      }
    } catch {
      this.#unmapRange(vmar, lo, hi);
    }
  }

  #readdPiece(c: MappingRecord, start: number, end: number, vmoOffset: number): void {
    this.#addRecord(
      new MappingRecord(start, end, c.vmo, vmoOffset, c.perms, c.maxPerms, c.parent, c.origin),
    );
  }

  /** `zx_vmar_unmap`. */
  vmarUnmap(value: number, addr: number, len: number): void {
    const op = "zx_vmar_unmap";
    const [e, vmar] = this.#vmar(value, op);
    if (!isAligned(addr, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "addr must be page aligned");
    }
    const size = roundUp(len, this.pageSize);
    if (size === 0 || size >= TWO_64) throw err(S.ErrInvalidArgs, op, "len must not be 0");
    if (vmar.destroyed) throw err(S.ErrBadState, op, "the VMAR was destroyed");
    const end = addr + size;
    if (addr < vmar.base || end > vmar.end) {
      throw err(S.ErrInvalidArgs, op, "the range is not within the VMAR");
    }
    const opChildren = (e.rights & Rights.OpChildren) !== 0;
    for (const c of vmar.children.overlapping(addr, end)) {
      if (!(c instanceof VmarObject) || c instanceof RetiredRange) continue;
      if (c.start < addr || c.end > end) {
        throw err(S.ErrInvalidArgs, op, "the range partially covers a sub-VMAR");
      }
      if (!opChildren) {
        throw err(S.ErrInvalidArgs, op, "unmapping a sub-VMAR needs ZX_RIGHT_OP_CHILDREN");
      }
    }
    this.#unmapRange(vmar, addr, end);
  }

  /** Unmap every piece of one map call (`Mapping.unmap()`); never touches other mappings. */
  unmapOrigin(origin: MappingOrigin): void {
    this.#dropView(origin);
    const retired: Array<[VmarObject, number, number]> = [];
    for (const rec of [...origin.pieces]) {
      this.#release(rec, rec.start, rec.end, retired);
      this.#removeRecord(rec);
    }
    this.#occupyRetired(retired);
  }

  /** `zx_vmar_protect`. */
  vmarProtect(value: number, options: number, addr: number, len: number): void {
    const op = "zx_vmar_protect";
    const [e, vmar] = this.#vmar(value, op);
    let opts = options;
    if (opts & O.VmPermReadIfXomUnsupported) {
      opts = (opts | O.VmPermRead) & ~O.VmPermReadIfXomUnsupported;
    }
    if (
      ((opts & O.VmPermRead) && !(e.rights & Rights.Read)) ||
      ((opts & O.VmPermWrite) && !(e.rights & Rights.Write)) ||
      ((opts & O.VmPermExecute) && !(e.rights & Rights.Execute))
    ) {
      throw err(S.ErrAccessDenied, op, `the VMAR handle does not allow ${permName(opts & 7)}`);
    }
    if ((opts & (O.VmPermWrite | O.VmPermExecute)) !== 0 && (opts & O.VmPermRead) === 0) {
      throw err(S.ErrInvalidArgs, op, "PERM_WRITE and PERM_EXECUTE need PERM_READ");
    }
    if (!isAligned(addr, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "addr must be page aligned");
    }
    if ((opts & ~PERM_RWX) !== 0) {
      throw err(S.ErrInvalidArgs, op, "protect takes only PERM_* flags");
    }
    const size = roundUp(len, this.pageSize);
    if (size === 0 || size >= TWO_64) throw err(S.ErrInvalidArgs, op, "len must not be 0");
    if (vmar.destroyed) throw err(S.ErrBadState, op, "the VMAR was destroyed");
    const end = addr + size;
    if (addr < vmar.base || end > vmar.end) {
      throw err(S.ErrInvalidArgs, op, "the range is not within the VMAR");
    }
    const perms = opts & PERM_RWX;
    // Collect every record in range (descending into sub-VMARs) and check before changing.
    const recs: MappingRecord[] = [];
    const opChildren = (e.rights & Rights.OpChildren) !== 0;
    const collect = (v: VmarObject, lo: number, hi: number, nested: boolean): void => {
      let cursor = lo;
      for (const c of v.children.overlapping(lo, hi)) {
        if (c.start > cursor) {
          throw err(S.ErrNotFound, op, `nothing is mapped at 0x${cursor.toString(16)}`);
        }
        const s = Math.max(c.start, lo);
        const t = Math.min(c.end, hi);
        if (c instanceof VmarObject) {
          collect(c, s, t, true);
        } else {
          if ((perms & ~c.maxPerms) !== 0) {
            throw err(
              S.ErrAccessDenied,
              op,
              `the mapping at 0x${c.start.toString(16)} may not become ${permName(perms)}`,
            );
          }
          if (nested) {
            if (!opChildren) {
              throw err(S.ErrInvalidArgs, op, "protecting inside sub-VMARs needs OP_CHILDREN");
            }
            if ((perms & ~c.perms) !== 0) {
              throw err(
                S.ErrAccessDenied,
                op,
                "mappings inside sub-VMARs can only lose permissions",
              );
            }
          }
          if ((c.perms & ~perms) !== 0 && this.#escapedPart(c, s, t) !== null) {
            throw err(S.ErrBadState, op, escapedWhy("protected"));
          }
          recs.push(c);
        }
        cursor = t;
      }
      if (cursor < hi) {
        throw err(S.ErrNotFound, op, `nothing is mapped at 0x${cursor.toString(16)}`);
      }
    };
    collect(vmar, addr, end, false);
    for (const c of recs) {
      if (c.perms === perms) continue;
      const s = Math.max(c.start, addr);
      const t = Math.min(c.end, end);
      if ((c.perms & ~perms) !== 0) this.#dropView(c.origin);
      this.aspace.protect(s, t - s, perms);
      const { start, end: cend, vmoOffset, perms: old } = c;
      // Keep the VMO referenced while re-splitting: add new pieces before removing c.
      const mid = new MappingRecord(
        s,
        t,
        c.vmo,
        vmoOffset + (s - start),
        perms,
        c.maxPerms,
        c.parent,
        c.origin,
      );
      c.parent.children.remove(c);
      c.parent.free.give(start, cend);
      c.vmo.records.delete(c);
      dropPiece(c.origin.pieces, c);
      if (start < s) {
        this.#addRecord(
          new MappingRecord(start, s, c.vmo, vmoOffset, old, c.maxPerms, c.parent, c.origin),
        );
      }
      this.#addRecord(mid);
      if (t < cend) {
        this.#addRecord(
          new MappingRecord(
            t,
            cend,
            c.vmo,
            vmoOffset + (t - start),
            old,
            c.maxPerms,
            c.parent,
            c.origin,
          ),
        );
      }
    }
  }

  /** `zx_vmar_destroy`. */
  vmarDestroy(value: number): void {
    const op = "zx_vmar_destroy";
    const [e, vmar] = this.#vmar(value, op);
    this.#need(e, Rights.OpChildren, op, "destroy (ZX_RIGHT_OP_CHILDREN)");
    if (vmar.parent === null) throw err(S.ErrNotSupported, op, "the root VMAR cannot be destroyed");
    if (vmar.destroyed) throw err(S.ErrBadState, op, "the VMAR was already destroyed");
    this.#destroyVmar(vmar);
  }

  #destroyVmar(vmar: VmarObject): void {
    const retired: Array<[VmarObject, number, number]> = [];
    for (const c of vmar.children.all()) {
      if (c instanceof RetiredRange) continue;
      if (c instanceof VmarObject) this.#destroyVmar(c);
      else {
        this.#dropView(c.origin);
        this.#release(c, c.start, c.end, retired);
        this.#removeRecord(c);
      }
    }
    vmar.destroyed = true;
    const p = vmar.parent;
    if (p !== null && !p.destroyed) {
      p.children.remove(vmar);
      p.free.give(vmar.start, vmar.end);
      // Retired ranges outlive their VMAR: they move up to the parent.
      const keep: Array<[VmarObject, number, number]> = retired.map(([, lo, hi]) => [p, lo, hi]);
      for (const c of vmar.children.all()) {
        if (c instanceof RetiredRange) {
          vmar.children.remove(c);
          keep.push([p, c.start, c.end]);
        }
      }
      this.#occupyRetired(keep);
    }
  }

  /** `zx_vmar_op_range`. */
  vmarOpRange(value: number, opcode: number, addr: number, len: number): void {
    const op = "zx_vmar_op_range";
    const [e, vmar] = this.#vmar(value, op);
    const known = [
      VmoOp.Commit,
      VmoOp.Decommit,
      VmoOp.MapRange,
      VmoOp.Zero,
      VmoOp.DontNeed,
      VmoOp.AlwaysNeed,
      VmoOp.Prefetch,
    ];
    if (!known.includes(opcode as 1)) {
      throw err(S.ErrInvalidArgs, op, `unknown operation ${opcode}`);
    }
    // The VMAR handle's rights (VmAddressRegionDispatcher::is_operation_allowed_from_rights).
    if (opcode === VmoOp.Commit || opcode === VmoOp.Decommit || opcode === VmoOp.Zero) {
      this.#need(e, Rights.Write, op, "commit, decommit and zero (ZX_RIGHT_WRITE)");
    } else if (opcode === VmoOp.Prefetch || opcode === VmoOp.MapRange) {
      this.#need(e, Rights.Read, op, "prefetch and map-range (ZX_RIGHT_READ)");
    }
    const size = roundUp(len, this.pageSize);
    if (size === 0 || size >= TWO_64 || !isAligned(addr, this.pageSize)) {
      throw err(S.ErrInvalidArgs, op, "addr must be page aligned and len non-zero");
    }
    if (vmar.destroyed) throw err(S.ErrBadState, op, "the VMAR was destroyed");
    const end = addr + size;
    if (addr < vmar.base || end > vmar.end) {
      throw err(S.ErrOutOfRange, op, "the range is not within the VMAR");
    }
    const writes = opcode === VmoOp.Commit || opcode === VmoOp.Decommit ||
      opcode === VmoOp.Zero;
    const opChildren = (e.rights & Rights.OpChildren) !== 0;
    const work: Array<[MappingRecord, number, number]> = [];
    const collect = (v: VmarObject, lo: number, hi: number, nested: boolean): void => {
      let cursor = lo;
      for (const c of v.children.overlapping(lo, hi)) {
        if (c.start > cursor) throw err(S.ErrBadState, op, "the range has unmapped gaps");
        const s = Math.max(c.start, lo);
        const t = Math.min(c.end, hi);
        if (c instanceof VmarObject) collect(c, s, t, true);
        else {
          if (nested && writes) {
            throw err(S.ErrInvalidArgs, op, "COMMIT/DECOMMIT cannot reach into sub-VMARs");
          }
          if (nested && !opChildren) {
            throw err(S.ErrInvalidArgs, op, "ops inside sub-VMARs need ZX_RIGHT_OP_CHILDREN");
          }
          if (writes && (c.maxPerms & O.VmPermWrite) === 0) {
            throw err(S.ErrAccessDenied, op, "the mapping was not made from a writable handle");
          }
          // Zircon decommits through each mapping's VMO, with the VMO's own restrictions.
          if (opcode === VmoOp.Decommit) this.#checkDecommit(c.vmo, op);
          work.push([c, s, t]);
        }
        cursor = t;
      }
      if (cursor < hi) throw err(S.ErrBadState, op, "the range has unmapped gaps");
    };
    collect(vmar, addr, end, false);
    if (!writes) return;
    for (const [c, s, t] of work) {
      const vOff = c.vmoOffset + (s - c.start);
      const vEnd = Math.min(vOff + (t - s), c.vmo.size);
      if (vEnd <= vOff) continue;
      const m = c.vmo.memOffset + vOff;
      if (opcode === VmoOp.Commit) c.vmo.mem.commit(m, vEnd - vOff);
      else if (opcode === VmoOp.Decommit) c.vmo.mem.decommit(m, vEnd - vOff);
      else c.vmo.mem.zero(m, vEnd - vOff);
    }
  }

  /** Mappings in `vmar`'s subtree, depth first, in address order. */
  vmarMappings(value: number): MappingInfo[] {
    const op = "zx_object_get_info";
    const [e, vmar] = this.#vmar(value, op);
    this.#need(e, Rights.Inspect, op, "read ZX_INFO_VMAR_MAPS (ZX_RIGHT_INSPECT)");
    const out: MappingInfo[] = [];
    const walk = (v: VmarObject): void => {
      for (const c of v.children.all()) {
        if (c instanceof VmarObject) walk(c);
        else {
          out.push({
            addr: c.start,
            len: c.end - c.start,
            options: c.perms,
            vmoKoid: c.vmo.koid,
            vmoOffset: c.vmoOffset,
          });
        }
      }
    };
    walk(vmar);
    return out;
  }

  // ---------------------------------------------------------------- memory access

  #findRecord(addr: number): MappingRecord | undefined {
    let v: VmarObject = this.root;
    for (;;) {
      const c = v.children.containing(addr);
      if (c === undefined) return undefined;
      if (c instanceof MappingRecord) return c;
      v = c;
    }
  }

  /**
   * Check an access to `[addr, addr+len)` as a CPU would (mapped, permitted, backed by the
   * VMO) and return the pieces to copy: `[record, addr, length]`. Throws the fault ZxError.
   */
  #accessPlan(
    addr: number,
    len: number,
    access: "read" | "write",
    origin: MappingOrigin | null,
  ): Array<[MappingRecord, number, number]> {
    const plan: Array<[MappingRecord, number, number]> = [];
    const need = access === "read" ? O.VmPermRead : O.VmPermWrite;
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const r = this.#findRecord(a);
      const fault = (status: ZxStatus, why: string): ZxError =>
        new ZxError(status, "page_fault", `${access} at 0x${a.toString(16)}: ${why}`, {
          addr: a,
          access,
        });
      if (r === undefined) throw fault(S.ErrNotFound, "nothing is mapped there");
      if (origin !== null && r.origin !== origin) {
        // A Mapping reaches only its own memory, never what was mapped there after it.
        throw fault(S.ErrNotFound, "this mapping no longer covers that address");
      }
      if ((r.perms & need) === 0) {
        throw fault(S.ErrAccessDenied, `the mapping is ${permName(r.perms)}`);
      }
      const vOff = r.vmoOffset + (a - r.start);
      if (vOff >= r.vmo.size) throw fault(S.ErrOutOfRange, "beyond the end of the VMO");
      const n = Math.min(end, r.end, a + (r.vmo.size - vOff)) - a;
      plan.push([r, a, n]);
      a += n;
    }
    return plan;
  }

  /**
   * Read memory at an absolute address, checking mappings like a CPU would; with `origin`,
   * only memory that map call still maps counts (else the fault `ErrNotFound`).
   */
  readAt(addr: number, dst: Uint8Array, origin: MappingOrigin | null = null): void {
    const plan = this.#accessPlan(addr, dst.length, "read", origin);
    for (const [r, a, n] of plan) {
      const vOff = r.vmoOffset + (a - r.start);
      r.vmo.mem.read(r.vmo.memOffset + vOff, dst.subarray(a - addr, a - addr + n));
    }
  }

  /**
   * Write memory at an absolute address; nothing is written unless all of it may be. `origin`
   * as for {@link KernelCore.readAt}.
   */
  writeAt(addr: number, src: Uint8Array, origin: MappingOrigin | null = null): void {
    const plan = this.#accessPlan(addr, src.length, "write", origin);
    for (const [r, a, n] of plan) {
      const vOff = r.vmoOffset + (a - r.start);
      r.vmo.mem.write(r.vmo.memOffset + vOff, src.subarray(a - addr, a - addr + n));
    }
  }

  /**
   * The zero-copy view of a whole mapping for `Mapping.bytes()`. The mapping must be fully
   * alive and readable+writable; the view covers the part backed by the VMO.
   */
  originView(origin: MappingOrigin): Uint8Array {
    const op = "zx_vmar_map";
    if (this.#closed || origin.pieces.length === 0) {
      throw err(S.ErrBadState, op, "the mapping is no longer mapped");
    }
    let covered = 0;
    for (const p of origin.pieces) {
      if ((p.perms & (O.VmPermRead | O.VmPermWrite)) !== (O.VmPermRead | O.VmPermWrite)) {
        throw err(
          S.ErrAccessDenied,
          op,
          `bytes() needs a readable and writable mapping (part is ${
            permName(p.perms)
          }); use read()`,
        );
      }
      covered += p.end - p.start;
    }
    if (covered !== origin.len) {
      throw err(S.ErrBadState, op, "part of the mapping was unmapped; bytes() needs all of it");
    }
    const vmo = origin.vmo;
    const backed = Math.max(0, Math.min(origin.len, vmo.size - origin.vmoOffset));
    if (origin.view !== null && origin.view.byteLength === backed && backed > 0) {
      return origin.view;
    }
    this.#dropView(origin);
    if (backed === 0) return new Uint8Array(0);
    let v: Uint8Array;
    try {
      v = this.aspace.view(origin.addr, backed, vmo.mem, vmo.memOffset + origin.vmoOffset);
    } catch (x) {
      if (x instanceof ZxError) throw new ZxError(x.status, op, x.reason);
      throw err(S.ErrNoMemory, op, `the backend could not create a view: ${x}`);
    }
    origin.view = v;
    origin.viewLen = v.byteLength;
    return v;
  }

  /** Release everything: handles, mappings, memory, the address space and the backend. */
  close(): void {
    if (this.#closed) return;
    const walk = (v: VmarObject): void => {
      for (const c of v.children.all()) {
        if (c instanceof VmarObject) walk(c);
        else {
          this.#dropView(c.origin);
          // Memory an escaped view may reach stays (as private zero pages) past the close.
          const part = this.#escapedPart(c, c.start, c.end);
          if (part !== null) this.aspace.retire(part[0], part[1] - part[0]);
        }
      }
    };
    walk(this.root);
    for (const e of this.#handles.entries()) {
      if (e.obj instanceof VmoObject) {
        for (const w of [...e.obj.waiters]) {
          w.reject(err(S.ErrCanceled, "zx_object_wait_one", "the kernel was closed"));
        }
      }
    }
    this.#closed = true;
    // Every handle is closed with the kernel (handleCount reads 0 afterwards).
    for (const e of this.#handles.entries()) this.#handles.delete(e);
    try {
      this.aspace.close();
    } finally {
      for (const m of this.#memories) m.close();
      this.#memories.clear();
      this.backend.close();
    }
  }
}

/** Why a retired range cannot be mapped over. */
const RETIRED_WHY = "the range is retired: a Mapping.bytes() view of what was mapped there was " +
  "transferred out of zxvm's control, so zxvm keeps private zero pages there for good";

/** Why memory under an escaped view cannot change (`what` it would be). */
function escapedWhy(what: string): string {
  return `a Mapping.bytes() view of this memory was transferred out of zxvm's control ` +
    `(ArrayBuffer transfer, structuredClone or postMessage with a transfer list), so it cannot ` +
    `be revoked and the memory under it cannot be ${what}; unmapping is still allowed`;
}

/** Truncate a name to at most 31 UTF-8 bytes (`ZX_MAX_NAME_LEN - 1`) without splitting a character. */
export function truncateName(name: string): string {
  // Zircon keeps a C string: whatever follows a NUL is never read back.
  const nul = name.indexOf("\0");
  if (nul >= 0) name = name.slice(0, nul);
  const enc = new TextEncoder().encode(name);
  if (enc.length <= 31) return name;
  let out = "";
  let bytes = 0;
  for (const ch of name) {
    const n = new TextEncoder().encode(ch).length;
    if (bytes + n > 31) break;
    out += ch;
    bytes += n;
  }
  return out;
}
