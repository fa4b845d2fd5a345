// The semantic suite, unchanged, on the native backend (memfd + mmap through the C shim).
// Skipped with the reason when the native backend cannot load (no FFI permission, no shim).
import { describe, it } from "node:test";
import { Kernel } from "../mod.ts";
import { semanticSuite } from "./semantic/suite.ts";
import { nativeSkipReason } from "./support/kernels.ts";

const reason = nativeSkipReason();

if (reason === null) {
  semanticSuite("native", () => Kernel.open({ backend: "native", seed: 1 }));
} else {
  describe("semantic suite (native)", () => {
    it("native backend unavailable", { skip: reason }, () => {});
  });
}
