/**
 * Argument decoding at the SDK boundary: every JS value a public member receives is read here,
 * once, into plain numbers, strings and fresh `Uint8Array` views, before any check or state
 * change. The kernel and the backends only ever see the decoded values, so nothing a caller
 * passes can run user code (a getter, `valueOf`, a Proxy trap, `Symbol.species`) in the middle
 * of a call, or make a size check and the copy after it see two different lengths.
 *
 * - Numbers are primitives: a `number` or a `bigint`, judged by `typeof`. An object is a
 *   `TypeError` even when its `valueOf` or `Symbol.toPrimitive` would produce a number (those
 *   are never called).
 * - Byte arrays are real `Uint8Array`s (or instances of a subclass, such as Node's `Buffer`),
 *   judged by the engine's internal slot. Their buffer, offset and length come from the
 *   `%TypedArray%.prototype` getters captured when zxvm loaded (`src/abi/intrinsics.ts`), so
 *   own-property getters, changed prototypes, subclasses and `Symbol.species` are never
 *   consulted; zxvm reads and writes through a fresh plain view it made itself. A Proxy is not
 *   a typed array and is a `TypeError` (its traps never run). A `Uint8Array` whose buffer is
 *   detached, or that is out of bounds of a shrunk resizable buffer, has length 0: a 0-byte
 *   read or write (the other arguments are still checked).
 * - Option bags are read once per known property (inherited ones included) into a
 *   null-prototype record, in a fixed order, before anything is validated; getters and Proxy
 *   traps therefore run exactly once each, before the call looks at the world.
 * - An `AbortSignal` is read through the captured `AbortSignal.prototype.aborted` getter and
 *   `EventTarget.prototype.addEventListener`; the kernel waits on a signal zxvm owns, which
 *   follows the caller's.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { isUint8Array, u8Length, u8Slice } from "../abi/intrinsics.ts";
import { ZxStatus } from "../abi/status.ts";
const TWO_64 = 2 ** 64;
const TWO_64N = 1n << 64n;
const MAX_SAFE_N = BigInt(Number.MAX_SAFE_INTEGER);
const PAGE_N = 4096n;
const U8 = Uint8Array;
const apply = Reflect.apply;
const isInteger = Number.isInteger;
const isSafeInteger = Number.isSafeInteger;

/**
 * A description of `v` for error messages that runs no user code (no `toString`, no
 * `Symbol.toPrimitive`, no getters).
 */
export function describe(v: unknown): string {
  switch (typeof v) {
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
    case "object":
      return v === null ? "null" : "an object";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default:
      return String(v); // number, boolean, undefined: primitives, no user code
  }
}

function inexactToNumber(v: bigint): number {
  // ulp of a double at v (v > 2^53, v < 2^64): 2^(bitlength - 53), at most 2^11 < page size.
  const bits = v.toString(2).length;
  const ulp = 1n << BigInt(bits - 53);
  let floor = (v / ulp) * ulp;
  if (floor % PAGE_N === 0n) floor += ulp; // stay unaligned; rounds up to the same page
  return Number(floor);
}

/**
 * Decode a u64 argument (size, offset, address): a `number` or `bigint` in [0, 2^64).
 *
 * Values are kept as `number`: every `number` a caller can pass is exact, and a `bigint` above
 * 2^53 that a double cannot hold exactly becomes the nearest double that keeps the three
 * properties the kernel ever asks of such a value — it is not page aligned, it rounds up to
 * the same page boundary (so overflow on rounding is detected exactly), and it compares the
 * same against any page-aligned value. No real object is that large (the largest VMO is 2^40
 * bytes), so such a value can only ever be rejected, and it is rejected with the right status.
 *
 * @throws {TypeError} when `v` is neither a number nor a bigint (objects are never converted)
 * @throws {ZxError} `ErrInvalidArgs` when `v` is negative, fractional, NaN, infinite or >= 2^64
 */
export function u64(v: unknown, name: string, op: string): number {
  if (typeof v === "number") {
    if (v >= 0 && v < TWO_64 && isInteger(v)) return v;
    throw new ZxError(
      ZxStatus.ErrInvalidArgs,
      op,
      `${name} must be an integer in [0, 2^64), got ${describe(v)}`,
    );
  }
  if (typeof v === "bigint") {
    if (v >= 0n && v < TWO_64N) {
      if (v <= MAX_SAFE_N) return Number(v);
      const n = Number(v);
      if (n < TWO_64 && BigInt(n) === v) return n;
      return inexactToNumber(v);
    }
    throw new ZxError(
      ZxStatus.ErrInvalidArgs,
      op,
      `${name} must be in [0, 2^64), got ${describe(v)}`,
    );
  }
  throw new TypeError(`${op}: ${name} must be a number or bigint, got ${describe(v)}`);
}

/**
 * Decode a 32-bit flag word (options, rights, signals, ops): a `number` or `bigint`.
 *
 * @throws {TypeError} when `v` is neither a number nor a bigint
 * @throws {ZxError} `ErrInvalidArgs` when `v` is not an integer in [0, 2^32)
 */
