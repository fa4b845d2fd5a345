/**
 * The catalogue of hostile values: wrong JS types, values outside u64/u32, extreme in-domain
 * values, malformed byte buffers, handles of the wrong kind or kernel, and malformed `waitOne`
 * options. {@link hostileValues} picks the values for one parameter kind, each with the outcome
 * it must have.
 *
 * @module
 */
import { Channel, Kernel, Vmar, Vmo } from "../../../testing.ts";
import type { Fixture } from "./runner.ts";

/** What a case expects: `"TypeError"`, `"ok"`, or a status name without `ZX_ERR_`. */
export type Expect = string;

/** Kinds of parameters. */
type Kind =
  | "u64"
  | "u32"
  | "bytes"
  | "into"
  | "vmo"
  | "string"
  | "waitopts"
  | "i32"
  | "deadline"
  | "count"
  | "handles"
  | "kernel"
  | "token"
  | "ignored";

/** A parameter of a method under test. */
export interface Param {
  name: string;
  kind: Kind;
  /** Has a default: `undefined` is valid. */
  optional?: boolean;
  /** For u64: expected outcome for [2^53, 2^64-2048, 2^64-1 (bigint), 2^64-4096 (bigint)]. */
  extreme?: [Expect, Expect, Expect, Expect];
  /** More values for this parameter, on the first receiver only. */
  extra?: (f: Fixture) => Array<[unknown, Expect]>;
}

/** The same expected outcome for all four {@link extremes}. */
export const E = (x: Expect): [Expect, Expect, Expect, Expect] => [x, x, x, x];

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
/**
 * Not a Uint8Array: the `read(length, offset)` overload rejects it (TypeError) or, for numbers
 * outside u64, INVALID_ARGS.
 */
const intoJunk: unknown[] = [
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
];
const intoDomainJunk: unknown[] = [NaN, -1, 1.5, Infinity, 2 ** 64, -1n];
const stringJunk: unknown[] = [5, null, undefined, {}, Symbol("n"), 1n, ["a"], new String("s")];
const waitOptsJunk: unknown[] = [
  "x",
  5,
  null,
  { deadline: "1" },
  { deadline: NaN },
  { deadline: 1n },
  { signal: {} },
  { signal: "abort" },
  { signal: null },
];
/** Not an int32 (nor its uint32 reading): futex values. */
const i32Junk: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  0.5,
  2 ** 32,
  -(2 ** 31) - 1,
  2n ** 32n,
  -(2n ** 31n) - 1n,
];
/** Bad `{ deadline }` bags (none of them may reach a wait: each has to fail first). */
const deadlineJunk: unknown[] = ["x", 5, null, { deadline: "1" }, { deadline: NaN }, {
  deadline: 1n,
}];
/** Not a wake count. */
const countJunk: unknown[] = [NaN, -Infinity, -1, 0.5, -1n];
const ignoredValues: unknown[] = ["x", NaN, -1, null, {}, Symbol("e")];
/** Not an array of zxvm handles (a channel write refuses it and consumes nothing). */
const handlesJunk: unknown[] = [
  null,
  "abc",
  5,
  {},
  { length: 1, 0: null },
  new Array(2),
  [1],
  [null],
  [{}],
  [undefined],
  ["x"],
  [Object.create(Vmo.prototype)],
  [Object.create(Channel.prototype)],
];
/** Not a zxvm kernel. */
const kernelJunk: unknown[] = [null, "k", 5, {}, Object.create(Kernel.prototype)];

