/**
 * VMO syscalls (Zircon's `lib/syscalls/vmo.cc` and `VmObjectDispatcher`): resolve the handle,
 * check rights and arguments in Zircon's order, then ask the {@link VmoObject}.
 *
 * @module
 */
import { ZxError } from "../../abi/error.ts";
import { u8Length } from "../../abi/intrinsics.ts";
import { VmoChildOptions, VmoOp, VmoOptions } from "../../abi/options.ts";
import { Rights } from "../../abi/rights.ts";
import { ZxStatus } from "../../abi/status.ts";
import { isAligned, roundUp, TWO_64 } from "../args.ts";
import type { KernelCore } from "../kernel.ts";
import { dropView, escapedPart, escapedWhy } from "../vm_mapping.ts";
import { VmoObject } from "../vm_object.ts";
import type { VmoInfo } from "../vm_object.ts";

const S = ZxStatus;

function fail(status: ZxStatus, op: string, why: string): ZxError {
  return new ZxError(status, op, why);
}

/** The page-rounded size for a new or resized VMO. */
function checkedSize(k: KernelCore, size: number, op: string): number {
  const rounded = roundUp(size, k.pageSize);
  if (rounded >= TWO_64) throw fail(S.ErrOutOfRange, op, "size overflows when page rounded");
  if (rounded > k.maxVmoSize) {
    throw fail(
      S.ErrOutOfRange,
      op,
      `size ${size} exceeds zxvm's largest VMO (${k.maxVmoSize} bytes)`,
    );
  }
  return rounded;
}

/** `zx_vmo_create`. */
export function vmoCreate(k: KernelCore, size: number, options: number): number {
  const op = "zx_vmo_create";
  if ((options & ~(VmoOptions.Resizable | VmoOptions.Discardable)) !== 0) {
    throw fail(S.ErrInvalidArgs, op, `unknown options 0x${options.toString(16)}`);
  }
  const rounded = checkedSize(k, size, op);
  const vmo = VmoObject.create(k.newKoid(), k.ctx.pool, size, rounded, options, op);
  return k.handles.add(vmo, Rights.DefaultVmo | (vmo.resizable ? Rights.Resize : 0)).value;
}

function checkRange(vmo: VmoObject, offset: number, len: number, op: string): void {
  if (offset + len > vmo.size) {
    throw fail(S.ErrOutOfRange, op, `range [${offset}, +${len}) exceeds the VMO size ${vmo.size}`);
  }
}

/** `zx_vmo_read` into `dst` (a plain `Uint8Array` the SDK made). */
export function vmoRead(k: KernelCore, value: number, dst: Uint8Array, offset: number): void {
  const op = "zx_vmo_read";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  k.need(e, Rights.Read, op, "read it");
  const n = u8Length(dst);
  checkRange(vmo, offset, n, op);
  if (n !== 0) vmo.read(offset, dst, op);
}

/** `zx_vmo_read` of `length` bytes into a new array (checked before allocating). */
export function vmoReadNew(
  k: KernelCore,
  value: number,
  length: number,
  offset: number,
): Uint8Array {
  const op = "zx_vmo_read";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  k.need(e, Rights.Read, op, "read it");
  checkRange(vmo, offset, length, op);
  let out: Uint8Array;
  try {
    out = new Uint8Array(length);
  } catch (x) {
    throw fail(S.ErrNoMemory, op, `cannot allocate ${length} bytes: ${x}`);
  }
  if (length !== 0) vmo.read(offset, out, op);
  return out;
}

/** `zx_vmo_write` from `src` (a plain `Uint8Array` the SDK made). */
export function vmoWrite(k: KernelCore, value: number, src: Uint8Array, offset: number): void {
  const op = "zx_vmo_write";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  k.need(e, Rights.Write, op, "write it");
  const n = u8Length(src);
  checkRange(vmo, offset, n, op);
  if (n !== 0) vmo.write(offset, src, op);
}

