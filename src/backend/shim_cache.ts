/**
 * The per-user shim cache of the Deno binding: where zxvm imported from a URL (no library next
 * to the module, and `Deno.dlopen` takes only local paths) finds the C shim, or builds it.
 *
 * {@link findOrBuildShim} looks in `$ZXVM_CACHE_DIR`, else `$XDG_CACHE_HOME/zxvm`, else
 * `~/.cache/zxvm` (`~/Library/Caches/zxvm` on macOS), for a library named by the zxvm version,
 * the SHA-256 of the shim source and the platform. When it is missing, it compiles the source
 * carried in the import graph (`shim_source.ts`, hash verified first) with the local C
 * compiler (`$CC`, default `cc`) and the flags of `scripts/build_shim.ts`, into a temporary
 * directory inside the cache, then renames the library into place, so concurrent builders
 * cannot leave a torn file. Nothing is ever downloaded.
 *
 * Everything is synchronous (it runs inside `Kernel.open`) and never prompts: permissions are
 * queried first, and a missing one is reported as `ZxError(ErrNotSupported)` whose message
 * names the flags that would fix it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { SHIM_C, SHIM_CFLAGS, SHIM_H, SHIM_SOURCE_SHA256, ZXVM_VERSION } from "./shim_source.ts";

/**
 * The SHA-256 (hex) of the shim sources, as stored in `shim_source.ts`.
 *
 * @param c the text of `zxshim.c`
 * @param h the text of `zxshim.h`
 * @returns the hex digest of `"zxshim.c\0" + c + "\0zxshim.h\0" + h`
 */
export function shimSourceHash(c: string, h: string): string {
  return createHash("sha256").update(`zxshim.c\0${c}\0zxshim.h\0${h}`).digest("hex");
}

/** Where {@link findOrBuildShim} found the library. */
export interface CachedShim {
  /** Absolute path of the library in the cache. */
  path: string;
  /** `true` when it was compiled by this call, `false` when it was already cached. */
  built: boolean;
}

/** Options of {@link findOrBuildShim} (tests; the defaults come from the environment). */
export interface ShimCacheOptions {
  /** The cache directory (default: see {@link shimCacheDir}). */
  cacheDir?: string;
  /** The C compiler (default: env `CC` when readable and set, else `cc`). */
  cc?: string;
}

const OP = "zx_kernel_open";

function notSupported(reason: string, cause?: unknown): ZxError {
  const e = new ZxError(ZxStatus.ErrNotSupported, OP, reason);
  if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
  return e;
}

type Query =
  | { name: "env"; variable: string }
  | { name: "read"; path: string }
  | { name: "write"; path: string }
  | { name: "run"; command: string };

function granted(desc: Query): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/** The variable's value, or `undefined`; records the variable in `denied` when not readable. */
function env(name: string, denied: string[]): string | undefined {
  if (!granted({ name: "env", variable: name })) {
    denied.push(name);
    return undefined;
  }
  const v = Deno.env.get(name);
  return v === undefined || v === "" ? undefined : v;
}

/**
 * The per-user cache directory: `$ZXVM_CACHE_DIR`, else `$XDG_CACHE_HOME/zxvm`, else
 * `$HOME/.cache/zxvm` (`$HOME/Library/Caches/zxvm` on macOS, `%LOCALAPPDATA%\zxvm` on
 * Windows). Variables are read only where `--allow-env` grants them.
 *
 * @returns the directory, or the environment variables whose permission would reveal it
 */
export function shimCacheDir(): { dir: string } | { deniedEnv: string[] } {
  const denied: string[] = [];
  const own = env("ZXVM_CACHE_DIR", denied);
  if (own !== undefined) return { dir: own };
  if (Deno.build.os === "windows") {
    const local = env("LOCALAPPDATA", denied);
    return local !== undefined ? { dir: `${local}\\zxvm` } : { deniedEnv: denied };
  }
  if (Deno.build.os !== "darwin") {
    const xdg = env("XDG_CACHE_HOME", denied);
    if (xdg !== undefined && xdg.startsWith("/")) return { dir: `${xdg}/zxvm` };
  }
  const home = env("HOME", denied);
  if (home === undefined) return { deniedEnv: denied };
  return {
    dir: Deno.build.os === "darwin" ? `${home}/Library/Caches/zxvm` : `${home}/.cache/zxvm`,
  };
}

/**
 * The library's file name in the cache: zxvm version, source hash and platform.
 *
 * @returns e.g. `libzxshim-0.1.0-1a2b3c4d5e6f7a8b-linux-x86_64.so`
 */
export function cachedShimName(): string {
  const ext = Deno.build.os === "darwin" ? "dylib" : Deno.build.os === "windows" ? "dll" : "so";
  return `libzxshim-${ZXVM_VERSION}-${SHIM_SOURCE_SHA256.slice(0, 16)}-${Deno.build.os}-` +
    `${Deno.build.arch}.${ext}`;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
  let dir = opts.cacheDir;
  if (dir === undefined) {
    const found = shimCacheDir();
    if ("deniedEnv" in found) {
      throw notSupported(
        "no shim library next to this module and the per-user cache cannot be located: run " +
          `with --allow-env=${found.deniedEnv.join(",")} (or set ZXVM_SHIM_PATH to a built ` +
          "library, with --allow-env=ZXVM_SHIM_PATH)",
      );
    }
    dir = found.dir;
  }
  const path = `${dir}/${cachedShimName()}`;
  const canRead = granted({ name: "read", path: dir });
  if (canRead && isFile(path)) return { path, built: false };

  const ccDenied: string[] = [];
  const cc = opts.cc ?? env("CC", ccDenied) ?? "cc";
  const missing: string[] = [];
  if (!canRead) missing.push(`--allow-read=${dir}`);
  if (!granted({ name: "write", path: dir })) missing.push(`--allow-write=${dir}`);
  if (!granted({ name: "run", command: cc })) missing.push(`--allow-run=${cc}`);
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

  let tmp: string;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    tmp = Deno.makeTempDirSync({ dir, prefix: ".build-" });
  } catch (e) {
    throw notSupported(`cannot create the shim cache ${dir}: ${errText(e)}`, e);
  }
  try {
    Deno.writeTextFileSync(`${tmp}/zxshim.h`, SHIM_H);
    Deno.writeTextFileSync(`${tmp}/zxshim.c`, SHIM_C);
    const out = `${tmp}/libzxshim.so`;
    const args = [...SHIM_CFLAGS, "-o", out, `${tmp}/zxshim.c`];
    let res: Deno.CommandOutput;
    try {
      res = new Deno.Command(cc, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .outputSync();
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? `the C compiler '${cc}' was not found on PATH: install gcc or clang, or set CC` +
          (ccDenied.length > 0 ? " (with --allow-env=CC)" : "")
        : `cannot run the C compiler '${cc}': ${errText(e)}`;
      throw notSupported(`the shim library is not in the cache (${path}) and ${why}`, e);
    }
    if (!res.success) {
      const msg = new TextDecoder().decode(res.stderr).trim().split("\n").slice(0, 5).join("\n");
      throw notSupported(
        `compiling the shim with '${cc} ${SHIM_CFLAGS.join(" ")}' failed (exit ${res.code}): ` +
          msg,
      );
    }
    // Atomic: a concurrent builder's rename replaces a complete file with an identical one.
    Deno.renameSync(out, path);
    return { path, built: true };
  } catch (e) {
    if (e instanceof ZxError) throw e;
    throw notSupported(`building the shim in ${dir} failed: ${errText(e)}`, e);
  } finally {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* best effort */ }
  }
}
