/**
 * The testing kit: a deterministic emulated kernel with fault injection, and a leak check.
 *
 * @module
 */
import { EmulatedBackend } from "../backend/emulated.ts";
import type { Backend } from "../backend/types.ts";
import { KernelCore } from "../kernel/kernel.ts";
import { RetiredRange, VmarObject } from "../kernel/vm_address_region.ts";
import { describe, optionBag, seedArg, u64 } from "../sdk/args.ts";
import { INTERNAL, kernelCore } from "../sdk/internal.ts";
import { Kernel } from "../sdk/kernel.ts";
import { FaultInjectingBackend, FaultInjector } from "./faults.ts";

const TEST_KERNEL_KEYS = ["seed", "rootVmarSize"] as const;
const NO_LEAKS_KEYS = ["handles"] as const;

// Live memories of a kernel that really is a TestKernel (judged by its private field, not its
// prototype chain or its own properties), else null.
let testKernelMemories: (k: Kernel) => number | null;

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

  static {
    testKernelMemories = (k: Kernel): number | null =>
      #backend in k ? (k as TestKernel).#backend.liveMemories : null;
  }

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
  // Each option is read once, before anything is checked.
  const o = optionBag(options, TEST_KERNEL_KEYS, op);
  const seed = o.seed === undefined ? 1 : seedArg(o.seed, op);
  const rootVmarSize = o.rootVmarSize === undefined
    ? undefined
    : u64(o.rootVmarSize, "rootVmarSize", op);
  // Let Kernel.open check the decoded rootVmarSize exactly as it does for every kernel.
  Kernel.open({ backend: "emulated", rootVmarSize }).close();
  const faults = new FaultInjector();
  const inner: Backend = new EmulatedBackend("zxvm/testing: seeded emulated kernel");
  const backend = new FaultInjectingBackend(inner, faults);
  const core = new KernelCore(backend, { seed, rootVmarSize });
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
   * Build the error and its message from a report. The report is read once (each field, each
   * pair) into a fresh copy, which {@link LeakError.report} holds.
   *
   * @param report what is left
   * @throws {TypeError} when `report` is not a {@link LeakReport} (counts that are not numbers,
   *   lists that are not arrays of `[number, number]` pairs)
   */
  constructor(report: LeakReport) {
    const r = leakReportArg(report);
    const parts: string[] = [];
    if (r.handles > 0) parts.push(`${r.handles} open handle(s)`);
    if (r.mappings.length > 0) {
      parts.push(
        `${r.mappings.length} mapping(s) at ` +
          r.mappings.slice(0, 8).map(([a, l]) => `0x${a.toString(16)}+0x${l.toString(16)}`)
            .join(", ") +
          (r.mappings.length > 8 ? ", …" : ""),
      );
    }
    if (r.vmars.length > 0) {
      parts.push(`${r.vmars.length} sub-VMAR(s) not destroyed`);
    }
    if (r.memories > 0) parts.push(`${r.memories} memory object(s) still allocated`);
    super(`zxvm leak: ${parts.join("; ")}`);
    this.name = "LeakError";
    this.report = r;
  }
}

const REPORT_KEYS = ["handles", "mappings", "vmars", "memories"] as const;

function countArg(v: unknown, what: string): number {
  if (typeof v !== "number") {
    throw new TypeError(`LeakError: report.${what} must be a number, got ${describe(v)}`);
  }
  return v;
}

function pairsArg(v: unknown, what: string): Array<[number, number]> {
  if (!Array.isArray(v)) {
    throw new TypeError(`LeakError: report.${what} must be an array, got ${describe(v)}`);
  }
  const n: unknown = v.length;
  if (typeof n !== "number") throw new TypeError(`LeakError: report.${what} is not an array`);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const p: unknown = v[i];
    if (!Array.isArray(p)) {
      throw new TypeError(`LeakError: report.${what}[${i}] must be an [addr, len] pair`);
    }
    const a: unknown = p[0];
    const l: unknown = p[1];
    if (typeof a !== "number" || typeof l !== "number") {
      throw new TypeError(`LeakError: report.${what}[${i}] must hold two numbers`);
    }
    out.push([a, l]);
  }
  return out;
}

function leakReportArg(v: unknown): LeakReport {
  if (typeof v !== "object" || v === null) {
    throw new TypeError(`LeakError: report must be an object, got ${describe(v)}`);
  }
  const o = optionBag(v, REPORT_KEYS, "LeakError");
  return {
    handles: countArg(o.handles, "handles"),
    mappings: pairsArg(o.mappings, "mappings"),
    vmars: pairsArg(o.vmars, "vmars"),
    memories: countArg(o.memories, "memories"),
  };
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
  const o = optionBag(options, NO_LEAKS_KEYS, "assertNoLeaks");
  const expected = o.handles ?? 0;
  if (typeof expected !== "number" || !Number.isSafeInteger(expected) || expected < 0) {
    throw new TypeError(
      `assertNoLeaks: options.handles must be a non-negative integer, got ${describe(expected)}`,
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
  const memories = testKernelMemories(kernel);
  if (memories !== null && expected === 0) report.memories = memories;
  if (
    report.handles > 0 || report.mappings.length > 0 || report.vmars.length > 0 ||
    report.memories > 0
  ) {
    throw new LeakError(report);
  }
  return report;
}
