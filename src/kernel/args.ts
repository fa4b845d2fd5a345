/**
 * The kernel's numeric helpers for u64 values held as `number`. Decoding JS values into such
 * numbers happens at the SDK boundary (`src/sdk/args.ts`); the kernel only ever sees the
 * decoded values.
 *
 * @module
 */

/** 2^64, the first value outside the u64 domain. */
export const TWO_64 = 2 ** 64;

/** Round `v` up to a multiple of `page` (a power of two). May return >= 2^64 (overflow). */
export function roundUp(v: number, page: number): number {
  const r = v % page;
  return r === 0 ? v : v - r + page;
}

/** True when `v` is a multiple of `page`. */
export function isAligned(v: number, page: number): boolean {
  return v % page === 0;
}
