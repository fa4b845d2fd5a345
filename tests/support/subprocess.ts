/**
 * Running a test file in its own process. Under `deno test --parallel` every test file shares
 * one process, so native-heavy suites (differential, hostile) run themselves in a subprocess:
 * their `/proc/self/fd` and memfd-mapping baselines are then exact, they cannot disturb other
 * files' process-wide checks, and a crash (SIGSEGV/SIGBUS) shows as a failed exit instead of
 * killing the whole run. Under Node, or inside the subprocess (`ZXVM_EXCLUSIVE_PROC=1`), the
 * suite runs in process.
 *
 * @module
 */
import { exclusiveProcess } from "./leaks.ts";

/** Whether this file should delegate to a subprocess (Deno, not already exclusive). */
export function delegate(): boolean {
  return typeof Deno !== "undefined" && !exclusiveProcess();
}

/** Result of {@link runExclusive}. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Signal that killed it, or null. */
  signal: string | null;
  /** stdout and stderr. */
  out: string;
}

/** `deno test --allow-all <files>` with `ZXVM_EXCLUSIVE_PROC=1` (the environment is inherited). */
export async function runExclusive(
  files: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--no-check", ...files],
    env: { ZXVM_EXCLUSIVE_PROC: "1", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, signal: r.signal, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** The lines of `out` that start with `prefix` (the suites' summary lines). */
export function summaryLines(out: string, prefix: string): string[] {
  return out.split("\n").filter((l) => l.startsWith(prefix));
}
