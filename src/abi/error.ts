/**
 * `ZxError`: how every zxvm call reports a Zircon status.
 *
 * @module
 */
import { statusName, type ZxStatus } from "./status.ts";

/** Where and how a memory access through a `Mapping` faulted. */
export interface FaultInfo {
  /** The absolute address of the first byte that could not be accessed. */
  readonly addr: number;
  /** The kind of access that faulted. */
  readonly access: "read" | "write";
}

/**
 * The error every zxvm operation throws for a Zircon status other than `ZX_OK`.
 * A call that throws `ZxError` has changed no state.
 *
 * @example
 * ```ts
 * import { ZxError, ZxStatus } from "../../mod.ts";
 * try {
 *   // ... some zxvm call
 * } catch (e) {
 *   if (e instanceof ZxError && e.status === ZxStatus.ErrBadHandle) {
 *     console.log(e.op, e.message); // "zx_vmo_read" "ZX_ERR_BAD_HANDLE: ..."
 *   }
 * }
 * ```
 */
export class ZxError extends Error {
  /** The Zircon status (negative). */
  readonly status: ZxStatus;
  /** The Zircon syscall (or, for access faults, `"page_fault"`) that failed. */
  readonly op: string;
  /** Present for access faults through a `Mapping`: where and how the access faulted. */
  readonly fault?: FaultInfo;
  /** The explanation alone (the message is `"<status name>: <op>: <reason>"`). */
  readonly reason: string;

  /**
   * Create a ZxError.
   *
   * @param status the Zircon status
   * @param op the Zircon syscall name, e.g. `"zx_vmar_map"`
   * @param reason a human explanation, appended to the status name in the message
   * @param fault for access faults, the faulting address and access kind
   */
  constructor(status: ZxStatus, op: string, reason: string, fault?: FaultInfo) {
    super(`${statusName(status)}: ${op}: ${reason}`);
    this.name = "ZxError";
    this.status = status;
    this.op = op;
    this.reason = reason;
    if (fault !== undefined) this.fault = fault;
  }

  /** The Zircon name of {@link ZxError.status}, e.g. `"ZX_ERR_BAD_HANDLE"`. */
  get statusName(): string {
    return statusName(this.status);
  }
}
