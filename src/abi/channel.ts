/**
 * Channel numbers: `zx_channel_read` / `zx_channel_write` options and the message limits, with
 * Zircon's values (`zircon/types.h`).
 *
 * @module
 */

/**
 * Options of `Channel.read` and `Channel.write` (`ZX_CHANNEL_*`).
 *
 * @example
 * ```ts
 * import { ChannelOptions } from "./channel.ts";
 * // Drop a message that does not fit instead of leaving it queued.
 * const opts = ChannelOptions.ReadMayDiscard;
 * ```
 */
export const ChannelOptions = {
  /**
   * `ZX_CHANNEL_READ_MAY_DISCARD` (read): a message too large for the read is discarded (its
   * handles closed) instead of staying queued; the read still fails with `ErrBufferTooSmall`.
   */
  ReadMayDiscard: 1,
  /**
   * `ZX_CHANNEL_WRITE_USE_IOVEC` (write): the bytes are an array of `zx_channel_iovec_t`. zxvm
   * takes one `Uint8Array`, so this option is `ErrNotSupported`.
   */
  WriteUseIovec: 2,
} as const;
Object.freeze(ChannelOptions);

/** A `ChannelOptions` bit set. */
export type ChannelOptions = number;

/**
 * The largest message a channel carries (`ZX_CHANNEL_MAX_MSG_BYTES`,
 * `ZX_CHANNEL_MAX_MSG_HANDLES`): more is `ErrOutOfRange`.
 *
 * @example
 * ```ts
 * import { ChannelLimits } from "./channel.ts";
 * console.log(ChannelLimits.MaxMsgBytes, ChannelLimits.MaxMsgHandles); // 65536 64
 * ```
 */
export const ChannelLimits = {
  /** `ZX_CHANNEL_MAX_MSG_BYTES`: 65,536 bytes per message. */
  MaxMsgBytes: 65536,
  /** `ZX_CHANNEL_MAX_MSG_HANDLES`: 64 handles per message. */
  MaxMsgHandles: 64,
} as const;
Object.freeze(ChannelLimits);