/** `zx_vmo_set_size`. */
export function vmoSetSize(k: KernelCore, value: number, size: number): void {
  const op = "zx_vmo_set_size";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  k.need(e, Rights.Write, op, "resize it");
  if (!vmo.resizable) throw fail(S.ErrUnavailable, op, "the VMO is not resizable");
  k.need(e, Rights.Resize, op, "resize it");
  const rounded = checkedSize(k, size, op);
  const shrinks = rounded < vmo.size;
  if (shrinks) {
    // Memory an escaped view may reach must not be cut off under it (SIGBUS).
    for (const r of vmo.records) {
      const part = escapedPart(k.ctx, r, r.start, r.end);
      if (part !== null && r.vmoOffset + (part[1] - r.start) > rounded) {
        throw fail(S.ErrBadState, op, escapedWhy("cut off by shrinking the VMO"));
      }
    }
  }
  vmo.resize(rounded, size, op);
  // Views over memory that went away are detached (native safety); no JS ran in between.
  if (shrinks) { for (const r of vmo.records) dropView(k.ctx, r.origin); }
}

/** `zx_object_get_property(ZX_PROP_VMO_CONTENT_SIZE)`. */
export function vmoGetContentSize(k: KernelCore, value: number): number {
  const op = "zx_object_get_property";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  k.need(e, Rights.GetProperty, op, "get its content size");
  return vmo.contentSize;
}

/** `zx_object_set_property(ZX_PROP_VMO_CONTENT_SIZE)`: zeroes from there to the VMO's end. */
export function vmoSetContentSize(k: KernelCore, value: number, size: number): void {
  const op = "zx_object_set_property";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  k.need(e, Rights.SetProperty, op, "set its content size");
  vmo.setContentSize(size, op);
}

/** `zx_vmo_op_range`. */
export function vmoOpRange(
  k: KernelCore,
  value: number,
  opcode: number,
  offset: number,
  size: number,
): void {
  const op = "zx_vmo_op_range";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  const end = offset + size;
  const inRange = (): void => {
    if (end > vmo.size || end >= TWO_64) {
      throw fail(
        S.ErrOutOfRange,
        op,
        `range [${offset}, +${size}) exceeds the VMO size ${vmo.size}`,
      );
    }
  };
  const P = k.pageSize;
  switch (opcode) {
    case VmoOp.Commit: {
      k.need(e, Rights.Write, op, "commit");
      inRange();
      const s = offset - (offset % P);
      const l = roundUp(end, P) - s;
      if (l > 0) vmo.commit(s, l, op);
      return;
    }
    case VmoOp.Decommit:
      k.need(e, Rights.Write, op, "decommit");
      vmo.checkDecommit(op);
      if (!isAligned(offset, P) || !isAligned(size, P)) {
        throw fail(S.ErrInvalidArgs, op, "decommit needs a page-aligned offset and size");
      }
      inRange();
      if (size > 0) vmo.decommit(offset, size, op);
      return;
    case VmoOp.Zero:
      k.need(e, Rights.Write, op, "zero");
      inRange();
      if (size > 0) vmo.zero(offset, size, op);
      return;
    case VmoOp.Lock:
    case VmoOp.TryLock:
    case VmoOp.Unlock:
      if ((e.rights & (Rights.Read | Rights.Write)) === 0) {
        throw fail(S.ErrAccessDenied, op, "lock ops need ZX_RIGHT_READ or ZX_RIGHT_WRITE");
      }
      if (!vmo.discardable) throw fail(S.ErrNotSupported, op, "lock ops need a discardable VMO");
      if (offset !== 0 || size !== vmo.size) {
        throw fail(S.ErrOutOfRange, op, "lock ops must cover the whole VMO");
      }
      if (opcode === VmoOp.Unlock) {
        if (vmo.lockCount === 0) throw fail(S.ErrBadState, op, "the VMO is not locked");
        vmo.lockCount--;
      } else {
        vmo.lockCount++; // zxvm never discards pages, so TRY_LOCK always succeeds
      }
      return;
    case VmoOp.CacheSync:
    case VmoOp.CacheClean:
    case VmoOp.CacheCleanInvalidate:
      k.need(e, Rights.Read, op, "run cache ops");
      if (size === 0) throw fail(S.ErrInvalidArgs, op, "cache ops need a non-empty range");
      inRange();
      return; // coherent memory: nothing to do
    case VmoOp.CacheInvalidate:
      throw fail(
        S.ErrNotSupported,
        op,
        "CACHE_INVALIDATE needs kernel debugging syscalls, which zxvm does not enable",
      );
    case VmoOp.Prefetch:
      k.need(e, Rights.Read, op, "prefetch");
      inRange();
      return; // nothing to fetch: zxvm's VMOs have no pager
    case VmoOp.DontNeed:
    case VmoOp.AlwaysNeed:
      inRange();
      return; // hints (no right needed)
    default:
      throw fail(S.ErrInvalidArgs, op, `unknown operation ${opcode}`);
  }
}

