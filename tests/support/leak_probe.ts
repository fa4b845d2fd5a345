/**
 * Leak probes for tests/leaks_test.ts.
 *
 * As a module: {@link memfdLifetime} follows one native VMO's memfd (found by its inode, so it is
 * exact even while other test files in the process open and close descriptors) through the
 * closing of its last handle and the removal of its mappings.
 *
 * As a subprocess (Deno, --allow-all), printing one JSON line. Mode `native`: opens and closes
 * native kernels with VMOs, mappings, snapshots, slices and views, and checks that
 * `/proc/self/fd` and zxvm's memfd mappings return to their baseline. Mode `memfd`: runs
 * {@link memfdLifetime} and also reports the process-wide counts at each step (exact there).
 * Mode `gc` (run with `--v8-flags=--expose-gc`): drops open handles, collects garbage, and lets
 * the FinalizationRegistry warn.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { Kernel, VmoChildOptions, ZxVmOption as O } from "../../mod.ts";
import { procFdCount, zxvmMemfdMappings } from "./leaks.ts";

const P = 4096;

/** The inode a descriptor of this process refers to, or -1 (closed meanwhile). */
function inodeOfFd(fd: string): number {
  try {
    return Number(statSync(`/proc/self/fd/${fd}`).ino);
  } catch {
    return -1;
  }
}

/** Descriptors of this process on inode `ino`. */
export function fdsOnInode(ino: number): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) if (inodeOfFd(fd) === ino) n++;
  return n;
}

/** Areas of `/proc/self/maps` that map inode `ino` (a mapping, or a physmap window). */
export function areasOnInode(ino: number): number {
  return readFileSync("/proc/self/maps", "utf8").split("\n").filter((l) => {
    const f = l.split(/\s+/);
    return f.length >= 6 && Number(f[4]) === ino && l.includes("memfd:zxvm");
  }).length;
}

/**
 * The inode of the memfd holding `marker` at offset 0: the open zxvm memfds of this process are
 * read through `/proc/self/fd/<n>` (another thread may be creating some of its own meanwhile).
 */
export function inodeWithMarker(marker: Uint8Array): number {
  const found = new Set<number>();
  for (const fd of readdirSync("/proc/self/fd")) {
    const path = `/proc/self/fd/${fd}`;
    try {
      if (!readlinkSync(path).startsWith("/memfd:zxvm")) continue;
      const head = readFileSync(path).subarray(0, marker.length);
      if (head.length === marker.length && head.every((b, i) => b === marker[i])) {
        found.add(Number(statSync(path).ino));
      }
    } catch { /* closed meanwhile */ }
  }
  if (found.size !== 1) throw new Error(`${found.size} memfds hold the marker`);
  return [...found][0];
}

/** What one step of {@link memfdLifetime} saw of the VMO's memfd. */
export interface MemfdState {
  /** The step. */
  step: string;
  /** Descriptors on the memfd's inode. */
  fds: number;
  /** `/proc/self/maps` areas on the memfd's inode. */
  areas: number;
  /** Process-wide descriptor count minus the baseline (only when `exact`). */
  allFds?: number;
  /** Process-wide zxvm memfd areas minus the baseline (only when `exact`). */
  allAreas?: number;
}

/** Everything {@link memfdLifetime} observed, per scenario. */
export interface MemfdLifetime {
  /** One VMO, one mapping: close the handle, then unmap. */
  single: MemfdState[];
  /** One VMO, two mappings: close the handle, unmap one, unmap the other. */
  double: MemfdState[];
  /** A mapping in a sub-VMAR, handle closed, then the VMAR destroyed. */
  destroy: MemfdState[];
  /** A mapping left when the kernel closes. */
  kernelClose: MemfdState[];
  /** Bytes read through the mappings after the handle was closed (the marker). */
  readBack: number[][];
}

