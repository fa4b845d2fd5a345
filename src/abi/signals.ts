/**
 * Object signals (`zx_signals_t`), with Zircon's values.
 *
 * @module
 */

/** Signals observed with `Handle.signals` and `Handle.waitOne`. */
export const Signals = {
  /** No signals. */
  None: 0,
  /** `ZX_VMO_ZERO_CHILDREN` (`1 << 3`): the VMO has no live children. */
  VmoZeroChildren: 1 << 3,
  /** `ZX_CHANNEL_READABLE` (`1 << 0`): a message is queued on this channel endpoint. */
  ChannelReadable: 1 << 0,
  /** `ZX_CHANNEL_WRITABLE` (`1 << 1`): the peer endpoint is open, so writes can succeed. */
  ChannelWritable: 1 << 1,
  /** `ZX_CHANNEL_PEER_CLOSED` (`1 << 2`): the peer endpoint was closed. */
  ChannelPeerClosed: 1 << 2,
  /** `ZX_OBJECT_SIGNAL_0`. */
  ObjectSignal0: 1 << 0,
  /** `ZX_OBJECT_SIGNAL_1`. */
  ObjectSignal1: 1 << 1,
  /** `ZX_OBJECT_SIGNAL_2`. */
  ObjectSignal2: 1 << 2,
  /** `ZX_OBJECT_SIGNAL_3`. */
  ObjectSignal3: 1 << 3,
  /** `ZX_OBJECT_SIGNAL_4`. */
  ObjectSignal4: 1 << 4,
  /** `ZX_OBJECT_SIGNAL_5`. */
  ObjectSignal5: 1 << 5,
  /** `ZX_OBJECT_SIGNAL_6`. */
  ObjectSignal6: 1 << 6,
  /** `ZX_OBJECT_SIGNAL_7`. */
  ObjectSignal7: 1 << 7,
  /** `ZX_USER_SIGNAL_0`. */
  UserSignal0: 1 << 24,
  /** `ZX_USER_SIGNAL_1`. */
  UserSignal1: 1 << 25,
  /** `ZX_USER_SIGNAL_2`. */
  UserSignal2: 1 << 26,
  /** `ZX_USER_SIGNAL_3`. */
  UserSignal3: 1 << 27,
  /** `ZX_USER_SIGNAL_4`. */
  UserSignal4: 1 << 28,
  /** `ZX_USER_SIGNAL_5`. */
  UserSignal5: 1 << 29,
  /** `ZX_USER_SIGNAL_6`. */
  UserSignal6: 1 << 30,
  /** `ZX_USER_SIGNAL_7`. */
  UserSignal7: 0x80000000,
} as const;
Object.freeze(Signals);

/** A signal bit set. */
export type Signals = number;

/** Flags reported in `VmoInfo.flags` (`ZX_INFO_VMO_*`). */
export const VmoInfoFlags = {
  /** `ZX_INFO_VMO_TYPE_PAGED`. */
  TypePaged: 1 << 0,
  /** `ZX_INFO_VMO_RESIZABLE`. */
  Resizable: 1 << 1,
  /** `ZX_INFO_VMO_IS_COW_CLONE`. */
  IsCowClone: 1 << 2,
  /** `ZX_INFO_VMO_VIA_HANDLE`. */
  ViaHandle: 1 << 3,
  /** `ZX_INFO_VMO_VIA_MAPPING`. */
  ViaMapping: 1 << 4,
  /** `ZX_INFO_VMO_PAGER_BACKED`. */
  PagerBacked: 1 << 5,
  /** `ZX_INFO_VMO_CONTIGUOUS`. */
  Contiguous: 1 << 6,
  /** `ZX_INFO_VMO_DISCARDABLE`. */
  Discardable: 1 << 7,
  /** `ZX_INFO_VMO_IMMUTABLE`. */
  Immutable: 1 << 8,
} as const;
Object.freeze(VmoInfoFlags);

/** A `VmoInfo.flags` bit set. */
export type VmoInfoFlags = number;
