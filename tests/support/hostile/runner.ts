/**
 * How a hostile case runs: every case gets a fresh {@link Fixture} (two kernels and a set of
 * live, closed and foreign objects), calls one method with one hostile value, and compares the
 * outcome with what it expects; a call that fails must leave the {@link snapshot} of the
 * fixture unchanged. {@link runMethod} derives a method's cases from its description
 * ({@link Method}: parameters, valid arguments, receivers); the helpers below it build those
 * descriptions.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertNoLeaks,
  Channel,
  Kernel,
  LeakError,
  Mapping,
  Rights,
  statusName,
  Vmar,
  Vmo,
  VmoOptions,
  ZxError,
  type ZxStatus,
  ZxVmOption as O,
} from "../../../testing.ts";
import { type Expect, hostileValues, type Param, show } from "./values.ts";

/** The page size the cases are written for. */
export const P = 4096;
/** `ZX_VM_PERM_READ | ZX_VM_PERM_WRITE`. */
export const RW: number = O.VmPermRead | O.VmPermWrite;

/** The objects every case starts from. */
export interface Fixture {
  k: Kernel;
  other: Kernel;
  /** `k.rootVmar` (borrowed). */
  root: Vmar;
  /** 3 pages, resizable, named, bytes 1..5 at offset 10; mapped by `map`. */
  vmo: Vmo;
  /** 1 page; mapped read-only by `roMap`. */
  vmo2: Vmo;
  /** A duplicate of `vmo`, the receiver of `replace` cases (consumed by them). */
  vmoR: Vmo;
  /** A 64-page sub-VMAR of the root (CAN_MAP_READ|WRITE|SPECIFIC). */
  vmar: Vmar;
  /** A duplicate of `vmar`, the receiver of `replace` cases. */
  vmarR: Vmar;
  /** 2 pages of `vmo`, read/write, in `vmar`. */
  map: Mapping;
  /** `vmo2`, read-only, in `vmar`. */
  roMap: Mapping;
  closedVmo: Vmo;
  closedVmar: Vmar;
  foreignVmo: Vmo;
  foreignVmar: Vmar;
  /** `foreignVmo` mapped read/write in `other`'s root VMAR. */
  foreignMap: Mapping;
  /** A channel endpoint, connected to `chPeer`. */
  ch: Channel;
  /** `ch`'s peer. */
  chPeer: Channel;
  /** An endpoint, the receiver of `replace` cases (consumed by them); its peer is not watched. */
  chR: Channel;
  /** An endpoint with only TRANSFER | WAIT | INSPECT (no READ, no WRITE); its peer is open. */
  chLimited: Channel;
  /** A closed endpoint. */
  closedCh: Channel;
  /** An endpoint of `other`. */
  foreignCh: Channel;
}

/** Opens a kernel for a fixture. */
export type OpenKernel = (seed: number) => Kernel;

function fixture(open: OpenKernel, seed: number, openOther: OpenKernel): Fixture {
  const k = open(seed);
  const other = openOther(seed + 1);
  const root = k.rootVmar;
  const vmo = k.createVmo(3 * P, VmoOptions.Resizable);
  vmo.write(new Uint8Array([1, 2, 3, 4, 5]), 10);
  vmo.name = "fixture";
  const vmo2 = k.createVmo(P);
  vmo2.write(new Uint8Array([7, 7, 7]), 100);
  const vmoR = vmo.duplicate();
  const vmar = root.allocate(O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapSpecific, 0, 64 * P);
  const vmarR = vmar.duplicate();
  const map = vmar.map(O.VmPermRead | O.VmPermWrite, 0, vmo, 0, 2 * P);
  const roMap = vmar.map(O.VmPermRead, 0, vmo2, 0, P);
  const closedVmo = k.createVmo(P);
  closedVmo.close();
  const closedVmar = root.allocate(O.VmCanMapRead, 0, P);
  closedVmar.close();
  const foreignVmo = other.createVmo(P);
  const foreignVmar = other.rootVmar.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 4 * P);
  const foreignMap = other.rootVmar.map(O.VmPermRead | O.VmPermWrite, 0, foreignVmo, 0, P);
  const [ch, chPeer] = k.createChannel();
  const [chR] = k.createChannel();
  const [limited] = k.createChannel();
  const chLimited = limited.replace(Rights.Transfer | Rights.Wait | Rights.Inspect);
  const [closedCh] = k.createChannel();
  closedCh.close();
  const [foreignCh] = other.createChannel();
  return {
    k,
    other,
    root,
    vmo,
    vmo2,
    vmoR,
    vmar,
    vmarR,
    map,
    roMap,
    closedVmo,
    closedVmar,
    foreignVmo,
    foreignVmar,
    foreignMap,
    ch,
    chPeer,
    chR,
    chLimited,
    closedCh,
    foreignCh,
  };
}

