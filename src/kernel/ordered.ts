/**
 * Ordered structures for the VMAR tree: a B+-tree of non-overlapping spans keyed by start
 * address, with the largest span length kept per subtree. Every operation is O(log n) in the
 * worst case (the tree is height balanced and every node but the root is at least a quarter
 * full), so a VMAR with 100k children costs about what one with 1k costs per operation.
 *
 * The tree keeps each span's start and end in flat number arrays next to the item, so searches
 * never read the items themselves (which come in several shapes); items are only compared by
 * identity. A tree with fewer than 33 spans is a single sorted leaf.
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

// ---------------------------------------------------------------------------------------------
// The B+-tree. Leaves hold up to LEAF_CAP spans (start, end, item) sorted by start and are
// doubly linked in address order; inner nodes hold up to INNER_CAP children with, per child, the
// exact smallest start in its subtree (`keys`) and the exact largest span length in it (`lens`).
// A node may hold one more than its capacity for a moment: an insertion lands first and the node
// splits after. Every node but the root keeps at least a quarter of its capacity (a node that
// drops below borrows from or merges with a sibling); the root is a leaf, or an inner node with
// two or more children.

const LEAF_CAP = 32;
const INNER_CAP = 32;
const LEAF_MIN = LEAF_CAP >> 2;
const INNER_MIN = INNER_CAP >> 2;

/** Result of a firstFit search step that found nothing yet and may go on. */
const GO_ON = -2;

// Node arrays start empty and grow as spans arrive (a store at index `length` appends), so a
// small tree stays small and a new one is cheap. Each starts with an element of its final kind
// that is then popped, so it never changes elements kind (which would make loads polymorphic).

/** An empty array for doubles. */
function doubles(): number[] {
  const a = [0.5];
  a.pop();
  return a;
}

/** An empty array for objects. */
function objects<V>(v: V): V[] {
  const a = [v];
  a.pop();
  return a;
}

