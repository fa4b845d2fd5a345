/**
 * Hostile cases for `Vmar`: `allocate`, `map`, `unmap`, `protect`, `opRange`, `destroy` and
 * the accessors, on a sub-VMAR, the root and dead or wrong-type receivers; and scenarios on the
 * borrowed root VMAR and on a failed `replace` of a sub-VMAR handle.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Rights, Vmar, VmoOp, ZxStatus, ZxVmOption as O } from "../../../testing.ts";
import {
  aliens,
  closeOther,
  destroyVmar,
  getter,
  IGNORED,
  invoke,
  type Method,
  on,
  P,
  type Receiver,
  RW,
  type Scenario,
  throwsStatus,
} from "./runner.ts";
import { E, type Expect } from "./values.ts";

const subMain = on("a sub-VMAR", (f) => f.vmar);
const rootRecv = on("the root VMAR", (f) => f.root);

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

/** `allocate` of a sub-VMAR. */
function allocate(): Method {
  return {
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
    receivers: [subMain, rootRecv, ...vmarOthers("BAD_STATE")],
  };
}

/** `map(options, vmarOffset, vmo, vmoOffset, len)`. */
function map(): Method {
  return {
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
      rootRecv,
      on("another kernel's VMAR", (f) => f.foreignVmar, "BAD_HANDLE"),
      ...vmarOthers("BAD_STATE"),
    ],
  };
}

/** `unmap(addr, len)` and `protect(options, addr, len)`. */
function unmapProtect(): Method[] {
  const unmap: Method = {
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
  };
  const protect: Method = {
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
    receivers: [subMain, rootRecv, ...vmarOthers("BAD_STATE")],
  };
  return [unmap, protect];
}

/** `opRange(op, addr, len)` and `destroy()`. */
function opRangeDestroy(): Method[] {
  const opRange: Method = {
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
    receivers: [subMain, rootRecv, ...vmarOthers("BAD_STATE")],
  };
  const destroy: Method = {
    name: "Vmar.destroy",
    params: [IGNORED],
    valid: () => [],
    call: (r, a) => invoke(Vmar.prototype.destroy, r, ...a),
    receivers: [
      subMain,
      on("the root VMAR", (f) => f.root, "NOT_SUPPORTED"),
      ...vmarOthers("BAD_STATE"),
    ],
  };
  return [opRange, destroy];
}

/** `base`, `len` and `mappings()`. */
function accessors(): Method[] {
  return ([
    ["base", getter(Vmar.prototype, "base")],
    ["len", getter(Vmar.prototype, "len")],
    ["mappings", (r: unknown, a: unknown[]) => invoke(Vmar.prototype.mappings, r, ...a)],
  ] as const).map(([key, fn]): Method => ({
    name: `Vmar.${key}`,
    params: key === "mappings" ? [IGNORED] : [],
    valid: () => [],
    call: (r, a) => fn(r, a),
    // A destroyed VMAR still answers (Zircon's ZX_INFO_VMAR has no destroyed check).
    receivers: [subMain, rootRecv, ...vmarOthers("ok")],
  }));
}

/** Every `Vmar` method and accessor (`close`, dispose and `type` are with Handle's). */
export function vmarMethods(): Method[] {
  return [allocate(), map(), ...unmapProtect(), ...opRangeDestroy(), ...accessors()];
}

/** The borrowed root VMAR; a failed `replace` of a sub-VMAR handle. */
export function vmarScenarios(): Scenario[] {
  return [
    {
      name: "the root VMAR: close and dispose are no-ops, replace is NOT_SUPPORTED",
      run: (f) => {
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
      },
    },
    {
      name: "a failed replace of a sub-VMAR handle frees no address space",
      run: (f) => {
        const maps = f.vmar.mappings();
        throwsStatus(
          () => f.vmarR.replace(Rights.GetProperty),
          ZxStatus.ErrInvalidArgs,
          "replace",
        );
        assert.equal(f.vmarR.valid, false);
        assert.deepEqual(f.vmar.mappings(), maps);
        assert.equal(f.map.read(10, 5).join(","), "1,2,3,4,5");
        // The region is still allocated: a SPECIFIC allocation over it fails.
        throwsStatus(
          () => f.root.allocate(O.VmSpecific, f.vmar.base - f.root.base, P),
          ZxStatus.ErrAlreadyExists,
          "allocate over it",
        );
      },
    },
  ];
}
