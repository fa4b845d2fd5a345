/**
 * The one builder of the C shim, shared by every path that compiles it:
 * `scripts/build_shim.ts` (the repository's `build/libzxshim.so`), `shim_cache.ts` (Deno, zxvm
 * imported from a URL: the embedded source into the per-user cache) and `ffi_node.ts` (Node:
 * the package's `ffi/` source into the same cache). It owns the compiler flags (this is the only
 * file that names them), the source hash, the cache directory and file naming, and the compile
 * step (into a private temporary directory, then renamed into place, so concurrent builders
 * cannot leave a torn file and a process that has the old library loaded is not disturbed).
 *
 * Runtime-neutral: everything the runtime provides (environment, files, running the compiler)
 * comes through a small synchronous {@link ShimBuildHost}; `shim_build_deno.ts` implements it
 * with Deno's APIs (never prompting for a permission), `ffi_node.ts` with `node:fs`.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The compiler flags the shim is always built with (part of every cache key). */
export const SHIM_CFLAGS: readonly string[] = Object.freeze([
  "-O2",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-shared",
  "-fPIC",
]);

/** The shim's source files, relative to a repository (or npm package) root. */
export const SHIM_SOURCE_FILES: { readonly c: string; readonly h: string } = Object.freeze({
  c: "ffi/zxshim.c",
  h: "ffi/zxshim.h",
});

/** The outcome of running a program to completion (see {@link ShimBuildHost.run}). */
export type RunOutcome =
  | { status: "ok" }
  | { status: "failed"; code: number; stderr: string }
  | { status: "not-found" }
  | { status: "error"; message: string };

/**
 * What the builder needs from the runtime. Every method is synchronous (loading a backend runs
 * inside `Kernel.open`) and throws only on I/O failure.
 */
export interface ShimBuildHost {
  /** The operating system, as `Deno.build.os` names it (`"linux"`, `"darwin"`, ...). */
  readonly os: string;
  /** The CPU architecture, as `Deno.build.arch` names it (`"x86_64"`, `"aarch64"`, ...). */
  readonly arch: string;
  /**
   * The value of environment variable `name`: `undefined` when unset or empty, `null` when the
   * runtime does not permit reading it.
   */
  env(name: string): string | undefined | null;
  /** Whether `path` is an existing regular file. */
  isFile(path: string): boolean;
  /** Create directory `path` and its parents when missing. */
  mkdirp(path: string): void;
  /** Create a new, empty, private directory inside `parent` whose name starts with `prefix`. */
  makeTempDir(parent: string, prefix: string): string;
  /** Write `text` to the file `path` (UTF-8). */
  writeText(path: string, text: string): void;
  /** Rename `from` to `to`, atomically replacing `to`. */
  rename(from: string, to: string): void;
  /** Remove `path` and everything under it. */
  removeAll(path: string): void;
  /** Run `cmd` with `args` (no shell, no stdin) until it exits; stdout is discarded. */
  run(cmd: string, args: readonly string[]): RunOutcome;
}

/** Why a build failed, in words fit for an error message (see {@link ShimBuildError.kind}). */
export class ShimBuildError extends Error {
  /**
   * What went wrong: the compiler is not installed (`"compiler-missing"`), could not be
   * started (`"compiler-error"`) or rejected the source (`"compiler-failed"`), or a file
   * operation failed (`"io"`).
   */
  readonly kind: "compiler-missing" | "compiler-error" | "compiler-failed" | "io";

