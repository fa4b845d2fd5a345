/**
 * Hostile cases for `Mapping`: `read`, `write` (faults carry their access), `bytes`, `unmap`,
 * dispose and the accessors, on live, read-only, unmapped, split, protected, shrunk and foreign
 * mappings; and scenarios on what reads, writes and views touch around faults and unmaps.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Mapping, ZxStatus, ZxVmOption as O } from "../../../testing.ts";
import {
  aliens,
  closeOther,
  destroyVmar,
  fill,
  getter,
  IGNORED,
  invoke,
  type Method,
  on,
  P,
  type Receiver,
  RW,
  same,
  type Scenario,
  throwsStatus,
} from "./runner.ts";
import { detached, E } from "./values.ts";

const live = on("a live mapping", (f) => f.map);

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

/** `read(offset, length)` and `write(offset, data)` of a 2-page mapping. */
function dataMethods(): Method[] {
  const read: Method = {
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
    receivers: [live, ...mappingOthers("read")],
    faultAccess: "read",
  };
  const write: Method = {
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
    receivers: [live, ...mappingOthers("write")],
    faultAccess: "write",
  };
  return [read, write];
}

/** `bytes()`, `unmap()` and dispose. */
function viewAndUnmap(): Method[] {
  const bytes: Method = {
    name: "Mapping.bytes",
    params: [IGNORED],
    valid: () => [],
    call: (r, a) => invoke(Mapping.prototype.bytes, r, ...a),
    receivers: [live, ...mappingOthers("bytes")],
  };
  const unmaps = ([
    ["unmap", Mapping.prototype.unmap],
    ["dispose", Mapping.prototype[Symbol.dispose]],
  ] as const).map(([key, fn]): Method => ({
    name: `Mapping.${key}`,
    params: [IGNORED],
    valid: () => [],
    call: (r, a) => invoke(fn, r, ...a),
    receivers: [live, ...mappingOthers("unmap")],
  }));
  return [bytes, ...unmaps];
}

/** The accessors: they answer on every mapping, dead or alive. */
function accessors(): Method[] {
  return ["addr", "len", "vmar", "options", "alive"].map((key): Method => {
    const g = getter(Mapping.prototype, key);
    return {
      name: `Mapping.${key}`,
      params: [],
      valid: () => [],
      call: (r) => g(r),
      receivers: [
        live,
        ...mappingOthers("unmap").map((
          r,
        ) => (r.expect === "TypeError" ? r : { ...r, expect: "ok" })),
      ],
    };
  });
}

/** Every `Mapping` method and accessor. */
export function mappingMethods(): Method[] {
  return [...dataMethods(), ...viewAndUnmap(), ...accessors()];
}

/** Reads and writes around faults: what is written, what is left, what the fault says. */
function faultScenarios(): Scenario[] {
  return [
    {
      name: "Mapping.write of a subarray and Mapping.read round trip",
      run: (f) => {
        const src = new Uint8Array(16).map((_, i) => 50 + i);
        f.map.write(P - 2, src.subarray(1, 5)); // spans the page boundary
        same(f.map.read(P - 3, 6), new Uint8Array([0, 51, 52, 53, 54, 0]), "mapping");
        same(f.vmo.read(4, P - 2), new Uint8Array([51, 52, 53, 54]), "vmo");
      },
    },
    {
      name: "Mapping.write across a read-only page writes nothing",
      run: (f) => {
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
      },
    },
    {
      name: "Mapping.write past the VMO's end writes nothing",
      run: (f) => {
        const m = f.vmar.map(RW, 0, f.vmo2, 0, 2 * P); // 1-page VMO, 2-page mapping
        const e = throwsStatus(() => m.write(P - 2, fill(4, 9)), ZxStatus.ErrOutOfRange, "write");
        assert.deepEqual(e.fault, { addr: m.addr + P, access: "write" });
        same(f.vmo2.read(2, P - 2), new Uint8Array(2), "contents");
        const r = throwsStatus(() => m.read(P - 1, 2), ZxStatus.ErrOutOfRange, "read");
        assert.deepEqual(r.fault, { addr: m.addr + P, access: "read" });
        assert.equal(m.bytes().length, P, "bytes() covers the backed part");
      },
    },
    {
      name: "Mapping.read/write after the VMO shrank fault, and work again after it grew",
      run: (f) => {
        f.map.write(P + 5, new Uint8Array([42]));
        f.vmo.setSize(P);
        const e = throwsStatus(() => f.map.read(P, 1), ZxStatus.ErrOutOfRange, "read");
        assert.deepEqual(e.fault, { addr: f.map.addr + P, access: "read" });
        f.vmo.setSize(2 * P);
        same(f.map.read(P + 5, 1), new Uint8Array([0]), "grown page reads zero");
      },
    },
  ];
}

/** Views and unmaps: a view dies with its mapping; unmap never reaches a newer mapping. */
function unmapScenarios(): Scenario[] {
  return [
    {
      name: "a bytes() view is detached by unmap and not handed out again",
      run: (f) => {
        const v = f.map.bytes();
        v[0] = 77;
        assert.equal(f.vmo.read(1, 0)[0], 77);
        f.map.unmap();
        assert.equal(v.byteLength, 0, "detached");
        throwsStatus(() => f.map.bytes(), ZxStatus.ErrBadState, "bytes after unmap");
        assert.equal(f.vmo.read(1, 0)[0], 77, "the VMO keeps the data");
      },
    },
    {
      name: "Mapping.unmap never touches the mapping that overwrote part of it",
      run: (f) => {
        const m = f.vmar.map(RW | O.VmSpecific, 16 * P, f.vmo, 0, 2 * P);
        const n = f.vmar.map(RW | O.VmSpecificOverwrite, 17 * P, f.vmo2, 0, P);
        assert.equal(m.alive, true);
        m.unmap();
        assert.equal(m.alive, false);
        assert.equal(n.alive, true);
        same(n.read(100, 3), new Uint8Array([7, 7, 7]), "the new mapping");
        assert.ok(f.vmar.mappings().some((x) => x.addr === n.addr && x.len === P));
      },
    },
    {
      name: "Mapping.unmap after vmar.unmap and a new mapping in the hole",
      run: (f) => {
        const m = f.vmar.map(RW | O.VmSpecific, 16 * P, f.vmo, 0, 2 * P);
        f.vmar.unmap(m.addr, P);
        const n = f.vmar.map(RW | O.VmSpecific, 16 * P, f.vmo2, 0, P);
        m.unmap();
        assert.equal(n.alive, true);
        assert.equal(
          f.vmar.mappings().filter((x) => x.addr >= m.addr && x.addr < m.addr + 2 * P).length,
          1,
        );
      },
    },
  ];
}

/** Every `Mapping` scenario. */
export function mappingScenarios(): Scenario[] {
  return [...faultScenarios(), ...unmapScenarios()];
}
