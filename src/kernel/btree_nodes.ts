/**
 * The nodes of the span B+-tree (`btree.ts`) and the array helpers that move spans between
 * them. Internal to the kernel's ordered structures.
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// The B+-tree. Leaves hold up to LEAF_CAP spans (start, end, item) sorted by start and are
// doubly linked in address order; inner nodes hold up to INNER_CAP children with, per child, the
// exact smallest start in its subtree (`keys`) and the exact largest span length in it (`lens`).
// A node may hold one more than its capacity for a moment: an insertion lands first and the node
// splits after. Every node but the root keeps at least a quarter of its capacity (a node that
// drops below borrows from or merges with a sibling); the root is a leaf, or an inner node with
// two or more children.

export const LEAF_CAP = 32;
export const INNER_CAP = 32;
export const LEAF_MIN = LEAF_CAP >> 2;
export const INNER_MIN = INNER_CAP >> 2;

/** Result of a firstFit search step that found nothing yet and may go on. */
export const GO_ON = -2;

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

export class Leaf {
  n = 0;
  readonly keys: number[] = doubles();
  readonly ends: number[] = doubles();
  readonly items: unknown[] = objects<unknown>(null);
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

export class Inner {
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
export const PATH_NODE: Inner[] = objects(PLACEHOLDER_INNER);
for (let d = 0; d < MAX_DEPTH; d++) PATH_NODE.push(PLACEHOLDER_INNER);
export const PATH_IDX = new Int32Array(MAX_DEPTH);

/** The largest `i < n` with `keys[i] <= k`, or -1. */
export function floorIdx(keys: number[], n: number, k: number): number {
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
export function leafMax(l: Leaf, cap: number): number {
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
export function innerMax(p: Inner, cap: number): number {
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
export function innerRemoveAt(p: Inner, i: number): void {
  remove3<Leaf | Inner>(p.keys, p.lens, p.kids, p.n, i, PLACEHOLDER_LEAF);
  p.n--;
}

// Leaves and inner nodes both keep three parallel arrays (two of numbers, one of objects): the
// helpers below move and shift such triples; `hole` is what an emptied object slot holds.

function move3<V>(
  sa: number[],
  sb: number[],
  sc: V[],
  from: number,
  da: number[],
  db: number[],
  dc: V[],
  to: number,
  count: number,
  hole: V,
): void {
  for (let x = 0; x < count; x++) {
    da[to + x] = sa[from + x];
    db[to + x] = sb[from + x];
    dc[to + x] = sc[from + x];
    sc[from + x] = hole;
  }
}

function shiftUp3<V>(a: number[], b: number[], c: V[], n: number, by: number, hole: V): void {
  while (a.length < n + by) {
    a.push(0);
    b.push(0);
    c.push(hole);
  }
  for (let x = n - 1; x >= 0; x--) {
    a[x + by] = a[x];
    b[x + by] = b[x];
    c[x + by] = c[x];
  }
}

function shiftDown3<V>(a: number[], b: number[], c: V[], n: number, by: number, hole: V): void {
  for (let x = by; x < n; x++) {
    a[x - by] = a[x];
    b[x - by] = b[x];
    c[x - by] = c[x];
  }
  for (let x = n - by; x < n; x++) c[x] = hole;
}

/** Move `count` spans from `src[from..]` to `dst[to..]` (distinct leaves). */
export function leafMove(src: Leaf, from: number, dst: Leaf, to: number, count: number): void {
  move3(src.keys, src.ends, src.items, from, dst.keys, dst.ends, dst.items, to, count, null);
}

/** Move `count` children from `src[from..]` to `dst[to..]` (distinct nodes). */
export function innerMove(src: Inner, from: number, dst: Inner, to: number, count: number): void {
  const h: Leaf | Inner = PLACEHOLDER_LEAF;
  move3(src.keys, src.lens, src.kids, from, dst.keys, dst.lens, dst.kids, to, count, h);
}

/** Shift the first `n` spans of `l` up by `by` slots. */
export function leafShiftUp(l: Leaf, n: number, by: number): void {
  shiftUp3(l.keys, l.ends, l.items, n, by, null);
}

/** Shift spans `[by, n)` of `l` down by `by` slots. */
export function leafShiftDown(l: Leaf, n: number, by: number): void {
  shiftDown3(l.keys, l.ends, l.items, n, by, null);
}

/** Shift the first `n` children of `p` up by `by` slots. */
export function innerShiftUp(p: Inner, n: number, by: number): void {
  shiftUp3<Leaf | Inner>(p.keys, p.lens, p.kids, n, by, PLACEHOLDER_LEAF);
}

/** Shift children `[by, n)` of `p` down by `by` slots. */
export function innerShiftDown(p: Inner, n: number, by: number): void {
  shiftDown3<Leaf | Inner>(p.keys, p.lens, p.kids, n, by, PLACEHOLDER_LEAF);
}

/** Insert `(va, vb, vc)` at index `j` of three parallel arrays holding `n` entries. */
export function insert3<V>(
  a: number[],
  b: number[],
  c: V[],
  n: number,
  j: number,
  va: number,
  vb: number,
  vc: V,
): void {
  for (let x = n; x > j; x--) {
    a[x] = a[x - 1];
    b[x] = b[x - 1];
    c[x] = c[x - 1];
  }
  a[j] = va;
  b[j] = vb;
  c[j] = vc;
}

/** Remove index `j` of three parallel arrays holding `n` entries; the freed slot holds `hole`. */
export function remove3<V>(a: number[], b: number[], c: V[], n: number, j: number, hole: V): void {
  for (let x = j; x < n - 1; x++) {
    a[x] = a[x + 1];
    b[x] = b[x + 1];
    c[x] = c[x + 1];
  }
  c[n - 1] = hole;
}
