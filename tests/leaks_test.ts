/**
 * Leaks (issue #7, part 4). In subprocesses (exact process-wide counts; Deno only): native
 * kernels return `/proc/self/fd` and zxvm's memfd mappings to baseline, and a handle
 * garbage-collected unclosed makes the FinalizationRegistry warn once on stderr. In process:
 * closing a kernel releases every handle, mapping and memory object, and explicit closes do too.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VmoChildOptions, ZxVmOption as O } from "../mod.ts";
import { assertNoLeaks, testKernel } from "../testing.ts";
import { isDeno, nativeSkipReason } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";

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
const skipNative = isDeno ? await nativeSkipReason() : "needs Deno";

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
