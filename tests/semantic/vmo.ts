/**
 * `Vmo`: the origin document's `VirtualMemoryObject.Create` (every option and error), the rest
 * of the Vmo API, and the ported T-vmo cases.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Rights,
  Signals,
  VmoChildOptions as C,
  VmoInfoFlags,
  VmoOp,
  VmoOptions,
  ZxStatus,
} from "../../mod.ts";
import {
  expectStatus,
  expectTypeError,
  filled,
  O,
  P,
  probe,
  RW,
  type SuiteContext,
  TWO64,
  U64_MAX,
  withKernel,
} from "./helpers.ts";

const S = ZxStatus;

/** Register the Vmo tests. */
export function vmoTests(t: SuiteContext): void {
  describe("zx_vmo_create (origin document: VirtualMemoryObject.Create)", () => {
    it("rounds the size up to a page; size 0 is valid", () => {
      withKernel(t, (k) => {
        for (const [req, got] of [[0, 0], [1, P], [P, P], [P + 1, 2 * P], [10 * P - 1, 10 * P]]) {
          using v = k.createVmo(req);
          assert.equal(v.size, got, `create(${req})`);
        }
      });
    });

    it("a new VMO is zero-filled and has ZX_VMO_ZERO_CHILDREN active", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(3 * P);
        assert.deepEqual(v.read(3 * P, 0), new Uint8Array(3 * P));
        assert.equal(v.signals & Signals.VmoZeroChildren, Signals.VmoZeroChildren);
      });
    });

    it("default rights are ZX_DEFAULT_VMO_RIGHTS (no Execute, no Resize)", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        assert.equal(v.rights, Rights.DefaultVmo);
        assert.equal(v.rights & Rights.Execute, 0);
        assert.equal(v.rights & Rights.Resize, 0);
      });
    });

    it("options: Default, Resizable (+Resize right), Discardable are honoured", () => {
      withKernel(t, (k) => {
        using d = k.createVmo(P, VmoOptions.Default);
        assert.equal(d.info().flags & VmoInfoFlags.Resizable, 0);
        using r = k.createVmo(P, VmoOptions.Resizable);
        assert.equal(r.rights, Rights.DefaultVmo | Rights.Resize);
        assert.equal(r.info().flags & VmoInfoFlags.Resizable, VmoInfoFlags.Resizable);
        using x = k.createVmo(P, VmoOptions.Discardable);
        assert.equal(x.info().flags & VmoInfoFlags.Discardable, VmoInfoFlags.Discardable);
        assert.equal(x.rights, Rights.DefaultVmo);
      });
    });

    it("bit 0 (obsolete ZX_VMO_NON_RESIZABLE) and unknown bits are ErrInvalidArgs", () => {
      withKernel(t, (k) => {
        for (const opt of [1, 8, 0x10, 0x100, 1 << 31 >>> 0, 0xFFFFFFFF]) {
          expectStatus(() => k.createVmo(P, opt), S.ErrInvalidArgs, "zx_vmo_create", `opt ${opt}`);
        }
      });
    });

    it("too large is ErrOutOfRange", () => {
      withKernel(t, (k) => {
        expectStatus(() => k.createVmo(U64_MAX), S.ErrOutOfRange, "zx_vmo_create");
        expectStatus(() => k.createVmo(TWO64 - BigInt(P)), S.ErrOutOfRange, "zx_vmo_create");
      });
    });

    it("T-vmo Create", () => {
      withKernel(t, (k) => {
        const vmos = [];
        for (let i = 0; i < 16; i++) vmos.push(k.createVmo(i * P));
        for (const v of vmos) v.close();
      });
    });

    it("T-vmo SizeAlign", () => {
      withKernel(t, (k) => {
        for (let s = 0; s < 4 * P; s++) {
          const v = k.createVmo(s);
          const want = Math.ceil(s / P) * P;
          if (v.size !== want) assert.equal(v.size, want, `create(${s})`);
          v.close();
        }
      });
    });
  });

  describe("Vmo read/write", () => {
    it("read(length, offset) returns bytes; read(into, offset) fills; write(data, offset)", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(2 * P);
        v.write(new Uint8Array([1, 2, 3]), P - 1);
        const got = v.read(3, P - 1);
        assert.ok(got instanceof Uint8Array);
        assert.deepEqual(got, new Uint8Array([1, 2, 3]));
        const into = new Uint8Array(4);
        const ret = v.read(into, P - 2);
        assert.equal(ret, undefined);
        assert.deepEqual(into, new Uint8Array([0, 1, 2, 3]));
        v.write(new Uint8Array(0), 2 * P);
        assert.deepEqual(v.read(0, 2 * P), new Uint8Array(0));
      });
    });

    it("read needs Rights.Read, write needs Rights.Write", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        using ro = v.duplicate(Rights.Read);
        using wo = v.duplicate(Rights.Write);
        expectStatus(() => ro.write(new Uint8Array(1), 0), S.ErrAccessDenied, "zx_vmo_write");
        expectStatus(() => wo.read(1, 0), S.ErrAccessDenied, "zx_vmo_read");
        expectStatus(() => wo.read(new Uint8Array(1), 0), S.ErrAccessDenied, "zx_vmo_read");
        wo.write(new Uint8Array([9]), 0);
        assert.equal(ro.read(1, 0)[0], 9);
      });
    });

    it("rights are checked before the range", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        using wo = v.duplicate(Rights.Write);
        using ro = v.duplicate(Rights.Read);
        expectStatus(() => wo.read(8 * P, 0), S.ErrAccessDenied, "zx_vmo_read");
        expectStatus(() => wo.read(1, 2 * P), S.ErrAccessDenied, "zx_vmo_read");
        expectStatus(() => ro.write(new Uint8Array(8 * P), 0), S.ErrAccessDenied, "zx_vmo_write");
      });
    });

    it("subarray buffers are honoured (byteOffset), and read returns a copy", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        const src = new Uint8Array([9, 9, 1, 2, 3, 9]);
        v.write(src.subarray(2, 5), 10);
        assert.deepEqual(v.read(5, 9), new Uint8Array([0, 1, 2, 3, 0]));
        const dst = new Uint8Array(8).fill(7);
        v.read(dst.subarray(2, 5), 10);
        assert.deepEqual(dst, new Uint8Array([7, 7, 1, 2, 3, 7, 7, 7]));
        const copy = v.read(3, 10);
        copy[0] = 99;
        assert.equal(v.read(1, 10)[0], 1);
      });
    });

    it("a failed write changes nothing (all or nothing)", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        expectStatus(() => v.write(filled(16, 0xAA), P - 8), S.ErrOutOfRange, "zx_vmo_write");
        assert.deepEqual(v.read(P, 0), new Uint8Array(P));
      });
    });

    it("offsets compare against the page-rounded size, not the content size", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P + 10);
        assert.equal(v.contentSize, P + 10);
        v.write(new Uint8Array([1]), 2 * P - 1);
        assert.equal(v.read(1, 2 * P - 1)[0], 1);
      });
    });

    it("T-vmo ReadWriteRange", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        expectStatus(() => v.read(8 * P, 0), S.ErrOutOfRange, "zx_vmo_read");
        assert.equal(v.read(0, 4 * P).length, 0);
        expectStatus(() => v.read(0, 4 * P + 1), S.ErrOutOfRange, "zx_vmo_read");
        expectStatus(() => v.read(new Uint8Array(8 * P), 0), S.ErrOutOfRange);
        expectStatus(() => v.write(new Uint8Array(8 * P), 0), S.ErrOutOfRange, "zx_vmo_write");
        v.write(new Uint8Array(0), 4 * P);
        expectStatus(() => v.write(new Uint8Array(0), 4 * P + 1), S.ErrOutOfRange);
        const wrap = U64_MAX - 2n * BigInt(P);
        expectStatus(() => v.read(4 * P, wrap), S.ErrOutOfRange);
        expectStatus(() => v.read(new Uint8Array(4 * P), wrap), S.ErrOutOfRange);
        expectStatus(() => v.write(new Uint8Array(4 * P), wrap), S.ErrOutOfRange);
      });
    });

    it("T-vmo ReadWriteBadLen (read part; write takes a buffer)", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        expectStatus(() => v.read(U64_MAX - BigInt(P), 0), S.ErrOutOfRange, "zx_vmo_read");
        expectStatus(() => v.read(U64_MAX - BigInt(P / 2), 0), S.ErrOutOfRange, "zx_vmo_read");
        assert.equal(v.read(4 * P, 0).length, 4 * P);
        v.write(new Uint8Array(4 * P), 0);
      });
    });

    it("T-vmo ReadWrite", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        assert.deepEqual(v.read(4 * P, 0), new Uint8Array(4 * P));
        v.write(filled(4 * P, 0x99), 0);
        using m = k.rootVmar.map(RW, 0, v, 0, 4 * P);
        assert.deepEqual(m.read(0, 4 * P), filled(4 * P, 0x99));
      });
    });

    it("write: data must be a Uint8Array", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        expectTypeError(() => v.write([1, 2] as unknown as Uint8Array, 0));
        expectTypeError(() => v.read("1" as unknown as number, 0));
      });
    });
  });

  describe("Vmo size, setSize, contentSize", () => {
    it("size needs no rights", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(3 * P);
        using none = v.duplicate(Rights.None);
        assert.equal(none.size, 3 * P);
      });
    });

    it("T-vmo Resize", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P, VmoOptions.Resizable);
        assert.equal(v.size, 4 * P);
        v.setSize(5 * P);
        assert.equal(v.size, 5 * P);
        expectStatus(() => v.setSize(U64_MAX), S.ErrOutOfRange, "zx_vmo_set_size");
        assert.equal(v.size, 5 * P);
        v.setSize(5 * P + 1);
        assert.equal(v.size, 6 * P);
        using m = k.rootVmar.map(O.VmPermRead, 0, v, 0, 6 * P);
        expectStatus(
          () => k.rootVmar.map(O.VmPermRead | O.VmRequireNonResizable, 0, v, 0, 6 * P),
          S.ErrNotSupported,
          "zx_vmar_map",
        );
        v.setSize(P);
        assert.equal(v.size, P);
        assert.ok(m.alive);
      });
    });

    it("T-vmo NoResize", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        expectStatus(() => v.setSize(5 * P), S.ErrUnavailable, "zx_vmo_set_size");
        expectStatus(() => v.setSize(3 * P), S.ErrUnavailable, "zx_vmo_set_size");
        assert.equal(v.size, 4 * P);
        using m = k.rootVmar.map(RW | O.VmRequireNonResizable, 0, v, 0, 4 * P);
        assert.ok(m.alive);
      });
    });

    it("T-vmo ResizeRight", () => {
      withKernel(t, (k) => {
        using n = k.createVmo(4 * P);
        assert.equal(n.rights & Rights.Resize, 0);
        expectStatus(() => n.setSize(5 * P), S.ErrUnavailable);
        using r = k.createVmo(4 * P, VmoOptions.Resizable);
        assert.equal(r.rights & Rights.Resize, Rights.Resize);
        r.setSize(5 * P);
        using d = r.duplicate(r.rights & ~Rights.Resize);
        expectStatus(() => d.setSize(P), S.ErrAccessDenied, "zx_vmo_set_size");
        assert.equal(r.size, 5 * P);
      });
    });

    it("setSize order: WRITE first, then RESIZE (resizable only), else UNAVAILABLE", () => {
      withKernel(t, (k) => {
        using n = k.createVmo(P);
        using nNoWrite = n.duplicate(Rights.Read);
        expectStatus(() => nNoWrite.setSize(2 * P), S.ErrAccessDenied, "zx_vmo_set_size");
        using nWrite = n.duplicate(Rights.Write);
        expectStatus(() => nWrite.setSize(2 * P), S.ErrUnavailable, "zx_vmo_set_size");
        using r = k.createVmo(P, VmoOptions.Resizable);
        using rNoWrite = r.duplicate(Rights.Read | Rights.Resize);
        expectStatus(() => rNoWrite.setSize(2 * P), S.ErrAccessDenied);
        using rWriteResize = r.duplicate(Rights.Write | Rights.Resize);
        rWriteResize.setSize(2 * P);
        assert.equal(r.size, 2 * P);
      });
    });

    it("T-vmo ResizeAlign", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(0, VmoOptions.Resizable);
        for (let s = 0; s < 4 * P; s++) {
          v.setSize(s);
          const want = Math.ceil(s / P) * P;
          if (v.size !== want) assert.equal(v.size, want, `setSize(${s})`);
        }
      });
    });

    it("shrinking zeroes the tail of the last page; growing adds zero pages", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(2 * P, VmoOptions.Resizable);
        v.write(filled(2 * P, 0xFF), 0);
        v.setSize(100);
        assert.equal(v.size, P);
        assert.equal(v.contentSize, 100);
        const page = v.read(P, 0);
        assert.deepEqual(page.subarray(0, 100), filled(100, 0xFF));
        assert.deepEqual(page.subarray(100), new Uint8Array(P - 100));
        v.setSize(3 * P);
        assert.deepEqual(v.read(2 * P, P), new Uint8Array(2 * P));
      });
    });

    it("T-vmo ContentSize", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P, VmoOptions.Resizable);
        assert.equal(v.contentSize, 4 * P);
        v.setContentSize(Math.floor(4 * P / 3));
        assert.equal(v.contentSize, Math.floor(4 * P / 3));
        v.setContentSize(4 * P + 15643);
        assert.equal(v.contentSize, 4 * P + 15643);
        v.setSize(5461);
        assert.equal(v.contentSize, 5461);
        assert.equal(v.size, 2 * P);
        using c = k.createVmo(P + 7);
        assert.equal(c.contentSize, P + 7);
      });
    });

    it("contentSize needs GetProperty; setContentSize needs SetProperty", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        using noGet = v.duplicate(Rights.SetProperty);
        using noSet = v.duplicate(Rights.GetProperty);
        expectStatus(() => noGet.contentSize, S.ErrAccessDenied);
        expectStatus(() => noSet.setContentSize(10), S.ErrAccessDenied);
        assert.equal(v.contentSize, P);
      });
    });
  });

  describe("Vmo opRange", () => {
    it("unknown ops are ErrInvalidArgs", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        for (const op of [0, 5, 15, 99]) {
          expectStatus(() => v.opRange(op, 0, P), S.ErrInvalidArgs, "zx_vmo_op_range", `op ${op}`);
        }
      });
    });

    it("rights per op: Commit/Decommit/Zero need Write; cache ops need Read; hints need none", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        using ro = v.duplicate(Rights.Read);
        using wo = v.duplicate(Rights.Write);
        using none = v.duplicate(Rights.None);
        for (const op of [VmoOp.Commit, VmoOp.Decommit, VmoOp.Zero]) {
          expectStatus(
            () => ro.opRange(op, 0, P),
            S.ErrAccessDenied,
            "zx_vmo_op_range",
            `op ${op}`,
          );
          wo.opRange(op, 0, P);
        }
        for (const op of [VmoOp.CacheSync, VmoOp.CacheClean, VmoOp.CacheCleanInvalidate]) {
          expectStatus(
            () => wo.opRange(op, 0, P),
            S.ErrAccessDenied,
            "zx_vmo_op_range",
            `op ${op}`,
          );
          ro.opRange(op, 0, P);
        }
        none.opRange(VmoOp.DontNeed, 0, P);
        none.opRange(VmoOp.AlwaysNeed, 0, P);
        // PREFETCH needs READ (VmObjectDispatcher::RangeOp).
        expectStatus(() => wo.opRange(VmoOp.Prefetch, 0, P), S.ErrAccessDenied, "zx_vmo_op_range");
        expectStatus(() => none.opRange(VmoOp.Prefetch, 0, P), S.ErrAccessDenied);
        ro.opRange(VmoOp.Prefetch, 0, P);
      });
    });

    it("Commit commits pages, Decommit releases them (read back zero), Zero zeroes", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        assert.equal(v.info().committedBytes, 0);
        v.opRange(VmoOp.Commit, 0, 2 * P);
        assert.equal(v.info().committedBytes, 2 * P);
        v.write(filled(4 * P, 7), 0);
        assert.equal(v.info().committedBytes, 4 * P);
        v.opRange(VmoOp.Decommit, P, P);
        assert.equal(v.info().committedBytes, 3 * P);
        assert.deepEqual(v.read(P, P), new Uint8Array(P));
        assert.deepEqual(v.read(P, 0), filled(P, 7));
        v.opRange(VmoOp.Zero, 10, 20);
        const head = v.read(40, 0);
        assert.deepEqual(head.subarray(0, 10), filled(10, 7));
        assert.deepEqual(head.subarray(10, 30), new Uint8Array(20));
        assert.deepEqual(head.subarray(30), filled(10, 7));
      });
    });

    it("Prefetch, DontNeed, AlwaysNeed are hints that succeed in range", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(2 * P);
        v.write(new Uint8Array([1]), 0);
        for (const op of [VmoOp.Prefetch, VmoOp.DontNeed, VmoOp.AlwaysNeed]) {
          v.opRange(op, 0, 2 * P);
        }
        assert.equal(v.read(1, 0)[0], 1);
      });
    });

    it("T-vmo Commit", () => {
      withKernel(t, (k) => {
        const size = 16384;
        using v = k.createVmo(size);
        v.opRange(VmoOp.Commit, 0, size);
        v.opRange(VmoOp.Decommit, 0, size);
        v.opRange(VmoOp.Commit, 0, size);
        using m = k.rootVmar.map(RW, 0, v, 0, size);
        using m2 = k.rootVmar.map(RW, 0, v, P, size);
        using m3 = k.rootVmar.map(RW, 0, v, 2 * size, size);
        assert.ok(m3.alive, "a mapping may start beyond the VMO's end");
        m.write(P, new Uint8Array([99]));
        assert.equal(m2.read(0, 1)[0], 99);
        v.opRange(VmoOp.Decommit, 0, P);
        assert.equal(m.read(P, 1)[0], 99);
        v.opRange(VmoOp.Decommit, P, P);
        assert.equal(m.read(P, 1)[0], 0);
        assert.equal(m2.read(0, 1)[0], 0);
        expectStatus(
          () => v.opRange(VmoOp.Commit, P, U64_MAX - BigInt(P) + 1n),
          S.ErrOutOfRange,
          "zx_vmo_op_range",
        );
        assert.equal(probe(m3, m3.addr), "ZX_ERR_OUT_OF_RANGE");
      });
    });

    it("T-vmo ZeroPage", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        using a = k.rootVmar.map(RW, 0, v, 0, P);
        using b = k.rootVmar.map(RW, 0, v, 0, P);
        using c = k.rootVmar.map(O.VmPermRead, 0, v, 0, P);
        assert.equal(a.read(0, 1)[0], 0);
        a.write(0, new Uint8Array([1]));
        assert.equal(b.read(0, 1)[0], 1);
        assert.equal(c.read(0, 1)[0], 1);
        v.write(new Uint8Array([2]), 0);
        assert.equal(a.read(0, 1)[0], 2);
        v.opRange(VmoOp.Commit, 0, P);
        b.write(0, new Uint8Array([3]));
        assert.equal(c.read(0, 1)[0], 3);
      });
    });

    it("T-vmo CacheOp", () => {
      withKernel(t, (k) => {
        const size = 0x8000;
        using v = k.createVmo(size);
        const ok: [number, number][] = [
          [0, 1],
          [1, 1],
          [0, size],
          [1, size - 1],
          [0x5200, 1],
          [0x5200, 0x800],
          [0x5200, 0x1000],
          [0x5200, 0x1200],
        ];
        const oor: [number | bigint, number | bigint][] = [
          [1, size],
          [size, 1],
          [size + 1, 1],
          [U64_MAX - 1n, 1],
          [U64_MAX, 1],
          [U64_MAX, U64_MAX],
        ];
        for (const op of [VmoOp.CacheSync, VmoOp.CacheClean, VmoOp.CacheCleanInvalidate]) {
          for (const [o, s] of ok) v.opRange(op, o, s);
          expectStatus(() => v.opRange(op, 0, 0), S.ErrInvalidArgs, "zx_vmo_op_range", `op ${op}`);
          for (const [o, s] of oor) {
            expectStatus(
              () => v.opRange(op, o, s),
              S.ErrOutOfRange,
              "zx_vmo_op_range",
              `op ${op} (${o}, ${s})`,
            );
          }
        }
        // CACHE_INVALIDATE needs debugging syscalls on Zircon: NOT_SUPPORTED (zxvm documents it).
        for (const [o, s] of ok) {
          expectStatus(() => v.opRange(VmoOp.CacheInvalidate, o, s), S.ErrNotSupported);
        }
      });
    });

    it("T-vmo CacheOpOutOfRange", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(2 * P);
        expectStatus(() => v.opRange(VmoOp.CacheCleanInvalidate, P, U64_MAX), S.ErrOutOfRange);
        expectStatus(
          () => v.opRange(VmoOp.CacheCleanInvalidate, U64_MAX - BigInt(P) + 1n, 1),
          S.ErrOutOfRange,
        );
      });
    });

    it("T-vmo DecommitMisaligned", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(2 * P);
        expectStatus(
          () => v.opRange(VmoOp.Decommit, 0x10, 0x100),
          S.ErrInvalidArgs,
          "zx_vmo_op_range",
        );
        v.opRange(VmoOp.Commit, 0x10, 0x100);
        expectStatus(
          () => v.opRange(VmoOp.Decommit, 0x10, 0x100),
          S.ErrInvalidArgs,
          "zx_vmo_op_range",
        );
      });
    });

    it("T-vmo OpOutOfBounds", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(P);
        for (
          const op of [
            VmoOp.Commit,
            VmoOp.Decommit,
            VmoOp.Zero,
            VmoOp.CacheSync,
            VmoOp.CacheClean,
            VmoOp.CacheCleanInvalidate,
          ]
        ) {
          expectStatus(
            () => v.opRange(op, 0, 2 * P),
            S.ErrOutOfRange,
            "zx_vmo_op_range",
            `op ${op}`,
          );
        }
        expectStatus(() => v.opRange(VmoOp.CacheInvalidate, 0, 2 * P), S.ErrNotSupported);
        using d = k.createVmo(P, VmoOptions.Discardable);
        for (const op of [VmoOp.Lock, VmoOp.TryLock, VmoOp.Unlock]) {
          expectStatus(
            () => d.opRange(op, 0, 2 * P),
            S.ErrOutOfRange,
            "zx_vmo_op_range",
            `op ${op}`,
          );
        }
      });
    });

    it("T-vmo LockUnlock (without the lock-state buffer)", () => {
      withKernel(t, (k) => {
        using n = k.createVmo(3 * P);
        for (const op of [VmoOp.TryLock, VmoOp.Lock, VmoOp.Unlock]) {
          expectStatus(
            () => n.opRange(op, 0, 3 * P),
            S.ErrNotSupported,
            "zx_vmo_op_range",
            `op ${op}`,
          );
        }
        using d = k.createVmo(3 * P, VmoOptions.Discardable);
        d.opRange(VmoOp.TryLock, 0, 3 * P);
        d.opRange(VmoOp.Unlock, 0, 3 * P);
        d.opRange(VmoOp.Lock, 0, 3 * P);
        d.opRange(VmoOp.Unlock, 0, 3 * P);
        using ro = d.duplicate(Rights.Read);
        ro.opRange(VmoOp.TryLock, 0, 3 * P);
        ro.opRange(VmoOp.Unlock, 0, 3 * P);
        ro.opRange(VmoOp.Lock, 0, 3 * P);
        ro.opRange(VmoOp.Unlock, 0, 3 * P);
        using wo = d.duplicate(Rights.Write);
        wo.opRange(VmoOp.Lock, 0, 3 * P);
        wo.opRange(VmoOp.Unlock, 0, 3 * P);
        using neither = d.duplicate(Rights.Map | Rights.Duplicate);
        for (const op of [VmoOp.TryLock, VmoOp.Lock, VmoOp.Unlock]) {
          expectStatus(() => neither.opRange(op, 0, 3 * P), S.ErrAccessDenied, "zx_vmo_op_range");
        }
        for (const [o, s] of [[0, P], [P, 2 * P], [P, P]]) {
          for (const op of [VmoOp.TryLock, VmoOp.Lock, VmoOp.Unlock]) {
            expectStatus(
              () => d.opRange(op, o, s),
              S.ErrOutOfRange,
              "zx_vmo_op_range",
              `op ${op} (${o},${s})`,
            );
          }
        }
        expectStatus(() => d.opRange(VmoOp.Unlock, 0, 3 * P), S.ErrBadState, "zx_vmo_op_range");
      });
    });

    it("T-vmo Discardable", () => {
      withKernel(t, (k) => {
        using d = k.createVmo(3 * P, VmoOptions.Discardable);
        assert.equal(d.info().flags & VmoInfoFlags.Discardable, VmoInfoFlags.Discardable);
        d.opRange(VmoOp.Lock, 0, 3 * P);
        assert.deepEqual(d.read(3 * P, 0), new Uint8Array(3 * P));
        d.write(filled(3 * P, 0xBB), 0);
        expectStatus(() => k.rootVmar.map(RW, 0, d, 0, 3 * P), S.ErrNotSupported, "zx_vmar_map");
        using m = k.rootVmar.map(RW | O.VmAllowFaults, 0, d, 0, 3 * P);
        assert.deepEqual(m.read(0, 3 * P), filled(3 * P, 0xBB));
        d.opRange(VmoOp.Unlock, 0, 3 * P);
        for (const opt of [C.Slice, C.Snapshot, C.SnapshotAtLeastOnWrite]) {
          expectStatus(
            () => d.createChild(opt, 0, 3 * P),
            S.ErrNotSupported,
            "zx_vmo_create_child",
          );
        }
      });
    });
  });

  describe("T-vmo Rights", () => {
    it("T-vmo Rights (non-exec part)", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        const need = Rights.Duplicate | Rights.Transfer | Rights.Wait | Rights.Read | Rights.Write |
          Rights.Map | Rights.GetProperty | Rights.SetProperty;
        assert.equal(v.rights & need, need);
        v.read(0, 0);
        v.write(new Uint8Array(0), 0);
        using r = v.duplicate(Rights.Read);
        r.read(1, 0);
        expectStatus(() => r.write(new Uint8Array(1), 0), S.ErrAccessDenied, "zx_vmo_write");
        using w = v.duplicate(Rights.Write);
        expectStatus(() => w.read(1, 0), S.ErrAccessDenied, "zx_vmo_read");
        w.write(new Uint8Array(1), 0);
        using z = v.duplicate(Rights.None);
        expectStatus(() => z.read(1, 0), S.ErrAccessDenied, "zx_vmo_read");
        expectStatus(() => z.write(new Uint8Array(1), 0), S.ErrAccessDenied, "zx_vmo_write");
        // RightsTestMapHelper: [handle rights, [flags 0, READ, WRITE, READ|WRITE] outcomes].
        const OK = "ok";
        const AD = S.ErrAccessDenied;
        const IA = S.ErrInvalidArgs;
        const matrix: [number | null, (string | number)[]][] = [
          [null, [OK, OK, IA, OK]],
          [Rights.Read | Rights.Write | Rights.Duplicate, [AD, AD, AD, AD]],
          [Rights.Read | Rights.Map | Rights.Duplicate, [OK, OK, IA, AD]],
          [Rights.Write | Rights.Map | Rights.Duplicate, [OK, AD, IA, AD]],
          [Rights.Read | Rights.Write | Rights.Map | Rights.Duplicate, [OK, OK, IA, OK]],
        ];
        for (const [rights, outcomes] of matrix) {
          using h = rights === null ? v.duplicate() : v.duplicate(rights);
          [0, O.VmPermRead, O.VmPermWrite, RW].forEach((flags, i) => {
            const want = outcomes[i];
            if (want === OK) {
              k.rootVmar.map(flags, 0, h, 0, 4 * P).unmap();
            } else {
              expectStatus(
                () => k.rootVmar.map(flags, 0, h, 0, 4 * P),
                want as ZxStatus,
                "zx_vmar_map",
                `rights 0x${(rights ?? v.rights).toString(16)} flags ${flags}`,
              );
            }
          });
        }
        v.name = "test vmo";
        assert.equal(v.name, "test vmo");
      });
    });

    it("T-vmo MapRead (vmo_read into a mapping's memory)", () => {
      withKernel(t, (k) => {
        using a = k.createVmo(2 * P);
        using b = k.createVmo(2 * P);
        a.write(filled(2 * P, 0x5A), 0);
        using mb = k.rootVmar.map(RW, 0, b, 0, 2 * P);
        a.read(mb.bytes(), 0);
        assert.deepEqual(b.read(2 * P, 0), filled(2 * P, 0x5A));
      });
    });
  });

  describe("Vmo info (ZX_INFO_VMO)", () => {
    it("T-vmo Info", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(4 * P);
        const i = v.info();
        assert.equal(i.size, 4 * P);
        assert.equal(i.flags, VmoInfoFlags.TypePaged | VmoInfoFlags.ViaHandle);
        assert.equal(i.flags, 0x9);
        using r = k.createVmo(8 * P, VmoOptions.Resizable);
        const ri = r.info();
        assert.equal(ri.flags, 0xB);
        assert.equal(ri.handleRights, r.basicInfo().rights);
      });
    });

    it("reports koid, name, size, parent, children, mappings, share count, rights", () => {
      withKernel(t, (k) => {
        using v = k.createVmo(2 * P);
        v.name = "info";
        let i = v.info();
        assert.equal(i.koid, v.koid);
        assert.equal(i.name, "info");
        assert.equal(i.parentKoid, 0);
        assert.equal(i.numChildren, 0);
        assert.equal(i.numMappings, 0);
        assert.equal(i.shareCount, 0);
        assert.equal(i.handleRights, Rights.DefaultVmo);
        assert.equal(i.committedBytes, 0);
        using m = k.rootVmar.map(O.VmPermRead, 0, v, 0, P);
        using m2 = k.rootVmar.map(O.VmPermRead, 0, v, 0, P);
        using c = v.createChild(C.Snapshot, 0, P);
        i = v.info();
        assert.equal(i.numMappings, 2);
        assert.equal(i.shareCount, 1);
        assert.equal(i.numChildren, 1);
        assert.equal(c.info().parentKoid, v.koid);
        using ro = v.duplicate(Rights.Read);
        assert.equal(ro.info().handleRights, Rights.Read);
        m.unmap();
        m2.unmap();
        assert.equal(v.info().numMappings, 0);
      });
    });
  });
}
