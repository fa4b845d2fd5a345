/**
 * The semantic conformance suite: every test module, registered for one backend. The same
 * suite runs unchanged against every backend (`tests/semantic_<backend>_test.ts`).
 *
 * @module
 */
import { describe } from "node:test";
import type { Kernel } from "../../mod.ts";
import { bigTests } from "./big.ts";
import { channelTests } from "./channel.ts";
import { channelTransferTests } from "./channel_transfer.ts";
import { childTests } from "./children.ts";
import { constantsTests } from "./constants.ts";
import { futexTests } from "./futex.ts";
import { handleTests } from "./handle.ts";
import type { SuiteContext } from "./helpers.ts";
import { kernelTests } from "./kernel.ts";
import { mappingTests } from "./mapping.ts";
import { mapTests } from "./map.ts";
import { vmarTests } from "./vmar.ts";
import { vmoTests } from "./vmo.ts";
import { leakGuard } from "../support/leaks.ts";

export type { SuiteContext } from "./helpers.ts";

/**
 * Register the whole semantic suite under `label`. Each test opens its own kernel with
 * `open()` and closes it when done.
 */
export function semanticSuite(label: string, open: () => Kernel): void {
  const t: SuiteContext = { label, open };
  describe(`semantic [${label}]`, () => {
    leakGuard();
    constantsTests(t);
    kernelTests(t);
    handleTests(t);
    vmoTests(t);
    childTests(t);
    mapTests(t);
    vmarTests(t);
    mappingTests(t);
    bigTests(t);
    channelTests(t);
    channelTransferTests(t);
    futexTests(t);
  });
}
