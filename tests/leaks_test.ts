/**
 * Leaks. In subprocesses (exact process-wide counts; Deno only): native kernels return
 * `/proc/self/fd` and zxvm's memfd mappings to baseline, and a handle garbage-collected unclosed
 * makes the FinalizationRegistry warn once on stderr. In process: closing a kernel releases every
 * handle, mapping and memory object, and explicit closes do too. A native VMO's memfd stays open
 * while a mapping of it remains after its last handle closed, and closes with the last mapping
 * (followed by inode in process, and by process-wide counts in a subprocess).
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Kernel, VmoChildOptions, ZxVmOption as O } from "../mod.ts";
import { assertNoLeaks, testKernel } from "../testing.ts";
import { isDeno, nativeSkipReason } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";
import { type MemfdLifetime, memfdLifetime, type MemfdState } from "./support/leak_probe.ts";

const P = 4096;
const probe = new URL("./support/leak_probe.ts", import.meta.url).pathname;

async function runProbe(
  args: string[],
  v8flags: string[] = [],
): Promise<{ code: number; out: string; err: string }> {
  const flags = v8flags.length ? [`--v8-flags=${v8flags.join(",")}`] : [];
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ...flags, probe, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

const noDeno = isDeno ? false : "subprocess probes need Deno";

/**
 * Check what {@link memfdLifetime} saw. `fds`/`areas` are on the VMO's own memfd inode; with
 * `exact`, `allFds`/`allAreas` are the process-wide differences from the baseline, which must
 * agree (nothing else opened or mapped a memfd, and nothing was left behind).
 */
function checkMemfdLifetime(r: MemfdLifetime, exact: boolean): void {
  const at = (states: MemfdState[], step: string): MemfdState => {
    const s = states.find((x) => x.step === step);
    assert.ok(s, `no step ${step}`);
    return s;
  };
  const open = (s: MemfdState, areas: "some" | number, why: string): void => {
    assert.equal(s.fds, 1, `${why}: the memfd is open (once)`);
    if (areas === "some") assert.ok(s.areas >= 1, `${why}: the memfd is mapped`);
    else assert.equal(s.areas, areas, `${why}: memfd areas`);
    if (exact) {
      assert.equal(s.allFds, 1, `${why}: one descriptor more than the baseline`);
      assert.equal(s.allAreas, s.areas, `${why}: no other memfd areas`);
    }
  };
  const gone = (s: MemfdState, why: string): void => {
    assert.equal(s.fds, 0, `${why}: the memfd is closed`);
    assert.equal(s.areas, 0, `${why}: the memfd is no longer mapped (nor its physmap window)`);
    if (exact) {
      assert.equal(s.allFds, 0, `${why}: descriptors back to the baseline`);
      assert.equal(s.allAreas, 0, `${why}: memfd areas back to the baseline`);
    }
  };
  open(at(r.single, "created"), "some", "created and written");
  open(at(r.single, "mapped"), "some", "mapped");
  open(at(r.single, "one of two handles closed"), "some", "a duplicate handle remains");
  const last = at(r.single, "last handle closed");
  open(last, "some", "last handle closed, mapping remains");
  assert.ok(last.areas >= at(r.single, "created").areas + 1, "the mapping itself is an area");
  gone(at(r.single, "unmapped"), "unmapped");

  open(at(r.double, "handle closed"), "some", "two mappings, no handle");
  open(at(r.double, "one of two unmapped"), "some", "one mapping left");
  assert.equal(
    at(r.double, "one of two unmapped").areas,
    at(r.double, "handle closed").areas - 1,
    "the unmapped mapping's area is gone",
  );
  gone(at(r.double, "both unmapped"), "both mappings unmapped");

  open(at(r.destroy, "handle closed"), "some", "a mapping in a sub-VMAR, no handle");
  gone(at(r.destroy, "vmar destroyed"), "the sub-VMAR destroyed");

  open(at(r.kernelClose, "handle closed"), "some", "a mapping left, no handle");
  gone(at(r.kernelClose, "kernel closed"), "the kernel closed");

  for (const bytes of r.readBack) {
    assert.deepEqual(bytes.slice(0, 1), [0x7a], "the mapping still shows the VMO's contents");
  }
  assert.equal(r.readBack.length, 3);
}
const skipNative = isDeno ? nativeSkipReason() : "needs Deno";
/** In-process native checks also run on Node (the koffi binding). */
const nativeInProcess = nativeSkipReason();

