/**
 * Argument normalisation shared by every entry point: JS values in, exact kernel numbers out.
 *
 * Sizes, offsets and addresses are u64 in Zircon. zxvm keeps them as `number`: every value a
 * caller can pass as a `number` is an exact integer, and a `bigint` above 2^53 that a double
 * cannot hold exactly is replaced by the nearest double that keeps the three properties the
 * kernel ever asks of such a value — it is not page aligned, it rounds up to the same page
 * boundary (so overflow on rounding is detected exactly), and it compares the same against any
 * page-aligned value. No real object is that large (the largest VMO is 2^40 bytes), so a
 * value above 2^53 can only ever be rejected, and it is rejected with the right status.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";

/** 2^64, the first value outside the u64 domain. */
export const TWO_64 = 2 ** 64;
const TWO_64N = 1n << 64n;
const MAX_SAFE_N = BigInt(Number.MAX_SAFE_INTEGER);
const PAGE_N = 4096n;

function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
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
 * Normalise a u64 argument (size, offset, address).
 *
 * @throws {TypeError} when `v` is neither a number nor a bigint
 * @throws {ZxError} `ErrInvalidArgs` when `v` is negative, fractional, NaN, infinite or >= 2^64
 */
export function u64(v: unknown, name: string, op: string): number {
  if (typeof v === "number") {
    if (v >= 0 && v < TWO_64 && Number.isInteger(v)) return v;
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
 * Normalise a kernel seed: a non-negative safe integer (so `Date.now()` works); only its low
 * 32 bits are used.
 *
 * @throws {TypeError} when `v` is not a number
 * @throws {ZxError} `ErrInvalidArgs` when `v` is NaN, infinite, negative, fractional or ≥ 2^53
 */
export function seedArg(v: unknown, op: string): number {
  if (typeof v !== "number") {
    throw new TypeError(`${op}: seed must be a number, got ${describe(v)}`);
  }
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new ZxError(
      ZxStatus.ErrInvalidArgs,
      op,
      `seed must be an integer in [0, 2^53), got ${describe(v)}`,
    );
  }
  return v % 2 ** 32;
}

/**
 * Normalise a 32-bit flag word (options, rights, signals). Accepts a number or bigint.
 *
 * @throws {TypeError} when `v` is neither a number nor a bigint
 * @throws {ZxError} `ErrInvalidArgs` when `v` is not an integer in [0, 2^32)
 */
export function u32(v: unknown, name: string, op: string): number {
  if (typeof v === "number") {
    if (v >= 0 && v <= 0xFFFFFFFF && Number.isInteger(v)) return v;
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
 * Check that `v` is a `Uint8Array`.
 *
 * @throws {TypeError} otherwise
 */
export function bytesArg(v: unknown, name: string, op: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new TypeError(`${op}: ${name} must be a Uint8Array, got ${describe(v)}`);
}

/** Round `v` up to a multiple of `page` (a power of two). May return >= 2^64 (overflow). */
export function roundUp(v: number, page: number): number {
  const r = v % page;
  return r === 0 ? v : v - r + page;
}

/** True when `v` is a multiple of `page`. */
export function isAligned(v: number, page: number): boolean {
  return v % page === 0;
}
