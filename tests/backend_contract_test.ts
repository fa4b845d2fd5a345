/**
 * The backend layer's own contracts, checked on its sources (no FFI needed):
 *
 * - one shim ABI: the symbols table of `shim_symbols.ts` (what `Deno.dlopen` gets) has exactly
 *   the functions `ffi/zxshim.h` declares, in order, with matching parameter and result types;
 *   `ffi/zxshim.c` exports exactly those; the koffi binding declares exactly those with the C
 *   types; `SHIM_VERSION` and `ShimAdvice` are the header's `ZXS_VERSION` and `ZXS_ADV_*`;
 * - backends report Linux facts: no file under `src/backend/` holds a `"zx_…"` string other
 *   than `"zx_kernel_open"` (opening a backend is not a syscall), and the emulated backend's
 *   failures are `BackendError`s (the native ones are checked in `native_backend_test.ts`);
 * - one shim builder: `src/backend/shim_build.ts` is the only file that names the shim's
 *   compiler flags, and they are the strict set.
 *
 * Deno only (reads the repository's sources; the Node run has only the compiled package).
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ZxError } from "../src/abi/error.ts";
import { ZxStatus } from "../src/abi/status.ts";
import { EmulatedMemory, SEGMENT_SIZE } from "../src/backend/emulated.ts";
import { BackendError } from "../src/backend/error.ts";
import { koffiDeclarations } from "../src/backend/ffi_node.ts";
import { SHIM_CFLAGS } from "../src/backend/shim_build.ts";
import { SHIM_VERSION, ShimAdvice, shimSymbols } from "../src/backend/shim_symbols.ts";
import { leakGuard } from "./support/leaks.ts";

const isDeno = typeof Deno !== "undefined" && typeof Deno.readTextFileSync === "function";
const root = new URL("../", import.meta.url);
const skip = isDeno ? false : "reads the repository's sources with Deno APIs";

function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, root));
}

/** Every file under `dir` (relative to the repository root) whose name matches `re`. */
function filesUnder(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of Deno.readDirSync(new URL(rel, root))) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.isFile && re.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A C prototype of `zxshim.h`: name, result type, parameter types (names dropped). */
interface Prototype {
  name: string;
  result: string;
  params: string[];
}

function prototypes(header: string): Prototype[] {
  const code = header.replace(/\/\*[\s\S]*?\*\//g, " ");
  const out: Prototype[] = [];
  for (const m of code.matchAll(/^\s*([a-z0-9_]+)\s+(zxs_\w+)\s*\(([^)]*)\)\s*;/gm)) {
    const list = m[3].trim();
    const params = list === "void" ? [] : list.split(",").map((p) =>
      // "const uint8_t *buf" -> "const uint8_t *"; "zxs_num len" -> "zxs_num"
      p.trim().replace(/\s*\b\w+$/, "").replace(/\s*\*\s*$/, " *").trim()
    );
    out.push({ name: m[2], result: m[1], params });
  }
  return out;
}

/** The Deno FFI types a C type may be declared as. */
const DENO_TYPES_OF_C: Record<string, readonly string[]> = {
  int32_t: ["i32"],
  zxs_num: ["f64"],
  "uint8_t *": ["buffer"],
  "const uint8_t *": ["buffer"],
};

/** The koffi type a C type must be declared as. */
const KOFFI_TYPE_OF_C: Record<string, string> = {
  int32_t: "int32_t",
  zxs_num: "double",
  "uint8_t *": "void *",
  "const uint8_t *": "void *",
};

