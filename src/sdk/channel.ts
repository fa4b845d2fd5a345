/**
 * `Channel`: one endpoint of a Zircon channel — a bidirectional, datagram-style transport of
 * bytes and handles between two endpoints, in one kernel or between two kernels of this JS
 * realm.
 *
 * @module
 */
import { ChannelLimits } from "../abi/channel.ts";
import { ZxError } from "../abi/error.ts";
import { isUint8Array, u8Length, u8Slice } from "../abi/intrinsics.ts";
import { Signals } from "../abi/signals.ts";
import { ZxStatus } from "../abi/status.ts";
import { u32 } from "./args.ts";
import type { KernelCore } from "../kernel/kernel.ts";
import { Handle, handleCore, handleKernel, handleValue, isHandle } from "./handle.ts";
import { INTERNAL } from "./internal.ts";
import { Kernel } from "./kernel.ts";
import { Vmo } from "./vmo.ts";

/**
 * A message read from a channel: its bytes and the handles it carried, now the reader's.
 *
 * @example
 * ```ts
 * import { Channel, type ChannelMessage, Vmo } from "../../mod.ts";
 * const [a, b] = Channel.create();
 * a.write(new Uint8Array([1, 2]), [Vmo.create(4096)]);
 * const msg: ChannelMessage = b.read();
 * console.log(msg.bytes.length, msg.handles[0].type); // 2 "vmo"
 * for (const h of msg.handles) h.close();
 * a.close();
 * b.close();
 * ```
 */
export interface ChannelMessage {
  /** The bytes (a private copy). */
  bytes: Uint8Array;
  /** The handles, in the order written, as `Vmo` and `Channel` objects of the reader's kernel. */
  handles: Handle[];
}

/** A `MessagePort` (Web, Deno, or Node `worker_threads`), as far as a token's type goes. */
export interface ChannelPort {
  /** `MessagePort.postMessage`. */
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  /** `MessagePort.close`. */
  close(): void;
}

/**
 * A channel endpoint on its way to another realm (a Deno `Worker`, a Node `worker_threads`
 * thread): made by {@link Channel.export}, posted with its `port` in the transfer list, and
 * turned back into a `Channel` there by `kernel.importChannel(token)`. Structured-cloneable; good
 * for one import.
 *
 * @example
 * ```ts
 * import { Channel, type ChannelToken } from "../../mod.ts";
 * const [a, b] = Channel.create();
 * const token: ChannelToken = b.export(); // b.valid === false from now on
 * // worker.postMessage(token, [token.port]);
 * console.log(token.koid === a.basicInfo().relatedKoid); // true
 * token.port.close(); // (here: nobody imports it; a sees PEER_CLOSED)
 * a.close();
 * ```
 */
export interface ChannelToken {
  /**
   * The `MessagePort` the endpoint's messages travel over: put it in the transfer list (typed
   * as {@link ChannelPort}, which Web and Node ports both are).
   */
  readonly port: ChannelPort;
  /** The endpoint's koid (the imported handle has it too). */
  readonly koid: number;
  /** Its peer's koid. */
  readonly peerKoid: number;
  /** The exported handle's rights (the imported handle has exactly these). */
  readonly rights: number;
}

/**
 * A handle to one endpoint of a channel. Create a pair with {@link Channel.create} (default
 * kernel) or `kernel.createChannel()`; what one endpoint writes, the other reads, in order.
 * Handles written into a channel move: the writer's `Handle` objects are invalid afterwards
 * (also when the write fails, as in Zircon), and the reader gets new ones with the same koid and
 * the same rights. A VMO sent to another kernel of this realm is the same VMO there (mapping it
 * maps the same memory). Closing an endpoint closes the handles still queued for it; the peer
 * sees `Signals.ChannelPeerClosed`.
 *
 * @example
 * ```ts
 * import { Kernel, type Vmo, ZxVmOption } from "../../mod.ts";
 * using a = Kernel.open({ backend: "emulated" });
 * using b = Kernel.open({ backend: "emulated" });
 * const [inA, inB] = a.createChannel(0, b); // one endpoint in each kernel
 * const vmo = a.createVmo(4096);
 * vmo.write(new TextEncoder().encode("hi"), 0);
 * inA.write(new Uint8Array([1]), [vmo]); // vmo.valid is false from now on
 * const got = inB.read().handles[0] as Vmo; // the same VMO, now a handle of kernel b
 * using m = b.rootVmar.map(ZxVmOption.VmPermRead, 0, got, 0, 4096);
 * console.log(new TextDecoder().decode(m.read(0, 2))); // "hi"
 * ```
 */
