/**
 * VMAR syscalls (Zircon's `lib/syscalls/vmar.cc` and `VmAddressRegionDispatcher`): resolve
 * handles, check rights, decode the options word once ({@link splitVmOptions}) and check it in
 * Zircon's order, then plan and apply the change in the address region.
 *
 * @module
 */
import { ZxError } from "../../abi/error.ts";
import { VmoOp, ZxVmOption as O } from "../../abi/options.ts";
import { Rights } from "../../abi/rights.ts";
import { ZxStatus } from "../../abi/status.ts";
import { isAligned, roundUp, TWO_64 } from "../args.ts";
import { backendFailure } from "../backend_call.ts";
import {
  alignmentOf,
  ALLOCATE_FLAGS,
  CAN_MAP_RWX,
  MAP_FLAGS,
  permName,
  splitVmOptions,
  VMAR_OBJECT_FLAGS,
} from "../flags.ts";
import type { HandleEntry } from "../handles.ts";
import type { KernelCore } from "../kernel.ts";
import { place } from "../placement.ts";
import {
  applyProtect,
  applyTeardown,
  planDestroy,
  planProtect,
  planRecords,
  planUnmap,
  remap,
  RetiredRange,
  type Teardown,
  VmarObject,
  walkRange,
} from "../vm_address_region.ts";
import {
  addRecord,
  dropView,
  escapedWhy,
  type MappingInfo,
  MappingOrigin,
  MappingRecord,
  splitRecord,
} from "../vm_mapping.ts";
import { opRanges, type VmoRange } from "../vm_op_range.ts";

const S = ZxStatus;

function fail(status: ZxStatus, op: string, why: string): ZxError {
  return new ZxError(status, op, why);
}

/** The rights a VMAR handle has for permission bits `p` (R, W, X). */
function handlePerms(e: HandleEntry): number {
  return ((e.rights & Rights.Read) ? O.VmPermRead : 0) |
    ((e.rights & Rights.Write) ? O.VmPermWrite : 0) |
    ((e.rights & Rights.Execute) ? O.VmPermExecute : 0);
}

/** Page-round `len` for unmap/protect/op_range; 0 (or overflow) is `ErrInvalidArgs`. */
function roundedLen(k: KernelCore, len: number, op: string): number {
  const size = roundUp(len, k.pageSize);
  if (size === 0 || size >= TWO_64) throw fail(S.ErrInvalidArgs, op, "len must not be 0");
  return size;
}

/** `zx_object_get_info(ZX_INFO_VMAR)`: base and length (no destroyed check, as Zircon). */
export function vmarInfo(k: KernelCore, value: number): { base: number; len: number } {
  const op = "zx_object_get_info";
  const e = k.vmar(value, op);
  const vmar = e.obj;
  k.need(e, Rights.Inspect, op, "read ZX_INFO_VMAR");
  return { base: vmar.base, len: vmar.len };
}

/** `zx_vmar_allocate`: returns the new VMAR's handle and base. */
export function vmarAllocate(
  k: KernelCore,
  value: number,
  options: number,
  offset: number,
  size: number,
): { handle: number; base: number } {
  const op = "zx_vmar_allocate";
  const e = k.vmar(value, op);
  const parent = e.obj;
  const f = splitVmOptions(options);
  const canMap = f.vmarFlags & CAN_MAP_RWX;
  const want = canMap >>> 7; // CAN_MAP_{R,W,X} as PERM_{R,W,X}
  if ((want & ~handlePerms(e)) !== 0) {
    throw fail(
      S.ErrAccessDenied,
      op,
      `handle ${value} lacks the rights for CAN_MAP ${permName(want)} (it allows ${
        permName(handlePerms(e))
      })`,
    );
  }
  if (f.unknownBits) throw fail(S.ErrInvalidArgs, op, `unknown options 0x${options.toString(16)}`);
  if (!f.alignValid) throw fail(S.ErrInvalidArgs, op, `invalid alignment field ${f.alignLog2}`);
  if (f.perms !== 0) throw fail(S.ErrInvalidArgs, op, "PERM_* flags are not valid for allocate");
  if (!isAligned(size, k.pageSize)) throw fail(S.ErrInvalidArgs, op, "size must be page aligned");
  if ((f.vmarFlags & ~ALLOCATE_FLAGS) !== 0) {
    throw fail(S.ErrInvalidArgs, op, `options 0x${options.toString(16)} are not valid here`);
  }
  const align = alignmentOf(f, k.pageSize);
  const addr = place(k.ctx, parent, f, offset, size, align, canMap, op);
  const child = new VmarObject(k.newKoid(), addr, size, f.vmarFlags & VMAR_OBJECT_FLAGS, parent);
  parent.children.insert(child);
  parent.free.take(addr, addr + size);
  const rights = Rights.DefaultVmar | (want & 1 ? Rights.Read : 0) |
    (want & 2 ? Rights.Write : 0) | (want & 4 ? Rights.Execute : 0);
  return { handle: k.handles.add(child, rights).value, base: addr };
}

