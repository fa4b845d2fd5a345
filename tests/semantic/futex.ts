/**
 * Futexes in one realm: `zx_futex_wait` / `zx_futex_wake` statuses in Zircon's order (the
 * core tests' FutexWaitValueMismatch, FutexWaitTimeout, FutexWaitBadAddress, FutexWakeup,
 * FutexWakeupLimit, FutexWakeupAddress), the Promise form, and zxvm's extension: the futex is
 * the memory, so two mappings of one VMO, and two kernels mapping it, share it. Across Workers:
 * `tests/workers_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Kernel, type Mapping, VmoOptions, ZxError, ZxStatus } from "../../mod.ts";
import {
  expectStatus,
  expectTypeError,
  le32,
  O,
  P,
  RW,
  type SuiteContext,
  withKernel,
  withKernelAsync,
} from "./helpers.ts";

const S = ZxStatus;
const WAIT = "zx_futex_wait";
const WAKE = "zx_futex_wake";

function set(m: Mapping, off: number, v: number): void {
  m.write(off, le32(v >>> 0));
}

/** The rejection status of `p` (or "ok"), within 20 s. */
async function settled(p: Promise<void>): Promise<ZxStatus | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof ZxError) return e.status;
    throw e;
  }
}

/** Wake `addr` until a waiter is woken (a native waiter starts on another thread). */
async function wakeOne(k: Kernel, addr: number): Promise<number> {
  const until = Date.now() + 20_000;
  for (;;) {
    const n = k.futexWake(addr, 1);
    if (n > 0 || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Wake `addr` until `p` settles (the word was changed first: a native waiter that starts after
 * the change ends at once, one that started before needs the wake). Returns p's outcome.
 */
async function wakeUntil(k: Kernel, addr: number, p: Promise<void>): Promise<ZxStatus | "ok"> {
  let done = false;
  const r = settled(p).finally(() => void (done = true));
  const until = Date.now() + 20_000;
  while (!done && Date.now() < until) {
    k.futexWake(addr, 1);
    await new Promise((res) => setTimeout(res, 1));
  }
  return r;
}

/** Register the futex tests. */
export function futexTests(t: SuiteContext): void {
  describe("Futex: zx_futex_wait statuses, in Zircon's order", () => {
    it("a misaligned or null address is ErrInvalidArgs, before the value is looked at", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        for (const a of [m.addr + 1, m.addr + 2, m.addr + 3, 0]) {
          expectStatus(() => k.futexWait(a, 12345), S.ErrInvalidArgs, WAIT);
          expectStatus(() => k.futexWaitAsync(a, 0), S.ErrInvalidArgs, WAIT);
          expectStatus(() => k.futexWake(a, 1), S.ErrInvalidArgs, WAKE);
        }
      });
    });

    it("an address nothing maps, a mapping without read, or past the VMO's end: ErrInvalidArgs", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(2 * P, VmoOptions.Resizable);
        using none = k.rootVmar.map(0, 0, vmo, 0, P);
        expectStatus(() => k.futexWait(none.addr, 0), S.ErrInvalidArgs, WAIT);
        using m = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, 2 * P);
        vmo.setSize(P);
        expectStatus(() => k.futexWait(m.addr + P, 0), S.ErrInvalidArgs, WAIT);
        assert.equal(k.futexWake(m.addr + P, 1), 0, "waking there finds nobody");
        const gone = m.addr;
        m.unmap();
        expectStatus(() => k.futexWait(gone, 0), S.ErrInvalidArgs, WAIT);
        assert.equal(k.futexWake(gone), 0);
      });
    });

    it("a value mismatch is ErrBadState (FutexWaitValueMismatch), also as a promise", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        set(m, 8, 7);
        expectStatus(() => k.futexWait(m.addr + 8, 8), S.ErrBadState, WAIT);
        assert.equal(await settled(k.futexWaitAsync(m.addr + 8, 6)), S.ErrBadState);
      });
    });

    it("a deadline in the past, with a matching value, is ErrTimedOut (FutexWaitTimeout)", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        expectStatus(() => k.futexWait(m.addr, 0, { deadline: 0 }), S.ErrTimedOut, WAIT);
        const t0 = Date.now();
        expectStatus(() => k.futexWait(m.addr, 0, { deadline: t0 + 30 }), S.ErrTimedOut);
        assert.ok(Date.now() - t0 >= 25, "it waited until the deadline");
        const p = k.futexWaitAsync(m.addr, 0, { deadline: Date.now() + 30 });
        assert.equal(await settled(p), S.ErrTimedOut);
      });
    });

    it("values are int32: 0xffffffff and -1 are the same word", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        set(m, 0, -1);
        expectStatus(() => k.futexWait(m.addr, 0xffffffff, { deadline: 0 }), S.ErrTimedOut);
        expectStatus(() => k.futexWait(m.addr, -1, { deadline: 0 }), S.ErrTimedOut);
        expectStatus(() => k.futexWait(m.addr, 2 ** 32, { deadline: 0 }), S.ErrInvalidArgs);
        expectStatus(() => k.futexWait(m.addr, 0.5), S.ErrInvalidArgs);
      });
    });

    it("wrong JS types are TypeErrors; a closed kernel is ErrBadState", () => {
      const k = t.open();
      using vmo = k.createVmo(P);
      const m = k.rootVmar.map(RW, 0, vmo, 0, P);
      expectTypeError(() => k.futexWait(String(m.addr) as never, 0));
      expectTypeError(() => k.futexWait(m.addr, "0" as never));
      expectTypeError(() => k.futexWait(m.addr, 0, 5 as never));
      expectTypeError(() => k.futexWait(m.addr, 0, { deadline: "soon" as never }));
      expectTypeError(() => k.futexWake(m.addr, "1" as never));
      expectStatus(() => k.futexWake(m.addr, -1), S.ErrInvalidArgs, WAKE);
      expectStatus(() => k.futexWake(m.addr, 1.5), S.ErrInvalidArgs, WAKE);
      const addr = m.addr;
      k.close();
      expectStatus(() => k.futexWait(addr, 0), S.ErrBadState, WAIT);
      expectStatus(() => k.futexWake(addr), S.ErrBadState, WAKE);
    });
  });

  describe("Futex: waking", () => {
    it("a wake ends a pending wait; the count says who woke (FutexWakeup)", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        const p = k.futexWaitAsync(m.addr + 4, 0, { deadline: Date.now() + 20_000 });
        assert.equal(await wakeOne(k, m.addr + 4), 1);
        assert.equal(await settled(p), "ok");
        assert.equal(k.futexWake(m.addr + 4), 0, "nobody is left");
        assert.equal(k.futexWake(m.addr + 4, 0), 0);
      });
    });

    it("the protocol loses no wake: change the word, then wake", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        for (let i = 0; i < 200; i++) {
          const p = k.futexWaitAsync(m.addr, i, { deadline: Date.now() + 20_000 });
          set(m, 0, i + 1);
          k.futexWake(m.addr, 1);
          assert.equal(await settled(p), "ok", `round ${i}`);
        }
      });
    });

    it("a wake of count n wakes n of more waiters; others stay (FutexWakeupLimit)", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        let woke = 0;
        const ps = Array.from(
          { length: 4 },
          () =>
            k.futexWaitAsync(m.addr, 0, { deadline: Date.now() + 20_000 }).then(() => void woke++),
        );
        let n = 0;
        while (n < 2) n += await wakeOne(k, m.addr);
        await new Promise((r) => setTimeout(r, 30));
        assert.equal(woke, 2);
        while (n < 4) n += await wakeOne(k, m.addr);
        await Promise.all(ps);
        assert.equal(woke, 4);
      });
    });

    it("a wake of another word wakes nobody (FutexWakeupAddress)", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        const p = k.futexWaitAsync(m.addr, 0, { deadline: Date.now() + 20_000 });
        assert.equal(k.futexWake(m.addr + 4), 0);
        assert.equal(await wakeOne(k, m.addr), 1);
        await p;
      });
    });

    it("zxvm: the futex is the memory: another mapping of the VMO wakes it", async () => {
      await withKernelAsync(t, async (k) => {
        using vmo = k.createVmo(P);
        using a = k.rootVmar.map(RW, 0, vmo, 0, P);
        using b = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
        const p = k.futexWaitAsync(b.addr + 16, 0, { deadline: Date.now() + 20_000 });
        set(a, 16, 1);
        assert.equal(await wakeUntil(k, a.addr + 16, p), "ok");
      });
    });

    it("zxvm: a kernel the VMO was sent to wakes a waiter here", async () => {
      await withKernelAsync(t, async (k) => {
        using other = t.open();
        const [here, there] = k.createChannel(0, other);
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        here.write(new Uint8Array(0), [vmo.duplicate()]);
        using v2 = there.read().handles[0] as typeof vmo;
        using m2 = other.rootVmar.map(RW, 0, v2, 0, P);
        const p = k.futexWaitAsync(m.addr, 0, { deadline: Date.now() + 20_000 });
        set(m2, 0, 1);
        assert.equal(await wakeUntil(other, m2.addr, p), "ok");
        here.close();
        there.close();
      });
    });

    it("closing the kernel rejects its pending waits with ErrCanceled", async () => {
      const k = t.open();
      const vmo = k.createVmo(P);
      const m = k.rootVmar.map(RW, 0, vmo, 0, P);
      const p = k.futexWaitAsync(m.addr, 0);
      await new Promise((r) => setTimeout(r, 10));
      k.close();
      assert.equal(await settled(p), S.ErrCanceled);
    });

    it("aligned 4-byte Mapping.read/write are single words (what futex users exchange)", () => {
      withKernel(t, (k) => {
        using vmo = k.createVmo(P);
        using m = k.rootVmar.map(RW, 0, vmo, 0, P);
        set(m, 12, 0xdeadbeef);
        assert.deepEqual([...m.read(12, 4)], [0xef, 0xbe, 0xad, 0xde]);
        assert.deepEqual([...vmo.read(4, 12)], [0xef, 0xbe, 0xad, 0xde]);
        expectStatus(() => k.futexWait(m.addr + 12, 0xdeadbeef, { deadline: 0 }), S.ErrTimedOut);
      });
    });
  });
}
