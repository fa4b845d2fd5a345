/**
 * `Vmar`: a virtual memory address region — a range of address space that holds mappings
 * and sub-regions.
 *
 * @module
 */
import type { MappingInfo } from "../kernel/kernel.ts";
import { u32, u64 } from "./args.ts";
import {
  Handle,
  handleCore,
  handleKernel,
  handleValue,
  markBorrowed,
  sameKernelHandle,
} from "./handle.ts";
import { INTERNAL } from "./internal.ts";
import { Kernel } from "./kernel.ts";
import { Mapping } from "./mapping.ts";
import type { Vmo } from "./vmo.ts";

/**
 * A handle to a VMAR. The root VMAR of a kernel is `kernel.rootVmar` (or {@link Vmar.root}
 * for the default kernel); sub-regions come from {@link Vmar.allocate}.
 *
 * @example
 * ```ts
 * import { Vmar, Vmo, ZxVmOption } from "../../mod.ts";
 * using vmo = Vmo.create(4096);
 * using m = Vmar.root().map(ZxVmOption.VmPermRead | ZxVmOption.VmPermWrite, 0, vmo, 0, 4096);
 * m.bytes()[0] = 42;
 * console.log(vmo.read(1, 0)[0]); // 42
 * ```
 */
export class Vmar extends Handle {
  /** The default kernel's root VMAR (borrowed: closing it does nothing). */
  static root(): Vmar {
    return Kernel.default.rootVmar;
  }

  /**
   * Not for users: wraps a kernel's root VMAR handle (borrowed: closing it does nothing).
   *
   * @throws {TypeError} when called from outside zxvm
   */
  static borrowed(kernel: Kernel, value: number, token: symbol): Vmar {
    if (token !== INTERNAL) throw new TypeError("use kernel.rootVmar or Vmar.root()");
    const v = new Vmar(kernel, value, INTERNAL);
    markBorrowed(v);
    return v;
  }

  /** Always `"vmar"`. */
  get type(): "vmar" {
    return "vmar";
  }

  // Brands VMARs: `Vmar.prototype.close` on anything else is a TypeError.
  readonly #vmar = true;

