/**
 * The testing kit: a deterministic emulated kernel with fault injection, and a leak check.
 *
 * @module
 */
import { EmulatedBackend } from "../backend/emulated.ts";
import type { Backend } from "../backend/types.ts";
import { seedArg } from "../kernel/args.ts";
import { KernelCore } from "../kernel/kernel.ts";
import { RetiredRange, VmarObject } from "../kernel/vm_address_region.ts";
import { INTERNAL, kernelCore } from "../sdk/internal.ts";
import { Kernel } from "../sdk/kernel.ts";
import { FaultInjectingBackend, FaultInjector } from "./faults.ts";

/** Options for {@link testKernel}. */
export interface TestKernelOptions {
  /**
   * Seed for placement and handle values (default 1): the same seed and the same calls give
   * the same addresses (relative to `rootVmar.base`), koids and handle values.
   */
  seed?: number;
  /** Size of the root VMAR in bytes (default 2^36; a non-zero page multiple, at most 2^46). */
  rootVmarSize?: number;
}

/**
 * A kernel over the emulated backend, opened by {@link testKernel}: deterministic, with
 * {@link TestKernel.faults} to make backend operations fail on purpose.
 */
export class TestKernel extends Kernel {
  /** Schedule faults here (see {@link FaultInjector.failNext}). */
  readonly faults: FaultInjector;
  /** The seed the kernel was opened with. */
  readonly seed: number;
  readonly #backend: FaultInjectingBackend;

  /**
   * Not for users: use {@link testKernel}.
   *
   * @throws {TypeError} when called from outside zxvm
   */
  constructor(
    core: KernelCore,
    token: symbol,
    faults: FaultInjector,
    backend: FaultInjectingBackend,
    seed: number,
  ) {
    super(core, token);
    this.faults = faults;
    this.#backend = backend;
    this.seed = seed;
  }

  /** Memory objects (one per VMO that is not a slice) that are still allocated. */
  get liveMemories(): number {
    return this.#backend.liveMemories;
  }
}

/**
 * Open a deterministic emulated kernel with fault injection. Dispose it (`using`) or call
 * `close()` when done.
 *
 * @param options see {@link TestKernelOptions}
 * @returns the kernel
 * @throws {TypeError} for options of the wrong type
 * @throws {ZxError} `ErrInvalidArgs` for a bad `seed` or `rootVmarSize`
 * @example
 * ```ts
 * import { ZxVmOption } from "../../mod.ts";
 * import { assertNoLeaks, testKernel } from "../../testing.ts";
 * using k = testKernel({ seed: 7 });
 * const vmo = k.createVmo(4096);
 * const m = k.rootVmar.map(ZxVmOption.VmPermRead, 0, vmo, 0, 4096);
 * m.unmap();
 * vmo.close();
 * assertNoLeaks(k);
 * ```
 */
export function testKernel(options: TestKernelOptions = {}): TestKernel {
  const op = "zx_kernel_open";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${op}: options must be an object`);
  }
  const seed = options.seed === undefined ? 1 : seedArg(options.seed, op);
  // Let Kernel.open validate rootVmarSize exactly as it does for every kernel.
  Kernel.open({ backend: "emulated", rootVmarSize: options.rootVmarSize }).close();
  const faults = new FaultInjector();
  const inner: Backend = new EmulatedBackend("zxvm/testing: seeded emulated kernel");
  const backend = new FaultInjectingBackend(inner, faults);
  const core = new KernelCore(backend, { seed, rootVmarSize: options.rootVmarSize });
  return new TestKernel(core, INTERNAL, faults, backend, seed);
}

/** What {@link assertNoLeaks} found. */
export interface LeakReport {
  /** Open handles (not counting the kernel's own root VMAR handle). */
  handles: number;
  /** Mappings still in the root VMAR's subtree: `[addr, len]` pairs. */
  mappings: Array<[number, number]>;
  /** Sub-VMARs of the root still allocated (closing a VMAR handle does not free its range). */
  vmars: Array<[number, number]>;
  /** Memory objects still allocated (only known for kernels from {@link testKernel}). */
  memories: number;
}

/** Thrown by {@link assertNoLeaks}; `report` says what is left. */
export class LeakError extends Error {
  /** What is left. */
  readonly report: LeakReport;
  /**
   * Build the error and its message from a report.
   *
   * @param report what is left
   */
  constructor(report: LeakReport) {
    const parts: string[] = [];
    if (report.handles > 0) parts.push(`${report.handles} open handle(s)`);
    if (report.mappings.length > 0) {
      parts.push(
        `${report.mappings.length} mapping(s) at ` +
          report.mappings.slice(0, 8).map(([a, l]) => `0x${a.toString(16)}+0x${l.toString(16)}`)
            .join(", ") +
          (report.mappings.length > 8 ? ", …" : ""),
      );
    }
    if (report.vmars.length > 0) {
      parts.push(`${report.vmars.length} sub-VMAR(s) not destroyed`);
    }
    if (report.memories > 0) parts.push(`${report.memories} memory object(s) still allocated`);
    super(`zxvm leak: ${parts.join("; ")}`);
    this.name = "LeakError";
    this.report = report;
  }
}

/** Options for {@link assertNoLeaks}. */
export interface NoLeaksOptions {
  /** Handles the caller still expects to be open (default 0). */
  handles?: number;
}

/**
 * Check that a kernel holds nothing any more: no open handles (besides `options.handles`), no
 * mappings, no sub-VMARs, and — for kernels from {@link testKernel} — no allocated memory. A
 * closed kernel has released everything and always passes.
 *
 * @param kernel any zxvm kernel
 * @param options see {@link NoLeaksOptions}
 * @returns the (empty) report
 * @throws {LeakError} listing what is left
 * @throws {TypeError} when `kernel` is not a zxvm kernel, or `options.handles` is not a
 *   non-negative integer
 */
export function assertNoLeaks(kernel: Kernel, options: NoLeaksOptions = {}): LeakReport {
  const core = kernelCore(kernel);
  if (typeof options !== "object" || options === null) {
    throw new TypeError("assertNoLeaks: options must be an object");
  }
  const expected = options.handles ?? 0;
  if (typeof expected !== "number" || !Number.isSafeInteger(expected) || expected < 0) {
    throw new TypeError(
      `assertNoLeaks: options.handles must be a non-negative integer, got ${String(expected)}`,
    );
  }
  const report: LeakReport = { handles: 0, mappings: [], vmars: [], memories: 0 };
  if (core.closed) return report;
  report.handles = Math.max(0, core.handleCount - expected);
  report.mappings = core.vmarMappings(core.rootHandle).map((m) => [m.addr, m.len]);
  for (const c of core.root.children.all()) {
    // Retired ranges (left behind by transferred views) are no sub-VMARs the user made.
    if (c instanceof VmarObject && !(c instanceof RetiredRange) && !c.destroyed) {
      report.vmars.push([c.base, c.len]);
    }
  }
  // With handles still expected open, their memory is legitimately allocated.
  if (kernel instanceof TestKernel && expected === 0) {
    report.memories = kernel.liveMemories;
  }
  if (
    report.handles > 0 || report.mappings.length > 0 || report.vmars.length > 0 ||
    report.memories > 0
  ) {
    throw new LeakError(report);
  }
  return report;
}