/** The child type an options word names, and the bits left once it is removed. */
function childKind(options: number, op: string): "slice" | "snapshot" | "reference" {
  const C = VmoChildOptions;
  let rest = options & ~C.NoWrite;
  let kind: "slice" | "snapshot" | "reference";
  if (rest & C.Slice) {
    kind = "slice";
    rest &= ~C.Slice;
  } else if (rest & C.Reference) {
    kind = "reference";
    rest &= ~(C.Reference | C.Resizable);
  } else if (rest & (C.Snapshot | C.SnapshotAtLeastOnWrite | C.SnapshotModified)) {
    kind = "snapshot";
    // Exactly one snapshot flag: the first one present, as Zircon tests them in turn.
    const one = rest & C.Snapshot ||
      rest & C.SnapshotAtLeastOnWrite || rest & C.SnapshotModified;
    rest &= ~(one | C.Resizable);
  } else {
    throw fail(S.ErrInvalidArgs, op, "exactly one child type (SNAPSHOT*, SLICE) is needed");
  }
  if (rest !== 0) {
    throw fail(S.ErrInvalidArgs, op, `options 0x${options.toString(16)} do not combine`);
  }
  return kind;
}

/** `zx_vmo_create_child`. */
export function vmoCreateChild(
  k: KernelCore,
  value: number,
  options: number,
  offset: number,
  size: number,
): number {
  const op = "zx_vmo_create_child";
  const C = VmoChildOptions;
  if ((options & C.NoWrite) !== 0 && (options & C.Resizable) !== 0) {
    throw fail(S.ErrInvalidArgs, op, "NO_WRITE and RESIZABLE cannot be combined");
  }
  const e = k.vmo(value, op);
  const parent = e.obj;
  k.need(e, Rights.Duplicate | Rights.Read, op, "create children");
  if (parent.discardable) {
    throw fail(S.ErrNotSupported, op, "discardable VMOs cannot have children");
  }
  const kind = childKind(options, op);
  if (kind === "reference") {
    throw fail(
      S.ErrNotSupported,
      op,
      "ZX_VMO_CHILD_REFERENCE is not implemented by zxvm (see README)",
    );
  }
  // Zircon checks the offset's alignment before it rounds the size (CreateChildSlice,
  // CreateClone).
  if (!isAligned(offset, k.pageSize)) {
    throw fail(S.ErrInvalidArgs, op, "offset must be page aligned");
  }
  const rounded = checkedSize(k, size, op);
  const resizable = (options & C.Resizable) !== 0;
  let child: VmoObject;
  if (kind === "slice") {
    if (offset > parent.size || rounded > parent.size - offset) {
      throw fail(S.ErrInvalidArgs, op, "a slice must lie within its parent");
    }
    if (parent.resizable) {
      throw fail(S.ErrNotSupported, op, "slices of resizable VMOs are not supported");
    }
    parent.checkChainOffset(offset, rounded, op);
    child = parent.createSlice(k.newKoid(), offset, rounded, size);
  } else {
    if (offset + rounded >= TWO_64) throw fail(S.ErrOutOfRange, op, "offset + size overflows");
    parent.checkChainOffset(offset, rounded, op);
    child = parent.createSnapshot(k.newKoid(), offset, rounded, size, options, op, k.ctx.pool);
  }
  // Zircon copies the name into the child when the parent handle may read it (copy_name).
  if ((e.rights & Rights.GetProperty) !== 0) child.name = parent.name;
  let rights = (e.rights & ~Rights.Resize) | (resizable ? Rights.Resize : 0) |
    Rights.GetProperty | Rights.SetProperty;
  if (options & C.NoWrite) rights &= ~Rights.Write;
  else if (kind === "snapshot") rights = (rights & ~Rights.Execute) | Rights.Write;
  return k.handles.add(child, rights).value;
}

/** `zx_object_get_info(ZX_INFO_VMO)`. */
export function vmoInfo(k: KernelCore, value: number): VmoInfo {
  const op = "zx_object_get_info";
  const e = k.vmo(value, op);
  const vmo = e.obj;
  return vmo.info(e.rights, op);
}
