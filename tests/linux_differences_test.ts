/**
 * The Linux-forced differences from Zircon that README.md ("Native backend notes") documents,
 * each asserted on the native backend (skipped, with the reason, when it is unavailable):
 *
 * - Reading a hole through a raw `Mapping.bytes()` view commits the page on Linux (a read fault
 *   on a memfd allocates it; Zircon maps the zero page), so `committedBytes` grows on native;
 *   `vmo.read` and `Mapping.read` of holes do not commit (zxvm asks `SEEK_DATA`/`SEEK_HOLE`).
 * - `vm.max_map_count` bounds the live native mappings: past roughly half of it (each scattered
 *   mapping splits the reservation into two more areas) `map` answers `ErrNoMemory`, the kernel's
 *   books stay consistent with memory, and everything can be unmapped again. The emulated
 *   backend has no such limit. This one runs in a subprocess (Deno only): a process at its
 *   map-count limit cannot be shared with other test files.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Kernel, ZxVmOption as O } from "../mod.ts";
import { isDeno, nativeSkipReason } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";

const nativeSkip = nativeSkipReason();

/** Whether shmem transparent huge pages are off, so memfd pages are committed 4 KiB at a time. */
function shmemSmallPages(): boolean {
  try {
    const s = readFileSync("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "utf8");
    return /\[(never|deny)\]/.test(s);
  } catch {
    return true; // no THP support at all
  }
}

describe("Linux difference: reading a hole through a raw view commits it", {
  skip: nativeSkip ?? false,
}, () => {
  leakGuard();
  it("native: vmo.read and Mapping.read leave holes alone; a bytes() read faults a page in", () => {
    using k = Kernel.open({ backend: "native", seed: 11 });
    const P = k.pageSize;
    using vmo = k.createVmo(16 * P);
    using m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 16 * P);
    const committed = (): number => vmo.info().committedBytes;
    assert.equal(committed(), 0, "a new VMO commits nothing");

    assert.deepEqual(vmo.read(16 * P, 0), new Uint8Array(16 * P));
    assert.equal(committed(), 0, "vmo.read of holes commits nothing (as in Zircon)");
    assert.deepEqual(m.read(0, 16 * P), new Uint8Array(16 * P));
    assert.equal(committed(), 0, "Mapping.read of holes commits nothing (as in Zircon)");

    const view = m.bytes();
    assert.equal(committed(), 0, "creating the view commits nothing yet");
    assert.equal(view[3 * P + 5], 0, "a hole reads as zero");
    const one = committed();
    assert.ok(one >= P, `one read through the view committed a page (committed ${one})`);
    let sum = 0;
    for (let i = 8 * P; i < 10 * P; i += 64) sum += view[i];
    assert.equal(sum, 0);
    const three = committed();
    assert.ok(three >= one, "reading more holes through the view never uncommits");
    if (shmemSmallPages()) {
      assert.equal(one, P, "exactly the page read");
      assert.equal(three, 3 * P, "exactly the three pages read");
    }

    // The kernel's own reads still do not commit the rest.
    assert.deepEqual(vmo.read(16 * P, 0), new Uint8Array(16 * P));
    assert.deepEqual(m.read(0, 16 * P), new Uint8Array(16 * P));
    assert.equal(committed(), three, "vmo.read/Mapping.read after the view: no more commits");
  });

  it("emulated: reads commit nothing; a bytes() view counts its whole range at once", () => {
    using k = Kernel.open({ backend: "emulated", seed: 11 });
    const P = k.pageSize;
    using vmo = k.createVmo(16 * P);
    using m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 16 * P);
    vmo.read(16 * P, 0);
    m.read(0, 16 * P);
    assert.equal(vmo.info().committedBytes, 0);
    const view = m.bytes();
    assert.equal(view[3 * P], 0);
    assert.equal(vmo.info().committedBytes, 16 * P, "writes through a view cannot be observed");
  });
});

