/**
 * Per-operation cost of map + unmap (one 4 KiB mapping, kernel-placed) while N other mappings
 * stay live in the same VMAR: zxvm's VMAR bookkeeping must stay O(log n).
 *
 * The live mappings are placed back to back (`VmSpecific`) over consecutive pages of one VMO
 * with one protection, so on the native backend Linux merges them into a single VMA and even
 * 100k of them fit under `vm.max_map_count` (65530). The `scattered` native cases place them
 * at kernel-chosen (random) addresses instead: each costs its own VMAs (about 2 per mapping),
 * so only as many as fit next to the adjacent cases are measured (1k, 10k).
 *
 * ```sh
 * node_modules/.bin/deno bench -A bench/live_mappings.bench.ts
 * ```
 *
 * @module
 */
import { type Mapping, ZxVmOption as O } from "../mod.ts";
import { BACKENDS, openKernel, opts, SMOKE } from "./_common.ts";

const RW = O.VmPermRead | O.VmPermWrite;
const PAGE = 4096;

function vmaCount(): number {
  try {
    return Deno.readTextFileSync("/proc/self/maps").split("\n").length - 1;
  } catch {
    return -1;
  }
}

const COUNTS: Record<string, readonly number[]> = SMOKE
  ? { adjacent: [10, 100], scattered: [10] }
  : { adjacent: [1_000, 10_000, 100_000], scattered: [1_000, 10_000] };

const label = (n: number): string => (n >= 1000 ? `${n / 1000}k` : `${n}`);

for (const be of BACKENDS) {
  for (const layout of ["adjacent", "scattered"] as const) {
    if (layout === "scattered" && be === "emulated") continue; // same data structures
    for (const n of COUNTS[layout]) {
      const k = openKernel(be);
      const root = k.rootVmar;
      const vmo = k.createVmo(n * PAGE);
      const live: Mapping[] = [];
      const before = vmaCount();
      for (let i = 0; i < n; i++) {
        live.push(
          layout === "adjacent"
            ? root.map(RW | O.VmSpecific, i * PAGE, vmo, i * PAGE, PAGE)
            : root.map(RW, 0, vmo, i * PAGE, PAGE),
        );
      }
      const vmas = vmaCount() - before;
      const probe = k.createVmo(PAGE);
      const name = `${be}: map+unmap 4 KiB with ${label(n)} live (${layout})`;
      if (be === "native") console.error(`${name}: ${vmas} VMAs added by ${n} mappings`);
      Deno.bench(name, opts(`live ${be} ${layout}`, n === COUNTS[layout][0]), () => {
        root.map(RW, 0, probe, 0, PAGE).unmap();
      });
      globalThis.addEventListener("unload", () => {
        for (const m of live) m.unmap();
      });
    }
  }
}
