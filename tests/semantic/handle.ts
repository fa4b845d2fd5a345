/**
 * `Handle` members (raw, koid, type, rights, valid, kernel, close, dispose, duplicate,
 * replace, name, basicInfo, signals, waitOne) and the ported T-hdup cases.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Rights,
  Signals,
  Vmar,
  Vmo,
  VmoChildOptions,
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
  withKernel,
  withKernelAsync,
} from "./helpers.ts";

/** Await `p` and return the status name it rejects with, or "resolved:<value>". */
async function settle(p: Promise<number>): Promise<string> {
  try {
    return `resolved:${await p}`;
  } catch (e) {
    if (e instanceof ZxError) return `rejected:${e.status}`;
    throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Register the Handle tests. */
export function handleTests(t: SuiteContext): void {
  describe("Handle", () => {
    it("raw: 32-bit values with the low two bits set, unique per handle", () => {
      withKernel(t, (k) => {
        using a = k.createVmo(P);
        using b = a.duplicate();
        using c = k.rootVmar.allocate(CMRW, 0, P);
        const raws = [a.raw, b.raw, c.raw, k.rootVmar.raw];
        for (const r of raws) {
          assert.ok(Number.isInteger(r) && r > 0 && r <= 0xFFFFFFFF, `raw ${r}`);
          assert.equal(r & 3, 3, "ZX_HANDLE_FIXED_BITS_MASK bits are set");
        }
        assert.equal(new Set(raws).size, raws.length);
      });
    });

    it("koid: same object same koid, different objects different koids", () => {
      withKernel(t, (k) => {
        using a = k.createVmo(P);
        using b = a.duplicate();
        using c = k.createVmo(P);
        using v = k.rootVmar.allocate(CMRW, 0, P);
        assert.ok(Number.isInteger(a.koid) && a.koid > 0);
        assert.equal(a.koid, b.koid);
        assert.notEqual(a.koid, c.koid);
        assert.notEqual(a.koid, v.koid);
        assert.notEqual(v.koid, k.rootVmar.koid);
      });
    });

    it("type and basicInfo (ZX_INFO_HANDLE_BASIC)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using vmar = k.rootVmar.allocate(CMRW, 0, P);
        assert.equal(vmo.type, "vmo");
        assert.equal(vmar.type, "vmar");
        const bi = vmo.basicInfo();
        assert.equal(bi.koid, vmo.koid);
        assert.equal(bi.rights, vmo.rights);
        assert.equal(bi.type, 3, "ZX_OBJ_TYPE_VMO");
        assert.equal(bi.relatedKoid, 0);
        const bv = vmar.basicInfo();
        assert.equal(bv.koid, vmar.koid);
        assert.equal(bv.rights, vmar.rights);
        assert.equal(bv.type, 18, "ZX_OBJ_TYPE_VMAR");
        assert.equal(k.rootVmar.basicInfo().type, 18);
      });
    });

    it("default rights: VMO 0xD0EF, resizable VMO +Resize, VMAR 0x208003+R/W/X per CAN_MAP", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        assert.equal(vmo.rights, 0xD0EF);
        assert.equal(vmo.rights, Rights.DefaultVmo);
        using rz = k.createVmo(P, VmoOptions.Resizable);
        assert.equal(rz.rights, 0x40D0EF);
        using rw = k.rootVmar.allocate(CMRW, 0, P);
        assert.equal(rw.rights, 0x20800F);
        using r = k.rootVmar.allocate(O.VmCanMapRead, 0, P);
        assert.equal(r.rights, Rights.DefaultVmar | Rights.Read);
        using w = k.rootVmar.allocate(O.VmCanMapWrite, 0, P);
        assert.equal(w.rights, Rights.DefaultVmar | Rights.Write);
        using x = k.rootVmar.allocate(O.VmCanMapExecute | O.VmCanMapSpecific, 0, P);
        assert.equal(x.rights, Rights.DefaultVmar | Rights.Execute);
        using none = k.rootVmar.allocate(0, 0, P);
        assert.equal(none.rights, Rights.DefaultVmar);
      });
    });

    it("valid, close() idempotent, [Symbol.dispose], kernel", () => {
      withKernel(t, (k) => {
        const before = k.handleCount;
        const vmo = k.createVmo(P);
        assert.equal(vmo.kernel, k);
        assert.ok(vmo.valid);
        vmo.close();
        assert.equal(vmo.valid, false);
        vmo.close();
        assert.equal(k.handleCount, before);
        let inner: Vmo;
        {
          using v = k.createVmo(P);
          inner = v;
          assert.ok(v.valid);
        }
        assert.equal(inner.valid, false);
        assert.equal(k.handleCount, before);
      });
    });

    it("a closed handle is ErrBadHandle everywhere", () => {
      withKernel(t, (k) => {
        const vmo = k.createVmo(P);
        const vmar = k.rootVmar.allocate(CMRW, 0, 4 * P);
        using live = k.createVmo(P);
        vmo.close();
        vmar.close();
        expectStatus(() => vmo.read(1, 0), ZxStatus.ErrBadHandle, "zx_vmo_read");
        expectStatus(() => vmo.write(new Uint8Array(1), 0), ZxStatus.ErrBadHandle, "zx_vmo_write");
        expectStatus(() => vmo.size, ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.setSize(P), ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.contentSize, ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.opRange(1, 0, P), ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.createChild(VmoChildOptions.Snapshot, 0, P), ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.info(), ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.rights, ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.koid, ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.basicInfo(), ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.name, ZxStatus.ErrBadHandle);
        expectStatus(() => {
          vmo.name = "x";
        }, ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.signals, ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.waitOne(Signals.VmoZeroChildren), ZxStatus.ErrBadHandle);
        expectStatus(() => vmo.duplicate(), ZxStatus.ErrBadHandle, "zx_handle_duplicate");
        expectStatus(() => vmo.replace(), ZxStatus.ErrBadHandle, "zx_handle_replace");
        expectStatus(() => k.rootVmar.map(RW, 0, vmo, 0, P), ZxStatus.ErrBadHandle, "zx_vmar_map");
        expectStatus(() => vmar.map(RW, 0, live, 0, P), ZxStatus.ErrBadHandle, "zx_vmar_map");
        expectStatus(() => vmar.allocate(CMRW, 0, P), ZxStatus.ErrBadHandle, "zx_vmar_allocate");
        expectStatus(() => vmar.unmap(0, P), ZxStatus.ErrBadHandle, "zx_vmar_unmap");
        expectStatus(
          () => vmar.protect(O.VmPermRead, 0, P),
          ZxStatus.ErrBadHandle,
          "zx_vmar_protect",
        );
        expectStatus(() => vmar.destroy(), ZxStatus.ErrBadHandle, "zx_vmar_destroy");
        expectStatus(() => vmar.opRange(1, 0, P), ZxStatus.ErrBadHandle, "zx_vmar_op_range");
        expectStatus(() => vmar.base, ZxStatus.ErrBadHandle);
        expectStatus(() => vmar.len, ZxStatus.ErrBadHandle);
        expectStatus(() => vmar.mappings(), ZxStatus.ErrBadHandle);
        assert.equal(k.rootVmar.mappings().length, 0);
      });
    });

    it("closing a VMAR handle does not free its range; closing a VMO handle keeps mappings", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const sub = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 4 * P);
        const base = sub.base;
        const m = sub.map(RW, 0, vmo, 0, P);
        sub.close();
        assert.ok(m.alive, "closing never unmaps");
        // The range is still allocated: a SPECIFIC allocation over it fails.
        expectStatus(
          () => k.rootVmar.allocate(CMRW | O.VmSpecific, base - k.rootVmar.base, P),
          ZxStatus.ErrAlreadyExists,
        );
        m.write(0, new Uint8Array([3]));
        assert.equal(vmo.read(1, 0)[0], 3);
        k.rootVmar.unmap(base, 4 * P);
        assert.equal(m.alive, false);
      });
    });

    describe("duplicate", () => {
      it("SameRights (default) keeps rights; a subset narrows them; 0 is allowed", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          using same = vmo.duplicate();
          assert.ok(same instanceof Vmo);
          assert.equal(same.rights, vmo.rights);
          assert.notEqual(same.raw, vmo.raw);
          using same2 = vmo.duplicate(Rights.SameRights);
          assert.equal(same2.rights, vmo.rights);
          using ro = vmo.duplicate(Rights.Read | Rights.Map);
          assert.equal(ro.rights, Rights.Read | Rights.Map);
          using none = vmo.duplicate(Rights.None);
          assert.equal(none.rights, 0);
          using sub = k.rootVmar.allocate(CMRW, 0, P);
          using sd = sub.duplicate();
          assert.ok(sd instanceof Vmar);
          assert.equal(sd.base, sub.base);
          // The root VMAR can be duplicated (zxvm's way to get an owned root handle).
          using rd = k.rootVmar.duplicate();
          assert.equal(rd.koid, k.rootVmar.koid);
          assert.equal(rd.rights, k.rootVmar.rights);
        });
      });

      it("rights not a subset are ErrInvalidArgs; no Duplicate right is ErrAccessDenied", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          const before = k.handleCount;
          expectStatus(
            () => vmo.duplicate(Rights.Execute),
            ZxStatus.ErrInvalidArgs,
            "zx_handle_duplicate",
          );
          expectStatus(() => vmo.duplicate(Rights.Resize), ZxStatus.ErrInvalidArgs);
          using noDup = vmo.duplicate(Rights.Read | Rights.Map);
          expectStatus(
            () => noDup.duplicate(Rights.Read),
            ZxStatus.ErrAccessDenied,
            "zx_handle_duplicate",
          );
          expectStatus(() => noDup.duplicate(), ZxStatus.ErrAccessDenied);
          assert.equal(k.handleCount, before + 1);
          expectTypeError(() => vmo.duplicate("all" as unknown as number));
        });
      });
    });

    describe("replace", () => {
      it("T-hdup ReplaceSuccessOrigInvalid", () => {
        withKernel(t, (k) => {
          const vmo = k.createVmo(P);
          const before = k.handleCount;
          using r = vmo.replace(Rights.Basic);
          assert.equal(vmo.valid, false);
          assert.ok(r.valid);
          assert.equal(r.rights, Rights.Basic);
          assert.equal(k.handleCount, before);
          expectStatus(() => vmo.size, ZxStatus.ErrBadHandle);
        });
      });

      it("T-hdup ReplaceFailureBothInvalid", () => {
        withKernel(t, (k) => {
          const vmo = k.createVmo(P);
          const before = k.handleCount;
          expectStatus(
            () => vmo.replace(Rights.Execute),
            ZxStatus.ErrInvalidArgs,
            "zx_handle_replace",
          );
          assert.equal(vmo.valid, false, "the original is invalid after a failed replace");
          assert.equal(k.handleCount, before - 1, "and no new handle exists");
        });
      });

      it("needs no right; SameRights keeps rights; works on VMARs", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          const weak = vmo.duplicate(Rights.Read);
          const r = weak.replace();
          assert.equal(r.rights, Rights.Read);
          const r2 = r.replace(Rights.None);
          assert.equal(r2.rights, 0);
          r2.close();
          const sub = k.rootVmar.allocate(CMRW, 0, P);
          const base = sub.base;
          using s2 = sub.replace();
          assert.ok(s2 instanceof Vmar);
          assert.equal(s2.base, base);
          assert.equal(sub.valid, false);
        });
      });
    });

    describe("name (ZX_PROP_NAME)", () => {
      it("starts empty, is per object, is visible in info(), truncates to 31 bytes", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          assert.equal(vmo.name, "");
          vmo.name = "test vmo";
          assert.equal(vmo.name, "test vmo");
          using dup = vmo.duplicate();
          assert.equal(dup.name, "test vmo");
          assert.equal(vmo.info().name, "test vmo");
          vmo.name = "a".repeat(40);
          assert.equal(vmo.name, "a".repeat(31));
          vmo.name = "";
          assert.equal(vmo.name, "");
          // Truncation counts UTF-8 bytes and keeps a prefix.
          vmo.name = "é".repeat(20);
          const bytes = new TextEncoder().encode(vmo.name).length;
          assert.ok(bytes <= 31, `${bytes} bytes`);
          assert.ok("é".repeat(20).startsWith(vmo.name));
          assert.ok(vmo.name.length >= 15);
          // Zircon keeps a C string: nothing after a NUL is read back.
          vmo.name = "ab\0cd";
          assert.equal(vmo.name, "ab");
          vmo.name = "\0abc";
          assert.equal(vmo.name, "");
        });
      });

      it("needs GetProperty / SetProperty; a non-string is TypeError", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          vmo.name = "keep";
          using noGet = vmo.duplicate(Rights.SetProperty);
          using noSet = vmo.duplicate(Rights.GetProperty);
          expectStatus(() => noGet.name, ZxStatus.ErrAccessDenied);
          expectStatus(() => {
            noSet.name = "changed";
          }, ZxStatus.ErrAccessDenied);
          assert.equal(vmo.name, "keep");
          expectTypeError(() => {
            vmo.name = 5 as unknown as string;
          });
        });
      });
    });

    describe("signals and waitOne", () => {
      it("a new VMO asserts ZERO_CHILDREN; a child clears it synchronously; closing re-asserts", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          assert.equal(vmo.signals & Signals.VmoZeroChildren, Signals.VmoZeroChildren);
          const child = vmo.createChild(VmoChildOptions.Snapshot, 0, P);
          assert.equal(vmo.signals & Signals.VmoZeroChildren, 0);
          assert.equal(child.signals & Signals.VmoZeroChildren, Signals.VmoZeroChildren);
          child.close();
          assert.equal(vmo.signals & Signals.VmoZeroChildren, Signals.VmoZeroChildren);
        });
      });

      it("signals and waitOne need Rights.Wait", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          using noWait = vmo.duplicate(Rights.Read);
          expectStatus(() => noWait.signals, ZxStatus.ErrAccessDenied);
          expectStatus(() => noWait.waitOne(Signals.VmoZeroChildren), ZxStatus.ErrAccessDenied);
        });
      });

      it("VMAR handles have no Wait right (ZX_DEFAULT_VMAR_RIGHTS)", () => {
        withKernel(t, (k) => {
          using sub = k.rootVmar.allocate(CMRW, 0, P);
          expectStatus(() => sub.waitOne(Signals.ObjectSignal0), ZxStatus.ErrAccessDenied);
        });
      });

      it("waitOne resolves at once when a signal is already asserted", async () => {
        await withKernelAsync(t, async (k) => {
          using vmo = k.createVmo(P);
          const got = await vmo.waitOne(Signals.VmoZeroChildren, { deadline: Date.now() + 5000 });
          assert.equal(got & Signals.VmoZeroChildren, Signals.VmoZeroChildren);
        });
      });

      it("waitOne resolves when the last child closes (ZERO_CHILDREN)", async () => {
        await withKernelAsync(t, async (k) => {
          using vmo = k.createVmo(P);
          const child = vmo.createChild(VmoChildOptions.Slice, 0, P);
          let done = false;
          const p = vmo.waitOne(Signals.VmoZeroChildren, { deadline: Date.now() + 10_000 });
          p.then(() => done = true, () => done = true);
          await sleep(20);
          assert.equal(done, false, "still waiting while the child lives");
          child.close();
          const got = await p;
          assert.equal(got & Signals.VmoZeroChildren, Signals.VmoZeroChildren);
        });
      });

      it("waitOne with a deadline rejects ErrTimedOut", async () => {
        await withKernelAsync(t, async (k) => {
          using vmo = k.createVmo(P);
          using child = vmo.createChild(VmoChildOptions.Snapshot, 0, P);
          const start = Date.now();
          const r = await settle(vmo.waitOne(Signals.VmoZeroChildren, { deadline: start + 50 }));
          assert.equal(r, `rejected:${ZxStatus.ErrTimedOut}`);
          assert.ok(Date.now() - start >= 40, "did not time out early");
          // A deadline already in the past times out too.
          const r2 = await settle(vmo.waitOne(Signals.VmoZeroChildren, { deadline: 0 }));
          assert.equal(r2, `rejected:${ZxStatus.ErrTimedOut}`);
          // A signal never asserted on a VMO.
          const r3 = await settle(
            child.waitOne(Signals.UserSignal0, { deadline: Date.now() + 10 }),
          );
          assert.equal(r3, `rejected:${ZxStatus.ErrTimedOut}`);
        });
      });

      it("waitOne is canceled by an AbortSignal (ErrCanceled)", async () => {
        await withKernelAsync(t, async (k) => {
          using vmo = k.createVmo(P);
          using _child = vmo.createChild(VmoChildOptions.Snapshot, 0, P);
          const ac = new AbortController();
          const p = vmo.waitOne(Signals.VmoZeroChildren, { signal: ac.signal });
          await sleep(5);
          ac.abort();
          assert.equal(await settle(p), `rejected:${ZxStatus.ErrCanceled}`);
          const pre = new AbortController();
          pre.abort();
          const r = await settle(vmo.waitOne(Signals.VmoZeroChildren, { signal: pre.signal }));
          assert.equal(r, `rejected:${ZxStatus.ErrCanceled}`);
        });
      });

      it("waitOne is canceled when the handle is closed during the wait", async () => {
        await withKernelAsync(t, async (k) => {
          using vmo = k.createVmo(P);
          using _child = vmo.createChild(VmoChildOptions.Snapshot, 0, P);
          const dup = vmo.duplicate();
          const p = dup.waitOne(Signals.VmoZeroChildren, { deadline: Date.now() + 10_000 });
          await sleep(5);
          dup.close();
          assert.equal(await settle(p), `rejected:${ZxStatus.ErrCanceled}`);
        });
      });

      it("waitOne rejects arguments of the wrong type", () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(P);
          expectTypeError(() => vmo.waitOne("8" as unknown as number));
          expectTypeError(() =>
            vmo.waitOne(Signals.VmoZeroChildren, { signal: {} as unknown as AbortSignal })
          );
        });
      });
    });
  });
}
