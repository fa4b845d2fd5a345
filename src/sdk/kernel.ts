/**
 * `Kernel`: an independent Zircon-style kernel — its own handle table and root VMAR — over a
 * native or emulated memory backend.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { VmoOptions } from "../abi/options.ts";
import { ZxStatus } from "../abi/status.ts";
import { getEnv } from "../backend/env.ts";
import { type BackendChoice, openBackend } from "../backend/select.ts";
import { KernelCore } from "../kernel/kernel.ts";
import {
  deadlineArg,
  describe,
  futexValue,
  optionBag,
  seedArg,
  u32,
  u64,
  wakeCount,
} from "./args.ts";
import { Channel, type ChannelPort, type ChannelToken } from "./channel.ts";
import { INTERNAL, kernelCore, registerKernel } from "./internal.ts";
import { Vmar } from "./vmar.ts";
import { Vmo } from "./vmo.ts";

/** Options for {@link Kernel.open}. */
export interface KernelOptions {
  /**
   * `"native"` (real memfd/mmap memory; fails loudly when unavailable), `"emulated"` (pure
   * TypeScript), or `"auto"` (native when FFI is permitted and the shim loads, else emulated).
   * Default `"auto"`.
   */
  backend?: BackendChoice;
  /** Path of the native shim library (default: `ZXVM_SHIM_PATH`, then the built one). */
  shimPath?: string;
  /**
   * Seed for deterministic placement and handle values: an integer in [0, 2^53) (only its low
   * 32 bits are used; `ErrInvalidArgs` otherwise).
   */
  seed?: number;
  /** Size of the root VMAR in bytes (default 64 GiB; a page multiple). */
  rootVmarSize?: number;
}

const FUTEX_KEYS = ["deadline"] as const;

let defaultKernel: Kernel | null = null;

const OPEN_KEYS = ["backend", "shimPath", "seed", "rootVmarSize"] as const;

/**
 * An independent kernel. Handles from one kernel are `ErrBadHandle` in another.
 *
 * @example
 * ```ts
 * import { Kernel, ZxVmOption } from "../../mod.ts";
 * using k = Kernel.open({ backend: "emulated", seed: 1 });
 * using vmo = k.createVmo(4096);
 * using m = k.rootVmar.map(ZxVmOption.VmPermRead, 0, vmo, 0, 4096);
 * console.log(k.backend, m.addr.toString(16));
 * ```
 */
export class Kernel implements Disposable {
  readonly #core: KernelCore;
  readonly #root: Vmar;

  /**
   * Not for users: use {@link Kernel.open}.
   *
   * @throws {TypeError} when called from outside zxvm
   */
  constructor(core: KernelCore, token: symbol) {
    if (token !== INTERNAL) throw new TypeError("use Kernel.open()");
    this.#core = core;
    registerKernel(this, core);
    this.#root = Vmar.borrowed(this, core.rootHandle, INTERNAL);
  }

  /**
   * Open a new kernel. `options` is read once — `backend`, `shimPath`, `seed`, `rootVmarSize`,
   * in that order, inherited properties included — before anything is checked or opened.
   *
   * @throws {ZxError} `ErrNotSupported` when `backend: "native"` cannot be loaded (the message
   *   says why: FFI permission, missing library, compiler…); `ErrInvalidArgs` for a bad
   *   `seed` or `rootVmarSize`; `ErrNoMemory` when the address space cannot be reserved
   * @throws {TypeError} for options of the wrong type (objects are never converted: a `String`
   *   or `Number` object, or one with `valueOf`, is a `TypeError`)
   */
  static open(options: KernelOptions = {}): Kernel {
    const op = "zx_kernel_open";
    const o = optionBag(options, OPEN_KEYS, op);
    const choice = o.backend === undefined ? "auto" : o.backend;
    if (choice !== "auto" && choice !== "native" && choice !== "emulated") {
      throw new TypeError(
        `${op}: backend must be "auto", "native" or "emulated", got ${describe(choice)}`,
      );
    }
    const shimPath = o.shimPath;
    if (shimPath !== undefined && typeof shimPath !== "string") {
      throw new TypeError(`${op}: shimPath must be a string, got ${describe(shimPath)}`);
    }
    const seed = o.seed === undefined ? undefined : seedArg(o.seed, op);
    let rootSize: number | undefined;
    if (o.rootVmarSize !== undefined) {
      rootSize = u64(o.rootVmarSize, "rootVmarSize", op);
      if (rootSize === 0 || rootSize % 4096 !== 0 || rootSize > 2 ** 46) {
        throw new ZxError(
          ZxStatus.ErrInvalidArgs,
          op,
          "rootVmarSize must be a non-zero page multiple of at most 2^46",
        );
      }
    }
    const backend = openBackend(choice, { shimPath });
    let core: KernelCore;
    try {
      core = new KernelCore(backend, { seed, rootVmarSize: rootSize });
    } catch (e) {
      backend.close();
      throw e;
    }
    return new Kernel(core, INTERNAL);
  }

