/**
 * The operations of the differential model: one step of a sequence ({@link Op}) as the
 * arbitraries generate it (`arbitraries.ts`) and a driver executes it on one kernel
 * (`driver.ts`). Shrunk sequences are pasted as `Op` literals into tests/regressions_test.ts.
 *
 * Operations refer to handles and mappings by index into the driver's lists (taken modulo the
 * list length), so a sequence stays meaningful while fast-check shrinks it.
 *
 * @module
 */

/** A u64 argument as generated: number or bigint (possibly outside u64 on purpose). */
export type Num = number | bigint;

/** An address: relative to a VMAR's base or to a mapping's start, plus pages and bytes. */
export interface Addr {
  /** What the address is relative to. */
  from: "vmar" | "map";
  /** Index into the driver's VMAR or mapping list. */
  i: number;
  /** Whole pages from there (may be negative). */
  pages: number;
  /** Extra bytes (unaligned when non-zero). */
  bytes: number;
}

/** One step of a sequence. */
export type Op =
  | { t: "create"; size: Num; opts: number }
  | { t: "write"; v: number; off: Num; len: number; byte: number }
  | { t: "read"; v: number; off: Num; len: number }
  | { t: "setSize"; v: number; size: Num }
  | { t: "child"; v: number; opts: number; off: Num; size: Num }
  | { t: "allocate"; r: number; opts: number; off: Num; size: Num }
  | { t: "map"; r: number; opts: number; off: Num; v: number; voff: Num; len: Num }
  | { t: "unmap"; r: number; at: Addr; len: Num }
  | { t: "protect"; r: number; opts: number; at: Addr; len: Num }
  | { t: "destroy"; r: number }
  | { t: "dup"; kind: "vmo" | "vmar"; h: number; mode: "same" | "drop" | "raw"; bits: number }
  | { t: "replace"; kind: "vmo" | "vmar"; h: number; mode: "same" | "drop" | "raw"; bits: number }
  | { t: "close"; kind: "vmo" | "vmar"; h: number }
  | { t: "mread"; m: number; off: Num; len: number }
  | { t: "mwrite"; m: number; off: Num; len: number; byte: number }
  | { t: "mbytes"; m: number; idx: number; byte: number }
  | {
    t: "view";
    m: number;
    /** Touch the view kept from an earlier step (when still attached) instead of bytes(). */
    held: boolean;
    /** `m` indexes the mappings still (partly) mapped, not all of them. */
    live: boolean;
    off: number;
    len: number;
    /** Write a pattern into the slice (0: only read it). */
    byte: number;
  }
  | { t: "readInto"; v: number; off: Num; len: number; pad: number; fill: number }
  | { t: "munmap"; m: number }
  | { t: "vmoOp"; v: number; op: number; off: Num; size: Num }
  | { t: "vmarOp"; r: number; op: number; at: Addr; len: Num }
  | { t: "contentSize"; v: number; size: Num }
  | { t: "name"; v: number; name: string }
  | { t: "info"; v: number };
