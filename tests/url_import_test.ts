/**
 * zxvm imported from a URL: the repository is served over HTTP on 127.0.0.1 and fresh
 * `deno run` processes (empty `DENO_DIR`, empty cache dir) import `mod.ts` from it. With the
 * documented permissions they build the shim into the per-user cache and get native memory;
 * without `--allow-run` they fall back to emulation and say which flag is missing; a second
 * run reuses the cached library without running a compiler; `deno check` of the URL passes.
 * Also checks that the generated `src/backend/shim_source.ts` is exactly what
 * `scripts/build_shim.ts` generates from `ffi/`, and that such an import never fetches the Node
 * binding (`ffi_node.ts`).
 *
 * Deno only (skipped on Node); the URL tests need `--allow-all` and a C compiler `cc`.
 *
 * @module
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SHIM_C, SHIM_H, SHIM_SOURCE_SHA256, ZXVM_VERSION } from "../src/backend/shim_source.ts";
import { shimSourceHash } from "../src/backend/shim_build.ts";
import { renderShimSource, SHIM_SOURCE_MODULE } from "../scripts/build_shim.ts";
import { leakGuard } from "./support/leaks.ts";

const isDeno = typeof Deno !== "undefined" && typeof Deno.Command === "function";
const root = new URL("../", import.meta.url);

describe("shim_source.ts (generated)", {
  skip: isDeno ? false : "reads ffi/ with Deno APIs",
}, () => {
  leakGuard();
  const regen = "stale: rebuild with `deno run -A scripts/build_shim.ts` (it rewrites " +
    `${SHIM_SOURCE_MODULE} from ffi/), and commit both`;

  it("is exactly what build_shim.ts generates from ffi/zxshim.{c,h} and deno.json", () => {
    const c = Deno.readTextFileSync(new URL("ffi/zxshim.c", root));
    const h = Deno.readTextFileSync(new URL("ffi/zxshim.h", root));
    const meta = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))) as {
      version: string;
    };
    const file = Deno.readTextFileSync(new URL(SHIM_SOURCE_MODULE, root));
    assert.ok(file === renderShimSource(c, h, meta.version), regen);
    // And the module's values are the files' texts (not merely a file that looks right).
    assert.ok(SHIM_C === c, `SHIM_C differs from ffi/zxshim.c; ${regen}`);
    assert.ok(SHIM_H === h, `SHIM_H differs from ffi/zxshim.h; ${regen}`);
    assert.equal(shimSourceHash(SHIM_C, SHIM_H), SHIM_SOURCE_SHA256, regen);
    assert.equal(ZXVM_VERSION, meta.version, regen);
  });

  it("a changed source makes the generated module differ (the check above can fail)", () => {
    const c = Deno.readTextFileSync(new URL("ffi/zxshim.c", root));
    const h = Deno.readTextFileSync(new URL("ffi/zxshim.h", root));
    const file = Deno.readTextFileSync(new URL(SHIM_SOURCE_MODULE, root));
    assert.notEqual(renderShimSource(`${c}/* changed */\n`, h, ZXVM_VERSION), file);
    assert.notEqual(renderShimSource(c, `${h} `, ZXVM_VERSION), file);
    assert.notEqual(renderShimSource(c, h, `${ZXVM_VERSION}-next`), file);
  });
});

function urlSkip(): string | false {
  if (!isDeno) return "spawns Deno processes";
  for (const d of [{ name: "run" }, { name: "net" }, { name: "write" }] as const) {
    if (Deno.permissions.querySync(d).state !== "granted") return `needs --allow-${d.name}`;
  }
  if (Deno.build.os !== "linux") return "the shim is Linux-only";
  try {
    new Deno.Command("cc", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
  } catch {
    return "no C compiler `cc` on PATH";
  }
  return false;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  out?: { before: number; backend: string; reason: string; back: string };
}

interface Spawned {
  t0: number;
  child: Deno.ChildProcess;
}

const CONTENT_TYPES: Record<string, string> = {
  ts: "application/typescript",
  json: "application/json",
};

describe("import from URL", { skip: urlSkip() }, () => {
  let tmp = "";
  let server: Deno.HttpServer | undefined;
  let base = "";
  let importFlag = "";
  /** Every path a child asked the server for. */
  const requested = new Set<string>();

  before(() => {
    tmp = Deno.makeTempDirSync({ prefix: "zxvm-url-" });
    const rootPath = decodeURIComponent(root.pathname);
    server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen(): void {} },
      (req): Response => {
        const p = decodeURIComponent(new URL(req.url).pathname);
        requested.add(p);
        const ext = p.split(".").pop() ?? "";
        if (p.includes("..") || !(ext in CONTENT_TYPES)) return new Response("no", { status: 404 });
        try {
          const body = Deno.readFileSync(rootPath + p);
          return new Response(body, { headers: { "content-type": CONTENT_TYPES[ext] } });
        } catch {
          return new Response("not found", { status: 404 });
        }
      },
    );
    const port = (server.addr as Deno.NetAddr).port;
    base = `http://127.0.0.1:${port}`;
    importFlag = `--allow-import=127.0.0.1:${port}`;
    Deno.mkdirSync(`${tmp}/app`);
    Deno.mkdirSync(`${tmp}/home`);
    Deno.writeTextFileSync(
      `${tmp}/app/main.ts`,
      `import { Kernel, Vmar, Vmo, ZxVmOption } from "${base}/mod.ts";
let before = 0;
try {
  before = [...Deno.readDirSync(Deno.args[0])].length;
} catch { /* absent or not readable */ }
using vmo = Vmo.create(4096);
using m = Vmar.root().map(ZxVmOption.VmPermRead | ZxVmOption.VmPermWrite, 0, vmo, 0, 4096);
m.write(0, new TextEncoder().encode("hello"));
const back = new TextDecoder().decode(vmo.read(5, 0));
const k = Kernel.default;
console.log(JSON.stringify({ before, backend: k.backend, reason: k.backendReason, back }));
`,
    );
    // A "compiler" that only logs that it was run, then fails.
    Deno.writeTextFileSync(`${tmp}/cc-log.sh`, `#!/bin/sh\necho "$@" >> ${tmp}/cc.log\nexit 1\n`);
    Deno.chmodSync(`${tmp}/cc-log.sh`, 0o755);
  });

  after(async () => {
    await server?.shutdown();
    if (tmp !== "") Deno.removeSync(tmp, { recursive: true });
  });

  let runs = 0;
  /** `deno run` of main.ts in a fresh DENO_DIR with XDG_CACHE_HOME=<tmp>/<cache>. */
  function denoRun(
    cache: string,
    flags: string[],
    env: Record<string, string> = {},
  ): Spawned {
    const denoDir = `${tmp}/deno-dir-${runs++}`;
    const cacheHome = `${tmp}/${cache}`;
    const t0 = performance.now();
    const cmd = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", importFlag, ...flags, "main.ts", `${cacheHome}/zxvm`],
      cwd: `${tmp}/app`,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: `${tmp}/home`,
        XDG_CACHE_HOME: cacheHome,
        DENO_DIR: denoDir,
        NO_COLOR: "1",
        ...env,
      },
      stdout: "piped",
      stderr: "piped",
    });
    return { t0, child: cmd.spawn() };
  }

  async function finish(r: Spawned): Promise<RunResult> {
    const o = await r.child.output();
    const res: RunResult = {
      code: o.code,
      stdout: new TextDecoder().decode(o.stdout),
      stderr: new TextDecoder().decode(o.stderr),
      ms: Math.round(performance.now() - r.t0),
    };
    const line = res.stdout.trim().split("\n").pop() ?? "";
    try {
      res.out = JSON.parse(line);
    } catch { /* reported below */ }
    assert.equal(res.code, 0, `deno run failed:\n${res.stdout}\n${res.stderr}`);
    assert.ok(res.out, `no JSON result:\n${res.stdout}\n${res.stderr}`);
    return res;
  }

  const cacheFlags = (c: string): string[] => [
    "--allow-ffi",
    "--allow-env=XDG_CACHE_HOME,HOME",
    `--allow-read=${tmp}/${c}/zxvm`,
    `--allow-write=${tmp}/${c}/zxvm`,
  ];

  it("(a) with the documented permissions: builds the shim at first use, native memory", async () => {
    const r = await finish(denoRun("cache-a", [...cacheFlags("cache-a"), "--allow-run=cc"]));
    assert.equal(r.out!.backend, "native", r.out!.reason);
    assert.equal(r.out!.back, "hello");
    assert.equal(r.out!.before, 0, "nothing is built at import time");
    assert.match(r.out!.reason, /compiled from source into the cache now/);
    const files = [...Deno.readDirSync(`${tmp}/cache-a/zxvm`)].map((e) => e.name);
    assert.equal(files.length, 1, `one library, no temporaries: ${files.join(", ")}`);
    assert.match(files[0], /^libzxshim-.*-linux-.*\.so$/);
    console.log(`  first run (fresh DENO_DIR, builds the shim): ${r.ms} ms`);
  });

  it("(a2) two processes building into one empty cache at once", async () => {
    const flags = [...cacheFlags("cache-c"), "--allow-run=cc"];
    const rs = await Promise.all([
      finish(denoRun("cache-c", flags)),
      finish(denoRun("cache-c", flags)),
      finish(denoRun("cache-c", flags)),
    ]);
    for (const r of rs) {
      assert.equal(r.out!.backend, "native", r.out!.reason);
      assert.equal(r.out!.back, "hello");
    }
    const files = [...Deno.readDirSync(`${tmp}/cache-c/zxvm`)].map((e) => e.name);
    assert.equal(files.length, 1, `one library, no temporaries: ${files.join(", ")}`);
  });

  it("(b) without --allow-run: emulated, and the reason names the flag", async () => {
    const r = await finish(denoRun("cache-b", cacheFlags("cache-b")));
    assert.equal(r.out!.backend, "emulated");
    assert.equal(r.out!.back, "hello");
    assert.match(r.out!.reason, /--allow-run=cc/);
    const noFfi = await finish(denoRun("cache-b", ["--allow-env=XDG_CACHE_HOME,HOME"]));
    assert.equal(noFfi.out!.backend, "emulated");
    assert.match(noFfi.out!.reason, /--allow-ffi/);
    const noEnv = await finish(denoRun("cache-b", ["--allow-ffi"]));
    assert.equal(noEnv.out!.backend, "emulated");
    assert.match(noEnv.out!.reason, /--allow-env=.*HOME/);
  });

  it("(c) a second run reuses the cached library without running a compiler", async () => {
    const wrapper = `${tmp}/cc-log.sh`;
    const r = await finish(
      denoRun(
        "cache-a",
        [
          "--allow-ffi",
          "--allow-env=XDG_CACHE_HOME,HOME,CC",
          `--allow-read=${tmp}/cache-a/zxvm`,
          `--allow-write=${tmp}/cache-a/zxvm`,
          `--allow-run=${wrapper}`,
        ],
        { CC: wrapper, PATH: "/nonexistent" },
      ),
    );
    assert.equal(r.out!.backend, "native", r.out!.reason);
    assert.equal(r.out!.back, "hello");
    assert.match(r.out!.reason, /\(cached\)/);
    let log = "";
    try {
      log = Deno.readTextFileSync(`${tmp}/cc.log`);
    } catch { /* never run: good */ }
    assert.equal(log, "", "the compiler must not run");
    console.log(`  cached run (fresh DENO_DIR, no compiler): ${r.ms} ms`);
  });

  it("(d) deno check of the URL entry passes", async () => {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-lock", "--all", importFlag, `${base}/mod.ts`],
      cwd: `${tmp}/app`,
      env: { DENO_DIR: `${tmp}/deno-dir-check`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 0, err);
    assert.match(err, /Check .*mod\.ts/);
  });

  it("(e) no Deno process fetched the Node binding (select.ts keeps it out of the graph)", () => {
    assert.ok(requested.has("/src/backend/select.ts"), [...requested].join(" "));
    assert.ok(requested.has("/src/backend/ffi_deno.ts"));
    assert.ok(requested.has("/src/backend/shim_build.ts"));
    assert.ok(!requested.has("/src/backend/ffi_node.ts"), [...requested].join(" "));
  });
});
