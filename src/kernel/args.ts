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

// Transitional: the JS-value decoders moved to src/sdk/args.ts. tests/kernel_units_test.ts
// still imports `u32`/`u64` from here; once it imports them from "../src/sdk/args.ts" this
// re-export goes (the kernel itself never uses them).
/** @deprecated Import from `src/sdk/args.ts` (the SDK boundary decodes JS values). */
export { u32, u64 } from "../sdk/args.ts";