/** A Uint8Array whose buffer was transferred away (length 0). */
export function detached(n = 8): Uint8Array {
  const a = new Uint8Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/** Handles and handle look-alikes that are not a usable VMO of the fixture's kernel. */
function vmoValues(f: Fixture, first: boolean): Array<[unknown, Expect]> {
  const out: Array<[unknown, Expect]> = [];
  if (first) {
    out.push([f.closedVmo, "BAD_HANDLE"]);
    out.push([f.foreignVmo, "BAD_HANDLE"]);
    out.push([f.vmar, "WRONG_TYPE"]);
    out.push([f.root, "WRONG_TYPE"]);
    out.push([f.closedVmar, "BAD_HANDLE"]);
    out.push([f.foreignVmar, "BAD_HANDLE"]);
  }
  for (const v of [null, undefined, {}, f.vmo2.raw, { raw: f.vmo2.raw }, "vmo", f.map, f.k]) {
    out.push([v, "TypeError"]);
  }
  out.push([Object.create(Vmo.prototype), "TypeError"]);
  return out;
}

/** A well-formed channel token over a fresh port (nobody at the other end). */
export function freshToken(rights: number = 0xd00e): Record<string, unknown> {
  return { port: new MessageChannel().port2, koid: 77, peerKoid: 78, rights };
}

/** Malformed channel tokens for `Kernel.importChannel`, each with its outcome. */
function tokenValues(): Array<[unknown, Expect]> {
  const t = freshToken;
  const out: Array<[unknown, Expect]> = [];
  for (const v of [undefined, null, 1, "token", Symbol("t"), () => 1]) out.push([v, "TypeError"]);
  out.push([{}, "TypeError"], [{ ...t(), port: {} }, "TypeError"]);
  out.push([{ ...t(), port: new MessageChannel() }, "TypeError"]);
  for (const koid of ["77", 0, -1, 1.5, NaN, 2 ** 53, 77n, { valueOf: () => 77 }, undefined]) {
    out.push([{ ...t(), koid }, "TypeError"], [{ ...t(), peerKoid: koid }, "TypeError"]);
  }
  for (const rights of ["1", { valueOf: () => 1 }, null, undefined]) {
    out.push([{ ...t(), rights }, "TypeError"]);
  }
  for (const rights of [-1, 0.5, 2 ** 32, NaN]) out.push([{ ...t(), rights }, "INVALID_ARGS"]);
  return out;
}

/**
 * Hostile values for a parameter, each with its expected outcome. The first receiver of a
 * method (`first`) also gets the extreme and extra values.
 */
export function hostileValues(p: Param, f: Fixture, first: boolean): Array<[unknown, Expect]> {
  const out: Array<[unknown, Expect]> = [];
  const all = (vs: unknown[], expect: Expect): void => {
    for (const v of vs) out.push([v, expect]);
  };
  if (p.kind === "u64" || p.kind === "u32" || p.kind === "bytes") {
    all(p.kind === "bytes" ? bytesJunk : typeJunk, "TypeError");
    if (!p.optional) out.push([undefined, "TypeError"]);
  }
  if (p.kind === "u64" || p.kind === "u32") all(domainJunk, "INVALID_ARGS");
  if (p.kind === "u32") all(u32Only, "INVALID_ARGS");
  if (p.kind === "into") {
    all(intoJunk, "TypeError");
    all(intoDomainJunk, "INVALID_ARGS");
  }
  if (p.kind === "vmo") out.push(...vmoValues(f, first));
  if (p.kind === "string") all(stringJunk, "TypeError");
  if (p.kind === "waitopts") all(waitOptsJunk, "TypeError");
  if (p.kind === "i32" || p.kind === "count") {
    all(typeJunk.filter((v) => v !== undefined), "TypeError");
    if (p.kind === "i32") out.push([undefined, "TypeError"]);
    all(p.kind === "i32" ? i32Junk : countJunk, "INVALID_ARGS");
  }
  if (p.kind === "deadline") all(deadlineJunk, "TypeError");
  if (p.kind === "handles") {
    all(handlesJunk, "TypeError");
    if (!p.optional) out.push([undefined, "TypeError"]);
    out.push([[f.map], "TypeError"], [[f.k], "TypeError"], [f.vmo, "TypeError"]);
  }
  if (p.kind === "kernel") {
    all(kernelJunk, "TypeError");
    out.push([f.vmo, "TypeError"], [f.root, "TypeError"]);
  }
  if (p.kind === "token") out.push(...tokenValues());
  if (p.kind === "ignored" && first) all(ignoredValues, "ok");
  if (!first) return out;
  if (p.kind === "u64" && p.extreme) {
    extremes.forEach((v, i) => out.push([v, (p.extreme as Expect[])[i]]));
  }
  if (p.extra) out.push(...p.extra(f));
  return out;
}

/** A short label for a value in a case name. */
export function show(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol") return "Symbol";
  if (typeof v === "function") return "function";
  if (v instanceof Vmo || v instanceof Vmar || v instanceof Channel) {
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
