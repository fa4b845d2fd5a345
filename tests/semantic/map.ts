/**
 * `Vmar.map` — the origin document's `Map`: every option and every error it lists, the
 * kernel's behaviour where the document is wrong, and Zircon's order of checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rights, Vmar, type Vmo, VmoOptions, ZxStatus } from "../../mod.ts";
import {
  CMRW,
  expectStatus,
  O,
  P,
  probe,
  RW,
  RWX,
  type SuiteContext,
  TWO64,
  withKernel,
} from "./helpers.ts";

const S = ZxStatus;
const MAP = "zx_vmar_map";
const UNKNOWN_BIT = 1 << 23;

/** Call `Vmar.prototype.map` with a receiver that is not a VMAR (Zircon's WRONG_TYPE case). */
function mapVia(receiver: unknown, ...args: unknown[]): unknown {
  return Reflect.apply(Vmar.prototype.map, receiver, args);
}

/** Register the map tests. */
export function mapTests(t: SuiteContext): void {
  describe("zx_vmar_map (origin document: Map) — success", () => {
    it("returns a page-aligned, non-zero, absolute address inside the VMAR", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW, 0, 16 * P);
        using m = sub.map(RW, 0, vmo, 0, 4 * P);
        assert.ok(m.addr > 0);
        assert.equal(m.addr % P, 0);
        assert.ok(m.addr >= sub.base && m.addr + m.len <= sub.base + sub.len);
        assert.equal(m.len, 4 * P);
        assert.equal(m.options, RW);
        assert.equal(m.vmar, sub);
        assert.ok(m.alive);
        const infos = sub.mappings();
        assert.equal(infos.length, 1);
        assert.deepEqual(infos[0], {
          addr: m.addr,
          len: 4 * P,
          options: RW,
          vmoKoid: vmo.koid,
          vmoOffset: 0,
        });
        assert.equal(vmo.info().numMappings, 1);
      });
    });

    it("the mapping keeps the VMO: closing the VMO handle does not remove it", () => {
      withKernel(t, (k) => {
        const vmo = k.createVmo(P);
        const koid = vmo.koid;
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        m.write(0, new Uint8Array([1, 2, 3]));
        vmo.close();
        assert.ok(m.alive);
        assert.deepEqual(m.read(0, 3), new Uint8Array([1, 2, 3]));
        assert.equal(k.rootVmar.mappings()[0].vmoKoid, koid);
      });
    });

    it("vmo_offset need not be 0 without SPECIFIC (the document put that rule on the wrong parameter)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        vmo.write(new Uint8Array([77]), 2 * P);
        using m = k.rootVmar.map(O.VmPermRead, 0, vmo, 2 * P, P);
        assert.equal(m.read(0, 1)[0], 77);
        assert.equal(k.rootVmar.mappings()[0].vmoOffset, 2 * P);
      });
    });

    it("an unaligned len is rounded up, not rejected (T-vmar UnalignedLenMapTest in spirit)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, 3 * P + 1);
        assert.equal(m.len, 4 * P);
        assert.equal(probe(m, m.addr + 3 * P), "ok");
      });
    });

    it("PERM_READ gives a read-only mapping; PERM_READ|PERM_WRITE a writable one; 0 no access", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using r = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
        assert.equal(probe(r, r.addr), "ok");
        assert.equal(probe(r, r.addr, "write"), "ZX_ERR_ACCESS_DENIED");
        using w = k.rootVmar.map(RW, 0, vmo, 0, P);
        assert.equal(probe(w, w.addr, "write"), "ok");
        using n = k.rootVmar.map(0, 0, vmo, 0, P);
        assert.equal(probe(n, n.addr), "ZX_ERR_ACCESS_DENIED");
        assert.equal(probe(n, n.addr, "write"), "ZX_ERR_ACCESS_DENIED");
      });
    });

    it("VmSpecific places the mapping at base + vmar_offset", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 16 * P);
        using m = sub.map(RW | O.VmSpecific, 5 * P, vmo, 0, P);
        assert.equal(m.addr, sub.base + 5 * P);
        using m2 = k.rootVmar.map(
          RW | O.VmSpecific,
          sub.base + 16 * P - k.rootVmar.base,
          vmo,
          0,
          P,
        );
        assert.equal(m2.addr, sub.base + 16 * P);
      });
    });

    it("VmSpecificOverwrite replaces mappings in the range atomically", () => {
      withKernel(t, (k) => {
        using a = k.createVmo(4 * P);
        using b = k.createVmo(4 * P);
        a.write(new Uint8Array(4 * P).fill(1), 0);
        b.write(new Uint8Array(4 * P).fill(2), 0);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 16 * P);
        using m1 = sub.map(RW | O.VmSpecific, 0, a, 0, 4 * P);
        using m2 = sub.map(RW | O.VmSpecificOverwrite, P, b, 0, 2 * P);
        assert.equal(m2.addr, sub.base + P);
        const pages = [0, 1, 2, 3].map((i) =>
          i === 1 || i === 2 ? m2.read((i - 1) * P, 1)[0] : m1.read(i * P, 1)[0]
        );
        assert.deepEqual(pages, [1, 2, 2, 1]);
        // m1 keeps its first and last pages; the middle is m2's now, and m1 no longer reaches it.
        expectStatus(() => m1.read(P, 1), S.ErrNotFound, "page_fault");
        expectStatus(() => m1.write(2 * P, new Uint8Array([9])), S.ErrNotFound, "page_fault");
        assert.equal(m2.read(P, 1)[0], 2);
        assert.equal(sub.mappings().length, 3);
        // SPECIFIC_OVERWRITE also maps into free space.
        using m3 = sub.map(RW | O.VmSpecificOverwrite, 8 * P, b, 0, P);
        assert.equal(m3.addr, sub.base + 8 * P);
      });
    });

    it("VmMapRange maps (no visible difference; contents are the VMO's)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        vmo.write(new Uint8Array([4]), P);
        using m = k.rootVmar.map(RW | O.VmMapRange, 0, vmo, 0, 2 * P);
        assert.equal(m.read(P, 1)[0], 4);
        assert.equal(m.read(0, 1)[0], 0);
      });
    });

    it("VmRequireNonResizable maps a non-resizable VMO", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW | O.VmRequireNonResizable, 0, vmo, 0, P);
        assert.ok(m.alive);
      });
    });

    it("VmAllowFaults is accepted for any VMO (T-vmar AllowFaultsTest)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P, VmoOptions.Resizable);
        using m = k.rootVmar.map(RW | O.VmAllowFaults, 0, vmo, 0, P);
        assert.ok(m.alive);
        using plain = k.createVmo(P);
        using m2 = k.rootVmar.map(RW | O.VmAllowFaults, 0, plain, 0, P);
        assert.ok(m2.alive);
      });
    });

    it("VmPermReadIfXomUnsupported adds READ (execute-only is unsupported)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        vmo.write(new Uint8Array([6]), 0);
        using m = k.rootVmar.map(O.VmPermReadIfXomUnsupported, 0, vmo, 0, P);
        assert.equal(m.read(0, 1)[0], 6);
        // With PERM_WRITE it satisfies "WRITE needs READ".
        using m2 = k.rootVmar.map(O.VmPermWrite | O.VmPermReadIfXomUnsupported, 0, vmo, 0, P);
        m2.write(0, new Uint8Array([7]));
        assert.equal(vmo.read(1, 0)[0], 7);
      });
    });

    it("VmAlign* aligns the placement", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        for (
          const [opt, align] of [[O.VmAlign64Kb, 65536], [O.VmAlign1Mb, 1 << 20], [
            O.VmAlign2Mb,
            2 << 20,
          ]]
        ) {
          using m = k.rootVmar.map(RW | opt, 0, vmo, 0, P);
          assert.equal(m.addr % align, 0, `align ${align}`);
        }
      });
    });

    it("VmPermExecute needs Execute on both handles (VMO handles have none by default)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmPermExecute, 0, vmo, 0, P),
          S.ErrAccessDenied,
          MAP,
        );
        expectStatus(() => k.rootVmar.map(RWX, 0, vmo, 0, P), S.ErrAccessDenied, MAP);
        expectStatus(() => vmo.duplicate(vmo.rights | Rights.Execute), S.ErrInvalidArgs);
      });
    });
  });

  describe("zx_vmar_map (origin document: Map) — every listed error", () => {
    it("ErrBadHandle: handle or vmo is not a valid handle", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        const base = sub.base;
        sub.close();
        expectStatus(() => sub.map(RW, 0, vmo, 0, P), S.ErrBadHandle, MAP);
        const dead = k.createVmo(P);
        dead.close();
        expectStatus(() => k.rootVmar.map(RW, 0, dead, 0, P), S.ErrBadHandle, MAP);
        k.rootVmar.unmap(base, 4 * P);
        assert.equal(k.rootVmar.mappings().length, 0);
      });
    });

    it("ErrWrongType: handle or vmo is not a VMAR or VMO handle, respectively", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        // T-vmar InvalidArgsTest: map(vmo, ...) and map(root, ..., not-a-vmo, ...).
        expectStatus(() => mapVia(vmo, RW, 0, vmo, 0, 4 * P), S.ErrWrongType, MAP);
        expectStatus(
          () => k.rootVmar.map(RW, 0, sub as unknown as Vmo, 0, 4 * P),
          S.ErrWrongType,
          MAP,
        );
        assert.equal(k.rootVmar.mappings().length, 0);
      });
    });

    it("ErrBadState: handle refers to a destroyed VMAR", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        sub.destroy();
        expectStatus(() => sub.map(RW, 0, vmo, 0, P), S.ErrBadState, MAP);
      });
    });

    it("ErrInvalidArgs: options not valid", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        const bad = [
          RW | UNKNOWN_BIT,
          RW | (1 << 15),
          RW | (1 << 31) >>> 0,
          RW | (9 << 24),
          RW | (33 << 24),
          RW | (1 << 24),
          O.VmPermWrite,
          O.VmPermExecute,
          O.VmPermWrite | O.VmPermExecute,
          RW | O.VmCanMapRead,
          RW | O.VmCanMapWrite,
          RW | O.VmCanMapExecute,
          RW | O.VmCanMapSpecific,
          RW | O.VmSpecificOverwrite | O.VmMapRange,
          RW | O.VmSpecific | O.VmOffsetIsUpperLimit,
          RW | O.VmSpecificOverwrite | O.VmOffsetIsUpperLimit,
        ];
        for (const opt of bad) {
          const off = opt & (O.VmSpecific | O.VmSpecificOverwrite) ? P : 0;
          expectStatus(
            () => k.rootVmar.map(opt >>> 0, off, vmo, 0, 4 * P),
            S.ErrInvalidArgs,
            MAP,
            `options 0x${(opt >>> 0).toString(16)}`,
          );
        }
        assert.equal(k.rootVmar.mappings().length, 0);
      });
    });

    it("ErrInvalidArgs: vmar_offset non-zero without SPECIFIC / SPECIFIC_OVERWRITE / UPPER_LIMIT", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        expectStatus(() => k.rootVmar.map(RW, P, vmo, 0, 4 * P), S.ErrInvalidArgs, MAP);
        expectStatus(
          () => k.rootVmar.map(RW | O.VmMapRange, P, vmo, 0, 4 * P),
          S.ErrInvalidArgs,
          MAP,
        );
      });
    });

    it("ErrInvalidArgs: unsatisfiable placement (exceeds the region bounds)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 8 * P);
        expectStatus(() => sub.map(RW | O.VmSpecific, 8 * P, vmo, 0, P), S.ErrInvalidArgs, MAP);
        expectStatus(() => sub.map(RW | O.VmSpecific, 6 * P, vmo, 0, 4 * P), S.ErrInvalidArgs, MAP);
        expectStatus(
          () => sub.map(RW | O.VmSpecificOverwrite, 7 * P, vmo, 0, 2 * P),
          S.ErrInvalidArgs,
          MAP,
        );
        expectStatus(() => sub.map(RW, 0, vmo, 0, 9 * P), S.ErrInvalidArgs, MAP);
        expectStatus(
          () => sub.map(RW | O.VmSpecific, TWO64 - BigInt(P), vmo, 0, P),
          S.ErrInvalidArgs,
          MAP,
        );
        assert.equal(sub.mappings().length, 0);
      });
    });

    it("ErrInvalidArgs: vmar_offset or vmo_offset not page aligned (len is rounded instead)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 8 * P);
        expectStatus(() => sub.map(RW | O.VmSpecific, P - 1, vmo, 0, P), S.ErrInvalidArgs, MAP);
        expectStatus(() => sub.map(RW | O.VmSpecific, P, vmo, P - 1, P), S.ErrInvalidArgs, MAP);
        expectStatus(() => sub.map(RW, 0, vmo, 1, P), S.ErrInvalidArgs, MAP);
        using m = sub.map(RW, 0, vmo, 0, P + 1);
        assert.equal(m.len, 2 * P);
      });
    });

    it("ErrInvalidArgs: len 0", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        expectStatus(() => k.rootVmar.map(RW, 0, vmo, 0, 0), S.ErrInvalidArgs, MAP);
      });
    });

    it("vmo_offset + ROUNDUP(len) overflow is ErrOutOfRange (the document says INVALID_ARGS)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        const p = BigInt(P);
        expectStatus(() => k.rootVmar.map(RW, 0, vmo, TWO64 - p, P), S.ErrOutOfRange, MAP);
        expectStatus(() => k.rootVmar.map(RW, 0, vmo, P, TWO64 - p), S.ErrOutOfRange, MAP);
        // ROUNDUP(len) itself overflowing.
        expectStatus(() => k.rootVmar.map(RW, 0, vmo, 0, TWO64 - p + 2n), S.ErrOutOfRange, MAP);
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmMapRange, 0, vmo, 0, TWO64 - p + 2n),
          S.ErrOutOfRange,
          MAP,
        );
        // Just below the overflow is fine: a mapping may lie beyond the VMO's end.
        using m = k.rootVmar.map(RW, 0, vmo, TWO64 - 2n * p, P);
        assert.equal(probe(m, m.addr), "ZX_ERR_OUT_OF_RANGE");
      });
    });

    it("ErrAccessDenied: insufficient rights or CAN_MAP permissions", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using noMap = vmo.duplicate(Rights.Read | Rights.Write);
        using noRead = vmo.duplicate(Rights.Write | Rights.Map);
        using noWrite = vmo.duplicate(Rights.Read | Rights.Map);
        expectStatus(() => k.rootVmar.map(O.VmPermRead, 0, noMap, 0, P), S.ErrAccessDenied, MAP);
        expectStatus(() => k.rootVmar.map(0, 0, noMap, 0, P), S.ErrAccessDenied, MAP);
        expectStatus(() => k.rootVmar.map(O.VmPermRead, 0, noRead, 0, P), S.ErrAccessDenied, MAP);
        expectStatus(() => k.rootVmar.map(RW, 0, noWrite, 0, P), S.ErrAccessDenied, MAP);
        using roVmar = k.rootVmar.duplicate(Rights.DefaultVmar | Rights.Read);
        expectStatus(() => roVmar.map(RW, 0, vmo, 0, P), S.ErrAccessDenied, MAP);
        using woVmar = k.rootVmar.duplicate(Rights.DefaultVmar | Rights.Write);
        expectStatus(() => woVmar.map(O.VmPermRead, 0, vmo, 0, P), S.ErrAccessDenied, MAP);
        using rOnly = k.rootVmar.allocate(O.VmCanMapRead, 0, 4 * P);
        expectStatus(() => rOnly.map(RW, 0, vmo, 0, P), S.ErrAccessDenied, MAP);
        using wOnly = k.rootVmar.allocate(O.VmCanMapWrite, 0, 4 * P);
        expectStatus(() => wOnly.map(O.VmPermRead, 0, vmo, 0, P), S.ErrAccessDenied, MAP);
        using noSpecific = k.rootVmar.allocate(CMRW, 0, 4 * P);
        expectStatus(() => noSpecific.map(RW | O.VmSpecific, P, vmo, 0, P), S.ErrAccessDenied, MAP);
        expectStatus(
          () => noSpecific.map(RW | O.VmSpecificOverwrite, P, vmo, 0, P),
          S.ErrAccessDenied,
          MAP,
        );
        expectStatus(
          () => noSpecific.map(RW | O.VmOffsetIsUpperLimit, 4 * P, vmo, 0, P),
          S.ErrAccessDenied,
          MAP,
        );
        assert.equal(k.rootVmar.mappings().length, 0);
        // Mapping with no permissions needs only MAP.
        using mapOnly = vmo.duplicate(Rights.Map);
        using m = k.rootVmar.map(0, 0, mapOnly, 0, P);
        assert.ok(m.alive);
      });
    });

    it("ErrNotSupported: resizable VMO with VmRequireNonResizable; discardable without VmAllowFaults", () => {
      withKernel(t, (k) => {
        using rz = k.createVmo(P, VmoOptions.Resizable);
        expectStatus(
          () => k.rootVmar.map(RW | O.VmRequireNonResizable, 0, rz, 0, P),
          S.ErrNotSupported,
          MAP,
        );
        using m = k.rootVmar.map(RW, 0, rz, 0, P);
        assert.ok(m.alive, "a resizable VMO maps without ALLOW_FAULTS in the kernel the tests pin");
        using d = k.createVmo(P, VmoOptions.Discardable);
        expectStatus(() => k.rootVmar.map(RW, 0, d, 0, P), S.ErrNotSupported, MAP);
        using md = k.rootVmar.map(RW | O.VmAllowFaults, 0, d, 0, P);
        assert.ok(md.alive);
      });
    });

    it("ErrAlreadyExists: SPECIFIC overlapping a mapping or a sub-VMAR", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 16 * P);
        using m = sub.map(RW | O.VmSpecific, 2 * P, vmo, 0, 2 * P);
        expectStatus(() => sub.map(RW | O.VmSpecific, 3 * P, vmo, 0, P), S.ErrAlreadyExists, MAP);
        expectStatus(() => sub.map(RW | O.VmSpecific, P, vmo, 0, 2 * P), S.ErrAlreadyExists, MAP);
        using _child = sub.allocate(CMRW | O.VmSpecific, 8 * P, 4 * P);
        expectStatus(() => sub.map(RW | O.VmSpecific, 10 * P, vmo, 0, P), S.ErrAlreadyExists, MAP);
        assert.equal(sub.mappings().length, 1);
        assert.ok(m.alive);
      });
    });

    it("ErrNoResources: no room in the VMAR (the document lists only NO_MEMORY)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        using m = sub.map(RW, 0, vmo, 0, 3 * P);
        expectStatus(() => sub.map(RW, 0, vmo, 0, 2 * P), S.ErrNoResources, MAP);
        using m2 = sub.map(RW, 0, vmo, 0, P);
        expectStatus(() => sub.map(RW, 0, vmo, 0, P), S.ErrNoResources, MAP);
        assert.equal(sub.mappings().length, 2);
        assert.ok(m.alive && m2.alive);
      });
    });

    it("VmOffsetIsUpperLimit places below the limit", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 64 * P);
        for (let i = 0; i < 8; i++) {
          const m = sub.map(RW | O.VmOffsetIsUpperLimit, 8 * P, vmo, 0, P);
          assert.ok(m.addr >= sub.base && m.addr + m.len <= sub.base + 8 * P);
        }
        expectStatus(
          () => sub.map(RW | O.VmOffsetIsUpperLimit, 8 * P, vmo, 0, P),
          S.ErrNoResources,
          MAP,
        );
      });
    });
  });

  describe("zx_vmar_map — Zircon's order of checks", () => {
    it("handle lookup (WRONG_TYPE) precedes BAD_STATE of a destroyed VMAR", () => {
      withKernel(t, (k) => {
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        using other = k.rootVmar.allocate(CMRW, 0, 4 * P);
        sub.destroy();
        expectStatus(() => sub.map(RW, 0, other as unknown as Vmo, 0, P), S.ErrWrongType, MAP);
      });
    });

    it("missing MAP right precedes option checks and BAD_STATE", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using noMap = vmo.duplicate(Rights.Read | Rights.Write);
        expectStatus(
          () => k.rootVmar.map(O.VmPermWrite | UNKNOWN_BIT, 0, noMap, 1, 0),
          S.ErrAccessDenied,
          MAP,
        );
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        sub.destroy();
        expectStatus(() => sub.map(RW, 0, noMap, 0, P), S.ErrAccessDenied, MAP);
      });
    });

    it("WRITE without READ is INVALID_ARGS even when rights are missing (T-vmo Rights)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using mapOnly = vmo.duplicate(Rights.Map);
        expectStatus(() => k.rootVmar.map(O.VmPermWrite, 0, mapOnly, 0, P), S.ErrInvalidArgs, MAP);
      });
    });

    it("SPECIFIC_OVERWRITE|MAP_RANGE and CAN_MAP_* bits precede rights checks", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using mapOnly = vmo.duplicate(Rights.Map);
        expectStatus(
          () =>
            k.rootVmar.map(O.VmPermRead | O.VmSpecificOverwrite | O.VmMapRange, P, mapOnly, 0, P),
          S.ErrInvalidArgs,
          MAP,
        );
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmCanMapRead, 0, mapOnly, 0, P),
          S.ErrInvalidArgs,
          MAP,
        );
      });
    });

    it("rights precede unknown-option and alignment-field checks", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using noRead = vmo.duplicate(Rights.Map | Rights.Write);
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | UNKNOWN_BIT, 0, noRead, 0, P),
          S.ErrAccessDenied,
          MAP,
        );
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | (33 << 24), 0, noRead, 0, P),
          S.ErrAccessDenied,
          MAP,
        );
      });
    });

    it("unknown options precede REQUIRE_NON_RESIZABLE, which precedes vmo_offset alignment", () => {
      withKernel(t, (k) => {
        using rz = k.createVmo(P, VmoOptions.Resizable);
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmRequireNonResizable | UNKNOWN_BIT, 0, rz, 0, P),
          S.ErrInvalidArgs,
          MAP,
        );
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmRequireNonResizable, 0, rz, 1, P),
          S.ErrNotSupported,
          MAP,
        );
      });
    });

    it("vmo_offset alignment and overflow precede BAD_STATE; BAD_STATE precedes len 0", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        sub.destroy();
        expectStatus(() => sub.map(RW, 0, vmo, 1, P), S.ErrInvalidArgs, MAP);
        expectStatus(() => sub.map(RW, 0, vmo, TWO64 - BigInt(P), P), S.ErrOutOfRange, MAP);
        expectStatus(() => sub.map(RW, 0, vmo, 0, 0), S.ErrBadState, MAP);
        expectStatus(() => sub.map(RW, P, vmo, 0, P), S.ErrBadState, MAP);
      });
    });

    it("offset rules precede the CAN_MAP_SPECIFIC check, which precedes bounds", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        expectStatus(() => sub.map(RW | O.VmSpecific, P - 1, vmo, 0, P), S.ErrInvalidArgs, MAP);
        expectStatus(
          () => sub.map(RW | O.VmSpecific | O.VmOffsetIsUpperLimit, P, vmo, 0, P),
          S.ErrInvalidArgs,
          MAP,
        );
        expectStatus(() => sub.map(RW | O.VmSpecific, 100 * P, vmo, 0, P), S.ErrAccessDenied, MAP);
      });
    });

    it("a failed map changes no state", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 8 * P);
        using m = sub.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
        m.write(0, new Uint8Array([1]));
        const before = JSON.stringify(sub.mappings());
        const handles = k.handleCount;
        expectStatus(() => sub.map(RW | O.VmSpecific, 2 * P, vmo, 0, 4 * P), S.ErrAlreadyExists);
        expectStatus(
          () => sub.map(RW | O.VmSpecificOverwrite, 6 * P, vmo, 0, 4 * P),
          S.ErrInvalidArgs,
        );
        expectStatus(() => sub.map(RW, 0, vmo, 0, 8 * P), S.ErrNoResources);
        assert.equal(JSON.stringify(sub.mappings()), before);
        assert.equal(k.handleCount, handles);
        assert.equal(vmo.info().numMappings, 1);
        assert.equal(m.read(0, 1)[0], 1);
      });
    });
  });
}
