/**
 * Address regions (Zircon's `vm/vm_address_region.cc`): the VMAR tree, placement, one range
 * walker, and the operations that change many mappings at once — unmap, destroy and protect —
 * as plan, apply, and roll back: the plan checks everything and changes nothing; the apply
 * makes the backend calls and, if one fails part-way, undoes the ones already made, so a
 * failed call changes nothing. Only then do the books change.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { backendFailure } from "./backend_call.ts";
import { permName } from "./flags.ts";
import { KObject, ObjType } from "./handles.ts";
import { FreeSpace, SpanTree } from "./ordered.ts";
import {
  dropView,
  escapedPart,
  escapedWhy,
  MappingRecord,
  splitRecord,
  type VmContext,
} from "./vm_mapping.ts";

const S = ZxStatus;

/** A virtual memory address region. */
export class VmarObject extends KObject {
  /** First address (same as `base`; the span key in the parent's tree). */
  readonly start: number;
  /** One past the last address. */
  readonly end: number;
  /** Children (sub-VMARs and mapping records), ordered by address. */
  readonly children: SpanTree<VmarObject | MappingRecord> = new SpanTree();
  /** Free ranges among the children. */
  readonly free: FreeSpace;
  /** False once destroyed. */
  destroyed = false;

  /** Construct; see the field docs. */
  constructor(
    koid: number,
    /** First address. */
    readonly base: number,
    /** Length in bytes. */
    readonly len: number,
    /** `ZX_VM_CAN_MAP_*`, `ZX_VM_CAN_MAP_SPECIFIC` and `ZX_VM_COMPACT` flags. */
    readonly flags: number,
    /** The parent VMAR, or null for the root. */
    readonly parent: VmarObject | null,
  ) {
    super(koid);
    this.start = base;
    this.end = base + len;
    this.free = new FreeSpace(base, base + len);
  }

  /** `"vmar"`. */
  get type(): "vmar" {
    return "vmar";
  }
  /** `ZX_OBJ_TYPE_VMAR`. */
  get zxType(): number {
    return ObjType.Vmar;
  }
}

/**
 * An address range the kernel took out of use for good: a zero-copy view over it escaped
 * (see `MappingOrigin.escapedEnd`), so the backend keeps private zero pages there and no
 * mapping may ever land on it again. It sits in the VMAR tree like an empty sub-VMAR that no
 * handle names: placement avoids it, lookups find nothing mapped, `mappings()` lists nothing,
 * unmap passes over it, and when its VMAR is destroyed it moves up to the parent.
 */
export class RetiredRange extends VmarObject {
  /** Construct `[start, end)` inside `parent`. */
  constructor(start: number, end: number, parent: VmarObject) {
    super(0, start, end - start, 0, parent);
  }
}

// ---------------------------------------------------------------- walking a range

/**
 * Visit every mapping record in `[lo, hi)` of `vmar`'s subtree in address order (an explicit
 * stack: nesting depth is the user's to choose). `visit` gets the record, the part of it in
 * range, and whether it sits inside a sub-VMAR; `gap` is called with the first address of any
 * hole (an unmapped page or an empty sub-VMAR) and must throw.
 */
export function walkRange(
  vmar: VmarObject,
  lo: number,
  hi: number,
  visit: (rec: MappingRecord, s: number, t: number, nested: boolean) => void,
  gap: (addr: number) => never,
): void {
  interface Frame {
    items: Array<VmarObject | MappingRecord>;
    i: number;
    cursor: number;
    hi: number;
    nested: boolean;
  }
  const frame = (v: VmarObject, a: number, b: number, nested: boolean): Frame => ({
    items: v.children.overlapping(a, b),
    i: 0,
    cursor: a,
    hi: b,
    nested,
  });
  const stack: Frame[] = [frame(vmar, lo, hi, false)];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i === f.items.length) {
      if (f.cursor < f.hi) gap(f.cursor);
      stack.pop();
      if (stack.length > 0) stack[stack.length - 1].cursor = f.hi;
      continue;
    }
    const c = f.items[f.i++];
    if (c.start > f.cursor) gap(f.cursor);
    const s = Math.max(c.start, f.cursor);
    const t = Math.min(c.end, f.hi);
    if (c instanceof VmarObject) {
      stack.push(frame(c, s, t, true));
    } else {
      visit(c, s, t, f.nested);
      f.cursor = t;
    }
  }
}

