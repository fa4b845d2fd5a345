/**
 * Where a new mapping or sub-VMAR goes (Zircon's `CreateSubVmarInternal` checks and
 * `AllocSpotLocked`): the bounds, alignment and overlap checks of a specific placement, or a
 * randomised first fit (compact regions: plain first fit) among the region's free ranges.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxVmOption as O } from "../abi/options.ts";
import { ZxStatus } from "../abi/status.ts";
import { isAligned } from "./args.ts";
import { CAN_MAP_RWX, permName, type VmOptions } from "./flags.ts";
import { RetiredRange, VmarObject } from "./vm_address_region.ts";
import { RETIRED_WHY, type VmContext } from "./vm_mapping.ts";

const S = ZxStatus;

/**
 * Find or check the place of a new child of `vmar` (Zircon's `CreateSubVmarInternal` checks,
 * from "destroyed" on) and return its absolute start address.
 *
 * @throws {ZxError} `ErrBadState`, `ErrInvalidArgs`, `ErrAccessDenied`, `ErrAlreadyExists`,
 *   `ErrNoResources`
 */
export function place(
  ctx: VmContext,
  vmar: VmarObject,
  f: VmOptions,
  offset: number,
  size: number,
  align: number,
  childCanMap: number,
  op: string,
): number {
  const specific = (f.vmarFlags & (O.VmSpecific | O.VmSpecificOverwrite)) !== 0;
  const overwrite = (f.vmarFlags & O.VmSpecificOverwrite) !== 0;
  const upper = (f.vmarFlags & O.VmOffsetIsUpperLimit) !== 0;
  if (vmar.destroyed) throw new ZxError(S.ErrBadState, op, "the VMAR was destroyed");
  if (size === 0) throw new ZxError(S.ErrInvalidArgs, op, "size must not be 0");
  if ((childCanMap & ~vmar.flags & CAN_MAP_RWX) !== 0) {
    throw new ZxError(
      S.ErrAccessDenied,
      op,
      `the VMAR does not allow ${permName(childCanMap >>> 7)} (its CAN_MAP flags are ${
        permName((vmar.flags & CAN_MAP_RWX) >>> 7)
      })`,
    );
  }
  if (specific && upper) {
    throw new ZxError(
      S.ErrInvalidArgs,
      op,
      "SPECIFIC and OFFSET_IS_UPPER_LIMIT cannot be combined",
    );
  }
  if (offset !== 0 && !specific && !upper) {
    throw new ZxError(
      S.ErrInvalidArgs,
      op,
      "vmar_offset must be 0 unless SPECIFIC, SPECIFIC_OVERWRITE or OFFSET_IS_UPPER_LIMIT is given",
    );
  }
  if (!isAligned(offset, ctx.pageSize)) {
    throw new ZxError(S.ErrInvalidArgs, op, "vmar_offset must be page aligned");
  }
  if ((specific || upper) && (vmar.flags & O.VmCanMapSpecific) === 0) {
    throw new ZxError(S.ErrAccessDenied, op, "the VMAR was not created with CAN_MAP_SPECIFIC");
  }
  if (upper) {
    if (offset > vmar.len || size > vmar.len || size > offset) {
      throw new ZxError(S.ErrInvalidArgs, op, "the range does not fit below the upper limit");
    }
  } else if (offset >= vmar.len || size > vmar.len - offset) {
    throw new ZxError(S.ErrInvalidArgs, op, "the range does not fit in the VMAR");
  }
  if (specific) {
    const addr = vmar.base + offset;
    if (!isAligned(addr, align)) {
      throw new ZxError(S.ErrInvalidArgs, op, `address 0x${addr.toString(16)} is not aligned`);
    }
    if (!vmar.free.isFree(addr, addr + size)) {
      if (!overwrite) {
        throw new ZxError(S.ErrAlreadyExists, op, "the range overlaps an existing mapping or VMAR");
      }
      for (const c of vmar.children.overlapping(addr, addr + size)) {
        if (c instanceof RetiredRange) throw new ZxError(S.ErrBadState, op, RETIRED_WHY);
        if (c instanceof VmarObject) {
          throw new ZxError(S.ErrInvalidArgs, op, "SPECIFIC_OVERWRITE may not overlap a sub-VMAR");
        }
      }
    }
    return addr;
  }
  const P = ctx.pageSize;
  const limit = upper ? vmar.base + offset : vmar.end;
  const lo = vmar.base;
  let p: number;
  if ((vmar.flags & O.VmCompact) !== 0) {
    p = vmar.free.firstFit(lo, size, align, P, limit);
  } else {
    const span = limit - lo - size;
    const from = lo + Math.floor(ctx.prng.below(span / P + 1)) * P;
    p = vmar.free.firstFit(from, size, align, P, limit);
    if (p < 0) p = vmar.free.firstFit(lo, size, align, P, limit);
  }
  if (p < 0) throw new ZxError(S.ErrNoResources, op, "no free range of that size in the VMAR");
  return p;
}
