/**
 * The fast-check arbitraries of the differential model: {@link opArb} generates one operation
 * ({@link Op}), weighted towards the common cases (small page multiples, a few pages, live
 * handles) with hostile values (unaligned, extreme, outside u64) mixed in.
 *
 * @module
 */
import fc from "fast-check";
import { Rights, VmoChildOptions as C, VmoOp, VmoOptions, ZxVmOption as O } from "../../../mod.ts";
import type { Addr, Num, Op } from "./ops.ts";

const P = 4096;

const hostileNum: Num[] = [
  2 ** 40,
  2 ** 40 + 1,
  2 ** 40 - P,
  2 ** 53,
  2n ** 64n - 1n,
  2n ** 64n - BigInt(P),
  2 ** 63,
  -1,
  2 ** 64,
  0.5,
  NaN,
  2n ** 64n,
];

/** Sizes: mostly small page multiples, some unaligned, a few extreme. */
const sizeArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 16 }).map((k) => k * P) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 16 * P }) },
  { weight: 1, arbitrary: fc.constantFrom(...hostileNum) },
);

/** Offsets into a VMO: mostly within a few pages. */
const offArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 20 }).map((k) => k * P) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 20 * P }) },
  { weight: 1, arbitrary: fc.constantFrom(...hostileNum, 2 ** 30 - P, 2 ** 40 - 2 * P) },
);

/** Small offsets inside a VMAR (page multiples, so SPECIFIC placements collide often). */
const vmarOffArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 48 }).map((k) => k * P) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 4096 }).map((k) => k * P) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 * P }) },
  { weight: 1, arbitrary: fc.constantFrom(...hostileNum) },
);

const idx = fc.nat({ max: 1000 });
const byte = fc.integer({ min: 1, max: 255 });
const shortLen = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 * P }) },
);

const addrArb: fc.Arbitrary<Addr> = fc.record({
  from: fc.constantFrom<"vmar" | "map">("vmar", "map", "map", "map"),
  i: idx,
  pages: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 24 }) },
    { weight: 1, arbitrary: fc.integer({ min: -2, max: 5000 }) },
  ),
  bytes: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: P - 1 }),
  }),
});

const alignArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 10, max: 22 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 9, 33, 255) },
);

function bits(pairs: Array<[number, number]>): fc.Arbitrary<number> {
  // Each flag independently with its probability (per mille).
  return fc.tuple(...pairs.map(() => fc.integer({ min: 0, max: 999 }))).map((rs) =>
    rs.reduce((acc, r, i) => (r < pairs[i][1] ? acc | pairs[i][0] : acc), 0)
  );
}

/** Placement: none (offset 0), SPECIFIC at a page offset, or an upper limit. */
const placementArb: fc.Arbitrary<[number, Num]> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<[number, Num]>([0, 0]) },
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.constantFrom(O.VmSpecific, O.VmSpecific, O.VmSpecificOverwrite),
      fc.integer({ min: 0, max: 64 }).map((k) => k * P),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constant(O.VmOffsetIsUpperLimit),
      fc.integer({ min: 0, max: 4096 }).map((k) => k * P),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, O.VmSpecific), vmarOffArb) },
);

/** Mapping lengths: mostly one to a few pages. */
const mapLenArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 6 }).map((k) => k * P) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 * P }) },
  { weight: 1, arbitrary: sizeArb },
);
const mapVmoOffArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 4 }).map((k) => k * P) },
  { weight: 1, arbitrary: offArb },
);

const mapFlagsArb: fc.Arbitrary<number> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.tuple(
      bits([
        [O.VmPermRead, 900],
        [O.VmPermWrite, 650],
        [O.VmPermExecute, 20],
        [O.VmMapRange, 100],
        [O.VmRequireNonResizable, 40],
        [O.VmAllowFaults, 100],
        [O.VmPermReadIfXomUnsupported, 20],
        [O.VmCanMapRead, 5],
        [O.VmCompact, 5],
      ]),
      alignArb,
    ).map(([b, a]) => (b | (a << 24)) >>> 0),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xFFFFFFFF }) },
);

const allocFlagsArb: fc.Arbitrary<number> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.tuple(
      bits([
        [O.VmCanMapRead, 900],
        [O.VmCanMapWrite, 700],
        [O.VmCanMapExecute, 20],
        [O.VmCanMapSpecific, 700],
        [O.VmCompact, 200],
        [O.VmPermRead, 10],
        [O.VmSpecificOverwrite, 5],
      ]),
      alignArb,
    ).map(([b, a]) => (b | (a << 24)) >>> 0),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xFFFFFFFF }) },
);

const allocSizeArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 64 }).map((k) => k * P) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2048 }).map((k) => k * P) },
  { weight: 1, arbitrary: sizeArb },
);

const mapArb = fc.record({
  r: idx,
  flags: mapFlagsArb,
  place: placementArb,
  v: idx,
  voff: mapVmoOffArb,
  len: mapLenArb,
}).map(({ r, flags, place, v, voff, len }): Op => ({
  t: "map",
  r,
  opts: (flags | place[0]) >>> 0,
  off: place[1],
  v,
  voff,
  len,
}));

const allocArb = fc.record({
  r: idx,
  flags: allocFlagsArb,
  place: placementArb,
  size: allocSizeArb,
})
  .map(({ r, flags, place, size }): Op => ({
    t: "allocate",
    r,
    opts: (flags | (place[0] & ~O.VmSpecificOverwrite) |
      (place[0] === O.VmSpecificOverwrite ? O.VmSpecific : 0)) >>> 0,
    off: place[1],
    size,
  }));

const protOptsArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(0, 1, 3, 1, 3, 2, 5, 7) },
  { weight: 1, arbitrary: fc.constantFrom(O.VmPermReadIfXomUnsupported, O.VmSpecific | 1) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xFFFFFFFF }) },
);

const createOptsArb = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(
      VmoOptions.Default,
      VmoOptions.Default,
      VmoOptions.Resizable,
      VmoOptions.Discardable,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(1, 6, 8, 0x80000000) },
);

const childOptsArb = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.tuple(
      fc.constantFrom(
        C.Snapshot,
        C.Snapshot,
        C.SnapshotAtLeastOnWrite,
        C.SnapshotModified,
        C.Slice,
        C.Slice,
        C.Reference,
        0,
        C.Snapshot | C.SnapshotAtLeastOnWrite,
      ),
      fc.integer({ min: 0, max: 9 }),
    ).map(([k, r]) => k | (r === 0 ? C.NoWrite : 0) | (r === 1 ? C.Resizable : 0)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xFFFFFFFF }) },
);

const vmoOpArb = fc.constantFrom(
  VmoOp.Commit,
  VmoOp.Decommit,
  VmoOp.Zero,
  VmoOp.Lock,
  VmoOp.TryLock,
  VmoOp.Unlock,
  VmoOp.CacheSync,
  VmoOp.CacheInvalidate,
  VmoOp.CacheClean,
  VmoOp.CacheCleanInvalidate,
  VmoOp.DontNeed,
  VmoOp.AlwaysNeed,
  VmoOp.Prefetch,
  99,
);
const vmarOpArb = fc.constantFrom(
  VmoOp.Commit,
  VmoOp.Decommit,
  VmoOp.MapRange,
  VmoOp.Zero,
  VmoOp.DontNeed,
  VmoOp.AlwaysNeed,
  VmoOp.Prefetch,
  VmoOp.Lock,
);
/** Offsets inside a mapping: mostly within its first pages. */
const mapOffArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 4 * P }) },
  { weight: 1, arbitrary: offArb },
);

/** Small range lengths (commit on native really allocates: keep it small). */
const rangeLen: fc.Arbitrary<Num> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }).map((k) => k * P) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((k) => k * P) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 8 * P }) },
  { weight: 1, arbitrary: fc.constantFrom(2n ** 64n - 1n, 2n ** 64n - BigInt(P), -1, NaN) },
);

const rightsMode = fc.constantFrom<"same" | "drop" | "raw">("same", "drop", "drop", "raw");
const rightsBits = fc.oneof(
  fc.integer({ min: 0, max: 0xFFFFFFFF }),
  fc.constantFrom(Rights.Write, Rights.Map, Rights.Duplicate, Rights.Read, Rights.OpChildren),
);
const kindArb = fc.constantFrom<"vmo" | "vmar">("vmo", "vmo", "vmar");

/** One random operation. */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant("create" as const), size: sizeArb, opts: createOptsArb }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("write" as const),
      v: idx,
      off: offArb,
      len: shortLen,
      byte,
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({ t: fc.constant("read" as const), v: idx, off: offArb, len: shortLen }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("readInto" as const),
      v: idx,
      off: offArb,
      len: shortLen,
      pad: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, {
        weight: 1,
        arbitrary: fc.integer({ min: 1, max: 64 }),
      }),
      fill: byte,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant("setSize" as const), v: idx, size: sizeArb }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("child" as const),
      v: idx,
      opts: childOptsArb,
      off: offArb,
      size: sizeArb,
    }),
  },
  { weight: 5, arbitrary: allocArb },
  { weight: 14, arbitrary: mapArb },
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant("unmap" as const), r: idx, at: addrArb, len: rangeLen }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("protect" as const),
      r: idx,
      opts: protOptsArb,
      at: addrArb,
      len: rangeLen,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("destroy" as const), r: idx }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("dup" as const),
      kind: kindArb,
      h: idx,
      mode: rightsMode,
      bits: rightsBits,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("replace" as const),
      kind: kindArb,
      h: idx,
      mode: rightsMode,
      bits: rightsBits,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("close" as const), kind: kindArb, h: idx }) },
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constant("mread" as const),
      m: idx,
      off: mapOffArb,
      len: shortLen,
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constant("mwrite" as const),
      m: idx,
      off: mapOffArb,
      len: shortLen,
      byte,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("mbytes" as const),
      m: idx,
      idx: fc.nat({ max: 5 * P }),
      byte,
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      t: fc.constant("view" as const),
      m: idx,
      held: fc.boolean(),
      live: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, {
        weight: 1,
        arbitrary: fc.constant(false),
      }),
      off: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 2 * P }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 * P }) },
      ),
      len: shortLen,
      byte: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: byte }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("munmap" as const), m: idx }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("vmoOp" as const),
      v: idx,
      op: vmoOpArb,
      off: offArb,
      size: rangeLen,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("vmarOp" as const),
      r: idx,
      op: vmarOpArb,
      at: addrArb,
      len: rangeLen,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("contentSize" as const), v: idx, size: sizeArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("name" as const),
      v: idx,
      name: fc.string({ maxLength: 40 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("info" as const), v: idx }) },
);
