/**
 * Kernel objects and the handle table.
 *
 * Handle values are 32-bit with Zircon's fixed low bits (`0b11`); the upper 30 bits are a
 * per-kernel secret permutation of an issue counter, so values look random, are never 0, and
 * a value is not issued again until 2^30 more handles have been created (a closed handle's
 * value can therefore never name a new object in practice).
 *
 * @module
 */

/** Zircon object type numbers (`ZX_OBJ_TYPE_*`). */
export const ObjType = {
  /** `ZX_OBJ_TYPE_VMO`. */
  Vmo: 3,
  /** `ZX_OBJ_TYPE_CHANNEL`. */
  Channel: 4,
  /** `ZX_OBJ_TYPE_VMAR`. */
  Vmar: 18,
} as const;

/** Base of every kernel object. */
export abstract class KObject {
  /**
   * Number of live handles to this object: those in handle tables and those travelling in a
   * channel message (a handle in a message is still a handle, as in Zircon).
   */
  handleCount = 0;
  /** @param koid the object's kernel object id */
  constructor(readonly koid: number) {}
  /** `"vmo"`, `"vmar"` or `"channel"`. */
  abstract get type(): "vmo" | "vmar" | "channel";
  /** The `ZX_OBJ_TYPE_*` number. */
  abstract get zxType(): number;
}

/** One entry of the handle table. */
export interface HandleEntry {
  /** The handle value. */
  readonly value: number;
  /** The object the handle refers to. */
  readonly obj: KObject;
  /** The handle's rights. */
  readonly rights: number;
}

/** A kernel's handle table. */
export class HandleTable {
  readonly #map = new Map<number, HandleEntry>();
  #counter = 0;
  readonly #secret: number;
  readonly #mult: number;

  /** @param secret random bits that make values unpredictable across kernels */
  constructor(secret: number) {
    this.#secret = secret & 0x3FFFFFFF;
    this.#mult = (secret >>> 2) | 1; // any odd multiplier is a bijection mod 2^30
  }

  /** Number of live handles. */
  get size(): number {
    return this.#map.size;
  }

  /** Issue a new handle to `obj` with `rights`. */
  add(obj: KObject, rights: number): HandleEntry {
    obj.handleCount++;
    return this.moveIn(obj, rights);
  }

  /**
   * Install a handle that already counts in `obj.handleCount` (one read out of a channel
   * message) under a new value of this table.
   */
  moveIn(obj: KObject, rights: number): HandleEntry {
    let value: number;
    do {
      const c = ++this.#counter & 0x3FFFFFFF;
      const x = ((Math.imul(c, this.#mult) & 0x3FFFFFFF) ^ this.#secret) >>> 0;
      value = ((x << 2) | 3) >>> 0;
    } while (this.#map.has(value));
    const entry: HandleEntry = { value, obj, rights };
    this.#map.set(value, entry);
    return entry;
  }

  /** The entry for `value`, if it is live. */
  get(value: number): HandleEntry | undefined {
    return this.#map.get(value);
  }

  /** Remove the entry. */
  delete(entry: HandleEntry): void {
    if (this.#map.delete(entry.value)) entry.obj.handleCount--;
  }

  /**
   * Remove the entry but keep it counted in `obj.handleCount`: the handle leaves this table
   * for a channel message. Returns false when the entry was not in the table.
   */
  moveOut(entry: HandleEntry): boolean {
    return this.#map.delete(entry.value);
  }

  /** Every live entry. */
  entries(): HandleEntry[] {
    return [...this.#map.values()];
  }
}
