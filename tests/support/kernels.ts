/**
 * Opening kernels in tests, and the one way tests decide whether the native backend is
 * available here: {@link nativeSkipReason}. A test that needs native memory skips with that
 * reason (`{ skip: nativeSkipReason() ?? false }`); one that compares against native falls back
 * to emulated when it is not null.
 *
 * @module
 */
import { Kernel, ZxError } from "../../mod.ts";

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

/**
 * Null when native kernels can be opened in this process (`Kernel.open({ backend: "native" })`
 * succeeds: FFI permitted, the shim loads — Deno FFI or koffi on Node), else why not, as a skip
 * reason. Probed once per process.
 */
export function nativeSkipReason(): string | null {
  if (nativeReason === undefined) {
    try {
      Kernel.open({ backend: "native", seed: 1, rootVmarSize: 2 ** 20 }).close();
      nativeReason = null;
    } catch (e) {
      if (!(e instanceof ZxError)) throw e;
      nativeReason = `native backend unavailable: ${e.message}`;
    }
  }
  return nativeReason;
}

/** A native kernel (check {@link nativeSkipReason} first). */
export function openNative(o: OpenOptions): Kernel {
  return Kernel.open({ backend: "native", seed: o.seed, rootVmarSize: o.rootVmarSize });
}