describe("leaks", () => {
  leakGuard();

  it("native kernels: /proc/self/fd and memfd mappings back to baseline (subprocess)", {
    skip: skipNative ?? false,
  }, async () => {
    const r = await runProbe(["native"]);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out.trim().split("\n").pop() as string);
    assert.ok(res.peakFds > 0, "the probe really used memfds");
    assert.equal(res.fds, 0, "fds back to baseline");
    assert.equal(res.maps, 0, "memfd mappings back to baseline");
    assert.equal(res.fdsAfterUnmap, 0, "explicit close+unmap released the memfds");
  });

  it(
    "a native VMO's memfd outlives its last handle while mapped, and closes with the last mapping",
    {
      skip: nativeInProcess ?? false,
    },
    () => {
      const open = (seed: number): Kernel =>
        Kernel.open({ backend: "native", seed, rootVmarSize: 2 ** 30 });
      checkMemfdLifetime(memfdLifetime(open), false);
    },
  );

  it("the same, with process-wide /proc/self/fd and memfd-mapping counts (subprocess)", {
    skip: skipNative ?? false,
  }, async () => {
    const r = await runProbe(["memfd"]);
    assert.equal(r.code, 0, r.err);
    checkMemfdLifetime(JSON.parse(r.out.trim().split("\n").pop() as string), true);
  });

  it(
    "a handle collected unclosed warns once on stderr (subprocess)",
    { skip: noDeno },
    async () => {
      const r = await runProbe(["gc"], ["--expose-gc"]);
      assert.equal(r.code, 0, r.err);
      const warnings = r.err.split("\n").filter((l) => l.includes("garbage-collected without"));
      assert.equal(warnings.length, 1, r.err);
      assert.match(warnings[0], /Vmo handle \(0x[0-9a-f]+\)/);
      assert.equal(JSON.parse(r.out.trim()).handles, 3, "collected handles stay open");
    },
  );

  it("closing a kernel releases everything", () => {
    const k = testKernel({ seed: 4 });
    const vmo = k.createVmo(4 * P);
    vmo.createChild(VmoChildOptions.Snapshot, 0, P);
    const vmar = k.rootVmar.allocate(O.VmCanMapRead, 0, 8 * P);
    vmar.map(O.VmPermRead, 0, vmo, 0, P);
    assert.ok(k.liveMemories > 0);
    k.close();
    assert.equal(k.liveMemories, 0);
    assert.equal(k.handleCount, 0);
    assertNoLeaks(k);
  });

  it("explicit closes, unmaps and destroys release everything", () => {
    using k = testKernel({ seed: 5 });
    for (let i = 0; i < 50; i++) {
      const vmo = k.createVmo(2 * P);
      const child = vmo.createChild(VmoChildOptions.Snapshot, 0, P);
      const slice = vmo.createChild(VmoChildOptions.Slice, 0, P);
      const vmar = k.rootVmar.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 8 * P);
      const m = vmar.map(O.VmPermRead | O.VmPermWrite, 0, slice, 0, P);
      m.write(0, new Uint8Array([i]));
      vmo.close(); // the mapping (through the slice) keeps the memory
      child.close();
      slice.close();
      assert.equal(vmo.info === undefined, false);
      vmar.destroy(); // unmaps m
      vmar.close();
      assert.equal(m.alive, false);
    }
    assertNoLeaks(k);
    assert.equal(k.liveMemories, 0);
  });
});
