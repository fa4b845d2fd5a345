/**
 * Per-file leak checks: `leakGuard()` in a `describe` records a baseline before the file's
 * tests and checks after them that the default kernel's handle count and mappings are back to
 * it, and — when this process runs one test file at a time (`ZXVM_EXCLUSIVE_PROC=1`, set by
 * `runExclusive()` in `subprocess.ts`) — that `/proc/self/fd` and zxvm's memfd mappings in
 * `/proc/self/maps` are back to baseline too. (Under `deno test --parallel` every test file
 * shares one process, so process-wide counts are only exact in the subprocess runs.)
 *
 * @module
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { Kernel } from "../../mod.ts";

/** Whether /proc can be read (Linux, Deno with --allow-read, or Node). */
function procReadable(): boolean {
  try {
    procFdCount();
    return true;
  } catch {
    return false;
  }
}

/** Open file descriptors of this process. */
export function procFdCount(): number {
  if (typeof Deno !== "undefined") return [...Deno.readDirSync("/proc/self/fd")].length;
  throw new Error("procFdCount needs Deno");
}

/** Mappings of zxvm memfds (`/memfd:zxvm`) in this process. */
export function zxvmMemfdMappings(): number {
  if (typeof Deno === "undefined") throw new Error("zxvmMemfdMappings needs Deno");
  return Deno.readTextFileSync("/proc/self/maps").split("\n").filter((l) =>
    l.includes("memfd:zxvm")
  ).length;
}

/** Whether this process runs a single test file (exact process-wide counts). */
export function exclusiveProcess(): boolean {
  try {
    return typeof Deno !== "undefined" && Deno.env.get("ZXVM_EXCLUSIVE_PROC") === "1";
  } catch {
    return false;
  }
}

/** Install the before/after leak checks for the current test file. */
export function leakGuard(): void {
  let fds = -1;
  let maps = -1;
  let defHandles = 0;
  let defMappings = 0;
  before(() => {
    const d = Kernel.default;
    defHandles = d.handleCount;
    defMappings = d.rootVmar.mappings().length;
    if (exclusiveProcess() && procReadable()) {
      fds = procFdCount();
      maps = zxvmMemfdMappings();
    }
  });
  after(() => {
    const d = Kernel.default;
    assert.equal(d.handleCount, defHandles, "default kernel: handle count back to baseline");
    assert.equal(d.rootVmar.mappings().length, defMappings, "default kernel: mappings");
    if (fds >= 0) {
      assert.equal(procFdCount(), fds, "/proc/self/fd back to baseline");
      assert.equal(zxvmMemfdMappings(), maps, "zxvm memfd mappings back to baseline");
    }
  });
}
