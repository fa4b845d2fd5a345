/**
 * `Kernel` members, the default kernel, number arguments, and isolation between kernels.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Kernel,
  Rights,
  Vmar,
  Vmo,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
} from "../../mod.ts";
import {
  CMRW,
  expectStatus,
  expectTypeError,
  O,
  P,
  RW,
  type SuiteContext,
  TWO64,
  withKernel,
} from "./helpers.ts";

/** Register the Kernel tests. */
export function kernelTests(t: SuiteContext): void {
  describe("Kernel", () => {
    it("opens with a backend, a reason, 4 KiB pages and a root VMAR", () => {
      withKernel(t, (k) => {
        assert.ok(k.backend === "emulated" || k.backend === "native");
        assert.equal(typeof k.backendReason, "string");
        assert.ok(k.backendReason.length > 0);
        assert.equal(k.pageSize, P);
        const root = k.rootVmar;
        assert.ok(root instanceof Vmar);
        assert.equal(root.type, "vmar");
        assert.equal(root.kernel, k);
        assert.ok(root.valid);
        assert.ok(root.base > 0, "the root VMAR does not start at 0");
        assert.equal(root.base % P, 0);
        assert.ok(root.len > 0);
        assert.equal(root.len % P, 0);
        assert.equal(k.rootVmar, root, "rootVmar is one borrowed object");
      });
    });

    it("root VMAR rights are DefaultVmar|Read|Write|Execute", () => {
      withKernel(t, (k) => {
        assert.equal(
          k.rootVmar.rights,
          Rights.DefaultVmar | Rights.Read | Rights.Write | Rights.Execute,
        );
      });
    });

    it("rootVmar is borrowed: closing it is a no-op", () => {
      withKernel(t, (k) => {
        const before = k.handleCount;
        k.rootVmar.close();
        assert.ok(k.rootVmar.valid);
        assert.equal(k.handleCount, before);
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        assert.ok(m.alive);
      });
    });

    it("handleCount counts live handles", () => {
      withKernel(t, (k) => {
        const base = k.handleCount;
        const a = k.createVmo(P);
        assert.equal(k.handleCount, base + 1);
        const b = a.duplicate();
        assert.equal(k.handleCount, base + 2);
        const c = k.rootVmar.allocate(CMRW, 0, 4 * P);
        assert.equal(k.handleCount, base + 3);
        a.close();
        b.close();
        c.close();
        assert.equal(k.handleCount, base);
      });
    });

    it("createVmo returns a Vmo of this kernel", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(3 * P + 1);
        assert.ok(vmo instanceof Vmo);
        assert.equal(vmo.kernel, k);
        assert.equal(vmo.type, "vmo");
        assert.equal(vmo.size, 4 * P);
      });
    });

    it("close() invalidates every handle, unmaps everything and is idempotent", () => {
      const k = t.open();
      const vmo = k.createVmo(P);
      const sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
      const m = sub.map(RW, 0, vmo, 0, P);
      assert.ok(m.alive);
      k.close();
      assert.equal(vmo.valid, false);
      assert.equal(sub.valid, false);
      assert.equal(m.alive, false);
      expectStatus(() => vmo.size, ZxStatus.ErrBadHandle);
      expectStatus(() => vmo.read(1, 0), ZxStatus.ErrBadHandle);
      k.close();
      vmo.close();
      m.unmap();
    });

    it("[Symbol.dispose] closes the kernel (using)", () => {
      let vmo: Vmo;
      {
        using k = t.open();
        vmo = k.createVmo(P);
        assert.ok(vmo.valid);
      }
      assert.equal(vmo.valid, false);
    });

    it("kernels are independent: handles from another kernel are ErrBadHandle", () => {
      withKernel(t, (k1) => {
        withKernel(t, (k2) => {
          using v1 = k1.createVmo(P);
          using v2 = k2.createVmo(P);
          using sub1 = k1.rootVmar.allocate(CMRW, 0, 4 * P);
          expectStatus(
            () => k2.rootVmar.map(RW, 0, v1, 0, P),
            ZxStatus.ErrBadHandle,
            "zx_vmar_map",
          );
          expectStatus(() => sub1.map(RW, 0, v2, 0, P), ZxStatus.ErrBadHandle, "zx_vmar_map");
          assert.equal(k1.rootVmar.mappings().length, 0);
          assert.equal(k2.rootVmar.mappings().length, 0);
          // Each kernel's handle table is its own: a kernel never sees the other's objects.
          v1.write(new Uint8Array([1]), 0);
          assert.equal(v2.read(1, 0)[0], 0);
        });
      });
    });

    it("a closed kernel's handles stay invalid in a new kernel", () => {
      const k1 = t.open();
      const v = k1.createVmo(P);
      k1.close();
      withKernel(t, (k2) => {
        expectStatus(() => k2.rootVmar.map(RW, 0, v, 0, P), ZxStatus.ErrBadHandle);
      });
    });

    it("rootVmarSize sets the root VMAR's length", () => {
      const probe = t.open();
      const backend = probe.backend;
      probe.close();
      using k = Kernel.open({ backend, rootVmarSize: 1024 * P });
      assert.equal(k.rootVmar.len, 1024 * P);
      using vmo = k.createVmo(P);
      expectStatus(
        () => k.rootVmar.map(RW, 0, vmo, 0, 1025 * P),
        ZxStatus.ErrInvalidArgs,
        "zx_vmar_map",
      );
    });

    it("emulated placement is deterministic for a seed", () => {
      const a = t.open();
      const backend = a.backend;
      a.close();
      if (backend !== "emulated") return;
      const addrs = (): number[] => {
        using k = Kernel.open({ backend: "emulated", seed: 1234 });
        using vmo = k.createVmo(P);
        const out: number[] = [];
        for (let i = 0; i < 5; i++) out.push(k.rootVmar.map(RW, 0, vmo, 0, P).addr);
        return out;
      };
      assert.deepEqual(addrs(), addrs());
    });

    it("Kernel.open rejects options of the wrong type", () => {
      expectTypeError(() => Kernel.open({ backend: "bogus" as unknown as "emulated" }));
      expectTypeError(() => Kernel.open("emulated" as unknown as { backend: "emulated" }));
    });
  });

  describe("default kernel (Vmo.create, Vmar.root)", () => {
    it("Vmar.root() is Kernel.default.rootVmar and Vmo.create uses the default kernel", () => {
      const k = Kernel.default;
      assert.equal(Vmar.root(), k.rootVmar);
      const before = k.handleCount;
      using vmo = Vmo.create(P);
      assert.equal(vmo.kernel, k);
      assert.equal(k.handleCount, before + 1);
      using m = Vmar.root().map(RW, 0, vmo, 0, P);
      m.write(0, new Uint8Array([7]));
      assert.equal(vmo.read(1, 0)[0], 7);
    });

    it("Vmo.create honours options (the origin document's binding dropped them)", () => {
      using r = Vmo.create(P, VmoOptions.Resizable);
      assert.equal(r.rights, Rights.DefaultVmo | Rights.Resize);
      r.setSize(2 * P);
      assert.equal(r.size, 2 * P);
      using d = Vmo.create(P, VmoOptions.Discardable);
      d.opRange(VmoOp.Lock, 0, P);
      d.opRange(VmoOp.Unlock, 0, P);
      using n = Vmo.create(P);
      expectStatus(() => n.setSize(2 * P), ZxStatus.ErrUnavailable, "zx_vmo_set_size");
    });
  });

  describe("numbers", () => {
    it("sizes, offsets and addresses accept bigint and come back as number", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(BigInt(2 * P));
        assert.equal(typeof vmo.size, "number");
        assert.equal(vmo.size, 2 * P);
        vmo.write(new Uint8Array([5]), BigInt(P));
        assert.equal(vmo.read(1n, BigInt(P))[0], 5);
        using m = k.rootVmar.map(RW, 0n, vmo, BigInt(P), BigInt(P));
        assert.equal(typeof m.addr, "number");
        assert.equal(typeof m.len, "number");
        assert.equal(m.read(0n, 1n)[0], 5);
        using sub = k.rootVmar.allocate(CMRW, 0n, BigInt(4 * P));
        assert.equal(typeof sub.base, "number");
        assert.equal(sub.len, 4 * P);
        k.rootVmar.unmap(BigInt(m.addr), BigInt(P));
        assert.equal(m.alive, false);
      });
    });

    it("values outside u64 are ErrInvalidArgs", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const bad: (number | bigint)[] = [-1, 0.5, NaN, Infinity, -1n, TWO64, 2 ** 64, -Infinity];
        for (const v of bad) {
          const what = String(v);
          expectStatus(() => k.createVmo(v), ZxStatus.ErrInvalidArgs, "zx_vmo_create", what);
          expectStatus(() => vmo.read(1, v), ZxStatus.ErrInvalidArgs, undefined, what);
          expectStatus(
            () => vmo.write(new Uint8Array(1), v),
            ZxStatus.ErrInvalidArgs,
            undefined,
            what,
          );
          expectStatus(
            () => k.rootVmar.map(RW, 0, vmo, v, P),
            ZxStatus.ErrInvalidArgs,
            "zx_vmar_map",
            what,
          );
          expectStatus(
            () => k.rootVmar.map(RW, 0, vmo, 0, v),
            ZxStatus.ErrInvalidArgs,
            "zx_vmar_map",
            what,
          );
          expectStatus(
            () => k.rootVmar.map(RW, v, vmo, 0, P),
            ZxStatus.ErrInvalidArgs,
            "zx_vmar_map",
            what,
          );
          expectStatus(
            () => k.rootVmar.allocate(CMRW, 0, v),
            ZxStatus.ErrInvalidArgs,
            undefined,
            what,
          );
          expectStatus(() => k.rootVmar.unmap(v, P), ZxStatus.ErrInvalidArgs, undefined, what);
          expectStatus(
            () => vmo.createChild(VmoChildOptions.Slice, v, P),
            ZxStatus.ErrInvalidArgs,
            undefined,
            what,
          );
        }
        assert.equal(k.rootVmar.mappings().length, 0);
      });
    });

    it("wrong JS types are TypeError", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const wrong: unknown[] = ["4096", undefined, null, {}, [], true];
        for (const v of wrong) {
          const what = String(v);
          expectTypeError(() => k.createVmo(v as number), what);
          // (read's offset is optional: undefined means 0.)
          if (v !== undefined) expectTypeError(() => vmo.read(1, v as number), what);
          expectTypeError(() => vmo.read(v as number, 0), what);
          expectTypeError(() => k.rootVmar.map(RW, 0, vmo, 0, v as number), what);
          expectTypeError(() => k.rootVmar.allocate(CMRW, 0, v as number), what);
          expectTypeError(() => k.rootVmar.unmap(v as number, P), what);
        }
        expectTypeError(() => k.rootVmar.map("1" as unknown as number, 0, vmo, 0, P));
        expectTypeError(() => k.rootVmar.map(RW, 0, {} as unknown as Vmo, 0, P));
        expectTypeError(() => k.rootVmar.map(RW, 0, null as unknown as Vmo, 0, P));
        expectTypeError(() => vmo.write("abc" as unknown as Uint8Array, 0));
        assert.equal(k.rootVmar.mappings().length, 0);
      });
    });

    it("integers past 2^53 given as bigint keep their exact value", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        // 2^64 - P + 2 is unaligned; as a double it would round to 2^64 - P (aligned).
        expectStatus(
          () => k.rootVmar.map(RW, 0, vmo, TWO64 - BigInt(P) + 2n, P),
          ZxStatus.ErrInvalidArgs,
          "zx_vmar_map",
        );
      });
    });

    it("the largest VMO is 2^40 bytes; larger is ErrOutOfRange", () => {
      withKernel(t, (k) => {
        using big = k.createVmo(2 ** 40);
        assert.equal(big.size, 2 ** 40);
        expectStatus(() => k.createVmo(2 ** 40 + 1), ZxStatus.ErrOutOfRange, "zx_vmo_create");
        expectStatus(() => k.createVmo(2 ** 41), ZxStatus.ErrOutOfRange, "zx_vmo_create");
        expectStatus(() => k.createVmo(TWO64 - 1n), ZxStatus.ErrOutOfRange, "zx_vmo_create");
        const e = expectStatus(() => k.createVmo(2 ** 50), ZxStatus.ErrOutOfRange);
        assert.ok(e instanceof ZxError);
      });
    });

    it("a map can use every mapping option bit it is given", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(
          RW | O.VmMapRange | O.VmRequireNonResizable | O.VmAllowFaults,
          0,
          vmo,
          0,
          P,
        );
        assert.equal(m.options, RW | O.VmMapRange | O.VmRequireNonResizable | O.VmAllowFaults);
      });
    });
  });
}