class Leaf {
  n = 0;
  readonly keys: number[] = doubles();
  readonly ends: number[] = doubles();
  readonly items: unknown[] = objects<unknown>(null);
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

class Inner {
  n = 0;
  readonly keys: number[] = doubles();
  readonly lens: number[] = doubles();
  readonly kids: Array<Leaf | Inner> = objects<Leaf | Inner>(PLACEHOLDER_LEAF);
}

const PLACEHOLDER_LEAF = new Leaf();
const PLACEHOLDER_INNER = new Inner();

// The path of the last descent, shared by all trees (no operation calls out while it is in use):
// PATH_NODE[d] is the inner node at depth d (the root is depth 0) and PATH_IDX[d] the child taken.
const MAX_DEPTH = 64; // a tree that deep would hold more than 8^60 spans
const PATH_NODE: Inner[] = objects(PLACEHOLDER_INNER);
for (let d = 0; d < MAX_DEPTH; d++) PATH_NODE.push(PLACEHOLDER_INNER);
const PATH_IDX = new Int32Array(MAX_DEPTH);

/** The largest `i < n` with `keys[i] <= k`, or -1. */
function floorIdx(keys: number[], n: number, k: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The longest span in `l`, or any length `>= cap` once one is seen. */
function leafMax(l: Leaf, cap: number): number {
  const keys = l.keys;
  const ends = l.ends;
  let m = 0;
  for (let i = 0, n = l.n; i < n; i++) {
    const len = ends[i] - keys[i];
    if (len > m) {
      m = len;
      if (m >= cap) return m;
    }
  }
  return m;
}

/** The largest of `p`'s subtree maxima, or any value `>= cap` once one is seen. */
function innerMax(p: Inner, cap: number): number {
  const lens = p.lens;
  let m = 0;
  for (let i = 0, n = p.n; i < n; i++) {
    if (lens[i] > m) {
      m = lens[i];
      if (m >= cap) return m;
    }
  }
  return m;
}

/** Remove child `i` of `p` (shifting the later ones down). */
function innerRemoveAt(p: Inner, i: number): void {
  const keys = p.keys;
  const lens = p.lens;
  const kids = p.kids;
  const n = p.n - 1;
  for (let x = i; x < n; x++) {
    keys[x] = keys[x + 1];
    lens[x] = lens[x + 1];
    kids[x] = kids[x + 1];
  }
  kids[n] = PLACEHOLDER_LEAF;
  p.n = n;
}

/** Move `count` spans from `src[from..]` to `dst[to..]` (distinct leaves). */
function leafMove(src: Leaf, from: number, dst: Leaf, to: number, count: number): void {
  const sk = src.keys, se = src.ends, si = src.items;
  const dk = dst.keys, de = dst.ends, di = dst.items;
  for (let x = 0; x < count; x++) {
    dk[to + x] = sk[from + x];
    de[to + x] = se[from + x];
    di[to + x] = si[from + x];
    si[from + x] = null;
  }
}

/** Move `count` children from `src[from..]` to `dst[to..]` (distinct nodes). */
function innerMove(src: Inner, from: number, dst: Inner, to: number, count: number): void {
  const sk = src.keys, sl = src.lens, sc = src.kids;
  const dk = dst.keys, dl = dst.lens, dc = dst.kids;
  for (let x = 0; x < count; x++) {
    dk[to + x] = sk[from + x];
    dl[to + x] = sl[from + x];
    dc[to + x] = sc[from + x];
    sc[from + x] = PLACEHOLDER_LEAF;
  }
}

/** Shift the first `n` spans of `l` up by `by` slots. */
function leafShiftUp(l: Leaf, n: number, by: number): void {
  const k = l.keys, e = l.ends, it = l.items;
  while (k.length < n + by) {
    k.push(0);
    e.push(0);
    it.push(null);
  }
  for (let x = n - 1; x >= 0; x--) {
    k[x + by] = k[x];
    e[x + by] = e[x];
    it[x + by] = it[x];
  }
}

/** Shift spans `[by, n)` of `l` down by `by` slots. */
function leafShiftDown(l: Leaf, n: number, by: number): void {
  const k = l.keys, e = l.ends, it = l.items;
  for (let x = by; x < n; x++) {
    k[x - by] = k[x];
    e[x - by] = e[x];
    it[x - by] = it[x];
  }
  for (let x = n - by; x < n; x++) it[x] = null;
}

/** Shift the first `n` children of `p` up by `by` slots. */
function innerShiftUp(p: Inner, n: number, by: number): void {
  const k = p.keys, l = p.lens, c = p.kids;
  while (k.length < n + by) {
    k.push(0);
    l.push(0);
    c.push(PLACEHOLDER_LEAF);
  }
  for (let x = n - 1; x >= 0; x--) {
    k[x + by] = k[x];
    l[x + by] = l[x];
    c[x + by] = c[x];
  }
}

/** Shift children `[by, n)` of `p` down by `by` slots. */
function innerShiftDown(p: Inner, n: number, by: number): void {
  const k = p.keys, l = p.lens, c = p.kids;
  for (let x = by; x < n; x++) {
    k[x - by] = k[x];
    l[x - by] = l[x];
    c[x - by] = c[x];
  }
  for (let x = n - by; x < n; x++) c[x] = PLACEHOLDER_LEAF;
}

/** The B+-tree behind {@link SpanTree} and {@link FreeSpace}. */
class Tree {
  root: Leaf | Inner = new Leaf();
  /** Levels, the leaf level included (1: the root is a leaf). */
  height = 1;
  size = 0;

  /** The leaf where `k` belongs (the one holding the largest start `<= k`), without the path. */
  leafFor(k: number): Leaf {
    let node = this.root;
    for (let d = this.height - 1; d > 0; d--) {
      const p = node as Inner;
      const i = floorIdx(p.keys, p.n, k);
      node = p.kids[i < 0 ? 0 : i];
    }
    return node as Leaf;
  }

  /** As {@link leafFor}, recording the path in PATH_NODE/PATH_IDX. */
  descend(k: number): Leaf {
    let node = this.root;
    const depth = this.height - 1;
    for (let d = 0; d < depth; d++) {
      const p = node as Inner;
      let i = floorIdx(p.keys, p.n, k);
      if (i < 0) i = 0;
      PATH_NODE[d] = p;
      PATH_IDX[d] = i;
      node = p.kids[i];
    }
    return node as Leaf;
  }

  /** The leftmost leaf. */
  first(): Leaf {
    let node = this.root;
    for (let d = this.height - 1; d > 0; d--) node = (node as Inner).kids[0];
    return node as Leaf;
  }

  /** The leaf on the recorded path got a new smallest start `k`: update the keys above it. */
  minUp(k: number): void {
    for (let d = this.height - 2; d >= 0; d--) {
      const i = PATH_IDX[d];
      PATH_NODE[d].keys[i] = k;
      if (i !== 0) return;
    }
  }

  /** A span of length `len` appeared in (or grew to it in) the leaf on the recorded path. */
  raise(len: number): void {
    for (let d = this.height - 2; d >= 0; d--) {
      const p = PATH_NODE[d];
      const i = PATH_IDX[d];
      if (p.lens[i] >= len) return;
      p.lens[i] = len;
    }
  }

  /** A span of length `oldLen` left (or shrank in) `leaf`, the leaf on the recorded path. */
  lower(leaf: Leaf, oldLen: number): void {
    let d = this.height - 2;
    if (d < 0) return;
    let p = PATH_NODE[d];
    let i = PATH_IDX[d];
    if (p.lens[i] > oldLen) return; // the longest span there is another one
    let m = leafMax(leaf, oldLen);
    for (;;) {
      if (m >= oldLen) return; // another span as long: nothing changes above
      p.lens[i] = m;
      if (--d < 0) return;
      const child = p;
      p = PATH_NODE[d];
      i = PATH_IDX[d];
      if (p.lens[i] > oldLen) return;
      m = innerMax(child, oldLen);
    }
  }

  /** Insert a span at index `j` of `leaf` (the leaf on the recorded path). */
  insertAt(leaf: Leaf, j: number, start: number, end: number, item: unknown): void {
    const keys = leaf.keys;
    const ends = leaf.ends;
    const items = leaf.items;
    for (let x = leaf.n; x > j; x--) {
      keys[x] = keys[x - 1];
      ends[x] = ends[x - 1];
      items[x] = items[x - 1];
    }
    keys[j] = start;
    ends[j] = end;
    items[j] = item;
    const n = ++leaf.n;
    this.size++;
    if (this.height > 1) {
      if (j === 0) this.minUp(start);
      this.raise(end - start);
    }
    if (n > LEAF_CAP) this.#splitLeaf(leaf);
  }

  /** Remove the span at index `j` of `leaf` (the leaf on the recorded path). */
  removeAt(leaf: Leaf, j: number): void {
    const keys = leaf.keys;
    const ends = leaf.ends;
    const items = leaf.items;
    const oldLen = ends[j] - keys[j];
    const n = leaf.n - 1;
    for (let x = j; x < n; x++) {
      keys[x] = keys[x + 1];
      ends[x] = ends[x + 1];
      items[x] = items[x + 1];
    }
    items[n] = null;
    leaf.n = n;
    this.size--;
    if (this.height === 1) return;
    // A leaf other than the root had at least LEAF_MIN >= 2 spans: it is not empty now.
    if (j === 0) this.minUp(keys[0]);
    this.lower(leaf, oldLen);
    if (n < LEAF_MIN) this.#rebalanceLeaf();
  }

  #splitLeaf(leaf: Leaf): void {
    const r = new Leaf();
    const n = leaf.n;
    const h = n >> 1;
    leafMove(leaf, h, r, 0, n - h);
    leaf.n = h;
    r.n = n - h;
    r.next = leaf.next;
    if (r.next !== null) r.next.prev = r;
    r.prev = leaf;
    leaf.next = r;
    this.#addSibling(
      this.height - 2,
      leaf,
      leaf.keys[0],
      leafMax(leaf, Infinity),
      r,
      r.keys[0],
      leafMax(r, Infinity),
    );
  }

