/**
 * # zxvm/testing
 *
 * A kit for testing code that uses zxvm: a deterministic emulated kernel
 * ({@link testKernel}), fault injection ({@link FaultInjector.failNext}: the next N calls of a
 * backend operation fail with a chosen status, e.g. `ErrNoMemory`; {@link FaultInjector.failAt}:
 * exactly the Nth one) and a leak check ({@link assertNoLeaks}). The kernel reports an injected
 * fault as the `ZxError` of the syscall it was serving; {@link FaultInjector.check} itself
 * throws the backend-level {@link BackendError}.
 *
 * @example
 * ```ts
 * import { ZxError, ZxStatus } from "./mod.ts";
 * import { assertNoLeaks, testKernel } from "./testing.ts";
 *
 * using k = testKernel({ seed: 42 });
 * k.faults.failNext("createMemory", 1, ZxStatus.ErrNoMemory);
 * try {
 *   k.createVmo(4096);
 * } catch (e) {
 *   console.log(e instanceof ZxError && e.status === ZxStatus.ErrNoMemory); // true
 * }
 * k.createVmo(4096).close(); // the next call succeeds
 * assertNoLeaks(k);
 * ```
 *
 * @module
 */
// The whole public API too, so a test needs one import (and the kit's types are documented).
export * from "./mod.ts";
export { BackendError } from "./src/backend/error.ts";
export { FAULT_OPS, FaultInjector, type FaultOp, type FaultRecord } from "./src/testing/faults.ts";
export {
  assertNoLeaks,
  LeakError,
  type LeakReport,
  type NoLeaksOptions,
  TestKernel,
  testKernel,
  type TestKernelOptions,
} from "./src/testing/kit.ts";
