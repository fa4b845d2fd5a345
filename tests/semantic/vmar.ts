/**
 * `Vmar`: allocate, unmap, protect, destroy, opRange, mappings, base/len — with Zircon's order
 * of checks — and the ported T-vmar cases.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Mapping, Rights, Vmar, VmoChildOptions, VmoOp, ZxStatus } from "../../mod.ts";
import {
  CMRW,
  CMRWX,
  ctz,
  expectStatus,
  le32,
  mappedPattern,
  O,
  P,
  probe,
  RW,
  RWX,
  type SuiteContext,
  TWO64,
  u32le,
  withKernel,
} from "./helpers.ts";

const S = ZxStatus;
const CMS = O.VmCanMapSpecific;
const ALLOC = "zx_vmar_allocate";
const UNMAP = "zx_vmar_unmap";
const PROTECT = "zx_vmar_protect";
const DESTROY = "zx_vmar_destroy";
const OPRANGE = "zx_vmar_op_range";
const GiB = 2 ** 30;

/** Call a `Vmar.prototype` method with a receiver that is not a VMAR. */
function vmarCall(method: keyof Vmar, receiver: unknown, ...args: unknown[]): unknown {
  return Reflect.apply(Vmar.prototype[method] as (...a: unknown[]) => unknown, receiver, args);
}

