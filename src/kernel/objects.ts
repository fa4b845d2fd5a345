/**
 * The kernel's object model: VMOs, VMARs, mapping records and mapping origins.
 * Plain data with small invariant-keeping helpers; the syscalls live in `kernel.ts`.
 *
 * @module
 */
import type { Memory } from "../backend/types.ts";
import { KObject, ObjType } from "./handles.ts";
import { FreeSpace, SpanTree } from "./ordered.ts";

/** A pending `waitOne`. */
export interface Waiter {
  /** The handle value waited on (closing it cancels the wait). */
  readonly handle: number;
  /** Signals that satisfy the wait. */
  readonly mask: number;
  /** Settle with the observed signals. */
  resolve(signals: number): void;
  /** Settle with an error. */
  reject(err: unknown): void;
}

/** A virtual memory object. */
export class VmoObject extends KObject {
  /** The memory holding the pages (shared with the parent for slices). */
  mem: Memory;
  /** Offset of this VMO's page 0 inside {@link VmoObject.mem}. */
  readonly memOffset: number;
  /** Whether this object owns {@link VmoObject.mem} (false for slices). */
  readonly ownsMem: boolean;
  /** Size in bytes (a page multiple). */
  size: number;
  /** Content size (`ZX_PROP_VMO_CONTENT_SIZE`), unrounded. */
  contentSize: number;
  /** Created resizable (`ZX_VMO_RESIZABLE` / `ZX_VMO_CHILD_RESIZABLE`). */
  readonly resizable: boolean;
  /** Created discardable. */
  readonly discardable: boolean;
  /** A slice of its parent. */
  readonly isSlice: boolean;
  /** A snapshot (copy-on-write clone) of its parent. */
  readonly isCowClone: boolean;
  /** Created as `SNAPSHOT | NO_WRITE`. */
  readonly immutable: boolean;
  /** The parent for children, else null. */
  readonly parent: VmoObject | null;
  /** Live (not yet destroyed) direct children. */
  liveChildren = 0;
  /** Live direct children that are snapshots (non-slice children). */
  liveSnapshotChildren = 0;
  /** Live mapping records of this VMO. */
  readonly records: Set<MappingRecord> = new Set();
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

  /** Construct; see the field docs. */
  constructor(
    koid: number,
    init: {
      mem: Memory;
      memOffset: number;
      ownsMem: boolean;
      size: number;
      contentSize: number;
      resizable: boolean;
      discardable: boolean;
      isSlice: boolean;
      isCowClone: boolean;
      immutable: boolean;
      parent: VmoObject | null;
    },
  ) {
    super(koid);
    this.mem = init.mem;
    this.memOffset = init.memOffset;
    this.ownsMem = init.ownsMem;
    this.size = init.size;
    this.contentSize = init.contentSize;
    this.resizable = init.resizable;
    this.discardable = init.discardable;
    this.isSlice = init.isSlice;
    this.isCowClone = init.isCowClone;
    this.immutable = init.immutable;
    this.parent = init.parent;
  }

  /** `"vmo"`. */
  get type(): "vmo" {
    return "vmo";
  }
  /** `ZX_OBJ_TYPE_VMO`. */
  get zxType(): number {
    return ObjType.Vmo;
  }
}

/** The SDK-visible identity of one successful `map` call; it may be split into several records. */
export class MappingOrigin {
  /** Live records made from this map call. */
  readonly pieces: MappingRecord[] = [];
  /** The cached zero-copy view handed out by `Mapping.bytes()`, if any. */
  view: Uint8Array | null = null;
  /** Length of {@link MappingOrigin.view} when it was made (a detached view reads 0). */
  viewLen = 0;
  /**
   * End of the address range `[addr, escapedEnd)` that a view of this mapping covered when it
   * escaped zxvm's control (its buffer was transferred away, so it cannot be detached); `0`
   * when none did. Memory there must stay accessible: it is retired, never unmapped.
   */
  escapedEnd = 0;
  /** Construct; see the field docs. */
  constructor(
    /** Start address of the original mapping. */
    readonly addr: number,
    /** Length of the original mapping (page rounded). */
    readonly len: number,
    /** The options the mapping was made with. */
    readonly options: number,
    /** The mapped VMO. */
    readonly vmo: VmoObject,
    /** VMO offset of `addr`. */
    readonly vmoOffset: number,
    /** The VMAR that received the mapping. */
    readonly vmar: VmarObject,
  ) {}
}

/** Remove `rec` from `pieces` (order is not kept: pieces are an unordered set). */
export function dropPiece(pieces: MappingRecord[], rec: MappingRecord): void {
  const i = pieces.indexOf(rec);
  if (i < 0) return;
  const last = pieces.pop() as MappingRecord;
  if (i < pieces.length) pieces[i] = last;
}

/** One contiguous mapped range with uniform protection (Zircon's `VmMapping`). */
export class MappingRecord {
  /** Construct; see the field docs. */
  constructor(
    /** First address. */
    public start: number,
    /** One past the last address. */
    public end: number,
    /** The mapped VMO (kept alive by this record). */
    readonly vmo: VmoObject,
    /** VMO offset of `start`. */
    public vmoOffset: number,
    /** Current protection (`ZX_VM_PERM_*` bits). */
    public perms: number,
    /** Largest protection `protect` may grant (what both handles allowed at map time). */
    readonly maxPerms: number,
    /** The VMAR holding this record. */
    readonly parent: VmarObject,
    /** The map call this record came from. */
    readonly origin: MappingOrigin,
  ) {}
}

/** A virtual memory address region. */
export class VmarObject extends KObject {
  /** First address (same as `base`; the span key in the parent's tree). */
  readonly start: number;
  /** One past the last address. */
  readonly end: number;
  /** Children (sub-VMARs and mapping records), ordered by address. */
  readonly children: SpanTree<VmarObject | MappingRecord> = new SpanTree();
  /** Free ranges among the children. */
  readonly free: FreeSpace;
  /** False once destroyed. */
  destroyed = false;

  /** Construct; see the field docs. */
  constructor(
    koid: number,
    /** First address. */
    readonly base: number,
    /** Length in bytes. */
    readonly len: number,
    /** `ZX_VM_CAN_MAP_*` and `ZX_VM_COMPACT` flags. */
    readonly flags: number,
    /** The parent VMAR, or null for the root. */
    readonly parent: VmarObject | null,
  ) {
    super(koid);
    this.start = base;
    this.end = base + len;
    this.free = new FreeSpace(base, base + len);
  }

  /** `"vmar"`. */
  get type(): "vmar" {
    return "vmar";
  }
  /** `ZX_OBJ_TYPE_VMAR`. */
  get zxType(): number {
    return ObjType.Vmar;
  }
}

/**
 * An address range the kernel took out of use for good: a zero-copy view over it escaped
 * (see {@link MappingOrigin.escapedEnd}), so the backend keeps private zero pages there and no
 * mapping may ever land on it again. It sits in the VMAR tree like an empty sub-VMAR that no
 * handle names: placement avoids it, lookups find nothing mapped, `mappings()` lists nothing,
 * unmap passes over it, and when its VMAR is destroyed it moves up to the parent.
 */
export class RetiredRange extends VmarObject {
  /** Construct `[start, end)` inside `parent`. */
  constructor(start: number, end: number, parent: VmarObject) {
    super(0, start, end - start, 0, parent);
  }
}
