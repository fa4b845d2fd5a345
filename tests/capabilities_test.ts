/**
 * Capabilities as properties (issue #7, part 5): duplicate/replace never add rights; every
 * operation without its right is ACCESS_DENIED (and succeeds with it); a closed handle's value
 * never names a new object (over 1M close/create cycles); random 32-bit values are BAD_HANDLE.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Kernel,
  Rights,
  Signals,
  type Vmar,
  type Vmo,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";
import { kernelCore } from "../src/sdk/internal.ts";
import { openEmulated } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";

const P = 4096;
const ALL_RIGHTS = 0x7FFFFFFF; // every bit a handle can hold (SameRights is bit 31)

function status(fn: () => unknown): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof ZxError) return e.status;
    throw e;
  }
}

function env(name: string): string | undefined {
  try {
    if (typeof Deno !== "undefined") return Deno.env.get(name);
    return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
      name
    ];
  } catch {
    return undefined;
  }
}

/** An operation, the rights it needs, and how to run it on a handle with given rights. */
interface RightCase {
  name: string;
  /** Each right in this list is needed (removing any one of them denies). */
  needs: number[];
  run: (k: Kernel, rights: number) => unknown;
}

/** A VMO handle with exactly `rights` (a subset of the default resizable VMO rights). */
function vmoWith(k: Kernel, rights: number, opts = VmoOptions.Resizable): Vmo {
  const v = k.createVmo(2 * P, opts);
  return v.replace(v.rights & rights);
}

/** A sub-VMAR handle (CAN_MAP_RW + SPECIFIC) with exactly `rights`. */
function vmarWith(k: Kernel, rights: number): Vmar {
  const v = k.rootVmar.allocate(O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific, 0, 16 * P);
  return v.replace(v.rights & rights);
}

const rightCases: RightCase[] = [
  { name: "Vmo.read", needs: [Rights.Read], run: (k, r) => vmoWith(k, r).read(1, 0) },
  {
    name: "Vmo.write",
    needs: [Rights.Write],
    run: (k, r) => vmoWith(k, r).write(new Uint8Array(1), 0),
  },
  {
    name: "Vmo.setSize",
    needs: [Rights.Write, Rights.Resize],
    run: (k, r) => vmoWith(k, r).setSize(P),
  },
  {
    name: "Vmo.contentSize",
    needs: [Rights.GetProperty],
    run: (k, r) => vmoWith(k, r).contentSize,
  },
  {
    name: "Vmo.setContentSize",
    needs: [Rights.SetProperty],
    run: (k, r) => vmoWith(k, r).setContentSize(1),
  },
  { name: "Handle.name (get)", needs: [Rights.GetProperty], run: (k, r) => vmoWith(k, r).name },
  {
    name: "Handle.name (set)",
    needs: [Rights.SetProperty],
    run: (k, r) => {
      vmoWith(k, r).name = "x";
    },
  },
  { name: "Handle.signals", needs: [Rights.Wait], run: (k, r) => vmoWith(k, r).signals },
  {
    name: "Handle.waitOne",
    needs: [Rights.Wait],
    run: (k, r) => vmoWith(k, r).waitOne(Signals.VmoZeroChildren),
  },
  {
    name: "Handle.duplicate",
    needs: [Rights.Duplicate],
    run: (k, r) => vmoWith(k, r).duplicate(),
  },
  {
    name: "Vmo.opRange(Commit)",
    needs: [Rights.Write],
    run: (k, r) => vmoWith(k, r).opRange(VmoOp.Commit, 0, P),
  },
  {
    name: "Vmo.opRange(Decommit)",
    needs: [Rights.Write],
    run: (k, r) => vmoWith(k, r).opRange(VmoOp.Decommit, 0, P),
  },
  {
    name: "Vmo.opRange(Zero)",
    needs: [Rights.Write],
    run: (k, r) => vmoWith(k, r).opRange(VmoOp.Zero, 0, P),
  },
  {
    name: "Vmo.opRange(CacheSync)",
    needs: [Rights.Read],
    run: (k, r) => vmoWith(k, r).opRange(VmoOp.CacheSync, 0, P),
  },
  {
    name: "Vmo.opRange(CacheClean)",
    needs: [Rights.Read],
    run: (k, r) => vmoWith(k, r).opRange(VmoOp.CacheClean, 0, P),
  },
  {
    name: "Vmo.createChild",
    needs: [Rights.Duplicate, Rights.Read],
    run: (k, r) => vmoWith(k, r, VmoOptions.Default).createChild(VmoChildOptions.Snapshot, 0, P),
  },
  {
    name: "Vmar.map (VMO needs MAP)",
    needs: [Rights.Map],
    run: (k, r) => k.rootVmar.map(0, 0, vmoWith(k, r), 0, P),
  },
  {
    name: "Vmar.map PERM_READ (VMO)",
    needs: [Rights.Map, Rights.Read],
    run: (k, r) => k.rootVmar.map(O.VmPermRead, 0, vmoWith(k, r), 0, P),
  },
  {
    name: "Vmar.map PERM_READ|WRITE (VMO)",
    needs: [Rights.Map, Rights.Read, Rights.Write],
    run: (k, r) => k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmoWith(k, r), 0, P),
  },
  {
    name: "Vmar.map PERM_READ (VMAR)",
    needs: [Rights.Read],
    run: (k, r) => vmarWith(k, r).map(O.VmPermRead, 0, k.createVmo(P), 0, P),
  },
  {
    name: "Vmar.map PERM_READ|WRITE (VMAR)",
    needs: [Rights.Read, Rights.Write],
    run: (k, r) => vmarWith(k, r).map(O.VmPermRead | O.VmPermWrite, 0, k.createVmo(P), 0, P),
  },
  {
    name: "Vmar.allocate CAN_MAP_READ",
    needs: [Rights.Read],
    run: (k, r) => vmarWith(k, r).allocate(O.VmCanMapRead, 0, P),
  },
  {
    name: "Vmar.allocate CAN_MAP_READ|WRITE",
    needs: [Rights.Read, Rights.Write],
    run: (k, r) => vmarWith(k, r).allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, P),
  },
  {
    name: "Vmar.protect PERM_READ|WRITE",
    needs: [Rights.Read, Rights.Write],
    run: (k, r) => {
      const full = vmarWith(k, ALL_RIGHTS);
      const m = full.map(O.VmPermRead, 0, k.createVmo(P), 0, P);
      const h = full.duplicate(full.rights & r);
      h.protect(O.VmPermRead | O.VmPermWrite, m.addr, P);
    },
  },
  {
    name: "Vmar.destroy",
    needs: [Rights.OpChildren],
    run: (k, r) => vmarWith(k, r).destroy(),
  },
];

