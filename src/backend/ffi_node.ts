/**
 * The Node binding of the C shim (`ffi/zxshim.c`): the same table of shim calls that
 * `ffi_deno.ts` builds with `Deno.dlopen`, built here with koffi, for the npm package on
 * Node 20+. Nothing runs at import time; {@link loadNodeBackend} does the work.
 *
 * Where the shim comes from, first match wins:
 * 1. `opts.shimPath`, else env `ZXVM_SHIM_PATH` (must load, or the call fails);
 * 2. `build/libzxshim.so` of the package (the npm package ships one prebuilt for linux-x64;
 *    the package mirrors the repository layout, so in a checkout it is `scripts/build_shim.ts`'s);
 * 3. if that is missing or does not load (another architecture): compile on demand
 *    `ffi/zxshim.c` (shipped in the package) with `$CC` (default `cc`) into the per-user cache
 *    (see {@link compileShim}): the one shim builder of `shim_build.ts` (the same flags, cache
 *    directory and file naming as the Deno binding's cache), so a changed shim is rebuilt.
 *
 * Keeping zero-copy views safe: a view over native memory must be detached before the memory
 * goes away, or touching it is a SIGSEGV. Detaching needs `ArrayBuffer.prototype.transfer`,
 * which Node 20 (V8 11.3) lacks, and `structuredClone(ab, { transfer: [ab] })` does NOT detach a
 * `koffi.view` buffer on Node 20: Node marks external buffers untransferable and silently
 * copies them. On Node 20 the binding therefore takes V8's own (staged, flag-gated)
 * `ArrayBuffer.prototype.transfer` from a fresh `node:vm` context created while
 * `--harmony-rab-gsab-transfer` is set for that one call (the flag is reset right after, so no
 * other realm changes). `transfer.call(view, 0)` really detaches the main-realm buffer:
 * every typed array over it drops to length 0 and no byte of the memory is reachable. The
 * detach is verified on a real `koffi.view` buffer at load time; if it does not work,
 * {@link loadNodeBackend} refuses (`ErrNotSupported`) and `auto` falls back to emulation.
 * See docs/npm.md for the evidence.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { getEnv } from "./env.ts";
import { deferredUnload, NativeBackend, type ShimCalls } from "./native.ts";
import {
  compileShim as buildShimInto,
  type RunOutcome,
  SHIM_SOURCE_FILES,
  ShimBuildError,
  type ShimBuildHost,
  shimCacheDir,
  shimLibraryName,
} from "./shim_build.ts";
import { ZXVM_VERSION } from "./shim_source.ts";
import {
  type ShimFunctions,
  type ShimName,
  type ShimNativeType,
  shimSymbols,
} from "./shim_symbols.ts";
import type { AddressSpace, Backend, Memory, Prot } from "./types.ts";

export type { AddressSpace, Backend, Memory, Prot };

/** The subset of koffi's API this binding uses (koffi 3: pointers are bigints). */
interface Koffi {
  load(path: string): KoffiLibrary;
  view(ptr: bigint, len: number): ArrayBuffer;
  alloc(type: string, len: number): bigint;
  free(ptr: bigint): void;
  version?: string;
}

/** A function declared through koffi: a synchronous call, and `async` on the thread pool. */
type KoffiFunction = ((...args: unknown[]) => unknown) & {
  async(...args: unknown[]): void;
};

/** A library loaded by koffi. */
interface KoffiLibrary {
  func(name: string, result: string, params: string[]): KoffiFunction;
  unload(): void;
}

const OP = "zx_kernel_open";

