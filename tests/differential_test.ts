/**
 * Differential model test: random sequences of VMO/VMAR/handle/mapping operations run on an
 * emulated and a native kernel opened with the same seed; statuses, data, sizes, info and mappings
 * (addresses relative to the root VMAR's base) must be identical after every step. `committedBytes`
 * is excluded: the native backend counts real page allocation. Without a native backend (no FFI, no
 * shim, Node without koffi) the run is emulated vs emulated, which still checks determinism.
 *
 * Environment: `ZXVM_FUZZ_OPS` (operations per seed, default 20000; set 1000000 for a long run:
 * no time limit applies to the run, and the subprocess timeout scales with the target),
 * `ZXVM_FUZZ_SEED` (replay one random seed).
 *
 * A failure shrinks to a minimal sequence (down to one operation) and the error message holds
 * it as an entry for `SEQUENCES` in tests/regressions_test.ts; the "shrinking" tests below
 * plant divergences to check that.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DifferentialFailure,
  fuzzPair,
  type Opener,
  PASTE_BEGIN,
  PASTE_END,
  runPair,
  type Tamper,
} from "./support/differential.ts";
import type { Op } from "./support/model/ops.ts";
import { nativeSkipReason, openEmulated, openNative } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";
import { delegate, runExclusive, summaryLines } from "./support/subprocess.ts";

function env(name: string): string | undefined {
  try {
    if (typeof Deno !== "undefined") return Deno.env.get(name);
    return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
      name
    ];
  } catch {
    return undefined;
  }
}

const TARGET = Number(env("ZXVM_FUZZ_OPS") ?? 20000);
if (!Number.isSafeInteger(TARGET) || TARGET < 1) {
  throw new Error(`ZXVM_FUZZ_OPS must be a positive integer, got ${env("ZXVM_FUZZ_OPS")}`);
}
/**
 * Subprocess timeout, scaled with the target: the two seeds together take about 0.3 ms per
 * operation of the target on a busy 2-core machine (20k: 6 s, 200k: 60 s); allow 2.5 ms (8x),
 * plus slack for startup and for shrinking a counterexample.
 */
const SUBPROCESS_TIMEOUT_MS = 170_000 + Math.ceil(TARGET * 2.5);
const FIXED_SEED = 0x7a78766d; // "zxvm"
const envSeed = env("ZXVM_FUZZ_SEED");
const RANDOM_SEED = envSeed !== undefined ? Number(envSeed) : (Math.random() * 2 ** 31) | 0;

const emulated: Opener = (seed, rootVmarSize) => openEmulated({ seed, rootVmarSize });
const native: Opener = (seed, rootVmarSize) => openNative({ seed, rootVmarSize });
const skipNative = delegate() ? "delegated" : nativeSkipReason();
const other: Opener = skipNative === null ? native : emulated;
const pairName = skipNative === null ? "emulated vs native" : "emulated vs emulated";
if (skipNative !== null && !delegate()) {
  console.log(`differential: ${skipNative}; running ${pairName}`);
}

if (delegate()) {
  // Native-heavy: run in its own process (exact /proc baselines; a crash fails this test).
  describe("differential model (subprocess)", () => {
    it("runs in its own process and exits 0", { timeout: SUBPROCESS_TIMEOUT_MS }, async () => {
      const r = await runExclusive([new URL(import.meta.url).pathname]);
      for (const l of summaryLines(r.out, "differential:")) console.log(l);
      assert.equal(r.signal, null, `killed by ${r.signal}:\n${r.out.slice(-4000)}`);
      assert.equal(r.code, 0, r.out.slice(-20000));
      assert.ok(summaryLines(r.out, "differential:").length > 0, r.out.slice(-4000));
    });
  });
} else {
  describe(`differential model (${pairName})`, () => {
    leakGuard();

    it(`fixed seed ${FIXED_SEED}: at least ${TARGET} operations`, () => {
      const n = fuzzPair({ seed: FIXED_SEED, targetOps: TARGET, openA: emulated, openB: other });
      console.log(`differential: ${n} operations, fixed seed ${FIXED_SEED} (${pairName})`);
      assert.ok(n >= TARGET);
    });

    it(`random seed ${RANDOM_SEED} (replay with ZXVM_FUZZ_SEED=${RANDOM_SEED})`, () => {
      console.log(`differential: random seed ${RANDOM_SEED} (ZXVM_FUZZ_SEED=${RANDOM_SEED})`);
      const n = fuzzPair({ seed: RANDOM_SEED, targetOps: TARGET, openA: emulated, openB: other });
      console.log(`differential: ${n} operations, random seed ${RANDOM_SEED} (${pairName})`);
      assert.ok(n >= TARGET);
    });
  });

  describe("differential model: shrinking (emulated vs emulated, planted divergences)", () => {
    leakGuard();

    /** The paste-ready block of a failure, evaluated as the literal it claims to be. */
    function pasted(e: DifferentialFailure): [number, Op[], string] {
      const m = e.message;
      const from = m.indexOf(PASTE_BEGIN);
      const to = m.indexOf(PASTE_END);
      assert.ok(from >= 0 && to > from, m);
      const text = m.slice(from + PASTE_BEGIN.length, to).trim().replace(/,$/, "");
      return new Function(`"use strict"; return (${text});`)() as [number, Op[], string];
    }

    function shrunk(openB: Opener, tamper?: Tamper): DifferentialFailure {
      let failure: unknown = null;
      try {
        fuzzPair({ seed: FIXED_SEED, targetOps: 4000, openA: emulated, openB, tamper });
      } catch (e) {
        failure = e;
      }
      assert.ok(failure instanceof DifferentialFailure, `expected a failure, got ${failure}`);
      const [seed, ops, what] = pasted(failure);
      assert.equal(seed, failure.kernelSeed);
      assert.deepEqual(ops, failure.ops);
      assert.match(what, /step \d+ .*differ/);
      // Pasted into regressions_test.ts, it fails the same way there, and only because of
      // the planted divergence.
      assert.throws(() => runPair(ops, seed, emulated, openB, tamper), assert.AssertionError);
      runPair(ops, seed, emulated, emulated);
      return failure;
    }

    it("a kernel opened with another seed: a single operation", () => {
      const reseeded: Opener = (seed, size) => openEmulated({ seed: seed + 1, rootVmarSize: size });
      const f = shrunk(reseeded);
      assert.equal(f.ops.length, 1, f.message);
    });

    it("one corrupted outcome (a view slice): at most three operations", () => {
      // Minimal: create, map read+write, view.
      const tamper: Tamper = (op, out) => {
        if (op.t !== "view" || !("ok" in out)) return out;
        const ok = out.ok as { len: number; slice: string };
        return ok.len > 0 ? { ok: { ...ok, slice: "tampered" } } : out;
      };
      const f = shrunk(emulated, tamper);
      assert.ok(f.ops.length <= 3, f.message);
      assert.ok(f.ops.some((op) => op.t === "view"), f.message);
    });

    it("one corrupted outcome (read into a buffer): at most two operations", () => {
      // Minimal: create, readInto that succeeds with a non-empty buffer.
      const tamper: Tamper = (op, out) =>
        op.t === "readInto" && "ok" in out && op.len > 0 ? { ok: "tampered" } : out;
      const f = shrunk(emulated, tamper);
      assert.ok(f.ops.length <= 2, f.message);
    });
  });
}
