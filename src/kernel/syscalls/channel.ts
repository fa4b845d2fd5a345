/**
 * Channel syscalls (Zircon's `lib/syscalls/channel.cc`, `object/user_handles.cc` and
 * `ChannelDispatcher::Read`/`Write`), checked in Zircon's order:
 *
 * `zx_channel_create`: options ≠ 0 → INVALID_ARGS; two handles with `ZX_DEFAULT_CHANNEL_RIGHTS`.
 *
 * `zx_channel_write` — every listed handle is consumed, whatever the outcome:
 * 1. options other than 0 → INVALID_ARGS (`ZX_CHANNEL_WRITE_USE_IOVEC` alone: NOT_SUPPORTED in
 *    zxvm, which has no iovec form);
 * 2. the channel handle: BAD_HANDLE, WRONG_TYPE, then ACCESS_DENIED without WRITE;
 * 3. more than 65,536 bytes or 64 handles → OUT_OF_RANGE (`MessagePacket::Create`);
 *    a failure in 1–3 closes every listed handle that is live (`RemoveUserHandles`);
 * 4. each listed handle, in order, leaves the table (`get_handle_for_message_locked`): not live
 *    (also: listed twice) → BAD_HANDLE, without TRANSFER → ACCESS_DENIED, the endpoint being
 *    written → NOT_SUPPORTED; zxvm adds: a VMAR → NOT_SUPPORTED (a VMAR is bound to its
 *    address space) and a VMO whose memory is of another backend kind than the receiving
 *    kernel's → NOT_SUPPORTED. The first failure is the call's; every handle still leaves
 *    the table and is closed with the message — except the kernel's borrowed root VMAR
 *    handle, which only its kernel can close;
 * 5. the peer closed → PEER_CLOSED (the message and its handles are destroyed).
 *
 * `zx_channel_read`: the handle (BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED without READ); options
 * other than `ZX_CHANNEL_READ_MAY_DISCARD` → NOT_SUPPORTED; empty → PEER_CLOSED when the peer
 * closed, else SHOULD_WAIT; a message larger than the caller allows → BUFFER_TOO_SMALL (it stays
 * queued; with MAY_DISCARD it is destroyed). zxvm adds: a message carrying a VMO of another
 * backend kind than this kernel's → NOT_SUPPORTED (it stays queued). Otherwise the handles are
 * installed in this kernel's table with the rights they were written with.
 *
 * @module
 */
import { ChannelLimits, ChannelOptions } from "../../abi/channel.ts";
import { ZxError } from "../../abi/error.ts";
import { u8Copy, u8Length } from "../../abi/intrinsics.ts";
import { Rights } from "../../abi/rights.ts";
import { ZxStatus } from "../../abi/status.ts";
import { ChannelObject, destroyMessages, type MessageHandle } from "../channel.ts";
import type { HandleEntry } from "../handles.ts";
import type { KernelCore } from "../kernel.ts";
import { type EndpointToken, exportObject, importObjects, wasImported } from "../channel_link.ts";
import { join } from "../realm.ts";
import { VmarObject } from "../vm_address_region.ts";
import { VmoObject } from "../vm_object.ts";
import { cancelWaits } from "./object.ts";

const S = ZxStatus;
const WRITE = "zx_channel_write";
const READ = "zx_channel_read";

/** What `zx_channel_read` hands back: the bytes and the new handles with their types. */
export interface ChannelReadResult {
  /** The message's bytes (the caller's to keep). */
  bytes: Uint8Array;
  /** The handles, now in the reader's table, in the order written. */
  handles: Array<{ value: number; type: "vmo" | "channel" }>;
}

/**
 * `zx_channel_create`; the second endpoint goes to kernel `peer` (the first channel between
 * two kernels of this realm, like a process's bootstrap channel).
 */
export function channelCreate(k: KernelCore, options: number, peer: KernelCore): [number, number] {
  const op = "zx_channel_create";
  if (options !== 0) {
    throw new ZxError(S.ErrInvalidArgs, op, `options must be 0, got 0x${options.toString(16)}`);
  }
  if (k.closed || peer.closed) throw new ZxError(S.ErrBadState, op, "the kernel was closed");
  const [a, b] = ChannelObject.pair(k.newKoid(), k.newKoid(), k);
  b.owner = peer;
  if (peer !== k) {
    // Objects made here may now live on in `peer`: both keep their koid ranges retired.
    join(k);
    join(peer);
  }
  return [
    k.handles.add(a, Rights.DefaultChannel).value,
    peer.handles.add(b, Rights.DefaultChannel).value,
  ];
}

