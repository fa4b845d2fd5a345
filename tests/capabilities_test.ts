/**
 * Capabilities as properties: duplicate/replace never add rights; every operation without each
 * right Zircon requires for it is ACCESS_DENIED (or the status Zircon gives) and succeeds with
 * exactly the required rights; createChild's rights follow Zircon's formula; a closed handle's
 * value never names a new object (over 1M close/create cycles); random 32-bit values are
 * BAD_HANDLE.
 *
 * The rights matrix lists every public operation that takes a handle, with the rights Zircon
 * requires (zircon-semantics.md §2 and §1.7/§1.9). For each, the harness derives the variants:
 * all rights, exactly the required ones, each required right removed alone (from the exact set
 * and from all rights), and no rights at all.
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Handle,
  type Kernel,
  Rights,
  Signals,
  statusName,
  type Vmar,
  type Vmo,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";
import { kernelCore } from "../src/sdk/internal.ts";
import { openEmulated } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";

const P = 4096;
const ALL_RIGHTS = 0x7FFFFFFF; // every bit a handle can hold (SameRights is bit 31)

function status(fn: () => unknown): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof ZxError) return e.status;
    throw e;
  }
}

function env(name: string): string | undefined {
  try {
    if (typeof Deno !== "undefined") return Deno.env.get(name);
    return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
      name
    ];
  } catch {
    return undefined;
  }
}

/** A right Zircon requires, and the status its absence gives (default ACCESS_DENIED). */
type Need = number | [number, ZxStatus];

/** One handle an operation uses, with the rights Zircon requires on it. */
interface Subject {
  /** What the handle is, for messages. */
  what: string;
  /** Every one of these is required. */
  all: Need[];
  /** At least one of these is required (lock ops: READ or WRITE). */
  any?: number[];
}

/**
 * A public operation, the handles it uses, and how to run it: `h(i, full)` turns a handle with
 * full rights into the handle of subject `i` with the rights under test (a duplicate).
 */
interface RightCase {
  name: string;
  /** Where Zircon says so (zircon-semantics.md). */
  ref: string;
  subjects: Subject[];
  /** The outcome with the required rights (default `"ok"`). */
  expect?: number | "ok";
  run: (k: Kernel, h: <T extends Handle>(i: number, full: T) => T) => unknown;
}

const R = Rights;
const RW = O.VmPermRead | O.VmPermWrite;
const INVALID = ZxStatus.ErrInvalidArgs;

/** A VMO handle with full rights. */
function vmo(k: Kernel, opts: number = VmoOptions.Resizable, size = 2 * P): Vmo {
  return k.createVmo(size, opts);
}

/** A sub-VMAR of the root with full rights (CAN_MAP_READ|WRITE|SPECIFIC unless told). */
function sub(
  k: Kernel,
  canMap: number = O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
  size = 16 * P,
): Vmar {
  return k.rootVmar.allocate(canMap, 0, size);
}

const one = (what: string, ...all: Need[]): Subject[] => [{ what, all }];

