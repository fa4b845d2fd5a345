/**
 * Placement randomisation and handle-value secrets: a small deterministic PRNG.
 *
 * @module
 */

/** A pseudo-random number generator (mulberry32); deterministic for a given seed. */
export class Prng {
  #s: number;
  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A uniformly distributed 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.#s = (this.#s + 0x6D2B79F5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /**
   * An integer in `[0, n)`, for `n` up to 2^53: uniform within 1.6% per value for `n` up to
   * 2^26 (one 32-bit draw: placement's usual case), exactly uniform to 53 bits above.
   */
  below(n: number): number {
    if (n <= 0) return 0;
    if (n <= 2 ** 26) return Math.floor((this.nextU32() / 2 ** 32) * n);
    const hi = this.nextU32() * 2 ** 21 + (this.nextU32() >>> 11); // 53 random bits
    return Math.floor((hi / 2 ** 53) * n);
  }
}