export class Channel extends Handle {
  /**
   * `zx_channel_create` on the default kernel: two connected endpoints, each handle with
   * `Rights.DefaultChannel` (no `Rights.Duplicate`: an endpoint has exactly one handle).
   *
   * @param options must be 0
   * @throws {ZxError} `ErrInvalidArgs` when `options` is not 0
   * @throws {TypeError} when `options` is not a number
   * @example
   * ```ts
   * import { Channel } from "../../mod.ts";
   * const [a, b] = Channel.create();
   * a.write(new TextEncoder().encode("ping"));
   * console.log(new TextDecoder().decode(b.read().bytes)); // "ping"
   * a.close();
   * b.close();
   * ```
   */
  static create(options: number = 0): [Channel, Channel] {
    return Kernel.default.createChannel(options);
  }

  /** Always `"channel"`. */
  get type(): "channel" {
    return "channel";
  }

  /**
   * `zx_channel_write`: queue a message of `bytes` (copied) and `handles` for the peer. Every
   * handle in `handles` is consumed — invalid afterwards, on success and on failure alike
   * (Zircon's contract; only a list that is not an array of zxvm handles, a `TypeError`,
   * consumes nothing) — except the kernel's borrowed root VMAR, which never leaves.
   *
   * @param bytes at most 65,536 bytes (`ChannelLimits.MaxMsgBytes`)
   * @param handles at most 64 handles (`ChannelLimits.MaxMsgHandles`) of this kernel, each with
   *   `Rights.Transfer`: VMOs and channel endpoints (not this one)
   * @param options must be 0 (`ChannelOptions.WriteUseIovec` is `ErrNotSupported`)
   * @throws {ZxError} `ErrInvalidArgs` (options), `ErrBadHandle` (this handle closed; a listed
   *   handle closed, of another kernel, or listed twice), `ErrWrongType` (not a channel),
   *   `ErrAccessDenied` (no `Rights.Write`; a listed handle without `Rights.Transfer`),
   *   `ErrOutOfRange` (too many bytes or handles), `ErrNotSupported` (this endpoint listed; a
   *   VMAR listed; a VMO of another backend kind than the receiving kernel's; the iovec
   *   option), `ErrPeerClosed` (the peer endpoint was closed)
   * @throws {TypeError} when `bytes` is not a `Uint8Array`, `handles` not an array of zxvm
   *   handles, or `options` not a number
   * @example
   * ```ts
   * import { Channel, Vmo } from "../../mod.ts";
   * const [a, b] = Channel.create();
   * const vmo = Vmo.create(4096);
   * a.write(new Uint8Array([7]), [vmo]);
   * console.log(vmo.valid); // false: the handle moved into the message
   * const { handles } = b.read();
   * handles[0].close();
   * a.close();
   * b.close();
   * ```
   */
  write(bytes: Uint8Array, handles: Handle[] = [], options: number = 0): void {
    const op = "zx_channel_write";
    const core = handleCore(this);
    const values = handleValues(core, handles, op);
    let called = false;
    try {
      if (!isUint8Array(bytes)) {
        throw new TypeError(`${op}: bytes must be a Uint8Array`);
      }
      const o = u32(options, "options", op);
      const n = u8Length(bytes); // 0 for a detached array, which no view can be made over
      const plain = n === 0 ? new Uint8Array(0) : u8Slice(bytes, 0, n);
      called = true;
      core.channelWrite(handleValue(this), o, plain, values);
    } catch (e) {
      // The kernel consumes the handles on its own failures; these happened before it.
      if (!called) core.removeHandles(values);
      throw e;
    }
  }

  /**
   * `zx_channel_read`: take the first queued message, if it has at most `numBytes` bytes and
   * `numHandles` handles (by default any message fits). Its handles are installed in this
   * handle's kernel with the rights they were written with, as `Vmo` and `Channel` objects.
   *
   * @param options 0 or `ChannelOptions.ReadMayDiscard` (a message that does not fit is then
   *   destroyed, its handles closed, instead of staying queued)
   * @param numBytes the most bytes the caller accepts
   * @param numHandles the most handles the caller accepts
   * @throws {ZxError} `ErrBadHandle`, `ErrWrongType`, `ErrAccessDenied` (no `Rights.Read`),
   *   `ErrNotSupported` (unknown options; a VMO in the message whose memory is of another backend
   *   kind than this kernel's — it stays queued), `ErrShouldWait` (nothing queued),
   *   `ErrPeerClosed` (nothing queued and the peer closed), `ErrBufferTooSmall` (the message is
   *   larger than allowed; the error says its size; it stays queued unless discarded),
   *   `ErrInvalidArgs` (values outside u32)
   * @throws {TypeError} for arguments that are not numbers
   * @example
   * ```ts
   * import { Channel, ZxError, ZxStatus } from "../../mod.ts";
   * const [a, b] = Channel.create();
   * a.write(new Uint8Array(100));
   * try {
   *   b.read(0, 10); // too small: the message stays queued
   * } catch (e) {
   *   console.log(e instanceof ZxError && e.status === ZxStatus.ErrBufferTooSmall); // true
   * }
   * console.log(b.read().bytes.length); // 100
   * a.close();
   * b.close();
   * ```
   */
  read(
    options: number = 0,
    numBytes: number = ChannelLimits.MaxMsgBytes,
    numHandles: number = ChannelLimits.MaxMsgHandles,
  ): ChannelMessage {
    const op = "zx_channel_read";
    const core = handleCore(this);
    const o = u32(options, "options", op);
    const nb = u32(numBytes, "numBytes", op);
    const nh = u32(numHandles, "numHandles", op);
    const r = core.channelRead(handleValue(this), o, nb, nh);
    const k = handleKernel(this); // not `this.kernel`: a receiver's own getter could lie
    const handles = r.handles.map((h): Handle =>
      h.type === "vmo" ? new Vmo(k, h.value, INTERNAL) : new Channel(k, h.value, INTERNAL)
    );
    return { bytes: r.bytes, handles };
  }