/** Every public operation that takes a handle. */
function rightCases(): RightCase[] {
  const cs: RightCase[] = [];
  // ---------------------------------------------------------------- handles (§2.13, §1.9)
  for (
    const [what, make] of [
      ["VMO", (k: Kernel) => vmo(k)],
      ["sub-VMAR", (k: Kernel) => sub(k)],
      ["root VMAR", (k: Kernel) => k.rootVmar],
    ] as const
  ) {
    cs.push({
      name: `Handle.duplicate (${what})`,
      ref: "§2.13 duplicate needs DUPLICATE",
      subjects: one(what, R.Duplicate),
      run: (k, h) => h(0, make(k)).duplicate(),
    });
    cs.push({
      name: `Handle.duplicate to no rights (${what})`,
      ref: "§2.13 ZX_RIGHT_NONE is allowed",
      subjects: one(what, R.Duplicate),
      run: (k, h) => h(0, make(k)).duplicate(R.None),
    });
    cs.push({
      name: `Handle.replace (${what})`,
      ref: "§2.13 replace needs no right",
      subjects: one(what),
      run: (k, h) => h(0, make(k)).replace(),
    });
    cs.push({
      name: `Handle.close (${what})`,
      ref: "§2.13 close needs no right",
      subjects: one(what),
      run: (k, h) => h(0, make(k)).close(),
    });
    for (
      const [name, fn] of [
        ["basicInfo", (x: Handle) => x.basicInfo()],
        ["koid", (x: Handle) => x.koid],
        ["rights", (x: Handle) => x.rights],
      ] as const
    ) {
      cs.push({
        name: `Handle.${name} (${what})`,
        ref: "§1.9 ZX_INFO_HANDLE_BASIC lists no right",
        subjects: one(what),
        run: (k, h) => fn(h(0, make(k))),
      });
    }
    // VMAR handles never hold GET/SET_PROPERTY or WAIT (ZX_DEFAULT_VMAR_RIGHTS), so these are
    // denied even with all the rights a VMAR handle can have.
    cs.push({
      name: `Handle.name get (${what})`,
      ref: "§1.8 get_property needs GET_PROPERTY",
      subjects: one(what, R.GetProperty),
      run: (k, h) => h(0, make(k)).name,
    });
    cs.push({
      name: `Handle.name set (${what})`,
      ref: "§1.8 set_property needs SET_PROPERTY",
      subjects: one(what, R.SetProperty),
      run: (k, h) => {
        h(0, make(k)).name = "x";
      },
    });
    cs.push({
      name: `Handle.signals (${what})`,
      ref: "zx_object_wait_one needs WAIT",
      subjects: one(what, R.Wait),
      run: (k, h) => h(0, make(k)).signals,
    });
    cs.push({
      name: `Handle.waitOne (${what})`,
      ref: "zx_object_wait_one needs WAIT",
      subjects: one(what, R.Wait),
      run: (k, h) => h(0, make(k)).waitOne(Signals.VmoZeroChildren, { deadline: 0 }),
    });
  }
  // ---------------------------------------------------------------- VMO (§2.2–2.6)
  cs.push({
    name: "Vmo.read(length)",
    ref: "§2.2 read needs READ",
    subjects: one("VMO", R.Read),
    run: (k, h) => h(0, vmo(k)).read(1, 0),
  });
  cs.push({
    name: "Vmo.read(into)",
    ref: "§2.2 read needs READ",
    subjects: one("VMO", R.Read),
    run: (k, h) => h(0, vmo(k)).read(new Uint8Array(4), 0),
  });
  cs.push({
    name: "Vmo.write",
    ref: "§2.2 write needs WRITE",
    subjects: one("VMO", R.Write),
    run: (k, h) => h(0, vmo(k)).write(new Uint8Array(1), 0),
  });
  cs.push({
    name: "Vmo.size",
    ref: "§2.3 get_size needs no right",
    subjects: one("VMO"),
    run: (k, h) => h(0, vmo(k)).size,
  });
  cs.push({
    name: "Vmo.info",
    ref: "§1.9 ZX_INFO_VMO needs no right",
    subjects: one("VMO"),
    run: (k, h) => h(0, vmo(k)).info(),
  });
  cs.push({
    name: "Vmo.setSize (resizable)",
    ref: "§2.4 WRITE, then RESIZE for a resizable VMO",
    subjects: one("VMO", R.Write, R.Resize),
    run: (k, h) => h(0, vmo(k)).setSize(P),
  });
  cs.push({
    name: "Vmo.setSize (not resizable)",
    ref: "§2.4 WRITE, then UNAVAILABLE whatever RESIZE says",
    subjects: one("VMO", R.Write),
    expect: ZxStatus.ErrUnavailable,
    run: (k, h) => h(0, vmo(k, VmoOptions.Default)).setSize(P),
  });
  cs.push({
    name: "Vmo.contentSize",
    ref: "§1.8 ZX_PROP_VMO_CONTENT_SIZE: GET_PROPERTY",
    subjects: one("VMO", R.GetProperty),
    run: (k, h) => h(0, vmo(k)).contentSize,
  });
  cs.push({
    name: "Vmo.setContentSize",
    ref: "§1.8 ZX_PROP_VMO_CONTENT_SIZE: SET_PROPERTY",
    subjects: one("VMO", R.SetProperty),
    run: (k, h) => h(0, vmo(k)).setContentSize(1),
  });
  // opRange: rights per op (§2.5, K-vmo-disp RangeOp).
  const vmoOps: Array<[string, number, Need[], (number | "ok")?]> = [
    ["Commit", VmoOp.Commit, [R.Write]],
    ["Decommit", VmoOp.Decommit, [R.Write]],
    ["Zero", VmoOp.Zero, [R.Write]],
    ["CacheSync", VmoOp.CacheSync, [R.Read]],
    ["CacheClean", VmoOp.CacheClean, [R.Read]],
    ["CacheCleanInvalidate", VmoOp.CacheCleanInvalidate, [R.Read]],
    ["Prefetch", VmoOp.Prefetch, [R.Read]],
    ["DontNeed", VmoOp.DontNeed, []],
    ["AlwaysNeed", VmoOp.AlwaysNeed, []],
    // Without kernel debugging syscalls: NOT_SUPPORTED before any right is looked at.
    ["CacheInvalidate", VmoOp.CacheInvalidate, [], ZxStatus.ErrNotSupported],
  ];
  for (const [name, op, all, expect] of vmoOps) {
    cs.push({
      name: `Vmo.opRange(${name})`,
      ref: "§2.5 rights per op",
      subjects: one("VMO", ...all),
      expect,
      run: (k, h) => h(0, vmo(k)).opRange(op, 0, P),
    });
  }
  for (const [name, op] of [["Lock", VmoOp.Lock], ["TryLock", VmoOp.TryLock]] as const) {
    cs.push({
      name: `Vmo.opRange(${name}) (discardable)`,
      ref: "§2.5 lock ops need READ or WRITE",
      subjects: [{ what: "VMO", all: [], any: [R.Read, R.Write] }],
      run: (k, h) => h(0, vmo(k, VmoOptions.Discardable)).opRange(op, 0, 2 * P),
    });
  }
  cs.push({
    name: "Vmo.opRange(Unlock) (discardable, locked)",
    ref: "§2.5 lock ops need READ or WRITE",
    subjects: [{ what: "VMO", all: [], any: [R.Read, R.Write] }],
    run: (k, h) => {
      const v = vmo(k, VmoOptions.Discardable);
      v.opRange(VmoOp.Lock, 0, 2 * P);
      h(0, v).opRange(VmoOp.Unlock, 0, 2 * P);
    },
  });
  cs.push({
    name: "Vmo.opRange(Lock) (not discardable)",
    ref: "§2.5 rights first, then NOT_SUPPORTED",
    subjects: [{ what: "VMO", all: [], any: [R.Read, R.Write] }],
    expect: ZxStatus.ErrNotSupported,
    run: (k, h) => h(0, vmo(k)).opRange(VmoOp.Lock, 0, 2 * P),
  });
  const C = VmoChildOptions;
  const children: Array<[string, number, (number | "ok")?]> = [
    ["Snapshot", C.Snapshot],
    ["SnapshotAtLeastOnWrite", C.SnapshotAtLeastOnWrite],
    ["SnapshotModified", C.SnapshotModified],
    ["Snapshot|NoWrite", C.Snapshot | C.NoWrite],
    ["Snapshot|Resizable", C.Snapshot | C.Resizable],
    ["Slice", C.Slice],
    ["Slice|NoWrite", C.Slice | C.NoWrite],
    ["Reference", C.Reference, ZxStatus.ErrNotSupported],
  ];
  for (const [name, opts, expect] of children) {
    cs.push({
      name: `Vmo.createChild(${name})`,
      ref: "§2.6 DUPLICATE and READ",
      subjects: one("VMO", R.Duplicate, R.Read),
      expect,
      run: (k, h) => h(0, vmo(k, VmoOptions.Default)).createChild(opts, 0, P),
    });
  }
  // ---------------------------------------------------------------- map (§2.8): VMAR, VMO
  const maps: Array<[string, number, Need[], Need[], (number | "ok")?]> = [
    ["no permissions", 0, [], [R.Map]],
    ["PERM_READ", O.VmPermRead, [R.Read], [R.Map, R.Read]],
    ["PERM_READ|WRITE", RW, [R.Read, R.Write], [R.Map, R.Read, R.Write]],
    // zxvm's VMO handles never have EXECUTE: denied even with all rights (README).
    ["PERM_READ|EXECUTE", O.VmPermRead | O.VmPermExecute, [R.Read, R.Execute], [
      R.Map,
      R.Read,
      R.Execute,
    ]],
    ["PERM_READ_IF_XOM_UNSUPPORTED (adds READ)", O.VmPermReadIfXomUnsupported, [R.Read], [
      R.Map,
      R.Read,
    ]],
    ["PERM_READ|MAP_RANGE", O.VmPermRead | O.VmMapRange, [R.Read], [R.Map, R.Read]],
    ["PERM_READ|SPECIFIC", O.VmPermRead | O.VmSpecific, [R.Read], [R.Map, R.Read]],
    ["PERM_READ|WRITE|SPECIFIC_OVERWRITE", RW | O.VmSpecificOverwrite, [R.Read, R.Write], [
      R.Map,
      R.Read,
      R.Write,
    ]],
  ];
  for (const [name, opts, vmarNeeds, vmoNeeds, expect] of maps) {
    cs.push({
      name: `Vmar.map ${name}`,
      ref: "§2.8 MAP on the VMO; PERM_R/W/X need READ/WRITE/EXECUTE on both handles",
      subjects: [{ what: "VMAR", all: vmarNeeds }, { what: "VMO", all: vmoNeeds }],
      expect,
      run: (k, h) => {
        const v = sub(k, O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapExecute | O.VmCanMapSpecific);
        const m = h(0, v).map(opts, 0, h(1, vmo(k)), 0, P);
        m.unmap();
      },
    });
  }
  // ---------------------------------------------------------------- allocate (§2.7)
  const allocs: Array<[string, number, Need[], "root" | "sub"]> = [
    ["no CAN_MAP flags", 0, [], "sub"],
    ["CAN_MAP_READ", O.VmCanMapRead, [R.Read], "sub"],
    ["CAN_MAP_READ|WRITE", O.VmCanMapRead | O.VmCanMapWrite, [R.Read, R.Write], "sub"],
    ["CAN_MAP_SPECIFIC", O.VmCanMapSpecific, [], "sub"],
    ["SPECIFIC", O.VmSpecific, [], "sub"],
    ["CAN_MAP_EXECUTE (root)", O.VmCanMapExecute, [R.Execute], "root"],
    [
      "CAN_MAP_READ|WRITE|EXECUTE (root)",
      O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapExecute,
      [R.Read, R.Write, R.Execute],
      "root",
    ],
  ];
  for (const [name, opts, all, parent] of allocs) {
    cs.push({
      name: `Vmar.allocate ${name}`,
      ref: "§2.7 READ/WRITE/EXECUTE on the parent for CAN_MAP_READ/WRITE/EXECUTE",
      subjects: one(parent === "root" ? "root VMAR" : "VMAR", ...all),
      run: (k, h) => {
        const p = parent === "root" ? k.rootVmar : sub(k);
        h(0, p).allocate(opts, 0, P).close();
      },
    });
  }
  // ---------------------------------------------------------------- protect (§2.9)
  const protects: Array<[string, number, Need[], (number | "ok")?]> = [
    ["to no permissions", 0, []],
    ["PERM_READ", O.VmPermRead, [R.Read]],
    ["PERM_READ|WRITE", RW, [R.Read, R.Write]],
    ["PERM_READ_IF_XOM_UNSUPPORTED", O.VmPermReadIfXomUnsupported, [R.Read]],
    // The handle may hold EXECUTE, but no mapping can: the VMO handle had none (denied anyway).
    [
      "PERM_READ|EXECUTE",
      O.VmPermRead | O.VmPermExecute,
      [R.Read, R.Execute],
      ZxStatus.ErrAccessDenied,
    ],
  ];
  for (const [name, opts, all, expect] of protects) {
    cs.push({
      name: `Vmar.protect ${name}`,
      ref: "§2.9 READ/WRITE/EXECUTE for the requested PERM bits",
      subjects: one("VMAR", ...all),
      expect,
      run: (k, h) => {
        const v = sub(k, O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapExecute);
        const m = v.map(O.VmPermRead, 0, vmo(k), 0, P);
        h(0, v).protect(opts, m.addr, P);
      },
    });
  }
  cs.push({
    name: "Vmar.protect PERM_READ inside a sub-VMAR",
    ref: "§2.9 mappings in sub-VMARs need OP_CHILDREN (else INVALID_ARGS)",
    subjects: one("VMAR", R.Read, [R.OpChildren, INVALID]),
    run: (k, h) => {
      const outer = sub(k);
      const inner = outer.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 4 * P);
      const m = inner.map(RW, 0, vmo(k), 0, P);
      h(0, outer).protect(O.VmPermRead, m.addr, P);
    },
  });
  // ---------------------------------------------------------------- unmap, destroy (§2.10-11)
  cs.push({
    name: "Vmar.unmap a mapping",
    ref: "§2.10 no rights checked",
    subjects: one("VMAR"),
    run: (k, h) => {
      const v = sub(k);
      const m = v.map(RW, 0, vmo(k), 0, P);
      h(0, v).unmap(m.addr, P);
    },
  });
  cs.push({
    name: "Vmar.unmap a range holding a whole sub-VMAR",
    ref: "§2.10 OP_CHILDREN decides whether sub-VMARs may go (else INVALID_ARGS)",
    subjects: one("VMAR", [R.OpChildren, INVALID]),
    run: (k, h) => {
      const v = sub(k);
      const inner = v.allocate(O.VmCanMapRead, 0, 2 * P);
      h(0, v).unmap(inner.base, 2 * P);
    },
  });
  cs.push({
    name: "Vmar.destroy",
    ref: "§2.11 needs OP_CHILDREN",
    subjects: one("VMAR", R.OpChildren),
    run: (k, h) => h(0, sub(k)).destroy(),
  });
  // ---------------------------------------------------------------- vmar op_range (§2.12)
  const vmarOps: Array<[string, number, Need[]]> = [
    ["Commit", VmoOp.Commit, [R.Write]],
    ["Decommit", VmoOp.Decommit, [R.Write]],
    ["Zero", VmoOp.Zero, [R.Write]],
    ["MapRange", VmoOp.MapRange, [R.Read]],
    ["Prefetch", VmoOp.Prefetch, [R.Read]],
    ["DontNeed", VmoOp.DontNeed, []],
    ["AlwaysNeed", VmoOp.AlwaysNeed, []],
  ];
  for (const [name, op, all] of vmarOps) {
    cs.push({
      name: `Vmar.opRange(${name})`,
      ref: "§2.12 / VmAddressRegionDispatcher: WRITE for commit/decommit/zero, READ for " +
        "map-range/prefetch, none for the hints",
      subjects: one("VMAR", ...all),
      run: (k, h) => {
        const v = sub(k);
        const m = v.map(RW, 0, vmo(k), 0, P);
        h(0, v).opRange(op, m.addr, P);
      },
    });
  }
  cs.push({
    name: "Vmar.opRange(Commit) over a mapping made through the same handles",
    ref: "§2.12 COMMIT needs WRITE, and a mapping made from WRITE-capable handles",
    subjects: [{ what: "VMAR", all: [R.Read, R.Write] }, {
      what: "VMO",
      all: [R.Map, R.Read, R.Write],
    }],
    run: (k, h) => {
      const v = h(0, sub(k));
      const m = v.map(O.VmPermRead, 0, h(1, vmo(k)), 0, P);
      v.opRange(VmoOp.Commit, m.addr, P);
    },
  });
  for (
    const [name, op, all] of [["DontNeed", VmoOp.DontNeed, []], ["Prefetch", VmoOp.Prefetch, [
      R.Read,
    ]]] as const
  ) {
    cs.push({
      name: `Vmar.opRange(${name}) inside a sub-VMAR`,
      ref: "§2.12 ops inside sub-VMARs need OP_CHILDREN (else INVALID_ARGS)",
      subjects: one("VMAR", ...all, [R.OpChildren, INVALID]),
      run: (k, h) => {
        const outer = sub(k);
        const inner = outer.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 4 * P);
        const m = inner.map(RW, 0, vmo(k), 0, P);
        h(0, outer).opRange(op, m.addr, P);
      },
    });
  }
  // ---------------------------------------------------------------- VMAR info (§1.9)
  // (Zircon: GetDispatcherWithRights(handle, ZX_RIGHT_INSPECT) for both topics.)
  for (
    const [name, fn] of [
      ["base", (v: Vmar) => v.base],
      ["len", (v: Vmar) => v.len],
      ["mappings", (v: Vmar) => v.mappings()],
    ] as const
  ) {
    cs.push({
      name: `Vmar.${name}`,
      ref: "§1.9 ZX_INFO_VMAR (and ZX_INFO_VMAR_MAPS) need INSPECT",
      subjects: one("VMAR", R.Inspect),
      run: (k, h) => fn(h(0, sub(k))),
    });
  }
  return cs;
}

