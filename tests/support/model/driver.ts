/**
 * The driver of the differential model: runs one operation sequence ({@link Op}) on one kernel,
 * producing comparable outcomes. Two drivers over two kernels opened with the same seed must
 * produce identical outcomes and identical state after every step (addresses relative to the
 * root VMAR's base; `committedBytes` excluded, because the native backend counts real page
 * allocation).
 *
 * @module
 */
import {
  type Kernel,
  type Mapping,
  Rights,
  statusName,
  type Vmar,
  type Vmo,
  ZxError,
} from "../../../mod.ts";
import type { Addr, Op } from "./ops.ts";

const P = 4096;

/** The outcome of one step, comparable across kernels. */
export type Outcome =
  | { ok: unknown }
  | { err: string; op?: string; fault?: unknown; after?: string }
  | { skip: string };

/** Operations on VMOs (they name one by index). */
type VmoStep = Extract<
  Op,
  {
    t:
      | "create"
      | "write"
      | "read"
      | "readInto"
      | "setSize"
      | "child"
      | "vmoOp"
      | "contentSize"
      | "name"
      | "info";
  }
>;
/** Operations on VMARs and address ranges. */
type VmarStep = Extract<
  Op,
  { t: "allocate" | "map" | "unmap" | "protect" | "destroy" | "vmarOp" }
>;
/** Operations on handles of either kind. */
type HandleStep = Extract<Op, { t: "dup" | "replace" | "close" }>;
/** Operations through mappings. */
type MappingStep = Extract<Op, { t: "mread" | "mwrite" | "mbytes" | "view" | "munmap" }>;

function pattern(len: number, b: number): Uint8Array {
  const a = new Uint8Array(len);
  for (let i = 0; i < len; i++) a[i] = (b + i * 7) & 0xFF;
  return a;
}

function digest(a: Uint8Array): string {
  // FNV-1a, plus the length: enough to tell contents apart in a comparison.
  let h = 0x811C9DC5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 0x01000193);
  return `${a.length}:${(h >>> 0).toString(16)}`;
}

/**
 * Whether a view is still attached, read as `byteLength`, not `length`: on Node 20 (V8 11.3)
 * optimized code reads a stale `length` of a typed array over a detached plain buffer (native
 * views) at a site that has also seen typed arrays over resizable buffers (emulated views);
 * `byteLength` and element accesses are checked correctly there.
 */
function attached(v: Uint8Array): boolean {
  return v.byteLength > 0;
}

/** Documented difference: an emulated view cannot cross a 1 GiB boundary of the VMO. */
function crosses1GiB(vmoOffset: number, len: number): boolean {
  return Math.floor(vmoOffset / 2 ** 30) !== Math.floor((vmoOffset + len - 1) / 2 ** 30);
}

const CROSSES_1GIB = { skip: "view across a 1 GiB VMO boundary (documented difference)" };

/** Runs operations on one kernel. */
export class Driver {
  readonly kernel: Kernel;
  readonly rootBase: number;
  /**
   * Start of the kernel's koid range (kernels open at the same time number their objects
   * from disjoint ranges): koids are compared relative to it, as addresses are to `rootBase`.
   */
  readonly koidBase: number;
  /** Largest alignment (log2) both kernels' root bases satisfy; larger requests are clamped. */
  maxAlignLog = 32;
  readonly vmos: Vmo[] = [];
  readonly vmars: Vmar[] = [];
  /** Each VMAR's base (null: unknown, allocated through a handle without `Rights.Inspect`). */
  readonly vmarBase: Array<number | null> = [];
  readonly maps: Mapping[] = [];
  readonly mapVmoOff: number[] = [];
  /**
   * Per mapping: the last view `bytes()` gave (null: none). `refresh` is set after a
   * `setSize`: the view stays valid as far as the kernel goes (it detaches what must go), but
   * how much of it stays attached then differs by backend (emulated memory may move to a
   * bigger buffer), so a `held` step re-obtains it instead of touching it.
   */
  readonly views: Array<{ view: Uint8Array; refresh: boolean } | null> = [];

  constructor(kernel: Kernel) {
    this.kernel = kernel;
    this.rootBase = kernel.rootVmar.base;
    this.koidBase = kernel.rootVmar.koid;
    this.vmars.push(kernel.rootVmar);
    this.vmarBase.push(this.rootBase);
  }

