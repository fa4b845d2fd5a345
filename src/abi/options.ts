/**
 * Option and operation numbers: `zx_vm_option_t`, VMO creation and child options, and
 * `zx_vmo_op_range` / `zx_vmar_op_range` operations, with Zircon's values (`types.h`).
 *
 * @module
 */

/**
 * `zx_vm_option_t` flags for `Vmar.map`, `Vmar.allocate` and `Vmar.protect`.
 * `VmAlign1Kb` … `VmAlign4Gb` occupy bits 24-31 (log2 of the alignment, shifted by 24).
 *
 * @example
 * ```ts
 * import { ZxVmOption } from "./options.ts";
 * const rw = ZxVmOption.VmPermRead | ZxVmOption.VmPermWrite;
 * ```
 */
export const ZxVmOption = {
  /** `ZX_VM_PERM_READ`: map readable. */
  VmPermRead: 1 << 0,
  /** `ZX_VM_PERM_WRITE`: map writable (requires `VmPermRead`). */
  VmPermWrite: 1 << 1,
  /** `ZX_VM_PERM_EXECUTE`: map executable (requires `VmPermRead`). */
  VmPermExecute: 1 << 2,
  /** `ZX_VM_COMPACT`: a VMAR whose children are placed close together (allocate only). */
  VmCompact: 1 << 3,
  /** `ZX_VM_SPECIFIC`: place at `vmarOffset`; needs `VmCanMapSpecific` on the VMAR. */
  VmSpecific: 1 << 4,
  /** `ZX_VM_SPECIFIC_OVERWRITE`: like `VmSpecific`, but replaces existing mappings (map only). */
  VmSpecificOverwrite: 1 << 5,
  /** `ZX_VM_CAN_MAP_SPECIFIC`: the new VMAR allows specific placement (allocate only). */
  VmCanMapSpecific: 1 << 6,
  /** `ZX_VM_CAN_MAP_READ`: the new VMAR allows readable mappings (allocate only). */
  VmCanMapRead: 1 << 7,
  /** `ZX_VM_CAN_MAP_WRITE`: the new VMAR allows writable mappings (allocate only). */
  VmCanMapWrite: 1 << 8,
  /** `ZX_VM_CAN_MAP_EXECUTE`: the new VMAR allows executable mappings (allocate only). */
  VmCanMapExecute: 1 << 9,
  /** `ZX_VM_MAP_RANGE`: populate the mapping immediately (map only; not with SPECIFIC_OVERWRITE). */
  VmMapRange: 1 << 10,
  /** `ZX_VM_REQUIRE_NON_RESIZABLE`: fail with `ErrNotSupported` if the VMO is resizable. */
  VmRequireNonResizable: 1 << 11,
  /** `ZX_VM_ALLOW_FAULTS`: allow mapping VMOs whose pages may fault (discardable VMOs). */
  VmAllowFaults: 1 << 12,
  /** `ZX_VM_OFFSET_IS_UPPER_LIMIT`: `vmarOffset` is an upper limit for the placement's end. */
  VmOffsetIsUpperLimit: 1 << 13,
  /** `ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED`: add READ when execute-only is unsupported (always here). */
  VmPermReadIfXomUnsupported: 1 << 14,
  /** `ZX_VM_ALIGN_1KB`. */
  VmAlign1Kb: 10 << 24,
  /** `ZX_VM_ALIGN_2KB`. */
  VmAlign2Kb: 11 << 24,
  /** `ZX_VM_ALIGN_4KB`. */
  VmAlign4Kb: 12 << 24,
  /** `ZX_VM_ALIGN_8KB`. */
  VmAlign8Kb: 13 << 24,
  /** `ZX_VM_ALIGN_16KB`. */
  VmAlign16Kb: 14 << 24,
  /** `ZX_VM_ALIGN_32KB`. */
  VmAlign32Kb: 15 << 24,
  /** `ZX_VM_ALIGN_64KB`. */
  VmAlign64Kb: 16 << 24,
  /** `ZX_VM_ALIGN_128KB`. */
  VmAlign128Kb: 17 << 24,
  /** `ZX_VM_ALIGN_256KB`. */
  VmAlign256Kb: 18 << 24,
  /** `ZX_VM_ALIGN_512KB`. */
  VmAlign512Kb: 19 << 24,
  /** `ZX_VM_ALIGN_1MB`. */
  VmAlign1Mb: 20 << 24,
  /** `ZX_VM_ALIGN_2MB`. */
  VmAlign2Mb: 21 << 24,
  /** `ZX_VM_ALIGN_4MB`. */
  VmAlign4Mb: 22 << 24,
  /** `ZX_VM_ALIGN_8MB`. */
  VmAlign8Mb: 23 << 24,
  /** `ZX_VM_ALIGN_16MB`. */
  VmAlign16Mb: 24 << 24,
  /** `ZX_VM_ALIGN_32MB`. */
  VmAlign32Mb: 25 << 24,
  /** `ZX_VM_ALIGN_64MB`. */
  VmAlign64Mb: 26 << 24,
  /** `ZX_VM_ALIGN_128MB`. */
  VmAlign128Mb: 27 << 24,
  /** `ZX_VM_ALIGN_256MB`. */
  VmAlign256Mb: 28 << 24,
  /** `ZX_VM_ALIGN_512MB`. */
  VmAlign512Mb: 29 << 24,
  /** `ZX_VM_ALIGN_1GB`. */
  VmAlign1Gb: 30 << 24,
  /** `ZX_VM_ALIGN_2GB`. */
  VmAlign2Gb: 31 << 24,
  /** `ZX_VM_ALIGN_4GB` (`32 << 24`, i.e. 0x20000000). */
  VmAlign4Gb: 32 << 24,
} as const;
Object.freeze(ZxVmOption);