  /**
   * @param kind see {@link ShimBuildError.kind}
   * @param message what went wrong, and what would fix it
   * @param cause the underlying error, if any
   */
  constructor(kind: ShimBuildError["kind"], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ShimBuildError";
    this.kind = kind;
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The SHA-256 (hex) of the shim sources, as `shim_source.ts` records it for its embedded copy.
 *
 * @param c the text of `zxshim.c`
 * @param h the text of `zxshim.h`
 * @returns the hex digest of `"zxshim.c\0" + c + "\0zxshim.h\0" + h`
 */
export function shimSourceHash(c: string, h: string): string {
  return sha256Hex(`zxshim.c\0${c}\0zxshim.h\0${h}`);
}

/**
 * The key of one build: the sources, {@link SHIM_CFLAGS} and, when given, the compiler. A
 * library built under a different key is stale.
 *
 * @param c the text of `zxshim.c`
 * @param h the text of `zxshim.h`
 * @param cc the compiler, for keys that should change with it (`scripts/build_shim.ts`)
 * @returns a hex SHA-256
 */
export function shimBuildKey(c: string, h: string, cc?: string): string {
  const parts = ["zxshim-build-v2", ...SHIM_CFLAGS, shimSourceHash(c, h)];
  if (cc !== undefined) parts.push(`cc=${cc}`);
  return sha256Hex(parts.join("\0"));
}

/**
 * The library's file name in a cache directory: zxvm version, build key (sources and flags)
 * and platform, so Deno and Node processes of one machine share one file per shim version.
 *
 * @param host the platform (`os`, `arch`)
 * @param version the zxvm version
 * @param c the text of `zxshim.c`
 * @param h the text of `zxshim.h`
 * @returns e.g. `libzxshim-0.1.0-1a2b3c4d5e6f7a8b-linux-x86_64.so`
 */
export function shimLibraryName(
  host: Pick<ShimBuildHost, "os" | "arch">,
  version: string,
  c: string,
  h: string,
): string {
  const ext = host.os === "darwin" ? "dylib" : host.os === "windows" ? "dll" : "so";
  return `libzxshim-${version}-${shimBuildKey(c, h).slice(0, 16)}-${host.os}-${host.arch}.${ext}`;
}

/**
 * The per-user cache directory: `$ZXVM_CACHE_DIR`, else `$XDG_CACHE_HOME/zxvm` (an absolute
 * path; not on macOS), else `$HOME/.cache/zxvm` (`$HOME/Library/Caches/zxvm` on macOS,
 * `%LOCALAPPDATA%\zxvm` on Windows).
 *
 * @param host the platform and the environment
 * @returns the directory, or the variables the runtime did not let us read that would reveal it
 */
export function shimCacheDir(
  host: Pick<ShimBuildHost, "os" | "env">,
): { dir: string } | { deniedEnv: string[] } {
  const denied: string[] = [];
  const env = (name: string): string | undefined => {
    const v = host.env(name);
    if (v === null) denied.push(name);
    return v === null || v === "" ? undefined : v;
  };
  const own = env("ZXVM_CACHE_DIR");
  if (own !== undefined) return { dir: own };
  if (host.os === "windows") {
    const local = env("LOCALAPPDATA");
    return local !== undefined ? { dir: `${local}\\zxvm` } : { deniedEnv: denied };
  }
  if (host.os !== "darwin") {
    const xdg = env("XDG_CACHE_HOME");
    if (xdg !== undefined && xdg.startsWith("/")) return { dir: `${xdg}/zxvm` };
  }
  const home = env("HOME");
  if (home === undefined) return { deniedEnv: denied };
  return { dir: host.os === "darwin" ? `${home}/Library/Caches/zxvm` : `${home}/.cache/zxvm` };
}

/** Options of {@link compileShim}. */
export interface CompileShimOptions {
  /** The text of `zxshim.c`. */
  c: string;
  /** The text of `zxshim.h`. */
  h: string;
  /** Where the library goes (its directory is created when missing). */
  out: string;
  /** The C compiler. */
  cc: string;
  /** How to name the `.c` file in compiler messages (default `ffi/zxshim.c`). */
  label?: string;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Compile the shim: write the sources into a private temporary directory next to `out`, run
 * `cc` with {@link SHIM_CFLAGS}, rename the library to `out` (atomically replacing an older
 * one) and remove the temporary directory, also on failure.
 *
 * @param host the runtime
 * @param opts the sources, the output path and the compiler
 * @throws {ShimBuildError} naming what failed: the compiler (missing, not runnable, or its first
 *   error lines, with the source's real name) or a file operation
 */
export function compileShim(host: ShimBuildHost, opts: CompileShimOptions): void {
  const slash = opts.out.lastIndexOf("/");
  const dir = slash > 0 ? opts.out.slice(0, slash) : slash === 0 ? "/" : ".";
  let tmp: string;
  try {
    host.mkdirp(dir);
    tmp = host.makeTempDir(dir, ".build-");
  } catch (e) {
    throw new ShimBuildError("io", `cannot create a build directory in ${dir}: ${errText(e)}`, e);
  }
  try {
    const lib = `${tmp}/libzxshim.so`;
    const args = [...SHIM_CFLAGS, "-o", lib, `${tmp}/zxshim.c`];
    try {
      host.writeText(`${tmp}/zxshim.h`, opts.h);
      host.writeText(`${tmp}/zxshim.c`, opts.c);
    } catch (e) {
      throw new ShimBuildError("io", `cannot write the shim source into ${tmp}: ${errText(e)}`, e);
    }
    const r = host.run(opts.cc, args);
    if (r.status === "not-found") {
      throw new ShimBuildError(
        "compiler-missing",
        `the C compiler '${opts.cc}' was not found on PATH: install gcc or clang, or set CC`,
      );
    }
    if (r.status === "error") {
      throw new ShimBuildError(
        "compiler-error",
        `cannot run the C compiler '${opts.cc}': ${r.message}`,
      );
    }
    if (r.status === "failed") {
      const label = opts.label ?? SHIM_SOURCE_FILES.c;
      const msg = r.stderr.split(`${tmp}/zxshim.c`).join(label)
        .split(`${tmp}/zxshim.h`).join(SHIM_SOURCE_FILES.h)
        .trim().split("\n").slice(0, 8).join("\n");
      throw new ShimBuildError(
        "compiler-failed",
        `compiling ${label} with '${opts.cc} ${SHIM_CFLAGS.join(" ")}' failed (exit ${r.code}):\n` +
          msg,
      );
    }
    try {
      host.rename(lib, opts.out);
    } catch (e) {
      throw new ShimBuildError("io", `cannot move the library to ${opts.out}: ${errText(e)}`, e);
    }
  } finally {
    try {
      host.removeAll(tmp);
    } catch { /* best effort: a leftover temporary directory is harmless */ }
  }
}
