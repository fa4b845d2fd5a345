/**
 * Shared helpers of the zxvm benchmarks (`bench/*.bench.ts`).
 *
 * `ZXVM_BENCH_SMOKE=1` turns every benchmark into a smoke test: one iteration each, and the
 * expensive setups (live-mapping counts) shrink, so `scripts/bench_smoke.sh` finishes quickly.
 * Timings from a smoke run mean nothing; it only proves every case still runs.
 *
 * @module
 */
import { Kernel } from "../mod.ts";
import { type DenoShimCalls, openDenoShim, resolveShimPath } from "../src/backend/ffi_deno.ts";
import { NativeBackend } from "../src/backend/native.ts";

function readEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Whether this is a smoke run (`ZXVM_BENCH_SMOKE=1`). */
export const SMOKE: boolean = readEnv("ZXVM_BENCH_SMOKE") === "1";

/** 1 KiB. */
export const KiB = 1024;
/** 1 MiB. */
export const MiB: number = 1024 * 1024;

/**
 * Options of one benchmark: `group` and `baseline` as given, plus a one-iteration budget in
 * smoke runs.
 *
 * @param group the group shown by `deno bench`
 * @param baseline whether this is the group's baseline
 * @returns the `Deno.bench` options (without `name`/`fn`)
 */
export function opts(group: string, baseline = false): { group: string; baseline: boolean } {
  const o: { group: string; baseline: boolean; n?: number; warmup?: number } = {
    group,
    baseline,
  };
  if (SMOKE) {
    o.n = 1;
    o.warmup = 1;
  }
  return o;
}

/** The two backends every backend-dependent case runs on. */
export const BACKENDS: readonly ("native" | "emulated")[] = ["native", "emulated"];

/**
 * Open a kernel for benchmarking; closed when the bench process unloads.
 *
 * @param backend which backend
 * @returns the kernel
 */
export function openKernel(backend: "native" | "emulated"): Kernel {
  const k = Kernel.open({ backend, seed: 42 });
  globalThis.addEventListener("unload", () => k.close());
  return k;
}

let sinkValue = 0;

/**
 * Consume a value so the optimiser cannot drop the work that produced it.
 *
 * @param n any number
 */
export function sink(n: number): void {
  sinkValue = (sinkValue + n) | 0;
}

globalThis.addEventListener("unload", () => {
  if (sinkValue === 0x7fffffff) console.log(sinkValue);
});

/** The shim loaded directly: a native backend over it, and its calls. */
export interface RawShim {
  /** A native backend over the library. */
  be: NativeBackend;
  /** Its shim calls: the library's symbols, typed as `Deno.dlopen` declares them, and views. */
  calls: DenoShimCalls;
}

let rawCache: RawShim | undefined;

/**
 * The shim loaded directly, below zxvm's kernel (for the raw-FFI floor and per-call costs);
 * loaded once, closed when the bench process unloads.
 *
 * @returns the backend and its calls
 */
export function rawShim(): RawShim {
  if (rawCache === undefined) {
    const calls = openDenoShim(resolveShimPath()!);
    const be = new NativeBackend(calls);
    globalThis.addEventListener("unload", () => be.close());
    rawCache = { be, calls };
  }
  return rawCache;
}
