/**
 * Opening kernels for the reliability suites: emulated, and native when this runtime can load
 * the shim (skipped with a reason otherwise).
 *
 * @module
 */
import { Kernel, ZxError } from "../../mod.ts";
import { KernelCore } from "../../src/kernel/kernel.ts";
import { INTERNAL } from "../../src/sdk/internal.ts";

/** Options common to both backends. */
export interface OpenOptions {
  /** Placement/handle seed. */
  seed: number;
  /** Root VMAR size. */
  rootVmarSize?: number;
}

/** Whether this process runs under Deno. */
export const isDeno: boolean = typeof Deno !== "undefined";

/** An emulated kernel. */
export function openEmulated(o: OpenOptions): Kernel {
  return Kernel.open({ backend: "emulated", seed: o.seed, rootVmarSize: o.rootVmarSize });
}

let nativeReason: string | null | undefined;
let directLoader: ((seed: number, rootVmarSize?: number) => Kernel) | null = null;

/**
 * Prepare native kernels: `Kernel.open({ backend: "native" })`, or — until the native loader
 * is wired into backend selection — the Deno FFI backend directly. Returns null when native
 * kernels can be opened, else the reason to skip.
 */
export async function nativeSkipReason(): Promise<string | null> {
  if (nativeReason !== undefined) return nativeReason;
  try {
    Kernel.open({ backend: "native", seed: 1, rootVmarSize: 2 ** 20 }).close();
    nativeReason = null;
    return null;
  } catch (e) {
    if (!(e instanceof ZxError)) throw e;
    nativeReason = `native backend unavailable: ${e.message}`;
  }
  if (isDeno && /no native backend is available/.test(nativeReason)) {
    try {
      if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
        nativeReason = "FFI permission absent (run with --allow-ffi)";
        return nativeReason;
      }
      const { loadDenoBackend } = await import("../../src/backend/ffi_deno.ts");
      const probe = loadDenoBackend();
      probe.close();
      directLoader = (seed, rootVmarSize) => {
        const core = new KernelCore(loadDenoBackend(), { seed, rootVmarSize });
        return new Kernel(core, INTERNAL);
      };
      nativeReason = null;
    } catch (e) {
      nativeReason = `native backend unavailable: ${e instanceof Error ? e.message : e}`;
    }
  }
  return nativeReason;
}

/** A native kernel; call {@link nativeSkipReason} first. */
export function openNative(o: OpenOptions): Kernel {
  if (directLoader !== null) return directLoader(o.seed, o.rootVmarSize);
  return Kernel.open({ backend: "native", seed: o.seed, rootVmarSize: o.rootVmarSize });
}

/** Whether native kernels are opened through the pre-wiring fallback. */
export function nativeViaFallback(): boolean {
  return directLoader !== null;
}