/** What to expect from a variant. */
interface Variant {
  label: string;
  rights: number[];
  expect: number | "ok";
}

const needRight = (n: Need): number => (typeof n === "number" ? n : n[0]);
const needStatus = (n: Need): number => (typeof n === "number" ? ZxStatus.ErrAccessDenied : n[1]);
const hex = (r: number): string => `0x${(r >>> 0).toString(16)}`;
const show = (s: number | "ok"): string => (s === "ok" ? "ok" : statusName(s));

/**
 * The variants of a case, given the full rights each subject's handle starts with: all rights,
 * exactly the required ones (each alternative of `any`), each required right removed alone (from
 * the exact set and from all rights), `any` removed, and no rights at all.
 */
function variants(c: RightCase, fulls: number[]): Variant[] {
  const ok = c.expect ?? "ok";
  const exact = c.subjects.map((s) => s.all.reduce((a: number, n) => a | needRight(n), 0));
  // A required right the handle can never hold (a VMO's EXECUTE, a VMAR's GET_PROPERTY/WAIT):
  // every variant is denied.
  const unattainable = c.subjects.some((s, i) =>
    s.all.some((n) => (needRight(n) & ~fulls[i]) !== 0) ||
    (s.any !== undefined && s.any.every((r) => (r & ~fulls[i]) !== 0))
  );
  const vs: Variant[] = [];
  const firstAny = c.subjects.map((s) => s.any?.[0] ?? 0);
  const base = exact.map((r, i) => r | firstAny[i]);
  const denied = ZxStatus.ErrAccessDenied;
  vs.push({
    label: "all rights",
    rights: c.subjects.map(() => ALL_RIGHTS),
    expect: unattainable ? denied : ok,
  });
  vs.push({
    label: "exactly the required rights",
    rights: base,
    expect: unattainable ? denied : ok,
  });
  c.subjects.forEach((s, i) => {
    const at = (r: number): number[] => base.map((b, j) => (j === i ? r : b));
    for (const a of s.any ?? []) {
      vs.push({
        label: `${s.what}: required rights with only ${hex(a)} of the alternatives`,
        rights: at(exact[i] | a),
        expect: unattainable ? denied : ok,
      });
    }
    if (s.any !== undefined) {
      const none = s.any.reduce((x, r) => x | r, 0);
      vs.push({
        label: `${s.what}: none of the alternatives`,
        rights: at(exact[i]),
        expect: denied,
      });
      vs.push({
        label: `${s.what}: all rights but the alternatives`,
        rights: at(ALL_RIGHTS & ~none),
        expect: denied,
      });
    }
    for (const n of s.all) {
      const r = needRight(n);
      const st = unattainable ? denied : needStatus(n);
      vs.push({
        label: `${s.what}: required rights without ${hex(r)}`,
        rights: at(base[i] & ~r),
        expect: st,
      });
      vs.push({
        label: `${s.what}: all rights but ${hex(r)}`,
        rights: at(ALL_RIGHTS & ~r),
        expect: st,
      });
    }
    const statuses = new Set(s.all.map(needStatus));
    if (s.all.length === 0 && s.any === undefined) {
      vs.push({
        label: `${s.what}: no rights at all`,
        rights: at(0),
        expect: unattainable ? denied : ok,
      });
    } else if (statuses.size <= 1) {
      vs.push({
        label: `${s.what}: no rights at all`,
        rights: at(0),
        expect: unattainable ? denied : s.all.length > 0 ? needStatus(s.all[0]) : denied,
      });
    }
  });
  return vs;
}

