/**
 * Zircon's numbers: statuses, rights, options, operations, signals and channel limits. No logic.
 *
 * @module
 */
export { statusName, ZxStatus } from "./status.ts";
export { Rights } from "./rights.ts";
export { VmoChildOptions, VmoOp, VmoOptions, ZxVmOption } from "./options.ts";
export { Signals, VmoInfoFlags } from "./signals.ts";
export { type FaultInfo, ZxError } from "./error.ts";
export { ChannelLimits, ChannelOptions } from "./channel.ts";
