/**
 * The Deno binding of the native backend: `Deno.dlopen` of `build/libzxshim.so` (the C shim in
 * `ffi/zxshim.c`), wrapped as a {@link ShimCalls} table for `native.ts`.
 *
 * Every symbol is fast-call compatible (integers, `usize`/`u64` as `bigint`, and `buffer`).
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
import { NativeBackend, type ShimCalls } from "./native.ts";
import { findOrBuildShim } from "./shim_cache.ts";

export type { Backend, ShimCalls };

/** The shim's symbols, as `Deno.dlopen` declares them (names and order match `zxshim.h`). */
export const shimSymbols = {
  zxs_version: { parameters: [], result: "i32" },
  zxs_page_size: { parameters: [], result: "i64" },
  zxs_memfd_create: { parameters: [], result: "i32" },
  zxs_close: { parameters: ["i32"], result: "i32" },
  zxs_ftruncate: { parameters: ["i32", "u64"], result: "i32" },
  zxs_fstat_blocks: { parameters: ["i32"], result: "i64" },
  zxs_fstat_size: { parameters: ["i32"], result: "i64" },
  zxs_pread: { parameters: ["i32", "buffer", "u64", "u64"], result: "i64" },
  zxs_pwrite: { parameters: ["i32", "buffer", "u64", "u64"], result: "i64" },
  zxs_punch_hole: { parameters: ["i32", "u64", "u64"], result: "i32" },
  zxs_allocate: { parameters: ["i32", "u64", "u64"], result: "i32" },
  zxs_seek_data: { parameters: ["i32", "u64"], result: "i64" },
  zxs_seek_hole: { parameters: ["i32", "u64"], result: "i64" },
  zxs_copy_range: { parameters: ["i32", "u64", "i32", "u64", "u64"], result: "i64" },
  zxs_reserve: { parameters: ["u64"], result: "i64" },
  zxs_reserve_fixed: { parameters: ["usize", "u64"], result: "i32" },
  zxs_reserve_noreplace: { parameters: ["usize", "u64"], result: "i32" },
  zxs_vma_count: { parameters: [], result: "i64" },
  zxs_max_map_count: { parameters: [], result: "i64" },
  zxs_anon_fixed: { parameters: ["usize", "u64"], result: "i32" },
  zxs_map_window: { parameters: ["i32", "u64", "u64"], result: "i64" },
  zxs_map_fixed: { parameters: ["usize", "u64", "i32", "i32", "u64"], result: "i32" },
  zxs_mprotect: { parameters: ["usize", "u64", "i32"], result: "i32" },
  zxs_munmap: { parameters: ["usize", "u64"], result: "i32" },
  zxs_madvise: { parameters: ["usize", "u64", "i32"], result: "i32" },
  zxs_copy_out: { parameters: ["buffer", "usize", "u64"], result: "i32" },
  zxs_copy_in: { parameters: ["usize", "buffer", "u64"], result: "i32" },
  zxs_fill: { parameters: ["usize", "i32", "u64"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened shim library's symbol functions. */
export type ShimSymbols = Deno.DynamicLibrary<typeof shimSymbols>["symbols"];

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

type PermissionQuery =
  | { name: "ffi" }
  | { name: "env"; variable: string }
  | { name: "read"; path: string };

function granted(desc: PermissionQuery): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
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
  if (granted({ name: "env", variable: "ZXVM_SHIM_PATH" })) {
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
  if (!granted({ name: "read", path })) return true;
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wrap an opened shim library as the {@link ShimCalls} table `native.ts` consumes.
 *
 * @param lib the library opened with {@link shimSymbols}
 * @returns the table (its `unload` closes `lib`)
 */
export function denoShimCalls(lib: Deno.DynamicLibrary<typeof shimSymbols>): ShimCalls {
  const s = lib.symbols;
  return {
    zxs_version: s.zxs_version,
    zxs_page_size: s.zxs_page_size,
    zxs_memfd_create: s.zxs_memfd_create,
    zxs_close: s.zxs_close,
    zxs_ftruncate: s.zxs_ftruncate,
    zxs_fstat_blocks: s.zxs_fstat_blocks,
    zxs_fstat_size: s.zxs_fstat_size,
    zxs_pread: s.zxs_pread,
    zxs_pwrite: s.zxs_pwrite,
    zxs_punch_hole: s.zxs_punch_hole,
    zxs_allocate: s.zxs_allocate,
    zxs_seek_data: s.zxs_seek_data,
    zxs_seek_hole: s.zxs_seek_hole,
    zxs_copy_range: s.zxs_copy_range,
    zxs_reserve: s.zxs_reserve,
    zxs_reserve_fixed: s.zxs_reserve_fixed,
    zxs_reserve_noreplace: s.zxs_reserve_noreplace,
    zxs_vma_count: s.zxs_vma_count,
    zxs_max_map_count: s.zxs_max_map_count,
    zxs_anon_fixed: s.zxs_anon_fixed,
    zxs_map_window: s.zxs_map_window,
    zxs_map_fixed: s.zxs_map_fixed,
    zxs_mprotect: s.zxs_mprotect,
    zxs_munmap: s.zxs_munmap,
    zxs_madvise: s.zxs_madvise,
    zxs_copy_out: s.zxs_copy_out,
    zxs_copy_in: s.zxs_copy_in,
    zxs_fill: s.zxs_fill,
    viewAt(addr: number, len: number): Uint8Array {
      const p = Deno.UnsafePointer.create(BigInt(addr));
      if (p === null) throw new TypeError("viewAt: null address");
      return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, len));
    },
    detach(view: Uint8Array): void {
      const buf = view.buffer as ArrayBuffer;
      if (!buf.detached) buf.transfer(0);
    },
    unload(): void {
      lib.close();
    },
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
  if (!granted({ name: "ffi" })) {
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
  if (granted({ name: "read", path })) {
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw notSupported(`shim library not found at ${path}: ${hint}`, e);
      }
    }
  }
  let lib: Deno.DynamicLibrary<typeof shimSymbols>;
  try {
    lib = Deno.dlopen(path, shimSymbols);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw notSupported(`dlopen(${path}) failed: ${msg} (${hint})`, e);
  }
  try {
    return new NativeBackend(denoShimCalls(lib), {
      reason: `native: Deno FFI with unrestricted --allow-ffi, shim ${path}${origin}`,
      physmap: opts.physmap,
    });
  } catch (e) {
    lib.close();
    throw e;
  }
}
