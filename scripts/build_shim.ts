/**
 * Builds the C shim `ffi/zxshim.c` into `build/libzxshim.so`, only when the sources or the
 * compiler flags changed. The SHA-256 of (compiler, flags, sources) is kept next to the library
 * in `build/libzxshim.so.hash`; a matching hash and an existing library mean nothing to do.
 *
 * Run it directly:
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run --allow-env scripts/build_shim.ts [--force]
 * ```
 *
 * or reuse it from code:
 *
 * @example
 * ```ts
 * import { buildShim } from "./build_shim.ts";
 * const { path, built } = await buildShim();
 * console.log(built ? `compiled ${path}` : `${path} is up to date`);
 * ```
 *
 * @module
 */

/** The compiler flags the shim is always built with (part of the cache key). */
export const SHIM_CFLAGS: readonly string[] = [
  "-O2",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-shared",
  "-fPIC",
];

/** The shim's source files, relative to the repository root (all are hashed). */
export const SHIM_SOURCES: readonly string[] = ["ffi/zxshim.c", "ffi/zxshim.h"];

/** The library's path relative to the repository root. */
export const SHIM_OUTPUT = "build/libzxshim.so";

/** Options of {@link buildShim}. */
export interface BuildShimOptions {
  /** Repository root (a path or `file:` URL); default: the parent of this script's folder. */
  root?: string | URL;
  /** The C compiler; default: env `CC` when readable, else `cc`. */
  cc?: string;
  /** Compile even when the hash matches. */
  force?: boolean;
  /** Where progress messages go; default `console.log`. Pass `() => {}` for silence. */
  log?: (message: string) => void;
}

/** What {@link buildShim} did. */
export interface BuildShimResult {
  /** Absolute path of the library. */
  path: string;
  /** `true` when the library was compiled now, `false` when it was already up to date. */
  built: boolean;
  /** The hex SHA-256 cache key of compiler, flags and sources. */
  hash: string;
}

/** Thrown by {@link buildShim} when the C compiler cannot be run or the compile fails. */
export class BuildShimError extends Error {
  /**
   * Create the error.
   *
   * @param message what went wrong, and what to do about it
   */
  constructor(message: string) {
    super(message);
    this.name = "BuildShimError";
  }
}

function toPath(p: string | URL): string {
  if (p instanceof URL || p.startsWith("file:")) {
    const url = p instanceof URL ? p : new URL(p);
    if (url.protocol !== "file:") throw new BuildShimError(`not a file: URL: ${url.href}`);
    return decodeURIComponent(url.pathname).replace(/\/+$/, "");
  }
  return p.replace(/\/+$/, "") || "/";
}

function envOrUndefined(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function sha256Hex(parts: readonly Uint8Array[]): Promise<string> {
  let total = 0;
  for (const p of parts) total += p.length + 1;
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length + 1; // a 0 separator between parts
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Compile `ffi/zxshim.c` into `build/libzxshim.so` unless the cached hash says it is current.
 * The library is written to a temporary file and renamed into place, so a process that has the
 * old library loaded is not disturbed and concurrent builds cannot leave a torn file.
 *
 * Needs `--allow-read`, `--allow-write` and `--allow-run` (and `--allow-env` to honour `CC`).
 *
 * @param opts see {@link BuildShimOptions}
 * @returns the library path, whether it was compiled, and the cache key
 * @throws {BuildShimError} when the compiler is missing or the compile fails
 */
export async function buildShim(opts: BuildShimOptions = {}): Promise<BuildShimResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const root = toPath(opts.root ?? new URL("..", import.meta.url));
  const cc = opts.cc ?? envOrUndefined("CC") ?? "cc";
  const out = `${root}/${SHIM_OUTPUT}`;
  const hashFile = `${out}.hash`;
  const enc = new TextEncoder();

  const parts: Uint8Array[] = [enc.encode("zxshim-build-v1"), enc.encode(cc)];
  for (const f of SHIM_CFLAGS) parts.push(enc.encode(f));
  for (const src of SHIM_SOURCES) {
    parts.push(enc.encode(src));
    parts.push(await Deno.readFile(`${root}/${src}`));
  }
  const hash = await sha256Hex(parts);

  if (!opts.force && (await readTextOrNull(hashFile))?.trim() === hash && await exists(out)) {
    log(`zxshim: ${out} is up to date (sha256 ${hash.slice(0, 12)})`);
    return { path: out, built: false, hash };
  }

  await Deno.mkdir(`${root}/build`, { recursive: true });
  const tmp = `${out}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const args = [...SHIM_CFLAGS, "-o", tmp, `${root}/${SHIM_SOURCES[0]}`];
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(cc, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new BuildShimError(
        `zxshim: C compiler '${cc}' not found on PATH; install gcc or clang (or set CC) ` +
          `to build ${SHIM_OUTPUT}`,
      );
    }
    throw new BuildShimError(`zxshim: cannot run '${cc}': ${(e as Error).message}`);
  }
  if (!result.success) {
    await Deno.remove(tmp).catch(() => {});
    const msg = new TextDecoder().decode(result.stderr).trim();
    throw new BuildShimError(
      `zxshim: '${cc} ${args.join(" ")}' failed (exit ${result.code}):\n${msg}`,
    );
  }
  await Deno.rename(tmp, out);
  await Deno.writeTextFile(hashFile, `${hash}\n`);
  log(`zxshim: compiled ${out} with ${cc} ${SHIM_CFLAGS.join(" ")} (sha256 ${hash.slice(0, 12)})`);
  return { path: out, built: true, hash };
}

if (import.meta.main) {
  try {
    await buildShim({ force: Deno.args.includes("--force") });
  } catch (e) {
    console.error(e instanceof BuildShimError ? e.message : e);
    Deno.exit(1);
  }
}
