/**
 * Hostile inputs for every public method and parameter (issue #7, part 2): wrong JS types,
 * values outside u64/u32, extreme in-domain values, closed handles, another kernel's handles and
 * the wrong object type. Each case expects `TypeError` or a `ZxError` with a given status, and a
 * failed call must leave the kernel's observable state unchanged (handles, mappings, info,
 * contents). {@link runHostile} returns the number of cases checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Kernel,
  Mapping,
  Rights,
  Signals,
  statusName,
  Vmar,
  Vmo,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxVmOption as O,
} from "../../mod.ts";

const P = 4096;

/** What a case expects: `"TypeError"`, `"ok"`, or a status name without `ZX_ERR_`. */
export type Expect = string;

/** The objects every case starts from. */
export interface Fixture {
  k: Kernel;
  other: Kernel;
  vmo: Vmo;
  vmo2: Vmo;
  vmar: Vmar;
  map: Mapping;
  closedVmo: Vmo;
  closedVmar: Vmar;
  foreignVmo: Vmo;
  foreignVmar: Vmar;
}

/** Opens a kernel for a fixture. */
export type OpenKernel = (seed: number) => Kernel;

function fixture(open: OpenKernel, seed: number, openOther: OpenKernel): Fixture {
  const k = open(seed);
  const other = openOther(seed + 1);
  const vmo = k.createVmo(3 * P, VmoOptions.Resizable);
  vmo.write(new Uint8Array([1, 2, 3, 4, 5]), 10);
  vmo.name = "fixture";
  const vmo2 = k.createVmo(P);
  const vmar = k.rootVmar.allocate(
    O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
    0,
    64 * P,
  );
  const map = vmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 2 * P);
  const closedVmo = k.createVmo(P);
  closedVmo.close();
  const closedVmar = k.rootVmar.allocate(O.VmCanMapRead, 0, P);
  closedVmar.close();
  const foreignVmo = other.createVmo(P);
  const foreignVmar = other.rootVmar.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 4 * P);
  return { k, other, vmo, vmo2, vmar, map, closedVmo, closedVmar, foreignVmo, foreignVmar };
}

function digest(a: Uint8Array): string {
  let h = 0x811C9DC5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 0x01000193);
  return `${a.length}:${(h >>> 0).toString(16)}`;
}

/** Everything a failed call must not change. */
export function snapshot(f: Fixture): unknown {
  const vmoState = (v: Vmo): unknown =>
    v.valid
      ? {
        info: v.info(),
        data: digest(v.read(v.size, 0)),
        content: v.contentSize,
        name: v.name,
        rights: v.rights,
      }
      : "closed";
  return {
    handles: f.k.handleCount,
    otherHandles: f.other.handleCount,
    mappings: f.k.rootVmar.mappings(),
    otherMappings: f.other.closed ? "closed" : f.other.rootVmar.mappings(),
    vmo: vmoState(f.vmo),
    vmo2: vmoState(f.vmo2),
    vmar: f.vmar.valid ? [f.vmar.base, f.vmar.len, f.vmar.rights, f.vmar.mappings()] : "closed",
    map: [f.map.alive, f.map.addr, f.map.len],
    foreign: vmoState(f.foreignVmo),
    def: [Vmo.create.length, Vmar.root().mappings().length],
  };
}

function outcome(fn: () => unknown): Expect {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => {}); // waitOne: only its synchronous checks matter
    // Results that hold resources are released (Vmo.create uses the shared default kernel).
    if (r instanceof Vmo || r instanceof Vmar) r.close();
    else if (r instanceof Mapping) r.unmap();
    return "ok";
  } catch (e) {
    if (e instanceof ZxError) return statusName(e.status).replace("ZX_ERR_", "");
    if (e instanceof TypeError) return "TypeError";
    throw e;
  }
}

/** Kinds of parameters. */
type Kind = "u64" | "u32" | "bytes" | "vmo" | "string" | "waitopts";

interface Param {
  name: string;
  kind: Kind;
  /** Has a default: `undefined` is valid. */
  optional?: boolean;
  /** For u64: expected outcome for [2^53, 2^64-2048, 2^64-1 (bigint), 2^64-4096 (bigint)]. */
  extreme?: [Expect, Expect, Expect, Expect];
}

