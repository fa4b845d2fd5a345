/**
 * Hostile cases for `Handle` (the base of `Vmo` and `Vmar`): `duplicate`, `replace`, `name`,
 * `waitOne` (also how hostile-but-valid waits settle), the accessors, `close` and dispose —
 * with `Vmar`'s own `close` and the `type` constants of both subclasses — and handles whose
 * kernel was closed.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Handle,
  type Kernel,
  Rights,
  Signals,
  statusName,
  Vmar,
  Vmo,
  VmoChildOptions,
  ZxError,
  ZxStatus,
} from "../../../testing.ts";
import {
  aliens,
  closeOther,
  destroyVmar,
  type Fixture,
  getter,
  type HostileTally,
  IGNORED,
  invoke,
  type Method,
  on,
  type OpenKernel,
  outcome,
  P,
  type Receiver,
  type Scenario,
  setter,
  throwsStatus,
} from "./runner.ts";
import type { Expect, Param } from "./values.ts";

const HP = Handle.prototype as object;
const vmoMain = on("a VMO", (f) => f.vmo);

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

/** `duplicate` per receiver kind, `replace` per receiver kind and on the borrowed root. */
function rightsMethods(): Method[] {
  const dups = ([
    ["VMO", (f: Fixture) => f.vmo, Rights.Execute],
    ["sub-VMAR", (f: Fixture) => f.vmar, Rights.GetProperty],
    ["root VMAR", (f: Fixture) => f.root, Rights.Wait],
  ] as const).map(([label, get, bad]): Method => ({
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
  }));
  const replaces = ([
    ["VMO", (f: Fixture) => f.vmoR, "vmoR", Rights.Execute],
    ["sub-VMAR", (f: Fixture) => f.vmarR, "vmarR", Rights.GetProperty],
  ] as const).map(([label, get, key, bad]): Method => ({
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
  }));
  const replaceRoot: Method = {
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
  };
  return [...dups, ...replaces, replaceRoot];
}

/** `name=` and `waitOne`: methods that VMAR handles lack the rights for. */
function propertyMethods(): Method[] {
  const setName: Method = {
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
  };
  const waitOne: Method = {
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
  };
  return [setName, waitOne];
}

/**
 * Accessors and nullary methods of Handle, with the outcome on [a VMO, a sub-VMAR, the root
 * VMAR, a destroyed sub-VMAR, a closed handle]: they work on every live handle (also a
 * destroyed VMAR's) and fail on closed ones.
 */
const HANDLE_NULLARY: Array<[string, (r: unknown, a: unknown[]) => unknown, Expect[]]> = [
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

function nullaryMethods(): Method[] {
  return HANDLE_NULLARY.map(([key, fn, [vmoE, subE, rootE, destroyedE, closedE]]): Method => {
    const params: Param[] = key === "basicInfo" ? [IGNORED] : [];
    const closedList = handleOthers().map((r) =>
      r.expect === "BAD_HANDLE" ? { ...r, expect: closedE } : r
    );
    return {
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
    };
  });
}

/** `close` and dispose of `Handle` and of `Vmar` (which has its own `close`). */
function closeMethods(): Method[] {
  const handle = ([
    ["close", Handle.prototype.close],
    ["dispose", Handle.prototype[Symbol.dispose]],
  ] as const).map(([key, fn]): Method => ({
    name: `Handle.${key}`,
    params: [IGNORED],
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
  }));
  const vmar = ([
    ["close", Vmar.prototype.close],
    ["dispose", Vmar.prototype[Symbol.dispose]],
  ] as const).map(([key, fn]): Method => ({
    name: `Vmar.${key}`,
    params: [IGNORED],
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
  }));
  return [...handle, ...vmar];
}

/** `Vmo.type` and `Vmar.type`: constants that read no state, so any receiver gets them. */
function typeMethods(): Method[] {
  return ([["Vmo", Vmo.prototype, "vmo"], ["Vmar", Vmar.prototype, "vmar"]] as const).map(
    ([cls, proto, type]): Method => {
      const g = getter(proto, "type");
      return {
        name: `${cls}.type`,
        params: [],
        valid: () => [],
        call: (r) => {
          const t = g(r);
          if (t !== type) throw new Error(`type is ${String(t)}`);
        },
        receivers: [
          on(`a ${cls}`, (f) => (cls === "Vmo" ? f.vmo : f.vmar)),
          on("a closed handle", (f) => (cls === "Vmo" ? f.closedVmo : f.closedVmar)),
          on("a plain object", () => ({})),
        ],
      };
    },
  );
}

/** Every `Handle` method and accessor (with `Vmar.close` and the `type` constants). */
export function handleMethods(): Method[] {
  return [
    ...rightsMethods(),
    ...propertyMethods(),
    ...nullaryMethods(),
    ...closeMethods(),
    ...typeMethods(),
  ];
}

/** Handles of a closed kernel; `name=` truncation. */
export function handleScenarios(): Scenario[] {
  return [
    {
      name: "handles of a closed kernel: every operation is BAD_HANDLE, close is a no-op",
      run: (f) => {
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
    },
    {
      name: "name= truncates to 31 UTF-8 bytes without splitting a character",
      run: (f) => {
        const enc = new TextEncoder();
        for (
          const [n, want] of [
            ["\u{1F600}".repeat(20), 28],
            ["a".repeat(40), 31],
            ["é".repeat(20), 30],
          ] as const
        ) {
          f.vmo.name = n;
          assert.equal(enc.encode(f.vmo.name).length, want, n.slice(0, 4));
          assert.ok(n.startsWith(f.vmo.name));
          assert.equal(f.vmo.info().name, f.vmo.name);
        }
      },
    },
  ];
}

/** A wait and what it must settle with. */
type WaitCase = [string, Expect, (k: Kernel) => Promise<number>];

const Z = Signals.VmoZeroChildren;

/** Waits that settle at once (or are refused synchronously). */
function immediateWaits(): WaitCase[] {
  return [
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
  ];
}

/** Waits on a VMO with a child: settled by a deadline, a close, an abort or the child going. */
function pendingWaits(): WaitCase[] {
  return [
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
  ];
}

/** Waits refused before they start. */
function refusedWaits(): WaitCase[] {
  return [
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
}

/** What a wait settles with: `resolved <signals>`, a status, or `sync <outcome>`. */
async function settle(fn: () => Promise<number>): Promise<Expect> {
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
}

/**
 * `waitOne` outcomes beyond the synchronous checks: what each hostile-but-valid wait settles
 * with (resolution, TIMED_OUT, CANCELED) and the synchronous refusals.
 */
export async function runWaitCases(open: OpenKernel, label: string): Promise<HostileTally> {
  const tally: HostileTally = { cases: 0, failures: [] };
  let seed = 500;
  for (const [name, expect, fn] of [...immediateWaits(), ...pendingWaits(), ...refusedWaits()]) {
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
