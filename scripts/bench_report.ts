/**
 * Builds and runs zxvm's benchmarks against the metal and writes `bench/RESULTS.md`.
 *
 * 1. Builds the shim (`scripts/build_shim.ts`) and the C baseline (`bench/baseline.c`, `-O2`)
 *    into `build/bench_baseline`.
 * 2. Runs `--rounds` rounds (default 5); each round runs the C baseline, then
 *    `deno bench --json` of the zxvm bench files, so both sides share the machine's state.
 * 3. Per case, takes the median over rounds (zxvm: of each round's mean time per iteration;
 *    C: of each round's median batch), and writes a markdown table of medians and ratios
 *    zxvm / baseline, plus the issue's targets with their measured values.
 *
 * ```sh
 * node_modules/.bin/deno run -A scripts/bench_report.ts [--rounds N] [--out PATH] [--smoke]
 * ```
 *
 * `--smoke` runs every case once (one round, tiny budgets) and writes to `--out` (default
 * `build/RESULTS.smoke.md`): it checks the pipeline, its numbers mean nothing.
 *
 * @module
 */
import { buildShim } from "./build_shim.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const BENCH_FILES = [
  "bench/zxvm.bench.ts",
  "bench/live_mappings.bench.ts",
  "bench/workers.bench.ts",
];
const BASELINE_BIN = "build/bench_baseline";

/** One row of the table: a zxvm case and the baseline it is compared with. */
interface Row {
  /** Section heading the row belongs to. */
  section: string;
  /** The zxvm bench name (`Deno.bench` name). */
  zx: string;
  /** `c:<case>` (bench/baseline.c) or `js:<bench name>` / `zx:<bench name>` (deno bench). */
  base: string;
  /** What the baseline does, in words. */
  baseLabel: string;
}