function digest(a: Uint8Array): string {
  let h = 0x811C9DC5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 0x01000193);
  return `${a.length}:${(h >>> 0).toString(16)}`;
}

function attempt<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (e) {
    return e instanceof ZxError ? statusName(e.status) : String(e);
  }
}

/**
 * Which free ranges of `v` (between its mappings) can still be allocated whole: a failed call
 * that left a sub-VMAR (or a mapping the books do not list) behind shows up here. Each probe
 * region is destroyed again.
 */
function freeRanges(v: Vmar): unknown {
  return attempt(() => {
    const base = v.base;
    const end = base + v.len;
    const ms = v.mappings().sort((a, b) => a.addr - b.addr);
    const out: string[] = [];
    let cur = base;
    for (const m of [...ms, { addr: end, len: 0 }]) {
      if (m.addr > cur) {
        const off = cur - base;
        const len = m.addr - cur;
        out.push(
          `${off}+${len}:${
            attempt(() => {
              const c = v.allocate(O.VmSpecific, off, len);
              c.destroy();
              c.close();
              return "free";
            })
          }`,
        );
      }
      cur = Math.max(cur, m.addr + m.len);
    }
    return out;
  });
}

/** Sub-VMARs of a kernel's root (from the testing kit's leak report). */
function rootChildren(k: Kernel): unknown {
  if (k.closed) return "closed";
  try {
    return assertNoLeaks(k).vmars;
  } catch (e) {
    if (e instanceof LeakError) return e.report.vmars;
    throw e;
  }
}

/** Everything a failed call must not change. */
function snapshot(f: Fixture): Record<string, unknown> {
  const vmoState = (v: Vmo): unknown =>
    v.valid
      ? {
        info: v.info(),
        data: digest(v.read(v.size, 0)),
        content: v.contentSize,
        name: v.name,
        rights: v.rights,
        signals: v.signals,
      }
      : "closed";
  const vmarState = (v: Vmar): unknown =>
    v.valid ? [v.base, v.len, v.rights, attempt(() => v.mappings())] : "closed";
  const mapState = (m: Mapping): unknown => [m.alive, m.addr, m.len, m.options];
  // An endpoint: open, its signals (what is queued, whether the peer is there), its rights.
  const chState = (c: Channel): unknown => c.valid ? [c.signals, c.rights] : "closed";
  return {
    handles: f.k.handleCount,
    otherHandles: f.other.handleCount,
    mappings: attempt(() => f.k.rootVmar.mappings()),
    otherMappings: f.other.closed ? "closed" : f.other.rootVmar.mappings(),
    rootChildren: rootChildren(f.k),
    otherRootChildren: rootChildren(f.other),
    root: [f.root.valid, attempt(() => f.root.rights), attempt(() => f.root.basicInfo())],
    vmo: vmoState(f.vmo),
    vmo2: vmoState(f.vmo2),
    vmoR: f.vmoR.valid ? f.vmoR.rights : "closed",
    vmar: vmarState(f.vmar),
    vmarFree: f.vmar.valid ? freeRanges(f.vmar) : "closed",
    vmarR: f.vmarR.valid ? f.vmarR.rights : "closed",
    map: mapState(f.map),
    roMap: mapState(f.roMap),
    foreign: vmoState(f.foreignVmo),
    foreignVmar: vmarState(f.foreignVmar),
    foreignMap: mapState(f.foreignMap),
    ch: chState(f.ch),
    chPeer: chState(f.chPeer),
    chR: f.chR.valid ? f.chR.rights : "closed",
    chLimited: chState(f.chLimited),
    foreignCh: f.other.closed ? "closed" : chState(f.foreignCh),
    closed: [f.closedVmo.valid, f.closedVmar.valid, f.closedCh.valid],
    def: [Kernel.default.handleCount, Vmar.root().mappings().length],
  };
}

/** What a call did: `"ok"`, `"TypeError"` or a status name, with the error thrown. */
interface Outcome {
  got: Expect;
  error?: unknown;
}