/** A live channel handle (`ErrWrongType` for other objects). */
function channelEntry(k: KernelCore, value: number, op: string): [HandleEntry, ChannelObject] {
  const e = k.lookup(value, op);
  if (!(e.obj instanceof ChannelObject)) {
    throw new ZxError(S.ErrWrongType, op, `handle ${value} is not a channel`);
  }
  return [e, e.obj];
}

/**
 * Zircon's `RemoveUserHandles`: close every listed handle that is live (a channel write that
 * failed before its message was built). The borrowed root VMAR handle stays.
 */
export function removeHandles(k: KernelCore, values: readonly number[]): void {
  if (k.closed) return;
  for (const v of values) {
    const e = k.handles.get(v);
    if (e !== undefined && v !== k.rootHandle) k.dropHandle(e);
  }
}

/** Why handle entry `he` cannot travel in a message written to `ch`, or null. */
function refusal(he: HandleEntry, ch: ChannelObject, i: number): ZxError | null {
  const what = `handles[${i}] (handle ${he.value})`;
  if ((he.rights & Rights.Transfer) === 0) {
    return new ZxError(S.ErrAccessDenied, WRITE, `${what} lacks ZX_RIGHT_TRANSFER`);
  }
  if (he.obj === ch) {
    return new ZxError(S.ErrNotSupported, WRITE, `${what} is the channel endpoint written to`);
  }
  if (he.obj instanceof VmarObject) {
    return new ZxError(
      S.ErrNotSupported,
      WRITE,
      `${what} is a VMAR: a VMAR is bound to its kernel's address space and cannot be sent`,
    );
  }
  const link = ch.peer?.link ?? null;
  const far = link === null ? null : link.refuse(he.obj);
  if (far !== null) return new ZxError(S.ErrNotSupported, WRITE, `${what}: ${far}`);
  const dest = ch.peer?.owner ?? null;
  if (he.obj instanceof VmoObject && dest !== null && dest.backend.kind !== he.obj.memoryKind) {
    return new ZxError(S.ErrNotSupported, WRITE, kindWhy(what, he.obj, dest));
  }
  return null;
}

function kindWhy(what: string, vmo: VmoObject, k: KernelCore): string {
  return `${what} is a VMO of ${vmo.memoryKind} memory, and the receiving kernel runs on the ` +
    `${k.backend.kind} backend: memory cannot move between backends`;
}

/** `zx_channel_write`: every handle in `values` is consumed, also on failure. */
export function channelWrite(
  k: KernelCore,
  value: number,
  options: number,
  bytes: Uint8Array,
  values: readonly number[],
): void {
  let ch: ChannelObject;
  let copy: Uint8Array;
  try {
    if (options !== 0) {
      if (options === ChannelOptions.WriteUseIovec) {
        throw new ZxError(
          S.ErrNotSupported,
          WRITE,
          "ZX_CHANNEL_WRITE_USE_IOVEC: zxvm takes the bytes as one Uint8Array",
        );
      }
      throw new ZxError(S.ErrInvalidArgs, WRITE, `unknown options 0x${options.toString(16)}`);
    }
    const [e, c] = channelEntry(k, value, WRITE);
    k.need(e, Rights.Write, WRITE, "write to it");
    ch = c;
    const n = u8Length(bytes);
    if (n > ChannelLimits.MaxMsgBytes || values.length > ChannelLimits.MaxMsgHandles) {
      throw new ZxError(
        S.ErrOutOfRange,
        WRITE,
        `a message holds at most ${ChannelLimits.MaxMsgBytes} bytes and ` +
          `${ChannelLimits.MaxMsgHandles} handles, got ${n} bytes and ${values.length} handles`,
      );
    }
    copy = new Uint8Array(n);
    if (n > 0) u8Copy(copy, bytes, 0);
  } catch (x) {
    removeHandles(k, values);
    throw x;
  }
  // Every handle leaves the table now; the first failure is the call's.
  let failure: ZxError | null = null;
  const moved: MessageHandle[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const he = k.handles.get(v);
    if (he === undefined) {
      failure ??= new ZxError(
        S.ErrBadHandle,
        WRITE,
        `handles[${i}] (handle ${v}) is not a valid handle (closed, listed twice, or another ` +
          "kernel's)",
      );
      continue;
    }
    const why = refusal(he, ch, i);
    if (v === k.rootHandle) {
      failure ??= why; // borrowed: it never leaves its kernel
      continue;
    }
    k.handles.moveOut(he);
    cancelWaits(he.obj, k, v, "the handle was written to a channel");
    if (he.obj instanceof ChannelObject) he.obj.owner = null;
    moved.push({ obj: he.obj, rights: he.rights });
    failure ??= why;
  }
  const msg = { bytes: copy, handles: moved };
  if (failure === null && ch.peer === null) {
    failure = new ZxError(S.ErrPeerClosed, WRITE, "the peer endpoint was closed");
  }
  if (failure !== null) {
    destroyMessages([msg]);
    throw failure;
  }
  if (moved.length > 0) join(k);
  (ch.peer as ChannelObject).enqueue(msg);
}