describe("capabilities", () => {
  leakGuard();

  it("duplicate and replace never add rights (property)", () => {
    const k = openEmulated({ seed: 3 });
    try {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 0xFFFFFFFF }), fc.nat()), {
            maxLength: 30,
          }),
          (steps) => {
            const hs: Array<Vmo | Vmar> = [
              k.createVmo(P, VmoOptions.Resizable),
              k.rootVmar.duplicate(),
            ];
            try {
              for (const [replace, rights, pick] of steps) {
                const h = hs[pick % hs.length];
                if (!h.valid) continue;
                const before = h.rights;
                let n: Vmo | Vmar | undefined;
                const s = status(() => {
                  n = replace ? h.replace(rights) : h.duplicate(rights);
                });
                if (s === "ok") {
                  const got = (n as Vmo | Vmar).rights;
                  assert.equal(got & ~before, 0, "no right added");
                  if (rights !== Rights.SameRights) assert.equal(got, rights >>> 0);
                  else assert.equal(got, before);
                  hs.push(n as Vmo | Vmar);
                } else {
                  assert.ok(
                    s === ZxStatus.ErrInvalidArgs || s === ZxStatus.ErrAccessDenied,
                    `status ${s}`,
                  );
                  // A failed request was not a subset (or DUPLICATE was missing).
                  if (s === ZxStatus.ErrInvalidArgs) {
                    assert.ok(rights !== Rights.SameRights && (rights & ~before) !== 0);
                  } else assert.equal(before & Rights.Duplicate, 0);
                }
                if (replace) assert.equal(h.valid, false, "replace consumes the handle");
              }
            } finally {
              for (const h of hs) h.close();
            }
          },
        ),
        { seed: 17, numRuns: 300 },
      );
      assert.equal(k.handleCount, 0);
    } finally {
      k.close();
    }
  });

  it("every operation without its right is ACCESS_DENIED, and works with it", () => {
    let cases = 0;
    for (const c of rightCases) {
      for (
        const [label, rights, expectDenied] of [
          ["all rights", ALL_RIGHTS, false],
          ...c.needs.map((r): [string, number, boolean] => [
            `without 0x${r.toString(16)}`,
            ALL_RIGHTS & ~r,
            true,
          ]),
          ["no rights at all", 0, true],
        ] as Array<[string, number, boolean]>
      ) {
        const k = openEmulated({ seed: 5 });
        try {
          const s = status(() => {
            const r = c.run(k, rights);
            if (r instanceof Promise) r.catch(() => {});
          });
          cases++;
          if (expectDenied) {
            assert.equal(s, ZxStatus.ErrAccessDenied, `${c.name} ${label}`);
          } else {
            assert.equal(s, "ok", `${c.name} ${label}`);
          }
        } finally {
          k.close();
        }
      }
    }
    console.log(`capabilities: ${cases} rights cases`);
  });

  it("a closed handle's value never names a new object (>= 1M close/create cycles)", () => {
    const cycles = Number(env("ZXVM_HANDLE_CYCLES") ?? 1_000_000);
    const k = openEmulated({ seed: 11 });
    try {
      const core = kernelCore(k);
      const seen = new Set<number>();
      const keep = k.createVmo(P);
      seen.add(keep.raw);
      const samples: number[] = [];
      for (let i = 0; i < cycles; i++) {
        // Alternate the ways a handle comes and goes: create/close, duplicate/close, replace.
        let raw: number;
        if (i % 3 === 0) {
          const v = k.createVmo(0);
          raw = v.raw;
          v.close();
        } else if (i % 3 === 1) {
          const d = keep.duplicate();
          raw = d.raw;
          d.close();
        } else {
          const d = keep.duplicate();
          const r = d.replace();
          assert.ok(!seen.has(d.raw));
          seen.add(d.raw);
          raw = r.raw;
          r.close();
        }
        if (seen.has(raw)) assert.fail(`value 0x${raw.toString(16)} reissued at cycle ${i}`);
        seen.add(raw);
        if (i % 65536 === 0) samples.push(raw);
      }
      // The old values stay dead.
      for (const raw of samples) {
        assert.equal(status(() => core.basicInfo(raw)), ZxStatus.ErrBadHandle);
      }
      assert.equal(k.handleCount, 1);
      keep.close();
      console.log(`capabilities: ${cycles} close/create cycles, ${seen.size} distinct values`);
    } finally {
      k.close();
    }
  });

  it("random 32-bit values are BAD_HANDLE", () => {
    const k = openEmulated({ seed: 13 });
    try {
      const core = kernelCore(k);
      const live = new Set<number>([core.rootHandle]);
      const vmo = k.createVmo(P);
      const vmar = k.rootVmar.allocate(O.VmCanMapRead, 0, P);
      live.add(vmo.raw);
      live.add(vmar.raw);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xFFFFFFFF }), (v) => {
          fc.pre(!live.has(v));
          assert.equal(status(() => core.basicInfo(v)), ZxStatus.ErrBadHandle);
          assert.equal(status(() => core.vmoRead(v, new Uint8Array(1), 0)), ZxStatus.ErrBadHandle);
          assert.equal(
            status(() => core.vmarMap(v, O.VmPermRead, 0, vmo.raw, 0, P)),
            ZxStatus.ErrBadHandle,
          );
          assert.equal(
            status(() => core.vmarMap(vmar.raw, O.VmPermRead, 0, v, 0, P)),
            ZxStatus.ErrBadHandle,
          );
          assert.equal(status(() => core.handleClose(v)), ZxStatus.ErrBadHandle);
          assert.equal(
            status(() => core.handleDuplicate(v, Rights.SameRights)),
            ZxStatus.ErrBadHandle,
          );
        }),
        { seed: 19, numRuns: 20000 },
      );
      // Values one bit away from live handles are dead too.
      for (const h of [vmo.raw, vmar.raw]) {
        for (let b = 0; b < 32; b++) {
          const v = (h ^ (1 << b)) >>> 0;
          if (!live.has(v)) assert.equal(status(() => core.basicInfo(v)), ZxStatus.ErrBadHandle);
        }
      }
      vmo.close();
      vmar.destroy();
      vmar.close();
    } finally {
      k.close();
    }
  });
});
