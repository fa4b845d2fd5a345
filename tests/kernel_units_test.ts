// Unit tests of the kernel's internal building blocks: argument normalisation, the ordered
// structures behind the VMAR tree, the emulated backend's range set and the handle table.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ZxError, ZxStatus } from "../mod.ts";
import { roundUp } from "../src/kernel/args.ts";
import { u32, u64 } from "../src/sdk/args.ts";
import { FreeSpace, SpanTree } from "../src/kernel/ordered.ts";
import { Prng } from "../src/kernel/prng.ts";
import { HandleTable, KObject } from "../src/kernel/handles.ts";
import { EmulatedMemory, RangeSet } from "../src/backend/emulated.ts";
import { leakGuard } from "./support/leaks.ts";

const P = 4096;

function status(fn: () => unknown): number | string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof ZxError) return e.status;
    if (e instanceof TypeError) return "TypeError";
    throw e;
  }
}

describe("args.u64", () => {
  leakGuard();
  it("accepts integers in [0, 2^64) as number or bigint", () => {
    assert.equal(u64(0, "x", "t"), 0);
    assert.equal(u64(12345n, "x", "t"), 12345);
    assert.equal(u64(2 ** 53, "x", "t"), 2 ** 53);
    assert.equal(u64(2n ** 64n - 8192n, "x", "t"), 2 ** 64 - 8192);
  });
  it("rejects values outside u64 with ErrInvalidArgs and wrong types with TypeError", () => {
    for (const v of [-1, 0.5, NaN, Infinity, -Infinity, 2 ** 64, -1n, 2n ** 64n]) {
      assert.equal(status(() => u64(v, "x", "t")), ZxStatus.ErrInvalidArgs, String(v));
    }
    for (const v of ["1", null, undefined, {}, [], true]) {
      assert.equal(status(() => u64(v, "x", "t")), "TypeError");
    }
  });
  it("keeps alignment and rounding exact for bigints a double cannot hold", () => {
    const cases = [2n ** 64n - 4096n + 2n, 2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 63n + 4097n];
    for (const b of cases) {
      const n = u64(b, "x", "t");
      assert.notEqual(n % P, 0, `${b} must stay unaligned`);
      const exact = ((b + 4095n) / 4096n) * 4096n;
      assert.equal(BigInt(roundUp(n, P)), exact, `${b} must round up exactly`);
    }
  });
  it("u32 takes flag words", () => {
    assert.equal(u32(0xFFFFFFFF, "x", "t"), 0xFFFFFFFF);
    assert.equal(status(() => u32(2 ** 32, "x", "t")), ZxStatus.ErrInvalidArgs);
    assert.equal(status(() => u32("1", "x", "t")), "TypeError");
  });
});

/** The documented two-pass first-fit rule over a plain sorted list of spans (page P). */
function referenceFirstFit(
  spans: Array<[number, number]>,
  from: number,
  size: number,
  align: number,
  limit: number,
): number {
  const sure = align > P ? size + align - P : size;
  for (const exact of [false, true]) {
    if (exact && sure === size) break;
    for (const [st, en] of spans) {
      if (en <= from) continue;
      const s0 = Math.max(st, from);
      if (!exact && en - s0 < sure) continue;
      const p = Math.ceil(s0 / align) * align;
      if (p + size <= en) {
        if (p + size <= limit) return p;
        break;
      }
      if (st >= limit) break;
    }
  }
  return -1;
}