/** `zx_channel_read`: the first message, if it fits in `numBytes` and `numHandles`. */
export function channelRead(
  k: KernelCore,
  value: number,
  options: number,
  numBytes: number,
  numHandles: number,
): ChannelReadResult {
  const [e, ch] = channelEntry(k, value, READ);
  k.need(e, Rights.Read, READ, "read from it");
  if ((options & ~ChannelOptions.ReadMayDiscard) !== 0) {
    throw new ZxError(S.ErrNotSupported, READ, `unknown options 0x${options.toString(16)}`);
  }
  const msg = ch.front();
  if (msg === undefined) {
    if (ch.peer === null) {
      throw new ZxError(S.ErrPeerClosed, READ, "no message is queued and the peer was closed");
    }
    throw new ZxError(S.ErrShouldWait, READ, "no message is queued");
  }
  const nb = u8Length(msg.bytes);
  const nh = msg.handles.length;
  if (nb > numBytes || nh > numHandles) {
    const discard = (options & ChannelOptions.ReadMayDiscard) !== 0;
    if (discard) destroyMessages([ch.dequeue()]);
    throw new ZxError(
      S.ErrBufferTooSmall,
      READ,
      `the next message has ${nb} bytes and ${nh} handles; the read allows ${numBytes} bytes ` +
        `and ${numHandles} handles (${
          discard ? "discarded: ZX_CHANNEL_READ_MAY_DISCARD" : "it stays queued"
        })`,
    );
  }
  msg.handles.forEach((h, i) => {
    if (h.obj instanceof VmoObject && h.obj.memoryKind !== k.backend.kind) {
      throw new ZxError(
        S.ErrNotSupported,
        READ,
        `${kindWhy(`handles[${i}]`, h.obj, k)} (the message stays queued)`,
      );
    }
  });
  ch.dequeue();
  const handles = msg.handles.map((h) => {
    if (h.obj instanceof ChannelObject) h.obj.owner = k;
    return {
      value: k.handles.moveIn(h.obj, h.rights).value,
      type: h.obj.type as "vmo" | "channel",
    };
  });
  if (handles.length > 0) join(k);
  return { bytes: msg.bytes, handles };
}

/**
 * Export channel endpoint `value` to another realm (zxvm's, no Zircon syscall): the handle
 * leaves the table (consumed, as a handle written into a channel) and the endpoint is pumped
 * over the token's port. Checks: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED without TRANSFER.
 */
export function channelExport(k: KernelCore, value: number): EndpointToken {
  const op = "zx_channel_export";
  const [e, ch] = channelEntry(k, value, op);
  k.need(e, Rights.Transfer, op, "send it to another realm");
  k.handles.moveOut(e);
  cancelWaits(ch, k, value, "the handle was exported");
  return exportObject(ch, e.rights, k);
}

/** Import an endpoint token made by {@link channelExport} in another realm: a new handle. */
export function channelImport(k: KernelCore, t: EndpointToken): number {
  const op = "zx_channel_import";
  if (k.closed) throw new ZxError(S.ErrBadState, op, "the kernel was closed");
  if (wasImported(t.port)) {
    throw new ZxError(S.ErrBadState, op, "this token's port was imported already");
  }
  if ((t.rights & ~Rights.DefaultChannel) !== 0) {
    throw new ZxError(S.ErrInvalidArgs, op, "the token's rights are not channel rights");
  }
  const [mine] = importObjects(k, t);
  return k.handles.add(mine, t.rights).value;
}
