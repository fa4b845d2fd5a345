/**
 * The one wrapper for backend calls: whatever a backend throws becomes the `ZxError` of the
 * syscall being served, so errors always name the call the user made.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";
import { BackendError } from "../backend/error.ts";

/**
 * The `ZxError` that a backend failure `x` means for syscall `op`: a {@link BackendError} or a
 * `ZxError` keeps its status and reason; anything else (an allocation `RangeError`, say) is
 * `ErrNoMemory`.
 */
export function backendFailure(op: string, x: unknown): ZxError {
  if (x instanceof BackendError || x instanceof ZxError) {
    return new ZxError(x.status, op, x.reason);
  }
  return new ZxError(ZxStatus.ErrNoMemory, op, `the backend failed: ${String(x)}`);
}

/**
 * Run backend work `fn` on behalf of syscall `op`.
 *
 * @throws {ZxError} the backend's failure, named after `op` (see {@link backendFailure})
 */
export function backendCall<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (x) {
    throw backendFailure(op, x);
  }
}
