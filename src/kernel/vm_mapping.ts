/**
 * Mappings (Zircon's `vm/vm_mapping.cc`): the records a map call leaves in the VMAR tree, how
 * they split, and the zero-copy views `Mapping.bytes()` hands out — including views that
 * escaped zxvm's control (their buffer was transferred away) and so pin their memory.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxVmOption as O } from "../abi/options.ts";
import { ZxStatus } from "../abi/status.ts";
import type { AddressSpace, Backend } from "../backend/types.ts";
import { backendCall } from "./backend_call.ts";
import { permName } from "./flags.ts";
import type { Prng } from "./prng.ts";
import type { VmarObject } from "./vm_address_region.ts";
import type { MemoryPool } from "./memory_pool.ts";
import type { VmoObject } from "./vm_object.ts";

const S = ZxStatus;

/** What the VM layers of one kernel share: its backend, address space and page size. */
export interface VmContext {
  /** The memory backend. */
  readonly backend: Backend;
  /** The address space every mapping lives in. */
  readonly aspace: AddressSpace;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Placement randomisation. */
  readonly prng: Prng;
  /** The kernel's memory objects. */
  readonly pool: MemoryPool;
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

/** One contiguous mapped range with uniform protection (Zircon's `VmMapping`). */
export class MappingRecord {
  /** Index of this record in `vmo.records` while it is live (kept by add/remove). */
  vmoSlot = -1;
  /** Construct; see the field docs. */
  constructor(
    /** First address. */
    readonly start: number,
    /** One past the last address. */
    readonly end: number,
    /** The mapped VMO (kept alive by this record). */
    readonly vmo: VmoObject,
    /** VMO offset of `start`. */
    readonly vmoOffset: number,
    /** Current protection (`ZX_VM_PERM_*` bits). */
    readonly perms: number,
    /** Largest protection `protect` may grant (what both handles allowed at map time). */
    readonly maxPerms: number,
    /** The VMAR holding this record. */
    readonly parent: VmarObject,
    /** The map call this record came from. */
    readonly origin: MappingOrigin,
  ) {}

  /** A record for `[start, end)` of this one (inside it), with `perms`. */
  part(start: number, end: number, perms: number): MappingRecord {
    return new MappingRecord(
      start,
      end,
      this.vmo,
      this.vmoOffset + (start - this.start),
      perms,
      this.maxPerms,
      this.parent,
      this.origin,
    );
  }

