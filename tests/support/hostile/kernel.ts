/**
 * Hostile cases for `Kernel`: its methods and accessors, the default kernel's statics
 * (`Kernel.default`, `Vmo.create`, `Vmar.root`), constructors that users must not reach, and
 * `Kernel.open` with hostile options.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Handle,
  Kernel,
  Mapping,
  TestKernel,
  Vmar,
  Vmo,
  ZxError,
  ZxStatus,
} from "../../../testing.ts";
import {
  aliens,
  closeOther,
  type Fixture,
  getter,
  type HostileTally,
  IGNORED,
  invoke,
  type Method,
  on,
  outcome,
  P,
  type Receiver,
  type Scenario,
} from "./runner.ts";
import { E, type Expect } from "./values.ts";

/** Receivers of a `Kernel` method or accessor after the live kernel. */
function kernelOthers(closed: Expect): Receiver[] {
  return [
    { label: "a closed kernel", get: (f) => f.other, setup: closeOther, expect: closed },
    ...aliens(
      ["a VMO", (f) => f.vmo],
      ["a mapping", (f) => f.map],
      ["Kernel.prototype", () => Kernel.prototype],
    ),
  ];
}

const KERNEL_GETTERS = [
  "backend",
  "backendReason",
  "pageSize",
  "maxVmoSize",
  "rootVmar",
  "handleCount",
  "closed",
];

/** `Kernel.close` and `Kernel[Symbol.dispose]`. */
function kernelClose(): Method[] {
  const fns = [
    ["close", Kernel.prototype.close],
    ["dispose", Kernel.prototype[Symbol.dispose]],
  ] as const;
  return fns.map(([name, fn]) => ({
    name: `Kernel.${name}`,
    params: [IGNORED],
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
  }));
}

/** The statics that use (or wrap) the default kernel, and the internal `Vmar.borrowed`. */
function statics(): Method[] {
  return [
    {
      name: "Kernel.default",
      params: [],
      valid: () => [],
      call: (r) => getter(Kernel, "default")(r),
      receivers: [on("Kernel", () => Kernel), on("a plain object (a static getter)", () => ({}))],
    },
    {
      name: "Vmar.borrowed (internal, but reachable)",
      params: [],
      valid: () => [],
      call: (r) =>
        (Vmar as unknown as { borrowed: (k: unknown, v: unknown) => unknown }).borrowed(r, 1),
      // Its kernel argument is checked; see formerlyAccepted() for the handle value.
      receivers: [
        on("a plain object", () => ({}), "TypeError"),
        on("null", () => null, "TypeError"),
        on("a VMO", (f) => f.vmo, "TypeError"),
        on("Kernel.prototype", () => Kernel.prototype, "TypeError"),
      ],
    },
    {
      name: "Vmo.create",
      params: [
        { name: "size", kind: "u64", extreme: E("OUT_OF_RANGE") },
        { name: "options", kind: "u32", optional: true, extra: () => [[1, "INVALID_ARGS"]] },
      ],
      valid: () => [P, 0],
      call: (_r, a) => invoke(Vmo.create, Vmo, ...a),
      receivers: [on("Vmo", () => Vmo)],
    },
    {
      name: "Vmar.root",
      params: [IGNORED],
      valid: () => [],
      call: (_r, a) => invoke(Vmar.root, Vmar, ...a),
      receivers: [on("Vmar", () => Vmar)],
    },
  ];
}

/** `Kernel`'s methods and accessors, then the default kernel's statics. */
export function kernelMethods(): Method[] {
  const createVmo: Method = {
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
    receivers: [on("a kernel", (f) => f.k), ...kernelOthers("BAD_STATE")],
  };
  const getters = KERNEL_GETTERS.map((key): Method => {
    const g = getter(Kernel.prototype, key);
    return {
      name: `Kernel.${key}`,
      params: [],
      valid: () => [],
      call: (r) => g(r),
      receivers: [on("a kernel", (f) => f.k), ...kernelOthers("ok")],
    };
  });
  return [createVmo, ...getters, ...kernelClose(), ...statics(), ...futexMethods()];
}

