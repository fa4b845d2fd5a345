/**
 * Subprocess probe for tests/leaks_test.ts (Deno, --allow-all). Mode `native`: opens and
 * closes native kernels with VMOs, mappings, snapshots, slices and views, and checks that
 * `/proc/self/fd` and zxvm's memfd mappings return to their baseline. Mode `gc` (run with
 * `--v8-flags=--expose-gc`): drops open handles, collects garbage, and lets the
 * FinalizationRegistry warn. Prints one JSON line.
 *
 * @module
 */
import { Kernel, VmoChildOptions, ZxVmOption as O } from "../../mod.ts";
import { procFdCount, zxvmMemfdMappings } from "./leaks.ts";

const mode = Deno.args[0];
const P = 4096;

function churn(k: Kernel, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    const vmo = k.createVmo(4 * P);
    vmo.write(new Uint8Array([1, 2, 3]), 5);
    const snap = vmo.createChild(VmoChildOptions.Snapshot, 0, 4 * P);
    const slice = vmo.createChild(VmoChildOptions.Slice, P, P);
    const m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 4 * P);
    m.bytes()[0] = 9;
    const m2 = k.rootVmar.map(O.VmPermRead, 0, snap, 0, P);
    m2.read(0, 8);
    if (i % 2 === 0) m.unmap(); // the rest goes away with the kernel
    vmo.close();
    if (i % 3 === 0) snap.close();
    slice.close();
  }
}

if (mode === "native") {
  const fds0 = procFdCount();
  const maps0 = zxvmMemfdMappings();
  let peakFds = 0;
  for (let n = 0; n < 20; n++) {
    const k = Kernel.open({ backend: "native", seed: n, rootVmarSize: 2 ** 30 });
    churn(k, 10);
    peakFds = Math.max(peakFds, procFdCount() - fds0);
    k.close();
  }
  // Explicit closes must also release everything without closing the kernel.
  const k = Kernel.open({ backend: "native", seed: 99, rootVmarSize: 2 ** 30 });
  const fdsK = procFdCount();
  for (let i = 0; i < 10; i++) {
    const vmo = k.createVmo(2 * P);
    const m = k.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 2 * P);
    m.bytes()[1] = 1;
    vmo.close();
    m.unmap();
  }
  const fdsAfterUnmap = procFdCount() - fdsK;
  k.close();
  console.log(JSON.stringify({
    fds: procFdCount() - fds0,
    maps: zxvmMemfdMappings() - maps0,
    peakFds,
    fdsAfterUnmap,
  }));
} else if (mode === "gc") {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const k = Kernel.open({ backend: "emulated", seed: 1 });
  (() => {
    for (let i = 0; i < 3; i++) k.createVmo(P); // dropped unclosed
    k.createVmo(P).close(); // closed: no warning for this one
  })();
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(JSON.stringify({ handles: k.handleCount }));
  k.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