  /** The `MappingInfo` of this record. */
  info(): MappingInfo {
    return {
      addr: this.start,
      len: this.end - this.start,
      options: this.perms,
      vmoKoid: this.vmo.koid,
      vmoOffset: this.vmoOffset,
    };
  }
}

/** Put `rec` into its VMAR's tree, its VMO's records and its origin's pieces. */
export function addRecord(rec: MappingRecord): void {
  rec.parent.children.insert(rec);
  rec.parent.free.take(rec.start, rec.end);
  rec.vmoSlot = rec.vmo.records.length;
  rec.vmo.records.push(rec);
  rec.origin.pieces.push(rec);
}

/**
 * Take `rec` out of its VMO's records (O(1)); the VMO may then be destroyable. Kernel close
 * does only this, since the VMAR tree goes with the kernel but the VMO may be another kernel's
 * too.
 */
export function unhookRecord(rec: MappingRecord): void {
  if (rec.vmoSlot < 0) return;
  const recs = rec.vmo.records;
  const last = recs.pop() as MappingRecord;
  if (last !== rec) {
    recs[rec.vmoSlot] = last;
    last.vmoSlot = rec.vmoSlot;
  }
  rec.vmoSlot = -1;
}

function removeBooks(rec: MappingRecord): void {
  rec.parent.children.remove(rec);
  rec.parent.free.give(rec.start, rec.end);
  unhookRecord(rec);
  const pieces = rec.origin.pieces;
  const i = pieces.indexOf(rec);
  if (i >= 0) {
    const tail = pieces.pop() as MappingRecord;
    if (i < pieces.length) pieces[i] = tail;
  }
}

/**
 * Replace `rec` in the books by `[rec.start, s)` and `[e, rec.end)` (what survives of it) and,
 * when `perms` is given, `[s, e)` with those permissions; `[s, e)` is gone otherwise. The VMO
 * is destroyed if this was its last reference.
 */
export function splitRecord(rec: MappingRecord, s: number, e: number, perms?: number): void {
  const vmo = rec.vmo;
  vmo.pins++; // the VMO stays alive while the surviving parts are re-added
  try {
    removeBooks(rec);
    if (rec.start < s) addRecord(rec.part(rec.start, s, rec.perms));
    if (perms !== undefined) addRecord(rec.part(s, e, perms));
    if (e < rec.end) addRecord(rec.part(e, rec.end, rec.perms));
  } finally {
    vmo.pins--;
  }
  vmo.maybeDestroy();
}

// ---------------------------------------------------------------- views

/** Notice a view that someone else detached (transferred away): its range escaped. */
export function refreshEscape(ctx: VmContext, origin: MappingOrigin): void {
  const v = origin.view;
  if (v !== null && ctx.backend.escaped(v)) {
    origin.escapedEnd = Math.max(origin.escapedEnd, origin.addr + origin.viewLen);
    origin.view = null;
  }
}

/** Detach the origin's view, if it has one (after noticing an escape). */
export function dropView(ctx: VmContext, origin: MappingOrigin): void {
  refreshEscape(ctx, origin);
  if (origin.view !== null) {
    ctx.backend.detach(origin.view);
    origin.view = null;
  }
}

/** The part of `[s, e)` (inside record `rec`) that an escaped view may reach, or null. */
export function escapedPart(
  ctx: VmContext,
  rec: MappingRecord,
  s: number,
  e: number,
): [number, number] | null {
  const o = rec.origin;
  refreshEscape(ctx, o);
  const lo = Math.max(s, rec.start, o.addr);
  const hi = Math.min(e, rec.end, o.escapedEnd);
  return lo < hi ? [lo, hi] : null;
}

/** Why a retired range cannot be mapped over. */
export const RETIRED_WHY = "the range is retired: a Mapping.bytes() view of what was mapped " +
  "there was transferred out of zxvm's control, so zxvm keeps private zero pages there for good";

/** Why memory under an escaped view cannot change (`what` it would be). */
export function escapedWhy(what: string): string {
  return `a Mapping.bytes() view of this memory was transferred out of zxvm's control ` +
    `(ArrayBuffer transfer, structuredClone or postMessage with a transfer list), so it cannot ` +
    `be revoked and the memory under it cannot be ${what}; unmapping is still allowed`;
}

/**
 * The zero-copy view of a whole mapping for `Mapping.bytes()`. The mapping must be fully
 * alive and readable+writable; the view covers the part backed by the VMO.
 *
 * @throws {ZxError} `ErrBadState` (not fully mapped), `ErrAccessDenied` (not read-write), or
 *   the backend's failure
 */
export function originView(ctx: VmContext, origin: MappingOrigin, op: string): Uint8Array {
  if (origin.pieces.length === 0) {
    throw new ZxError(S.ErrBadState, op, "the mapping is no longer mapped");
  }
  let covered = 0;
  for (const p of origin.pieces) {
    if ((p.perms & (O.VmPermRead | O.VmPermWrite)) !== (O.VmPermRead | O.VmPermWrite)) {
      throw new ZxError(
        S.ErrAccessDenied,
        op,
        `bytes() needs a readable and writable mapping (part is ${permName(p.perms)}); use read()`,
      );
    }
    covered += p.end - p.start;
  }
  if (covered !== origin.len) {
    throw new ZxError(
      S.ErrBadState,
      op,
      "part of the mapping was unmapped; bytes() needs all of it",
    );
  }
  const vmo = origin.vmo;
  const backed = Math.max(0, Math.min(origin.len, vmo.size - origin.vmoOffset));
  if (origin.view !== null && origin.view.byteLength === backed && backed > 0) {
    return origin.view;
  }
  dropView(ctx, origin);
  if (backed === 0) return new Uint8Array(0);
  const v = backendCall(
    op,
    () => ctx.aspace.view(origin.addr, backed, vmo.mem, vmo.memOffset + origin.vmoOffset),
  );
  origin.view = v;
  origin.viewLen = v.byteLength;
  return v;
}
