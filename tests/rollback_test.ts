/**
 * A failed call changes nothing, also when the backend fails part-way through a call that
 * makes several backend calls: for map, unmap, Mapping.unmap, protect, destroy, opRange,
 * Mapping.write and setSize over ranges spanning three or more mappings, the 1st, 2nd and 3rd
 * backend call is failed in turn (`FaultInjector.failAt`) and the mappings, memory contents,
 * `info()`, live views and — on the native backend — `/proc/self/maps` are compared with the
 * state before. Also: every syscall's backend failure names that syscall, and the Zircon
 * behaviours the kernel split fixed.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  Kernel,
  type Mapping,
  Rights,
  type Vmar,
  type Vmo,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";
import { EmulatedBackend } from "../src/backend/emulated.ts";
import { openBackend } from "../src/backend/select.ts";
import type { Backend } from "../src/backend/types.ts";
import { KernelCore } from "../src/kernel/kernel.ts";
import { INTERNAL } from "../src/sdk/internal.ts";
import { FaultInjectingBackend, FaultInjector, type FaultOp } from "../src/testing/faults.ts";
import { leakGuard } from "./support/leaks.ts";

const P = 4096;
const RW = O.VmPermRead | O.VmPermWrite;
const S = ZxStatus;

/** A kernel over `inner` with fault injection. */
function faultKernel(inner: Backend): { k: Kernel; faults: FaultInjector } {
  const faults = new FaultInjector();
  const core = new KernelCore(new FaultInjectingBackend(inner, faults), {
    seed: 5,
    rootVmarSize: 2 ** 26,
  });
  return { k: new Kernel(core, INTERNAL), faults };
}

function nativeBackend(): Backend | null {
  try {
    return openBackend("native", {});
  } catch {
    return null;
  }
}

const probe = nativeBackend();
probe?.close();
const backends: Array<[string, () => Backend]> = [
  ["emulated", () => new EmulatedBackend("rollback test")],
];
if (probe !== null) backends.push(["native", () => nativeBackend() as Backend]);

/** `/proc/self/maps` inside `[lo, hi)`, adjacent areas of one kind coalesced. */
function procMaps(lo: number, hi: number): string[] {
  const out: Array<[number, number, string, number, string]> = [];
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ (\d+)/.exec(line);
    if (m === null) continue;
    const s = parseInt(m[1], 16);
    const e = parseInt(m[2], 16);
    if (e <= lo || s >= hi) continue;
    const off = parseInt(m[4], 16);
    const last = out[out.length - 1];
    if (
      last !== undefined && last[1] === s && last[2] === m[3] && last[4] === m[5] &&
      (m[5] === "0" || last[3] + (last[1] - last[0]) === off)
    ) {
      last[1] = e;
    } else out.push([s, e, m[3], off, m[5]]);
  }
  return out.map(([s, e, p, off, ino]) =>
    `${(s - lo).toString(16)}-${(e - lo).toString(16)} ${p} ${ino === "0" ? "" : off} ${ino}`
  );
}

interface Fixture {
  k: Kernel;
  faults: FaultInjector;
  native: boolean;
  vmos: Vmo[];
  maps: Mapping[];
  sub?: Vmar;
}

/** Everything a failed call must leave as it was. */
function state(f: Fixture): unknown {
  const root = f.k.rootVmar;
  return {
    mappings: root.mappings(),
    vmos: f.vmos.map((v) => ({
      bytes: [...v.read(v.size, 0)],
      info: v.info(),
      size: v.size,
      content: v.contentSize,
    })),
    alive: f.maps.map((m) => m.alive),
    handles: f.k.handleCount,
    sub: f.sub === undefined ? null : f.sub.mappings(),
    maps: f.native ? procMaps(root.base, root.base + root.len) : null,
  };
}

/** Distinct non-zero bytes in every page of a VMO (so a zero, a copy or a loss shows). */
function fill(v: Vmo, seed: number): void {
  const b = new Uint8Array(v.size);
  for (let i = 0; i < b.length; i++) b[i] = 1 + ((i * 7 + seed * 31) % 250);
  v.write(b, 0);
}

/** One scenario: a fixture, the call under test, and the backend op whose calls it fails. */
interface Scenario {
  name: string;
  syscall: string;
  fault: FaultOp;
  /** How many calls of `fault` the call makes (each is failed in turn). */
  calls: number;
  setup: (f: Fixture) => void;
  run: (f: Fixture) => void;
}

