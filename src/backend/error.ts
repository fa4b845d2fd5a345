/**
 * How a backend reports a failure: Linux facts (what failed, the errno), never a Zircon
 * syscall name. The kernel turns a `BackendError` into the `ZxError` of the syscall it was
 * serving (`backendCall` in `src/kernel/backend_call.ts`), so one backend operation reached
 * from several syscalls always reports the right one.
 *
 * @module
 */
import type { ZxStatus } from "../abi/status.ts";

/** A resource failure inside a backend (out of memory, address space exhausted, an errno). */
export class BackendError extends Error {
  /** The Zircon status the failure maps to (`ErrNoMemory`, `ErrNoResources`, ...). */
  readonly status: ZxStatus;
  /** What failed, in words, e.g. `"mmap(MAP_FIXED): errno 12 (ENOMEM)"`. */
  readonly reason: string;
  /** The Linux errno, when a system call failed. */
  readonly errno: number | undefined;

  /**
   * Describe a backend failure.
   *
   * @param status the Zircon status the failure maps to
   * @param reason what failed, in words
   * @param errno the Linux errno, if any
   */
  constructor(status: ZxStatus, reason: string, errno?: number) {
    super(reason);
    this.name = "BackendError";
    this.status = status;
    this.reason = reason;
    this.errno = errno;
  }
}
