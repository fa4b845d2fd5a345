/**
 * Lying values (issue 11): arguments that are not what they claim to be, or that run user code
 * when zxvm looks at them — own-property and prototype getters on typed arrays, Proxies,
 * changed prototypes, subclasses whose constructor or `Symbol.species` runs code, `valueOf` /
 * `Symbol.toPrimitive` side effects, option-bag getters, resizable, detached and shared
 * buffers — for every public member.
 *
 * Every case runs on a fresh fixture and asserts the outcome (`"ok"`, `"TypeError"` or a
 * `ZxError` status), how often user code ran (almost always never: zxvm decodes every value
 * through intrinsics before it looks at the world), and that a failed call left the state
 * unchanged: handle count, mappings, every fixture VMO's size, content size, name and bytes,
 * the caller's buffers. The user code the lying values run does nasty things when it runs:
 * close the VMO handle, close the kernel, unmap the mapping, shrink the VMO, destroy the VMAR,
 * detach the argument's own buffer. On the code before issue 11 several of these crashed the
 * process (SIGBUS): the test file runs this in a subprocess.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertNoLeaks,
  Channel,
  ChannelLimits,
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
import type { FaultOp } from "../../testing.ts";

const P = 4096;

/** What a case expects: `"ok"`, `"TypeError"`, a status name without `ZX_ERR_`, or `"Error: m"`. */
export type Expect = string;

/** Opens the kernel a fixture runs on. */
export type OpenKernel = (seed: number) => Kernel;

/** The objects every case starts from. */
export interface Fixture {
  /** The kernel under test. */
  k: Kernel;
  /** `k.rootVmar`. */
  root: Vmar;
  /** `root.base`, taken when the fixture was made. */
  base: number;
  /** 4 pages, resizable, named "lying"; bytes [0, 2P) hold a pattern. */
  vmo: Vmo;
  /** 1 page, not resizable, filled with 0x11 (the issue's repro VMO). */
  small: Vmo;
  /** A duplicate of `vmo`: the receiver of cases that consume their receiver (`replace`). */
  dup: Vmo;
  /** A 16-page sub-VMAR of the root (CAN_MAP_READ | WRITE | SPECIFIC). */
  vmar: Vmar;
  /** `vmo` pages [0, 2) read/write at `vmar` offset 0. */
  map: Mapping;
  /** `small` read-only at `vmar` offset 4P. */
  ro: Mapping;
  /** A channel endpoint of `k`; nothing queued. */
  ch: Channel;
  /** `ch`'s peer endpoint (also of `k`): what `ch` writes, it reads. */
  chPeer: Channel;
  /** How often lying user code ran, and what it was. */
  ran: number;
  /** What ran. */
  log: string[];
  /** Kernels a case opened (closed after it). */
  opened: Kernel[];
}

/** The tally of a run: cases checked, and the failures (one line each). */
export interface Tally {
  /** Cases checked. */
  cases: number;
  /** Failures. */
  failures: string[];
  /** Cases per family. */
  families: Record<string, number>;
  /** Public members that had cases. */
  members: Set<string>;
}

/** The name of an outcome. */
export function outcome(e: unknown): Expect {
  if (e instanceof ZxError) return statusName(e.status).replace("ZX_ERR_", "");
  if (e instanceof TypeError) return "TypeError";
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `thrown ${typeof e}`;
}

/** FNV-1a of some bytes (read through a plain view the test made). */
function digest(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return `${b.length}:${(h >>> 0).toString(16)}`;
}

/** Detach an ArrayBuffer (structuredClone with a transfer list works on Deno and Node 20). */
export function detach(b: ArrayBufferLike): void {
  structuredClone(b, { transfer: [b as ArrayBuffer] });
}

function pattern(n: number, seed: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (seed + i * 7) & 0xff;
  return a;
}

/** Open a fixture on `open(seed)`. */
export function fixture(open: OpenKernel, seed: number): Fixture {
  const k = open(seed);
  try {
    const vmo = k.createVmo(4 * P, VmoOptions.Resizable);
    vmo.write(pattern(2 * P, 3), 0);
    vmo.name = "lying";
    const small = k.createVmo(P);
    small.write(new Uint8Array(P).fill(0x11), 0);
    const dup = vmo.duplicate();
    const vmar = k.rootVmar.allocate(
      O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific,
      0,
      16 * P,
    );
    const map = vmar.map(O.VmPermRead | O.VmPermWrite | O.VmSpecific, 0, vmo, 0, 2 * P);
    const ro = vmar.map(O.VmPermRead | O.VmSpecific, 4 * P, small, 0, P);
    const [ch, chPeer] = k.createChannel();
    return {
      k,
      root: k.rootVmar,
      base: k.rootVmar.base,
      vmo,
      small,
      dup,
      vmar,
      map,
      ro,
      ch,
      chPeer,
      ran: 0,
      log: [],
      opened: [],
    };
  } catch (e) {
    k.close();
    throw e;
  }
}

/** Which fixture VMO a koid is. */
function whichVmo(koids: Map<number, string>, koid: number): string {
  return koids.get(koid) ?? `koid+${koid}`;
}

/**
 * The observable state of a fixture, as a string: kernel closed, handle count (without
 * `consumed`), the root's mappings (addresses relative to the root's base), each fixture VMO's
 * rights, size, content size, name, bytes and mapping/child counts, whether the VMAR and the
 * mappings are alive, the channel endpoints' validity and signals (a queued message shows as
 * `ChannelReadable`), the default kernel's handle count, and the given caller buffers.
 */
export function state(f: Fixture, bufs: Uint8Array[] = [], consumed?: Consumed): string {
  const gone = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
  const out: unknown[] = [f.k.closed];
  out.push(bufs.map((b) => digest(b)));
  out.push(Kernel.default.handleCount);
  if (f.k.closed) return JSON.stringify(out);
  // (Through the prototype: a listed handle's own getters may be lying during the call.)
  const valid = protoGet(Handle.prototype, "valid");
  out.push(f.k.handleCount - gone.filter((h) => Reflect.apply(valid, h, [])).length);
  const koids = new Map<number, string>();
  for (const [name, v] of [["vmo", f.vmo], ["small", f.small]] as const) {
    if (v.valid) koids.set(v.koid, name);
  }
  const base = f.base;
  out.push(
    f.root.mappings().map((m) => [
      m.addr - base,
      m.len,
      m.options,
      whichVmo(koids, m.vmoKoid),
      m.vmoOffset,
    ]),
  );
  const vmos: Array<[string, Vmo]> = [["vmo", f.vmo], ["small", f.small], ["dup", f.dup]];
  for (const [name, v] of vmos) {
    if (gone.includes(v)) continue;
    if (!v.valid) {
      out.push(`${name} closed`);
      continue;
    }
    const info = v.info();
    out.push([
      name,
      v.rights,
      v.size,
      v.contentSize,
      v.name,
      digest(v.read(v.size, 0)),
      info.numMappings,
      info.numChildren,
    ]);
  }
  out.push(f.vmar.valid, f.map.alive, f.ro.alive);
  for (const c of [f.ch, f.chPeer]) out.push(c.valid ? c.signals : "closed");
  return JSON.stringify(out);
}

/** Handles a call consumes even when it fails (`replace`'s receiver, a channel write's list). */
export type Consumed = Handle | Handle[];

/** The side effects lying user code has when it runs. */
export const EFFECTS: ReadonlyArray<[string, (f: Fixture, own: ArrayBufferLike | null) => void]> = [
  ["does nothing else", () => {}],
  ["closes the VMO handle", (f) => f.vmo.close()],
  ["closes the kernel", (f) => f.k.close()],
  ["unmaps the mapping", (f) => f.map.unmap()],
  ["shrinks the VMO to 0", (f) => f.vmo.setSize(0)],
  ["destroys the VMAR", (f) => f.vmar.destroy()],
  ["detaches the argument's buffer", (_f, own) => {
    if (own !== null) detach(own);
  }],
];

/** The hook lying values call: counts, logs and runs the effect (its own errors swallowed). */
export type UserCode = (what: string) => void;

function userCode(
  f: Fixture,
  effect: (f: Fixture, own: ArrayBufferLike | null) => void,
  own: { buffer: ArrayBufferLike | null },
): UserCode {
  return (what: string): void => {
    f.ran++;
    if (f.log.length < 4) f.log.push(what);
    try {
      effect(f, own.buffer);
    } catch {
      // e.g. shrinking a VMO that is already closed
    }
  };
}

/** One case. */
export interface Case {
  /** Family, for the per-family count. */
  family: string;
  /** Public member (`"Vmo.write"`) for the coverage check. */
  member: string;
  /** What it checks. */
  name: string;
  /** The outcome. */
  expect: Expect;
  /** How often user code must have run (default 0). */
  userRuns?: number;
  /** The handles the call consumes even when it fails (`replace`'s receiver, a write's list). */
  consumes?: (f: Fixture) => Consumed;
  /** The fixture's seed (default: the runner's next). */
  seed?: number;
  /**
   * Make the call. `user` is the hook any lying value must call when zxvm runs its code; `own`
   * receives the argument's buffer so an effect can detach it; `bufs` collects views of the
   * caller's memory that must be unchanged when the call fails.
   */
  call(f: Fixture, user: UserCode, ctx: CallContext): unknown;
  /** For an `"ok"` outcome: check the result and the new state (throws on mismatch). */
  verify?(f: Fixture, result: unknown, pre: Snapshot): void;
}

/** What a case's call may set up for the runner. */
export interface CallContext {
  /** The argument's own buffer, which the "detach" effect detaches. */
  buffer: ArrayBufferLike | null;
  /** Views of the caller's memory to check on failure. */
  bufs: Uint8Array[];
  /** Set by the runner right before the measured call: build values first, then call `arm()`. */
  arm(): void;
}

/** What the runner captured right before the call. */
export interface Snapshot {
  /** A copy of `vmo`'s bytes. */
  vmo: Uint8Array;
  /** A copy of `small`'s bytes. */
  small: Uint8Array;
}

/** Runs cases on fresh fixtures and tallies them. */
export class Runner {
  /** What ran so far. */
  readonly tally: Tally = { cases: 0, failures: [], families: {}, members: new Set() };
  #seed = 1;
  /**
   * @param open opens each case's fixture kernel
   * @param label the backend's name, for failure lines
   */
  constructor(readonly open: OpenKernel, readonly label: string) {}

  /** Run one case with each effect in `effects` (default: no effect only). */
  run(c: Case, effects: ReadonlyArray<(typeof EFFECTS)[number]> = [EFFECTS[0]]): void {
    for (const [ename, effect] of effects) this.#one(c, effects.length > 1 ? ename : null, effect);
  }

