/**
 * `Vmo`: a virtual memory object — a sized container of pages.
 *
 * @module
 */
import { VmoOptions } from "../abi/options.ts";
import { bytesArg, u32, u64 } from "../kernel/args.ts";
import type { VmoInfo } from "../kernel/kernel.ts";
import { Handle, handleCore } from "./handle.ts";
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
   * @throws {TypeError} when `size` is not a number or bigint
   */
  static create(size: number | bigint, options: number = VmoOptions.Default): Vmo {
    return Kernel.default.createVmo(size, options);
  }

  /** Always `"vmo"`. */
  get type(): "vmo" {
    return "vmo";
  }

  /** Wrap another handle value. */
  protected rewrap(value: number): this {
    return new Vmo(this.kernel, value, INTERNAL) as this;
  }

  /**
   * `zx_vmo_read`: with a length, returns a new array of the bytes at `offset`; with a
   * `Uint8Array`, fills it. A zero-length read at `offset == size` succeeds.
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrAccessDenied` (no `Rights.Read`), `ErrOutOfRange`
   *   (past the end), `ErrInvalidArgs` (offset/length outside u64)
   * @throws {TypeError} for wrong argument types
   */
  read(length: number | bigint, offset?: number | bigint): Uint8Array;
  /**
   * `zx_vmo_read` into `into` (its whole length) from `offset`.
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrAccessDenied` (no `Rights.Read`), `ErrOutOfRange`
   */
  read(into: Uint8Array, offset?: number | bigint): void;
  read(what: number | bigint | Uint8Array, offset: number | bigint = 0): Uint8Array | void {
    const op = "zx_vmo_read";
    const off = u64(offset, "offset", op);
    if (what instanceof Uint8Array) {
      handleCore(this).vmoRead(this.raw, what, off);
      return;
    }
    return handleCore(this).vmoReadNew(this.raw, u64(what, "length", op), off);
  }

  /**
   * `zx_vmo_write`: copy `data` into the VMO at `offset`.
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrAccessDenied` (no `Rights.Write`), `ErrOutOfRange`
   * @throws {TypeError} when `data` is not a `Uint8Array`
   */
  write(data: Uint8Array, offset: number | bigint = 0): void {
    const op = "zx_vmo_write";
    handleCore(this).vmoWrite(this.raw, bytesArg(data, "data", op), u64(offset, "offset", op));
  }

  /**
   * The size in bytes (always a page multiple). No right is needed.
   *
   * @throws {ZxError} `ErrBadHandle`
   */
  get size(): number {
    return handleCore(this).vmoGetSize(this.raw);
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
    handleCore(this).vmoSetSize(this.raw, u64(size, "size", "zx_vmo_set_size"));
  }

  /**
   * The content size (`ZX_PROP_VMO_CONTENT_SIZE`): the unrounded size given at creation or
   * last `setSize`, or set with {@link Vmo.setContentSize}.
   *
   * @throws {ZxError} `ErrAccessDenied` (no `Rights.GetProperty`), `ErrBadHandle`
   */
  get contentSize(): number {
    return handleCore(this).vmoGetContentSize(this.raw);
  }

  /**
   * Set the content size.
   *
   * @throws {ZxError} `ErrAccessDenied` (no `Rights.SetProperty`), `ErrBadHandle`
   */
  setContentSize(size: number | bigint): void {
    handleCore(this).vmoSetContentSize(
      this.raw,
      u64(size, "size", "zx_object_set_property"),
    );
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
    handleCore(this).vmoOpRange(
      this.raw,
      u32(op, "op", o),
      u64(offset, "offset", o),
      u64(size, "size", o),
    );
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
    const v = handleCore(this).vmoCreateChild(
      this.raw,
      u32(options, "options", op),
      u64(offset, "offset", op),
      u64(size, "size", op),
    );
    return new Vmo(this.kernel, v, INTERNAL);
  }

  /**
   * `ZX_INFO_VMO`: koid, name, size, parent koid, children, mappings, flags, committed
   * bytes and this handle's rights.
   *
   * @throws {ZxError} `ErrBadHandle`
   */
  info(): VmoInfo {
    return handleCore(this).vmoInfo(this.raw);
  }
}
