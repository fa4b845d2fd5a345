/**
 * # zxvm
 *
 * Zircon-style virtual memory for Deno and Node: VMOs (sized containers of pages), VMARs
 * (ranges of address space), handles with rights and channels that move handles between
 * kernels — over real Linux memory (memfd + mmap through a small C shim) or a pure TypeScript
 * emulation with the same semantics.
 *
 * @example
 * ```ts
 * import { Vmar, Vmo, ZxVmOption } from "./mod.ts";
 *
 * using vmo = Vmo.create(4096);
 * using mapping = Vmar.root().map(
 *   ZxVmOption.VmPermRead | ZxVmOption.VmPermWrite, 0, vmo, 0, 4096);
 * mapping.write(0, new TextEncoder().encode("hi"));
 * console.log(new TextDecoder().decode(vmo.read(2, 0))); // "hi"
 * ```
 *
 * @module
 */
export {
  ChannelLimits,
  ChannelOptions,
  type FaultInfo,
  Rights,
  Signals,
  statusName,
  VmoChildOptions,
  VmoInfoFlags,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption,
} from "./src/abi/mod.ts";
export type { BasicInfo, MappingInfo, VmoInfo } from "./src/kernel/kernel.ts";
export {
  Channel,
  type ChannelMessage,
  type ChannelPort,
  type ChannelToken,
} from "./src/sdk/channel.ts";
export { Handle, type WaitOptions } from "./src/sdk/handle.ts";
export { Kernel, type KernelOptions } from "./src/sdk/kernel.ts";
export type { BackendChoice } from "./src/backend/select.ts";
export { Mapping } from "./src/sdk/mapping.ts";
export { Vmar } from "./src/sdk/vmar.ts";
export { Vmo } from "./src/sdk/vmo.ts";