  #one(
    c: Case,
    ename: string | null,
    effect: (f: Fixture, own: ArrayBufferLike | null) => void,
  ): void {
    const name = `${this.label}: ${c.member}: ${c.name}${
      ename === null ? "" : ` (user code ${ename})`
    }`;
    this.tally.cases++;
    this.tally.families[c.family] = (this.tally.families[c.family] ?? 0) + 1;
    this.tally.members.add(c.member);
    const f = fixture(this.open, c.seed ?? this.#seed++);
    const fail = (why: string): void => {
      this.tally.failures.push(`${name}: ${why}`);
    };
    try {
      let armed = false;
      let before = "";
      let pre: Snapshot | null = null;
      const ctx: CallContext = {
        buffer: null,
        bufs: [],
        arm: () => {
          armed = true;
          f.ran = 0;
          f.log = [];
          const consumed = c.consumes?.(f);
          before = state(f, ctx.bufs, consumed);
          pre = { vmo: f.vmo.read(f.vmo.size, 0), small: f.small.read(f.small.size, 0) };
        },
      };
      const user = userCode(f, effect, ctx);
      let got: Expect;
      let result: unknown;
      try {
        result = c.call(f, user, ctx);
        got = "ok";
      } catch (e) {
        got = outcome(e);
      }
      if (!armed) {
        fail("the case never armed the runner (bug in the test)");
        return;
      }
      const runs = c.userRuns ?? 0;
      if (f.ran !== runs) {
        fail(`user code ran ${f.ran} times (${f.log.join("; ")}), expected ${runs}`);
      }
      if (got !== c.expect) {
        fail(`expected ${c.expect}, got ${got}`);
        return;
      }
      if (got !== "ok") {
        if (runs === 0) {
          const consumed = c.consumes?.(f);
          const list = consumed === undefined
            ? []
            : Array.isArray(consumed)
            ? consumed
            : [consumed];
          if (list.some((h) => h.valid)) fail("a consumed handle is still valid");
          const after = state(f, ctx.bufs, consumed);
          if (after !== before) fail(`state changed on failure:\n  ${before}\n  ${after}`);
        }
      } else if (c.verify !== undefined) {
        try {
          c.verify(f, result, pre!);
        } catch (e) {
          fail(`wrong success: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    } finally {
      for (const k of f.opened) k.close();
      f.k.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Family: byte arrays (Vmo.write, Vmo.read(into), Mapping.write)

/** A way to hand zxvm `n` real bytes (or to refuse to). */
interface ByteArg {
  /** What the value is. */
  label: string;
  /**
   * Build the value over the real bytes `real` (a plain array the test made). Returns the
   * value and the bytes zxvm must use: a plain view of them (the engine's own idea), or null
   * when the value must be refused.
   */
  make(
    real: Uint8Array,
    lie: Lie,
    user: UserCode,
    ctx: CallContext,
  ): { value: unknown; eff: Uint8Array | null };
  /** Cross with every effect (the value runs user code if zxvm looks at it). */
  effects?: boolean;
}

/** The lies a getter tells: a wrong length, offset and buffer. */
interface Lie {
  length: number;
  offset: number;
  buffer: ArrayBuffer;
}

function own(o: object, key: PropertyKey, get: () => unknown): void {
  Object.defineProperty(o, key, { get, configurable: true });
}

/** First the lie, then the truth, alternately (as the issue's repro does it). */
function toggling<T>(lie: T, truth: T): () => T {
  let n = 0;
  return () => (++n % 2 === 1 ? lie : truth);
}

const TA_KEYS = ["length", "byteLength", "byteOffset", "buffer"] as const;

function lieFor(key: (typeof TA_KEYS)[number], lie: Lie): unknown {
  return key === "buffer" ? lie.buffer : key === "byteOffset" ? lie.offset : lie.length;
}

function truthFor(key: (typeof TA_KEYS)[number], a: Uint8Array): unknown {
  return key === "buffer" ? a.buffer : key === "byteOffset" ? a.byteOffset : a.length;
}

function plainCopyView(a: Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A resizable ArrayBuffer (ES2024) holding `real` at offset 0. */
function resizable(real: Uint8Array, max: number): ArrayBuffer {
  const B = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
  const b = new B(real.length, { maxByteLength: max });
  new Uint8Array(b).set(real);
  return b;
}

function resize(b: ArrayBufferLike, n: number): void {
  (b as unknown as { resize(n: number): void }).resize(n);
}

function growableShared(real: Uint8Array, max: number): SharedArrayBuffer {
  const B = SharedArrayBuffer as unknown as new (
    n: number,
    o: { maxByteLength: number },
  ) => SharedArrayBuffer;
  const b = new B(real.length, { maxByteLength: max });
  new Uint8Array(b).set(real);
  return b;
}

function grow(b: SharedArrayBuffer, n: number): void {
  (b as unknown as { grow(n: number): void }).grow(n);
}

function byteArgs(): ByteArg[] {
  const list: ByteArg[] = [];
  const plain = (label: string, make: ByteArg["make"], effects = false): void => {
    list.push({ label, make, effects });
  };
  plain("a plain Uint8Array (control)", (real) => ({ value: real, eff: real }));
  // Own-property getters, constant and toggling, one key at a time and all at once.
  for (const keys of [...TA_KEYS.map((k) => [k]), [...TA_KEYS]]) {
    for (const mode of ["constant", "toggling"] as const) {
      plain(
        `own ${keys.join("/")} getter${keys.length > 1 ? "s" : ""} (${mode} lie)`,
        (real, lie, user, ctx) => {
          // Everything about `real` is read before its lies are installed.
          ctx.buffer = real.buffer;
          const eff = plainCopyView(real);
          const truths = keys.map((key) => truthFor(key, real));
          keys.forEach((key, i) => {
            const next = mode === "constant"
              ? () => lieFor(key, lie)
              : toggling(lieFor(key, lie), truths[i]);
            own(real, key, () => {
              user(`own ${key} getter`);
              return next();
            });
          });
          return { value: real, eff };
        },
        true,
      );
    }
  }
  plain(
    "a prototype whose length/byteLength/byteOffset/buffer getters lie",
    (real, lie, user, ctx) => {
      ctx.buffer = real.buffer;
      const proto = Object.create(Uint8Array.prototype);
      for (const key of TA_KEYS) {
        own(proto, key, () => {
          user(`prototype ${key} getter`);
          return lieFor(key, lie);
        });
      }
      const eff = plainCopyView(real);
      Object.setPrototypeOf(real, proto);
      return { value: real, eff };
    },
    true,
  );
  plain("a prototype that is a Proxy running code on every lookup", (real, _lie, user, ctx) => {
    ctx.buffer = real.buffer;
    const eff = plainCopyView(real);
    Object.setPrototypeOf(
      real,
      new Proxy(Uint8Array.prototype, {
        get(t, k, r): unknown {
          user(`prototype proxy get ${String(k)}`);
          return Reflect.get(t, k, r);
        },
      }),
    );
    return { value: real, eff };
  }, true);
  for (
    const [name, proto] of [
      ["Uint16Array.prototype", Uint16Array.prototype],
      ["Float64Array.prototype", Float64Array.prototype],
      ["DataView.prototype", DataView.prototype],
      ["Array.prototype", Array.prototype],
      ["Object.prototype", Object.prototype],
      ["null", null],
    ] as const
  ) {
    plain(`a Uint8Array whose prototype was set to ${name}`, (real) => {
      const eff = plainCopyView(real);
      Object.setPrototypeOf(real, proto);
      return { value: real, eff };
    });
  }
  plain(
    "own subarray/set/slice/fill/constructor/species/iterator/valueOf/toString that run code",
    (real, _lie, user, ctx) => {
      ctx.buffer = real.buffer;
      const eff = plainCopyView(real);
      for (const m of ["subarray", "set", "slice", "fill", "valueOf", "toString", "at"]) {
        Object.defineProperty(real, m, {
          value: (...a: unknown[]) => {
            user(`own ${m}()`);
            return (Uint8Array.prototype as unknown as Record<
              string,
              (...a: unknown[]) => unknown
            >)[m]
              .apply(real, a);
          },
          configurable: true,
        });
      }
      own(real, "constructor", () => {
        user("own constructor getter");
        return Uint8Array;
      });
      Object.defineProperty(real, Symbol.iterator, {
        value: () => {
          user("own Symbol.iterator");
          return [][Symbol.iterator]();
        },
      });
      Object.defineProperty(real, Symbol.toPrimitive, {
        value: () => {
          user("own Symbol.toPrimitive");
          return 0;
        },
      });
      return { value: real, eff };
    },
    true,
  );
  plain("own Symbol.toStringTag 'Uint16Array'", (real) => {
    Object.defineProperty(real, Symbol.toStringTag, { value: "Uint16Array" });
    return { value: real, eff: plainCopyView(real) };
  });
  plain("a non-extensible Uint8Array", (real) => {
    Object.preventExtensions(real);
    return { value: real, eff: plainCopyView(real) };
  });
  plain("a subclass whose Symbol.species runs code", (real, _lie, user, ctx) => {
    class Species extends Uint8Array {
      static get [Symbol.species](): Uint8ArrayConstructor {
        user("Symbol.species getter");
        return Uint8Array;
      }
    }
    const a = new Species(real.length);
    a.set(real);
    ctx.buffer = a.buffer;
    return { value: a, eff: plainCopyView(a) };
  }, true);
  plain("a subclass whose constructor runs code (its own species)", (real, _lie, user, ctx) => {
    let building = true;
    class Ctor extends Uint8Array {
      constructor(...args: unknown[]) {
        super(...(args as [ArrayBuffer, number, number]));
        if (!building) user("subclass constructor");
      }
    }
    const a = new Ctor(real.length);
    building = false;
    a.set(real);
    ctx.buffer = a.buffer;
    return { value: a, eff: plainCopyView(a) };
  }, true);
  plain(
    "a subclass with lying length/byteLength/byteOffset/buffer getters",
    (real, lie, user, ctx) => {
      class Liar extends Uint8Array {
        override get length(): number {
          user("subclass length");
          return lie.length;
        }
        override get byteLength(): number {
          user("subclass byteLength");
          return lie.length;
        }
        override get byteOffset(): number {
          user("subclass byteOffset");
          return lie.offset;
        }
        override get buffer(): ArrayBuffer {
          user("subclass buffer");
          return lie.buffer;
        }
      }
      const a = new Liar(real.length);
      Uint8Array.prototype.set.call(a, real);
      const eff = new Uint8Array(
        Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "buffer")!
          .get!.call(a) as ArrayBuffer,
        0,
        real.length,
      );
      ctx.buffer = eff.buffer;
      return { value: a, eff };
    },
    true,
  );
  const NodeBuffer = (globalThis as { Buffer?: { from(a: Uint8Array): Uint8Array } }).Buffer;
  if (NodeBuffer !== undefined) {
    plain("a Node Buffer", (real) => {
      const b = NodeBuffer.from(real);
      return { value: b, eff: plainCopyView(b) };
    });
  }
  plain("a view at byteOffset 13 of a larger buffer", (real) => {
    const b = new ArrayBuffer(real.length + 40);
    const v = new Uint8Array(b, 13, real.length);
    v.set(real);
    return { value: v, eff: v };
  });
  plain("an empty view at the end of its buffer", () => {
    const v = new Uint8Array(new ArrayBuffer(64), 64, 0);
    return { value: v, eff: new Uint8Array(0) };
  });
  // Resizable buffers.
  plain("a view that tracks a resizable buffer's length", (real) => {
    const b = resizable(real, real.length * 4);
    const v = new Uint8Array(b);
    return { value: v, eff: new Uint8Array(b, 0, real.length) };
  });
  plain("a fixed view at offset 8 of a resizable buffer", (real) => {
    const b = resizable(new Uint8Array(real.length + 8), real.length * 4);
    const v = new Uint8Array(b, 8, real.length);
    v.set(real);
    return { value: v, eff: new Uint8Array(b, 8, real.length) };
  });
  plain("a fixed view of a resizable buffer shrunk below it before the call (0 bytes)", (real) => {
    const b = resizable(real, real.length * 4);
    const v = new Uint8Array(b, 0, real.length);
    resize(b, real.length >> 1);
    return { value: v, eff: new Uint8Array(0) };
  });
  plain("a tracking view of a resizable buffer shrunk before the call", (real) => {
    const b = resizable(real, real.length * 4);
    const v = new Uint8Array(b, 16);
    resize(b, real.length - 100);
    return { value: v, eff: new Uint8Array(b, 16, real.length - 116) };
  });
  plain("a tracking view of a resizable buffer grown before the call", (real) => {
    const b = resizable(real, real.length * 4);
    const v = new Uint8Array(b);
    resize(b, real.length * 2);
    return { value: v, eff: new Uint8Array(b, 0, real.length * 2) };
  });
  for (const how of ["shrinks it to 0", "grows it", "detaches it"] as const) {
    plain(`a resizable buffer whose own length getter ${how}`, (real, lie, user) => {
      const b = resizable(real, real.length * 4);
      const v = new Uint8Array(b, 0, real.length);
      for (const key of TA_KEYS) {
        own(v, key, () => {
          user(`own ${key} getter that ${how}`);
          if (how === "shrinks it to 0") resize(b, 0);
          else if (how === "grows it") resize(b, real.length * 4);
          else detach(b);
          return lieFor(key, lie);
        });
      }
      return { value: v, eff: new Uint8Array(b, 0, real.length) };
    });
  }
  // Detached buffers: the engine says 0 bytes; zxvm does a 0-byte read or write.
  plain("a detached buffer (0 bytes)", (real) => {
    detach(real.buffer);
    return { value: real, eff: new Uint8Array(0) };
  });
  plain("a detached buffer whose own length getter lies (0 bytes)", (real, lie, user) => {
    detach(real.buffer);
    for (const key of TA_KEYS) {
      own(real, key, () => {
        user(`own ${key} getter of a detached view`);
        return lieFor(key, lie);
      });
    }
    return { value: real, eff: new Uint8Array(0) };
  });
  plain("a detached resizable buffer (0 bytes)", (real) => {
    const b = resizable(real, real.length * 2);
    const v = new Uint8Array(b);
    detach(b);
    return { value: v, eff: new Uint8Array(0) };
  });
  // Shared buffers.
  plain("a SharedArrayBuffer view", (real) => {
    const v = new Uint8Array(new SharedArrayBuffer(real.length));
    v.set(real);
    return { value: v, eff: v };
  });
  plain("a view that tracks a growable SharedArrayBuffer", (real) => {
    const b = growableShared(real, real.length * 4);
    return { value: new Uint8Array(b), eff: new Uint8Array(b, 0, real.length) };
  });
  plain("a tracking view of a growable SharedArrayBuffer grown before the call", (real) => {
    const b = growableShared(real, real.length * 4);
    const v = new Uint8Array(b);
    grow(b, real.length + 1000);
    return { value: v, eff: new Uint8Array(b, 0, real.length + 1000) };
  });
  plain("a growable SharedArrayBuffer whose own length getter grows it", (real, lie, user) => {
    const b = growableShared(real, real.length * 4);
    const v = new Uint8Array(b, 0, real.length);
    own(v, "length", () => {
      user("own length getter that grows the shared buffer");
      grow(b, real.length * 4);
      return lie.length;
    });
    return { value: v, eff: new Uint8Array(b, 0, real.length) };
  });
  // Refused: not a Uint8Array (judged by the engine's internal slot; Proxies are not one).
  const refused = (
    label: string,
    make: (real: Uint8Array, user: UserCode) => unknown,
    effects = false,
  ): void => {
    list.push({
      label: `refused: ${label}`,
      make: (real, _lie, user, ctx) => {
        ctx.buffer = real.buffer;
        return { value: make(real, user), eff: null };
      },
      effects,
    });
  };
  refused("a transparent Proxy over a Uint8Array", (real) => new Proxy(real, {}));
  refused(
    "a Proxy over a Uint8Array whose traps lie and run code",
    (real, user) =>
      new Proxy(real, {
        get(t, k): unknown {
          user(`proxy get ${String(k)}`);
          if (k === "length" || k === "byteLength") return 16;
          return Reflect.get(t, k, t);
        },
        getPrototypeOf(t): object | null {
          user("proxy getPrototypeOf");
          return Reflect.getPrototypeOf(t);
        },
        has(t, k): boolean {
          user("proxy has");
          return Reflect.has(t, k);
        },
        ownKeys(t): ArrayLike<string | symbol> {
          user("proxy ownKeys");
          return Reflect.ownKeys(t);
        },
        getOwnPropertyDescriptor(t, k): PropertyDescriptor | undefined {
          user("proxy getOwnPropertyDescriptor");
          return Reflect.getOwnPropertyDescriptor(t, k);
        },
      }),
    true,
  );
  refused("a Proxy over a Proxy over a Uint8Array", (real) => new Proxy(new Proxy(real, {}), {}));
  refused("a Proxy over a Uint8Array subclass instance", (real) => {
    class Sub extends Uint8Array {}
    const a = new Sub(real.length);
    a.set(real);
    return new Proxy(a, {});
  });
  for (
    const [name, make] of [
      ["Uint16Array", (n: number) => new Uint16Array(n >> 1)],
      ["Int8Array", (n: number) => new Int8Array(n)],
      ["Uint8ClampedArray", (n: number) => new Uint8ClampedArray(n)],
      ["Float64Array", (n: number) => new Float64Array(n >> 3)],
      ["DataView", (n: number) => new DataView(new ArrayBuffer(n))],
    ] as const
  ) {
    refused(`a ${name} whose prototype was set to Uint8Array.prototype`, (real, user) => {
      const a = make(real.length);
      Object.setPrototypeOf(a, Uint8Array.prototype);
      own(a, Symbol.toStringTag, () => {
        user("own Symbol.toStringTag");
        return "Uint8Array";
      });
      return a;
    });
  }
  refused("Object.create(a Uint8Array)", (real) => Object.create(real));
  refused("a plain object that poses as a Uint8Array", (real) => {
    const o = Object.create(Uint8Array.prototype);
    Object.defineProperties(o, {
      length: { value: real.length },
      byteLength: { value: real.length },
      byteOffset: { value: 0 },
      buffer: { value: real.buffer },
      [Symbol.toStringTag]: { value: "Uint8Array" },
    });
    return o;
  });
  refused("the ArrayBuffer itself", (real) => real.buffer);
  refused("a SharedArrayBuffer", (real) => new SharedArrayBuffer(real.length));
  refused("an Array of numbers", () => [1, 2, 3]);
  refused("an array-like object", (real) => ({ length: real.length, 0: 1 }));
  return list;
}

/** Where byte arrays go in. */
interface ByteSite {
  member: string;
  label: string;
  /** The offset the site writes/reads at. */
  off: number;
  /** Bytes that fit from `off`. */
  room(f: Fixture): number;
  /** The call. */
  call(f: Fixture, a: unknown): unknown;
  /** The expected outcome for `n` effective bytes. */
  expect(f: Fixture, n: number): Expect;
  /** Check an `"ok"` call: `eff` are the bytes zxvm had to use (copied before the call). */
  verify(f: Fixture, eff: Uint8Array, live: Uint8Array, pre: Snapshot): void;
}

function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (digest(actual) !== digest(expected)) {
    let i = 0;
    while (i < Math.min(actual.length, expected.length) && actual[i] === expected[i]) i++;
    throw new Error(
      `${what}: ${actual.length} bytes differ from the expected ${expected.length} at ${i}`,
    );
  }
}

function written(pre: Uint8Array, at: number, data: Uint8Array): Uint8Array {
  const out = pre.slice();
  out.set(data, at);
  return out;
}

const BYTE_SITES: ByteSite[] = [
  {
    member: "Vmo.write",
    label: "vmo.write(data, 4096)",
    off: P,
    room: (f) => f.vmo.size - P,
    call: (f, a) => f.vmo.write(a as Uint8Array, P),
    expect: (f, n) => P + n <= f.vmo.size ? "ok" : "OUT_OF_RANGE",
    verify: (f, eff, _live, pre) =>
      expectBytes(f.vmo.read(f.vmo.size, 0), written(pre.vmo, P, eff), "the VMO"),
  },
  {
    member: "Vmo.read",
    label: "vmo.read(into, 4096)",
    off: P,
    room: (f) => f.vmo.size - P,
    call: (f, a) => f.vmo.read(a as Uint8Array, P),
    expect: (f, n) => P + n <= f.vmo.size ? "ok" : "OUT_OF_RANGE",
    verify: (f, eff, live, pre) => {
      expectBytes(f.vmo.read(f.vmo.size, 0), pre.vmo, "the VMO (unchanged)");
      expectBytes(live, pre.vmo.subarray(P, P + eff.length), "the caller's buffer");
    },
  },
  {
    member: "Mapping.write",
    label: "map.write(4096, data)",
    off: P,
    room: (f) => f.map.len - P,
    call: (f, a) => f.map.write(P, a as Uint8Array),
    expect: (f, n) => P + n <= f.map.len ? "ok" : "OUT_OF_RANGE",
    verify: (f, eff, _live, pre) =>
      expectBytes(f.vmo.read(f.vmo.size, 0), written(pre.vmo, P, eff), "the VMO"),
  },
  {
    member: "Channel.write",
    label: "ch.write(data)",
    off: 0,
    room: () => ChannelLimits.MaxMsgBytes,
    call: (f, a) => f.ch.write(a as Uint8Array),
    expect: (_f, n) => n <= ChannelLimits.MaxMsgBytes ? "ok" : "OUT_OF_RANGE",
    // The peer receives exactly the engine's bytes, in one message without handles.
    verify: (f, eff) => {
      const m = f.chPeer.read();
      expectBytes(m.bytes, eff, "the message");
      assert.equal(m.handles.length, 0, "handles in the message");
      assert.equal(f.chPeer.signals & Signals.ChannelReadable, 0, "a second message queued");
    },
  },
];

/** The byte-array family on one runner. */
export function runByteFamily(run: Runner): void {
  const args = byteArgs();
  for (const site of BYTE_SITES) {
    // "fits": the real bytes fit and the lie says too many; "too big": the real bytes do not
    // fit and the lie says few (the shape of the issue's repro).
    for (const config of ["fits", "too big"] as const) {
      for (const arg of args) {
        let n = 0;
        let effLen = 0;
        let expect: Expect = "ok";
        let eff: Uint8Array | null = null;
        let live: Uint8Array | null = null;
        run.run({
          family: "byte arrays",
          member: site.member,
          name: `${site.label}, real bytes ${config}: ${arg.label}`,
          get expect(): Expect {
            return expect;
          },
          call(f, user, ctx): unknown {
            const room = site.room(f);
            n = config === "fits" ? room - 100 : room + P + 100;
            const lie: Lie = config === "fits"
              ? { length: room + 2 * P, offset: 0, buffer: new ArrayBuffer(room + 2 * P) }
              : { length: 16, offset: 0, buffer: new ArrayBuffer(16) };
            const real = pattern(n, 0x80);
            const made = arg.make(real, lie, user, ctx);
            live = made.eff;
            eff = made.eff === null ? null : made.eff.slice();
            effLen = eff === null ? 0 : eff.length;
            expect = eff === null ? "TypeError" : site.expect(f, effLen);
            if (live !== null) ctx.bufs.push(live);
            ctx.arm();
            return site.call(f, made.value);
          },
          verify(f, _r, pre): void {
            site.verify(f, eff!, live!, pre);
          },
        }, arg.effects ? EFFECTS : undefined);
      }
    }
  }
}

/** The issue's repro, exactly: a toggling `length` getter on a native 1-page VMO. */
export function runRepro(run: Runner): void {
  let calls = 0;
  run.run({
    family: "regression",
    member: "Vmo.write",
    name: "issue 11 repro: length getter says 4096 once, then 8192 (was SIGBUS on native)",
    expect: "OUT_OF_RANGE",
    call(f, _user, ctx): void {
      const data = new Uint8Array(8192).fill(0x41);
      Object.defineProperty(data, "length", { get: () => (++calls === 1 ? 4096 : 8192) });
      ctx.bufs.push(new Uint8Array(data.buffer));
      ctx.arm();
      f.small.write(data, 0);
    },
  });
  run.run({
    family: "regression",
    member: "Vmo.write",
    name: "issue 11 repro, the other way round: 4096 real bytes, length getter says 8192",
    expect: "ok",
    call(f, _user, ctx): void {
      const data = new Uint8Array(4096).fill(0x41);
      Object.defineProperty(data, "length", { get: () => 8192 });
      ctx.arm();
      f.small.write(data, 0);
    },
    verify(f): void {
      expectBytes(f.small.read(P, 0), new Uint8Array(P).fill(0x41), "the VMO");
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Family: numbers (and names) that are objects running user code

/** Objects that would convert to `good` — and run user code if anything converts them. */
function numberLiars(good: number | string, user: UserCode): Array<[string, unknown]> {
  const num = typeof good === "number" ? good : 0;
  const boxed = Object(num) as { valueOf: () => number };
  Object.defineProperty(boxed, "valueOf", {
    value: () => {
      user("Number object valueOf");
      return num;
    },
  });
  const big = Object(BigInt(num)) as { valueOf: () => bigint };
  Object.defineProperty(big, "valueOf", {
    value: () => {
      user("BigInt object valueOf");
      return BigInt(num);
    },
  });
  const str = Object(String(good)) as { toString: () => string };
  Object.defineProperty(str, "toString", {
    value: () => {
      user("String object toString");
      return String(good);
    },
  });
  const accessor = {};
  own(accessor, "valueOf", () => {
    user("valueOf accessor");
    return () => good;
  });
  return [
    ["{ valueOf }", {
      valueOf: () => {
        user("valueOf");
        return good;
      },
    }],
    ["{ [Symbol.toPrimitive] }", {
      [Symbol.toPrimitive]: () => {
        user("Symbol.toPrimitive");
        return good;
      },
    }],
    ["{ toString }", {
      toString: () => {
        user("toString");
        return String(good);
      },
    }],
    ["a Number object with its own valueOf", boxed],
    ["a BigInt object with its own valueOf", big],
    ["a String object with its own toString", str],
    ["an object whose valueOf is a getter", accessor],
    [
      "a Proxy over a Number object",
      new Proxy(Object(num), {
        get(t, k): unknown {
          user(`Number proxy get ${String(k)}`);
          const v = Reflect.get(t, k, t);
          return typeof v === "function" ? v.bind(t) : v;
        },
      }),
    ],
  ];
}

/** A public member with number (or name) parameters. */
interface NumMember {
  member: string;
  params: string[];
  valid(f: Fixture): unknown[];
  call(f: Fixture, args: unknown[]): unknown;
  consumes?: (f: Fixture) => Handle;
}

const sub = (f: Fixture, n: number): number => f.vmar.base + n;

/** The int32 at `off` of `f.map` (a futex wait's matching value). */
const word = (f: Fixture, off: number): number =>
  new DataView(f.map.read(off, 4).buffer).getInt32(0, true);

/** A futex wait that reached its (zero) deadline counts as done. */
function timedOut(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ZxError) || e.status !== ZxStatus.ErrTimedOut) throw e;
  }
}

function numMembers(): NumMember[] {
  const u8 = (): Uint8Array => new Uint8Array(16).fill(0x33);
  return [
    {
      member: "Kernel.createVmo",
      params: ["size", "options"],
      valid: () => [P, VmoOptions.Default],
      call: (f, a) => f.k.createVmo(a[0] as number, a[1] as number),
    },
    {
      member: "Vmo.create",
      params: ["size", "options"],
      valid: () => [P, VmoOptions.Default],
      call: (_f, a) => Vmo.create(a[0] as number, a[1] as number),
    },
    {
      member: "Vmo.read",
      params: ["length", "offset"],
      valid: () => [16, 0],
      call: (f, a) => f.vmo.read(a[0] as number, a[1] as number),
    },
    {
      member: "Vmo.read",
      params: ["offset (into)"],
      valid: () => [0],
      call: (f, a) => f.vmo.read(new Uint8Array(16), a[0] as number),
    },
    {
      member: "Vmo.write",
      params: ["offset"],
      valid: () => [0],
      call: (f, a) => f.vmo.write(u8(), a[0] as number),
    },
    {
      member: "Vmo.setSize",
      params: ["size"],
      valid: () => [2 * P],
      call: (f, a) => f.vmo.setSize(a[0] as number),
    },
    {
      member: "Vmo.setContentSize",
      params: ["size"],
      valid: () => [100],
      call: (f, a) => f.vmo.setContentSize(a[0] as number),
    },
    {
      member: "Vmo.opRange",
      params: ["op", "offset", "size"],
      valid: () => [VmoOp.Commit, 0, P],
      call: (f, a) => f.vmo.opRange(a[0] as number, a[1] as number, a[2] as number),
    },
    {
      member: "Vmo.createChild",
      params: ["options", "offset", "size"],
      valid: () => [VmoChildOptions.Snapshot, 0, P],
      call: (f, a) => f.vmo.createChild(a[0] as number, a[1] as number, a[2] as number),
    },
    {
      member: "Handle.duplicate",
      params: ["rights"],
      valid: () => [Rights.SameRights],
      call: (f, a) => f.vmo.duplicate(a[0] as number),
    },
    {
      member: "Handle.duplicate",
      params: ["rights (VMAR)"],
      valid: () => [Rights.SameRights],
      call: (f, a) => f.vmar.duplicate(a[0] as number),
    },
    {
      member: "Handle.replace",
      params: ["rights"],
      valid: () => [Rights.SameRights],
      call: (f, a) => f.dup.replace(a[0] as number),
      consumes: (f) => f.dup,
    },
    {
      member: "Handle.waitOne",
      params: ["signals"],
      valid: () => [Signals.VmoZeroChildren],
      call: (f, a) => f.vmo.waitOne(a[0] as number),
    },
    {
      member: "Handle.name",
      params: ["name (set)"],
      valid: () => ["renamed"],
      call: (f, a) => {
        f.vmo.name = a[0] as string;
      },
    },
    {
      member: "Vmar.allocate",
      params: ["options", "offset", "size"],
      valid: () => [O.VmCanMapRead, 0, P],
      call: (f, a) => f.vmar.allocate(a[0] as number, a[1] as number, a[2] as number),
    },
    {
      member: "Vmar.map",
      params: ["options", "vmarOffset", "vmoOffset", "len"],
      valid: () => [O.VmPermRead, 0, 0, P],
      call: (f, a) =>
        f.vmar.map(a[0] as number, a[1] as number, f.small, a[2] as number, a[3] as number),
    },
    {
      member: "Vmar.unmap",
      params: ["addr", "len"],
      valid: (f) => [sub(f, 0), P],
      call: (f, a) => f.vmar.unmap(a[0] as number, a[1] as number),
    },
    {
      member: "Vmar.protect",
      params: ["options", "addr", "len"],
      valid: (f) => [O.VmPermRead, sub(f, 0), P],
      call: (f, a) => f.vmar.protect(a[0] as number, a[1] as number, a[2] as number),
    },
    {
      member: "Vmar.opRange",
      params: ["op", "addr", "len"],
      valid: (f) => [VmoOp.Commit, sub(f, 0), P],
      call: (f, a) => f.vmar.opRange(a[0] as number, a[1] as number, a[2] as number),
    },
    {
      member: "Mapping.read",
      params: ["offset", "length"],
      valid: () => [0, 16],
      call: (f, a) => f.map.read(a[0] as number, a[1] as number),
    },
    {
      member: "Mapping.write",
      params: ["offset"],
      valid: () => [0],
      call: (f, a) => f.map.write(a[0] as number, u8()),
    },
    {
      member: "Kernel.open",
      params: ["seed", "rootVmarSize"],
      valid: () => [5, 2 ** 30],
      call: (f, a) => {
        f.opened.push(Kernel.open({
          backend: "emulated",
          seed: a[0] as number,
          rootVmarSize: a[1] as number,
        }));
      },
    },
    {
      member: "testKernel",
      params: ["seed", "rootVmarSize"],
      valid: () => [5, 2 ** 30],
      call: (f, a) => {
        f.opened.push(testKernel({ seed: a[0] as number, rootVmarSize: a[1] as number }));
      },
    },
    {
      member: "FaultInjector.failNext",
      params: ["op", "count", "status"],
      valid: () => ["read", 1, ZxStatus.ErrIo],
      call: (_f, a) =>
        new FaultInjector().failNext(a[0] as FaultOp, a[1] as number, a[2] as ZxStatus),
    },
    {
      member: "FaultInjector.failAt",
      params: ["op", "n", "status"],
      valid: () => ["read", 1, ZxStatus.ErrIo],
      call: (_f, a) =>
        new FaultInjector().failAt(a[0] as FaultOp, a[1] as number, a[2] as ZxStatus),
    },
    {
      member: "Kernel.createChannel",
      params: ["options"],
      valid: () => [0],
      call: (f, a) => {
        for (const c of f.k.createChannel(a[0] as number)) c.close();
      },
    },
    {
      member: "Channel.create",
      params: ["options"],
      valid: () => [0],
      call: (_f, a) => {
        for (const c of Channel.create(a[0] as number)) c.close();
      },
    },
    {
      member: "Channel.write",
      params: ["options"],
      valid: () => [0],
      call: (f, a) => f.ch.write(u8(), [], a[0] as number),
    },
    {
      member: "Channel.read",
      params: ["options", "numBytes", "numHandles"],
      valid: () => [0, ChannelLimits.MaxMsgBytes, ChannelLimits.MaxMsgHandles],
      call: (f, a) => f.chPeer.read(a[0] as number, a[1] as number, a[2] as number),
    },
    {
      member: "Kernel.futexWait",
      params: ["addr", "current"],
      valid: (f) => [f.map.addr + 4, word(f, 4)],
      call: (f, a) =>
        timedOut(() => f.k.futexWait(a[0] as number, a[1] as number, { deadline: 0 })),
    },
    {
      member: "Kernel.futexWaitAsync",
      params: ["addr", "current"],
      valid: (f) => [f.map.addr + 4, word(f, 4)],
      call: (f, a) =>
        void f.k.futexWaitAsync(a[0] as number, a[1] as number, { deadline: 0 }).catch(() => {}),
    },
    {
      member: "Kernel.futexWake",
      params: ["addr", "count"],
      valid: (f) => [f.map.addr + 4, 1],
      call: (f, a) => f.k.futexWake(a[0] as number, a[1] as number),
    },
    {
      member: "assertNoLeaks",
      params: ["handles"],
      valid: (f) => [f.k.handleCount],
      call: (f, a) => assertNoLeaks(f.k, { handles: a[0] as number }),
    },
  ];
}

/** The numbers family: every number (and name) parameter, given an object that runs code. */
export function runNumberFamily(run: Runner): void {
  for (const m of numMembers()) {
    m.params.forEach((p, i) => {
      // Build the liars once to learn their labels; each case builds its own.
      const labels = numberLiars(0, () => {}).map(([l]) => l);
      labels.forEach((label, li) => {
        run.run({
          family: "numbers and names",
          member: m.member,
          name: `${p} = ${label}`,
          expect: "TypeError",
          consumes: m.consumes,
          call(f, user, ctx): unknown {
            const args = m.valid(f);
            args[i] = numberLiars(args[i] as number | string, user)[li][1];
            ctx.arm();
            return m.call(f, args);
          },
        }, EFFECTS.slice(0, 6));
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Family: receivers and handle arguments

/** Normalise a result for comparing an honest call with a lying one (addresses by the base). */
function norm(f: Fixture, r: unknown): unknown {
  if (r === undefined || r === null) return r ?? null;
  if (r instanceof Uint8Array) return digest(new Uint8Array(r));
  if (r instanceof Handle) {
    return {
      handle: r.type,
      rights: r.valid ? r.rights : "closed",
      sameKernel: r.kernel === f.k,
      valid: r.valid,
    };
  }
  if (r instanceof Mapping) {
    return { mapping: r.addr - f.base, len: r.len, vmar: r.vmar === f.vmar };
  }
  if (r instanceof Kernel) return { kernel: r === f.k };
  if (Array.isArray(r)) return r.map((x) => norm(f, x));
  if (typeof r === "object") {
    const o: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(r as Record<string, unknown>)) {
      if (/koid/i.test(key)) continue;
      o[key] = key === "base" || key === "addr" ? (v as number) - f.base : norm(f, v);
    }
    return o;
  }
  return r;
}

/** A member called on a receiver that lies about itself. */
interface RecvMember {
  member: string;
  /** The receiver: a fixture object. */
  recv(f: Fixture): object;
  /** The arguments (computed before the receiver starts lying). */
  args(f: Fixture): unknown[];
  /** Call the member (through its prototype, so the receiver's own properties don't shadow it). */
  call(recv: object, args: unknown[]): unknown;
}

function protoGet(proto: object, key: string): (this: unknown) => unknown {
  for (let p: object | null = proto; p !== null; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d?.get !== undefined) return d.get;
  }
  throw new Error(`no getter ${key}`);
}

function protoSet(proto: object, key: string): (this: unknown, v: unknown) => void {
  for (let p: object | null = proto; p !== null; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d?.set !== undefined) return d.set;
  }
  throw new Error(`no setter ${key}`);
}

function recvMembers(): RecvMember[] {
  const list: RecvMember[] = [];
  const method = (
    cls: string,
    proto: object,
    recv: (f: Fixture) => object,
    name: string,
    args: (f: Fixture) => unknown[],
    label = name,
  ): void => {
    list.push({
      member: `${cls}.${label}`,
      recv,
      args,
      call: (r, a) => {
        const fn = (proto as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
        return Reflect.apply(fn, r, a);
      },
    });
  };
  const getter = (cls: string, proto: object, recv: (f: Fixture) => object, name: string): void => {
    list.push({
      member: `${cls}.${name}`,
      recv,
      args: () => [],
      call: (r) => Reflect.apply(protoGet(proto, name), r, []),
    });
  };
  const vmo = (f: Fixture): object => f.vmo;
  const V = Vmo.prototype;
  for (
    const g of [
      "raw",
      "kernel",
      "type",
      "koid",
      "rights",
      "valid",
      "signals",
      "size",
      "contentSize",
    ]
  ) {
    getter(g === "size" || g === "contentSize" || g === "type" ? "Vmo" : "Handle", V, vmo, g);
  }
  getter("Handle", V, vmo, "name");
  list.push({
    member: "Handle.name",
    recv: vmo,
    args: () => ["renamed"],
    call: (r, a) => Reflect.apply(protoSet(V, "name"), r, a),
  });
  method("Handle", V, vmo, "basicInfo", () => []);
  method("Handle", V, vmo, "duplicate", () => [Rights.Read | Rights.Map | Rights.Duplicate]);
  method("Handle", V, (f) => f.dup, "replace", () => [Rights.Read | Rights.Map]);
  method("Handle", V, (f) => f.dup, "close", () => []);
  method(
    "Handle",
    V,
    (f) => f.dup,
    Symbol.dispose as unknown as string,
    () => [],
    "Symbol(Symbol.dispose)",
  );
  method("Vmo", V, vmo, "read", () => [16, 8]);
  method("Vmo", V, vmo, "read", () => [new Uint8Array(16), 8], "read");
  method("Vmo", V, vmo, "write", () => [new Uint8Array(16).fill(9), 8]);
  method("Vmo", V, vmo, "setSize", () => [3 * P]);
  method("Vmo", V, vmo, "setContentSize", () => [100]);
  method("Vmo", V, vmo, "opRange", () => [VmoOp.Zero, 0, P]);
  method("Vmo", V, vmo, "createChild", () => [VmoChildOptions.Snapshot, 0, P]);
  method("Vmo", V, vmo, "info", () => []);
  const vmar = (f: Fixture): object => f.vmar;
  const R = Vmar.prototype;
  for (const g of ["base", "len", "type"]) getter("Vmar", R, vmar, g);
  method("Vmar", R, vmar, "allocate", () => [O.VmCanMapRead, 0, P]);
  method("Vmar", R, vmar, "map", (f) => [O.VmPermRead, 0, f.small, 0, P]);
  method("Vmar", R, vmar, "unmap", (f) => [f.vmar.base, P]);
  method("Vmar", R, vmar, "protect", (f) => [O.VmPermRead, f.vmar.base, P]);
  method("Vmar", R, vmar, "opRange", (f) => [VmoOp.Commit, f.vmar.base, P]);
  method("Vmar", R, vmar, "mappings", () => []);
  method("Vmar", R, vmar, "destroy", () => []);
  method("Vmar", R, vmar, "close", () => []);
  const map = (f: Fixture): object => f.map;
  const M = Mapping.prototype;
  for (const g of ["addr", "len", "vmar", "options", "alive"]) getter("Mapping", M, map, g);
  method("Mapping", M, map, "bytes", () => []);
  method("Mapping", M, map, "read", () => [8, 16]);
  method("Mapping", M, map, "write", () => [8, new Uint8Array(16).fill(5)]);
  method("Mapping", M, map, "unmap", () => []);
  method(
    "Mapping",
    M,
    map,
    Symbol.dispose as unknown as string,
    () => [],
    "Symbol(Symbol.dispose)",
  );
  const ch = (f: Fixture): object => f.ch;
  const C = Channel.prototype;
  getter("Channel", C, ch, "type");
  method("Channel", C, ch, "write", (f) => [new Uint8Array(16).fill(9), [f.k.createVmo(P)]]);
  // A message with a VMO is queued for the reader (before the receiver starts lying).
  const queued = (f: Fixture): unknown[] => {
    f.ch.write(new Uint8Array([1, 2, 3]), [f.k.createVmo(P)]);
    return [];
  };
  method("Channel", C, (f) => f.chPeer, "read", queued);
  method(
    "Channel",
    C,
    (f) => f.chPeer,
    Symbol.asyncIterator as unknown as string,
    queued,
    "Symbol(Symbol.asyncIterator)",
  );
  const kern = (f: Fixture): object => f.k;
  const K = Kernel.prototype;
  for (
    const g of [
      "backend",
      "backendReason",
      "pageSize",
      "maxVmoSize",
      "rootVmar",
      "handleCount",
      "closed",
    ]
  ) getter("Kernel", K, kern, g);
  method("Kernel", K, kern, "createVmo", () => [P, 0]);
  method("Kernel", K, kern, "createChannel", () => [0]);
  method("Kernel", K, kern, "close", () => []);
  method(
    "Kernel",
    K,
    kern,
    Symbol.dispose as unknown as string,
    () => [],
    "Symbol(Symbol.dispose)",
  );
  return list;
}

/** Own getters that lie on a receiver: every public property name of the classes. Returns undo. */
function lieAbout(recv: object, f: Fixture, user: UserCode, keep: string[] = []): () => void {
  const other = f.small;
  const lies: Record<string, () => unknown> = {
    raw: () => other.raw,
    kernel: () => Kernel.default,
    type: () => "vmar",
    koid: () => 1,
    rights: () => Rights.None,
    valid: () => false,
    closed: () => true,
    rootVmar: () => f.vmar,
    addr: () => f.ro.addr,
    len: () => 1,
    vmar: () => f.root,
    options: () => 0,
    alive: () => false,
    base: () => 0,
    size: () => 1,
    pageSize: () => 1,
    // Methods the SDK could call on itself; they are the caller's to replace.
    rewrap: () => () => other,
    close: () => () => user("receiver's own close()"),
    basicInfo: () => () => ({}),
  };
  const added: string[] = [];
  for (const [key, lie] of Object.entries(lies)) {
    if (keep.includes(key) || Object.getOwnPropertyDescriptor(recv, key) !== undefined) continue;
    own(recv, key, () => {
      user(`receiver's own ${key} getter`);
      return lie();
    });
    added.push(key);
  }
  return () => {
    for (const key of added) delete (recv as Record<string, unknown>)[key];
  };
}

/**
 * The receivers family: each member called (through its prototype) on a receiver with lying
 * own getters must do exactly what it does on the honest receiver (outcome, result and state,
 * compared between two fixtures of the same seed); called on a Proxy over the receiver it is a
 * `TypeError` (`type` getters, which answer a constant, excepted) and changes nothing.
 */
export function runReceiverFamily(run: Runner, open: OpenKernel): void {
  for (const m of recvMembers()) {
    // The honest outcome, on a fixture of the seed the lying case gets.
    const seed = 1_000_000 + run.tally.cases;
    const addrLike = /\.(base|addr)$/.test(m.member);
    // `[Symbol.dispose]()` is `this.close()` (`this.unmap()`), the `using` idiom: it looks the
    // method up on its receiver, before zxvm does anything.
    const dispose = m.member.endsWith("Symbol(Symbol.dispose)");
    const normal = (f: Fixture, r: unknown): unknown =>
      addrLike && typeof r === "number" ? r - f.base : norm(f, r);
    let honest: { got: Expect; result: unknown; state: string };
    {
      const f = fixture(open, seed);
      try {
        let got = "ok";
        let result: unknown;
        try {
          result = normal(f, m.call(m.recv(f), m.args(f)));
        } catch (e) {
          got = outcome(e);
        }
        honest = { got, result, state: state(f) };
      } finally {
        f.k.close();
      }
    }
    const h = honest;
    run.run({
      family: "receivers",
      member: m.member,
      name: "a receiver whose own getters lie (raw, kernel, type, addr, close, ...)",
      expect: h.got,
      seed,
      call(f, user, ctx): unknown {
        const r = m.recv(f);
        const args = m.args(f);
        ctx.arm();
        const undo = lieAbout(r, f, user, dispose ? ["close"] : []);
        let out: unknown;
        try {
          out = m.call(r, args);
        } finally {
          undo();
        }
        assert.deepEqual(normal(f, out), h.result, "the result differs from the honest call's");
        return out;
      },
      verify(f): void {
        assert.equal(state(f), h.state, "the state differs from the honest call's");
      },
    });
    const proxyOk = m.member.endsWith(".type");
    run.run({
      family: "receivers",
      member: m.member,
      name: "a Proxy over the receiver (traps run code)",
      expect: proxyOk ? "ok" : "TypeError",
      userRuns: dispose ? 1 : 0,
      call(f, user, ctx): unknown {
        const target = m.recv(f);
        const args = m.args(f);
        const p = new Proxy(target, {
          get(t, k): unknown {
            user(`receiver proxy get ${String(k)}`);
            return Reflect.get(t, k, t);
          },
          getPrototypeOf(t): object | null {
            user("receiver proxy getPrototypeOf");
            return Reflect.getPrototypeOf(t);
          },
        });
        ctx.arm();
        return m.call(p, args);
      },
    });
  }
  // Vmar.map's vmo argument.
  const mapWith = (
    name: string,
    expect: Expect,
    make: (f: Fixture, user: UserCode) => { value: unknown; undo?: () => void },
    verify?: (f: Fixture, m: Mapping) => void,
  ): void => {
    run.run({
      family: "receivers",
      member: "Vmar.map",
      name: `vmo = ${name}`,
      expect,
      call(f, user, ctx): unknown {
        ctx.arm();
        const v = make(f, user);
        try {
          return f.vmar.map(O.VmPermRead, 0, v.value as Vmo, 0, P);
        } finally {
          v.undo?.();
        }
      },
      verify: verify === undefined ? undefined : (f, r) => verify(f, r as Mapping),
    }, EFFECTS.slice(0, 6));
  };
  const trap = (user: UserCode): ProxyHandler<object> => ({
    get(t, k): unknown {
      user(`vmo proxy get ${String(k)}`);
      return Reflect.get(t, k, t);
    },
    getPrototypeOf(t): object | null {
      user("vmo proxy getPrototypeOf");
      return Reflect.getPrototypeOf(t);
    },
  });
  const mappedIs = (f: Fixture, m: Mapping, vmo: Vmo): void => {
    const info = f.vmar.mappings().find((x) => x.addr === m.addr);
    assert.equal(info?.vmoKoid, vmo.koid, "the real VMO was mapped");
  };
  mapWith("a Proxy over a Vmo", "TypeError", (f, user) => ({
    value: new Proxy(f.small, trap(user)),
  }));
  mapWith("Object.create(a Vmo)", "TypeError", (f) => ({ value: Object.create(f.small) }));
  mapWith("a plain object with Vmo.prototype and a real raw value", "TypeError", (f) => {
    const o = Object.create(Vmo.prototype);
    Object.defineProperty(o, "raw", { value: f.small.raw });
    return { value: o };
  });
  mapWith("a Vmo whose own raw/kernel/type getters lie", "ok", (f, user) => ({
    value: f.small,
    undo: lieAbout(f.small, f, user),
  }), (f, m) => mappedIs(f, m, f.small));
  mapWith("a Vmo whose prototype was set to Vmar.prototype", "ok", (f) => {
    Object.setPrototypeOf(f.small, Vmar.prototype);
    return { value: f.small, undo: () => Object.setPrototypeOf(f.small, Vmo.prototype) };
  }, (f, m) => mappedIs(f, m, f.small));
  mapWith("a Vmo of another kernel", "BAD_HANDLE", (f) => {
    const other = Kernel.open({ backend: "emulated", seed: 3 });
    f.opened.push(other);
    return { value: other.createVmo(P) };
  });
  runChannelArgs(run);
  // Constructors: the token is compared by identity; nothing about it is converted.
  const ctors: Array<[string, (f: Fixture, token: unknown) => unknown]> = [
    [
      "Vmo.constructor",
      (f, t) => new (Vmo as unknown as new (...a: unknown[]) => Vmo)(f.k, f.vmo.raw, t),
    ],
    [
      "Vmar.constructor",
      (f, t) => new (Vmar as unknown as new (...a: unknown[]) => Vmar)(f.k, f.vmar.raw, t),
    ],
    [
      "Handle.constructor",
      (f, t) =>
        Reflect.construct(
          Handle as unknown as new (...a: unknown[]) => Handle,
          [f.k, f.vmo.raw, t],
          Vmo,
        ),
    ],
    [
      "Kernel.constructor",
      (_f, t) => new (Kernel as unknown as new (...a: unknown[]) => Kernel)(null, t),
    ],
    [
      "Mapping.constructor",
      (f, t) => new (Mapping as unknown as new (...a: unknown[]) => Mapping)(null, f.vmar, null, t),
    ],
    [
      "TestKernel.constructor",
      (_f, t) =>
        new (TestKernel as unknown as new (...a: unknown[]) => TestKernel)(null, t, null, null, 1),
    ],
    ["Vmar.borrowed", (f, t) => Vmar.borrowed(f.k, f.vmar.raw, t as symbol)],
    [
      "Channel.constructor",
      (f, t) => new (Channel as unknown as new (...a: unknown[]) => Channel)(f.k, f.ch.raw, t),
    ],
  ];
  for (const [member, make] of ctors) {
    for (
      const [label, token] of [
        ["Symbol('zxvm.internal')", Symbol("zxvm.internal")],
        ["Symbol.for('zxvm.internal')", Symbol.for("zxvm.internal")],
      ] as const
    ) {
      run.run({
        family: "receivers",
        member,
        name: `token = ${label}`,
        expect: "TypeError",
        call(f, _user, ctx): unknown {
          ctx.arm();
          return make(f, token);
        },
      });
    }
    run.run({
      family: "receivers",
      member,
      name: "token = an object with valueOf/toString/toPrimitive",
      expect: "TypeError",
      call(f, user, ctx): unknown {
        const t = {
          valueOf: () => user("token valueOf"),
          toString: () => user("token toString"),
          [Symbol.toPrimitive]: () => user("token toPrimitive"),
        };
        ctx.arm();
        return make(f, t);
      },
    }, EFFECTS.slice(0, 6));
  }
}

/** A trap set that logs every get and prototype lookup. */
function logging<T extends object>(what: string, user: UserCode): ProxyHandler<T> {
  return {
    get(t, k): unknown {
      user(`${what} proxy get ${String(k)}`);
      return Reflect.get(t, k, t);
    },
    getPrototypeOf(t): object | null {
      user(`${what} proxy getPrototypeOf`);
      return Reflect.getPrototypeOf(t);
    },
    has(t, k): boolean {
      user(`${what} proxy has ${String(k)}`);
      return Reflect.has(t, k);
    },
  };
}

/**
 * Channel arguments: `Kernel.createChannel`'s `peer` (a brand check: no user code, TypeError
 * for anything but a zxvm kernel, BAD_STATE for a closed one) and `Channel.write`'s `handles`
 * (read once — its length, then each element — before anything is checked; a list that is not
 * an array of zxvm handles consumes nothing; otherwise every listed handle is consumed, also
 * when the write fails) — and the iterator on a receiver whose own `read`/`waitOne` lie.
 */
function runChannelArgs(run: Runner): void {
  const other = (f: Fixture, backend: "emulated" | "native" = "emulated"): Kernel => {
    const k = Kernel.open({ backend, seed: 4 });
    f.opened.push(k);
    return k;
  };
  const peerCases: Array<[string, Expect, (f: Fixture, user: UserCode) => unknown]> = [
    ["Object.create(Kernel.prototype)", "TypeError", () => Object.create(Kernel.prototype)],
    ["Object.create(a kernel)", "TypeError", (f) => Object.create(other(f))],
    [
      "a Proxy over another kernel (traps run code)",
      "TypeError",
      (f, user) => new Proxy(other(f), logging("kernel", user)),
    ],
    [
      "a Proxy over this kernel (traps run code)",
      "TypeError",
      (f, user) => new Proxy(f.k, logging("kernel", user)),
    ],
    ["null", "TypeError", () => null],
    ["a { valueOf } object", "TypeError", (_f, user) => ({
      valueOf: () => user("peer valueOf"),
      [Symbol.toPrimitive]: () => user("peer toPrimitive"),
    })],
    ["a closed kernel", "BAD_STATE", (f) => {
      const k = other(f);
      k.close();
      return k;
    }],
    ["a closed kernel whose own closed getter says false", "BAD_STATE", (f, user) => {
      const k = other(f);
      k.close();
      own(k, "closed", () => {
        user("peer's own closed getter");
        return false;
      });
      return k;
    }],
  ];
  for (const [name, expect, make] of peerCases) {
    run.run({
      family: "receivers",
      member: "Kernel.createChannel",
      name: `peer = ${name}`,
      expect,
      call(f, user, ctx): unknown {
        const peer = make(f, user);
        ctx.arm();
        return f.k.createChannel(0, peer as Kernel);
      },
    }, EFFECTS.slice(0, 6));
  }
  // Honest peers that lie about themselves: the endpoint goes to the real kernel.
  const peerOk: Array<[string, (f: Fixture, user: UserCode) => [Kernel, Kernel, () => void]]> = [
    ["this kernel", (f) => [f.k, f.k, () => {}]],
    ["another kernel whose own getters lie (closed, rootVmar, handleCount, ...)", (f, user) => {
      const k = other(f);
      return [k, k, lieAbout(k, f, user)];
    }],
    ["another kernel whose prototype was set to Vmo.prototype", (f) => {
      const k = other(f);
      Object.setPrototypeOf(k, Vmo.prototype);
      return [k, k, () => Object.setPrototypeOf(k, Kernel.prototype)];
    }],
  ];
  for (const [name, make] of peerOk) {
    let target: Kernel | null = null;
    run.run({
      family: "receivers",
      member: "Kernel.createChannel",
      name: `peer = ${name}`,
      expect: "ok",
      call(f, user, ctx): unknown {
        ctx.arm();
        const [peer, real, undo] = make(f, user);
        target = real;
        try {
          return f.k.createChannel(0, peer);
        } finally {
          undo();
        }
      },
      verify(f, r): void {
        const [a, b] = r as [Channel, Channel];
        assert.equal(a.kernel, f.k);
        assert.equal(b.kernel, target);
        a.write(new Uint8Array([4, 2]));
        assert.deepEqual([...b.read().bytes], [4, 2]);
      },
    });
  }
  // Channel.write's handles.
  interface WriteCase {
    name: string;
    expect: Expect;
    userRuns: number;
    /** The list, over `x` and `y` (two fresh VMOs) and `z` (a third, never listed). */
    list(
      f: Fixture,
      user: UserCode,
      hs: { x: Vmo; y: Vmo; z: Vmo; mid: () => void; undo: Array<() => void> },
    ): unknown;
    /** The listed handles the call consumes (default: x and y). */
    consumed?: "none" | "xy";
    /** The koids the peer receives on success (default: x's and y's). */
    sent?: (hs: { x: number; y: number; z: number }) => number[];
    /** The effect, run by the list's user code (after it logs). */
    effect?: (f: Fixture, hs: { x: Vmo; y: Vmo }) => void;
  }
  const indexGetter = (
    arr: unknown[],
    i: number,
    value: unknown,
    user: UserCode,
    then: () => void,
  ): void => {
    own(arr, i, () => {
      user(`handles[${i}] getter`);
      then();
      return value;
    });
  };
  const writes: WriteCase[] = [
    { name: "a plain array (control)", expect: "ok", userRuns: 0, list: (_f, _u, h) => [h.x, h.y] },
    {
      name: "a Proxy over an array (length and each index read once)",
      expect: "ok",
      userRuns: 3,
      list: (_f, user, h) => new Proxy([h.x, h.y], logging("handles", user)),
    },
    {
      name: "a Proxy over an array whose length trap says 3 (two elements)",
      expect: "TypeError",
      userRuns: 4,
      consumed: "none",
      list: (_f, user, h) =>
        new Proxy([h.x, h.y], {
          get(t, k): unknown {
            user(`handles proxy get ${String(k)}`);
            return k === "length" ? 3 : Reflect.get(t, k, t);
          },
        }),
    },
    {
      name: "an array subclass (its species and iterator never consulted)",
      expect: "ok",
      userRuns: 0,
      list: (_f, user, h) => {
        class Sub extends Array {
          static override get [Symbol.species](): ArrayConstructor {
            user("Symbol.species");
            return Array;
          }
          override [Symbol.iterator](): ArrayIterator<unknown> {
            user("Symbol.iterator");
            return super[Symbol.iterator]();
          }
        }
        const a = new Sub();
        a.push(h.x, h.y);
        return a;
      },
    },
    ...(
      [
        ["does nothing else", "ok", () => {}],
        ["closes handles[0] (already read)", "BAD_HANDLE", (_f, h) => h.x.close()],
        ["closes the handle it returns", "BAD_HANDLE", (_f, h) => h.y.close()],
        ["closes the kernel", "BAD_HANDLE", (f) => f.k.close()],
        ["unmaps the mapping", "ok", (f) => f.map.unmap()],
        ["closes the channel written to", "BAD_HANDLE", (f) => f.ch.close()],
        ["closes the peer endpoint", "PEER_CLOSED", (f) => f.chPeer.close()],
        ["throws", "Error: boom", () => {
          throw new Error("boom");
        }],
      ] as Array<[string, Expect, (f: Fixture, h: { x: Vmo; y: Vmo }) => void]>
    ).map(([what, expect, effect]): WriteCase => ({
      name: `an array whose handles[1] getter ${what}`,
      expect,
      userRuns: 1,
      consumed: expect === "Error: boom" ? "none" : "xy",
      effect,
      list: (_f, user, h) => {
        const a: unknown[] = [h.x, undefined];
        indexGetter(a, 1, h.y, user, h.mid);
        return a;
      },
    })),
    {
      name: "an array whose handles[0] getter appends z (the length was read once)",
      expect: "ok",
      userRuns: 1,
      list: (_f, user, h) => {
        const a: unknown[] = [undefined, h.y];
        indexGetter(a, 0, h.x, user, () => a.push(h.z));
        return a;
      },
    },
    {
      name: "an array whose handles[0] getter answers z the second time (read once)",
      expect: "ok",
      userRuns: 1,
      list: (_f, user, h) => {
        const a: unknown[] = [undefined, h.y];
        let n = 0;
        own(a, 0, () => {
          user("handles[0] getter");
          return ++n === 1 ? h.x : h.z;
        });
        return a;
      },
    },
    ...([
      ["an array-like object", (h: { x: Vmo; y: Vmo }) => ({ length: 2, 0: h.x, 1: h.y })],
      ["a Set", (h: { x: Vmo; y: Vmo }) => new Set([h.x, h.y])],
      ["an array holding a Proxy over a Vmo", (h: { x: Vmo; y: Vmo }) => [h.x, new Proxy(h.y, {})]],
      [
        "an array holding Object.create(a Vmo)",
        (h: { x: Vmo; y: Vmo }) => [h.x, Object.create(h.y)],
      ],
      ["an array holding a raw handle value", (h: { x: Vmo; y: Vmo }) => [h.x, h.y.raw]],
      ["an array with a hole", (h: { x: Vmo; y: Vmo }) => [h.x, , h.y]],
    ] as const).map(([what, make]): WriteCase => ({
      name: `${what}: refused, nothing consumed`,
      expect: "TypeError",
      userRuns: 0,
      consumed: "none",
      list: (_f, _u, h) => make(h),
    })),
    {
      name: "an array listing x twice: BAD_HANDLE, both consumed",
      expect: "BAD_HANDLE",
      userRuns: 0,
      list: (_f, _u, h) => [h.x, h.y, h.x],
    },
    {
      name: "an array with a handle of another kernel: BAD_HANDLE, the rest consumed",
      expect: "BAD_HANDLE",
      userRuns: 0,
      list: (f, _u, h) => [h.x, other(f).createVmo(P), h.y],
    },
    {
      name: "an array whose Vmo's own raw/kernel/type getters lie",
      expect: "ok",
      userRuns: 0,
      list: (f, user, h) => {
        h.undo.push(lieAbout(h.x, f, user));
        return [h.x, h.y];
      },
    },
  ];
  for (const c of writes) {
    const consumedXY = (c.consumed ?? "xy") === "xy";
    let hs: { x: Vmo; y: Vmo; z: Vmo } | null = null;
    let koids: { x: number; y: number; z: number } | null = null;
    run.run({
      family: "receivers",
      member: "Channel.write",
      name: `handles = ${c.name}`,
      expect: c.expect,
      userRuns: c.userRuns,
      consumes: consumedXY ? () => [hs!.x, hs!.y] : undefined,
      call(f, user, ctx): unknown {
        const x = f.k.createVmo(P);
        const y = f.k.createVmo(P);
        const z = f.k.createVmo(P);
        hs = { x, y, z };
        koids = { x: x.koid, y: y.koid, z: z.koid };
        // What the world is right after the list's user code ran (its effect included): a
        // failed write leaves exactly that, less the consumed handles.
        let mid: string | null = null;
        const undo: Array<() => void> = [];
        const list = c.list(f, user, {
          undo,
          x,
          y,
          z,
          mid: () => {
            try {
              c.effect?.(f, { x, y });
            } finally {
              mid = state(f, [], consumedXY ? [x, y] : []);
            }
          },
        });
        ctx.arm();
        try {
          try {
            return f.ch.write(new Uint8Array([7, 7]), list as Handle[]);
          } finally {
            for (const u of undo) u();
          }
        } catch (e) {
          if (mid !== null) {
            const after = state(f, [], consumedXY ? [x, y] : []);
            assert.equal(after, mid, "the state changed after the list was read");
          }
          if (consumedXY) {
            assert.equal(x.valid || y.valid, false, "a listed handle is still valid");
          } else assert.ok(x.valid && y.valid, "a handle was consumed");
          if (!f.k.closed) assert.ok(z.valid, "z (never listed) was consumed");
          throw e;
        }
      },
      verify(f): void {
        const m = f.chPeer.read();
        assert.deepEqual([...m.bytes], [7, 7]);
        const want = (c.sent ?? ((k) => [k.x, k.y]))(koids!);
        assert.deepEqual(m.handles.map((h) => h.koid), want, "the handles sent");
        assert.ok(!hs!.x.valid && !hs!.y.valid, "a listed handle is still valid");
        assert.ok(hs!.z.valid, "z (never listed) was consumed");
        for (const h of m.handles) h.close();
      },
    });
  }
  // The iterator reads through Channel.prototype.read, not the receiver's own read/waitOne.
  run.run({
    family: "receivers",
    member: "Channel.Symbol(Symbol.asyncIterator)",
    name: "next() on a receiver whose own read/waitOne/kernel lie: the queued message is read",
    expect: "ok",
    call(f, user, ctx): unknown {
      f.ch.write(new Uint8Array([5]), [f.k.createVmo(P)]);
      ctx.arm();
      const r = f.chPeer;
      const undo = lieAbout(r, f, user);
      for (const key of ["read", "waitOne"]) {
        own(r, key, () => {
          user(`receiver's own ${key} getter`);
          return () => {
            throw new Error(`the receiver's own ${key}`);
          };
        });
      }
      try {
        const it = r[Symbol.asyncIterator]();
        const p = it.next(); // runs the generator up to its first yield, synchronously
        p.then((x) => x.value?.handles.forEach((h: Handle) => h.close()), () => {});
        return p;
      } finally {
        undo();
        delete (r as unknown as Record<string, unknown>).read;
        delete (r as unknown as Record<string, unknown>).waitOne;
      }
    },
    verify(f): void {
      assert.equal(f.chPeer.signals & Signals.ChannelReadable, 0, "the message is still queued");
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Family: option bags

/** An option bag whose getters count (and run `user`) and may toggle to junk after a first read. */
function bag(
  values: Record<string, unknown>,
  user: UserCode,
  counts: Record<string, number>,
  junk?: Record<string, unknown>,
): object {
  const o = {};
  for (const [key, v] of Object.entries(values)) {
    counts[key] = 0;
    own(o, key, () => {
      counts[key]++;
      user(`options.${key} getter`);
      return counts[key] === 1 || junk === undefined ? v : junk[key];
    });
  }
  return o;
}

function proxyBag(values: Record<string, unknown>, user: UserCode, gets: string[]): object {
  return new Proxy(values, {
    get(t, k): unknown {
      gets.push(String(k));
      user(`options proxy get ${String(k)}`);
      return Reflect.get(t, k, t);
    },
    has(t, k): boolean {
      user(`options proxy has ${String(k)}`);
      return Reflect.has(t, k);
    },
    ownKeys(t): ArrayLike<string | symbol> {
      user("options proxy ownKeys");
      return Reflect.ownKeys(t);
    },
  });
}

/** The option-bag family: Kernel.open, testKernel, assertNoLeaks, LeakError (waitOne: async). */
export function runOptionFamily(run: Runner): void {
  const openers: Array<{
    member: string;
    values: Record<string, unknown>;
    junk: Record<string, unknown>;
    open(o: object): Kernel;
    check(k: Kernel): void;
  }> = [
    {
      member: "Kernel.open",
      values: {
        backend: "emulated",
        shimPath: "/nonexistent/libzxshim.so",
        seed: 9,
        rootVmarSize: 2 ** 30,
      },
      junk: { backend: "native", shimPath: 42, seed: "x", rootVmarSize: 2 ** 60 },
      open: (o) => Kernel.open(o as never),
      check: (k) => {
        assert.equal(k.backend, "emulated");
        assert.equal(k.rootVmar.len, 2 ** 30);
      },
    },
    {
      member: "testKernel",
      values: { seed: 9, rootVmarSize: 2 ** 30 },
      junk: { seed: "x", rootVmarSize: 2 ** 60 },
      open: (o) => testKernel(o as never),
      check: (k) => {
        assert.equal(k.rootVmar.len, 2 ** 30);
        assert.equal((k as TestKernel).seed, 9);
      },
    },
  ];
  for (const o of openers) {
    const keys = Object.keys(o.values);
    for (const mode of ["counting", "toggling to junk after the first read"] as const) {
      const counts: Record<string, number> = {};
      run.run({
        family: "option bags",
        member: o.member,
        name: `every option a getter (${mode}): each read exactly once`,
        expect: "ok",
        userRuns: keys.length,
        call(f, user, ctx): unknown {
          const b = bag(o.values, user, counts, mode === "counting" ? undefined : o.junk);
          ctx.arm();
          const k = o.open(b);
          f.opened.push(k);
          return k;
        },
        verify(_f, k): void {
          o.check(k as Kernel);
          for (const key of keys) assert.equal(counts[key], 1, `${key} read ${counts[key]} times`);
        },
      });
    }
    run.run({
      family: "option bags",
      member: o.member,
      name: "a Proxy bag: one get per option, no has/ownKeys",
      expect: "ok",
      userRuns: o.member === "Kernel.open" ? 4 : 2,
      call(f, user, ctx): unknown {
        const gets: string[] = [];
        const b = proxyBag(o.values, user, gets);
        ctx.arm();
        const k = o.open(b);
        f.opened.push(k);
        assert.deepEqual([...gets].sort(), [...new Set(gets)].sort(), "an option was read twice");
        return k;
      },
      verify: (_f, k) => o.check(k as Kernel),
    });
    run.run({
      family: "option bags",
      member: o.member,
      name: "options inherited from a prototype",
      expect: "ok",
      call(f, _user, ctx): unknown {
        ctx.arm();
        const k = o.open(Object.create(o.values));
        f.opened.push(k);
        return k;
      },
      verify: (_f, k) => o.check(k as Kernel),
    });
    for (const key of keys) {
      run.run({
        family: "option bags",
        member: o.member,
        name: `a getter for ${key} that throws: its error, nothing opened`,
        expect: "Error: boom",
        userRuns: 1,
        call(f, user, ctx): void {
          const b = { ...o.values };
          own(b, key, () => {
            user(`options.${key} getter that throws`);
            throw new Error("boom");
          });
          ctx.arm();
          f.opened.push(o.open(b));
        },
      });
      // Getters with side effects run before anything is checked: the kernel opens as if the
      // side effect had happened first.
      run.run({
        family: "option bags",
        member: o.member,
        name: `a getter for ${key} that runs code (once, before anything else)`,
        expect: "ok",
        userRuns: 1,
        call(f, user, ctx): unknown {
          const b = { ...o.values };
          own(b, key, () => {
            user(`options.${key} getter`);
            return o.values[key];
          });
          ctx.arm();
          const k = o.open(b);
          f.opened.push(k);
          return k;
        },
        verify: (_f, k) => o.check(k as Kernel),
      }, EFFECTS.slice(0, 6));
      if (key === "backend" || key === "shimPath") {
        for (const [label, v] of stringLiars(o.values[key] as string)) {
          run.run({
            family: "option bags",
            member: o.member,
            name: `${key} = ${label}`,
            expect: "TypeError",
            call(f, user, ctx): void {
              const b = { ...o.values, [key]: v(user) };
              ctx.arm();
              f.opened.push(o.open(b));
            },
          }, EFFECTS.slice(0, 3));
        }
      }
    }
  }
  // assertNoLeaks's options.
  const noLeaks: Array<[string, Expect, number, (f: Fixture, user: UserCode) => unknown]> = [
    ["handles getter (read once)", "ok", 1, (f, user) => {
      const k = Kernel.open({ backend: "emulated", seed: 2 });
      f.opened.push(k);
      const kept = k.createVmo(P);
      const b = {};
      let n = 0;
      own(b, "handles", () => {
        user("options.handles getter");
        return ++n === 1 ? 1 : "junk";
      });
      assertNoLeaks(k, b);
      kept.close();
    }],
    ["a Proxy bag", "ok", 1, (f, user) => {
      const k = Kernel.open({ backend: "emulated", seed: 2 });
      f.opened.push(k);
      return assertNoLeaks(k, proxyBag({ handles: 0 }, user, []) as never);
    }],
    ["a kernel with own liveMemories/closed getters", "ok", 0, (f, user) => {
      const t = testKernel({ seed: 2 });
      f.opened.push(t);
      for (const key of ["liveMemories", "closed", "handleCount", "rootVmar", "faults"]) {
        own(t, key, () => {
          user(`kernel's own ${key}`);
          return 99;
        });
      }
      return assertNoLeaks(t);
    }],
    ["a Kernel whose prototype was set to TestKernel.prototype", "ok", 0, (f) => {
      const k = Kernel.open({ backend: "emulated", seed: 2 });
      f.opened.push(k);
      Object.setPrototypeOf(k, TestKernel.prototype);
      return assertNoLeaks(k);
    }],
    ["a Proxy over a kernel", "TypeError", 0, (f, user) =>
      assertNoLeaks(
        new Proxy(f.k, {
          get(t, k): unknown {
            user(`kernel proxy get ${String(k)}`);
            return Reflect.get(t, k, t);
          },
        }),
      )],
  ];
  for (const [name, expect, runs, call] of noLeaks) {
    run.run({
      family: "option bags",
      member: "assertNoLeaks",
      name,
      expect,
      userRuns: runs,
      call(f, user, ctx): unknown {
        ctx.arm();
        return call(f, user);
      },
    });
  }
  // LeakError reads its report once, into a copy.
  run.run({
    family: "option bags",
    member: "LeakError.constructor",
    name: "a report whose getters toggle: read once, copied",
    expect: "ok",
    userRuns: 4,
    call(_f, user, ctx): unknown {
      const good: Record<string, unknown> = {
        handles: 1,
        mappings: [[4096, 4096]],
        vmars: [],
        memories: 0,
      };
      const b = bag(good, user, {}, { handles: "x", mappings: null, vmars: 5, memories: {} });
      ctx.arm();
      const e = new LeakError(b as never);
      assert.deepEqual(e.report, good);
      assert.equal(e.report.handles, 1);
      return e;
    },
  });
  for (
    const [label, report] of [
      ["handles = { valueOf }", {
        handles: { valueOf: () => 1 },
        mappings: [],
        vmars: [],
        memories: 0,
      }],
      ["mappings = a string", { handles: 0, mappings: "xy", vmars: [], memories: 0 }],
      ["mappings = [[{ valueOf }, 1]]", {
        handles: 0,
        mappings: [[{ valueOf: () => 1 }, 1]],
        vmars: [],
        memories: 0,
      }],
    ] as const
  ) {
    run.run({
      family: "option bags",
      member: "LeakError.constructor",
      name: `report.${label}`,
      expect: "TypeError",
      call(_f, _user, ctx): unknown {
        ctx.arm();
        return new LeakError(report as never);
      },
    });
  }
}

/** String-ish objects (for `backend`, `shimPath`): never converted. */
function stringLiars(good: string): Array<[string, (user: UserCode) => unknown]> {
  return [
    ["a String object", () => Object(good)],
    ["{ toString }", (user) => ({
      toString: () => {
        user("toString");
        return good;
      },
    })],
    ["{ [Symbol.toPrimitive] }", (user) => ({
      [Symbol.toPrimitive]: () => {
        user("Symbol.toPrimitive");
        return good;
      },
    })],
  ];
}

/** Every public member of the exported classes (and the kit's functions). */
export function publicMembers(): string[] {
  const classes: Record<string, object> = {
    Kernel,
    Handle,
    Vmo,
    Vmar,
    Mapping,
    Channel,
    TestKernel,
    FaultInjector,
    LeakError,
  };
  const out: string[] = ["testKernel", "assertNoLeaks"];
  for (const [name, cls] of Object.entries(classes)) {
    const proto = (cls as { prototype: object }).prototype;
    const keys = [
      ...Reflect.ownKeys(proto),
      ...Reflect.ownKeys(cls).filter((k) => !["length", "name", "prototype"].includes(String(k))),
    ];
    for (const k of keys) {
      // (Node 20's Symbol.dispose prints as "Symbol(nodejs.dispose)".)
      const key = k === Symbol.dispose ? "Symbol(Symbol.dispose)" : String(k);
      out.push(`${name}.${key}`);
    }
  }
  return out;
}

/**
 * Members that take no JS value and have no receiver state to lie about, or are covered by the
 * hostile suite only: each with the reason.
 */
export const NO_LYING_CASES: Record<string, string> = {
  "Kernel.default": "no arguments (reads ZXVM_BACKEND, a string from the environment)",
  "Vmar.root": "no arguments (the default kernel's root VMAR)",
  "FaultInjector.constructor": "no arguments",
  "FaultInjector.pending": "src/testing/faults.ts: compares op by identity, converts nothing",
  "FaultInjector.clear": "src/testing/faults.ts: compares op by identity, converts nothing",
  "FaultInjector.check": "src/testing/faults.ts: internal (called by the backend decorator)",
  "FaultInjector.log": "no arguments",
  "TestKernel.liveMemories": "covered by assertNoLeaks (a kernel with own liveMemories)",
  "Channel.export": "no arguments",
  "Kernel.importChannel": "its token's fields are read once each and must already be " +
    "primitives (typeof checks, nothing is converted: valueOf/toString are never called); the " +
    "hostile suite's token kind covers objects with valueOf in every field",
};

// ---------------------------------------------------------------------------------------------
// Family: waitOne's options (asynchronous)

/** Listeners for "abort" on a signal, where the runtime can tell (node:events). */
type ListenerCount = ((s: AbortSignal) => number) | null;

async function listenerCounter(): Promise<ListenerCount> {
  try {
    const ev = await import("node:events");
    const get = (ev as { getEventListeners?: (t: EventTarget, n: string) => unknown[] })
      .getEventListeners;
    if (typeof get !== "function") return null;
    return (s) => get(s, "abort").length;
  } catch {
    return null;
  }
}

/** One waitOne case: `start` makes the call; `settle` ends a wait that started. */
interface WaitCase {
  name: string;
  /** The synchronous outcome of the call ("ok": it returned a promise). */
  expect: Expect;
  /** How the promise must settle when the call returned one. */
  settles?: Expect;
  userRuns: number;
  start(f: Fixture, user: UserCode, ac: AbortController): Promise<number>;
  /** End the wait (default: abort `ac`). */
  settle?(f: Fixture, ac: AbortController): void;
}

function waitCases(): WaitCase[] {
  const S = Signals.VmoZeroChildren;
  const closeVmo = (f: Fixture): void => f.vmo.close();
  const list: WaitCase[] = [];
  list.push({
    name: "deadline getter (Infinity, then junk): read once",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 1,
    start: (f, user) => {
      const o = {};
      let n = 0;
      own(o, "deadline", () => {
        user("options.deadline getter");
        return ++n === 1 ? Infinity : "junk";
      });
      return f.vmo.waitOne(S, o);
    },
    settle: closeVmo,
  });
  list.push({
    name: "signal getter (a real signal, then junk): read once, and followed",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 1,
    start: (f, user, ac) => {
      const o = {};
      let n = 0;
      own(o, "signal", () => {
        user("options.signal getter");
        return ++n === 1 ? ac.signal : { aborted: true };
      });
      return f.vmo.waitOne(S, o);
    },
  });
  list.push({
    name: "a Proxy bag: one get per option",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 2,
    start: (f, user, ac) => {
      const gets: string[] = [];
      const p = f.vmo.waitOne(S, proxyBag({ signal: ac.signal }, user, gets) as never);
      p.catch(() => {}); // the runner awaits p; this only keeps a failed assertion's p handled
      assert.deepEqual(gets, ["deadline", "signal"]);
      return p;
    },
  });
  list.push({
    name: "a real signal whose own aborted getter lies (says true; the engine says false)",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 0,
    start: (f, user, ac) => {
      own(ac.signal, "aborted", () => {
        user("signal's own aborted getter");
        return true;
      });
      return f.vmo.waitOne(S, { signal: ac.signal });
    },
    // (Deno's own AbortController.abort() reads the lying getter and gives up: settle otherwise.)
    settle: closeVmo,
  });
  list.push({
    name: "an aborted signal whose own aborted getter says false: canceled",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 0,
    start: (f, user, ac) => {
      ac.abort();
      own(ac.signal, "aborted", () => {
        user("signal's own aborted getter");
        return false;
      });
      return f.vmo.waitOne(S, { signal: ac.signal });
    },
    settle: () => {},
  });
  list.push({
    name: "a real signal whose own add/removeEventListener run code (never called)",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 0,
    start: (f, user, ac) => {
      for (const m of ["addEventListener", "removeEventListener", "dispatchEvent"]) {
        Object.defineProperty(ac.signal, m, {
          value: () => {
            user(`signal's own ${m}`);
            f.vmo.close();
          },
          configurable: true,
        });
      }
      return f.vmo.waitOne(S, { signal: ac.signal });
    },
  });
  list.push({
    name: "a real signal whose own aborted getter closes the handle (never called)",
    expect: "ok",
    settles: "CANCELED",
    userRuns: 0,
    start: (f, user, ac) => {
      own(ac.signal, "aborted", () => {
        user("signal's own aborted getter");
        f.vmo.close();
        return false;
      });
      return f.vmo.waitOne(S, { signal: ac.signal });
    },
    settle: closeVmo,
  });
  list.push({
    name: "a signal getter that closes the handle: the call sees it closed (BAD_HANDLE)",
    expect: "BAD_HANDLE",
    userRuns: 1,
    start: (f, user, ac) => {
      const o = {};
      own(o, "signal", () => {
        user("options.signal getter");
        f.vmo.close();
        return ac.signal;
      });
      return f.vmo.waitOne(S, o);
    },
  });
  list.push({
    name: "a deadline getter that closes the kernel: the call sees it closed (BAD_HANDLE)",
    expect: "BAD_HANDLE",
    userRuns: 1,
    start: (f, user) => {
      const o = {};
      own(o, "deadline", () => {
        user("options.deadline getter");
        f.k.close();
        return Infinity;
      });
      return f.vmo.waitOne(S, o);
    },
  });
  for (
    const [label, make] of [
      ["a plain object posing as a signal", (user: UserCode) => ({
        aborted: false,
        reason: undefined,
        addEventListener: () => user("fake addEventListener"),
        removeEventListener: () => user("fake removeEventListener"),
      })],
      ["Object.create(AbortSignal.prototype)", () => Object.create(AbortSignal.prototype)],
      ["an EventTarget", () => new EventTarget()],
      ["an AbortController", () => new AbortController()],
    ] as const
  ) {
    list.push({
      name: `signal = ${label}: TypeError`,
      expect: "TypeError",
      userRuns: 0,
      start: (f, user) => f.vmo.waitOne(S, { signal: make(user) as AbortSignal }),
    });
  }
  // The first five liars are the number-like ones (valueOf, toPrimitive, toString, boxed).
  numberLiars(0, () => {}).slice(0, 5).forEach(([label], li) => {
    list.push({
      name: `deadline = ${label}: TypeError`,
      expect: "TypeError",
      userRuns: 0,
      start: (f, user) => {
        const liar = numberLiars(Date.now() + 3_600_000, user)[li][1];
        return f.vmo.waitOne(S, { deadline: liar as number });
      },
    });
  });
  list.push({
    name: "deadline = a bigint: TypeError",
    expect: "TypeError",
    userRuns: 0,
    start: (f) => f.vmo.waitOne(S, { deadline: 10n as unknown as number }),
  });
  return list;
}

/** The waitOne family: every wait that starts is settled, and stops following the signal. */
export async function runWaitFamily(open: OpenKernel, run: Runner): Promise<void> {
  const listeners = await listenerCounter();
  let seed = 500_000;
  for (const c of waitCases()) {
    const name = `${run.label}: Handle.waitOne: ${c.name}`;
    const t = run.tally;
    t.cases++;
    t.families["waitOne options"] = (t.families["waitOne options"] ?? 0) + 1;
    t.members.add("Handle.waitOne");
    const f = fixture(open, seed++);
    const ac = new AbortController();
    try {
      // A child, so that VmoZeroChildren is not asserted and the wait really waits.
      f.vmo.createChild(VmoChildOptions.Snapshot, 0, P);
      const user = userCode(f, () => {}, { buffer: null });
      const before = state(f);
      let got = "ok";
      let p: Promise<number> | null = null;
      try {
        p = c.start(f, user, ac);
      } catch (e) {
        got = outcome(e);
      }
      if (got !== c.expect) t.failures.push(`${name}: expected ${c.expect}, got ${got}`);
      if (f.ran !== c.userRuns) {
        t.failures.push(
          `${name}: user code ran ${f.ran} times (${f.log.join("; ")}), expected ${c.userRuns}`,
        );
      }
      if (p === null) {
        if (c.expect === "TypeError" && state(f) !== before) {
          t.failures.push(`${name}: state changed on failure`);
        }
        continue;
      }
      (c.settle ?? (() => ac.abort()))(f, ac);
      let settled = "resolved";
      try {
        await p;
      } catch (e) {
        settled = outcome(e);
      }
      if (settled !== (c.settles ?? "resolved")) {
        t.failures.push(`${name}: settled ${settled}, expected ${c.settles}`);
      }
      // The settlement handler that stops following the caller's signal runs right after.
      await Promise.resolve();
      if (listeners !== null && listeners(ac.signal) !== 0) {
        t.failures.push(`${name}: ${listeners(ac.signal)} listener(s) left on the caller's signal`);
      }
    } finally {
      ac.abort();
      f.k.close();
    }
  }
  // Many waits on one long-lived signal leave no listener behind.
  if (listeners === null) return;
  const f = fixture(open, seed++);
  const ac = new AbortController();
  run.tally.cases++;
  run.tally.families["waitOne options"]++;
  try {
    for (let i = 0; i < 50; i++) {
      const child = f.vmo.createChild(VmoChildOptions.Snapshot, 0, P);
      const p = f.vmo.waitOne(Signals.VmoZeroChildren, { signal: ac.signal });
      child.close();
      await p;
    }
    await Promise.resolve();
    const n = listeners(ac.signal);
    if (n !== 0) {
      run.tally.failures.push(`${run.label}: Handle.waitOne: 50 settled waits left ${n} listeners`);
    }
  } finally {
    f.k.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Family: SharedArrayBuffers written (and grown) by a Worker during the copy

/** The parts of the Web Worker API used here. */
type WebWorkerClass = new (url: URL, o: { type: "module" }) => {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message: string }) => void) | null;
  postMessage(m: unknown): void;
  terminate(): void;
};

interface WorkerHandle {
  next(): Promise<unknown>;
  terminate(): Promise<void>;
}

async function startWorker(
  job: { data: SharedArrayBuffer; ctl: SharedArrayBuffer; grow: boolean },
): Promise<WorkerHandle> {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const url = new URL(`./lying_worker${ext}`, import.meta.url);
  const inbox: unknown[] = [];
  let wake: (() => void) | null = null;
  const push = (m: unknown): void => {
    inbox.push(m);
    wake?.();
  };
  const next = async (): Promise<unknown> => {
    while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
    wake = null;
    return inbox.shift();
  };
  if (typeof Deno !== "undefined") {
    // A Web Worker (typed by hand: the npm build type-checks this file against Node's types).
    const W = (globalThis as unknown as { Worker: WebWorkerClass }).Worker;
    const w = new W(url, { type: "module" });
    w.onmessage = (e) => push(e.data);
    w.onerror = (e) => push(`worker error: ${e.message}`);
    w.postMessage(job);
    return {
      next,
      terminate: () => {
        w.terminate();
        return Promise.resolve();
      },
    };
  }
  const wt = await import("node:worker_threads");
  const { fileURLToPath } = await import("node:url");
  const w = new wt.Worker(fileURLToPath(url), { workerData: job });
  w.on("message", push);
  w.on("error", (e: Error) => push(`worker error: ${e.message}`));
  return {
    next,
    terminate: async () => {
      await w.terminate();
    },
  };
}

/**
 * While a Worker rewrites (and, in the second round, grows) a SharedArrayBuffer, copy it into
 * and out of the VMO and the mapping many times: no crash, every call succeeds with the length
 * the view had when the call decoded it, and every byte copied is one the buffer held (0x5A or
 * 0xA5: the worker alternates them). Returns how many rewrites the worker made meanwhile.
 */
export async function runSharedWorker(open: OpenKernel, run: Runner): Promise<number> {
  let rewrites = 0;
  for (const grow of [false, true]) {
    const len = 3 * P;
    const B = SharedArrayBuffer as unknown as new (
      n: number,
      o?: { maxByteLength: number },
    ) => SharedArrayBuffer;
    const data = grow ? new B(len, { maxByteLength: len + 64 * 1024 }) : new SharedArrayBuffer(len);
    const ctl = new SharedArrayBuffer(8);
    new Uint8Array(data).fill(0x5a);
    const w = await startWorker({ data, ctl, grow });
    const f = fixture(open, 700_000 + (grow ? 1 : 0));
    const label = grow ? "growing" : "rewriting";
    const ok = (b: Uint8Array): boolean => b.every((x) => x === 0x5a || x === 0xa5);
    try {
      const ready = await w.next();
      if (ready !== "ready") throw new Error(String(ready));
      const view = grow ? new Uint8Array(data, 0, len) : new Uint8Array(data);
      const tracking = new Uint8Array(data);
      const c0 = Atomics.load(new Int32Array(ctl), 1);
      const checks: Array<[string, () => void]> = [
        ["Vmo.write", () => {
          f.vmo.write(view, P);
          if (!ok(f.vmo.read(len, P))) throw new Error("a byte the buffer never held");
        }],
        ["Vmo.read", () => {
          // [P, 4P) holds only bytes the first check copied from the buffer.
          f.vmo.read(view, P);
        }],
        ["Mapping.write", () => {
          f.map.write(0, view.subarray(0, 2 * P));
          if (!ok(f.map.read(0, 2 * P))) throw new Error("a byte the buffer never held");
        }],
        ["Vmo.write", () => {
          // A tracking view: its length is the one it had when the call decoded it. Lengths
          // only grow, so OUT_OF_RANGE is right exactly when it is too long by now.
          try {
            f.vmo.write(tracking, 0);
          } catch (e) {
            if (!(outcome(e) === "OUT_OF_RANGE" && tracking.length > f.vmo.size)) throw e;
          }
        }],
      ];
      for (const [member, check] of checks) {
        run.tally.cases++;
        run.tally.families["shared buffers + worker"] =
          (run.tally.families["shared buffers + worker"] ?? 0) + 1;
        run.tally.members.add(member);
        try {
          for (let i = 0; i < 200; i++) check();
        } catch (e) {
          run.tally.failures.push(
            `${run.label}: ${member} while a worker is ${label} the buffer: ${outcome(e)}`,
          );
        }
      }
      rewrites += Atomics.load(new Int32Array(ctl), 1) - c0;
      Atomics.store(new Int32Array(ctl), 0, 1);
      const done = await w.next();
      if (done !== "done") throw new Error(String(done));
    } finally {
      await w.terminate();
      f.k.close();
    }
  }
  return rewrites;
}