  /**
   * The default kernel, opened on first use with the backend named by env `ZXVM_BACKEND`
   * (`auto` when unset). Used by {@link Vmo.create} and {@link Vmar.root}. Closing it makes
   * the next use open a fresh one.
   *
   * @throws {ZxError} `ErrInvalidArgs` when `ZXVM_BACKEND` is set to anything but `auto`,
   *   `native` or `emulated` (an empty value means `auto`); `ErrNotSupported` when it says
   *   `native` and the native backend cannot be loaded
   */
  static get default(): Kernel {
    if (defaultKernel === null || defaultKernel.#core.closed) {
      const env = getEnv("ZXVM_BACKEND") ?? "";
      if (env !== "" && env !== "auto" && env !== "native" && env !== "emulated") {
        throw new ZxError(
          ZxStatus.ErrInvalidArgs,
          "zx_kernel_open",
          `ZXVM_BACKEND=${JSON.stringify(env)}: expected "auto", "native" or "emulated"`,
        );
      }
      defaultKernel = Kernel.open({ backend: env === "" ? "auto" : env });
    }
    return defaultKernel;
  }

  /** `"native"` or `"emulated"`. */
  get backend(): "native" | "emulated" {
    return this.#core.backend.kind;
  }

  /** Why this backend was chosen, in words. */
  get backendReason(): string {
    return this.#core.backend.reason;
  }

  /** The page size in bytes. */
  get pageSize(): number {
    return this.#core.pageSize;
  }

  /** The largest VMO this kernel can create, in bytes (2^40). */
  get maxVmoSize(): number {
    return this.#core.maxVmoSize;
  }

  /** The root VMAR (borrowed: closing it is a no-op). */
  get rootVmar(): Vmar {
    return this.#root;
  }

  /** Live handles (not counting the borrowed root VMAR handle). */
  get handleCount(): number {
    return this.#core.handleCount;
  }