/**
 * Runs `fn` and names its outcome; results that hold resources are released. Errors other
 * than `TypeError` and `ZxError` are rethrown.
 */
export function outcome(fn: () => unknown): Outcome {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => {}); // waitOne: only its synchronous checks matter
    // Results that hold resources are released (Vmo.create uses the shared default kernel).
    if (r instanceof Vmo || r instanceof Vmar || r instanceof Channel) r.close();
    else if (r instanceof Mapping) r.unmap();
    else if (Array.isArray(r)) { for (const x of r) if (x instanceof Channel) x.close(); }
    return { got: "ok" };
  } catch (e) {
    if (e instanceof ZxError) return { got: statusName(e.status).replace("ZX_ERR_", ""), error: e };
    if (e instanceof TypeError) return { got: "TypeError", error: e };
    throw e;
  }
}

/** A `this` for a method, with the outcome of the valid arguments on it. */
export interface Receiver {
  label: string;
  get: (f: Fixture) => unknown;
  /** Outcome of the valid arguments (the argument checks come first, so bad ones win). */
  expect: Expect;
  /** Prepares the fixture (before the state snapshot). */
  setup?: (f: Fixture) => void;
  /** Also run the type/domain junk of every parameter on this receiver (default: true). */
  sweep?: boolean;
  /** A failed call invalidates this receiver (replace): the fixture key it lives in. */
  consumes?: Consumable;
}

/** The fixture's handles that `replace` cases consume. */
export type Consumable = "vmoR" | "vmarR" | "chR";

/** A public method or accessor: its parameters, valid arguments and receivers. */
export interface Method {
  name: string;
  params: Param[];
  valid: (f: Fixture) => unknown[];
  /** Call the method on `recv` with `args`. */
  call: (recv: unknown, args: unknown[], f: Fixture) => unknown;
  /** The first receiver also gets the extreme and extra values. */
  receivers: Receiver[];
  /** Fault statuses of this method must carry `fault.access` (Mapping.read/write). */
  faultAccess?: "read" | "write";
}

/** A case that checks its own results (assertions inside `run`), on a fresh fixture. */
export interface Scenario {
  name: string;
  run: (f: Fixture) => void;
}

/** A tally of the cases run. */
export interface HostileTally {
  cases: number;
  failures: string[];
}

/** Options of {@link Runner.check}. */
interface CheckOptions {
  setup?: (f: Fixture) => void;
  consumes?: Consumable;
  faultAccess?: "read" | "write";
}

const FAULT_STATUSES = ["NOT_FOUND", "ACCESS_DENIED", "OUT_OF_RANGE"];

/** Runs cases on fresh fixtures and tallies them. */
export class Runner {
  readonly tally: HostileTally = { cases: 0, failures: [] };
  #seed = 100;
  constructor(
    readonly open: OpenKernel,
    readonly label: string,
    readonly openOther: OpenKernel,
  ) {}

  fixture(): Fixture {
    return fixture(this.open, this.#seed++, this.openOther);
  }

  #fail(name: string, what: string): void {
    this.tally.failures.push(`${this.label}: ${name}: ${what}`);
  }

