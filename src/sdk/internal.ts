/**
 * zxvm-internal plumbing between SDK modules (not exported from `mod.ts`).
 *
 * @module
 */
import type { KernelCore } from "../kernel/kernel.ts";
import type { Kernel } from "./kernel.ts";

/** The token that lets SDK modules construct handle objects. */
export const INTERNAL: unique symbol = Symbol("zxvm.internal");

const cores = new WeakMap<Kernel, KernelCore>();

/** Register the core of a kernel (done by `Kernel` itself). */
export function registerKernel(k: Kernel, core: KernelCore): void {
  cores.set(k, core);
}

/** The core of a kernel. */
export function kernelCore(k: Kernel): KernelCore {
  const c = cores.get(k);
  if (c === undefined) throw new TypeError("not a zxvm Kernel");
  return c;
}
