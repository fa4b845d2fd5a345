/**
 * Backend selection: `auto` picks native memory when the runtime permits FFI and the shim
 * loads, else the emulated backend, with the reason in words.
 *
 * The native binding is the runtime's: `ffi_deno.ts` (`Deno.dlopen`) where `Deno.dlopen`
 * exists, else `ffi_node.ts` (koffi). The Node binding is loaded only on Node, when this module
 * is first evaluated (top-level `await` of a dynamic `import()`, because `Kernel.open` is
 * synchronous), and through a specifier held in a variable: Deno prefetches every
 * string-literal `import()` of a module graph, so a literal would still pull `ffi_node.ts` (and
 * the Node built-ins it imports) into every Deno import graph, URL imports included. This is
 * the only way a binding is chosen; there is no injection point.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { EmulatedBackend } from "./emulated.ts";
import { loadDenoBackend } from "./ffi_deno.ts";
import type { Backend } from "./types.ts";

/** Which backend to open. */
export type BackendChoice = "auto" | "native" | "emulated";

/** Options that reach the native loaders. */
export interface NativeOptions {
  /** Path of the shim library (overrides `ZXVM_SHIM_PATH` and the default location). */
  shimPath?: string;
}

/** A function that loads a native backend or throws `ZxError(ErrNotSupported)` saying why. */
type NativeLoader = (opts: NativeOptions) => Backend;

/**
 * What this module uses of the Node binding (`ffi_node.ts`), declared here rather than taken
 * from `typeof import(...)`, which would make `ffi_node.ts` a type dependency of every Deno
 * graph (`tests/node/ffi_node_test.ts` checks that the module satisfies it).
 */
export interface NodeBinding {
  /** `loadNodeBackend` of `ffi_node.ts`. */
  loadNodeBackend(opts: NativeOptions): Backend;
}

/** The Node binding module, relative to this one (a variable: see the module doc). */
const NODE_BINDING: string = "./ffi_node.ts";

/** This runtime's native loader, or why there is none. */
async function runtimeLoader(): Promise<NativeLoader | { why: string }> {
  const d = (globalThis as { Deno?: { dlopen?: unknown } }).Deno;
  if (typeof d?.dlopen === "function") return loadDenoBackend;
  try {
    const mod = await import(NODE_BINDING) as NodeBinding;
    return mod.loadNodeBackend;
  } catch (e) {
    return { why: `the Node binding could not be loaded: ${e instanceof Error ? e.message : e}` };
  }
}

const nativeLoader: NativeLoader | { why: string } = await runtimeLoader();

/**
 * Open a backend.
 *
 * @throws {ZxError} `ErrNotSupported` when `native` is requested and cannot be loaded
 */
export function openBackend(choice: BackendChoice, opts: NativeOptions): Backend {
  if (choice === "emulated") return new EmulatedBackend('requested: backend "emulated"');
  let reason: string;
  if (typeof nativeLoader !== "function") {
    reason = nativeLoader.why;
  } else {
    try {
      return nativeLoader(opts);
    } catch (e) {
      if (choice === "native") {
        if (e instanceof ZxError) throw e;
        throw new ZxError(ZxStatus.ErrNotSupported, "zx_kernel_open", String(e));
      }
      reason = e instanceof ZxError ? e.reason : String(e);
    }
  }
  if (choice === "native") throw new ZxError(ZxStatus.ErrNotSupported, "zx_kernel_open", reason);
  return new EmulatedBackend(`native backend unavailable (${reason}); using emulated memory`);
}