describe("SpanTree and FreeSpace", () => {
  it("finds, orders and removes spans", () => {
    const t = new SpanTree<{ start: number; end: number }>();
    const items = [30, 10, 50, 20, 40].map((s) => ({ start: s, end: s + 5 }));
    for (const i of items) t.insert(i);
    assert.deepEqual(t.all().map((x) => x.start), [10, 20, 30, 40, 50]);
    assert.equal(t.containing(22)?.start, 20);
    assert.equal(t.containing(26), undefined);
    assert.deepEqual(t.overlapping(24, 41).map((x) => x.start), [20, 30, 40]);
    assert.ok(t.remove(items[0]));
    assert.ok(!t.remove(items[0]));
    assert.deepEqual(t.all().map((x) => x.start), [10, 20, 40, 50]);
    assert.equal(t.size, 4);
  });
  it("first fit honours from, alignment and limit", () => {
    const fs = new FreeSpace(0, 100 * P);
    fs.take(0, 10 * P);
    assert.equal(fs.firstFit(0, P, P, P, 100 * P), 10 * P);
    assert.equal(fs.firstFit(0, P, 16 * P, P, 100 * P), 16 * P);
    assert.equal(fs.firstFit(95 * P, 10 * P, P, P, 100 * P), -1);
    assert.equal(fs.firstFit(0, 5 * P, P, P, 12 * P), -1);
    fs.give(0, 10 * P);
    assert.ok(fs.isFree(0, 100 * P));
  });
  it("aligned first fit: the first span long enough to surely fit, else the exact first fit", () => {
    const rng = new Prng(99);
    for (let round = 0; round < 200; round++) {
      const fs = new FreeSpace(0, 4096 * P);
      const spans: Array<[number, number]> = [[0, 4096 * P]];
      // Carve random used blocks out of the region, mirroring them in `spans`.
      for (let i = 0; i < 60; i++) {
        const len = (1 + rng.below(40)) * P;
        const at = fs.firstFit(rng.below(4096) * P, len, P, P, 4096 * P);
        if (at < 0) continue;
        fs.take(at, at + len);
        const j = spans.findIndex(([a, b]) => a <= at && at + len <= b);
        const [a, b] = spans[j];
        const parts: Array<[number, number]> = [];
        if (a < at) parts.push([a, at]);
        if (at + len < b) parts.push([at + len, b]);
        spans.splice(j, 1, ...parts);
      }
      for (let q = 0; q < 30; q++) {
        const from = rng.below(4096) * P;
        const size = (1 + rng.below(8)) * P;
        const align = P * 2 ** rng.below(6);
        const limit = rng.below(2) === 0 ? 4096 * P : (1 + rng.below(4096)) * P;
        assert.equal(
          fs.firstFit(from, size, align, P, limit),
          referenceFirstFit(spans, from, size, align, limit),
          `round ${round}: from ${from / P}, size ${size / P}, align ${align / P}`,
        );
      }
    }
  });

  it("SpanTree matches a sorted-array model through growth, refresh and shrinking", () => {
    // Slot i holds at most one span, inside [i * 16P, (i + 1) * 16P): spans never overlap and
    // a refresh that stays inside the slot keeps the order. Waves grow the tree to thousands
    // of spans (several levels) and shrink it to nothing, so splits, borrows, merges and root
    // collapses all happen.
    const SLOTS = 6000;
    const W = 16 * P;
    const rng = new Prng(2024);
    const t = new SpanTree<{ start: number; end: number }>();
    const bySlot: Array<{ start: number; end: number } | undefined> = new Array(SLOTS);
    const present: number[] = []; // slots in use (unordered)
    const place = (slot: number): { start: number; end: number } => {
      const a = rng.below(15);
      const b = a + 1 + rng.below(16 - a);
      return { start: slot * W + a * P, end: slot * W + b * P };
    };
    const model = (): Array<{ start: number; end: number }> =>
      bySlot.filter((x) => x !== undefined) as Array<{ start: number; end: number }>;
    const check = (): void => {
      const m = model();
      assert.equal(t.size, m.length);
      assert.deepEqual(t.all(), m);
      const spans = m.map((x): [number, number] => [x.start, x.end]);
      for (let q = 0; q < 20; q++) {
        const addr = rng.below(SLOTS * 16 + 2) * P - P + rng.below(2) * 7;
        const fl = m.findLast((x) => x.start <= addr);
        assert.equal(t.floor(addr), fl);
        assert.equal(t.after(addr), m.find((x) => x.start > addr));
        assert.equal(t.containing(addr), fl !== undefined && fl.end > addr ? fl : undefined);
        const hi = addr + rng.below(64) * P;
        assert.deepEqual(t.overlapping(addr, hi), m.filter((x) => x.end > addr && x.start < hi));
        const size = (1 + rng.below(16)) * P;
        const align = P * 2 ** rng.below(5);
        const limit = rng.below(3) === 0 ? SLOTS * W : rng.below(SLOTS * 16 + 1) * P;
        const from = Math.max(0, addr - (addr % P));
        assert.equal(
          t.firstFit(from, size, align, P, limit),
          referenceFirstFit(spans, from, size, align, limit),
          `firstFit(${from / P}, ${size / P}, ${align / P}, ${limit / P})`,
        );
      }
    };
    for (const [grow, shrink] of [[3000, 3000], [5000, 4000], [2500, 3500]]) {
      for (let i = 0; i < grow; i++) {
        const slot = rng.below(SLOTS);
        if (bySlot[slot] !== undefined) {
          const it = bySlot[slot];
          const nu = place(slot);
          it.start = nu.start;
          it.end = nu.end;
          assert.ok(t.refresh(it));
        } else {
          const it = place(slot);
          bySlot[slot] = it;
          present.push(slot);
          t.insert(it);
        }
        if (i % 500 === 0) check();
      }
      check();
      for (let i = 0; i < shrink && present.length > 0; i++) {
        const k = rng.below(present.length);
        const slot = present[k];
        present[k] = present[present.length - 1];
        present.pop();
        const it = bySlot[slot] as { start: number; end: number };
        bySlot[slot] = undefined;
        assert.ok(t.remove(it));
        assert.ok(!t.remove(it));
        assert.ok(!t.refresh(it));
        if (i % 500 === 0) check();
      }
      check();
    }
    // Ascending and descending runs (the split and merge patterns of sequential placement).
    for (const it of model()) t.remove(it);
    assert.equal(t.size, 0);
    const seq = Array.from({ length: 3000 }, (_, i) => ({ start: i * P, end: (i + 1) * P }));
    for (const it of seq) t.insert(it);
    assert.deepEqual(t.all(), seq);
    assert.equal(t.firstFit(0, P, P, P, 3000 * P), 0);
    for (const it of seq.slice(0, 1500)) assert.ok(t.remove(it));
    for (const it of seq.slice(1500).reverse()) assert.ok(t.remove(it));
    assert.equal(t.size, 0);
    assert.deepEqual(t.all(), []);
    assert.equal(t.floor(10 * P), undefined);
    assert.equal(t.firstFit(0, P, P, P, 3000 * P), -1);
  });

  it("FreeSpace matches a page-bitmap model through many takes and gives", () => {
    const PAGES = 20000;
    const rng = new Prng(77);
    const fs = new FreeSpace(0, PAGES * P);
    const used = new Uint8Array(PAGES);
    const blocks: Array<[number, number]> = []; // taken [first page, page count)
    const freeSpans = (): Array<[number, number]> => {
      const out: Array<[number, number]> = [];
      for (let i = 0; i < PAGES;) {
        if (used[i]) {
          i++;
          continue;
        }
        let j = i;
        while (j < PAGES && !used[j]) j++;
        out.push([i * P, j * P]);
        i = j;
      }
      return out;
    };
    const check = (): void => {
      const spans = freeSpans();
      for (let q = 0; q < 40; q++) {
        const a = rng.below(PAGES);
        const n = 1 + rng.below(12);
        let free = a + n <= PAGES;
        for (let i = a; i < a + n && free; i++) free = !used[i];
        assert.equal(fs.isFree(a * P, (a + n) * P), free, `isFree(${a}, ${n})`);
        const from = rng.below(PAGES) * P;
        const size = (1 + rng.below(12)) * P;
        const align = P * 2 ** rng.below(6);
        const limit = rng.below(2) === 0 ? PAGES * P : (1 + rng.below(PAGES)) * P;
        assert.equal(
          fs.firstFit(from, size, align, P, limit),
          referenceFirstFit(spans, from, size, align, limit),
          `firstFit(${from / P}, ${size / P}, ${align / P}, ${limit / P})`,
        );
      }
    };
    for (let wave = 0; wave < 3; wave++) {
      // Fill with small random blocks (thousands of free spans), then give most back.
      for (let i = 0; i < 6000; i++) {
        const n = 1 + rng.below(3);
        let a = fs.firstFit(rng.below(PAGES) * P, n * P, P, P, PAGES * P);
        if (a < 0) a = fs.firstFit(0, n * P, P, P, PAGES * P);
        if (a < 0) continue;
        fs.take(a, a + n * P);
        for (let p = a / P; p < a / P + n; p++) used[p] = 1;
        blocks.push([a / P, n]);
        if (i % 1000 === 0) check();
      }
      check();
      assert.throws(() => {
        const [a, n] = blocks[rng.below(blocks.length)];
        fs.take(a * P, (a + n) * P);
      }, /not free/);
      const keep = wave === 2 ? 0 : 500;
      while (blocks.length > keep) {
        const k = rng.below(blocks.length);
        const [a, n] = blocks[k];
        blocks[k] = blocks[blocks.length - 1];
        blocks.pop();
        fs.give(a * P, (a + n) * P);
        for (let p = a; p < a + n; p++) used[p] = 0;
        if (blocks.length % 1000 === 0) check();
      }
      check();
    }
    assert.ok(fs.isFree(0, PAGES * P));
    assert.equal(fs.firstFit(0, PAGES * P, P, P, PAGES * P), 0);
  });

  it("fills a region exactly and reports no room after", () => {
    const fs = new FreeSpace(0, 64 * P);
    const rng = new Prng(7);
    for (let i = 0; i < 64; i++) {
      let p = fs.firstFit(rng.below(64) * P, P, P, P, 64 * P);
      if (p < 0) p = fs.firstFit(0, P, P, P, 64 * P);
      assert.ok(p >= 0, `page ${i} must fit`);
      fs.take(p, p + P);
    }
    assert.equal(fs.firstFit(0, P, P, P, 64 * P), -1);
  });
});

