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
import { opArb } from "./model/arbitraries.ts";
import { alignLog, Driver, type Outcome } from "./model/driver.ts";
import type { Op } from "./model/ops.ts";

/** Opens one side of a pair. */
export type Opener = (seed: number, rootVmarSize: number) => Kernel;

/** Rewrites side B's outcome of one step (tests of the runner itself: a planted divergence). */
export type Tamper = (op: Op, outcome: Outcome) => Outcome;

/** Root VMAR size for differential runs: small, so that full-VMAR cases happen. */
const DIFF_ROOT_SIZE = 2 ** 24;

/** Run one sequence on both kernels; throws an AssertionError at the first divergence. */
export function runPair(
  ops: readonly Op[],
  seed: number,
  openA: Opener,
  openB: Opener,
  tamper?: Tamper,
): number {
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
      let rb = b.exec(ops[i]);
      if (tamper !== undefined) rb = tamper(ops[i], rb);
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
  /** Planted divergence on side B (tests of the runner). */
  tamper?: Tamper;
  /**
   * Time for shrinking a counterexample, in ms (default 120 s). Afterwards every candidate
   * counts as passing, so fast-check reports the smallest failing sequence found by then.
   */
  shrinkBudgetMs?: number;
}

/**
 * Longest generated sequence. Sequences may be empty, so a counterexample shrinks to the truly
 * minimal length (fast-check cannot drop the last element of an array at its minimum length);
 * with `size: "max"` the lengths spread over the whole range (mean about 77), and the run
 * repeats until the operation target is met.
 */
const MAX_LEN = 160;
const MEAN_LEN = 75;

/** A sequence as a TypeScript literal (`{ t: "create", size: 4096, opts: 0 }` per line). */
function formatOp(op: Op): string {
  const lit = (v: unknown): string => {
    if (v !== null && typeof v === "object") {
      const fields = Object.entries(v).map(([k, x]) => `${k}: ${lit(x)}`);
      return `{ ${fields.join(", ")} }`;
    }
    return fc.stringify(v);
  };
  return lit(op);
}

/**
 * An entry for `SEQUENCES` in tests/regressions_test.ts: `[kernel seed, [ops], "what"]`,
 * indented for that array, with a trailing comma.
 */
function formatRegression(seed: number, ops: readonly Op[], what: string): string {
  const lines = ["  [", `    ${seed},`, "    ["];
  for (const op of ops) lines.push(`      ${formatOp(op)},`);
  lines.push("    ],", `    ${JSON.stringify(what)},`, "  ],");
  return lines.join("\n");
}

/** Marks the paste-ready block in a {@link DifferentialFailure} message. */
export const PASTE_BEGIN = "--- paste into SEQUENCES in tests/regressions_test.ts ---";
/** End of the paste-ready block. */
export const PASTE_END = "--- end ---";

/** A shrunk counterexample of {@link fuzzPair}. */
export class DifferentialFailure extends Error {
  /** Kernel seed of the counterexample. */
  readonly kernelSeed: number;
  /** The shrunk sequence. */
  readonly ops: readonly Op[];
  /** fast-check's seed and path (replay with `{ seed, path }`). */
  readonly replay: { seed: number; path: string };

  constructor(
    kernelSeed: number,
    ops: readonly Op[],
    replay: { seed: number; path: string },
    numShrinks: number,
    shrinkCut: boolean,
    cause: unknown,
  ) {
    const first = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0];
    super(
      [
        `differential run failed; shrunk (${numShrinks} shrinks${
          shrinkCut ? ", stopped by the shrink budget: may not be minimal" : ""
        }) to ${ops.length} operation(s), kernel seed ${kernelSeed}`,
        `fast-check replay: { seed: ${replay.seed}, path: ${JSON.stringify(replay.path)} }`,
        PASTE_BEGIN,
        formatRegression(kernelSeed, ops, first),
        PASTE_END,
        `cause: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
      ].join("\n"),
      { cause },
    );
    this.name = "DifferentialFailure";
    this.kernelSeed = kernelSeed;
    this.ops = ops;
    this.replay = replay;
  }
}

/**
 * Property-based differential run; on failure fast-check shrinks to a minimal sequence and a
 * {@link DifferentialFailure} is thrown whose message holds it, ready to paste into
 * tests/regressions_test.ts. Returns operations executed (counting passing runs only).
 *
 * No time limit applies to the run itself (a long `ZXVM_FUZZ_OPS` run takes what it takes);
 * only shrinking is bounded, by {@link FuzzOptions.shrinkBudgetMs}.
 */
export function fuzzPair(o: FuzzOptions): number {
  let count = 0;
  const budget = o.shrinkBudgetMs ?? 120_000;
  // Rounds until the target is met: the first uses the given seed, top-ups derived ones.
  for (let round = 0; count < o.targetOps; round++) {
    const numRuns = Math.max(1, Math.ceil((o.targetOps - count) / MEAN_LEN));
    let shrinkDeadline: number | null = null;
    let shrinkCut = false;
    const details = fc.check(
      fc.property(
        fc.integer({ min: 0, max: 0xFFFFFFFF }),
        // Executed last element first: fast-check shrinks an array's length by keeping a
        // suffix, which then is a prefix of the run, so steps after the failure go at once.
        fc.array(opArb, { minLength: 0, maxLength: MAX_LEN, size: "max" }).map((a) =>
          a.slice().reverse()
        ),
        (kseed, ops) => {
          if (shrinkDeadline !== null && Date.now() > shrinkDeadline) {
            shrinkCut = true;
            return; // out of shrink time: keep the smallest counterexample so far
          }
          try {
            const n = runPair(ops, kseed, o.openA, o.openB, o.tamper);
            if (shrinkDeadline === null) count += n;
          } catch (e) {
            shrinkDeadline ??= Date.now() + budget;
            throw e;
          }
        },
      ),
      { seed: (o.seed + round * 0x9E3779B1) | 0, numRuns },
    );
    if (details.failed) {
      if (details.counterexample === null) {
        throw new Error(
          `differential run failed without a counterexample: ${fc.stringify(details)}`,
        );
      }
      const [kseed, ops] = details.counterexample;
      throw new DifferentialFailure(
        kseed,
        ops,
        { seed: details.seed, path: details.counterexamplePath },
        details.numShrinks,
        shrinkCut,
        details.errorInstance,
      );
    }
  }
  return count;
}