/** `zx_vmar_map`: returns the new mapping's origin (its `addr` is the mapped address). */
export function vmarMap(
  k: KernelCore,
  value: number,
  options: number,
  vmarOffset: number,
  vmoValue: number,
  vmoOffset: number,
  len: number,
): MappingOrigin {
  const op = "zx_vmar_map";
  const ve = k.vmar(value, op);
  const vmar = ve.obj;
  const me = k.vmo(vmoValue, op);
  const vmo = me.obj;
  k.need(me, Rights.Map, op, "map it");
  const f = splitVmOptions(options);
  const perms = f.mapPerms;
  if ((perms & (O.VmPermWrite | O.VmPermExecute)) !== 0 && (perms & O.VmPermRead) === 0) {
    throw fail(S.ErrInvalidArgs, op, "PERM_WRITE and PERM_EXECUTE need PERM_READ");
  }
  if ((f.vmarFlags & O.VmMapRange) && (f.vmarFlags & O.VmSpecificOverwrite)) {
    throw fail(S.ErrInvalidArgs, op, "MAP_RANGE cannot be combined with SPECIFIC_OVERWRITE");
  }
  if ((f.vmarFlags & (CAN_MAP_RWX | O.VmCanMapSpecific)) !== 0) {
    throw fail(S.ErrInvalidArgs, op, "CAN_MAP_* flags are not valid for map");
  }
  const vmoPerms = handlePerms(me);
  const vmarPerms = handlePerms(ve);
  const maxPerms = vmoPerms & vmarPerms;
  if ((perms & ~maxPerms) !== 0) {
    const who = (perms & ~vmoPerms) !== 0
      ? `the VMO handle ${vmoValue} allows only ${permName(vmoPerms)}`
      : `the VMAR handle ${value} allows only ${permName(vmarPerms)}`;
    throw fail(S.ErrAccessDenied, op, `a ${permName(perms)} mapping was asked for, but ${who}`);
  }
  if (f.unknownBits || !f.alignValid || (f.vmarFlags & ~MAP_FLAGS) !== 0) {
    throw fail(S.ErrInvalidArgs, op, `invalid options 0x${options.toString(16)}`);
  }
  if ((f.vmarFlags & O.VmRequireNonResizable) && vmo.resizable) {
    throw fail(S.ErrNotSupported, op, "the VMO is resizable and REQUIRE_NON_RESIZABLE was given");
  }
  if (!(f.vmarFlags & O.VmAllowFaults) && vmo.discardable) {
    throw fail(S.ErrNotSupported, op, "discardable VMOs need ALLOW_FAULTS to be mapped");
  }
  if (!isAligned(vmoOffset, k.pageSize)) {
    throw fail(S.ErrInvalidArgs, op, "vmo_offset must be page aligned");
  }
  const size = roundUp(len, k.pageSize);
  if (size >= TWO_64 || vmoOffset + size >= TWO_64) {
    throw fail(S.ErrOutOfRange, op, "vmo_offset + ROUNDUP(len) overflows");
  }
  const align = alignmentOf(f, k.pageSize);
  const addr = place(k.ctx, vmar, f, vmarOffset, size, align, maxPerms << 7, op);
  const end = addr + size;
  // SPECIFIC_OVERWRITE: the mappings being replaced stay in the books until the new one is
  // in place, so a backend failure can put them back (a failed call changes nothing).
  let replaced: Teardown | null = null;
  if ((f.vmarFlags & O.VmSpecificOverwrite) !== 0 && !vmar.free.isFree(addr, end)) {
    replaced = planUnmap(k.ctx, vmar, addr, end);
    if (replaced.cuts.some((c) => c.esc !== null)) {
      throw fail(S.ErrBadState, op, escapedWhy("replaced"));
    }
  }
  try {
    k.ctx.aspace.map(
      addr,
      vmo.mem,
      vmo.memOffset + vmoOffset,
      size,
      perms,
      (f.vmarFlags & O.VmMapRange) !== 0,
    );
  } catch (x) {
    // A failed MAP_FIXED may have taken the old mappings down: map them again; what cannot
    // be mapped again is unmapped in the books too.
    if (replaced !== null) {
      for (const c of replaced.cuts) {
        try {
          remap(k.ctx, c.rec, c.s, c.e);
        } catch {
          try {
            k.ctx.aspace.unmap(c.s, c.e - c.s);
          } catch {
            // The range stays as the failed map left it; the books forget it either way.
          }
          applyTeardown(k.ctx, { cuts: [c], vmars: [] }, op, false);
        }
      }
    }
    throw backendFailure(op, x);
  }
  // The new mapping replaced the old ones in memory: only the books change.
  if (replaced !== null) applyTeardown(k.ctx, replaced, op, false);
  const origin = new MappingOrigin(addr, size, options, vmo, vmoOffset, vmar);
  addRecord(new MappingRecord(addr, end, vmo, vmoOffset, perms, maxPerms, vmar, origin));
  return origin;
}