function rowsFor(be: "native" | "emulated"): Row[] {
  const r: Row[] = [];
  const add = (section: string, zx: string, base: string, baseLabel: string): void => {
    r.push({ section, zx: `${be}: ${zx}`, base, baseLabel });
  };
  add(
    "VMO create + close",
    "vmo create+close 4 KiB",
    "c:create_close.4k",
    "memfd_create+ftruncate+close",
  );
  add(
    "VMO create + close",
    "vmo create+close 1 MiB",
    "c:create_close.1m",
    "memfd_create+ftruncate+close",
  );
  for (const [tag, key] of [["64 B", "64"], ["4 KiB", "4k"], ["1 MiB", "1m"]]) {
    add("vmo.read / vmo.write", `vmo.read ${tag}`, `c:pread.${key}`, `pread ${tag}`);
    add(
      "vmo.read / vmo.write",
      `vmo.read ${tag}`,
      `c:memcpy_out.${key}`,
      `memcpy ${tag} from a mapping`,
    );
    add("vmo.read / vmo.write", `vmo.write ${tag}`, `c:pwrite.${key}`, `pwrite ${tag}`);
    add(
      "vmo.read / vmo.write",
      `vmo.write ${tag}`,
      `c:memcpy_in.${key}`,
      `memcpy ${tag} into a mapping`,
    );
    add(
      "vmo.read / vmo.write",
      `vmo.read ${tag}`,
      `js:js: TypedArray.set ${tag}`,
      `TypedArray.set ${tag}`,
    );
    add(
      "vmo.read / vmo.write",
      `vmo.write ${tag}`,
      `js:js: TypedArray.set ${tag}`,
      `TypedArray.set ${tag}`,
    );
  }
  const mapC = "mmap MAP_FIXED memfd + re-reserve";
  add("map + unmap", "map+unmap 4 KiB", "c:map_unmap.4k", `${mapC} (4 KiB)`);
  add("map + unmap", "map+unmap 1 MiB", "c:map_unmap.1m", `${mapC} (1 MiB)`);
  if (be === "native") {
    for (const [tag, key] of [["4 KiB", "4k"], ["1 MiB", "1m"]]) {
      // The floor inside a Deno process, and zxvm's own share above it.
      add(
        "map + unmap",
        `raw shim map+unmap ${tag} (no zxvm)`,
        `c:map_unmap.${key}`,
        `${mapC} (${tag})`,
      );
      add(
        "map + unmap",
        `map+unmap ${tag}`,
        `zx:native: raw shim map+unmap ${tag} (no zxvm)`,
        `the same two shim calls from Deno (${tag})`,
      );
    }
  }
  add(
    "Writes through mapping.bytes()",
    "mapping.bytes() + set 64 B",
    "c:mapped_store.64",
    "memcpy 64 B to a mapped pointer",
  );
  add(
    "Writes through mapping.bytes()",
    "bytes view byte stores x64",
    "c:mapped_store.64",
    "memcpy 64 B to a mapped pointer",
  );
  add(
    "Writes through mapping.bytes()",
    "bytes view set 4 KiB",
    "c:mapped_store.4k",
    "memcpy 4 KiB to a mapped pointer",
  );
  add(
    "Writes through mapping.bytes()",
    "bytes view set 1 MiB",
    "c:mapped_store.1m",
    "memcpy 1 MiB to a mapped pointer",
  );
  add(
    "Protect toggling",
    "protect R/RW toggle 4 KiB",
    "c:protect_toggle",
    "mprotect R + mprotect RW",
  );
  add(
    "Snapshot child",
    "snapshot child 64 KiB + close",
    "c:snapshot.64k",
    "memfd_create+ftruncate+copy_file_range+close",
  );
  add(
    "Snapshot child",
    "snapshot child 64 MiB + close",
    "c:snapshot.64m",
    "memfd_create+ftruncate+copy_file_range+close",
  );
  add("Handles", "handle duplicate+close", "c:dup_close", "dup + close");
  const W = "Memory shared with a Worker";
  add(
    W,
    "futex ping-pong (futexWaitAsync <-> futexWait)",
    "js:js: SharedArrayBuffer + Atomics ping-pong",
    "SharedArrayBuffer + Atomics.waitAsync / wait / notify",
  );
  const hand = (tag: string): string => `hand a ${tag} VMO to a Worker and back`;
  add(W, hand("64 MiB"), `zx:${be}: ${hand("64 KiB")}`, "zxvm, a 64 KiB VMO");
  for (const how of ["copy", "transfer"]) {
    add(
      W,
      hand("64 MiB"),
      `js:js: postMessage 64 MiB ArrayBuffer (${how})`,
      `postMessage of a 64 MiB ArrayBuffer (${how}), acknowledged`,
    );
  }
  add(
    W,
    "channel write+read 64 B + 1 handle (round trip to a Worker)",
    `zx:${be}: channel write+read 64 B + 1 handle (same kernel)`,
    "the same within one kernel (one way, no Worker)",
  );
  const live = (layout: string, n: string): string => `map+unmap 4 KiB with ${n} live (${layout})`;
  const layouts: [string, string[]][] = be === "native"
    ? [["adjacent", ["1k", "10k", "100k"]], ["scattered", ["1k", "10k"]]]
    : [["adjacent", ["1k", "10k", "100k"]]];
  for (const [layout, ns] of layouts) {
    for (const n of ns) {
      add(
        "Live mappings (per-op map + unmap)",
        live(layout, n),
        "c:map_unmap.4k",
        `${mapC} (4 KiB)`,
      );
      if (n !== ns[0]) {
        add(
          "Live mappings (per-op map + unmap)",
          live(layout, n),
          `zx:${be}: ${live(layout, ns[0])}`,
          `zxvm with ${ns[0]} live (${layout})`,
        );
      }
    }
  }
  return r;
}

const ROWS: Row[] = [...rowsFor("native"), ...rowsFor("emulated")];

/** A target: the measured time ratio zxvm / baseline must be at most `max`. */
interface Target {
  what: string;
  zx: string;
  base: string;
  max: number;
  /** How the target is phrased (throughput targets are inverted time ratios). */
  phrase: string;
}