/** A `zx_vm_option_t` bit set (any OR of {@link ZxVmOption} values). */
export type ZxVmOption = number;

/**
 * `zx_vmo_create` options. Non-resizable is the default (`Default`, 0); Zircon's obsolete
 * `ZX_VMO_NON_RESIZABLE` (bit 0) is rejected with `ErrInvalidArgs`, as the kernel does.
 */
export const VmoOptions = {
  /** No options: a fixed-size VMO. */
  Default: 0,
  /** `ZX_VMO_RESIZABLE`: the VMO may be resized (its handle also gets `Rights.Resize`). */
  Resizable: 1 << 1,
  /** `ZX_VMO_DISCARDABLE`: pages may be discarded while unlocked (lock with `VmoOp.Lock`). */
  Discardable: 1 << 2,
} as const;
Object.freeze(VmoOptions);

/** A `zx_vmo_create` option bit set. */
export type VmoOptions = number;

/** `zx_vmo_create_child` options. */
export const VmoChildOptions = {
  /** `ZX_VMO_CHILD_SNAPSHOT`: a copy-on-write snapshot, isolated both ways. */
  Snapshot: 1 << 0,
  /** `ZX_VMO_CHILD_RESIZABLE`: the child may be resized. */
  Resizable: 1 << 2,
  /** `ZX_VMO_CHILD_SLICE`: a window aliasing the parent's pages. */
  Slice: 1 << 3,
  /** `ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE`: a snapshot taken no later than the first write. */
  SnapshotAtLeastOnWrite: 1 << 4,
  /** `ZX_VMO_CHILD_NO_WRITE`: the child's handle has no `Rights.Write`. */
  NoWrite: 1 << 5,
  /** `ZX_VMO_CHILD_REFERENCE`: a reference to the whole parent (offset 0, size 0). */
  Reference: 1 << 6,
  /** `ZX_VMO_CHILD_SNAPSHOT_MODIFIED`: snapshot of the modified pages only (newer kernels). */
  SnapshotModified: 1 << 7,
} as const;
Object.freeze(VmoChildOptions);

/** A `zx_vmo_create_child` option bit set. */
export type VmoChildOptions = number;

/** Operations for `Vmo.opRange` (`ZX_VMO_OP_*`) and `Vmar.opRange` (`ZX_VMAR_OP_*`). */
export const VmoOp = {
  /** `ZX_VMO_OP_COMMIT` / `ZX_VMAR_OP_COMMIT`: commit pages. */
  Commit: 1,
  /** `ZX_VMO_OP_DECOMMIT` / `ZX_VMAR_OP_DECOMMIT`: release pages; they read back as zero. */
  Decommit: 2,
  /** `ZX_VMO_OP_LOCK`: lock a discardable VMO. */
  Lock: 3,
  /** `ZX_VMO_OP_UNLOCK`: unlock a discardable VMO. */
  Unlock: 4,
  /** `ZX_VMO_OP_CACHE_SYNC`. */
  CacheSync: 6,
  /** `ZX_VMO_OP_CACHE_INVALIDATE` (needs debugging syscalls on Zircon: `ErrNotSupported`). */
  CacheInvalidate: 7,
  /** `ZX_VMO_OP_CACHE_CLEAN`. */
  CacheClean: 8,
  /** `ZX_VMO_OP_CACHE_CLEAN_INVALIDATE`. */
  CacheCleanInvalidate: 9,
  /** `ZX_VMO_OP_ZERO`: zero the range. */
  Zero: 10,
  /** `ZX_VMO_OP_TRY_LOCK`: lock a discardable VMO unless it was discarded. */
  TryLock: 11,
  /** `ZX_VMO_OP_DONT_NEED` / `ZX_VMAR_OP_DONT_NEED`: a hint. */
  DontNeed: 12,
  /** `ZX_VMO_OP_ALWAYS_NEED` / `ZX_VMAR_OP_ALWAYS_NEED`: a hint. */
  AlwaysNeed: 13,
  /** `ZX_VMO_OP_PREFETCH` / `ZX_VMAR_OP_PREFETCH`: a hint (newer kernels). */
  Prefetch: 14,
  /** `ZX_VMAR_OP_MAP_RANGE`: populate the mappings in the range (VMAR only). */
  MapRange: 3,
} as const;
Object.freeze(VmoOp);

/** A VMO or VMAR range operation number. */
export type VmoOp = number;
