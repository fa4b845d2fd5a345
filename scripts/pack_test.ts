/**
 * Packaging test: `npm pack` the built package (`npm/`, from scripts/build_npm.ts), install the
 * tarball into a fresh temporary project, then on the native backend create a VMO, map it,
 * write through the mapping and read it back through the VMO:
 * 1. under Node (ESM script importing `zxvm`),
 * 2. under Deno (`deno run`, importing `npm:zxvm`),
 * 3. and type-check a TypeScript consumer against the published `.d.ts` (strict, no
 *    skipLibCheck), so the declarations are self-contained.
 *
 * ```sh
 * node_modules/.bin/deno run -A scripts/pack_test.ts [--keep]
 * ```
 *
 * Prints the tarball's file list and sizes. `--keep` keeps the temporary directory.
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkgDir = join(root, "npm");
const keep = Deno.args.includes("--keep");

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const res = new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .outputSync();
  const out = new TextDecoder().decode(res.stdout);
  const err = new TextDecoder().decode(res.stderr);
  if (!res.success) {
    console.error(out + err);
    throw new Error(`pack_test: \`${cmd} ${args.join(" ")}\` failed (exit ${res.code})`);
  }
  return out;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`pack_test: ${what}`);
  console.log(`pack_test: ok - ${what}`);
}

if (!existsSync(join(pkgDir, "package.json"))) {
  throw new Error("pack_test: npm/ not built; run `deno run -A scripts/build_npm.ts` first");
}
const tmp = mkdtempSync(join(tmpdir(), "zxvm-pack-"));
try {
  // 1. pack
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp], pkgDir));
  const info = packed[0] as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string; size: number }[];
  };
  console.log(
    `pack_test: ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ` +
      `${info.files.length} files`,
  );
  for (const f of info.files) console.log(`  ${String(f.size).padStart(8)}  ${f.path}`);
  const paths = new Set(info.files.map((f) => f.path));
  for (
    const need of [
      "package.json",
      "README.md",
      "LICENSE",
      "mod.js",
      "mod.d.ts",
      "testing.js",
      "testing.d.ts",
      "src/backend/ffi_node.js",
      "src/backend/ffi_deno.js",
      "ffi/zxshim.c",
      "ffi/zxshim.h",
      "build/libzxshim.so",
    ]
  ) check(paths.has(need), `tarball has ${need}`);
  check(
    ![...paths].some((p) => /^(tests|scripts)\/|\.ts$/.test(p) && !p.endsWith(".d.ts")),
    "tarball has no tests, scripts or .ts sources",
  );

  // 2. fresh project, install the tarball (koffi comes from the registry or npm's cache)
  const proj = join(tmp, "proj");
  Deno.mkdirSync(proj);
  writeFileSync(
    join(proj, "package.json"),
    JSON.stringify({ name: "zxvm-pack-test", private: true, type: "module" }, null, 2),
  );
  run("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    join(tmp, info.filename),
  ], proj);
  check(existsSync(join(proj, "node_modules", "zxvm", "mod.js")), "tarball installed");

  // 3. the smoke script: same body for Node and Deno, only the import differs
  const body = `
const kernel = Kernel.open({ backend: "native" });
if (kernel.backend !== "native") throw new Error("not native: " + kernel.backendReason);
const vmo = kernel.createVmo(2 * kernel.pageSize);
const perm = ZxVmOption.VmPermRead | ZxVmOption.VmPermWrite;
const mapping = kernel.rootVmar.map(perm, 0, vmo, 0, 2 * kernel.pageSize);
const view = mapping.bytes();
view.set([1, 2, 3], 100);
mapping.write(kernel.pageSize + 7, new TextEncoder().encode("hello zxvm"));
const a = vmo.read(3, 100);
const b = new TextDecoder().decode(vmo.read(10, kernel.pageSize + 7));
if (a.join() !== "1,2,3" || b !== "hello zxvm") throw new Error("read back " + a + " / " + b);
mapping.unmap();
if (view.length !== 0) throw new Error("view not detached after unmap");
vmo.close();
kernel.close();
const auto = Kernel.open();
const runtime = typeof Deno === "object" ? "deno " + Deno.version.deno : "node " + process.version;
console.log(JSON.stringify({ runtime, backend: "native", auto: auto.backend, ok: true }));
auto.close();
`;
  writeFileSync(
    join(proj, "smoke_node.mjs"),
    `import { Kernel, ZxVmOption } from "zxvm";\n${body}`,
  );
  writeFileSync(
    join(proj, "smoke_deno.ts"),
    `// deno-lint-ignore-file\nimport { Kernel, ZxVmOption } from "npm:zxvm";\n${body}`,
  );

  // The second entry point, zxvm/testing: a seeded fake kernel, fault injection, leak check.
  const kitBody = `
using k = testKernel({ seed: 7 });
k.faults.failNext("createMemory", 1, ZxStatus.ErrNoMemory);
let status = 0;
try {
  k.createVmo(4096);
} catch (e) {
  status = e instanceof ZxError ? e.status : 0;
}
if (status !== ZxStatus.ErrNoMemory) throw new Error("fault not injected: " + status);
const vmo = k.createVmo(4096);
let leaked = false;
try {
  assertNoLeaks(k);
} catch {
  leaked = true;
}
if (!leaked) throw new Error("assertNoLeaks missed an open VMO");
vmo.close();
assertNoLeaks(k);
console.log(JSON.stringify({ kit: true, backend: k.backend }));
`;
  writeFileSync(
    join(proj, "kit_node.mjs"),
    `import { assertNoLeaks, testKernel, ZxError, ZxStatus } from "zxvm/testing";
` +
      kitBody.replace("using k =", "const k =") + "k.close();\n",
  );
  writeFileSync(
    join(proj, "kit_deno.ts"),
    `import { assertNoLeaks, testKernel, ZxError, ZxStatus } from "npm:zxvm/testing";
` +
      kitBody,
  );

  const nodeVersion = run("node", ["--version"], proj).trim();
  check(Number(nodeVersion.slice(1).split(".")[0]) >= 20, `node ${nodeVersion} >= 20`);
  const nodeOut = run("node", ["smoke_node.mjs"], proj, { ZXVM_BACKEND: "" }).trim();
  console.log(`pack_test: node: ${nodeOut}`);
  check(JSON.parse(nodeOut).ok === true, "node: VMO -> map -> write via mapping -> read via VMO");

  const kitNode = run("node", ["kit_node.mjs"], proj).trim();
  check(JSON.parse(kitNode).kit === true, `node: zxvm/testing works (${kitNode})`);

  const denoOut = run(Deno.execPath(), ["run", "-A", "smoke_deno.ts"], proj).trim();
  console.log(`pack_test: deno: ${denoOut}`);
  check(JSON.parse(denoOut).ok === true, "deno (npm:zxvm): same round trip");
  const kitDeno = run(Deno.execPath(), ["run", "-A", "kit_deno.ts"], proj).trim();
  check(JSON.parse(kitDeno).kit === true, `deno: npm:zxvm/testing works (${kitDeno})`);

  // 4. a TypeScript consumer type-checks against the published declarations
  writeFileSync(
    join(proj, "consumer.ts"),
    `import { Kernel, Vmo, ZxError, ZxStatus, ZxVmOption, type Mapping } from "zxvm";\n` +
      `const k: Kernel = Kernel.open({ backend: "emulated" });\n` +
      `const v: Vmo = k.createVmo(4096);\n` +
      `const m: Mapping = k.rootVmar.map(ZxVmOption.VmPermRead, 0, v, 0, 4096);\n` +
      `const n: number = m.addr + v.size;\n` +
      `const e: ZxError = new ZxError(ZxStatus.ErrBadHandle, "zx_vmo_read", "x");\n` +
      `import { testKernel, type TestKernel } from "zxvm/testing";\n` +
      `const t: TestKernel = testKernel({ seed: 1 });\n` +
      `t.faults.failNext("createMemory", 1, ZxStatus.ErrNoMemory);\n` +
      `console.log(n, e.status);\n`,
  );
  run("node", [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "--noEmit",
    "--strict",
    "--skipLibCheck",
    "false",
    "--module",
    "nodenext",
    "--target",
    "es2022",
    "--types",
    "node",
    "--typeRoots",
    join(root, "node_modules", "@types"),
    "consumer.ts",
  ], proj);
  check(true, "TypeScript consumer type-checks against the published .d.ts (skipLibCheck off)");
  console.log("pack_test: all passed");
} finally {
  if (keep) console.log(`pack_test: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
