/**
 * zxvm's public API against the metal: every case of issue #6 on both backends. The C side of
 * each comparison is `bench/baseline.c`; `scripts/bench_report.ts` runs both and writes
 * `bench/RESULTS.md` with the ratios.
 *
 * ```sh
 * node_modules/.bin/deno run -A scripts/build_shim.ts
 * node_modules/.bin/deno bench -A bench/zxvm.bench.ts
 * ```
 *
 * Bench names are keys of `scripts/bench_report.ts`: rename them together.
 *
 * @module
 */
import { type Mapping, VmoChildOptions, ZxVmOption as O } from "../mod.ts";
import { BACKENDS, KiB, MiB, openKernel, opts, rawShim, sink } from "./_common.ts";

const RW = O.VmPermRead | O.VmPermWrite;

// Plain JS baselines (the emulated backend's target is TypedArray.prototype.set).
{
  const src = new Uint8Array(MiB).fill(7);
  const dst = new Uint8Array(MiB);
  for (const [tag, len] of [["64 B", 64], ["4 KiB", 4 * KiB], ["1 MiB", MiB]] as const) {
    const s = src.subarray(0, len);
    Deno.bench(`js: TypedArray.set ${tag}`, opts(`rw ${tag}`, true), () => {
      dst.set(s, 0);
    });
  }
}

for (const be of BACKENDS) {
  const k = openKernel(be);
  const root = k.rootVmar;

  for (const [tag, size] of [["4 KiB", 4 * KiB], ["1 MiB", MiB]] as const) {
    Deno.bench(`${be}: vmo create+close ${tag}`, opts(`create ${tag}`), () => {
      k.createVmo(size).close();
    });
  }

  // vmo.write / vmo.read (into a caller buffer), on committed pages.
  const vmo = k.createVmo(8 * MiB);
  vmo.write(new Uint8Array(8 * MiB).fill(1), 0);
  for (const [tag, len] of [["64 B", 64], ["4 KiB", 4 * KiB], ["1 MiB", MiB]] as const) {
    const src = new Uint8Array(len).fill(2);
    const dst = new Uint8Array(len);
    Deno.bench(`${be}: vmo.write ${tag}`, opts(`rw ${tag}`), () => {
      vmo.write(src, 4 * MiB);
    });
    Deno.bench(`${be}: vmo.read ${tag}`, opts(`rw ${tag}`), () => {
      vmo.read(dst, 4 * MiB);
    });
  }

  for (const [tag, len] of [["4 KiB", 4 * KiB], ["1 MiB", MiB]] as const) {
    Deno.bench(`${be}: map+unmap ${tag}`, opts(`map ${tag}`), () => {
      root.map(RW, 0, vmo, 0, len).unmap();
    });
    if (be === "native") {
      // The floor in this process: the same two shim calls straight from Deno, no zxvm code.
      const raw = rawShim();
      const mem = raw.be.createMemory(8 * MiB);
      mem.write(0, new Uint8Array(8 * MiB).fill(1));
      const as = raw.be.createAddressSpace(64 * MiB);
      const at = as.base + 32 * MiB;
      const n = len;
      Deno.bench(`native: raw shim map+unmap ${tag} (no zxvm)`, opts(`map ${tag}`), () => {
        raw.calls.zxs_map_fixed(at, n, 3, mem.fd, 0);
        raw.calls.zxs_reserve_fixed(at, n);
      });
    }
  }

  // Stores through the zero-copy view of a mapping.
  const m: Mapping = root.map(RW, 0, vmo, 0, MiB);
  const view = m.bytes();
  const s64 = new Uint8Array(64).fill(3);
  const s4k = new Uint8Array(4 * KiB).fill(4);
  const s1m = new Uint8Array(MiB).fill(5);
  Deno.bench(`${be}: mapping.bytes() + set 64 B`, opts("mapped"), () => {
    m.bytes().set(s64, 128);
  });
  Deno.bench(`${be}: bytes view set 4 KiB`, opts("mapped"), () => {
    view.set(s4k, 0);
  });
  Deno.bench(`${be}: bytes view set 1 MiB`, opts("mapped"), () => {
    view.set(s1m, 0);
  });
  Deno.bench(`${be}: bytes view byte stores x64`, opts("mapped"), () => {
    for (let i = 0; i < 64; i++) view[i] = i;
  });

  // Protect toggling: RW -> R -> RW on one page of a separate mapping.
  const pm = root.map(RW, 0, vmo, 0, 4 * KiB);
  Deno.bench(`${be}: protect R/RW toggle 4 KiB`, opts("protect"), () => {
    root.protect(O.VmPermRead, pm.addr, 4 * KiB);
    root.protect(RW, pm.addr, 4 * KiB);
  });

  // Snapshot children of a committed parent.
  for (const [tag, size] of [["64 KiB", 64 * KiB], ["64 MiB", 64 * MiB]] as const) {
    const parent = k.createVmo(size);
    parent.write(new Uint8Array(size).fill(9), 0);
    Deno.bench(`${be}: snapshot child ${tag} + close`, opts(`snapshot ${tag}`), () => {
      parent.createChild(VmoChildOptions.Snapshot, 0, size).close();
    });
  }

  Deno.bench(`${be}: handle duplicate+close`, opts("handles"), () => {
    const d = vmo.duplicate();
    sink(d.raw);
    d.close();
  });
}