/** Register the VMAR tests. */
export function vmarTests(t: SuiteContext): void {
  describe("zx_vmar_allocate", () => {
    it("returns a page-aligned child inside the parent with the requested length", () => {
      withKernel(t, (k) => {
        using sub = k.rootVmar.allocate(CMRW, 0, 10 * P);
        assert.ok(sub instanceof Vmar);
        assert.equal(sub.type, "vmar");
        assert.equal(sub.len, 10 * P);
        assert.equal(sub.base % P, 0);
        assert.ok(sub.base > 0);
        const root = k.rootVmar;
        assert.ok(sub.base >= root.base && sub.base + sub.len <= root.base + root.len);
      });
    });

    it("VmSpecific places at base + offset; VmCompact and alignment are honoured", () => {
      withKernel(t, (k) => {
        using r = k.rootVmar.allocate(CMRW | CMS, 0, 64 * P);
        using a = r.allocate(CMRW | O.VmSpecific, 8 * P, 4 * P);
        assert.equal(a.base, r.base + 8 * P);
        using c = k.rootVmar.allocate(CMRW | O.VmCompact, 0, 16 * P);
        assert.equal(c.len, 16 * P);
        using al = k.rootVmar.allocate(CMRW | O.VmAlign1Mb, 0, 4 * P);
        assert.equal(al.base % (1 << 20), 0);
        using ul = r.allocate(CMRW | O.VmOffsetIsUpperLimit, 8 * P, 8 * P);
        assert.equal(ul.base, r.base, "the only free spot below the limit");
      });
    });

    it("CAN_MAP_SPECIFIC on the child does not require it on the parent", () => {
      withKernel(t, (k) => {
        using p = k.rootVmar.allocate(CMRW, 0, 16 * P);
        using c = p.allocate(CMRW | CMS, 0, 4 * P);
        using vmo = k.createVmo(P);
        using m = c.map(RW | O.VmSpecific, 2 * P, vmo, 0, P);
        assert.equal(m.addr, c.base + 2 * P);
      });
    });

    it("errors: rights, options, size, offset, bounds, overlap, room", () => {
      withKernel(t, (k) => {
        using r = k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
        using noCMS = k.rootVmar.allocate(CMRW, 0, 16 * P);
        using rOnly = k.rootVmar.allocate(O.VmCanMapRead | CMS, 0, 16 * P);
        expectStatus(() => rOnly.allocate(O.VmCanMapWrite, 0, P), S.ErrAccessDenied, ALLOC);
        expectStatus(
          () => noCMS.allocate(CMRW | O.VmCanMapExecute, 0, P),
          S.ErrAccessDenied,
          ALLOC,
        );
        expectStatus(() => r.allocate(CMRW | (1 << 23), 0, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW | (9 << 24), 0, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW | O.VmPermRead, 0, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW | O.VmSpecificOverwrite, P, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW | O.VmMapRange, 0, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(
          () => r.allocate(CMRW | O.VmRequireNonResizable, 0, P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        expectStatus(() => r.allocate(CMRW, 0, P + 1), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW, 0, 0), S.ErrInvalidArgs, ALLOC);
        expectStatus(
          () => r.allocate(CMRW | O.VmSpecific | O.VmOffsetIsUpperLimit, P, P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        expectStatus(() => r.allocate(CMRW, P, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW | O.VmSpecific, P + 1, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => noCMS.allocate(CMRW | O.VmSpecific, P, P), S.ErrAccessDenied, ALLOC);
        expectStatus(
          () => noCMS.allocate(CMRW | O.VmOffsetIsUpperLimit, 4 * P, P),
          S.ErrAccessDenied,
          ALLOC,
        );
        expectStatus(() => r.allocate(CMRW | O.VmSpecific, 16 * P, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r.allocate(CMRW, 0, 17 * P), S.ErrInvalidArgs, ALLOC);
        expectStatus(
          () => r.allocate(CMRW | O.VmOffsetIsUpperLimit, 17 * P, P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        expectStatus(
          () => r.allocate(CMRW | O.VmOffsetIsUpperLimit, 2 * P, 3 * P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        const misaligned = (r.base + P) % 65536 !== 0 ? P : 2 * P;
        expectStatus(
          () => r.allocate(CMRW | O.VmSpecific | O.VmAlign64Kb, misaligned, P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        using a = r.allocate(CMRW | O.VmSpecific, 4 * P, 4 * P);
        expectStatus(
          () => r.allocate(CMRW | O.VmSpecific, 6 * P, 4 * P),
          S.ErrAlreadyExists,
          ALLOC,
        );
        using b = r.allocate(CMRW, 0, 8 * P);
        expectStatus(() => r.allocate(CMRW, 0, 5 * P), S.ErrNoResources, ALLOC);
        assert.ok(a.valid && b.valid);
      });
    });

    it("order: rights before options; option and size checks before BAD_STATE; BAD_STATE before size 0", () => {
      withKernel(t, (k) => {
        using noWrite = k.rootVmar.duplicate(Rights.DefaultVmar | Rights.Read);
        expectStatus(() => noWrite.allocate(CMRW | (1 << 23), 0, 0), S.ErrAccessDenied, ALLOC);
        using d = k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
        d.destroy();
        expectStatus(() => d.allocate(CMRW | (1 << 23), 0, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => d.allocate(CMRW | O.VmPermRead, 0, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => d.allocate(CMRW, 0, P - 1), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => d.allocate(CMRW, 0, 0), S.ErrBadState, ALLOC);
        expectStatus(() => d.allocate(CMRW, P, P), S.ErrBadState, ALLOC);
        // Offset rules come before CAN_MAP_SPECIFIC, which comes before bounds.
        using n = k.rootVmar.allocate(CMRW, 0, 16 * P);
        expectStatus(() => n.allocate(CMRW | O.VmSpecific, P + 1, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => n.allocate(CMRW | O.VmSpecific, 100 * P, P), S.ErrAccessDenied, ALLOC);
      });
    });

    it("T-vmar BasicAllocateTest", () => {
      withKernel(t, (k) => {
        using r1 = k.rootVmar.allocate(CMRW, 0, 10 * P);
        using r2 = r1.allocate(CMRW, 0, P);
        assert.ok(r1.base <= r2.base);
        assert.ok(r2.base + P <= r1.base + 10 * P);
      });
    });

    it("T-vmar AllocateOobTest", () => {
      withKernel(t, (k) => {
        using r1 = k.rootVmar.allocate(CMRW | CMS, 0, 10 * P);
        expectStatus(() => r1.allocate(CMRW | O.VmSpecific, 10 * P, P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => r1.allocate(CMRW | O.VmSpecific, 9 * P, 2 * P), S.ErrInvalidArgs, ALLOC);
      });
    });

    it("T-vmar AllocateUnsatisfiableTest", () => {
      withKernel(t, (k) => {
        using r1 = k.rootVmar.allocate(CMRW | CMS, 0, 10 * P);
        expectStatus(() => r1.allocate(CMRW, 0, 11 * P), S.ErrInvalidArgs, ALLOC);
        using r2 = r1.allocate(CMRW, 0, 10 * P);
        assert.equal(r2.base, r1.base);
        expectStatus(() => r1.allocate(CMRW, 0, P), S.ErrNoResources, ALLOC);
      });
    });

    it("T-vmar ObjectInfoTest", () => {
      withKernel(t, (k) => {
        using r = k.rootVmar.allocate(CMRW, 0, 10 * P);
        assert.equal(r.len, 10 * P);
        using d = r.duplicate();
        assert.equal(d.base, r.base);
        assert.equal(d.len, r.len);
      });
    });

    it("T-vmar AlignmentVmarAllocateTest", () => {
      withKernel(t, (k) => {
        const root = k.rootVmar;
        const span = 8 * GiB;
        const aligned = Math.ceil(root.base / span) * span;
        assert.ok(aligned + span <= root.base + root.len, "the root VMAR holds an aligned 8 GiB");
        using v = root.allocate(CMRW | CMS | O.VmSpecific, aligned - root.base, span);
        expectStatus(
          () => v.allocate(CMRW | O.VmAlign64Kb | O.VmSpecific, 4096, 16 * P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        using ok = v.allocate(CMRW | O.VmAlign64Kb | O.VmSpecific, 65536, 16 * P);
        assert.equal(ok.base, v.base + 65536);
        ok.destroy();
        expectStatus(() => v.allocate(CMRW | (9 << 24), 0, 16 * P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => v.allocate(CMRW | (33 << 24), 0, 16 * P), S.ErrInvalidArgs, ALLOC);
        for (let n = 10; n <= 32; n++) {
          const c = v.allocate(CMRW | (n << 24) >>> 0, 0, 16 * P);
          assert.ok(ctz(c.base) >= n, `ALIGN ${n}: base 0x${c.base.toString(16)}`);
          c.destroy();
          c.close();
        }
      });
    });
  });

  describe("zx_vmar_map: ported T-vmar cases", () => {
    it("T-vmar MapInCompactTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using r = k.rootVmar.allocate(CMRW | O.VmCompact, 0, 10 * P);
        using a = r.map(RW, 0, vmo, 0, P);
        using b = r.map(RW, 0, vmo, 0, P);
        for (const m of [a, b]) assert.ok(m.addr >= r.base && m.addr + P <= r.base + 10 * P);
      });
    });

    it("T-vmar MapInUpperLimitTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(100 * P);
        using p = k.rootVmar.allocate(CMRW | CMS, 0, 100 * P);
        const opts = RW | O.VmOffsetIsUpperLimit;
        expectStatus(() => p.map(opts, 101 * P, vmo, 0, P), S.ErrInvalidArgs, "zx_vmar_map");
        expectStatus(() => p.map(opts, P, vmo, 0, 2 * P), S.ErrInvalidArgs, "zx_vmar_map");
        expectStatus(() => p.map(opts, P, vmo, 0, 101 * P), S.ErrInvalidArgs, "zx_vmar_map");
        const whole = p.map(opts, 100 * P, vmo, 0, 100 * P);
        assert.equal(whole.addr, p.base);
        p.unmap(whole.addr, 100 * P);
        for (let i = 0; i < 50; i++) {
          const m = p.map(opts, 50 * P, vmo, 0, P);
          assert.ok(m.addr >= p.base && m.addr <= p.base + 49 * P, `map ${i}`);
        }
        expectStatus(() => p.map(opts, 50 * P, vmo, 0, P), S.ErrNoResources, "zx_vmar_map");
        const any = p.map(RW, 0, vmo, 0, P);
        assert.ok(any.addr >= p.base + 50 * P && any.addr < p.base + 100 * P);
      });
    });

    it("T-vmar AlignmentVmarMapTest", () => {
      withKernel(t, (k) => {
        const root = k.rootVmar;
        const span = 8 * GiB;
        const aligned = Math.ceil(root.base / span) * span;
        assert.ok(aligned + span <= root.base + root.len, "the root VMAR holds an aligned 8 GiB");
        using v = root.allocate(CMRW | CMS | O.VmSpecific, aligned - root.base, span);
        using vmo = k.createVmo(2 * P);
        expectStatus(
          () => v.map(RW | O.VmAlign64Kb | O.VmSpecific, 4096, vmo, 0, 2 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        using ok = v.map(RW | O.VmAlign64Kb | O.VmSpecific, 65536, vmo, 0, 2 * P);
        assert.equal(ok.addr, v.base + 65536);
        ok.unmap();
        expectStatus(
          () => v.map(RW | (9 << 24), 0, vmo, 0, 2 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        expectStatus(
          () => v.map(RW | (33 << 24), 0, vmo, 0, 2 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        for (let n = 10; n <= 32; n++) {
          const m = v.map(RW | (n << 24) >>> 0, 0, vmo, 0, 2 * P);
          assert.ok(ctz(m.addr) >= n, `ALIGN ${n}: addr 0x${m.addr.toString(16)}`);
          m.unmap();
        }
      });
    });

    it("T-vmar VmarMapRangeOffsetTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using m = k.rootVmar.map(O.VmMapRange, 0, vmo, 0x2000, 0x1000);
        assert.ok(m.alive);
        assert.equal(k.rootVmar.mappings()[0].vmoOffset, 0x2000);
      });
    });

    it("T-vmar OvermappingTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using vmo2 = k.createVmo(4 * P);
        using r0 = k.rootVmar.allocate(CMRW | CMS, 0, 10 * P);
        const m = r0.map(RW | O.VmSpecific, P, vmo, 0, 2 * P);
        const off = m.addr - r0.base;
        for (const len of [2 * P, P, 4 * P]) {
          expectStatus(
            () => r0.map(RW | O.VmSpecific, off, vmo2, 0, len),
            S.ErrAlreadyExists,
            "zx_vmar_map",
          );
        }
        expectStatus(() => r0.allocate(CMRW | O.VmSpecific, off, P), S.ErrAlreadyExists, ALLOC);
        r0.unmap(m.addr, 2 * P);
        using r1 = r0.allocate(CMRW | O.VmSpecific, P, 2 * P);
        const off1 = r1.base - r0.base;
        for (const len of [2 * P, P, 4 * P]) {
          expectStatus(
            () => r0.map(RW | O.VmSpecific, off1, vmo2, 0, len),
            S.ErrAlreadyExists,
            "zx_vmar_map",
          );
        }
        expectStatus(() => r0.allocate(CMRW | O.VmSpecific, off1, P), S.ErrAlreadyExists, ALLOC);
      });
    });

    it("T-vmar InvalidArgsTest", () => {
      withKernel(t, (k) => {
        const root = k.rootVmar;
        using vmo = k.createVmo(4 * P);
        const p = BigInt(P);
        // Wrong handle types.
        expectStatus(() => vmarCall("destroy", vmo), S.ErrWrongType, DESTROY);
        expectStatus(() => vmarCall("allocate", vmo, CMRW, 0, 10 * P), S.ErrWrongType, ALLOC);
        expectStatus(
          () => vmarCall("map", vmo, RW, 0, vmo, 0, 4 * P),
          S.ErrWrongType,
          "zx_vmar_map",
        );
        expectStatus(() => vmarCall("unmap", vmo, 0, 0), S.ErrWrongType, UNMAP);
        expectStatus(() => vmarCall("protect", vmo, O.VmPermRead, 0, 0), S.ErrWrongType, PROTECT);
        // Non-zero offset without SPECIFIC / UPPER_LIMIT.
        expectStatus(() => root.allocate(CMRW, P, 10 * P), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => root.map(RW, P, vmo, 0, 4 * P), S.ErrInvalidArgs, "zx_vmar_map");
        // SPECIFIC(_OVERWRITE) together with UPPER_LIMIT.
        for (const sp of [O.VmSpecific, O.VmSpecificOverwrite]) {
          expectStatus(
            () => root.allocate(CMRW | sp | O.VmOffsetIsUpperLimit, P, 10 * P),
            S.ErrInvalidArgs,
            ALLOC,
          );
          expectStatus(
            () => root.map(RW | sp | O.VmOffsetIsUpperLimit, P, vmo, 0, 4 * P),
            S.ErrInvalidArgs,
            "zx_vmar_map",
          );
        }
        expectStatus(
          () => root.allocate(O.VmCanMapRead | O.VmPermRead, P, 10 * P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        expectStatus(
          () => root.map(O.VmPermRead | O.VmSpecificOverwrite | O.VmMapRange, P, vmo, 0, 4 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        // Misaligned sizes and offsets.
        expectStatus(() => root.allocate(CMRW, 0, P - 1), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => root.allocate(CMRW | CMS, P - 1, P), S.ErrInvalidArgs, ALLOC);
        for (const mr of [0, O.VmMapRange]) {
          expectStatus(
            () => root.map(RW | O.VmSpecific | mr, P - 1, vmo, 0, 4 * P),
            S.ErrInvalidArgs,
            "zx_vmar_map",
          );
          expectStatus(
            () => root.map(RW | O.VmSpecific | mr, P, vmo, P - 1, 3 * P),
            S.ErrInvalidArgs,
            "zx_vmar_map",
          );
          expectStatus(
            () => root.map(RW | mr, 0, vmo, P - 1, 3 * P),
            S.ErrInvalidArgs,
            "zx_vmar_map",
          );
        }
        const m = root.map(RW, 0, vmo, 0, 4 * P);
        expectStatus(() => root.unmap(m.addr + 1, P), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => root.protect(O.VmPermRead, m.addr + 1, P), S.ErrInvalidArgs, PROTECT);
        root.unmap(m.addr, 4 * P);
        // vmo_offset + len overflow.
        expectStatus(() => root.map(RW, 0, vmo, TWO64 - p, P), S.ErrOutOfRange, "zx_vmar_map");
        const beyond = root.map(RW, 0, vmo, TWO64 - 2n * p, P);
        root.unmap(beyond.addr, P);
        // Zero sizes.
        expectStatus(() => root.allocate(CMRW, 0, 0), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => root.map(RW, 0, vmo, 0, 0), S.ErrInvalidArgs, "zx_vmar_map");
        const m2 = root.map(RW, 0, vmo, 0, 4 * P);
        expectStatus(() => root.unmap(m2.addr, 0), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => root.protect(O.VmPermRead, m2.addr, 0), S.ErrInvalidArgs, PROTECT);
        root.unmap(m2.addr, 4 * P);
        // Sizes that round up to zero.
        const badSize = TWO64 - p + 2n;
        expectStatus(() => root.allocate(CMRW, 0, badSize), S.ErrInvalidArgs, ALLOC);
        expectStatus(() => root.map(RW, 0, vmo, 0, badSize), S.ErrOutOfRange, "zx_vmar_map");
        expectStatus(
          () => root.map(O.VmPermRead | O.VmMapRange, 0, vmo, 0, badSize),
          S.ErrOutOfRange,
          "zx_vmar_map",
        );
        const m3 = root.map(RW | O.VmSpecific, P, vmo, 0, 4 * P);
        for (const a of [m3.addr - P, m3.addr, m3.addr + P]) {
          expectStatus(() => root.protect(O.VmPermRead, a, badSize), S.ErrInvalidArgs, PROTECT);
          expectStatus(() => root.unmap(a, badSize), S.ErrInvalidArgs, UNMAP);
        }
        assert.ok(m3.alive);
        // Invalid option bits.
        expectStatus(() => root.allocate(O.VmPermRead | CMRW, 0, 4 * P), S.ErrInvalidArgs, ALLOC);
        expectStatus(
          () => root.allocate(O.VmCanMapRead | (1 << 31) >>> 0, 0, 4 * P),
          S.ErrInvalidArgs,
          ALLOC,
        );
        expectStatus(
          () => root.map(RW | O.VmCanMapExecute, 0, vmo, 0, 4 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        expectStatus(
          () => root.map((RW | (1 << 31)) >>> 0, 0, vmo, 0, 4 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        expectStatus(
          () => root.protect(O.VmPermRead | O.VmCanMapWrite, m3.addr, 4 * P),
          S.ErrInvalidArgs,
          PROTECT,
        );
        expectStatus(
          () => root.protect((O.VmPermRead | (1 << 31)) >>> 0, m3.addr, 4 * P),
          S.ErrInvalidArgs,
          PROTECT,
        );
        root.unmap(m3.addr, 4 * P);
        assert.equal(root.mappings().length, 0);
      });
    });

    it("T-vmo Map", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
        assert.ok(m.addr !== 0);
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmSpecific, TWO64 - 1n, vmo, 0, P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
      });
    });

    it("T-vmar UnalignedLenMapTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        for (const mr of [0, O.VmMapRange]) {
          const m = k.rootVmar.map(O.VmPermRead | mr, 0, vmo, 0, 4 * P - 1);
          assert.equal(probe(m, m.addr + 3 * P), "ok");
          k.rootVmar.unmap(m.addr, 4 * P - 1);
          assert.equal(probe(m, m.addr + 3 * P), "ZX_ERR_NOT_FOUND");
        }
      });
    });

    it("T-vmar MapSpecificOverwriteTest", () => {
      withKernel(t, (k) => {
        const root = k.rootVmar;
        using vmo = k.createVmo(8 * P);
        using vmo2 = k.createVmo(8 * P);
        for (let i = 0; i < 4; i++) {
          vmo.write(new Uint8Array([1]), i * P);
          vmo2.write(new Uint8Array([2]), i * P);
        }
        const m = root.map(RW | O.VmSpecific, P, vmo, 0, 4 * P);
        expectStatus(
          () => root.map(RW | O.VmSpecific, P, vmo2, 0, 4 * P),
          S.ErrAlreadyExists,
          "zx_vmar_map",
        );
        const m2 = root.map(RW | O.VmSpecificOverwrite, P, vmo2, 0, 4 * P);
        assert.equal(m2.addr, m.addr);
        // Each page read through the newest mapping covering it (a Mapping reaches only its
        // own memory: the replaced one faults there).
        const live = [m, m2];
        const pages = (): number[] =>
          [0, 1, 2, 3].map((i) => {
            const a = m.addr + i * P;
            const c = live.findLast((x) => a >= x.addr && a < x.addr + x.len)!;
            return c.read(a - c.addr, 1)[0];
          });
        assert.deepEqual(pages(), [2, 2, 2, 2]);
        expectStatus(() => m.read(0, 1), S.ErrNotFound, "page_fault");
        const m3 = root.map(RW | O.VmSpecificOverwrite, 2 * P, vmo, 0, 2 * P);
        live.push(m3);
        assert.equal(m3.addr, m.addr + P);
        assert.deepEqual(pages(), [2, 1, 1, 2]);
        using s = root.allocate(CMRW | O.VmSpecific, 5 * P, 4 * P);
        expectStatus(
          () => root.map(RW | O.VmSpecificOverwrite, P, vmo2, 0, 8 * P),
          S.ErrInvalidArgs,
          "zx_vmar_map",
        );
        assert.deepEqual(pages(), [2, 1, 1, 2], "a failed overwrite changes nothing");
        root.unmap(m.addr, 8 * P);
        expectStatus(() => s.map(RW, 0, vmo, 0, P), S.ErrBadState, "zx_vmar_map");
        assert.equal(root.mappings().length, 0);
      });
    });
  });

  describe("zx_vmar_unmap", () => {
    it("errors and order: WRONG_TYPE, unaligned addr and len 0 before BAD_STATE, then bounds", () => {
      withKernel(t, (k) => {
        using r = k.rootVmar.allocate(CMRW, 0, 8 * P);
        const base = r.base;
        expectStatus(() => r.unmap(base + 1, P), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => r.unmap(base, 0), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => r.unmap(base + 8 * P, P), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => r.unmap(base - P, 2 * P), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => r.unmap(base + 7 * P, 2 * P), S.ErrInvalidArgs, UNMAP);
        r.unmap(base, 8 * P); // nothing mapped: OK
        r.destroy();
        expectStatus(() => r.unmap(base + 1, P), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => r.unmap(base, 0), S.ErrInvalidArgs, UNMAP);
        expectStatus(() => r.unmap(base, P), S.ErrBadState, UNMAP);
        expectStatus(() => r.unmap(0, P), S.ErrBadState, UNMAP);
      });
    });

    it("needs no rights; a partly covered mapping is split; the Mapping reports alive", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using none = k.rootVmar.duplicate(Rights.None);
        const m = k.rootVmar.map(RW, 0, vmo, 0, 4 * P);
        none.unmap(m.addr + P, P);
        assert.equal(mappedPattern(m, m.addr, 4), 0b1101);
        assert.ok(m.alive);
        const infos = k.rootVmar.mappings();
        assert.deepEqual(
          infos.map((i) => [i.addr - m.addr, i.len, i.vmoOffset]),
          [[0, P, 0], [2 * P, 2 * P, 2 * P]],
        );
        assert.equal(vmo.info().numMappings, 2);
        none.unmap(m.addr, 4 * P);
        assert.equal(m.alive, false);
      });
    });

    it("T-vmar UnalignedLenTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        const m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, 4 * P);
        k.rootVmar.protect(RW, m.addr, 4 * P - 1);
        assert.equal(probe(m, m.addr + 3 * P, "write"), "ok");
        k.rootVmar.unmap(m.addr, 4 * P - 1);
        assert.equal(probe(m, m.addr + 3 * P), "ZX_ERR_NOT_FOUND");
      });
    });

    it("T-vmar UnmapSplitTest", () => {
      withKernel(t, (k) => {
        const root = k.rootVmar;
        using vmo = k.createVmo(4 * P);
        const ms: Mapping[] = [0, 1, 2].map(() => root.map(RW, 0, vmo, 0, 4 * P));
        const [m0, m1, m2] = ms;
        root.unmap(m0.addr, 2 * P);
        assert.equal(mappedPattern(m0, m0.addr, 4), 0b1100);
        root.unmap(m0.addr + 2 * P, 2 * P);
        assert.equal(mappedPattern(m0, m0.addr, 4), 0b0000);
        root.unmap(m1.addr + 2 * P, 2 * P);
        assert.equal(mappedPattern(m1, m1.addr, 4), 0b0011);
        root.unmap(m1.addr, 2 * P);
        assert.equal(mappedPattern(m1, m1.addr, 4), 0b0000);
        root.unmap(m2.addr + P, 2 * P);
        assert.equal(mappedPattern(m2, m2.addr, 4), 0b1001);
        root.unmap(m2.addr, P);
        root.unmap(m2.addr + 3 * P, P);
        assert.equal(mappedPattern(m2, m2.addr, 4), 0b0000);
        for (const m of ms) {
          const again = root.map(RW | O.VmSpecific, m.addr - root.base, vmo, 0, 4 * P);
          assert.equal(again.addr, m.addr);
        }
      });
    });

    it("T-vmar UnmapMultipleTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        const region = (): Vmar => k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
        // (a) two adjacent mappings.
        {
          using r = region();
          const a = r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          const b = r.map(RW | O.VmSpecific, 4 * P, vmo, 0, 4 * P);
          r.unmap(a.addr + 2 * P, 3 * P);
          assert.equal(mappedPattern([a, b], r.base, 8), 0b1110_0011);
        }
        // (b) a gap between them.
        {
          using r = region();
          const a = r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          const b = r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          r.unmap(a.addr, 9 * P);
          assert.equal(mappedPattern([a, b], r.base, 12), 0b1110_0000_0000);
        }
        // (c) a sub-VMAR fully inside the range is destroyed.
        {
          using r = region();
          const a = r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          using s = r.allocate(CMRW | CMS | O.VmSpecific, 4 * P, 4 * P);
          const inS = s.map(RW, 0, vmo, 0, P);
          r.unmap(a.addr, 9 * P);
          expectStatus(() => s.map(RW, 0, vmo, 0, P), S.ErrBadState, "zx_vmar_map");
          assert.equal(inS.alive, false);
        }
        // (d) a sub-VMAR partly covered: INVALID_ARGS and nothing changes.
        {
          using r = region();
          const a = r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          const b = r.map(RW | O.VmSpecific, 4 * P, vmo, 0, 4 * P);
          using s = r.allocate(CMRW | CMS | O.VmSpecific, 8 * P, 4 * P);
          const c = s.map(RW, 0, vmo, 0, P);
          expectStatus(() => r.unmap(a.addr + P, 10 * P), S.ErrInvalidArgs, UNMAP);
          assert.equal(mappedPattern([a, b, c], r.base, 8), 0xFF);
          assert.ok(c.alive);
          r.unmap(a.addr + P, 11 * P);
          assert.equal(mappedPattern([a, b], r.base, 8), 0b1);
          assert.equal(c.alive, false);
        }
        // (e) the sub-VMAR at the start.
        {
          using r = region();
          using s = r.allocate(CMRW | CMS | O.VmSpecific, 0, 4 * P);
          const c = s.map(RW | O.VmSpecific, 3 * P, vmo, 0, P);
          const a = r.map(RW | O.VmSpecific, 4 * P, vmo, 0, 4 * P);
          const b = r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          expectStatus(() => r.unmap(s.base + P, 11 * P), S.ErrInvalidArgs, UNMAP);
          assert.ok(c.alive && a.alive && b.alive);
          r.unmap(s.base, 12 * P);
          assert.ok(!c.alive && !a.alive && !b.alive);
        }
      });
    });

    it("T-vmar UnmapBaseNotMappedTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        {
          using r = k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
          const m = r.map(RW | O.VmSpecific, P, vmo, 0, 4 * P);
          r.unmap(m.addr - P, 5 * P);
          assert.equal(m.alive, false);
        }
        for (const gap of [P, 2 * P]) {
          using r = k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
          const first = r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          const m = r.map(RW | O.VmSpecific, 4 * P + gap, vmo, 0, 4 * P);
          r.unmap(m.addr - P, 5 * P);
          assert.equal(m.alive, false);
          assert.equal(mappedPattern(first, first.addr, 4), 0b1111);
        }
      });
    });

    it("T-vmar UnmapOpChildren", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using v = k.rootVmar.allocate(CMRW, 0, P);
        using c = v.allocate(CMRW, 0, P);
        const m = c.map(RW, 0, vmo, 0, P);
        using d = v.duplicate(Rights.DefaultVmar & ~Rights.OpChildren);
        expectStatus(() => d.unmap(v.base, P), S.ErrInvalidArgs, UNMAP);
        assert.ok(m.alive);
        v.unmap(v.base, P);
        assert.equal(m.alive, false);
        expectStatus(() => c.map(RW, 0, vmo, 0, P), S.ErrBadState);
      });
    });

    it("T-vmar PartialUnmapAndRead / PartialUnmapAndWrite (all-or-nothing accessors)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        const m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        k.rootVmar.unmap(m.addr + P, P);
        assert.equal(m.read(0, P).length, P);
        m.write(0, new Uint8Array(P));
        for (const access of ["read", "write"] as const) {
          const e = expectStatus(
            () => access === "read" ? m.read(0, 2 * P) : m.write(0, new Uint8Array(2 * P).fill(1)),
            S.ErrNotFound,
            "page_fault",
          );
          assert.deepEqual(e.fault, { addr: m.addr + P, access });
          expectStatus(
            () => access === "read" ? m.read(P, 1) : m.write(P, new Uint8Array(1)),
            S.ErrNotFound,
            "page_fault",
          );
        }
        assert.deepEqual(vmo.read(P, 0), new Uint8Array(P), "the failed write wrote nothing");
      });
    });

    it("T-vmar PartialUnmapWithVmarOffset", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(10 * P);
        using m = k.rootVmar.map(RW, 0, vmo, 0x1000, 10 * P - 0x1000);
        assert.equal(m.len, 9 * P);
        k.rootVmar.unmap(m.addr + 8 * P, P);
        assert.equal(mappedPattern(m, m.addr, 9), 0xFF);
      });
    });
  });

  describe("zx_vmar_protect", () => {
    it("errors and order of checks", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using r = k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
        const m = r.map(O.VmPermRead | O.VmSpecific, 0, vmo, 0, 2 * P);
        using ro = r.duplicate(Rights.DefaultVmar | Rights.Read);
        // Rights first (even with bad flags / unaligned address).
        expectStatus(
          () => ro.protect(RW | O.VmCanMapWrite, m.addr + 1, 0),
          S.ErrAccessDenied,
          PROTECT,
        );
        expectStatus(() => r.protect(O.VmPermWrite, m.addr, P), S.ErrInvalidArgs, PROTECT);
        // Handle rights come before "EXECUTE needs READ": r has no Execute right, the root has.
        expectStatus(() => r.protect(O.VmPermExecute, m.addr, P), S.ErrAccessDenied, PROTECT);
        expectStatus(
          () => k.rootVmar.protect(O.VmPermExecute, m.addr, P),
          S.ErrInvalidArgs,
          PROTECT,
        );
        expectStatus(() => r.protect(O.VmPermRead, m.addr + 1, P), S.ErrInvalidArgs, PROTECT);
        for (const bad of [O.VmSpecific, O.VmCanMapRead, O.VmMapRange, O.VmAlign64Kb, 1 << 23]) {
          expectStatus(
            () => r.protect(O.VmPermRead | bad, m.addr, P),
            S.ErrInvalidArgs,
            PROTECT,
            `0x${bad.toString(16)}`,
          );
        }
        expectStatus(() => r.protect(O.VmPermRead, m.addr, 0), S.ErrInvalidArgs, PROTECT);
        expectStatus(
          () => r.protect(O.VmPermRead, r.base + 15 * P, 2 * P),
          S.ErrInvalidArgs,
          PROTECT,
        );
        expectStatus(() => r.protect(O.VmPermRead, m.addr, 3 * P), S.ErrNotFound, PROTECT);
        expectStatus(() => r.protect(O.VmPermRead, r.base + 8 * P, P), S.ErrNotFound, PROTECT);
        // A mapping made from a handle without WRITE can never become writable.
        using roVmo = vmo.duplicate(Rights.Read | Rights.Map);
        const m2 = r.map(O.VmPermRead | O.VmSpecific, 4 * P, roVmo, 0, P);
        expectStatus(() => r.protect(RW, m2.addr, P), S.ErrAccessDenied, PROTECT);
        // Execute: the VMO handle had no Execute.
        expectStatus(
          () => r.protect(O.VmPermRead | O.VmPermExecute, m.addr, P),
          S.ErrAccessDenied,
          PROTECT,
        );
        assert.deepEqual(r.mappings().map((i) => i.options), [O.VmPermRead, O.VmPermRead]);
        r.destroy();
        expectStatus(() => r.protect(O.VmPermRead, m.addr + 1, P), S.ErrInvalidArgs, PROTECT);
        expectStatus(() => r.protect(O.VmPermRead, m.addr, 0), S.ErrInvalidArgs, PROTECT);
        expectStatus(() => r.protect(O.VmPermRead, m.addr, P), S.ErrBadState, PROTECT);
      });
    });

    it("changes protection as seen by accesses; 0 removes all access", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        k.rootVmar.protect(O.VmPermRead, m.addr, P);
        assert.equal(probe(m, m.addr, "write"), "ZX_ERR_ACCESS_DENIED");
        assert.equal(probe(m, m.addr), "ok");
        k.rootVmar.protect(0, m.addr, P);
        assert.equal(probe(m, m.addr), "ZX_ERR_ACCESS_DENIED");
        k.rootVmar.protect(RW, m.addr, P);
        assert.equal(probe(m, m.addr, "write"), "ok");
        assert.equal(k.rootVmar.mappings()[0].options, RW);
      });
    });

    it("T-vmar ProtectSplitTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        for (const start of [0, 2 * P, P]) {
          const m = k.rootVmar.map(RW, 0, vmo, 0, 4 * P);
          k.rootVmar.protect(O.VmPermRead, m.addr + start, 2 * P);
          assert.equal(mappedPattern(m, m.addr, 4), 0b1111);
          const writable = [0, 1, 2, 3].map((i) => probe(m, m.addr + i * P, "write") === "ok");
          assert.deepEqual(
            writable,
            [0, 1, 2, 3].map((i) => i * P < start || i * P >= start + 2 * P),
          );
          const parts = k.rootVmar.mappings().filter((i) =>
            i.addr >= m.addr && i.addr < m.addr + 4 * P
          );
          assert.equal(parts.length, start === P ? 3 : 2);
          k.rootVmar.unmap(m.addr, 4 * P);
        }
      });
    });

    it("T-vmar ProtectMultipleTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using v2 = vmo.duplicate(Rights.Map | Rights.Read);
        const region = (): Vmar => k.rootVmar.allocate(CMRW | CMS, 0, 12 * P);
        {
          using r = region();
          for (const off of [0, 4 * P, 8 * P]) r.map(RW | O.VmSpecific, off, vmo, 0, 4 * P);
          r.protect(O.VmPermRead, r.base + P, 10 * P);
          assert.deepEqual(r.mappings().map((i) => i.options), [
            RW,
            O.VmPermRead,
            O.VmPermRead,
            O.VmPermRead,
            RW,
          ]);
        }
        {
          using r = region();
          r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          r.map(O.VmPermRead | O.VmSpecific, 4 * P, v2, 0, 4 * P);
          r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          r.protect(O.VmPermRead, r.base, 12 * P);
          const before = JSON.stringify(r.mappings());
          expectStatus(() => r.protect(RW, r.base + P, 10 * P), S.ErrAccessDenied, PROTECT);
          assert.equal(JSON.stringify(r.mappings()), before, "nothing changed");
        }
        {
          using r = region();
          r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          expectStatus(() => r.protect(O.VmPermRead, r.base + P, 10 * P), S.ErrNotFound, PROTECT);
          assert.deepEqual(r.mappings().map((i) => i.options), [RW, RW]);
        }
        {
          using r = region();
          r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          using s = r.allocate(CMRW | O.VmSpecific, 4 * P, 4 * P);
          r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          expectStatus(() => r.protect(O.VmPermRead, r.base + P, 10 * P), S.ErrNotFound, PROTECT);
          assert.ok(s.valid);
        }
        {
          using r = region();
          r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
          using s = r.allocate(CMRW | O.VmSpecific, 4 * P, 4 * P);
          s.map(RW, 0, vmo, 0, 4 * P);
          r.map(RW | O.VmSpecific, 8 * P, vmo, 0, 4 * P);
          r.protect(O.VmPermRead, r.base + P, 10 * P);
          assert.deepEqual(r.mappings().map((i) => i.options), [
            RW,
            O.VmPermRead,
            O.VmPermRead,
            O.VmPermRead,
            RW,
          ]);
        }
      });
    });

    it("T-vmar ProtectSubregionTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using v = k.rootVmar.allocate(CMRW, 0, P);
        using c = v.allocate(CMRW, 0, P);
        assert.equal(c.base, v.base);
        const m = c.map(RW, 0, vmo, 0, P);
        assert.equal(m.addr, v.base);
        v.protect(O.VmPermRead, m.addr, P);
        expectStatus(() => v.protect(RW, m.addr, P), S.ErrAccessDenied, PROTECT);
        c.protect(RW, m.addr, P);
        using d = v.duplicate(v.rights & ~Rights.OpChildren);
        expectStatus(() => d.protect(O.VmPermRead, m.addr, P), S.ErrInvalidArgs, PROTECT);
        assert.equal(probe(m, m.addr, "write"), "ok");
      });
    });

    it("T-vmar ProtectTest (EXECUTE pair adapted: VMO handles carry no Execute)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        for (
          const [right, perm] of [[Rights.Read, O.VmPermRead], [Rights.Read | Rights.Write, RW]]
        ) {
          const v = vmo.duplicate(right | Rights.Map);
          expectStatus(() => k.rootVmar.map(RWX, 0, v, 0, P), S.ErrAccessDenied, "zx_vmar_map");
          const m = k.rootVmar.map(perm, 0, v, 0, P);
          expectStatus(() => k.rootVmar.protect(RWX, m.addr, P), S.ErrAccessDenied, PROTECT);
          v.close();
          expectStatus(() => k.rootVmar.protect(RWX, m.addr, P), S.ErrAccessDenied, PROTECT);
          // The rights the handle had still bound the mapping after the handle is gone.
          k.rootVmar.protect(O.VmPermRead, m.addr, P);
          k.rootVmar.protect(perm, m.addr, P);
          if (perm === O.VmPermRead) {
            expectStatus(() => k.rootVmar.protect(RW, m.addr, P), S.ErrAccessDenied, PROTECT);
          }
          k.rootVmar.unmap(m.addr, P);
        }
        // (READ|EXECUTE, R|X): a VMO handle cannot have Execute in zxvm.
        expectStatus(
          () => vmo.duplicate(Rights.Read | Rights.Execute | Rights.Map),
          S.ErrInvalidArgs,
        );
      });
    });

    it("T-vmar ProtectCowWritable", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        vmo.write(le32(42), 0);
        using child = vmo.createChild(VmoChildOptions.Snapshot, 0, 2 * P);
        using m = k.rootVmar.map(RW, 0, child, 0, 2 * P);
        k.rootVmar.protect(O.VmPermRead, m.addr, 2 * P);
        k.rootVmar.protect(RW, m.addr, P);
        m.write(0, le32(77));
        assert.equal(u32le(vmo.read(4, 0)), 42);
        assert.equal(u32le(child.read(4, 0)), 77);
      });
    });
  });

  describe("VMAR rights (T-vmar RightsDropTest, NestedRegionPermsTest)", () => {
    it("T-vmar RightsDropTest (EXECUTE pair adapted)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const pairs: [number, number, boolean][] = [
          [Rights.Read, O.VmPermRead, true],
          [Rights.Read | Rights.Write, RW, true],
          // Zircon maps R|X here; zxvm's VMO handle has no Execute, so it is ACCESS_DENIED.
          [Rights.Read | Rights.Execute, O.VmPermRead | O.VmPermExecute, false],
        ];
        for (const [right, perm, mapOk] of pairs) {
          using h = k.rootVmar.duplicate(right);
          expectStatus(() => h.map(RWX, 0, vmo, 0, P), S.ErrAccessDenied, "zx_vmar_map");
          if (mapOk) {
            const m = h.map(perm, 0, vmo, 0, P);
            expectStatus(() => h.protect(RWX, m.addr, P), S.ErrAccessDenied, PROTECT);
            h.unmap(m.addr, P);
            assert.equal(m.alive, false);
          } else {
            expectStatus(() => h.map(perm, 0, vmo, 0, P), S.ErrAccessDenied, "zx_vmar_map");
          }
          expectStatus(() => h.allocate(CMRWX, 0, 10 * P), S.ErrAccessDenied, ALLOC);
        }
      });
    });

    it("T-vmar NestedRegionPermsTest (R|X maps adapted)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const cases: [number, number][] = [
          [O.VmCanMapRead, O.VmPermRead],
          [O.VmCanMapWrite, O.VmPermWrite],
          [O.VmCanMapExecute, O.VmPermExecute],
        ];
        for (const [excluded, excludedPerm] of cases) {
          using r0 = k.rootVmar.allocate(CMRWX ^ excluded, 0, 10 * P);
          expectStatus(() => r0.allocate(CMRWX, 0, P), S.ErrAccessDenied, ALLOC);
          expectStatus(() => r0.map(RWX, 0, vmo, 0, P), S.ErrAccessDenied, "zx_vmar_map");
          if (excluded !== O.VmCanMapRead) {
            const perm = RWX ^ excludedPerm;
            if (perm & O.VmPermExecute) {
              expectStatus(() => r0.map(perm, 0, vmo, 0, P), S.ErrAccessDenied, "zx_vmar_map");
            } else {
              const m = r0.map(perm, 0, vmo, 0, P);
              m.unmap();
            }
          }
          using sub = r0.allocate(CMRWX ^ excluded, 0, P);
          assert.ok(sub.valid);
        }
        using r0 = k.rootVmar.allocate(CMRWX, 0, 10 * P);
        expectStatus(
          () => r0.map(O.VmSpecific | O.VmPermRead, P, vmo, 0, P),
          S.ErrAccessDenied,
          "zx_vmar_map",
        );
        expectStatus(
          () => r0.map(O.VmSpecificOverwrite | O.VmPermRead, P, vmo, 0, P),
          S.ErrAccessDenied,
          "zx_vmar_map",
        );
      });
    });
  });

  describe("zx_vmar_destroy", () => {
    it("T-vmar DestroyTest", () => {
      withKernel(t, (k) => {
        const sub = k.rootVmar.allocate(CMRW, 0, 1024 * P);
        using dup = sub.duplicate(Rights.DefaultVmar & ~Rights.OpChildren);
        expectStatus(() => dup.destroy(), S.ErrAccessDenied, DESTROY);
        sub.destroy();
        expectStatus(() => sub.allocate(CMRW, 0, 10 * P), S.ErrBadState, ALLOC);
        sub.close();
      });
    });

    it("the root VMAR answers ErrNotSupported", () => {
      withKernel(t, (k) => {
        expectStatus(() => k.rootVmar.destroy(), S.ErrNotSupported, DESTROY);
        using d = k.rootVmar.duplicate();
        expectStatus(() => d.destroy(), S.ErrNotSupported, DESTROY);
      });
    });

    it("T-vmar DestroyedVmarTest (BAD_STATE on the VMAR and every descendant)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using r0 = k.rootVmar.allocate(CMRW, 0, 10 * P);
        const m0 = r0.map(RW, 0, vmo, 0, P);
        using r1 = r0.allocate(CMRW, 0, P);
        const m1 = r1.map(RW, 0, vmo, 0, P);
        using r3 = r0.allocate(CMRW, 0, 2 * P);
        using r2 = r3.allocate(CMRW, 0, P);
        m0.write(0, new Uint8Array([5]));
        assert.equal(m1.read(0, 1)[0], 5);
        r0.destroy();
        for (const [r, m] of [[r0, m0], [r1, m1]] as const) {
          assert.ok(r.valid, "destroy does not close handles");
          assert.equal(m.alive, false);
          assert.equal(probe(m, m.addr), "ZX_ERR_NOT_FOUND");
          expectStatus(() => r.destroy(), S.ErrBadState, DESTROY);
          expectStatus(() => r.allocate(CMRW, 0, P), S.ErrBadState, ALLOC);
          expectStatus(() => r.unmap(m.addr, P), S.ErrBadState, UNMAP);
          expectStatus(() => r.protect(O.VmPermRead, m.addr, P), S.ErrBadState, PROTECT);
          expectStatus(() => r.map(O.VmPermRead, 0, vmo, 0, P), S.ErrBadState, "zx_vmar_map");
        }
        m0.unmap(); // idempotent, harmless after destroy
        expectStatus(() => r2.destroy(), S.ErrBadState, DESTROY);
        expectStatus(() => r2.map(O.VmPermRead, 0, vmo, 0, P), S.ErrBadState, "zx_vmar_map");
        assert.equal(vmo.info().numMappings, 0);
        using again = k.rootVmar.allocate(CMRW, 0, P);
        assert.ok(again.valid);
      });
    });

    it("T-vmar MapOverDestroyedTest", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using vmo2 = k.createVmo(P);
        using r0 = k.rootVmar.allocate(CMRW | CMS, 0, 10 * P);
        using r1 = r0.allocate(CMRW, 0, P);
        const a = r1.map(RW, 0, vmo, 0, P);
        vmo.write(new Uint8Array([5]), 0);
        assert.equal(a.read(0, 1)[0], 5);
        r1.destroy();
        assert.equal(probe(a, a.addr), "ZX_ERR_NOT_FOUND");
        using b = r0.map(RW | O.VmSpecific, a.addr - r0.base, vmo2, 0, P);
        assert.equal(b.addr, a.addr);
        assert.equal(b.read(0, 1)[0], 0);
      });
    });
  });

  describe("zx_vmar_op_range", () => {
    it("T-vmar RangeOpCommitVmoPages2 / OpOnRangeWithChildVmarNextToIt", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(10 * P);
        using v = k.rootVmar.allocate(CMS | CMRW, 0, 10 * P);
        v.map(O.VmSpecific | RW, 0, vmo, 0, 5 * P);
        const second = v.map(O.VmSpecific | RW, 6 * P, vmo, 5 * P, 4 * P);
        v.opRange(VmoOp.Decommit, second.addr, 4 * P);

        using vmo2 = k.createVmo(2 * P);
        using parent = k.rootVmar.allocate(CMS | CMRW, 0, 2 * P);
        using a = parent.allocate(CMS | CMRW, 0, 2 * P);
        using b = a.allocate(CMRW | O.VmSpecific, 0x1000, P);
        const m = a.map(RW | O.VmSpecific, 0, vmo2, 0, P);
        parent.opRange(VmoOp.MapRange, m.addr, P);
        assert.ok(b.valid);
      });
    });

    it("T-vmar RangeOpCommitVmoPages", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(5 * P);
        using v = k.rootVmar.allocate(CMS | CMRW, 0, 5 * P);
        const m0 = v.map(O.VmSpecific | RW, 0, vmo, 0, 2 * P);
        const m1 = v.map(O.VmSpecific | RW, 2 * P, vmo, 3 * P, P);
        const m2 = v.map(O.VmSpecific | O.VmPermRead, 4 * P, vmo, P, P);
        m0.write(0, new Uint8Array([5]));
        v.opRange(VmoOp.Decommit, v.base, P);
        assert.equal(m0.read(0, 1)[0], 0);
        m0.write(P, new Uint8Array([6]));
        m1.write(0, new Uint8Array([7]));
        assert.equal(m2.read(0, 1)[0], 6);
        v.opRange(VmoOp.Decommit, v.base + P, 2 * P);
        assert.equal(m0.read(P, 1)[0], 0);
        assert.equal(m1.read(0, 1)[0], 0);
        assert.equal(m2.read(0, 1)[0], 0, "the alias of page 1 is zero too");
        expectStatus(() => v.opRange(VmoOp.Decommit, v.base + P, 3 * P), S.ErrBadState, OPRANGE);
        v.opRange(VmoOp.Decommit, m2.addr, P);
        using ro = vmo.duplicate(Rights.Map | Rights.Read);
        using m3 = k.rootVmar.map(O.VmPermRead, 0, ro, 0, P);
        expectStatus(
          () => k.rootVmar.opRange(VmoOp.Decommit, m3.addr, P),
          S.ErrAccessDenied,
          OPRANGE,
        );
      });
    });

    it("T-vmar RangeOpMapRange", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using v = k.rootVmar.allocate(CMRW, 0, 4 * P);
        const m = v.map(RW, 0, vmo, 0, 4 * P);
        v.opRange(VmoOp.MapRange, m.addr, 4 * P);
        vmo.write(new Uint8Array([1]), P);
        v.opRange(VmoOp.MapRange, m.addr, 4 * P);
        vmo.write(new Uint8Array(4 * P).fill(2), 0);
        v.opRange(VmoOp.MapRange, m.addr, 4 * P);
        assert.equal(m.read(3 * P, 1)[0], 2);
      });
    });

    it("T-vmar RangeOpSubRegions", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using parent = k.rootVmar.allocate(CMRW, 0, 8 * P);
        using child = parent.allocate(CMRW, 0, 4 * P);
        const m = child.map(RW, 0, vmo, 0, 4 * P);
        for (const op of [VmoOp.MapRange, VmoOp.DontNeed, VmoOp.AlwaysNeed]) {
          parent.opRange(op, m.addr, 4 * P);
        }
        using noOpChildren = parent.duplicate(parent.rights & ~Rights.OpChildren);
        for (const op of [VmoOp.MapRange, VmoOp.DontNeed, VmoOp.AlwaysNeed]) {
          expectStatus(
            () => noOpChildren.opRange(op, m.addr, 4 * P),
            S.ErrInvalidArgs,
            OPRANGE,
            `op ${op}`,
          );
        }
        for (const op of [VmoOp.Commit, VmoOp.Decommit]) {
          expectStatus(() => parent.opRange(op, m.addr, 4 * P), S.ErrInvalidArgs, OPRANGE);
          expectStatus(() => noOpChildren.opRange(op, m.addr, 4 * P), S.ErrInvalidArgs, OPRANGE);
          child.opRange(op, m.addr, 4 * P);
        }
      });
    });

    it("the VMAR handle's rights: WRITE for commit/decommit/zero, READ for prefetch/map-range", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        vmo.write(new Uint8Array([42]), 0);
        const m = k.rootVmar.map(RW, 0, vmo, 0, P);
        using ro = k.rootVmar.duplicate(Rights.Read | Rights.Duplicate);
        using wo = k.rootVmar.duplicate(Rights.Write | Rights.Duplicate);
        using none = k.rootVmar.duplicate(Rights.None);
        for (const op of [VmoOp.Commit, VmoOp.Decommit, VmoOp.Zero]) {
          expectStatus(() => ro.opRange(op, m.addr, P), S.ErrAccessDenied, OPRANGE, `op ${op}`);
          expectStatus(() => none.opRange(op, m.addr, P), S.ErrAccessDenied, OPRANGE, `op ${op}`);
        }
        assert.equal(vmo.read(1, 0)[0], 42, "nothing was zeroed or decommitted");
        for (const op of [VmoOp.Prefetch, VmoOp.MapRange]) {
          expectStatus(() => wo.opRange(op, m.addr, P), S.ErrAccessDenied, OPRANGE, `op ${op}`);
          ro.opRange(op, m.addr, P);
        }
        for (const op of [VmoOp.DontNeed, VmoOp.AlwaysNeed]) none.opRange(op, m.addr, P);
        // Unknown ops are INVALID_ARGS before rights are looked at.
        expectStatus(() => none.opRange(99, m.addr, P), S.ErrInvalidArgs, OPRANGE);
        wo.opRange(VmoOp.Zero, m.addr, P);
        assert.equal(vmo.read(1, 0)[0], 0);
        m.unmap();
      });
    });

    it("T-vmar BadRangeOpNestedVmar", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using mid = k.rootVmar.allocate(CMRW, 0, 4 * P);
        const m = mid.map(RW, 0, vmo, 0, P);
        expectStatus(() => k.rootVmar.opRange(VmoOp.Commit, m.addr, P), S.ErrInvalidArgs, OPRANGE);
        expectStatus(
          () => k.rootVmar.opRange(VmoOp.Decommit, m.addr, P),
          S.ErrInvalidArgs,
          OPRANGE,
        );
      });
    });

    it("T-vmar RangeOpCommit", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using v = k.rootVmar.allocate(CMRW | CMS, 0, 8 * P);
        const m = v.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
        assert.equal(vmo.info().committedBytes, 0);
        v.opRange(VmoOp.Commit, m.addr, 2 * P);
        assert.equal(vmo.info().committedBytes, 2 * P);
        v.opRange(VmoOp.Commit, m.addr, 4 * P);
        assert.equal(vmo.info().committedBytes, 4 * P);
        v.opRange(VmoOp.Decommit, m.addr, 4 * P);
        assert.equal(vmo.info().committedBytes, 0);
        using ro = vmo.duplicate(Rights.Map | Rights.Read);
        const mr = v.map(O.VmPermRead | O.VmSpecific, 6 * P, ro, 0, P);
        expectStatus(() => v.opRange(VmoOp.Commit, mr.addr, P), S.ErrAccessDenied, OPRANGE);
        expectStatus(() => v.opRange(VmoOp.Commit, v.base, 16 * P), S.ErrOutOfRange, OPRANGE);
        expectStatus(() => v.opRange(VmoOp.Commit, 0, 8 * P), S.ErrOutOfRange, OPRANGE);
        expectStatus(() => v.opRange(VmoOp.Commit, v.base, 6 * P), S.ErrBadState, OPRANGE);
        assert.equal(vmo.info().committedBytes, 0);
      });
    });

    it("errors: unknown op, unaligned addr, len 0, destroyed", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using v = k.rootVmar.allocate(CMRW, 0, 4 * P);
        const m = v.map(RW, 0, vmo, 0, P);
        expectStatus(() => v.opRange(99, m.addr, P), S.ErrInvalidArgs, OPRANGE);
        expectStatus(() => v.opRange(VmoOp.Commit, m.addr + 1, P), S.ErrInvalidArgs, OPRANGE);
        expectStatus(() => v.opRange(VmoOp.Commit, m.addr, 0), S.ErrInvalidArgs, OPRANGE);
        v.opRange(VmoOp.Commit, m.addr, 1);
        v.destroy();
        expectStatus(() => v.opRange(VmoOp.Commit, m.addr, P), S.ErrBadState, OPRANGE);
      });
    });
  });

  describe("Vmar.mappings", () => {
    it("lists the subtree's mappings in address order", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using r = k.rootVmar.allocate(CMRW | CMS, 0, 16 * P);
        using c = r.allocate(CMRW | O.VmSpecific | CMS, 8 * P, 8 * P);
        c.map(O.VmPermRead | O.VmSpecific, 0, vmo, 3 * P, P);
        r.map(RW | O.VmSpecific, 2 * P, vmo, 0, 2 * P);
        assert.deepEqual(
          r.mappings().map((i) => [i.addr - r.base, i.len, i.options, i.vmoKoid, i.vmoOffset]),
          [[2 * P, 2 * P, RW, vmo.koid, 0], [8 * P, P, O.VmPermRead, vmo.koid, 3 * P]],
        );
        assert.equal(c.mappings().length, 1);
        assert.equal(k.rootVmar.mappings().length, 2);
      });
    });
  });
}
