/**
 * Ordered structures for the VMAR tree: a treap of non-overlapping spans keyed by start
 * address, with the largest span length kept per subtree. Every operation is O(log n)
 * expected, so a VMAR with 100k children costs about what one with 1k costs per operation.
 *
 * @module
 */

/** A half-open address range `[start, end)`. */
export interface Span {
  /** First address. */
  start: number;
  /** One past the last address. */
  end: number;
}

class TreapNode<T extends Span> {
  left: TreapNode<T> | null = null;
  right: TreapNode<T> | null = null;
  maxLen: number;
  constructor(readonly item: T, readonly prio: number) {
    this.maxLen = item.end - item.start;
  }
}

function fix<T extends Span>(n: TreapNode<T>): void {
  let m = n.item.end - n.item.start;
  if (n.left !== null && n.left.maxLen > m) m = n.left.maxLen;
  if (n.right !== null && n.right.maxLen > m) m = n.right.maxLen;
  n.maxLen = m;
}

/** A pseudo-random number generator (mulberry32); deterministic for a given seed. */
export class Prng {
  #s: number;
  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A uniformly distributed 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.#s = (this.#s + 0x6D2B79F5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A uniformly distributed integer in `[0, n)`, for `n` up to 2^53. */
  below(n: number): number {
    if (n <= 0) return 0;
    const hi = this.nextU32() * 2 ** 21 + (this.nextU32() >>> 11); // 53 random bits
    return Math.floor((hi / 2 ** 53) * n);
  }
}

// Treap priorities need not be reproducible across runs for correctness, but a fixed
// generator keeps runs deterministic (and tests repeatable).
const prioGen = new Prng(0x5eed);

/** A set of non-overlapping spans ordered by start, with subtree maximum lengths. */
export class SpanTree<T extends Span> {
  #root: TreapNode<T> | null = null;
  #size = 0;

  /** Number of spans. */
  get size(): number {
    return this.#size;
  }

  /** Insert `item`; its start must not equal any present item's start. */
  insert(item: T): void {
    const node = new TreapNode(item, prioGen.nextU32());
    const [l, r] = this.#split(this.#root, item.start);
    this.#root = this.#merge(this.#merge(l, node), r);
    this.#size++;
  }

  /** Remove `item` (matched by identity at its current start). Returns whether it was present. */
  remove(item: T): boolean {
    let removed = false;
    const rec = (n: TreapNode<T> | null): TreapNode<T> | null => {
      if (n === null) return null;
      if (n.item === item) {
        removed = true;
        return this.#merge(n.left, n.right);
      }
      if (item.start < n.item.start) n.left = rec(n.left);
      else n.right = rec(n.right);
      fix(n);
      return n;
    };
    this.#root = rec(this.#root);
    if (removed) this.#size--;
    return removed;
  }

  /** The span with the largest start `<= addr`, if any. */
  floor(addr: number): T | undefined {
    let n = this.#root;
    let best: T | undefined;
    while (n !== null) {
      if (n.item.start <= addr) {
        best = n.item;
        n = n.right;
      } else n = n.left;
    }
    return best;
  }

  /** The span with the smallest start `> addr`, if any. */
  after(addr: number): T | undefined {
    let n = this.#root;
    let best: T | undefined;
    while (n !== null) {
      if (n.item.start > addr) {
        best = n.item;
        n = n.left;
      } else n = n.right;
    }
    return best;
  }

  /** The span containing `addr`, if any. */
  containing(addr: number): T | undefined {
    const f = this.floor(addr);
    return f !== undefined && f.end > addr ? f : undefined;
  }

  /** Spans intersecting `[lo, hi)`, in address order. */
  overlapping(lo: number, hi: number): T[] {
    const out: T[] = [];
    let cur = this.floor(lo);
    if (cur === undefined || cur.end <= lo) cur = this.after(lo);
    while (cur !== undefined && cur.start < hi) {
      out.push(cur);
      cur = this.after(cur.start);
    }
    return out;
  }

  /** Every span, in address order. */
  all(): T[] {
    const out: T[] = [];
    const walk = (n: TreapNode<T> | null): void => {
      if (n === null) return;
      walk(n.left);
      out.push(n.item);
      walk(n.right);
    };
    walk(this.#root);
    return out;
  }

  /**
   * The first span (in address order) that holds an `align`-aligned block of `size` bytes
   * starting at or after `from` and ending at or before `limit`; returns the block's start, or
   * -1. `align` is a power of two; spans are assumed to start on page boundaries. Pruning uses
   * `size + align - page` (a length that always fits an aligned block) when `align > page`.
   */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    const need = align > page ? size + align - page : size;
    let result = -1;
    const visit = (n: TreapNode<T> | null): boolean => {
      if (n === null || n.maxLen < need) return false;
      if (n.item.start > from && visit(n.left)) return true;
      const s = Math.max(n.item.start, from);
      const p = Math.ceil(s / align) * align;
      if (p + size <= n.item.end) {
        if (p + size <= limit) result = p;
        return true; // found the first fit, or everything later is beyond the limit
      }
      if (n.item.start >= limit) return true;
      return visit(n.right);
    };
    visit(this.#root);
    return result;
  }

  #split(n: TreapNode<T> | null, key: number): [TreapNode<T> | null, TreapNode<T> | null] {
    if (n === null) return [null, null];
    if (n.item.start < key) {
      const [l, r] = this.#split(n.right, key);
      n.right = l;
      fix(n);
      return [n, r];
    }
    const [l, r] = this.#split(n.left, key);
    n.left = r;
    fix(n);
    return [l, n];
  }

  #merge(a: TreapNode<T> | null, b: TreapNode<T> | null): TreapNode<T> | null {
    if (a === null) return b;
    if (b === null) return a;
    if (a.prio > b.prio) {
      a.right = this.#merge(a.right, b);
      fix(a);
      return a;
    }
    b.left = this.#merge(a, b.left);
    fix(b);
    return b;
  }
}

/**
 * The free ranges of a region: the complement of its children inside `[lo, hi)`.
 * Kept in step by {@link FreeSpace.take} and {@link FreeSpace.give}.
 */
export class FreeSpace {
  readonly #tree = new SpanTree<Span>();

  /** @param lo first address of the region @param hi one past its last address */
  constructor(lo: number, hi: number) {
    if (hi > lo) this.#tree.insert({ start: lo, end: hi });
  }

  /** True when all of `[start, end)` is free. */
  isFree(start: number, end: number): boolean {
    const g = this.#tree.floor(start);
    return g !== undefined && g.end >= end;
  }

  /** Mark `[start, end)` (which must be free) as used. */
  take(start: number, end: number): void {
    const g = this.#tree.floor(start);
    if (g === undefined || g.end < end) throw new Error("FreeSpace.take: range is not free");
    this.#tree.remove(g);
    if (g.start < start) this.#tree.insert({ start: g.start, end: start });
    if (end < g.end) this.#tree.insert({ start: end, end: g.end });
  }

  /** Mark `[start, end)` (which must be used) as free again, merging neighbours. */
  give(start: number, end: number): void {
    let s = start;
    let e = end;
    const before = this.#tree.floor(start);
    if (before !== undefined && before.end === start) {
      this.#tree.remove(before);
      s = before.start;
    }
    const next = this.#tree.after(start);
    if (next !== undefined && next.start === end) {
      this.#tree.remove(next);
      e = next.end;
    }
    this.#tree.insert({ start: s, end: e });
  }

  /** See {@link SpanTree.firstFit}. */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    return this.#tree.firstFit(from, size, align, page, limit);
  }
}