/** Checks common to unmap, protect and op_range once `len` is rounded. */
function checkLiveRange(
  vmar: VmarObject,
  addr: number,
  size: number,
  op: string,
  oor: ZxStatus,
): void {
  if (vmar.destroyed) throw fail(S.ErrBadState, op, "the VMAR was destroyed");
  if (addr < vmar.base || addr + size > vmar.end) {
    throw fail(oor, op, "the range is not within the VMAR");
  }
}

/** `zx_vmar_unmap`. */
export function vmarUnmap(k: KernelCore, value: number, addr: number, len: number): void {
  const op = "zx_vmar_unmap";
  const e = k.vmar(value, op);
  const vmar = e.obj;
  if (!isAligned(addr, k.pageSize)) throw fail(S.ErrInvalidArgs, op, "addr must be page aligned");
  const size = roundedLen(k, len, op);
  checkLiveRange(vmar, addr, size, op, S.ErrInvalidArgs);
  const end = addr + size;
  const opChildren = (e.rights & Rights.OpChildren) !== 0;
  for (const c of vmar.children.overlapping(addr, end)) {
    if (!(c instanceof VmarObject) || c instanceof RetiredRange) continue;
    if (c.start < addr || c.end > end) {
      throw fail(S.ErrInvalidArgs, op, "the range partially covers a sub-VMAR");
    }
    if (!opChildren) {
      throw fail(S.ErrInvalidArgs, op, "unmapping a sub-VMAR needs ZX_RIGHT_OP_CHILDREN");
    }
  }
  applyTeardown(k.ctx, planUnmap(k.ctx, vmar, addr, end), op);
}

/** Unmap every piece of one map call (`Mapping.unmap()`); never touches other mappings. */
export function unmapOrigin(k: KernelCore, origin: MappingOrigin): void {
  const op = "zx_vmar_unmap";
  const pieces = origin.pieces;
  if (pieces.length === 1 && origin.view === null && origin.escapedEnd === 0) {
    // The common case, without a plan: one record, no view that could have escaped.
    const rec = pieces[0];
    try {
      k.ctx.aspace.unmap(rec.start, rec.end - rec.start);
    } catch (x) {
      throw backendFailure(op, x);
    }
    splitRecord(rec, rec.start, rec.end);
    return;
  }
  applyTeardown(k.ctx, planRecords(k.ctx, pieces), op);
  dropView(k.ctx, origin);
}

/** `zx_vmar_protect`. */
export function vmarProtect(
  k: KernelCore,
  value: number,
  options: number,
  addr: number,
  len: number,
): void {
  const op = "zx_vmar_protect";
  const e = k.vmar(value, op);
  const vmar = e.obj;
  const f = splitVmOptions(options);
  const perms = f.mapPerms;
  if ((perms & ~handlePerms(e)) !== 0) {
    throw fail(
      S.ErrAccessDenied,
      op,
      `handle ${value} allows only ${permName(handlePerms(e))}, not ${permName(perms)}`,
    );
  }
  if ((perms & (O.VmPermWrite | O.VmPermExecute)) !== 0 && (perms & O.VmPermRead) === 0) {
    throw fail(S.ErrInvalidArgs, op, "PERM_WRITE and PERM_EXECUTE need PERM_READ");
  }
  if (!isAligned(addr, k.pageSize)) throw fail(S.ErrInvalidArgs, op, "addr must be page aligned");
  if (f.vmarFlags !== 0 || f.unknownBits || f.alignLog2 !== 0) {
    throw fail(S.ErrInvalidArgs, op, "protect takes only PERM_* flags");
  }
  const size = roundedLen(k, len, op);
  checkLiveRange(vmar, addr, size, op, S.ErrInvalidArgs);
  const opChildren = (e.rights & Rights.OpChildren) !== 0;
  const steps = planProtect(k.ctx, vmar, addr, addr + size, perms, opChildren, op);
  applyProtect(k.ctx, steps, perms, op);
}