  /** `left` (child of PATH_NODE[d], or the root when d < 0) split: add `right` after it. */
  #addSibling(
    d: number,
    left: Leaf | Inner,
    leftKey: number,
    leftMax: number,
    right: Leaf | Inner,
    rightKey: number,
    rightMax: number,
  ): void {
    if (d < 0) {
      const root = new Inner();
      root.n = 2;
      root.kids[0] = left;
      root.keys[0] = leftKey;
      root.lens[0] = leftMax;
      root.kids[1] = right;
      root.keys[1] = rightKey;
      root.lens[1] = rightMax;
      this.root = root;
      this.height++;
      return;
    }
    const p = PATH_NODE[d];
    const i = PATH_IDX[d] + 1;
    p.lens[i - 1] = leftMax;
    const keys = p.keys;
    const lens = p.lens;
    const kids = p.kids;
    for (let x = p.n; x > i; x--) {
      keys[x] = keys[x - 1];
      lens[x] = lens[x - 1];
      kids[x] = kids[x - 1];
    }
    keys[i] = rightKey;
    lens[i] = rightMax;
    kids[i] = right;
    const n = ++p.n;
    if (n > INNER_CAP) {
      const q = new Inner();
      const h = n >> 1;
      innerMove(p, h, q, 0, n - h);
      p.n = h;
      q.n = n - h;
      this.#addSibling(
        d - 1,
        p,
        keys[0],
        innerMax(p, Infinity),
        q,
        q.keys[0],
        innerMax(q, Infinity),
      );
    }
  }

  /** The leaf on the recorded path (not the root) fell below LEAF_MIN spans. */
  #rebalanceLeaf(): void {
    const d = this.height - 2;
    const p = PATH_NODE[d];
    const i = PATH_IDX[d];
    const li = i > 0 ? i - 1 : 0;
    const left = p.kids[li] as Leaf;
    const right = p.kids[li + 1] as Leaf;
    const total = left.n + right.n;
    if (total <= LEAF_CAP) {
      leafMove(right, 0, left, left.n, right.n);
      left.n = total;
      right.n = 0;
      left.next = right.next;
      if (left.next !== null) left.next.prev = left;
      if (p.lens[li + 1] > p.lens[li]) p.lens[li] = p.lens[li + 1];
      innerRemoveAt(p, li + 1);
      this.#afterInnerRemove(d);
      return;
    }
    const want = total >> 1; // spans the left leaf keeps
    if (left.n < want) {
      const c = want - left.n;
      leafMove(right, 0, left, left.n, c);
      leafShiftDown(right, right.n, c);
    } else {
      const c = left.n - want;
      leafShiftUp(right, right.n, c);
      leafMove(left, want, right, 0, c);
    }
    left.n = want;
    right.n = total - want;
    p.keys[li + 1] = right.keys[0];
    p.lens[li] = leafMax(left, Infinity);
    p.lens[li + 1] = leafMax(right, Infinity);
  }

  /** PATH_NODE[d] lost a child: collapse the root or rebalance as needed. */
  #afterInnerRemove(d: number): void {
    const node = PATH_NODE[d];
    if (d === 0) {
      if (node.n === 1) {
        this.root = node.kids[0];
        this.height--;
      }
      return;
    }
    if (node.n >= INNER_MIN) return;
    const p = PATH_NODE[d - 1];
    const i = PATH_IDX[d - 1];
    const li = i > 0 ? i - 1 : 0;
    const left = p.kids[li] as Inner;
    const right = p.kids[li + 1] as Inner;
    const total = left.n + right.n;
    if (total <= INNER_CAP) {
      innerMove(right, 0, left, left.n, right.n);
      left.n = total;
      right.n = 0;
      if (p.lens[li + 1] > p.lens[li]) p.lens[li] = p.lens[li + 1];
      innerRemoveAt(p, li + 1);
      this.#afterInnerRemove(d - 1);
      return;
    }
    const want = total >> 1;
    if (left.n < want) {
      const c = want - left.n;
      innerMove(right, 0, left, left.n, c);
      innerShiftDown(right, right.n, c);
    } else {
      const c = left.n - want;
      innerShiftUp(right, right.n, c);
      innerMove(left, want, right, 0, c);
    }
    left.n = want;
    right.n = total - want;
    p.keys[li + 1] = right.keys[0];
    p.lens[li] = innerMax(left, Infinity);
    p.lens[li + 1] = innerMax(right, Infinity);
  }

  /** See {@link SpanTree.firstFit}. */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    const sure = align > page ? size + align - page : size;
    const root = this.root;
    const below = this.height - 2;
    let r = below < 0
      ? ffLeaf(root as Leaf, from, size, align, limit, sure)
      : ffInner(root as Inner, below, from, size, align, limit, sure);
    if (r < 0 && sure > size) {
      // The exact pass: spans shorter than size cannot hold the block either.
      r = below < 0
        ? ffLeaf(root as Leaf, from, size, align, limit, size)
        : ffInner(root as Inner, below, from, size, align, limit, size);
    }
    return r < 0 ? -1 : r;
  }
}

