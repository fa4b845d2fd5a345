/**
 * Crash freedom. The differential and hostile suites already run in their own subprocess (see
 * tests/support/subprocess.ts), which must exit 0 — a SIGSEGV/SIGBUS from a stale native view or a
 * bad mapping fails them. This file runs the remaining reliability suites (capabilities,
 * regressions, the testing kit, leaks) and the semantic and backend suites the same way, one
 * process, one file at a time, so each file's `leakGuard()` checks `/proc/self/fd` and zxvm's memfd
 * mappings against an exact baseline (`ZXVM_EXCLUSIVE_PROC=1`). Deno only.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isDeno } from "./support/kernels.ts";
import { runExclusive } from "./support/subprocess.ts";

const files = [
  "capabilities_test.ts",
  "regressions_test.ts",
  "testing_kit_test.ts",
  "leaks_test.ts",
  // Also here so their per-file /proc/self/fd and memfd-mapping baselines are checked exactly.
  "semantic_emulated_test.ts",
  "semantic_native_test.ts",
  "native_backend_test.ts",
  "kernel_units_test.ts",
].map((f) => new URL(`./${f}`, import.meta.url).pathname);

describe("crash freedom", () => {
  it("capability, regression, kit, leak, semantic and backend suites exit 0 in a subprocess", {
    skip: isDeno ? false : "needs Deno.Command",
    timeout: 120_000,
  }, async () => {
    // Fewer handle cycles than the in-process run: this run is about the process surviving.
    const r = await runExclusive(files, { ZXVM_HANDLE_CYCLES: "100000" });
    assert.equal(r.signal, null, `killed by ${r.signal}:\n${r.out.slice(-4000)}`);
    assert.equal(r.code, 0, r.out.slice(-4000));
    assert.match(r.out, /capabilities: \d+ close\/create cycles/);
  });
});
