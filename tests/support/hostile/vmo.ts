/**
 * Hostile cases for `Vmo`: `read` (both overloads), `write`, sizes, `opRange`, `createChild`,
 * the accessors and `info`, on live, closed, foreign and wrong-type receivers; and scenarios
 * on the exact bytes a read or write touches.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Rights, Vmo, VmoChildOptions, VmoOp, ZxStatus } from "../../../testing.ts";
import {
  aliens,
  closeOther,
  fill,
  getter,
  IGNORED,
  invoke,
  type Method,
  on,
  P,
  type Receiver,
  same,
  type Scenario,
  throwsStatus,
} from "./runner.ts";
import { detached, E } from "./values.ts";

const vmoMain = on("a VMO", (f) => f.vmo);

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

/** `read(length, offset)`, `read(into, offset)` and `write(data, offset)` of a 3-page VMO. */
function dataMethods(): Method[] {
  const read: Method = {
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
  };
  const readInto: Method = {
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
  };
  const write: Method = {
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
  };
  return [read, readInto, write];
}

/** `setSize` and `setContentSize`. */
function sizeMethods(): Method[] {
  return [
    {
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
    },
    {
      name: "Vmo.setContentSize",
      // Content size may exceed the VMO size (Zircon core test ContentSize).
      params: [{ name: "size", kind: "u64", extreme: E("ok") }],
      valid: () => [100],
      call: (r, a) => invoke(Vmo.prototype.setContentSize, r, ...a),
      receivers: [vmoMain, ...vmoOthers()],
    },
  ];
}

/** `opRange` and `createChild`. */
function rangeMethods(): Method[] {
  const opRange: Method = {
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
  };
  const createChild: Method = {
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
  };
  return [opRange, createChild];
}

/** `size`, `contentSize` and `info()`. */
function accessors(): Method[] {
  return ([
    ["size", getter(Vmo.prototype, "size")],
    ["contentSize", getter(Vmo.prototype, "contentSize")],
    ["info", (r: unknown, a: unknown[]) => invoke(Vmo.prototype.info, r, ...a)],
  ] as const).map(([key, fn]): Method => ({
    name: `Vmo.${key}`,
    params: key === "info" ? [IGNORED] : [],
    valid: () => [],
    call: (r, a) => fn(r, a),
    receivers: [on("a VMO", (f) => f.vmo), ...vmoOthers()],
  }));
}

/** Every `Vmo` method and accessor (`Vmo.create` is with the kernel's). */
export function vmoMethods(): Method[] {
  return [...dataMethods(), ...sizeMethods(), ...rangeMethods(), ...accessors()];
}

/** Which bytes `read` and `write` touch: windows, shared memory, detached and failed calls. */
export function vmoScenarios(): Scenario[] {
  return [
    {
      name: "Vmo.read into a subarray fills exactly its window",
      run: (f) => {
        const buf = fill(32, 0xAA);
        f.vmo.read(buf.subarray(8, 16), 8);
        const want = fill(32, 0xAA);
        want.set([0, 0, 1, 2, 3, 4, 5, 0], 8);
        same(buf, want, "buffer");
      },
    },
    {
      name: "Vmo.read into a shared-memory Uint8Array",
      run: (f) => {
        const buf = new Uint8Array(new SharedArrayBuffer(6));
        f.vmo.read(buf, 9);
        same(buf, new Uint8Array([0, 1, 2, 3, 4, 5]), "buffer");
      },
    },
    {
      name: "a failed Vmo.read leaves the destination untouched",
      run: (f) => {
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
      },
    },
    {
      name: "Vmo.read into a detached array: 0 bytes, range still checked",
      run: (f) => {
        const d = detached();
        f.vmo.read(d, 3 * P);
        throwsStatus(() => f.vmo.read(d, 3 * P + 1), ZxStatus.ErrOutOfRange, "past the end");
        assert.equal(d.length, 0);
      },
    },
    {
      name: "Vmo.write of a subarray writes exactly its window",
      run: (f) => {
        const src = new Uint8Array(16).map((_, i) => 100 + i);
        f.vmo.write(src.subarray(4, 7), 20);
        same(f.vmo.read(5, 19), new Uint8Array([0, 104, 105, 106, 0]), "contents");
      },
    },
  ];
}