/**
 * The first span in `l` (from the one holding `from` on) whose part after `from` is at least
 * `need` long and holds the aligned block: the block's start, or -1 when it ends beyond the
 * limit or a span starts at or beyond it (nothing later can do better), else GO_ON.
 */
function ffLeaf(
  l: Leaf,
  from: number,
  size: number,
  align: number,
  limit: number,
  need: number,
): number {
  const keys = l.keys;
  const ends = l.ends;
  const n = l.n;
  let i = floorIdx(keys, n, from);
  if (i < 0) i = 0;
  for (; i < n; i++) {
    const st = keys[i];
    const en = ends[i];
    const s = st > from ? st : from;
    if (en - s >= need) {
      const p = Math.ceil(s / align) * align;
      if (p + size <= en) return p + size <= limit ? p : -1;
    }
    if (st >= limit) return -1;
  }
  return GO_ON;
}

/** As {@link ffLeaf} for the subtree of `p`, `below` levels above the leaves. */
function ffInner(
  p: Inner,
  below: number,
  from: number,
  size: number,
  align: number,
  limit: number,
  need: number,
): number {
  const keys = p.keys;
  const lens = p.lens;
  const kids = p.kids;
  const n = p.n;
  let i = floorIdx(keys, n, from);
  if (i < 0) i = 0;
  for (; i < n; i++) {
    if (keys[i] >= limit) return -1; // every span there starts at or beyond the limit
    if (lens[i] < need) continue;
    const r = below === 0
      ? ffLeaf(kids[i] as Leaf, from, size, align, limit, need)
      : ffInner(kids[i] as Inner, below - 1, from, size, align, limit, need);
    if (r !== GO_ON) return r;
  }
  return GO_ON;
}