describe("backend contracts", { skip }, () => {
  leakGuard();

  describe("one shim ABI", () => {
    it("shim_symbols.ts has exactly zxshim.h's functions, in order, with matching types", () => {
      const protos = prototypes(read("ffi/zxshim.h"));
      assert.ok(protos.length >= 20, `parsed ${protos.length} prototypes`);
      assert.deepEqual(Object.keys(shimSymbols), protos.map((p) => p.name));
      for (const p of protos) {
        const def = shimSymbols[p.name as keyof typeof shimSymbols];
        const params: readonly string[] = def.parameters;
        assert.equal(params.length, p.params.length, `${p.name}: parameter count`);
        p.params.forEach((c, i) => {
          const ok = DENO_TYPES_OF_C[c];
          assert.ok(ok !== undefined, `${p.name}: C type ${c} has no known Deno type`);
          assert.ok(ok.includes(params[i]), `${p.name} parameter ${i}: C ${c}, Deno ${params[i]}`);
        });
        assert.ok(
          DENO_TYPES_OF_C[p.result]?.includes(def.result),
          `${p.name} result: C ${p.result}, Deno ${def.result}`,
        );
      }
    });

    it("zxshim.c exports exactly the header's functions", () => {
      const exported = [...read("ffi/zxshim.c").matchAll(/^ZXS_EXPORT\s+\w+\s+(zxs_\w+)\s*\(/gm)]
        .map((m) => m[1]);
      assert.deepEqual(exported, prototypes(read("ffi/zxshim.h")).map((p) => p.name));
    });

    it("the koffi binding declares exactly the same functions, with the C types", () => {
      const protos = prototypes(read("ffi/zxshim.h"));
      const decls = koffiDeclarations();
      assert.deepEqual(decls.map((d) => d.name), protos.map((p) => p.name));
      decls.forEach((d, i) => {
        const p = protos[i];
        assert.deepEqual(d.params, p.params.map((c) => KOFFI_TYPE_OF_C[c]), d.name);
        assert.equal(d.result, KOFFI_TYPE_OF_C[p.result], d.name);
      });
    });

    it("SHIM_VERSION is ZXS_VERSION and ShimAdvice is ZXS_ADV_*", () => {
      const h = read("ffi/zxshim.h");
      const define = (name: string): number => {
        const m = h.match(new RegExp(`^#define ${name} (\\d+)$`, "m"));
        assert.ok(m, `${name} is not defined in zxshim.h`);
        return Number(m[1]);
      };
      assert.equal(SHIM_VERSION, define("ZXS_VERSION"));
      assert.deepEqual(ShimAdvice, {
        Normal: define("ZXS_ADV_NORMAL"),
        WillNeed: define("ZXS_ADV_WILLNEED"),
        DontNeed: define("ZXS_ADV_DONTNEED"),
      });
    });
  });

  describe("backends report Linux facts, never Zircon syscall names", () => {
    it('no "zx_…" string under src/backend/ except "zx_kernel_open"', () => {
      const found: string[] = [];
      for (const f of filesUnder("src/backend", /\.ts$/)) {
        const lines = read(f).split("\n");
        lines.forEach((line, i) => {
          for (const m of line.matchAll(/(["'`])(zx_\w*)/g)) {
            if (m[2] !== "zx_kernel_open") found.push(`${f}:${i + 1}: ${m[1]}${m[2]}`);
          }
        });
      }
      assert.deepEqual(found, [], "backends throw BackendError; the kernel names the syscall");
    });

    it("emulated failures are BackendErrors with a status and a reason", () => {
      const big = new EmulatedMemory(2 * SEGMENT_SIZE); // sparse: nothing allocated
      try {
        assert.throws(() => big.view(SEGMENT_SIZE - 4096, 8192), (e: unknown) => {
          assert.ok(e instanceof BackendError && !(e instanceof ZxError), String(e));
          assert.equal(e.status, ZxStatus.ErrNotSupported);
          assert.match(e.reason, /1 GiB/);
          return true;
        });
      } finally {
        big.close();
      }
      const mem = new EmulatedMemory(4096);
      try {
        const view = mem.view(0, 4096);
        const moved = (view.buffer as ArrayBuffer & { transfer?: () => ArrayBuffer }).transfer;
        if (typeof moved !== "function") return; // Node 20: nothing can be transferred away
        moved.call(view.buffer);
        assert.throws(() => mem.read(0, new Uint8Array(1)), (e: unknown) => {
          assert.ok(e instanceof BackendError, String(e));
          assert.equal(e.status, ZxStatus.ErrBadState);
          assert.match(e.reason, /transferred away/);
          assert.doesNotMatch(e.message, /zx_/);
          return true;
        });
      } finally {
        mem.close();
      }
    });
  });

  describe("one shim builder", () => {
    it("the flags are the strict set", () => {
      for (const f of ["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"]) {
        assert.ok(SHIM_CFLAGS.includes(f), `SHIM_CFLAGS lacks ${f}`);
      }
      assert.ok(Object.isFrozen(SHIM_CFLAGS));
    });

    it("src/backend/shim_build.ts is the only file that names the shim's compiler flags", () => {
      const self = "tests/backend_contract_test.ts";
      const files = ["src", "scripts", "bench", "tests", "ffi", "examples"]
        .flatMap((d) => filesUnder(d, /\.(ts|sh|c|h|json|mk)$|^Makefile$/))
        .filter((f) => f !== self);
      // -fPIC marks a shared-library (shim) build; bench/baseline.c is a program and needs none.
      const naming = files.filter((f) => /-fPIC|SHIM_CFLAGS\s*[:=]/.test(read(f)));
      assert.deepEqual(naming, ["src/backend/shim_build.ts"]);
    });
  });
});