/** `zx_vmar_destroy`. */
export function vmarDestroy(k: KernelCore, value: number): void {
  const op = "zx_vmar_destroy";
  const e = k.vmar(value, op);
  const vmar = e.obj;
  k.need(e, Rights.OpChildren, op, "destroy it");
  if (vmar.parent === null) throw fail(S.ErrNotSupported, op, "the root VMAR cannot be destroyed");
  if (vmar.destroyed) throw fail(S.ErrBadState, op, "the VMAR was already destroyed");
  applyTeardown(k.ctx, planDestroy(k.ctx, vmar), op);
}

const VMAR_OPS: ReadonlySet<number> = new Set([
  VmoOp.Commit,
  VmoOp.Decommit,
  VmoOp.MapRange,
  VmoOp.Zero,
  VmoOp.DontNeed,
  VmoOp.AlwaysNeed,
  VmoOp.Prefetch,
]);

/** `zx_vmar_op_range`. */
export function vmarOpRange(
  k: KernelCore,
  value: number,
  opcode: number,
  addr: number,
  len: number,
): void {
  const op = "zx_vmar_op_range";
  const e = k.vmar(value, op);
  const vmar = e.obj;
  if (!VMAR_OPS.has(opcode)) throw fail(S.ErrInvalidArgs, op, `unknown operation ${opcode}`);
  const writes = opcode === VmoOp.Commit || opcode === VmoOp.Decommit || opcode === VmoOp.Zero;
  // The VMAR handle's rights (VmAddressRegionDispatcher::is_operation_allowed_from_rights).
  if (writes) k.need(e, Rights.Write, op, "commit, decommit or zero");
  else if (opcode === VmoOp.Prefetch || opcode === VmoOp.MapRange) {
    k.need(e, Rights.Read, op, "prefetch or map-range");
  }
  const size = roundUp(len, k.pageSize);
  if (size === 0 || size >= TWO_64 || !isAligned(addr, k.pageSize)) {
    throw fail(S.ErrInvalidArgs, op, "addr must be page aligned and len non-zero");
  }
  checkLiveRange(vmar, addr, size, op, S.ErrOutOfRange);
  const opChildren = (e.rights & Rights.OpChildren) !== 0;
  const ranges: VmoRange[] = [];
  walkRange(vmar, addr, addr + size, (c, s, t, nested) => {
    if (nested && writes) {
      throw fail(S.ErrInvalidArgs, op, "COMMIT/DECOMMIT cannot reach into sub-VMARs");
    }
    if (nested && !opChildren) {
      throw fail(S.ErrInvalidArgs, op, "ops inside sub-VMARs need ZX_RIGHT_OP_CHILDREN");
    }
    if (writes && (c.maxPerms & O.VmPermWrite) === 0) {
      throw fail(S.ErrAccessDenied, op, "the mapping was not made from a writable handle");
    }
    // Zircon decommits through each mapping's VMO, with the VMO's own restrictions.
    if (opcode === VmoOp.Decommit) c.vmo.checkDecommit(op);
    const vOff = c.vmoOffset + (s - c.start);
    const vEnd = Math.min(vOff + (t - s), c.vmo.size);
    if (vEnd > vOff) ranges.push({ vmo: c.vmo, offset: vOff, len: vEnd - vOff });
  }, () => {
    throw fail(S.ErrBadState, op, "the range has unmapped gaps");
  });
  if (writes && ranges.length > 0) opRanges(k.ctx.pool, ranges, opcode, op);
}

/** Mappings in `vmar`'s subtree, depth first, in address order. */
export function vmarMappings(k: KernelCore, value: number): MappingInfo[] {
  const op = "zx_object_get_info";
  const e = k.vmar(value, op);
  const vmar = e.obj;
  k.need(e, Rights.Inspect, op, "read ZX_INFO_VMAR_MAPS");
  const out: MappingInfo[] = [];
  const stack: Array<VmarObject | MappingRecord> = vmar.children.all().reverse();
  while (stack.length > 0) {
    const c = stack.pop() as VmarObject | MappingRecord;
    if (c instanceof MappingRecord) out.push(c.info());
    else for (const x of c.children.all().reverse()) stack.push(x);
  }
  return out;
}