export function u32(v: unknown, name: string, op: string): number {
  if (typeof v === "number") {
    if (v >= 0 && v <= 0xFFFFFFFF && isInteger(v)) return v;
  } else if (typeof v === "bigint") {
    if (v >= 0n && v <= 0xFFFFFFFFn) return Number(v);
  } else {
    throw new TypeError(`${op}: ${name} must be a number, got ${describe(v)}`);
  }
  throw new ZxError(
    ZxStatus.ErrInvalidArgs,
    op,
    `${name} must be an integer in [0, 2^32), got ${describe(v)}`,
  );
}

/**
 * Decode a futex word value (`zx_futex_t`, an int32): an integer `number` or `bigint` in
 * [-2^31, 2^32), so both `Int32Array` and `Uint32Array` readings work; returned as an int32.
 *
 * @throws {TypeError} when `v` is neither a number nor a bigint
 * @throws {ZxError} `ErrInvalidArgs` when it is out of that range or not an integer
 */
export function futexValue(v: unknown, name: string, op: string): number {
  if (typeof v === "number") {
    if (v >= -0x80000000 && v <= 0xFFFFFFFF && isInteger(v)) return v | 0;
  } else if (typeof v === "bigint") {
    if (v >= -0x80000000n && v <= 0xFFFFFFFFn) return Number(v) | 0;
  } else {
    throw new TypeError(`${op}: ${name} must be a number, got ${describe(v)}`);
  }
  throw new ZxError(
    ZxStatus.ErrInvalidArgs,
    op,
    `${name} must be an integer in [-2^31, 2^32), got ${describe(v)}`,
  );
}

/**
 * Decode a wake count: `undefined` or `Infinity` (all), or a non-negative integer `number` or
 * `bigint` (values of 2^32 - 1 and more wake all, as Zircon's `UINT32_MAX` does).
 *
 * @throws {TypeError} when `v` is neither undefined, a number nor a bigint
 * @throws {ZxError} `ErrInvalidArgs` when it is negative, fractional or NaN
 */
export function wakeCount(v: unknown, op: string): number {
  if (v === undefined || v === Infinity) return Infinity;
  let n: number;
  if (typeof v === "number") {
    if (!(v >= 0 && isInteger(v))) {
      throw new ZxError(
        ZxStatus.ErrInvalidArgs,
        op,
        `count must be a non-negative integer or Infinity, got ${describe(v)}`,
      );
    }
    n = v;
  } else if (typeof v === "bigint") {
    if (v < 0n) {
      throw new ZxError(ZxStatus.ErrInvalidArgs, op, `count must be non-negative, got ${v}n`);
    }
    n = v >= 0xFFFFFFFFn ? Infinity : Number(v);
  } else {
    throw new TypeError(`${op}: count must be a number, got ${describe(v)}`);
  }
  return n >= 0xFFFFFFFF ? Infinity : n;
}

/**
 * Decode a kernel seed: a non-negative safe integer `number` (so `Date.now()` works); only its
 * low 32 bits are used.
 *
 * @throws {TypeError} when `v` is not a number
 * @throws {ZxError} `ErrInvalidArgs` when `v` is NaN, infinite, negative, fractional or ≥ 2^53
 */
export function seedArg(v: unknown, op: string): number {
  if (typeof v !== "number") {
    throw new TypeError(`${op}: seed must be a number, got ${describe(v)}`);
  }
  if (!isSafeInteger(v) || v < 0) {
    throw new ZxError(
      ZxStatus.ErrInvalidArgs,
      op,
      `seed must be an integer in [0, 2^53), got ${describe(v)}`,
    );
  }
  return v % 2 ** 32;
}

/**
 * Decode a byte array: a fresh plain `Uint8Array` over exactly the bytes of `v`, which must be
 * a real `Uint8Array` (a subclass instance is one; a Proxy is not). The view's buffer, offset
 * and length come from the intrinsic getters, so nothing `v` defines or inherits is consulted
 * and no user code runs. Reading from or writing into the result reads or writes `v`'s memory.
 * A detached or out-of-bounds `v` decodes to an empty array (a 0-byte read or write).
 *
 * @throws {TypeError} when `v` is not a `Uint8Array`
 */
export function bytesArg(v: unknown, name: string, op: string): Uint8Array {
  if (!isUint8Array(v)) {
    throw new TypeError(`${op}: ${name} must be a Uint8Array, got ${describe(v)}`);
  }
  return viewOf(v);
}

/** A fresh fixed-length view of what `v` (a real `Uint8Array`) holds now. */
function viewOf(v: Uint8Array): Uint8Array {
  const n = u8Length(v);
  // A detached buffer cannot be viewed again; 0 bytes of it are 0 bytes of anything.
  return n === 0 ? new U8(0) : u8Slice(v, 0, n);
}

/**
 * Decode `Vmo.read`'s first argument: a `Uint8Array` to fill (decoded as {@link bytesArg}: a
 * fresh view of the caller's memory) or a length (decoded as {@link u64}).
 *
 * @throws {TypeError} when it is neither a `Uint8Array` nor a number or bigint
 * @throws {ZxError} `ErrInvalidArgs` for a length outside u64
 */