/** The child: fill the address space with native mappings until `map` fails, then check. */
const MAP_COUNT_CHILD = `
import { Kernel, ZxError, ZxStatus, ZxVmOption as O } from "@MOD@";
const P = 4096;
const BALLAST = 1000;
const mapsIn = (base, end) => Deno.readTextFileSync("/proc/self/maps").trim().split("\\n")
  .map((l) => {
    const [range, , , , , ...path] = l.split(/\\s+/);
    const [a, b] = range.split("-").map((x) => parseInt(x, 16));
    return { a, b, memfd: path.join(" ").includes("memfd:zxvm") };
  }).filter((e) => e.b > base && e.a < end);
/** Areas of zxvm memfds in [base, end), and holes (ranges in no area: the reservation broke). */
function survey(base, end) {
  const es = mapsIn(base, end);
  let holes = 0;
  let at = base;
  for (const e of es) {
    if (e.a > at) holes++;
    at = Math.max(at, e.b);
  }
  if (at < end) holes++;
  return { memfdAreas: es.filter((e) => e.memfd).length, holes };
}
const out = {};
const t0 = performance.now();
// Ballast: scattered mappings in a second kernel. Closing it (one munmap of its reservation)
// gives the process room again once the limit is reached, whatever the main kernel can do.
const ballast = Kernel.open({ backend: "native", seed: 99, rootVmarSize: 2 ** 32 });
const bvmo = ballast.createVmo(P);
for (let i = 0; i < BALLAST; i++) ballast.rootVmar.map(O.VmPermRead, 0, bvmo, 0, P);
bvmo.close();
const k = Kernel.open({ backend: "native", seed: 7 });
const vmo = k.createVmo(P);
vmo.write(new Uint8Array([0x5a]), 0);
const ms = new Array(1 << 20);
let n = 0;
let failure = null;
for (;;) {
  try {
    ms[n] = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P); // kernel-placed: scattered
    n++;
  } catch (e) {
    failure = e;
    break;
  }
}
out.vmasAtFailure = Deno.readTextFileSync("/proc/self/maps").split("\\n").length - 1;
// At zxvm's limit, which keeps headroom below the kernel's: unmapping (itself an mmap of the
// reservation back over the mapping) still works, as it does in Zircon.
let atLimit = { ok: true };
try {
  ms[n - 1].unmap();
} catch (e) {
  atLimit = { ok: false, zx: e instanceof ZxError, status: e.status, message: e.message,
    stillAlive: ms[n - 1].alive };
}
ballast.close();
// (Nothing that allocates much ran at the limit: mappings() lists after the ballast is gone.)
const listedAtLimit = k.rootVmar.mappings().length;
out.fillMs = Math.round(performance.now() - t0);
out.n = n;
out.ballast = BALLAST;
out.failure = failure instanceof ZxError
  ? { zx: true, status: failure.status, noMemory: failure.status === ZxStatus.ErrNoMemory,
    op: failure.op, message: failure.message }
  : { zx: false, message: String(failure) };
out.atLimit = atLimit;
out.listedAtLimit = listedAtLimit;
const base = k.rootVmar.base;
const end = base + k.rootVmar.len;
let live = ms.slice(0, n).filter((m) => m.alive);
out.live = live.length;
out.listed = k.rootVmar.mappings().length;
out.survey = survey(base, end);
out.readBack = live.every((m, i) => i % 997 !== 0 || m.read(0, 1)[0] === 0x5a);
// With room again, map works and every mapping unmaps.
const extra = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
out.extraReads = extra.read(0, 1)[0];
extra.unmap();
let unmapErrors = 0;
for (const m of live) {
  try {
    m.unmap();
  } catch {
    unmapErrors++;
  }
}
out.unmapErrors = unmapErrors;
out.listedAfter = k.rootVmar.mappings().length;
out.surveyAfter = survey(base, end);
vmo.close();
k.close();
out.nativeMs = Math.round(performance.now() - t0);
// The emulated backend at the same count and beyond: no limit.
const t1 = performance.now();
const maxMapCount = Number(Deno.readTextFileSync("/proc/sys/vm/max_map_count").trim());
const target = Math.max(n + BALLAST, maxMapCount) + 1000;
const e = Kernel.open({ backend: "emulated", seed: 7 });
const evmo = e.createVmo(P);
const ems = [];
let emuError = null;
try {
  for (let i = 0; i < target; i++) ems.push(e.rootVmar.map(O.VmPermRead, 0, evmo, 0, P));
} catch (x) {
  emuError = String(x);
}
out.emulated = { target, mapped: ems.length, listed: e.rootVmar.mappings().length, emuError };
for (const m of ems) m.unmap();
out.emulated.listedAfter = e.rootVmar.mappings().length;
e.close();
out.emulatedMs = Math.round(performance.now() - t1);
console.log(JSON.stringify(out));
`;

