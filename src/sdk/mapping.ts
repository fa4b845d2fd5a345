/**
 * `Mapping`: one successful `Vmar.map` — its range, and safe access to its memory.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import type { KernelCore } from "../kernel/kernel.ts";
import type { MappingOrigin } from "../kernel/vm_mapping.ts";
import { u8Length } from "../abi/intrinsics.ts";
import { bytesArg, u64 } from "./args.ts";
import { INTERNAL } from "./internal.ts";
import type { Vmar } from "./vmar.ts";

/**
 * A mapping returned by `Vmar.map`. Disposing it unmaps it (`using m = vmar.map(...)`).
 * Accessors check the current protection and the VMO's size before touching memory, so no
 * sequence of calls can crash the process; a forbidden access raises the fault `ZxError`
 * (`op: "page_fault"`, with `fault: { addr, access }`).
 */
export class Mapping implements Disposable {
  readonly #core: KernelCore;
  readonly #origin: MappingOrigin;
  readonly #vmar: Vmar;

  /**
   * Not for users: mappings come from `Vmar.map`.
   *
   * @throws {TypeError} when called from outside zxvm
   */
  constructor(core: KernelCore, vmar: Vmar, origin: MappingOrigin, token: symbol) {
    if (token !== INTERNAL) throw new TypeError("use Vmar.map to create mappings");
    this.#core = core;
    this.#vmar = vmar;
    this.#origin = origin;
  }

  /** The absolute start address (page aligned, non-zero). */
  get addr(): number {
    return this.#origin.addr;
  }

  /** The length in bytes (the requested length rounded up to pages). */
  get len(): number {
    return this.#origin.len;
  }

  /** The VMAR handle the mapping was made through. */
  get vmar(): Vmar {
    return this.#vmar;
  }

  /** The options the mapping was made with. */
  get options(): number {
    return this.#origin.options;
  }

  /** Whether any part of the mapping is still mapped. */
  get alive(): boolean {
    return !this.#core.closed && this.#origin.pieces.length > 0;
  }

  /**
   * A zero-copy view of the mapping's memory (the part backed by the VMO). Only for mappings
   * that are fully mapped, readable and writable. The view is detached (length 0) when the
   * memory goes away — unmap, a protect that removes access, VMAR destroy, the VMO shrinking
   * under it, kernel close; call `bytes()` again for a fresh view.
   *
   * Do not transfer the view's buffer (`ArrayBuffer.prototype.transfer`, `structuredClone` or
   * `postMessage` with a transfer list): zxvm could no longer revoke the new owner. It notices,
   * and keeps the process safe: on the native backend a later unmap (or VMAR destroy, or kernel
   * close) leaves private zero pages there for good instead of unmapping, and a protect that
   * removes access or a VMO shrink under it is `ErrBadState`; on the emulated backend the
   * buffer *is* the VMO's storage, so the VMO answers `ErrBadState` from then on. To hand the
   * bytes to a worker, copy them (`view.slice()`).
   *
   * @throws {ZxError} `ErrAccessDenied` (not readable+writable), `ErrBadState` (partly or
   *   wholly unmapped), `ErrNotSupported` (emulated backend: a view across a 1 GiB boundary)
   */
  bytes(): Uint8Array {
    return this.#core.originView(this.#origin);
  }

  #range(off: number, length: number, access: "read" | "write"): number {
    if (off + length > this.#origin.len) {
      const at = this.#origin.addr + Math.min(off, this.#origin.len);
      throw new ZxError(
        ZxStatus.ErrOutOfRange,
        "page_fault",
        `${access} of ${length} bytes at offset ${off} is beyond the mapping (${this.#origin.len} bytes)`,
        { addr: at, access },
      );
    }
    if (this.#core.closed) {
      throw new ZxError(ZxStatus.ErrBadState, "page_fault", "the kernel was closed");
    }
    return this.#origin.addr + off;
  }

  /**
   * Copy `length` bytes at `offset` (relative to {@link Mapping.addr}) out of the mapping.
   *
   * @throws {ZxError} fault statuses: `ErrNotFound` (unmapped, also where another mapping
   *   replaced this one), `ErrAccessDenied` (not readable), `ErrOutOfRange` (beyond the VMO's
   *   end or the mapping's end)
   * @throws {TypeError} when `offset` or `length` is not a number or bigint
   */
  read(offset: number | bigint, length: number | bigint): Uint8Array {
    const n = u64(length, "length", "page_fault");
    const off = u64(offset, "offset", "page_fault");
    const addr = this.#range(off, n, "read");
    const out = new Uint8Array(n);
    this.#core.readAt(addr, out, this.#origin);
    return out;
  }

  /**
   * Copy `data` into the mapping at `offset`. Nothing is written unless all of it may be.
   * `data`'s bytes are the ones the engine knows (own or inherited `length`/`byteLength`/
   * `byteOffset`/`buffer` properties are not consulted); a detached `data` is a 0-byte write.
   *
   * @throws {ZxError} fault statuses as for {@link Mapping.read}, for write access
   * @throws {TypeError} when `data` is not a `Uint8Array` (a Proxy is not one) or `offset` is
   *   not a number or bigint
   */
  write(offset: number | bigint, data: Uint8Array): void {
    const d = bytesArg(data, "data", "page_fault");
    const off = u64(offset, "offset", "page_fault");
    const addr = this.#range(off, u8Length(d), "write");
    this.#core.writeAt(addr, d, this.#origin);
  }

  /** Unmap every part of this mapping still mapped (idempotent; never touches others). */
  unmap(): void {
    if (!this.#core.closed) this.#core.unmapOrigin(this.#origin);
  }

  /** Calls `this.unmap()` (see {@link Mapping.unmap}). */
  [Symbol.dispose](): void {
    this.unmap();
  }
}
