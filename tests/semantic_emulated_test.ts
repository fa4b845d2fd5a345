// The semantic conformance suite on the emulated backend.
import { Kernel } from "../mod.ts";
import { semanticSuite } from "./semantic/suite.ts";

semanticSuite("emulated", () => Kernel.open({ backend: "emulated", seed: 1 }));
