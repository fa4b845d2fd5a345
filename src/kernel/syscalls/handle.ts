/**
 * Handle syscalls (Zircon's `lib/syscalls/handle_ops.cc`): close, duplicate, replace, and
 * `ZX_INFO_HANDLE_BASIC`.
 *
 * @module
 */
import { ZxError } from "../../abi/error.ts";
import { Rights } from "../../abi/rights.ts";
import { ZxStatus } from "../../abi/status.ts";
import { ChannelObject } from "../channel.ts";
import type { HandleEntry } from "../handles.ts";
import type { KernelCore } from "../kernel.ts";

/** `zx_info_handle_basic_t` in zxvm's shape. */
export interface BasicInfo {
  /** The object's koid. */
  koid: number;
  /** The handle's rights. */
  rights: number;
  /** `ZX_OBJ_TYPE_*` number (3 for VMO, 4 for channel, 18 for VMAR). */
  type: number;
  /** Related object's koid: a channel endpoint's peer (also once closed); 0 for VMOs and VMARs. */
  relatedKoid: number;
}

/** `zx_handle_close`. */
export function handleClose(k: KernelCore, value: number): void {
  k.dropHandle(k.lookup(value, "zx_handle_close"));
}

function newRights(e: HandleEntry, rights: number, op: string): number {
  if (rights === Rights.SameRights) return e.rights;
  if ((e.rights & rights) !== rights || rights > 0x7FFFFFFF) {
    throw new ZxError(
      ZxStatus.ErrInvalidArgs,
      op,
      `rights 0x${rights.toString(16)} are not a subset of the handle's 0x${e.rights.toString(16)}`,
    );
  }
  return rights;
}

/** `zx_handle_duplicate`. */
export function handleDuplicate(k: KernelCore, value: number, rights: number): number {
  const op = "zx_handle_duplicate";
  const e = k.lookup(value, op);
  k.need(e, Rights.Duplicate, op, "duplicate it");
  return k.handles.add(e.obj, newRights(e, rights, op)).value;
}

/** `zx_handle_replace`: the old handle is invalid afterwards, also on failure. */
export function handleReplace(k: KernelCore, value: number, rights: number): number {
  const op = "zx_handle_replace";
  const e = k.lookup(value, op);
  if (value === k.rootHandle) {
    throw new ZxError(
      ZxStatus.ErrNotSupported,
      op,
      "the root VMAR handle is borrowed from the kernel; duplicate it instead",
    );
  }
  let r: number;
  try {
    r = newRights(e, rights, op);
  } catch (x) {
    k.dropHandle(e);
    throw x;
  }
  // Issue the new handle before dropping the old so the object stays alive.
  const n = k.handles.add(e.obj, r).value;
  k.dropHandle(e);
  return n;
}

/** `zx_object_get_info(ZX_INFO_HANDLE_BASIC)`. */
export function basicInfo(k: KernelCore, value: number): BasicInfo {
  const e = k.lookup(value, "zx_object_get_info");
  const related = e.obj instanceof ChannelObject ? e.obj.peerKoid : 0;
  return { koid: e.obj.koid, rights: e.rights, type: e.obj.zxType, relatedKoid: related };
}
