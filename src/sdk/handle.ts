/**
 * `Handle`: the base of every zxvm object a user holds.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { Rights } from "../abi/rights.ts";
import { ZxStatus } from "../abi/status.ts";
import { u32 } from "../kernel/args.ts";
import type { BasicInfo, KernelCore } from "../kernel/kernel.ts";
import { INTERNAL, kernelCore } from "./internal.ts";
import type { Kernel } from "./kernel.ts";

// Set by Handle's static block: reads a handle's private core without exposing it publicly.
let handleCoreImpl: (h: Handle) => KernelCore;

// Leak diagnostics: a handle object collected while its handle is still open warns once per
// process on stderr (the handle itself stays open until its kernel closes, as in Zircon).
let warnedUnclosed = false;
const unclosed = new FinalizationRegistry<{ core: KernelCore; value: number; type: string }>(
  (h): void => {
    if (warnedUnclosed || !h.core.isValid(h.value) || h.value === h.core.rootHandle) return;
    warnedUnclosed = true;
    console.error(
      `zxvm: a ${h.type} handle (0x${h.value.toString(16)}) was garbage-collected without ` +
        "close(); it stays open until its kernel closes (use `using` or call close()). " +
        "This warning is shown once.",
    );
  },
);

/** Options for {@link Handle.waitOne}. */
export interface WaitOptions {
  /** Absolute deadline in milliseconds on the `Date.now()` clock (default: none). */
  deadline?: number;
  /** Aborting it ends the wait with `ErrCanceled`. */
  signal?: AbortSignal;
}

/**
 * A capability to a kernel object. Closing a handle never unmaps anything; using a closed
 * handle raises `ZxError(ErrBadHandle)`. Handles are disposable: `using h = ...`.
 */
export abstract class Handle implements Disposable {
  readonly #kernel: Kernel;
  readonly #core: KernelCore;
  readonly #value: number;

  static {
    handleCoreImpl = (h: Handle): KernelCore => h.#core;
  }