function threeMappings(f: Fixture, perms = RW): void {
  const v = f.k.createVmo(6 * P);
  fill(v, 1);
  f.vmos.push(v);
  const base = f.k.rootVmar.allocate(
    O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
    0,
    8 * P,
  );
  f.sub = base;
  for (let i = 0; i < 3; i++) {
    f.maps.push(base.map(perms | O.VmSpecific, (1 + 2 * i) * P, v, 2 * i * P, 2 * P));
  }
}

/** Three adjacent mappings of two VMOs in a sub-VMAR, each 2 pages. */
function adjacent(f: Fixture): void {
  const v = f.k.createVmo(4 * P);
  const w = f.k.createVmo(2 * P);
  fill(v, 2);
  fill(w, 3);
  f.vmos.push(v, w);
  const sub = f.k.rootVmar.allocate(
    O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
    0,
    8 * P,
  );
  f.sub = sub;
  f.maps.push(sub.map(RW | O.VmSpecific, P, v, 0, 2 * P));
  f.maps.push(sub.map(RW | O.VmSpecific, 3 * P, w, 0, 2 * P));
  f.maps.push(sub.map(RW | O.VmSpecific, 5 * P, v, 2 * P, 2 * P));
}

/** One mapping of three pages in three records (protect splits; restoring RW does not merge). */
function splitMapping(f: Fixture): void {
  const v = f.k.createVmo(3 * P);
  fill(v, 5);
  f.vmos.push(v);
  const m = f.k.rootVmar.map(RW, 0, v, 0, 3 * P);
  f.maps.push(m);
  f.k.rootVmar.protect(O.VmPermRead, m.addr + P, P);
  f.k.rootVmar.protect(RW, m.addr + P, P);
  assert.equal(f.k.rootVmar.mappings().length, 3);
}

const scenarios: Scenario[] = [
  {
    name: "Vmar.unmap over three mappings (the first and last partly)",
    syscall: "zx_vmar_unmap",
    fault: "unmap",
    calls: 3,
    setup: adjacent,
    run: (f) => f.sub!.unmap(f.sub!.base + 2 * P, 4 * P),
  },
  {
    name: "Mapping.unmap of a mapping split into three pieces",
    syscall: "zx_vmar_unmap",
    fault: "unmap",
    calls: 3,
    setup: splitMapping,
    run: (f) => f.maps[0].unmap(),
  },
  {
    name: "Vmar.protect over three mappings",
    syscall: "zx_vmar_protect",
    fault: "protect",
    calls: 3,
    setup: adjacent,
    run: (f) => f.sub!.protect(O.VmPermRead, f.sub!.base + P, 6 * P),
  },
  {
    name: "Vmar.destroy of a VMAR holding three mappings and a nested VMAR",
    syscall: "zx_vmar_destroy",
    fault: "unmap",
    calls: 3,
    setup: (f) => {
      threeMappings(f);
      const nested = f.sub!.allocate(O.VmCanMapRead | O.VmCanMapSpecific | O.VmSpecific, 7 * P, P);
      f.maps.push(nested.map(O.VmPermRead | O.VmSpecific, 0, f.vmos[0], 0, P));
    },
    run: (f) => f.sub!.destroy(),
  },
  {
    name: "Vmar.opRange(Zero) over three mappings",
    syscall: "zx_vmar_op_range",
    fault: "zero",
    calls: 3,
    setup: adjacent,
    run: (f) => f.sub!.opRange(VmoOp.Zero, f.sub!.base + P, 6 * P),
  },
  {
    name: "Vmar.opRange(Decommit) over three mappings",
    syscall: "zx_vmar_op_range",
    fault: "decommit",
    calls: 3,
    setup: adjacent,
    run: (f) => f.sub!.opRange(VmoOp.Decommit, f.sub!.base + P, 6 * P),
  },
  {
    name: "Vmar.opRange(Commit) over three mappings, partly committed",
    syscall: "zx_vmar_op_range",
    fault: "commit",
    calls: 3,
    setup: (f) => {
      adjacent(f);
      f.vmos[0].opRange(VmoOp.Decommit, P, P); // a hole the commit would fill
    },
    run: (f) => f.sub!.opRange(VmoOp.Commit, f.sub!.base + P, 6 * P),
  },
  {
    name: "Vmar.opRange(Zero): the rollback copies themselves fail",
    syscall: "zx_vmar_op_range",
    fault: "copy",
    calls: 3,
    setup: adjacent,
    run: (f) => f.sub!.opRange(VmoOp.Zero, f.sub!.base + P, 6 * P),
  },
  {
    name: "Mapping.write across three pieces of one mapping",
    syscall: "page_fault",
    fault: "write",
    calls: 3,
    setup: splitMapping,
    run: (f) => f.maps[0].write(P - 10, new Uint8Array(P + 20).fill(0xEE)),
  },
  {
    name: "Vmar.map SPECIFIC_OVERWRITE over three mappings",
    syscall: "zx_vmar_map",
    fault: "map",
    calls: 1,
    setup: adjacent,
    run: (f) => {
      const w = f.vmos[1];
      f.sub!.map(RW | O.VmSpecificOverwrite, 2 * P, w, 0, 4 * P);
    },
  },
];

