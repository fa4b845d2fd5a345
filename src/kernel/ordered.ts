/**
 * Ordered structures for the VMAR tree: the children of a region ({@link SpanTree}) and its
 * free ranges ({@link FreeSpace}), both over a B+-tree of non-overlapping spans keyed by start
 * address, with the largest span length kept per subtree (`btree.ts`). Every operation is
 * O(log n) in the worst case (the tree is height balanced and every node but the root is at
 * least a quarter full), so a VMAR with 100k children costs about what one with 1k costs per
 * operation.
 *
 * The tree keeps each span's start and end in flat number arrays next to the item, so searches
 * never read the items themselves (which come in several shapes); items are only compared by
 * identity. A tree with fewer than 33 spans is a single sorted leaf.
 *
 * @module
 */
import { Tree } from "./btree.ts";
import { floorIdx, type Leaf } from "./btree_nodes.ts";

/** A half-open address range `[start, end)`. */
export interface Span {
  /** First address. */
  start: number;
  /** One past the last address. */
  end: number;
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
