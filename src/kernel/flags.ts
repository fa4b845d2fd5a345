/**
 * The one decoder of the `zx_vm_option_t` word (Zircon's `split_syscall_flags`), shared by
 * `zx_vmar_allocate`, `zx_vmar_map` and `zx_vmar_protect`. It never throws: each syscall
 * looks at the parts it cares about in Zircon's order of checks.
 *
 * @module
 */
import { ZxVmOption as O } from "../abi/options.ts";

/** `ZX_VM_PERM_READ | WRITE | EXECUTE`. */
export const PERM_RWX = O.VmPermRead | O.VmPermWrite | O.VmPermExecute;
/** `ZX_VM_CAN_MAP_READ | WRITE | EXECUTE`. */
export const CAN_MAP_RWX = O.VmCanMapRead | O.VmCanMapWrite | O.VmCanMapExecute;
/** Flags `zx_vmar_map` accepts besides the permissions and the alignment field. */
export const MAP_FLAGS = O.VmSpecific | O.VmSpecificOverwrite | O.VmMapRange |
  O.VmRequireNonResizable | O.VmAllowFaults | O.VmOffsetIsUpperLimit;
/** Flags `zx_vmar_allocate` accepts besides the alignment field. */
export const ALLOCATE_FLAGS = O.VmCompact | O.VmSpecific | O.VmOffsetIsUpperLimit |
  O.VmCanMapSpecific | CAN_MAP_RWX;
/** The flags a VMAR object keeps from its `allocate` call. */
export const VMAR_OBJECT_FLAGS = CAN_MAP_RWX | O.VmCanMapSpecific | O.VmCompact;

const ALIGN_SHIFT = 24;
/** Every flag bit Zircon knows below the alignment field, permissions excluded. */
const KNOWN_VMAR_FLAGS = 0x7FFF & ~PERM_RWX & ~O.VmPermReadIfXomUnsupported;

/** A decoded `zx_vm_option_t` word. */
export interface VmOptions {
  /** The `ZX_VM_PERM_*` bits as given. */
  readonly perms: number;
  /**
   * The permissions a mapping gets (map, protect): {@link VmOptions.perms} with READ added when
   * `PERM_READ_IF_XOM_UNSUPPORTED` was given, as no zxvm backend maps execute-only.
   */
  readonly mapPerms: number;
  /** Whether `PERM_READ_IF_XOM_UNSUPPORTED` was given (zxvm never maps execute-only). */
  readonly readIfXom: boolean;
  /** The known non-permission flags (`SPECIFIC`, `CAN_MAP_*`, `COMPACT`, ...). */
  readonly vmarFlags: number;
  /** Whether a bit below the alignment field is not a flag Zircon knows. */
  readonly unknownBits: boolean;
  /** The alignment field (`options >> 24`): 0, or log2 of the alignment. */
  readonly alignLog2: number;
  /** Whether the alignment field is valid (0 or 10...32). */
  readonly alignValid: boolean;
}

// Programs use a handful of option words over and over: decode each once.
const decoded = new Map<number, VmOptions>();

/**
 * Split `options` into permissions, VMAR flags and alignment (`split_syscall_flags`). The
 * result is frozen and shared between calls with the same word.
 */
export function splitVmOptions(options: number): VmOptions {
  let f = decoded.get(options);
  if (f === undefined) {
    f = Object.freeze(decode(options));
    if (decoded.size < 4096) decoded.set(options, f);
  }
  return f;
}

function decode(options: number): VmOptions {
  const readIfXom = (options & O.VmPermReadIfXomUnsupported) !== 0;
  const perms = options & PERM_RWX;
  const low = options & ((1 << ALIGN_SHIFT) - 1);
  const alignLog2 = options >>> ALIGN_SHIFT;
  return {
    perms,
    mapPerms: perms | (readIfXom ? O.VmPermRead : 0),
    readIfXom,
    vmarFlags: low & KNOWN_VMAR_FLAGS,
    unknownBits: (low & ~0x7FFF) !== 0,
    alignLog2,
    alignValid: alignLog2 === 0 || (alignLog2 >= 10 && alignLog2 <= 32),
  };
}

/** The alignment in bytes a valid decoded word asks for (at least a page). */
export function alignmentOf(f: VmOptions, pageSize: number): number {
  return f.alignLog2 === 0 ? pageSize : Math.max(2 ** f.alignLog2, pageSize);
}

/** `"rw-"`-style name of permission bits. */
export function permName(p: number): string {
  return (p & 1 ? "r" : "-") + (p & 2 ? "w" : "-") + (p & 4 ? "x" : "-");
}
