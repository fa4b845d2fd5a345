/**
 * Handle rights (`zx_rights_t`), with the numeric values of Zircon's `rights.h`.
 *
 * @module
 */

/**
 * Every Zircon right, plus the default rights zxvm puts on new VMO, VMAR and channel handles.
 *
 * @example
 * ```ts
 * import { Rights } from "./rights.ts";
 * const readOnly = Rights.Read | Rights.Map | Rights.Duplicate;
 * ```
 */
export const Rights = {
  /** `ZX_RIGHT_NONE`: no rights. */
  None: 0,
  /** `ZX_RIGHT_DUPLICATE`: the handle may be duplicated. */
  Duplicate: 1 << 0,
  /** `ZX_RIGHT_TRANSFER`: the handle may be transferred. */
  Transfer: 1 << 1,
  /** `ZX_RIGHT_READ`: read access (VMO contents; mapping readable memory from a VMAR). */
  Read: 1 << 2,
  /** `ZX_RIGHT_WRITE`: write access. */
  Write: 1 << 3,
  /** `ZX_RIGHT_EXECUTE`: execute access. */
  Execute: 1 << 4,
  /** `ZX_RIGHT_MAP`: the VMO may be mapped. */
  Map: 1 << 5,
  /** `ZX_RIGHT_GET_PROPERTY`: properties (such as the name) may be read. */
  GetProperty: 1 << 6,
  /** `ZX_RIGHT_SET_PROPERTY`: properties (such as the name) may be set. */
  SetProperty: 1 << 7,
  /** `ZX_RIGHT_ENUMERATE`: children may be enumerated. */
  Enumerate: 1 << 8,
  /** `ZX_RIGHT_DESTROY`: the object may be destroyed. */
  Destroy: 1 << 9,
  /** `ZX_RIGHT_SET_POLICY`: policy may be set. */
  SetPolicy: 1 << 10,
  /** `ZX_RIGHT_GET_POLICY`: policy may be read. */
  GetPolicy: 1 << 11,
  /** `ZX_RIGHT_SIGNAL`: user signals may be set on the object. */
  Signal: 1 << 12,
  /** `ZX_RIGHT_SIGNAL_PEER`: user signals may be set on the peer. */
  SignalPeer: 1 << 13,
  /** `ZX_RIGHT_WAIT`: the object's signals may be waited on. */
  Wait: 1 << 14,
  /** `ZX_RIGHT_INSPECT`: information about the object may be read. */
  Inspect: 1 << 15,
  /** `ZX_RIGHT_MANAGE_JOB`: job management. */
  ManageJob: 1 << 16,
  /** `ZX_RIGHT_MANAGE_PROCESS`: process management. */
  ManageProcess: 1 << 17,
  /** `ZX_RIGHT_MANAGE_THREAD`: thread management. */
  ManageThread: 1 << 18,
  /** `ZX_RIGHT_APPLY_PROFILE`: profiles may be applied. */
  ApplyProfile: 1 << 19,
  /** `ZX_RIGHT_MANAGE_SOCKET`: socket management. */
  ManageSocket: 1 << 20,
  /** `ZX_RIGHT_OP_CHILDREN`: operations on children (VMAR destroy, unmapping sub-regions). */
  OpChildren: 1 << 21,
  /** `ZX_RIGHT_RESIZE`: the VMO may be resized. */
  Resize: 1 << 22,
  /** `ZX_RIGHT_SAME_RIGHTS`: in `duplicate`/`replace`, keep the source handle's rights. */
  SameRights: 0x80000000,
  /** `ZX_RIGHTS_BASIC`: TRANSFER | DUPLICATE | WAIT | INSPECT (0xC003). */
  Basic: 0xC003,
  /** `ZX_DEFAULT_VMO_RIGHTS` (0xD0EF); a resizable VMO's handle also gets {@link Rights.Resize}. */
  DefaultVmo: 0xD0EF,
  /**
   * `ZX_DEFAULT_VMAR_RIGHTS` (0x208003); a VMAR handle also gets `Read`/`Write`/`Execute`
   * matching its `VmCanMapRead`/`Write`/`Execute` flags.
   */
  DefaultVmar: 0x208003,
  /**
   * `ZX_DEFAULT_CHANNEL_RIGHTS` (0xF00E): TRANSFER | WAIT | INSPECT | READ | WRITE | SIGNAL |
   * SIGNAL_PEER — `ZX_RIGHTS_BASIC` without DUPLICATE, so a channel endpoint has one handle.
   */
  DefaultChannel: 0xF00E,
} as const;
Object.freeze(Rights);

/** A rights bit set (any OR of {@link Rights} values). */
export type Rights = number;

/**
 * Zircon's names of the single rights in `rights`, e.g. `"ZX_RIGHT_READ | ZX_RIGHT_MAP"`
 * (`"ZX_RIGHT_NONE"` for 0; unknown bits as hex).
 *
 * @example
 * ```ts
 * import { Rights, rightsName } from "./rights.ts";
 * console.log(rightsName(Rights.Read | Rights.Map)); // "ZX_RIGHT_READ | ZX_RIGHT_MAP"
 * ```
 */
export function rightsName(rights: number): string {
  const names: string[] = [];
  let rest = rights >>> 0;
  for (let bit = 0; bit < 31; bit++) {
    const v = 1 << bit;
    if ((rest & v) === 0) continue;
    const key = SINGLE[v];
    if (key !== undefined) {
      names.push(key);
      rest &= ~v;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.length === 0 ? "ZX_RIGHT_NONE" : names.join(" | ");
}

const SINGLE: Record<number, string> = {};
for (const [k, v] of Object.entries(Rights)) {
  if (v !== 0 && (v & (v - 1)) === 0 && v !== Rights.SameRights) {
    SINGLE[v] = "ZX_RIGHT_" + k.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }
}
