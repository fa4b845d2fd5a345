/**
 * Hostile inputs for every public method and parameter (issue #7, part 2): wrong JS types,
 * values outside u64/u32, extreme in-domain values, closed handles, another kernel's handles,
 * the wrong object type (another zxvm class, a plain object) and dead receivers (unmapped
 * mappings, destroyed VMARs, closed kernels). Each case expects `TypeError` or a `ZxError` with
 * a given status, and a failed call must leave the kernel's observable state unchanged
 * (handles, mappings, sub-VMARs, info, contents, rights). {@link runHostile} returns the number
 * of cases checked; {@link runKit} does the same for the testing kit (`zxvm/testing`).
 *
 * Every public member of every exported class is listed in {@link COVERED}; {@link
 * uncoveredMembers} reports members that have no hostile case, so new API cannot slip in
 * without one.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  FAULT_OPS,
  FaultInjector,
  Handle,
  Kernel,
  LeakError,
  Mapping,
  Rights,
  Signals,
  statusName,
  TestKernel,
  testKernel,
  Vmar,
  Vmo,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../../testing.ts";
import { assertNoLeaks } from "../../testing.ts";

const P = 4096;

/** What a case expects: `"TypeError"`, `"ok"`, or a status name without `ZX_ERR_`. */
export type Expect = string;

/** The objects every case starts from. */
export interface Fixture {
  k: Kernel;
  other: Kernel;
  /** `k.rootVmar` (borrowed). */
  root: Vmar;
  /** 3 pages, resizable, named, bytes 1..5 at offset 10; mapped by `map`. */
  vmo: Vmo;
  /** 1 page; mapped read-only by `roMap`. */
  vmo2: Vmo;
  /** A duplicate of `vmo`, the receiver of `replace` cases (consumed by them). */
  vmoR: Vmo;
  /** A 64-page sub-VMAR of the root (CAN_MAP_READ|WRITE|SPECIFIC). */
  vmar: Vmar;
  /** A duplicate of `vmar`, the receiver of `replace` cases. */
  vmarR: Vmar;
  /** 2 pages of `vmo`, read/write, in `vmar`. */
  map: Mapping;
  /** `vmo2`, read-only, in `vmar`. */
  roMap: Mapping;
  closedVmo: Vmo;
  closedVmar: Vmar;
  foreignVmo: Vmo;
  foreignVmar: Vmar;
  /** `foreignVmo` mapped read/write in `other`'s root VMAR. */
  foreignMap: Mapping;
}

/** Opens a kernel for a fixture. */
export type OpenKernel = (seed: number) => Kernel;

function fixture(open: OpenKernel, seed: number, openOther: OpenKernel): Fixture {
  const k = open(seed);
  const other = openOther(seed + 1);
  const root = k.rootVmar;
  const vmo = k.createVmo(3 * P, VmoOptions.Resizable);
  vmo.write(new Uint8Array([1, 2, 3, 4, 5]), 10);
  vmo.name = "fixture";
  const vmo2 = k.createVmo(P);
  vmo2.write(new Uint8Array([7, 7, 7]), 100);
  const vmoR = vmo.duplicate();
  const vmar = root.allocate(O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific, 0, 64 * P);
  const vmarR = vmar.duplicate();
  const map = vmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 2 * P);
  const roMap = vmar.map(O.VmPermRead, 0, vmo2, 0, P);
  const closedVmo = k.createVmo(P);
  closedVmo.close();
  const closedVmar = root.allocate(O.VmCanMapRead, 0, P);
  closedVmar.close();
  const foreignVmo = other.createVmo(P);
  const foreignVmar = other.rootVmar.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 4 * P);
  const foreignMap = other.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, foreignVmo, 0, P);
  return {
    k,
    other,
    root,
    vmo,
    vmo2,
    vmoR,
    vmar,
    vmarR,
    map,
    roMap,
    closedVmo,
    closedVmar,
    foreignVmo,
    foreignVmar,
    foreignMap,
  };
}

function digest(a: Uint8Array): string {
  let h = 0x811C9DC5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 0x01000193);
  return `${a.length}:${(h >>> 0).toString(16)}`;
}

function attempt<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (e) {
    return e instanceof ZxError ? statusName(e.status) : String(e);
  }
}

/**
 * Which free ranges of `v` (between its mappings) can still be allocated whole: a failed call
 * that left a sub-VMAR (or a mapping the books do not list) behind shows up here. Each probe
 * region is destroyed again.
 */
function freeRanges(v: Vmar): unknown {
  return attempt(() => {
    const base = v.base;
    const end = base + v.len;
    const ms = v.mappings().sort((a, b) => a.addr - b.addr);
    const out: string[] = [];
    let cur = base;
    for (const m of [...ms, { addr: end, len: 0 }]) {
      if (m.addr > cur) {
        const off = cur - base;
        const len = m.addr - cur;
        out.push(
          `${off}+${len}:${
            attempt(() => {
              const c = v.allocate(O.VmSpecific, off, len);
              c.destroy();
              c.close();
              return "free";
            })
          }`,
        );
      }
      cur = Math.max(cur, m.addr + m.len);
    }
    return out;
  });
}

/** Sub-VMARs of a kernel's root (from the testing kit's leak report). */
function rootChildren(k: Kernel): unknown {
  if (k.closed) return "closed";
  try {
    return assertNoLeaks(k).vmars;
  } catch (e) {
    if (e instanceof LeakError) return e.report.vmars;
    throw e;
  }
}

/** Everything a failed call must not change. */
export function snapshot(f: Fixture): Record<string, unknown> {
  const vmoState = (v: Vmo): unknown =>
    v.valid
      ? {
        info: v.info(),
        data: digest(v.read(v.size, 0)),
        content: v.contentSize,
        name: v.name,
        rights: v.rights,
        signals: v.signals,
      }
      : "closed";
  const vmarState = (v: Vmar): unknown =>
    v.valid ? [v.base, v.len, v.rights, attempt(() => v.mappings())] : "closed";
  const mapState = (m: Mapping): unknown => [m.alive, m.addr, m.len, m.options];
  return {
    handles: f.k.handleCount,
    otherHandles: f.other.handleCount,
    mappings: attempt(() => f.k.rootVmar.mappings()),
    otherMappings: f.other.closed ? "closed" : f.other.rootVmar.mappings(),
    rootChildren: rootChildren(f.k),
    otherRootChildren: rootChildren(f.other),
    root: [f.root.valid, attempt(() => f.root.rights), attempt(() => f.root.basicInfo())],
    vmo: vmoState(f.vmo),
    vmo2: vmoState(f.vmo2),
    vmoR: f.vmoR.valid ? f.vmoR.rights : "closed",
    vmar: vmarState(f.vmar),
    vmarFree: f.vmar.valid ? freeRanges(f.vmar) : "closed",
    vmarR: f.vmarR.valid ? f.vmarR.rights : "closed",
    map: mapState(f.map),
    roMap: mapState(f.roMap),
    foreign: vmoState(f.foreignVmo),
    foreignVmar: vmarState(f.foreignVmar),
    foreignMap: mapState(f.foreignMap),
    closed: [f.closedVmo.valid, f.closedVmar.valid],
    def: [Kernel.default.handleCount, Vmar.root().mappings().length],
  };
}

interface Outcome {
  got: Expect;
  error?: unknown;
}

function outcome(fn: () => unknown): Outcome {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => {}); // waitOne: only its synchronous checks matter
    // Results that hold resources are released (Vmo.create uses the shared default kernel).
    if (r instanceof Vmo || r instanceof Vmar) r.close();
    else if (r instanceof Mapping) r.unmap();
    return { got: "ok" };
  } catch (e) {
    if (e instanceof ZxError) return { got: statusName(e.status).replace("ZX_ERR_", ""), error: e };
    if (e instanceof TypeError) return { got: "TypeError", error: e };
    throw e;
  }
}

/** Kinds of parameters. */
type Kind =
  | "u64"
  | "u32"
  | "bytes"
  | "into"
  | "vmo"
  | "string"
  | "waitopts"
  | "ignored";

interface Param {
  name: string;
  kind: Kind;
  /** Has a default: `undefined` is valid. */
  optional?: boolean;
  /** For u64: expected outcome for [2^53, 2^64-2048, 2^64-1 (bigint), 2^64-4096 (bigint)]. */
  extreme?: [Expect, Expect, Expect, Expect];
  /** More values for this parameter, on the first receiver only. */
  extra?: (f: Fixture) => Array<[unknown, Expect]>;
}

/** A `this` for a method, with the outcome of the valid arguments on it. */
interface Receiver {
  label: string;
  get: (f: Fixture) => unknown;
  /** Outcome of the valid arguments (the argument checks come first, so bad ones win). */
  expect: Expect;
  /** Prepares the fixture (before the state snapshot). */
  setup?: (f: Fixture) => void;
  /** Also run the type/domain junk of every parameter on this receiver (default: true). */
  sweep?: boolean;
  /** A failed call invalidates this receiver (replace): the fixture key it lives in. */
  consumes?: "vmoR" | "vmarR";
}

