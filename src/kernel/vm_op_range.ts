/**
 * `COMMIT`, `DECOMMIT` and `ZERO` over several VMO ranges at once (`zx_vmar_op_range` across
 * mappings), all or nothing. A single range is one backend call, which either happens or does
 * not. For several, each range is first saved (a sparse copy into scratch memory: holes stay
 * holes), then the operation runs range by range; if one fails, the ranges already done are
 * put back from their copies (decommit, then copy back, so contents and committed pages are as
 * before) and the error is thrown. The copies are released either way.
 *
 * @module
 */
import { VmoOp } from "../abi/options.ts";
import type { Memory } from "../backend/types.ts";
import { backendCall, backendFailure } from "./backend_call.ts";
import type { MemoryPool } from "./memory_pool.ts";
import type { VmoObject } from "./vm_object.ts";

/** One VMO range: `[offset, offset+len)` of `vmo`, page aligned, inside the VMO. */
export interface VmoRange {
  /** The VMO. */
  readonly vmo: VmoObject;
  /** First byte (VMO offset). */
  readonly offset: number;
  /** Length in bytes. */
  readonly len: number;
}

function run(r: VmoRange, opcode: number, op: string): void {
  if (opcode === VmoOp.Commit) r.vmo.commit(r.offset, r.len, op);
  else if (opcode === VmoOp.Decommit) r.vmo.decommit(r.offset, r.len, op);
  else r.vmo.zero(r.offset, r.len, op);
}

/**
 * Apply `opcode` (`VmoOp.Commit`, `Decommit` or `Zero`) to every range, all or nothing.
 *
 * @throws {ZxError} the first backend failure, named after `op`; nothing has changed then
 */
export function opRanges(
  pool: MemoryPool,
  ranges: readonly VmoRange[],
  opcode: number,
  op: string,
): void {
  if (ranges.length === 1) {
    run(ranges[0], opcode, op);
    return;
  }
  const saved: Memory[] = [];
  try {
    for (const r of ranges) {
      const copy = pool.create(r.len, op);
      saved.push(copy);
      backendCall(op, () => copy.copyFrom(r.vmo.mem, r.vmo.memOffset + r.offset, 0, r.len));
    }
    let i = 0;
    try {
      for (; i < ranges.length; i++) run(ranges[i], opcode, op);
    } catch (x) {
      // Undo in reverse order: ranges of one VMO may overlap, and each copy holds the bytes
      // from before any range was touched.
      for (let j = i - 1; j >= 0; j--) {
        const r = ranges[j];
        const at = r.vmo.memOffset + r.offset;
        try {
          r.vmo.mem.decommit(at, r.len);
          r.vmo.mem.copyFrom(saved[j], 0, at, r.len);
        } catch {
          // Nothing more can be done: the range keeps what the operation left there.
        }
      }
      throw backendFailure(op, x);
    }
  } finally {
    for (const m of saved) pool.release(m);
  }
}