describe("failed calls change nothing (fault at the Nth backend call)", () => {
  leakGuard();
  let cases = 0;
  for (const [kind, make] of backends) {
    for (const sc of scenarios) {
      for (let n = 1; n <= 3; n++) {
        it(`[${kind}] ${sc.name}: ${sc.fault} #${n} fails`, () => {
          const { k, faults } = faultKernel(make());
          const f: Fixture = { k, faults, native: kind === "native", vmos: [], maps: [] };
          try {
            sc.setup(f);
            const views = f.maps.filter((m) => (m.options & RW) === RW && m.alive).map((m) => {
              try {
                return m.bytes();
              } catch {
                return null;
              }
            });
            const before = state(f);
            faults.failAt(sc.fault, n, S.ErrNoMemory);
            let threw: unknown = null;
            try {
              sc.run(f);
            } catch (e) {
              threw = e;
            }
            if (n > sc.calls) {
              // The call makes fewer backend calls of this kind: it succeeds.
              assert.equal(threw, null, `the call makes only ${sc.calls} ${sc.fault} call(s)`);
              faults.clear();
              return;
            }
            assert.ok(threw instanceof ZxError, `expected a ZxError, got ${threw}`);
            assert.equal(threw.status, S.ErrNoMemory);
            assert.equal(threw.op, sc.syscall, "the error names the syscall served");
            assert.equal(faults.pending(), 0, "the scheduled fault was reached");
            assert.deepEqual(state(f), before, "nothing changed");
            for (const v of views) {
              if (v !== null) assert.ok(v.byteLength > 0, "live views stay live");
            }
            cases++;
            // And the same call works once the fault is gone.
            sc.run(f);
          } finally {
            k.close();
          }
        });
      }
    }
  }
  it("counted the rollback cases", () => {
    assert.ok(cases >= scenarios.length * backends.length, `${cases} cases`);
  });
});

describe("every syscall's backend failure names that syscall", () => {
  leakGuard();
  for (const [kind, make] of backends) {
    const cases: Array<[string, FaultOp, string, (k: Kernel) => void]> = [
      ["createVmo", "createMemory", "zx_vmo_create", (k) => k.createVmo(P)],
      ["read", "read", "zx_vmo_read", (k) => k.createVmo(P).read(4, 0)],
      ["write", "write", "zx_vmo_write", (k) => k.createVmo(P).write(new Uint8Array(4), 0)],
      [
        "setSize",
        "resize",
        "zx_vmo_set_size",
        (k) => k.createVmo(P, VmoOptions.Resizable).setSize(3 * P),
      ],
      ["commit", "commit", "zx_vmo_op_range", (k) => k.createVmo(P).opRange(VmoOp.Commit, 0, P)],
      ["zero", "zero", "zx_vmo_op_range", (k) => k.createVmo(P).opRange(VmoOp.Zero, 0, P)],
      ["snapshot", "copy", "zx_vmo_create_child", (k) => {
        const v = k.createVmo(P);
        v.write(new Uint8Array([1]), 0);
        v.createChild(VmoChildOptions.Snapshot, 0, P);
      }],
      [
        "content size",
        "zero",
        "zx_object_set_property",
        (k) => k.createVmo(2 * P).setContentSize(P),
      ],
      ["map", "map", "zx_vmar_map", (k) => k.rootVmar.map(RW, 0, k.createVmo(P), 0, P)],
      ["unmap", "unmap", "zx_vmar_unmap", (k) => {
        const m = k.rootVmar.map(RW, 0, k.createVmo(P), 0, P);
        k.rootVmar.unmap(m.addr, P);
      }],
      ["protect", "protect", "zx_vmar_protect", (k) => {
        const m = k.rootVmar.map(RW, 0, k.createVmo(P), 0, P);
        k.rootVmar.protect(O.VmPermRead, m.addr, P);
      }],
      ["destroy", "unmap", "zx_vmar_destroy", (k) => {
        const sub = k.rootVmar.allocate(O.VmCanMapRead, 0, 4 * P);
        sub.map(O.VmPermRead, 0, k.createVmo(P), 0, P);
        sub.destroy();
      }],
      ["vmar commit", "commit", "zx_vmar_op_range", (k) => {
        const m = k.rootVmar.map(RW, 0, k.createVmo(P), 0, P);
        k.rootVmar.opRange(VmoOp.Commit, m.addr, P);
      }],
      ["Mapping.read", "read", "page_fault", (k) => {
        k.rootVmar.map(RW, 0, k.createVmo(P), 0, P).read(0, 4);
      }],
    ];
    for (const [what, fault, syscall, run] of cases) {
      it(`[${kind}] ${what}: ${fault} failure is ${syscall}`, () => {
        const { k, faults } = faultKernel(make());
        try {
          faults.failNext(fault, 1, S.ErrNoResources);
          let threw: unknown = null;
          try {
            run(k);
          } catch (e) {
            threw = e;
          }
          assert.ok(threw instanceof ZxError, `expected a ZxError, got ${threw}`);
          assert.equal(threw.status, S.ErrNoResources);
          assert.equal(threw.op, syscall);
          assert.match(threw.reason, /injected fault/);
        } finally {
          k.close();
        }
      });
    }
  }
});

