/**
 * Differential runs: the same operation sequence on two kernels opened with the same seed
 * (emulated vs native, or emulated vs emulated where native is unavailable); every outcome and
 * the state after every step must be identical.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Kernel } from "../../mod.ts";
import { alignLog, Driver, type Op, opArb } from "./model.ts";

/** Opens one side of a pair. */
export type Opener = (seed: number, rootVmarSize: number) => Kernel;

/** Root VMAR size for differential runs: small, so that full-VMAR cases happen. */
export const DIFF_ROOT_SIZE = 2 ** 24;

/** Run one sequence on both kernels; throws an AssertionError at the first divergence. */
export function runPair(ops: readonly Op[], seed: number, openA: Opener, openB: Opener): number {
  const ka = openA(seed, DIFF_ROOT_SIZE);
  let kb: Kernel | undefined;
  try {
    kb = openB(seed, DIFF_ROOT_SIZE);
    const a = new Driver(ka);
    const b = new Driver(kb);
    const maxAlign = Math.min(alignLog(a.rootBase), alignLog(b.rootBase));
    a.maxAlignLog = maxAlign;
    b.maxAlignLog = maxAlign;
    let executed = 0;
    for (let i = 0; i < ops.length; i++) {
      const ra = a.exec(ops[i]);
      const rb = b.exec(ops[i]);
      executed++;
      assert.deepEqual(rb, ra, `step ${i} ${fc.stringify(ops[i])}: outcomes differ`);
      const full = i % 8 === 7 || i === ops.length - 1;
      assert.deepEqual(
        b.state(full),
        a.state(full),
        `step ${i} ${fc.stringify(ops[i])}: states differ`,
      );
    }
    return executed;
  } finally {
    kb?.close();
    ka.close();
  }
}

/** Options of {@link fuzzPair}. */
export interface FuzzOptions {
  /** fast-check seed. */
  seed: number;
  /** Run until at least this many operations have been executed. */
  targetOps: number;
  /** The two sides. */
  openA: Opener;
  /** The two sides. */
  openB: Opener;
}

/** Shortest and longest generated sequence. */
const MIN_LEN = 40;
const MAX_LEN = 120;

/**
 * Property-based differential run; on failure fast-check shrinks to a minimal sequence and the
 * thrown error shows it (paste it into tests/regressions_test.ts). Returns operations executed.
 */
export function fuzzPair(o: FuzzOptions): number {
  let count = 0;
  // Rounds until the target is met: the first uses the given seed, top-ups derived ones.
  for (let round = 0; count < o.targetOps; round++) {
    const numRuns = Math.max(1, Math.ceil((o.targetOps - count) / ((MIN_LEN + MAX_LEN) / 2)));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xFFFFFFFF }),
        fc.array(opArb, { minLength: MIN_LEN, maxLength: MAX_LEN }),
        (kseed, ops) => {
          count += runPair(ops, kseed, o.openA, o.openB);
        },
      ),
      {
        seed: (o.seed + round * 0x9E3779B1) | 0,
        numRuns,
        // Shrinking a long failing sequence can take a while; report what it has by then.
        interruptAfterTimeLimit: 120_000,
        markInterruptAsFailure: true,
      },
    );
  }
  return count;
}
