/**
 * Inputs zxvm once accepted although it should not; each was a src bug, now fixed, and stays
 * here so it cannot come back: `failNext` with non-Zircon statuses, `assertNoLeaks` with a bad
 * `options.handles` (NaN disabled the check), a public `Vmar.borrowed`, a stale `Mapping`
 * reaching a later mapping at its address, exported constants that user code could rewrite.
 *
 * @module
 */
import {
  assertNoLeaks,
  FAULT_OPS,
  type Kernel,
  Rights,
  Signals,
  type TestKernel,
  testKernel,
  Vmar,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxStatus,
  ZxVmOption as O,
} from "../../../testing.ts";
import { type OpenKernel, P, RW } from "./runner.ts";
import { type Expect, show } from "./values.ts";

/** A formerly accepted input: its name, the outcome it must have, and the call. */
export type FormerlyAccepted = [string, Expect, () => unknown];

/** `failNext` statuses and `assertNoLeaks` handle counts that must be refused. */
function kitInputs(): FormerlyAccepted[] {
  const withKernel = (fn: (k: TestKernel) => unknown) => (): unknown => {
    const k = testKernel({ seed: 3 });
    try {
      k.createVmo(P); // a leaked handle and memory
      return fn(k);
    } finally {
      k.close();
    }
  };
  const out: FormerlyAccepted[] = [];
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
  return out;
}

/** `Vmar.borrowed` of a VMO's handle value; a stale mapping over a newer one. */
function handleInputs(open: OpenKernel): FormerlyAccepted[] {
  const out: FormerlyAccepted[] = [];
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
  return out;
}

/**
 * Exported constants are frozen: as plain objects, user code could rewrite the tables the
 * kernel itself reads (e.g. Rights.Write = 0 made every #need(WRITE) check pass).
 */
function frozenConstants(): FormerlyAccepted[] {
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
  return Object.entries(consts).map((
    [name, c],
  ): FormerlyAccepted => [`${name} is frozen`, "ok", () => {
    if (!Object.isFrozen(c)) throw new Error(`${name} is not frozen`);
  }]);
}

/** Every formerly accepted input, on kernels from `open` where a case needs one. */
export function formerlyAccepted(open: OpenKernel): FormerlyAccepted[] {
  return [...kitInputs(), ...handleInputs(open), ...frozenConstants()];
}
