/**
 * The `zxvm/testing` kit: seeded kernels, fault injection and assertNoLeaks — and, through fault
 * injection, that a call failing for lack of resources changes no state.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  assertNoLeaks,
  FAULT_OPS,
  type FaultOp,
  LeakError,
  type TestKernel,
  testKernel,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../testing.ts";
import { leakGuard } from "./support/leaks.ts";

const P = 4096;
const RW = O.VmPermRead | O.VmPermWrite;

function statusOf(fn: () => unknown): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof ZxError) return e.status;
    throw e;
  }
}

/** The observable state of a kit kernel (what a failed call must not change). */
function state(
  k: TestKernel,
  vmos: Array<{ valid: boolean; info(): unknown; size: number }>,
): unknown {
  return {
    handles: k.handleCount,
    memories: k.liveMemories,
    mappings: k.rootVmar.mappings(),
    vmos: vmos.map((v) => (v.valid ? v.info() : null)),
  };
}

describe("zxvm/testing", () => {
  leakGuard();

  it("testKernel is deterministic: same seed, same placement and handle values", () => {
    const run = (seed: number): unknown[] => {
      using k = testKernel({ seed });
      const out: unknown[] = [];
      const vmo = k.createVmo(3 * P);
      out.push(vmo.raw, vmo.koid);
      for (let i = 0; i < 5; i++) {
        const m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
        out.push(m.addr - k.rootVmar.base);
      }
      const sub = k.rootVmar.allocate(O.VmCanMapRead, 0, 16 * P);
      out.push(sub.base - k.rootVmar.base, sub.raw);
      return out;
    };
    assert.deepEqual(run(42), run(42));
    assert.notDeepEqual(run(42), run(43));
    assert.equal(testKernel().seed, 1);
  });

  it("failNext: the next N calls fail with the chosen status, then calls succeed", () => {
    using k = testKernel({ seed: 1 });
    k.faults.failNext("createMemory", 2, ZxStatus.ErrNoMemory);
    assert.equal(k.faults.pending("createMemory"), 2);
    for (let i = 0; i < 2; i++) {
      assert.throws(
        () => k.createVmo(P),
        (e) =>
          e instanceof ZxError && e.status === ZxStatus.ErrNoMemory && e.op === "zx_vmo_create",
      );
    }
    assert.equal(k.faults.pending(), 0);
    k.createVmo(P).close();
    assert.deepEqual(k.faults.log, [
      { op: "createMemory", status: ZxStatus.ErrNoMemory },
      { op: "createMemory", status: ZxStatus.ErrNoMemory },
    ]);
    // A call that fails its argument checks does not consume a fault.
    k.faults.failNext("createMemory", 1, ZxStatus.ErrNoResources);
    assert.equal(statusOf(() => k.createVmo(2 ** 41)), ZxStatus.ErrOutOfRange);
    assert.equal(statusOf(() => k.createVmo(P)), ZxStatus.ErrNoResources);
    k.faults.failNext("map", 3);
    k.faults.clear("map");
    assert.equal(k.faults.pending(), 0);
    assert.throws(() => k.faults.failNext("nope" as FaultOp), TypeError);
    assert.throws(() => k.faults.failNext("map", -1), TypeError);
    assert.throws(() => k.faults.failNext("map", 1, 0 as ZxStatus), TypeError);
    assertNoLeaks(k);
  });

  // For each fault point: a call that reaches it, and the state it must leave unchanged.
  const triggers: Record<FaultOp, (k: TestKernel) => { call: () => unknown; vmos: never[] }> = {
    createMemory: (k) => ({ call: () => k.createVmo(P), vmos: [] }),
    resize: (k) => {
      const v = k.createVmo(P, VmoOptions.Resizable);
      return { call: () => v.setSize(3 * P), vmos: [v] as never[] };
    },
    copy: (k) => {
      const v = k.createVmo(P);
      v.write(new Uint8Array([1]), 0);
      return { call: () => v.createChild(VmoChildOptions.Snapshot, 0, P), vmos: [v] as never[] };
    },
    read: (k) => {
      const v = k.createVmo(P);
      return { call: () => v.read(4, 0), vmos: [v] as never[] };
    },
    write: (k) => {
      const v = k.createVmo(P);
      return { call: () => v.write(new Uint8Array([5]), 0), vmos: [v] as never[] };
    },
    commit: (k) => {
      const v = k.createVmo(2 * P);
      return { call: () => v.opRange(VmoOp.Commit, 0, 2 * P), vmos: [v] as never[] };
    },
    decommit: (k) => {
      const v = k.createVmo(2 * P);
      v.write(new Uint8Array([1]), 0);
      return { call: () => v.opRange(VmoOp.Decommit, 0, P), vmos: [v] as never[] };
    },
    zero: (k) => {
      const v = k.createVmo(2 * P);
      v.write(new Uint8Array([1]), 0);
      return { call: () => v.opRange(VmoOp.Zero, 0, 10), vmos: [v] as never[] };
    },
    map: (k) => {
      const v = k.createVmo(P);
      return { call: () => k.rootVmar.map(RW, 0, v, 0, P), vmos: [v] as never[] };
    },
    protect: (k) => {
      // Two mappings side by side: protect spans both (the fault hits the first piece).
      const v = k.createVmo(2 * P);
      const m = k.rootVmar.map(RW, 0, v, 0, 2 * P);
      return { call: () => k.rootVmar.protect(O.VmPermRead, m.addr, 2 * P), vmos: [v] as never[] };
    },
    unmap: (k) => {
      const v = k.createVmo(2 * P);
      const m = k.rootVmar.map(RW, 0, v, 0, 2 * P);
      return { call: () => k.rootVmar.unmap(m.addr, P), vmos: [v] as never[] };
    },
    view: (k) => {
      const v = k.createVmo(P);
      const m = k.rootVmar.map(RW, 0, v, 0, P);
      return { call: () => m.bytes(), vmos: [v] as never[] };
    },
  };

  for (const op of FAULT_OPS) {
    it(`fault in "${op}": the call fails with the injected status and changes nothing`, () => {
      using k = testKernel({ seed: 9 });
      const t = triggers[op](k);
      const before = state(k, t.vmos);
      k.faults.failNext(op, 1, ZxStatus.ErrNoMemory);
      assert.equal(statusOf(t.call), ZxStatus.ErrNoMemory);
      assert.equal(k.faults.pending(op), 0, "the fault was consumed");
      assert.deepEqual(state(k, t.vmos), before);
      assert.equal(statusOf(t.call), "ok", "the next call succeeds");
    });
  }

  it("a SPECIFIC_OVERWRITE map that fails in the backend keeps the mappings it would replace", () => {
    using k = testKernel({ seed: 11 });
    using v = k.createVmo(4 * P);
    using w = k.createVmo(4 * P);
    v.write(new Uint8Array([1, 2, 3]), 0);
    using sub = k.rootVmar.allocate(
      O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
      0,
      8 * P,
    );
    using a = sub.map(RW | O.VmSpecific, 0, v, 0, 2 * P);
    using b = sub.map(RW | O.VmSpecific, 2 * P, v, 2 * P, 2 * P);
    const viewA = a.bytes();
    const before = state(k, [v, w]);
    k.faults.failNext("map", 1, ZxStatus.ErrNoMemory);
    assert.equal(
      statusOf(() => sub.map(RW | O.VmSpecificOverwrite, P, w, 0, 2 * P)),
      ZxStatus.ErrNoMemory,
    );
    assert.deepEqual(state(k, [v, w]), before, "nothing replaced");
    assert.ok(a.alive && b.alive);
    assert.deepEqual([...a.read(0, 3)], [1, 2, 3]);
    // A failed call changes nothing: the memory is mapped back, so the view stays usable.
    assert.equal(viewA.byteLength, 2 * P, "the old view is still live");
    assert.equal(viewA[0], 1);
    assert.equal(a.bytes(), viewA, "bytes() hands out the same view");
    // The same call succeeds once the fault is gone, and replaces exactly [P, 3P).
    using m = sub.map(RW | O.VmSpecificOverwrite, P, w, 0, 2 * P);
    assert.deepEqual(
      sub.mappings().map((x) => [x.addr - sub.base, x.len, x.vmoKoid]),
      [[0, P, v.koid], [P, 2 * P, w.koid], [3 * P, P, v.koid]],
    );
    m.unmap();
    a.unmap();
    b.unmap();
  });

  it("if the old mappings cannot even be put back, the books follow the memory", () => {
    using k = testKernel({ seed: 12 });
    using v = k.createVmo(2 * P);
    using w = k.createVmo(2 * P);
    using sub = k.rootVmar.allocate(
      O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
      0,
      4 * P,
    );
    using a = sub.map(RW | O.VmSpecific, 0, v, 0, 2 * P);
    k.faults.failNext("map", 2, ZxStatus.ErrNoMemory); // the map, then the restore
    assert.equal(
      statusOf(() => sub.map(RW | O.VmSpecificOverwrite, 0, w, 0, 2 * P)),
      ZxStatus.ErrNoMemory,
    );
    assert.equal(a.alive, false, "the replaced mapping is gone, as in memory");
    assert.deepEqual(sub.mappings(), []);
    assert.equal(v.info().numMappings, 0);
  });

  it("assertNoLeaks lists open handles, mappings, sub-VMARs and memory", () => {
    using k = testKernel({ seed: 3 });
    assertNoLeaks(k);
    const vmo = k.createVmo(P);
    const m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
    const sub = k.rootVmar.allocate(O.VmCanMapRead, 0, 4 * P);
    const subBase = sub.base;
    sub.close(); // closing a VMAR handle does not free its range
    try {
      assertNoLeaks(k);
      assert.fail("expected a LeakError");
    } catch (e) {
      assert.ok(e instanceof LeakError);
      assert.equal(e.report.handles, 1);
      assert.deepEqual(e.report.mappings, [[m.addr, P]]);
      assert.equal(e.report.vmars.length, 1);
      assert.match(e.message, /1 open handle.*1 mapping.*1 sub-VMAR/);
    }
    // Expected open handles are allowed; the mapping and the sub-VMAR are still leaks.
    assert.throws(() => assertNoLeaks(k, { handles: 1 }), /1 mapping.*1 sub-VMAR/);
    m.unmap();
    k.rootVmar.unmap(subBase, 4 * P); // the root handle has OP_CHILDREN: destroys the sub-VMAR
    assertNoLeaks(k, { handles: 1 });
    vmo.close();
    assertNoLeaks(k);
  });
});