/** A set of non-overlapping spans ordered by start, with subtree maximum lengths. */
export class SpanTree<T extends Span> {
  readonly #t = new Tree();

  /** Number of spans. */
  get size(): number {
    return this.#t.size;
  }

  /** Insert `item`; its start must not equal any present item's start. */
  insert(item: T): void {
    const t = this.#t;
    const start = item.start;
    const leaf = t.descend(start);
    t.insertAt(leaf, floorIdx(leaf.keys, leaf.n, start) + 1, start, item.end, item);
  }

  /** Remove `item` (matched by identity at its current start). Returns whether it was present. */
  remove(item: T): boolean {
    const t = this.#t;
    const start = item.start;
    const leaf = t.descend(start);
    const j = floorIdx(leaf.keys, leaf.n, start);
    if (j < 0 || leaf.items[j] !== item) return false;
    t.removeAt(leaf, j);
    return true;
  }

  /**
   * Recompute the subtree maxima after `item`'s `start` or `end` was changed in place. The
   * change must keep the spans ordered (the new start lies between its neighbours' starts).
   * Returns whether `item` was found.
   */
  refresh(item: T): boolean {
    const t = this.#t;
    const start = item.start;
    const end = item.end;
    let leaf = t.descend(start);
    let j = floorIdx(leaf.keys, leaf.n, start);
    if (j < 0 || leaf.items[j] !== item) {
      // A start that moved down lands before the item's recorded one: it is the next span.
      let nl: Leaf | null = leaf;
      let nj = j + 1;
      if (nj >= leaf.n) {
        nl = leaf.next;
        nj = 0;
      }
      if (nl === null || nl.items[nj] !== item) return false;
      if (nl !== leaf) leaf = t.descend(nl.keys[0]); // the path to nl
      j = nj;
    }
    const oldLen = leaf.ends[j] - leaf.keys[j];
    if (leaf.keys[j] !== start) {
      leaf.keys[j] = start;
      if (j === 0) t.minUp(start);
    }
    leaf.ends[j] = end;
    const len = end - start;
    if (len > oldLen) t.raise(len);
    else if (len < oldLen) t.lower(leaf, oldLen);
    return true;
  }

  /** The span with the largest start `<= addr`, if any. */
  floor(addr: number): T | undefined {
    const leaf = this.#t.leafFor(addr);
    const j = floorIdx(leaf.keys, leaf.n, addr);
    return j < 0 ? undefined : leaf.items[j] as T;
  }

  /** The span with the smallest start `> addr`, if any. */
  after(addr: number): T | undefined {
    const leaf = this.#t.leafFor(addr);
    const j = floorIdx(leaf.keys, leaf.n, addr) + 1;
    if (j < leaf.n) return leaf.items[j] as T;
    const next = leaf.next;
    return next === null ? undefined : next.items[0] as T;
  }

  /** The span containing `addr`, if any. */
  containing(addr: number): T | undefined {
    const leaf = this.#t.leafFor(addr);
    const j = floorIdx(leaf.keys, leaf.n, addr);
    return j >= 0 && leaf.ends[j] > addr ? leaf.items[j] as T : undefined;
  }