/** Every sub-VMAR of `vmar` (not `vmar` itself, nor retired ranges), parents before children. */
function subtreeVmars(vmar: VmarObject, out: VmarObject[]): void {
  const todo: VmarObject[] = [vmar];
  while (todo.length > 0) {
    const v = todo.pop() as VmarObject;
    for (const c of v.children.all()) {
      if (c instanceof VmarObject && !(c instanceof RetiredRange)) {
        out.push(c);
        todo.push(c);
      }
    }
  }
}

// ---------------------------------------------------------------- unmap and destroy

/** One record's part that a teardown takes out of memory. */
interface Cut {
  readonly rec: MappingRecord;
  readonly s: number;
  readonly e: number;
  /** The part an escaped view may reach (retired, never unmapped), or null. */
  readonly esc: [number, number] | null;
}

/** The checked plan of an unmap or destroy: nothing has changed yet. */
export interface Teardown {
  /** Record parts to take out of memory. */
  readonly cuts: Cut[];
  /** VMARs that end destroyed, parents before children. */
  readonly vmars: VmarObject[];
}

function cutOf(ctx: VmContext, rec: MappingRecord, s: number, e: number): Cut {
  return { rec, s, e, esc: escapedPart(ctx, rec, s, e) };
}

/** Plan taking every mapping in `vmar`'s subtree down and destroying its VMARs (and `vmar`). */
export function planDestroy(ctx: VmContext, vmar: VmarObject): Teardown {
  const vmars: VmarObject[] = [vmar];
  subtreeVmars(vmar, vmars);
  const cuts: Cut[] = [];
  for (const v of vmars) {
    for (const c of v.children.all()) {
      if (c instanceof MappingRecord) cuts.push(cutOf(ctx, c, c.start, c.end));
    }
  }
  return { cuts, vmars };
}

/**
 * Plan unmapping `[lo, hi)` of `vmar`: parts of its own mappings, and the whole of every
 * sub-VMAR inside the range (callers checked they are fully covered and may go).
 */
export function planUnmap(ctx: VmContext, vmar: VmarObject, lo: number, hi: number): Teardown {
  const plan: Teardown = { cuts: [], vmars: [] };
  for (const c of vmar.children.overlapping(lo, hi)) {
    if (c instanceof RetiredRange) continue; // out of use for good
    if (c instanceof VmarObject) {
      const sub = planDestroy(ctx, c);
      plan.cuts.push(...sub.cuts);
      plan.vmars.push(...sub.vmars);
    } else {
      plan.cuts.push(cutOf(ctx, c, Math.max(c.start, lo), Math.min(c.end, hi)));
    }
  }
  return plan;
}

/** Plan taking down the given records whole (one map call's pieces). */
export function planRecords(ctx: VmContext, recs: readonly MappingRecord[]): Teardown {
  return { cuts: recs.map((r) => cutOf(ctx, r, r.start, r.end)), vmars: [] };
}

/** Map `[s, e)` of `rec` again, as it was (rolling back an unmap). */
export function remap(ctx: VmContext, rec: MappingRecord, s: number, e: number): void {
  const off = rec.vmo.memOffset + rec.vmoOffset + (s - rec.start);
  ctx.aspace.map(s, rec.vmo.mem, off, e - s, rec.perms, false);
}

/**
 * Carry out a teardown plan: the backend unmaps (rolled back if one fails, then the error is
 * thrown, named after `op`), then the escaped parts are retired and the books follow. With
 * `inMemory` false only the books change (the memory was already replaced by a new mapping).
 *
 * @throws {ZxError} the backend failure; nothing has changed then
 */
export function applyTeardown(ctx: VmContext, plan: Teardown, op: string, inMemory = true): void {
  if (inMemory) {
    const ranges: Array<[Cut, number, number]> = [];
    for (const c of plan.cuts) {
      if (c.esc === null) ranges.push([c, c.s, c.e]);
      else {
        if (c.s < c.esc[0]) ranges.push([c, c.s, c.esc[0]]);
        if (c.esc[1] < c.e) ranges.push([c, c.esc[1], c.e]);
      }
    }
    let i = 0;
    try {
      for (; i < ranges.length; i++) ctx.aspace.unmap(ranges[i][1], ranges[i][2] - ranges[i][1]);
    } catch (x) {
      // Put back what was taken down; what cannot be put back is unmapped in the books too.
      for (let j = i - 1; j >= 0; j--) {
        const [c, s, e] = ranges[j];
        try {
          remap(ctx, c.rec, s, e);
        } catch {
          dropView(ctx, c.rec.origin);
          const now = c.rec.parent.children.containing(s);
          if (now instanceof MappingRecord) splitRecord(now, s, e);
        }
      }
      throw backendFailure(op, x);
    }
    for (const c of plan.cuts) {
      if (c.esc !== null) ctx.aspace.retire(c.esc[0], c.esc[1] - c.esc[0]);
    }
  }
  commitTeardown(ctx, plan);
}

