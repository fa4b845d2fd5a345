/**
 * The B+-tree behind the VMAR tree and its free space: spans `[start, end)` keyed by start,
 * with the largest span length per subtree, O(log n) worst case. Used through `SpanTree` and
 * `FreeSpace` (`ordered.ts`).
 *
 * @module
 */
import {
  floorIdx,
  GO_ON,
  Inner,
  INNER_CAP,
  INNER_MIN,
  innerMax,
  innerMove,
  innerRemoveAt,
  innerShiftDown,
  innerShiftUp,
  insert3,
  Leaf,
  LEAF_CAP,
  LEAF_MIN,
  leafMax,
  leafMove,
  leafShiftDown,
  leafShiftUp,
  PATH_IDX,
  PATH_NODE,
  remove3,
} from "./btree_nodes.ts";

/** How {@link redistribute} moves the entries of one kind of node. */
interface NodeOps<N extends { n: number; keys: number[] }> {
  move(src: N, from: number, dst: N, to: number, count: number): void;
  shiftUp(node: N, n: number, by: number): void;
  shiftDown(node: N, n: number, by: number): void;
  max(node: N, cap: number): number;
}

const LEAF_OPS: NodeOps<Leaf> = {
  move: leafMove,
  shiftUp: leafShiftUp,
  shiftDown: leafShiftDown,
  max: leafMax,
};
const INNER_OPS: NodeOps<Inner> = {
  move: innerMove,
  shiftUp: innerShiftUp,
  shiftDown: innerShiftDown,
  max: innerMax,
};

/**
 * Even out two siblings `left` (child `li` of `p`) and `right` (child `li + 1`) that together
 * hold more than one node can: the left keeps half, and `p`'s keys and lengths follow.
 */
function redistribute<N extends { n: number; keys: number[] }>(
  p: Inner,
  li: number,
  left: N,
  right: N,
  ops: NodeOps<N>,
): void {
  const total = left.n + right.n;
  const want = total >> 1; // entries the left node keeps
  if (left.n < want) {
    const c = want - left.n;
    ops.move(right, 0, left, left.n, c);
    ops.shiftDown(right, right.n, c);
  } else {
    const c = left.n - want;
    ops.shiftUp(right, right.n, c);
    ops.move(left, want, right, 0, c);
  }
  left.n = want;
  right.n = total - want;
  p.keys[li + 1] = right.keys[0];
  p.lens[li] = ops.max(left, Infinity);
  p.lens[li + 1] = ops.max(right, Infinity);
}

export class Tree {
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
    insert3(leaf.keys, leaf.ends, leaf.items, leaf.n, j, start, end, item);
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
    const oldLen = leaf.ends[j] - keys[j];
    const n = leaf.n - 1;
    remove3(keys, leaf.ends, leaf.items, leaf.n, j, null);
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
    insert3<Leaf | Inner>(keys, p.lens, p.kids, p.n, i, rightKey, rightMax, right);
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
    redistribute(p, li, left, right, LEAF_OPS);
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
    redistribute(p, li, left, right, INNER_OPS);
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
