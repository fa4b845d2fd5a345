/**
 * Shared helpers for the semantic conformance suite. Only `node:` built-ins and the public
 * API (`../../mod.ts`) are used, so the suite runs unchanged under `deno test` and under
 * `node --test` on a tsc-compiled copy, against every backend.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Kernel, Mapping, statusName, ZxError, ZxStatus, ZxVmOption } from "../../mod.ts";

/** What every semantic test module receives: how to open a fresh kernel of the backend. */
export interface SuiteContext {
  /** The backend label, e.g. `"emulated"`. */
  readonly label: string;
  /** Opens a fresh, independent kernel. */
  readonly open: () => Kernel;
}

/** Zircon's page size on the platforms its core tests target (asserted by the Kernel tests). */
export const P = 4096;
/** Shorthand for {@link ZxVmOption}. */
export const O = ZxVmOption;
/** `ZX_VM_PERM_READ | ZX_VM_PERM_WRITE`. */
export const RW: number = O.VmPermRead | O.VmPermWrite;
/** `ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE`. */
export const RWX: number = O.VmPermRead | O.VmPermWrite | O.VmPermExecute;
/** `ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE`. */
export const CMRW: number = O.VmCanMapRead | O.VmCanMapWrite;
/** `ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE`. */
export const CMRWX: number = CMRW | O.VmCanMapExecute;
/** `UINT64_MAX` (also `SIZE_MAX` / `UINTPTR_MAX` on the platforms Zircon's tests target). */
export const U64_MAX: bigint = (1n << 64n) - 1n;
/** 2^64. */
export const TWO64: bigint = 1n << 64n;

/** A status name ("ZX_OK", "ZX_ERR_…") or "TypeError" for the outcome of `fn`. */
export function outcome(fn: () => unknown): string {
  try {
    fn();
    return "ZX_OK";
  } catch (e) {
    if (e instanceof ZxError) return statusName(e.status);
    if (e instanceof TypeError) return "TypeError";
    throw e;
  }
}

/**
 * Assert that `fn` throws a `ZxError` with `status` (and, when given, `op`); returns the error.
 * Status names are compared so that a failure reads "ZX_ERR_X !== ZX_ERR_Y".
 */
export function expectStatus(
  fn: () => unknown,
  status: ZxStatus,
  op?: string,
  message?: string,
): ZxError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (!(e instanceof ZxError)) {
      assert.fail(
        `${message ?? ""} expected ZxError ${statusName(status)}, got ${
          e instanceof Error ? `${e.name}: ${e.message}` : String(e)
        }`,
      );
    }
    assert.equal(statusName(e.status), statusName(status), message ?? e.message);
    assert.equal(e.status, status);
    if (op !== undefined) assert.equal(e.op, op, message);
    return e;
  }
  // Do not leak what a wrongly successful call returned.
  if (result instanceof Mapping) result.unmap();
  if (result !== null && typeof result === "object" && "close" in result) {
    (result as { close(): void }).close();
  }
  return assert.fail(`${message ?? ""} expected ${statusName(status)}, but the call succeeded`);
}

/** Assert `fn` throws a `TypeError` (wrong JS type of an argument). */
export function expectTypeError(fn: () => unknown, message?: string): void {
  assert.throws(fn, TypeError, message);
}

/**
 * Run `fn` with a fresh kernel from `ctx.open()`, closing it afterwards (also on failure).
 * Unless `checkHandles` is false, asserts that `kernel.handleCount` is back to its starting
 * value when `fn` returns (tests release what they create, mostly with `using`).
 */
export function withKernel(
  ctx: SuiteContext,
  fn: (k: Kernel) => void,
  checkHandles = true,
): void {
  const k = ctx.open();
  try {
    const before = k.handleCount;
    fn(k);
    if (checkHandles) assert.equal(k.handleCount, before, "handles leaked by the test");
  } finally {
    k.close();
  }
}

/** The async form of {@link withKernel}. */
export async function withKernelAsync(
  ctx: SuiteContext,
  fn: (k: Kernel) => Promise<void>,
  checkHandles = true,
): Promise<void> {
  const k = ctx.open();
  try {
    const before = k.handleCount;
    await fn(k);
    if (checkHandles) assert.equal(k.handleCount, before, "handles leaked by the test");
  } finally {
    k.close();
  }
}

/**
 * Probe one byte at absolute address `addr` through the newest of `mappings` whose range
 * covers it (memory is accessed by address, like a CPU would). Returns "ok" or the fault's
 * status name. `access` "write" writes the byte currently there (read first when readable,
 * else 0), so probing never changes contents that are readable.
 */
export function probe(
  mappings: Mapping | readonly Mapping[],
  addr: number,
  access: "read" | "write" = "read",
): string {
  const list = Array.isArray(mappings) ? mappings : [mappings as Mapping];
  let m: Mapping | undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i];
    if (addr >= c.addr && addr < c.addr + c.len) {
      m = c;
      break;
    }
  }
  // Tests hold a Mapping for everything they map, so an address none of them covers is unmapped.
  if (m === undefined) return statusName(ZxStatus.ErrNotFound);
  try {
    if (access === "read") {
      m.read(addr - m.addr, 1);
    } else {
      let b = 0;
      try {
        b = m.read(addr - m.addr, 1)[0];
      } catch {
        b = 0;
      }
      m.write(addr - m.addr, new Uint8Array([b]));
    }
    return "ok";
  } catch (e) {
    if (!(e instanceof ZxError)) throw e;
    assert.equal(e.op, "page_fault", "a fault ZxError has op page_fault");
    assert.ok(e.fault !== undefined, "a fault ZxError has fault info");
    assert.equal(e.fault.access, access);
    return statusName(e.status);
  }
}

/** Bit i set iff the page at `base + i*P` is readable (probed through `mappings`). */
export function mappedPattern(
  mappings: Mapping | readonly Mapping[],
  base: number,
  pages: number,
): number {
  let bits = 0;
  for (let i = 0; i < pages; i++) {
    if (probe(mappings, base + i * P) === "ok") bits |= 1 << i;
  }
  return bits;
}

/** A Uint8Array of `n` bytes all equal to `v`. */
export function filled(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}

/** Read a little-endian u32 from `bytes` at `off`. */
export function u32le(bytes: Uint8Array, off = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(off, true);
}

/** Encode `v` as 4 little-endian bytes. */
export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Count trailing zero bits of a non-negative integer address (number; exact up to 2^53). */
export function ctz(addr: number): number {
  if (addr === 0) return 64;
  let n = 0;
  let a = BigInt(addr);
  while ((a & 1n) === 0n) {
    a >>= 1n;
    n++;
  }
  return n;
}

/** The ok-status string, for readability in assertions. */
export const OK = "ZX_OK";
/** Re-exported for modules that only need the status table. */
export { ZxStatus };
