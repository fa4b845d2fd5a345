/**
 * `Mapping`: accessors, faults, `bytes()`, `unmap()`/dispose, and the T-vmo cases that need
 * fault probes (portable here because zxvm's accessors report faults as `ZxError`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Mapping, VmoChildOptions, VmoOp, VmoOptions, ZxError, ZxStatus } from "../../mod.ts";
import {
  CMRW,
  expectStatus,
  expectTypeError,
  filled,
  O,
  P,
  probe,
  RW,
  type SuiteContext,
  withKernel,
} from "./helpers.ts";

const S = ZxStatus;
const FAULT = "page_fault";

/** Whether `b` has `transfer()` (Deno; Node 20 lacks it). */
function hasTransfer(
  b: ArrayBuffer,
): b is ArrayBuffer & { transfer(): ArrayBuffer; transferToFixedLength(): ArrayBuffer } {
  return typeof (b as { transfer?: unknown }).transfer === "function";
}

/**
 * Move a bytes() view's buffer to a new owner, as a user handing it to a worker would; the new
 * view, or null when this runtime copies instead (then nothing escaped).
 */
function steal(view: Uint8Array): Uint8Array | null {
  const b = view.buffer as ArrayBuffer;
  const moved = hasTransfer(b) ? b.transfer() : structuredClone(b, { transfer: [b] });
  return view.length === 0 ? new Uint8Array(moved) : null;
}

