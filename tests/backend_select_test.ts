/**
 * Backend selection, end to end: fresh `deno run` processes of a small script importing
 * `mod.ts`, each with exactly the permissions and environment a case needs (nothing inherited).
 *
 * - (a) `ZXVM_SHIM_PATH` and the `shimPath` option choose the library that is loaded (checked in
 *   the child's `/proc/<pid>/maps`); a missing one makes `backend: "native"` throw
 *   `ErrNotSupported` naming it and `auto` fall back to emulated, saying so.
 * - (b) `backend: "native"` never falls back: without unrestricted `--allow-ffi` it throws
 *   `ErrNotSupported` naming the flag, where `auto` picks emulated and names the flag.
 * - (c) `ZXVM_BACKEND` chooses `Kernel.default`'s backend (`emulated`, `native`; unset, empty or
 *   `auto` mean auto; anything else is `ErrInvalidArgs` naming the variable).
 * - (d) `scripts/build_shim.ts` is keyed by a hash of compiler, flags and sources: a second build
 *   runs no compiler, a changed source (or compiler, or `--force`) rebuilds — through its API on
 *   a temporary copy of `ffi/`, and through its CLI on a temporary copy of the script.
 * - (e) `deno info` of `mod.ts`: the Deno import graph has no Node-only module (`select.ts`
 *   loads `ffi_node.ts` only on Node, by a specifier Deno cannot prefetch).
 *
 * Deno only (skipped on Node): it spawns Deno processes. Cases that need native memory need a
 * built `build/libzxshim.so`, and (d) a C compiler `cc`.
 *
 * @module
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ZxStatus } from "../mod.ts";
import { buildShim, SHIM_OUTPUT } from "../scripts/build_shim.ts";
import { SHIM_CFLAGS } from "../src/backend/shim_build.ts";
import { leakGuard } from "./support/leaks.ts";

const isDeno = typeof Deno !== "undefined" && typeof Deno.Command === "function";
const root = new URL("../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname).replace(/\/$/, "");
const builtShim = `${rootPath}/${SHIM_OUTPUT}`;

function denoSkip(): string | false {
  if (!isDeno) return "spawns Deno processes (Deno.Command)";
  for (const d of [{ name: "run" }, { name: "write" }, { name: "read" }] as const) {
    if (Deno.permissions.querySync(d).state !== "granted") return `needs --allow-${d.name}`;
  }
  return false;
}

function nativeSkip(): string | false {
  const s = denoSkip();
  if (s) return s;
  if (Deno.build.os !== "linux") return "the shim is Linux-only";
  try {
    Deno.statSync(builtShim);
  } catch {
    return `${SHIM_OUTPUT} is not built (run scripts/build_shim.ts)`;
  }
  return false;
}

function ccSkip(): string | false {
  const s = denoSkip();
  if (s) return s;
  try {
    new Deno.Command("cc", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
  } catch {
    return "no C compiler `cc` on PATH";
  }
  return false;
}

/**
 * The child. `open <backend> [shimPath]` runs `Kernel.open`, `default` reads `Kernel.default`;
 * `hold` as a third word keeps it alive (after printing) until its stdin closes.
 */
const CHILD = `
import { Kernel, ZxError } from "@MOD@";
const [what, backend, shimPath, hold] = Deno.args;
let out;
try {
  const k = what === "default"
    ? Kernel.default
    : Kernel.open({ backend, shimPath: shimPath === "-" ? undefined : shimPath });
  out = { backend: k.backend, reason: k.backendReason };
  if (hold !== "hold") k.close();
} catch (e) {
  out = { error: { zx: e instanceof ZxError, status: e.status, op: e.op, message: String(e.message) } };
}
console.log(JSON.stringify(out));
if (hold === "hold") for await (const _ of Deno.stdin.readable) { /* until EOF */ }
`;