interface Method {
  name: string;
  params: Param[];
  valid: (f: Fixture) => unknown[];
  call: (f: Fixture, args: unknown[]) => unknown;
  /** Receivers: a closed one (BAD_HANDLE) and one of the wrong type (WRONG_TYPE). */
  closed?: (f: Fixture, args: unknown[]) => unknown;
  wrongType?: (f: Fixture, args: unknown[]) => unknown;
  /** Calls that fail also invalidate the receiver (replace). */
  consumesReceiver?: boolean;
}

const typeJunk: unknown[] = [
  "1",
  "x",
  null,
  {},
  [],
  true,
  Symbol("s"),
  () => 1,
  { valueOf: () => 4096 },
  new Date(0),
];
const domainJunk: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  -1,
  0.5,
  4096.5,
  2 ** 64,
  2 ** 70,
  -1n,
  2n ** 64n,
  -(2n ** 63n),
];
const u32Only: unknown[] = [2 ** 32, 2 ** 53, 0x1_0000_0000n, 2n ** 64n - 1n];
const extremes: unknown[] = [2 ** 53, 2 ** 64 - 2048, 2n ** 64n - 1n, 2n ** 64n - 4096n];
const bytesJunk: unknown[] = [
  "abc",
  5,
  null,
  {},
  [1, 2],
  new ArrayBuffer(4),
  new Uint16Array(2),
  new Int8Array(2),
  new Uint8ClampedArray(2),
  new DataView(new ArrayBuffer(2)),
];

/** Call `fn` with `recv` as `this`, bypassing TypeScript's receiver and overload typing. */
function invoke(fn: unknown, recv: unknown, ...args: unknown[]): unknown {
  return (fn as (...a: unknown[]) => unknown).apply(recv, args);
}

const E = (x: Expect): [Expect, Expect, Expect, Expect] => [x, x, x, x];
const RW = O.VmPermRead | O.VmPermWrite;

