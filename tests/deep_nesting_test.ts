/**
 * Nesting depth is the user's to choose, so no kernel walk may recurse on it: 20,000 nested
 * sub-VMARs (with a mapping at the bottom) and a 30,000-deep chain of slices must list, unmap,
 * destroy, close and be released like shallow ones, on both backends.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Kernel, type Vmar, type Vmo, VmoChildOptions, ZxVmOption as O } from "../mod.ts";
import { nativeSkipReason } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";

const P = 4096;
const CAN = O.VmCanMapRead | O.VmCanMapWrite;
const skipNative = nativeSkipReason();

function nest(k: Kernel, depth: number): Vmar[] {
  const chain: Vmar[] = [];
  let v = k.rootVmar;
  for (let i = 0; i < depth; i++) {
    v = v.allocate(CAN, 0, 4 * P);
    chain.push(v);
  }
  return chain;
}

describe("deep nesting is not recursion", () => {
  leakGuard();
  for (const backend of ["emulated", "native"] as const) {
    const skip = backend === "native" && skipNative !== null ? skipNative : false;

    it(`[${backend}] 20,000 nested VMARs: mappings(), destroy() and close()`, { skip }, () => {
      using k = Kernel.open({ backend, seed: 1 });
      using vmo = k.createVmo(P);
      const chain = nest(k, 20_000);
      const leaf = chain[chain.length - 1];
      const m = leaf.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, P);
      m.write(0, new Uint8Array([7]));
      const maps = k.rootVmar.mappings();
      assert.equal(maps.length, 1);
      assert.equal(maps[0].addr, m.addr);
      assert.equal(k.rootVmar.mappings().length, 1);
      chain[0].destroy();
      assert.equal(m.alive, false);
      assert.equal(k.rootVmar.mappings().length, 0);
      for (const v of chain) v.close();
      assert.equal(k.handleCount, 1, "only the VMO is left");
    });

    it(`[${backend}] 20,000 nested VMARs: unmap over them, and kernel.close()`, { skip }, () => {
      const k = Kernel.open({ backend, seed: 2 });
      const vmo = k.createVmo(P);
      const chain = nest(k, 20_000);
      chain[chain.length - 1].map(O.VmPermRead, 0, vmo, 0, P);
      k.rootVmar.unmap(chain[0].base, chain[0].len);
      assert.equal(k.rootVmar.mappings().length, 0);
      const again = nest(k, 20_000);
      again[again.length - 1].map(O.VmPermRead, 0, vmo, 0, P);
      k.close(); // walks 20,000 levels
      assert.equal(k.handleCount, 0);
    });

    it(`[${backend}] a 30,000-deep slice chain closes leaf last`, { skip }, () => {
      using k = Kernel.open({ backend, seed: 3 });
      const chain: Vmo[] = [k.createVmo(P)];
      for (let i = 0; i < 30_000; i++) {
        chain.push(chain[chain.length - 1].createChild(VmoChildOptions.Slice, 0, P));
      }
      const leaf = chain[chain.length - 1];
      leaf.write(new Uint8Array([9]), 0);
      assert.equal(chain[0].read(1, 0)[0], 9);
      for (const v of chain.slice(0, -1)) v.close(); // ancestors stay: they have children
      assert.equal(chain[0].valid, false);
      assert.equal(leaf.read(1, 0)[0], 9);
      leaf.close(); // destroys 30,001 VMOs, leaf to root
      assert.equal(leaf.valid, false);
      assert.equal(k.handleCount, 0);
    });
  }
});