/** The books of a teardown whose memory side is done. */
function commitTeardown(ctx: VmContext, plan: Teardown): void {
  const retired: Array<[VmarObject, number, number]> = [];
  for (const c of plan.cuts) {
    dropView(ctx, c.rec.origin);
    if (c.esc !== null) retired.push([c.rec.parent, c.esc[0], c.esc[1]]);
    splitRecord(c.rec, c.s, c.e);
  }
  for (const v of plan.vmars) v.destroyed = true;
  // Children first, so retired ranges climb to the nearest VMAR that survives.
  for (let i = plan.vmars.length - 1; i >= 0; i--) {
    const v = plan.vmars[i];
    for (const c of v.children.all()) {
      if (c instanceof RetiredRange) {
        v.children.remove(c);
        retired.push([v, c.start, c.end]);
      }
    }
    const p = v.parent;
    if (p !== null && !p.destroyed) {
      p.children.remove(v);
      p.free.give(v.start, v.end);
    }
  }
  for (const [at, lo, hi] of retired) {
    let v = at;
    while (v.destroyed && v.parent !== null) v = v.parent;
    if (v.destroyed) continue; // the whole tree is going (kernel close)
    v.children.insert(new RetiredRange(lo, hi, v));
    v.free.take(lo, hi);
  }
}

// ---------------------------------------------------------------- protect

/** One record's part whose protection changes. */
export interface ProtectStep {
  /** The record. */
  readonly rec: MappingRecord;
  /** Start of the part in range. */
  readonly s: number;
  /** End of the part in range. */
  readonly t: number;
}

/**
 * Plan `zx_vmar_protect` of `[lo, hi)` to `perms` (Zircon's `VmAddressRegion::Protect`
 * checks): every page must be mapped, every mapping must allow `perms`, and mappings inside
 * sub-VMARs may only lose permissions (with `OP_CHILDREN`).
 *
 * @throws {ZxError} `ErrNotFound`, `ErrAccessDenied`, `ErrInvalidArgs`, `ErrBadState`
 */
export function planProtect(
  ctx: VmContext,
  vmar: VmarObject,
  lo: number,
  hi: number,
  perms: number,
  opChildren: boolean,
  op: string,
): ProtectStep[] {
  const steps: ProtectStep[] = [];
  walkRange(vmar, lo, hi, (c, s, t, nested) => {
    if ((perms & ~c.maxPerms) !== 0) {
      throw new ZxError(
        S.ErrAccessDenied,
        op,
        `the mapping at 0x${c.start.toString(16)} may not become ${permName(perms)}`,
      );
    }
    if (nested) {
      if (!opChildren) {
        throw new ZxError(S.ErrInvalidArgs, op, "protecting inside sub-VMARs needs OP_CHILDREN");
      }
      if ((perms & ~c.perms) !== 0) {
        throw new ZxError(
          S.ErrAccessDenied,
          op,
          "mappings inside sub-VMARs can only lose permissions",
        );
      }
    }
    if ((c.perms & ~perms) !== 0 && escapedPart(ctx, c, s, t) !== null) {
      throw new ZxError(S.ErrBadState, op, escapedWhy("protected"));
    }
    if (c.perms !== perms) steps.push({ rec: c, s, t });
  }, (addr) => {
    throw new ZxError(S.ErrNotFound, op, `nothing is mapped at 0x${addr.toString(16)}`);
  });
  return steps;
}

/**
 * Carry out a protect plan: backend protects (rolled back if one fails), then views over
 * memory that lost access are detached and the records split.
 *
 * @throws {ZxError} the backend failure, named after `op`; nothing has changed then
 */
export function applyProtect(
  ctx: VmContext,
  steps: readonly ProtectStep[],
  perms: number,
  op: string,
): void {
  let i = 0;
  try {
    for (; i < steps.length; i++) ctx.aspace.protect(steps[i].s, steps[i].t - steps[i].s, perms);
  } catch (x) {
    for (let j = i - 1; j >= 0; j--) {
      const { rec, s, t } = steps[j];
      try {
        ctx.aspace.protect(s, t - s, rec.perms);
      } catch {
        commitProtect(ctx, steps[j], perms); // the books follow the memory
      }
    }
    throw backendFailure(op, x);
  }
  for (const step of steps) commitProtect(ctx, step, perms);
}

function commitProtect(ctx: VmContext, { rec, s, t }: ProtectStep, perms: number): void {
  if ((rec.perms & ~perms) !== 0) dropView(ctx, rec.origin);
  splitRecord(rec, s, t, perms);
}