/** A call that reached the wait and timed out counts as valid (the deadline is 0). */
function timedOutIsOk(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ZxError && e.status === ZxStatus.ErrTimedOut) return undefined;
    throw e;
  }
}

/** `Kernel.futexWait`, `futexWaitAsync` and `futexWake`, on the word at `map.addr`. */
function futexMethods(): Method[] {
  const addr = (wake: boolean) => ({
    name: "addr",
    kind: "u64" as const,
    // Aligned but unmapped (2^64-1n reads as the nearest double, 2^64): a wake finds nobody.
    extreme: E(wake ? "ok" : "INVALID_ARGS"),
    extra: (f: Fixture): Array<[unknown, string]> => [
      [f.map.addr + 2, "INVALID_ARGS"],
      [0, "INVALID_ARGS"],
      [f.foreignMap.addr, wake ? "ok" : "INVALID_ARGS"], // another kernel's mapping
      [BigInt(f.map.addr + 4), "ok"],
    ],
  });
  // A mismatch is thrown by the blocking form, and a rejection (not checked) of the other.
  const value = (mismatch: string) => ({
    name: "current",
    kind: "i32" as const,
    extra: (): Array<[unknown, string]> => [[1, mismatch], [-1, mismatch], [0n, "ok"]],
  });
  const deadline = { name: "opts", kind: "deadline" as const };
  const receivers = (f: string): Receiver[] => [
    on("a kernel", (x) => x.k),
    ...kernelOthers(f),
  ];
  const wait: Method = {
    name: "Kernel.futexWait",
    params: [addr(false), value("BAD_STATE"), deadline],
    valid: (f) => [f.map.addr, 0, { deadline: 0 }],
    call: (r, a) => timedOutIsOk(() => invoke(Kernel.prototype.futexWait, r, ...a)),
    receivers: receivers("BAD_STATE"),
  };
  const waitAsync: Method = {
    name: "Kernel.futexWaitAsync",
    params: [addr(false), value("ok"), deadline],
    valid: (f) => [f.map.addr, 0, { deadline: 0 }],
    // Bad arguments throw synchronously; what the wait ends with arrives later (not checked).
    call: (r, a) =>
      void (invoke(Kernel.prototype.futexWaitAsync, r, ...a) as Promise<void>).catch(() => {}),
    receivers: receivers("BAD_STATE"),
  };
  const wake: Method = {
    name: "Kernel.futexWake",
    params: [addr(true), {
      name: "count",
      kind: "count",
      optional: true,
      extra: () => [[0, "ok"], [Infinity, "ok"], [2 ** 40, "ok"], [2n ** 64n, "ok"]],
    }],
    valid: (f) => [f.map.addr, 1],
    call: (r, a) => invoke(Kernel.prototype.futexWake, r, ...a),
    receivers: receivers("BAD_STATE"),
  };
  return [wait, waitAsync, wake];
}

/** Constructors of every class refuse callers without the internal token. */
export function kernelScenarios(): Scenario[] {
  return [{
    name: "constructors are not for users",
    run: (f) => {
      const token = Symbol("forged");
      assert.throws(() => Reflect.construct(Vmo, [f.k, f.vmo.raw, token]), TypeError);
      assert.throws(() => Reflect.construct(Vmar, [f.k, f.vmar.raw, token]), TypeError);
      assert.throws(() => Reflect.construct(Handle, [f.k, f.vmo.raw, token]), TypeError);
      assert.throws(() => Reflect.construct(Mapping, [{}, f.vmar, {}, token]), TypeError);
      assert.throws(() => Reflect.construct(Kernel, [{}, token]), TypeError);
      assert.throws(() => Reflect.construct(TestKernel, [{}, token, {}, {}, 1]), TypeError);
      assert.throws(() => Reflect.construct(Vmo, []), TypeError);
      assert.throws(() => (Kernel as unknown as () => unknown)(), TypeError);
    },
  }];
}

/** Hostile `Kernel.open` options (no kernel state involved). */
function kernelOpenCases(): Array<[string, unknown, Expect]> {
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

/**
 * `Kernel.open` (or another kernel factory: `open`) with hostile options; `whole` adds
 * non-object options, `ignoredOptions` drops the cases of options the factory does not take.
 */
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