  #rel(addr: number): number {
    return addr - this.rootBase;
  }

  /** A koid relative to the kernel's range (0, "none", stays 0). */
  #koid(koid: number): number {
    return koid === 0 ? 0 : koid - this.koidBase;
  }

  /** `v.info()` without `committedBytes`, koids relative. */
  #vmoInfo(v: Vmo): Omit<ReturnType<Vmo["info"]>, "committedBytes"> {
    const { committedBytes: _c, ...rest } = v.info();
    return { ...rest, koid: this.#koid(rest.koid), parentKoid: this.#koid(rest.parentKoid) };
  }

  #alignClamp(opts: number): number {
    const a = opts >>> 24;
    if (a >= 10 && a <= 32 && a > this.maxAlignLog) {
      return ((opts & 0xFFFFFF) | (Math.max(12, this.maxAlignLog) << 24)) >>> 0;
    }
    return opts;
  }

  /** The VMAR for an address op: for even `r` and a mapping-relative address, the mapping's. */
  #target(r: number, at: Addr): Vmar {
    if (at.from === "map" && this.maps.length > 0 && r % 2 === 0) {
      return this.maps[at.i % this.maps.length].vmar;
    }
    return this.vmars[r % this.vmars.length];
  }

  #addr(at: Addr): number | null {
    let base: number | null;
    if (at.from === "map" && this.maps.length > 0) base = this.maps[at.i % this.maps.length].addr;
    else base = this.vmarBase[at.i % this.vmarBase.length];
    if (base === null) return null;
    const a = base + at.pages * P + at.bytes;
    return a < 0 ? null : a;
  }

  #outcome(fn: () => unknown): Outcome {
    try {
      return { ok: fn() };
    } catch (e) {
      if (e instanceof ZxError) {
        const o: { err: string; op?: string; fault?: unknown } = {
          err: statusName(e.status),
          op: e.op,
        };
        if (e.fault !== undefined) {
          o.fault = { addr: this.#rel(e.fault.addr), access: e.fault.access };
        }
        return o;
      }
      if (e instanceof TypeError) return { err: "TypeError" };
      throw e;
    }
  }

  #newRights(h: Vmo | Vmar, mode: "same" | "drop" | "raw", b: number): number {
    if (mode === "same") return Rights.SameRights;
    if (mode === "raw") return b >>> 0;
    let cur: number;
    try {
      cur = h.rights;
    } catch {
      cur = 0;
    }
    return (cur & ~b) >>> 0;
  }

  /** Execute one operation. */
  exec(op: Op): Outcome {
    switch (op.t) {
      case "create":
      case "write":
      case "read":
      case "readInto":
      case "setSize":
      case "child":
      case "vmoOp":
      case "contentSize":
      case "name":
      case "info":
        return this.#execVmo(op);
      case "allocate":
      case "map":
      case "unmap":
      case "protect":
      case "destroy":
      case "vmarOp":
        return this.#execVmar(op);
      case "dup":
      case "replace":
      case "close":
        return this.#execHandle(op);
      case "mread":
      case "mwrite":
      case "mbytes":
      case "view":
      case "munmap":
        return this.#execMapping(op);
    }
  }

  #execVmo(op: VmoStep): Outcome {
    if (op.t === "create") {
      return this.#outcome(() => {
        const v = this.kernel.createVmo(op.size, op.opts);
        this.vmos.push(v);
        return { raw: v.raw, koid: this.#koid(v.koid), size: v.size, rights: v.rights };
      });
    }
    if (this.vmos.length === 0) return { skip: "no vmo" };
    const v = this.vmos[op.v % this.vmos.length];
    switch (op.t) {
      case "write":
        return this.#outcome(() => v.write(pattern(op.len, op.byte), op.off));
      case "read":
        return this.#outcome(() => digest(v.read(op.len, op.off)));
      case "readInto": {
        // `read(into, offset)`, into a subarray of a pre-filled buffer: what the call leaves in
        // the whole buffer (around and inside `into`) must match too, success or not.
        const buf = pattern(op.pad + op.len + 3, op.fill);
        const into = buf.subarray(op.pad, op.pad + op.len);
        const o = this.#outcome(() => v.read(into, op.off));
        return "ok" in o ? { ok: [o.ok, digest(buf)] } : { ...o, after: digest(buf) };
      }
      case "setSize":
        for (const h of this.views) if (h !== null) h.refresh = true;
        return this.#outcome(() => {
          v.setSize(op.size);
          return v.size;
        });
      case "child":
        return this.#outcome(() => {
          const c = v.createChild(op.opts, op.off, op.size);
          this.vmos.push(c);
          return { raw: c.raw, koid: this.#koid(c.koid), size: c.size, rights: c.rights };
        });
      case "vmoOp":
        return this.#outcome(() => v.opRange(op.op, op.off, op.size));
      case "contentSize":
        return this.#outcome(() => {
          v.setContentSize(op.size);
          return v.contentSize;
        });
      case "name":
        return this.#outcome(() => {
          v.name = op.name;
          return v.name;
        });
      case "info":
        return this.#outcome(() => {
          const basic = v.basicInfo();
          return {
            ...this.#vmoInfo(v),
            basic: { ...basic, koid: this.#koid(basic.koid) },
            signals: v.signals,
          };
        });
    }
  }

  #execVmar(op: VmarStep): Outcome {
    const vmar = (i: number): Vmar => this.vmars[i % this.vmars.length];
    switch (op.t) {
      case "allocate": {
        const r = vmar(op.r);
        return this.#outcome(() => {
          const c = r.allocate(this.#alignClamp(op.opts), op.off, op.size);
          this.vmars.push(c);
          // Base and length need INSPECT (which the new handle lacks if `r` did).
          const info = this.#vmarInfo(c);
          this.vmarBase.push(typeof info[0] === "number" ? info[0] + this.rootBase : null);
          return { raw: c.raw, koid: this.#koid(c.koid), info };
        });
      }
      case "map": {
        const r = vmar(op.r);
        if (this.vmos.length === 0) return { skip: "no vmo" };
        const v = this.vmos[op.v % this.vmos.length];
        return this.#outcome(() => {
          const m = r.map(this.#alignClamp(op.opts), op.off, v, op.voff, op.len);
          this.maps.push(m);
          this.mapVmoOff.push(typeof op.voff === "bigint" ? Number(op.voff) : op.voff);
          this.views.push(null);
          return { addr: this.#rel(m.addr), len: m.len, options: m.options };
        });
      }
      case "destroy":
        return this.#outcome(() => vmar(op.r).destroy());
    }
    const a = this.#addr(op.at);
    if (a === null) return { skip: "negative address" };
    const at = op.at;
    const target = (): Vmar => this.#target(op.r, at);
    switch (op.t) {
      case "unmap":
        return this.#outcome(() => target().unmap(a, op.len));
      case "protect":
        return this.#outcome(() => target().protect(op.opts, a, op.len));
      case "vmarOp":
        return this.#outcome(() => target().opRange(op.op, a, op.len));
    }
  }

  #execHandle(op: HandleStep): Outcome {
    const list: Array<Vmo | Vmar> = op.kind === "vmo" ? this.vmos : this.vmars;
    if (list.length === 0) return { skip: "no handle" };
    const hi = op.h % list.length;
    const h = list[hi];
    if (op.t === "close") return this.#outcome(() => h.close());
    const rights = this.#newRights(h, op.mode, op.bits);
    return this.#outcome(() => {
      const n = op.t === "dup" ? h.duplicate(rights) : h.replace(rights);
      if (n.type === "vmo") this.vmos.push(n as Vmo);
      else {
        // Same VMAR, same base (the new handle may lack the INSPECT needed to read it).
        this.vmars.push(n as Vmar);
        this.vmarBase.push(this.vmarBase[hi]);
      }
      return { raw: n.raw, rights: n.rights, koid: this.#koid(n.koid) };
    });
  }

  #execMapping(op: MappingStep): Outcome {
    if (op.t === "view") return this.#view(op);
    if (this.maps.length === 0) return { skip: "no mapping" };
    const i = op.m % this.maps.length;
    const m = this.maps[i];
    switch (op.t) {
      case "mread":
        return this.#outcome(() => digest(m.read(op.off, op.len)));
      case "mwrite":
        return this.#outcome(() => m.write(op.off, pattern(op.len, op.byte)));
      case "mbytes":
        if (crosses1GiB(this.mapVmoOff[i], m.len)) return CROSSES_1GIB;
        return this.#outcome(() => {
          const view = m.bytes();
          if (op.idx < view.length) view[op.idx] = op.byte;
          return view.length;
        });
      case "munmap":
        return this.#outcome(() => m.unmap());
    }
  }

  /** `[relative base, len, rights]`, or `[status, rights]` when base/len are refused. */
  #vmarInfo(r: Vmar): unknown[] {
    try {
      return [this.#rel(r.base), r.len, r.rights];
    } catch (e) {
      if (!(e instanceof ZxError)) throw e;
      return [statusName(e.status), r.rights];
    }
  }

  /**
   * Read (and, with a non-zero `byte`, then write) a slice of a mapping's zero-copy view.
   * Without `held`, or when the kept view is detached (length 0) or due a refresh, the view is
   * re-obtained with `bytes()`, checking first that the kept one is detached or still the
   * current one (a stale native view must never be touched: the kernel detaches it). With
   * `held` and a kept view that is still attached, that view is used without `bytes()`: the
   * kernel must have detached it if its memory went away.
   */
  #view(op: Extract<Op, { t: "view" }>): Outcome {
    if (this.maps.length === 0) return { skip: "no mapping" };
    let i = op.m % this.maps.length;
    if (op.live) {
      const live = this.maps.flatMap((m, j) => (m.alive ? [j] : []));
      if (live.length === 0) return { skip: "no live mapping" };
      i = live[op.m % live.length];
    }
    const m = this.maps[i];
    if (crosses1GiB(this.mapVmoOff[i], m.len)) return CROSSES_1GIB;
    const kept = this.views[i];
    let view: Uint8Array;
    if (op.held && kept !== null && !kept.refresh && attached(kept.view)) view = kept.view;
    else {
      let fresh: Uint8Array;
      try {
        fresh = m.bytes();
      } catch (e) {
        if (kept !== null && attached(kept.view)) {
          throw new Error(
            `driver invariant: bytes() refused (${e}) but the view it gave before is attached`,
          );
        }
        this.views[i] = null;
        return this.#outcome(() => {
          throw e;
        });
      }
      if (kept !== null && attached(kept.view) && kept.view !== fresh) {
        throw new Error(
          "driver invariant: bytes() gave a new view while the one it gave before is attached",
        );
      }
      view = fresh;
      this.views[i] = { view, refresh: false };
    }
    // The length is checked right before every touch (it is 0 once detached).
    const slice = attached(view) ? view.subarray(op.off, op.off + op.len) : view;
    const before = digest(slice);
    if (op.byte !== 0 && slice.length > 0) slice.set(pattern(slice.length, op.byte));
    return { ok: { len: view.byteLength, slice: before } };
  }

  /**
   * The observable state: handle count, every mapping (relative), every handle's info
   * (without `committedBytes`), every mapping's liveness; with `contents`, a digest of each
   * readable VMO's first pages.
   */
  state(contents: boolean): unknown {
    const k = this.kernel;
    const info = (v: Vmo): unknown => {
      if (!v.valid) return null;
      const rest = this.#vmoInfo(v);
      let data: string | null = null;
      if (contents && (rest.handleRights & Rights.Read) !== 0) {
        data = digest(v.read(Math.min(v.size, 2 * P), 0));
      }
      return { ...rest, data };
    };
    return {
      handles: k.handleCount,
      mappings: k.rootVmar.mappings().map((m) => ({
        ...m,
        addr: this.#rel(m.addr),
        vmoKoid: this.#koid(m.vmoKoid),
      })),
      vmos: this.vmos.map(info),
      vmars: this.vmars.map((r) => r.valid ? this.#vmarInfo(r) : null),
      maps: this.maps.map((m) => m.alive),
    };
  }
}

/** Count of trailing zero bits of a positive integer below 2^53 (its alignment, log2). */
export function alignLog(x: number): number {
  let n = 0;
  while (n < 52 && x % 2 ** (n + 1) === 0) n++;
  return n;
}