  /**
   * Close the handle; a no-op for the kernel's borrowed root VMAR. Never unmaps.
   *
   * @throws {TypeError} when called on something that is not a VMAR
   */
  override close(): void {
    if (this.#vmar) super.close();
  }

  /**
   * The absolute base address (`ZX_INFO_VMAR`).
   *
   * @throws {ZxError} `ErrBadHandle`; `ErrAccessDenied` without `Rights.Inspect`
   */
  get base(): number {
    return handleCore(this).vmarInfo(handleValue(this)).base;
  }

  /**
   * The length in bytes (`ZX_INFO_VMAR`).
   *
   * @throws {ZxError} `ErrBadHandle`; `ErrAccessDenied` without `Rights.Inspect`
   */
  get len(): number {
    return handleCore(this).vmarInfo(handleValue(this)).len;
  }

  /**
   * `zx_vmar_allocate`: a sub-region of `size` bytes. Options: `VmCanMapRead/Write/Execute/
   * Specific` (only what this VMAR allows), `VmSpecific` (place at `offset`), `VmCompact`,
   * `VmOffsetIsUpperLimit`, `VmAlign*`. The child's `base`/`len` tell where it landed.
   *
   * @throws {ZxError} `ErrAccessDenied` (rights or CAN_MAP flags), `ErrInvalidArgs` (options,
   *   alignment, size 0 or unaligned, offset rules, out of bounds), `ErrAlreadyExists`
   *   (SPECIFIC overlap), `ErrNoResources` (no room), `ErrBadState` (destroyed), `ErrBadHandle`
   */
  allocate(options: number, offset: number | bigint, size: number | bigint): Vmar {
    const op = "zx_vmar_allocate";
    const o = u32(options, "options", op);
    const off = u64(offset, "offset", op);
    const s = u64(size, "size", op);
    const r = handleCore(this).vmarAllocate(handleValue(this), o, off, s);
    return new Vmar(handleKernel(this), r.handle, INTERNAL);
  }

  /**
   * `zx_vmar_map` (the origin document's `Map`, same argument order): map `len` bytes (rounded
   * up to pages) of `vmo` from `vmoOffset`. The mapping keeps the VMO alive after its handle
   * closes. `vmarOffset` must be 0 unless `VmSpecific`, `VmSpecificOverwrite` or
   * `VmOffsetIsUpperLimit` is given.
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrWrongType`, `ErrBadState` (destroyed VMAR),
   *   `ErrAccessDenied` (rights: MAP on the VMO, READ/WRITE/EXECUTE on both handles, CAN_MAP
   *   flags), `ErrInvalidArgs` (options, alignment, offsets, len 0, bounds), `ErrOutOfRange`
   *   (`vmoOffset + ROUNDUP(len)` overflows), `ErrAlreadyExists` (SPECIFIC overlap),
   *   `ErrNoResources` (no room), `ErrNotSupported` (resizable VMO with
   *   `VmRequireNonResizable`; discardable VMO without `VmAllowFaults`), `ErrNoMemory`
   * @throws {TypeError} when `vmo` is not a zxvm handle (a Proxy over one, or an object
   *   inheriting from one, is not), or a number argument is not a number or bigint
   */
  map(
    options: number,
    vmarOffset: number | bigint,
    vmo: Vmo,
    vmoOffset: number | bigint,
    len: number | bigint,
  ): Mapping {
    const op = "zx_vmar_map";
    const opts = u32(options, "options", op);
    const vo = u64(vmarOffset, "vmarOffset", op);
    const mo = u64(vmoOffset, "vmoOffset", op);
    const l = u64(len, "len", op);
    const vmoValue = sameKernelHandle(this, vmo, op, "vmo");
    const core = handleCore(this);
    const origin = core.vmarMap(handleValue(this), opts, vo, vmoValue, mo, l);
    return new Mapping(core, this, origin, INTERNAL);
  }

  /**
   * `zx_vmar_unmap`: unmap `[addr, addr + ROUNDUP(len))`, splitting mappings at the edges and
   * destroying sub-regions wholly inside (needs `Rights.OpChildren`). Nothing mapped is OK.
   *
   * @throws {ZxError} `ErrInvalidArgs` (unaligned addr, len 0, outside the VMAR, a sub-region
   *   partly covered or without OP_CHILDREN), `ErrBadState`, `ErrBadHandle`, `ErrWrongType`
   */
  unmap(addr: number | bigint, len: number | bigint): void {
    const op = "zx_vmar_unmap";
    const a = u64(addr, "addr", op);
    const l = u64(len, "len", op);
    handleCore(this).vmarUnmap(handleValue(this), a, l);
  }

  /**
   * `zx_vmar_protect`: change the protection of a fully mapped range (splitting mappings),
   * never beyond the rights the mappings were made with.
   *
   * @throws {ZxError} `ErrAccessDenied`, `ErrInvalidArgs`, `ErrNotFound` (a gap in the range),
   *   `ErrBadState`, `ErrBadHandle`, `ErrWrongType`
   */
  protect(options: number, addr: number | bigint, len: number | bigint): void {
    const op = "zx_vmar_protect";
    const o = u32(options, "options", op);
    const a = u64(addr, "addr", op);
    const l = u64(len, "len", op);
    handleCore(this).vmarProtect(handleValue(this), o, a, l);
  }

  /**
   * `zx_vmar_destroy`: unmap everything inside and destroy all sub-regions. Handles stay
   * open, but every VMAR operation on them answers `ErrBadState`.
   *
   * @throws {ZxError} `ErrAccessDenied` (no `Rights.OpChildren`), `ErrNotSupported` (root),
   *   `ErrBadState` (already destroyed), `ErrBadHandle`, `ErrWrongType`
   */
  destroy(): void {
    handleCore(this).vmarDestroy(handleValue(this));
  }

  /**
   * `zx_vmar_op_range`: `VmoOp.Commit`, `Decommit`, `Zero`, `MapRange`, `DontNeed`,
   * `AlwaysNeed`, `Prefetch` over the mappings in a range.
   *
   * @throws {ZxError} `ErrInvalidArgs`, `ErrOutOfRange`, `ErrBadState` (gaps; destroyed),
   *   `ErrAccessDenied`, `ErrBadHandle`
   */
  opRange(op: number, addr: number | bigint, len: number | bigint): void {
    const o = "zx_vmar_op_range";
    const code = u32(op, "op", o);
    const a = u64(addr, "addr", o);
    const l = u64(len, "len", o);
    handleCore(this).vmarOpRange(handleValue(this), code, a, l);
  }

  /**
   * Every mapping in this VMAR's subtree, in address order (depth first;
   * `ZX_INFO_VMAR_MAPS`).
   *
   * @throws {ZxError} `ErrBadHandle`, `ErrWrongType`; `ErrAccessDenied` without
   *   `Rights.Inspect`
   */
  mappings(): MappingInfo[] {
    return handleCore(this).vmarMappings(handleValue(this));
  }
}