interface ChildOut {
  backend?: "native" | "emulated";
  reason?: string;
  error?: { zx: boolean; status: number; op: string; message: string };
}

interface Case {
  /** Deno permission flags. */
  flags: string[];
  /** Environment beyond PATH/HOME/DENO_DIR/NO_COLOR. */
  env?: Record<string, string>;
  /** Child arguments. */
  args: string[];
}

let tmp = "";
let script = "";

/** Only what Deno itself needs: the module cache location and PATH. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "/usr/bin" };
  for (const name of ["HOME", "DENO_DIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

function command(c: Case, stdin: "null" | "piped" = "null"): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", "--no-config", "--no-prompt", ...c.flags, script, ...c.args],
    clearEnv: true,
    env: { ...baseEnv(), ...c.env },
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}

function parse(stdout: string, stderr: string, code: number): ChildOut {
  assert.equal(code, 0, `child failed:\n${stdout}\n${stderr}`);
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as ChildOut;
  } catch {
    throw new assert.AssertionError({ message: `no JSON from the child:\n${stdout}\n${stderr}` });
  }
}

async function run(c: Case): Promise<ChildOut> {
  const o = await command(c).output();
  const dec = new TextDecoder();
  return parse(dec.decode(o.stdout), dec.decode(o.stderr), o.code);
}

/** Run several cases, two at a time (a 2-core machine). */
async function runAll(cases: Case[]): Promise<ChildOut[]> {
  const outs: ChildOut[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      outs[i] = await run(cases[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return outs;
}

/** Run a `hold` case; while the child is alive, read the shared objects it has mapped. */
async function runHolding(c: Case): Promise<{ out: ChildOut; libs: string[] }> {
  const child = command(c, "piped").spawn();
  const errText = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  let libs: string[] = [];
  try {
    libs = Deno.readTextFileSync(`/proc/${child.pid}/maps`).split("\n")
      .map((l) => l.split(/\s+/).slice(5).join(" "))
      .filter((p) => p.includes("libzxshim"));
  } catch (e) {
    // Exited already: the assertions below say why. Anything else (permissions) is an error.
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await child.stdin.close();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const status = await child.status;
  return { out: parse(text, await errText, status.code), libs: [...new Set(libs)] };
}

function assertNotSupported(out: ChildOut, re: RegExp): void {
  assert.ok(out.error, `expected an error, got ${JSON.stringify(out)}`);
  assert.equal(out.error.zx, true, out.error.message);
  assert.equal(out.error.status, ZxStatus.ErrNotSupported, out.error.message);
  assert.equal(out.error.op, "zx_kernel_open");
  assert.match(out.error.message, /^ZX_ERR_NOT_SUPPORTED: zx_kernel_open: /);
  assert.match(out.error.message, re);
}

function assertBackend(out: ChildOut, backend: "native" | "emulated", re?: RegExp): void {
  assert.equal(out.error, undefined, out.error?.message);
  assert.equal(out.backend, backend, out.reason);
  if (re !== undefined) assert.match(out.reason ?? "", re);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The modules `scripts/build_shim.ts` needs besides itself (the shim builder and its Deno host). */
const BUILDER_MODULES = ["src/backend/shim_build.ts", "src/backend/shim_build_deno.ts"];

describe("backend selection (subprocesses)", { skip: denoSkip() }, () => {
  leakGuard();
  before(() => {
    tmp = Deno.makeTempDirSync({ prefix: "zxvm-select-" });
    script = `${tmp}/child.ts`;
    Deno.writeTextFileSync(script, CHILD.replace("@MOD@", new URL("mod.ts", root).href));
  });

  after(() => {
    if (tmp !== "") Deno.removeSync(tmp, { recursive: true });
  });

  describe("(a) ZXVM_SHIM_PATH and the shimPath option", { skip: nativeSkip() }, () => {
    let copy = "";
    let missing = "";
    before(() => {
      Deno.mkdirSync(`${tmp}/lib`);
      copy = `${tmp}/lib/libzxshim-copy.so`;
      Deno.copyFileSync(builtShim, copy);
      missing = `${tmp}/lib/no-such-libzxshim.so`;
    });
    const ffiEnv = ["--allow-ffi", "--allow-env=ZXVM_SHIM_PATH"];

    it("ZXVM_SHIM_PATH at a copy: native, the reason names the copy, and the copy is loaded", async () => {
      const { out, libs } = await runHolding({
        flags: ffiEnv,
        env: { ZXVM_SHIM_PATH: copy },
        args: ["open", "native", "-", "hold"],
      });
      assertBackend(out, "native", new RegExp(`shim ${escape(copy)}$`));
      assert.deepEqual(libs, [copy], "the child mapped the copy, and no other shim");
    });

    it("ZXVM_SHIM_PATH at a missing file: native throws ErrNotSupported naming it", async () => {
      const [withRead, noRead] = await runAll([
        // With --allow-read it is reported as missing; without, as a failed dlopen.
        {
          flags: [...ffiEnv, `--allow-read=${tmp}`],
          env: { ZXVM_SHIM_PATH: missing },
          args: ["open", "native"],
        },
        { flags: ffiEnv, env: { ZXVM_SHIM_PATH: missing }, args: ["open", "native"] },
      ]);
      assertNotSupported(withRead, new RegExp(`shim library not found at ${escape(missing)}`));
      assertNotSupported(noRead, new RegExp(`dlopen\\(${escape(missing)}\\) failed`));
    });

    it("ZXVM_SHIM_PATH at a missing file: auto falls back to emulated, naming it", async () => {
      const out = await run({
        flags: ffiEnv,
        env: { ZXVM_SHIM_PATH: missing },
        args: ["open", "auto"],
      });
      assertBackend(
        out,
        "emulated",
        new RegExp(`^native backend unavailable \\(.*${escape(missing)}.*\\); using emulated`),
      );
    });

    it("ZXVM_SHIM_PATH is read only with --allow-env for it (else the built library)", async () => {
      const out = await run({
        flags: ["--allow-ffi"],
        env: { ZXVM_SHIM_PATH: missing },
        args: ["open", "native"],
      });
      assertBackend(out, "native", new RegExp(`shim ${escape(builtShim)}$`));
    });

    it("the shimPath option: a copy is loaded (and beats ZXVM_SHIM_PATH)", async () => {
      const { out, libs } = await runHolding({
        flags: ffiEnv,
        env: { ZXVM_SHIM_PATH: missing },
        args: ["open", "native", copy, "hold"],
      });
      assertBackend(out, "native", new RegExp(`shim ${escape(copy)}$`));
      assert.deepEqual(libs, [copy]);
    });

    it("the shimPath option at a missing file: native throws, auto falls back, both name it", async () => {
      const [native, auto] = await runAll([
        { flags: ["--allow-ffi", `--allow-read=${tmp}`], args: ["open", "native", missing] },
        { flags: ["--allow-ffi"], args: ["open", "auto", missing] },
      ]);
      assertNotSupported(native, new RegExp(`not found at ${escape(missing)}`));
      assertBackend(auto, "emulated", new RegExp(`dlopen\\(${escape(missing)}\\) failed`));
    });
  });

  describe('(b) backend: "native" never falls back', () => {
    it("without --allow-ffi: native throws ErrNotSupported naming --allow-ffi; auto is emulated", async () => {
      const scoped = `--allow-ffi=${builtShim}`;
      const [native, nativeScoped, auto, autoScoped] = await runAll([
        { flags: [], args: ["open", "native"] },
        { flags: [scoped], args: ["open", "native"] },
        { flags: [], args: ["open", "auto"] },
        { flags: [scoped], args: ["open", "auto"] },
      ]);
      assertNotSupported(native, /FFI permission is not granted: run with --allow-ffi/);
      assertNotSupported(nativeScoped, /path-scoped --allow-ffi=<lib> is not enough/);
      for (const out of [auto, autoScoped]) {
        assertBackend(
          out,
          "emulated",
          /^native backend unavailable \(FFI permission is not granted: run with --allow-ffi/,
        );
        assert.match(out.reason ?? "", /using emulated memory$/);
      }
    });

    it("with --allow-ffi both are native (the flag was what was missing)", {
      skip: nativeSkip(),
    }, async () => {
      const outs = await runAll([
        { flags: ["--allow-ffi"], args: ["open", "native"] },
        { flags: ["--allow-ffi"], args: ["open", "auto"] },
      ]);
      for (const out of outs) assertBackend(out, "native", /unrestricted --allow-ffi/);
    });
  });

  describe("(c) ZXVM_BACKEND chooses Kernel.default's backend", () => {
    const envFlag = "--allow-env=ZXVM_BACKEND";

    it("emulated: emulated even with --allow-ffi", async () => {
      const out = await run({
        flags: ["--allow-ffi", envFlag],
        env: { ZXVM_BACKEND: "emulated" },
        args: ["default"],
      });
      assertBackend(out, "emulated", /^requested: backend "emulated"$/);
    });

    it("native: native with --allow-ffi", { skip: nativeSkip() }, async () => {
      const out = await run({
        flags: ["--allow-ffi", envFlag],
        env: { ZXVM_BACKEND: "native" },
        args: ["default"],
      });
      assertBackend(out, "native", /^native: /);
    });

    it("native without --allow-ffi: Kernel.default throws ErrNotSupported (no fallback)", async () => {
      const out = await run({
        flags: [envFlag],
        env: { ZXVM_BACKEND: "native" },
        args: ["default"],
      });
      assertNotSupported(out, /--allow-ffi/);
    });

    it("unset, empty or auto: the auto choice (native with --allow-ffi, else emulated)", {
      skip: nativeSkip(),
    }, async () => {
      const values: Array<string | undefined> = [undefined, "", "auto"];
      const cases: Case[] = [];
      for (const v of values) {
        const env: Record<string, string> = v === undefined ? {} : { ZXVM_BACKEND: v };
        cases.push({ flags: ["--allow-ffi", envFlag], env, args: ["default"] });
        cases.push({ flags: [envFlag], env, args: ["default"] });
      }
      const outs = await runAll(cases);
      for (let i = 0; i < values.length; i++) {
        const what = `ZXVM_BACKEND=${JSON.stringify(values[i])}`;
        assert.equal(
          outs[2 * i].backend,
          "native",
          `${what} with --allow-ffi: ${outs[2 * i].reason}`,
        );
        assertBackend(outs[2 * i + 1], "emulated", /run with --allow-ffi/);
      }
    });

    it("an unknown value: Kernel.default throws ErrInvalidArgs naming ZXVM_BACKEND", async () => {
      const outs = await runAll([
        { flags: ["--allow-ffi", envFlag], env: { ZXVM_BACKEND: "bogus" }, args: ["default"] },
        { flags: [envFlag], env: { ZXVM_BACKEND: "Native" }, args: ["default"] },
      ]);
      for (const [out, value] of [[outs[0], "bogus"], [outs[1], "Native"]] as const) {
        assert.ok(out.error, `expected an error for ${value}, got ${JSON.stringify(out)}`);
        assert.equal(out.error.zx, true, out.error.message);
        assert.equal(out.error.status, ZxStatus.ErrInvalidArgs, out.error.message);
        assert.equal(out.error.op, "zx_kernel_open");
        assert.match(out.error.message, new RegExp(`ZXVM_BACKEND="${value}"`));
        assert.match(out.error.message, /expected "auto", "native" or "emulated"/);
      }
    });

    it("without --allow-env for it, ZXVM_BACKEND reads as unset (auto)", async () => {
      const outs = await runAll([
        { flags: [], env: { ZXVM_BACKEND: "native" }, args: ["default"] },
        { flags: [], env: { ZXVM_BACKEND: "bogus" }, args: ["default"] },
      ]);
      for (const out of outs) assertBackend(out, "emulated", /run with --allow-ffi/);
    });
  });

  describe("(e) the Deno import graph of mod.ts", () => {
    it("holds the Deno binding and no Node-only module (ffi_node.ts, node:v8, node:vm)", async () => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json", new URL("mod.ts", root).href],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      const graph = JSON.parse(new TextDecoder().decode(o.stdout)) as {
        modules: { specifier: string }[];
      };
      const mods = graph.modules.map((m) => m.specifier);
      assert.ok(mods.some((m) => m.endsWith("/src/backend/ffi_deno.ts")), mods.join("\n"));
      const nodeOnly = mods.filter((m) =>
        m.endsWith("/ffi_node.ts") || m === "node:v8" || m === "node:vm" ||
        m === "node:child_process"
      );
      assert.deepEqual(nodeOnly, [], "select.ts must load the Node binding only on Node");
    });
  });

  describe("(d) scripts/build_shim.ts is hash-keyed", { skip: ccSkip() }, () => {
    let work = "";
    let ccLog = "";
    let wrapper = "";
    const ccRuns = (): string[] => {
      try {
        return Deno.readTextFileSync(ccLog).split("\n").filter((l) => l !== "");
      } catch {
        return [];
      }
    };
    before(() => {
      work = `${tmp}/build-root`;
      Deno.mkdirSync(`${work}/ffi`, { recursive: true });
      for (const f of ["zxshim.c", "zxshim.h"]) {
        Deno.copyFileSync(new URL(`ffi/${f}`, root), `${work}/ffi/${f}`);
      }
      ccLog = `${tmp}/cc.log`;
      // A compiler that logs that it ran, then compiles.
      wrapper = `${tmp}/cc-log.sh`;
      Deno.writeTextFileSync(wrapper, `#!/bin/sh\necho "$@" >> '${ccLog}'\nexec cc "$@"\n`);
      Deno.chmodSync(wrapper, 0o755);
    });

    it("API: a second build runs no compiler; a changed source, compiler or --force rebuilds", async () => {
      const log = (): void => {};
      const out = `${work}/${SHIM_OUTPUT}`;
      const t0 = performance.now();
      const first = await buildShim({ root: work, cc: wrapper, log });
      const firstMs = Math.round(performance.now() - t0);
      assert.equal(first.built, true);
      assert.equal(first.path, out);
      assert.equal(ccRuns().length, 1, "the first build compiled");
      assert.match(
        ccRuns()[0],
        new RegExp(`-o ${escape(work)}/build/\\.build-[^ /]+/libzxshim\\.so `),
        "into a temporary directory next to the library",
      );
      assert.ok(ccRuns()[0].startsWith(`${SHIM_CFLAGS.join(" ")} -o `), "with SHIM_CFLAGS");
      assert.equal(Deno.readTextFileSync(`${out}.hash`).trim(), first.hash);
      const ino = Deno.statSync(out).ino;

      const t1 = performance.now();
      const second = await buildShim({ root: work, cc: wrapper, log });
      const secondMs = Math.round(performance.now() - t1);
      assert.deepEqual(second, { path: out, built: false, hash: first.hash, embedded: false });
      assert.equal(ccRuns().length, 1, "the second build ran no compiler");
      assert.equal(Deno.statSync(out).ino, ino, "and left the library alone");
      assert.deepEqual(
        [...Deno.readDirSync(`${work}/build`)].map((e) => e.name).sort(),
        ["libzxshim.so", "libzxshim.so.hash"],
        "no temporaries left",
      );

      // A changed source file (the .c, then the .h) rebuilds, under a new key.
      const c = `${work}/ffi/zxshim.c`;
      const original = Deno.readTextFileSync(c);
      Deno.writeTextFileSync(c, `${original}\n/* changed */\n`);
      const changed = await buildShim({ root: work, cc: wrapper, log });
      assert.equal(changed.built, true);
      assert.notEqual(changed.hash, first.hash);
      assert.equal(ccRuns().length, 2, "a changed source ran the compiler");
      assert.notEqual(Deno.statSync(out).ino, ino, "a new library was renamed into place");
      assert.equal((await buildShim({ root: work, cc: wrapper, log })).built, false);
      assert.equal(ccRuns().length, 2);
      Deno.writeTextFileSync(`${work}/ffi/zxshim.h`, "\n", { append: true });
      const header = await buildShim({ root: work, cc: wrapper, log });
      assert.equal(header.built, true, "the header is part of the key");
      assert.equal(ccRuns().length, 3);

      // A different compiler is part of the key; --force always compiles.
      const other = `${tmp}/cc-log-2.sh`;
      Deno.copyFileSync(wrapper, other);
      Deno.chmodSync(other, 0o755);
      const otherCc = await buildShim({ root: work, cc: other, log });
      assert.equal(otherCc.built, true, "the compiler is part of the key");
      assert.notEqual(otherCc.hash, header.hash);
      assert.equal(ccRuns().length, 4);
      assert.equal((await buildShim({ root: work, cc: other, log, force: true })).built, true);
      assert.equal(ccRuns().length, 5, "--force compiled");

      // A matching hash file without the library rebuilds.
      Deno.removeSync(out);
      assert.equal((await buildShim({ root: work, cc: other, log })).built, true);
      assert.equal(ccRuns().length, 6);
      console.log(`  build_shim: compile ${firstMs} ms, up-to-date check ${secondMs} ms`);
    });

    it("the library it built loads (shimPath): native", { skip: nativeSkip() }, async () => {
      const path = (await buildShim({ root: work, cc: wrapper, log: () => {} })).path;
      const out = await run({ flags: ["--allow-ffi"], args: ["open", "native", path] });
      assertBackend(out, "native", new RegExp(`shim ${escape(path)}$`));
    });

    it("CLI on a copy of the script: the second run compiles nothing", async () => {
      const cli = `${tmp}/cli-root`;
      Deno.mkdirSync(`${cli}/scripts`, { recursive: true });
      Deno.mkdirSync(`${cli}/ffi`);
      Deno.mkdirSync(`${cli}/src/backend`, { recursive: true });
      for (const f of ["scripts/build_shim.ts", ...BUILDER_MODULES]) {
        Deno.copyFileSync(new URL(f, root), `${cli}/${f}`);
      }
      for (const f of ["zxshim.c", "zxshim.h"]) {
        Deno.copyFileSync(new URL(`ffi/${f}`, root), `${cli}/ffi/${f}`);
      }
      const before = ccRuns().length;
      const cliRun = async (extra: string[] = []): Promise<string> => {
        const o = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--no-lock",
            "--no-config",
            `--allow-read=${cli}`,
            `--allow-write=${cli}`,
            `--allow-run=${wrapper}`,
            "--allow-env=CC",
            `${cli}/scripts/build_shim.ts`,
            ...extra,
          ],
          clearEnv: true,
          env: { ...baseEnv(), CC: wrapper },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
        assert.equal(o.code, 0, text);
        return text;
      };
      assert.match(await cliRun(), /zxshim: compiled .*cli-root\/build\/libzxshim\.so with /);
      assert.equal(ccRuns().length, before + 1);
      assert.match(await cliRun(), /zxshim: .*cli-root\/build\/libzxshim\.so is up to date/);
      assert.equal(ccRuns().length, before + 1, "the second run ran no compiler");
      assert.match(await cliRun(["--force"]), /zxshim: compiled /);
      assert.equal(ccRuns().length, before + 2, "--force compiled");
    });
  });
});
