/**
 * One Zircon kernel: the handle table, koids and lifetime, over a {@link Backend}. The
 * syscalls live in `syscalls/` (argument and rights checks, in Zircon's order) and the
 * semantics in the objects (`vm_object.ts`, `vm_address_region.ts`, `vm_mapping.ts`,
 * `access.ts`, `channel.ts`); this class is the shell the SDK calls through. Every check happens before any
 * state changes, and multi-step changes roll back, so a call that throws has changed nothing.
 *
 * Arguments arrive decoded by the SDK (`src/sdk/args.ts`): handle values and flag words as u32
 * numbers, sizes/offsets/addresses as exact u64 numbers, bytes as plain `Uint8Array`s.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxVmOption as O } from "../abi/options.ts";
import { Rights, rightsName } from "../abi/rights.ts";
import { ZxStatus } from "../abi/status.ts";
import type { AddressSpace, Backend } from "../backend/types.ts";
import { readAt, writeAt } from "./access.ts";
import { ChannelObject, releaseObjects } from "./channel.ts";
import { CAN_MAP_RWX } from "./flags.ts";
import { type HandleEntry, HandleTable, type KObject } from "./handles.ts";
import { Prng } from "./prng.ts";
import { KOID_RANGE, leave, memberOfKind, releaseKoidSlot, takeKoidSlot } from "./realm.ts";
import * as channel from "./syscalls/channel.ts";
import * as futex from "./syscalls/futex.ts";
import * as handle from "./syscalls/handle.ts";
import * as object from "./syscalls/object.ts";
import * as vmar from "./syscalls/vmar.ts";
import * as vmo from "./syscalls/vmo.ts";
import { RetiredRange, VmarObject } from "./vm_address_region.ts";
import {
  dropView,
  escapedPart,
  type MappingInfo,
  type MappingOrigin,
  MappingRecord,
  originView,
  unhookRecord,
  type VmContext,
} from "./vm_mapping.ts";
import { MemoryPool } from "./memory_pool.ts";
import type { EndpointToken } from "./channel_link.ts";
import { type VmoInfo, VmoObject } from "./vm_object.ts";

export type { BasicInfo } from "./syscalls/handle.ts";
export type { ChannelReadResult } from "./syscalls/channel.ts";
export type { MappingInfo, VmoInfo };

const S = ZxStatus;

/** Options for {@link KernelCore}. */
export interface KernelCoreOptions {
  /** Seed for placement randomisation and handle values (deterministic when given). */
  seed?: number;
  /** Size of the root VMAR in bytes (page multiple). */
  rootVmarSize?: number;
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
  /** What the VM objects share: backend, address space, placement PRNG, memory pool. */
  readonly ctx: VmContext;
  /** The root VMAR. */
  readonly root: VmarObject;
  /** The value of the kernel's own (borrowed) root VMAR handle. */
  readonly rootHandle: number;
  /** The handle table. */
  readonly handles: HandleTable;
  readonly #koidSlot: number;
  #nextKoid: number;
  #closed = false;

  /** Open a kernel over `backend` (which it then owns). */
  constructor(backend: Backend, opts: KernelCoreOptions = {}) {
    this.backend = backend;
    this.pageSize = backend.pageSize;
    this.maxVmoSize = backend.maxMemorySize;
    const seed = opts.seed ?? ((Math.random() * 2 ** 32) >>> 0);
    const prng = new Prng(seed);
    this.handles = new HandleTable(prng.nextU32());
    const size = opts.rootVmarSize ?? 2 ** 36;
    // Hint for emulated placement: a page-aligned base in the lower half of a 47-bit space,
    // aligned to 4 GiB so alignment tests see realistic addresses.
    const hint = (1 + prng.below(2 ** 14)) * 2 ** 32;
    this.aspace = backend.createAddressSpace(size, hint);
    try {
      this.#koidSlot = takeKoidSlot();
    } catch (x) {
      this.aspace.close();
      throw x;
    }
    this.#nextKoid = this.#koidSlot * KOID_RANGE + 1024;
    this.ctx = {
      backend,
      aspace: this.aspace,
      pageSize: this.pageSize,
      prng,
      pool: new MemoryPool(backend),
    };
    const flags = CAN_MAP_RWX | O.VmCanMapSpecific;
    this.root = new VmarObject(this.newKoid(), this.aspace.base, this.aspace.size, flags, null);
    const rights = Rights.DefaultVmar | Rights.Read | Rights.Write | Rights.Execute;
    this.rootHandle = this.handles.add(this.root, rights).value;
  }

