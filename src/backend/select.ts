/**
 * Backend selection: `auto` picks native memory when the runtime permits FFI and the shim
 * loads, else the emulated backend, with the reason in words.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { EmulatedBackend } from "./emulated.ts";
import { loadDenoBackend } from "./ffi_deno.ts";
import { loadNodeBackend } from "./ffi_node.ts";
import type { Backend } from "./types.ts";

/** Which backend to open. */
export type BackendChoice = "auto" | "native" | "emulated";

/** Options that reach the native loaders. */
export interface NativeOptions {
  /** Path of the shim library (overrides `ZXVM_SHIM_PATH` and the default location). */
  shimPath?: string;
}

/** A function that loads a native backend or throws `ZxError(ErrNotSupported)` saying why. */
export type NativeLoader = (opts: NativeOptions) => Backend;

/** The runtime's native loader, by feature detection: `Deno.dlopen` -> Deno FFI, else koffi. */
function runtimeLoader(opts: NativeOptions): Backend {
  const d = (globalThis as { Deno?: { dlopen?: unknown } }).Deno;
  return typeof d?.dlopen === "function" ? loadDenoBackend(opts) : loadNodeBackend(opts);
}

let nativeLoader: NativeLoader | null = runtimeLoader;

/** Install the native loader for this runtime (done by the runtime's entry module). */
export function setNativeLoader(loader: NativeLoader): void {
  nativeLoader = loader;
}

/**
 * Open a backend.
 *
 * @throws {ZxError} `ErrNotSupported` when `native` is requested and cannot be loaded
 */
export function openBackend(choice: BackendChoice, opts: NativeOptions): Backend {
  if (choice === "emulated") return new EmulatedBackend('requested: backend "emulated"');
  let reason: string;
  if (nativeLoader === null) {
    reason = "no native backend is available for this runtime";
  } else {
    try {
      return nativeLoader(opts);
    } catch (e) {
      if (choice === "native") {
        if (e instanceof ZxError) throw e;
        throw new ZxError(ZxStatus.ErrNotSupported, "zx_kernel_open", String(e));
      }
      reason = e instanceof ZxError
        ? e.message.replace(/^[A-Z_]+: zx_kernel_open: /, "")
        : String(e);
    }
  }
  if (choice === "native") throw new ZxError(ZxStatus.ErrNotSupported, "zx_kernel_open", reason);
  return new EmulatedBackend(`native backend unavailable (${reason}); using emulated memory`);
}
