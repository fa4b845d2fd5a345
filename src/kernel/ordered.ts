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
  // Scratch stacks of insert/remove/refresh (reused: no allocation per operation).
  readonly #path: TreapNode<T>[] = [];
  readonly #touched: TreapNode<T>[] = [];

  /** Number of spans. */
  get size(): number {
    return this.#size;
  }

  /** Insert `item`; its start must not equal any present item's start. */
  insert(item: T): void {
    const node = new TreapNode(item, prioGen.nextU32());
    const key = item.start;
    // Descend to where the new node belongs by priority (max-heap), remembering the path.
    const path = this.#path;
    path.length = 0;
    let parent: TreapNode<T> | null = null;
    let cur = this.#root;
    while (cur !== null && cur.prio >= node.prio) {
      path.push(cur);
      parent = cur;
      cur = key < cur.item.start ? cur.left : cur.right;
    }
    // Split the subtree found there around the key, without allocating.
    const touched = this.#touched;
    touched.length = 0;
    let lHook: TreapNode<T> | null = null;
    let rHook: TreapNode<T> | null = null;
    let t = cur;
    while (t !== null) {
      touched.push(t);
      if (t.item.start < key) {
        if (lHook === null) node.left = t;
        else lHook.right = t;
        lHook = t;
        t = t.right;
      } else {
        if (rHook === null) node.right = t;
        else rHook.left = t;
        rHook = t;
        t = t.left;
      }
    }
    if (lHook !== null) lHook.right = null;
    if (rHook !== null) rHook.left = null;
    for (let i = touched.length - 1; i >= 0; i--) fix(touched[i]);
    fix(node);
    if (parent === null) this.#root = node;
    else if (key < parent.item.start) parent.left = node;
    else parent.right = node;
    for (let i = path.length - 1; i >= 0; i--) fix(path[i]);
    path.length = 0;
    touched.length = 0;
    this.#size++;
  }

  /** Remove `item` (matched by identity at its current start). Returns whether it was present. */
  remove(item: T): boolean {
    const path = this.#path;
    path.length = 0;
    let parent: TreapNode<T> | null = null;
    let n = this.#root;
    while (n !== null && n.item !== item) {
      path.push(n);
      parent = n;
      n = item.start < n.item.start ? n.left : n.right;
    }
    if (n === null) {
      path.length = 0;
      return false;
    }
    const rest = this.#merge(n.left, n.right);
    if (parent === null) this.#root = rest;
    else if (parent.left === n) parent.left = rest;
    else parent.right = rest;
    for (let i = path.length - 1; i >= 0; i--) fix(path[i]);
    path.length = 0;
    this.#size--;
    return true;
  }

  /**
   * Recompute the subtree maxima after `item`'s `start` or `end` was changed in place. The
   * change must keep the spans ordered (the new start lies between its neighbours' starts).
   * Returns whether `item` was found.
   */
  refresh(item: T): boolean {
    const path = this.#path;
    path.length = 0;
    let n = this.#root;
    while (n !== null) {
      path.push(n);
      if (n.item === item) break;
      n = item.start < n.item.start ? n.left : n.right;
    }
    const found = n !== null;
    if (found) { for (let i = path.length - 1; i >= 0; i--) fix(path[i]); }
    path.length = 0;
    return found;
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
   * -1. `align` is a power of two; spans are assumed to start on page boundaries.
   *
   * Two passes, both independent of the treap's (random) shape: first the first span whose
   * part after `from` is at least `size + align - page` long — such a span always holds an
   * aligned block, so subtrees with a shorter maximum are pruned and the search is O(log n)
   * even among many misaligned gaps; only when there is none (a nearly full region) the exact
   * first fit, which may visit every span that is long enough but misaligned.
   */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    this.#ffFrom = from;
    this.#ffSize = size;
    this.#ffAlign = align;
    this.#ffLimit = limit;
    this.#ffResult = -1;
    const sure = align > page ? size + align - page : size;
    this.#ffNeed = sure;
    this.#ffExact = false;
    this.#ffVisit(this.#root);
    if (this.#ffResult < 0 && sure > size) {
      this.#ffNeed = size;
      this.#ffExact = true;
      this.#ffVisit(this.#root);
    }
    return this.#ffResult;
  }

  // firstFit's parameters, as fields so the recursive search allocates nothing.
  #ffFrom = 0;
  #ffSize = 0;
  #ffAlign = 1;
  #ffLimit = 0;
  #ffNeed = 0;
  #ffExact = false;
  #ffResult = -1;

  /** In-order search for firstFit; true when the search is over (found, or past the limit). */
  #ffVisit(n: TreapNode<T> | null): boolean {
    if (n === null || n.maxLen < this.#ffNeed) return false;
    const from = this.#ffFrom;
    if (n.item.start > from && this.#ffVisit(n.left)) return true;
    const s = Math.max(n.item.start, from);
    if (this.#ffExact || n.item.end - s >= this.#ffNeed) {
      const p = Math.ceil(s / this.#ffAlign) * this.#ffAlign;
      if (p + this.#ffSize <= n.item.end) {
        if (p + this.#ffSize <= this.#ffLimit) this.#ffResult = p;
        return true; // the first fit, or everything later is beyond the limit
      }
    }
    if (n.item.start >= this.#ffLimit) return true;
    return this.#ffVisit(n.right);
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
    const t = this.#tree;
    const g = t.floor(start);
    if (g === undefined || g.end < end) throw new Error("FreeSpace.take: range is not free");
    // Shrink the free span in place where possible (its order among the spans is unchanged).
    if (g.start === start) {
      if (g.end === end) t.remove(g);
      else {
        g.start = end;
        t.refresh(g);
      }
    } else {
      const tail = g.end;
      g.end = start;
      t.refresh(g);
      if (end < tail) t.insert({ start: end, end: tail });
    }
  }

  /** Mark `[start, end)` (which must be used) as free again, merging neighbours. */
  give(start: number, end: number): void {
    const t = this.#tree;
    let before = t.floor(start);
    if (before !== undefined && before.end !== start) before = undefined;
    let next = t.after(start);
    if (next !== undefined && next.start !== end) next = undefined;
    if (before !== undefined) {
      if (next !== undefined) {
        t.remove(next);
        before.end = next.end;
      } else before.end = end;
      t.refresh(before);
    } else if (next !== undefined) {
      next.start = start;
      t.refresh(next);
    } else t.insert({ start, end });
  }

  /** See {@link SpanTree.firstFit}. */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    return this.#tree.firstFit(from, size, align, page, limit);
  }
}