const TARGETS: Target[] = [
  ...(["4 KiB", "1 MiB"] as const).map((t, i): Target => ({
    what: `native map+unmap ${t}`,
    zx: `native: map+unmap ${t}`,
    base: `c:map_unmap.${i === 0 ? "4k" : "1m"}`,
    max: 1.1,
    phrase: "time ≤ 1.1× C",
  })),
  ...(["4 KiB", "1 MiB"] as const).map((t): Target => ({
    what: `native map+unmap ${t} vs the raw-shim floor`,
    zx: `native: map+unmap ${t}`,
    base: `zx:native: raw shim map+unmap ${t} (no zxvm)`,
    max: 1.1,
    phrase: "time ≤ 1.1× the same two shim calls from Deno",
  })),
  ...(["read", "write"] as const).map((op): Target => ({
    what: `native vmo.${op} 1 MiB`,
    zx: `native: vmo.${op} 1 MiB`,
    base: `c:memcpy_${op === "read" ? "out" : "in"}.1m`,
    max: 1 / 0.9,
    phrase: "throughput ≥ 0.9× C memcpy",
  })),
  ...(["read", "write"] as const).map((op): Target => ({
    what: `native vmo.${op} 64 B`,
    zx: `native: vmo.${op} 64 B`,
    base: `c:p${op}.64`,
    max: 1,
    phrase: `time ≤ C p${op}`,
  })),
  ...(["native", "emulated"] as const).map((be): Target => ({
    what: `${be} per-op map+unmap at 100k live vs 1k live`,
    zx: `${be}: map+unmap 4 KiB with 100k live (adjacent)`,
    base: `zx:${be}: map+unmap 4 KiB with 1k live (adjacent)`,
    max: 1.3,
    phrase: "time ≤ 1.3× (1k live)",
  })),
  ...(["native", "emulated"] as const).map((be): Target => ({
    what: `${be} futex ping-pong main <-> Worker`,
    zx: `${be}: futex ping-pong (futexWaitAsync <-> futexWait)`,
    base: "js:js: SharedArrayBuffer + Atomics ping-pong",
    max: 1.5,
    phrase: "time ≤ 1.5× SharedArrayBuffer + Atomics",
  })),
  ...(["native", "emulated"] as const).map((be): Target => ({
    what: `${be} handing a 64 MiB VMO to a Worker vs 64 KiB`,
    zx: `${be}: hand a 64 MiB VMO to a Worker and back`,
    base: `zx:${be}: hand a 64 KiB VMO to a Worker and back`,
    max: 2,
    phrase: "time ≤ 2× (64 KiB): independent of size",
  })),
  ...(["read", "write"] as const).map((op): Target => ({
    what: `emulated vmo.${op} 1 MiB`,
    zx: `emulated: vmo.${op} 1 MiB`,
    base: "js:js: TypedArray.set 1 MiB",
    max: 1 / 0.8,
    phrase: "throughput ≥ 0.8× TypedArray.set",
  })),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${err}\n${text}`);
  }
  return text;
}

async function capture(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args)).trim();
  } catch {
    return "unknown";
  }
}

function fmtTime(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}

interface BenchJson {
  runtime: string;
  cpu: string;
  benches: { name: string; results: { ok?: { avg: number; n: number } }[] }[];
}

async function main(): Promise<void> {
  const args = Deno.args;
  const smoke = args.includes("--smoke");
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rounds = smoke ? 1 : Number(flag("--rounds") ?? 5);
  const outPath = flag("--out") ?? (smoke ? "build/RESULTS.smoke.md" : "bench/RESULTS.md");
  const deno = Deno.execPath();

  await buildShim({ root: ROOT, log: () => {} });
  const cc = "gcc";
  await run(cc, ["-O2", "-Wall", "-Wextra", "-Werror", "-o", BASELINE_BIN, "bench/baseline.c"]);

  const samples = new Map<string, number[]>();
  const push = (k: string, v: number): void => {
    const a = samples.get(k);
    if (a === undefined) samples.set(k, [v]);
    else a.push(v);
  };
  let runtime = "";
  let cpu = "";
  for (let r = 0; r < rounds; r++) {
    console.error(`round ${r + 1}/${rounds}: C baseline`);
    const c = await run(`${ROOT}/${BASELINE_BIN}`, smoke ? ["--smoke"] : []);
    for (const line of c.split("\n")) {
      if (line.trim() === "") continue;
      const o = JSON.parse(line) as { case: string; ns: number };
      push(`c:${o.case}`, o.ns);
    }
    console.error(`round ${r + 1}/${rounds}: deno bench`);
    const env: Record<string, string> = { NO_COLOR: "1" };
    if (smoke) env.ZXVM_BENCH_SMOKE = "1";
    const j = JSON.parse(
      await run(deno, ["bench", "-A", "--json", ...BENCH_FILES], env),
    ) as BenchJson;
    runtime = j.runtime;
    cpu = j.cpu;
    for (const b of j.benches) {
      const ok = b.results[0]?.ok;
      if (ok === undefined) throw new Error(`bench "${b.name}" failed`);
      push(`zx:${b.name}`, ok.avg);
    }
  }
  const med = (key: string): number => {
    const k = key.startsWith("js:") ? `zx:${key.slice(3)}` : key;
    const a = samples.get(k);
    if (a === undefined) {
      // Smoke runs shrink the live-mapping counts; every other case must be there by name.
      if (smoke && / live \(/.test(key)) return NaN;
      throw new Error(`missing case ${key} (every case must be present)`);
    }
    return median(a);
  };

  const cpuModel = (await capture("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo"]))
    .replace(/^model name\s*:\s*/, "");
  const header = [
    "# zxvm benchmarks against the metal",
    "",
    `Generated by \`scripts/bench_report.ts\` on ${new Date().toISOString()}` +
    (smoke ? " (SMOKE RUN: one iteration per case, numbers are meaningless)" : "") + ".",
    "",
    `- Machine: ${cpuModel || cpu}, ${navigator.hardwareConcurrency} logical CPUs, ` +
    `Linux ${Deno.osRelease()}, vm.max_map_count ` +
    `${await capture("cat", ["/proc/sys/vm/max_map_count"])}`,
    `- Runtime: ${runtime}; V8 ${Deno.version.v8}; TypeScript ${Deno.version.typescript}`,
    `- C baseline: \`${cc} -O2\` (${await capture(cc, ["-dumpfullversion"])}), ` +
    "`bench/baseline.c`",
    `- Commit: ${await capture("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"])}`,
    `- Method: ${rounds} rounds; each round runs the C baseline, then \`deno bench --json\` of ` +
    `${BENCH_FILES.map((f) => `\`${f}\``).join(" and ")}. zxvm value = median over rounds of ` +
    "deno bench's mean time per iteration; C value = median over rounds of the median of 15 " +
    "timed batches. Ratio = zxvm time / baseline time (below 1: zxvm is faster). " +
    "The machine is shared and noisy: read ratios within about ±15%.",
    "",
  ];

  const lines: string[] = [...header, "## Targets", ""];
  lines.push("| target | zxvm | baseline | measured ratio (time) | goal | met |");
  lines.push("| --- | ---: | ---: | ---: | --- | :---: |");
  for (const t of TARGETS) {
    const z = med(`zx:${t.zx}`);
    const b = med(t.base);
    const ratio = z / b;
    const thr = t.phrase.startsWith("throughput") ? ` (throughput ${(b / z).toFixed(2)}×)` : "";
    lines.push(
      `| ${t.what} | ${fmtTime(z)} | ${fmtTime(b)} | ${ratio.toFixed(2)}×${thr} | ${t.phrase} | ${
        ratio <= t.max ? "yes" : "**no**"
      } |`,
    );
  }
  lines.push("");

  let section = "";
  for (const row of ROWS) {
    if (row.section !== section) {
      section = row.section;
      lines.push(`## ${section}`, "");
      lines.push("| zxvm case | zxvm median | baseline | baseline median | zxvm / baseline |");
      lines.push("| --- | ---: | --- | ---: | ---: |");
    }
    const z = med(`zx:${row.zx}`);
    const b = med(row.base);
    const kind = row.base.startsWith("c:") ? "C" : row.base.startsWith("js:") ? "JS" : "zxvm";
    lines.push(
      `| ${row.zx} | ${fmtTime(z)} | ${kind}: ${row.baseLabel} | ${fmtTime(b)} | ${
        (z / b).toFixed(2)
      }× |`,
    );
    if (ROWS[ROWS.indexOf(row) + 1]?.section !== section) lines.push("");
  }
  const notes = await Deno.readTextFile(`${ROOT}/bench/NOTES.md`).catch(() => "");
  if (notes !== "") lines.push(notes.trimEnd(), "");
  await Deno.writeTextFile(
    outPath.startsWith("/") ? outPath : `${ROOT}/${outPath}`,
    lines.join("\n"),
  );
  console.error(`wrote ${outPath}`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exit(1);
  }
}