interface Method {
  name: string;
  params: Param[];
  valid: (f: Fixture) => unknown[];
  /** Call the method on `recv` with `args`. */
  call: (recv: unknown, args: unknown[], f: Fixture) => unknown;
  /** The first receiver also gets the extreme and extra values. */
  receivers: Receiver[];
  /** Fault statuses of this method must carry `fault.access` (Mapping.read/write). */
  faultAccess?: "read" | "write";
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

/** A Uint8Array whose buffer was transferred away (length 0). */
function detached(n = 8): Uint8Array {
  const a = new Uint8Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/** Call `fn` with `recv` as `this`, bypassing TypeScript's receiver and overload typing. */
function invoke(fn: unknown, recv: unknown, ...args: unknown[]): unknown {
  return (fn as (...a: unknown[]) => unknown).apply(recv, args);
}

const HP = Handle.prototype as object;
function getter(proto: object, key: string): (recv: unknown) => unknown {
  const d = Object.getOwnPropertyDescriptor(proto, key);
  assert.ok(d?.get, `${key} is a getter`);
  return (recv) => d.get!.call(recv);
}
function setter(proto: object, key: string): (recv: unknown, v: unknown) => void {
  const d = Object.getOwnPropertyDescriptor(proto, key);
  assert.ok(d?.set, `${key} is a setter`);
  return (recv, v) => d.set!.call(recv, v);
}

const E = (x: Expect): [Expect, Expect, Expect, Expect] => [x, x, x, x];
const RW = O.VmPermRead | O.VmPermWrite;

const closeOther = (f: Fixture): void => f.other.close();
const destroyVmar = (f: Fixture): void => f.vmar.destroy();

/** Receivers that are not zxvm objects of the method's class. */
function aliens(...extra: Array<[string, (f: Fixture) => unknown]>): Receiver[] {
  const list: Array<[string, (f: Fixture) => unknown]> = [["a plain object", () => ({})], ...extra];
  return list.map(([label, get]) => ({ label, get, expect: "TypeError", sweep: false }));
}

/** The receivers of a `Vmo` method after the first. */
function vmoOthers(): Receiver[] {
  return [
    { label: "a closed VMO", get: (f) => f.closedVmo, expect: "BAD_HANDLE" },
    {
      label: "a closed kernel's VMO",
      get: (f) => f.foreignVmo,
      setup: closeOther,
      expect: "BAD_HANDLE",
    },
    { label: "a sub-VMAR (wrong type)", get: (f) => f.vmar, expect: "WRONG_TYPE" },
    { label: "the root VMAR (wrong type)", get: (f) => f.root, expect: "WRONG_TYPE" },
    { label: "a closed VMAR", get: (f) => f.closedVmar, expect: "BAD_HANDLE" },
    ...aliens(
      ["a mapping", (f) => f.map],
      ["a kernel", (f) => f.k],
      ["Vmo.prototype", () => Vmo.prototype],
    ),
  ];
}

/** The receivers of a `Vmar` method other than the sub-VMAR and the root. */
function vmarOthers(destroyed: Expect): Receiver[] {
  return [
    { label: "a closed VMAR", get: (f) => f.closedVmar, expect: "BAD_HANDLE" },
    {
      label: "a closed kernel's VMAR",
      get: (f) => f.foreignVmar,
      setup: closeOther,
      expect: "BAD_HANDLE",
    },
    { label: "a destroyed VMAR", get: (f) => f.vmar, setup: destroyVmar, expect: destroyed },
    { label: "a VMO (wrong type)", get: (f) => f.vmo, expect: "WRONG_TYPE" },
    { label: "a closed VMO", get: (f) => f.closedVmo, expect: "BAD_HANDLE" },
    ...aliens(
      ["a mapping", (f) => f.map],
      ["a kernel", (f) => f.k],
      ["Vmar.prototype", () => Vmar.prototype],
    ),
  ];
}

/** The receivers of a `Handle` method that are not live handles. */
function handleOthers(): Receiver[] {
  return [
    { label: "a closed VMO", get: (f) => f.closedVmo, expect: "BAD_HANDLE" },
    { label: "a closed VMAR", get: (f) => f.closedVmar, expect: "BAD_HANDLE" },
    {
      label: "a closed kernel's VMO",
      get: (f) => f.foreignVmo,
      setup: closeOther,
      expect: "BAD_HANDLE",
    },
    {
      label: "a closed kernel's root VMAR",
      get: (f) => f.other.rootVmar,
      setup: closeOther,
      expect: "BAD_HANDLE",
    },
    ...aliens(
      ["a mapping", (f) => f.map],
      ["a kernel", (f) => f.k],
      ["Handle.prototype", () => Handle.prototype],
    ),
  ];
}

/** A receiver list: the main one first. */
function on(label: string, get: (f: Fixture) => unknown, expect: Expect = "ok"): Receiver {
  return { label, get, expect };
}

const vmoMain = on("a VMO", (f) => f.vmo);
const subMain = on("a sub-VMAR", (f) => f.vmar);

/** Mapping receivers other than the live read/write one. */
function mappingOthers(kind: "read" | "write" | "bytes" | "unmap"): Receiver[] {
  const dead = kind === "bytes" ? "BAD_STATE" : kind === "unmap" ? "ok" : "NOT_FOUND";
  const closedK = kind === "unmap" ? "ok" : "BAD_STATE";
  const denied = kind === "read" ? "ok" : kind === "unmap" ? "ok" : "ACCESS_DENIED";
  return [
    on("a read-only mapping", (f) => f.roMap, denied),
    { label: "an unmapped mapping", get: (f) => f.map, setup: (f) => f.map.unmap(), expect: dead },
    { label: "a mapping in a destroyed VMAR", get: (f) => f.map, setup: destroyVmar, expect: dead },
    {
      label: "a mapping whose first page was unmapped",
      get: (f) => f.map,
      setup: (f) => f.vmar.unmap(f.map.addr, P),
      expect: kind === "bytes" ? "BAD_STATE" : kind === "unmap" ? "ok" : "NOT_FOUND",
    },
    {
      label: "a mapping protected to no access",
      get: (f) => f.map,
      setup: (f) => f.vmar.protect(0, f.map.addr, f.map.len),
      expect: kind === "unmap" ? "ok" : "ACCESS_DENIED",
    },
    {
      label: "a mapping whose VMO shrank to 0",
      get: (f) => f.map,
      setup: (f) => f.vmo.setSize(0),
      // bytes() of a mapping with nothing backed is an empty view.
      expect: kind === "bytes" || kind === "unmap" ? "ok" : "OUT_OF_RANGE",
    },
    {
      label: "a closed kernel's mapping",
      get: (f) => f.foreignMap,
      setup: closeOther,
      expect: closedK,
    },
    ...aliens(
      ["a VMO", (f) => f.vmo],
      ["a kernel", (f) => f.k],
      ["Mapping.prototype", () => Mapping.prototype],
    ),
  ];
}

/** Every public method and accessor, with its parameters and receivers. */
function methods(): Method[] {
  const ms: Method[] = [];
  // ------------------------------------------------------------------ Kernel
  ms.push({
    name: "Kernel.createVmo",
    params: [
      { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
      {
        name: "options",
        kind: "u32",
        optional: true,
        extra: () => [[1, "INVALID_ARGS"], [8, "INVALID_ARGS"], [0x80000000, "INVALID_ARGS"]],
      },
    ],
    valid: () => [P, 0],
    call: (r, a) => invoke(Kernel.prototype.createVmo, r, ...a),
    receivers: [
      on("a kernel", (f) => f.k),
      { label: "a closed kernel", get: (f) => f.other, setup: closeOther, expect: "BAD_STATE" },
      ...aliens(
        ["a VMO", (f) => f.vmo],
        ["a mapping", (f) => f.map],
        ["Kernel.prototype", () => Kernel.prototype],
      ),
    ],
  });
  for (
    const key of [
      "backend",
      "backendReason",
      "pageSize",
      "maxVmoSize",
      "rootVmar",
      "handleCount",
      "closed",
    ]
  ) {
    const g = getter(Kernel.prototype, key);
    ms.push({
      name: `Kernel.${key}`,
      params: [],
      valid: () => [],
      call: (r) => g(r),
      receivers: [
        on("a kernel", (f) => f.k),
        { label: "a closed kernel", get: (f) => f.other, setup: closeOther, expect: "ok" },
        ...aliens(
          ["a VMO", (f) => f.vmo],
          ["a mapping", (f) => f.map],
          ["Kernel.prototype", () => Kernel.prototype],
        ),
      ],
    });
  }
  for (
    const [name, fn] of [["close", Kernel.prototype.close], [
      "dispose",
      Kernel.prototype[Symbol.dispose],
    ]] as const
  ) {
    ms.push({
      name: `Kernel.${name}`,
      params: [{ name: "(extra argument)", kind: "ignored" }],
      valid: () => [],
      call: (r, a) => invoke(fn, r, ...a),
      receivers: [
        // Closing the other kernel: its objects all die (state is only compared on failure).
        on("a kernel", (f) => f.other),
        { label: "a closed kernel", get: (f) => f.other, setup: closeOther, expect: "ok" },
        // dispose calls `this.close()`: any object with a close method is closed by it.
        ...(name === "dispose"
          ? [on("a VMO (it has a close method)", (f) => f.vmo2)]
          : aliens(["a VMO", (f) => f.vmo])),
        ...aliens(["a mapping", (f) => f.map], ["Kernel.prototype", () => Kernel.prototype]),
      ],
    });
  }
  ms.push({
    name: "Kernel.default",
    params: [],
    valid: () => [],
    call: (r) => getter(Kernel, "default")(r),
    receivers: [on("Kernel", () => Kernel), on("a plain object (a static getter)", () => ({}))],
  });
  ms.push({
    name: "Vmar.borrowed (internal, but reachable)",
    params: [],
    valid: () => [],
    call: (r) =>
      (Vmar as unknown as { borrowed: (k: unknown, v: unknown) => unknown }).borrowed(r, 1),
    // Its kernel argument is checked; see knownBugs() for the handle value.
    receivers: [
      on("a plain object", () => ({}), "TypeError"),
      on("null", () => null, "TypeError"),
      on("a VMO", (f) => f.vmo, "TypeError"),
      on("Kernel.prototype", () => Kernel.prototype, "TypeError"),
    ],
  });
  ms.push({
    name: "Vmo.create",
    params: [
      { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
      { name: "options", kind: "u32", optional: true, extra: () => [[1, "INVALID_ARGS"]] },
    ],
    valid: () => [P, 0],
    call: (_r, a) => invoke(Vmo.create, Vmo, ...a),
    receivers: [on("Vmo", () => Vmo)],
  });
  ms.push({
    name: "Vmar.root",
    params: [{ name: "(extra argument)", kind: "ignored" }],
    valid: () => [],
    call: (_r, a) => invoke(Vmar.root, Vmar, ...a),
    receivers: [on("Vmar", () => Vmar)],
  });
  // ------------------------------------------------------------------ Handle
  // duplicate: one entry per receiver kind, each with its own rights edge cases.
  for (
    const [label, get, bad] of [
      ["VMO", (f: Fixture) => f.vmo, Rights.Execute],
      ["sub-VMAR", (f: Fixture) => f.vmar, Rights.GetProperty],
      ["root VMAR", (f: Fixture) => f.root, Rights.Wait],
    ] as const
  ) {
    ms.push({
      name: `Handle.duplicate (${label})`,
      params: [{
        name: "rights",
        kind: "u32",
        optional: true,
        extra: () => [
          [bad, "INVALID_ARGS"], // a right the handle lacks
          [0x7FFFFFFF, "INVALID_ARGS"],
          [0x80000001, "INVALID_ARGS"], // SAME_RIGHTS with another bit
          [0xFFFFFFFF, "INVALID_ARGS"],
          [0, "ok"],
          [Rights.SameRights, "ok"],
          [Rights.Duplicate, "ok"],
          [1n, "ok"],
        ],
      }],
      valid: () => [Rights.Duplicate | Rights.Transfer],
      call: (r, a) => invoke(Handle.prototype.duplicate, r, ...a),
      receivers: [on(`a ${label}`, get), ...handleOthers()],
    });
  }
  for (
    const [label, get, key, bad] of [
      ["VMO", (f: Fixture) => f.vmoR, "vmoR", Rights.Execute],
      ["sub-VMAR", (f: Fixture) => f.vmarR, "vmarR", Rights.GetProperty],
    ] as const
  ) {
    ms.push({
      name: `Handle.replace (${label})`,
      params: [{
        name: "rights",
        kind: "u32",
        optional: true,
        extra: () => [
          [bad, "INVALID_ARGS"],
          [0x7FFFFFFF, "INVALID_ARGS"],
          [0x80000001, "INVALID_ARGS"],
          [0, "ok"],
          [Rights.SameRights, "ok"],
        ],
      }],
      valid: () => [Rights.Duplicate | Rights.Transfer],
      call: (r, a) => invoke(Handle.prototype.replace, r, ...a),
      receivers: [{ ...on(`a ${label}`, get), consumes: key }, ...handleOthers()],
    });
  }
  ms.push({
    name: "Handle.replace (root VMAR)",
    params: [{
      name: "rights",
      kind: "u32",
      optional: true,
      // Argument checks come first; any valid rights answer NOT_SUPPORTED (borrowed).
      extra: () => [[0, "NOT_SUPPORTED"], [Rights.SameRights, "NOT_SUPPORTED"]],
    }],
    valid: () => [Rights.Duplicate],
    call: (r, a) => invoke(Handle.prototype.replace, r, ...a),
    receivers: [on("the root VMAR", (f) => f.root, "NOT_SUPPORTED")],
  });
  ms.push({
    name: "Handle.name=",
    params: [{
      name: "name",
      kind: "string",
      extra: () => [["", "ok"], ["x".repeat(100), "ok"], ["\u{1F600}".repeat(20), "ok"]],
    }],
    valid: () => ["n"],
    call: (r, a) => setter(HP, "name")(r, a[0]),
    receivers: [
      vmoMain,
      // VMAR handles never have SET_PROPERTY (rights are checked before NOT_SUPPORTED).
      on("a sub-VMAR", (f) => f.vmar, "ACCESS_DENIED"),
      on("the root VMAR", (f) => f.root, "ACCESS_DENIED"),
      ...handleOthers(),
    ],
  });
  ms.push({
    name: "Handle.waitOne",
    params: [
      {
        name: "signals",
        kind: "u32",
        extra: () => [[0, "ok"], [0xFFFFFFFF, "ok"], [Signals.ObjectSignal0, "ok"]],
      },
      {
        name: "opts",
        kind: "waitopts",
        optional: true,
        extra: () => [
          [{}, "ok"],
          [{ deadline: -Infinity }, "ok"],
          [{ deadline: Infinity }, "ok"],
          [{ deadline: 0, signal: AbortSignal.abort() }, "ok"],
          [{ deadline: 0, unknown: 1 }, "ok"],
          [{ deadline: null }, "ok"], // `??`: null means no deadline
          [{ deadline: undefined, signal: undefined }, "ok"],
        ],
      },
    ],
    valid: () => [Signals.VmoZeroChildren, { deadline: 0 }],
    call: (r, a) => invoke(Handle.prototype.waitOne, r, ...a),
    receivers: [
      vmoMain,
      // VMAR handles have no WAIT right (ZX_DEFAULT_VMAR_RIGHTS = BASIC & ~WAIT | OP_CHILDREN).
      on("a sub-VMAR", (f) => f.vmar, "ACCESS_DENIED"),
      on("the root VMAR", (f) => f.root, "ACCESS_DENIED"),
      ...handleOthers(),
    ],
  });
  // Accessors and nullary methods of Handle: they work on every live handle (also a destroyed
  // VMAR's) and fail on closed ones.
  const handleNullary: Array<[string, (r: unknown, a: unknown[]) => unknown, Expect[]]> = [
    ["raw", getter(HP, "raw"), ["ok", "ok", "ok", "ok", "ok"]],
    ["kernel", getter(HP, "kernel"), ["ok", "ok", "ok", "ok", "ok"]],
    ["valid", getter(HP, "valid"), ["ok", "ok", "ok", "ok", "ok"]],
    ["koid", getter(HP, "koid"), ["ok", "ok", "ok", "ok", "BAD_HANDLE"]],
    ["rights", getter(HP, "rights"), ["ok", "ok", "ok", "ok", "BAD_HANDLE"]],
    [
      "name",
      getter(HP, "name"),
      ["ok", "ACCESS_DENIED", "ACCESS_DENIED", "ACCESS_DENIED", "BAD_HANDLE"],
    ],
    [
      "basicInfo",
      (r, a) => invoke(Handle.prototype.basicInfo, r, ...a),
      ["ok", "ok", "ok", "ok", "BAD_HANDLE"],
    ],
    [
      "signals",
      getter(HP, "signals"),
      ["ok", "ACCESS_DENIED", "ACCESS_DENIED", "ACCESS_DENIED", "BAD_HANDLE"],
    ],
  ];
  for (const [key, fn, [vmoE, subE, rootE, destroyedE, closedE]] of handleNullary) {
    const params: Param[] = key === "basicInfo"
      ? [{ name: "(extra argument)", kind: "ignored" }]
      : [];
    const closedList = handleOthers().map((r) =>
      r.expect === "BAD_HANDLE" ? { ...r, expect: closedE } : r
    );
    ms.push({
      name: `Handle.${key}`,
      params,
      valid: () => [],
      call: (r, a) => fn(r, a),
      receivers: [
        on("a VMO", (f) => f.vmo, vmoE),
        on("a sub-VMAR", (f) => f.vmar, subE),
        on("the root VMAR", (f) => f.root, rootE),
        {
          label: "a destroyed sub-VMAR",
          get: (f) => f.vmar,
          setup: destroyVmar,
          expect: destroyedE,
        },
        // Private-field accessors reject non-handles; `raw`/`kernel` too.
        ...closedList,
      ],
    });
  }
  for (
    const [key, fn] of [["close", Handle.prototype.close], [
      "dispose",
      Handle.prototype[Symbol.dispose],
    ]] as const
  ) {
    ms.push({
      name: `Handle.${key}`,
      params: [{ name: "(extra argument)", kind: "ignored" }],
      valid: () => [],
      call: (r, a) => invoke(fn, r, ...a),
      receivers: [
        on("a VMO", (f) => f.vmo2),
        on("a sub-VMAR", (f) => f.vmarR),
        on("a closed VMO (idempotent)", (f) => f.closedVmo),
        on("a closed VMAR (idempotent)", (f) => f.closedVmar),
        {
          label: "a closed kernel's VMO",
          get: (f) => f.foreignVmo,
          setup: closeOther,
          expect: "ok",
        },
        ...aliens(["Handle.prototype", () => Handle.prototype]),
      ],
    });
  }
  for (
    const [key, fn] of [["close", Vmar.prototype.close], [
      "dispose",
      Vmar.prototype[Symbol.dispose],
    ]] as const
  ) {
    ms.push({
      name: `Vmar.${key}`,
      params: [{ name: "(extra argument)", kind: "ignored" }],
      valid: () => [],
      call: (r, a) => invoke(fn, r, ...a),
      receivers: [
        on("a sub-VMAR", (f) => f.vmarR),
        // The borrowed root: a no-op (checked below: the state stays the same).
        on("the root VMAR", (f) => f.root),
        on("a closed VMAR", (f) => f.closedVmar),
        on("a destroyed VMAR", (f) => f.vmar),
        // Vmar's own close reads Vmar-private state: a VMO is not a Vmar. dispose calls
        // `this.close()`, which a VMO has.
        {
          label: "a VMO",
          get: (f) => f.vmo2,
          expect: key === "close" ? "TypeError" : "ok",
          sweep: false,
        },
        ...aliens(["Vmar.prototype", () => Vmar.prototype]),
      ],
    });
  }
  for (
    const [cls, proto, type] of [["Vmo", Vmo.prototype, "vmo"], [
      "Vmar",
      Vmar.prototype,
      "vmar",
    ]] as const
  ) {
    const g = getter(proto, "type");
    ms.push({
      name: `${cls}.type`,
      params: [],
      valid: () => [],
      call: (r) => {
        const t = g(r);
        if (t !== type) throw new Error(`type is ${String(t)}`);
      },
      // A constant: it reads no state, so any receiver gets it.
      receivers: [
        on(`a ${cls}`, (f) => (cls === "Vmo" ? f.vmo : f.vmar)),
        on("a closed handle", (f) => (cls === "Vmo" ? f.closedVmo : f.closedVmar)),
        on("a plain object", () => ({})),
      ],
    });
  }
  // ------------------------------------------------------------------ Vmo
  ms.push({
    name: "Vmo.read(length, offset)",
    params: [
      {
        name: "length",
        kind: "u64",
        extreme: E("OUT_OF_RANGE"),
        extra:
          () => [[0, "ok"], [3 * P, "ok"], [3 * P + 1, "OUT_OF_RANGE"], [2 ** 40, "OUT_OF_RANGE"]],
      },
      {
        name: "offset",
        kind: "u64",
        optional: true,
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[3 * P - 16, "ok"], [3 * P - 15, "OUT_OF_RANGE"], [3 * P, "OUT_OF_RANGE"]],
      },
    ],
    valid: () => [16, 0],
    call: (r, a) => invoke(Vmo.prototype.read, r, ...a),
    receivers: [vmoMain, ...vmoOthers()],
  });
  ms.push({
    name: "Vmo.read(into, offset)",
    params: [
      { name: "into", kind: "into" },
      {
        name: "offset",
        kind: "u64",
        optional: true,
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[3 * P - 8, "ok"], [3 * P - 7, "OUT_OF_RANGE"]],
      },
    ],
    valid: () => [new Uint8Array(8), 0],
    call: (r, a) => invoke(Vmo.prototype.read, r, ...a),
    receivers: [vmoMain, ...vmoOthers()],
  });
  ms.push({
    name: "Vmo.write",
    params: [
      {
        name: "data",
        kind: "bytes",
        extra: () => [
          [new Uint8Array(0), "ok"],
          [detached(), "ok"],
          [new Uint8Array(16).subarray(4, 8), "ok"],
          [new Uint8Array(new SharedArrayBuffer(4)), "ok"],
          [new Uint8Array(3 * P + 1), "OUT_OF_RANGE"],
        ],
      },
      {
        name: "offset",
        kind: "u64",
        optional: true,
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[3 * P - 2, "ok"], [3 * P - 1, "OUT_OF_RANGE"]],
      },
    ],
    valid: () => [new Uint8Array([9, 9]), 0],
    call: (r, a) => invoke(Vmo.prototype.write, r, ...a),
    receivers: [vmoMain, ...vmoOthers()],
  });
  ms.push({
    name: "Vmo.setSize",
    params: [{
      name: "size",
      kind: "u64",
      extreme: E("OUT_OF_RANGE"),
      extra: () => [[0, "ok"], [1, "ok"], [2 ** 40, "ok"], [2 ** 40 + 1, "OUT_OF_RANGE"]],
    }],
    valid: () => [4 * P],
    call: (r, a) => invoke(Vmo.prototype.setSize, r, ...a),
    receivers: [
      vmoMain,
      on("a non-resizable VMO", (f) => f.vmo2, "UNAVAILABLE"),
      ...vmoOthers(),
    ],
  });
  ms.push({
    name: "Vmo.setContentSize",
    // Content size may exceed the VMO size (Zircon core test ContentSize).
    params: [{ name: "size", kind: "u64", extreme: E("ok") }],
    valid: () => [100],
    call: (r, a) => invoke(Vmo.prototype.setContentSize, r, ...a),
    receivers: [vmoMain, ...vmoOthers()],
  });
  ms.push({
    name: "Vmo.opRange",
    params: [
      {
        name: "op",
        kind: "u32",
        extra: () => [
          [0, "INVALID_ARGS"],
          [5, "INVALID_ARGS"], // the old LOOKUP
          [15, "INVALID_ARGS"],
          [VmoOp.CacheInvalidate, "NOT_SUPPORTED"],
          [VmoOp.Lock, "NOT_SUPPORTED"], // not discardable
          [VmoOp.Decommit, "ok"],
          [VmoOp.Zero, "ok"],
          [VmoOp.DontNeed, "ok"],
          [VmoOp.Prefetch, "ok"],
        ],
      },
      { name: "offset", kind: "u64", extreme: E("OUT_OF_RANGE") },
      {
        name: "size",
        kind: "u64",
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[0, "ok"], [3 * P, "ok"], [3 * P + 1, "OUT_OF_RANGE"]],
      },
    ],
    valid: () => [VmoOp.Commit, 0, P],
    call: (r, a) => invoke(Vmo.prototype.opRange, r, ...a),
    receivers: [vmoMain, ...vmoOthers()],
  });
  ms.push({
    name: "Vmo.createChild",
    params: [
      {
        name: "options",
        kind: "u32",
        extra: () => [
          [0, "INVALID_ARGS"],
          [VmoChildOptions.NoWrite | VmoChildOptions.Resizable, "INVALID_ARGS"],
          [VmoChildOptions.Snapshot | VmoChildOptions.Slice, "INVALID_ARGS"],
          [VmoChildOptions.Snapshot | VmoChildOptions.SnapshotAtLeastOnWrite, "INVALID_ARGS"],
          [VmoChildOptions.Reference, "NOT_SUPPORTED"],
          [VmoChildOptions.Slice, "ok"],
          [0x80000000 | VmoChildOptions.Snapshot, "INVALID_ARGS"],
        ],
      },
      {
        name: "offset",
        kind: "u64",
        // 2^53 is page aligned: a snapshot there is valid (it reads zeros).
        extreme: ["ok", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        extra: () => [[1, "INVALID_ARGS"], [P, "ok"]],
      },
      { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
    ],
    valid: () => [VmoChildOptions.Snapshot, 0, P],
    call: (r, a, f) => invoke(Vmo.prototype.createChild, r === f.vmo ? f.vmo2 : r, ...a),
    receivers: [vmoMain, ...vmoOthers()],
  });
  for (
    const [key, fn, main] of [
      ["size", getter(Vmo.prototype, "size"), "ok"],
      ["contentSize", getter(Vmo.prototype, "contentSize"), "ok"],
      ["info", (r: unknown, a: unknown[]) => invoke(Vmo.prototype.info, r, ...a), "ok"],
    ] as const
  ) {
    ms.push({
      name: `Vmo.${key}`,
      params: key === "info" ? [{ name: "(extra argument)", kind: "ignored" }] : [],
      valid: () => [],
      call: (r, a) => fn(r, a),
      receivers: [on("a VMO", (f) => f.vmo, main), ...vmoOthers()],
    });
  }
  // ------------------------------------------------------------------ Vmar
  ms.push({
    name: "Vmar.allocate",
    params: [
      {
        name: "options",
        kind: "u32",
        extra: () => [
          [O.VmCanMapExecute, "ACCESS_DENIED"], // more than the VMAR allows
          [O.VmPermRead, "INVALID_ARGS"],
          [O.VmSpecificOverwrite, "INVALID_ARGS"],
          [O.VmMapRange, "INVALID_ARGS"],
          [O.VmSpecific | O.VmOffsetIsUpperLimit, "INVALID_ARGS"],
          [9 << 24, "INVALID_ARGS"], // alignment field below 1 KiB
          [33 << 24, "INVALID_ARGS"],
          [1 << 23, "INVALID_ARGS"],
          [O.VmCompact, "ok"],
          [0, "ok"],
        ],
      },
      {
        name: "offset",
        kind: "u64",
        extreme: E("INVALID_ARGS"),
        extra: () => [[P, "INVALID_ARGS"]],
      },
      {
        name: "size",
        kind: "u64",
        extreme: E("INVALID_ARGS"),
        extra: () => [[0, "INVALID_ARGS"], [1, "INVALID_ARGS"], [65 * P, "INVALID_ARGS"]],
      },
    ],
    valid: () => [O.VmCanMapRead, 0, P],
    call: (r, a) => invoke(Vmar.prototype.allocate, r, ...a),
    receivers: [subMain, on("the root VMAR", (f) => f.root), ...vmarOthers("BAD_STATE")],
  });
  ms.push({
    name: "Vmar.map",
    params: [
      {
        name: "options",
        kind: "u32",
        extra: () => [
          [O.VmPermWrite, "INVALID_ARGS"],
          [O.VmPermExecute | O.VmPermRead, "ACCESS_DENIED"],
          [O.VmCanMapRead | O.VmPermRead, "INVALID_ARGS"],
          [O.VmMapRange | O.VmSpecificOverwrite | O.VmPermRead, "INVALID_ARGS"],
          [O.VmCompact | O.VmPermRead, "INVALID_ARGS"],
          [1 << 23 | O.VmPermRead, "INVALID_ARGS"],
          [O.VmPermRead | O.VmMapRange, "ok"],
          [O.VmPermReadIfXomUnsupported, "ok"],
          [0, "ok"],
        ],
      },
      { name: "vmarOffset", kind: "u64", extreme: E("INVALID_ARGS") },
      { name: "vmo", kind: "vmo" },
      {
        name: "vmoOffset",
        kind: "u64",
        // 2^53 is page aligned and does not overflow: a mapping past the VMO's end is valid.
        extreme: ["ok", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        extra: () => [[1, "INVALID_ARGS"]],
      },
      {
        name: "len",
        kind: "u64",
        extreme: ["INVALID_ARGS", "OUT_OF_RANGE", "OUT_OF_RANGE", "INVALID_ARGS"],
        extra: () => [[0, "INVALID_ARGS"], [1, "ok"], [65 * P, "INVALID_ARGS"]],
      },
    ],
    valid: (f) => [O.VmPermRead, 0, f.vmo2, 0, P],
    call: (r, a) => invoke(Vmar.prototype.map, r, ...a),
    receivers: [
      subMain,
      on("the root VMAR", (f) => f.root),
      on("another kernel's VMAR", (f) => f.foreignVmar, "BAD_HANDLE"),
      ...vmarOthers("BAD_STATE"),
    ],
  });
  ms.push({
    name: "Vmar.unmap",
    params: [
      {
        name: "addr",
        kind: "u64",
        extreme: E("INVALID_ARGS"),
        extra: (f) => [[f.vmar.base + 1, "INVALID_ARGS"], [f.vmar.base - P, "INVALID_ARGS"]],
      },
      {
        name: "len",
        kind: "u64",
        extreme: E("INVALID_ARGS"),
        extra: () => [[0, "INVALID_ARGS"], [1, "ok"], [33 * P, "INVALID_ARGS"]],
      },
    ],
    // A valid unmap of an empty page of the VMAR (changes nothing).
    valid: (f) => [f.vmar.base + 32 * P, P],
    call: (r, a) => invoke(Vmar.prototype.unmap, r, ...a),
    receivers: [
      subMain,
      // From the root, the range lies partly in the sub-VMAR: INVALID_ARGS.
      on("the root VMAR", (f) => f.root, "INVALID_ARGS"),
      ...vmarOthers("BAD_STATE"),
    ],
  });
  ms.push({
    name: "Vmar.protect",
    params: [
      {
        name: "options",
        kind: "u32",
        extra: () => [
          [O.VmPermWrite, "INVALID_ARGS"],
          [O.VmPermRead | O.VmPermExecute, "ACCESS_DENIED"],
          [O.VmPermRead | O.VmSpecific, "INVALID_ARGS"],
          [O.VmPermRead | O.VmCanMapRead, "INVALID_ARGS"],
          [0, "ok"],
        ],
      },
      {
        name: "addr",
        kind: "u64",
        extreme: E("INVALID_ARGS"),
        extra: (f) => [[f.map.addr + 1, "INVALID_ARGS"], [f.vmar.base + 32 * P, "NOT_FOUND"]],
      },
      {
        name: "len",
        kind: "u64",
        extreme: E("INVALID_ARGS"),
        extra: () => [[0, "INVALID_ARGS"], [1, "ok"]],
      },
    ],
    valid: (f) => [RW, f.map.addr, P],
    call: (r, a) => invoke(Vmar.prototype.protect, r, ...a),
    receivers: [subMain, on("the root VMAR", (f) => f.root), ...vmarOthers("BAD_STATE")],
  });
  ms.push({
    name: "Vmar.opRange",
    params: [
      {
        name: "op",
        kind: "u32",
        extra: () => [
          [0, "INVALID_ARGS"],
          [VmoOp.CacheSync, "INVALID_ARGS"], // a VMO-only op
          [VmoOp.Unlock, "INVALID_ARGS"],
          [VmoOp.MapRange, "ok"],
          [VmoOp.Commit, "ok"],
          [VmoOp.Zero, "ok"],
          [VmoOp.DontNeed, "ok"],
        ],
      },
      {
        name: "addr",
        kind: "u64",
        extreme: ["OUT_OF_RANGE", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        extra: (f) => [[f.map.addr + 1, "INVALID_ARGS"], [f.vmar.base + 32 * P, "BAD_STATE"]],
      },
      {
        name: "len",
        kind: "u64",
        extreme: ["OUT_OF_RANGE", "INVALID_ARGS", "INVALID_ARGS", "OUT_OF_RANGE"],
        extra: () => [[0, "INVALID_ARGS"], [1, "ok"], [65 * P, "OUT_OF_RANGE"]],
      },
    ],
    valid: (f) => [VmoOp.Prefetch, f.map.addr, P],
    call: (r, a) => invoke(Vmar.prototype.opRange, r, ...a),
    receivers: [subMain, on("the root VMAR", (f) => f.root), ...vmarOthers("BAD_STATE")],
  });
  ms.push({
    name: "Vmar.destroy",
    params: [{ name: "(extra argument)", kind: "ignored" }],
    valid: () => [],
    call: (r, a) => invoke(Vmar.prototype.destroy, r, ...a),
    receivers: [
      subMain,
      on("the root VMAR", (f) => f.root, "NOT_SUPPORTED"),
      ...vmarOthers("BAD_STATE"),
    ],
  });
  for (
    const [key, fn] of [
      ["base", getter(Vmar.prototype, "base")],
      ["len", getter(Vmar.prototype, "len")],
      ["mappings", (r: unknown, a: unknown[]) => invoke(Vmar.prototype.mappings, r, ...a)],
    ] as const
  ) {
    ms.push({
      name: `Vmar.${key}`,
      params: key === "mappings" ? [{ name: "(extra argument)", kind: "ignored" }] : [],
      valid: () => [],
      call: (r, a) => fn(r, a),
      // A destroyed VMAR still answers (Zircon's ZX_INFO_VMAR has no destroyed check).
      receivers: [subMain, on("the root VMAR", (f) => f.root), ...vmarOthers("ok")],
    });
  }
  // ------------------------------------------------------------------ Mapping
  ms.push({
    name: "Mapping.read",
    params: [
      {
        name: "offset",
        kind: "u64",
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[2 * P - 16, "ok"], [2 * P - 15, "OUT_OF_RANGE"], [2 * P, "OUT_OF_RANGE"]],
      },
      {
        name: "length",
        kind: "u64",
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[0, "ok"], [2 * P, "ok"], [2 * P + 1, "OUT_OF_RANGE"]],
      },
    ],
    valid: () => [0, 16],
    call: (r, a) => invoke(Mapping.prototype.read, r, ...a),
    receivers: [on("a live mapping", (f) => f.map), ...mappingOthers("read")],
    faultAccess: "read",
  });
  ms.push({
    name: "Mapping.write",
    params: [
      {
        name: "offset",
        kind: "u64",
        extreme: E("OUT_OF_RANGE"),
        extra: () => [[2 * P - 1, "ok"], [2 * P, "OUT_OF_RANGE"]],
      },
      {
        name: "data",
        kind: "bytes",
        extra: () => [
          [new Uint8Array(0), "ok"],
          [detached(), "ok"],
          [new Uint8Array(16).subarray(2, 6), "ok"],
          [new Uint8Array(new SharedArrayBuffer(3)), "ok"],
          [new Uint8Array(2 * P + 1), "OUT_OF_RANGE"],
        ],
      },
    ],
    valid: () => [0, new Uint8Array([1])],
    call: (r, a) => invoke(Mapping.prototype.write, r, ...a),
    receivers: [on("a live mapping", (f) => f.map), ...mappingOthers("write")],
    faultAccess: "write",
  });
  ms.push({
    name: "Mapping.bytes",
    params: [{ name: "(extra argument)", kind: "ignored" }],
    valid: () => [],
    call: (r, a) => invoke(Mapping.prototype.bytes, r, ...a),
    receivers: [on("a live mapping", (f) => f.map), ...mappingOthers("bytes")],
  });
  for (
    const [key, fn] of [["unmap", Mapping.prototype.unmap], [
      "dispose",
      Mapping.prototype[Symbol.dispose],
    ]] as const
  ) {
    ms.push({
      name: `Mapping.${key}`,
      params: [{ name: "(extra argument)", kind: "ignored" }],
      valid: () => [],
      call: (r, a) => invoke(fn, r, ...a),
      receivers: [on("a live mapping", (f) => f.map), ...mappingOthers("unmap")],
    });
  }
  for (const key of ["addr", "len", "vmar", "options", "alive"]) {
    const g = getter(Mapping.prototype, key);
    ms.push({
      name: `Mapping.${key}`,
      params: [],
      valid: () => [],
      call: (r) => g(r),
      receivers: [
        on("a live mapping", (f) => f.map),
        ...mappingOthers("unmap").map((
          r,
        ) => (r.expect === "TypeError" ? r : { ...r, expect: "ok" })),
      ],
    });
  }
  return ms;
}

/** Hostile values for a parameter, each with its expected outcome. */
function hostileValues(p: Param, f: Fixture, first: boolean): Array<[unknown, Expect]> {
  const out: Array<[unknown, Expect]> = [];
  if (p.kind === "u64" || p.kind === "u32" || p.kind === "bytes") {
    const junkType = p.kind === "bytes" ? bytesJunk : typeJunk;
    for (const v of junkType) out.push([v, "TypeError"]);
    if (!p.optional) out.push([undefined, "TypeError"]);
  }
  if (p.kind === "u64" || p.kind === "u32") {
    for (const v of domainJunk) out.push([v, "INVALID_ARGS"]);
  }
  if (p.kind === "u32") { for (const v of u32Only) out.push([v, "INVALID_ARGS"]); }
  if (p.kind === "into") {
    // Not a Uint8Array: the length overload rejects it (TypeError) or, for numbers outside
    // u64, INVALID_ARGS.
    for (
      const v of [
        "abc",
        null,
        undefined,
        {},
        [1, 2],
        true,
        Symbol("i"),
        new ArrayBuffer(8),
        new DataView(new ArrayBuffer(8)),
        new Int32Array(2),
        new Uint16Array(4),
        new Int8Array(8),
        new Uint8ClampedArray(8),
        new Float64Array(1),
        new BigUint64Array(1),
      ]
    ) out.push([v, "TypeError"]);
    for (const v of [NaN, -1, 1.5, Infinity, 2 ** 64, -1n]) out.push([v, "INVALID_ARGS"]);
  }
  if (p.kind === "vmo" && first) {
    out.push([f.closedVmo, "BAD_HANDLE"]);
    out.push([f.foreignVmo, "BAD_HANDLE"]);
    out.push([f.vmar, "WRONG_TYPE"]);
    out.push([f.root, "WRONG_TYPE"]);
    out.push([f.closedVmar, "BAD_HANDLE"]);
    out.push([f.foreignVmar, "BAD_HANDLE"]);
  }
  if (p.kind === "vmo") {
    for (
      const v of [null, undefined, {}, f.vmo2.raw, { raw: f.vmo2.raw }, "vmo", f.map, f.k]
    ) {
      out.push([v, "TypeError"]);
    }
    out.push([Object.create(Vmo.prototype), "TypeError"]);
  }
  if (p.kind === "string") {
    for (const v of [5, null, undefined, {}, Symbol("n"), 1n, ["a"], new String("s")]) {
      out.push([v, "TypeError"]);
    }
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
        { signal: null },
      ]
    ) out.push([v, "TypeError"]);
  }
  if (p.kind === "ignored" && first) {
    for (const v of ["x", NaN, -1, null, {}, Symbol("e")]) out.push([v, "ok"]);
  }
  if (!first) return out;
  if (p.kind === "u64" && p.extreme) {
    extremes.forEach((v, i) => out.push([v, (p.extreme as Expect[])[i]]));
  }
  if (p.extra) out.push(...p.extra(f));
  return out;
}