  /** Live handles, not counting the kernel's own root VMAR handle. */
  get handleCount(): number {
    return this.handles.size - (this.handles.get(this.rootHandle) ? 1 : 0);
  }

  /** Whether {@link KernelCore.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The backend's kind (what memory a VMO sent here must be made of). */
  get kind(): "native" | "emulated" {
    return this.backend.kind;
  }

  /** A fresh koid. */
  newKoid(): number {
    return this.#nextKoid++;
  }

  // ---------------------------------------------------------------- handle lookup

  /** The entry for a live handle (`ErrBadHandle` otherwise, naming a closed kernel). */
  lookup(value: number, op: string): HandleEntry {
    if (this.#closed) throw new ZxError(S.ErrBadHandle, op, "the kernel was closed");
    const e = this.handles.get(value);
    if (e === undefined) throw new ZxError(S.ErrBadHandle, op, `handle ${value} is not valid`);
    return e;
  }

  /** A live VMO handle (`ErrWrongType` for other objects). */
  vmo(value: number, op: string): HandleEntry & { readonly obj: VmoObject } {
    const e = this.lookup(value, op);
    if (!(e.obj instanceof VmoObject)) {
      throw new ZxError(S.ErrWrongType, op, `handle ${value} is not a VMO`);
    }
    return e as HandleEntry & { readonly obj: VmoObject };
  }

  /** A live VMAR handle (`ErrWrongType` for other objects). */
  vmar(value: number, op: string): HandleEntry & { readonly obj: VmarObject } {
    const e = this.lookup(value, op);
    if (!(e.obj instanceof VmarObject)) {
      throw new ZxError(S.ErrWrongType, op, `handle ${value} is not a VMAR`);
    }
    return e as HandleEntry & { readonly obj: VmarObject };
  }

  /** Require `rights` on `e` to do `what` (`ErrAccessDenied` naming the missing rights). */
  need(e: HandleEntry, rights: number, op: string, what: string): void {
    const missing = rights & ~e.rights;
    if (missing !== 0) {
      throw new ZxError(
        S.ErrAccessDenied,
        op,
        `handle ${e.value} lacks ${rightsName(missing)}, needed to ${what}`,
      );
    }
  }

  /**
   * Remove a handle: its waits are cancelled and its object may be destroyed (a channel
   * endpoint closes: its peer sees PEER_CLOSED, the handles queued for it are closed).
   */
  dropHandle(e: HandleEntry): void {
    this.handles.delete(e);
    object.cancelWaits(e.obj, this, e.value, "the handle was closed");
    if (e.obj instanceof VmoObject) e.obj.maybeDestroy();
    else if (e.obj instanceof ChannelObject) releaseObjects([e.obj]);
  }

  /** The entry for a live handle, or throws `ErrBadHandle`. */
  entry(value: number, op: string): HandleEntry {
    return this.lookup(value, op);
  }

  /** Whether `value` is a live handle. */
  isValid(value: number): boolean {
    return !this.#closed && this.handles.get(value) !== undefined;
  }

  // ---------------------------------------------------------------- syscalls

  /** `zx_handle_close`. */
  handleClose(value: number): void {
    handle.handleClose(this, value);
  }
  /** `zx_handle_duplicate`. */
  handleDuplicate(value: number, rights: number): number {
    return handle.handleDuplicate(this, value, rights);
  }
  /** `zx_handle_replace`: the old handle is invalid afterwards, also on failure. */
  handleReplace(value: number, rights: number): number {
    return handle.handleReplace(this, value, rights);
  }
  /** `zx_object_get_info(ZX_INFO_HANDLE_BASIC)`. */
  basicInfo(value: number): handle.BasicInfo {
    return handle.basicInfo(this, value);
  }
  /** `zx_object_get_property(ZX_PROP_NAME)`. */
  getName(value: number): string {
    return object.getName(this, value);
  }
  /** `zx_object_set_property(ZX_PROP_NAME)`: names longer than 31 bytes are truncated. */
  setName(value: number, name: string): void {
    object.setName(this, value, name);
  }
  /** Current signals of the handle's object (needs `Rights.Wait`). */
  signals(value: number, op?: string): number {
    return object.signals(this, value, op);
  }
  /** `zx_object_wait_one` (see `syscalls/object.ts`). */
  waitOne(value: number, mask: number, deadline: number, signal?: AbortSignal): Promise<number> {
    return object.waitOne(this, value, mask, deadline, signal);
  }
  /** `zx_channel_create`: two connected endpoints, the second in `peer` (default: here). */
  channelCreate(options: number, peer: KernelCore = this): [number, number] {
    return channel.channelCreate(this, options, peer);
  }
  /** `zx_channel_write`: every handle in `handles` is consumed, also on failure. */
  channelWrite(value: number, options: number, bytes: Uint8Array, handles: number[]): void {
    channel.channelWrite(this, value, options, bytes, handles);
  }
  /** `zx_channel_read` of a message of at most `numBytes` bytes and `numHandles` handles. */
  channelRead(
    value: number,
    options: number,
    numBytes: number,
    numHandles: number,
  ): channel.ChannelReadResult {
    return channel.channelRead(this, value, options, numBytes, numHandles);
  }
  /** Close every listed live handle (a channel write the SDK refused after reading the list). */
  /** Export channel endpoint `value` to another realm (see `channel_link.ts`). */
  channelExport(value: number): EndpointToken {
    return channel.channelExport(this, value);
  }
  /** Import an endpoint token from another realm: a new handle. */
  channelImport(token: EndpointToken): number {
    return channel.channelImport(this, token);
  }
  removeHandles(handles: number[]): void {
    channel.removeHandles(this, handles);
  }
  /** `zx_vmo_create`. */
  vmoCreate(size: number, options: number): number {
    return vmo.vmoCreate(this, size, options);
  }
  /** `zx_vmo_read` into `dst`. */
  vmoRead(value: number, dst: Uint8Array, offset: number): void {
    vmo.vmoRead(this, value, dst, offset);
  }
  /** `zx_vmo_read` of `length` bytes into a new array (checked before allocating). */
  vmoReadNew(value: number, length: number, offset: number): Uint8Array {
    return vmo.vmoReadNew(this, value, length, offset);
  }
  /** `zx_vmo_write` from `src`. */
  vmoWrite(value: number, src: Uint8Array, offset: number): void {
    vmo.vmoWrite(this, value, src, offset);
  }
  /** `zx_vmo_get_size` (no right needed). */
  vmoGetSize(value: number): number {
    return this.vmo(value, "zx_vmo_get_size").obj.size;
  }
  /** `zx_vmo_set_size`. */
  vmoSetSize(value: number, size: number): void {
    vmo.vmoSetSize(this, value, size);
  }
  /** `zx_object_get_property(ZX_PROP_VMO_CONTENT_SIZE)`. */
  vmoGetContentSize(value: number): number {
    return vmo.vmoGetContentSize(this, value);
  }
  /** `zx_object_set_property(ZX_PROP_VMO_CONTENT_SIZE)`. */
  vmoSetContentSize(value: number, size: number): void {
    vmo.vmoSetContentSize(this, value, size);
  }
  /** `zx_vmo_op_range`. */
  vmoOpRange(value: number, opcode: number, offset: number, size: number): void {
    vmo.vmoOpRange(this, value, opcode, offset, size);
  }
  /** `zx_vmo_create_child`. */
  vmoCreateChild(value: number, options: number, offset: number, size: number): number {
    return vmo.vmoCreateChild(this, value, options, offset, size);
  }
  /** `zx_object_get_info(ZX_INFO_VMO)`. */
  vmoInfo(value: number): VmoInfo {
    return vmo.vmoInfo(this, value);
  }
  /** `zx_object_get_info(ZX_INFO_VMAR)`. */
  vmarInfo(value: number): { base: number; len: number } {
    return vmar.vmarInfo(this, value);
  }
  /** `zx_vmar_allocate`: the new VMAR's handle and base. */
  vmarAllocate(
    value: number,
    options: number,
    offset: number,
    size: number,
  ): { handle: number; base: number } {
    return vmar.vmarAllocate(this, value, options, offset, size);
  }
  /** `zx_vmar_map`: the new mapping's origin. */
  vmarMap(
    value: number,
    options: number,
    vmarOffset: number,
    vmoValue: number,
    vmoOffset: number,
    len: number,
  ): MappingOrigin {
    return vmar.vmarMap(this, value, options, vmarOffset, vmoValue, vmoOffset, len);
  }
  /** `zx_vmar_unmap`. */
  vmarUnmap(value: number, addr: number, len: number): void {
    vmar.vmarUnmap(this, value, addr, len);
  }
  /** Unmap every piece of one map call (`Mapping.unmap()`). */
  unmapOrigin(origin: MappingOrigin): void {
    vmar.unmapOrigin(this, origin);
  }
  /** `zx_vmar_protect`. */
  vmarProtect(value: number, options: number, addr: number, len: number): void {
    vmar.vmarProtect(this, value, options, addr, len);
  }
  /** `zx_vmar_destroy`. */
  vmarDestroy(value: number): void {
    vmar.vmarDestroy(this, value);
  }
  /** `zx_vmar_op_range`. */
  vmarOpRange(value: number, opcode: number, addr: number, len: number): void {
    vmar.vmarOpRange(this, value, opcode, addr, len);
  }
  /** Mappings in the VMAR's subtree, in address order. */
  vmarMappings(value: number): MappingInfo[] {
    return vmar.vmarMappings(this, value);
  }
  /** `Mapping.read`: memory at `addr`, checked as a CPU would (see `access.ts`). */
  readAt(addr: number, dst: Uint8Array, origin: MappingOrigin | null = null): void {
    readAt(this.root, addr, dst, origin);
  }
  /** `Mapping.write`: all or nothing (see `access.ts`). */
  writeAt(addr: number, src: Uint8Array, origin: MappingOrigin | null = null): void {
    writeAt(this.root, addr, src, origin);
  }
  /** `zx_futex_wait`, blocking (see `syscalls/futex.ts`). */
  futexWait(addr: number, value: number, deadline: number): void {
    futex.futexWait(this, addr, value, deadline);
  }
  /** `zx_futex_wait` as a promise (see `syscalls/futex.ts`). */
  futexWaitAsync(addr: number, value: number, deadline: number): Promise<void> {
    return futex.futexWaitAsync(this, addr, value, deadline);
  }
  /** `zx_futex_wake`: how many waiters woke (see `syscalls/futex.ts`). */
  futexWake(addr: number, count: number): number {
    return futex.futexWake(this, addr, count);
  }
  /** The zero-copy view of a whole mapping for `Mapping.bytes()`. */
  originView(origin: MappingOrigin): Uint8Array {
    const op = "zx_vmar_map";
    if (this.#closed) throw new ZxError(S.ErrBadState, op, "the kernel was closed");
    return originView(this.ctx, origin, op);
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Release everything: handles, mappings, memory, the address space and the backend. Objects
   * that other kernels still reach (sent through channels) live on: channel peers elsewhere see
   * PEER_CLOSED, and memory of VMOs still in use moves to another open kernel of this kind.
   */
  close(): void {
    if (this.#closed) return;
    futex.cancelFutexWaits(this);
    // Views go first; memory an escaped view may reach stays (as private zero pages).
    const records: MappingRecord[] = [];
    const stack: Array<VmarObject | MappingRecord> = [this.root];
    while (stack.length > 0) {
      const c = stack.pop() as VmarObject | MappingRecord;
      if (c instanceof MappingRecord) {
        dropView(this.ctx, c.origin);
        const part = escapedPart(this.ctx, c, c.start, c.end);
        if (part !== null) this.aspace.retire(part[0], part[1] - part[0]);
        records.push(c);
      } else if (!(c instanceof RetiredRange)) {
        for (const x of c.children.all()) stack.push(x);
      }
    }
    for (const e of this.handles.entries()) {
      object.cancelWaits(e.obj, this, null, "the kernel was closed");
    }
    this.#closed = true;
    // Every handle is closed with the kernel (handleCount reads 0 afterwards), and every
    // mapping goes with the address space.
    const lost: KObject[] = [];
    for (const e of this.handles.entries()) {
      this.handles.delete(e);
      lost.push(e.obj);
    }
    for (const r of records) {
      unhookRecord(r);
      lost.push(r.vmo);
    }
    releaseObjects(lost);
    const member = leave(this);
    releaseKoidSlot(this.#koidSlot, member);
    try {
      this.aspace.close();
    } finally {
      // Memory still live here belongs to VMOs other kernels reach.
      const next = member ? memberOfKind(this.kind, this) : null;
      this.ctx.pool.handOver(next === null ? null : next.ctx.pool);
      this.backend.close();
    }
  }
}