/** Every public method taking arguments, with its parameters. */
function methods(): Method[] {
  return [
    {
      name: "Kernel.createVmo",
      params: [
        { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "options", kind: "u32", optional: true },
      ],
      valid: () => [P, 0],
      call: (f, a) => f.k.createVmo(a[0] as number, a[1] as number),
    },
    {
      name: "Vmo.create",
      params: [
        { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "options", kind: "u32", optional: true },
      ],
      valid: () => [P, 0],
      call: (_f, a) => Vmo.create(a[0] as number, a[1] as number),
    },
    {
      name: "Vmo.read(length, offset)",
      params: [
        { name: "length", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "offset", kind: "u64", optional: true, extreme: E("OUT_OF_RANGE") },
      ],
      valid: () => [16, 0],
      call: (f, a) => f.vmo.read(a[0] as number, a[1] as number),
      closed: (f, a) => f.closedVmo.read(a[0] as number, a[1] as number),
      wrongType: (f, a) => invoke(Vmo.prototype.read, f.vmar, a[0] as number, a[1] as number),
    },
    {
      name: "Vmo.read(into, offset)",
      params: [{ name: "offset", kind: "u64", optional: true, extreme: E("OUT_OF_RANGE") }],
      valid: () => [0],
      call: (f, a) => f.vmo.read(new Uint8Array(8), a[0] as number),
      closed: (f, a) => f.closedVmo.read(new Uint8Array(8), a[0] as number),
      wrongType: (f, a) => invoke(Vmo.prototype.read, f.vmar, new Uint8Array(8), a[0] as number),
    },
    {
      name: "Vmo.write",
      params: [
        { name: "data", kind: "bytes" },
        { name: "offset", kind: "u64", optional: true, extreme: E("OUT_OF_RANGE") },
      ],
      valid: () => [new Uint8Array([9, 9]), 0],
      call: (f, a) => f.vmo.write(a[0] as Uint8Array, a[1] as number),
      closed: (f, a) => f.closedVmo.write(a[0] as Uint8Array, a[1] as number),
      wrongType: (f, a) => invoke(Vmo.prototype.write, f.vmar, a[0] as Uint8Array, a[1] as number),
    },
    {
      name: "Vmo.setSize",
      params: [{ name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") }],
      valid: () => [4 * P],
      call: (f, a) => f.vmo.setSize(a[0] as number),
      closed: (f, a) => f.closedVmo.setSize(a[0] as number),
      wrongType: (f, a) => invoke(Vmo.prototype.setSize, f.vmar, a[0] as number),
    },
    {
      name: "Vmo.setContentSize",
      // Content size may exceed the VMO size (Zircon core test ContentSize).
      params: [{ name: "size", kind: "u64", extreme: E("ok") }],
      valid: () => [100],
      call: (f, a) => f.vmo.setContentSize(a[0] as number),
      closed: (f, a) => f.closedVmo.setContentSize(a[0] as number),
      wrongType: (f, a) => invoke(Vmo.prototype.setContentSize, f.vmar, a[0] as number),
    },
    {
      name: "Vmo.opRange",
      params: [
        { name: "op", kind: "u32" },
        { name: "offset", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
      ],
      valid: () => [VmoOp.Commit, 0, P],
      call: (f, a) => f.vmo.opRange(a[0] as number, a[1] as number, a[2] as number),
      closed: (f, a) => f.closedVmo.opRange(a[0] as number, a[1] as number, a[2] as number),
      wrongType: (f, a) =>
        invoke(Vmo.prototype.opRange, f.vmar, a[0] as number, a[1] as number, a[2] as number),
    },
    {
      name: "Vmo.createChild",
      params: [
        { name: "options", kind: "u32" },
        {
          name: "offset",
          kind: "u64",
          // 2^53 is page aligned: a snapshot there is valid (it reads zeros).
          extreme: ["ok", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        },
        { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
      ],
      valid: () => [VmoChildOptions.Snapshot, 0, P],
      call: (f, a) => f.vmo2.createChild(a[0] as number, a[1] as number, a[2] as number),
      closed: (f, a) => f.closedVmo.createChild(a[0] as number, a[1] as number, a[2] as number),
      wrongType: (f, a) =>
        invoke(Vmo.prototype.createChild, f.vmar, a[0] as number, a[1] as number, a[2] as number),
    },
    {
      name: "Handle.duplicate",
      params: [{ name: "rights", kind: "u32", optional: true }],
      valid: () => [Rights.Read | Rights.Map],
      call: (f, a) => f.vmo.duplicate(a[0] as number),
      closed: (f, a) => f.closedVmo.duplicate(a[0] as number),
    },
    {
      name: "Handle.replace",
      params: [{ name: "rights", kind: "u32", optional: true }],
      valid: () => [Rights.Read | Rights.Map],
      call: (f, a) => f.vmo.replace(a[0] as number),
      closed: (f, a) => f.closedVmo.replace(a[0] as number),
      consumesReceiver: true,
    },
    {
      name: "Handle.name=",
      params: [{ name: "name", kind: "string" }],
      valid: () => ["n"],
      call: (f, a) => {
        f.vmo.name = a[0] as string;
      },
      closed: (f, a) => {
        f.closedVmo.name = a[0] as string;
      },
    },
    {
      name: "Handle.waitOne",
      params: [
        { name: "signals", kind: "u32" },
        { name: "opts", kind: "waitopts", optional: true },
      ],
      valid: () => [Signals.VmoZeroChildren, { deadline: 0 }],
      call: (f, a) => f.vmo.waitOne(a[0] as number, a[1] as { deadline: number }),
      closed: (f, a) => f.closedVmo.waitOne(a[0] as number, a[1] as { deadline: number }),
    },
    {
      name: "Vmar.allocate",
      params: [
        { name: "options", kind: "u32" },
        { name: "offset", kind: "u64", extreme: E("INVALID_ARGS") },
        { name: "size", kind: "u64", extreme: E("INVALID_ARGS") },
      ],
      valid: () => [O.VmCanMapRead, 0, P],
      call: (f, a) => f.vmar.allocate(a[0] as number, a[1] as number, a[2] as number),
      closed: (f, a) => f.closedVmar.allocate(a[0] as number, a[1] as number, a[2] as number),
      wrongType: (f, a) =>
        invoke(Vmar.prototype.allocate, f.vmo, a[0] as number, a[1] as number, a[2] as number),
    },
    {
      name: "Vmar.map",
      params: [
        { name: "options", kind: "u32" },
        { name: "vmarOffset", kind: "u64", extreme: E("INVALID_ARGS") },
        { name: "vmo", kind: "vmo" },
        {
          name: "vmoOffset",
          kind: "u64",
          // 2^53 is page aligned and does not overflow: a mapping past the VMO's end is valid.
          extreme: ["ok", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        },
        {
          name: "len",
          kind: "u64",
          extreme: ["INVALID_ARGS", "OUT_OF_RANGE", "OUT_OF_RANGE", "INVALID_ARGS"],
        },
      ],
      valid: (f) => [O.VmPermRead, 0, f.vmo2, 0, P],
      call: (f, a) =>
        f.vmar.map(a[0] as number, a[1] as number, a[2] as Vmo, a[3] as number, a[4] as number),
      closed: (f, a) =>
        f.closedVmar.map(
          a[0] as number,
          a[1] as number,
          a[2] as Vmo,
          a[3] as number,
          a[4] as number,
        ),
      wrongType: (f, a) =>
        invoke(
          Vmar.prototype.map,
          f.vmo,
          a[0] as number,
          a[1] as number,
          a[2] as Vmo,
          a[3] as number,
          a[4] as number,
        ),
    },
    {
      name: "Vmar.unmap",
      params: [
        { name: "addr", kind: "u64", extreme: E("INVALID_ARGS") },
        { name: "len", kind: "u64", extreme: E("INVALID_ARGS") },
      ],
      // A valid unmap of an empty page of the VMAR (changes nothing).
      valid: (f) => [f.vmar.base + 32 * P, P],
      call: (f, a) => f.vmar.unmap(a[0] as number, a[1] as number),
      closed: (f, a) => f.closedVmar.unmap(a[0] as number, a[1] as number),
      wrongType: (f, a) => invoke(Vmar.prototype.unmap, f.vmo, a[0] as number, a[1] as number),
    },
    {
      name: "Vmar.protect",
      params: [
        { name: "options", kind: "u32" },
        { name: "addr", kind: "u64", extreme: E("INVALID_ARGS") },
        { name: "len", kind: "u64", extreme: E("INVALID_ARGS") },
      ],
      valid: (f) => [RW, f.map.addr, P],
      call: (f, a) => f.vmar.protect(a[0] as number, a[1] as number, a[2] as number),
      closed: (f, a) => f.closedVmar.protect(a[0] as number, a[1] as number, a[2] as number),
      wrongType: (f, a) =>
        invoke(Vmar.prototype.protect, f.vmo, a[0] as number, a[1] as number, a[2] as number),
    },
    {
      name: "Vmar.opRange",
      params: [
        { name: "op", kind: "u32" },
        {
          name: "addr",
          kind: "u64",
          extreme: ["OUT_OF_RANGE", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        },
        {
          name: "len",
          kind: "u64",
          extreme: ["OUT_OF_RANGE", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        },
      ],
      valid: (f) => [VmoOp.Prefetch, f.map.addr, P],
      call: (f, a) => f.vmar.opRange(a[0] as number, a[1] as number, a[2] as number),
      closed: (f, a) => f.closedVmar.opRange(a[0] as number, a[1] as number, a[2] as number),
      wrongType: (f, a) =>
        invoke(Vmar.prototype.opRange, f.vmo, a[0] as number, a[1] as number, a[2] as number),
    },
    {
      name: "Mapping.read",
      params: [
        { name: "offset", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "length", kind: "u64", extreme: E("OUT_OF_RANGE") },
      ],
      valid: () => [0, 16],
      call: (f, a) => f.map.read(a[0] as number, a[1] as number),
    },
    {
      name: "Mapping.write",
      params: [
        { name: "offset", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "data", kind: "bytes" },
      ],
      valid: () => [0, new Uint8Array([1])],
      call: (f, a) => f.map.write(a[0] as number, a[1] as Uint8Array),
    },
  ];
}

/** Receivers without arguments (getters and nullary methods): closed and wrong-type cases. */
function nullary(): Array<{
  name: string;
  closed: (f: Fixture) => unknown;
  wrongType?: (f: Fixture) => unknown;
}> {
  const get = (proto: object, key: string, recv: unknown): unknown =>
    Object.getOwnPropertyDescriptor(proto, key)?.get?.call(recv);
  const hp = Object.getPrototypeOf(Vmo.prototype) as object;
  return [
    { name: "Handle.koid", closed: (f) => f.closedVmo.koid },
    { name: "Handle.rights", closed: (f) => f.closedVmo.rights },
    { name: "Handle.name", closed: (f) => f.closedVmo.name },
    { name: "Handle.basicInfo", closed: (f) => f.closedVmo.basicInfo() },
    { name: "Handle.signals", closed: (f) => f.closedVmo.signals },
    { name: "Handle.name (VMAR)", closed: (f) => f.closedVmar.name },
    {
      name: "Vmo.size",
      closed: (f) => f.closedVmo.size,
      wrongType: (f) => get(Vmo.prototype, "size", f.vmar),
    },
    {
      name: "Vmo.contentSize",
      closed: (f) => f.closedVmo.contentSize,
      wrongType: (f) => get(Vmo.prototype, "contentSize", f.vmar),
    },
    {
      name: "Vmo.info",
      closed: (f) => f.closedVmo.info(),
      wrongType: (f) => invoke(Vmo.prototype.info, f.vmar),
    },
    {
      name: "Vmar.base",
      closed: (f) => f.closedVmar.base,
      wrongType: (f) => get(Vmar.prototype, "base", f.vmo),
    },
    {
      name: "Vmar.len",
      closed: (f) => f.closedVmar.len,
      wrongType: (f) => get(Vmar.prototype, "len", f.vmo),
    },
    {
      name: "Vmar.destroy",
      closed: (f) => f.closedVmar.destroy(),
      wrongType: (f) => invoke(Vmar.prototype.destroy, f.vmo),
    },
    {
      name: "Vmar.mappings",
      closed: (f) => f.closedVmar.mappings(),
      wrongType: (f) => invoke(Vmar.prototype.mappings, f.vmo),
    },
    { name: "Handle.koid (getter on a non-handle)", closed: () => get(hp, "koid", {}) },
  ];
}

/** Hostile values for a parameter, each with its expected outcome. */
function hostileValues(p: Param, f: Fixture): Array<[unknown, Expect]> {
  const out: Array<[unknown, Expect]> = [];
  const junkType = p.kind === "bytes" ? bytesJunk : typeJunk;
  if (p.kind === "u64" || p.kind === "u32" || p.kind === "bytes") {
    for (const v of junkType) out.push([v, "TypeError"]);
    if (!p.optional) out.push([undefined, "TypeError"]);
  }
  if (p.kind === "u64" || p.kind === "u32") {
    for (const v of domainJunk) out.push([v, "INVALID_ARGS"]);
  }
  if (p.kind === "u32") { for (const v of u32Only) out.push([v, "INVALID_ARGS"]); }
  if (p.kind === "u64" && p.extreme) {
    extremes.forEach((v, i) => out.push([v, (p.extreme as Expect[])[i]]));
  }
  if (p.kind === "vmo") {
    out.push([f.closedVmo, "BAD_HANDLE"]);
    out.push([f.foreignVmo, "BAD_HANDLE"]);
    out.push([f.vmar, "WRONG_TYPE"]);
    out.push([f.foreignVmar, "BAD_HANDLE"]);
    for (const v of [null, undefined, {}, f.vmo2.raw, { raw: f.vmo2.raw }, "vmo"]) {
      out.push([v, "TypeError"]);
    }
    out.push([Object.create(Vmo.prototype), "TypeError"]);
  }
  if (p.kind === "string") {
    for (const v of [5, null, undefined, {}, Symbol("n"), 1n, ["a"]]) out.push([v, "TypeError"]);
  }
  if (p.kind === "waitopts") {
    for (
      const v of [
        "x",
        5,
        null,
        { deadline: "1" },
        { deadline: NaN },
        { deadline: 1n },
        { signal: {} },
        { signal: "abort" },
      ]
    ) out.push([v, "TypeError"]);
  }
  return out;
}

/** A tally of the cases run. */
export interface HostileTally {
  cases: number;
  failures: string[];
}

/**
 * Run every hostile case on kernels from `open`; returns the tally (failures listed, not
 * thrown, so one run reports them all).
 */
export function runHostile(
  open: OpenKernel,
  label: string,
  openOther: OpenKernel = open,
): HostileTally {
  const tally: HostileTally = { cases: 0, failures: [] };
  let seed = 100;
  const check = (
    name: string,
    expect: Expect,
    fn: (f: Fixture) => unknown,
    consumes = false,
    setup?: (f: Fixture) => void,
  ): void => {
    const f = fixture(open, seed++, openOther);
    try {
      setup?.(f);
      const before = snapshot(f);
      let got: Expect;
      try {
        got = outcome(() => fn(f));
      } catch (e) {
        got = `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      }
      tally.cases++;
      if (got !== expect) {
        tally.failures.push(`${label}: ${name}: expected ${expect}, got ${got}`);
        return;
      }
      if (got !== "ok") {
        if (consumes) {
          // replace: the receiver is gone also on failure; nothing else changed.
          assert.equal(f.vmo.valid, false, `${name}: receiver invalid after failed replace`);
          return;
        }
        const after = snapshot(f);
        try {
          assert.deepEqual(after, before);
        } catch {
          tally.failures.push(`${label}: ${name}: failed with ${got} but changed state`);
        }
      }
    } finally {
      f.k.close();
      f.other.close();
    }
  };
  const show = (v: unknown): string => {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "symbol") return "Symbol";
    if (typeof v === "function") return "function";
    if (v instanceof Vmo || v instanceof Vmar) {
      try {
        return `${v.type}#${v.raw.toString(16)}`;
      } catch {
        return "forged handle";
      }
    }
    if (v !== null && typeof v === "object") {
      return v.constructor?.name ?? "object";
    }
    return typeof v === "string" ? JSON.stringify(v) : String(v);
  };

  for (const m of methods()) {
    const probe = fixture(open, 1, openOther);
    let valid: unknown[];
    let hostile: Array<Array<[unknown, Expect]>>;
    try {
      valid = m.valid(probe);
      hostile = m.params.map((p) => hostileValues(p, probe));
      // The valid call itself succeeds.
      const ok = outcome(() => m.call(probe, valid));
      tally.cases++;
      if (ok !== "ok") tally.failures.push(`${label}: ${m.name}(valid): got ${ok}`);
    } finally {
      probe.k.close();
      probe.other.close();
    }
    m.params.forEach((p, i) => {
      hostile[i].forEach(([, expect], j) => {
        check(`${m.name} ${p.name}=${show(hostile[i][j][0])}`, expect, (f) => {
          // Re-create fixture-bound values (handles) for this fixture.
          const args = m.valid(f);
          const v = hostileValues(p, f)[j][0];
          args[i] = v;
          return m.call(f, args);
        }, m.consumesReceiver === true);
      });
    });
    if (m.closed) {
      check(`${m.name} on a closed handle`, "BAD_HANDLE", (f) => m.closed!(f, m.valid(f)));
    }
    if (m.wrongType) {
      check(`${m.name} on the wrong object type`, "WRONG_TYPE", (f) => m.wrongType!(f, m.valid(f)));
    }
  }
  for (const n of nullary()) {
    const closedExpect = n.name.includes("non-handle") ? "TypeError" : "BAD_HANDLE";
    check(`${n.name} on a closed handle`, closedExpect, n.closed);
    if (n.wrongType) check(`${n.name} on the wrong object type`, "WRONG_TYPE", n.wrongType);
  }
  // Mapping accessors after the mapping is gone: faults, not crashes.
  const unmap = (f: Fixture): void => f.map.unmap();
  check("Mapping.read after unmap", "NOT_FOUND", (f) => f.map.read(0, 1), false, unmap);
  check(
    "Mapping.write after unmap",
    "NOT_FOUND",
    (f) => f.map.write(0, new Uint8Array(1)),
    false,
    unmap,
  );
  check("Mapping.bytes after unmap", "BAD_STATE", (f) => f.map.bytes(), false, unmap);
  // A closed kernel: every handle is dead, creating is BAD_STATE.
  const closeOther = (f: Fixture): void => f.other.close();
  check(
    "Kernel.createVmo on a closed kernel",
    "BAD_STATE",
    (f) => f.other.createVmo(P),
    false,
    closeOther,
  );
  check(
    "Vmo.read on a closed kernel",
    "BAD_HANDLE",
    (f) => f.foreignVmo.read(1, 0),
    false,
    closeOther,
  );
  check(
    "Vmo.write on a closed kernel",
    "BAD_HANDLE",
    (f) => f.foreignVmo.write(new Uint8Array(1), 0),
    false,
    closeOther,
  );
  check(
    "Vmar.map with a closed kernel's handles",
    "BAD_HANDLE",
    (f) => f.foreignVmar.map(O.VmPermRead, 0, f.foreignVmo, 0, P),
    false,
    closeOther,
  );
  // The borrowed root VMAR.
  check("rootVmar.destroy", "NOT_SUPPORTED", (f) => f.k.rootVmar.destroy());
  check("rootVmar.replace", "NOT_SUPPORTED", (f) => f.k.rootVmar.replace());
  return tally;
}

/** Hostile `Kernel.open` options (no kernel state involved). */
export function kernelOpenCases(): Array<[string, unknown, Expect]> {
  const cases: Array<[string, unknown, Expect]> = [];
  for (const v of ["foo", 5, null, "NATIVE"]) {
    cases.push([`backend=${String(v)}`, { backend: v }, "TypeError"]);
  }
  for (const v of [5, null, {}]) {
    cases.push([`shimPath=${String(v)}`, { shimPath: v }, "TypeError"]);
  }
  for (const v of ["1", {}, null, true, 1n]) {
    cases.push([`seed=${String(v)}`, { seed: v }, "TypeError"]);
  }
  for (const v of [NaN, -1, 1.5, 2 ** 53, 2 ** 64, Infinity, -Infinity]) {
    cases.push([`seed=${String(v)}`, { seed: v }, "INVALID_ARGS"]);
  }
  for (const v of [0, 2 ** 32 - 1, 2 ** 32, Date.now(), 2 ** 53 - 1]) {
    cases.push([`seed=${String(v)}`, { seed: v }, "ok"]);
  }
  for (const v of ["1", {}, null, true]) {
    cases.push([`rootVmarSize=${String(v)}`, { rootVmarSize: v }, "TypeError"]);
  }
  for (const v of [NaN, -1, 0.5, 2 ** 64, 0, 4095, 2 ** 47, 2n ** 64n - 1n, Infinity]) {
    cases.push([`rootVmarSize=${String(v)}`, { rootVmarSize: v }, "INVALID_ARGS"]);
  }
  return cases;
}

/** `Kernel.open` with hostile options; `whole` adds non-object options. */
export function runKernelOpen(
  open: (o: unknown) => Kernel,
  label: string,
  whole = false,
  ignoredOptions: string[] = [],
): HostileTally {
  const tally: HostileTally = { cases: 0, failures: [] };
  const cases = kernelOpenCases().filter(([name]) =>
    !ignoredOptions.some((o) => name.startsWith(`${o}=`))
  );
  if (whole) {
    for (const v of ["x", 5, null, true]) cases.push([`options=${String(v)}`, v, "TypeError"]);
  }
  for (const [name, opts, expect] of cases) {
    const got = outcome(() => {
      const k = open(opts);
      k.close();
    });
    tally.cases++;
    if (got !== expect) {
      tally.failures.push(`${label}: open ${name}: expected ${expect}, got ${got}`);
    }
  }
  return tally;
}
