/**
 * Tampered built-ins: user code that redefines `%TypedArray%.prototype`'s `length` and
 * `byteLength` getters (toggling between a small and a large value), `subarray` and `set` after
 * zxvm loaded must not change what zxvm reads or copies: the kernel and both backends measure
 * and copy through the intrinsics captured at load (`src/abi/intrinsics.ts`). Before, a lying
 * `length` getter on the prototype sent an 8 KiB copy into a 4 KiB memfd: SIGBUS.
 *
 * Under Deno the file runs itself in its own process (a signal then fails this test, not the
 * runner); Node's test runner already gives every file its own process.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Kernel, ZxError, ZxStatus, ZxVmOption as O } from "../mod.ts";
import { nativeSkipReason } from "./support/kernels.ts";
import { delegate, runExclusive } from "./support/subprocess.ts";

const P = 4096;
const RW = O.VmPermRead | O.VmPermWrite;

/** Redefine the built-ins, run `fn`, put them back. */
function tampered<T>(fn: () => T): T {
  const TA = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, unknown>;
  const keys = ["length", "byteLength", "subarray", "set"] as const;
  const saved = keys.map((k) => Object.getOwnPropertyDescriptor(TA, k)!);
  let n = 0;
  const lie = { get: () => (++n % 2 ? 16 : 2 * P), configurable: true };
  const realSub = TA.subarray as (this: Uint8Array, s: number, e?: number) => Uint8Array;
  try {
    Object.defineProperty(TA, "length", lie);
    Object.defineProperty(TA, "byteLength", lie);
    TA.subarray = function (this: Uint8Array, s: number, e?: number): Uint8Array {
      return realSub.call(this, s, (e ?? 0) + 100_000);
    };
    TA.set = function (): void {
      throw new Error("the tampered set ran");
    };
    return fn();
  } finally {
    keys.forEach((k, i) => Object.defineProperty(TA, k, saved[i]));
  }
}

function statusOf(f: () => unknown): number | "ok" | string {
  try {
    f();
    return "ok";
  } catch (e) {
    return e instanceof ZxError ? e.status : String(e);
  }
}

if (delegate()) {
  describe("tampered built-ins (subprocess)", () => {
    it("runs in its own process and exits 0 (a SIGBUS/SIGSEGV fails it)", async () => {
      const r = await runExclusive([new URL(import.meta.url).pathname]);
      assert.equal(r.signal, null, r.out.slice(-3000));
      assert.equal(r.code, 0, r.out.slice(-3000));
    });
  });
} else {
  const skipNative = nativeSkipReason();
  describe("tampered built-ins", () => {
    for (const backend of ["emulated", "native"] as const) {
      const skip = backend === "native" && skipNative !== null ? skipNative : false;
      it(`[${backend}] prototype getters, subarray and set changed after load`, { skip }, () => {
        using k = Kernel.open({ backend, seed: 1 });
        using vmo = k.createVmo(P);
        vmo.write(new Uint8Array(P).fill(0x11), 0);
        const big = new Uint8Array(2 * P).fill(0x41);
        const small = new Uint8Array(16).fill(0x42);
        const outcomes = tampered(() => {
          const m = k.rootVmar.map(RW, 0, vmo, 0, P);
          try {
            return [
              statusOf(() => vmo.write(big, 0)), // 8 KiB into 4 KiB
              statusOf(() => vmo.write(small, 0)), // 16 B, really
              statusOf(() => vmo.read(new Uint8Array(2 * P), 0)),
              statusOf(() => m.write(P - 8, big)),
              statusOf(() => m.write(P - 16, small)),
              statusOf(() => m.read(0, 16)),
            ];
          } finally {
            m.unmap();
          }
        });
        assert.deepEqual(outcomes, [
          ZxStatus.ErrOutOfRange,
          "ok",
          ZxStatus.ErrOutOfRange,
          ZxStatus.ErrOutOfRange,
          "ok",
          "ok",
        ]);
        const after = vmo.read(P, 0);
        assert.deepEqual([...after.subarray(0, 16)], new Array(16).fill(0x42));
        assert.deepEqual([...after.subarray(P - 16)], new Array(16).fill(0x42));
        assert.equal(after.filter((b) => b === 0x41).length, 0, "nothing of the big array landed");
      });
    }
  });
}