  /**
   * Not for users: handles come from `Kernel.createVmo`, `Vmo.create`, `Vmar.allocate`,
   * `duplicate` and `replace`.
   *
   * @throws {TypeError} when called from outside zxvm
   */
  constructor(kernel: Kernel, value: number, token: symbol) {
    if (token !== INTERNAL) {
      throw new TypeError("zxvm handles cannot be constructed directly; use Vmo.create etc.");
    }
    this.#kernel = kernel;
    this.#core = kernelCore(kernel);
    this.#value = value;
    unclosed.register(this, { core: this.#core, value, type: new.target.name });
  }

  /** The handle value (32-bit; low two bits set). */
  get raw(): number {
    return this.#value;
  }

  /** The kernel this handle belongs to. */
  get kernel(): Kernel {
    return this.#kernel;
  }

  /** `"vmo"`, `"vmar"` or `"channel"`. */
  abstract get type(): "vmo" | "vmar" | "channel";

  /**
   * The object's koid.
   *
   * @throws {ZxError} `ErrBadHandle` when the handle is closed
   */
  get koid(): number {
    return this.#core.basicInfo(this.#value).koid;
  }

  /**
   * The handle's rights.
   *
   * @throws {ZxError} `ErrBadHandle` when the handle is closed
   */
  get rights(): number {
    return this.#core.entry(this.#value, "zx_object_get_info").rights;
  }

  /** Whether the handle is still open (and its kernel too). */
  get valid(): boolean {
    return this.#core.isValid(this.#value);
  }

  /** Close the handle. Idempotent; closing never unmaps. */
  close(): void {
    if (this.#core.isValid(this.#value)) this.#core.handleClose(this.#value);
  }

  /** Same as {@link Handle.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * A new handle to the same object with `rights` (a subset of this handle's, or
   * `Rights.SameRights`).
   *
   * @throws {ZxError} `ErrBadHandle` (closed), `ErrAccessDenied` (no `Rights.Duplicate`),
   *   `ErrInvalidArgs` (rights not a subset)
   * @throws {TypeError} when `rights` is not a number
   * @example
   * ```ts
   * import { Rights, Vmo } from "../../mod.ts";
   * using vmo = Vmo.create(4096);
   * using ro = vmo.duplicate(Rights.Read | Rights.Map);
   * ```
   */
  duplicate(rights: number = Rights.SameRights): this {
    const r = u32(rights, "rights", "zx_handle_duplicate");
    const v = this.#core.handleDuplicate(this.#value, r);
    return this.rewrap(v);
  }

  /**
   * Replace this handle with one having `rights`. This handle is invalid afterwards, also
   * when the call fails.
   *
   * @throws {ZxError} `ErrBadHandle` (closed), `ErrInvalidArgs` (rights not a subset),
   *   `ErrNotSupported` (the kernel's borrowed root VMAR handle)
   * @throws {TypeError} when `rights` is not a number
   */
  replace(rights: number = Rights.SameRights): this {
    let r: number;
    try {
      r = u32(rights, "rights", "zx_handle_replace");
    } catch (e) {
      if (this.valid && this.#core.rootHandle !== this.#value) this.close();
      throw e;
    }
    const v = this.#core.handleReplace(this.#value, r);
    return this.rewrap(v);
  }

  /** Wrap another handle value of the same type (used by duplicate/replace). */
  protected abstract rewrap(value: number): this;

  /**
   * The object's name (`ZX_PROP_NAME`). Setting truncates to 31 UTF-8 bytes.
   *
   * @throws {ZxError} `ErrBadHandle`; `ErrAccessDenied` without `Rights.GetProperty` /
   *   `Rights.SetProperty`; `ErrNotSupported` when setting the name of a VMAR
   * @throws {TypeError} when set to a non-string
   */
  get name(): string {
    return this.#core.getName(this.#value);
  }
  set name(value: string) {
    if (typeof value !== "string") {
      throw new TypeError(`zx_object_set_property: name must be a string, got ${typeof value}`);
    }
    this.#core.setName(this.#value, value);
  }

  /**
   * `ZX_INFO_HANDLE_BASIC`: koid, rights, object type number (3 VMO, 18 VMAR), related koid.
   *
   * @throws {ZxError} `ErrBadHandle` when closed
   */
  basicInfo(): BasicInfo {
    return this.#core.basicInfo(this.#value);
  }

  /**
   * The object's currently asserted signals (e.g. `Signals.VmoZeroChildren`).
   *
   * @throws {ZxError} `ErrBadHandle`; `ErrAccessDenied` without `Rights.Wait`
   */
  get signals(): number {
    return this.#core.signals(this.#value);
  }

  /**
   * Wait until any of `signals` is asserted; resolves with the signals observed.
   *
   * @throws {ZxError} (synchronously) `ErrBadHandle`, `ErrAccessDenied` without `Rights.Wait`;
   *   (as a rejection) `ErrTimedOut` at the deadline, `ErrCanceled` when aborted or when the
   *   handle is closed during the wait
   * @example
   * ```ts
   * import { Signals, Vmo, VmoChildOptions } from "../../mod.ts";
   * using vmo = Vmo.create(4096);
   * const child = vmo.createChild(VmoChildOptions.Snapshot, 0, 4096);
   * const done = vmo.waitOne(Signals.VmoZeroChildren, { deadline: Date.now() + 1000 });
   * child.close();
   * await done;
   * ```
   */
  waitOne(signals: number, opts: WaitOptions = {}): Promise<number> {
    const op = "zx_object_wait_one";
    const mask = u32(signals, "signals", op);
    if (typeof opts !== "object" || opts === null) {
      throw new TypeError(`${op}: options must be an object`);
    }
    const deadline = opts.deadline ?? Infinity;
    if (typeof deadline !== "number" || Number.isNaN(deadline)) {
      throw new TypeError(`${op}: deadline must be a number (ms on the Date.now() clock)`);
    }
    if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
      throw new TypeError(`${op}: signal must be an AbortSignal`);
    }
    return this.#core.waitOne(this.#value, mask, deadline, opts.signal);
  }
}

/** The kernel core behind a handle (zxvm-internal; not exported from mod.ts). */
export function handleCore(h: Handle): KernelCore {
  return handleCoreImpl(h);
}

/**
 * Check that `other` is a handle of the same kernel as `self` and return its value.
 *
 * @throws {TypeError} when `other` is not a zxvm handle
 * @throws {ZxError} `ErrBadHandle` when it belongs to another kernel
 */
export function sameKernelHandle(self: Handle, other: unknown, op: string, what: string): number {
  if (!(other instanceof Handle)) {
    throw new TypeError(`${op}: ${what} must be a zxvm handle (Vmo, Vmar or Channel)`);
  }
  if (handleCoreImpl(other) !== handleCoreImpl(self)) {
    throw new ZxError(ZxStatus.ErrBadHandle, op, `${what} belongs to another kernel`);
  }
  return other.raw;
}
