/**
 * Lying values (issue 11): typed arrays whose own or inherited `length`/`byteLength`/
 * `byteOffset`/`buffer` lie, Proxies, changed prototypes, subclasses whose constructor or
 * `Symbol.species` runs code, numbers and option bags whose `valueOf`/getters run code (closing
 * handles, unmapping, closing the kernel, shrinking the VMO, detaching buffers), resizable,
 * detached and shared buffers (also rewritten and grown by a Worker during the copy) — on every
 * public member, on the emulated and the native backend (see tests/support/lying.ts).
 *
 * Under Deno the suite runs in its own process (tests/support/subprocess.ts), so a SIGBUS or
 * SIGSEGV — what the repro did before the fix — fails this test instead of killing the
 * runner. Under Node (`node --test`, the built package) every test file already runs in its own
 * child process, and a signal fails the file the same way.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getEnv } from "../src/backend/env.ts";
import type { Kernel } from "../mod.ts";
import {
  NO_LYING_CASES,
  publicMembers,
  runByteFamily,
  Runner,
  runNumberFamily,
  runOptionFamily,
  runReceiverFamily,
  runRepro,
  runSharedWorker,
  runWaitFamily,
  type Tally,
} from "./support/lying.ts";
import { nativeSkipReason, openEmulated, openNative } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";
import { delegate, runExclusive, summaryLines } from "./support/subprocess.ts";

const skipNative = delegate() ? "delegated" : await nativeSkipReason();

/** Synchronous cases per backend must not silently shrink. */
const MIN_CASES = 3000;

function backends(): Array<["emulated" | "native", (seed: number) => Kernel]> {
  const all: Array<["emulated" | "native", (seed: number) => Kernel]> = [
    ["emulated", (seed) => openEmulated({ seed, rootVmarSize: 2 ** 30 })],
    ["native", (seed) => openNative({ seed, rootVmarSize: 2 ** 30 })],
  ];
  // Node runs the suite once per ZXVM_BACKEND: each run covers its own backend.
  const only = typeof Deno === "undefined" ? getEnv("ZXVM_BACKEND") : undefined;
  return all.filter(([name]) =>
    only === undefined || only === "" || only === "auto" || only === name
  );
}

function report(label: string, t: Tally): void {
  const fams = Object.entries(t.families).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`lying: ${t.cases} cases on the ${label} backend (${fams})`);
}

if (delegate()) {
  describe("lying values (subprocess)", () => {
    it("runs in its own process and exits 0 (a SIGBUS/SIGSEGV fails it)", {
      timeout: 300_000,
    }, async () => {
      const r = await runExclusive([new URL(import.meta.url).pathname]);
      for (const l of summaryLines(r.out, "lying:")) console.log(l);
      assert.equal(r.signal, null, `killed by ${r.signal}:\n${r.out.slice(-4000)}`);
      assert.equal(r.code, 0, r.out.slice(-8000));
      assert.ok(summaryLines(r.out, "lying:").length > 0, r.out.slice(-4000));
    });
  });
} else {
  describe("lying values", () => {
    leakGuard();
    const covered = new Set<string>();

    for (const [label, open] of backends()) {
      const skip = label === "native" ? skipNative ?? false : false;

      it(`${label} backend: every lying value decoded once, no user code, no crash`, {
        skip,
      }, () => {
        const run = new Runner(open, label);
        runRepro(run);
        runByteFamily(run);
        runNumberFamily(run);
        runReceiverFamily(run, open);
        runOptionFamily(run);
        report(label, run.tally);
        for (const m of run.tally.members) covered.add(m);
        assert.deepEqual(run.tally.failures.slice(0, 40), []);
        assert.ok(run.tally.cases >= MIN_CASES, `${run.tally.cases} cases`);
      });

      it(`${label} backend: waitOne options and signals are read once`, { skip }, async () => {
        const run = new Runner(open, label);
        await runWaitFamily(open, run);
        console.log(`lying: ${run.tally.cases} waitOne cases on the ${label} backend`);
        for (const m of run.tally.members) covered.add(m);
        assert.deepEqual(run.tally.failures, []);
      });
    }

    it("every public member has lying cases (or a reason why none apply)", () => {
      if (covered.size === 0) return; // every backend was skipped here
      const missing = publicMembers().filter((m) => !covered.has(m) && !(m in NO_LYING_CASES));
      assert.deepEqual(missing, []);
    });
  });

  // Outside the leak guard: Deno closes a finished Worker's descriptors (an eventfd, an epoll)
  // some time after terminate(), so they would upset its exact /proc/self/fd baseline. The
  // fixtures' kernels are closed by the cases themselves.
  describe("lying values: SharedArrayBuffers and Workers", () => {
    for (const [label, open] of backends()) {
      const skip = label === "native" ? skipNative ?? false : false;
      it(`${label} backend: SharedArrayBuffers rewritten and grown by a Worker mid-copy`, {
        skip,
        timeout: 120_000,
      }, async () => {
        const run = new Runner(open, label);
        const rewrites = await runSharedWorker(open, run);
        console.log(
          `lying: ${run.tally.cases} shared-buffer cases on the ${label} backend ` +
            `(the worker rewrote the buffer ${rewrites} times meanwhile)`,
        );
        assert.deepEqual(run.tally.failures, []);
      });
    }
  });
}