describe("RangeSet (emulated committed pages)", () => {
  it("merges, splits and totals", () => {
    const r = new RangeSet();
    r.add(0, 10);
    r.add(10, 20);
    r.add(30, 40);
    assert.equal(r.total, 30);
    assert.deepEqual(r.within(0, 100), [[0, 20], [30, 40]]);
    r.remove(5, 35);
    assert.deepEqual(r.within(0, 100), [[0, 5], [35, 40]]);
    assert.equal(r.total, 10);
    r.add(0, 100);
    assert.deepEqual(r.within(0, 100), [[0, 100]]);
  });
});

describe("EmulatedMemory", () => {
  it("is sparse, zero-filled, and resizes without losing data", () => {
    const m = new EmulatedMemory(4 * P);
    assert.deepEqual(m.view(0, 4), new Uint8Array(4));
    m.write(P + 1, new Uint8Array([1, 2, 3]));
    const out = new Uint8Array(3);
    m.read(P + 1, out);
    assert.deepEqual(out, new Uint8Array([1, 2, 3]));
    m.resize(16 * P);
    m.read(P + 1, out);
    assert.deepEqual(out, new Uint8Array([1, 2, 3]));
    m.resize(P);
    m.resize(4 * P);
    m.read(P + 1, out);
    assert.deepEqual(out, new Uint8Array(3), "shrunk-away bytes read back as zero");
    m.close();
  });
  it("a revoked view no longer pins its pages (decommit releases them; the memory can be shared)", () => {
    const m = new EmulatedMemory(2 * P);
    const v = m.view(0, P);
    v[0] = 5;
    m.revoke(v.buffer as ArrayBuffer);
    assert.equal(v.length, 0);
    m.decommit(0, 2 * P);
    assert.equal(m.committedBytes(), 0, "the revoked view's pages were released");
    assert.equal(m.shareable(), null);
    const sab = m.share();
    assert.ok(sab instanceof SharedArrayBuffer);
    const other = EmulatedMemory.fromShared(sab);
    other.write(1, new Uint8Array([7]));
    const b = new Uint8Array(2);
    m.read(0, b);
    assert.deepEqual([...b], [0, 7], "both sides see the same bytes");
    assert.throws(() => m.view(0, P), /shared with another Worker/);
    m.close();
    other.close();
  });
  it("decommit zeroes and lowers committed bytes", () => {
    const m = new EmulatedMemory(4 * P);
    m.write(0, new Uint8Array(2 * P).fill(9));
    assert.equal(m.committedBytes(), 2 * P);
    m.decommit(0, P);
    assert.equal(m.committedBytes(), P);
    const b = new Uint8Array(1);
    m.read(0, b);
    assert.equal(b[0], 0);
    m.close();
  });
});

describe("HandleTable", () => {
  class Obj extends KObject {
    get type(): "vmo" {
      return "vmo";
    }
    get zxType(): number {
      return 3;
    }
  }
  it("issues distinct values with the low two bits set and never reuses a closed value", () => {
    const t = new HandleTable(0x1234567);
    const seen = new Set<number>();
    const o = new Obj(1);
    for (let i = 0; i < 200_000; i++) {
      const e = t.add(o, 0);
      assert.equal(e.value & 3, 3);
      assert.ok(!seen.has(e.value));
      seen.add(e.value);
      t.delete(e);
    }
    assert.equal(o.handleCount, 0);
  });
});