  /** One case: `fn` on a fresh fixture must give `expect`; a failure must change nothing. */
  check(name: string, expect: Expect, fn: (f: Fixture) => unknown, opts: CheckOptions = {}): void {
    const f = this.fixture();
    try {
      opts.setup?.(f);
      const before = snapshot(f);
      let o: Outcome;
      try {
        o = outcome(() => fn(f));
      } catch (e) {
        o = { got: `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
      }
      this.tally.cases++;
      if (o.got !== expect) return this.#fail(name, `expected ${expect}, got ${o.got}`);
      if (opts.faultAccess && o.error instanceof ZxError && FAULT_STATUSES.includes(o.got)) {
        const fault = o.error.fault;
        if (o.error.op !== "page_fault" || fault?.access !== opts.faultAccess) {
          this.#fail(name, `a fault without fault info (${o.error.op}, ${JSON.stringify(fault)})`);
        }
      }
      if (o.got === "ok") return;
      if (opts.consumes !== undefined) {
        // replace: the receiver is gone also on failure; nothing else changed.
        if (f[opts.consumes].valid) this.#fail(name, "receiver valid after failed replace");
        before[opts.consumes] = "closed";
        before.handles = (before.handles as number) - 1;
      }
      try {
        assert.deepEqual(snapshot(f), before);
      } catch (e) {
        this.#fail(
          name,
          `failed with ${o.got} but changed state: ${
            e instanceof Error ? e.message.slice(0, 600) : e
          }`,
        );
      }
    } finally {
      f.k.close();
      f.other.close();
    }
  }

  /** A case that checks its own results (assertions inside `fn`). */
  scenario(name: string, fn: (f: Fixture) => void): void {
    const f = this.fixture();
    try {
      this.tally.cases++;
      fn(f);
    } catch (e) {
      this.#fail(name, e instanceof Error ? e.message.slice(0, 600) : String(e));
    } finally {
      f.k.close();
      f.other.close();
    }
  }
}

/**
 * Every case of one method: the valid arguments on each receiver, and each parameter's hostile
 * values on the first receiver and on every receiver that does not opt out (`sweep: false`).
 */
export function runMethod(run: Runner, m: Method): void {
  m.receivers.forEach((r, ri) => {
    const first = ri === 0;
    const base = `${m.name} on ${r.label}`;
    const opts = { setup: r.setup, consumes: r.consumes, faultAccess: m.faultAccess };
    // The valid arguments on this receiver.
    run.check(`${base} (valid arguments)`, r.expect, (f) => m.call(r.get(f), m.valid(f), f), opts);
    if (!first && r.sweep === false) return;
    m.params.forEach((p, i) => {
      const probe = run.fixture();
      let values: Array<[unknown, Expect]>;
      try {
        values = hostileValues(p, probe, first);
      } finally {
        probe.k.close();
        probe.other.close();
      }
      values.forEach(([v, expect], j) => {
        run.check(`${base}: ${p.name}=${show(v)}`, expect, (f) => {
          // Re-create fixture-bound values (handles, addresses) for this fixture.
          const args = m.valid(f);
          args[i] = hostileValues(p, f, first)[j][0];
          return m.call(r.get(f), args, f);
        }, opts);
      });
    });
  });
}

// ------------------------------------------------------------------ describing methods

/** Call `fn` with `recv` as `this`, bypassing TypeScript's receiver and overload typing. */
export function invoke(fn: unknown, recv: unknown, ...args: unknown[]): unknown {
  return (fn as (...a: unknown[]) => unknown).apply(recv, args);
}

/** The getter `key` of `proto`, callable on any receiver. */
export function getter(proto: object, key: string): (recv: unknown) => unknown {
  const d = Object.getOwnPropertyDescriptor(proto, key);
  assert.ok(d?.get, `${key} is a getter`);
  return (recv) => d.get!.call(recv);
}

/** The setter `key` of `proto`, callable on any receiver. */
export function setter(proto: object, key: string): (recv: unknown, v: unknown) => void {
  const d = Object.getOwnPropertyDescriptor(proto, key);
  assert.ok(d?.set, `${key} is a setter`);
  return (recv, v) => d.set!.call(recv, v);
}

/** Closes the fixture's other kernel (a receiver's setup). */
export const closeOther = (f: Fixture): void => f.other.close();
/** Destroys the fixture's sub-VMAR (a receiver's setup). */
export const destroyVmar = (f: Fixture): void => f.vmar.destroy();

/** A receiver with the outcome of the valid arguments on it (default `"ok"`). */
export function on(label: string, get: (f: Fixture) => unknown, expect: Expect = "ok"): Receiver {
  return { label, get, expect };
}

/** Receivers that are not zxvm objects of the method's class. */
export function aliens(...extra: Array<[string, (f: Fixture) => unknown]>): Receiver[] {
  const list: Array<[string, (f: Fixture) => unknown]> = [["a plain object", () => ({})], ...extra];
  return list.map(([label, get]) => ({ label, get, expect: "TypeError", sweep: false }));
}

/** A parameter the method ignores (an extra argument). */
export const IGNORED: Param = { name: "(extra argument)", kind: "ignored" };

// ------------------------------------------------------------------ writing scenarios

/** `n` bytes of value `b`. */
export const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

/** Asserts equal contents. */
export const same = (a: Uint8Array, b: Uint8Array, what: string): void =>
  assert.deepEqual(Array.from(a), Array.from(b), what);

/** Asserts that `fn` throws a `ZxError` with `status`; returns it. */
export function throwsStatus(fn: () => unknown, status: ZxStatus, what: string): ZxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ZxError && e.status === status) return e;
    throw new Error(`${what}: expected ${statusName(status)}, got ${e}`);
  }
  throw new Error(`${what}: expected ${statusName(status)}, got success`);
}