export function readTarget(v: unknown, op: string): Uint8Array | number {
  if (isUint8Array(v)) return viewOf(v);
  if (typeof v !== "number" && typeof v !== "bigint") {
    throw new TypeError(
      `${op}: the first argument must be a length (number or bigint) or a Uint8Array, got ${
        describe(v)
      }`,
    );
  }
  return u64(v, "length", op);
}

/**
 * Decode a name (`ZX_PROP_NAME`): a primitive string. String objects and objects with
 * `toString` are a `TypeError` (never converted).
 *
 * @throws {TypeError} when `v` is not a string
 */
export function nameArg(v: unknown, op: string): string {
  if (typeof v !== "string") {
    throw new TypeError(`${op}: name must be a string, got ${describe(v)}`);
  }
  return v;
}

/**
 * Read an option bag once: each of `keys` is read exactly once (in order, inherited
 * properties included, as `bag[key]` would) into a null-prototype record; `undefined` reads as
 * an empty bag. Getters and Proxy traps run here and nowhere else; an exception they throw
 * propagates unchanged (nothing has happened yet).
 *
 * @throws {TypeError} when `bag` is neither `undefined` nor a non-null object
 */
export function optionBag<K extends string>(
  bag: unknown,
  keys: readonly K[],
  op: string,
): { [P in K]: unknown } {
  const out = Object.create(null) as { [P in K]: unknown };
  if (bag === undefined) {
    for (const k of keys) out[k] = undefined;
    return out;
  }
  if (typeof bag !== "object" || bag === null) {
    throw new TypeError(`${op}: options must be an object, got ${describe(bag)}`);
  }
  const b = bag as Record<K, unknown>;
  for (const k of keys) out[k] = b[k];
  return out;
}

/**
 * Decode a wait deadline: `undefined` or `null` (none: `Infinity`) or a `number` on the
 * `Date.now()` clock that is not NaN.
 *
 * @throws {TypeError} otherwise
 */
export function deadlineArg(v: unknown, op: string): number {
  if (v === undefined || v === null) return Infinity;
  if (typeof v !== "number" || v !== v) {
    throw new TypeError(
      `${op}: deadline must be a number (ms on the Date.now() clock), got ${describe(v)}`,
    );
  }
  return v;
}

type Getter = (this: unknown) => unknown;
type Listen = (this: unknown, type: string, fn: () => void, opts?: unknown) => void;

const signalIntrinsics = ((): { aborted: Getter; add: Listen; remove: Listen } | null => {
  const AS = (globalThis as { AbortSignal?: { prototype: object } }).AbortSignal;
  const ET = (globalThis as { EventTarget?: { prototype: object } }).EventTarget;
  if (AS === undefined || ET === undefined) return null;
  const aborted = Object.getOwnPropertyDescriptor(AS.prototype, "aborted")?.get;
  const add = Object.getOwnPropertyDescriptor(ET.prototype, "addEventListener")?.value;
  const remove = Object.getOwnPropertyDescriptor(ET.prototype, "removeEventListener")?.value;
  if (
    typeof aborted !== "function" || typeof add !== "function" || typeof remove !== "function"
  ) return null;
  return { aborted, add, remove };
})();

/** What {@link signalArg} decoded: zxvm's own signal, and how to stop following the caller's. */
export interface DecodedSignal {
  /** A signal zxvm made: aborted now if the caller's is, and when the caller's aborts. */
  readonly signal: AbortSignal;
  /** Stop listening to the caller's signal (idempotent). */
  release(): void;
}

/**
 * Decode an `AbortSignal`: `undefined`, or an object the runtime's own
 * `AbortSignal.prototype.aborted` getter accepts (a real signal, also one with own properties
 * that lie; a Proxy over one is read through its traps, here and only here). Returns a signal
 * zxvm owns that follows the caller's (through the intrinsic `addEventListener`), so waiting
 * never runs the caller's getters or methods; call `release` when the wait settles.
 *
 * @throws {TypeError} when `v` is not an `AbortSignal`
 */
export function signalArg(v: unknown, op: string): DecodedSignal | undefined {
  if (v === undefined) return undefined;
  const bad = (): TypeError =>
    new TypeError(`${op}: signal must be an AbortSignal, got ${describe(v)}`);
  if (signalIntrinsics === null || typeof v !== "object" || v === null) throw bad();
  const { aborted, add, remove } = signalIntrinsics;
  let now: unknown;
  try {
    now = apply(aborted, v, []);
  } catch {
    throw bad();
  }
  const own = new AbortController();
  if (now === true) {
    own.abort();
    return { signal: own.signal, release: (): void => {} };
  }
  const follow = (): void => own.abort();
  try {
    apply(add, v, ["abort", follow, { once: true }]);
  } catch {
    throw bad();
  }
  let released = false;
  return {
    signal: own.signal,
    release: (): void => {
      if (released) return;
      released = true;
      try {
        apply(remove, v, ["abort", follow]);
      } catch {
        // A Proxy's trap threw on the way out: the listener only aborts zxvm's own signal.
      }
    },
  };
}