/** A tally of the cases run. */
export interface HostileTally {
  cases: number;
  failures: string[];
}

function show(v: unknown): string {
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
  if (v instanceof Uint8Array) {
    return `Uint8Array(${v.length}${
      v.buffer instanceof SharedArrayBuffer
        ? ", shared"
        : v.byteOffset > 0
        ? `, @${v.byteOffset}`
        : ""
    })`;
  }
  if (v !== null && typeof v === "object") {
    if (v.constructor === Object) {
      try {
        return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
      } catch {
        return "object";
      }
    }
    return v.constructor?.name ?? "object";
  }
  return typeof v === "string"
    ? JSON.stringify(v.length > 12 ? `${v.slice(0, 12)}…` : v)
    : String(v);
}

/** Runs cases on fresh fixtures and tallies them. */
class Runner {
  readonly tally: HostileTally = { cases: 0, failures: [] };
  #seed = 100;
  constructor(
    readonly open: OpenKernel,
    readonly label: string,
    readonly openOther: OpenKernel,
  ) {}

  fixture(): Fixture {
    return fixture(this.open, this.#seed++, this.openOther);
  }

  /** One case: `fn` on a fresh fixture must give `expect`; a failure must change nothing. */
  check(
    name: string,
    expect: Expect,
    fn: (f: Fixture) => unknown,
    opts: {
      setup?: (f: Fixture) => void;
      consumes?: "vmoR" | "vmarR";
      faultAccess?: "read" | "write";
    } = {},
  ): void {
    const f = this.fixture();
    try {
      opts.setup?.(f);
      const before = snapshot(f);
      let o: Outcome;
      try {
        o = outcome(() => fn(f));
      } catch (e) {
        o = { got: `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
      }
      this.tally.cases++;
      if (o.got !== expect) {
        this.tally.failures.push(`${this.label}: ${name}: expected ${expect}, got ${o.got}`);
        return;
      }
      if (
        opts.faultAccess && o.error instanceof ZxError &&
        ["NOT_FOUND", "ACCESS_DENIED", "OUT_OF_RANGE"].includes(o.got)
      ) {
        const fault = o.error.fault;
        if (o.error.op !== "page_fault" || fault?.access !== opts.faultAccess) {
          this.tally.failures.push(
            `${this.label}: ${name}: a fault without fault info (${o.error.op}, ${
              JSON.stringify(fault)
            })`,
          );
        }
      }
      if (o.got === "ok") return;
      if (opts.consumes !== undefined) {
        // replace: the receiver is gone also on failure; nothing else changed.
        const h = f[opts.consumes];
        if (h.valid) {
          this.tally.failures.push(`${this.label}: ${name}: receiver valid after failed replace`);
        }
        before[opts.consumes] = "closed";
        before.handles = (before.handles as number) - 1;
      }
      const after = snapshot(f);
      try {
        assert.deepEqual(after, before);
      } catch (e) {
        this.tally.failures.push(
          `${this.label}: ${name}: failed with ${o.got} but changed state: ${
            e instanceof Error ? e.message.slice(0, 600) : e
          }`,
        );
      }
    } finally {
      f.k.close();
      f.other.close();
    }
  }

  /** A case that checks its own results (assertions inside `fn`). */
  scenario(name: string, fn: (f: Fixture) => void): void {
    const f = this.fixture();
    try {
      this.tally.cases++;
      fn(f);
    } catch (e) {
      this.tally.failures.push(
        `${this.label}: ${name}: ${e instanceof Error ? e.message.slice(0, 600) : String(e)}`,
      );
    } finally {
      f.k.close();
      f.other.close();
    }
  }
}

/** Names of the methods and accessors {@link runHostile} and {@link runKit} cover. */
export const COVERED: Record<string, string[]> = {
  Kernel: [
    "open",
    "default",
    "createVmo",
    "backend",
    "backendReason",
    "pageSize",
    "maxVmoSize",
    "rootVmar",
    "handleCount",
    "closed",
    "close",
    "constructor",
    "Symbol(Symbol.dispose)",
  ],
  Handle: [
    "constructor",
    "raw",
    "kernel",
    "koid",
    "rights",
    "valid",
    "close",
    "duplicate",
    "replace",
    "name",
    "basicInfo",
    "signals",
    "waitOne",
    "Symbol(Symbol.dispose)",
  ],
  Vmo: [
    "create",
    "constructor",
    "type",
    "read",
    "write",
    "size",
    "setSize",
    "contentSize",
    "setContentSize",
    "opRange",
    "createChild",
    "info",
    // protected (TypeScript), used by duplicate/replace, which are covered.
    "rewrap",
  ],
  Vmar: [
    "root",
    "borrowed",
    "constructor",
    "type",
    "close",
    "base",
    "len",
    "allocate",
    "map",
    "unmap",
    "protect",
    "destroy",
    "opRange",
    "mappings",
    "rewrap",
  ],
  Mapping: [
    "constructor",
    "addr",
    "len",
    "vmar",
    "options",
    "alive",
    "bytes",
    "read",
    "write",
    "unmap",
    "Symbol(Symbol.dispose)",
  ],
  TestKernel: ["constructor", "liveMemories"],
  FaultInjector: ["constructor", "failNext", "pending", "clear", "log", "check"],
  LeakError: ["constructor"],
};

/**
 * Public members (prototype and static) of the exported classes that {@link COVERED} does not
 * list: each needs hostile cases.
 */
export function uncoveredMembers(): string[] {
  const classes: Record<string, { prototype: object }> = {
    Kernel,
    Handle,
    Vmo,
    Vmar,
    Mapping,
    TestKernel,
    FaultInjector,
    LeakError,
  };
  const missing: string[] = [];
  for (const [name, cls] of Object.entries(classes)) {
    const keys = [
      ...Reflect.ownKeys(cls.prototype),
      ...Reflect.ownKeys(cls).filter((k) => !["length", "name", "prototype"].includes(String(k))),
    ];
    for (const k of keys) {
      // Node 20's Symbol.dispose prints as Symbol(nodejs.dispose).
      const key = k === Symbol.dispose ? "Symbol(Symbol.dispose)" : String(k);
      if (!COVERED[name].includes(key)) missing.push(`${name}.${key}`);
    }
  }
  return missing;
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
  const run = new Runner(open, label, openOther);
  for (const m of methods()) {
    m.receivers.forEach((r, ri) => {
      const first = ri === 0;
      const base = `${m.name} on ${r.label}`;
      const opts = { setup: r.setup, consumes: r.consumes, faultAccess: m.faultAccess };
      // The valid arguments on this receiver.
      run.check(
        `${base} (valid arguments)`,
        r.expect,
        (f) => m.call(r.get(f), m.valid(f), f),
        opts,
      );
      if (!first && r.sweep === false) return;
      m.params.forEach((p, i) => {
        const probe = run.fixture();
        let values: Array<[unknown, Expect]>;
        try {
          values = hostileValues(p, probe, first);
        } finally {
          probe.k.close();
          probe.other.close();
        }
        values.forEach(([v, expect], j) => {
          run.check(`${base}: ${p.name}=${show(v)}`, expect, (f) => {
            // Re-create fixture-bound values (handles, addresses) for this fixture.
            const args = m.valid(f);
            args[i] = hostileValues(p, f, first)[j][0];
            return m.call(r.get(f), args, f);
          }, opts);
        });
      });
    });
  }
  scenarios(run);
  return run.tally;
}

const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);
const same = (a: Uint8Array, b: Uint8Array, what: string): void =>
  assert.deepEqual(Array.from(a), Array.from(b), what);
function throwsStatus(fn: () => unknown, status: ZxStatus, what: string): ZxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ZxError && e.status === status) return e;
    throw new Error(`${what}: expected ${statusName(status)}, got ${e}`);
  }
  throw new Error(`${what}: expected ${statusName(status)}, got success`);
}

/** Cases whose outcome is more than a status: contents, aliasing, buffers left untouched. */
function scenarios(run: Runner): void {
  run.scenario("Vmo.read into a subarray fills exactly its window", (f) => {
    const buf = fill(32, 0xAA);
    f.vmo.read(buf.subarray(8, 16), 8);
    const want = fill(32, 0xAA);
    want.set([0, 0, 1, 2, 3, 4, 5, 0], 8);
    same(buf, want, "buffer");
  });
  run.scenario("Vmo.read into a shared-memory Uint8Array", (f) => {
    const buf = new Uint8Array(new SharedArrayBuffer(6));
    f.vmo.read(buf, 9);
    same(buf, new Uint8Array([0, 1, 2, 3, 4, 5]), "buffer");
  });
  run.scenario("a failed Vmo.read leaves the destination untouched", (f) => {
    const buf = fill(16, 0xAA);
    throwsStatus(() => f.vmo.read(buf, 3 * P - 8), ZxStatus.ErrOutOfRange, "past the end");
    throwsStatus(() => f.closedVmo.read(buf, 0), ZxStatus.ErrBadHandle, "closed");
    throwsStatus(
      () => invoke(Vmo.prototype.read, f.vmar, buf, 0),
      ZxStatus.ErrWrongType,
      "wrong type",
    );
    const ro = f.vmo.duplicate(Rights.Write);
    throwsStatus(() => ro.read(buf, 0), ZxStatus.ErrAccessDenied, "no READ");
    throwsStatus(() => f.vmo.read(buf, NaN), ZxStatus.ErrInvalidArgs, "NaN offset");
    same(buf, fill(16, 0xAA), "buffer");
  });
  run.scenario("Vmo.read into a detached array: 0 bytes, range still checked", (f) => {
    const d = detached();
    f.vmo.read(d, 3 * P);
    throwsStatus(() => f.vmo.read(d, 3 * P + 1), ZxStatus.ErrOutOfRange, "past the end");
    assert.equal(d.length, 0);
  });
  run.scenario("Vmo.write of a subarray writes exactly its window", (f) => {
    const src = new Uint8Array(16).map((_, i) => 100 + i);
    f.vmo.write(src.subarray(4, 7), 20);
    same(f.vmo.read(5, 19), new Uint8Array([0, 104, 105, 106, 0]), "contents");
  });
  run.scenario("Mapping.write of a subarray and Mapping.read round trip", (f) => {
    const src = new Uint8Array(16).map((_, i) => 50 + i);
    f.map.write(P - 2, src.subarray(1, 5)); // spans the page boundary
    same(f.map.read(P - 3, 6), new Uint8Array([0, 51, 52, 53, 54, 0]), "mapping");
    same(f.vmo.read(4, P - 2), new Uint8Array([51, 52, 53, 54]), "vmo");
  });
  run.scenario("Mapping.write across a read-only page writes nothing", (f) => {
    f.vmar.protect(O.VmPermRead, f.map.addr + P, P);
    const before = f.vmo.read(2 * P, 0);
    const e = throwsStatus(
      () => f.map.write(P - 4, fill(8, 9)),
      ZxStatus.ErrAccessDenied,
      "write",
    );
    assert.deepEqual(e.fault, { addr: f.map.addr + P, access: "write" });
    same(f.vmo.read(2 * P, 0), before, "contents");
    // Reading still works; bytes() needs all of it writable.
    f.map.read(P - 4, 8);
    throwsStatus(() => f.map.bytes(), ZxStatus.ErrAccessDenied, "bytes");
  });
  run.scenario("Mapping.write past the VMO's end writes nothing", (f) => {
    const m = f.vmar.map(RW, 0, f.vmo2, 0, 2 * P); // 1-page VMO, 2-page mapping
    const e = throwsStatus(() => m.write(P - 2, fill(4, 9)), ZxStatus.ErrOutOfRange, "write");
    assert.deepEqual(e.fault, { addr: m.addr + P, access: "write" });
    same(f.vmo2.read(2, P - 2), new Uint8Array(2), "contents");
    const r = throwsStatus(() => m.read(P - 1, 2), ZxStatus.ErrOutOfRange, "read");
    assert.deepEqual(r.fault, { addr: m.addr + P, access: "read" });
    assert.equal(m.bytes().length, P, "bytes() covers the backed part");
  });
  run.scenario(
    "Mapping.read/write after the VMO shrank fault, and work again after it grew",
    (f) => {
      f.map.write(P + 5, new Uint8Array([42]));
      f.vmo.setSize(P);
      const e = throwsStatus(() => f.map.read(P, 1), ZxStatus.ErrOutOfRange, "read");
      assert.deepEqual(e.fault, { addr: f.map.addr + P, access: "read" });
      f.vmo.setSize(2 * P);
      same(f.map.read(P + 5, 1), new Uint8Array([0]), "grown page reads zero");
    },
  );
  run.scenario("a bytes() view is detached by unmap and not handed out again", (f) => {
    const v = f.map.bytes();
    v[0] = 77;
    assert.equal(f.vmo.read(1, 0)[0], 77);
    f.map.unmap();
    assert.equal(v.byteLength, 0, "detached");
    throwsStatus(() => f.map.bytes(), ZxStatus.ErrBadState, "bytes after unmap");
    assert.equal(f.vmo.read(1, 0)[0], 77, "the VMO keeps the data");
  });
  run.scenario("Mapping.unmap never touches the mapping that overwrote part of it", (f) => {
    const m = f.vmar.map(RW | O.VmSpecific, 16 * P, f.vmo, 0, 2 * P);
    const n = f.vmar.map(RW | O.VmSpecificOverwrite, 17 * P, f.vmo2, 0, P);
    assert.equal(m.alive, true);
    m.unmap();
    assert.equal(m.alive, false);
    assert.equal(n.alive, true);
    same(n.read(100, 3), new Uint8Array([7, 7, 7]), "the new mapping");
    assert.ok(f.vmar.mappings().some((x) => x.addr === n.addr && x.len === P));
  });
  run.scenario("Mapping.unmap after vmar.unmap and a new mapping in the hole", (f) => {
    const m = f.vmar.map(RW | O.VmSpecific, 16 * P, f.vmo, 0, 2 * P);
    f.vmar.unmap(m.addr, P);
    const n = f.vmar.map(RW | O.VmSpecific, 16 * P, f.vmo2, 0, P);
    m.unmap();
    assert.equal(n.alive, true);
    assert.equal(
      f.vmar.mappings().filter((x) => x.addr >= m.addr && x.addr < m.addr + 2 * P).length,
      1,
    );
  });
  run.scenario("the root VMAR: close and dispose are no-ops, replace is NOT_SUPPORTED", (f) => {
    const root = f.k.rootVmar;
    const before = [root.raw, root.rights, root.koid];
    root.close();
    root[Symbol.dispose]();
    throwsStatus(() => root.replace(), ZxStatus.ErrNotSupported, "replace");
    throwsStatus(() => root.replace(0), ZxStatus.ErrNotSupported, "replace(0)");
    assert.throws(() => root.replace("x" as unknown as number), TypeError);
    assert.deepEqual([root.raw, root.rights, root.koid], before);
    assert.equal(root.valid, true);
    assert.equal(f.k.rootVmar, root, "the same borrowed object");
    // Still usable.
    root.map(O.VmPermRead, 0, f.vmo2, 0, P).unmap();
    // Its duplicates are ordinary handles: they close and can be replaced.
    const d = root.duplicate();
    const r = d.replace(Rights.Duplicate);
    assert.equal(d.valid, false);
    r.close();
    assert.equal(r.valid, false);
    assert.equal(root.valid, true);
  });
  run.scenario("a failed replace of a sub-VMAR handle frees no address space", (f) => {
    const maps = f.vmar.mappings();
    throwsStatus(() => f.vmarR.replace(Rights.GetProperty), ZxStatus.ErrInvalidArgs, "replace");
    assert.equal(f.vmarR.valid, false);
    assert.deepEqual(f.vmar.mappings(), maps);
    assert.equal(f.map.read(10, 5).join(","), "1,2,3,4,5");
    // The region is still allocated: a SPECIFIC allocation over it fails.
    throwsStatus(
      () => f.root.allocate(O.VmSpecific, f.vmar.base - f.root.base, P),
      ZxStatus.ErrAlreadyExists,
      "allocate over it",
    );
  });
  run.scenario(
    "handles of a closed kernel: every operation is BAD_HANDLE, close is a no-op",
    (f) => {
      const other = f.other;
      const root = other.rootVmar;
      other.close();
      for (const h of [f.foreignVmo, f.foreignVmar, root]) {
        assert.equal(h.valid, false);
        throwsStatus(() => h.duplicate(), ZxStatus.ErrBadHandle, "duplicate");
        throwsStatus(() => h.basicInfo(), ZxStatus.ErrBadHandle, "basicInfo");
        h.close();
      }
      throwsStatus(() => root.replace(), ZxStatus.ErrBadHandle, "root replace");
      throwsStatus(() => f.foreignVmo.replace(), ZxStatus.ErrBadHandle, "replace");
      assert.equal(other.handleCount, 0);
      throwsStatus(() => other.createVmo(P), ZxStatus.ErrBadState, "createVmo");
      // Closing again is fine; this kernel is untouched.
      other.close();
      assert.equal(f.vmo.read(5, 10).join(","), "1,2,3,4,5");
    },
  );
  run.scenario("name= truncates to 31 UTF-8 bytes without splitting a character", (f) => {
    const enc = new TextEncoder();
    for (
      const [n, want] of [["\u{1F600}".repeat(20), 28], ["a".repeat(40), 31], [
        "é".repeat(20),
        30,
      ]] as const
    ) {
      f.vmo.name = n;
      assert.equal(enc.encode(f.vmo.name).length, want, n.slice(0, 4));
      assert.ok(n.startsWith(f.vmo.name));
      assert.equal(f.vmo.info().name, f.vmo.name);
    }
  });
  run.scenario("constructors are not for users", (f) => {
    const token = Symbol("forged");
    assert.throws(() => Reflect.construct(Vmo, [f.k, f.vmo.raw, token]), TypeError);
    assert.throws(() => Reflect.construct(Vmar, [f.k, f.vmar.raw, token]), TypeError);
    assert.throws(() => Reflect.construct(Handle, [f.k, f.vmo.raw, token]), TypeError);
    assert.throws(() => Reflect.construct(Mapping, [{}, f.vmar, {}, token]), TypeError);
    assert.throws(() => Reflect.construct(Kernel, [{}, token]), TypeError);
    assert.throws(() => Reflect.construct(TestKernel, [{}, token, {}, {}, 1]), TypeError);
    assert.throws(() => Reflect.construct(Vmo, []), TypeError);
    assert.throws(() => (Kernel as unknown as () => unknown)(), TypeError);
  });
}

// ---------------------------------------------------------------------- the testing kit

interface KitFixture {
  k: TestKernel;
  vmo: Vmo;
  map: Mapping;
}

function kitSnapshot(f: KitFixture): unknown {
  return {
    pending: FAULT_OPS.map((op) => f.k.faults.pending(op)),
    total: f.k.faults.pending(),
    log: f.k.faults.log.length,
    handles: f.k.handleCount,
    memories: f.k.liveMemories,
    mappings: f.k.closed ? "closed" : f.k.rootVmar.mappings(),
  };
}

/**
 * Hostile inputs for the testing kit: `testKernel` options (see {@link runKernelOpen}),
 * `faults.failNext(op, count, status)`, `pending`/`clear`, `assertNoLeaks`.
 */
export function runKit(label = "testing kit"): HostileTally {
  const tally: HostileTally = { cases: 0, failures: [] };
  let seed = 1;
  const check = (
    name: string,
    expect: Expect,
    fn: (f: KitFixture) => unknown,
    setup?: (f: KitFixture) => void,
  ): void => {
    const k = testKernel({ seed: seed++ });
    try {
      const vmo = k.createVmo(P);
      vmo.write(new Uint8Array([3, 1, 4]), 0);
      const map = k.rootVmar.map(O.VmPermRead, 0, vmo, 0, P);
      const f = { k, vmo, map };
      setup?.(f);
      const before = kitSnapshot(f);
      const { got } = outcome(() => fn(f));
      tally.cases++;
      if (got !== expect) {
        tally.failures.push(`${label}: ${name}: expected ${expect}, got ${got}`);
        return;
      }
      if (got === "ok") return;
      try {
        assert.deepEqual(kitSnapshot(f), before);
        // No fault was queued by the failed call: the next backend calls succeed.
        if (!k.closed && k.faults.pending() === 0) {
          k.createVmo(P).close();
          vmo.read(1, 0);
        }
      } catch (e) {
        tally.failures.push(
          `${label}: ${name}: failed with ${got} but changed state: ${
            e instanceof Error ? e.message.slice(0, 400) : e
          }`,
        );
      }
    } finally {
      k.close();
    }
  };
  // failNext(op, count, status).
  const failNext = (f: KitFixture, a: unknown[]): unknown =>
    invoke(FaultInjector.prototype.failNext, f.k.faults, ...a);
  const validArgs = (): unknown[] => ["createMemory", 1, ZxStatus.ErrNoMemory];
  const params: Array<[string, Array<[unknown, Expect]>]> = [
    [
      "op",
      [
        ...["nope", "", "CREATEMEMORY", " read", "read ", "toString", "__proto__"].map((
          v,
        ): [unknown, Expect] => [v, "TypeError"]),
        ...[5, null, undefined, {}, Symbol("op"), ["read"], new String("read"), () => "read"].map((
          v,
        ): [unknown, Expect] => [v, "TypeError"]),
        ...FAULT_OPS.map((op): [unknown, Expect] => [op, "ok"]),
      ],
    ],
    [
      "count",
      [
        ...[-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0.5, "1", null, {}, 1n, true, [1]].map((
          v,
        ): [unknown, Expect] => [v, "TypeError"]),
        [0, "ok"],
        [undefined, "ok"],
        [3, "ok"],
      ],
    ],
    [
      "status",
      [
        ...[0, 1, 5, -0.5, NaN, -Infinity, Infinity, "x", "-1", null, {}, -1n, true, [-1]].map((
          v,
        ): [unknown, Expect] => [v, "TypeError"]),
        [ZxStatus.ErrInternal, "ok"],
        [ZxStatus.ErrNoResources, "ok"],
        [undefined, "ok"],
      ],
    ],
  ];
  params.forEach(([pname, values], i) => {
    for (const [v, expect] of values) {
      check(`failNext ${pname}=${show(v)}`, expect, (f) => {
        const a = validArgs();
        a[i] = v;
        return failNext(f, a);
      });
    }
  });
  for (
    const [rl, recv] of [
      ["a plain object", () => ({})],
      ["FaultInjector.prototype", () => FaultInjector.prototype],
      ["a kernel", (f: KitFixture) => f.k],
    ] as const
  ) {
    check(
      `failNext on ${rl}`,
      "TypeError",
      (f) => invoke(FaultInjector.prototype.failNext, recv(f), ...validArgs()),
    );
    check(`pending on ${rl}`, "TypeError", (f) => invoke(FaultInjector.prototype.pending, recv(f)));
    check(`clear on ${rl}`, "TypeError", (f) => invoke(FaultInjector.prototype.clear, recv(f)));
    check(
      `check on ${rl}`,
      "TypeError",
      (f) => invoke(FaultInjector.prototype.check, recv(f), "read"),
    );
    check(
      `log on ${rl}`,
      "TypeError",
      (f) => getter(FaultInjector.prototype, "log")(recv(f)),
    );
  }
  // A failed failNext after faults are pending keeps them.
  check(
    "failNext with a bad count keeps the faults already pending",
    "TypeError",
    (f) => failNext(f, ["read", -1, ZxStatus.ErrIo]),
    (f) => f.k.faults.failNext("read", 2, ZxStatus.ErrIo),
  );
  // On a closed kernel the injector still validates (and scheduling is harmless).
  check(
    "failNext on a closed kernel's injector, bad op",
    "TypeError",
    (f) => failNext(f, ["nope", 1, ZxStatus.ErrIo]),
    (f) => f.k.close(),
  );
  check("a standalone FaultInjector schedules and fires", "ok", () => {
    const fi = new FaultInjector();
    fi.failNext("map", 2, ZxStatus.ErrNoResources);
    assert.equal(fi.pending("map"), 2);
    assert.throws(() => fi.check("map"), ZxError);
    fi.check("read"); // nothing pending: no-op
    assert.equal(fi.pending(), 1);
    assert.deepEqual(fi.log, [{ op: "map", status: ZxStatus.ErrNoResources }]);
    fi.clear();
    assert.equal(fi.pending(), 0);
  });
  // pending/clear/check take an optional op and document no errors: an unknown op has
  // nothing pending (no TypeError, unlike failNext) and changes nothing.
  for (const v of ["nope", 5, null, {}, Symbol("op")]) {
    check(`pending(${show(v)}) is 0`, "ok", (f) => {
      f.k.faults.failNext("read", 1, ZxStatus.ErrIo);
      assert.equal(f.k.faults.pending(v as "read"), 0);
      f.k.faults.clear(v as "read");
      f.k.faults.check(v as "read");
      assert.equal(f.k.faults.pending(), 1);
    });
  }
  check(
    "liveMemories on a plain object",
    "TypeError",
    () => getter(TestKernel.prototype, "liveMemories")({}),
  );
  check("liveMemories of a closed kernel", "ok", (f) => {
    f.k.close();
    assert.equal(f.k.liveMemories, 0);
  });
  // assertNoLeaks(kernel, options).
  for (
    const [name, v] of [
      ["a plain object", {}],
      ["null", null],
      ["undefined", undefined],
      ["a number", 5],
      ["a string", "k"],
      ["Kernel.prototype", Kernel.prototype],
      ["TestKernel.prototype", TestKernel.prototype],
      ["an object inheriting from Kernel", Object.create(Kernel.prototype)],
    ] as const
  ) {
    check(`assertNoLeaks(${name})`, "TypeError", () => assertNoLeaks(v as unknown as Kernel));
  }
  check("assertNoLeaks(a VMO)", "TypeError", (f) => assertNoLeaks(f.vmo as unknown as Kernel));
  check(
    "assertNoLeaks(a VMAR)",
    "TypeError",
    (f) => assertNoLeaks(f.k.rootVmar as unknown as Kernel),
  );
  check("assertNoLeaks(a mapping)", "TypeError", (f) => assertNoLeaks(f.map as unknown as Kernel));
  check(
    "assertNoLeaks(the injector)",
    "TypeError",
    (f) => assertNoLeaks(f.k.faults as unknown as Kernel),
  );
  check("assertNoLeaks(a closed kernel)", "ok", (f) => {
    f.k.close();
    const r = assertNoLeaks(f.k);
    assert.deepEqual(r, { handles: 0, mappings: [], vmars: [], memories: 0 });
  });
  check("assertNoLeaks(a closed default-style kernel)", "ok", () => {
    const k = Kernel.open({ backend: "emulated", seed: 9 });
    k.createVmo(P);
    k.close();
    assertNoLeaks(k);
  });
  check("assertNoLeaks(a kernel with leaks) lists them", "ok", (f) => {
    try {
      assertNoLeaks(f.k);
    } catch (e) {
      assert.ok(e instanceof LeakError);
      assert.equal(e.report.handles, 1);
      assert.equal(e.report.mappings.length, 1);
      assert.equal(e.report.memories, 1);
      return;
    }
    throw new Error("no LeakError");
  });
  check(
    "assertNoLeaks(options = null)",
    "TypeError",
    (f) => assertNoLeaks(f.k, null as unknown as { handles: number }),
  );
  check("assertNoLeaks(options.handles = 1) with the mapping left", "ok", (f) => {
    f.map.unmap();
    assertNoLeaks(f.k, { handles: 1 });
  });
  // LeakError with a malformed report.
  for (const v of [undefined, null, {}, 5]) {
    check(`new LeakError(${show(v)})`, "TypeError", () => new LeakError(v as never));
  }
  check("new LeakError(an empty report)", "ok", () => {
    const e = new LeakError({ handles: 0, mappings: [], vmars: [], memories: 0 });
    assert.equal(e.name, "LeakError");
  });
  // statusName: any number answers with a name; a symbol cannot be named.
  for (const v of [ZxStatus.ErrBadHandle, 0, -1000, NaN, 1.5, 2 ** 64, "x", null]) {
    check(`statusName(${show(v)})`, "ok", () => {
      const s = statusName(v as number);
      if (typeof s !== "string" || s === "") throw new Error("not a name");
    });
  }
  check("statusName(Symbol)", "TypeError", () => statusName(Symbol("s") as unknown as number));
  return tally;
}

/**
 * Hostile inputs zxvm accepts today although it should not (src bugs, reported with repros):
 * each entry is a name, the outcome it should have, and the call. Run as a `todo` test.
 */
export function knownBugs(open: OpenKernel): Array<[string, Expect, () => unknown]> {
  const withKernel = (fn: (k: TestKernel) => unknown) => (): unknown => {
    const k = testKernel({ seed: 3 });
    try {
      k.createVmo(P); // a leaked handle and memory
      return fn(k);
    } finally {
      k.close();
    }
  };
  const out: Array<[string, Expect, () => unknown]> = [];
  // failNext: "a `status` that is not a negative error status" -> TypeError; these are not
  // Zircon statuses (and the last two are not even int32).
  for (const s of [-1000, -(2 ** 31) - 1, -(2 ** 53)]) {
    out.push([
      `failNext status=${s}`,
      "TypeError",
      withKernel((k) => k.faults.failNext("read", 1, s as ZxStatus)),
    ]);
  }
  // A bad expected-handle count must not disable the leak check (NaN passes with leaks).
  for (const h of [NaN, "1", -1, 1.5, {}]) {
    out.push([
      `assertNoLeaks(options.handles=${show(h)})`,
      "TypeError",
      withKernel((k) => assertNoLeaks(k, { handles: h as number })),
    ]);
  }
  // Vmar.borrowed is public (mod.ts exports Vmar) and wraps any handle value as a VMAR.
  out.push(["Vmar.borrowed(kernel, a VMO's handle value)", "TypeError", () => {
    const k = open(7);
    try {
      const v = k.createVmo(P);
      const borrowed = (Vmar as unknown as { borrowed: (k: Kernel, v: number) => Vmar }).borrowed;
      const b = borrowed(k, v.raw);
      if (b.type === "vmar" && b.basicInfo().type === 3) return "a VMO wrapped as a Vmar";
    } finally {
      k.close();
    }
  }]);
  // A Mapping whose range was unmapped reads and writes whatever is mapped there later.
  for (const access of ["read", "write"] as const) {
    out.push([
      `Mapping.${access} after unmap, with another VMO mapped at its address`,
      "NOT_FOUND",
      () => {
        const k = open(8);
        try {
          const sub = k.rootVmar.allocate(
            O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
            0,
            4 * P,
          );
          const a = k.createVmo(P);
          const b = k.createVmo(P);
          const m = sub.map(RW | O.VmSpecific, 0, a, 0, P);
          m.unmap();
          sub.map(RW | O.VmSpecific, 0, b, 0, P);
          if (access === "read") m.read(0, 1);
          else m.write(0, new Uint8Array([1])); // lands in b
        } finally {
          k.close();
        }
      },
    ]);
  }
  // Exported constants are plain objects: user code can rewrite the tables the kernel itself
  // reads (e.g. Rights.Write = 0 makes every #need(WRITE) check pass).
  const consts: Record<string, object> = {
    Rights,
    ZxStatus,
    ZxVmOption: O,
    VmoOp,
    VmoOptions,
    VmoChildOptions,
    Signals,
    FAULT_OPS,
  };
  for (const [name, c] of Object.entries(consts)) {
    out.push([`${name} is frozen`, "ok", () => {
      if (!Object.isFrozen(c)) throw new Error(`${name} is not frozen`);
    }]);
  }
  return out;
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
    const { got } = outcome(() => {
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

/**
 * `waitOne` outcomes beyond the synchronous checks: what each hostile-but-valid wait settles
 * with (resolution, TIMED_OUT, CANCELED) and the synchronous refusals.
 */
export async function runWaitCases(open: OpenKernel, label: string): Promise<HostileTally> {
  const tally: HostileTally = { cases: 0, failures: [] };
  const settle = async (fn: () => Promise<number>): Promise<Expect> => {
    let p: Promise<number>;
    try {
      p = fn();
    } catch (e) {
      return `sync ${
        outcome(() => {
          throw e;
        }).got
      }`;
    }
    try {
      return `resolved ${await p}`;
    } catch (e) {
      return e instanceof ZxError ? statusName(e.status).replace("ZX_ERR_", "") : String(e);
    }
  };
  const Z = Signals.VmoZeroChildren;
  const cases: Array<[string, Expect, (k: Kernel) => Promise<number>]> = [
    [
      "asserted signal, deadline 0",
      `resolved ${Z}`,
      (k) => k.createVmo(P).waitOne(Z, { deadline: 0 }),
    ],
    ["asserted signal, no options", `resolved ${Z}`, (k) => k.createVmo(P).waitOne(Z)],
    ["asserted among others", `resolved ${Z}`, (k) => k.createVmo(P).waitOne(0xFFFFFFFF, {})],
    [
      "asserted signal, aborted signal: the signal wins",
      `resolved ${Z}`,
      (k) => k.createVmo(P).waitOne(Z, { signal: AbortSignal.abort() }),
    ],
    ["mask 0, deadline 0", "TIMED_OUT", (k) => k.createVmo(P).waitOne(0, { deadline: 0 })],
    [
      "never-asserted signal, deadline -Infinity",
      "TIMED_OUT",
      (k) => k.createVmo(P).waitOne(Signals.ObjectSignal0, { deadline: -Infinity }),
    ],
    [
      "never-asserted signal, aborted signal",
      "CANCELED",
      (k) => k.createVmo(P).waitOne(Signals.UserSignal0, { signal: AbortSignal.abort() }),
    ],
    [
      "a child alive, short deadline",
      "TIMED_OUT",
      (k) => {
        const v = k.createVmo(P);
        v.createChild(VmoChildOptions.Snapshot, 0, P);
        return v.waitOne(Z, { deadline: Date.now() + 5 });
      },
    ],
    [
      "a child alive, handle closed during the wait",
      "CANCELED",
      (k) => {
        const v = k.createVmo(P);
        v.createChild(VmoChildOptions.Slice, 0, P);
        const p = v.waitOne(Z);
        v.close();
        return p;
      },
    ],
    [
      "a child alive, aborted during the wait",
      "CANCELED",
      (k) => {
        const v = k.createVmo(P);
        v.createChild(VmoChildOptions.Snapshot, 0, P);
        const ac = new AbortController();
        const p = v.waitOne(Z, { signal: ac.signal });
        ac.abort();
        return p;
      },
    ],
    [
      "a child alive, kernel closed during the wait",
      "CANCELED",
      (k) => {
        const v = k.createVmo(P);
        v.createChild(VmoChildOptions.Snapshot, 0, P);
        const p = v.waitOne(Z);
        k.close();
        return p;
      },
    ],
    [
      "the child closes during the wait",
      `resolved ${Z}`,
      (k) => {
        const v = k.createVmo(P);
        const c = v.createChild(VmoChildOptions.Snapshot, 0, P);
        const p = v.waitOne(Z);
        c.close();
        return p;
      },
    ],
    [
      "a duplicate without WAIT",
      "sync ACCESS_DENIED",
      (k) => k.createVmo(P).duplicate(Rights.Read).waitOne(Z, { deadline: 0 }),
    ],
    ["a sub-VMAR", "sync ACCESS_DENIED", (k) => k.rootVmar.allocate(0, 0, P).waitOne(Z)],
    ["the root VMAR", "sync ACCESS_DENIED", (k) => k.rootVmar.waitOne(Z, { deadline: 0 })],
    [
      "a closed handle",
      "sync BAD_HANDLE",
      (k) => {
        const v = k.createVmo(P);
        v.close();
        return v.waitOne(Z);
      },
    ],
    ["signals NaN", "sync INVALID_ARGS", (k) => k.createVmo(P).waitOne(NaN)],
    [
      "deadline NaN",
      "sync TypeError",
      (k) => k.createVmo(P).waitOne(Z, { deadline: NaN }),
    ],
  ];
  let seed = 500;
  for (const [name, expect, fn] of cases) {
    const k = open(seed++);
    try {
      const got = await settle(() => fn(k));
      tally.cases++;
      if (got !== expect) {
        tally.failures.push(`${label}: waitOne ${name}: expected ${expect}, got ${got}`);
      }
    } finally {
      k.close();
    }
  }
  return tally;
}
