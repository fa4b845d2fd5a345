/**
 * The JS built-ins zxvm relies on, captured when the module loads, so that user code that
 * later replaces a prototype method or getter (or hands in an object whose own properties
 * lie) cannot change what zxvm reads or copies. Every byte array a public member receives is
 * read through these: its length, offset and buffer come from the `%TypedArray%.prototype`
 * getters, and zxvm copies through fresh, plain `Uint8Array` views it made itself.
 *
 * @module
 */

// `uncurry(f)(self, ...args)` is `f.call(self, ...args)` with `call` bound now, at load.
const uncurry: <A extends unknown[], R>(f: (...args: A) => R) => (self: unknown, ...args: A) => R =
  Function.prototype.bind.bind(Function.prototype.call) as never;
const getProto = Object.getPrototypeOf;
const getOwn = Object.getOwnPropertyDescriptor;
const U8 = Uint8Array;
const TA: object = getProto(U8.prototype);

function getter(name: PropertyKey): (this: unknown) => unknown {
  const d = getOwn(TA, name);
  if (d === undefined || typeof d.get !== "function") {
    throw new Error(`zxvm: %TypedArray%.prototype has no ${String(name)} getter`);
  }
  return d.get;
}

const taTag = uncurry(getter(Symbol.toStringTag));
const taBuffer = uncurry(getter("buffer"));
const taByteOffset = uncurry(getter("byteOffset"));
const taByteLength = uncurry(getter("byteLength"));
const taSet = uncurry((TA as { set: (a: ArrayLike<number>, o?: number) => void }).set);
const taFill = uncurry((TA as { fill: (v: number, s?: number, e?: number) => unknown }).fill);

/**
 * Whether `v` is really a `Uint8Array` (or an instance of a subclass), judged by the engine's
 * internal slot, not by `instanceof`, `Symbol.toStringTag` or a Proxy's traps: a Proxy over a
 * `Uint8Array` is not one.
 */
export function isUint8Array(v: unknown): v is Uint8Array {
  return typeof v === "object" && v !== null && taTag(v) === "Uint8Array";
}

/** The intrinsic `byteLength` of a real `Uint8Array` (0 once its buffer is detached). */
export function u8Length(a: Uint8Array): number {
  return taByteLength(a) as number;
}

/** The intrinsic `byteOffset` of a real `Uint8Array`. */
export function u8Offset(a: Uint8Array): number {
  return taByteOffset(a) as number;
}

/** The intrinsic `buffer` of a real `Uint8Array`. */
export function u8Buffer(a: Uint8Array): ArrayBufferLike {
  return taBuffer(a) as ArrayBufferLike;
}

/**
 * A fresh plain `Uint8Array` over `[start, end)` of real `Uint8Array` `a` (no
 * `Symbol.species`, no user code). `0 <= start <= end <= u8Length(a)`.
 */
export function u8Slice(a: Uint8Array, start: number, end: number): Uint8Array {
  return new U8(u8Buffer(a), u8Offset(a) + start, end - start);
}

/** Copy all of `src` into `dst` at `at` with the intrinsic `%TypedArray%.prototype.set`. */
export function u8Copy(dst: Uint8Array, src: Uint8Array, at: number): void {
  taSet(dst, src, at);
}

/** Fill `[start, end)` of `dst` with `value` through the intrinsic `fill`. */
export function u8Fill(dst: Uint8Array, value: number, start: number, end: number): void {
  taFill(dst, value, start, end);
}

// Atomics' functions do not use `this`: capturing them is enough.
const atomics = Atomics;
const aWait = atomics.wait;
const aWaitAsync = (atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;
const aNotify = atomics.notify;
const aLoad = atomics.load;
const aStore = atomics.store;

/** What `Atomics.waitAsync` returns. */
export type WaitAsyncResult =
  | { async: false; value: "not-equal" | "timed-out" }
  | { async: true; value: Promise<"ok" | "timed-out"> };

type WaitAsyncFn = (
  a: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => WaitAsyncResult;

/** `Atomics.wait`, as it was when zxvm loaded. */
export function atomicsWait(
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): "ok" | "not-equal" | "timed-out" {
  return aWait(a, index, value, timeoutMs);
}

/** Whether the runtime has `Atomics.waitAsync`. */
export const hasAtomicsWaitAsync: boolean = typeof aWaitAsync === "function";

/** `Atomics.waitAsync`, as it was when zxvm loaded (check {@link hasAtomicsWaitAsync}). */
export function atomicsWaitAsync(
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): WaitAsyncResult {
  return aWaitAsync!(a, index, value, timeoutMs);
}

/** `Atomics.notify`, as it was when zxvm loaded. */
export function atomicsNotify(a: Int32Array, index: number, count: number): number {
  return aNotify(a, index, count);
}

/** `Atomics.load`, as it was when zxvm loaded. */
export function atomicsLoad(a: Int32Array, index: number): number {
  return aLoad(a, index);
}

/** `Atomics.store`, as it was when zxvm loaded. */
export function atomicsStore(a: Int32Array, index: number, value: number): void {
  aStore(a, index, value);
}

/** The little-endian int32 in `b[0..4)` (how a word's bytes read on the hosts zxvm runs on). */
export function le32Get(b: Uint8Array): number {
  return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
}

/** Store int32 `v` little-endian into `b[0..4)`. */
export function le32Set(b: Uint8Array, v: number): void {
  b[0] = v & 0xff;
  b[1] = (v >>> 8) & 0xff;
  b[2] = (v >>> 16) & 0xff;
  b[3] = v >>> 24;
}