describe("Zircon behaviours fixed with the kernel split", () => {
  leakGuard();
  for (const [kind, make] of backends) {
    const open = (): Kernel => new Kernel(new KernelCore(make(), { seed: 3 }), INTERNAL);

    it(`[${kind}] setContentSize zeroes from the new content size to the VMO's end`, () => {
      using k = open();
      using v = k.createVmo(3 * P);
      fill(v, 4);
      v.setContentSize(P + 100);
      assert.equal(v.contentSize, P + 100);
      const b = v.read(3 * P, 0);
      assert.ok(b.subarray(0, P + 100).every((x) => x !== 0), "bytes below stay");
      assert.ok(b.subarray(P + 100).every((x) => x === 0), "bytes from there are zero");
      v.setContentSize(5 * P); // beyond the size: kept, nothing to zero
      assert.equal(v.contentSize, 5 * P);
    });

    it(`[${kind}] create_child copies the name when the handle has GET_PROPERTY`, () => {
      using k = open();
      using v = k.createVmo(P);
      v.name = "parent-name";
      using c = v.createChild(VmoChildOptions.Snapshot, 0, P);
      assert.equal(c.name, "parent-name");
      using s = v.createChild(VmoChildOptions.Slice, 0, P);
      assert.equal(s.name, "parent-name");
      using noProp = v.duplicate(Rights.Duplicate | Rights.Read | Rights.Map);
      using c2 = noProp.createChild(VmoChildOptions.Snapshot, 0, P);
      assert.equal(c2.name, "", "without GET_PROPERTY the child is unnamed");
    });

    it(`[${kind}] a child's accumulated offset may not overflow (NoAccumulatedOverflow)`, () => {
      using k = open();
      using v = k.createVmo(0);
      using c1 = v.createChild(VmoChildOptions.Snapshot, 0xffffffffffff8000n, 0);
      for (const [off, size] of [[0x8000, 0], [0x4000, 0x4000]]) {
        assert.throws(
          () => c1.createChild(VmoChildOptions.Snapshot, off, size),
          (e: unknown) => e instanceof ZxError && e.status === S.ErrInvalidArgs,
        );
      }
      assert.equal(k.handleCount, 2, "nothing was created");
    });

    it(`[${kind}] allocate accepts and ignores PERM_READ_IF_XOM_UNSUPPORTED`, () => {
      using k = open();
      using sub = k.rootVmar.allocate(O.VmCanMapRead | O.VmPermReadIfXomUnsupported, 0, 4 * P);
      assert.equal(sub.len, 4 * P);
      assert.equal(sub.rights & Rights.Write, 0);
      sub.destroy();
    });

    it(`[${kind}] setting a VMAR's name is ErrAccessDenied (no SET_PROPERTY)`, () => {
      using k = open();
      using sub = k.rootVmar.allocate(O.VmCanMapRead, 0, 4 * P);
      assert.throws(
        () => {
          sub.name = "x";
        },
        (e: unknown) => e instanceof ZxError && e.status === S.ErrAccessDenied,
      );
      sub.destroy();
    });
  }
});