/**
 * Follow native VMOs' memfds through handle close and unmap, on kernels from `open`.
 *
 * @param open opens a native kernel (seed given)
 * @param exact also record process-wide counts (only meaningful in a process of its own)
 */
export function memfdLifetime(open: (seed: number) => Kernel, exact = false): MemfdLifetime {
  const fds0 = exact ? procFdCount() : 0;
  const areas0 = exact ? zxvmMemfdMappings() : 0;
  const readBack: number[][] = [];
  let seq = 0;
  /** A VMO with a fresh marker at offset 0, and its memfd's inode. */
  const markedVmo = (k: Kernel): { vmo: ReturnType<Kernel["createVmo"]>; ino: number } => {
    const vmo = k.createVmo(2 * P);
    const marker = new Uint8Array(16);
    crypto.getRandomValues(marker);
    marker[0] = 0x7a;
    marker[1] = seq++;
    vmo.write(marker, 0);
    return { vmo, ino: inodeWithMarker(marker) };
  };
  const state = (step: string, ino: number): MemfdState => {
    const s: MemfdState = { step, fds: fdsOnInode(ino), areas: areasOnInode(ino) };
    if (exact) {
      s.allFds = procFdCount() - fds0;
      s.allAreas = zxvmMemfdMappings() - areas0;
    }
    return s;
  };
  const rw = O.VmPermRead | O.VmPermWrite;

  const single: MemfdState[] = [];
  {
    const k = open(1);
    try {
      const { vmo, ino } = markedVmo(k);
      single.push(state("created", ino));
      const m = k.rootVmar.map(rw, 0, vmo, 0, 2 * P);
      m.bytes()[P] = 1; // a fault through the mapping too
      single.push(state("mapped", ino));
      const dup = vmo.duplicate();
      vmo.close();
      single.push(state("one of two handles closed", ino));
      dup.close();
      single.push(state("last handle closed", ino));
      readBack.push([...m.read(0, 2)]);
      m.unmap();
      single.push(state("unmapped", ino));
    } finally {
      k.close();
    }
  }

  const double: MemfdState[] = [];
  {
    const k = open(2);
    try {
      const { vmo, ino } = markedVmo(k);
      const a = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
      const b = k.rootVmar.map(rw, 0, vmo, 0, 2 * P);
      vmo.close();
      double.push(state("handle closed", ino));
      k.rootVmar.unmap(a.addr, P);
      double.push(state("one of two unmapped", ino));
      readBack.push([...b.read(0, 2)]);
      b.unmap();
      double.push(state("both unmapped", ino));
    } finally {
      k.close();
    }
  }

  const destroy: MemfdState[] = [];
  {
    const k = open(3);
    try {
      const { vmo, ino } = markedVmo(k);
      const vmar = k.rootVmar.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 16 * P);
      const m = vmar.map(O.VmPermRead, 0, vmo, 0, 2 * P);
      vmo.close();
      destroy.push(state("handle closed", ino));
      readBack.push([...m.read(0, 2)]);
      vmar.destroy();
      vmar.close();
      destroy.push(state("vmar destroyed", ino));
    } finally {
      k.close();
    }
  }

  const kernelClose: MemfdState[] = [];
  {
    const k = open(4);
    const { vmo, ino } = markedVmo(k);
    k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
    vmo.close();
    kernelClose.push(state("handle closed", ino));
    k.close();
    kernelClose.push(state("kernel closed", ino));
  }
  return { single, double, destroy, kernelClose, readBack };
}

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

async function main(mode: string | undefined): Promise<void> {
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
  } else if (mode === "memfd") {
    const open = (seed: number): Kernel =>
      Kernel.open({ backend: "native", seed, rootVmarSize: 2 ** 30 });
    open(0).close(); // load the shim first: its descriptors are not part of the baseline
    console.log(JSON.stringify(memfdLifetime(open, true)));
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
}

if (typeof Deno !== "undefined" && import.meta.main) await main(Deno.args[0]);
