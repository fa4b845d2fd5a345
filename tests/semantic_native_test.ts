// The semantic suite, unchanged, on the native backend (memfd + mmap through the C shim).
// Skipped with the reason when the native backend cannot load (no FFI permission, no shim).
import { describe, it } from "node:test";
import { Kernel, ZxError } from "../mod.ts";
import { semanticSuite } from "./semantic/suite.ts";

let reason = "";
try {
  Kernel.open({ backend: "native" }).close();
} catch (e) {
  reason = e instanceof ZxError ? e.message : String(e);
}

if (reason === "") {
  semanticSuite("native", () => Kernel.open({ backend: "native", seed: 1 }));
} else {
  describe("semantic suite (native)", () => {
    it("native backend unavailable", { skip: reason }, () => {});
  });
}
