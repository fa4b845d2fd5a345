/**
 * Differential model test (issue #7, part 1): random sequences of VMO/VMAR/handle/mapping
 * operations run on an emulated and a native kernel opened with the same seed; statuses, data,
 * sizes, info and mappings (addresses relative to the root VMAR's base) must be identical after
 * every step. `committedBytes` is excluded: the native backend counts real page allocation.
 * Without a native backend (no FFI, no shim, Node without koffi) the run is emulated vs
 * emulated, which still checks determinism.
 *
 * Environment: `ZXVM_FUZZ_OPS` (operations per seed, default 20000; set 1000000 for a long run),
 * `ZXVM_FUZZ_SEED` (replay one random seed).
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuzzPair, type Opener } from "./support/differential.ts";
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
const FIXED_SEED = 0x7a78766d; // "zxvm"
const envSeed = env("ZXVM_FUZZ_SEED");
const RANDOM_SEED = envSeed !== undefined ? Number(envSeed) : (Math.random() * 2 ** 31) | 0;

const emulated: Opener = (seed, rootVmarSize) => openEmulated({ seed, rootVmarSize });
const native: Opener = (seed, rootVmarSize) => openNative({ seed, rootVmarSize });
const skipNative = delegate() ? "delegated" : await nativeSkipReason();
const other: Opener = skipNative === null ? native : emulated;
const pairName = skipNative === null ? "emulated vs native" : "emulated vs emulated";
if (skipNative !== null && !delegate()) {
  console.log(`differential: ${skipNative}; running ${pairName}`);
}

if (delegate()) {
  // Native-heavy: run in its own process (exact /proc baselines; a crash fails this test).
  describe("differential model (subprocess)", () => {
    it("runs in its own process and exits 0", { timeout: 170_000 }, async () => {
      const r = await runExclusive([new URL(import.meta.url).pathname]);
      for (const l of summaryLines(r.out, "differential:")) console.log(l);
      assert.equal(r.signal, null, `killed by ${r.signal}:\n${r.out.slice(-4000)}`);
      assert.equal(r.code, 0, r.out.slice(-6000));
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
}
