/**
 * The Deno binding of the native backend: `Deno.dlopen` of `build/libzxshim.so` (the C shim in
 * `ffi/zxshim.c`) with the symbols table of `shim_symbols.ts`, plus Deno's pointer views, as the
 * {@link ShimCalls} table `native.ts` runs on.
 *
 * Loading never prompts and never throws `NotCapable`: missing permissions, a missing library or
 * a failed `dlopen` are reported as `ZxError(ErrNotSupported, "zx_kernel_open", reason)`.
 *
 * @example
 * ```ts ignore
 * import { loadDenoBackend } from "./ffi_deno.ts";
 * const backend = loadDenoBackend({}); // needs --allow-ffi
 * const mem = backend.createMemory(4096);
 * mem.write(0, new Uint8Array([1, 2, 3]));
 * mem.close();
 * backend.close();
 * ```
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import type { Backend } from "./types.ts";
import { deferredUnload, NativeBackend, type ShimCalls, type ShimHelpers } from "./native.ts";
import { denoGranted } from "./shim_build_deno.ts";
import { findOrBuildShim } from "./shim_cache.ts";
import { type ShimSymbols, shimSymbols } from "./shim_symbols.ts";

export type { Backend, ShimCalls };

/**
 * The Deno binding's table: the library's symbols with their exact Deno types, plus the view
 * helpers (a {@link ShimCalls} with narrower result types).
 */
export type DenoShimCalls = ShimSymbols & ShimHelpers;

/** Options of {@link loadDenoBackend}. */
export interface LoadDenoBackendOptions {
  /**
   * Path of the shim library. Default: env `ZXVM_SHIM_PATH` (read only when `--allow-env`
   * grants it), else `build/libzxshim.so` in the repository this module lives in (only when the
   * module is a `file:` URL and the file is there), else the per-user cache, built there from
   * source when missing (see `shim_cache.ts`).
   */
  shimPath?: string;
  /** Use physmap windows for memory reads and writes (default `true`); see `native.ts`. */
  physmap?: boolean;
}

const OP = "zx_kernel_open";

function notSupported(reason: string, cause?: unknown): ZxError {
  const e = new ZxError(ZxStatus.ErrNotSupported, OP, reason);
  if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
  return e;
}

/**
 * Where {@link loadDenoBackend} looks for the shim first: `opts.shimPath`, else env
 * `ZXVM_SHIM_PATH` (when readable), else `build/libzxshim.so` next to this repository (file:
 * URLs only). When there is none, or that default file is missing, `loadDenoBackend` uses the
 * per-user cache (`shim_cache.ts`).
 *
 * @param opts see {@link LoadDenoBackendOptions}
 * @returns the path, or `null` when there is none (module not loaded from a `file:` URL)
 */
export function resolveShimPath(opts: LoadDenoBackendOptions = {}): string | null {
  if (opts.shimPath !== undefined && opts.shimPath !== "") return opts.shimPath;
  if (denoGranted({ name: "env", variable: "ZXVM_SHIM_PATH" })) {
    const fromEnv = Deno.env.get("ZXVM_SHIM_PATH");
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  }
  return nextToModule();
}

/** `build/libzxshim.so` of the repository holding this module, or `null` (not a file: URL). */
function nextToModule(): string | null {
  const url = new URL("../../build/libzxshim.so", import.meta.url);
  if (url.protocol !== "file:") return null;
  return decodeURIComponent(url.pathname);
}

/** `false` only when the file is known to be missing (unreadable counts as maybe there). */
function mayExist(path: string): boolean {
  if (!denoGranted({ name: "read", path })) return true;
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Open the shim at `path` with `Deno.dlopen` as the {@link ShimCalls} table `native.ts` consumes:
 * the library's symbols as they are, plus Deno's pointer views.
 *
 * @param path the library's path
 * @returns the table (its `unload` closes the library)
 * @throws {Error} whatever `Deno.dlopen` throws (a missing file, a missing symbol, permissions)
 */
export function openDenoShim(path: string): DenoShimCalls {
  const lib = Deno.dlopen(path, {
    ...shimSymbols,
    // The same C function again, run on Deno's blocking-thread pool: it returns a promise.
    zxs_futex_wait_nonblocking: {
      ...shimSymbols.zxs_futex_wait,
      name: "zxs_futex_wait",
      nonblocking: true,
    },
  });
  const { zxs_futex_wait_nonblocking: waitNb, ...symbols } = lib.symbols;
  const gate = deferredUnload(() => lib.close());
  return {
    ...symbols,
    futexWaitAsync(addr: number, value: number, timeoutNs: number): Promise<number> {
      return gate.track(waitNb(addr, value, timeoutNs));
    },
    viewAt(addr: number, len: number): Uint8Array {
      const p = Deno.UnsafePointer.create(BigInt(addr));
      if (p === null) throw new TypeError("viewAt: null address");
      return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, len));
    },
    detach(view: Uint8Array): void {
      const buf = view.buffer as ArrayBuffer;
      if (!buf.detached) buf.transfer(0);
    },
    unload: gate.unload,
  };
}

/**
 * Load the native backend through `Deno.dlopen`.
 *
 * Needs unrestricted `--allow-ffi` (zero-copy pointer views require it); `--allow-env` is used
 * only to read `ZXVM_SHIM_PATH`, and `--allow-read` only to give a clearer message when the
 * library file is missing. Without a library next to the module (imported from a URL), the
 * per-user cache of `shim_cache.ts` is used, which needs `--allow-env=XDG_CACHE_HOME,HOME` and
 * `--allow-read=<cache>`, plus `--allow-write=<cache> --allow-run=cc` to build it once.
 *
 * @param opts see {@link LoadDenoBackendOptions}
 * @returns the native backend
 * @throws {ZxError} `ErrNotSupported` (op `"zx_kernel_open"`) naming what is missing: FFI
 *   permission, the library file (with the path tried), or the `dlopen` failure
 */
export function loadDenoBackend(opts: LoadDenoBackendOptions = {}): Backend {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    throw notSupported("Deno.dlopen is not available in this runtime");
  }
  if (!denoGranted({ name: "ffi" })) {
    throw notSupported(
      "FFI permission is not granted: run with --allow-ffi (unrestricted: zero-copy pointer " +
        "views need it; a path-scoped --allow-ffi=<lib> is not enough)",
    );
  }
  let path = resolveShimPath(opts);
  let origin = "";
  if (path === null || (path === nextToModule() && !mayExist(path))) {
    // Imported from a URL, or an unbuilt checkout: the per-user cache (built there if needed).
    const cached = findOrBuildShim();
    path = cached.path;
    origin = cached.built ? " (compiled from source into the cache now)" : " (cached)";
  }
  const hint = "build it with `deno run --allow-read --allow-write --allow-run --allow-env " +
    "scripts/build_shim.ts`, or point ZXVM_SHIM_PATH at it";
  if (denoGranted({ name: "read", path })) {
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw notSupported(`shim library not found at ${path}: ${hint}`, e);
      }
    }
  }
  let calls: DenoShimCalls;
  try {
    calls = openDenoShim(path);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw notSupported(`dlopen(${path}) failed: ${msg} (${hint})`, e);
  }
  try {
    return new NativeBackend(calls, {
      reason: `native: Deno FFI with unrestricted --allow-ffi, shim ${path}${origin}`,
      physmap: opts.physmap,
    });
  } catch (e) {
    calls.unload();
    throw e;
  }
}
