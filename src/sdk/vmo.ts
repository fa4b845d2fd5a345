/**
 * `Vmo`: a virtual memory object — a sized container of pages.
 *
 * @module
 */
import { VmoOptions } from "../abi/options.ts";
import type { VmoInfo } from "../kernel/kernel.ts";
import { bytesArg, readTarget, u32, u64 } from "./args.ts";
import { Handle, handleCore, handleKernel, handleValue } from "./handle.ts";
import { INTERNAL } from "./internal.ts";
import { Kernel } from "./kernel.ts";

/**
 * A handle to a VMO. Create one with {@link Vmo.create} (default kernel) or
 * `kernel.createVmo`. Closing the last handle frees the VMO once no mapping or child uses it.
 *
 * @example
 * ```ts
 * import { Vmo } from "../../mod.ts";
 * using vmo = Vmo.create(8192);
 * vmo.write(new TextEncoder().encode("hello"), 0);
 * console.log(new TextDecoder().decode(vmo.read(5, 0))); // "hello"
 * ```
 */
export class Vmo extends Handle {
  /**
   * `zx_vmo_create` on the default kernel: a zero-filled VMO of `size` bytes rounded up to
   * whole pages, with `options` honoured (unlike the origin document's binding, which dropped
   * them). The handle gets `Rights.DefaultVmo`, plus `Rights.Resize` when resizable.
   *
   * @param size bytes (number or bigint); at most 2^40
   * @param options `VmoOptions.Default`, `Resizable`, `Discardable` (OR-ed)
   * @throws {ZxError} `ErrInvalidArgs` (unknown options or a size outside u64),
   *   `ErrOutOfRange` (larger than zxvm's largest VMO), `ErrNoMemory`
   * @throws {TypeError} when `size` or `options` is not a number or bigint (checked before the
   *   default kernel is opened)
   */
  static create(size: number | bigint, options: number = VmoOptions.Default): Vmo {
    const op = "zx_vmo_create";
    const s = u64(size, "size", op);
    const o = u32(options, "options", op);
    return Kernel.default.createVmo(s, o);
  }

  /** Always `"vmo"`. */
  get type(): "vmo" {
    return "vmo";
  }

  /**
   * `zx_vmo_read`: with a length, returns a new array of the bytes at `offset`; with a
   * `Uint8Array`, fills it. A zero-length read at `offset == size` succeeds.
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrAccessDenied` (no `Rights.Read`), `ErrOutOfRange`
   *   (past the end), `ErrInvalidArgs` (offset/length outside u64)
   * @throws {TypeError} for wrong argument types (a Proxy is not a `Uint8Array`; objects are
   *   never converted to numbers)
   */
  read(length: number | bigint, offset?: number | bigint): Uint8Array;
  /**
   * `zx_vmo_read` into `into` (its whole length, as the engine knows it: own or inherited
   * `length`/`byteLength`/`byteOffset`/`buffer` properties are not consulted) from `offset`. A
   * detached `into` has length 0 (a 0-byte read; `offset` is still checked). Nothing is
   * written into `into` when the call fails.
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrAccessDenied` (no `Rights.Read`), `ErrOutOfRange`
   * @throws {TypeError} when `into` is not a `Uint8Array` (a Proxy is not one) or `offset` is
   *   not a number or bigint
   */
  read(into: Uint8Array, offset?: number | bigint): void;
  read(what: number | bigint | Uint8Array, offset: number | bigint = 0): Uint8Array | void {
    const op = "zx_vmo_read";
    const off = u64(offset, "offset", op);
    const target = readTarget(what, op);
    if (typeof target === "number") {
      return handleCore(this).vmoReadNew(handleValue(this), target, off);
    }
    handleCore(this).vmoRead(handleValue(this), target, off);
  }

  /**
   * `zx_vmo_write`: copy `data` into the VMO at `offset`. `data`'s bytes are the ones the engine
   * knows (own or inherited `length`/`byteLength`/`byteOffset`/`buffer` properties are not
   * consulted); a detached `data` is a 0-byte write (`offset` is still checked).
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrAccessDenied` (no `Rights.Write`), `ErrOutOfRange`
   * @throws {TypeError} when `data` is not a `Uint8Array` (a Proxy is not one) or `offset` is
   *   not a number or bigint
   */
  write(data: Uint8Array, offset: number | bigint = 0): void {
    const op = "zx_vmo_write";
    const src = bytesArg(data, "data", op);
    const off = u64(offset, "offset", op);
    handleCore(this).vmoWrite(handleValue(this), src, off);
  }

