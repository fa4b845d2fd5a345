/**
 * The C shim's ABI in one table: every function of `ffi/zxshim.h`, in header order, with its
 * parameters and result in `Deno.ForeignFunction` form. Both bindings come from it: the Deno
 * binding passes it to `Deno.dlopen` (its types are `Deno.DynamicLibrary<typeof shimSymbols>`),
 * and the koffi binding (`ffi_node.ts`) declares each function from it, mapping each Deno type to
 * a koffi type. `tests/shim_abi_test.ts` checks the table against the header's prototypes.
 *
 * Every symbol is fast-call compatible: 32-bit integers, `buffer`, and `f64` for every size,
 * offset and address (`zxs_num` in C: an exact integer below 2^53 carried as a double, so a
 * call allocates no BigInt), results included.
 * This module has no runtime dependencies, so either binding may import it.
 *
 * @module
 */

/** The shim's functions, as `Deno.dlopen` declares them (names and order match `zxshim.h`). */
export const shimSymbols = {
  zxs_version: { parameters: [], result: "i32" },
  zxs_page_size: { parameters: [], result: "f64" },
  zxs_memfd_create: { parameters: [], result: "i32" },
  zxs_close: { parameters: ["i32"], result: "i32" },
  zxs_dup: { parameters: ["i32"], result: "i32" },
  zxs_ftruncate: { parameters: ["i32", "f64"], result: "i32" },
  zxs_fstat_blocks: { parameters: ["i32"], result: "f64" },
  zxs_fstat_size: { parameters: ["i32"], result: "f64" },
  zxs_pread: { parameters: ["i32", "buffer", "f64", "f64"], result: "f64" },
  zxs_pwrite: { parameters: ["i32", "buffer", "f64", "f64"], result: "f64" },
  zxs_punch_hole: { parameters: ["i32", "f64", "f64"], result: "i32" },
  zxs_allocate: { parameters: ["i32", "f64", "f64"], result: "i32" },
  zxs_seek_data: { parameters: ["i32", "f64"], result: "f64" },
  zxs_seek_hole: { parameters: ["i32", "f64"], result: "f64" },
  zxs_copy_range: { parameters: ["i32", "f64", "i32", "f64", "f64"], result: "f64" },
  zxs_reserve: { parameters: ["f64"], result: "f64" },
  zxs_reserve_fixed: { parameters: ["f64", "f64"], result: "i32" },
  zxs_reserve_noreplace: { parameters: ["f64", "f64"], result: "i32" },
  zxs_vma_count: { parameters: [], result: "f64" },
  zxs_max_map_count: { parameters: [], result: "f64" },
  zxs_anon_fixed: { parameters: ["f64", "f64"], result: "i32" },
  zxs_map_window: { parameters: ["i32", "f64", "f64"], result: "f64" },
  zxs_map_fixed: { parameters: ["f64", "f64", "i32", "i32", "f64"], result: "i32" },
  zxs_mprotect: { parameters: ["f64", "f64", "i32"], result: "i32" },
  zxs_munmap: { parameters: ["f64", "f64"], result: "i32" },
  zxs_madvise: { parameters: ["f64", "f64", "i32"], result: "i32" },
  zxs_futex_wait: { parameters: ["f64", "i32", "f64"], result: "i32" },
  zxs_futex_wake: { parameters: ["f64", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The name of one shim function. */
export type ShimName = keyof typeof shimSymbols;

/** The Deno FFI types the table uses (each needs a koffi counterpart in `ffi_node.ts`). */
export type ShimNativeType =
  | (typeof shimSymbols)[ShimName]["parameters"][number]
  | (typeof shimSymbols)[ShimName]["result"];

/** The opened library's functions, as `Deno.dlopen` types them. */
export type ShimSymbols = Deno.DynamicLibrary<typeof shimSymbols>["symbols"];

/** A shim result: `>= 0` on success, `-errno` on failure. */
export type ShimResult = number;

/**
 * The shim's functions as either binding provides them: Deno's parameter types (numbers, and
 * `buffer` as a typed array) and a `number` result.
 */
export type ShimFunctions = {
  readonly [K in ShimName]: (...args: Parameters<ShimSymbols[K]>) => ShimResult;
};

/** The interface version the bindings expect from `zxs_version()` (`ZXS_VERSION`). */
export const SHIM_VERSION = 6;

/** Advice values of `zxs_madvise` (`ZXS_ADV_*` in `zxshim.h`). */
export const ShimAdvice = {
  /** `MADV_NORMAL`. */
  Normal: 0,
  /** `MADV_WILLNEED`: a prefetch hint. */
  WillNeed: 1,
  /** `MADV_DONTNEED`. */
  DontNeed: 2,
} as const;
