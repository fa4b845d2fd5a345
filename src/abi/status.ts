/**
 * Zircon status codes (`zx_status_t`), with the numeric values of Zircon's `errors.h`.
 *
 * @module
 */

/**
 * Every Zircon status, by its zxvm name. Values equal Zircon's own `ZX_*` codes.
 *
 * @example
 * ```ts
 * import { ZxStatus, statusName } from "./status.ts";
 * console.log(ZxStatus.ErrBadHandle, statusName(ZxStatus.ErrBadHandle)); // -11 "ZX_ERR_BAD_HANDLE"
 * ```
 */
export const ZxStatus = {
  /** `ZX_OK`: success. */
  Ok: 0,
  /** `ZX_ERR_INTERNAL`: a kernel-internal invariant was violated. */
  ErrInternal: -1,
  /** `ZX_ERR_NOT_SUPPORTED`: the operation is not implemented, supported, or enabled. */
  ErrNotSupported: -2,
  /** `ZX_ERR_NO_RESOURCES`: no room (for example, no free range in a VMAR). */
  ErrNoResources: -3,
  /** `ZX_ERR_NO_MEMORY`: memory could not be allocated. */
  ErrNoMemory: -4,
  /** `ZX_ERR_INTERNAL_INTR_RETRY`: internal; never returned to callers. */
  ErrInternalIntrRetry: -6,
  /** `ZX_ERR_INVALID_ARGS`: an argument is invalid. */
  ErrInvalidArgs: -10,
  /** `ZX_ERR_BAD_HANDLE`: a handle is not valid (closed, never issued, or another kernel's). */
  ErrBadHandle: -11,
  /** `ZX_ERR_WRONG_TYPE`: the handle's object is not of the type the call needs. */
  ErrWrongType: -12,
  /** `ZX_ERR_BAD_SYSCALL`: the syscall number is invalid. */
  ErrBadSyscall: -13,
  /** `ZX_ERR_OUT_OF_RANGE`: an argument is outside the valid range. */
  ErrOutOfRange: -14,
  /** `ZX_ERR_BUFFER_TOO_SMALL`: a caller-supplied buffer is too small. */
  ErrBufferTooSmall: -15,
  /** `ZX_ERR_BAD_STATE`: the object is in a state that does not allow the call (e.g. destroyed VMAR). */
  ErrBadState: -20,
  /** `ZX_ERR_TIMED_OUT`: the deadline passed. */
  ErrTimedOut: -21,
  /** `ZX_ERR_SHOULD_WAIT`: the operation cannot complete now; try again later. */
  ErrShouldWait: -22,
  /** `ZX_ERR_CANCELED`: the operation was canceled (for example, its handle was closed). */
  ErrCanceled: -23,
  /** `ZX_ERR_PEER_CLOSED`: the other end of a channel or socket was closed. */
  ErrPeerClosed: -24,
  /** `ZX_ERR_NOT_FOUND`: the requested entity was not found. */
  ErrNotFound: -25,
  /** `ZX_ERR_ALREADY_EXISTS`: the entity (for example, an overlapping range) already exists. */
  ErrAlreadyExists: -26,
  /** `ZX_ERR_ALREADY_BOUND`: the object is already bound. */
  ErrAlreadyBound: -27,
  /** `ZX_ERR_UNAVAILABLE`: the resource is unavailable (e.g. resizing a non-resizable VMO). */
  ErrUnavailable: -28,
  /** `ZX_ERR_ACCESS_DENIED`: the handle lacks a right the call needs. */
  ErrAccessDenied: -30,
  /** `ZX_ERR_IO`: an input/output error. */
  ErrIo: -40,
  /** `ZX_ERR_IO_REFUSED`: the I/O was refused. */
  ErrIoRefused: -41,
  /** `ZX_ERR_IO_DATA_INTEGRITY`: data failed an integrity check. */
  ErrIoDataIntegrity: -42,
  /** `ZX_ERR_IO_DATA_LOSS`: data was lost. */
  ErrIoDataLoss: -43,
  /** `ZX_ERR_IO_NOT_PRESENT`: the device is not present. */
  ErrIoNotPresent: -44,
  /** `ZX_ERR_IO_OVERRUN`: an overrun occurred. */
  ErrIoOverrun: -45,
  /** `ZX_ERR_IO_MISSED_DEADLINE`: an I/O deadline was missed. */
  ErrIoMissedDeadline: -46,
  /** `ZX_ERR_IO_INVALID`: the data is invalid. */
  ErrIoInvalid: -47,
  /** `ZX_ERR_BAD_PATH`: a path is malformed. */
  ErrBadPath: -50,
  /** `ZX_ERR_NOT_DIR`: not a directory. */
  ErrNotDir: -51,
  /** `ZX_ERR_NOT_FILE`: not a regular file. */
  ErrNotFile: -52,
  /** `ZX_ERR_FILE_BIG`: the file would exceed a size limit. */
  ErrFileBig: -53,
  /** `ZX_ERR_NO_SPACE`: the filesystem or device is full. */
  ErrNoSpace: -54,
  /** `ZX_ERR_NOT_EMPTY`: the directory is not empty. */
  ErrNotEmpty: -55,
  /** `ZX_ERR_STOP`: not an error; iteration should stop. */
  ErrStop: -60,
  /** `ZX_ERR_NEXT`: not an error; advance to the next item. */
  ErrNext: -61,
  /** `ZX_ERR_ASYNC`: not an error; the work will complete asynchronously. */
  ErrAsync: -62,
  /** `ZX_ERR_PROTOCOL_NOT_SUPPORTED`: the protocol is not supported. */
  ErrProtocolNotSupported: -70,
  /** `ZX_ERR_ADDRESS_UNREACHABLE`: the address is unreachable. */
  ErrAddressUnreachable: -71,
  /** `ZX_ERR_ADDRESS_IN_USE`: the address is in use. */
  ErrAddressInUse: -72,
  /** `ZX_ERR_NOT_CONNECTED`: not connected. */
  ErrNotConnected: -73,
  /** `ZX_ERR_CONNECTION_REFUSED`: the connection was refused. */
  ErrConnectionRefused: -74,
  /** `ZX_ERR_CONNECTION_RESET`: the connection was reset. */
  ErrConnectionReset: -75,
  /** `ZX_ERR_CONNECTION_ABORTED`: the connection was aborted. */
  ErrConnectionAborted: -76,
  /** `ZX_ERR_INTERNAL_INTR_KILLED`: internal; never returned to callers. */
  ErrInternalIntrKilled: -502,
} as const;
Object.freeze(ZxStatus);

/** A Zircon status value (one of the values of {@link ZxStatus}). */
export type ZxStatus = typeof ZxStatus[keyof typeof ZxStatus];

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ZxStatus).map(([key, value]) => [
    value,
    key === "Ok" ? "ZX_OK" : "ZX_" +
      key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase().replace(/^ERR_/, "ERR_"),
  ]),
);

/**
 * The Zircon name of a status, e.g. `statusName(-11) === "ZX_ERR_BAD_HANDLE"`.
 * Unknown values give `"ZX_STATUS(<n>)"`; this function never throws.
 *
 * @example
 * ```ts
 * import { statusName, ZxStatus } from "./status.ts";
 * statusName(ZxStatus.ErrOutOfRange); // "ZX_ERR_OUT_OF_RANGE"
 * ```
 */
export function statusName(status: number): string {
  return NAMES.get(status) ?? `ZX_STATUS(${status})`;
}