  /**
   * Export this endpoint to another realm — a Deno `Worker` or a Node `worker_threads` thread,
   * each running its own kernels like a Zircon process. The handle is consumed (invalid
   * afterwards, as when written into a channel); post the token with its port in the transfer
   * list and call `kernel.importChannel(token)` on the other side. From then on the peer here
   * and the imported endpoint there talk as within one kernel: bytes, handles (VMOs arrive as
   * the same VMO: same koid, same rights, the same memory — a duplicated memfd, or emulated
   * storage moved to a `SharedArrayBuffer`; endpoints travel too), `ErrPeerClosed` when either side closes or its Worker ends. Messages the peer
   * wrote before the export travel too.
   *
   * @returns the token (see {@link ChannelToken})
   * @throws {ZxError} `ErrBadHandle` (closed), `ErrWrongType` (not a channel),
   *   `ErrAccessDenied` (no `Rights.Transfer`)
   * @throws {TypeError} when called on something that is not a zxvm handle
   * @example
   * ```ts
   * import { Channel } from "../../mod.ts";
   * const [here, there] = Channel.create();
   * const token = there.export();
   * // const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
   * // worker.postMessage(token, [token.port]);
   * // in the worker: const ch = Kernel.open().importChannel(token);
   * console.log(there.valid); // false: the endpoint now lives behind token.port
   * token.port.close();
   * here.close();
   * ```
   */
  export(): ChannelToken {
    return handleCore(this).channelExport(handleValue(this));
  }

  /**
   * The messages as they arrive: `for await (const msg of channel)` reads each queued message,
   * waits (`waitOne`) when none is queued, and ends when the queue is empty and the peer has
   * closed. Any other failure (the handle closed, no `Rights.Read` or `Rights.Wait`) is thrown
   * into the loop.
   *
   * @throws {TypeError} when called on something that is not a channel handle
   * @example
   * ```ts
   * import { Channel } from "../../mod.ts";
   * const [a, b] = Channel.create();
   * a.write(new Uint8Array([1]));
   * a.write(new Uint8Array([2]));
   * a.close(); // the loop below ends after the two queued messages
   * for await (const msg of b) console.log(msg.bytes[0]);
   * b.close();
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<ChannelMessage> {
    handleCore(this);
    if (!(this instanceof Channel)) {
      throw new TypeError("Channel[Symbol.asyncIterator]: the receiver is not a Channel");
    }
    return messages(this);
  }
}

// The iterator calls these, not `ch.read` / `ch.waitOne`: a receiver's own properties could
// shadow them and run code (or lie) mid-iteration.
const channelRead = Channel.prototype.read;
const handleWaitOne = Handle.prototype.waitOne;

async function* messages(ch: Channel): AsyncGenerator<ChannelMessage, void, undefined> {
  const mask = Signals.ChannelReadable | Signals.ChannelPeerClosed;
  for (;;) {
    let msg: ChannelMessage;
    try {
      msg = Reflect.apply(channelRead, ch, []) as ChannelMessage;
    } catch (e) {
      if (!(e instanceof ZxError)) throw e;
      if (e.status === ZxStatus.ErrPeerClosed) return;
      if (e.status !== ZxStatus.ErrShouldWait) throw e;
      await Reflect.apply(handleWaitOne, ch, [mask]);
      continue;
    }
    yield msg;
  }
}

/**
 * The values of the handles listed for a write, each read once. A handle of another kernel
 * becomes 0 (`ZX_HANDLE_INVALID`: the kernel answers BAD_HANDLE for it and leaves it alone).
 *
 * @throws {TypeError} when `handles` is not an array of zxvm handles
 */
function handleValues(core: KernelCore, handles: unknown, op: string): number[] {
  if (!Array.isArray(handles)) {
    throw new TypeError(`${op}: handles must be an array of zxvm handles`);
  }
  const n: unknown = handles.length;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`${op}: handles must be an array of zxvm handles`);
  }
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const h: unknown = handles[i]; // read once; none of the handle's own properties is read
    if (!isHandle(h)) {
      throw new TypeError(`${op}: handles[${i}] is not a zxvm handle`);
    }
    values.push(handleCore(h) === core ? handleValue(h) : 0);
  }
  return values;
}