/** Run one variant of a case on a fresh kernel; returns the outcome and the full rights seen. */
function runVariant(c: RightCase, rights: number[]): { got: number | "ok"; fulls: number[] } {
  const k = openEmulated({ seed: 5 });
  const fulls: number[] = [];
  try {
    const got = status(() => {
      const r = c.run(k, (i, full) => {
        fulls[i] = full.rights;
        return full.duplicate(full.rights & rights[i]) as typeof full;
      });
      if (r instanceof Promise) r.catch(() => {});
    });
    return { got, fulls };
  } finally {
    k.close();
  }
}

function runMatrix(cases: RightCase[]): { cases: number; failures: string[] } {
  let n = 0;
  const failures: string[] = [];
  for (const c of cases) {
    const probe = runVariant(c, c.subjects.map(() => ALL_RIGHTS));
    if (probe.fulls.length !== c.subjects.length) {
      failures.push(
        `${c.name}: the case used ${probe.fulls.length} of ${c.subjects.length} subjects`,
      );
      continue;
    }
    for (const v of variants(c, probe.fulls)) {
      const { got } = runVariant(c, v.rights);
      n++;
      if (got !== v.expect) {
        failures.push(
          `${c.name} (${c.ref}) — ${v.label} [${v.rights.map(hex).join(", ")}]: expected ${
            show(v.expect)
          }, got ${show(got)}`,
        );
      }
    }
  }
  return { cases: n, failures };
}