/** Register the Mapping tests. */
export function mappingTests(t: SuiteContext): void {
  describe("Mapping", () => {
    it("addr, len, vmar, options, alive", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(3 * P);
        using sub = k.rootVmar.allocate(CMRW, 0, 8 * P);
        const m = sub.map(O.VmPermRead | O.VmMapRange, 0, vmo, P, 2 * P - 5);
        assert.ok(m instanceof Mapping);
        assert.equal(m.len, 2 * P);
        assert.equal(m.vmar, sub);
        assert.equal(m.options, O.VmPermRead | O.VmMapRange);
        assert.ok(m.alive);
        m.unmap();
        assert.equal(m.alive, false);
        assert.equal(sub.mappings().length, 0);
        m.unmap();
      });
    });

    it("read/write go to the VMO at vmo_offset + offset", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using m = k.rootVmar.map(RW, 0, vmo, P, 2 * P);
        m.write(10, new Uint8Array([1, 2, 3]));
        assert.deepEqual(vmo.read(3, P + 10), new Uint8Array([1, 2, 3]));
        vmo.write(new Uint8Array([9, 8]), 2 * P + 100);
        assert.deepEqual(m.read(P + 100, 2), new Uint8Array([9, 8]));
        assert.deepEqual(m.read(2 * P - 1, 1), new Uint8Array([0]));
        assert.equal(m.read(0, 0).length, 0);
      });
    });

    it("accesses beyond the mapping's length fault and write nothing", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        const e = expectStatus(() => m.read(P - 1, 2), S.ErrOutOfRange, FAULT);
        assert.ok(e instanceof ZxError && e.fault !== undefined);
        expectStatus(() => m.write(P - 1, new Uint8Array([1, 1])), S.ErrOutOfRange, FAULT);
        assert.equal(vmo.read(1, P - 1)[0], 0);
        assert.equal(vmo.read(1, P)[0], 0);
      });
    });

    it("a fault reports { addr, access } and op page_fault", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        const m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, 2 * P);
        const w = expectStatus(() => m.write(5, new Uint8Array(1)), S.ErrAccessDenied, FAULT);
        assert.deepEqual(w.fault, { addr: m.addr + 5, access: "write" });
        k.rootVmar.unmap(m.addr + P, P);
        const r = expectStatus(() => m.read(P + 7, 1), S.ErrNotFound, FAULT);
        assert.deepEqual(r.fault, { addr: m.addr + P + 7, access: "read" });
        const span = expectStatus(() => m.read(P - 2, 4), S.ErrNotFound, FAULT);
        assert.deepEqual(span.fault, { addr: m.addr + P, access: "read" });
        m.unmap();
      });
    });

    it("unmap() unmaps only what is still this mapping's; [Symbol.dispose] unmaps (using)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P);
        using r = k.rootVmar.allocate(CMRW | O.VmCanMapSpecific, 0, 8 * P);
        const a = r.map(RW | O.VmSpecific, 0, vmo, 0, 4 * P);
        const b = r.map(RW | O.VmSpecificOverwrite, 2 * P, vmo, 0, 2 * P);
        a.unmap();
        assert.equal(a.alive, false);
        assert.ok(b.alive, "the overwriting mapping survives");
        assert.equal(probe(b, b.addr), "ok");
        {
          using c = r.map(RW, 0, vmo, 0, P);
          assert.ok(c.alive);
        }
        assert.equal(r.mappings().length, 1);
        b.unmap();
        assert.equal(r.mappings().length, 0);
        assert.equal(vmo.info().numMappings, 0);
      });
    });

    it("read/write arguments: wrong types are TypeError, bad numbers ErrInvalidArgs", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        expectTypeError(() => m.write(0, [1] as unknown as Uint8Array));
        expectTypeError(() => m.read("0" as unknown as number, 1));
        expectStatus(() => m.read(-1, 1), S.ErrInvalidArgs);
        expectStatus(() => m.read(0.5, 1), S.ErrInvalidArgs);
      });
    });

    it("after kernel close a Mapping is not alive and its accessors throw ZxError", () => {
      const k = t.open();
      const vmo = k.createVmo(P);
      const m = k.rootVmar.map(RW, 0, vmo, 0, P);
      k.close();
      assert.equal(m.alive, false);
      assert.throws(() => m.read(0, 1), ZxError);
      assert.throws(() => m.write(0, new Uint8Array(1)), ZxError);
      m.unmap();
    });
  });

  describe("Mapping.bytes()", () => {
    it("is a zero-copy view of a read-write mapping", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        const b = m.bytes();
        assert.ok(b instanceof Uint8Array);
        assert.equal(b.length, 2 * P);
        b[P + 1] = 42;
        assert.equal(vmo.read(1, P + 1)[0], 42);
        vmo.write(new Uint8Array([43]), 7);
        assert.equal(b[7], 43);
        assert.equal(m.read(P + 1, 1)[0], 42);
      });
    });

    it("needs a readable and writable mapping (else ErrAccessDenied)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using r = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
        expectStatus(() => r.bytes(), S.ErrAccessDenied);
        using n = k.rootVmar.map(0, 0, vmo, 0, P);
        expectStatus(() => n.bytes(), S.ErrAccessDenied);
        using w = k.rootVmar.map(RW, 0, vmo, 0, P);
        k.rootVmar.protect(O.VmPermRead, w.addr, P);
        expectStatus(() => w.bytes(), S.ErrAccessDenied);
      });
    });

    it("covers only the part backed by the VMO", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 3 * P);
        assert.equal(m.bytes().length, P);
      });
    });

    it("a view is detached by unmap", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        const m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        const v = m.bytes();
        m.unmap();
        assert.equal(v.length, 0);
      });
    });

    it("a view is detached by a protect that removes write access", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        const v = m.bytes();
        k.rootVmar.protect(O.VmPermRead, m.addr, 2 * P);
        assert.equal(v.length, 0);
      });
    });

    it("a view is detached by VMAR destroy", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        using sub = k.rootVmar.allocate(CMRW, 0, 4 * P);
        const m = sub.map(RW, 0, vmo, 0, 2 * P);
        const v = m.bytes();
        sub.destroy();
        assert.equal(v.length, 0);
      });
    });

    it("a view over pages the VMO lost is detached when it shrinks", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P, VmoOptions.Resizable);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        const v = m.bytes();
        vmo.setSize(P);
        assert.equal(v.length, 0);
        assert.equal(m.bytes().length, P);
      });
    });

    it("writes through a view after a decommit or zero reach the VMO (snapshots, unmap)", () => {
      for (const op of [VmoOp.Decommit, VmoOp.Zero]) {
        withKernel(t, (k) => {
          using vmo = k.createVmo(2 * P);
          const m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
          const view = m.bytes();
          vmo.opRange(op, 0, P); // does not detach the view
          view[0] = 42;
          assert.equal(vmo.read(1, 0)[0], 42);
          using snap = vmo.createChild(VmoChildOptions.Snapshot, 0, 2 * P);
          assert.equal(snap.read(1, 0)[0], 42, "the snapshot has it");
          m.unmap();
          assert.equal(vmo.read(1, 0)[0], 42, "still there once the view is revoked");
        });
      }
    });

    it("a view is detached by kernel close", () => {
      const k = t.open();
      try {
        const vmo = k.createVmo(2 * P);
        const m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        const v = m.bytes();
        k.close();
        assert.equal(v.length, 0);
      } finally {
        k.close();
      }
    });
  });

  describe("views transferred out of zxvm's control (ArrayBuffer transfer, postMessage)", () => {
    // A bytes() view's buffer can be moved to a new owner: the old view is detached, but the
    // new buffer reaches the same memory and zxvm cannot revoke it. zxvm notices, keeps that
    // memory accessible (native: private zero pages once unmapped, never mapped again) and
    // refuses what would cut it off. On the emulated backend the moved buffer *is* the VMO's
    // storage segment, so the VMO answers ErrBadState from then on.
    const native = t.label === "native";
    const ways: Array<[string, (b: ArrayBuffer) => ArrayBuffer | null]> = [
      ["ArrayBuffer.prototype.transfer", (b) => hasTransfer(b) ? b.transfer() : null],
      ["transferToFixedLength", (b) => hasTransfer(b) ? b.transferToFixedLength() : null],
      ["structuredClone with a transfer list", (b) => structuredClone(b, { transfer: [b] })],
    ];
    for (const [how, move] of ways) {
      it(`${how}: unmap retires the range instead of leaving memory that faults`, () => {
        withKernel(t, (k) => {
          using vmo = k.createVmo(2 * P);
          const m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
          const view = m.bytes();
          view[0] = 7;
          const moved = move(view.buffer as ArrayBuffer);
          if (moved === null || view.length !== 0) {
            // This runtime copied instead of moving (Node 20 copies koffi's external buffers,
            // and lacks transfer()): nothing escaped, the ordinary rules apply.
            m.unmap();
            assert.equal(view.length, 0);
            return;
          }
          const stolen = new Uint8Array(moved);
          assert.equal(stolen[0], 7, "the moved buffer reaches the mapped memory");
          if (native) {
            stolen[1] = 8; // still the VMO's memory while mapped
            assert.deepEqual([...vmo.read(2, 0)], [7, 8]);
          }
          const addr = m.addr;
          m.unmap(); // must succeed (Mapping disposal cannot fail)
          assert.equal(m.alive, false);
          stolen[2] = 9; // must not fault
          if (native) {
            assert.equal(stolen[0], 0, "after unmap: private zero pages, not the VMO");
            assert.deepEqual([...vmo.read(3, 0)], [7, 8, 0], "the VMO kept its data");
          } else {
            expectStatus(() => vmo.read(1, 0), S.ErrBadState, "zx_vmo_read");
          }
          // The range is out of use for good: nothing is mapped there, nothing lands there.
          assert.deepEqual(k.rootVmar.mappings(), []);
          const off = addr - k.rootVmar.base;
          expectStatus(
            () => k.rootVmar.map(RW | O.VmSpecific, off, vmo, 0, P),
            S.ErrAlreadyExists,
            "zx_vmar_map",
          );
          expectStatus(
            () => k.rootVmar.map(RW | O.VmSpecificOverwrite, off, vmo, 0, P),
            S.ErrBadState,
            "zx_vmar_map",
          );
          const again: Mapping[] = [];
          for (let i = 0; i < 64; i++) again.push(k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P));
          for (const a of again) {
            assert.ok(a.addr + a.len <= addr || a.addr >= addr + 2 * P, "placed elsewhere");
            a.unmap();
          }
          // A whole-VMAR unmap passes over it.
          k.rootVmar.unmap(k.rootVmar.base, k.rootVmar.len);
          stolen[3] = 1;
        });
      });
    }

    it("a protect that removes access under it is ErrBadState; adding access is fine", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        const stolen = steal(m.bytes());
        if (stolen === null) return;
        const before = k.rootVmar.mappings();
        for (const perms of [O.VmPermRead, 0]) {
          expectStatus(
            () => k.rootVmar.protect(perms, m.addr + P, P),
            S.ErrBadState,
            "zx_vmar_protect",
          );
        }
        assert.deepEqual(k.rootVmar.mappings(), before, "nothing changed");
        k.rootVmar.protect(RW, m.addr, 2 * P); // no access removed
        stolen[P] = 1; // still writable
        if (native) assert.equal(m.read(P, 1)[0], 1);
        else expectStatus(() => m.read(P, 1), S.ErrBadState, "page_fault");
      });
    });

    it("shrinking the VMO under it is ErrBadState; growing is fine, and so is it once unmapped", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(4 * P, VmoOptions.Resizable);
        const m = k.rootVmar.map(RW, 0, vmo, 0, 4 * P);
        const stolen = steal(m.bytes());
        if (stolen === null) {
          m.unmap();
          return;
        }
        if (native) {
          expectStatus(() => vmo.setSize(P), S.ErrBadState, "zx_vmo_set_size");
          assert.equal(vmo.size, 4 * P);
          vmo.setSize(8 * P);
          stolen[4 * P - 1] = 1; // still there
          m.unmap();
          vmo.setSize(P); // the view now reaches retired zero pages, not the VMO
          stolen[4 * P - 1] = 2;
          assert.equal(vmo.size, P);
        } else {
          m.unmap();
          expectStatus(() => vmo.setSize(P), S.ErrBadState, "zx_vmo_set_size");
        }
      });
    });

    it("destroying its VMAR keeps the range retired (it moves to the parent)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        const sub = k.rootVmar.allocate(CMRW, 0, 8 * P);
        const m = sub.map(RW, 0, vmo, 0, P);
        const addr = m.addr;
        const stolen = steal(m.bytes());
        sub.destroy();
        sub.close();
        if (stolen === null) return;
        stolen[0] = 5;
        assert.equal(m.alive, false);
        expectStatus(
          () => k.rootVmar.map(RW | O.VmSpecific, addr - k.rootVmar.base, vmo, 0, P),
          S.ErrAlreadyExists,
        );
        // A VMAR allocated over the old one's range cannot take the retired page.
        expectStatus(
          () => k.rootVmar.allocate(CMRW | O.VmSpecific, addr - k.rootVmar.base, P),
          S.ErrAlreadyExists,
        );
      });
    });

    it("it survives the kernel's close", () => {
      const k = t.open();
      let stolen: Uint8Array | null = null;
      try {
        const vmo = k.createVmo(P);
        const m = k.rootVmar.map(RW, 0, vmo, 0, P);
        stolen = steal(m.bytes());
      } finally {
        k.close();
      }
      if (stolen !== null) {
        stolen[0] = 1; // native: the retired page outlives the reservation
        assert.equal(stolen[0], 1);
      }
    });
  });

  describe("fault probes (T-vmo cases that need them)", () => {
    it("T-vmo ReadOnlyMap", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
        assert.equal(probe(m, m.addr), "ok");
        assert.equal(probe(m, m.addr, "write"), "ZX_ERR_ACCESS_DENIED");
      });
    });

    it("T-vmo NoPermMap", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(0, 0, vmo, 0, P);
        assert.equal(probe(m, m.addr), "ZX_ERR_ACCESS_DENIED");
        assert.equal(probe(m, m.addr, "write"), "ZX_ERR_ACCESS_DENIED");
        k.rootVmar.protect(O.VmPermRead, m.addr, P);
        assert.equal(probe(m, m.addr), "ok");
        assert.equal(probe(m, m.addr, "write"), "ZX_ERR_ACCESS_DENIED");
        k.rootVmar.protect(RW, m.addr, P);
        assert.equal(probe(m, m.addr, "write"), "ok");
      });
    });

    it("T-vmo NoPermProtect", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        k.rootVmar.protect(0, m.addr, P);
        assert.equal(probe(m, m.addr), "ZX_ERR_ACCESS_DENIED");
        assert.equal(probe(m, m.addr, "write"), "ZX_ERR_ACCESS_DENIED");
        k.rootVmar.protect(O.VmPermRead, m.addr, P);
        assert.equal(probe(m, m.addr), "ok");
        k.rootVmar.protect(RW, m.addr, P);
        assert.equal(probe(m, m.addr, "write"), "ok");
      });
    });

    it("T-vmo ResizeHazard", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P, VmoOptions.Resizable);
        const m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        m.write(0, filled(2 * P, 1));
        vmo.setSize(0);
        assert.equal(probe(m, m.addr), "ZX_ERR_OUT_OF_RANGE");
        assert.equal(probe(m, m.addr, "write"), "ZX_ERR_OUT_OF_RANGE");
        k.rootVmar.unmap(m.addr, 2 * P);
      });
    });

    it("T-vmo GrowMappedVmo / MappedVmoSmallerThanMapping", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P, VmoOptions.Resizable);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 4 * P);
        assert.equal(probe(m, m.addr + P - 1), "ok");
        assert.equal(probe(m, m.addr + P), "ZX_ERR_OUT_OF_RANGE");
        const e = expectStatus(() => m.read(P - 4, 8), S.ErrOutOfRange, FAULT);
        assert.equal(e.fault?.addr, m.addr + P);
        vmo.setSize(3 * P);
        assert.equal(probe(m, m.addr + 2 * P, "write"), "ok");
        assert.equal(probe(m, m.addr + 3 * P), "ZX_ERR_OUT_OF_RANGE");
        assert.deepEqual(m.read(P, 2 * P), new Uint8Array(2 * P), "grown pages read zero");
      });
    });

    it("T-vmar ProtectOverDemandPagedTest", () => {
      withKernel(t, (k) => {
        const size = 100 * P;
        const vmo = k.createVmo(size);
        using m = k.rootVmar.map(RW, 0, vmo, 0, size);
        vmo.close();
        m.write(0, new Uint8Array([5]));
        m.write(size / 2, new Uint8Array([6]));
        m.write(size - 1, new Uint8Array([7]));
        k.rootVmar.protect(O.VmPermRead, m.addr, size);
        for (const off of [0, size / 4, size / 2, size - 1]) {
          assert.equal(probe(m, m.addr + off, "write"), "ZX_ERR_ACCESS_DENIED", `offset ${off}`);
        }
        assert.deepEqual([0, size / 2, size - 1].map((o) => m.read(o, 1)[0]), [5, 6, 7]);
      });
    });

    it("T-vmar ProtectLargeUncomittedTest", () => {
      withKernel(t, (k) => {
        const size = 2 ** 30;
        const vmo = k.createVmo(size);
        using m = k.rootVmar.map(RW, 0, vmo, 0, size);
        vmo.close();
        m.write(0, new Uint8Array([5]));
        m.write(size / 2, new Uint8Array([6]));
        m.write(size - 1, new Uint8Array([7]));
        const base = Math.ceil(m.addr / (512 * P)) * (512 * P) + P;
        k.rootVmar.protect(O.VmPermRead, base, m.addr + size - base);
        assert.equal(probe(m, m.addr, "write"), "ok");
        for (const off of [size / 4, size / 2, size - 1]) {
          assert.equal(probe(m, m.addr + off, "write"), "ZX_ERR_ACCESS_DENIED", `offset ${off}`);
        }
      });
    });

    it("T-vmar UnmapLargeUncommittedTest", () => {
      withKernel(t, (k) => {
        const size = 2 ** 30;
        const vmo = k.createVmo(size);
        using m = k.rootVmar.map(RW, 0, vmo, 0, size);
        vmo.close();
        m.write(0, new Uint8Array([5]));
        m.write(size / 2, new Uint8Array([6]));
        m.write(size - 1, new Uint8Array([7]));
        const base = Math.ceil(m.addr / (512 * P)) * (512 * P) + P;
        k.rootVmar.unmap(base, m.addr + size - base);
        assert.equal(probe(m, m.addr), "ok");
        for (const off of [size / 4, size / 2, size - 1]) {
          assert.equal(probe(m, m.addr + off), "ZX_ERR_NOT_FOUND", `offset ${off}`);
        }
      });
    });

    it("decommitted pages read back zero through mappings", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, 2 * P);
        m.write(0, filled(2 * P, 3));
        vmo.opRange(VmoOp.Decommit, 0, P);
        assert.deepEqual(m.read(0, P), new Uint8Array(P));
        assert.deepEqual(m.read(P, P), filled(P, 3));
      });
    });
  });
}
