/**
 * `Handle`: the base of every zxvm object a user holds.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { Rights } from "../abi/rights.ts";
import { ZxStatus } from "../abi/status.ts";
import type { BasicInfo, KernelCore } from "../kernel/kernel.ts";
import { deadlineArg, nameArg, optionBag, signalArg, u32 } from "./args.ts";
import { INTERNAL, kernelCore } from "./internal.ts";
import type { Kernel } from "./kernel.ts";

// Set by Handle's static block: read a handle's private fields without exposing them publicly
// (and without consulting anything a caller can redefine, such as an own `raw` getter).
let handleCoreImpl: (h: Handle) => KernelCore;
let handleValueImpl: (h: Handle) => number;
let handleKernelImpl: (h: Handle) => Kernel;
let isHandleImpl: (v: unknown) => v is Handle;
let markBorrowedImpl: (h: Handle) => void;

const WAIT_KEYS = ["deadline", "signal"] as const;

/** A concrete handle class (Vmo or Vmar), as zxvm constructs it. */
type HandleClass = new (kernel: Kernel, value: number, token: symbol) => Handle;

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
  // The class zxvm constructed this handle as (Vmo or Vmar): duplicate/replace wrap their new
  // handle with it, never through anything a caller can redefine on the object.
  readonly #ctor: HandleClass;
  // The kernel's own root VMAR handle, lent to users: closing it is a no-op.
  #borrowed = false;

  static {
    handleCoreImpl = (h: Handle): KernelCore => h.#core;
    handleValueImpl = (h: Handle): number => h.#value;
    handleKernelImpl = (h: Handle): Kernel => h.#kernel;
    isHandleImpl = (v: unknown): v is Handle => typeof v === "object" && v !== null && #value in v;
    markBorrowedImpl = (h: Handle): void => {
      h.#borrowed = true;
    };
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
    this.#ctor = new.target as unknown as HandleClass;
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
    this.#close();
  }

  /** Calls `this.close()` (so `using` honours a subclass's `close`). */
  [Symbol.dispose](): void {
    this.close();
  }

  // zxvm's own calls do not go through `this.close`: a caller's own `close` is not zxvm's.
  #close(): void {
    if (this.#borrowed) return;
    if (this.#core.isValid(this.#value)) this.#core.handleClose(this.#value);
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
    return new this.#ctor(this.#kernel, v, INTERNAL) as this;
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
      if (this.#core.rootHandle !== this.#value) this.#close();
      throw e;
    }
    const v = this.#core.handleReplace(this.#value, r);
    return new this.#ctor(this.#kernel, v, INTERNAL) as this;
  }

  /**
   * The object's name (`ZX_PROP_NAME`). Setting truncates to 31 UTF-8 bytes.
   *
   * @throws {ZxError} `ErrBadHandle`; `ErrAccessDenied` without `Rights.GetProperty` /
   *   `Rights.SetProperty`; `ErrNotSupported` when setting the name of a VMAR
   * @throws {TypeError} when set to anything but a primitive string (a `String` object or an
   *   object with `toString` is never converted)
   */
  get name(): string {
    return this.#core.getName(this.#value);
  }
  set name(value: string) {
    this.#core.setName(this.#value, nameArg(value, "zx_object_set_property"));
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
   * `opts` is read once (`deadline`, then `signal`) before anything else happens; the wait
   * follows `opts.signal` through the runtime's own `AbortSignal` accessors, never through
   * properties the signal object defines.
   *
   * @throws {ZxError} (synchronously) `ErrBadHandle`, `ErrAccessDenied` without `Rights.Wait`;
   *   (as a rejection) `ErrTimedOut` at the deadline, `ErrCanceled` when aborted or when the
   *   handle is closed during the wait
   * @throws {TypeError} (synchronously) when `signals` is not a number or bigint, `opts` is not
   *   an object, `deadline` is not a number (or is NaN), or `signal` is not an `AbortSignal`
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
    const o = optionBag(opts, WAIT_KEYS, op);
    const deadline = deadlineArg(o.deadline, op);
    const sig = signalArg(o.signal, op);
    if (sig === undefined) return this.#core.waitOne(this.#value, mask, deadline);
    let p: Promise<number>;
    try {
      p = this.#core.waitOne(this.#value, mask, deadline, sig.signal);
    } catch (e) {
      sig.release();
      throw e;
    }
    // Stop following the caller's signal once the wait settles (p itself is returned as is).
    p.then(sig.release, sig.release);
    return p;
  }
}

/** The kernel core behind a handle (zxvm-internal; not exported from mod.ts). */
export function handleCore(h: Handle): KernelCore {
  return handleCoreImpl(h);
}

/** The value of a handle, from its private field (zxvm-internal). */
export function handleValue(h: Handle): number {
  return handleValueImpl(h);
}

/** Whether `v` is a real zxvm handle object (has the private state; zxvm-internal). */
export function isHandle(v: unknown): v is Handle {
  return isHandleImpl(v);
}

/** Make `h` the borrowed root VMAR handle: closing it does nothing (zxvm-internal). */
export function markBorrowed(h: Handle): void {
  markBorrowedImpl(h);
}

/** The kernel of a handle, from its private field (zxvm-internal). */
export function handleKernel(h: Handle): Kernel {
  return handleKernelImpl(h);
}

/**
 * Decode a handle argument: `other` must be a zxvm handle (judged by its private field, so a
 * Proxy or an object inheriting from a handle is not one, and nothing it defines is read) of
 * the same kernel as `self`; returns its value.
 *
 * @throws {TypeError} when `other` is not a zxvm handle
 * @throws {ZxError} `ErrBadHandle` when it belongs to another kernel
 */
export function sameKernelHandle(self: Handle, other: unknown, op: string, what: string): number {
  if (!isHandleImpl(other)) {
    throw new TypeError(`${op}: ${what} must be a zxvm handle (Vmo, Vmar or Channel)`);
  }
  if (handleCoreImpl(other) !== handleCoreImpl(self)) {
    throw new ZxError(ZxStatus.ErrBadHandle, op, `${what} belongs to another kernel`);
  }
  return handleValueImpl(other);
}
