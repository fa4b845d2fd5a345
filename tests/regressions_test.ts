/**
 * Regressions: minimal sequences shrunk by the differential run (tests/differential_test.ts)
 * and minimal cases of bugs the reliability suites found. Each differential sequence runs on
 * emulated vs native (or emulated vs emulated without a native backend).
 *
 * To add one: a failing differential run prints its shrunk counterexample between
 * `--- paste into SEQUENCES in tests/regressions_test.ts ---` and `--- end ---`, as an entry
 * `[kernel seed, [ops…], "what"]`: paste it into `SEQUENCES` and say what it caught.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Kernel, type KernelOptions, VmoChildOptions, VmoOp, ZxVmOption as O } from "../mod.ts";
import { EmulatedBackend } from "../src/backend/emulated.ts";
import { KernelCore } from "../src/kernel/kernel.ts";
import { INTERNAL } from "../src/sdk/internal.ts";
import { assertNoLeaks, testKernel } from "../testing.ts";
import { type Opener, runPair } from "./support/differential.ts";
import { nativeSkipReason, openEmulated, openNative } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";
import type { Op } from "./support/model/ops.ts";

const P = 4096;
const emulated: Opener = (seed, rootVmarSize) => openEmulated({ seed, rootVmarSize });
const skipNative = nativeSkipReason();
const other: Opener = skipNative === null
  ? (seed, rootVmarSize) => openNative({ seed, rootVmarSize })
  : emulated;

/** Shrunk differential sequences: [kernel seed, ops, what it caught]. */
const SEQUENCES: Array<[number, Op[], string]> = [
  [
    0,
    [
      { t: "create", size: 2 * P, opts: 2 },
      { t: "map", r: 0, opts: 3, off: 0, v: 0, voff: 0, len: 2 * P },
      { t: "setSize", v: 0, size: 100 },
      { t: "mread", m: 0, off: 0, len: 200 },
      { t: "mwrite", m: 0, off: P, len: 1, byte: 7 },
      { t: "mbytes", m: 0, idx: 0, byte: 1 },
      { t: "setSize", v: 0, size: 3 * P },
      { t: "mread", m: 0, off: 0, len: 2 * P },
    ],
    "shrinking a mapped VMO: faults past the end, zeroed tail after regrowth (both backends)",
  ],
  [
    7,
    [
      { t: "create", size: 4 * P, opts: 0 },
      { t: "map", r: 0, opts: 3, off: 0, v: 0, voff: 0, len: 4 * P },
      { t: "protect", r: 0, opts: 1, at: { from: "map", i: 0, pages: 1, bytes: 0 }, len: 2 * P },
      { t: "mwrite", m: 0, off: 0, len: 3 * P, byte: 3 },
      { t: "unmap", r: 0, at: { from: "map", i: 0, pages: 2, bytes: 0 }, len: P },
      { t: "mread", m: 0, off: 0, len: 4 * P },
      { t: "mbytes", m: 0, idx: 5, byte: 5 },
    ],
    "protect/unmap splitting one mapping: per-piece faults and bytes() refusal",
  ],
];

/** An emulated kernel whose root VMAR starts at `base` (as a native reservation might). */
function emulatedAt(base: number): Opener {
  return (seed, rootVmarSize) => {
    const be = new EmulatedBackend("regression: emulated at a chosen base");
    const create = be.createAddressSpace.bind(be);
    be.createAddressSpace = (size: number) => create(size, base);
    return new Kernel(new KernelCore(be, { seed, rootVmarSize }), INTERNAL);
  };
}

describe("regressions", () => {
  leakGuard();

  // Found by the differential run (fixed seed, run 32), shrunk to 6 steps: an aligned
  // allocation (VmAlign1Mb) landed at different offsets in two kernels with the same seed.
  // Cause: FreeSpace.firstFit pruned subtrees on `size + align - page` but accepted shorter,
  // aligned spans at the node itself, so the result depended on the treap's random shape.
  it("differential: aligned placement does not depend on the treap's shape", () => {
    const ops: Op[] = [
      { t: "allocate", r: 153, opts: 448, off: 0, size: 3395584 },
      { t: "create", size: 0, opts: 0 },
      { t: "allocate", r: 63, opts: 448, off: 0, size: 245760 },
      { t: "map", r: 240, opts: 184549379, off: 0, v: 457, voff: 16384, len: 10734 },
      { t: "setSize", v: 922, size: 49152 },
      { t: "allocate", r: 960, opts: 335544512, off: 0, size: 57344 },
    ];
    runPair(ops, 615182779, emulated, emulatedAt(0x7fb3aaa00000));
    runPair(ops, 615182779, emulated, other);
  });

  for (const [seed, ops, what] of SEQUENCES) {
    it(`differential: ${what}`, () => {
      runPair(ops, seed, emulated, other);
    });
  }

  // Found by the differential run (fixed seed, 200k operations), shrunk to 6 steps: create,
  // map read+write, bytes(), vmar opRange(ZERO), write through the view, unmap — the emulated
  // VMO read 0 where native read the byte. The emulated backend commits a view's pages only
  // when the view is made; decommit/zero uncommit them, and the copies that keep committed
  // pages only (the view's detach, snapshot children) then drop what was written through the
  // view. Fixed: pages under a live view now stay committed through decommit/zero.
  it(
    "emulated: writes through a view after decommit/zero survive detach and snapshots",
    () => {
      for (const opcode of [VmoOp.Decommit, VmoOp.Zero]) {
        using k = testKernel({ seed: 3 });
        const vmo = k.createVmo(2 * P);
        const m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 2 * P);
        const view = m.bytes();
        vmo.opRange(opcode, 0, P);
        view[0] = 42;
        const snap = vmo.createChild(VmoChildOptions.Snapshot, 0, 2 * P);
        assert.equal(snap.read(1, 0)[0], 42, `snapshot after ${opcode}`);
        m.unmap();
        assert.equal(vmo.read(1, 0)[0], 42, `VMO after ${opcode} and unmap`);
        snap.close();
        vmo.close();
      }
    },
  );

  it("Kernel.open: a seed or backend of the wrong JS type is a TypeError", () => {
    for (const o of [{ seed: "1" }, { seed: {} }, { seed: null }, { backend: null }]) {
      assert.throws(() => Kernel.open(o as unknown as KernelOptions), TypeError);
    }
  });

  it("handleCount is 0 after Kernel.close (the handle table is emptied)", () => {
    const k = Kernel.open({ backend: "emulated", seed: 1 });
    k.createVmo(P);
    k.rootVmar.allocate(O.VmCanMapRead, 0, P);
    k.close();
    assert.equal(k.handleCount, 0);
  });

  it("a failed snapshot copy leaves no memory behind", () => {
    using k = testKernel({ seed: 2 });
    const vmo = k.createVmo(P);
    k.faults.failNext("copy", 1);
    assert.throws(() => vmo.createChild(VmoChildOptions.Snapshot, 0, P));
    vmo.close();
    assertNoLeaks(k);
  });
});