  /** Spans intersecting `[lo, hi)`, in address order. */
  overlapping(lo: number, hi: number): T[] {
    const out: T[] = [];
    let leaf: Leaf | null = this.#t.leafFor(lo);
    let j = floorIdx(leaf.keys, leaf.n, lo);
    if (j < 0 || leaf.ends[j] <= lo) j++;
    for (;;) {
      if (j >= leaf.n) {
        leaf = leaf.next;
        if (leaf === null) break;
        j = 0;
      }
      if (leaf.keys[j] >= hi) break;
      out.push(leaf.items[j] as T);
      j++;
    }
    return out;
  }

  /** Every span, in address order. */
  all(): T[] {
    const out: T[] = [];
    for (let leaf: Leaf | null = this.#t.first(); leaf !== null; leaf = leaf.next) {
      for (let j = 0; j < leaf.n; j++) out.push(leaf.items[j] as T);
    }
    return out;
  }

  /**
   * The first span (in address order) that holds an `align`-aligned block of `size` bytes
   * starting at or after `from` and ending at or before `limit`; returns the block's start, or
   * -1. `size` is positive, `align` is a power of two; spans are assumed to start on page
   * boundaries.
   *
   * Two passes, both independent of the tree's shape: first the first span whose part after
   * `from` is at least `size + align - page` long — such a span always holds an aligned block,
   * so subtrees with a shorter maximum are pruned and the search is O(log n) even among many
   * misaligned gaps; only when there is none (a nearly full region) the exact first fit, which
   * may visit every span that is long enough but misaligned.
   */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    return this.#t.firstFit(from, size, align, page, limit);
  }
}

/**
 * The free ranges of a region: the complement of its children inside `[lo, hi)`.
 * Kept in step by {@link FreeSpace.take} and {@link FreeSpace.give}.
 */
export class FreeSpace {
  // The free spans themselves, with no items (each operation is one descent).
  readonly #t = new Tree();

  /** @param lo first address of the region @param hi one past its last address */
  constructor(lo: number, hi: number) {
    if (hi > lo) this.#t.insertAt(this.#t.descend(lo), 0, lo, hi, null);
  }

  /** True when all of `[start, end)` is free. */
  isFree(start: number, end: number): boolean {
    const leaf = this.#t.leafFor(start);
    const j = floorIdx(leaf.keys, leaf.n, start);
    return j >= 0 && leaf.ends[j] >= end;
  }

  /** Mark `[start, end)` (which must be free) as used. */
  take(start: number, end: number): void {
    const t = this.#t;
    const leaf = t.descend(start);
    const keys = leaf.keys;
    const ends = leaf.ends;
    const j = floorIdx(keys, leaf.n, start);
    if (j < 0 || ends[j] < end) throw new Error("FreeSpace.take: range is not free");
    const gs = keys[j];
    const ge = ends[j];
    if (gs === start) {
      if (ge === end) t.removeAt(leaf, j);
      else {
        keys[j] = end;
        if (j === 0) t.minUp(end);
        t.lower(leaf, ge - gs);
      }
    } else {
      ends[j] = start;
      t.lower(leaf, ge - gs);
      if (end < ge) t.insertAt(leaf, j + 1, end, ge, null);
    }
  }

  /** Mark `[start, end)` (which must be used) as free again, merging neighbours. */
  give(start: number, end: number): void {
    const t = this.#t;
    const leaf = t.descend(start);
    const n = leaf.n;
    const j = floorIdx(leaf.keys, n, start);
    const before = j >= 0 && leaf.ends[j] === start;
    // The next free span, if it starts at `end`.
    let nl: Leaf | null = leaf;
    let nj = j + 1;
    if (nj >= n) {
      nl = leaf.next;
      nj = 0;
    }
    if (nl !== null && nl.keys[nj] !== end) nl = null;
    if (before) {
      const gs = leaf.keys[j];
      if (nl !== null) {
        const ne = nl.ends[nj];
        leaf.ends[j] = ne;
        t.raise(ne - gs);
        if (nl !== leaf) t.descend(end); // the path to nl
        t.removeAt(nl, nj);
      } else {
        leaf.ends[j] = end;
        t.raise(end - gs);
      }
    } else if (nl !== null) {
      if (nl !== leaf) t.descend(end);
      nl.keys[nj] = start;
      if (nj === 0) t.minUp(start);
      t.raise(nl.ends[nj] - start);
    } else t.insertAt(leaf, j + 1, start, end, null);
  }

  /** See {@link SpanTree.firstFit}. */
  firstFit(from: number, size: number, align: number, page: number, limit: number): number {
    return this.#t.firstFit(from, size, align, page, limit);
  }
}