  /**
   * The size in bytes (always a page multiple). No right is needed.
   *
   * @throws {ZxError} `ErrBadHandle`
   */
  get size(): number {
    return handleCore(this).vmoGetSize(handleValue(this));
  }

  /**
   * `zx_vmo_set_size`: resize a resizable VMO (rounded up to pages; the content size becomes
   * `size`). Shrinking under a mapping makes the part beyond the end fault; views from
   * `Mapping.bytes()` over it are detached.
   *
   * @throws {ZxError} `ErrAccessDenied` (no `Rights.Write`, or no `Rights.Resize`),
   *   `ErrUnavailable` (not resizable), `ErrOutOfRange` (too large), `ErrBadHandle`
   */
  setSize(size: number | bigint): void {
    const s = u64(size, "size", "zx_vmo_set_size");
    handleCore(this).vmoSetSize(handleValue(this), s);
  }

  /**
   * The content size (`ZX_PROP_VMO_CONTENT_SIZE`): the unrounded size given at creation or
   * last `setSize`, or set with {@link Vmo.setContentSize}.
   *
   * @throws {ZxError} `ErrAccessDenied` (no `Rights.GetProperty`), `ErrBadHandle`
   */
  get contentSize(): number {
    return handleCore(this).vmoGetContentSize(handleValue(this));
  }

  /**
   * Set the content size.
   *
   * @throws {ZxError} `ErrAccessDenied` (no `Rights.SetProperty`), `ErrBadHandle`
   */
  setContentSize(size: number | bigint): void {
    const s = u64(size, "size", "zx_object_set_property");
    handleCore(this).vmoSetContentSize(handleValue(this), s);
  }

  /**
   * `zx_vmo_op_range`: `VmoOp.Commit`, `Decommit`, `Zero`, `Lock`/`TryLock`/`Unlock`
   * (discardable VMOs), cache ops, `DontNeed`/`AlwaysNeed`/`Prefetch` hints.
   *
   * @throws {ZxError} `ErrAccessDenied`, `ErrInvalidArgs` (unknown op; unaligned decommit),
   *   `ErrOutOfRange`, `ErrNotSupported` (`CacheInvalidate`; lock ops on non-discardable
   *   VMOs; decommit on snapshots), `ErrBadState` (unlock while unlocked), `ErrBadHandle`
   */
  opRange(op: number, offset: number | bigint, size: number | bigint): void {
    const o = "zx_vmo_op_range";
    const code = u32(op, "op", o);
    const off = u64(offset, "offset", o);
    const len = u64(size, "size", o);
    handleCore(this).vmoOpRange(handleValue(this), code, off, len);
  }

  /**
   * `zx_vmo_create_child`: a `VmoChildOptions.Snapshot` / `SnapshotAtLeastOnWrite` /
   * `SnapshotModified` copy (isolated both ways) or a `Slice` window (aliases the parent),
   * optionally `NoWrite` or `Resizable`.
   *
   * @throws {ZxError} `ErrInvalidArgs` (bad option mix; unaligned offset; slice outside the
   *   parent), `ErrAccessDenied` (needs `Rights.Duplicate` and `Rights.Read`),
   *   `ErrNotSupported` (slice of a resizable VMO; discardable parent; `Reference`),
   *   `ErrOutOfRange` (size or offset+size too large), `ErrBadHandle`
   */
  createChild(options: number, offset: number | bigint, size: number | bigint): Vmo {
    const op = "zx_vmo_create_child";
    const o = u32(options, "options", op);
    const off = u64(offset, "offset", op);
    const s = u64(size, "size", op);
    const v = handleCore(this).vmoCreateChild(handleValue(this), o, off, s);
    return new Vmo(handleKernel(this), v, INTERNAL);
  }

  /**
   * `ZX_INFO_VMO`: koid, name, size, parent koid, children, mappings, flags, committed
   * bytes and this handle's rights.
   *
   * @throws {ZxError} `ErrBadHandle`
   */
  info(): VmoInfo {
    return handleCore(this).vmoInfo(handleValue(this));
  }
}