describe("capabilities", () => {
  leakGuard();

  it("duplicate and replace never add rights (property)", () => {
    const k = openEmulated({ seed: 3 });
    try {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 0xFFFFFFFF }), fc.nat()), {
            maxLength: 30,
          }),
          (steps) => {
            const hs: Array<Vmo | Vmar> = [
              k.createVmo(P, VmoOptions.Resizable),
              k.rootVmar.duplicate(),
            ];
            try {
              for (const [replace, rights, pick] of steps) {
                const h = hs[pick % hs.length];
                if (!h.valid) continue;
                const before = h.rights;
                let n: Vmo | Vmar | undefined;
                const s = status(() => {
                  n = replace ? h.replace(rights) : h.duplicate(rights);
                });
                if (s === "ok") {
                  const got = (n as Vmo | Vmar).rights;
                  assert.equal(got & ~before, 0, "no right added");
                  if (rights !== Rights.SameRights) assert.equal(got, rights >>> 0);
                  else assert.equal(got, before);
                  hs.push(n as Vmo | Vmar);
                } else {
                  assert.ok(
                    s === ZxStatus.ErrInvalidArgs || s === ZxStatus.ErrAccessDenied,
                    `status ${s}`,
                  );
                  // A failed request was not a subset (or DUPLICATE was missing).
                  if (s === ZxStatus.ErrInvalidArgs) {
                    assert.ok(rights !== Rights.SameRights && (rights & ~before) !== 0);
                  } else assert.equal(before & Rights.Duplicate, 0);
                }
                if (replace) assert.equal(h.valid, false, "replace consumes the handle");
              }
            } finally {
              for (const h of hs) h.close();
            }
          },
        ),
        { seed: 17, numRuns: 300 },
      );
      assert.equal(k.handleCount, 0);
    } finally {
      k.close();
    }
  });

  it("rights matrix: without any one required right the operation is denied; with exactly the required rights it works", () => {
    const all = rightCases();
    const t = runMatrix(all);
    console.log(`capabilities: ${t.cases} rights-matrix cases over ${all.length} operations`);
    assert.deepEqual(t.failures, []);
    assert.ok(t.cases >= 500, `${t.cases} cases`);
  });

  it("createChild rights follow Zircon's formula for every parent rights subset", () => {
    // §1.7: (parent & ~RESIZE) | (CHILD_RESIZABLE ? RESIZE : 0) | GET_PROPERTY | SET_PROPERTY;
    // then NO_WRITE removes WRITE, else snapshots lose EXECUTE and gain WRITE.
    const C = VmoChildOptions;
    const kinds: Array<[number, boolean]> = [
      [C.Snapshot, true],
      [C.SnapshotAtLeastOnWrite, true],
      [C.SnapshotModified, true],
      [C.Snapshot | C.NoWrite, true],
      [C.Snapshot | C.Resizable, true],
      [C.Slice, false],
      [C.Slice | C.NoWrite, false],
    ];
    const k = openEmulated({ seed: 21 });
    let cases = 0;
    try {
      const parent = k.createVmo(2 * P);
      const full = parent.rights;
      const bits: number[] = [];
      for (let b = 0; b < 31; b++) if (full & (1 << b)) bits.push(1 << b);
      for (let mask = 0; mask < 1 << bits.length; mask++) {
        let r = 0;
        bits.forEach((b, i) => {
          if (mask & (1 << i)) r |= b;
        });
        const h = parent.duplicate(r);
        try {
          for (const [opts, snapshot] of kinds) {
            cases++;
            const s = status(() => h.createChild(opts, 0, P).close());
            if ((r & (R.Duplicate | R.Read)) !== (R.Duplicate | R.Read)) {
              assert.equal(s, ZxStatus.ErrAccessDenied, `rights ${hex(r)} options ${opts}`);
              continue;
            }
            const child = h.createChild(opts, 0, P);
            let want = (r & ~R.Resize) | (opts & C.Resizable ? R.Resize : 0) | R.GetProperty |
              R.SetProperty;
            if (opts & C.NoWrite) want &= ~R.Write;
            else if (snapshot) want = (want & ~R.Execute) | R.Write;
            assert.equal(hex(child.rights), hex(want), `rights ${hex(r)} options ${opts}`);
            child.close();
          }
        } finally {
          h.close();
        }
      }
      parent.close();
      assert.equal(k.handleCount, 0);
    } finally {
      k.close();
    }
    console.log(`capabilities: ${cases} createChild rights cases`);
  });

  it("a closed handle's value never names a new object (>= 1M close/create cycles)", () => {
    const cycles = Number(env("ZXVM_HANDLE_CYCLES") ?? 1_000_000);
    const k = openEmulated({ seed: 11 });
    try {
      const core = kernelCore(k);
      const seen = new Set<number>();
      const keep = k.createVmo(P);
      seen.add(keep.raw);
      const samples: number[] = [];
      for (let i = 0; i < cycles; i++) {
        // Alternate the ways a handle comes and goes: create/close, duplicate/close, replace.
        let raw: number;
        if (i % 3 === 0) {
          const v = k.createVmo(0);
          raw = v.raw;
          v.close();
        } else if (i % 3 === 1) {
          const d = keep.duplicate();
          raw = d.raw;
          d.close();
        } else {
          const d = keep.duplicate();
          const r = d.replace();
          assert.ok(!seen.has(d.raw));
          seen.add(d.raw);
          raw = r.raw;
          r.close();
        }
        if (seen.has(raw)) assert.fail(`value 0x${raw.toString(16)} reissued at cycle ${i}`);
        seen.add(raw);
        if (i % 65536 === 0) samples.push(raw);
      }
      // The old values stay dead.
      for (const raw of samples) {
        assert.equal(status(() => core.basicInfo(raw)), ZxStatus.ErrBadHandle);
      }
      assert.equal(k.handleCount, 1);
      keep.close();
      console.log(`capabilities: ${cycles} close/create cycles, ${seen.size} distinct values`);
    } finally {
      k.close();
    }
  });

  it("random 32-bit values are BAD_HANDLE", () => {
    const k = openEmulated({ seed: 13 });
    try {
      const core = kernelCore(k);
      const live = new Set<number>([core.rootHandle]);
      const vmo = k.createVmo(P);
      const vmar = k.rootVmar.allocate(O.VmCanMapRead, 0, P);
      live.add(vmo.raw);
      live.add(vmar.raw);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xFFFFFFFF }), (v) => {
          fc.pre(!live.has(v));
          assert.equal(status(() => core.basicInfo(v)), ZxStatus.ErrBadHandle);
          assert.equal(status(() => core.vmoRead(v, new Uint8Array(1), 0)), ZxStatus.ErrBadHandle);
          assert.equal(
            status(() => core.vmarMap(v, O.VmPermRead, 0, vmo.raw, 0, P)),
            ZxStatus.ErrBadHandle,
          );
          assert.equal(
            status(() => core.vmarMap(vmar.raw, O.VmPermRead, 0, v, 0, P)),
            ZxStatus.ErrBadHandle,
          );
          assert.equal(status(() => core.handleClose(v)), ZxStatus.ErrBadHandle);
          assert.equal(
            status(() => core.handleDuplicate(v, Rights.SameRights)),
            ZxStatus.ErrBadHandle,
          );
        }),
        { seed: 19, numRuns: 20000 },
      );
      // Values one bit away from live handles are dead too.
      for (const h of [vmo.raw, vmar.raw]) {
        for (let b = 0; b < 32; b++) {
          const v = (h ^ (1 << b)) >>> 0;
          if (!live.has(v)) assert.equal(status(() => core.basicInfo(v)), ZxStatus.ErrBadHandle);
        }
      }
      vmo.close();
      vmar.destroy();
      vmar.close();
    } finally {
      k.close();
    }
  });
});
