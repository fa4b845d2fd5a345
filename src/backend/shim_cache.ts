/**
 * The per-user shim cache of the Deno binding: where zxvm imported from a URL (no library next
 * to the module, and `Deno.dlopen` takes only local paths) finds the C shim, or builds it.
 *
 * {@link findOrBuildShim} looks in `$ZXVM_CACHE_DIR`, else `$XDG_CACHE_HOME/zxvm`, else
 * `~/.cache/zxvm` (`~/Library/Caches/zxvm` on macOS), for a library named by the zxvm version,
 * the build key (sources and flags) and the platform. When it is missing, it compiles the
 * source carried in the import graph (`shim_source.ts`, hash verified first) with the local C
 * compiler (`$CC`, default `cc`) through the one shim builder (`shim_build.ts`: its flags, a
 * temporary directory inside the cache, then an atomic rename, so concurrent builders cannot
 * leave a torn file). Nothing is ever downloaded.
 *
 * Everything is synchronous (it runs inside `Kernel.open`) and never prompts: permissions are
 * queried first, and a missing one is reported as `ZxError(ErrNotSupported)` whose message
 * names the flags that would fix it.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import {
  compileShim,
  ShimBuildError,
  shimCacheDir,
  shimLibraryName,
  shimSourceHash,
} from "./shim_build.ts";
import { denoGranted, denoShimHost } from "./shim_build_deno.ts";
import { SHIM_C, SHIM_H, SHIM_SOURCE_SHA256, ZXVM_VERSION } from "./shim_source.ts";

/** Where {@link findOrBuildShim} found the library. */
export interface CachedShim {
  /** Absolute path of the library in the cache. */
  path: string;
  /** `true` when it was compiled by this call, `false` when it was already cached. */
  built: boolean;
}

/** Options of {@link findOrBuildShim} (tests; the defaults come from the environment). */
export interface ShimCacheOptions {
  /** The cache directory (default: `shimCacheDir` of `shim_build.ts`). */
  cacheDir?: string;
  /** The C compiler (default: env `CC` when readable and set, else `cc`). */
  cc?: string;
}

function notSupported(reason: string, cause?: unknown): ZxError {
  const e = new ZxError(ZxStatus.ErrNotSupported, "zx_kernel_open", reason);
  if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
  return e;
}

/**
 * Find the shim library in the per-user cache, or compile it there from the embedded source.
 *
 * Permissions: `--allow-env=ZXVM_CACHE_DIR,XDG_CACHE_HOME,HOME` (to locate the cache),
 * `--allow-read=<cache>` (to find a cached library), and to build: `--allow-write=<cache>`,
 * `--allow-run=cc` (or the compiler named by `CC`, which needs `--allow-env=CC`).
 *
 * @param opts see {@link ShimCacheOptions}
 * @returns the library's path and whether it was compiled now
 * @throws {ZxError} `ErrNotSupported` (op `"zx_kernel_open"`) naming what is missing: the
 *   flags to grant, the compiler, the compiler's error, or a source whose hash does not match
 */
export function findOrBuildShim(opts: ShimCacheOptions = {}): CachedShim {
  const host = denoShimHost();
  let dir = opts.cacheDir;
  if (dir === undefined) {
    const found = shimCacheDir(host);
    if ("deniedEnv" in found) {
      throw notSupported(
        "no shim library next to this module and the per-user cache cannot be located: run " +
          `with --allow-env=${found.deniedEnv.join(",")} (or set ZXVM_SHIM_PATH to a built ` +
          "library, with --allow-env=ZXVM_SHIM_PATH)",
      );
    }
    dir = found.dir;
  }
  const path = `${dir}/${shimLibraryName(host, ZXVM_VERSION, SHIM_C, SHIM_H)}`;
  const canRead = denoGranted({ name: "read", path: dir });
  if (canRead && host.isFile(path)) return { path, built: false };

  const ccEnv = opts.cc === undefined ? host.env("CC") : undefined;
  const cc = opts.cc ?? ccEnv ?? "cc";
  const missing: string[] = [];
  if (!canRead) missing.push(`--allow-read=${dir}`);
  if (!denoGranted({ name: "write", path: dir })) missing.push(`--allow-write=${dir}`);
  if (!denoGranted({ name: "run", command: cc })) missing.push(`--allow-run=${cc}`);
  if (missing.length > 0) {
    throw notSupported(
      `the shim library is not in the cache (${path}) and cannot be built there from source: ` +
        `run with ${missing.join(" ")} (or set ZXVM_SHIM_PATH to a built library, with ` +
        "--allow-env=ZXVM_SHIM_PATH)",
    );
  }
  if (shimSourceHash(SHIM_C, SHIM_H) !== SHIM_SOURCE_SHA256) {
    throw notSupported(
      `the embedded shim source does not match its SHA-256 ${SHIM_SOURCE_SHA256}; refusing ` +
        "to compile it (re-fetch zxvm, or set ZXVM_SHIM_PATH)",
    );
  }
  try {
    compileShim(host, { c: SHIM_C, h: SHIM_H, out: path, cc });
  } catch (e) {
    if (!(e instanceof ShimBuildError)) throw e;
    const hint = e.kind === "compiler-missing" && ccEnv === null ? " (with --allow-env=CC)" : "";
    throw notSupported(`the shim library is not in the cache (${path}) and ${e.message}${hint}`, e);
  }
  return { path, built: true };
}