  /** Whether {@link Kernel.close} has run. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * `zx_vmo_create` on this kernel; see {@link Vmo.create}.
   *
   * @throws {ZxError} `ErrInvalidArgs`, `ErrOutOfRange`, `ErrNoMemory`, `ErrBadState` (closed)
   * @throws {TypeError} when `size` or `options` is not a number or bigint
   */
  createVmo(size: number | bigint, options: number = VmoOptions.Default): Vmo {
    const op = "zx_vmo_create";
    const s = u64(size, "size", op);
    const o = u32(options, "options", op);
    if (this.#core.closed) throw new ZxError(ZxStatus.ErrBadState, op, "the kernel was closed");
    return new Vmo(this, this.#core.vmoCreate(s, o), INTERNAL);
  }

  /**
   * `zx_channel_create` on this kernel: two connected endpoints with `Rights.DefaultChannel`.
   * With `peer` (another open kernel of this JS realm), the second endpoint is installed in
   * `peer` instead — the first channel between two kernels, as a Zircon process receives its
   * bootstrap channel; handles, endpoints included, then travel through it.
   *
   * @param options must be 0
   * @param peer the kernel that gets the second endpoint (default: this one)
   * @throws {ZxError} `ErrInvalidArgs` (options not 0), `ErrBadState` (this kernel or `peer`
   *   closed)
   * @throws {TypeError} when `options` is not a number or `peer` not a zxvm kernel
   * @example
   * ```ts
   * import { Kernel } from "../../mod.ts";
   * using a = Kernel.open({ backend: "emulated" });
   * using b = Kernel.open({ backend: "emulated" });
   * const [inA, inB] = a.createChannel(0, b);
   * inA.write(new TextEncoder().encode("hello, b"));
   * console.log(new TextDecoder().decode(inB.read().bytes), inB.kernel === b); // "hello, b" true
   * ```
   */
  createChannel(options: number = 0, peer?: Kernel): [Channel, Channel] {
    const op = "zx_channel_create";
    const o = u32(options, "options", op);
    let peerCore: KernelCore | undefined;
    if (peer !== undefined) {
      // A brand check (no `instanceof`: a Proxy's getPrototypeOf trap would run).
      try {
        peerCore = kernelCore(peer);
      } catch {
        throw new TypeError(`${op}: peer must be a zxvm Kernel`);
      }
    }
    if (this.#core.closed || peerCore?.closed) {
      throw new ZxError(ZxStatus.ErrBadState, op, "the kernel was closed");
    }
    const [a, b] = this.#core.channelCreate(o, peerCore);
    return [new Channel(this, a, INTERNAL), new Channel(peer ?? this, b, INTERNAL)];
  }

  /**
   * Import a channel endpoint another realm exported ({@link Channel.export}): a `Channel` of
   * this kernel with the exported handle's koid and rights, connected to the exporter's peer.
   * A token is good for one import.
   *
   * @param token what `channel.export()` returned, received through `postMessage`
   * @throws {ZxError} `ErrBadState` (this kernel closed; the token was imported already),
   *   `ErrInvalidArgs` (the token's rights are not channel rights)
   * @throws {TypeError} when `token` is not a channel token (an object with a `MessagePort`
   *   `port`, positive integer `koid` and `peerKoid`, and a number `rights`)
   * @example
   * ```ts
   * import { Channel, Kernel, Signals } from "../../mod.ts";
   * // in a Worker: self.onmessage = (e) => { const ch = Kernel.open().importChannel(e.data); };
   * const [a, b] = Channel.create();
   * using k = Kernel.open({ backend: "emulated" });
   * const ch = k.importChannel(b.export()); // here within one realm, for show
   * a.write(new Uint8Array([42]));
   * await ch.waitOne(Signals.ChannelReadable);
   * console.log(ch.read().bytes[0]); // 42
   * a.close();
   * ```
   */
  importChannel(token: ChannelToken): Channel {
    const op = "zx_channel_import";
    const bad = () => new TypeError(`${op}: token must be a channel token (from Channel.export)`);
    const t: unknown = token;
    if (typeof t !== "object" || t === null) throw bad();
    const port: unknown = (t as Record<string, unknown>).port;
    const koid: unknown = (t as Record<string, unknown>).koid;
    const peerKoid: unknown = (t as Record<string, unknown>).peerKoid;
    const rights: unknown = (t as Record<string, unknown>).rights;
    const MP = (globalThis as { MessagePort?: unknown }).MessagePort;
    if (typeof MP !== "function" || !(port instanceof (MP as typeof Object))) throw bad();
    for (const n of [koid, peerKoid]) {
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) throw bad();
    }
    const r = u32(rights, "token.rights", op);
    const v = this.#core.channelImport({
      port: port as ChannelPort,
      koid: koid as number,
      peerKoid: peerKoid as number,
      rights: r,
    });
    return new Channel(this, v, INTERNAL);
  }

  /**
   * `zx_futex_wait`: block the calling thread while the 32-bit word at `addr` (an address in
   * one of this kernel's mappings, e.g. `mapping.addr + 8`) holds `current`, until a
   * {@link Kernel.futexWake} of the same word or the deadline. Returns when woken; like
   * Zircon's, callers should re-check the word (a wake may be spurious).
   *
   * The futex is the memory, not the address: waiters and wakers in any kernel mapping the same
   * VMO (another Worker's, another mapping here) meet. This extends Zircon, whose futexes are
   * process-local. Blocking the main thread blocks its event loop: see
   * {@link Kernel.futexWaitAsync}.
   *
   * `opts` is read once (`deadline`) after `addr` and `current`, before anything happens.
   *
   * @param addr the word's address: 4-aligned, mapped readable in this kernel
   * @param current the value the word must hold for the wait to begin (an int32; values up to
   *   2^32 - 1 are read as their int32 bits, so `Uint32Array` values work too)
   * @param opts `deadline`: absolute, in ms on the `Date.now()` clock (default: none)
   * @throws {ZxError} `ErrInvalidArgs` (misaligned, not mapped, not readable, beyond the VMO's
   *   end; `current` out of range), `ErrBadState` (the word does not hold `current`; the
   *   kernel was closed), `ErrTimedOut` (not woken before the deadline), `ErrNotSupported`
   *   (emulated memory that no other thread can reach, without a deadline: nothing could ever
   *   wake the wait; or a runtime that does not let this thread block)
   * @throws {TypeError} when `addr` or `current` is not a number or bigint, `opts` is not an
   *   object, or `deadline` is not a number
   * @example
   * ```ts
   * import { Kernel, ZxError, ZxStatus, ZxVmOption as O } from "../../mod.ts";
   * using k = Kernel.open({ backend: "emulated" });
   * using vmo = k.createVmo(4096);
   * using m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, 4096);
   * try {
   *   k.futexWait(m.addr, 0, { deadline: Date.now() + 10 }); // nobody wakes it
   * } catch (e) {
   *   console.log((e as ZxError).status === ZxStatus.ErrTimedOut); // true
   * }
   * ```
   */
  futexWait(addr: number | bigint, current: number, opts: { deadline?: number } = {}): void {
    const op = "zx_futex_wait";
    const a = u64(addr, "addr", op);
    const v = futexValue(current, "current", op);
    const deadline = deadlineArg(optionBag(opts, FUTEX_KEYS, op).deadline, op);
    this.#core.futexWait(a, v, deadline);
  }

  /**
   * {@link Kernel.futexWait} without blocking: the promise resolves when the word is woken.
   * On the native backend the wait runs on a runtime thread (Deno's FFI `nonblocking` pool;
   * on Node, one libuv thread-pool thread per pending wait, `UV_THREADPOOL_SIZE`, default 4);
   * on the emulated backend it is `Atomics.waitAsync` (shared VMOs) or an in-kernel queue.
   * Closing the kernel rejects pending waits with `ErrCanceled`.
   *
   * @param addr the word's address: 4-aligned, mapped readable in this kernel
   * @param current the value the word must hold (see {@link Kernel.futexWait})
   * @param opts `deadline`: absolute, in ms on the `Date.now()` clock (default: none)
   * @throws {ZxError} (synchronously) `ErrInvalidArgs` for a bad address or value,
   *   `ErrBadState` when the kernel is closed; (as a rejection) `ErrBadState` when the word
   *   does not hold `current`, `ErrTimedOut`, `ErrCanceled` (the kernel closed)
   * @throws {TypeError} (synchronously) as {@link Kernel.futexWait}
   * @example
   * ```ts
   * import { Kernel, ZxVmOption as O } from "../../mod.ts";
   * using k = Kernel.open({ backend: "emulated" });
   * using vmo = k.createVmo(4096);
   * using m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 4096);
   * const woken = k.futexWaitAsync(m.addr, 0);
   * m.write(0, new Uint8Array(new Int32Array([1]).buffer)); // change the word, then wake
   * console.log(k.futexWake(m.addr, 1)); // 1
   * await woken;
   * ```
   */
  futexWaitAsync(
    addr: number | bigint,
    current: number,
    opts: { deadline?: number } = {},
  ): Promise<void> {
    const op = "zx_futex_wait";
    const a = u64(addr, "addr", op);
    const v = futexValue(current, "current", op);
    const deadline = deadlineArg(optionBag(opts, FUTEX_KEYS, op).deadline, op);
    return this.#core.futexWaitAsync(a, v, deadline);
  }

  /**
   * `zx_futex_wake`: wake up to `count` threads waiting on the 32-bit word at `addr`, in this
   * kernel or any other that maps the same VMO, in arrival order where the platform keeps it.
   * A word nothing maps has no waiters (0).
   *
   * @param addr the word's address (4-aligned)
   * @param count how many to wake (default `Infinity`: all; 2^32 - 1 and more also mean all)
   * @returns how many were woken (Zircon returns only `ZX_OK`; the count is zxvm's addition)
   * @throws {ZxError} `ErrInvalidArgs` (misaligned address, negative or fractional count),
   *   `ErrBadState` (the kernel was closed)
   * @throws {TypeError} when `addr` or `count` is not a number or bigint
   */
  futexWake(addr: number | bigint, count?: number): number {
    const op = "zx_futex_wake";
    const a = u64(addr, "addr", op);
    const n = wakeCount(count, op);
    return this.#core.futexWake(a, n);
  }

  /** Close every handle, unmap everything and release all memory. Idempotent. */
  close(): void {
    this.#core.close();
    if (defaultKernel === this) defaultKernel = null;
  }

  /** Calls `this.close()` (see {@link Kernel.close}). */
  [Symbol.dispose](): void {
    this.close();
  }
}