/** Why the map-count test cannot run here, or false. */
function mapCountSkip(): string | false {
  if (!isDeno) return "runs a Deno subprocess (Deno.Command)";
  if (nativeSkip !== null) return nativeSkip;
  let max: number;
  try {
    max = Number(readFileSync("/proc/sys/vm/max_map_count", "utf8").trim());
  } catch {
    return "/proc/sys/vm/max_map_count is not readable";
  }
  if (!(max > 2000)) return `vm.max_map_count=${max} is too small to leave room for a runtime`;
  if (max > 300_000) return `vm.max_map_count=${max}: exhausting it would take too long`;
  return false;
}

describe("Linux difference: vm.max_map_count bounds live native mappings (subprocess)", {
  skip: mapCountSkip(),
}, () => {
  it("map answers ErrNoMemory near max_map_count/2; books stay consistent; emulated has no limit", async () => {
    const max = Number(readFileSync("/proc/sys/vm/max_map_count", "utf8").trim());
    const dir = Deno.makeTempDirSync({ prefix: "zxvm-mapcount-" });
    try {
      const script = `${dir}/child.ts`;
      const mod = new URL("../mod.ts", import.meta.url).href;
      Deno.writeTextFileSync(script, MAP_COUNT_CHILD.replace("@MOD@", mod));
      const t0 = performance.now();
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-lock", "--no-config", "--no-check", "--allow-all", script],
        // No allocator tuning: zxvm's headroom must leave the runtime room to work.
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const ms = Math.round(performance.now() - t0);
      const dec = new TextDecoder();
      const stdout = dec.decode(o.stdout);
      const stderr = dec.decode(o.stderr);
      assert.equal(o.signal, null, `the child crashed (${o.signal}):\n${stderr.slice(-3000)}`);
      assert.equal(o.code, 0, `the child failed:\n${stdout}\n${stderr.slice(-3000)}`);
      const r = JSON.parse(stdout.trim().split("\n").pop() as string);

      // map failed with ErrNoMemory, as README says, at roughly half of max_map_count.
      assert.equal(r.failure.zx, true, r.failure.message);
      assert.equal(r.failure.noMemory, true, r.failure.message);
      assert.equal(r.failure.op, "zx_vmar_map");
      const total = r.n + r.ballast;
      assert.ok(
        total > 0.45 * max && total < 0.55 * max,
        `${total} live native mappings at the limit, vm.max_map_count=${max}`,
      );

      // zxvm stops VMA_HEADROOM (2048) areas short of the kernel's limit and says why.
      assert.match(r.failure.message, /vm\.max_map_count/);
      assert.ok(
        r.vmasAtFailure <= max - 1024,
        `${r.vmasAtFailure} memory areas when map failed, vm.max_map_count=${max}`,
      );
      // The failed map left nothing behind, and unmapping right away works.
      assert.equal(r.atLimit.ok, true, JSON.stringify(r.atLimit));
      assert.equal(r.listedAtLimit, r.n - 1);
      assert.equal(r.listed, r.live, "mappings() lists exactly the successful, live maps");
      assert.equal(r.live, r.n - (r.atLimit.ok ? 1 : 0));
      assert.deepEqual(
        r.survey,
        { memfdAreas: r.live, holes: 0 },
        "/proc/self/maps agrees: one memfd area per mapping, and no hole in the reservation",
      );
      assert.equal(r.readBack, true, "the mappings still read the VMO's contents");

      // With room again: map works, and every mapping unmaps.
      assert.equal(r.extraReads, 0x5a);
      assert.equal(r.unmapErrors, 0);
      assert.equal(r.listedAfter, 0);
      assert.deepEqual(r.surveyAfter, { memfdAreas: 0, holes: 0 }, "the reservation is whole");

      // The emulated backend maps past max_map_count itself.
      assert.equal(r.emulated.emuError, null);
      assert.equal(r.emulated.mapped, r.emulated.target);
      assert.equal(r.emulated.listed, r.emulated.target);
      assert.ok(r.emulated.target > max);
      assert.equal(r.emulated.listedAfter, 0);
      console.log(
        `  max_map_count=${max}: native map failed after ${r.n}+${r.ballast} mappings ` +
          `(${r.vmasAtFailure} areas; fill ${r.fillMs} ms, native total ${r.nativeMs} ms); ` +
          `emulated ${r.emulated.target} ` +
          `mappings in ${r.emulatedMs} ms; child ${ms} ms`,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
});
