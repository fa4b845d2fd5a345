/**
 * Hostile inputs for every public method and parameter: wrong JS types, values outside
 * u64/u32, extreme in-domain values, closed handles, another kernel's handles, the wrong
 * object type (another zxvm class, a plain object) and dead receivers (unmapped mappings,
 * destroyed VMARs, closed kernels). Each case expects `TypeError` or a `ZxError` with a given
 * status, and a failed call must leave the kernel's observable state unchanged (handles,
 * mappings, sub-VMARs, info, contents, rights).
 *
 * The rooms: `values.ts` (the hostile values), `runner.ts` (how a case runs and checks that
 * nothing changed), one module of cases per public object (`kernel.ts`, `handle.ts`, `vmo.ts`,
 * `vmar.ts`, `mapping.ts`, `channel.ts`, `kit.ts` for `zxvm/testing`) and
 * `formerly_accepted.ts`.
 * {@link runHostile} runs every method's cases and the scenarios and returns the tally.
 *
 * Every public member of every exported class is listed in {@link COVERED}; {@link
 * uncoveredMembers} reports members that have no hostile case, so new API cannot slip in
 * without one.
 *
 * @module
 */
import {
  Channel,
  FaultInjector,
  Handle,
  Kernel,
  LeakError,
  Mapping,
  TestKernel,
  Vmar,
  Vmo,
} from "../../../testing.ts";
import { channelMethods, channelScenarios } from "./channel.ts";
import { handleMethods, handleScenarios } from "./handle.ts";
import { kernelMethods, kernelScenarios } from "./kernel.ts";
import { mappingMethods, mappingScenarios } from "./mapping.ts";
import { type HostileTally, type OpenKernel, runMethod, Runner } from "./runner.ts";
import { vmarMethods, vmarScenarios } from "./vmar.ts";
import { vmoMethods, vmoScenarios } from "./vmo.ts";

export { formerlyAccepted } from "./formerly_accepted.ts";
export { runWaitCases } from "./handle.ts";
export { runKernelOpen } from "./kernel.ts";
export { runKit } from "./kit.ts";

/** Names of the methods and accessors {@link runHostile} and `runKit` cover. */
const COVERED: Record<string, string[]> = {
  Kernel: [
    "open",
    "default",
    "createVmo",
    "createChannel",
    "importChannel",
    "futexWait",
    "futexWaitAsync",
    "futexWake",
    "backend",
    "backendReason",
    "pageSize",
    "maxVmoSize",
    "rootVmar",
    "handleCount",
    "closed",
    "close",
    "constructor",
    "Symbol(Symbol.dispose)",
  ],
  Handle: [
    "constructor",
    "raw",
    "kernel",
    "koid",
    "rights",
    "valid",
    "close",
    "duplicate",
    "replace",
    "name",
    "basicInfo",
    "signals",
    "waitOne",
    "Symbol(Symbol.dispose)",
  ],
  Vmo: [
    "create",
    "constructor",
    "type",
    "read",
    "write",
    "size",
    "setSize",
    "contentSize",
    "setContentSize",
    "opRange",
    "createChild",
    "info",
  ],
  Vmar: [
    "root",
    "borrowed",
    "constructor",
    "type",
    "close",
    "base",
    "len",
    "allocate",
    "map",
    "unmap",
    "protect",
    "destroy",
    "opRange",
    "mappings",
  ],
  Mapping: [
    "constructor",
    "addr",
    "len",
    "vmar",
    "options",
    "alive",
    "bytes",
    "read",
    "write",
    "unmap",
    "Symbol(Symbol.dispose)",
  ],
  Channel: [
    "create",
    "constructor",
    "type",
    "write",
    "read",
    "Symbol(Symbol.asyncIterator)",
    "export",
  ],
  TestKernel: ["constructor", "liveMemories"],
  FaultInjector: ["constructor", "failNext", "failAt", "pending", "clear", "log", "check"],
  LeakError: ["constructor"],
};

/**
 * Public members (prototype and static) of the exported classes that {@link COVERED} does not
 * list: each needs hostile cases.
 */
export function uncoveredMembers(): string[] {
  const classes: Record<string, { prototype: object }> = {
    Kernel,
    Handle,
    Vmo,
    Vmar,
    Mapping,
    Channel,
    TestKernel,
    FaultInjector,
    LeakError,
  };
  const missing: string[] = [];
  for (const [name, cls] of Object.entries(classes)) {
    const keys = [
      ...Reflect.ownKeys(cls.prototype),
      ...Reflect.ownKeys(cls).filter((k) => !["length", "name", "prototype"].includes(String(k))),
    ];
    for (const k of keys) {
      // Node 20's Symbol.dispose prints as Symbol(nodejs.dispose).
      const key = k === Symbol.dispose ? "Symbol(Symbol.dispose)" : String(k);
      if (!COVERED[name].includes(key)) missing.push(`${name}.${key}`);
    }
  }
  return missing;
}

/**
 * Run every hostile case on kernels from `open` (`openOther` opens the second kernel, whose
 * handles are foreign); returns the tally (failures listed, not thrown, so one run reports
 * them all).
 */
export function runHostile(
  open: OpenKernel,
  label: string,
  openOther: OpenKernel = open,
): HostileTally {
  const run = new Runner(open, label, openOther);
  const methods = [
    ...kernelMethods(),
    ...handleMethods(),
    ...vmoMethods(),
    ...vmarMethods(),
    ...mappingMethods(),
    ...channelMethods(),
  ];
  for (const m of methods) runMethod(run, m);
  // Cases whose outcome is more than a status: contents, aliasing, buffers left untouched.
  const scenarios = [
    ...vmoScenarios(),
    ...mappingScenarios(),
    ...vmarScenarios(),
    ...handleScenarios(),
    ...kernelScenarios(),
    ...channelScenarios(),
  ];
  for (const s of scenarios) run.scenario(s.name, s.run);
  return run.tally;
}