function notSupported(reason: string): ZxError {
  return new ZxError(ZxStatus.ErrNotSupported, OP, reason);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

/** A loader failure's explanation: a `ZxError`'s reason (without status and op), else its text. */
function reasonOf(e: unknown): string {
  return e instanceof ZxError ? e.reason : errText(e);
}

// ---------------------------------------------------------------------------------------------
// koffi

let koffiCache: Koffi | undefined;

/** Loads koffi from the package's dependencies (throws `ErrNotSupported` if it cannot). */
function loadKoffi(): Koffi {
  if (koffiCache) return koffiCache;
  try {
    const require = createRequire(import.meta.url);
    koffiCache = require("koffi") as Koffi;
    return koffiCache;
  } catch (e) {
    throw notSupported(`the npm package koffi could not be loaded (${errText(e)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Detaching views

type Transfer = (this: ArrayBuffer, newLength?: number) => ArrayBuffer;

/** How views are revoked on this runtime, or why they cannot be. */
type Detacher = { detach: (ab: ArrayBuffer) => void; how: string } | { why: string };

let detacherCache: Detacher | undefined;

/** Finds V8's `ArrayBuffer.prototype.transfer`: native (Node >= 21), or staged (Node 20). */
function findTransfer(): { transfer: Transfer; how: string } | { why: string } {
  const native = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;
  if (typeof native === "function") {
    return { transfer: native, how: "ArrayBuffer.prototype.transfer(0)" };
  }
  // Node 20 (V8 11.3): the implementation is present but staged behind a flag. A context
  // created while the flag is on gets the builtin; the flag is turned off again at once.
  let staged: unknown;
  try {
    v8.setFlagsFromString("--harmony-rab-gsab-transfer");
    try {
      staged = vm.runInContext("ArrayBuffer.prototype.transfer", vm.createContext({}));
    } finally {
      v8.setFlagsFromString("--no-harmony-rab-gsab-transfer");
    }
  } catch (e) {
    return { why: `no ArrayBuffer.prototype.transfer and the V8 fallback failed (${errText(e)})` };
  }
  if (typeof staged !== "function") {
    return { why: "no ArrayBuffer.prototype.transfer (not even V8's staged one)" };
  }
  return { transfer: staged as Transfer, how: "V8's staged ArrayBuffer.prototype.transfer(0)" };
}

/** Builds the detacher and proves it on a real `koffi.view` buffer. */
function getDetacher(koffi: Koffi): Detacher {
  if (detacherCache) return detacherCache;
  const found = findTransfer();
  if ("why" in found) return (detacherCache = found);
  const { transfer } = found;
  const detach = (ab: ArrayBuffer): void => {
    // A detached (or empty) buffer has byteLength 0: nothing left to revoke.
    if (ab.byteLength !== 0) transfer.call(ab, 0);
  };
  let result: Detacher;
  const p = koffi.alloc("uint8_t", 64);
  try {
    const ab = koffi.view(p, 64);
    const u8 = new Uint8Array(ab);
    detach(ab);
    result = ab.byteLength === 0 && u8.length === 0
      ? { detach, how: found.how }
      : { why: `${found.how} did not detach a koffi.view buffer` };
  } catch (e) {
    result = { why: `${found.how} failed on a koffi.view buffer (${errText(e)})` };
  } finally {
    koffi.free(p);
  }
  return (detacherCache = result);
}

// ---------------------------------------------------------------------------------------------
// Finding (or building) the shim

const platformKey = `${process.platform}-${process.arch}`;

/** Node's architecture names, as `Deno.build.arch` spells them (the cache names use those). */
const ARCH_NAMES: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

/**
 * The shim builder's host on Node: `node:fs` and `spawnSync`. `HOME` falls back to
 * `os.homedir()` when the variable is unset.
 */
export function nodeShimHost(): ShimBuildHost {
  return {
    os: process.platform,
    arch: ARCH_NAMES[process.arch] ?? process.arch,
    env(name: string): string | undefined {
      const v = getEnv(name) || (name === "HOME" ? homedir() : undefined);
      return v === "" ? undefined : v;
    },
    isFile(path: string): boolean {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
    mkdirp(path: string): void {
      mkdirSync(path, { recursive: true });
    },
    makeTempDir(parent: string, prefix: string): string {
      return mkdtempSync(join(parent, prefix));
    },
    writeText(path: string, text: string): void {
      writeFileSync(path, text);
    },
    rename(from: string, to: string): void {
      renameSync(from, to);
    },
    removeAll(path: string): void {
      rmSync(path, { recursive: true, force: true });
    },
    run(cmd: string, args: readonly string[]): RunOutcome {
      const r = spawnSync(cmd, [...args], { stdio: ["ignore", "ignore", "pipe"] });
      if (r.error !== undefined) {
        if ((r.error as { code?: string }).code === "ENOENT") return { status: "not-found" };
        return { status: "error", message: errText(r.error) };
      }
      if (r.status === 0) return { status: "ok" };
      const code = r.status ?? 128;
      return { status: "failed", code, stderr: r.stderr?.toString() ?? `signal ${r.signal}` };
    },
  };
}

/**
 * The package root: `src/backend/` -> `../../`. The npm package mirrors the repository layout
 * (`mod.js`, `src/`, `build/libzxshim.so`, `ffi/zxshim.c`), so this is right in both.
 */
function packageRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url));
}

/**
 * Compiles the shim source `ffi/zxshim.c` under `root` into `outDir` (through `shim_build.ts`,
 * the one shim builder) and returns the library's path. The file is named by the zxvm version,
 * the build key (sources and flags) and the platform, so it is built once and rebuilt when the
 * shim changes, and concurrent processes race harmlessly.
 *
 * @param root a directory holding `ffi/zxshim.c` and `ffi/zxshim.h` (default: this package)
 * @param outDir where to put the library (default: `$ZXVM_CACHE_DIR`, else
 *   `$XDG_CACHE_HOME/zxvm`, else `~/.cache/zxvm`); created when missing
 * @returns the absolute path of the compiled library
 * @throws {ZxError} `ErrNotSupported` (op `"zx_kernel_open"`) naming what is missing: the
 *   source, the cache directory, the compiler, or the compiler's first error lines
 */
export function compileShim(root: string = packageRoot(), outDir?: string): string {
  const host = nodeShimHost();
  const src = join(root, SHIM_SOURCE_FILES.c);
  const header = join(root, SHIM_SOURCE_FILES.h);
  if (!existsSync(src) || !existsSync(header)) {
    throw notSupported(`no usable shim library for ${platformKey} and no shim source at ${src}`);
  }
  let dir = outDir;
  if (dir === undefined) {
    const found = shimCacheDir(host);
    if ("deniedEnv" in found) {
      throw notSupported("no per-user cache directory: set ZXVM_CACHE_DIR, XDG_CACHE_HOME or HOME");
    }
    dir = found.dir;
  }
  const c = readFileSync(src, "utf8");
  const h = readFileSync(header, "utf8");
  const out = join(dir, shimLibraryName(host, ZXVM_VERSION, c, h));
  if (host.isFile(out)) return out;
  const cc = getEnv("CC") || "cc";
  try {
    buildShimInto(host, { c, h, out, cc, label: src });
  } catch (e) {
    if (!(e instanceof ShimBuildError)) throw e;
    throw notSupported(`no usable shim library for ${platformKey}, and ${e.message}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The shim table

/**
 * The koffi type of each Deno FFI type the shim's table uses. Typed by the table itself: a new
 * Deno type in `shim_symbols.ts` without a koffi counterpart here fails to type-check.
 */
const KOFFI_TYPES: { readonly [T in ShimNativeType]: string } = {
  i32: "int32_t",
  f64: "double", // zxs_num: sizes, offsets and addresses as exact doubles
  buffer: "void *", // a Uint8Array is passed zero-copy (koffi passes its data pointer)
};

/** One koffi function declaration, generated from a `shim_symbols.ts` entry. */
export interface KoffiDeclaration {
  /** The C symbol. */
  name: ShimName;
  /** The koffi result type. */
  result: string;
  /** The koffi parameter types, in order. */
  params: string[];
}

/**
 * The koffi declarations of every shim function, generated from `shim_symbols.ts` (the table
 * `Deno.dlopen` uses), so both bindings declare the same functions with the same types.
 *
 * @returns one declaration per shim function, in the table's order
 */
export function koffiDeclarations(): KoffiDeclaration[] {
  return (Object.keys(shimSymbols) as ShimName[]).map((name) => {
    const def = shimSymbols[name];
    const params: readonly ShimNativeType[] = def.parameters;
    return { name, result: KOFFI_TYPES[def.result], params: params.map((t) => KOFFI_TYPES[t]) };
  });
}

/**
 * Opens the shim at `path` with koffi and returns the {@link ShimCalls} table: every function
 * of {@link koffiDeclarations}, plus koffi's pointer views.
 */
function koffiShimCalls(koffi: Koffi, path: string, detach: (ab: ArrayBuffer) => void): ShimCalls {
  let lib: KoffiLibrary;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw notSupported(`koffi could not load the shim ${path}: ${errText(e)}`);
  }
  try {
    const fns: Partial<Record<ShimName, unknown>> = {};
    for (const d of koffiDeclarations()) fns[d.name] = lib.func(d.name, d.result, d.params);
    const wait = fns.zxs_futex_wait as KoffiFunction;
    const gate = deferredUnload(() => lib.unload());
    return {
      // koffi functions take the same arguments; the table is complete by construction.
      ...(fns as ShimFunctions),
      viewAt(addr: number, len: number): Uint8Array {
        return new Uint8Array(koffi.view(BigInt(addr), len));
      },
      detach(view: Uint8Array): void {
        detach(view.buffer as ArrayBuffer);
      },
      futexWaitAsync(addr: number, value: number, timeoutNs: number): Promise<number> {
        // koffi runs the call on a libuv thread-pool thread (UV_THREADPOOL_SIZE, default 4).
        return gate.track(
          new Promise((resolve, reject) => {
            wait.async(addr, value, timeoutNs, (err: unknown, r: unknown) => {
              if (err) reject(err);
              else resolve(r as number);
            });
          }),
        );
      },
      unload: gate.unload,
    };
  } catch (e) {
    lib.unload();
    throw notSupported(`shim ${path}: ${errText(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The backend

/** Options of {@link loadNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * Path of the shim library. Default: env `ZXVM_SHIM_PATH`, else the package's
   * `build/libzxshim.so` (prebuilt for linux-x64), else one compiled on demand from
   * `ffi/zxshim.c` (see {@link compileShim}).
   */
  shimPath?: string;
  /** Use physmap windows for memory reads and writes (default `true`); see `native.ts`. */
  physmap?: boolean;
}

/**
 * Load the native backend on Node (20+) through koffi.
 *
 * @param opts see {@link NodeBackendOptions}
 * @returns the native backend
 * @throws {ZxError} `ErrNotSupported` (op `"zx_kernel_open"`) naming what is missing: Linux,
 *   koffi, a way to revoke views, the shim library (or the compiler to build it), or the
 *   shim's interface version
 */
export function loadNodeBackend(opts: NodeBackendOptions = {}): Backend {
  if (process.platform !== "linux") {
    throw notSupported(
      `the zxvm shim needs Linux (memfd_create, fallocate); this is ${platformKey}`,
    );
  }
  const koffi = loadKoffi();
  const detacher = getDetacher(koffi);
  if ("why" in detacher) {
    throw notSupported(`cannot revoke zero-copy views of native memory: ${detacher.why}`);
  }
  const explicit = opts.shimPath || getEnv("ZXVM_SHIM_PATH");
  let path: string;
  let calls: ShimCalls | undefined;
  if (explicit) {
    path = explicit;
    if (!existsSync(path)) throw notSupported(`shim library not found at ${path}`);
    calls = koffiShimCalls(koffi, path, detacher.detach);
  } else {
    path = join(packageRoot(), "build", "libzxshim.so");
    let prebuiltError = "";
    if (existsSync(path)) {
      try {
        calls = koffiShimCalls(koffi, path, detacher.detach);
      } catch (e) {
        prebuiltError = `${reasonOf(e)}; `; // e.g. another architecture's prebuilt
      }
    }
    if (calls === undefined) {
      try {
        path = compileShim();
      } catch (e) {
        throw notSupported(prebuiltError + reasonOf(e));
      }
      calls = koffiShimCalls(koffi, path, detacher.detach);
    }
  }
  const how = detacher.how;
  try {
    return new NativeBackend(calls, {
      reason: `native: koffi ${koffi.version ?? "?"} on Node ${process.version}, shim ${path}` +
        ` (views revoked with ${how})`,
      physmap: opts.physmap,
    });
  } catch (e) {
    calls.unload();
    throw e;
  }
}
