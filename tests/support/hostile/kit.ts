/**
 * Hostile cases for the testing kit (`zxvm/testing`): `faults.failNext(op, count, status)`,
 * `pending`/`clear`/`check`/`log` (also on receivers that are not an injector), `liveMemories`,
 * `assertNoLeaks`, `LeakError` and `statusName`. `testKernel` options are with the kernel's
 * (`runKernelOpen`). A failed call must leave the kit's state unchanged and queue no fault.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertNoLeaks,
  BackendError,
  FAULT_OPS,
  FaultInjector,
  Kernel,
  LeakError,
  type Mapping,
  statusName,
  TestKernel,
  testKernel,
  type Vmo,
  ZxStatus,
  ZxVmOption as O,
} from "../../../testing.ts";
import { getter, type HostileTally, invoke, outcome, P } from "./runner.ts";
import { type Expect, show } from "./values.ts";

/** The objects every kit case starts from: a test kernel with one mapped VMO. */
interface KitFixture {
  k: TestKernel;
  vmo: Vmo;
  map: Mapping;
}

/** One kit case: `fn` on a fresh fixture (after `setup`) must give `expect`. */
type KitCheck = (
  name: string,
  expect: Expect,
  fn: (f: KitFixture) => unknown,
  setup?: (f: KitFixture) => void,
) => void;

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

/** A {@link KitCheck} that tallies into `tally`; a failed call must change nothing. */
function kitChecker(tally: HostileTally, label: string): KitCheck {
  let seed = 1;
  return (name, expect, fn, setup) => {
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
}

const failNext = (f: KitFixture, a: unknown[]): unknown =>
  invoke(FaultInjector.prototype.failNext, f.k.faults, ...a);
const validArgs = (): unknown[] => ["createMemory", 1, ZxStatus.ErrNoMemory];
const each = (vs: unknown[], expect: Expect): Array<[unknown, Expect]> =>
  vs.map((v): [unknown, Expect] => [v, expect]);

/** Values of each `failNext` parameter, with their outcomes. */
const failNextParams = (): Array<[string, Array<[unknown, Expect]>]> => [
  [
    "op",
    [
      ...each(["nope", "", "CREATEMEMORY", " read", "read ", "toString", "__proto__"], "TypeError"),
      ...each(
        [5, null, undefined, {}, Symbol("op"), ["read"], new String("read"), () => "read"],
        "TypeError",
      ),
      ...each([...FAULT_OPS], "ok"),
    ],
  ],
  [
    "count",
    [
      ...each(
        [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0.5, "1", null, {}, 1n, true, [1]],
        "TypeError",
      ),
      [0, "ok"],
      [undefined, "ok"],
      [3, "ok"],
    ],
  ],
  [
    "status",
    [
      ...each(
        [0, 1, 5, -0.5, NaN, -Infinity, Infinity, "x", "-1", null, {}, -1n, true, [-1]],
        "TypeError",
      ),
      [ZxStatus.ErrInternal, "ok"],
      [ZxStatus.ErrNoResources, "ok"],
      [undefined, "ok"],
    ],
  ],
];

/** `failAt(op, n, status)`: the same values as `failNext`, with `n` a positive integer. */
const failAtParams = (): Array<[string, Array<[unknown, Expect]>]> => {
  const [op, , status] = failNextParams();
  const n: [string, Array<[unknown, Expect]>] = [
    "n",
    [
      ...each(
        [0, -1, 1.5, NaN, Infinity, 2 ** 53, "1", null, undefined, {}, 1n, true, [1]],
        "TypeError",
      ),
      [1, "ok"],
      [3, "ok"],
    ],
  ];
  return [op, n, status];
};

/** `failAt(op, n, status)`: each parameter's values, then receivers that are not one. */
function failAtCases(check: KitCheck): void {
  failAtParams().forEach(([pname, values], i) => {
    for (const [v, expect] of values) {
      check(`failAt ${pname}=${show(v)}`, expect, (f) => {
        const a = validArgs();
        a[i] = v;
        return invoke(FaultInjector.prototype.failAt, f.k.faults, ...a);
      });
    }
  });
  for (const recv of [{}, FaultInjector.prototype]) {
    check(
      `failAt on ${show(recv)}`,
      "TypeError",
      () => invoke(FaultInjector.prototype.failAt, recv, ...validArgs()),
    );
  }
  check("failAt fails exactly the nth call", "ok", () => {
    const fi = new FaultInjector();
    fi.check("map"); // calls before scheduling do not count
    fi.failAt("map", 2, ZxStatus.ErrNoResources);
    assert.equal(fi.pending("map"), 1);
    fi.check("map");
    assert.throws(() => fi.check("map"), BackendError);
    fi.check("map");
    assert.equal(fi.pending(), 0);
    assert.deepEqual(fi.log, [{ op: "map", status: ZxStatus.ErrNoResources }]);
  });
}

/** `failNext(op, count, status)`: each parameter's values, then receivers that are not one. */
function failNextCases(check: KitCheck): void {
  failNextParams().forEach(([pname, values], i) => {
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
}

/** The injector's state around a failed `failNext`, unknown ops, and `liveMemories`. */
function injectorCases(check: KitCheck): void {
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
    assert.throws(() => fi.check("map"), BackendError);
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
}

/** `assertNoLeaks(kernel, options)` with things that are not a kernel, and real leaks. */
function assertNoLeaksCases(check: KitCheck): void {
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
}

/** `LeakError` with a malformed report; `statusName` of anything. */
function errorCases(check: KitCheck): void {
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
}

/** Every hostile case of the testing kit; returns the tally. */
export function runKit(): HostileTally {
  const tally: HostileTally = { cases: 0, failures: [] };
  const check = kitChecker(tally, "testing kit");
  failNextCases(check);
  failAtCases(check);
  injectorCases(check);
  assertNoLeaksCases(check);
  errorCases(check);
  return tally;
}
